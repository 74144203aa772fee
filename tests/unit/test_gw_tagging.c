/* test_gw_tagging.c — an object record's tags: the META_ATTR_TAGS attribute of its attribute set,
 * holding the stored tag set of gateway/s3/tagging.h, read back by gw_tagging_of. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/gw_tagging.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* An attribute set holding the stored form of tags (n pairs key, value) and, beside it, an
 * attribute of another owner (ACL), as a record carries them. */
static meta_bytes_t attrs_with(meta_buf_t *buf, const char *const *pairs, size_t n)
{
    s3_tag_t tags[16];
    s3_tagset_t set = {tags, n};
    h2o_iovec_t stored;
    meta_buf_t first = {0};
    meta_bytes_t acl = {"acl-bytes", 9};

    for (size_t i = 0; i < n; i++)
        tags[i] = (s3_tag_t){IOV((char *)pairs[2 * i]), IOV((char *)pairs[2 * i + 1])};
    s3_tagset_sort(&set);
    if (s3_tagging_encode(&pool, &set, &stored) != 0 ||
        meta_attr_put((meta_bytes_t){NULL, 0}, META_ATTR_ACL, &acl, &first) != 0)
        abort();
    meta_bytes_t value = {stored.base, stored.len};
    if (meta_attr_put((meta_bytes_t){(const char *)first.base, first.len}, META_ATTR_TAGS, &value, buf) != 0)
        abort();
    meta_buf_dispose(&first);
    return (meta_bytes_t){(const char *)buf->base, buf->len};
}

TEST(test_tagging_of_a_record_without_tags_is_empty)
{
    meta_object_t rec = {0};
    s3_tagset_t set;
    meta_buf_t buf = {0};
    meta_bytes_t acl = {"x", 1};

    CHECK_EQ_INT(gw_tagging_of(&pool, &rec, &set), 0);
    CHECK_EQ_INT(set.count, 0);
    /* another owner's attribute is not a tag */
    CHECK_EQ_INT(meta_attr_put((meta_bytes_t){NULL, 0}, META_ATTR_ACL, &acl, &buf), 0);
    rec.attrs = (meta_bytes_t){(const char *)buf.base, buf.len};
    CHECK_EQ_INT(gw_tagging_of(&pool, &rec, &set), 0);
    CHECK_EQ_INT(set.count, 0);
    meta_buf_dispose(&buf);
}

TEST(test_tagging_of_reads_the_tags_attribute_in_key_order)
{
    static const char *const pairs[] = {"zeta", "1", "alpha", "", "mid", "x y"};
    meta_buf_t buf = {0};
    meta_object_t rec = {.attrs = attrs_with(&buf, pairs, 3)};
    s3_tagset_t set;

    CHECK_EQ_INT(gw_tagging_of(&pool, &rec, &set), 0);
    CHECK_EQ_INT(set.count, 3);
    CHECK(iov_eq(set.tags[0].key, "alpha") && iov_eq(set.tags[0].value, ""));
    CHECK(iov_eq(set.tags[1].key, "mid") && iov_eq(set.tags[1].value, "x y"));
    CHECK(iov_eq(set.tags[2].key, "zeta") && iov_eq(set.tags[2].value, "1"));
    /* the other attribute stays where it was */
    meta_bytes_t acl;
    CHECK_EQ_INT(meta_attr_get(rec.attrs, META_ATTR_ACL, &acl), 1);
    CHECK(acl.len == 9 && memcmp(acl.base, "acl-bytes", 9) == 0);
    meta_buf_dispose(&buf);
}

TEST(test_tagging_of_refuses_a_damaged_value)
{
    meta_buf_t pairs = {0}, buf = {0};
    meta_object_t rec = {0};
    s3_tagset_t set;

    /* pairs out of key order are not a stored tag set (one encoding per set) */
    CHECK_EQ_INT(meta_kv_append(&pairs, (meta_bytes_t){"b", 1}, (meta_bytes_t){"1", 1}), 0);
    CHECK_EQ_INT(meta_kv_append(&pairs, (meta_bytes_t){"a", 1}, (meta_bytes_t){"2", 1}), 0);
    meta_bytes_t value = {(const char *)pairs.base, pairs.len};
    CHECK_EQ_INT(meta_attr_put((meta_bytes_t){NULL, 0}, META_ATTR_TAGS, &value, &buf), 0);
    rec.attrs = (meta_bytes_t){(const char *)buf.base, buf.len};
    CHECK_EQ_INT(gw_tagging_of(&pool, &rec, &set), -S3_ERR_INTERNAL_ERROR);
    /* a value cut short */
    rec.attrs.len--;
    CHECK(gw_tagging_of(&pool, &rec, &set) == -S3_ERR_INTERNAL_ERROR);
    meta_buf_dispose(&pairs);
    meta_buf_dispose(&buf);
}

TEST(test_tagging_of_refuses_an_attribute_set_that_does_not_walk)
{
    static const char bad[] = {META_ATTR_TAGS, 9, 0, 0, 0, 'a'}; /* length past the end */
    meta_object_t rec = {.attrs = {bad, sizeof(bad)}};
    s3_tagset_t set;

    CHECK_EQ_INT(gw_tagging_of(&pool, &rec, &set), -S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(set.count, 0);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_tagging_of_a_record_without_tags_is_empty);
    RUN(test_tagging_of_reads_the_tags_attribute_in_key_order);
    RUN(test_tagging_of_refuses_a_damaged_value);
    RUN(test_tagging_of_refuses_an_attribute_set_that_does_not_walk);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
