/* test_s3_bucket_access.c — the OwnershipControls and PublicAccessBlockConfiguration documents. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/bucket_access.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;

static int ownership(const char *body, s3_ownership_t *out)
{
    return s3_ownership_parse(&pool, IOV(body), out);
}

TEST(test_ownership_each_setting_parses)
{
    s3_ownership_t o;
    CHECK_EQ_INT(ownership("<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
                           "<ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>",
                           &o),
                 0);
    CHECK(o == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>"
                           "</OwnershipControls>",
                           &o),
                 0);
    CHECK(o == S3_OWNERSHIP_OBJECT_WRITER);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule>"
                           "</OwnershipControls>",
                           &o),
                 0);
    CHECK(o == S3_OWNERSHIP_BUCKET_OWNER_PREFERRED);
}

TEST(test_ownership_malformed_when_shape_or_value_wrong)
{
    s3_ownership_t o;
    /* unknown value, wrong case, no rule, two rules, two settings, an unknown element */
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>Owner</ObjectOwnership></Rule>"
                           "</OwnershipControls>",
                           &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>objectwriter</ObjectOwnership></Rule>"
                           "</OwnershipControls>",
                           &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<OwnershipControls></OwnershipControls>", &o), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule>"
                           "<ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
                           &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
                           "<ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
                           &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>"
                           "<Other/></OwnershipControls>",
                           &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("<Ownership><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Ownership>", &o),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(ownership("", &o), -S3_ERR_MALFORMED_XML);
}

TEST(test_ownership_round_trips_when_written)
{
    s3_xml_writer_t w;
    s3_ownership_t o;
    s3_xml_writer_init(&w, &pool);
    s3_ownership_write_xml(&w, S3_OWNERSHIP_OBJECT_WRITER);
    CHECK_EQ_INT(s3_ownership_parse(&pool, s3_xml_writer_result(&w), &o), 0);
    CHECK(o == S3_OWNERSHIP_OBJECT_WRITER);
}

TEST(test_public_access_block_absent_settings_are_false)
{
    s3_public_access_block_t p;
    CHECK_EQ_INT(
        s3_public_access_block_parse(&pool,
                                     IOV("<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy>"
                                         "<IgnorePublicAcls> 1 </IgnorePublicAcls></PublicAccessBlockConfiguration>"),
                                     &p),
        0);
    CHECK(p.block_public_policy && p.ignore_public_acls && !p.block_public_acls && !p.restrict_public_buckets);
    CHECK_EQ_INT(s3_public_access_block_parse(&pool, IOV("<PublicAccessBlockConfiguration/>"), &p), 0);
    CHECK(!p.block_public_policy && !p.ignore_public_acls && !p.block_public_acls && !p.restrict_public_buckets);
}

TEST(test_public_access_block_malformed_when_repeated_unknown_or_not_boolean)
{
    s3_public_access_block_t p;
    CHECK_EQ_INT(s3_public_access_block_parse(&pool,
                                              IOV("<PublicAccessBlockConfiguration><BlockPublicAcls>yes"
                                                  "</BlockPublicAcls></PublicAccessBlockConfiguration>"),
                                              &p),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_public_access_block_parse(&pool,
                                              IOV("<PublicAccessBlockConfiguration><BlockPublicAcls>true"
                                                  "</BlockPublicAcls><BlockPublicAcls>true</BlockPublicAcls>"
                                                  "</PublicAccessBlockConfiguration>"),
                                              &p),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_public_access_block_parse(
                     &pool,
                     IOV("<PublicAccessBlockConfiguration><BlockAll>true</BlockAll></PublicAccessBlockConfiguration>"),
                     &p),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_public_access_block_parse(&pool, IOV("<PublicAccessBlock/>"), &p), -S3_ERR_MALFORMED_XML);
}

TEST(test_public_access_block_round_trips_when_written)
{
    s3_public_access_block_t in = {1, 0, 1, 0}, out;
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_public_access_block_write_xml(&w, &in);
    CHECK_EQ_INT(s3_public_access_block_parse(&pool, s3_xml_writer_result(&w), &out), 0);
    CHECK(memcmp(&in, &out, sizeof(in)) == 0);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_ownership_each_setting_parses);
    RUN(test_ownership_malformed_when_shape_or_value_wrong);
    RUN(test_ownership_round_trips_when_written);
    RUN(test_public_access_block_absent_settings_are_false);
    RUN(test_public_access_block_malformed_when_repeated_unknown_or_not_boolean);
    RUN(test_public_access_block_round_trips_when_written);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
