/* test_gw_origin.c — the origin attribute of completed multipart objects and the Last-Modified
 * time it gives (gateway/gw_origin.h). */
#include "gateway/gw_origin.h"
#include "tests/unit/unit.h"

static const uint8_t ID[META_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TEST(test_origin_round_trips_and_shows_the_initiation_time)
{
    meta_buf_t attrs = {0};
    uint8_t id[META_ID_LEN];
    int64_t initiated = 0;

    CHECK_EQ_INT(gw_origin_put((meta_bytes_t){NULL, 0}, ID, 1700000000123456789LL, &attrs), 0);
    meta_object_t rec = {.mtime_ns = 1700000009000000000LL, .attrs = {(const char *)attrs.base, attrs.len}};
    CHECK_EQ_INT(gw_origin_get(&rec, id, &initiated), 1);
    CHECK(memcmp(id, ID, META_ID_LEN) == 0);
    CHECK_EQ_INT(initiated, 1700000000123456789LL);
    CHECK_EQ_INT(gw_last_modified_ns(&rec), 1700000000123456789LL);
    meta_buf_dispose(&attrs);
}

TEST(test_origin_of_a_record_with_the_id_alone_shows_the_mtime)
{
    meta_buf_t attrs = {0};
    meta_bytes_t v = {(const char *)ID, META_ID_LEN};
    int64_t initiated = -1;

    CHECK_EQ_INT(meta_attr_put((meta_bytes_t){NULL, 0}, META_ATTR_UPLOAD_ID, &v, &attrs), 0);
    meta_object_t rec = {.mtime_ns = 42, .attrs = {(const char *)attrs.base, attrs.len}};
    CHECK_EQ_INT(gw_origin_get(&rec, NULL, &initiated), 1);
    CHECK_EQ_INT(initiated, 0);
    CHECK_EQ_INT(gw_last_modified_ns(&rec), 42);
    meta_buf_dispose(&attrs);
}

TEST(test_origin_absent_or_malformed_shows_the_mtime)
{
    meta_buf_t attrs = {0};
    meta_bytes_t v = {"short", 5};

    meta_object_t plain = {.mtime_ns = 7};
    CHECK_EQ_INT(gw_origin_get(&plain, NULL, NULL), 0);
    CHECK_EQ_INT(gw_last_modified_ns(&plain), 7);
    CHECK_EQ_INT(meta_attr_put((meta_bytes_t){NULL, 0}, META_ATTR_UPLOAD_ID, &v, &attrs), 0);
    meta_object_t bad = {.mtime_ns = 8, .attrs = {(const char *)attrs.base, attrs.len}};
    CHECK_EQ_INT(gw_origin_get(&bad, NULL, NULL), -1);
    CHECK_EQ_INT(gw_last_modified_ns(&bad), 8);
    meta_buf_dispose(&attrs);
}

int main(void)
{
    RUN(test_origin_round_trips_and_shows_the_initiation_time);
    RUN(test_origin_of_a_record_with_the_id_alone_shows_the_mtime);
    RUN(test_origin_absent_or_malformed_shows_the_mtime);
    return unit_done();
}
