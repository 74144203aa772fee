/* net_conn_internal.h — the network transport's connections to one yc-store daemon and the
 * signed HTTP/1.1 exchange of one call over them (net_conn.c). The operations and their wire
 * encoding are client_net.c's, which is the only user.
 */
#ifndef YC_STORE_NET_CONN_INTERNAL_H
#define YC_STORE_NET_CONN_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "store/client_internal.h"

#define STORE_NET_TARGET_MAX 256 /* longest request target, query included */

typedef struct store_net_conn store_net_conn_t;

/* One request and its answer. */
typedef struct {
    const char *method;
    char target[STORE_NET_TARGET_MAX];
    const void *body[2]; /* the body: up to two pieces sent one after the other */
    size_t body_len[2];
    int idempotent;           /* may be sent twice without changing the outcome */
    const char *drive_id_hex; /* the drive the request is bound to (32 hex digits); NULL: unbound */
    void *dst;                /* when set, a 200 answer must be exactly dst_len bytes, read into dst */
    size_t dst_len;
    /* answer */
    int status;
    int code;
    uint8_t *resp; /* malloc'd answer body when dst is NULL */
    size_t resp_len;
    /* in flight between store_net_call_start and _finish */
    int pending; /* the request went out on fd */
    int fd;
    void *ssl;  /* the connection's SSL when internode TLS is on */
    int reused; /* fd came from the pool */
    char sig[STORE_NET_SIG_HEX + 1];
} store_net_call_t;

/* What the client reads of a daemon's answer head. */
typedef struct {
    int status;
    int code; /* x-yc-error: a negative store code, 0 when absent */
    int has_length;
    uint64_t length;
    int close;
    int has_nonce; /* x-yc-answer-nonce, the key of the answer's tag (net_mac.c) */
    uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN];
} store_net_answer_head_t;

/* Parses "HTTP/1.x SSS reason\r\n" and the header lines of head[0..len) (without the blank
 * line): 0, or STORE_EIO for an answer the client cannot read (tests/fuzz/fuzz_store_answer.c). */
int store_net_parse_head(const char *head, size_t len, store_net_answer_head_t *out);

/* Resolves cfg->host now (STORE_EUNREACHABLE when it cannot), copies the secret and sets up an
 * empty pool of connections; nothing connects until the first call. cfg->drive is not used. */
int store_net_conn_open(const store_remote_config_t *cfg, store_net_conn_t **out);
void store_net_conn_close(store_net_conn_t *c);
/* Makes every wait of a call end (the call failing) as soon as *fence, the owning client's fence
 * (store_client_fence), is non-zero. Set once, before the first call. */
void store_net_conn_watch(store_net_conn_t *c, const int *fence);
/* Answers refused so far because their tag did not check (forged, replayed, damaged). */
uint64_t store_net_conn_forged(const store_net_conn_t *c);
/* 1 with buf set to one line when the last connection to the daemon failed for a reason of TLS
 * (or looked like a daemon speaking TLS to this cleartext side), until a call succeeds; else 0. */
int store_net_conn_link_problem(store_net_conn_t *c, char *buf, size_t len);
/* "host:port" ("[v6]:port") as the Host header names the daemon. */
const char *store_net_conn_host(const store_net_conn_t *c);

/* Runs one call. Returns 0 with call->resp (when dst is NULL) on a 200 answer, the daemon's code
 * for any other answer, or the transport's failure. Every answer's tag is checked before any of
 * it is believed: one without a tag, or whose tag is not the cluster's for this very request, is
 * STORE_EIO (its bytes may already sit in dst: the caller must not use them). A call that failed on a reused connection
 * before any answer byte arrived is sent once more on a fresh one when it is idempotent. Worker
 * threads only: blocks on the network. */
int store_net_call(store_net_conn_t *c, store_net_call_t *call);
/* store_net_call in two halves, so that one thread has the requests of many calls in flight at
 * once (the round trips overlap without a thread per call): _start sends the request on a
 * connection of the pool and returns without waiting; _finish reads and checks the answer, with
 * store_net_call's result. A request that could not be sent is made whole by _finish. Every
 * started call must be finished (it holds a connection); the call and its buffers stay the
 * caller's until then. Worker threads only. */
void store_net_call_start(store_net_conn_t *c, store_net_call_t *call);
int store_net_call_finish(store_net_conn_t *c, store_net_call_t *call);
/* Frees the answer of a call and clears it, so that the call can be run again. */
void store_net_call_reset(store_net_call_t *call);

#endif
