/* gw_audit_chain.c — the audit record's line, its SM3 hash, the checkpoint MAC (HMAC-SM3) and the
 * audit key (format in gw_audit.h).
 */
#include "gateway/gw_audit.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* SM3 of data in hex; 0 or -EIO. */
static int sm3_hex(const void *data, size_t len, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sm3(), NULL) != 1 || mdlen != 32)
        return -EIO;
    to_hex(md, 32, hex);
    return 0;
}

size_t gw_audit_record_format(uint64_t seq, int64_t time_ns, const char *type, const char *prev_hex, const char *body,
                              size_t body_len, char *out, size_t cap, char *hash_hex)
{
    int n = snprintf(out, cap, "%llu %lld %s %s ", (unsigned long long)seq, (long long)time_ns, type, prev_hex);

    if (n < 0 || (size_t)n + body_len + 1 + GW_AUDIT_HASH_HEX + 1 > cap)
        return 0;
    memcpy(out + n, body, body_len);
    size_t len = (size_t)n + body_len;
    if (sm3_hex(out, len, hash_hex) != 0)
        return 0;
    out[len++] = ' ';
    memcpy(out + len, hash_hex, GW_AUDIT_HASH_HEX);
    len += GW_AUDIT_HASH_HEX;
    out[len++] = '\n';
    return len;
}

int gw_audit_checkpoint_mac(const uint8_t *key, size_t key_len, uint64_t seq, int64_t time_ns, const char *prev_hex,
                            const char *reason, char *mac_hex)
{
    char msg[256];
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int n = snprintf(msg, sizeof(msg), "yc-audit-ckpt %llu %lld %s %s", (unsigned long long)seq, (long long)time_ns,
                     prev_hex, reason);

    if (n < 0 || (size_t)n >= sizeof(msg))
        return -EINVAL;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SM3", NULL, key, key_len, (const unsigned char *)msg, (size_t)n, mac,
                  sizeof(mac), &maclen) == NULL ||
        maclen != 32)
        return -EIO;
    to_hex(mac, 32, mac_hex);
    return 0;
}

void gw_audit_key_id(const uint8_t *key, size_t key_len, char *id)
{
    char hex[GW_AUDIT_HASH_HEX + 1];
    if (sm3_hex(key, key_len, hex) != 0)
        memset(hex, '0', 8);
    memcpy(id, hex, 8);
    id[8] = '\0';
}

/* Decimal digits only, no sign, no leading '+'; 0 or -1. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t next = v * 10 + (uint64_t)(s[i] - '0');
        if (next / 10 != v)
            return -1;
        v = next;
    }
    *out = v;
    return 0;
}

static int is_hex64(const char *s, size_t len)
{
    if (len != GW_AUDIT_HASH_HEX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int gw_audit_record_parse(const char *line, size_t len, gw_audit_record_t *out)
{
    h2o_iovec_t f[4];
    size_t at = 0;
    uint64_t t;

    for (int i = 0; i < 4; i++) {
        const char *sp = memchr(line + at, ' ', len - at);
        if (sp == NULL)
            return -EBADMSG;
        f[i] = h2o_iovec_init(line + at, (size_t)(sp - line) - at);
        at = (size_t)(sp - line) + 1;
    }
    /* the body runs to the space before the hash, the last field */
    if (len < at + 2 + GW_AUDIT_HASH_HEX || line[len - GW_AUDIT_HASH_HEX - 1] != ' ')
        return -EBADMSG;
    out->hash = h2o_iovec_init(line + len - GW_AUDIT_HASH_HEX, GW_AUDIT_HASH_HEX);
    out->body = h2o_iovec_init(line + at, len - GW_AUDIT_HASH_HEX - 1 - at);
    if (parse_u64(f[0].base, f[0].len, &out->seq) != 0 || parse_u64(f[1].base, f[1].len, &t) != 0 || t > INT64_MAX ||
        f[2].len == 0 || f[2].len > 16 || !is_hex64(f[3].base, f[3].len) || !is_hex64(out->hash.base, out->hash.len) ||
        out->body.len == 0 || out->body.base[0] != '{')
        return -EBADMSG;
    out->time_ns = (int64_t)t;
    out->type = f[2];
    out->prev = f[3];
    return 0;
}

/* Keeps what the key's source holds, without trailing whitespace (an editor's newline). */
static int take_key(const char *value, size_t len, uint8_t *key, size_t *key_len)
{
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len < GW_AUDIT_KEY_MIN || len > GW_AUDIT_KEY_MAX)
        return -EINVAL;
    memcpy(key, value, len);
    *key_len = len;
    return 0;
}

int gw_audit_key_load(const char *file, const char *env, uint8_t *key, size_t *len)
{
    char buf[GW_AUDIT_KEY_MAX + 64];
    ssize_t n;
    int fd, ret;

    if (file == NULL) {
        const char *v = env != NULL ? getenv(env) : NULL;
        if (v == NULL)
            return -ENOENT;
        return take_key(v, strlen(v), key, len);
    }
    if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf));
    ret = n < 0 ? -errno : take_key(buf, (size_t)n, key, len);
    close(fd);
    OPENSSL_cleanse(buf, sizeof(buf));
    return ret;
}
