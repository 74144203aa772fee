/* gw_admin_internal.h — what the admin API's files share (gw_admin.c, gw_admin_ops.c, gw_roles.c,
 * gw_kms.c, gw_admin_secrets.c; the JSON answer is gw_admin_json.c's). */
#ifndef YC_GW_ADMIN_INTERNAL_H
#define YC_GW_ADMIN_INTERNAL_H
#include <jansson.h>
#include "gateway/gw_heal.h"
#include "gateway/gw_request.h"

/* Answers 200 with doc as compact JSON (application/json); takes doc; NULL doc, or one that does not
 * print, answers 500 InternalError. Every admin call's JSON answer goes out through it. */
void gw_admin_respond_json(gw_ctx_t *ctx, json_t *doc);

/* Adds a heal's progress to doc: total, percent, ratePerSecond (objects a second over the walk),
 * etaSeconds (null while no rate is known yet, 0 once finished). */
void gw_heal_progress_json(const gw_heal_status_t *st, json_t *doc);

/* The admin calls of gw_admin_ops.c (buckets, usage, quotas, config, drives): 1 when path names
 * one (answered or dispatched), 0 when not. */
int gw_admin_more(gw_ctx_t *ctx, h2o_iovec_t path);

/* The secrets key's calls of gw_admin_secrets.c (/_admin/v1/keys/secrets): 1 when path names one. */
int gw_admin_secrets(gw_ctx_t *ctx, h2o_iovec_t path);

#endif
