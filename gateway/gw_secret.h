/* gw_secret.h — access keys' secrets sealed at rest under the cluster's secrets key.
 *
 * An access key's 'I' record (gw_iam.h) is replicated to every drive and comes back in every
 * drive's scan answers, so its secret is stored sealed, never in cleartext:
 *
 *   0x00 'S' 0x01 | key id (8) | nonce (12) | ciphertext | tag (16)
 *
 * AES-256-GCM (OpenSSL EVP) under a subkey of one cluster key (HMAC-SHA256(key, "yuncang
 * iam-secret seal v1"): the configured key itself never touches a record), with the 23 header
 * bytes and the record's key name as associated data, so a sealed secret moved to another access
 * key's record, or given another key id, fails to open. A secret is text (the admin API and IAM
 * make printable secrets), so its first byte is never 0x00: records written before sealing existed
 * read as cleartext, and are sealed when next written (or by a re-seal of all records).
 *
 * Keys are versioned: a key file holds one key a line (64 hex digits, '#' comments), the last one
 * current; the environment variable holds the same, separated by blanks or commas. A key's id is the
 * first 8 bytes of HMAC-SHA256(key, "yuncang secrets key id"): it names the key without telling
 * anything of it, and a wrong key has another id, so "sealed under a key this gateway lacks" is
 * told apart from "tampered with". Old keys stay in the file while records sealed under them
 * remain; a re-seal moves every record to the current key, after which they can be dropped.
 *
 * Thread safety: every call may be made from any thread; a reload takes a write lock.
 */
#ifndef YC_GW_SECRET_H
#define YC_GW_SECRET_H
#include <stddef.h>
#include <stdint.h>
#include "gateway/gw_config.h"

typedef struct gw_secret_keys gw_secret_keys_t;

#define GW_SECRET_KEY_ID_LEN 8
#define GW_SECRET_HEAD_LEN   (3 + GW_SECRET_KEY_ID_LEN + 12)
#define GW_SECRET_TAG_LEN    16
/* bytes of the sealed form of a secret of n bytes */
#define GW_SECRET_SEALED_LEN(n) (GW_SECRET_HEAD_LEN + (size_t)(n) + GW_SECRET_TAG_LEN)
#define GW_SECRET_KEYS_MAX      64 /* keys one source may hold */

/* Reads the keys the configuration names: secrets_key_file, else the variable named by
 * secrets_key_env, else (embedded default) data_dir/secrets.keys, made with one random key (mode
 * 0600) when the gateway owns its drives (no drives_list) and read when it exists. With none of
 * these, *out holds no key: secrets are then written in cleartext, as before sealing (documented in
 * docs/operations.md). 0, or -EINVAL with a message in err (a file that cannot be read, a line that
 * is not a key). The keys remember their source for gw_secret_keys_reload. Caller frees. */
int gw_secret_keys_load(const gw_config_t *cfg, gw_secret_keys_t **out, char *err, size_t errlen);

/* Keys from text (the file's or the variable's form, above); for tests and tools. 0 or -EINVAL. */
int gw_secret_keys_parse(const char *text, size_t len, gw_secret_keys_t **out);

/* Reads the source again (a key appended to the file becomes current). 0, or -EINVAL with err;
 * the keys held before stay in force on failure. Keys from text have nothing to reload: 0. */
int gw_secret_keys_reload(gw_secret_keys_t *k, char *err, size_t errlen);

void gw_secret_keys_free(gw_secret_keys_t *k);

/* How many keys are held (0: none configured). */
size_t gw_secret_keys_count(gw_secret_keys_t *k);

/* The id of the key at index i (0 oldest, count-1 current) as 16 hex digits and a NUL; -ENOENT
 * past the end. */
int gw_secret_keys_id_hex(gw_secret_keys_t *k, size_t i, char out[2 * GW_SECRET_KEY_ID_LEN + 1]);

/* Where the keys come from, for messages ("file /etc/yuncang/secrets.keys", "environment variable
 * YC_SECRETS_KEY", "no key configured"). Borrowed for the keys' lifetime. */
const char *gw_secret_keys_source(gw_secret_keys_t *k);

/* 1 when stored (a record's secret field) is in the sealed form (its first byte 0x00), else 0. */
int gw_secret_is_sealed(const void *stored, size_t len);

/* The key id of a sealed secret as 16 hex digits; -EINVAL when it is too short to be one. */
int gw_secret_sealed_key_hex(const void *sealed, size_t len, char out[2 * GW_SECRET_KEY_ID_LEN + 1]);

/* Seals secret[0..len) for the record named name[0..name_len) under the current key into out
 * (cap bytes, GW_SECRET_SEALED_LEN(len) needed). 0 with *out_len, -ENOKEY when no key is held,
 * -ENOBUFS when cap is short, -EIO when the cipher fails. */
int gw_secret_seal(gw_secret_keys_t *k, const void *name, size_t name_len, const char *secret, size_t len, uint8_t *out,
                   size_t cap, size_t *out_len);

/* Opens a sealed secret of the record name into out (cap bytes; a NUL is added after the secret).
 * 0 with *out_len; -EINVAL when sealed is not of the sealed form, -ENOKEY when its key id is none
 * of the keys held, -EBADMSG when it does not authenticate (another record's, altered, or a key
 * whose id collides), -ENOBUFS when cap is short. out is wiped on failure. */
int gw_secret_open(gw_secret_keys_t *k, const void *name, size_t name_len, const void *sealed, size_t len, char *out,
                   size_t cap, size_t *out_len);

/* Generates a new random key as 64 hex digits and a NUL (for yc-admin secrets keygen); 0 or -EIO. */
int gw_secret_key_generate(char out[65]);

/* The id of the key given as 64 hex digits, as 16 hex digits; -EINVAL when hex is no key. */
int gw_secret_key_id_of_hex(const char *hex, size_t len, char out[2 * GW_SECRET_KEY_ID_LEN + 1]);

#endif
