/* client_internal.h — what the client transports and the yc-store daemon share: the transport
 * table behind store_client_t, and the pieces of the wire format both ends compute the same
 * way (request signing; byte order and hex come from common/bytes.h). The wire format itself is
 * described in client_net.c.
 */
#ifndef YC_STORE_CLIENT_INTERNAL_H
#define YC_STORE_CLIENT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "common/bytes.h"
#include "store/client.h"

typedef struct {
    void (*free)(store_client_t *c);
    int (*ping)(store_client_t *c);
    int (*shard_create)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index,
                        store_client_writer_t **out);
    int (*shard_append)(store_client_writer_t *w, const void *block, size_t len);
    int (*shard_commit)(store_client_writer_t *w);
    void (*shard_abort)(store_client_writer_t *w);
    int (*shard_read)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off, size_t len,
                      void *buf);
    int (*shard_stat)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size);
    int (*shard_delete)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index);
    int (*shard_verify)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index);
    int (*object_put)(store_client_t *c, const meta_object_t *r);
    int (*object_prune)(store_client_t *c, const meta_object_t *keep);
    int (*object_put_begin)(store_client_t *c, const meta_object_t *r, meta_waiter_t *w,
                            store_put_t **out); /* may be NULL */
    int (*object_put_end)(store_client_t *c, store_put_t *p);
    int (*object_put_wait)(store_client_t *c, store_put_t *p);                     /* with object_put_begin */
    int (*object_put_end_settled)(store_client_t *c, store_put_t *p, int *pruned); /* with object_put_begin */
    int (*object_prune_light)(store_client_t *c, const meta_object_t *keep);       /* may be NULL */
    int (*object_takeback)(store_client_t *c, const meta_object_t *r);
    int (*object_update)(store_client_t *c, const meta_object_t *r);
    int (*object_get)(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, meta_buf_t *raw,
                      meta_object_t *out);
    int (*object_delete)(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid);
    int (*record_put)(store_client_t *c, const meta_key_t *key, const void *val, size_t vlen);
    int (*record_get)(store_client_t *c, const meta_key_t *key, void **val, size_t *vlen);
    int (*record_delete)(store_client_t *c, const meta_key_t *key);
    /* newest: 0 every record, 1 each key's newest ones, 2 those of live keys with skip notes */
    int (*record_scan)(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit, int newest,
                       meta_scan_cb cb, void *arg);
    int (*lock_acquire)(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns);
    int (*lock_release)(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN]);
    int (*identity)(store_client_t *c, const store_identity_info_t *placement, store_identity_info_t *out);
    int (*link_problem)(store_client_t *c, char *buf, size_t len); /* may be NULL: none */
    /* Split calls for the batches (store_client_*_batch), NULL where a transport has none: _send
     * puts the request on its way and returns the call in flight (NULL when it could not: the
     * batch then makes the whole call), _recv awaits its answer and frees it. */
    void *(*record_get_send)(store_client_t *c, const meta_key_t *key);
    int (*record_get_recv)(store_client_t *c, void *pending, void **val, size_t *vlen);
    void *(*object_put_send)(store_client_t *c, const meta_object_t *r);
    void *(*object_prune_send)(store_client_t *c, const meta_object_t *keep);
    int (*object_put_recv)(store_client_t *c, void *pending); /* for either */
    void *(*shard_read_send)(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                             size_t len, void *buf);
    int (*shard_read_recv)(store_client_t *c, void *pending);
    void *(*shard_append_send)(store_client_writer_t *w, const void *block, size_t len);
    int (*shard_append_recv)(store_client_writer_t *w, void *pending);
} store_client_ops_t;

/* Every transport's client starts with this, and every writer with store_client_writer. */
struct store_client {
    const store_client_ops_t *ops;
    char name[320];
    int fence; /* 0, or the code every call fails with (store_client_fence); atomic */
};

struct store_client_writer {
    store_client_t *client;
};

/* ---- wire format pieces ---- */

#define STORE_NET_DRIVE_NAME_MAX 64                  /* [A-Za-z0-9._-]{1,64} */
#define STORE_NET_SKEW_SECONDS   300                 /* accepted distance of x-yc-date from now */
#define STORE_NET_SIG_HEX        64                  /* hex of an HMAC-SHA256 */
#define STORE_NET_NONCE_HEX      32                  /* hex of 16 bytes */
#define STORE_NET_TOKEN_HEX      32                  /* hex of a 16-byte writer token */
#define STORE_NET_MAX_BODY       (64u * 1024 * 1024) /* largest request or response body */
#define STORE_NET_SCAN_PAGE      1000                /* records per scan answer at most */
#define STORE_NET_SCAN_BYTES     (1024u * 1024)      /* and about this many bytes */

#define STORE_NET_DRIVE_ID_HEX     32 /* x-yc-drive-id: hex of the target drive's 16-byte id */
#define STORE_NET_TAG_LEN          16 /* the Poly1305 tag that ends every answer body */
#define STORE_NET_ANSWER_NONCE_LEN 16 /* x-yc-answer-nonce: 32 hex digits */

typedef struct store_net_key store_net_key_t;

/* x-yc-signature of a request: hex HMAC-SHA256(secret, method "\n" path "\n" date "\n" nonce
 * "\n" body_sha256_hex), with path as sent (query included), and "\n" drive_id_hex appended when
 * the request is bound to a drive (drive_id_hex: 32 hex digits, or NULL for the few unbound
 * requests); secret is the cluster secret's key (store_net_key_new). out gets 64 hex digits and
 * a NUL. */
void store_net_sign(const store_net_key_t *secret, const char *method, size_t method_len, const char *path,
                    size_t path_len, const char *date, size_t date_len, const char *nonce, size_t nonce_len,
                    const char body_sha256_hex[64], const char *drive_id_hex, char out[STORE_NET_SIG_HEX + 1]);

/* ---- answer authentication (net_mac.c, which argues the construction) ---- */

typedef struct store_net_mac store_net_mac_t;

/* HMAC-SHA256 of the n pieces under key: 0, or -1 when OpenSSL fails. */
int store_net_hmac(const uint8_t *key, size_t key_len, const void *const *parts, const size_t *lens, size_t n,
                   uint8_t out[32]);
/* A long-lived HMAC-SHA256 key, set up once and shared by threads: 0, -ENOMEM or STORE_EIO. */
int store_net_key_new(const uint8_t *key, size_t key_len, store_net_key_t **out);
void store_net_key_free(store_net_key_t *k);
/* HMAC-SHA256 of the n pieces under k: 0, or -1 when OpenSSL fails. */
int store_net_key_hmac(const store_net_key_t *k, const void *const *parts, const size_t *lens, size_t n,
                       uint8_t out[32]);
/* The answers' key of a cluster secret (both ends make it once): 0, -ENOMEM or STORE_EIO. */
int store_net_answer_key_new(const uint8_t *secret, size_t secret_len, store_net_key_t **out);
/* Starts the tag of one answer: the key from answer_key, the request's signature as sent and
 * the answer's nonce; then status, code and the payload's length. NULL when OpenSSL fails (update
 * ignores it, end then fails). _end writes the tag and frees; _free drops an unfinished one. */
store_net_mac_t *store_net_mac_begin(const store_net_key_t *answer_key, const char *req_sig, size_t req_sig_len,
                                     const uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN], int status, int code,
                                     uint64_t payload_len);
void store_net_mac_update(store_net_mac_t *m, const void *p, size_t len);
int store_net_mac_end(store_net_mac_t *m, uint8_t tag[STORE_NET_TAG_LEN]);
void store_net_mac_free(store_net_mac_t *m);
/* The three in one call, for an answer whose payload is in one piece. */
int store_net_answer_tag(const store_net_key_t *answer_key, const char *req_sig, size_t req_sig_len,
                         const uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN], int status, int code, const void *payload,
                         size_t len, uint8_t tag[STORE_NET_TAG_LEN]);
/* Hex SHA-256 of the concatenation of n buffers; out gets 64 hex digits and a NUL. */
void store_net_body_hash(const void *const *bufs, const size_t *lens, size_t n, char out[65]);
/* A drive name as the daemon accepts it. */
int store_net_drive_name_ok(const char *name, size_t len);
/* Hands one scan answer page p[0..len) (a "more" byte, then le32 key length, key, le32 value
 * length, value per record) to cb. 1 when the scan is over (cb stopped it, *seen reached limit,
 * or the daemon had no more), 0 to fetch the next page after *last; STORE_EIO or STORE_ECORRUPT
 * for a page the client cannot read (tests/fuzz/fuzz_store_answer.c). */
int store_net_scan_deliver(const uint8_t *p, size_t len, size_t limit, size_t *seen, meta_scan_cb cb, void *arg,
                           meta_key_t *last, int *cb_ret);

#endif
