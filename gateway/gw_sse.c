/* gw_sse.c — server-side encryption: request headers, master keys, the encrypting source of a
 * write and the decrypting reads of a GET (design in gw_sse.h).
 *
 * An object's data is one or more parts (a single PUT: part 1); each part is a run of sealed
 * blocks under a key derived from the object's data key and the part's number, bound to the
 * part's plaintext size. A part's plaintext size follows from its stored size (each block adds
 * one tag), so part references need nothing new.
 */
#include "gateway/gw_sse.h"
#include "gateway/gw_authz.h"
#include "gateway/gw_cluster.h"
#include "gateway/gw_kms.h"
#include "common/bigbuf.h"
#include "common/bytes.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORMAT 1
/* An object written before its size was known (a form's file followed by other fields): its
 * blocks are sealed with the size GW_SIZE_UNKNOWN in place of the plaintext's, and the attribute
 * ends with a tag of the size under the data key, made at commit (SIZE_TAG_LEN bytes). */
#define FORMAT_SIZE_AT_COMMIT 2
#define SIZE_TAG_LEN          32
#define MAX_VERSIONS          64
#define SALT_LEN              16
#define CHECK_LEN             32
#define HEAD_LEN              7 /* format, kind, suite, key version */
/* SSE-KMS material: the wrapped key, the KMS key's version, its id's length and the id */
#define KMS_FIXED    (GW_SSE_WRAPPED_LEN + 4 + 1)
#define MATERIAL_MAX (KMS_FIXED + GW_KMS_KEY_ID_MAX)

struct gw_sse_keys {
    uint32_t count; /* versions 1..count; count is current */
    uint8_t key[MAX_VERSIONS][32];
};

static const char MSG_NOT_APPLICABLE[] = "The encryption parameters are not applicable to this object.";
static const char MSG_NEEDS_KEY[] = "The object was stored using a form of Server Side Encryption. The correct "
                                    "parameters must be provided to retrieve the object.";

/* ---------------------------------------------------------------- master keys */

/* 64 hex digits (surrounding blanks ignored) into key. 0, or -1. */
static int parse_hex_key(const char *s, size_t len, uint8_t key[32])
{
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (len != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = yc_hex_digit(s[2 * i]), lo = yc_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int load_file(gw_sse_keys_t *k, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[256];

    if (f == NULL) {
        snprintf(err, errlen, "sse master key file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (k->count == MAX_VERSIONS || parse_hex_key(line, strlen(line), k->key[k->count]) != 0) {
            snprintf(err, errlen, "sse master key file %s: line %u is not 64 hex digits (or too many keys)", path,
                     k->count + 1);
            fclose(f);
            return -1;
        }
        k->count++;
    }
    fclose(f);
    OPENSSL_cleanse(line, sizeof(line));
    if (k->count == 0) {
        snprintf(err, errlen, "sse master key file %s holds no key", path);
        return -1;
    }
    return 0;
}

/* The embedded default: a key generated once into data_dir, readable by the owner only. */
static int load_default(gw_sse_keys_t *k, const char *data_dir, char *err, size_t errlen)
{
    char path[4096], hex[65];
    uint8_t key[32];

    snprintf(path, sizeof(path), "%s/sse-master.key", data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (RAND_bytes(key, 32) != 1) {
            close(fd);
            unlink(path);
            snprintf(err, errlen, "no random bytes for an sse master key");
            return -1;
        }
        yc_hex(key, 32, hex);
        hex[64] = '\n';
        int ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
        close(fd);
        OPENSSL_cleanse(key, sizeof(key));
        OPENSSL_cleanse(hex, sizeof(hex));
        if (!ok) {
            unlink(path);
            snprintf(err, errlen, "cannot write %s", path);
            return -1;
        }
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return load_file(k, path, err, errlen);
}

int gw_sse_keys_load(const gw_config_t *cfg, gw_sse_keys_t **out, char *err, size_t errlen)
{
    gw_sse_keys_t *k = calloc(1, sizeof(*k));
    int ret;

    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (cfg->sse_master_key_file != NULL) {
        ret = load_file(k, cfg->sse_master_key_file, err, errlen);
    } else if (cfg->sse_master_key_env != NULL) {
        const char *v = getenv(cfg->sse_master_key_env);
        ret = v != NULL && parse_hex_key(v, strlen(v), k->key[0]) == 0 ? 0 : -1;
        if (ret != 0)
            snprintf(err, errlen, "environment variable %s does not hold 64 hex digits", cfg->sse_master_key_env);
        k->count = 1;
    } else if (cfg->drives_list != NULL) {
        /* gateways over shared drives must share their master key: a key generated by each
         * would make one gateway's objects unreadable to the others, so there is none, and
         * encrypted writes are refused until one is configured */
        ret = 0;
    } else if (cfg->data_dir != NULL) {
        ret = load_default(k, cfg->data_dir, err, errlen);
    } else {
        snprintf(err, errlen, "set sse_master_key_file or sse_master_key_env");
        ret = -1;
    }
    if (ret != 0) {
        gw_sse_keys_free(k);
        return -EINVAL;
    }
    *out = k;
    return 0;
}

void gw_sse_keys_free(gw_sse_keys_t *k)
{
    if (k == NULL)
        return;
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

/* ---------------------------------------------------------------- request headers */

static h2o_iovec_t header_named(gw_ctx_t *ctx, const char *prefix, const char *rest)
{
    char name[128];
    snprintf(name, sizeof(name), "%s%s", prefix, rest);
    return gw_header(ctx, name);
}

static int refuse(gw_ctx_t *ctx, s3_error_t err, const char *message, const char *arg_prefix, const char *arg_rest,
                  h2o_iovec_t value)
{
    gw_set_error(ctx, err, message);
    if (arg_prefix != NULL) {
        size_t n = strlen(arg_prefix) + strlen(arg_rest);
        char *name = h2o_mem_alloc_pool(&ctx->req->pool, n + 1);
        snprintf(name, n + 1, "%s%s", arg_prefix, arg_rest);
        gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(name, n));
        if (value.base != NULL)
            gw_set_error_field(ctx, "ArgumentValue", value);
    }
    return -1;
}

int gw_sse_parse_customer(gw_ctx_t *ctx, const char *prefix, gw_sse_request_t *out)
{
    h2o_iovec_t alg = header_named(ctx, prefix, "server-side-encryption-customer-algorithm");
    h2o_iovec_t key = header_named(ctx, prefix, "server-side-encryption-customer-key");
    h2o_iovec_t md5 = header_named(ctx, prefix, "server-side-encryption-customer-key-md5");
    uint8_t digest[16];
    size_t len;

    memset(out, 0, sizeof(*out));
    if (alg.base == NULL && key.base == NULL && md5.base == NULL)
        return 0;
    if (alg.base == NULL)
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "Requests specifying Server Side Encryption with Customer provided keys must provide a valid "
                      "encryption algorithm.",
                      prefix, "server-side-encryption", h2o_iovec_init(NULL, 0));
    if (!h2o_memis(alg.base, alg.len, H2O_STRLIT("AES256")))
        return refuse(ctx, S3_ERR_INVALID_ENCRYPTION_ALGORITHM_ERROR,
                      "The encryption request you specified is not valid. The valid value is AES256.", prefix,
                      "server-side-encryption", alg);
    if (key.base == NULL)
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "Requests specifying Server Side Encryption with Customer provided keys must provide an "
                      "appropriate secret key.",
                      prefix, "server-side-encryption", h2o_iovec_init(NULL, 0));
    if (yc_base64_decode(key.base, key.len, out->customer_key, sizeof(out->customer_key), &len) != 0 || len != 32) {
        OPENSSL_cleanse(out->customer_key, sizeof(out->customer_key));
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT, "The secret key was invalid for the specified algorithm.", prefix,
                      "server-side-encryption", h2o_iovec_init(NULL, 0));
    }
    if (md5.base == NULL)
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "Requests specifying Server Side Encryption with Customer provided keys must provide the client "
                      "calculated MD5 of the secret key.",
                      prefix, "server-side-encryption", h2o_iovec_init(NULL, 0));
    uint8_t given[16];
    EVP_Digest(out->customer_key, 32, digest, NULL, EVP_md5(), NULL);
    if (md5.len >= sizeof(out->customer_key_md5) ||
        yc_base64_decode(md5.base, md5.len, given, sizeof(given), &len) != 0 || len != 16 ||
        CRYPTO_memcmp(given, digest, 16) != 0)
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "The calculated MD5 hash of the key did not match the hash that was provided.", prefix,
                      "server-side-encryption", h2o_iovec_init(NULL, 0));
    /* S3 refuses a key sent in the clear; a trusted network may be told to allow it */
    if (!ctx->req->secure && !ctx->env->cfg->sse_c_plain_http)
        return refuse(ctx, S3_ERR_INVALID_REQUEST,
                      "Requests specifying Server Side Encryption with Customer provided keys must be made over a "
                      "secure connection.",
                      NULL, NULL, h2o_iovec_init(NULL, 0));
    memcpy(out->customer_key_md5, md5.base, md5.len);
    out->customer_key_md5[md5.len] = '\0';
    out->kind = GW_SSE_C;
    return 0;
}

/* A write that names no encryption gets its bucket's default (PutBucketEncryption). */
static int apply_bucket_default(gw_ctx_t *ctx, gw_sse_request_t *out)
{
    const gw_bucket_access_t *access;
    int ret = gw_authz_access(ctx, ctx->bucket, ctx->bucket_incarnation, &access);

    if (ret != 0) { /* never store in plaintext what the bucket may require encrypted */
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if (access->sse.alg == S3_SSE_AES256) {
        out->kind = GW_SSE_S3;
    } else if (access->sse.alg == S3_SSE_SM4) {
        out->kind = GW_SSE_SM4;
    } else if (access->sse.alg == S3_SSE_KMS) {
        out->kind = GW_SSE_KMS;
        out->kms_key_id = access->sse.kms_key_id.base != NULL
                              ? h2o_strdup(&ctx->req->pool, access->sse.kms_key_id.base, access->sse.kms_key_id.len)
                              : h2o_iovec_init(H2O_STRLIT(GW_KMS_DEFAULT_KEY));
    }
    return 0;
}

int gw_sse_parse_write(gw_ctx_t *ctx, gw_sse_request_t *out)
{
    h2o_iovec_t sse = gw_header(ctx, "x-amz-server-side-encryption");
    h2o_iovec_t obs = gw_header(ctx, "x-obs-server-side-data-encryption");
    int ret;

    if ((ret = gw_sse_parse_customer(ctx, "x-amz-", out)) != 0)
        return ret;
    if (out->kind == GW_SSE_C) {
        if (sse.base == NULL && obs.base == NULL)
            return 0;
        OPENSSL_cleanse(out, sizeof(*out));
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "Server Side Encryption with Customer provided key is incompatible with the encryption method "
                      "specified",
                      "x-amz-", "server-side-encryption", sse);
    }
    if (obs.base != NULL) {
        if (!h2o_memis(obs.base, obs.len, H2O_STRLIT("SM4")))
            return refuse(ctx, S3_ERR_INVALID_ARGUMENT, "The encryption method specified is not supported", "x-obs-",
                          "server-side-data-encryption", obs);
        out->kind = GW_SSE_SM4;
    }
    if (sse.base != NULL) {
        gw_sse_kind_t kind = h2o_memis(sse.base, sse.len, H2O_STRLIT("AES256"))    ? GW_SSE_S3
                             : h2o_memis(sse.base, sse.len, H2O_STRLIT("SM4"))     ? GW_SSE_SM4
                             : h2o_memis(sse.base, sse.len, H2O_STRLIT("aws:kms")) ? GW_SSE_KMS
                                                                                   : GW_SSE_NONE;
        if (kind == GW_SSE_NONE || (out->kind != GW_SSE_NONE && out->kind != kind))
            return refuse(ctx, S3_ERR_INVALID_ARGUMENT, "The encryption method specified is not supported", "x-amz-",
                          "server-side-encryption", sse);
        out->kind = kind;
    }
    h2o_iovec_t key_id = gw_header(ctx, "x-amz-server-side-encryption-aws-kms-key-id");
    if (key_id.base != NULL && out->kind != GW_SSE_KMS)
        return refuse(ctx, S3_ERR_INVALID_ARGUMENT,
                      "Server Side Encryption with AWS KMS managed key requires HTTP header "
                      "x-amz-server-side-encryption : aws:kms",
                      NULL, NULL, h2o_iovec_init(NULL, 0));
    if (out->kind == GW_SSE_KMS) {
        out->kms_key_id = key_id.base != NULL ? key_id : h2o_iovec_init(H2O_STRLIT(GW_KMS_DEFAULT_KEY));
        if (!gw_kms_valid_id(out->kms_key_id)) {
            gw_set_error(ctx, S3_ERR_KMS_NOT_FOUND, NULL);
            return -1;
        }
    }
    if (out->kind == GW_SSE_NONE)
        return apply_bucket_default(ctx, out);
    return 0;
}

/* ---------------------------------------------------------------- keys of an object */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* HMAC-SHA-256 of label || data under key. */
static void hmac_label(const uint8_t *key, size_t key_len, const char *label, const uint8_t *data, size_t len,
                       uint8_t out[32])
{
    uint8_t msg[64];
    size_t n = strlen(label);
    memcpy(msg, label, n);
    memcpy(msg + n, data, len);
    HMAC(EVP_sha256(), key, (int)key_len, msg, n + len, out, NULL);
}

static gw_sse_suite_t suite_of(gw_sse_kind_t kind)
{
    return kind == GW_SSE_SM4 ? GW_SSE_SM4_GCM : GW_SSE_AES_GCM;
}

/* The block keys of part number of an object with data key dk. */
static int part_key(gw_sse_suite_t suite, const uint8_t dk[32], uint32_t number, uint64_t plain_size,
                    gw_sse_block_key_t **out)
{
    uint8_t be[4], pk[32];
    put_be32(be, number);
    hmac_label(dk, 32, "yc-sse part", be, 4, pk);
    int ret = gw_sse_block_key_new(suite, pk, plain_size, out);
    OPENSSL_cleanse(pk, sizeof(pk));
    return ret;
}

/* The key that tags an object's size (FORMAT_SIZE_AT_COMMIT), and the tag of size under it:
 * HMAC-SM3 for the SM4 suites, HMAC-SHA-256 for the others. */
static const EVP_MD *size_md(gw_sse_suite_t suite)
{
    return suite == GW_SSE_AES_GCM ? EVP_sha256() : EVP_sm3();
}

static void size_key_of(gw_sse_suite_t suite, const uint8_t dk[32], uint8_t key[32])
{
    static const char label[] = "yc-sse size key";
    HMAC(size_md(suite), dk, 32, (const uint8_t *)label, sizeof(label) - 1, key, NULL);
}

static void size_tag_of(gw_sse_suite_t suite, const uint8_t key[32], uint64_t size, uint8_t tag[SIZE_TAG_LEN])
{
    uint8_t be[8];
    for (int i = 7; i >= 0; i--, size >>= 8)
        be[i] = (uint8_t)size;
    HMAC(size_md(suite), key, 32, be, sizeof(be), tag, NULL);
}

/* The plaintext size of a part of stored bytes: -1 when no plaintext size stores as that many. */
static int plain_size_of(gw_sse_suite_t suite, uint64_t stored, uint64_t *out)
{
    uint64_t unit = GW_SSE_BLOCK + gw_sse_tag_len(suite);
    uint64_t blocks = stored / unit + (stored % unit != 0);
    uint64_t plain = stored - blocks * gw_sse_tag_len(suite);
    if (blocks * gw_sse_tag_len(suite) > stored || gw_sse_stored_size(suite, plain) != stored)
        return -1;
    *out = plain;
    return 0;
}

/* An object's stored state, parsed from its attribute. */
typedef struct {
    gw_sse_kind_t kind;
    gw_sse_suite_t suite;
    uint32_t key_version;
    const uint8_t *material;
    size_t material_len;
    const uint8_t *size_tag; /* FORMAT_SIZE_AT_COMMIT: the size's tag; else NULL */
} stored_t;

/* 1 with *out when rec has an attribute that parses, 0 without one, -1 for one that does not. */
static int stored_of(const meta_object_t *rec, stored_t *out)
{
    meta_bytes_t v;
    int ret = meta_attr_get(rec->attrs, META_ATTR_SSE, &v);
    if (ret != 1)
        return ret == 0 ? 0 : -1;
    const uint8_t *p = (const uint8_t *)v.base;
    if (v.len < HEAD_LEN || (p[0] != FORMAT && p[0] != FORMAT_SIZE_AT_COMMIT))
        return -1;
    out->kind = (gw_sse_kind_t)p[1];
    out->suite = (gw_sse_suite_t)p[2];
    out->key_version = get_be32(p + 3);
    out->material = p + HEAD_LEN;
    out->material_len = v.len - HEAD_LEN;
    out->size_tag = NULL;
    if (p[0] == FORMAT_SIZE_AT_COMMIT) {
        if (out->material_len < SIZE_TAG_LEN)
            return -1;
        out->material_len -= SIZE_TAG_LEN;
        out->size_tag = p + v.len - SIZE_TAG_LEN;
    }
    /* SM4 objects written before SM4-GCM name the suite they were sealed with */
    if (out->suite != suite_of(out->kind) && !(out->kind == GW_SSE_SM4 && out->suite == GW_SSE_SM4_HMAC))
        return -1;
    if (out->kind == GW_SSE_C)
        return out->material_len == SALT_LEN + CHECK_LEN ? 1 : -1;
    if (out->kind == GW_SSE_S3 || out->kind == GW_SSE_SM4)
        return out->material_len == GW_SSE_WRAPPED_LEN ? 1 : -1;
    if (out->kind == GW_SSE_KMS)
        return out->material_len > KMS_FIXED && out->material_len == KMS_FIXED + (size_t)out->material[KMS_FIXED - 1]
                   ? 1
                   : -1;
    return -1;
}

gw_sse_kind_t gw_sse_kind_of(const meta_object_t *rec)
{
    stored_t st;
    return stored_of(rec, &st) == 1 ? st.kind : GW_SSE_NONE;
}

/* The data key of an object (or upload) stored as st, for a request that gave req: 0, or the S3
 * error set and -1 (a key missing, wrong, or given for an object not stored with one). */
static int recover_key(gw_ctx_t *ctx, const stored_t *st, const gw_sse_request_t *req, uint8_t dk[32])
{
    const gw_sse_keys_t *keys = ctx->env->sse_keys;

    if (st->kind == GW_SSE_C && req->kind != GW_SSE_C) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NEEDS_KEY);
        return -1;
    }
    if (st->kind != GW_SSE_C && req->kind == GW_SSE_C) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NOT_APPLICABLE);
        return -1;
    }
    if (st->kind == GW_SSE_C) {
        uint8_t check[32];
        hmac_label(req->customer_key, 32, "yc-sse-c check", st->material, SALT_LEN, check);
        if (CRYPTO_memcmp(check, st->material + SALT_LEN, CHECK_LEN) != 0) {
            gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL); /* S3: another key than the object's */
            return -1;
        }
        hmac_label(req->customer_key, 32, "yc-sse-c data", st->material, SALT_LEN, dk);
        return 0;
    }
    uint8_t kek[32];
    int bad = keys == NULL || st->key_version == 0 || st->key_version > keys->count;
    if (!bad && st->kind == GW_SSE_KMS) {
        /* the named key's version it was wrapped with: derivable for as long as the master key is */
        const uint8_t *m = st->material;
        uint32_t kms_version = get_be32(m + GW_SSE_WRAPPED_LEN);
        h2o_iovec_t id = h2o_iovec_init((const char *)m + KMS_FIXED, m[KMS_FIXED - 1]);
        gw_kms_derive(keys->key[st->key_version - 1], id, kms_version, kek);
    } else if (!bad) {
        memcpy(kek, keys->key[st->key_version - 1], 32);
    }
    bad = bad || gw_sse_key_unwrap(st->suite, kek, st->material, dk) != 0;
    OPENSSL_cleanse(kek, sizeof(kek));
    if (bad) {
        /* a master key version this gateway does not hold, or a wrapped key that was changed */
        yc_log(YC_LOG_ERROR, "request_id=%s event=sse_key_unwrap_failed key_version=%u", ctx->request_id,
               st->key_version);
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    return 0;
}

/* A fresh data key for req into dk, and what the attribute keeps of it into material. */
static int new_key(gw_ctx_t *ctx, const gw_sse_request_t *req, uint8_t dk[32], uint8_t material[MATERIAL_MAX],
                   size_t *material_len, uint32_t *key_version)
{
    const gw_sse_keys_t *keys = ctx->env->sse_keys;

    *key_version = 0;
    if (req->kind == GW_SSE_C) {
        uint8_t salt[SALT_LEN];
        if (RAND_bytes(salt, SALT_LEN) != 1)
            return -ENOMEM;
        hmac_label(req->customer_key, 32, "yc-sse-c data", salt, SALT_LEN, dk);
        memcpy(material, salt, SALT_LEN);
        hmac_label(req->customer_key, 32, "yc-sse-c check", salt, SALT_LEN, material + SALT_LEN);
        *material_len = SALT_LEN + CHECK_LEN;
        return 0;
    }
    if (keys == NULL || keys->count == 0) {
        gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED,
                     "Server-side encryption needs a master key: set sse_master_key_file on every gateway");
        return -EINVAL;
    }
    *key_version = keys->count;
    uint8_t kek[32];
    memcpy(kek, keys->key[keys->count - 1], 32);
    *material_len = GW_SSE_WRAPPED_LEN;
    if (req->kind == GW_SSE_KMS) {
        uint32_t kms_version;
        int ret = gw_kms_current(ctx->cluster, req->kms_key_id, &kms_version);
        if (ret != 0) {
            if (ret == GW_ENOENT)
                gw_set_error(ctx, S3_ERR_KMS_NOT_FOUND, NULL);
            else
                gw_set_store_error(ctx, ret);
            return -EINVAL;
        }
        gw_kms_derive(keys->key[keys->count - 1], req->kms_key_id, kms_version, kek);
        put_be32(material + GW_SSE_WRAPPED_LEN, kms_version);
        material[KMS_FIXED - 1] = (uint8_t)req->kms_key_id.len;
        memcpy(material + KMS_FIXED, req->kms_key_id.base, req->kms_key_id.len);
        *material_len = KMS_FIXED + req->kms_key_id.len;
    }
    int ret = RAND_bytes(dk, 32) != 1 || gw_sse_key_wrap(suite_of(req->kind), kek, dk, material) != 0 ? -ENOMEM : 0;
    OPENSSL_cleanse(kek, sizeof(kek));
    return ret;
}

/* attrs with the attribute of (kind, key version, material) set, appended to out; size_tag: NULL,
 * or the size's tag of an object sealed before its size was known. */
static int put_attr(gw_sse_kind_t kind, uint32_t key_version, const uint8_t *material, size_t material_len,
                    const uint8_t *size_tag, meta_bytes_t attrs, meta_buf_t *out)
{
    uint8_t v[HEAD_LEN + MATERIAL_MAX + SIZE_TAG_LEN];
    v[0] = size_tag != NULL ? FORMAT_SIZE_AT_COMMIT : FORMAT;
    v[1] = (uint8_t)kind;
    v[2] = (uint8_t)suite_of(kind);
    put_be32(v + 3, key_version);
    memcpy(v + HEAD_LEN, material, material_len);
    if (size_tag != NULL)
        memcpy(v + HEAD_LEN + material_len, size_tag, SIZE_TAG_LEN);
    meta_bytes_t value = {(const char *)v, HEAD_LEN + material_len + (size_tag != NULL ? SIZE_TAG_LEN : 0)};
    return meta_attr_put(attrs, META_ATTR_SSE, &value, out) == 0 ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------- writing */

/* The plaintext's MD5 and observer (0.7 GB/s a core together at best: the dearest pass of a PUT)
 * run on the cluster's hash lane while the writer's thread seals the same piece, so a body takes
 * about the longer of the two rather than their sum. One piece at a time: the lane is done with a
 * piece before the next is pulled (a source's piece is valid until its next pull) and before the
 * writer returns to the data pass, so nothing of the writer runs on the lane between two pulls
 * of the data pass (whose caller may free the body or the observer's state after a failure). */
#define HASH_LANE_MIN (4 * GW_SSE_BLOCK) /* smaller bodies: hashed inline, a hand-off costs more */

struct gw_sse_writer {
    gw_sse_kind_t kind;
    gw_sse_suite_t suite;
    size_t tag;
    uint32_t key_version;
    uint8_t material[MATERIAL_MAX];
    size_t material_len;
    gw_sse_block_key_t *bk;
    gw_source_t inner;
    uint64_t plain_size; /* GW_SIZE_UNKNOWN: known at the inner source's end (its next_upto) */
    int ended;           /* that end was reached */
    uint8_t size_key[32];
    size_t unit;
    gw_observe_fn observe;
    void *observe_arg;
    EVP_MD_CTX *md5;
    uint8_t plain_md5[16];
    /* the inner source's current piece */
    const uint8_t *chunk;
    size_t chunk_len, chunk_pos;
    uint64_t pulled; /* plaintext bytes taken from the inner source */
    uint64_t sealed; /* plaintext bytes sealed */
    uint64_t index;
    uint8_t *pblock; /* a block gathered from two pieces */
    /* stored bytes sealed and not yet handed out past: cbuf[0] is stored byte cstart */
    uint8_t *cbuf;
    size_t cap, clen;
    uint64_t cstart;
    /* the hash lane's piece (lane NULL: pieces are hashed inline) */
    yc_lane_t *lane;
    yc_job_t job;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const uint8_t *hash_bytes;
    size_t hash_len;
    int hashing;
};

static void hash_piece(gw_sse_writer_t *w, const uint8_t *bytes, size_t len)
{
    if (w->observe != NULL)
        w->observe(w->observe_arg, bytes, len);
    EVP_DigestUpdate(w->md5, bytes, len);
}

static void hash_run(yc_job_t *job)
{
    gw_sse_writer_t *w = H2O_STRUCT_FROM_MEMBER(gw_sse_writer_t, job, job);

    hash_piece(w, w->hash_bytes, w->hash_len);
    pthread_mutex_lock(&w->mu);
    w->hashing = 0;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Waits until the lane is done with the piece it was given, if any. */
static void hash_wait(gw_sse_writer_t *w)
{
    if (w->lane == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->hashing)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* Takes the inner source's next piece: the plaintext passes the observer and MD5 here, once. */
static int pull_piece(gw_sse_writer_t *w)
{
    size_t n = w->plain_size - w->pulled < w->unit ? (size_t)(w->plain_size - w->pulled) : w->unit;
    hash_wait(w); /* the pull gives the last piece back */
    if (w->plain_size == GW_SIZE_UNKNOWN) {
        if (w->ended || (w->chunk = w->inner.next_upto(w->inner.arg, w->pulled, w->unit, &n)) == NULL)
            return -1;
        w->ended = n < w->unit; /* a short piece is the last */
    } else if (n == 0 || (w->chunk = w->inner.next(w->inner.arg, w->pulled, n)) == NULL) {
        return -1;
    }
    w->chunk_len = n;
    w->chunk_pos = 0;
    w->pulled += n;
    if (w->lane == NULL) {
        hash_piece(w, w->chunk, n);
        return 0;
    }
    w->hash_bytes = w->chunk;
    w->hash_len = n;
    w->hashing = 1; /* the lane is idle: nothing else reads it now */
    w->job = (yc_job_t){.run = hash_run};
    yc_lane_submit(w->lane, &w->job);
    return 0;
}

/* Seals the next block at the end of cbuf (room made by the caller). 1: none left (the end of a
 * plaintext of unknown size). */
static int seal_next(gw_sse_writer_t *w)
{
    size_t n = w->plain_size - w->sealed < GW_SSE_BLOCK ? (size_t)(w->plain_size - w->sealed) : GW_SSE_BLOCK;
    const uint8_t *plain;

    if (n == 0)
        return -1;
    if (w->chunk_pos == w->chunk_len && !w->ended && pull_piece(w) != 0)
        return -1;
    if (w->ended && w->chunk_len - w->chunk_pos < n)
        n = w->chunk_len - w->chunk_pos; /* the last block of a plaintext of unknown size */
    if (n == 0)
        return 1;
    if (w->chunk_len - w->chunk_pos >= n) { /* the block lies in one piece: sealed from there */
        plain = w->chunk + w->chunk_pos;
        w->chunk_pos += n;
    } else {
        size_t got = 0;
        while (got < n) {
            if (w->chunk_pos == w->chunk_len && w->ended) {
                n = got; /* the plaintext ended within this block */
                break;
            }
            if (w->chunk_pos == w->chunk_len && pull_piece(w) != 0)
                return -1;
            size_t take = w->chunk_len - w->chunk_pos < n - got ? w->chunk_len - w->chunk_pos : n - got;
            memcpy(w->pblock + got, w->chunk + w->chunk_pos, take);
            w->chunk_pos += take;
            got += take;
        }
        plain = w->pblock;
    }
    if (gw_sse_block_seal(w->bk, w->index, plain, n, w->cbuf + w->clen) != 0)
        return -1;
    w->index++;
    w->sealed += n;
    w->clen += n + w->tag;
    return 0;
}

/* Drops the stored bytes before off (handed out already) and makes room for len more and a
 * block: 0, or -1 for an offset out of order or no memory. */
static int writer_window(gw_sse_writer_t *w, uint64_t off, size_t len)
{
    if (off < w->cstart || off - w->cstart > w->clen)
        return -1; /* the data pass reads in order */
    size_t drop = (size_t)(off - w->cstart);
    if (drop > 0 && w->clen > drop) /* never with cbuf NULL: nothing is kept before the first pull */
        memmove(w->cbuf, w->cbuf + drop, w->clen - drop);
    w->clen -= drop;
    w->cstart = off;
    if (w->cap < len + GW_SSE_BLOCK + GW_SSE_TAG_MAX) {
        /* a stripe and more: a reused buffer, not a mapping faulted in page by page for every
         * body (it holds ciphertext only, nothing to wipe before it is handed out again) */
        size_t cap = len + GW_SSE_BLOCK + GW_SSE_TAG_MAX;
        uint8_t *b = yc_bigbuf_alloc(cap);
        if (b == NULL)
            return -1;
        if (w->clen > 0)
            memcpy(b, w->cbuf, w->clen);
        yc_bigbuf_free(w->cbuf);
        w->cbuf = b;
        w->cap = cap;
    }
    return 0;
}

static const uint8_t *writer_next(void *arg, uint64_t off, size_t len)
{
    gw_sse_writer_t *w = arg;
    int ret = writer_window(w, off, len);

    while (ret == 0 && w->clen < len)
        ret = seal_next(w) != 0 ? -1 : 0;
    hash_wait(w); /* the data pass gets its bytes once the lane is done with the plaintext */
    return ret == 0 ? w->cbuf : NULL;
}

/* writer_next for a plaintext of unknown size: fewer than max bytes only at its end. */
static const uint8_t *writer_next_upto(void *arg, uint64_t off, size_t max, size_t *got)
{
    gw_sse_writer_t *w = arg;
    int ret = writer_window(w, off, max);

    while (ret == 0 && w->clen < max && (ret = seal_next(w)) == 0)
        ;
    hash_wait(w);
    if (ret < 0)
        return NULL;
    *got = w->clen < max ? w->clen : max;
    return w->cbuf;
}

/* A writer of part number under data key dk (the writer keeps no copy of dk). */
static int writer_make(gw_ctx_t *ctx, gw_sse_kind_t kind, gw_sse_suite_t suite, const uint8_t dk[32], uint32_t number,
                       gw_source_t inner, uint64_t plain_size, size_t unit, gw_observe_fn observe, void *observe_arg,
                       gw_sse_writer_t **out)
{
    gw_sse_writer_t *w = calloc(1, sizeof(*w));
    int ret = -ENOMEM;

    if (w == NULL)
        return -ENOMEM;
    w->kind = kind;
    w->suite = suite;
    w->tag = gw_sse_tag_len(w->suite);
    w->inner = inner;
    w->plain_size = plain_size;
    w->unit = unit > 0 ? unit : GW_SSE_BLOCK;
    w->observe = observe;
    w->observe_arg = observe_arg;
    if (plain_size >= HASH_LANE_MIN && ctx->cluster->hash_lane != NULL) {
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        w->lane = ctx->cluster->hash_lane;
    }
    if ((w->md5 = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1 ||
        (w->pblock = malloc(GW_SSE_BLOCK)) == NULL || (ret = part_key(w->suite, dk, number, plain_size, &w->bk)) != 0) {
        gw_sse_writer_free(w);
        return ret;
    }
    if (plain_size == GW_SIZE_UNKNOWN)
        size_key_of(w->suite, dk, w->size_key);
    *out = w;
    return 0;
}

int gw_sse_writer_new(gw_ctx_t *ctx, const gw_sse_request_t *req, gw_source_t inner, uint64_t plain_size, size_t unit,
                      gw_observe_fn observe, void *observe_arg, gw_sse_writer_t **out)
{
    uint8_t dk[32], material[MATERIAL_MAX];
    size_t material_len = 0;
    uint32_t key_version;
    int ret;

    if ((ret = new_key(ctx, req, dk, material, &material_len, &key_version)) == 0 &&
        (ret = writer_make(ctx, req->kind, suite_of(req->kind), dk, 1, inner, plain_size, unit, observe, observe_arg,
                           out)) == 0) {
        memcpy((*out)->material, material, material_len);
        (*out)->material_len = material_len;
        (*out)->key_version = key_version;
    }
    OPENSSL_cleanse(dk, sizeof(dk));
    return ret;
}

int gw_sse_upload_attrs(gw_ctx_t *ctx, const gw_sse_request_t *req, meta_bytes_t attrs, meta_buf_t *out)
{
    uint8_t dk[32], material[MATERIAL_MAX];
    size_t material_len = 0;
    uint32_t key_version;
    int ret = new_key(ctx, req, dk, material, &material_len, &key_version);

    /* the upload keeps the wrapped key: each part's keys are derived from it and the part's number */
    OPENSSL_cleanse(dk, sizeof(dk));
    return ret != 0 ? ret : put_attr(req->kind, key_version, material, material_len, NULL, attrs, out);
}

int gw_sse_part_writer_new(gw_ctx_t *ctx, meta_bytes_t upload_attrs, uint32_t number, const gw_sse_request_t *req,
                           gw_source_t inner, uint64_t plain_size, size_t unit, gw_observe_fn observe,
                           void *observe_arg, gw_sse_writer_t **out)
{
    meta_object_t holder = {.attrs = upload_attrs};
    uint8_t dk[32];
    stored_t st;
    int ret = stored_of(&holder, &st);

    *out = NULL;
    if (ret < 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    if (ret == 0) {
        if (req->kind == GW_SSE_C) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NOT_APPLICABLE);
            return -1;
        }
        return 0;
    }
    if (recover_key(ctx, &st, req, dk) != 0)
        return -1;
    /* the upload's suite: an upload begun before SM4-GCM keeps sealing its parts as it began */
    ret = writer_make(ctx, st.kind, st.suite, dk, number, inner, plain_size, unit, observe, observe_arg, out);
    OPENSSL_cleanse(dk, sizeof(dk));
    if (ret != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    return 0;
}

uint64_t gw_sse_part_stored_size(meta_bytes_t attrs, uint64_t plain_size)
{
    meta_object_t holder = {.attrs = attrs};
    stored_t st;
    return stored_of(&holder, &st) == 1 ? gw_sse_stored_size(st.suite, plain_size) : plain_size;
}

uint64_t gw_sse_part_plain_size(const meta_object_t *rec, uint64_t stored_size)
{
    stored_t st;
    uint64_t plain;
    if (stored_of(rec, &st) != 1 || plain_size_of(st.suite, stored_size, &plain) != 0)
        return stored_size;
    return plain;
}

gw_source_t gw_sse_writer_source(gw_sse_writer_t *w)
{
    /* SSE-S3 and SM4 ETags are the plaintext's MD5, which the writer takes: a second MD5 of the
     * stored bytes would cost as much again (MD5 is the dearest pass of a PUT) for nothing */
    return (gw_source_t){.next = writer_next,
                         .next_upto = w->plain_size == GW_SIZE_UNKNOWN ? writer_next_upto : NULL,
                         .arg = w,
                         .skip_md5 = w->kind != GW_SSE_C && w->kind != GW_SSE_KMS};
}

uint64_t gw_sse_writer_stored_size(const gw_sse_writer_t *w)
{
    return w->plain_size == GW_SIZE_UNKNOWN ? GW_SIZE_UNKNOWN : gw_sse_stored_size(w->suite, w->plain_size);
}

uint64_t gw_sse_writer_plain_size(const gw_sse_writer_t *w)
{
    return w->plain_size == GW_SIZE_UNKNOWN ? w->sealed : w->plain_size;
}

void gw_sse_writer_digests(gw_sse_writer_t *w, const uint8_t stored_md5[16], uint8_t plain_md5[16], uint8_t etag[16])
{
    hash_wait(w);
    EVP_DigestFinal_ex(w->md5, w->plain_md5, NULL);
    memcpy(plain_md5, w->plain_md5, 16);
    /* S3: the ETag of an SSE-S3 object is the MD5 of its plaintext; an SSE-C or SSE-KMS object's is not */
    memcpy(etag, w->kind == GW_SSE_C || w->kind == GW_SSE_KMS ? stored_md5 : w->plain_md5, 16);
}

int gw_sse_writer_attrs(const gw_sse_writer_t *w, meta_bytes_t attrs, meta_buf_t *out)
{
    uint8_t tag[SIZE_TAG_LEN];
    if (w->plain_size != GW_SIZE_UNKNOWN)
        return put_attr(w->kind, w->key_version, w->material, w->material_len, NULL, attrs, out);
    /* the size is bound now, at commit: the blocks were sealed before it was known */
    size_tag_of(w->suite, w->size_key, w->sealed, tag);
    return put_attr(w->kind, w->key_version, w->material, w->material_len, tag, attrs, out);
}

void gw_sse_writer_free(gw_sse_writer_t *w)
{
    if (w == NULL)
        return;
    if (w->lane != NULL) {
        hash_wait(w);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
    }
    gw_sse_block_key_free(w->bk);
    EVP_MD_CTX_free(w->md5);
    free(w->pblock);
    yc_bigbuf_free(w->cbuf);
    OPENSSL_cleanse(w->material, sizeof(w->material));
    OPENSSL_cleanse(w->size_key, sizeof(w->size_key));
    free(w);
}

/* ---------------------------------------------------------------- reading */

struct gw_sse_reader {
    gw_sse_suite_t suite;
    size_t tag;
    uint8_t data_key[32];
    gw_sse_block_key_t *bk; /* of part bk_part */
    uint32_t bk_part;
    int size_at_commit;   /* FORMAT_SIZE_AT_COMMIT: blocks sealed with the size GW_SIZE_UNKNOWN */
    uint8_t *cblock;      /* a stored block */
    uint8_t *pblock;      /* an opened block, kept for the next read */
    uint32_t cached_part; /* the block in pblock: part index, block index (UINT64_MAX: none) */
    uint64_t cached_block;
    /* gw_sse_read_stripe: the sealed bytes of a block that the last stripe read ended inside,
     * from stored offset carry_at (carry_len 0: none) */
    uint8_t *carry;
    uint64_t carry_at;
    size_t carry_len;
};

int gw_sse_reader_open(gw_ctx_t *ctx, const meta_object_t *rec, const gw_sse_request_t *req, gw_sse_reader_t **out)
{
    gw_sse_reader_t *r;
    stored_t st;
    int ret = stored_of(rec, &st);

    *out = NULL;
    if (ret < 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    if (ret == 0) {
        if (req->kind == GW_SSE_C) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NOT_APPLICABLE);
            return -1;
        }
        return 0;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL || (r->cblock = malloc(GW_SSE_BLOCK + GW_SSE_TAG_MAX)) == NULL ||
        (r->pblock = malloc(GW_SSE_BLOCK)) == NULL) {
        gw_sse_reader_free(r);
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        return -1;
    }
    r->suite = st.suite;
    r->tag = gw_sse_tag_len(st.suite);
    r->cached_block = UINT64_MAX;
    if (recover_key(ctx, &st, req, r->data_key) != 0) {
        gw_sse_reader_free(r);
        return -1;
    }
    if (st.size_tag != NULL) { /* the size the record gives must be the one tagged at commit */
        uint8_t key[32], tag[SIZE_TAG_LEN];
        size_key_of(st.suite, r->data_key, key);
        size_tag_of(st.suite, key, rec->size, tag);
        OPENSSL_cleanse(key, sizeof(key));
        if (rec->part_count != 1 || CRYPTO_memcmp(tag, st.size_tag, SIZE_TAG_LEN) != 0) {
            yc_log(YC_LOG_ERROR, "request_id=%s event=sse_size_tag_mismatch", ctx->request_id);
            gw_sse_reader_free(r);
            gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            return -1;
        }
        r->size_at_commit = 1;
    }
    *out = r;
    return 0;
}

/* Makes r->bk the block keys of part p (index p of the record, number number, plain bytes plain). */
static int use_part_key(gw_sse_reader_t *r, uint32_t p, uint32_t number, uint64_t plain)
{
    if (r->bk != NULL && r->bk_part == p)
        return 0;
    gw_sse_block_key_free(r->bk);
    r->bk = NULL;
    /* an object sealed before its size was known (format 2) has its blocks under the unknown size */
    if (part_key(r->suite, r->data_key, number, r->size_at_commit ? GW_SIZE_UNKNOWN : plain, &r->bk) != 0)
        return GW_ENOMEM;
    r->bk_part = p;
    return 0;
}

/* Opens block b (n plaintext bytes) of part p (index p of the record, number number, plain bytes
 * plain, stored from stored_start) into dst. The sealed block is opened where the object's decoded
 * stripe holds it; only a block that crosses two stripes is copied together first. */
static int open_block(gw_sse_reader_t *r, gw_object_t *o, uint32_t p, uint32_t number, uint64_t plain,
                      uint64_t stored_start, uint64_t b, size_t n, uint8_t *dst)
{
    uint64_t at = stored_start + b * (GW_SSE_BLOCK + r->tag);
    const uint8_t *sealed;
    int ret;

    if ((ret = use_part_key(r, p, number, plain)) != 0)
        return ret;
    if ((ret = gw_object_peek(o, at, n + r->tag, &sealed)) == 1) {
        ret = gw_object_read(o, at, n + r->tag, r->cblock);
        sealed = r->cblock;
    }
    if (ret != 0)
        return ret;
    if (gw_sse_block_open(r->bk, b, sealed, n, dst) != 0)
        return GW_ESEALED; /* changed bytes that passed the shards' checksums: the seal sees them */
    return 0;
}

int gw_sse_read(gw_sse_reader_t *r, gw_object_t *o, uint64_t off, size_t len, void *buf)
{
    const meta_object_t *rec = gw_object_record(o);
    uint64_t plain_start = 0, stored_start = 0;
    uint8_t *dst = buf;
    int ret;

    for (uint32_t p = 0; p < rec->part_count && len > 0; p++) {
        meta_part_ref_t part;
        uint64_t plain;
        if (meta_object_part(rec, p, &part) != 0 || plain_size_of(r->suite, part.size, &plain) != 0)
            return GW_EIO;
        while (len > 0 && off < plain_start + plain) {
            uint64_t in = off - plain_start, b = in / GW_SSE_BLOCK;
            size_t within = (size_t)(in % GW_SSE_BLOCK);
            size_t n = plain - b * GW_SSE_BLOCK < GW_SSE_BLOCK ? (size_t)(plain - b * GW_SSE_BLOCK) : GW_SSE_BLOCK;
            size_t take = n - within < len ? n - within : len;
            if (within == 0 && take == n) { /* the whole block is wanted: opened where it goes */
                if ((ret = open_block(r, o, p, part.number, plain, stored_start, b, n, dst)) != 0)
                    return ret;
            } else { /* a piece of it: opened once and kept for the next read */
                if (r->cached_part != p || r->cached_block != b) {
                    r->cached_block = UINT64_MAX;
                    if ((ret = open_block(r, o, p, part.number, plain, stored_start, b, n, r->pblock)) != 0)
                        return ret;
                    r->cached_part = p;
                    r->cached_block = b;
                }
                memcpy(dst, r->pblock + within, take);
            }
            dst += take;
            off += take;
            len -= take;
        }
        plain_start += plain;
        stored_start += part.size;
    }
    return len == 0 ? 0 : GW_EIO;
}

/* Room before the stripe in a gw_sse_read_stripe buffer: the start of a block that crossed into it. */
#define STRIPE_HEADROOM (GW_SSE_BLOCK + GW_SSE_TAG_MAX)

size_t gw_sse_stripe_buffer_len(const gw_object_t *o)
{
    size_t n = gw_object_stripe_buffer_len(o);
    return n == 0 ? 0 : STRIPE_HEADROOM + n;
}

/* Adds len bytes at p to the pieces; past max_vecs the piece is moved down to follow the last one
 * (a stripe of more blocks than a write takes buffers: an uncommon geometry pays a copy). */
static void add_piece(h2o_iovec_t *vecs, size_t max_vecs, size_t *nvecs, uint8_t *p, size_t len)
{
    if (*nvecs == max_vecs) {
        h2o_iovec_t *last = &vecs[*nvecs - 1];
        memmove(last->base + last->len, p, len);
        last->len += len;
        return;
    }
    vecs[(*nvecs)++] = h2o_iovec_init(p, len);
}

int gw_sse_read_stripe(gw_sse_reader_t *r, gw_object_t *o, uint64_t off, uint64_t end, uint8_t *buf, h2o_iovec_t *vecs,
                       size_t max_vecs, size_t *nvecs, size_t *len)
{
    const meta_object_t *rec = gw_object_record(o);
    uint8_t *base = buf + STRIPE_HEADROOM; /* where each stripe is decoded */
    uint64_t plain_start = 0, stored_start = 0, plain = 0;
    meta_part_ref_t part;
    uint32_t p;
    int ret;

    *nvecs = 0;
    *len = 0;
    if (off >= end || max_vecs == 0 || gw_object_stripe_buffer_len(o) == 0)
        return GW_EINVAL;
    for (p = 0; p < rec->part_count; p++) {
        if (meta_object_part(rec, p, &part) != 0 || plain_size_of(r->suite, part.size, &plain) != 0)
            return GW_EIO;
        if (off < plain_start + plain)
            break;
        plain_start += plain;
        stored_start += part.size;
    }
    if (p == rec->part_count)
        return GW_EIO;
    if ((ret = use_part_key(r, p, part.number, plain)) != 0)
        return ret;

    /* a stripe ends inside a part, never past it: what this call sends lies in part p */
    uint64_t unit = GW_SSE_BLOCK + r->tag;
    uint64_t stop = end - plain_start < plain ? end - plain_start : plain; /* within the part */
    uint64_t b = (off - plain_start) / GW_SSE_BLOCK, last = (stop - 1) / GW_SSE_BLOCK;
    size_t within = (size_t)((off - plain_start) % GW_SSE_BLOCK);
    uint64_t last_n = plain - last * GW_SSE_BLOCK < GW_SSE_BLOCK ? plain - last * GW_SSE_BLOCK : GW_SSE_BLOCK;
    uint64_t at = stored_start + b * unit; /* block b's sealed bytes */
    uint64_t need_end = stored_start + last * unit + last_n + r->tag;
    size_t have = 0; /* of them, those already in front of base */

    if (r->carry_len > 0 && r->carry_at == at) {
        have = r->carry_len;
        memcpy(base - have, r->carry, have);
    }
    r->carry_len = 0;
    for (;;) {
        const uint8_t *data;
        size_t got;
        if ((ret = gw_object_read_stripe(o, at + have, (size_t)(need_end - at - have), base, &data, &got)) != 0)
            return ret;
        if (have > 0 && data != base)
            return GW_EIO; /* a piece kept ends where a stripe does: the next stripe follows it */
        uint8_t *seg = base + (data - base) - have, *cur = seg;
        size_t seg_len = have + got;
        while (b <= last) {
            size_t n = plain - b * GW_SSE_BLOCK < GW_SSE_BLOCK ? (size_t)(plain - b * GW_SSE_BLOCK) : GW_SSE_BLOCK;
            if ((size_t)(seg + seg_len - cur) < n + r->tag)
                break;
            /* opened where it lies: the tag is checked before a byte is decrypted in place */
            if (gw_sse_block_open(r->bk, b, cur, n, cur) != 0)
                return GW_ESEALED;
            size_t to = b == last ? (size_t)(stop - b * GW_SSE_BLOCK) : n;
            add_piece(vecs, max_vecs, nvecs, cur + within, to - within);
            *len += to - within;
            within = 0;
            cur += n + r->tag;
            at += unit;
            b++;
        }
        size_t rest = (size_t)(seg + seg_len - cur);
        if (*nvecs > 0) {
            if (b <= last && rest > 0) { /* the start of the next block: kept for the next call */
                if (r->carry == NULL && (r->carry = malloc(STRIPE_HEADROOM)) == NULL)
                    return GW_ENOMEM;
                memcpy(r->carry, cur, rest);
                r->carry_at = at;
                r->carry_len = rest;
            }
            return 0;
        }
        /* the stripe ended inside block b: its start goes in front of base, the next stripe after */
        memmove(base - rest, cur, rest);
        have = rest;
    }
}

void gw_sse_reader_free(gw_sse_reader_t *r)
{
    if (r == NULL)
        return;
    gw_sse_block_key_free(r->bk);
    if (r->pblock != NULL)
        OPENSSL_cleanse(r->pblock, GW_SSE_BLOCK);
    free(r->pblock);
    free(r->cblock);
    free(r->carry);
    OPENSSL_cleanse(r->data_key, sizeof(r->data_key));
    free(r);
}

void gw_sse_headers(gw_ctx_t *ctx, meta_bytes_t attrs, const gw_sse_request_t *req)
{
    meta_object_t holder = {.attrs = attrs};
    switch (gw_sse_kind_of(&holder)) {
    case GW_SSE_S3:
        gw_add_header_str(ctx, "x-amz-server-side-encryption", "AES256");
        break;
    case GW_SSE_SM4:
        gw_add_header_str(ctx, "x-amz-server-side-encryption", "SM4");
        break;
    case GW_SSE_KMS: {
        stored_t st;
        stored_of(&holder, &st);
        gw_add_header_str(ctx, "x-amz-server-side-encryption", "aws:kms");
        gw_add_header(ctx, "x-amz-server-side-encryption-aws-kms-key-id", (const char *)st.material + KMS_FIXED,
                      st.material[KMS_FIXED - 1]);
        break;
    }
    case GW_SSE_C:
        gw_add_header_str(ctx, "x-amz-server-side-encryption-customer-algorithm", "AES256");
        if (req != NULL && req->kind == GW_SSE_C)
            gw_add_header_str(ctx, "x-amz-server-side-encryption-customer-key-md5", req->customer_key_md5);
        break;
    default:
        break;
    }
}
