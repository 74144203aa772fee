/* fuzz_lifecycle.c — lifecycle configurations and their evaluation on arbitrary bytes.
 *
 * Input: a selector byte and 24 bytes of facts (the version's size, times and counts, the clock),
 * then a key ended by a newline, then the configuration document. An accepted configuration must
 * hold 1..1000 rules whose values passed their checks, write a document that reads back to one
 * writing the same bytes, and give decisions that agree with what the version is: no action on a
 * version no rule can touch, the action kind the version's state allows, and `due` exactly when
 * the due time has come.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/bytes.h"
#include "gateway/s3/lifecycle.h"

static void check_rules(const s3_lifecycle_config_t *c)
{
    if (c->count < 1 || c->count > S3_LIFECYCLE_MAX_RULES)
        abort();
    for (size_t i = 0; i < c->count; i++) {
        const s3_lifecycle_rule_t *r = &c->rules[i];
        if (r->expire == S3_LC_EXPIRE_DAYS && r->expire_days == 0)
            abort();
        if (r->expire == S3_LC_EXPIRE_DATE && r->expire_date_ns % (86400LL * 1000000000LL) != 0)
            abort();
        if ((r->has_noncurrent && r->noncurrent_days == 0) || (r->has_abort && r->abort_days == 0))
            abort();
        if (r->expire == S3_LC_EXPIRE_NONE && !r->has_noncurrent && !r->has_abort)
            abort();
        if (r->has_size_gt && r->has_size_lt && r->size_gt >= r->size_lt)
            abort();
        if (r->has_abort && (r->ntags != 0 || r->has_size_gt || r->has_size_lt))
            abort();
    }
}

static void check_decision(const s3_lifecycle_decision_t *d, const s3_lifecycle_version_t *v,
                           s3_lifecycle_versioning_t versioning, int64_t now)
{
    if (d->rule == NULL) {
        if (d->action != S3_LC_ACTION_NONE || d->due || d->due_ns != INT64_MAX)
            abort();
        return;
    }
    if (!d->rule->enabled || d->due != (d->due_ns <= now))
        abort();
    switch (d->action) {
    case S3_LC_ACTION_DELETE:
        if (v->is_current && (v->is_delete_marker || versioning != S3_LC_UNVERSIONED))
            abort();
        break;
    case S3_LC_ACTION_ADD_DELETE_MARKER:
        if (!v->is_current || v->is_delete_marker || versioning == S3_LC_UNVERSIONED)
            abort();
        break;
    case S3_LC_ACTION_REMOVE_DELETE_MARKER:
        if (!v->is_current || !v->is_delete_marker || !v->only_version)
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_lifecycle_config_t cfg, again;
    s3_error_detail_t why;

    if (size < 25)
        return 0;
    h2o_mem_init_pool(&pool);
    char *copy = malloc(size);
    memcpy(copy, data + 25, size - 25);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 25);
    const char *nl = memchr(in.base, '\n', in.len);
    h2o_iovec_t key = h2o_iovec_init(in.base, nl != NULL ? (size_t)(nl - in.base) : 0);
    if (nl != NULL) {
        in.len -= key.len + 1;
        in.base += key.len + 1;
    }
    memset(&why, 0, sizeof(why));

    int ret = s3_lifecycle_parse(&pool, in, &cfg, &why);
    if (ret != 0) {
        if (ret > 0 || why.err != (s3_error_t)-ret || cfg.count != 0)
            abort();
        goto done;
    }
    check_rules(&cfg);
    if (data[0] & 1)
        s3_lifecycle_assign_ids(&pool, &cfg);
    s3_xml_writer_t w1, w2;
    s3_xml_writer_init(&w1, &pool);
    s3_lifecycle_write_xml(&w1, &cfg);
    h2o_iovec_t doc = s3_xml_writer_result(&w1);
    if (s3_lifecycle_parse(&pool, doc, &again, NULL) != 0 || again.count != cfg.count)
        abort();
    s3_xml_writer_init(&w2, &pool);
    s3_lifecycle_write_xml(&w2, &again);
    h2o_iovec_t doc2 = s3_xml_writer_result(&w2);
    if (doc2.len != doc.len || memcmp(doc2.base, doc.base, doc.len) != 0)
        abort();

    /* the facts: times within a few centuries of the epoch, so that nothing but the rules saturates */
    const uint8_t *f = data + 1;
    int64_t now = (int64_t)(yc_get_le32(f) % (200u * 366)) * 86400LL * 1000000000LL + (int64_t)yc_get_le32(f + 4);
    s3_lifecycle_version_t v;
    memset(&v, 0, sizeof(v));
    v.key = key;
    v.size = yc_get_le32(f + 8);
    v.is_current = f[12] & 1;
    v.is_delete_marker = (f[12] >> 1) & 1;
    v.only_version = (f[12] >> 2) & 1;
    v.mtime_ns = now - (int64_t)yc_get_le32(f + 13) * 1000000000LL;
    v.noncurrent_since_ns = v.mtime_ns + (int64_t)yc_get_le32(f + 17) * 1000;
    v.newer_noncurrent = f[21];
    s3_tag_t tags[1] = {
        {h2o_iovec_init(key.base, key.len / 2), h2o_iovec_init(key.base + key.len / 2, key.len - key.len / 2)}};
    s3_tagset_t set = {tags, 1};
    v.tags = (f[12] >> 3) & 1 ? &set : NULL;
    s3_lifecycle_versioning_t versioning = (s3_lifecycle_versioning_t)(f[22] % 3);
    if (versioning == S3_LC_UNVERSIONED && (!v.is_current || v.is_delete_marker))
        versioning = S3_LC_VERSIONING_ENABLED; /* an unversioned bucket has only current objects */

    /* a gateway may scale the day down (lifecycle_day_seconds): 0 (a real day) or 1 .. 86400 s */
    cfg.day_ns = (f[12] >> 4) & 1 ? (int64_t)(1 + f[21] % 86400) * 1000000000LL : 0;

    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(&cfg, &v, versioning, now, &d);
    check_decision(&d, &v, versioning, now);
    /* a due time is a multiple of the day since the epoch, or a Date, or saturated */
    int64_t day = cfg.day_ns > 0 ? cfg.day_ns : 86400LL * 1000000000LL;
    if (d.rule != NULL && d.due_ns != INT64_MAX && d.rule->expire != S3_LC_EXPIRE_DATE && d.due_ns % day != 0)
        abort();
    s3_lifecycle_evaluate_upload(&cfg, key, v.mtime_ns, now, &d);
    if (d.rule == NULL ? d.action != S3_LC_ACTION_NONE || d.due
                       : d.action != S3_LC_ACTION_ABORT_UPLOAD || !d.rule->has_abort || d.due != (d.due_ns <= now))
        abort();
    if (d.rule != NULL)
        (void)s3_lifecycle_expiration_header(&pool, d.due_ns, d.rule->id.base != NULL ? d.rule->id : key);

done:
    free(copy);
    h2o_mem_clear_pool(&pool);
    return 0;
}
