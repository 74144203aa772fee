/* object_attrs.h — the x-amz-object-attributes header of GetObjectAttributes.
 *
 * The value is a comma-separated list of attribute names (ETag, Checksum, ObjectParts,
 * StorageClass, ObjectSize), compared exactly as S3 does (case-sensitive), with optional
 * whitespace around each; a request may send the header several times, each adding to the set.
 * An empty list or an unknown name is an error, as in S3.
 */
#ifndef YC_S3_OBJECT_ATTRS_H
#define YC_S3_OBJECT_ATTRS_H
#include <h2o.h>
#include "gateway/s3/error.h"

enum {
    S3_ATTR_ETAG = 1 << 0,
    S3_ATTR_CHECKSUM = 1 << 1,
    S3_ATTR_OBJECT_PARTS = 1 << 2,
    S3_ATTR_STORAGE_CLASS = 1 << 3,
    S3_ATTR_OBJECT_SIZE = 1 << 4,
};

/* Adds the attributes named by one header value to *mask. Returns 0, or -S3_ERR_INVALID_ARGUMENT
 * for an unknown name or an empty element (an empty value included). */
int s3_object_attrs_parse(h2o_iovec_t value, unsigned *mask);

#endif
