/* gw_secret.c — sealing access keys' secrets under the cluster's secrets key (design in gw_secret.h). */
#include "gateway/gw_secret.h"
#include "common/bytes.h"
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
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT       1
#define NONCE_LEN    12
#define SOURCE_MAX   4200
#define TEXT_MAX     (GW_SECRET_KEYS_MAX * 80)
#define DEFAULT_NAME "secrets.keys"
#define SEAL_LABEL   "yuncang iam-secret seal v1"
#define KEY_ID_LABEL "yuncang secrets key id"
#define AD_SEPARATOR "\0yc-iam-secret" /* between the header and the record's name */

enum { SRC_NONE, SRC_TEXT, SRC_FILE, SRC_ENV };

typedef struct {
    uint8_t id[GW_SECRET_KEY_ID_LEN];
    uint8_t seal[32]; /* the subkey that seals: the configured key is not kept */
} seal_key_t;

struct gw_secret_keys {
    pthread_rwlock_t lock;
    size_t count; /* keys[0] oldest, keys[count-1] current */
    seal_key_t keys[GW_SECRET_KEYS_MAX];
    int kind;               /* SRC_* */
    char where[SOURCE_MAX]; /* the file's path or the variable's name */
    char source[SOURCE_MAX + 32];
};

static int hmac_label(const uint8_t key[32], const char *label, uint8_t out[32])
{
    unsigned int len = 32;
    return HMAC(EVP_sha256(), key, 32, (const uint8_t *)label, strlen(label), out, &len) != NULL ? 0 : -EIO;
}

/* One key of 64 hex digits into k (its id and its sealing subkey). 0 or -EINVAL. */
static int key_from_hex(const char *s, size_t len, seal_key_t *k)
{
    uint8_t raw[32], id[32];
    int ret = -EINVAL;

    if (len == 64 && yc_unhex(s, 32, raw) == 0 && hmac_label(raw, KEY_ID_LABEL, id) == 0 &&
        hmac_label(raw, SEAL_LABEL, k->seal) == 0) {
        memcpy(k->id, id, GW_SECRET_KEY_ID_LEN);
        ret = 0;
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(id, sizeof(id));
    return ret;
}

/* Keys from text into keys[] (at most GW_SECRET_KEYS_MAX): words of 64 hex digits separated by
 * blanks, commas or new lines; a '#' starts a comment to the end of its line. The count, or -1
 * with the 1-based number of the bad word in *bad. */
static long parse_text(const char *text, size_t len, seal_key_t *keys, size_t *bad)
{
    size_t n = 0, i = 0;
    while (i < len) {
        char c = text[i];
        if (c == '#') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && !strchr(" \t\r\n,#", text[i]) && text[i] != '\0')
            i++;
        if (i == start) { /* a NUL: no key holds one */
            *bad = n + 1;
            return -1;
        }
        if (n == GW_SECRET_KEYS_MAX || key_from_hex(text + start, i - start, &keys[n]) != 0) {
            *bad = n + 1;
            return -1;
        }
        n++;
    }
    return (long)n;
}

static gw_secret_keys_t *keys_new(void)
{
    gw_secret_keys_t *k = calloc(1, sizeof(*k));
    if (k != NULL)
        pthread_rwlock_init(&k->lock, NULL);
    return k;
}

void gw_secret_keys_free(gw_secret_keys_t *k)
{
    if (k == NULL)
        return;
    pthread_rwlock_destroy(&k->lock);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

/* Reads the source into keys[]; the count, or -1 with err. */
static long read_source(const gw_secret_keys_t *k, seal_key_t *keys, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0, bad = 0;
    long n;

    if (k->kind == SRC_ENV) {
        const char *v = getenv(k->where);
        if (v == NULL || *v == '\0') {
            snprintf(err, errlen, "environment variable %s (secrets_key_env) is not set", k->where);
            return -1;
        }
        n = parse_text(v, strlen(v), keys, &bad);
        if (n <= 0)
            snprintf(err, errlen, "environment variable %s: key %zu is not 64 hex digits (or too many keys)", k->where,
                     bad);
        return n > 0 ? n : -1;
    }
    FILE *f = fopen(k->where, "r");
    if (f == NULL) {
        snprintf(err, errlen, "secrets key file %s: %s", k->where, strerror(errno));
        return -1;
    }
    if ((text = malloc(TEXT_MAX + 1)) != NULL)
        len = fread(text, 1, TEXT_MAX + 1, f);
    fclose(f);
    if (text == NULL || len > TEXT_MAX) {
        snprintf(err, errlen, "secrets key file %s: larger than %d bytes", k->where, TEXT_MAX);
        free(text);
        return -1;
    }
    n = parse_text(text, len, keys, &bad);
    OPENSSL_cleanse(text, len);
    free(text);
    if (n < 0)
        snprintf(err, errlen, "secrets key file %s: key %zu is not 64 hex digits (or too many keys)", k->where, bad);
    else if (n == 0)
        snprintf(err, errlen, "secrets key file %s holds no key", k->where);
    return n > 0 ? n : -1;
}

int gw_secret_keys_reload(gw_secret_keys_t *k, char *err, size_t errlen)
{
    seal_key_t *keys;
    long n;

    if (k->kind != SRC_FILE && k->kind != SRC_ENV)
        return 0;
    if ((keys = calloc(GW_SECRET_KEYS_MAX, sizeof(*keys))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -EINVAL;
    }
    if ((n = read_source(k, keys, err, errlen)) > 0) {
        pthread_rwlock_wrlock(&k->lock);
        memcpy(k->keys, keys, (size_t)n * sizeof(*keys));
        k->count = (size_t)n;
        pthread_rwlock_unlock(&k->lock);
    }
    OPENSSL_cleanse(keys, GW_SECRET_KEYS_MAX * sizeof(*keys));
    free(keys);
    return n > 0 ? 0 : -EINVAL;
}

int gw_secret_key_generate(char out[65])
{
    uint8_t raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -EIO;
    yc_hex(raw, sizeof(raw), out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/* The embedded default: data_dir/secrets.keys, made once with one key, readable by the owner only. */
static int make_default(const char *path, char *err, size_t errlen)
{
    char line[66];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
    int ok = gw_secret_key_generate(line) == 0;
    line[64] = '\n';
    ok = ok && write(fd, line, 65) == 65 && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(line, sizeof(line));
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

int gw_secret_keys_load(const gw_config_t *cfg, gw_secret_keys_t **out, char *err, size_t errlen)
{
    gw_secret_keys_t *k = keys_new();
    const char *label = NULL;

    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return -EINVAL;
    }
    if (cfg->secrets_key_file != NULL) {
        k->kind = SRC_FILE;
        snprintf(k->where, sizeof(k->where), "%s", cfg->secrets_key_file);
        label = "file";
    } else if (cfg->secrets_key_env != NULL) {
        k->kind = SRC_ENV;
        snprintf(k->where, sizeof(k->where), "%s", cfg->secrets_key_env);
        label = "environment variable";
    } else if (cfg->data_dir != NULL) {
        struct stat st;
        snprintf(k->where, sizeof(k->where), "%s/" DEFAULT_NAME, cfg->data_dir);
        /* gateways over shared drives must share one key: a key made by each would leave the others'
         * records sealed under a key they lack, so only a gateway that owns its drives makes one */
        if (cfg->drives_list == NULL && make_default(k->where, err, errlen) != 0)
            goto fail;
        if (stat(k->where, &st) == 0) {
            k->kind = SRC_FILE;
            label = "file";
        }
    }
    if (k->kind != SRC_NONE && gw_secret_keys_reload(k, err, errlen) != 0)
        goto fail;
    if (label != NULL)
        snprintf(k->source, sizeof(k->source), "%s %s", label, k->where);
    else
        snprintf(k->source, sizeof(k->source), "no key configured");
    *out = k;
    return 0;
fail:
    gw_secret_keys_free(k);
    return -EINVAL;
}

int gw_secret_keys_parse(const char *text, size_t len, gw_secret_keys_t **out)
{
    gw_secret_keys_t *k = keys_new();
    size_t bad;
    long n;

    if (k == NULL)
        return -ENOMEM;
    if ((n = parse_text(text, len, k->keys, &bad)) < 0) {
        gw_secret_keys_free(k);
        return -EINVAL;
    }
    k->count = (size_t)n;
    k->kind = SRC_TEXT;
    snprintf(k->source, sizeof(k->source), "%s", n > 0 ? "keys given as text" : "no key configured");
    *out = k;
    return 0;
}

size_t gw_secret_keys_count(gw_secret_keys_t *k)
{
    pthread_rwlock_rdlock(&k->lock);
    size_t n = k->count;
    pthread_rwlock_unlock(&k->lock);
    return n;
}

int gw_secret_keys_id_hex(gw_secret_keys_t *k, size_t i, char out[2 * GW_SECRET_KEY_ID_LEN + 1])
{
    int ret = -ENOENT;
    pthread_rwlock_rdlock(&k->lock);
    if (i < k->count) {
        yc_hex(k->keys[i].id, GW_SECRET_KEY_ID_LEN, out);
        ret = 0;
    }
    pthread_rwlock_unlock(&k->lock);
    return ret;
}

const char *gw_secret_keys_source(gw_secret_keys_t *k)
{
    return k->source;
}

int gw_secret_key_id_of_hex(const char *hex, size_t len, char out[2 * GW_SECRET_KEY_ID_LEN + 1])
{
    seal_key_t k;
    if (key_from_hex(hex, len, &k) != 0)
        return -EINVAL;
    yc_hex(k.id, GW_SECRET_KEY_ID_LEN, out);
    OPENSSL_cleanse(&k, sizeof(k));
    return 0;
}

int gw_secret_is_sealed(const void *stored, size_t len)
{
    return len > 0 && ((const uint8_t *)stored)[0] == 0x00;
}

int gw_secret_sealed_key_hex(const void *sealed, size_t len, char out[2 * GW_SECRET_KEY_ID_LEN + 1])
{
    const uint8_t *p = sealed;
    if (len < GW_SECRET_HEAD_LEN + GW_SECRET_TAG_LEN || p[0] != 0x00 || p[1] != 'S' || p[2] != FORMAT)
        return -EINVAL;
    yc_hex(p + 3, GW_SECRET_KEY_ID_LEN, out);
    return 0;
}

/* One AES-256-GCM pass: encrypt (enc 1) or decrypt and verify the tag (enc 0). head is the
 * sealed form's header, bound with name as associated data. 0, -EBADMSG or -EIO. */
static int gcm(int enc, const uint8_t key[32], const uint8_t *head, const void *name, size_t name_len,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[GW_SECRET_TAG_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ret = -EIO;

    if (c == NULL)
        return -EIO;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, head + 3 + GW_SECRET_KEY_ID_LEN, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &n, head, GW_SECRET_HEAD_LEN) != 1 ||
        EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)AD_SEPARATOR, sizeof(AD_SEPARATOR) - 1) != 1 ||
        (name_len > 0 && EVP_CipherUpdate(c, NULL, &n, name, (int)name_len) != 1) ||
        (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1))
        goto done;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GW_SECRET_TAG_LEN, tag) != 1)
        goto done;
    if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
        ret = enc ? -EIO : -EBADMSG;
        goto done;
    }
    ret = enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GW_SECRET_TAG_LEN, tag) != 1 ? -EIO : 0;
done:
    EVP_CIPHER_CTX_free(c);
    return ret;
}

int gw_secret_seal(gw_secret_keys_t *k, const void *name, size_t name_len, const char *secret, size_t len, uint8_t *out,
                   size_t cap, size_t *out_len)
{
    uint8_t key[32];
    int ret;

    if (len > 1024 * 1024 || name_len > 1024 * 1024)
        return -EINVAL;
    if (cap < GW_SECRET_SEALED_LEN(len))
        return -ENOBUFS;
    pthread_rwlock_rdlock(&k->lock);
    if (k->count == 0) {
        pthread_rwlock_unlock(&k->lock);
        return -ENOKEY;
    }
    const seal_key_t *cur = &k->keys[k->count - 1];
    memcpy(key, cur->seal, sizeof(key));
    out[0] = 0x00;
    out[1] = 'S';
    out[2] = FORMAT;
    memcpy(out + 3, cur->id, GW_SECRET_KEY_ID_LEN);
    pthread_rwlock_unlock(&k->lock);
    if (RAND_bytes(out + 3 + GW_SECRET_KEY_ID_LEN, NONCE_LEN) != 1) {
        ret = -EIO;
        goto done;
    }
    ret = gcm(1, key, out, name, name_len, (const uint8_t *)secret, len, out + GW_SECRET_HEAD_LEN,
              out + GW_SECRET_HEAD_LEN + len);
    if (ret == 0)
        *out_len = GW_SECRET_SEALED_LEN(len);
done:
    OPENSSL_cleanse(key, sizeof(key));
    return ret;
}

int gw_secret_open(gw_secret_keys_t *k, const void *name, size_t name_len, const void *sealed, size_t len, char *out,
                   size_t cap, size_t *out_len)
{
    const uint8_t *p = sealed;
    uint8_t key[32], tag[GW_SECRET_TAG_LEN];
    int ret = -ENOKEY;

    if (len < GW_SECRET_HEAD_LEN + GW_SECRET_TAG_LEN || p[0] != 0x00 || p[1] != 'S' || p[2] != FORMAT ||
        name_len > 1024 * 1024)
        return -EINVAL;
    size_t plain = len - GW_SECRET_HEAD_LEN - GW_SECRET_TAG_LEN;
    if (cap < plain + 1)
        return -ENOBUFS;
    pthread_rwlock_rdlock(&k->lock);
    for (size_t i = k->count; i-- > 0;) {
        if (memcmp(k->keys[i].id, p + 3, GW_SECRET_KEY_ID_LEN) == 0) {
            memcpy(key, k->keys[i].seal, sizeof(key));
            ret = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&k->lock);
    if (ret != 0)
        return ret;
    memcpy(tag, p + len - GW_SECRET_TAG_LEN, GW_SECRET_TAG_LEN);
    ret = gcm(0, key, p, name, name_len, p + GW_SECRET_HEAD_LEN, plain, (uint8_t *)out, tag);
    OPENSSL_cleanse(key, sizeof(key));
    if (ret != 0) {
        OPENSSL_cleanse(out, plain + 1);
        return ret;
    }
    out[plain] = '\0';
    *out_len = plain;
    return 0;
}
