/* gw_body.h — the request body: read whole for small documents, streamed for objects and parts,
 * and turned into the payload a handler stores.
 *
 * Bodies are read only once the request is authenticated (gw_s3.c) and, for objects and parts,
 * once the handler's checks on the worker passed: the first pull of the stream is what asks the
 * HTTP layer for body (and sends the 100 Continue a client may wait for).
 *
 * Small bodies (XML documents) are read whole on the loop before the handler runs, into
 * ctx->req->entity, at most GW_BODY_WHOLE_MAX bytes. Object and part bodies stream: a worker
 * pulls them stripe by stripe (a gw_source_t for gw_data_write) from a ring of GW_BODY_SLOTS
 * stripe buffers that the loop fills from the socket. The loop reads only while a buffer is free
 * and the worker waits (a condition variable) while none is full, so the socket is read as fast
 * as the drives take the data, and a request holds at most GW_BODY_SLOTS stripes whatever its
 * size. The worker may hold several of them at once (gw_source_t.next_hold): a stripe waiting for
 * its MD5 while the next ones are encoded and written, one more being filled from the socket.
 * Slots beyond GW_BODY_SLOTS_MIN come from a process-wide budget (GW_BODY_EXTRA_BUDGET): a few
 * large uploads get the deeper pipeline, many at once get two slots each (the memory bound).
 *
 * Depending on x-amz-content-sha256 it is the payload itself
 * (a signed hash, or UNSIGNED-PAYLOAD) or aws-chunked framing around it (streaming modes),
 * whose chunk signatures or trailing checksums are verified while it is decoded (a verified
 * trailer checksum is left in ctx->trailer_checksum_*, for gw_checksums.h). Worker side:
 * decoding and hashing are proportional to the body.
 */
#ifndef YC_GW_BODY_H
#define YC_GW_BODY_H
#include "gateway/gw_object.h"
#include "gateway/gw_request.h"

#define GW_BODY_WHOLE_MAX    (2u * 1024 * 1024)  /* a document read whole: more is MaxMessageLengthExceeded */
#define GW_BODY_SLOTS        4                   /* stripe buffers of a streamed body, at most */
#define GW_BODY_SLOTS_MIN    2                   /* ... and at least */
#define GW_BODY_EXTRA_BUDGET (32u * 1024 * 1024) /* bytes of slots beyond the minimum, all bodies */

/* Sets ctx->body to the payload. With defer_sha256 set, a signed payload hash is left for the
 * caller's own pass over the bytes (*sha256_pending = 1 then); otherwise it is checked here.
 * On failure the S3 error is set on ctx and non-zero returned. */
int gw_body_payload(gw_ctx_t *ctx, int defer_sha256, int *sha256_pending);

/* Same, for small bodies (XML documents): every check done here. */
static inline int gw_body_prepare(gw_ctx_t *ctx)
{
    return gw_body_payload(ctx, 0, NULL);
}

/* Loop side: reads the body whole into ctx->req->entity, then calls next(ctx) on the loop. A body
 * over GW_BODY_WHOLE_MAX, or one that fails (timeout, malformed framing, the client gone), is
 * answered here and next is not called. */
void gw_body_read_whole(gw_ctx_t *ctx, void (*next)(gw_ctx_t *ctx));

/* Worker side: the payload of an object or part body as a source, and its size: Content-Length,
 * or x-amz-decoded-content-length for aws-chunked framing (whose chunk signatures and trailing
 * checksum are verified as it streams). allow_inline as given to gw_data_write. Nothing is read
 * yet: the first pull starts the reading. On failure the S3 error is set and non-zero returned
 * (411 MissingContentLength without a length, EntityTooLarge past max_object_size). With
 * sha256_pending set, the caller hashes the payload and compares (as gw_body_payload). */
int gw_body_source(gw_ctx_t *ctx, int allow_inline, gw_source_t *src, uint64_t *size, int *sha256_pending);

/* Loop side, instead of dispatching the worker at once: when the whole body of a plain (not
 * aws-chunked) Content-Length request already came with its head (yc_http_body_buffered:
 * nothing more to read from the socket, no 100 Continue), starts gw_body_source's stream now and
 * returns 1; then(ctx) is called on the loop once the body is in the ring (or its read failed,
 * which the worker's first pull reports), so the worker finds it there instead of asking the
 * loop for it and sleeping until it answers. Only bytes the client already sent are taken; the
 * checks of gw_body_source are made by the worker as before. Returns 0, nothing done, otherwise:
 * the caller goes on at once. */
int gw_body_prefetch(gw_ctx_t *ctx, int allow_inline, void (*then)(gw_ctx_t *ctx));

/* Form uploads (POST Object): the body is multipart/form-data, and who sends it is known only from
 * its fields. The loop reads them at once (at most GW_FORM_FIELDS_BYTES, GW_FORM_FIELDS_MAX of
 * them: what comes before the file), stops after the file part's headers and calls head(ctx,
 * form) on the loop; nothing of the file is read before the worker's first pull of the source
 * that gw_body_form_source gives. The file then streams through the same ring as an object body,
 * its size known only at its end (a gw_data_write of GW_SIZE_UNKNOWN); the parts after it are
 * read and ignored. A failure before the fields are in (malformed, too large, the body ended or
 * timed out) sets the S3 error on ctx before head is called; form is owned by the body. Returns
 * S3_OK or the S3 error to answer (nothing started). */
#define GW_FORM_FIELDS_BYTES (20u * 1024) /* S3's MaxPostPreDataLengthExceeded */
#define GW_FORM_FIELDS_MAX   256
struct s3_form;
int gw_body_form_start(gw_ctx_t *ctx, h2o_iovec_t boundary, void (*head)(gw_ctx_t *ctx, struct s3_form *form));
/* Worker side: the file as a source of unknown size; more than max bytes fail it with
 * EntityTooLarge. */
void gw_body_form_source(gw_ctx_t *ctx, uint64_t max, gw_source_t *src);

/* Worker side, after the data pass took the whole payload: waits for the rest of the body (the
 * final chunk and trailer of aws-chunked framing) and its last checks; a verified trailing
 * checksum is left in ctx->trailer_checksum_*. 0, or non-zero with the S3 error set: the shards
 * written must be removed. */
int gw_body_end(gw_ctx_t *ctx);

/* Worker side: non-zero when the streamed body failed (its S3 error set on ctx already): a data
 * pass that stopped for it must not be answered as a storage error. */
int gw_body_failed(gw_ctx_t *ctx);

#endif
