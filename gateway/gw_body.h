/* gw_body.h — turning the request entity into the payload a handler stores.
 *
 * h2o hands over the whole entity. Depending on x-amz-content-sha256 it is the payload itself
 * (a signed hash, or UNSIGNED-PAYLOAD) or aws-chunked framing around it (streaming modes),
 * whose chunk signatures or trailing checksums are verified while it is decoded (a verified
 * trailer checksum is left in ctx->trailer_checksum_*, for gw_checksums.h). Worker side:
 * decoding and hashing are proportional to the body.
 */
#ifndef YC_GW_BODY_H
#define YC_GW_BODY_H
#include "gateway/gw_request.h"

/* Sets ctx->body to the payload. With defer_sha256 set, a signed payload hash is left for the
 * caller's own pass over the bytes (*sha256_pending = 1 then); otherwise it is checked here.
 * On failure the S3 error is set on ctx and non-zero returned. */
int gw_body_payload(gw_ctx_t *ctx, int defer_sha256, int *sha256_pending);

/* Same, for small bodies (XML documents): every check done here. */
static inline int gw_body_prepare(gw_ctx_t *ctx)
{
    return gw_body_payload(ctx, 0, NULL);
}

#endif
