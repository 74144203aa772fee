/* test_s3_sse_config.c — ServerSideEncryptionConfiguration documents: what S3 accepts, the
 * MalformedXML and InvalidArgument answers, the document written back, and the stored form. */
#include "tests/unit/unit.h"
#include "gateway/s3/sse_config.h"

#define DOC(apply, rest)                                                                                               \
    "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"                      \
    "<ApplyServerSideEncryptionByDefault>" apply "</ApplyServerSideEncryptionByDefault>" rest                          \
    "</Rule></ServerSideEncryptionConfiguration>"

static h2o_mem_pool_t pool;

static int parse(const char *doc, s3_sse_config_t *c)
{
    return s3_sse_config_parse(&pool, h2o_iovec_init(doc, strlen(doc)), c, NULL);
}

TEST(test_sse_config_accepts_each_algorithm_when_well_formed)
{
    s3_sse_config_t c;
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES256</SSEAlgorithm>", ""), &c), 0);
    CHECK(c.alg == S3_SSE_AES256 && c.kms_key_id.base == NULL && !c.bucket_key);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>SM4</SSEAlgorithm>", "<BucketKeyEnabled>true</BucketKeyEnabled>"), &c), 0);
    CHECK(c.alg == S3_SSE_SM4 && c.bucket_key);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>app-key</KMSMasterKeyID>", ""), &c), 0);
    CHECK(c.alg == S3_SSE_KMS && h2o_memis(c.kms_key_id.base, c.kms_key_id.len, H2O_STRLIT("app-key")));
}

TEST(test_sse_config_refuses_as_s3_does_when_malformed)
{
    s3_sse_config_t c;
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES128</SSEAlgorithm>", ""), &c), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(DOC("", ""), &c), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>SM4</SSEAlgorithm>", ""), &c),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES256</SSEAlgorithm>", "<Other/>"), &c), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES256</SSEAlgorithm>", "<BucketKeyEnabled>maybe</BucketKeyEnabled>"), &c),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse("<ServerSideEncryptionConfiguration/>", &c), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>", ""), &c),
                 -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_sse_config_round_trips_through_xml_and_stored_form)
{
    s3_sse_config_t c, back, stored;
    s3_xml_writer_t w;
    CHECK_EQ_INT(parse(DOC("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>a/b</KMSMasterKeyID>",
                           "<BucketKeyEnabled>true</BucketKeyEnabled>"),
                       &c),
                 0);
    s3_xml_writer_init(&w, &pool);
    s3_sse_config_write_xml(&w, &c);
    CHECK_EQ_INT(s3_sse_config_parse(&pool, s3_xml_writer_result(&w), &back, NULL), 0);
    CHECK(back.alg == c.alg && back.bucket_key == c.bucket_key &&
          h2o_memis(back.kms_key_id.base, back.kms_key_id.len, H2O_STRLIT("a/b")));
    CHECK_EQ_INT(s3_sse_config_decode(s3_sse_config_encode(&pool, &c), &stored), 0);
    CHECK(stored.alg == S3_SSE_KMS && stored.bucket_key &&
          h2o_memis(stored.kms_key_id.base, stored.kms_key_id.len, H2O_STRLIT("a/b")));
    CHECK_EQ_INT(s3_sse_config_decode(h2o_iovec_init(H2O_STRLIT("AES128\n0\n")), &stored), -1);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_sse_config_accepts_each_algorithm_when_well_formed);
    RUN(test_sse_config_refuses_as_s3_does_when_malformed);
    RUN(test_sse_config_round_trips_through_xml_and_stored_form);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
