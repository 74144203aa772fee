/* copy_source.h — the x-amz-copy-source header of CopyObject and UploadPartCopy:
 * "[/]bucket/key[?versionId=id]", the bucket and key percent-encoded as in a path, the key 1..1024
 * bytes of UTF-8 (names.h) once decoded. The version id is the service's own spelling
 * (version_id.h); any other query is refused, as AWS refuses it.
 */
#ifndef YC_S3_COPY_SOURCE_H
#define YC_S3_COPY_SOURCE_H
#include <h2o.h>
#include <stdint.h>
#include "gateway/s3/version_id.h"

enum {
    S3_COPY_SOURCE_BAD_KEY = -1,     /* "Invalid copy source object key" */
    S3_COPY_SOURCE_BAD_VERSION = -2, /* "Invalid version id specified" */
};

/* Splits src into *bucket and *key (decoded, in memory from pool, or pointing into src when
 * nothing was encoded) and, when "?versionId=" was given, vid with *vid_given = 1. 0, or one of
 * the codes above (both answered 400 InvalidArgument). */
int s3_copy_source_parse(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *bucket, h2o_iovec_t *key,
                         uint8_t vid[S3_VERSION_ID_LEN], int *vid_given);

#endif
