/* test_store.c — the drive engine on real temp directories with a real RocksDB: shard files
 * (round trips, ranges, bitrot, torn headers, temp sweep), object and raw records, concurrent
 * writers, a crash test that SIGKILLs a writer process at random points and checks that
 * every acknowledged write survived and nothing torn is visible, and full drives on small
 * tmpfs mounts (skipped when one cannot be mounted).
 */
#include <sys/time.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store/store.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/errors.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_fs.h"

#define BUCKET "photos"

static const uint8_t zero_vid[META_ID_LEN];

static meta_bytes_t bytes(const char *s)
{
    return (meta_bytes_t){s, strlen(s)};
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Deterministic bytes for a seed: what a shard or an object holds is derived from its name. */
static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0)
            seed = splitmix(&seed);
        buf[i] = (uint8_t)(seed >> (8 * (i % 8)));
    }
}

static void make_id(uint8_t id[META_ID_LEN], uint64_t seed)
{
    fill(id, META_ID_LEN, seed);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh drive in a new temp directory; the directory name is written to dir. */
static int drive_new(char dir[64], store_drive_t **d)
{
    snprintf(dir, 64, "/tmp/yc-store-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -errno;
    return store_drive_open(dir, 1, d);
}

static void drive_free(char dir[64], store_drive_t *d)
{
    store_drive_close(d);
    remove_tree(dir);
}

static size_t count_files(const char *dir)
{
    struct dirent *e;
    size_t n = 0;
    DIR *dp = opendir(dir);

    if (dp == NULL)
        return (size_t)-1;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(dp);
    return n;
}

/* Number of shard files on a drive (walks the 256 shard directories). */
static size_t count_shard_files(const char *drive_dir)
{
    char path[512];
    size_t n = 0;

    for (unsigned i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/shards/%02x", drive_dir, i);
        n += count_files(path);
    }
    return n;
}

static size_t count_tmp_files(const char *drive_dir)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/tmp", drive_dir);
    return count_files(path);
}

static void shard_file_path(const char *drive_dir, const uint8_t id[META_ID_LEN], uint32_t index, char *path,
                            size_t size)
{
    char hex[2 * META_ID_LEN + 1];

    for (int i = 0; i < META_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    snprintf(path, size, "%s/shards/%.2s/%s.%u", drive_dir, hex, hex, index);
}

/* Writes len bytes of data as one shard in blocks of block_len. */
static int write_shard(store_drive_t *d, const uint8_t id[META_ID_LEN], uint32_t index, const uint8_t *data, size_t len,
                       size_t block_len)
{
    store_shard_writer_t *w;
    int ret;

    if ((ret = store_shard_create(d, id, index, &w)) != 0)
        return ret;
    for (size_t off = 0; off < len; off += block_len) {
        size_t n = len - off < block_len ? len - off : block_len;
        if ((ret = store_shard_append(w, data + off, n)) != 0) {
            store_shard_abort(w);
            return ret;
        }
    }
    return store_shard_commit(w);
}

/* Flips one byte of a file in place. */
static int flip_byte(const char *path, off_t off)
{
    uint8_t b;
    int fd = open(path, O_RDWR);

    if (fd < 0)
        return -errno;
    if (pread(fd, &b, 1, off) != 1) {
        close(fd);
        return -EIO;
    }
    b ^= 0x40;
    if (pwrite(fd, &b, 1, off) != 1) {
        close(fd);
        return -EIO;
    }
    close(fd);
    return 0;
}

/* ---- drive ---- */

TEST(test_drive_open_creates_layout_when_create)
{
    char dir[64], path[512];
    store_drive_t *d;
    struct stat st;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (unsigned i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/shards/%02x", dir, i);
        CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    }
    snprintf(path, sizeof(path), "%s/tmp", dir);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(strcmp(store_drive_path(d), dir) == 0);
    CHECK(store_drive_db(d) != NULL);
    drive_free(dir, d);
}

TEST(test_drive_open_fails_when_missing_and_not_create)
{
    char dir[64] = "/tmp/yc-store-test-XXXXXX", path[128];
    store_drive_t *d = NULL;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/nothing", dir);
    CHECK_EQ_INT(store_drive_open(path, 0, &d), STORE_ENOENT);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), STORE_ENOENT);
    remove_tree(dir);
}

TEST(test_drive_reopen_keeps_shards_and_records)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[100], back[100];
    meta_key_t key;
    store_drive_t *d;
    void *val;
    size_t vlen;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 1);
    fill(data, sizeof(data), 2);
    CHECK_EQ_INT(write_shard(d, id, 3, data, sizeof(data), 64), 0);
    CHECK_EQ_INT(meta_key_user(bytes("AKIA1"), &key), 0);
    CHECK_EQ_INT(store_record_put(d, &key, "v1", 2), 0);
    store_drive_close(d);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 3, 0, sizeof(back), back), 0);
    CHECK(memcmp(back, data, sizeof(data)) == 0);
    CHECK_EQ_INT(store_record_get(d, &key, &val, &vlen), 0);
    CHECK(vlen == 2 && memcmp(val, "v1", 2) == 0);
    free(val);
    drive_free(dir, d);
}

TEST(test_drive_open_removes_leftover_tmp_files)
{
    char dir[64], path[512];
    store_drive_t *d;
    int fd;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    store_drive_close(d);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/tmp/leftover.%d", dir, i);
        CHECK((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
        CHECK(write(fd, "x", 1) == 1);
        close(fd);
    }
    CHECK_EQ_INT(count_tmp_files(dir), 3);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    drive_free(dir, d);
}

/* ---- shard files ---- */

TEST(test_shard_read_matches_written_for_many_sizes_and_ranges)
{
    static const size_t block_lens[] = {1, 7, 64, 4096};
    char dir[64];
    store_drive_t *d;
    uint8_t id[META_ID_LEN];
    uint8_t *data = malloc(5 * 4096 + 8), *back = malloc(5 * 4096 + 8);

    CHECK(data != NULL && back != NULL);
    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (size_t bi = 0; bi < sizeof(block_lens) / sizeof(block_lens[0]); bi++) {
        size_t bl = block_lens[bi];
        size_t sizes[] = {0, 1, bl - 1, bl, bl + 1, 2 * bl, 3 * bl - 1, 3 * bl + 1, 5 * bl + 3};
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t size = sizes[si];
            uint64_t stat_size;
            make_id(id, bi * 100 + si);
            fill(data, size, bi * 1000 + si);
            CHECK_EQ_INT(write_shard(d, id, (uint32_t)si, data, size, bl), 0);
            CHECK_EQ_INT(store_shard_stat(d, id, (uint32_t)si, &stat_size), 0);
            CHECK_EQ_INT(stat_size, size);
            CHECK_EQ_INT(store_shard_verify(d, id, (uint32_t)si), 0);
            /* Offsets and lengths around every block boundary, plus the whole shard. */
            size_t points[] = {0, 1, bl - 1, bl, bl + 1, 2 * bl, 3 * bl - 1, 3 * bl, size - 1, size};
            for (size_t a = 0; a < sizeof(points) / sizeof(points[0]); a++) {
                for (size_t b = 0; b < sizeof(points) / sizeof(points[0]); b++) {
                    size_t off = points[a], end = points[b];
                    if (off > size || end > size || end < off)
                        continue;
                    memset(back, 0xAA, end - off + 1);
                    CHECK_EQ_INT(store_shard_read(d, id, (uint32_t)si, off, end - off, back), 0);
                    CHECK(memcmp(back, data + off, end - off) == 0);
                    CHECK(back[end - off] == 0xAA); /* nothing written past the range */
                }
            }
        }
    }
    drive_free(dir, d);
    free(data);
    free(back);
}

TEST(test_shard_file_has_header_and_checksum_per_block)
{
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[250];
    store_drive_t *d;
    struct stat st;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 9);
    fill(data, sizeof(data), 9);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 100), 0);
    shard_file_path(dir, id, 0, path, sizeof(path));
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_size, 32 + 250 + 3 * 8);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    drive_free(dir, d);
}

TEST(test_shard_read_fails_einval_when_past_end)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[100], back[200];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 10);
    fill(data, sizeof(data), 10);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 30), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 101, back), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 99, 2, back), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 101, 0, back), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_read(d, id, 0, UINT64_MAX, 1, back), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 100, 0, back), 0);
    drive_free(dir, d);
}

TEST(test_shard_missing_returns_enoent)
{
    char dir[64];
    uint8_t id[META_ID_LEN], buf[1];
    store_drive_t *d;
    uint64_t size;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 11);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 1, buf), STORE_ENOENT);
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ENOENT);
    CHECK_EQ_INT(store_shard_verify(d, id, 0), STORE_ENOENT);
    CHECK_EQ_INT(store_shard_delete(d, id, 0), STORE_ENOENT);
    drive_free(dir, d);
}

TEST(test_shard_append_rejects_block_longer_than_first_or_after_short)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[300], back[300];
    store_shard_writer_t *w;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 12);
    fill(data, sizeof(data), 12);
    CHECK_EQ_INT(store_shard_create(d, id, 0, &w), 0);
    CHECK_EQ_INT(store_shard_append(w, data, 0), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_append(w, data, 100), 0);
    CHECK_EQ_INT(store_shard_append(w, data + 100, 101), STORE_EINVAL);
    CHECK_EQ_INT(store_shard_append(w, data + 100, 100), 0);
    CHECK_EQ_INT(store_shard_append(w, data + 200, 50), 0);
    CHECK_EQ_INT(store_shard_append(w, data + 250, 50), STORE_EINVAL);
    /* Refused blocks wrote nothing: the shard is the three accepted blocks. */
    CHECK_EQ_INT(store_shard_commit(w), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 250, back), 0);
    CHECK(memcmp(back, data, 250) == 0);
    drive_free(dir, d);
}

/* Reads a whole file into buf (cap bytes); its length, or -1. */
static long slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

TEST(test_shard_block_in_pieces_makes_the_same_file_as_whole_blocks)
{
    char dir[64], path[512];
    static uint8_t data[1000], whole[2048], pieces[2048];
    uint8_t id[META_ID_LEN], id2[META_ID_LEN];
    store_shard_writer_t *w;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 21);
    make_id(id2, 22);
    fill(data, sizeof(data), 21);
    CHECK_EQ_INT(write_shard(d, id, 0, data, 700, 300), 0);
    /* the same blocks, each given in uneven pieces */
    CHECK_EQ_INT(store_shard_create(d, id2, 0, &w), 0);
    for (size_t off = 0; off < 700; off += 300) {
        size_t blen = 700 - off < 300 ? 700 - off : 300;
        CHECK_EQ_INT(store_shard_block_begin(w, blen), 0);
        CHECK_EQ_INT(store_shard_block_write(w, data + off, 1), 0);
        CHECK_EQ_INT(store_shard_block_write(w, data + off + 1, 0), 0);
        CHECK_EQ_INT(store_shard_block_write(w, data + off + 1, blen - 1), 0);
        CHECK_EQ_INT(store_shard_block_end(w), 0);
    }
    CHECK_EQ_INT(store_shard_commit(w), 0);
    shard_file_path(dir, id, 0, path, sizeof(path));
    long n1 = slurp(path, whole, sizeof(whole));
    shard_file_path(dir, id2, 0, path, sizeof(path));
    long n2 = slurp(path, pieces, sizeof(pieces));
    CHECK_EQ_INT(n1, 32 + 700 + 3 * 8);
    CHECK_EQ_INT(n2, n1);
    CHECK(memcmp(whole, pieces, (size_t)n1) == 0);
    drive_free(dir, d);
}

TEST(test_shard_block_cancel_drops_the_block_and_keeps_the_writer)
{
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[400], back[400];
    store_shard_writer_t *w;
    store_drive_t *d;
    struct stat st;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 23);
    fill(data, sizeof(data), 23);
    CHECK_EQ_INT(store_shard_create(d, id, 0, &w), 0);
    CHECK_EQ_INT(store_shard_append(w, data, 200), 0);
    CHECK_EQ_INT(store_shard_block_begin(w, 201), STORE_EINVAL); /* longer than the first block */
    /* a block that broke off half-way, longer than the one that takes its place */
    CHECK_EQ_INT(store_shard_block_begin(w, 200), 0);
    CHECK_EQ_INT(store_shard_block_write(w, data + 200, 150), 0);
    CHECK_EQ_INT(store_shard_block_write(w, data + 350, 51), STORE_EINVAL); /* past its length */
    CHECK_EQ_INT(store_shard_append(w, data, 10), STORE_EINVAL);            /* one block at a time */
    CHECK_EQ_INT(store_shard_block_end(w), STORE_EINVAL);                   /* 150 of 200 came */
    store_shard_block_cancel(w);
    CHECK_EQ_INT(store_shard_append(w, data + 200, 100), 0);
    CHECK_EQ_INT(store_shard_commit(w), 0);
    /* the dropped bytes are gone from the file, and the shard is the two blocks */
    shard_file_path(dir, id, 0, path, sizeof(path));
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_size, 32 + 200 + 8 + 100 + 8);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 300, back), 0);
    CHECK(memcmp(back, data, 300) == 0);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    drive_free(dir, d);
}

TEST(test_shard_abort_leaves_nothing)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[100];
    store_shard_writer_t *w;
    store_drive_t *d;
    uint64_t size;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 13);
    fill(data, sizeof(data), 13);
    CHECK_EQ_INT(store_shard_create(d, id, 0, &w), 0);
    CHECK_EQ_INT(store_shard_append(w, data, 50), 0);
    CHECK_EQ_INT(count_tmp_files(dir), 1);
    store_shard_abort(w);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    CHECK_EQ_INT(count_shard_files(dir), 0);
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ENOENT);
    drive_free(dir, d);
}

TEST(test_shard_commit_replaces_existing_shard)
{
    char dir[64];
    uint8_t id[META_ID_LEN], a[100], b[70], back[100];
    store_drive_t *d;
    uint64_t size;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 14);
    fill(a, sizeof(a), 1);
    fill(b, sizeof(b), 2);
    CHECK_EQ_INT(write_shard(d, id, 2, a, sizeof(a), 16), 0);
    CHECK_EQ_INT(write_shard(d, id, 2, b, sizeof(b), 32), 0);
    CHECK_EQ_INT(store_shard_stat(d, id, 2, &size), 0);
    CHECK_EQ_INT(size, sizeof(b));
    CHECK_EQ_INT(store_shard_read(d, id, 2, 0, sizeof(b), back), 0);
    CHECK(memcmp(back, b, sizeof(b)) == 0);
    CHECK_EQ_INT(count_shard_files(dir), 1);
    drive_free(dir, d);
}

TEST(test_shard_delete_removes_file)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[10];
    store_drive_t *d;
    uint64_t size;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 15);
    fill(data, sizeof(data), 15);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 4), 0);
    CHECK_EQ_INT(write_shard(d, id, 1, data, sizeof(data), 4), 0);
    CHECK_EQ_INT(store_shard_delete(d, id, 0), 0);
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ENOENT);
    CHECK_EQ_INT(store_shard_stat(d, id, 1, &size), 0);
    CHECK_EQ_INT(count_shard_files(dir), 1);
    drive_free(dir, d);
}

TEST(test_shard_bitrot_detected_only_in_touched_block)
{
    enum { BL = 100, N = 5 };
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[BL * N - 30], back[BL * N];
    size_t size = sizeof(data);
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 16);
    fill(data, size, 16);
    CHECK_EQ_INT(write_shard(d, id, 0, data, size, BL), 0);
    shard_file_path(dir, id, 0, path, sizeof(path));
    /* One byte in the middle of block 2's data. */
    CHECK_EQ_INT(flip_byte(path, 32 + 2 * (BL + 8) + 37), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, size, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 2 * BL, 1, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 2 * BL + 99, 1, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 150, 100, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 2 * BL, back), 0);
    CHECK(memcmp(back, data, 2 * BL) == 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 3 * BL, size - 3 * BL, back), 0);
    CHECK(memcmp(back, data + 3 * BL, size - 3 * BL) == 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 2 * BL - 1, 1, back), 0);
    CHECK_EQ_INT(store_shard_verify(d, id, 0), STORE_EBITROT);
    drive_free(dir, d);
}

TEST(test_shard_bitrot_detected_when_checksum_damaged)
{
    enum { BL = 64 };
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[3 * BL], back[3 * BL];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 17);
    fill(data, sizeof(data), 17);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), BL), 0);
    shard_file_path(dir, id, 0, path, sizeof(path));
    CHECK_EQ_INT(flip_byte(path, 32 + 3 * (BL + 8) - 1), 0); /* last byte: block 2's checksum */
    CHECK_EQ_INT(store_shard_read(d, id, 0, 2 * BL, BL, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 2 * BL, back), 0);
    CHECK_EQ_INT(store_shard_verify(d, id, 0), STORE_EBITROT);
    drive_free(dir, d);
}

TEST(test_shard_header_corruption_detected)
{
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[200], back[200];
    store_drive_t *d;
    uint64_t size;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    fill(data, sizeof(data), 18);
    /* Every byte of the header is covered: magic, version, block length, data length, checksum. */
    for (int off = 0; off < 32; off++) {
        make_id(id, 1000 + off);
        CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 50), 0);
        shard_file_path(dir, id, 0, path, sizeof(path));
        CHECK_EQ_INT(flip_byte(path, off), 0);
        CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 10, back), STORE_ECORRUPT);
        CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ECORRUPT);
        CHECK_EQ_INT(store_shard_verify(d, id, 0), STORE_ECORRUPT);
    }
    drive_free(dir, d);
}

TEST(test_shard_truncated_file_detected)
{
    char dir[64], path[512];
    uint8_t id[META_ID_LEN], data[200], back[200];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 19);
    fill(data, sizeof(data), 19);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 50), 0);
    shard_file_path(dir, id, 0, path, sizeof(path));
    CHECK_EQ_INT(truncate(path, 32 + 3 * 58 + 20), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 150, back), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 150, 50, back), STORE_EBITROT);
    CHECK_EQ_INT(store_shard_verify(d, id, 0), STORE_EBITROT);
    CHECK_EQ_INT(truncate(path, 10), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, 1, back), STORE_ECORRUPT);
    drive_free(dir, d);
}

/* ---- object records ---- */

/* An object record with every field set to something harmless. */
/* Puts r and prunes the null versions it replaces, as the gateway does once a quorum of
 * drives acknowledged the put. */
static int put_replacing(store_drive_t *d, const meta_object_t *r)
{
    int ret = store_object_put(d, r);
    return ret != 0 ? ret : store_object_prune(d, r);
}

static void object_init(meta_object_t *r, const char *key, int64_t mtime, const uint8_t *vid)
{
    memset(r, 0, sizeof(*r));
    r->bucket = bytes(BUCKET);
    r->key = bytes(key);
    if (vid != NULL)
        memcpy(r->vid, vid, META_ID_LEN);
    r->mtime_ns = mtime;
    r->etag = bytes("0123456789abcdef0123456789abcdef");
    r->content_type = r->content_encoding = r->content_disposition = bytes("");
    r->content_language = r->cache_control = r->expires = bytes("");
    r->user_meta = r->checksum_algo = r->checksum_value = bytes("");
    r->owner = bytes("AKIAOWNER");
    r->ec_k = 4;
    r->ec_m = 2;
    r->stripe_size = 1 << 20;
    for (int i = 0; i < 16; i++)
        r->distribution[i] = (uint8_t)i;
    r->parts = r->inline_data = bytes("");
}

/* Writes a record whose parts are shard files on the drive; parts_buf keeps the part array. */
static int put_object_with_parts(store_drive_t *d, const char *key, int64_t mtime, const uint8_t *vid,
                                 uint32_t shard_index, const uint64_t *id_seeds, uint32_t nparts)
{
    meta_buf_t parts = {0};
    meta_object_t r;
    uint8_t data[300];
    int ret = 0;

    object_init(&r, key, mtime, vid);
    r.shard_index = shard_index;
    for (uint32_t i = 0; i < nparts && ret == 0; i++) {
        meta_part_ref_t p = {.number = i + 1, .size = sizeof(data)};
        make_id(p.data_id, id_seeds[i]);
        fill(data, sizeof(data), id_seeds[i]);
        if ((ret = write_shard(d, p.data_id, shard_index, data, sizeof(data), 128)) == 0)
            ret = meta_parts_append(&parts, &p);
        r.size += sizeof(data);
    }
    if (ret == 0) {
        r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
        r.part_count = nparts;
        ret = put_replacing(d, &r);
    }
    meta_buf_dispose(&parts);
    return ret;
}

static int shard_exists(store_drive_t *d, uint64_t id_seed, uint32_t index)
{
    uint8_t id[META_ID_LEN];
    uint64_t size;

    make_id(id, id_seed);
    return store_shard_stat(d, id, index, &size) == 0;
}

typedef struct {
    size_t count, keys;
} count_arg_t;

/* counts RocksDB keys, and the versions they hold (a null slot may hold several) */
static int count_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    count_arg_t *c = arg;
    meta_bytes_t rec;
    size_t pos = 0;

    c->keys++;
    while (meta_slot_next(val, vlen, &pos, &rec) == 1)
        c->count++;
    return 0;
}

static size_t count_scan(store_drive_t *d, const char *key, int keys)
{
    meta_key_t prefix;
    count_arg_t c = {0};

    if (meta_key_object_versions(bytes(BUCKET), bytes(key), &prefix) != 0 ||
        store_record_scan(d, &prefix, NULL, 0, count_cb, &c) != 0)
        return (size_t)-1;
    return keys ? c.keys : c.count;
}

/* versions of a key the drive holds */
static size_t count_versions(store_drive_t *d, const char *key)
{
    return count_scan(d, key, 0);
}

/* RocksDB keys those versions take */
static size_t count_keys(store_drive_t *d, const char *key)
{
    return count_scan(d, key, 1);
}

TEST(test_object_inline_round_trip)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    object_init(&r, "docs/readme.txt", 1000, NULL);
    r.flags = META_OBJ_INLINE;
    r.size = 11;
    r.inline_data = bytes("hello world");
    r.content_type = bytes("text/plain");
    CHECK_EQ_INT(put_replacing(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("docs/readme.txt"), NULL, &raw, &got), 0);
    CHECK(got.key.len == 15 && memcmp(got.key.base, "docs/readme.txt", 15) == 0);
    CHECK(got.bucket.len == strlen(BUCKET) && memcmp(got.bucket.base, BUCKET, got.bucket.len) == 0);
    CHECK_EQ_INT(got.mtime_ns, 1000);
    CHECK_EQ_INT(got.flags, META_OBJ_INLINE);
    CHECK_EQ_INT(got.size, 11);
    CHECK(got.inline_data.len == 11 && memcmp(got.inline_data.base, "hello world", 11) == 0);
    CHECK(got.content_type.len == 10 && memcmp(got.content_type.base, "text/plain", 10) == 0);
    CHECK(memcmp(got.vid, zero_vid, META_ID_LEN) == 0);
    /* raw holds the record's bytes and the decoded fields point into it. */
    CHECK(got.inline_data.base >= (const char *)raw.base &&
          got.inline_data.base + got.inline_data.len <= (const char *)raw.base + raw.len);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(count_shard_files(dir), 0);
    drive_free(dir, d);
}

TEST(test_object_get_returns_enoent_when_absent)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};
    uint8_t vid[META_ID_LEN];

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(vid, 5);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("none"), NULL, &raw, &got), STORE_ENOENT);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("none"), vid, &raw, &got), STORE_ENOENT);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("none"), NULL), STORE_ENOENT);
    drive_free(dir, d);
}

TEST(test_object_null_overwrite_replaces_record_and_deletes_old_shards)
{
    const uint64_t old_ids[] = {100, 101}, new_ids[] = {200};
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};
    meta_part_ref_t p;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 3, old_ids, 2), 0);
    CHECK(shard_exists(d, 100, 3) && shard_exists(d, 101, 3));
    CHECK_EQ_INT(put_object_with_parts(d, "k", 2000, NULL, 3, new_ids, 1), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK(!shard_exists(d, 100, 3) && !shard_exists(d, 101, 3));
    CHECK(shard_exists(d, 200, 3));
    CHECK_EQ_INT(count_shard_files(dir), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 2000);
    CHECK_EQ_INT(got.part_count, 1);
    CHECK_EQ_INT(meta_object_part(&got, 0, &p), 0);
    CHECK_EQ_INT(p.size, 300);
    meta_buf_dispose(&raw);
    drive_free(dir, d);
}

TEST(test_object_null_put_keeps_old_version_until_pruned)
{
    const uint64_t old_ids[] = {110}, new_ids[] = {210};
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 2, old_ids, 1), 0);
    /* the second put alone: the old version stays whole (its write might not reach a quorum) */
    meta_object_t r;
    meta_buf_t parts = {0};
    meta_part_ref_t p = {.number = 1, .size = 100};
    make_id(p.data_id, new_ids[0]);
    CHECK_EQ_INT(meta_parts_append(&parts, &p), 0);
    object_init(&r, "k", 2000, NULL);
    r.shard_index = 2;
    r.size = 100;
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    CHECK_EQ_INT(store_object_put(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 2);
    CHECK_EQ_INT(count_keys(d, "k"), 1); /* both in the one null slot */
    CHECK(shard_exists(d, 110, 2));
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 2000);
    meta_buf_dispose(&raw);
    /* the prune, once acknowledged: the old record and its shard go */
    CHECK_EQ_INT(store_object_prune(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK(!shard_exists(d, 110, 2));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

/* The light prune drops inline versions without being waited for; versions with shard files are
 * left whole for the full prune, which deletes their files after its synced write. */
TEST(test_object_light_prune_drops_inline_versions_and_leaves_files_to_full_prune)
{
    const uint64_t old_ids[] = {130}, new_ids[] = {230};
    char dir[64];
    store_drive_t *d;
    meta_object_t a, b, r, other;
    meta_buf_t parts = {0};
    meta_part_ref_t p = {.number = 1, .size = 100};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    object_init(&a, "small", 1000, NULL);
    a.flags = META_OBJ_INLINE;
    a.size = 3;
    a.inline_data = bytes("one");
    b = a;
    b.mtime_ns = 2000;
    b.inline_data = bytes("two");
    CHECK_EQ_INT(store_object_put(d, &a), 0);
    CHECK_EQ_INT(store_object_put(d, &b), 0);
    CHECK_EQ_INT(count_versions(d, "small"), 2);
    CHECK_EQ_INT(store_object_prune_light(d, &b), 0);
    /* queued, not waited for: a later waited write of the drive's queue is applied after it */
    object_init(&other, "other", 3000, NULL);
    other.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(store_object_put(d, &other), 0);
    CHECK_EQ_INT(count_versions(d, "small"), 1);

    CHECK_EQ_INT(put_object_with_parts(d, "big", 1000, NULL, 2, old_ids, 1), 0);
    make_id(p.data_id, new_ids[0]);
    CHECK_EQ_INT(meta_parts_append(&parts, &p), 0);
    object_init(&r, "big", 2000, NULL);
    r.shard_index = 2;
    r.size = 100;
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    CHECK_EQ_INT(store_object_put(d, &r), 0);
    CHECK_EQ_INT(store_object_prune_light(d, &r), -EAGAIN);
    CHECK_EQ_INT(count_versions(d, "big"), 2);
    CHECK(shard_exists(d, 130, 2));
    CHECK_EQ_INT(store_object_prune(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "big"), 1);
    CHECK(!shard_exists(d, 130, 2));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

/* An acknowledged put ended with _settled prunes what it replaced from what it wrote (no read):
 * inline versions at once, not waited for; versions with shard files are left to the full
 * prune (*pruned 0), files and all. */
TEST(test_object_put_end_settled_prunes_inline_and_leaves_files_to_full_prune)
{
    const uint64_t old_ids[] = {140}, new_ids[] = {240};
    char dir[64];
    store_drive_t *d;
    store_put_t *put;
    meta_object_t a, b, r, other, got;
    meta_buf_t parts = {0}, raw = {0};
    meta_part_ref_t p = {.number = 1, .size = 100};
    int pruned = -1;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    object_init(&a, "small", 1000, NULL);
    a.flags = META_OBJ_INLINE;
    a.size = 3;
    a.inline_data = bytes("one");
    b = a;
    b.mtime_ns = 2000;
    b.inline_data = bytes("two");
    CHECK_EQ_INT(store_object_put(d, &a), 0);
    CHECK_EQ_INT(store_object_put_begin(d, &b, NULL, &put), 0);
    CHECK_EQ_INT(store_object_put_wait(put), 0);
    CHECK_EQ_INT(store_object_put_wait(put), 0); /* the outcome again, nothing waited twice */
    CHECK_EQ_INT(store_object_put_end_settled(put, &pruned), 0);
    CHECK_EQ_INT(pruned, 1);
    /* queued, not waited for: a later waited write of the drive's queue is applied after it */
    object_init(&other, "other", 3000, NULL);
    other.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(store_object_put(d, &other), 0);
    CHECK_EQ_INT(count_versions(d, "small"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("small"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 2000);
    CHECK(got.inline_data.len == 3 && memcmp(got.inline_data.base, "two", 3) == 0);
    meta_buf_dispose(&raw);

    /* a first write replaces nothing: nothing to prune, and nothing lost */
    object_init(&a, "fresh", 1000, NULL);
    a.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(store_object_put_begin(d, &a, NULL, &put), 0);
    pruned = -1;
    CHECK_EQ_INT(store_object_put_end_settled(put, &pruned), 0);
    CHECK_EQ_INT(pruned, 1);
    CHECK_EQ_INT(count_versions(d, "fresh"), 1);

    CHECK_EQ_INT(put_object_with_parts(d, "big", 1000, NULL, 2, old_ids, 1), 0);
    make_id(p.data_id, new_ids[0]);
    CHECK_EQ_INT(meta_parts_append(&parts, &p), 0);
    object_init(&r, "big", 2000, NULL);
    r.shard_index = 2;
    r.size = 100;
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    CHECK_EQ_INT(store_object_put_begin(d, &r, NULL, &put), 0);
    pruned = -1;
    CHECK_EQ_INT(store_object_put_end_settled(put, &pruned), 0);
    CHECK_EQ_INT(pruned, 0);
    CHECK_EQ_INT(count_versions(d, "big"), 2);
    CHECK(shard_exists(d, 140, 2));
    CHECK_EQ_INT(store_object_prune(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "big"), 1);
    CHECK(!shard_exists(d, 140, 2));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

/* Puts r, waits and ends it as the gateway does for an acknowledged write (settled). */
static int put_settled(store_drive_t *d, const meta_object_t *r)
{
    store_put_t *put;
    int pruned, ret = store_object_put_begin(d, r, NULL, &put);
    return put != NULL ? store_object_put_end_settled(put, &pruned) : ret;
}

/* The next put of a key after a settled one takes the slot and head the settle left: no RocksDB
 * read on the writer's thread (the writes run on the group commit's), and the slot ends right. */
TEST(test_object_put_after_settled_put_reads_nothing)
{
    char dir[64];
    store_drive_t *d;
    store_put_t *put;
    meta_object_t a, b, c, got;
    meta_buf_t raw = {0};
    meta_perf_t perf;
    int pruned = -1;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    object_init(&a, "hot", 1000, NULL);
    a.flags = META_OBJ_INLINE;
    a.size = 3;
    a.inline_data = bytes("one");
    b = a;
    b.mtime_ns = 2000;
    b.inline_data = bytes("two");
    c = a;
    c.mtime_ns = 3000;
    c.inline_data = bytes("six");
    CHECK_EQ_INT(put_settled(d, &a), 0);
    meta_perf_start();
    CHECK_EQ_INT(store_object_put_begin(d, &b, NULL, &put), 0);
    meta_perf_stop(&perf);
    CHECK_EQ_INT((int)perf.gets, 0); /* without the cache: the slot's and the head's */
    CHECK_EQ_INT(store_object_put_end_settled(put, &pruned), 0);
    CHECK_EQ_INT(pruned, 1);
    object_init(&got, "other", 3000, NULL); /* a waited write: the settle queued before it is applied */
    got.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(store_object_put(d, &got), 0);
    CHECK_EQ_INT(count_versions(d, "hot"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hot"), NULL, &raw, &got), 0);
    CHECK(got.mtime_ns == 2000 && got.inline_data.len == 3 && memcmp(got.inline_data.base, "two", 3) == 0);
    meta_buf_dispose(&raw);
    raw = (meta_buf_t){0};
    /* an older write still finds the newer one and is absorbed */
    a.mtime_ns = 1500;
    CHECK_EQ_INT(store_object_put(d, &a), STORE_ESTALE);
    /* a write that is not acknowledged keeps the acknowledged one behind it, taken from the
     * cache or the drive alike, and its take-back leaves exactly that */
    CHECK_EQ_INT(put_settled(d, &b), 0);
    CHECK_EQ_INT(store_object_put(d, &c), 0);
    CHECK_EQ_INT(count_versions(d, "hot"), 2);
    CHECK_EQ_INT(store_object_takeback(d, &c), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hot"), NULL, &raw, &got), 0);
    CHECK(got.mtime_ns == 2000 && memcmp(got.inline_data.base, "two", 3) == 0);
    meta_buf_dispose(&raw);
    drive_free(dir, d);
}

/* Every other write of a key drops what the cache kept of it: a put after an update keeps the
 * updated record behind it, a put after a delete finds no older version, a put after the
 * record was deleted as a plain record (no key lock) reads the drive again. */
TEST(test_object_put_after_other_writes_sees_them)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t a, b, r, got;
    meta_buf_t raw = {0}, held = {0};
    meta_key_t slot;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    object_init(&a, "k", 1000, NULL);
    a.flags = META_OBJ_INLINE;
    a.size = 3;
    a.inline_data = bytes("one");
    b = a;
    b.mtime_ns = 2000;
    b.inline_data = bytes("two");
    CHECK_EQ_INT(put_settled(d, &a), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &held, &got), 0);
    r = got;
    r.attrs = (meta_bytes_t){"\x01\x03\x00\x00\x00"
                             "a=b",
                             8};
    r.attrs_ns = 50;
    CHECK_EQ_INT(store_object_update(d, &r), 0);
    /* b is not acknowledged and goes: what stays must be the updated a, not the cached one */
    CHECK_EQ_INT(store_object_put(d, &b), 0);
    CHECK_EQ_INT(store_object_takeback(d, &b), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &raw, &got), 0);
    CHECK(got.mtime_ns == 1000 && got.attrs_ns == 50 && got.attrs.len == 8);
    meta_buf_dispose(&raw);
    raw = (meta_buf_t){0};
    meta_buf_dispose(&held);

    /* deleted after a settled put: the next put holds itself alone */
    CHECK_EQ_INT(put_settled(d, &b), 0);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), NULL), 0);
    a.mtime_ns = 3000;
    CHECK_EQ_INT(store_object_put(d, &a), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK_EQ_INT(store_object_takeback(d, &a), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 0);

    /* the slot deleted as a plain record (a dead namespace's sweep) after a settled put */
    a.mtime_ns = 4000;
    CHECK_EQ_INT(put_settled(d, &a), 0);
    CHECK_EQ_INT(meta_key_object_null(bytes(BUCKET), bytes("k"), &slot), 0);
    CHECK_EQ_INT(store_record_delete(d, &slot), 0);
    b.mtime_ns = 5000;
    CHECK_EQ_INT(store_object_put(d, &b), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK_EQ_INT(store_object_takeback(d, &b), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 0);
    drive_free(dir, d);
}

TEST(test_object_delete_removes_every_null_version_when_not_pruned)
{
    const uint64_t old_ids[] = {120}, new_ids[] = {220};
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};
    meta_object_t r;
    meta_buf_t parts = {0};
    meta_part_ref_t p = {.number = 1, .size = 100};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 1, old_ids, 1), 0);
    make_id(p.data_id, new_ids[0]);
    CHECK_EQ_INT(meta_parts_append(&parts, &p), 0);
    object_init(&r, "k", 2000, NULL);
    r.shard_index = 1;
    r.size = 100;
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    CHECK_EQ_INT(store_object_put(d, &r), 0); /* not pruned: the old version is still there */
    CHECK_EQ_INT(count_versions(d, "k"), 2);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), NULL), 0);
    /* the old one must not come back as the object */
    CHECK_EQ_INT(count_versions(d, "k"), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), NULL, &raw, &got), STORE_ENOENT);
    CHECK(!shard_exists(d, 120, 1) && !shard_exists(d, 220, 1));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

TEST(test_object_null_put_keeps_shared_shards_when_retried)
{
    const uint64_t ids[] = {300};
    char dir[64];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 0, ids, 1), 0);
    /* The same data put again (same or later time) must not delete the file it refers to. */
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 0, ids, 1), 0);
    CHECK(shard_exists(d, 300, 0));
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1500, NULL, 0, ids, 1), 0);
    CHECK(shard_exists(d, 300, 0));
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    drive_free(dir, d);
}

TEST(test_object_null_put_absorbed_when_older_than_stored)
{
    const uint64_t newer[] = {400}, older[] = {401};
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 5000, NULL, 1, newer, 1), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 4000, NULL, 1, older, 1), STORE_ESTALE);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 5000);
    meta_buf_dispose(&raw);
    CHECK(shard_exists(d, 400, 1));
    CHECK(!shard_exists(d, 401, 1));
    drive_free(dir, d);
}

TEST(test_object_get_returns_latest_among_versions)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0};
    uint8_t vids[4][META_ID_LEN];
    const int64_t mtimes[4] = {3000, 1000, 4000, 2000};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 4; i++) {
        make_id(vids[i], 50 + i);
        object_init(&r, "v", mtimes[i], vids[i]);
        r.flags = META_OBJ_INLINE;
        r.inline_data = bytes(i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" : "d");
        r.size = 1;
        CHECK_EQ_INT(put_replacing(d, &r), 0);
    }
    /* A null version older than the newest versioned one does not replace any of them. */
    object_init(&r, "v", 500, NULL);
    r.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(put_replacing(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "v"), 5);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 4000);
    CHECK(memcmp(got.vid, vids[2], META_ID_LEN) == 0);
    meta_buf_dispose(&raw);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v"), vids[i], &raw, &got), 0);
        CHECK_EQ_INT(got.mtime_ns, mtimes[i]);
        CHECK(memcmp(got.vid, vids[i], META_ID_LEN) == 0);
        meta_buf_dispose(&raw);
    }
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v"), zero_vid, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 500);
    meta_buf_dispose(&raw);
    /* A key that is a prefix of another key does not see the other key's versions. */
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v/"), NULL, &raw, &got), STORE_ENOENT);
    object_init(&r, "v/x", 9000, NULL);
    r.flags = META_OBJ_INLINE;
    CHECK_EQ_INT(put_replacing(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 4000);
    meta_buf_dispose(&raw);
    drive_free(dir, d);
}

TEST(test_object_delete_removes_record_and_shards)
{
    const uint64_t ids_null[] = {500, 501}, ids_v[] = {502};
    char dir[64];
    store_drive_t *d;
    meta_object_t got;
    meta_buf_t raw = {0};
    uint8_t vid[META_ID_LEN];

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(vid, 77);
    CHECK_EQ_INT(put_object_with_parts(d, "del", 1000, NULL, 2, ids_null, 2), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "del", 2000, vid, 2, ids_v, 1), 0);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("del"), NULL), 0);
    CHECK(!shard_exists(d, 500, 2) && !shard_exists(d, 501, 2) && shard_exists(d, 502, 2));
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("del"), zero_vid, &raw, &got), STORE_ENOENT);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("del"), vid), 0);
    CHECK(!shard_exists(d, 502, 2));
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("del"), NULL, &raw, &got), STORE_ENOENT);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("del"), vid), STORE_ENOENT);
    CHECK_EQ_INT(count_shard_files(dir), 0);
    drive_free(dir, d);
}

/* Version ids as the gateway makes them begin with their complemented time: a get or delete by
 * id reads that record's key, whatever history of newer versions and deleted ones lies before it. */
TEST(test_object_vid_with_its_time_found_among_deleted_versions)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0};
    uint8_t vids[100][META_ID_LEN];

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 100; i++) {
        make_id(vids[i], 900 + i);
        yc_put_be64(vids[i], ~(uint64_t)(10000 + i));
        object_init(&r, "hist", 10000 + i, vids[i]);
        r.flags = META_OBJ_INLINE;
        r.size = 1;
        r.inline_data = bytes("h");
        CHECK_EQ_INT(store_object_put(d, &r), 0);
    }
    /* every version but the newest, newest first: each delete meets the tombstones of the last */
    for (int i = 98; i >= 0; i--) {
        CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("hist"), vids[i]), 0);
        CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hist"), vids[i], &raw, &got), STORE_ENOENT);
        CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("hist"), vids[i]), STORE_ENOENT);
    }
    CHECK_EQ_INT(count_versions(d, "hist"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hist"), vids[99], &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 10099);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hist"), NULL, &raw, &got), 0);
    CHECK(memcmp(got.vid, vids[99], META_ID_LEN) == 0);
    meta_buf_dispose(&raw);
    /* an id of another key's version names nothing here */
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hist2"), vids[99], &raw, &got), STORE_ENOENT);
    drive_free(dir, d);
}

TEST(test_object_delete_marker_has_no_shards)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0};
    uint8_t vid[META_ID_LEN];

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(vid, 78);
    object_init(&r, "m", 1000, vid);
    r.flags = META_OBJ_DELETE_MARKER;
    CHECK_EQ_INT(put_replacing(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("m"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.flags, META_OBJ_DELETE_MARKER);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("m"), vid), 0);
    drive_free(dir, d);
}

/* ---- raw records ---- */

TEST(test_record_put_get_delete)
{
    char dir[64];
    store_drive_t *d;
    meta_key_t key;
    void *val;
    size_t vlen;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(meta_key_bucket(bytes(BUCKET), &key), 0);
    CHECK_EQ_INT(store_record_get(d, &key, &val, &vlen), STORE_ENOENT);
    CHECK_EQ_INT(store_record_put(d, &key, "one", 3), 0);
    CHECK_EQ_INT(store_record_put(d, &key, "second", 6), 0);
    CHECK_EQ_INT(store_record_get(d, &key, &val, &vlen), 0);
    CHECK(vlen == 6 && memcmp(val, "second", 6) == 0);
    free(val);
    CHECK_EQ_INT(store_record_delete(d, &key), 0);
    CHECK_EQ_INT(store_record_get(d, &key, &val, &vlen), STORE_ENOENT);
    drive_free(dir, d);
}

typedef struct {
    uint32_t numbers[64];
    size_t count;
    meta_key_t last;
} page_t;

static int page_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    page_t *p = arg;

    if (vlen != 4 || p->count == 64)
        return -1000;
    memcpy(&p->numbers[p->count++], val, 4);
    memcpy(p->last.buf, key, klen);
    p->last.len = klen;
    return 0;
}

static int stop_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    return -1234;
}

TEST(test_record_scan_paginates_with_limit_and_seek)
{
    char dir[64];
    store_drive_t *d;
    uint8_t upload[META_ID_LEN], other[META_ID_LEN];
    meta_key_t key, prefix, seek;
    page_t page;
    uint32_t next = 1;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(upload, 90);
    make_id(other, 91);
    for (uint32_t n = 1; n <= 25; n++) {
        CHECK_EQ_INT(meta_key_part(upload, n, &key), 0);
        CHECK_EQ_INT(store_record_put(d, &key, &n, 4), 0);
        CHECK_EQ_INT(meta_key_part(other, n, &key), 0);
        CHECK_EQ_INT(store_record_put(d, &key, &n, 4), 0);
    }
    CHECK_EQ_INT(meta_key_parts(upload, &prefix), 0);
    /* Pages of 10 from the start, each continuing after the last key of the previous one. */
    memset(&page, 0, sizeof(page));
    CHECK_EQ_INT(store_record_scan(d, &prefix, NULL, 10, page_cb, &page), 0);
    for (int pages = 1;; pages++) {
        CHECK(page.count <= 10);
        for (size_t i = 0; i < page.count; i++)
            CHECK_EQ_INT(page.numbers[i], next++);
        if (page.count < 10)
            break;
        seek = page.last;
        seek.buf[seek.len++] = 0; /* the smallest key after the last one seen */
        memset(&page, 0, sizeof(page));
        CHECK_EQ_INT(store_record_scan(d, &prefix, &seek, 10, page_cb, &page), 0);
        CHECK(pages < 5);
    }
    CHECK_EQ_INT(next, 26);
    memset(&page, 0, sizeof(page));
    CHECK_EQ_INT(store_record_scan(d, &prefix, NULL, 0, page_cb, &page), 0);
    CHECK_EQ_INT(page.count, 25);
    /* A callback's own error comes back as is. */
    CHECK_EQ_INT(store_record_scan(d, &prefix, NULL, 0, stop_cb, NULL), -1234);
    drive_free(dir, d);
}

/* ---- orphan collection ---- */

static void age_shard(store_drive_t *d, uint64_t id_seed, uint32_t index, int64_t seconds)
{
    uint8_t id[META_ID_LEN];
    char path[PATH_MAX];
    struct timeval tv[2];
    make_id(id, id_seed);
    shard_file_path(store_drive_path(d), id, index, path, sizeof(path));
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= seconds;
    tv[1] = tv[0];
    utimes(path, tv);
}

TEST(test_gc_removes_only_old_unreferenced_shards)
{
    const uint64_t referenced[] = {700};
    uint8_t id[META_ID_LEN], data[100] = {1};
    char dir[64];
    store_drive_t *d;
    size_t removed = 0;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    /* an object's shard (referenced by its record) */
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 2, referenced, 1), 0);
    /* a multipart part's shard, referenced by a part record */
    meta_part_t part = {.number = 1, .size = 100, .mtime_ns = 1, .shard_index = 2};
    meta_buf_t buf = {0};
    meta_key_t key;
    make_id(part.upload_id, 999);
    make_id(part.data_id, 701);
    CHECK_EQ_INT(write_shard(d, part.data_id, 2, data, sizeof(data), 64), 0);
    CHECK_EQ_INT(meta_part_encode(&part, &buf), 0);
    CHECK_EQ_INT(meta_key_part(part.upload_id, 1, &key), 0);
    CHECK_EQ_INT(store_record_put(d, &key, buf.base, buf.len), 0);
    meta_buf_dispose(&buf);
    /* two orphans: one old, one young */
    make_id(id, 702);
    CHECK_EQ_INT(write_shard(d, id, 2, data, sizeof(data), 64), 0);
    make_id(id, 703);
    CHECK_EQ_INT(write_shard(d, id, 2, data, sizeof(data), 64), 0);
    age_shard(d, 700, 2, 7200);
    age_shard(d, 701, 2, 7200);
    age_shard(d, 702, 2, 7200);

    CHECK_EQ_INT(store_drive_gc_orphans(d, 3600LL * 1000000000, NULL, &removed), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK(shard_exists(d, 700, 2));  /* referenced by the object */
    CHECK(shard_exists(d, 701, 2));  /* referenced by the part */
    CHECK(!shard_exists(d, 702, 2)); /* old orphan */
    CHECK(shard_exists(d, 703, 2));  /* young: its record may be on its way */
    drive_free(dir, d);
}

/* ---- concurrency ---- */

enum { CONC_THREADS = 4, CONC_PUTS = 15 };

typedef struct {
    store_drive_t *d;
    int thread;
    int failures;
} conc_arg_t;

static uint64_t conc_seed(int thread, int i)
{
    return 10000 + (uint64_t)thread * 100 + (uint64_t)i;
}

static void *conc_worker(void *arg)
{
    conc_arg_t *a = arg;
    char own[32];

    snprintf(own, sizeof(own), "own-%d", a->thread);
    for (int i = 0; i < CONC_PUTS; i++) {
        uint64_t seed = conc_seed(a->thread, i), own_seed = seed + 50000;
        /* Interleaved times: threads' puts arrive out of time order. */
        int64_t mtime = 1000 + (int64_t)i * CONC_THREADS + a->thread;
        /* out of time order, a put may find a newer one already stored: absorbed, not failed */
        int ret = put_object_with_parts(a->d, "shared", mtime, NULL, 0, &seed, 1);
        if (ret != 0 && ret != STORE_ESTALE)
            a->failures++;
        if (put_object_with_parts(a->d, own, mtime, NULL, 0, &own_seed, 1) != 0)
            a->failures++;
    }
    return NULL;
}

TEST(test_object_concurrent_puts_keep_one_null_version_when_same_key)
{
    char dir[64];
    store_drive_t *d;
    pthread_t threads[CONC_THREADS];
    conc_arg_t args[CONC_THREADS];
    meta_object_t got;
    meta_buf_t raw = {0};
    meta_part_ref_t p;
    uint8_t expect_id[META_ID_LEN];

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int t = 0; t < CONC_THREADS; t++) {
        args[t] = (conc_arg_t){.d = d, .thread = t};
        CHECK(pthread_create(&threads[t], NULL, conc_worker, &args[t]) == 0);
    }
    for (int t = 0; t < CONC_THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK_EQ_INT(args[t].failures, 0);
    }
    /* The newest put wins whatever the arrival order, and only its shard remains. */
    CHECK_EQ_INT(count_versions(d, "shared"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("shared"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1000 + (CONC_PUTS - 1) * CONC_THREADS + CONC_THREADS - 1);
    CHECK_EQ_INT(meta_object_part(&got, 0, &p), 0);
    make_id(expect_id, conc_seed(CONC_THREADS - 1, CONC_PUTS - 1));
    CHECK(memcmp(p.data_id, expect_id, META_ID_LEN) == 0);
    meta_buf_dispose(&raw);
    for (int t = 0; t < CONC_THREADS; t++) {
        char own[32];
        snprintf(own, sizeof(own), "own-%d", t);
        CHECK_EQ_INT(count_versions(d, own), 1);
    }
    CHECK_EQ_INT(count_shard_files(dir), 1 + CONC_THREADS);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    drive_free(dir, d);
}

/* ---- the null slot: overwrites leave nothing behind ---- */

TEST(test_object_null_overwrites_leave_one_key_and_no_tombstone)
{
    char dir[64];
    store_drive_t *d;
    meta_memtable_stats_t m;
    meta_object_t r, got;
    meta_buf_t raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 50; i++) {
        object_init(&r, "hot", 1000 + i, NULL);
        r.flags = META_OBJ_INLINE;
        r.size = 5;
        r.inline_data = bytes(i % 2 ? "odd.." : "even.");
        CHECK_EQ_INT(put_replacing(d, &r), 0);
    }
    CHECK_EQ_INT(count_keys(d, "hot"), 1);
    CHECK_EQ_INT(count_versions(d, "hot"), 1);
    /* replaced in place: the previous layout left 49 deletes in front of the key */
    CHECK_EQ_INT(meta_db_memtable_stats(store_drive_db(d), &m), 0);
    CHECK_EQ_INT(m.deletes, 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("hot"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1049);
    CHECK(got.inline_data.len == 5 && memcmp(got.inline_data.base, "odd..", 5) == 0);
    meta_buf_dispose(&raw);
    drive_free(dir, d);
}

TEST(test_object_takeback_restores_previous_version_when_write_failed)
{
    const uint64_t old_ids[] = {130}, new_ids[] = {230};
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0}, parts = {0};
    meta_part_ref_t p = {.number = 1, .size = 100};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 0, old_ids, 1), 0);
    make_id(p.data_id, new_ids[0]);
    CHECK_EQ_INT(meta_parts_append(&parts, &p), 0);
    object_init(&r, "k", 2000, NULL);
    r.size = 100;
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    CHECK_EQ_INT(store_object_put(d, &r), 0);
    /* the write missed its quorum elsewhere: taken back here, the old version is whole again */
    CHECK_EQ_INT(store_object_takeback(d, &r), 0);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1000);
    CHECK(shard_exists(d, 130, 0));
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_object_takeback(d, &r), STORE_ENOENT);
    /* a version of the same time but other data is another write: not taken back */
    object_init(&r, "k", 1000, NULL);
    CHECK_EQ_INT(store_object_takeback(d, &r), STORE_ENOENT);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

TEST(test_object_update_changes_only_attrs_of_the_version_held)
{
    const uint64_t ids[] = {330};
    uint8_t vid[META_ID_LEN];
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t held = {0}, raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    /* the null version: this drive holds shard 3 of it */
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 3, ids, 1), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &held, &got), 0);
    r = got;           /* its fields point into held, kept to the end */
    r.shard_index = 0; /* what the drive holds is kept, whatever the update says */
    r.attrs = (meta_bytes_t){"\x01\x03\x00\x00\x00"
                             "a=b",
                             8};
    r.attrs_ns = 50;
    CHECK_EQ_INT(store_object_update(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &raw, &got), 0);
    CHECK(got.attrs_ns == 50 && got.attrs.len == 8 && memcmp(got.attrs.base + 5, "a=b", 3) == 0);
    CHECK_EQ_INT(got.shard_index, 3);
    CHECK_EQ_INT(got.mtime_ns, 1000);
    CHECK_EQ_INT(count_versions(d, "k"), 1);
    meta_buf_dispose(&raw);
    raw = (meta_buf_t){0};
    /* an older change arriving late leaves the newer one */
    r.attrs = bytes("");
    r.attrs_ns = 40;
    CHECK_EQ_INT(store_object_update(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &raw, &got), 0);
    CHECK(got.attrs_ns == 50 && got.attrs.len == 8);
    meta_buf_dispose(&raw);
    raw = (meta_buf_t){0};
    /* another write of the key (other time) is not the version held: nothing changes */
    r.mtime_ns = 999;
    r.attrs_ns = 60;
    CHECK_EQ_INT(store_object_update(d, &r), STORE_ENOENT);
    /* deleted, the version does not come back through an update */
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), NULL), 0);
    r.mtime_ns = 1000;
    CHECK_EQ_INT(store_object_update(d, &r), STORE_ENOENT);
    CHECK_EQ_INT(count_versions(d, "k"), 0);
    /* a versioned record: updated in place, and gone once deleted */
    make_id(vid, 77);
    object_init(&r, "v", 3000, vid);
    CHECK_EQ_INT(store_object_put(d, &r), 0);
    r.attrs = (meta_bytes_t){"\x02\x01\x00\x00\x00G", 6};
    r.attrs_ns = 5;
    CHECK_EQ_INT(store_object_update(d, &r), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("v"), vid, &raw, &got), 0);
    CHECK(got.attrs_ns == 5 && got.attrs.len == 6);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("v"), vid), 0);
    r.attrs_ns = 6;
    CHECK_EQ_INT(store_object_update(d, &r), STORE_ENOENT);
    CHECK_EQ_INT(count_versions(d, "v"), 0);
    meta_buf_dispose(&held);
    drive_free(dir, d);
}

TEST(test_object_null_pending_versions_capped_when_none_acknowledged)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r, got;
    meta_buf_t raw = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    /* puts never pruned (no quorum anywhere): the slot keeps the newest META_SLOT_MAX */
    for (int i = 0; i < META_SLOT_MAX + 3; i++) {
        object_init(&r, "k", 1000 + i, NULL);
        CHECK_EQ_INT(store_object_put(d, &r), 0);
    }
    CHECK_EQ_INT(count_versions(d, "k"), META_SLOT_MAX);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("k"), zero_vid, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1000 + META_SLOT_MAX + 2);
    meta_buf_dispose(&raw);
    /* an older write arriving late is absorbed */
    object_init(&r, "k", 1001, NULL);
    CHECK_EQ_INT(store_object_put(d, &r), STORE_ESTALE);
    drive_free(dir, d);
}

/* ---- layout 1 drives ---- */

/* Writes an inline record under layout 1's key (a null version keyed by its time). */
static int put_v1(meta_db_t *db, const char *key, int64_t mtime, const uint8_t *vid, const char *data)
{
    meta_object_t r;
    meta_buf_t val = {0};
    meta_key_t k;
    int ret;

    object_init(&r, key, mtime, vid);
    r.flags = META_OBJ_INLINE;
    r.size = strlen(data);
    r.inline_data = bytes(data);
    if ((ret = meta_key_object(r.bucket, r.key, mtime, r.vid, &k)) == 0 && (ret = meta_object_encode(&r, &val)) == 0)
        ret = meta_db_put(db, k.buf, k.len, val.base, val.len);
    meta_buf_dispose(&val);
    return ret;
}

/* Makes dir a layout 1 drive: a drive whose layout record is gone, then the records given. */
static int drive_v1(char dir[64], meta_db_t **db)
{
    char path[128];
    store_drive_t *d;
    meta_key_t k;
    int ret;

    if ((ret = drive_new(dir, &d)) != 0)
        return ret;
    store_drive_close(d);
    snprintf(path, sizeof(path), "%s/db", dir);
    if ((ret = meta_db_open(path, 0, db)) != 0)
        return ret;
    meta_key_layout(&k);
    return meta_db_delete(*db, k.buf, k.len);
}

static int count_list_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    ((count_arg_t *)arg)->keys++;
    return 0;
}

TEST(test_layout_migrates_v1_drive_when_opened)
{
    static const uint8_t vid[META_ID_LEN] = {1, 2, 3};
    char dir[64], path[128];
    store_drive_t *d;
    meta_db_t *db;
    meta_object_t got;
    meta_buf_t raw = {0};
    meta_key_t prefix, k;
    count_arg_t c = {0};
    void *val;
    size_t vlen;

    CHECK_EQ_INT(drive_v1(dir, &db), 0);
    CHECK_EQ_INT(put_v1(db, "a", 1000, NULL, "a-old"), 0); /* a prune that never ran */
    CHECK_EQ_INT(put_v1(db, "a", 2000, NULL, "a-new"), 0);
    CHECK_EQ_INT(put_v1(db, "b", 1500, NULL, "b"), 0);
    CHECK_EQ_INT(put_v1(db, "c", 1700, vid, "c-v"), 0); /* a versioned record stays where it is */
    meta_db_close(db);

    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("a"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 2000);
    CHECK(memcmp(got.inline_data.base, "a-new", 5) == 0);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(count_keys(d, "a"), 1);
    CHECK_EQ_INT(count_versions(d, "a"), 2); /* the unpruned one waits for the next write, as before */
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("b"), zero_vid, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1500);
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("c"), vid, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1700);
    meta_buf_dispose(&raw);
    /* a listing's scan sees one key per object */
    CHECK_EQ_INT(meta_key_bucket_objects(bytes(BUCKET), &prefix), 0);
    CHECK_EQ_INT(store_record_scan(d, &prefix, NULL, 0, count_list_cb, &c), 0);
    CHECK_EQ_INT(c.keys, 3);
    /* the next write settles the key */
    CHECK_EQ_INT(put_object_with_parts(d, "a", 3000, NULL, 0, (const uint64_t[]){500}, 1), 0);
    CHECK_EQ_INT(count_versions(d, "a"), 1);
    meta_key_layout(&k);
    CHECK_EQ_INT(meta_db_get(store_drive_db(d), k.buf, k.len, &val, &vlen), 0);
    CHECK(vlen == 4 && ((uint8_t *)val)[0] == META_LAYOUT_VERSION);
    free(val);
    store_drive_close(d);

    /* a migration cut short (old keys beside a slot) ends the same at the next open */
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    CHECK_EQ_INT(meta_db_delete(db, k.buf, k.len), 0);
    CHECK_EQ_INT(put_v1(db, "a", 2500, NULL, "a-mid"), 0);
    meta_db_close(db);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    CHECK_EQ_INT(count_keys(d, "a"), 1);
    CHECK_EQ_INT(count_versions(d, "a"), 2);
    CHECK_EQ_INT(store_object_get(d, bytes(BUCKET), bytes("a"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 3000);
    meta_buf_dispose(&raw);
    drive_free(dir, d);
}

TEST(test_layout_refuses_drive_when_format_unknown)
{
    char dir[64], path[128];
    store_drive_t *d = NULL;
    meta_db_t *db;
    meta_key_t k;
    meta_object_t r;
    meta_buf_t val = {0};
    const uint8_t three[4] = {7, 0, 0, 0};

    /* a layout this build does not know */
    CHECK_EQ_INT(drive_new(dir, &d), 0);
    store_drive_close(d);
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    meta_key_layout(&k);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, three, sizeof(three)), 0);
    meta_db_close(db);
    d = NULL;
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), STORE_EFORMAT);
    CHECK(d == NULL);
    remove_tree(dir);

    /* a layout 1 drive holding records of format 1 */
    CHECK_EQ_INT(drive_v1(dir, &db), 0);
    object_init(&r, "old", 1000, NULL);
    CHECK_EQ_INT(meta_object_encode(&r, &val), 0);
    val.base[1] = 1;
    CHECK_EQ_INT(meta_key_object(r.bucket, r.key, 1000, r.vid, &k), 0);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, val.base, val.len), 0);
    meta_db_close(db);
    meta_buf_dispose(&val);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), STORE_EFORMAT);
    CHECK(strstr(yc_strerror(STORE_EFORMAT), "format") != NULL);
    remove_tree(dir);
}

/* ---- heads ---- */

/* What the records say is the key's newest here (slot's first against the first version, by
 * time and vid), as a scan of every record finds it: present 0 when the key has no record. */
typedef struct {
    int present, slot, marker;
    int64_t mtime;
    uint8_t vid[META_ID_LEN];
} truth_t;

static int truth_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    truth_t *t = arg;
    meta_bytes_t rec;
    meta_object_t r;
    size_t pos = 0;
    int64_t mtime;
    uint8_t vid[META_ID_LEN];

    if (meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, vid) != 0 ||
        meta_slot_next(val, vlen, &pos, &rec) != 1 || meta_object_decode(rec.base, rec.len, &r) != 0)
        return 0;
    if (!t->present || r.mtime_ns > t->mtime || (r.mtime_ns == t->mtime && memcmp(r.vid, t->vid, META_ID_LEN) > 0)) {
        t->present = 1;
        t->slot = mtime == META_NULL_SLOT_MTIME;
        t->marker = (r.flags & META_OBJ_DELETE_MARKER) != 0;
        t->mtime = r.mtime_ns;
        memcpy(t->vid, r.vid, META_ID_LEN);
    }
    return 0;
}

/* The one record a drive's newest-only read of a key gives (from its head), and whether it has
 * exactly the bytes stored under its key. */
typedef struct {
    store_drive_t *d;
    int given, same;
} given_t;

static int given_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    given_t *g = arg;
    meta_key_t k;
    void *stored;
    size_t slen;

    memcpy(k.buf, key, klen);
    k.len = klen;
    g->given++;
    if (store_record_get(g->d, &k, &stored, &slen) == 0) {
        g->same = slen == vlen && memcmp(stored, val, vlen) == 0;
        free(stored);
    }
    return 0;
}

/* 0 when key's head is what its records say, in its range only; else a line why. */
static const char *head_mismatch(store_drive_t *d, const char *key)
{
    truth_t t = {0};
    meta_key_t prefix, live, dead;
    meta_head_t h;
    void *val;
    size_t vlen;

    meta_key_object_versions(bytes(BUCKET), bytes(key), &prefix);
    if (store_record_scan(d, &prefix, NULL, 0, truth_cb, &t) != 0)
        return "scan failed";
    meta_key_head(bytes(BUCKET), bytes(key), 0, &live);
    meta_key_head(bytes(BUCKET), bytes(key), 1, &dead);
    int in_live = meta_db_get(store_drive_db(d), live.buf, live.len, &val, &vlen) == 0;
    if (in_live)
        free(val);
    int in_dead = meta_db_get(store_drive_db(d), dead.buf, dead.len, &val, &vlen) == 0;
    if (in_dead)
        free(val);
    if (!t.present)
        return in_live || in_dead ? "a head for a key without records" : NULL;
    if (in_live + in_dead != 1 || in_dead != t.marker)
        return "the head is not in its one range";
    if (meta_db_head_get(store_drive_db(d), prefix.buf, prefix.len, &h) != 0)
        return "head unreadable";
    if (((h.flags & META_HEAD_SLOT) != 0) != t.slot || ((h.flags & META_HEAD_MARKER) != 0) != t.marker)
        return "the head's flags differ";
    if (!t.slot && (h.mtime_ns != t.mtime || memcmp(h.vid, t.vid, META_ID_LEN) != 0))
        return "the head names another version";
    given_t g = {.d = d};
    if (store_record_scan_newest(d, &prefix, NULL, 0, given_cb, &g) != 0 || g.given != 1 || !g.same)
        return "the newest read gives other bytes than the record's";
    return NULL;
}

#define CHECK_HEAD(d, key)                                                                                             \
    do {                                                                                                               \
        const char *why_ = head_mismatch(d, key);                                                                      \
        if (why_ != NULL)                                                                                              \
            fprintf(stderr, "  head of %s: %s\n", key, why_);                                                          \
        CHECK(why_ == NULL);                                                                                           \
    } while (0)

static void version_init(meta_object_t *r, const char *key, int64_t mtime, uint8_t tag, int marker)
{
    uint8_t vid[META_ID_LEN] = {0};
    vid[0] = 0x80 | tag; /* never the null vid */
    object_init(r, key, mtime, vid);
    if (marker)
        r->flags = META_OBJ_DELETE_MARKER;
}

/* Every change of a key's records moves its head with it: puts newer and older than the newest,
 * markers (to the dead range and back), deletes of the newest version (the next one found),
 * prunes, take-backs, the slot's removal, and a marker in the slot. */
TEST(test_heads_follow_puts_markers_deletes_and_prunes)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t n100, v200, m300, v250, n400, n500;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_HEAD(d, "k"); /* nothing: no head */
    object_init(&n100, "k", 100, NULL);
    CHECK_EQ_INT(put_replacing(d, &n100), 0);
    CHECK_HEAD(d, "k"); /* the slot */
    version_init(&v200, "k", 200, 1, 0);
    CHECK_EQ_INT(store_object_put(d, &v200), 0);
    CHECK_HEAD(d, "k"); /* v200 */
    version_init(&m300, "k", 300, 2, 1);
    CHECK_EQ_INT(store_object_put(d, &m300), 0);
    CHECK_HEAD(d, "k"); /* the marker: dead range */
    version_init(&v250, "k", 250, 3, 0);
    CHECK_EQ_INT(store_object_put(d, &v250), 0); /* older than the marker: it stays on top */
    CHECK_HEAD(d, "k");
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), m300.vid), 0);
    CHECK_HEAD(d, "k"); /* v250, live again */
    CHECK_EQ_INT(store_object_takeback(d, &v250), 0);
    CHECK_HEAD(d, "k"); /* v200 */
    v200.attrs_ns = 7;
    v200.attrs = (meta_bytes_t){"\x01\x00\x00\x00\x00", 5}; /* an empty tag set: the head's copy follows */
    CHECK_EQ_INT(store_object_update(d, &v200), 0);
    CHECK_HEAD(d, "k");
    object_init(&n400, "k", 400, NULL);
    CHECK_EQ_INT(store_object_put(d, &n400), 0);
    CHECK_HEAD(d, "k"); /* the slot, with n100 still under n400 */
    CHECK_EQ_INT(store_object_takeback(d, &n400), 0);
    CHECK_HEAD(d, "k"); /* n100 is older than v200 */
    CHECK_EQ_INT(store_object_put(d, &n400), 0);
    CHECK_EQ_INT(store_object_prune(d, &n400), 0);
    CHECK_HEAD(d, "k");
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), zero_vid), 0);
    CHECK_HEAD(d, "k"); /* the slot gone: v200 */
    object_init(&n500, "k", 500, NULL);
    n500.flags = META_OBJ_DELETE_MARKER; /* a suspended bucket's DELETE */
    CHECK_EQ_INT(put_replacing(d, &n500), 0);
    CHECK_HEAD(d, "k"); /* a marker in the slot: dead range */
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), v200.vid), 0);
    CHECK_HEAD(d, "k");
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("k"), zero_vid), 0);
    CHECK_HEAD(d, "k"); /* no record left: no head in either range */
    drive_free(dir, d);
}

/* A GET's newest-only read of one key is two point reads when the drive keeps heads: no iterator
 * steps, whatever the key's history; and it gives the newest record. */
TEST(test_heads_answer_newest_read_with_point_reads)
{
    char dir[64], name[16];
    store_drive_t *d;
    meta_object_t r;
    meta_key_t prefix;
    meta_perf_t perf;
    truth_t t = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 200; i++) {
        version_init(&r, "hot", 1000 + i, (uint8_t)(i & 0x7f), 0);
        r.vid[1] = (uint8_t)i;
        CHECK_EQ_INT(store_object_put(d, &r), 0);
        if (i < 199) /* every version but the newest deleted: tombstones in front of nothing */
            CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("hot"), r.vid), 0);
    }
    snprintf(name, sizeof(name), "hot");
    meta_key_object_versions(bytes(BUCKET), bytes(name), &prefix);
    meta_perf_start();
    CHECK_EQ_INT(store_record_scan_newest(d, &prefix, NULL, 0, truth_cb, &t), 0);
    meta_perf_stop(&perf);
    CHECK(t.present && t.mtime == 1199);
    fprintf(stderr, "  newest of a key with 199 deleted versions: %llu gets, %llu seeks, %llu nexts\n",
            (unsigned long long)perf.gets, (unsigned long long)perf.seeks, (unsigned long long)perf.nexts);
    CHECK_EQ_INT(perf.seeks, 0);
    CHECK_EQ_INT(perf.nexts, 0);
    CHECK_HEAD(d, "hot");
    drive_free(dir, d);
}

static int count_live_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    size_t *n = arg;
    n[vlen == 0 ? 1 : 0]++;
    return 0;
}

typedef struct {
    char seen[8][8]; /* object key, "!" before it for a skip note */
    size_t n;
} live_keys_t;

static int live_keys_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    live_keys_t *l = arg;
    char buf[META_KEY_MAX];
    meta_bytes_t k;

    if (l->n < 8 && meta_key_parse_object(key, klen, NULL, buf, &k, NULL, NULL) == 0 && k.len < 4)
        snprintf(l->seen[l->n++], sizeof(l->seen[0]), "%s%.*s", vlen == 0 ? "!" : "", (int)k.len, k.base);
    return 0;
}

/* A head that fails its checksum gives a skip note in the live scan, not silence: the listing
 * then looks the key up from its records as a GET does, rather than counting the drive out. */
TEST(test_live_scan_notes_a_damaged_head)
{
    static const uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
    char dir[64];
    store_drive_t *d;
    meta_object_t r;
    meta_key_t prefix, head;
    live_keys_t got = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    const char *keys[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        version_init(&r, keys[i], 100 + i, (uint8_t)i, 0);
        CHECK_EQ_INT(store_object_put(d, &r), 0);
    }
    meta_key_head(bytes(BUCKET), bytes("b"), 0, &head);
    CHECK_EQ_INT(meta_db_put(store_drive_db(d), head.buf, head.len, junk, sizeof(junk)), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(bytes(BUCKET), &prefix), 0);
    CHECK_EQ_INT(store_record_scan_live(d, &prefix, NULL, 0, live_keys_cb, &got), 0);
    CHECK_EQ_INT(got.n, 3);
    CHECK(strcmp(got.seen[0], "a") == 0 && strcmp(got.seen[1], "!b") == 0 && strcmp(got.seen[2], "c") == 0);
    drive_free(dir, d);
}

/* A layout 2 drive (no heads) gets them at open, and a head left without records is dropped; the
 * drive then reads and lists through them. */
TEST(test_layout_builds_heads_when_drive_has_none)
{
    static const uint8_t two[4] = {META_LAYOUT_SLOTS, 0, 0, 0};
    char dir[64], path[128], name[16];
    store_drive_t *d;
    meta_db_t *db;
    meta_object_t r;
    meta_key_t k, prefix;
    meta_head_t stale = {.flags = META_HEAD_SLOT};
    uint8_t hv[META_HEAD_LEN];
    void *val;
    size_t vlen, seen[2] = {0};

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        object_init(&r, name, 100, NULL);
        if (i > 0) /* b00 starts with a version: the listing's scan takes the heads from it */
            CHECK_EQ_INT(put_replacing(d, &r), 0); /* a null version */
        version_init(&r, name, 200, (uint8_t)i, 0);
        if (i % 2 == 0)
            CHECK_EQ_INT(store_object_put(d, &r), 0); /* a newer version */
        version_init(&r, name, 300, (uint8_t)(i + 64), 1);
        if (i % 4 == 0)
            CHECK_EQ_INT(store_object_put(d, &r), 0); /* a marker on top */
    }
    store_drive_close(d);
    /* make it a layout 2 drive: no heads, but one stale head of a key without records */
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        for (int dead = 0; dead < 2; dead++) {
            meta_key_head(bytes(BUCKET), bytes(name), dead, &k);
            CHECK_EQ_INT(meta_db_delete(db, k.buf, k.len), 0);
        }
    }
    meta_key_head(bytes(BUCKET), bytes("gone"), 0, &k);
    meta_head_encode(&stale, hv);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, hv, sizeof(hv)), 0);
    meta_key_layout(&k);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, two, sizeof(two)), 0);
    meta_db_close(db);

    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        CHECK_HEAD(d, name);
    }
    CHECK_HEAD(d, "gone");
    CHECK_EQ_INT(meta_db_get(store_drive_db(d), k.buf, k.len, &val, &vlen), 0);
    CHECK(vlen == 4 && ((uint8_t *)val)[0] == META_LAYOUT_VERSION);
    free(val);
    /* the listing's scan over the heads: 30 live keys, one record each, the 10 topped by a marker
     * left out */
    CHECK_EQ_INT(meta_key_bucket_objects(bytes(BUCKET), &prefix), 0);
    CHECK_EQ_INT(store_record_scan_live(d, &prefix, NULL, 0, count_live_cb, seen), 0);
    CHECK_EQ_INT(seen[0], 30);
    CHECK(seen[1] >= 1);
    drive_free(dir, d);
}

/* ---- deletes compacted away ---- */

TEST(test_compact_drops_tombstones_when_range_had_many_deletes)
{
    char dir[64], key[32];
    store_drive_t *d;
    meta_object_t r;
    meta_db_sizes_t sz;
    meta_memtable_stats_t m;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 1024; i++) {
        snprintf(key, sizeof(key), "gone/%04d", i);
        object_init(&r, key, 1000, NULL);
        CHECK_EQ_INT(put_replacing(d, &r), 0);
    }
    /* a few deletes elsewhere are not enough to compact anything */
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "kept/%04d", i);
        object_init(&r, key, 1000, NULL);
        CHECK_EQ_INT(put_replacing(d, &r), 0);
        CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes(key), NULL), 0);
    }
    CHECK_EQ_INT(store_drive_compactions(d, 0, 0), 0);
    for (int i = 0; i < 1024; i++) {
        snprintf(key, sizeof(key), "gone/%04d", i);
        CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes(key), NULL), 0);
    }
    /* the 1024th delete in the range queued its compaction, which the drive runs by itself; the
     * keys' heads went with them, 1024 deletes in the heads' range, which is compacted too */
    CHECK_EQ_INT(store_drive_compactions(d, 1, 10LL * 1000000000), 2);
    CHECK_EQ_INT(meta_db_sizes(store_drive_db(d), &sz), 0);
    CHECK_EQ_INT(meta_db_memtable_stats(store_drive_db(d), &m), 0);
    CHECK_EQ_INT(m.entries, 0); /* flushed with the range: the other ranges' 10 + 10 are in the SST */
    CHECK(sz.tombstones <= 20);
    CHECK_EQ_INT(count_keys(d, "gone/0000"), 0);
    drive_free(dir, d);
}

TEST(test_compact_runs_when_range_idle_after_overwrites)
{
    char dir[64];
    store_drive_t *d;
    meta_object_t r;
    meta_memtable_stats_t m;
    meta_db_sizes_t sz;
    int64_t t0;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    for (int i = 0; i < 100; i++) {
        object_init(&r, "status", 1000 + i, NULL);
        r.flags = META_OBJ_INLINE;
        r.size = 6;
        r.inline_data = bytes("status");
        CHECK_EQ_INT(put_replacing(d, &r), 0);
    }
    /* 200 replaced values (put and prune): not enough to compact while busy */
    CHECK_EQ_INT(store_drive_compactions(d, 0, 0), 0);
    CHECK_EQ_INT(meta_db_memtable_stats(store_drive_db(d), &m), 0);
    CHECK(m.entries >= 199);
    /* ... but the drive compacts the range once it stayed idle a few seconds */
    t0 = yc_mono_ns();
    CHECK_EQ_INT(store_drive_compactions(d, 0, 15LL * 1000000000), 1);
    CHECK(yc_mono_ns() - t0 >= 1LL * 1000000000);
    CHECK_EQ_INT(meta_db_memtable_stats(store_drive_db(d), &m), 0);
    CHECK_EQ_INT(m.entries, 0);
    CHECK_EQ_INT(meta_db_sizes(store_drive_db(d), &sz), 0);
    CHECK(sz.keys <= 3); /* the slot (and the layout record): the 199 old values are gone */
    CHECK_EQ_INT(count_versions(d, "status"), 1);
    drive_free(dir, d);
}

/* ---- crash test ----
 *
 * A child process loops over a few keys, putting null versions (some inline, some with one or
 * two parts as shard files) and deleting them. Before each operation it logs an intent and
 * after success a done entry, so the parent knows every acknowledged operation and the one in
 * flight. The parent SIGKILLs it after a random delay, reopens the drive and checks that each
 * key is in the state of its last acknowledged operation, or of the operation in flight, that
 * every record's shards are whole and hold exactly the bytes derived from the record's key and
 * generation, and that tmp/ is empty. The content of an object is a function of (key index,
 * generation, part): a torn or stale shard cannot match it.
 */

enum { CRASH_KEYS = 6, CRASH_BLOCK = 1000, CRASH_MAX_SIZE = 4 * CRASH_BLOCK + 321 };
enum { LOG_INTENT = 1, LOG_DONE = 2, LOG_FAILED = 3 };
enum { OP_PUT = 1, OP_DELETE = 2 };

typedef struct {
    uint8_t type, op;
    uint16_t key;
    uint32_t pad;
    uint64_t gen;
} crash_log_t;

static void crash_key_name(int k, char *buf, size_t size)
{
    snprintf(buf, size, "crash/key-%d", k);
}

static uint64_t crash_seed(int k, uint64_t gen, uint32_t part)
{
    return (uint64_t)k * 0x100000001b3ull ^ gen * 0x9e3779b97f4a7c15ull ^ ((uint64_t)part + 1) << 56;
}

static size_t crash_size(int k, uint64_t gen, uint32_t part)
{
    uint64_t s = crash_seed(k, gen, part) + 7;
    return (size_t)(splitmix(&s) % (CRASH_MAX_SIZE + 1));
}

/* Generations shape the record: every third one inline, others with one or two parts. */
static uint32_t crash_parts(uint64_t gen)
{
    return gen % 3 == 0 ? 0 : (uint32_t)(gen % 2) + 1;
}

static int crash_put(store_drive_t *d, int k, uint64_t gen)
{
    char name[32];
    uint8_t data[CRASH_MAX_SIZE];
    meta_buf_t parts = {0};
    meta_object_t r;
    uint32_t nparts = crash_parts(gen);
    int ret = 0;

    crash_key_name(k, name, sizeof(name));
    object_init(&r, name, (int64_t)gen, NULL);
    r.shard_index = 1;
    if (nparts == 0) {
        r.size = crash_size(k, gen, 0);
        fill(data, r.size, crash_seed(k, gen, 0));
        r.flags = META_OBJ_INLINE;
        r.inline_data = (meta_bytes_t){(const char *)data, (size_t)r.size};
        return put_replacing(d, &r);
    }
    for (uint32_t i = 0; i < nparts && ret == 0; i++) {
        meta_part_ref_t p = {.number = i + 1, .size = crash_size(k, gen, i)};
        make_id(p.data_id, crash_seed(k, gen, i));
        fill(data, p.size, crash_seed(k, gen, i));
        if ((ret = write_shard(d, p.data_id, r.shard_index, data, p.size, CRASH_BLOCK)) == 0)
            ret = meta_parts_append(&parts, &p);
        r.size += p.size;
    }
    if (ret == 0) {
        r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
        r.part_count = nparts;
        ret = put_replacing(d, &r);
    }
    meta_buf_dispose(&parts);
    return ret;
}

static void crash_log(int fd, uint8_t type, uint8_t op, int k, uint64_t gen)
{
    crash_log_t e = {.type = type, .op = op, .key = (uint16_t)k, .gen = gen};

    if (write(fd, &e, sizeof(e)) != (ssize_t)sizeof(e))
        _exit(3);
}

/* The child: never returns; killed by the parent, or exits non-zero on an unexpected error. */
static void crash_child(const char *dir, const char *log_path, uint64_t gen, uint64_t seed)
{
    store_drive_t *d;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);

    if (fd < 0 || store_drive_open(dir, 0, &d) != 0)
        _exit(2);
    for (;; gen++) {
        int k = (int)(splitmix(&seed) % CRASH_KEYS);
        int op = splitmix(&seed) % 5 == 0 ? OP_DELETE : OP_PUT;
        int ret;
        crash_log(fd, LOG_INTENT, (uint8_t)op, k, gen);
        if (op == OP_PUT) {
            ret = crash_put(d, k, gen);
        } else {
            char name[32];
            crash_key_name(k, name, sizeof(name));
            ret = store_object_delete(d, bytes(BUCKET), bytes(name), NULL);
            if (ret == STORE_ENOENT)
                ret = 0;
        }
        crash_log(fd, ret == 0 ? LOG_DONE : LOG_FAILED, (uint8_t)op, k, gen);
        if (ret != 0)
            _exit(4);
    }
}

/* Checks the record of key k (or its absence) against the expected generation (0: absent).
 * Returns 0 when it matches, 1 when the state differs, negative on damage. */
static int crash_check_key(store_drive_t *d, int k, uint64_t expect_gen, size_t *verified)
{
    char name[32];
    uint8_t want[CRASH_MAX_SIZE], got_data[CRASH_MAX_SIZE];
    meta_buf_t raw = {0};
    meta_object_t r;
    meta_part_ref_t p;
    uint64_t total = 0;
    int ret;

    crash_key_name(k, name, sizeof(name));
    ret = store_object_get(d, bytes(BUCKET), bytes(name), NULL, &raw, &r);
    if (ret == STORE_ENOENT)
        return expect_gen == 0 ? 0 : 1;
    if (ret != 0)
        return ret;
    if ((uint64_t)r.mtime_ns != expect_gen) {
        ret = 1;
        goto out;
    }
    ret = -100;
    if (r.part_count != crash_parts(expect_gen))
        goto out;
    if (r.part_count == 0) {
        size_t size = crash_size(k, expect_gen, 0);
        fill(want, size, crash_seed(k, expect_gen, 0));
        if (!(r.flags & META_OBJ_INLINE) || r.inline_data.len != size || memcmp(r.inline_data.base, want, size) != 0)
            goto out;
    }
    for (uint32_t i = 0; i < r.part_count; i++) {
        uint8_t id[META_ID_LEN];
        uint64_t size;
        if (meta_object_part(&r, i, &p) != 0 || p.size != crash_size(k, expect_gen, i))
            goto out;
        make_id(id, crash_seed(k, expect_gen, i));
        if (memcmp(id, p.data_id, META_ID_LEN) != 0)
            goto out;
        if (store_shard_verify(d, p.data_id, r.shard_index) != 0 ||
            store_shard_stat(d, p.data_id, r.shard_index, &size) != 0 || size != p.size ||
            store_shard_read(d, p.data_id, r.shard_index, 0, p.size, got_data) != 0)
            goto out;
        fill(want, p.size, crash_seed(k, expect_gen, i));
        if (memcmp(want, got_data, p.size) != 0)
            goto out;
        total += p.size;
    }
    if (r.size != (r.part_count == 0 ? r.inline_data.len : total))
        goto out;
    (*verified)++;
    ret = 0;

out:
    meta_buf_dispose(&raw);
    return ret;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until the child has logged its first intent (its drive is open), or until deadline. */
static void wait_for_log(const char *log_path, double deadline)
{
    struct stat st;

    while (now_s() < deadline && (stat(log_path, &st) != 0 || st.st_size < (off_t)sizeof(crash_log_t)))
        usleep(500);
}

TEST(test_crash_keeps_acknowledged_writes_when_killed_at_random_points)
{
    char dir[64], log_path[128];
    store_drive_t *d;
    uint64_t model[CRASH_KEYS] = {0}; /* generation each key holds; 0: absent */
    uint64_t next_gen = 1, rng = (uint64_t)time(NULL);
    size_t iterations = 0, kills_writing = 0, acked = 0, verified = 0, inflight_applied = 0;
    double start = now_s();

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    store_drive_close(d);
    snprintf(log_path, sizeof(log_path), "%s.log", dir);
    while (now_s() - start < 8.0) {
        crash_log_t e, intent = {0};
        int status, fd, pending = 0;
        size_t entries;
        pid_t pid;

        unlink(log_path);
        fflush(NULL);
        CHECK((pid = fork()) >= 0);
        if (pid == 0)
            crash_child(dir, log_path, next_gen, splitmix(&rng));
        /* One kill in eight lands at a random point, often while the drive opens; the others
         * wait until the child is writing, then up to 40 ms more, whatever opening costs. */
        if (splitmix(&rng) % 8 != 0)
            wait_for_log(log_path, now_s() + 5.0);
        usleep((useconds_t)(splitmix(&rng) % 40000));
        kill(pid, SIGKILL);
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        iterations++;

        /* Replay the log: done entries are acknowledged, a trailing intent is in flight. A
         * child killed before it opened its log did nothing. */
        fd = open(log_path, O_RDONLY);
        CHECK(fd >= 0 || errno == ENOENT);
        entries = 0;
        while (fd >= 0 && read(fd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
            entries++;
            CHECK(e.type == LOG_INTENT || e.type == LOG_DONE);
            CHECK(e.key < CRASH_KEYS);
            if (e.type == LOG_INTENT) {
                intent = e;
                pending = 1;
            } else {
                CHECK(pending && intent.gen == e.gen);
                model[e.key] = e.op == OP_PUT ? e.gen : 0;
                acked++;
                pending = 0;
            }
            if (e.gen >= next_gen)
                next_gen = e.gen + 1;
        }
        if (fd >= 0)
            close(fd);
        if (entries > 0)
            kills_writing++;

        CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
        CHECK_EQ_INT(count_tmp_files(dir), 0);
        for (int k = 0; k < CRASH_KEYS; k++) {
            int ret = crash_check_key(d, k, model[k], &verified);
            if (ret == 1 && pending && intent.key == k) {
                /* Not acknowledged, but may have reached the disk: then it is whole. */
                uint64_t alt = intent.op == OP_PUT ? intent.gen : 0;
                ret = crash_check_key(d, k, alt, &verified);
                if (ret == 0) {
                    model[k] = alt;
                    inflight_applied++;
                }
            }
            if (ret != 0) {
                fprintf(stderr, "  crash: key %d expected gen %llu: %d\n", k, (unsigned long long)model[k], ret);
                store_drive_close(d);
            }
            CHECK_EQ_INT(ret, 0);
        }
        for (int k = 0; k < CRASH_KEYS; k++) {
            char name[32];
            crash_key_name(k, name, sizeof(name));
            /* kills between put and prune leave replaced versions beside the newest; the next
             * prune (the gateway's, or the healer's) leaves exactly one */
            meta_object_t newest;
            meta_buf_t raw = {0};
            if (store_object_get(d, bytes(BUCKET), bytes(name), NULL, &raw, &newest) == 0) {
                CHECK_EQ_INT(store_object_prune(d, &newest), 0);
                meta_buf_dispose(&raw);
                CHECK_EQ_INT(count_versions(d, name), 1);
            }
        }
        store_drive_close(d);
    }
    fprintf(stderr,
            "  crash: %zu kills (%zu while writing), %zu acknowledged operations, %zu object checks passed, "
            "%zu unacknowledged operations found applied, %zu shard files left\n",
            iterations, kills_writing, acked, verified, inflight_applied, count_shard_files(dir));
    CHECK(acked > 0);
    remove_tree(dir);
    unlink(log_path);
}

/* ---- a full drive ---- */

#define MiB ((uint64_t)1 << 20)

/* Fills the filesystem down to leave bytes, then waits out the drive's free-space estimate,
 * which may be 10 ms old (drive.c). */
static void fill_to(const char *mnt, uint64_t leave)
{
    unit_fill(mnt, leave);
    usleep(20000);
}

static int put_inline(store_drive_t *d, const char *key, int64_t mtime, size_t len)
{
    static char data[64 * 1024];
    meta_object_t r;

    memset(data, 'x', sizeof(data));
    object_init(&r, key, mtime, NULL);
    r.flags = META_OBJ_INLINE;
    r.size = len;
    r.inline_data = (meta_bytes_t){data, len < sizeof(data) ? len : sizeof(data)};
    return put_replacing(d, &r);
}

static int64_t stored_mtime(store_drive_t *d, const char *key)
{
    meta_buf_t raw = {0};
    meta_object_t got;
    int64_t mtime;

    if (store_object_get(d, bytes(BUCKET), bytes(key), NULL, &raw, &got) != 0)
        return -1;
    mtime = got.mtime_ns;
    meta_buf_dispose(&raw);
    return mtime;
}

/* Reads shard (seed, index) back and compares it with what put_object_with_parts wrote. */
static int shard_intact(store_drive_t *d, uint64_t seed, uint32_t index)
{
    uint8_t id[META_ID_LEN], want[300], got[300];

    make_id(id, seed);
    fill(want, sizeof(want), seed);
    return store_shard_read(d, id, index, 0, sizeof(got), got) == 0 && memcmp(want, got, sizeof(got)) == 0;
}

/* Below the reserve, new shard data is refused before it touches the disk; below half of it,
 * records too; the version in place stays whole; deletes go through; with space back, writes
 * work again. */
TEST(test_space_refuses_writes_below_reserve_and_keeps_previous_version)
{
    const uint64_t v1[] = {100}, v2[] = {200}, v3[] = {300};
    char mnt[64], dir[128], why[160];
    store_drive_t *d = NULL;
    uint64_t free_bytes, reserve;
    meta_key_t key;

    if (unit_tmpfs_mount(mnt, "16m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(dir, sizeof(dir), "%s/drive", mnt);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    store_drive_set_reserve(d, 4 * MiB);
    CHECK_EQ_INT(store_drive_space(d, &free_bytes, &reserve), 0);
    CHECK_EQ_INT(reserve, 4 * MiB);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 2, v1, 1), 0);
    CHECK_EQ_INT(put_inline(d, "small", 1000, 1000), 0);

    /* between the reserve and its half: no new shard, records still */
    fill_to(mnt, 3 * MiB);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 2000, NULL, 2, v2, 1), STORE_ENOSPC);
    CHECK(!shard_exists(d, 200, 2));
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    CHECK_EQ_INT(stored_mtime(d, "k"), 1000);
    CHECK(shard_intact(d, 100, 2));
    CHECK_EQ_INT(put_inline(d, "small", 2000, 1000), 0);

    /* below half the reserve: records refused too, the old version still the one stored */
    fill_to(mnt, 1 * MiB);
    CHECK_EQ_INT(put_inline(d, "k", 3000, 1000), STORE_ENOSPC);
    CHECK_EQ_INT(stored_mtime(d, "k"), 1000);
    CHECK(shard_intact(d, 100, 2));
    CHECK_EQ_INT(meta_key_bucket(bytes(BUCKET), &key), 0);
    CHECK_EQ_INT(store_record_put(d, &key, "b", 1), STORE_ENOSPC);
    CHECK_EQ_INT(meta_db_write_error(store_drive_db(d)), 0); /* RocksDB never saw a failure */

    /* deletes are how space comes back: admitted on a full drive */
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("small"), NULL), 0);
    CHECK_EQ_INT(stored_mtime(d, "small"), -1);

    unit_unfill(mnt);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 4000, NULL, 2, v3, 1), 0);
    CHECK_EQ_INT(stored_mtime(d, "k"), 4000);
    CHECK(shard_intact(d, 300, 2));
    CHECK(!shard_exists(d, 100, 2)); /* pruned with the version it belonged to */
    store_drive_close(d);
    unit_tmpfs_umount(mnt);
}

/* With no reserve to speak of and the disk filled at once (faster than the drive's estimate
 * ages), the disk itself says ENOSPC: the shard write fails with STORE_ENOSPC, leaves no temp
 * file, and the shard it would have replaced is untouched. */
TEST(test_space_enospc_from_disk_fails_shard_and_leaves_no_temp_file)
{
    char mnt[64], dir[128], why[160];
    static uint8_t data[256 * 1024];
    uint8_t id[META_ID_LEN], back[300], want[300];
    store_drive_t *d = NULL;

    if (unit_tmpfs_mount(mnt, "16m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(dir, sizeof(dir), "%s/drive", mnt);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    store_drive_set_reserve(d, 1);
    make_id(id, 7);
    fill(want, sizeof(want), 7);
    CHECK_EQ_INT(write_shard(d, id, 0, want, sizeof(want), 128), 0);
    unit_fill(mnt, 0);
    fill(data, sizeof(data), 8);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 64 * 1024), STORE_ENOSPC);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    CHECK_EQ_INT(store_shard_read(d, id, 0, 0, sizeof(back), back), 0);
    CHECK(memcmp(back, want, sizeof(back)) == 0);
    unit_unfill(mnt);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 64 * 1024), 0);
    store_drive_close(d);
    unit_tmpfs_umount(mnt);
}

/* A database that met ENOSPC (here: a write that went past the drive's admission, as another
 * process's would) takes no write from the drive: puts and deletes are refused without
 * reaching RocksDB while the disk is full, reads go on, and the first write once space is back
 * reopens it. */
TEST(test_space_database_reopens_after_enospc_once_space_is_back)
{
    char mnt[64], dir[128], why[160], name[32];
    static char big[256 * 1024];
    store_drive_t *d = NULL;
    meta_db_t *db;
    int ret = 0;

    if (unit_tmpfs_mount(mnt, "16m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(dir, sizeof(dir), "%s/drive", mnt);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    store_drive_set_reserve(d, 1);
    db = store_drive_db(d);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "obj-%d", i);
        CHECK_EQ_INT(put_inline(d, name, 1000, 30000), 0);
    }
    unit_fill(mnt, 0);
    for (int i = 0; i < 10 && ret == 0; i++)
        ret = meta_db_put(db, "outside", 7, big, sizeof(big));
    CHECK_EQ_INT(ret, META_ENOSPC);
    CHECK_EQ_INT(meta_db_write_error(db), META_ENOSPC);
    CHECK_EQ_INT(put_inline(d, "refused", 2000, 10), STORE_ENOSPC);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("obj-3"), NULL), STORE_ENOSPC);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "obj-%d", i);
        CHECK_EQ_INT(stored_mtime(d, name), 1000);
    }
    unit_unfill(mnt);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("obj-3"), NULL), 0);
    CHECK_EQ_INT(meta_db_write_error(db), 0);
    CHECK_EQ_INT(put_inline(d, "after", 2000, 30000), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "obj-%d", i);
        CHECK_EQ_INT(stored_mtime(d, name), i == 3 ? -1 : 1000);
    }
    CHECK_EQ_INT(stored_mtime(d, "after"), 2000);
    store_drive_close(d);
    unit_tmpfs_umount(mnt);
}

/* A drive opened on a full disk comes up read-only and serves its records and shards; writes
 * and deletes are refused until space is back, then the drive reopens its database. */
TEST(test_space_drive_opens_on_full_disk_and_serves_reads)
{
    const uint64_t v1[] = {100};
    char mnt[64], dir[128], why[160];
    store_drive_t *d = NULL;

    if (unit_tmpfs_mount(mnt, "16m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(dir, sizeof(dir), "%s/drive", mnt);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    CHECK_EQ_INT(put_object_with_parts(d, "k", 1000, NULL, 1, v1, 1), 0);
    CHECK_EQ_INT(put_inline(d, "small", 1000, 5000), 0);
    store_drive_close(d);
    d = NULL;
    unit_fill(mnt, 0);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    CHECK_EQ_INT(meta_db_read_only(store_drive_db(d)), 1);
    CHECK_EQ_INT(stored_mtime(d, "k"), 1000);
    CHECK_EQ_INT(stored_mtime(d, "small"), 1000);
    CHECK(shard_intact(d, 100, 1));
    CHECK_EQ_INT(put_inline(d, "new", 2000, 10), STORE_ENOSPC);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("small"), NULL), STORE_ENOSPC);
    unit_unfill(mnt);
    CHECK_EQ_INT(store_object_delete(d, bytes(BUCKET), bytes("small"), NULL), 0);
    CHECK_EQ_INT(meta_db_read_only(store_drive_db(d)), 0);
    CHECK_EQ_INT(put_inline(d, "new", 2000, 10), 0);
    CHECK_EQ_INT(stored_mtime(d, "k"), 1000);
    store_drive_close(d);
    unit_tmpfs_umount(mnt);
}

int main(void)
{
    RUN(test_drive_open_creates_layout_when_create);
    RUN(test_drive_open_fails_when_missing_and_not_create);
    RUN(test_drive_reopen_keeps_shards_and_records);
    RUN(test_drive_open_removes_leftover_tmp_files);
    RUN(test_shard_read_matches_written_for_many_sizes_and_ranges);
    RUN(test_shard_file_has_header_and_checksum_per_block);
    RUN(test_shard_read_fails_einval_when_past_end);
    RUN(test_shard_missing_returns_enoent);
    RUN(test_shard_append_rejects_block_longer_than_first_or_after_short);
    RUN(test_shard_block_in_pieces_makes_the_same_file_as_whole_blocks);
    RUN(test_shard_block_cancel_drops_the_block_and_keeps_the_writer);
    RUN(test_shard_abort_leaves_nothing);
    RUN(test_shard_commit_replaces_existing_shard);
    RUN(test_shard_delete_removes_file);
    RUN(test_shard_bitrot_detected_only_in_touched_block);
    RUN(test_shard_bitrot_detected_when_checksum_damaged);
    RUN(test_shard_header_corruption_detected);
    RUN(test_shard_truncated_file_detected);
    RUN(test_object_inline_round_trip);
    RUN(test_object_get_returns_enoent_when_absent);
    RUN(test_object_null_overwrite_replaces_record_and_deletes_old_shards);
    RUN(test_object_null_put_keeps_old_version_until_pruned);
    RUN(test_object_light_prune_drops_inline_versions_and_leaves_files_to_full_prune);
    RUN(test_object_put_end_settled_prunes_inline_and_leaves_files_to_full_prune);
    RUN(test_object_put_after_settled_put_reads_nothing);
    RUN(test_object_put_after_other_writes_sees_them);
    RUN(test_object_delete_removes_every_null_version_when_not_pruned);
    RUN(test_object_null_put_keeps_shared_shards_when_retried);
    RUN(test_object_null_put_absorbed_when_older_than_stored);
    RUN(test_object_get_returns_latest_among_versions);
    RUN(test_object_delete_removes_record_and_shards);
    RUN(test_object_vid_with_its_time_found_among_deleted_versions);
    RUN(test_object_delete_marker_has_no_shards);
    RUN(test_record_put_get_delete);
    RUN(test_record_scan_paginates_with_limit_and_seek);
    RUN(test_gc_removes_only_old_unreferenced_shards);
    RUN(test_object_concurrent_puts_keep_one_null_version_when_same_key);
    RUN(test_object_null_overwrites_leave_one_key_and_no_tombstone);
    RUN(test_object_takeback_restores_previous_version_when_write_failed);
    RUN(test_object_update_changes_only_attrs_of_the_version_held);
    RUN(test_object_null_pending_versions_capped_when_none_acknowledged);
    RUN(test_layout_migrates_v1_drive_when_opened);
    RUN(test_layout_refuses_drive_when_format_unknown);
    RUN(test_heads_follow_puts_markers_deletes_and_prunes);
    RUN(test_heads_answer_newest_read_with_point_reads);
    RUN(test_live_scan_notes_a_damaged_head);
    RUN(test_layout_builds_heads_when_drive_has_none);
    RUN(test_compact_drops_tombstones_when_range_had_many_deletes);
    RUN(test_compact_runs_when_range_idle_after_overwrites);
    RUN(test_space_refuses_writes_below_reserve_and_keeps_previous_version);
    RUN(test_space_enospc_from_disk_fails_shard_and_leaves_no_temp_file);
    RUN(test_space_database_reopens_after_enospc_once_space_is_back);
    RUN(test_space_drive_opens_on_full_disk_and_serves_reads);
    RUN(test_crash_keeps_acknowledged_writes_when_killed_at_random_points);
    return unit_done();
}
