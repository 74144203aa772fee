/* test_s3_object_attrs.c — the x-amz-object-attributes header. */
#include "tests/unit/unit.h"
#include "gateway/s3/object_attrs.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static int parse(const char *v, unsigned *mask)
{
    *mask = 0;
    return s3_object_attrs_parse(IOV(v), mask);
}

TEST(test_object_attrs_each_name)
{
    unsigned m;
    CHECK_EQ_INT(parse("ETag", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_ETAG);
    CHECK_EQ_INT(parse("Checksum", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_CHECKSUM);
    CHECK_EQ_INT(parse("ObjectParts", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_OBJECT_PARTS);
    CHECK_EQ_INT(parse("StorageClass", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_STORAGE_CLASS);
    CHECK_EQ_INT(parse("ObjectSize", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_OBJECT_SIZE);
}

TEST(test_object_attrs_list_with_spaces)
{
    unsigned m;
    CHECK_EQ_INT(parse("ETag, ObjectSize ,\tStorageClass", &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_ETAG | S3_ATTR_OBJECT_SIZE | S3_ATTR_STORAGE_CLASS);
}

TEST(test_object_attrs_headers_accumulate)
{
    unsigned m = 0;
    CHECK_EQ_INT(s3_object_attrs_parse(IOV("ETag"), &m), 0);
    CHECK_EQ_INT(s3_object_attrs_parse(IOV("Checksum"), &m), 0);
    CHECK_EQ_INT(m, S3_ATTR_ETAG | S3_ATTR_CHECKSUM);
}

TEST(test_object_attrs_when_unknown_or_empty_fails)
{
    unsigned m;
    CHECK_EQ_INT(parse("", &m), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(parse("etag", &m), -S3_ERR_INVALID_ARGUMENT); /* names are case-sensitive */
    CHECK_EQ_INT(parse("ETag,", &m), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(parse("ETag,,ObjectSize", &m), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(parse("Size", &m), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(parse("ETagX", &m), -S3_ERR_INVALID_ARGUMENT);
    m = 0;
    CHECK_EQ_INT(s3_object_attrs_parse(h2o_iovec_init(NULL, 0), &m), -S3_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    RUN(test_object_attrs_each_name);
    RUN(test_object_attrs_list_with_spaces);
    RUN(test_object_attrs_headers_accumulate);
    RUN(test_object_attrs_when_unknown_or_empty_fails);
    return unit_done();
}
