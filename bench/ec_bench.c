/* ec_bench.c — single-thread throughput of the erasure module against raw ISA-L.
 *
 * For each geometry the same buffers are coded four ways: ec_encode, ec_encode_data called
 * directly with tables built here, ec_reconstruct with min(k, m) data blocks lost (the same
 * pattern every call, so after the first call its decode tables come from the module's cache, as
 * they do while a drive is down) and ec_encode_data with decode tables prepared here. The ratios
 * show what the module adds over ISA-L; a second table gives the cost of a decode-cache miss.
 * Rounds alternate between the module and raw ISA-L so that frequency drift hits both, and the
 * best round of each is kept. Throughput is data bytes in (k * block_len) per second, 1 GB = 1e9.
 *
 *     ec_bench [seconds per round]    (default 0.04; twelve rounds per figure)
 */
#include "common/clock.h"
#include "erasure/erasure.h"

#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 12

static double round_seconds = 0.04;

static double now(void)
{
    return (double)yc_mono_ns() * 1e-9;
}

typedef struct {
    uint32_t k, m, nlost;
    size_t block_len;
    const ec_codec_t *codec;
    uint8_t *stripe;                 /* k * block_len source bytes for the split path */
    uint8_t *shards[EC_MAX_SHARDS];  /* k data then m parity blocks, 64-byte aligned */
    uint8_t *scratch[EC_MAX_SHARDS]; /* where lost blocks are rebuilt */
    uint8_t raw_encode_tables[16 * 16 * 32];
    uint8_t raw_decode_tables[16 * 16 * 32];
    uint8_t *raw_src[EC_MAX_SHARDS]; /* survivors for the raw decode */
    uint8_t raw_sub[16 * 16];        /* their generator rows */
    uint8_t scratch_tables[16 * 16 * 32];
} bench_t;

typedef void (*bench_fn)(bench_t *b);

static void run_encode(bench_t *b)
{
    ec_encode(b->codec, b->block_len, (const uint8_t *const *)b->shards, b->shards + b->k);
}

static void run_split_encode(bench_t *b)
{
    ec_split(b->codec, b->stripe, (size_t)b->k * b->block_len, b->block_len, b->shards);
    ec_encode(b->codec, b->block_len, (const uint8_t *const *)b->shards, b->shards + b->k);
}

static void run_raw_encode(bench_t *b)
{
    ec_encode_data((int)b->block_len, (int)b->k, (int)b->m, b->raw_encode_tables, b->shards, b->shards + b->k);
}

/* Data blocks 0..nlost-1 are lost and rebuilt into scratch; every parity block is present. */
static void run_reconstruct(bench_t *b)
{
    uint8_t *shards[EC_MAX_SHARDS], present[EC_MAX_SHARDS];

    for (uint32_t i = 0; i < b->k + b->m; i++) {
        present[i] = i >= b->nlost;
        shards[i] = present[i] ? b->shards[i] : b->scratch[i];
    }
    ec_reconstruct(b->codec, b->block_len, shards, present);
}

static void run_raw_decode(bench_t *b)
{
    ec_encode_data((int)b->block_len, (int)b->k, (int)b->nlost, b->raw_decode_tables, b->raw_src, b->scratch);
}

/* What the module does on a decode-cache miss: invert the survivors' rows and expand the lost
 * rows into tables. Here only data blocks are lost, so the lost rows are rows of the inverse. */
static void run_table_build(bench_t *b)
{
    uint32_t k = b->k;
    uint8_t sub[16 * 16], inv[16 * 16];

    memcpy(sub, b->raw_sub, (size_t)k * k);
    gf_invert_matrix(sub, inv, (int)k);
    ec_init_tables((int)k, (int)b->nlost, inv, b->scratch_tables);
}

static uint8_t checksum_buf[1 << 20];
static size_t checksum_len;
static volatile uint64_t checksum_sink;

static void run_checksum(bench_t *b)
{
    (void)b;
    checksum_sink += ec_block_checksum(checksum_buf, checksum_len);
}

/* GB/s of `bytes` per call over one round of fn. */
static double measure_round(bench_t *b, bench_fn fn, double bytes)
{
    double start = now(), elapsed;
    uint64_t calls = 0;

    do {
        for (int i = 0; i < 8; i++)
            fn(b);
        calls += 8;
    } while ((elapsed = now() - start) < round_seconds);
    return bytes * (double)calls / elapsed / 1e9;
}

/* Best of ROUNDS rounds of fn_a and of fn_b, run alternately so that other load on the machine
 * and frequency changes hit both alike; the best round is the least disturbed one. */
static void measure_pair(bench_t *b, bench_fn fn_a, bench_fn fn_b, double bytes, double *a, double *best_b)
{
    *a = *best_b = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double v;

        if ((v = measure_round(b, fn_a, bytes)) > *a)
            *a = v;
        if (fn_b != NULL && (v = measure_round(b, fn_b, bytes)) > *best_b)
            *best_b = v;
    }
}

static void *alloc_aligned(size_t len)
{
    void *p = NULL;

    if (posix_memalign(&p, 64, len ? len : 1) != 0) {
        fprintf(stderr, "ec_bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* Decode tables for losing data blocks 0..nlost-1, derived here from the generator with ISA-L
 * alone, so that the raw figure does not go through the module under test. */
static void raw_decode_setup(bench_t *b)
{
    uint32_t k = b->k, n = b->k + b->m;
    uint8_t gen[16 * 16], sub[16 * 16], inv[16 * 16], rows[16 * 16];

    gf_gen_cauchy1_matrix(gen, (int)n, (int)k);
    for (uint32_t r = 0; r < k; r++) {
        b->raw_src[r] = b->shards[b->nlost + r];
        memcpy(sub + r * k, gen + (b->nlost + r) * k, k);
    }
    memcpy(b->raw_sub, sub, (size_t)k * k);
    if (gf_invert_matrix(sub, inv, (int)k) != 0) {
        fprintf(stderr, "ec_bench: singular decode matrix\n");
        exit(1);
    }
    memcpy(rows, inv, (size_t)b->nlost * k);
    ec_init_tables((int)k, (int)b->nlost, rows, b->raw_decode_tables);
    ec_init_tables((int)k, (int)b->m, gen + k * k, b->raw_encode_tables);
}

static void bench_setup(bench_t *b, uint32_t k, uint32_t m, uint32_t stripe_size)
{
    ec_geometry_t g = {k, m, stripe_size};

    memset(b, 0, sizeof(*b));
    b->k = k;
    b->m = m;
    b->nlost = m < k ? m : k;
    b->block_len = ec_block_len(&g, stripe_size, 0);
    if (ec_codec_get(k, m, &b->codec) != 0) {
        fprintf(stderr, "ec_bench: bad geometry %u+%u\n", k, m);
        exit(1);
    }
    b->stripe = alloc_aligned((size_t)k * b->block_len);
    for (size_t i = 0; i < (size_t)k * b->block_len; i++)
        b->stripe[i] = (uint8_t)(i * 2654435761u >> 13);
    for (uint32_t i = 0; i < k + m; i++) {
        b->shards[i] = alloc_aligned(b->block_len);
        b->scratch[i] = alloc_aligned(b->block_len);
    }
    ec_split(b->codec, b->stripe, (size_t)k * b->block_len, b->block_len, b->shards);
    ec_encode(b->codec, b->block_len, (const uint8_t *const *)b->shards, b->shards + k);
    raw_decode_setup(b);
}

/* Checks once that the module rebuilt the right bytes, so the figures measure correct work. */
static void bench_verify(bench_t *b)
{
    run_reconstruct(b);
    for (uint32_t i = 0; i < b->nlost; i++)
        if (memcmp(b->scratch[i], b->shards[i], b->block_len) != 0) {
            fprintf(stderr, "ec_bench: %u+%u reconstruct mismatch\n", b->k, b->m);
            exit(1);
        }
}

static void bench_free(bench_t *b)
{
    free(b->stripe);
    for (uint32_t i = 0; i < b->k + b->m; i++) {
        free(b->shards[i]);
        free(b->scratch[i]);
    }
}

static void print_cpu(void)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "model name", 10) == 0) {
            printf("cpu: %s", strchr(line, ':') + 2);
            break;
        }
    if (f != NULL)
        fclose(f);
}

int main(int argc, char **argv)
{
    static const uint32_t geometries[][2] = {{2, 1}, {4, 2}, {8, 4}, {12, 4}};
    static const uint32_t small_stripes[] = {1024 * 1024, 128 * 1024, 16 * 1024};
    bench_t b;

    if (argc > 1 && (round_seconds = atof(argv[1])) <= 0) {
        fprintf(stderr, "usage: ec_bench [seconds per round]\n");
        return 2;
    }
    print_cpu();
    printf("single thread, best of %d rounds of %.2f s, GB/s = 1e9 data bytes in per second\n\n", ROUNDS,
           round_seconds);

    printf("### 1 MiB stripes\n\n");
    printf("| k+m | block | encode | raw ec_encode_data | ratio | split+encode | reconstruct (lost) | raw decode "
           "| ratio |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (size_t g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++) {
        bench_setup(&b, geometries[g][0], geometries[g][1], EC_DEFAULT_STRIPE_SIZE);
        bench_verify(&b);
        double bytes = (double)b.k * (double)b.block_len;
        double enc, raw, rec, rawdec, split, unused;
        measure_pair(&b, run_encode, run_raw_encode, bytes, &enc, &raw);
        measure_pair(&b, run_reconstruct, run_raw_decode, bytes, &rec, &rawdec);
        measure_pair(&b, run_split_encode, NULL, bytes, &split, &unused);
        printf("| %u+%u | %zu | %.2f | %.2f | %.0f%% | %.2f | %.2f (%u) | %.2f | %.0f%% |\n", b.k, b.m, b.block_len,
               enc, raw, 100 * enc / raw, split, rec, b.nlost, rawdec, 100 * rec / rawdec);
        bench_free(&b);
    }

    /* A decode-cache miss costs one table build: it weighs most on the small stripes of inline
     * objects, which is why the module caches decode tables per loss pattern. */
    printf("\n### reconstruct on small stripes, and the cost of a decode-cache miss\n\n");
    printf("| k+m | stripe | block | reconstruct (cached tables) | raw decode | ratio | table build per miss | "
           "decode of one stripe |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof(small_stripes) / sizeof(small_stripes[0]); s++)
        for (size_t g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++) {
            bench_setup(&b, geometries[g][0], geometries[g][1], small_stripes[s]);
            bench_verify(&b);
            double bytes = (double)b.k * (double)b.block_len;
            double rec, rawdec, build, unused;
            measure_pair(&b, run_reconstruct, run_raw_decode, bytes, &rec, &rawdec);
            measure_pair(&b, run_table_build, NULL, 1.0, &build, &unused);
            double build_us = 1e-3 / build; /* calls per ns -> us per call */
            printf("| %u+%u | %u KiB | %zu | %.2f | %.2f | %.0f%% | %.2f us | %.2f us |\n", b.k, b.m,
                   small_stripes[s] / 1024, b.block_len, rec, rawdec, 100 * rec / rawdec, build_us,
                   bytes / rawdec / 1e3);
            bench_free(&b);
        }

    printf("\n### checksum (xxh3-64)\n\n| block | GB/s |\n|---|---|\n");
    static const size_t checksum_blocks[] = {4096, 87382, 262144, 1048576};
    for (size_t i = 0; i < sizeof(checksum_blocks) / sizeof(checksum_blocks[0]); i++) {
        size_t len = checksum_blocks[i];
        double best, unused;

        checksum_len = len;
        measure_pair(NULL, run_checksum, NULL, (double)len, &best, &unused);
        printf("| %zu | %.2f |\n", len, best);
    }
    return 0;
}
