/* test_s3_logging — server access logging's documents: BucketLoggingStatus read as S3 reads it
 * (off, on, the namespace optional, TargetPrefix optional, what is malformed, what is not built),
 * written back as GetBucketLogging answers, the stored form; and the log line: S3's field order,
 * its "-" for what is unknown, the key URL-encoded, hostile bytes escaped. */
#include "gateway/s3/logging.h"
#include "tests/unit/unit.h"

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static int parse(h2o_mem_pool_t *pool, const char *doc, s3_logging_config_t *cfg)
{
    return s3_logging_parse(pool, iov(doc), cfg);
}

TEST(test_logging_parse_reads_target_and_prefix)
{
    h2o_mem_pool_t pool;
    s3_logging_config_t cfg;
    h2o_mem_init_pool(&pool);
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LoggingEnabled>"
                       "<TargetBucket>logs</TargetBucket><TargetPrefix>a/b/</TargetPrefix>"
                       "<TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>"
                       "</LoggingEnabled></BucketLoggingStatus>",
                       &cfg),
                 0);
    CHECK(cfg.enabled && h2o_memis(cfg.target_bucket.base, cfg.target_bucket.len, H2O_STRLIT("logs")));
    CHECK(h2o_memis(cfg.target_prefix.base, cfg.target_prefix.len, H2O_STRLIT("a/b/")));
    /* without the namespace and without a prefix */
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket>"
                       "</LoggingEnabled></BucketLoggingStatus>",
                       &cfg),
                 0);
    CHECK(cfg.enabled && cfg.target_prefix.len == 0);
    /* no LoggingEnabled: off */
    CHECK_EQ_INT(parse(&pool, "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", &cfg), 0);
    CHECK(!cfg.enabled);
    /* an empty LoggingEnabled: off as well */
    CHECK_EQ_INT(parse(&pool, "<BucketLoggingStatus><LoggingEnabled/></BucketLoggingStatus>", &cfg), 0);
    CHECK(!cfg.enabled);
    /* FULL_CONTROL to a canonical user: its id for the caller to check */
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket><TargetGrants><Grant>"
                       "<Grantee><ID>0a1b</ID><DisplayName>me</DisplayName></Grantee>"
                       "<Permission>FULL_CONTROL</Permission></Grant></TargetGrants></LoggingEnabled>"
                       "</BucketLoggingStatus>",
                       &cfg),
                 0);
    CHECK(cfg.enabled && cfg.ngrants == 1 &&
          h2o_memis(cfg.grant_ids[0].base, cfg.grant_ids[0].len, H2O_STRLIT("0a1b")));
    h2o_mem_clear_pool(&pool);
}

TEST(test_logging_parse_refuses_malformed_and_unbuilt)
{
    static const char *const malformed[] = {
        "",
        "<BucketLoggingStatus>",
        "<Logging/>",
        "<BucketLoggingStatus><LoggingEnabled><TargetPrefix>x</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
        "<BucketLoggingStatus><LoggingEnabled><TargetBucket></TargetBucket></LoggingEnabled></BucketLoggingStatus>",
        "<BucketLoggingStatus><LoggingEnabled><TargetBucket>a</TargetBucket><TargetBucket>b</TargetBucket>"
        "</LoggingEnabled></BucketLoggingStatus>",
        "<BucketLoggingStatus><LoggingEnabled><TargetBucket>a</TargetBucket></LoggingEnabled><LoggingEnabled>"
        "<TargetBucket>a</TargetBucket></LoggingEnabled></BucketLoggingStatus>",
        "<!DOCTYPE x [<!ENTITY e \"b\">]><BucketLoggingStatus><LoggingEnabled><TargetBucket>&e;</TargetBucket>"
        "</LoggingEnabled></BucketLoggingStatus>",
    };
    h2o_mem_pool_t pool;
    s3_logging_config_t cfg;
    h2o_mem_init_pool(&pool);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        CHECK_EQ_INT(parse(&pool, malformed[i], &cfg), -S3_ERR_MALFORMED_XML);
    /* a grant that is not FULL_CONTROL to a canonical user is not built; one without a grantee is malformed */
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket><TargetGrants><Grant>"
                       "<Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
                       "<Permission>FULL_CONTROL</Permission></Grant></TargetGrants></LoggingEnabled>"
                       "</BucketLoggingStatus>",
                       &cfg),
                 -S3_ERR_NOT_IMPLEMENTED);
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket><TargetGrants><Grant>"
                       "<Grantee><ID>abc</ID></Grantee><Permission>READ</Permission></Grant></TargetGrants>"
                       "</LoggingEnabled></BucketLoggingStatus>",
                       &cfg),
                 -S3_ERR_NOT_IMPLEMENTED);
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket><TargetGrants><Grant>"
                       "<Permission>READ</Permission></Grant></TargetGrants></LoggingEnabled></BucketLoggingStatus>",
                       &cfg),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(parse(&pool,
                       "<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket><TargetObjectKeyFormat>"
                       "<PartitionedPrefix><PartitionDateSource>EventTime</PartitionDateSource></PartitionedPrefix>"
                       "</TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>",
                       &cfg),
                 -S3_ERR_NOT_IMPLEMENTED);
    h2o_mem_clear_pool(&pool);
}

TEST(test_logging_written_and_stored_forms_read_back)
{
    h2o_mem_pool_t pool;
    s3_logging_config_t cfg = {.enabled = 1, .target_bucket = iov("logs"), .target_prefix = iov("p<&>/")}, back;
    s3_xml_writer_t w;
    h2o_mem_init_pool(&pool);
    s3_xml_writer_init(&w, &pool);
    s3_logging_write_xml(&w, &cfg);
    h2o_iovec_t xml = s3_xml_writer_result(&w);
    CHECK(strstr(xml.base, "<TargetPrefix>p&lt;&amp;&gt;/</TargetPrefix>") != NULL);
    CHECK_EQ_INT(s3_logging_parse(&pool, xml, &back), 0);
    CHECK(back.enabled && back.target_prefix.len == 5 && memcmp(back.target_prefix.base, "p<&>/", 5) == 0);
    h2o_iovec_t stored = s3_logging_encode(&pool, &cfg);
    CHECK(h2o_memis(stored.base, stored.len, H2O_STRLIT("logs\np<&>/")));
    CHECK_EQ_INT(s3_logging_decode(stored, &back), 0);
    CHECK(h2o_memis(back.target_bucket.base, back.target_bucket.len, H2O_STRLIT("logs")));
    CHECK_EQ_INT(s3_logging_decode(iov("no-newline"), &back), -S3_ERR_MALFORMED_XML);
    s3_logging_config_t off = {0};
    s3_xml_writer_init(&w, &pool);
    s3_logging_write_xml(&w, &off);
    CHECK(strstr(s3_xml_writer_result(&w).base, "LoggingEnabled") == NULL);
    h2o_mem_clear_pool(&pool);
}

TEST(test_logging_line_has_s3_fields_in_order)
{
    char buf[S3_LOGGING_LINE_MAX];
    s3_logging_line_t e = {.owner = iov("alice"),
                           .bucket = iov("photos"),
                           .time_ns = 1549411238000000000LL, /* 2019-02-06T00:00:38Z */
                           .remote_ip = iov("192.0.2.3"),
                           .requester = iov("AKIAEXAMPLE"),
                           .request_id = iov("3E57427F3EXAMPLE"),
                           .operation = "REST.GET.OBJECT",
                           .key = iov("dir/a b+c.jpg"),
                           .method = iov("GET"),
                           .uri = iov("/photos/dir/a%20b%2Bc.jpg"),
                           .status = 200,
                           .bytes_sent = 113,
                           .object_size = 113,
                           .total_ms = 7,
                           .turnaround_ms = 3,
                           .user_agent = iov("S3Console/0.4"),
                           .signature_version = "SigV4",
                           .auth_type = "AuthHeader",
                           .host = iov("s3.example.com")};
    size_t n = s3_logging_format_line(&e, buf);
    buf[n] = '\0';
    CHECK(strcmp(buf, "alice photos [06/Feb/2019:00:00:38 +0000] 192.0.2.3 AKIAEXAMPLE 3E57427F3EXAMPLE "
                      "REST.GET.OBJECT dir/a%20b%2Bc.jpg \"GET /photos/dir/a%20b%2Bc.jpg HTTP/1.1\" 200 - 113 113 7 3 "
                      "\"-\" \"S3Console/0.4\" - - SigV4 - AuthHeader s3.example.com - - -\n") == 0);
}

TEST(test_logging_line_escapes_hostile_bytes)
{
    char buf[S3_LOGGING_LINE_MAX];
    s3_logging_line_t e = {.bucket = iov("b"),
                           .key = iov("k\n"),
                           .method = iov("GET"),
                           .uri = iov("/b/\"x y"),
                           .user_agent = iov("a\"b\\c\r\nd"),
                           .host = iov("h o\"st"),
                           .turnaround_ms = -1};
    size_t n = s3_logging_format_line(&e, buf);
    buf[n] = '\0';
    CHECK(strchr(buf, '\n') == buf + n - 1 && strchr(buf, '\r') == NULL);
    CHECK(strstr(buf, " k%0A ") != NULL);
    CHECK(strstr(buf, "\"GET /b/\\x22x\\x20y HTTP/1.1\"") != NULL);
    CHECK(strstr(buf, "\"a\\x22b\\x5Cc\\x0D\\x0Ad\"") != NULL);
    CHECK(strstr(buf, " h\\x20o\\x22st ") != NULL);
    CHECK(strncmp(buf, "- b [", 5) == 0); /* no owner known: "-" */
}

int main(void)
{
    RUN(test_logging_parse_reads_target_and_prefix);
    RUN(test_logging_parse_refuses_malformed_and_unbuilt);
    RUN(test_logging_written_and_stored_forms_read_back);
    RUN(test_logging_line_has_s3_fields_in_order);
    RUN(test_logging_line_escapes_hostile_bytes);
    return unit_done();
}
