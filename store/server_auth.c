/* server_auth.c — the yc-store daemon's authentication of a request: the cluster secret's HMAC
 * over method, target, date, nonce, the body's SHA-256 as the head declares it
 * (x-yc-content-sha256; client_net.c has the wire format) and the id of the drive it is for
 * (x-yc-drive-id), a date within ±5 minutes, and a signature accepted once. It is checked from
 * the head alone, before any of the body is read.
 *
 * Why the drive's id. Drive names repeat across nodes ("a", "b" on every node), and the replay
 * cache is per daemon: a request captured on its way to one node, sent within its 5 minutes to
 * another, would pass there. The drive id is random per drive (store/identity.c) and fixed for
 * its life, so a request signed for one drive verifies on no other, on any node. A gateway
 * learns the id from the drive's identity answer, which is authenticated like every answer
 * (net_mac.c); the few calls that come before it — a ping, that identity read, GET /stats — are
 * taken unbound: none changes anything or tells anything a replay could misuse. Placing a fresh
 * drive is bound too (to the id it just gave), so a captured placement cannot place another.
 * A refusal for another drive is 401 with STORE_EIDENTITY, so that a gateway whose drive was
 * replaced under the same name can learn the new id (its health prober decides whether that
 * drive may be used).
 *
 * Why checking the head first is as sound as hashing the body first. The signature covers the
 * declared hash, so only a holder of the cluster secret can produce a head that passes, and
 * only for that one hash; the body is then accepted only if its SHA-256 is that hash, which
 * nobody can meet with other bytes (SHA-256's second-preimage resistance). Both together prove
 * what the old order proved — this body was sent by a holder of the secret — and the head check
 * alone already decides everything an anonymous client could make us spend: a refused request
 * gets its 401 with none of its body taken in (at most what arrived in the packets of its head
 * sits in the HTTP layer's input buffer, and is dropped), no worker, no disk. What changes is
 * that an accepted head's body is only known good at its end, so nothing may act on it before:
 * small bodies are held in memory and their operation runs after the check (server.c); a shard
 * block is written as it streams, but into the writer's temp file only, which no reader sees
 * until commit, and a mismatch drops the block and aborts the whole writer, so its file goes and
 * no record ever names it (server_stream.c). The hash is length-bound (a different length is a
 * different hash), so Content-Length needs no signature of its own. The signature enters the
 * replay cache when the head is accepted: a captured head cannot be used a second time, with its
 * own body or another. An attacker on the path can still spoil one genuine request by changing
 * its body in flight (it fails and is rolled back), which is no more than dropping its packets.
 *
 * Replay cache: a signature is accepted once. Accepted dates lie within ±5 minutes, so a
 * signature only has to be remembered while its date is inside the window: signatures are
 * kept in 12 generations, one per minute of their x-yc-date (the slot minute % 12 is recycled
 * only once the minute it held can no longer be accepted). A generation is an open-addressing
 * set of 64-bit fingerprints (the first 8 bytes of the HMAC, uniformly random to anyone
 * without the secret). Memory follows the request rate and is capped: past the cap requests
 * are refused with 503 rather than admitted unchecked.
 *
 * Runs on the loops: an HMAC over a head is small, fixed work; the body hash is the workers'.
 */
#include "store/server_internal.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
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

static int is_hex(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

void store_server_note_signature(store_srv_job_t *j, const yc_http_req_t *req)
{
    const h2o_iovec_t *hs = yc_http_header(req, "x-yc-signature");
    size_t n = hs == NULL ? 0 : hs->len < sizeof(j->req_sig) ? hs->len : sizeof(j->req_sig);

    if (n > 0)
        memcpy(j->req_sig, hs->base, n);
    j->req_sig_len = n;
}

int store_server_authenticate(store_server_t *s, const yc_http_req_t *req, store_srv_job_t *j, const char **why)
{
    static const h2o_iovec_t none = {NULL, 0};
    const h2o_iovec_t *hd = yc_http_header(req, "x-yc-date"), *hn = yc_http_header(req, "x-yc-nonce");
    const h2o_iovec_t *hs = yc_http_header(req, "x-yc-signature"), *hh = yc_http_header(req, "x-yc-content-sha256");
    const h2o_iovec_t *hi = yc_http_header(req, "x-yc-drive-id");
    h2o_iovec_t date = hd != NULL ? *hd : none, nonce = hn != NULL ? *hn : none;
    h2o_iovec_t sig = hs != NULL ? *hs : none, hash = hh != NULL ? *hh : none;
    char expect[STORE_NET_SIG_HEX + 1], drive_hex[STORE_NET_DRIVE_ID_HEX + 1];
    int64_t d = 0;
    uint8_t fp_raw[8];

    if (date.len == 0 || date.len > 12 || nonce.len != STORE_NET_NONCE_HEX || sig.len != STORE_NET_SIG_HEX ||
        hash.len != 64 || !is_hex(nonce.base, nonce.len) || !is_hex(hash.base, hash.len) ||
        (hi != NULL && (hi->len != STORE_NET_DRIVE_ID_HEX || !is_hex(hi->base, hi->len)))) {
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
    memcpy(j->body_sha256, hash.base, 64);
    j->body_sha256[64] = '\0';
    if (hi != NULL) {
        memcpy(drive_hex, hi->base, STORE_NET_DRIVE_ID_HEX);
        drive_hex[STORE_NET_DRIVE_ID_HEX] = '\0';
    }
    store_net_sign(s->sign_key, req->method.base, req->method.len, req->target.base, req->target.len, date.base,
                   date.len, nonce.base, nonce.len, j->body_sha256, hi != NULL ? drive_hex : NULL, expect);
    if (CRYPTO_memcmp(expect, sig.base, STORE_NET_SIG_HEX) != 0) {
        *why = "bad_signature";
        return STORE_EAUTH;
    }
    if (hi != NULL) {
        j->bound = 1;
        yc_unhex(drive_hex, STORE_ID_LEN, j->bound_id); /* checked hex above */
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

int store_server_check_drive(const store_srv_job_t *j, const char **why)
{
    if (j->bound && j->drive != NULL) {
        if (CRYPTO_memcmp(j->bound_id, j->drive->drive_id, STORE_ID_LEN) == 0)
            return 0;
        *why = "wrong_drive";
        return STORE_EIDENTITY;
    }
    /* Unbound: only what neither changes a drive nor depends on which one it is — a ping, the
     * identity read that tells a gateway which drive this is (so it can bind what follows), the
     * daemon's counters. Everything else replayed on another node must fail. */
    if (j->op == STORE_OP_PING || j->op == STORE_OP_STATS ||
        (j->op == STORE_OP_IDENTITY && j->req->content_length == 0))
        return 0;
    *why = "unbound";
    return STORE_EAUTH;
}

/* ---------------------------------------------------------------- the body's hash */

void *store_body_hash_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

void store_body_hash_update(void *ctx, const void *p, size_t len)
{
    if (len > 0)
        EVP_DigestUpdate(ctx, p, len);
}

int store_body_hash_matches(void *ctx, const char declared[65])
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    char hex[65];
    int ok = EVP_DigestFinal_ex(ctx, digest, &dlen) == 1 && dlen == sizeof(digest);

    EVP_MD_CTX_free(ctx);
    if (!ok)
        return 0;
    yc_hex(digest, sizeof(digest), hex);
    return CRYPTO_memcmp(hex, declared, 64) == 0;
}

void store_body_hash_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}
