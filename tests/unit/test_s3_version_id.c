/* test_s3_version_id.c — version id text: parse, format, the null version. */
#include "tests/unit/unit.h"
#include "gateway/s3/version_id.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

TEST(test_version_id_parse_round_trips_when_hex)
{
    const char *text = "fffffe8a1b2c3d4e5f60718293a4b5c6";
    uint8_t vid[S3_VERSION_ID_LEN];
    char out[S3_VERSION_ID_TEXT_MAX];

    CHECK_EQ_INT(s3_version_id_parse(IOV(text), vid), 0);
    CHECK_EQ_INT(vid[0], 0xff);
    CHECK_EQ_INT(vid[15], 0xc6);
    CHECK_EQ_INT(s3_version_id_is_null(vid), 0);
    CHECK_EQ_INT((int)s3_version_id_format(vid, out), 32);
    CHECK(strcmp(out, text) == 0);
}

TEST(test_version_id_parse_null_when_named_null)
{
    uint8_t vid[S3_VERSION_ID_LEN];
    char out[S3_VERSION_ID_TEXT_MAX];

    memset(vid, 7, sizeof(vid));
    CHECK_EQ_INT(s3_version_id_parse(IOV("null"), vid), 0);
    CHECK_EQ_INT(s3_version_id_is_null(vid), 1);
    CHECK_EQ_INT((int)s3_version_id_format(vid, out), 4);
    CHECK(strcmp(out, "null") == 0);
}

TEST(test_version_id_parse_rejects_other_text)
{
    uint8_t vid[S3_VERSION_ID_LEN];
    const char *bad[] = {"",
                         "NULL",
                         "nul",
                         "nulll",
                         "00000000000000000000000000000000", /* the null id in hex */
                         "FFFFFE8A1B2C3D4E5F60718293A4B5C6", /* uppercase: not a text this server writes */
                         "fffffe8a1b2c3d4e5f60718293a4b5c",
                         "fffffe8a1b2c3d4e5f60718293a4b5c6a",
                         "gffffe8a1b2c3d4e5f60718293a4b5c6"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_version_id_parse(IOV(bad[i]), vid), -1);
    CHECK_EQ_INT(s3_version_id_parse(h2o_iovec_init(NULL, 0), vid), -1);
}

int main(void)
{
    RUN(test_version_id_parse_round_trips_when_hex);
    RUN(test_version_id_parse_null_when_named_null);
    RUN(test_version_id_parse_rejects_other_text);
    return unit_done();
}
