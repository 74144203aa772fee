/* sm4_bench — GB/s of one core encrypting a 64 MiB buffer: yc_sm4_ctr on each path this CPU can
 * run, and OpenSSL's SM4-CTR, AES-256-CTR and AES-256-GCM for reference, and the two GCMs the
 * encrypted objects' blocks use (yc_sm4_gcm, and yc_aes256_gcm where the CPU has VAES) sealing
 * 64 KiB messages as the blocks are, into a second buffer and in place (as a GET opens a decoded
 * stripe's blocks). Each figure is the best
 * of ROUNDS passes (the machine is shared: the best is the least disturbed) and the median;
 * every round runs each cipher once, so the ratios compare passes made under the same load. The
 * rate over the thread's CPU time is printed too: on a loaded machine it is the better estimate
 * of what one core does (it still counts cache and frequency shared with the other work).
 * Output is a Markdown table.
 *
 *   bin/sm4_bench [MIB] [ROUNDS]     (defaults 64, 5)
 */
#include "common/clock.h"
#include "common/aes_gcm.h"
#include "common/sm4.h"
#include "common/sm4_gcm.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The calling thread's CPU time: on a shared machine, wall time also counts the time other
 * work held the core. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef int (*pass_fn)(const uint8_t *in, uint8_t *out, size_t n, const void *arg);

static const uint8_t bench_key[32] = "yuncang sm4 bench key, 32 bytes";
static const uint8_t bench_iv[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff, 0xff, 0xff, 0xf0};

static int pass_yc(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    yc_sm4_ctr(arg, bench_iv, in, out, n);
    return 0;
}

static int pass_evp(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    const EVP_CIPHER *cipher = arg;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t tag[16];
    int len = 0, ok = 1;

    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, cipher, NULL, bench_key, bench_iv) == 1;
    /* whole 1 MiB pieces, as the object pipeline feeds it */
    for (size_t off = 0; ok && off < n; off += 1 << 20) {
        size_t piece = n - off < (1 << 20) ? n - off : (1 << 20);
        ok = EVP_EncryptUpdate(ctx, out + off, &len, in + off, (int)piece) == 1;
    }
    ok = ok && EVP_EncryptFinal_ex(ctx, out, &len) == 1;
    if (ok && EVP_CIPHER_CTX_get_mode(ctx) == EVP_CIPH_GCM_MODE)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* GCM as the object blocks use it: one sealed message (nonce, tag) per 64 KiB */
#define GCM_MESSAGE (64 * 1024)

static int pass_aes_gcm(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    uint8_t tag[16];
    for (size_t off = 0; off < n; off += GCM_MESSAGE)
        yc_aes256_gcm_seal(arg, bench_iv, NULL, 0, in + off, n - off < GCM_MESSAGE ? n - off : GCM_MESSAGE, out + off,
                           tag);
    return 0;
}

static int pass_sm4_gcm(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    uint8_t tag[16];
    for (size_t off = 0; off < n; off += GCM_MESSAGE)
        yc_sm4_gcm_seal(arg, bench_iv, NULL, 0, in + off, n - off < GCM_MESSAGE ? n - off : GCM_MESSAGE, out + off,
                        tag);
    return 0;
}

/* The same in place (out ignored): what a GET does to a decoded stripe's blocks, where the other
 * rows write a second buffer (the chunk a GET sent before it opened blocks in place). */
static int pass_aes_gcm_in_place(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    return pass_aes_gcm(in, (uint8_t *)in, n, arg);
}

static int pass_sm4_gcm_in_place(const uint8_t *in, uint8_t *out, size_t n, const void *arg)
{
    return pass_sm4_gcm(in, (uint8_t *)in, n, arg);
}

typedef struct {
    const char *name;
    pass_fn fn;
    const void *arg;
    const char *path;    /* yc_sm4_ctr's path, or NULL */
    double rate[64];     /* GB/s of wall time */
    double cpu_rate[64]; /* GB/s of the thread's CPU time: what one core does while it runs */
} row_t;

/* Runs one pass of every row per round, so that each round's passes share the machine's load
 * of the moment and the ratios between rows stay fair when other work comes and goes. */
static int measure(row_t *rows, size_t n_rows, const uint8_t *in, uint8_t *out, size_t n, int rounds)
{
    for (int r = -1; r < rounds; r++) { /* round -1 warms up: pages touched, code paged in */
        for (size_t i = 0; i < n_rows; i++) {
            if (rows[i].path != NULL && yc_sm4_use_impl(rows[i].path) != 0)
                return -1;
            int64_t start = yc_mono_ns(), cpu_start = thread_cpu_ns();
            if (rows[i].fn(in, out, n, rows[i].arg) != 0)
                return -1;
            if (r >= 0) {
                rows[i].rate[r] = (double)n / (double)(yc_mono_ns() - start);
                rows[i].cpu_rate[r] = (double)n / (double)(thread_cpu_ns() - cpu_start);
            }
        }
    }
    for (size_t i = 0; i < n_rows; i++) {
        qsort(rows[i].rate, (size_t)rounds, sizeof(double), cmp_double);
        qsort(rows[i].cpu_rate, (size_t)rounds, sizeof(double), cmp_double);
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    static const char *const paths[] = {"vaes-avx2", "aesni-avx2", "arm64-sm4e", "arm64-neon", "c"};
    yc_sm4_key k;

    if (mib < 1 || mib > 4096 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: sm4_bench [MIB 1..4096] [ROUNDS 1..64]\n");
        return 2;
    }
    size_t n = mib << 20;
    uint8_t *in = malloc(n), *out = malloc(n);
    if (in == NULL || out == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(i * 131 + (i >> 12));
    yc_sm4_set_key(&k, bench_key);

    static const char *const names[] = {"yc_sm4_ctr, vaes-avx2", "yc_sm4_ctr, aesni-avx2", "yc_sm4_ctr, arm64-sm4e",
                                        "yc_sm4_ctr, arm64-neon", "yc_sm4_ctr, c"};
    static yc_aes256_gcm_key aes_gcm;
    static yc_sm4_gcm_key sm4_gcm;
    row_t rows[12];
    size_t n_rows = 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (yc_sm4_use_impl(paths[i]) == 0)
            rows[n_rows++] = (row_t){names[i], pass_yc, &k, paths[i], {0}};
    size_t ref = n_rows; /* OpenSSL's SM4-CTR, the reference of the ratios */
    rows[n_rows++] = (row_t){"OpenSSL SM4-CTR", pass_evp, EVP_sm4_ctr(), NULL, {0}};
    rows[n_rows++] = (row_t){"OpenSSL AES-256-CTR", pass_evp, EVP_aes_256_ctr(), NULL, {0}};
    rows[n_rows++] = (row_t){"OpenSSL AES-256-GCM", pass_evp, EVP_aes_256_gcm(), NULL, {0}};
    yc_sm4_gcm_init(&sm4_gcm, bench_key);
    rows[n_rows++] = (row_t){"yc_sm4_gcm, 64 KiB messages", pass_sm4_gcm, &sm4_gcm, yc_sm4_impl_best(), {0}};
    rows[n_rows++] =
        (row_t){"yc_sm4_gcm, 64 KiB messages, in place", pass_sm4_gcm_in_place, &sm4_gcm, yc_sm4_impl_best(), {0}};
    if (yc_aes256_gcm_init(&aes_gcm, bench_key) == 0) {
        rows[n_rows++] = (row_t){"yc_aes256_gcm (VAES), 64 KiB messages", pass_aes_gcm, &aes_gcm, NULL, {0}};
        rows[n_rows++] =
            (row_t){"yc_aes256_gcm (VAES), 64 KiB messages, in place", pass_aes_gcm_in_place, &aes_gcm, NULL, {0}};
    }
    if (measure(rows, n_rows, in, out, n, rounds) != 0) {
        fprintf(stderr, "sm4_bench: a pass failed\n");
        return 1;
    }
    yc_sm4_use_impl(yc_sm4_impl_best());
    printf("%zu MiB buffer, one thread, %d rounds of one pass each; automatic SM4 path: %s\n\n", mib, rounds,
           yc_sm4_impl_best());
    printf("| cipher | best GB/s | median GB/s | best GB/s of CPU time | best / OpenSSL SM4-CTR best | "
           "same, CPU time |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n_rows; i++) {
        double best = rows[i].rate[rounds - 1], median = rows[i].rate[rounds / 2];
        double cpu_best = rows[i].cpu_rate[rounds - 1];
        printf("| %s | %.3f | %.3f | %.3f | %.1fx | %.1fx |\n", rows[i].name, best, median, cpu_best,
               best / rows[ref].rate[rounds - 1], cpu_best / rows[ref].cpu_rate[rounds - 1]);
    }
    free(in);
    free(out);
    return 0;
}
