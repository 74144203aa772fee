/* datapass_bench.c — the data pass of a 64 MiB PUT alone (gw_data_write: MD5, encode, appends,
 * commit), no network: a source that holds one stripe at a time (each hashed before the next is
 * taken) against one that holds three (the hash chain runs behind the writer), alternating.
 *
 *   datapass_bench [DIR [REPS]]   (DIR: where the six drives go, default /tmp; REPS default 8)
 *
 * Prints each run's wall time and, per mode, the fastest and the median: on a machine shared with
 * other work the fastest run is the one least disturbed. */
#include "gateway/gw_object.h"
#include "common/clock.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDRIVES 6
#define SIZE    (64u << 20)

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static const uint8_t *mem_next(void *arg, uint64_t off, size_t len)
{
    return (const uint8_t *)arg + off;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int reps = argc > 2 ? atoi(argv[2]) : 8;
    char root[256], paths[NDRIVES][300];
    const char *specs[NDRIVES];
    gw_cluster_t *c;
    double ms[2][64];

    if (reps < 1 || reps > 64)
        reps = 8;
    snprintf(root, sizeof(root), "%s/yc-datapass-XXXXXX", dir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < NDRIVES; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/drive%d", root, i + 1);
        specs[i] = paths[i];
    }
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = NDRIVES,
                               .k = 4,
                               .m = 2,
                               .stripe_size = 1 << 20,
                               .inline_max = 128 * 1024,
                               .lane_threads = 16};
    if (gw_cluster_open(&cfg, &c) != 0) {
        fprintf(stderr, "datapass_bench: cannot open the drives under %s\n", root);
        return 1;
    }
    uint8_t *body = malloc(SIZE);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; body != NULL && i < SIZE; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(body + i, &x, 8);
    }
    meta_bytes_t bucket = {"b", 1}, key = {"k", 1};
    uint8_t dist[16];
    gw_set_t *set = gw_cluster_place(c, bucket, key, dist);
    int failed = body == NULL;
    for (int r = 0; r < reps && !failed; r++) {
        for (int mode = 0; mode < 2; mode++) {
            gw_source_t src = {.next = mem_next, .arg = body};
            if (mode == 1) {
                src.next_hold = mem_next;
                src.hold = 3;
            }
            gw_data_t data;
            int64_t t0 = yc_mono_ns();
            if (gw_data_write(c, set, dist, src, SIZE, 1, NULL, NULL, &data) != 0) {
                failed = 1;
                break;
            }
            ms[mode][r] = (double)(yc_mono_ns() - t0) / 1e6;
            printf("run=%d hold=%d ms=%.1f mib_s=%.1f\n", r, mode == 0 ? 1 : 3, ms[mode][r],
                   64.0 * 1000.0 / ms[mode][r]);
            gw_data_remove(c, &data);
            gw_data_dispose(&data);
        }
    }
    for (int mode = 0; mode < 2 && !failed; mode++) {
        qsort(ms[mode], (size_t)reps, sizeof(double), cmp);
        printf("hold=%d fastest_ms=%.1f median_ms=%.1f fastest_mib_s=%.1f\n", mode == 0 ? 1 : 3, ms[mode][0],
               ms[mode][reps / 2], 64.0 * 1000.0 / ms[mode][0]);
    }
    gw_cluster_close(c);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(body);
    return failed;
}
