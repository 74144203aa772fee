/* server_auth.c — the yc-store daemon's authentication of a request: the cluster secret's HMAC
 * over method, target, date, nonce and body hash (client_net.c has the wire format), a date
 * within ±5 minutes, and a signature accepted once.
 *
 * Replay cache: a signature is accepted once. Accepted dates lie within ±5 minutes, so a
 * signature only has to be remembered while its date is inside the window: signatures are
 * kept in 12 generations, one per minute of their x-yc-date (the slot minute % 12 is recycled
 * only once the minute it held can no longer be accepted). A generation is an open-addressing
 * set of 64-bit fingerprints (the first 8 bytes of the HMAC, uniformly random to anyone
 * without the secret). Memory follows the request rate and is capped: past the cap requests
 * are refused with 503 rather than admitted unchecked.
 *
 * Runs on the workers: the body hash is proportional to a block.
 */
#include "store/server_internal.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLAY_GEN_SLOTS_MAX (1u << 22) /* 4M slots (32 MiB) per minute of dates, 2M signatures */

/* ---------------------------------------------------------------- replay cache */

void store_replay_init(store_replay_t *r)
{
    pthread_mutex_init(&r->mutex, NULL);
    for (size_t i = 0; i < STORE_REPLAY_GENERATIONS; i++)
        r->gens[i] = (store_replay_gen_t){.minute = -1};
}

void store_replay_dispose(store_replay_t *r)
{
    for (size_t i = 0; i < STORE_REPLAY_GENERATIONS; i++)
        free(r->gens[i].slots);
}

/* 1 when fp was already accepted for this date's minute, 0 when it is recorded now, -1 when
 * the cache is full or out of memory. */
static int replay_check_insert(store_replay_t *r, int64_t date, uint64_t fp)
{
    int64_t minute = date / 60;
    store_replay_gen_t *g = &r->gens[(size_t)(minute % STORE_REPLAY_GENERATIONS)];
    int ret = -1;

    fp |= 1; /* 0 marks an empty slot */
    pthread_mutex_lock(&r->mutex);
    if (g->minute != minute) {
        /* the minute this slot held is outside the window by now (see the file comment) */
        free(g->slots);
        *g = (store_replay_gen_t){.minute = minute};
    }
    if (g->cap == 0 || (g->count + 1) * 2 > g->cap) {
        size_t ncap = g->cap == 0 ? 1024 : g->cap * 2;
        uint64_t *ns;
        if (ncap > REPLAY_GEN_SLOTS_MAX || (ns = calloc(ncap, sizeof(*ns))) == NULL)
            goto done;
        for (size_t i = 0; i < g->cap; i++) {
            if (g->slots[i] == 0)
                continue;
            size_t j = (size_t)(g->slots[i] >> 7) & (ncap - 1);
            while (ns[j] != 0)
                j = (j + 1) & (ncap - 1);
            ns[j] = g->slots[i];
        }
        free(g->slots);
        g->slots = ns;
        g->cap = ncap;
    }
    size_t j = (size_t)(fp >> 7) & (g->cap - 1);
    while (g->slots[j] != 0) {
        if (g->slots[j] == fp) {
            ret = 1;
            goto done;
        }
        j = (j + 1) & (g->cap - 1);
    }
    g->slots[j] = fp;
    g->count++;
    ret = 0;
done:
    pthread_mutex_unlock(&r->mutex);
    return ret;
}

/* ---------------------------------------------------------------- authentication */

static h2o_iovec_t header_of(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

static int is_hex(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

int store_server_authenticate(store_server_t *s, h2o_req_t *req, const char **why)
{
    h2o_iovec_t date = header_of(req, H2O_STRLIT("x-yc-date"));
    h2o_iovec_t nonce = header_of(req, H2O_STRLIT("x-yc-nonce"));
    h2o_iovec_t sig = header_of(req, H2O_STRLIT("x-yc-signature"));
    char body_hash[65], expect[STORE_NET_SIG_HEX + 1];
    int64_t d = 0;
    uint8_t fp_raw[8];

    if (date.len == 0 || date.len > 12 || nonce.len != STORE_NET_NONCE_HEX || sig.len != STORE_NET_SIG_HEX ||
        !is_hex(nonce.base, nonce.len)) {
        *why = "missing_headers";
        return STORE_EAUTH;
    }
    for (size_t i = 0; i < date.len; i++) {
        if (date.base[i] < '0' || date.base[i] > '9') {
            *why = "bad_date";
            return STORE_EAUTH;
        }
        d = d * 10 + (date.base[i] - '0');
    }
    int64_t now = (int64_t)time(NULL);
    if (d < now - STORE_NET_SKEW_SECONDS || d > now + STORE_NET_SKEW_SECONDS) {
        *why = "clock_skew";
        return STORE_EAUTH;
    }
    const void *body = req->entity.base != NULL ? req->entity.base : "";
    size_t body_len = req->entity.base != NULL ? req->entity.len : 0;
    store_net_body_hash(&body, &body_len, 1, body_hash);
    store_net_sign(s->secret, s->secret_len, req->input.method.base, req->input.method.len, req->input.path.base,
                   req->input.path.len, date.base, date.len, nonce.base, nonce.len, body_hash, expect);
    if (CRYPTO_memcmp(expect, sig.base, STORE_NET_SIG_HEX) != 0) {
        *why = "bad_signature";
        return STORE_EAUTH;
    }
    /* the signature matched, so it is valid hex */
    yc_unhex(sig.base, sizeof(fp_raw), fp_raw);
    switch (replay_check_insert(&s->replay, d, yc_get_le64(fp_raw))) {
    case 0:
        return 0;
    case 1:
        *why = "replay";
        return STORE_EAUTH;
    default:
        *why = "replay_cache_full";
        return STORE_EIO;
    }
}
