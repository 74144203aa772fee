/* test_s3_host — how the Host header addresses a request. */
#include "gateway/s3/host.h"
#include "tests/unit/unit.h"

static const h2o_iovec_t domains[] = {{"localhost", 9}, {"example.com", 11}, {"s3.example.com", 14}};

static s3_host_style_t parse(const char *host, char *bucket_out)
{
    char name[S3_HOST_NAME_MAX + 1];
    h2o_iovec_t bucket = {NULL, 0};
    s3_host_style_t style = s3_host_parse(h2o_iovec_init(host, strlen(host)), domains, 3, name, &bucket);
    if (bucket_out != NULL) {
        memcpy(bucket_out, bucket.base != NULL ? bucket.base : "", bucket.len);
        bucket_out[bucket.len] = '\0';
    }
    return style;
}

TEST(test_host_domain_or_ip_is_path_style)
{
    static const char *const hosts[] = {
        "localhost",   "localhost:9000",     "LocalHost", "localhost.",     "localhost.:80",
        "example.com", "s3.example.com:443", "127.0.0.1", "127.0.0.1:9000", "[::1]",
        "[::1]:9000",  "[2001:db8::7]:80",   ""};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (parse(hosts[i], NULL) != S3_HOST_PATH_STYLE)
            fprintf(stderr, "  not path style: %s\n", hosts[i]);
        CHECK_EQ_INT(parse(hosts[i], NULL), S3_HOST_PATH_STYLE);
    }
    char name[S3_HOST_NAME_MAX + 1];
    h2o_iovec_t bucket;
    CHECK_EQ_INT(s3_host_parse(h2o_iovec_init(NULL, 0), domains, 3, name, &bucket), S3_HOST_PATH_STYLE);
}

TEST(test_host_subdomain_names_the_bucket)
{
    char bucket[300];
    CHECK_EQ_INT(parse("photos.localhost:9000", bucket), S3_HOST_VIRTUAL);
    CHECK(strcmp(bucket, "photos") == 0);
    CHECK_EQ_INT(parse("My.Bucket.example.com", bucket), S3_HOST_VIRTUAL);
    CHECK(strcmp(bucket, "my.bucket") == 0);
    CHECK_EQ_INT(parse("logs.example.com.", bucket), S3_HOST_VIRTUAL);
    CHECK(strcmp(bucket, "logs") == 0);
}

TEST(test_host_longest_domain_wins)
{
    char bucket[300];
    CHECK_EQ_INT(parse("b.s3.example.com", bucket), S3_HOST_VIRTUAL);
    CHECK(strcmp(bucket, "b") == 0);
    CHECK_EQ_INT(parse("s3.example.com", bucket), S3_HOST_PATH_STYLE);
}

TEST(test_host_other_names_are_unknown)
{
    static const char *const hosts[] = {"files.example.org",
                                        "notlocalhost",
                                        ".localhost",
                                        "localhost:http",
                                        "localhost:9000x",
                                        "[::1",
                                        "[zz::1]",
                                        "[::1]x",
                                        "[::1]:x",
                                        "[]",
                                        ":9000",
                                        "xexample.com",
                                        "a:b:c"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (parse(hosts[i], NULL) != S3_HOST_UNKNOWN)
            fprintf(stderr, "  not unknown: %s\n", hosts[i]);
        CHECK_EQ_INT(parse(hosts[i], NULL), S3_HOST_UNKNOWN);
    }
}

TEST(test_host_too_long_or_with_nul_is_unknown)
{
    char host[400], name[S3_HOST_NAME_MAX + 1];
    h2o_iovec_t bucket;
    memset(host, 'a', sizeof(host));
    memcpy(host + sizeof(host) - 10, ".localhost", 10);
    CHECK_EQ_INT(s3_host_parse(h2o_iovec_init(host, sizeof(host)), domains, 3, name, &bucket), S3_HOST_UNKNOWN);
    CHECK_EQ_INT(s3_host_parse(h2o_iovec_init("b\0.localhost", 12), domains, 3, name, &bucket), S3_HOST_UNKNOWN);
}

int main(void)
{
    RUN(test_host_domain_or_ip_is_path_style);
    RUN(test_host_subdomain_names_the_bucket);
    RUN(test_host_longest_domain_wins);
    RUN(test_host_other_names_are_unknown);
    RUN(test_host_too_long_or_with_nul_is_unknown);
    return unit_done();
}
