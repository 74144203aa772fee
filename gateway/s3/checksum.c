/* checksum.c — incremental S3 checksums.
 *
 * CRC32 (IEEE, as gzip) and CRC32C (Castagnoli, as iSCSI) come from ISA-L, which picks the fastest
 * kernel for the CPU at run time. ISA-L's gzip CRC inverts around the call itself, the iSCSI one does
 * not, so the CRC32C state is kept inverted here. CRC64NVME (the NVMe / "Rocksoft" CRC-64 S3 uses for
 * full-object checksums) is not in the packaged ISA-L; it is a slice-by-8 table CRC built once.
 * SHA-1, SHA-256 and MD5 go through OpenSSL's EVP interface. S3 sends CRCs big-endian, then base64.
 *
 * Combining CRCs: the three CRCs S3 uses are reflected, start from all ones and end with an xor of all
 * ones, so CRC(A B) = CRC(A) * x^(8 |B|) mod P  xor  CRC(B) in GF(2)[x] (the pre- and post-conditioning
 * cancel out). The powers x^(2^k) mod P are tabled once per polynomial; x^(8n) is then the product of
 * the powers of n's set bits, so a combine costs at most 64 multiplications whatever the length.
 */
#include "gateway/s3/checksum.h"
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
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

/* ---- CRC combination ---- */

enum { COMBINE_CRC32, COMBINE_CRC32C, COMBINE_CRC64NVME, COMBINE_POLYS };
#define X2N_POWERS 67 /* x^(2^k) for k < 67: enough for 8 * (2^64 - 1) bits */

/* reflected polynomials and the bit that stands for x^0 in their registers */
static const uint64_t combine_poly[COMBINE_POLYS] = {0xedb88320u, 0x82f63b78u, CRC64NVME_POLY_REFLECTED};
static const uint64_t combine_one[COMBINE_POLYS] = {1ULL << 31, 1ULL << 31, 1ULL << 63};

/* Built once by x2n_init_tables, read-only afterwards. */
static uint64_t x2n_table[COMBINE_POLYS][X2N_POWERS];
static pthread_once_t x2n_once = PTHREAD_ONCE_INIT;

/* a(x) * b(x) mod P, both in reflected form; a must not be zero */
static uint64_t gf2_multiply(int poly, uint64_t a, uint64_t b)
{
    uint64_t m = combine_one[poly], p = 0;

    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ combine_poly[poly] : b >> 1;
    }
    return p;
}

static void x2n_init_tables(void)
{
    for (int poly = 0; poly < COMBINE_POLYS; poly++) {
        x2n_table[poly][0] = combine_one[poly] >> 1; /* x^1 */
        for (int k = 1; k < X2N_POWERS; k++)
            x2n_table[poly][k] = gf2_multiply(poly, x2n_table[poly][k - 1], x2n_table[poly][k - 1]);
    }
}

/* x^(8 * bytes) mod P */
static uint64_t x8n_mod(int poly, uint64_t bytes)
{
    uint64_t p = combine_one[poly];

    for (int k = 3; bytes != 0; k++, bytes >>= 1)
        if (bytes & 1)
            p = gf2_multiply(poly, x2n_table[poly][k], p);
    return p;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be(uint8_t *p, size_t n, uint64_t v)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

int s3_checksum_combine(s3_checksum_alg_t alg, const uint8_t *crc_a, const uint8_t *crc_b, uint64_t len_b, uint8_t *out)
{
    int poly;
    size_t n = s3_checksum_size(alg);

    switch (alg) {
    case S3_CHECKSUM_CRC32:
        poly = COMBINE_CRC32;
        break;
    case S3_CHECKSUM_CRC32C:
        poly = COMBINE_CRC32C;
        break;
    case S3_CHECKSUM_CRC64NVME:
        poly = COMBINE_CRC64NVME;
        break;
    default:
        return S3_CHECKSUM_EINVAL;
    }
    pthread_once(&x2n_once, x2n_init_tables);
    put_be(out, n, gf2_multiply(poly, x8n_mod(poly, len_b), get_be(crc_a, n)) ^ get_be(crc_b, n));
    return 0;
}

/* ---- multipart objects ---- */

const char *s3_checksum_type_name(s3_checksum_type_t type)
{
    switch (type) {
    case S3_CHECKSUM_TYPE_FULL_OBJECT:
        return "FULL_OBJECT";
    case S3_CHECKSUM_TYPE_COMPOSITE:
        return "COMPOSITE";
    default:
        return NULL;
    }
}

int s3_checksum_type_from_name(h2o_iovec_t name, s3_checksum_type_t *out)
{
    if (h2o_memis(name.base, name.len, H2O_STRLIT("FULL_OBJECT")))
        *out = S3_CHECKSUM_TYPE_FULL_OBJECT;
    else if (h2o_memis(name.base, name.len, H2O_STRLIT("COMPOSITE")))
        *out = S3_CHECKSUM_TYPE_COMPOSITE;
    else
        return S3_CHECKSUM_EINVAL;
    return 0;
}

int s3_checksum_type_allowed(s3_checksum_alg_t alg, s3_checksum_type_t type)
{
    switch (alg) {
    case S3_CHECKSUM_CRC32:
    case S3_CHECKSUM_CRC32C:
        return type == S3_CHECKSUM_TYPE_FULL_OBJECT || type == S3_CHECKSUM_TYPE_COMPOSITE;
    case S3_CHECKSUM_CRC64NVME:
        return type == S3_CHECKSUM_TYPE_FULL_OBJECT;
    case S3_CHECKSUM_SHA1:
    case S3_CHECKSUM_SHA256:
        return type == S3_CHECKSUM_TYPE_COMPOSITE;
    default:
        return 0;
    }
}

s3_checksum_type_t s3_checksum_type_default(s3_checksum_alg_t alg)
{
    switch (alg) {
    case S3_CHECKSUM_CRC64NVME:
        return S3_CHECKSUM_TYPE_FULL_OBJECT;
    case S3_CHECKSUM_CRC32:
    case S3_CHECKSUM_CRC32C:
    case S3_CHECKSUM_SHA1:
    case S3_CHECKSUM_SHA256:
        return S3_CHECKSUM_TYPE_COMPOSITE;
    default:
        return S3_CHECKSUM_TYPE_NONE;
    }
}

int s3_checksum_multipart_init(s3_checksum_multipart_t *m, s3_checksum_alg_t alg, s3_checksum_type_t type)
{
    memset(m, 0, sizeof(*m));
    if (!s3_checksum_type_allowed(alg, type))
        return S3_CHECKSUM_EINVAL;
    m->alg = alg;
    m->type = type;
    /* the CRC of nothing is 0 for all three CRCs (init and final xor cancel): the start of a combine */
    return type == S3_CHECKSUM_TYPE_COMPOSITE ? s3_checksum_init(&m->digests, alg) : 0;
}

int s3_checksum_multipart_add(s3_checksum_multipart_t *m, const uint8_t *digest, size_t len, uint64_t part_size)
{
    if (len != s3_checksum_size(m->alg) || m->parts >= S3_CHECKSUM_MAX_PARTS)
        return S3_CHECKSUM_EINVAL;
    m->parts++;
    if (m->type == S3_CHECKSUM_TYPE_FULL_OBJECT)
        return s3_checksum_combine(m->alg, m->full, digest, part_size, m->full);
    return s3_checksum_update(&m->digests, digest, len);
}

int s3_checksum_multipart_final(s3_checksum_multipart_t *m, char out[S3_CHECKSUM_MAX_WIRE], size_t *out_len)
{
    uint8_t digest[S3_CHECKSUM_MAX_SIZE];
    size_t n;
    int ret;

    if (m->type == S3_CHECKSUM_TYPE_FULL_OBJECT) {
        *out_len = yc_base64_encode(m->full, s3_checksum_size(m->alg), out);
        return 0;
    }
    if (m->type != S3_CHECKSUM_TYPE_COMPOSITE)
        return S3_CHECKSUM_EINVAL;
    if ((ret = s3_checksum_final(&m->digests, digest, &n)) != 0)
        return ret;
    n = yc_base64_encode(digest, n, out);
    /* base64 of at most 32 bytes is 44 characters, "-10000" at most 6 more */
    *out_len = n + (size_t)snprintf(out + n, S3_CHECKSUM_MAX_WIRE - n, "-%u", m->parts);
    return 0;
}

void s3_checksum_multipart_dispose(s3_checksum_multipart_t *m)
{
    s3_checksum_dispose(&m->digests);
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

int s3_checksum_from_base64(h2o_iovec_t in, uint8_t *out, size_t out_size, size_t *out_len)
{
    return yc_base64_decode(in.base, in.len, out, out_size, out_len) == 0 ? 0 : S3_CHECKSUM_EINVAL;
}

int s3_checksum_from_hex(h2o_iovec_t in, uint8_t *out, size_t out_len)
{
    return in.len == 2 * out_len && yc_unhex(in.base, out_len, out) == 0 ? 0 : S3_CHECKSUM_EINVAL;
}

int s3_checksum_compare_base64(const uint8_t *digest, size_t len, h2o_iovec_t b64)
{
    uint8_t sent[S3_CHECKSUM_MAX_SIZE];
    size_t sent_len;

    if (s3_checksum_from_base64(b64, sent, sizeof(sent), &sent_len) != 0 || sent_len != len)
        return S3_CHECKSUM_EINVAL;
    return memcmp(sent, digest, len) == 0 ? 0 : S3_CHECKSUM_MISMATCH;
}
