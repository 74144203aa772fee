/* gw_admin_internal.h — what gw_admin_ops.c gives the rest of the admin API (gw_admin.c). */
#ifndef YC_GW_ADMIN_INTERNAL_H
#define YC_GW_ADMIN_INTERNAL_H
#include <jansson.h>
#include "gateway/gw_heal.h"
#include "gateway/gw_request.h"

/* Adds a heal's progress to doc: total, percent, ratePerSecond (objects a second over the walk),
 * etaSeconds (null while no rate is known yet, 0 once finished). */
void gw_heal_progress_json(const gw_heal_status_t *st, json_t *doc);

/* The admin calls of gw_admin_ops.c (buckets, usage, quotas, config, drives): 1 when path names
 * one (answered or dispatched), 0 when not. */
int gw_admin_more(gw_ctx_t *ctx, h2o_iovec_t path);

#endif
