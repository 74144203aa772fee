/* gw_checksums.h — x-amz-checksum-* on every path that stores or serves object bytes.
 *
 * A request body may come with one checksum (CRC32, CRC32C, CRC64NVME, SHA1, SHA256): an
 * x-amz-checksum-<alg> header, or an aws-chunked trailer that gw_body_payload verified while it
 * decoded the body. PutObject and UploadPart compute the checksum in their single pass over the
 * bytes, compare it before anything becomes visible (BadDigest, the shards are deleted) and keep
 * it in the record. Several checksum headers, an algorithm this server does not know, a value
 * that is not base64 of the right size, or x-amz-sdk-checksum-algorithm without a checksum are
 * refused: no checksum is ever accepted unchecked.
 *
 * An upload created with x-amz-checksum-algorithm fixes the algorithm of every part and how the
 * object's checksum is made at Complete (x-amz-checksum-type, gateway/s3/checksum.h): a part with
 * another algorithm is refused, a part without one is refused for COMPOSITE and given one computed
 * here for FULL_OBJECT (UploadPartCopy parts too). Complete checks the part checksums the client
 * lists against the stored ones (InvalidPart), computes the object's checksum from the stored ones
 * without reading a byte again, and checks a full-object value sent on Complete (BadDigest).
 *
 * The object record keeps that checksum, its type and every part's checksum, so that GET and HEAD
 * with x-amz-checksum-mode: ENABLED answer the checksum of what they send: the object's for the
 * whole object, the part's for ?partNumber=, none for a Range, whose bytes no stored checksum
 * describes (SDKs that validate responses would fail on a whole-object value there).
 *
 * Every function runs on a request worker and sets the S3 error on ctx when it returns non-zero.
 */
#ifndef YC_GW_CHECKSUMS_H
#define YC_GW_CHECKSUMS_H
#include "gateway/gw_request.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/xml.h"
#include "meta/meta.h"

/* The checksum of one request body: what the client sent and what the data pass computes. */
typedef struct {
    s3_checksum_alg_t sent;             /* algorithm of the value the client sent; NONE for none */
    h2o_iovec_t sent_value;             /* that base64 value (borrowed from the request) */
    int from_trailer;                   /* it came in an aws-chunked trailer and was verified already */
    s3_checksum_alg_t alg;              /* algorithm computed and kept: sent's, or the upload's; NONE for none */
    s3_checksum_t running;              /* the data pass's checksum while running */
    int running_active;                 /* running was initialised and not finished */
    char value[S3_CHECKSUM_MAX_BASE64]; /* base64 of the checksum once gw_checksum_finish returned 0 */
} gw_checksum_t;

/* PutObject: reads the body's checksum (after gw_body_payload) and starts computing it. */
int gw_checksum_begin(gw_ctx_t *ctx, gw_checksum_t *c);

/* UploadPart and UploadPartCopy (copy set: the bytes are not the request's): reads the body's
 * checksum, checks it against the upload's algorithm and type, and starts computing whatever
 * the part must keep. */
int gw_checksum_begin_part(gw_ctx_t *ctx, const meta_upload_t *upload, int copy, gw_checksum_t *c);

/* A gw_observe_fn: feeds the bytes of the data pass; arg is the gw_checksum_t. */
void gw_checksum_observe(void *arg, const void *data, size_t len);

/* Ends the data pass: compares the computed checksum with the one sent (BadDigest) and leaves
 * the value to keep in c->value. */
int gw_checksum_finish(gw_ctx_t *ctx, gw_checksum_t *c);

/* Releases a running checksum; safe after finish and on a zeroed value. */
void gw_checksum_dispose(gw_checksum_t *c);

/* For calls whose body is read whole (ctx->body: configurations, tags, retention): checks
 * Content-MD5 and any x-amz-checksum-* against it (BadDigest, InvalidDigest, or the checksum's
 * error); with required, one of them must be there (400 InvalidRequest "Missing required header
 * for this request: Content-Md5.", as S3). 0, or the error set and -1. */
int gw_checksum_body_verify(gw_ctx_t *ctx, int required);

/* Fills the checksum fields of a single PUT's record (a FULL_OBJECT checksum, or none); they
 * borrow c. */
void gw_checksum_object_record(const gw_checksum_t *c, meta_object_t *r);

/* Fills the checksum fields of a part record; they borrow c. */
void gw_checksum_part_record(const gw_checksum_t *c, meta_part_t *p);

/* Answers the checksum the client sent (x-amz-checksum-<alg>), with x-amz-checksum-type:
 * FULL_OBJECT when with_type is set (PutObject). */
void gw_checksum_echo(gw_ctx_t *ctx, const gw_checksum_t *c, int with_type);

/* CreateMultipartUpload: reads x-amz-checksum-algorithm and x-amz-checksum-type into the upload
 * record (its fields then point to constant names). */
int gw_checksum_upload_settings(gw_ctx_t *ctx, meta_upload_t *u);

/* CreateMultipartUpload's answer: x-amz-checksum-algorithm and x-amz-checksum-type, when set. */
void gw_checksum_upload_headers(gw_ctx_t *ctx, const meta_upload_t *u);

/* ListParts: the upload's <ChecksumAlgorithm> and <ChecksumType>, when set. */
void gw_checksum_upload_xml(s3_xml_writer_t *w, const meta_upload_t *u);

/* ListParts and CopyPartResult: a part's <ChecksumCRC32> (or other algorithm), when it has one. */
void gw_checksum_part_xml(s3_xml_writer_t *w, const meta_part_t *p);

/* CompleteMultipartUpload: the object's checksum, made from the listed parts' stored checksums. */
typedef struct {
    s3_checksum_alg_t alg; /* the upload's; NONE: the object gets no checksum */
    s3_checksum_type_t type;
    s3_checksum_multipart_t sum;
    meta_buf_t part_checksums; /* binary, in part order: for the object record */
    char value[S3_CHECKSUM_MAX_WIRE];
    size_t value_len;
} gw_checksum_complete_t;

/* Starts Complete's checksum for upload u; checks x-amz-checksum-type sent on Complete. Pair
 * with gw_checksum_complete_dispose whatever it returns. */
int gw_checksum_complete_begin(gw_ctx_t *ctx, const meta_upload_t *u, gw_checksum_complete_t *cc);

/* Checks one listed part's <ChecksumXXX> against the stored part record (InvalidPart; a missing
 * one under a COMPOSITE upload is InvalidRequest) and adds the stored checksum, in list order. */
int gw_checksum_complete_part(gw_ctx_t *ctx, gw_checksum_complete_t *cc, const s3_xml_part_t *listed,
                              const meta_part_t *stored);

/* Finishes the object's checksum, checks a x-amz-checksum-<alg> value sent on Complete (BadDigest)
 * and fills the checksum fields of the object record r (they borrow cc). */
int gw_checksum_complete_finish(gw_ctx_t *ctx, gw_checksum_complete_t *cc, meta_object_t *r);

/* CompleteMultipartUploadResult's <ChecksumXXX> and <ChecksumType>, when the object has one. */
void gw_checksum_complete_xml(s3_xml_writer_t *w, const gw_checksum_complete_t *cc);

void gw_checksum_complete_dispose(gw_checksum_complete_t *cc);

/* GET/HEAD with x-amz-checksum-mode: ENABLED: x-amz-checksum-<alg> and x-amz-checksum-type of the
 * whole object (part_number 0) or of part part_number (1-based) of a ?partNumber= answer. A ranged
 * answer must not call this. Without the mode, or without a stored checksum, adds nothing. */
void gw_checksum_object_headers(gw_ctx_t *ctx, const meta_object_t *r, uint32_t part_number);

#endif
