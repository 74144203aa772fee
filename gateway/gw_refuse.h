/* gw_refuse.h — request headers and parameters that would change what an operation means, when
 * the gateway does not implement that meaning.
 *
 * A client that sends x-amz-server-side-encryption believes its bytes are encrypted at rest; one
 * that sends If-None-Match: * believes an existing object is safe. Ignoring such a header would
 * answer 200 to a request that was not carried out, so each one is either implemented or refused
 * with S3's error (501 NotImplemented naming the header, or the 400 that AWS answers for the
 * value), before any work is done and before anything is written.
 *
 * The rules are one table (gw_refuse.c): a header name (or name prefix), the operations it
 * applies to, and a judge of its value. Implementing a feature deletes its row. The presigned GET
 * overrides (response-content-type, ...) are checked here too: their values are echoed into
 * response headers, so a control character in one is refused (400 InvalidArgument) rather than
 * let through to split the response.
 */
#ifndef YC_GW_REFUSE_H
#define YC_GW_REFUSE_H
#include "gateway/gw_request.h"

/* Checks ctx's headers and query against the table for ctx->op. Returns 0 when the request may
 * proceed; otherwise sets the error (and its Header / ArgumentName fields) on ctx and returns
 * non-zero: the caller answers. Runs on the loop; reads only the request. */
int gw_refuse_check(gw_ctx_t *ctx);

/* The same table for one field of a form upload (POST Object), whose fields stand for PutObject's
 * headers: name lowercase; the fields acl and tagging are judged as x-amz-acl and x-amz-tagging.
 * 0, or the error set on ctx and non-zero. */
int gw_refuse_check_field(gw_ctx_t *ctx, h2o_iovec_t name, h2o_iovec_t value);

/* 1 when value holds a byte that must never be echoed into a response header (< 0x20, 0x7f). */
int gw_refuse_has_control(h2o_iovec_t value);

#endif
