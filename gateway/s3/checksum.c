/* checksum.c — incremental S3 checksums.
 *
 * CRC32 (IEEE, as gzip) and CRC32C (Castagnoli, as iSCSI) come from ISA-L, which picks the fastest
 * kernel for the CPU at run time. ISA-L's gzip CRC inverts around the call itself, the iSCSI one does
 * not, so the CRC32C state is kept inverted here. CRC64NVME (the NVMe / "Rocksoft" CRC-64 S3 uses for
 * full-object checksums) is not in the packaged ISA-L; it is a slice-by-8 table CRC built once.
 * SHA-1, SHA-256 and MD5 go through OpenSSL's EVP interface. S3 sends CRCs big-endian, then base64.
 */
#include "gateway/s3/checksum.h"
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <isa-l/crc.h>
#include <openssl/evp.h>

/* reflected form of the NVMe CRC-64 polynomial 0xad93d23594c93659 */
#define CRC64NVME_POLY_REFLECTED 0x9a6c9329ac4bc9b5ULL

/* Built once by crc64_init_tables, read-only afterwards. */
static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init_tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ CRC64NVME_POLY_REFLECTED : c >> 1;
        crc64_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
}

/* crc is the raw (inverted) register */
static uint64_t crc64_update(uint64_t crc, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint64_t v = crc ^ ((uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                            (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
        crc = crc64_table[7][v & 0xff] ^ crc64_table[6][(v >> 8) & 0xff] ^ crc64_table[5][(v >> 16) & 0xff] ^
              crc64_table[4][(v >> 24) & 0xff] ^ crc64_table[3][(v >> 32) & 0xff] ^ crc64_table[2][(v >> 40) & 0xff] ^
              crc64_table[1][(v >> 48) & 0xff] ^ crc64_table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

static const EVP_MD *md_of(s3_checksum_alg_t alg)
{
    switch (alg) {
    case S3_CHECKSUM_SHA1:
        return EVP_sha1();
    case S3_CHECKSUM_SHA256:
        return EVP_sha256();
    case S3_CHECKSUM_MD5:
        return EVP_md5();
    default:
        return NULL;
    }
}

size_t s3_checksum_size(s3_checksum_alg_t alg)
{
    switch (alg) {
    case S3_CHECKSUM_CRC32:
    case S3_CHECKSUM_CRC32C:
        return 4;
    case S3_CHECKSUM_CRC64NVME:
        return 8;
    case S3_CHECKSUM_SHA1:
        return 20;
    case S3_CHECKSUM_SHA256:
        return 32;
    case S3_CHECKSUM_MD5:
        return 16;
    default:
        return 0;
    }
}

int s3_checksum_init(s3_checksum_t *c, s3_checksum_alg_t alg)
{
    memset(c, 0, sizeof(*c));
    switch (alg) {
    case S3_CHECKSUM_CRC32:
        c->crc32 = 0; /* ISA-L's gzip CRC takes and returns the finished value */
        break;
    case S3_CHECKSUM_CRC32C:
        c->crc32 = 0xffffffffu;
        break;
    case S3_CHECKSUM_CRC64NVME:
        pthread_once(&crc64_once, crc64_init_tables);
        c->crc64 = ~0ULL;
        break;
    case S3_CHECKSUM_SHA1:
    case S3_CHECKSUM_SHA256:
    case S3_CHECKSUM_MD5:
        if ((c->md = EVP_MD_CTX_new()) == NULL)
            return S3_CHECKSUM_NOMEM;
        if (EVP_DigestInit_ex(c->md, md_of(alg), NULL) != 1) {
            EVP_MD_CTX_free(c->md);
            c->md = NULL;
            return S3_CHECKSUM_NOMEM;
        }
        break;
    default:
        return S3_CHECKSUM_EINVAL;
    }
    c->alg = alg;
    return 0;
}

int s3_checksum_update(s3_checksum_t *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    switch (c->alg) {
    case S3_CHECKSUM_CRC32:
        c->crc32 = crc32_gzip_refl(c->crc32, (unsigned char *)p, len);
        return 0;
    case S3_CHECKSUM_CRC32C:
        /* ISA-L takes an int length: feed huge buffers in pieces */
        while (len > 0) {
            int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
            c->crc32 = crc32_iscsi((unsigned char *)p, n, c->crc32);
            p += n;
            len -= (size_t)n;
        }
        return 0;
    case S3_CHECKSUM_CRC64NVME:
        c->crc64 = crc64_update(c->crc64, p, len);
        return 0;
    case S3_CHECKSUM_SHA1:
    case S3_CHECKSUM_SHA256:
    case S3_CHECKSUM_MD5:
        if (c->md == NULL || (len > 0 && EVP_DigestUpdate(c->md, p, len) != 1))
            return S3_CHECKSUM_NOMEM;
        return 0;
    default:
        return S3_CHECKSUM_EINVAL;
    }
}

int s3_checksum_final(s3_checksum_t *c, uint8_t out[S3_CHECKSUM_MAX_SIZE], size_t *out_len)
{
    unsigned int n = 0;

    switch (c->alg) {
    case S3_CHECKSUM_CRC32:
    case S3_CHECKSUM_CRC32C: {
        uint32_t v = c->alg == S3_CHECKSUM_CRC32C ? ~c->crc32 : c->crc32;
        out[0] = (uint8_t)(v >> 24);
        out[1] = (uint8_t)(v >> 16);
        out[2] = (uint8_t)(v >> 8);
        out[3] = (uint8_t)v;
        *out_len = 4;
        return 0;
    }
    case S3_CHECKSUM_CRC64NVME: {
        uint64_t v = ~c->crc64;
        for (int i = 0; i < 8; i++)
            out[i] = (uint8_t)(v >> (56 - 8 * i));
        *out_len = 8;
        return 0;
    }
    case S3_CHECKSUM_SHA1:
    case S3_CHECKSUM_SHA256:
    case S3_CHECKSUM_MD5:
        if (c->md == NULL || EVP_DigestFinal_ex(c->md, out, &n) != 1)
            return S3_CHECKSUM_NOMEM;
        *out_len = n;
        return 0;
    default:
        return S3_CHECKSUM_EINVAL;
    }
}

void s3_checksum_dispose(s3_checksum_t *c)
{
    if (c->md != NULL)
        EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

int s3_checksum_compute(s3_checksum_alg_t alg, const void *data, size_t len, uint8_t out[S3_CHECKSUM_MAX_SIZE],
                        size_t *out_len)
{
    s3_checksum_t c;
    int ret;

    if ((ret = s3_checksum_init(&c, alg)) != 0)
        return ret;
    if ((ret = s3_checksum_update(&c, data, len)) == 0)
        ret = s3_checksum_final(&c, out, out_len);
    s3_checksum_dispose(&c);
    return ret;
}

static const struct {
    s3_checksum_alg_t alg;
    const char *name;
    const char *header;
} alg_names[] = {
    {S3_CHECKSUM_CRC32, "CRC32", "x-amz-checksum-crc32"},
    {S3_CHECKSUM_CRC32C, "CRC32C", "x-amz-checksum-crc32c"},
    {S3_CHECKSUM_CRC64NVME, "CRC64NVME", "x-amz-checksum-crc64nvme"},
    {S3_CHECKSUM_SHA1, "SHA1", "x-amz-checksum-sha1"},
    {S3_CHECKSUM_SHA256, "SHA256", "x-amz-checksum-sha256"},
    {S3_CHECKSUM_MD5, "MD5", NULL},
};

static int iovec_equals_nocase(h2o_iovec_t v, const char *s)
{
    size_t n = strlen(s);
    return v.len == n && strncasecmp(v.base, s, n) == 0;
}

int s3_checksum_alg_from_header(h2o_iovec_t name, s3_checksum_alg_t *out)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        if (alg_names[i].header != NULL && iovec_equals_nocase(name, alg_names[i].header)) {
            *out = alg_names[i].alg;
            return 0;
        }
    }
    return S3_CHECKSUM_EINVAL;
}

int s3_checksum_alg_from_name(h2o_iovec_t name, s3_checksum_alg_t *out)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        if (alg_names[i].header != NULL && iovec_equals_nocase(name, alg_names[i].name)) {
            *out = alg_names[i].alg;
            return 0;
        }
    }
    return S3_CHECKSUM_EINVAL;
}

const char *s3_checksum_header_name(s3_checksum_alg_t alg)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].header;
    return NULL;
}

const char *s3_checksum_alg_name(s3_checksum_alg_t alg)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    return NULL;
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t s3_checksum_to_base64(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_chars[v >> 18];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = b64_chars[(v >> 6) & 63];
        out[o++] = b64_chars[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_chars[v >> 18];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_chars[v >> 18];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = b64_chars[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int s3_checksum_from_base64(h2o_iovec_t in, uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t o = 0;

    if (in.len % 4 != 0)
        return S3_CHECKSUM_EINVAL;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char ch = in.base[i + k];
            /* '=' only in the last group, only in its last two places, and only trailing */
            if (ch == '=' && i + 4 == in.len && k >= 2 && (k == 3 || in.base[i + 3] == '=')) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[k] = b64_value(ch)) < 0)
                return S3_CHECKSUM_EINVAL;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t n = 3 - (size_t)pad;
        /* non-zero bits under the padding would make two spellings of one value: refuse them */
        if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
            return S3_CHECKSUM_EINVAL;
        if (o + n > out_size)
            return S3_CHECKSUM_EINVAL;
        out[o++] = (uint8_t)(w >> 16);
        if (n > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (n > 2)
            out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return 0;
}

void s3_checksum_to_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int s3_hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int s3_checksum_from_hex(h2o_iovec_t in, uint8_t *out, size_t out_len)
{
    if (in.len != 2 * out_len)
        return S3_CHECKSUM_EINVAL;
    for (size_t i = 0; i < out_len; i++) {
        int hi = s3_hex_digit(in.base[2 * i]), lo = s3_hex_digit(in.base[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return S3_CHECKSUM_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int s3_checksum_compare_base64(const uint8_t *digest, size_t len, h2o_iovec_t b64)
{
    uint8_t sent[S3_CHECKSUM_MAX_SIZE];
    size_t sent_len;

    if (s3_checksum_from_base64(b64, sent, sizeof(sent), &sent_len) != 0 || sent_len != len)
        return S3_CHECKSUM_EINVAL;
    return memcmp(sent, digest, len) == 0 ? 0 : S3_CHECKSUM_MISMATCH;
}
