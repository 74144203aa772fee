/* gw_origin.h — where a completed multipart object came from: the upload's id and the time it was
 * initiated, kept in the object record's META_ATTR_UPLOAD_ID attribute, and the Last-Modified
 * time every answer shows for a version.
 *
 * S3 shows a multipart object's Last-Modified as the time its upload was initiated
 * (CreateMultipartUpload), not the time of Complete. Versions here are ordered by their mtime
 * (gw_quorum.h), which must stay the time of the write, so the time shown is a field of its own:
 * the attribute's value is the upload id (META_ID_LEN bytes) followed by the initiation time
 * (big-endian int64 nanoseconds). A value of the id alone (written before the time was kept)
 * reads as before: Last-Modified is then the mtime. This file is the one place that encodes and
 * decodes the value.
 */
#ifndef YC_GW_ORIGIN_H
#define YC_GW_ORIGIN_H
#include "meta/meta.h"

/* Appends to out (empty on entry) the attribute set attrs with the origin of an object completed
 * from upload upload_id, initiated at initiated_ns. 0 or meta_attr_put's error. */
int gw_origin_put(meta_bytes_t attrs, const uint8_t upload_id[META_ID_LEN], int64_t initiated_ns, meta_buf_t *out);

/* The upload rec was completed from: 1 with its id in upload_id and its initiation time in
 * *initiated_ns (0 when the record predates it; either out-parameter may be NULL), 0 when rec
 * names none (a PUT or a copy), -1 when the attribute does not parse. */
int gw_origin_get(const meta_object_t *rec, uint8_t upload_id[META_ID_LEN], int64_t *initiated_ns);

/* The Last-Modified time of rec as S3 shows it (HEAD, GET, listings, GetObjectAttributes and the
 * conditions that compare with it): its upload's initiation time for a completed multipart
 * object, else its mtime. */
int64_t gw_last_modified_ns(const meta_object_t *rec);

#endif
