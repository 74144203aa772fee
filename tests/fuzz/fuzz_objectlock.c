/* fuzz_objectlock.c — Object Lock's documents, headers and decisions on arbitrary bytes.
 *
 * The first byte picks the reader; the rest is its input (for the headers: mode, date and legal
 * hold, each ended by a newline). Accepted documents must write documents that read back the
 * same; refusals must say why with the code returned; the decisions must never let a version
 * under a legal hold, or a compliance retention in force, be removed, nor let a compliance
 * retention in force be shortened, and must always let an unprotected version go.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/bytes.h"
#include "gateway/s3/objectlock.h"

#define NOW (1767225600LL * 1000000000LL) /* 2026-01-01T00:00:00Z */

static h2o_iovec_t field(h2o_iovec_t *in)
{
    const char *nl = in->len != 0 ? memchr(in->base, '\n', in->len) : NULL;
    size_t len = nl != NULL ? (size_t)(nl - in->base) : in->len;
    h2o_iovec_t f = h2o_iovec_init(len != 0 ? in->base : NULL, len);
    size_t used = nl != NULL ? len + 1 : len;
    in->base += used;
    in->len -= used;
    return f;
}

static void check_refused(int ret, const s3_error_detail_t *why)
{
    if (ret >= 0 || why->err != (s3_error_t)-ret)
        abort();
}

static void decisions(const uint8_t *f)
{
    s3_lock_state_t st;
    s3_retention_t next;
    st.retention.mode = (s3_lock_mode_t)(f[0] % 3);
    st.retention.retain_until_ns = NOW + ((int64_t)yc_get_le32(f + 1) - INT32_MAX) * 1000000000LL;
    st.legal_hold = (s3_legal_hold_t)(f[5] % 3);
    next.mode = (s3_lock_mode_t)(f[6] % 3);
    next.retain_until_ns = NOW + ((int64_t)yc_get_le32(f + 7) - INT32_MAX) * 1000000000LL;
    int bypass = f[11] & 1, may = (f[11] >> 1) & 1;
    int in_force = st.retention.mode != S3_LOCK_NONE && st.retention.retain_until_ns > NOW;

    int removable = s3_objectlock_check_remove(&st, NOW, bypass, may, NULL) == 0;
    if (removable && (st.legal_hold == S3_LEGAL_HOLD_ON || (in_force && st.retention.mode == S3_LOCK_COMPLIANCE)))
        abort();
    if (!removable && st.legal_hold != S3_LEGAL_HOLD_ON && !in_force)
        abort();
    int changeable = s3_objectlock_check_retention_change(&st.retention, &next, NOW, bypass, may, NULL) == 0;
    if (changeable && in_force && st.retention.mode == S3_LOCK_COMPLIANCE &&
        (next.mode != S3_LOCK_COMPLIANCE || next.retain_until_ns < st.retention.retain_until_ns))
        abort();
    if (!changeable && !in_force)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_error_detail_t why;
    s3_xml_writer_t w;
    int ret;

    if (size < 1)
        return 0;
    h2o_mem_init_pool(&pool);
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 1);
    memset(&why, 0, sizeof(why));
    s3_xml_writer_init(&w, &pool);

    switch (data[0] % 5) {
    case 0: {
        s3_objectlock_config_t c, again;
        if ((ret = s3_objectlock_parse_config(&pool, in, &c, &why)) != 0) {
            check_refused(ret, &why);
            break;
        }
        if (c.mode != S3_LOCK_NONE && (c.days == 0) == (c.years == 0))
            abort();
        s3_objectlock_write_config(&w, &c);
        if (s3_objectlock_parse_config(&pool, s3_xml_writer_result(&w), &again, NULL) != 0 || again.mode != c.mode ||
            again.days != c.days || again.years != c.years)
            abort();
        s3_retention_t r;
        s3_objectlock_default_retention(&c, NOW, &r);
        if (r.mode != c.mode || (r.mode != S3_LOCK_NONE && r.retain_until_ns <= NOW))
            abort();
        break;
    }
    case 1: {
        s3_retention_t r, again;
        if ((ret = s3_objectlock_parse_retention(&pool, in, NOW, &r, &why)) != 0) {
            check_refused(ret, &why);
            break;
        }
        if (r.mode == S3_LOCK_NONE)
            break;
        if (r.retain_until_ns <= NOW)
            abort();
        s3_objectlock_write_retention(&w, &r);
        /* the writer keeps milliseconds: compare at that precision */
        if (s3_objectlock_parse_retention(&pool, s3_xml_writer_result(&w), NOW, &again, NULL) == 0 &&
            (again.mode != r.mode || again.retain_until_ns / 1000000 != r.retain_until_ns / 1000000))
            abort();
        break;
    }
    case 2: {
        s3_legal_hold_t h, again;
        if ((ret = s3_objectlock_parse_legal_hold(&pool, in, &h, &why)) != 0) {
            check_refused(ret, &why);
            break;
        }
        s3_objectlock_write_legal_hold(&w, h);
        if (s3_objectlock_parse_legal_hold(&pool, s3_xml_writer_result(&w), &again, NULL) != 0 || again != h)
            abort();
        break;
    }
    case 3: {
        s3_objectlock_headers_t h;
        s3_retention_t r;
        s3_legal_hold_t hold;
        h.mode = field(&in);
        h.retain_until_date = field(&in);
        h.legal_hold = field(&in);
        if ((ret = s3_objectlock_parse_headers(&h, NOW, &r, &hold, &why)) != 0) {
            check_refused(ret, &why);
            if (r.mode != S3_LOCK_NONE || hold != S3_LEGAL_HOLD_UNSET)
                abort();
        } else if ((r.mode == S3_LOCK_NONE) != (h.mode.base == NULL) ||
                   (r.mode != S3_LOCK_NONE && r.retain_until_ns <= NOW)) {
            abort();
        }
        (void)s3_objectlock_bypass_requested(in);
        break;
    }
    case 4:
        if (in.len >= 12)
            decisions((const uint8_t *)in.base);
        break;
    }
    free(copy);
    h2o_mem_clear_pool(&pool);
    return 0;
}
