/* fuzz_store_answer.c — the store client's reading of a yc-store daemon's answers
 * (store/net_conn.c, store/client_net.c): the answer head and a page of a record scan. A daemon
 * may be another version, broken or impersonated: nothing it sends may crash the gateway.
 *
 * Input: one selector byte (even: a head, odd: a scan page), then the bytes. A head that parses
 * must name a status of three digits, a length, and an error code in -4096..0 (its
 * x-yc-answer-nonce, when it has one, is exactly 16 bytes of hex); a scan page that
 * parses must have handed over only records lying inside it, with keys of at most
 * META_ENCODED_KEY_MAX bytes, and a next-page key that is the last one handed over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/net_conn_internal.h"

typedef struct {
    const uint8_t *page;
    size_t len, records, stop_at;
    meta_key_t last_seen;
} seen_t;

static int on_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    seen_t *s = arg;
    if (key < s->page || key + klen > s->page + s->len || val < s->page || val + vlen > s->page + s->len ||
        klen > META_ENCODED_KEY_MAX)
        abort();
    memcpy(s->last_seen.buf, key, klen);
    s->last_seen.len = klen;
    return ++s->records == s->stop_at ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* a copy of its own size keeps reads past the answer visible to ASan */
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        store_net_answer_head_t h;
        if (store_net_parse_head((const char *)buf, size - 1, &h) == 0) {
            if (h.status < 0 || h.status > 999 || !h.has_length || h.code > 0 || h.code < -4096)
                abort();
        }
    } else {
        seen_t s = {buf, size - 1, 0, data[0] >> 1};
        meta_key_t last = {.len = 0};
        size_t seen = 0;
        int cb_ret = 0;
        int ret = store_net_scan_deliver(buf, size - 1, data[0] & 0x40 ? 3 : 0, &seen, on_record, &s, &last, &cb_ret);
        if (ret == 0 && (s.records == 0 || last.len != s.last_seen.len || memcmp(last.buf, s.last_seen.buf, last.len)))
            abort(); /* "fetch the next page" must follow the last record handed over */
        if (ret != 0 && ret != 1 && ret != STORE_EIO && ret != STORE_ECORRUPT)
            abort();
    }
    free(buf);
    return 0;
}
