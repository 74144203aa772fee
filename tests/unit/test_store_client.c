/* test_store_client.c — the drive client over both transports with the same test bodies: the
 * local one on a drive opened in this process, the network one through a real yc-store daemon
 * that the test starts on a free loopback port over temp directories. Then what only the
 * network has: credentials, replays and clock skew refused, a killed daemon reported quickly,
 * and a restarted one reached again through the connection pool.
 *
 * The daemon binary is YC_STORE_BIN, else <dir of this test>/../bin/yc-store (the sanitizer
 * build), else bin/yc-store from the repository root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store/client.h"
#include "store/client_internal.h"
#include "tests/unit/unit.h"

#define SECRET "test-cluster-secret-3f9a"
#define BUCKET "photos"

typedef struct {
    const char *name;
    store_client_t *c;
    char dir[128]; /* the drive's directory, to damage its files */
} fixture_t;

static fixture_t local_fx, remote_fx;
static store_drive_t *local_drive;
static char local_root[64], remote_root[64], store_bin[512];
static uint16_t daemon_port;
static pid_t daemon_pid = -1;

/* ---------------------------------------------------------------- helpers */

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

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0)
            seed = splitmix(&seed);
        buf[i] = (uint8_t)(seed >> (8 * (i % 8)));
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void shard_file(const fixture_t *f, const uint8_t id[META_ID_LEN], uint32_t index, char *out, size_t cap)
{
    char hex[2 * META_ID_LEN + 1];
    for (int i = 0; i < META_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    snprintf(out, cap, "%s/shards/%.2s/%s.%u", f->dir, hex, hex, index);
}

static int flip_byte(const char *path, off_t off)
{
    uint8_t b;
    int fd = open(path, O_RDWR), ret = -1;
    if (fd < 0)
        return -1;
    if (pread(fd, &b, 1, off) == 1) {
        b ^= 0x40;
        ret = pwrite(fd, &b, 1, off) == 1 ? 0 : -1;
    }
    close(fd);
    return ret;
}

/* Writes len bytes as blocks of block_len through the client. */
static int write_shard(store_client_t *c, const uint8_t id[META_ID_LEN], uint32_t index, const uint8_t *data,
                       size_t len, size_t block_len)
{
    store_client_writer_t *w;
    int ret = store_client_shard_create(c, id, index, &w);
    if (ret != 0)
        return ret;
    for (size_t off = 0; off < len; off += block_len) {
        size_t n = len - off < block_len ? len - off : block_len;
        if ((ret = store_client_shard_append(w, data + off, n)) != 0) {
            store_client_shard_abort(w);
            return ret;
        }
    }
    return store_client_shard_commit(w);
}

/* ---------------------------------------------------------------- the daemon */

static uint16_t free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void find_store_bin(const char *argv0)
{
    const char *env = getenv("YC_STORE_BIN");
    const char *slash = strrchr(argv0, '/');

    if (env != NULL) {
        snprintf(store_bin, sizeof(store_bin), "%s", env);
        return;
    }
    if (slash != NULL) {
        snprintf(store_bin, sizeof(store_bin), "%.*s/../bin/yc-store", (int)(slash - argv0), argv0);
        if (access(store_bin, X_OK) == 0)
            return;
    }
    snprintf(store_bin, sizeof(store_bin), "bin/yc-store");
}

static int daemon_start(void)
{
    char listen[64], drive[192];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", daemon_port);
    snprintf(drive, sizeof(drive), "d1=%s", remote_fx.dir);
    if ((daemon_pid = fork()) < 0)
        return -1;
    if (daemon_pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0 && getenv("YC_TEST_VERBOSE") == NULL)
            dup2(null, 2); /* the daemon's log would drown the test's */
        setenv("YC_CLUSTER_SECRET", SECRET, 1);
        execl(store_bin, store_bin, "--listen", listen, "--drive", drive, "--loops", "2", "--workers", "8",
              (char *)NULL);
        _exit(127);
    }
    /* up when it answers a ping; the first calls may find the port still closed */
    for (int64_t until = now_ms() + 10000; now_ms() < until;) {
        if (store_client_ping(remote_fx.c) == 0)
            return 0;
        if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
            daemon_pid = -1;
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

static void daemon_kill(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGKILL);
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = -1;
    }
}

static int remote_client(const char *secret, const char *drive, store_client_t **out)
{
    store_remote_config_t cfg = {.host = "127.0.0.1",
                                 .port = daemon_port,
                                 .drive = drive,
                                 .secret = secret,
                                 .connect_timeout_ms = 500,
                                 .io_timeout_ms = 5000,
                                 .pool_size = 4};
    return store_client_remote(&cfg, out);
}

/* ---------------------------------------------------------------- shared bodies */

#define BL 65536

static void body_shard_round_trip(fixture_t *f)
{
    static uint8_t data[3 * BL + 1000], back[3 * BL + 1000];
    uint8_t id[META_ID_LEN];
    uint64_t size = 0;

    fill(id, sizeof(id), 1);
    fill(data, sizeof(data), 2);
    CHECK_EQ_INT(write_shard(f->c, id, 3, data, sizeof(data), BL), 0);
    CHECK_EQ_INT(store_client_shard_stat(f->c, id, 3, &size), 0);
    CHECK_EQ_INT(size, sizeof(data));
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, 0, sizeof(data), back), 0);
    CHECK(memcmp(data, back, sizeof(data)) == 0);
    /* ranges: inside one block, across two, the short tail, one byte, nothing */
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, 100, 200, back), 0);
    CHECK(memcmp(data + 100, back, 200) == 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, BL - 10, 20 + BL, back), 0);
    CHECK(memcmp(data + BL - 10, back, 20 + BL) == 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, 3 * BL, 1000, back), 0);
    CHECK(memcmp(data + 3 * BL, back, 1000) == 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, sizeof(data) - 1, 1, back), 0);
    CHECK_EQ_INT(back[0], data[sizeof(data) - 1]);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, 0, 0, back), 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 3, sizeof(data) - 5, 10, back), STORE_EINVAL);
    CHECK_EQ_INT(store_client_shard_verify(f->c, id, 3), 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 4, 0, 1, back), STORE_ENOENT);
    CHECK_EQ_INT(store_client_shard_delete(f->c, id, 3), 0);
    CHECK_EQ_INT(store_client_shard_stat(f->c, id, 3, &size), STORE_ENOENT);
    CHECK_EQ_INT(store_client_shard_delete(f->c, id, 3), STORE_ENOENT);
}

static void body_shard_bad_block_refused(fixture_t *f)
{
    uint8_t id[META_ID_LEN], a[1000], b[2000], back[1700];
    store_client_writer_t *w;
    uint64_t size;

    fill(id, sizeof(id), 3);
    fill(a, sizeof(a), 4);
    fill(b, sizeof(b), 5);
    CHECK_EQ_INT(store_client_shard_create(f->c, id, 0, &w), 0);
    CHECK_EQ_INT(store_client_shard_append(w, a, sizeof(a)), 0);
    /* longer than the first block: refused, and the writer goes on as if it never came */
    CHECK_EQ_INT(store_client_shard_append(w, b, sizeof(b)), STORE_EINVAL);
    CHECK_EQ_INT(store_client_shard_append(w, b, 700), 0);
    CHECK_EQ_INT(store_client_shard_commit(w), 0);
    CHECK_EQ_INT(store_client_shard_stat(f->c, id, 0, &size), 0);
    CHECK_EQ_INT(size, 1700);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 0, 0, 1700, back), 0);
    CHECK(memcmp(back, a, 1000) == 0 && memcmp(back + 1000, b, 700) == 0);
}

static void body_shard_abort_leaves_nothing(fixture_t *f)
{
    uint8_t id[META_ID_LEN], a[512];
    store_client_writer_t *w;
    uint64_t size;

    fill(id, sizeof(id), 6);
    fill(a, sizeof(a), 7);
    CHECK_EQ_INT(store_client_shard_create(f->c, id, 1, &w), 0);
    CHECK_EQ_INT(store_client_shard_append(w, a, sizeof(a)), 0);
    store_client_shard_abort(w);
    CHECK_EQ_INT(store_client_shard_stat(f->c, id, 1, &size), STORE_ENOENT);
}

static void body_shard_bitrot_detected(fixture_t *f)
{
    static uint8_t data[3 * BL], back[3 * BL];
    uint8_t id[META_ID_LEN];
    char path[512];

    fill(id, sizeof(id), 8);
    fill(data, sizeof(data), 9);
    CHECK_EQ_INT(write_shard(f->c, id, 2, data, sizeof(data), BL), 0);
    shard_file(f, id, 2, path, sizeof(path));
    CHECK_EQ_INT(flip_byte(path, 32 + (BL + 8) + 77), 0); /* inside block 1 */
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 2, 0, sizeof(data), back), STORE_EBITROT);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 2, BL + 5, 10, back), STORE_EBITROT);
    CHECK_EQ_INT(store_client_shard_verify(f->c, id, 2), STORE_EBITROT);
    /* the blocks around it are still good */
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 2, 0, BL, back), 0);
    CHECK(memcmp(back, data, BL) == 0);
    CHECK_EQ_INT(store_client_shard_read(f->c, id, 2, 2 * BL, BL, back), 0);
    CHECK(memcmp(back, data + 2 * BL, BL) == 0);
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
    r->content_type = bytes("image/png");
    r->content_encoding = r->content_disposition = bytes("");
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

/* A null-version record with one part whose shard (index 0) is written first. */
static int put_object(store_client_t *c, const char *key, int64_t mtime, uint64_t seed, meta_buf_t *parts,
                      meta_object_t *r)
{
    meta_part_ref_t p = {.number = 1, .size = 300};
    uint8_t data[300];
    int ret;

    object_init(r, key, mtime, NULL);
    fill(p.data_id, META_ID_LEN, seed);
    fill(data, sizeof(data), seed);
    if ((ret = write_shard(c, p.data_id, 0, data, sizeof(data), 128)) != 0 || (ret = meta_parts_append(parts, &p)))
        return ret;
    r->size = sizeof(data);
    r->parts = (meta_bytes_t){(const char *)parts->base, parts->len};
    r->part_count = 1;
    return store_client_object_put(c, r);
}

static void body_object_put_get_prune_delete(fixture_t *f)
{
    meta_buf_t parts1 = {0}, parts2 = {0}, raw = {0};
    meta_object_t r1, r2, got;
    meta_part_ref_t p;
    uint8_t id1[META_ID_LEN], vid[META_ID_LEN];
    uint64_t size;
    char key[] = "2026/cat\x00.png"; /* keys are binary */
    meta_bytes_t k = {key, sizeof(key) - 1};

    (void)k;
    CHECK_EQ_INT(put_object(f->c, "albums/cat.png", 1000, 11, &parts1, &r1), 0);
    fill(id1, META_ID_LEN, 11);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), bytes("albums/cat.png"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 1000);
    CHECK(got.content_type.len == 9 && memcmp(got.content_type.base, "image/png", 9) == 0);
    CHECK_EQ_INT(meta_object_part(&got, 0, &p), 0);
    CHECK(memcmp(p.data_id, id1, META_ID_LEN) == 0);
    meta_buf_dispose(&raw);

    /* a newer null version, then prune: the old record and its shard go */
    CHECK_EQ_INT(put_object(f->c, "albums/cat.png", 2000, 12, &parts2, &r2), 0);
    CHECK_EQ_INT(store_client_object_prune(f->c, &r2), 0);
    CHECK_EQ_INT(store_client_shard_stat(f->c, id1, 0, &size), STORE_ENOENT);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), bytes("albums/cat.png"), NULL, &raw, &got), 0);
    CHECK_EQ_INT(got.mtime_ns, 2000);
    meta_buf_dispose(&raw);

    /* a version with an id under a binary key */
    fill(vid, sizeof(vid), 13);
    object_init(&r1, "", 3000, vid);
    r1.key = k;
    CHECK_EQ_INT(store_client_object_put(f->c, &r1), 0);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), k, vid, &raw, &got), 0);
    CHECK(got.key.len == k.len && memcmp(got.key.base, k.base, k.len) == 0);
    CHECK(memcmp(got.vid, vid, META_ID_LEN) == 0);
    meta_buf_dispose(&raw);
    /* its attributes change in place */
    r1.attrs = (meta_bytes_t){"\x01\x01\x00\x00\x00"
                              "t",
                              6};
    r1.attrs_ns = 7;
    CHECK_EQ_INT(store_client_object_update(f->c, &r1), 0);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), k, vid, &raw, &got), 0);
    CHECK(got.attrs_ns == 7 && got.attrs.len == 6 && got.attrs.base[5] == 't');
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(store_client_object_delete(f->c, bytes(BUCKET), k, vid), 0);
    CHECK_EQ_INT(store_client_object_update(f->c, &r1), STORE_ENOENT);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), k, vid, &raw, &got), STORE_ENOENT);

    CHECK_EQ_INT(store_client_object_delete(f->c, bytes(BUCKET), bytes("albums/cat.png"), NULL), 0);
    CHECK_EQ_INT(store_client_object_get(f->c, bytes(BUCKET), bytes("albums/cat.png"), NULL, &raw, &got), STORE_ENOENT);
    CHECK_EQ_INT(store_client_object_delete(f->c, bytes(BUCKET), bytes("albums/cat.png"), NULL), STORE_ENOENT);
    meta_buf_dispose(&parts1);
    meta_buf_dispose(&parts2);
}

static void body_record_round_trip(fixture_t *f)
{
    uint8_t val[4096];
    meta_key_t key;
    void *got = NULL;
    size_t glen = 0;
    char name[] = "cfg\x00\xff\x01";

    fill(val, sizeof(val), 21);
    CHECK_EQ_INT(meta_key_config(bytes(BUCKET), (meta_bytes_t){name, sizeof(name) - 1}, &key), 0);
    CHECK_EQ_INT(store_client_record_get(f->c, &key, &got, &glen), STORE_ENOENT);
    CHECK_EQ_INT(store_client_record_put(f->c, &key, val, sizeof(val)), 0);
    CHECK_EQ_INT(store_client_record_get(f->c, &key, &got, &glen), 0);
    CHECK_EQ_INT(glen, sizeof(val));
    int same = memcmp(got, val, sizeof(val)) == 0;
    free(got);
    CHECK(same);
    CHECK_EQ_INT(store_client_record_put(f->c, &key, "", 0), 0); /* empty values exist too */
    CHECK_EQ_INT(store_client_record_get(f->c, &key, &got, &glen), 0);
    free(got);
    CHECK_EQ_INT(glen, 0);
    CHECK_EQ_INT(store_client_record_delete(f->c, &key), 0);
    CHECK_EQ_INT(store_client_record_get(f->c, &key, &got, &glen), STORE_ENOENT);
}

#define SCAN_N    600
#define SCAN_VLEN 4096 /* 600 x 4 KiB: more than two pages of the network transport */

typedef struct {
    size_t n, stop_at;
    int fail_at, bad;
    int last_i;
} scan_state_t;

static int scan_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    scan_state_t *s = arg;
    uint8_t want[SCAN_VLEN];
    unsigned i = 0;

    /* keys are 'C' "scanbkt" 0x00 "k%05u" */
    if (klen != 15 || sscanf((const char *)key + 10, "%5u", &i) != 1 || vlen != SCAN_VLEN)
        s->bad = 1;
    fill(want, sizeof(want), 1000 + i);
    if (memcmp(want, val, SCAN_VLEN) != 0 || (s->last_i >= 0 && (int)i != s->last_i + 1))
        s->bad = 1;
    s->last_i = (int)i;
    s->n++;
    if (s->fail_at >= 0 && s->n == (size_t)s->fail_at)
        return -77;
    return s->stop_at != 0 && s->n == s->stop_at ? 1 : 0;
}

static void body_record_scan_pages(fixture_t *f)
{
    static uint8_t val[SCAN_VLEN];
    meta_key_t key, prefix, seek;
    char name[16];

    CHECK_EQ_INT(meta_key_config(bytes("scanbkt"), bytes(""), &prefix), 0);
    for (unsigned i = 0; i < SCAN_N; i++) {
        snprintf(name, sizeof(name), "k%05u", i);
        fill(val, sizeof(val), 1000 + i);
        CHECK_EQ_INT(meta_key_config(bytes("scanbkt"), bytes(name), &key), 0);
        CHECK_EQ_INT(store_client_record_put(f->c, &key, val, sizeof(val)), 0);
    }
    scan_state_t s = {.fail_at = -1, .last_i = -1};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 0, scan_cb, &s), 0);
    CHECK_EQ_INT(s.n, SCAN_N);
    CHECK(!s.bad && s.last_i == SCAN_N - 1);

    /* a limit that ends inside the second page */
    s = (scan_state_t){.fail_at = -1, .last_i = -1};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 333, scan_cb, &s), 0);
    CHECK_EQ_INT(s.n, 333);
    CHECK(!s.bad);

    /* from a seek key (inclusive) to the end */
    CHECK_EQ_INT(meta_key_config(bytes("scanbkt"), bytes("k00100"), &seek), 0);
    s = (scan_state_t){.fail_at = -1, .last_i = 99};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, &seek, 0, scan_cb, &s), 0);
    CHECK_EQ_INT(s.n, SCAN_N - 100);
    CHECK(!s.bad);

    /* the callback stops, and the callback fails (its code comes back as is) */
    s = (scan_state_t){.fail_at = -1, .stop_at = 450, .last_i = -1};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 0, scan_cb, &s), 0);
    CHECK_EQ_INT(s.n, 450);
    s = (scan_state_t){.fail_at = 400, .last_i = -1};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 0, scan_cb, &s), -77);
    CHECK_EQ_INT(s.n, 400);

    /* a prefix with nothing under it */
    CHECK_EQ_INT(meta_key_config(bytes("emptybkt"), bytes(""), &prefix), 0);
    s = (scan_state_t){.fail_at = -1, .last_i = -1};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 0, scan_cb, &s), 0);
    CHECK_EQ_INT(s.n, 0);
}

typedef struct {
    store_client_t *c;
    int thread;
    int failures;
} worker_arg_t;

static void *concurrent_worker(void *p)
{
    worker_arg_t *a = p;
    uint8_t val[512], id[META_ID_LEN], data[5000], back[5000];
    char name[32];
    meta_key_t key;

    for (int i = 0; i < 40; i++) {
        void *got = NULL;
        size_t glen = 0;
        snprintf(name, sizeof(name), "t%d-%d", a->thread, i);
        fill(val, sizeof(val), (uint64_t)(a->thread * 1000 + i));
        if (meta_key_config(bytes("conc"), bytes(name), &key) != 0 ||
            store_client_record_put(a->c, &key, val, sizeof(val)) != 0 ||
            store_client_record_get(a->c, &key, &got, &glen) != 0 || glen != sizeof(val) || memcmp(got, val, glen) != 0)
            a->failures++;
        free(got);
        if (i % 10 == 0) {
            fill(id, sizeof(id), (uint64_t)(a->thread * 1000 + i) + 77);
            fill(data, sizeof(data), (uint64_t)i);
            if (write_shard(a->c, id, 0, data, sizeof(data), 1024) != 0 ||
                store_client_shard_read(a->c, id, 0, 0, sizeof(data), back) != 0 ||
                memcmp(data, back, sizeof(data)) != 0)
                a->failures++;
        }
    }
    return NULL;
}

static void body_concurrent_callers(fixture_t *f)
{
    pthread_t t[8];
    worker_arg_t args[8];
    int failures = 0;

    for (int i = 0; i < 8; i++) {
        args[i] = (worker_arg_t){.c = f->c, .thread = i};
        CHECK_EQ_INT(pthread_create(&t[i], NULL, concurrent_worker, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        failures += args[i].failures;
    }
    CHECK_EQ_INT(failures, 0);
}

static void body_ping_and_name(fixture_t *f)
{
    CHECK_EQ_INT(store_client_ping(f->c), 0);
    CHECK(strncmp(store_client_name(f->c), f->name, strlen(f->name)) == 0);
}

static void body_lock_grants_one_owner(fixture_t *f)
{
    uint8_t a[META_ID_LEN], b[META_ID_LEN];
    meta_bytes_t name = bytes("upload/0123456789abcdef0123456789abcdef");
    const int64_t second = 1000000000LL;

    fill(a, sizeof(a), 71);
    fill(b, sizeof(b), 72);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, a, 30 * second), 0);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, b, 30 * second), STORE_EBUSY);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, a, 30 * second), 0); /* the holder renews */
    CHECK_EQ_INT(store_client_lock_release(f->c, name, b), 0);              /* not b's: changes nothing */
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, b, 30 * second), STORE_EBUSY);
    CHECK_EQ_INT(store_client_lock_release(f->c, name, a), 0);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, b, 30 * second), 0);
    /* a lease that ran out is taken over */
    CHECK_EQ_INT(store_client_lock_release(f->c, name, b), 0);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, a, 1), 0);
    usleep(2000);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, b, 30 * second), 0);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, a, 30 * second), STORE_EBUSY);
    CHECK_EQ_INT(store_client_lock_release(f->c, name, b), 0);
    CHECK_EQ_INT(store_client_lock_acquire(f->c, name, a, 0), STORE_EINVAL);
}

/* Each body runs as test_<what>_when_local and test_<what>_when_remote. */
/* Records of a newest-only scan: (key number, version mark) as the values carry them. */
typedef struct {
    uint8_t seen[16][2];
    size_t n;
} newest_state_t;

static int newest_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    newest_state_t *s = arg;
    if (s->n < 16 && vlen >= 2) {
        s->seen[s->n][0] = val[0];
        s->seen[s->n][1] = val[1];
    }
    s->n++;
    return 0;
}

/* Four object keys with two versions each (records of 400 KiB, so a remote answer is cut after
 * three of them, on a version), the first with a null slot too: the newest-only scan gives the
 * slot and each key's newest version, and goes on past the version a page ended on, not into
 * that key's older one. */
static void body_record_scan_newest_skips_older_versions(fixture_t *f)
{
    static uint8_t val[400 * 1024];
    meta_bytes_t bucket = bytes(f == &local_fx ? "newest:01" : "newest:02");
    uint8_t vid[META_ID_LEN] = {0};
    meta_key_t key, prefix;
    char name[8];

    for (uint8_t i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "key%u", i);
        for (uint8_t j = 0; j < 2; j++) { /* j = 1: the newer */
            vid[0] = i, vid[1] = j + 1, val[0] = i, val[1] = j;
            CHECK_EQ_INT(meta_key_object(bucket, bytes(name), 100 + j, vid, &key), 0);
            CHECK_EQ_INT(store_client_record_put(f->c, &key, val, sizeof(val)), 0);
        }
    }
    val[0] = 0, val[1] = 9;
    CHECK_EQ_INT(meta_key_object_null(bucket, bytes("key0"), &key), 0);
    CHECK_EQ_INT(store_client_record_put(f->c, &key, val, 16), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(bucket, &prefix), 0);

    newest_state_t s = {0};
    CHECK_EQ_INT(store_client_record_scan_newest(f->c, &prefix, NULL, 0, newest_cb, &s), 0);
    static const uint8_t want[5][2] = {{0, 9}, {0, 1}, {1, 1}, {2, 1}, {3, 1}};
    CHECK_EQ_INT(s.n, 5);
    CHECK(memcmp(s.seen, want, sizeof(want)) == 0);
    /* the plain scan gives every record */
    newest_state_t all = {0};
    CHECK_EQ_INT(store_client_record_scan(f->c, &prefix, NULL, 0, newest_cb, &all), 0);
    CHECK_EQ_INT(all.n, 9);
    /* a scan that goes on after key1's newest version starts at key2 */
    newest_state_t rest = {0};
    vid[0] = 1, vid[1] = 2;
    CHECK_EQ_INT(meta_key_object(bucket, bytes("key1"), 101, vid, &key), 0);
    CHECK_EQ_INT(store_client_record_scan_newest(f->c, &prefix, &key, 0, newest_cb, &rest), 0);
    CHECK_EQ_INT(rest.n, 2);
    CHECK(rest.seen[0][0] == 2 && rest.seen[0][1] == 1 && rest.seen[1][0] == 3);
}

/* One object record of key name at time mtime: a delete marker, or a live version whose inline
 * data is inline_len bytes (big ones cut a remote answer into pages). */
static void put_object_record(fixture_t *f, meta_bytes_t bucket, const char *name, int64_t mtime, int marker,
                              size_t inline_len)
{
    static uint8_t data[300 * 1024];
    meta_object_t o = {0};
    meta_buf_t rec = {0};
    meta_key_t key;

    o.bucket = bucket;
    o.key = bytes(name);
    o.vid[0] = (uint8_t)mtime;
    o.vid[1] = (uint8_t)(name[strlen(name) - 2] * 10 + name[strlen(name) - 1]);
    o.mtime_ns = mtime;
    o.etag = bytes("d41d8cd98f00b204e9800998ecf8427e");
    if (marker) {
        o.flags = META_OBJ_DELETE_MARKER;
    } else {
        o.flags = META_OBJ_INLINE;
        o.inline_data = (meta_bytes_t){(const char *)data, inline_len < sizeof(data) ? inline_len : sizeof(data)};
    }
    CHECK_EQ_INT(meta_object_encode(&o, &rec), 0);
    CHECK_EQ_INT(meta_key_object(bucket, bytes(name), mtime, o.vid, &key), 0);
    CHECK_EQ_INT(store_client_record_put(f->c, &key, rec.base, rec.len), 0);
    meta_buf_dispose(&rec);
}

typedef struct {
    char seen[16][8]; /* object key, "!" before it for a skip note */
    size_t n;
} live_state_t;

static int live_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    live_state_t *s = arg;
    char buf[META_KEY_MAX];
    meta_bytes_t k;

    if (s->n < 16 && meta_key_parse_object(key, klen, NULL, buf, &k, NULL, NULL) == 0 && k.len < 6)
        snprintf(s->seen[s->n], sizeof(s->seen[0]), "%s%.*s", vlen == 0 ? "!" : "", (int)k.len, k.base);
    s->n++;
    return 0;
}

/* Deleted keys (a marker over a version, or a marker alone) between live ones of 300 KiB (a remote
 * answer is cut after three): the live scan gives the live keys' newest versions and a skip note
 * for each run of deleted keys, the last one's key, across pages too; the newest scan gives the
 * markers. */
static void body_record_scan_live_notes_deleted_keys(fixture_t *f)
{
    meta_bytes_t bucket = bytes(f == &local_fx ? "live:01" : "live:02");
    static const char roles[] = "dLddLdLLLdLd"; /* of keys k00 .. k11: deleted or live */
    meta_key_t prefix;
    char name[8];

    for (size_t i = 0; roles[i] != 0; i++) {
        int deleted = roles[i] == 'd';
        snprintf(name, sizeof(name), "k%02zu", i);
        if (deleted && i != 3) /* k03: a marker alone */
            put_object_record(f, bucket, name, 100, 0, 16);
        put_object_record(f, bucket, name, 200, deleted, deleted ? 0 : 300 * 1024);
    }
    CHECK_EQ_INT(meta_key_bucket_objects(bucket, &prefix), 0);

    live_state_t s = {0};
    CHECK_EQ_INT(store_client_record_scan_live(f->c, &prefix, NULL, 0, live_cb, &s), 0);
    static const char *want[] = {"!k00", "k01", "!k03", "k04", "!k05", "k06", "k07", "k08", "!k09", "k10", "!k11"};
    CHECK_EQ_INT(s.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < s.n && i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(strcmp(s.seen[i], want[i]) == 0);
    live_state_t newest = {0};
    CHECK_EQ_INT(store_client_record_scan_newest(f->c, &prefix, NULL, 0, live_cb, &newest), 0);
    CHECK_EQ_INT(newest.n, 12);
}

#define BOTH(name, body)                                                                                               \
    TEST(name##_when_local)                                                                                            \
    {                                                                                                                  \
        body(&local_fx);                                                                                               \
    }                                                                                                                  \
    TEST(name##_when_remote)                                                                                           \
    {                                                                                                                  \
        CHECK(remote_fx.c != NULL && daemon_pid > 0);                                                                  \
        body(&remote_fx);                                                                                              \
    }

BOTH(test_ping_answers, body_ping_and_name)
BOTH(test_shard_round_trip, body_shard_round_trip)
BOTH(test_shard_bad_block_refused, body_shard_bad_block_refused)
BOTH(test_shard_abort_leaves_nothing, body_shard_abort_leaves_nothing)
BOTH(test_shard_bitrot_detected, body_shard_bitrot_detected)
BOTH(test_object_put_get_prune_delete, body_object_put_get_prune_delete)
BOTH(test_record_round_trip, body_record_round_trip)
BOTH(test_record_scan_pages, body_record_scan_pages)
BOTH(test_record_scan_newest_skips_older_versions, body_record_scan_newest_skips_older_versions)
BOTH(test_record_scan_live_notes_deleted_keys, body_record_scan_live_notes_deleted_keys)
BOTH(test_concurrent_callers_share, body_concurrent_callers)
BOTH(test_lock_grants_one_owner, body_lock_grants_one_owner)

/* ---------------------------------------------------------------- network only */

TEST(test_auth_rejected_when_secret_wrong)
{
    store_client_t *bad;
    meta_key_t key;
    void *val = NULL;
    size_t vlen;

    CHECK_EQ_INT(remote_client("not-the-secret", "d1", &bad), 0);
    CHECK_EQ_INT(meta_key_bucket(bytes(BUCKET), &key), 0);
    int ping = store_client_ping(bad);
    int put = store_client_record_put(bad, &key, "x", 1);
    int get = store_client_record_get(bad, &key, &val, &vlen);
    store_client_free(bad);
    CHECK_EQ_INT(ping, STORE_EAUTH);
    CHECK_EQ_INT(put, STORE_EAUTH);
    CHECK_EQ_INT(get, STORE_EAUTH);
    /* and nothing was written */
    CHECK_EQ_INT(store_client_record_get(remote_fx.c, &key, &val, &vlen), STORE_ENOENT);
}

TEST(test_ping_fails_when_drive_unknown)
{
    store_client_t *other;
    CHECK_EQ_INT(remote_client(SECRET, "d9", &other), 0);
    int ret = store_client_ping(other);
    store_client_free(other);
    CHECK_EQ_INT(ret, STORE_ENOENT);
}

/* Sends one GET signed by hand (the wire format is checked independently of the client), bound
 * to drive_hex (32 hex digits) unless NULL, and returns the answer's status, or -1. */
static int raw_request_bound(const char *target, long long date, const char *nonce, const char *secret,
                             const char *drive_hex)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(daemon_port)};
    char date_s[24], tosign[512], sig[65], req[1024], resp[512], empty_hash[65];
    uint8_t digest[32], mac[32];
    unsigned int maclen = 0;
    int fd, status = -1, n;
    ssize_t got;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(date_s, sizeof(date_s), "%lld", date);
    SHA256((const unsigned char *)"", 0, digest);
    for (int i = 0; i < 32; i++)
        snprintf(empty_hash + 2 * i, 3, "%02x", digest[i]);
    n = snprintf(tosign, sizeof(tosign), "GET\n%s\n%s\n%s\n%s%s%s", target, date_s, nonce, empty_hash,
                 drive_hex != NULL ? "\n" : "", drive_hex != NULL ? drive_hex : "");
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)tosign, (size_t)n, mac, &maclen);
    for (int i = 0; i < 32; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nx-yc-date: %s\r\nx-yc-nonce: %s\r\n"
                 "x-yc-content-sha256: %s\r\nx-yc-signature: %s\r\n%s%s%sconnection: close\r\n\r\n",
                 target, date_s, nonce, empty_hash, sig, drive_hex != NULL ? "x-yc-drive-id: " : "",
                 drive_hex != NULL ? drive_hex : "", drive_hex != NULL ? "\r\n" : "");
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, req, (size_t)n) == n &&
        (got = read(fd, resp, sizeof(resp) - 1)) > 12) {
        resp[got] = '\0';
        status = atoi(resp + 9);
    }
    close(fd);
    return status;
}

static int raw_request(const char *target, long long date, const char *nonce, const char *secret)
{
    return raw_request_bound(target, date, nonce, secret, NULL);
}

/* The drive id in the identity file of the remote fixture's drive, 32 hex digits. */
static int remote_drive_id(char out[33])
{
    char path[256], line[256];
    int found = 0;

    snprintf(path, sizeof(path), "%s/identity", remote_fx.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = sscanf(line, "drive_id: %32s", out) == 1;
    fclose(f);
    return found ? 0 : -1;
}

TEST(test_request_rejected_when_bound_to_another_drive)
{
    const char *stat = "/v1/d1/shards/00000000000000000000000000000000/0/stat";
    long long now = (long long)time(NULL);
    char id[33];

    CHECK_EQ_INT(remote_drive_id(id), 0);
    /* bound to the drive: served (no such shard) */
    CHECK_EQ_INT(raw_request_bound(stat, now, "10000000000000000000000000000001", SECRET, id), 404);
    /* signed for another drive id (the same name on another node), or for none: refused */
    char other[33];
    memcpy(other, id, sizeof(other));
    other[0] = other[0] == '0' ? '1' : '0';
    CHECK_EQ_INT(raw_request_bound(stat, now, "10000000000000000000000000000002", SECRET, other), 401);
    CHECK_EQ_INT(raw_request_bound(stat, now, "10000000000000000000000000000003", SECRET, NULL), 401);
}

TEST(test_answer_tag_changes_with_every_part)
{
    uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN] = {1}, tag[16], t[16];
    const char *sig = "5d1f0c7e0e0a8b3e9b7f7a2f1b7d2b1d6c0e4a7f3e9d2c1b0a9f8e7d6c5b4a39";
    const char *sig2 = "6d1f0c7e0e0a8b3e9b7f7a2f1b7d2b1d6c0e4a7f3e9d2c1b0a9f8e7d6c5b4a39";
    const uint8_t body[] = "a record's bytes";
    uint8_t flipped[sizeof(body)];
    store_net_key_t *key = NULL, *same = NULL, *other = NULL;

    CHECK_EQ_INT(store_net_answer_key_new((const uint8_t *)SECRET, strlen(SECRET), &key), 0);
    CHECK_EQ_INT(store_net_answer_key_new((const uint8_t *)SECRET, strlen(SECRET), &same), 0);
    CHECK_EQ_INT(store_net_answer_key_new((const uint8_t *)"another", 7, &other), 0);
    CHECK_EQ_INT(store_net_answer_tag(key, sig, 64, nonce, 200, 0, body, sizeof(body), tag), 0);
    CHECK_EQ_INT(store_net_answer_tag(same, sig, 64, nonce, 200, 0, body, sizeof(body), t), 0);
    CHECK(memcmp(tag, t, 16) == 0); /* both ends compute it alike */
    store_net_answer_tag(other, sig, 64, nonce, 200, 0, body, sizeof(body), t);
    CHECK(memcmp(tag, t, 16) != 0); /* another secret */
    store_net_answer_tag(key, sig2, 64, nonce, 200, 0, body, sizeof(body), t);
    CHECK(memcmp(tag, t, 16) != 0); /* another request's answer */
    nonce[0] ^= 1;
    store_net_answer_tag(key, sig, 64, nonce, 200, 0, body, sizeof(body), t);
    CHECK(memcmp(tag, t, 16) != 0);
    nonce[0] ^= 1;
    store_net_answer_tag(key, sig, 64, nonce, 404, STORE_ENOENT, body, sizeof(body), t);
    CHECK(memcmp(tag, t, 16) != 0);
    store_net_answer_tag(key, sig, 64, nonce, 200, 0, body, sizeof(body) - 1, t);
    CHECK(memcmp(tag, t, 16) != 0); /* cut short */
    memcpy(flipped, body, sizeof(body));
    flipped[3] ^= 0x20;
    store_net_answer_tag(key, sig, 64, nonce, 200, 0, flipped, sizeof(flipped), t);
    CHECK(memcmp(tag, t, 16) != 0);
    store_net_key_free(key);
    store_net_key_free(same);
    store_net_key_free(other);
}

TEST(test_request_rejected_when_replayed)
{
    const char *nonce = "00112233445566778899aabbccddeeff";
    long long now = (long long)time(NULL);

    CHECK_EQ_INT(raw_request("/v1/d1/ping", now, nonce, SECRET), 200);
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now, nonce, SECRET), 401);
    /* the same request with a fresh nonce is a new request */
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now, "ffeeddccbbaa99887766554433221100", SECRET), 200);
}

TEST(test_request_rejected_when_clock_skewed)
{
    long long now = (long long)time(NULL);
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now - 400, "0123456789abcdef0123456789abcdef", SECRET), 401);
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now + 400, "0123456789abcdef0123456789abcdee", SECRET), 401);
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now - 200, "0123456789abcdef0123456789abcded", SECRET), 200);
    CHECK_EQ_INT(raw_request("/v1/d1/ping", now, "0123456789abcdef0123456789abcdec", "wrong"), 401);
}

TEST(test_calls_fail_fast_when_daemon_killed)
{
    meta_key_t key;
    void *val;
    size_t vlen;
    uint8_t id[META_ID_LEN] = {1}, buf[16];

    /* pooled connections exist: the calls above left some */
    CHECK_EQ_INT(store_client_ping(remote_fx.c), 0);
    daemon_kill();
    CHECK_EQ_INT(meta_key_bucket(bytes(BUCKET), &key), 0);
    int64_t t0 = now_ms();
    int ping = store_client_ping(remote_fx.c);
    int get = store_client_record_get(remote_fx.c, &key, &val, &vlen);
    int read = store_client_shard_read(remote_fx.c, id, 0, 0, sizeof(buf), buf);
    int64_t took = now_ms() - t0;
    CHECK(ping == STORE_EUNREACHABLE || ping == STORE_EIO);
    CHECK(get == STORE_EUNREACHABLE || get == STORE_EIO);
    CHECK(read == STORE_EUNREACHABLE || read == STORE_EIO);
    CHECK(took < 1500); /* three calls, each bounded by the 500 ms connect timeout */
}

TEST(test_calls_work_when_daemon_restarted)
{
    uint8_t val[100], id[META_ID_LEN];
    static uint8_t data[10000], back[10000];
    meta_key_t key;
    void *got = NULL;
    size_t glen = 0;

    CHECK_EQ_INT(daemon_start(), 0);
    /* leave pooled connections to the new daemon, then kill and restart it without a call in
     * between: the next calls must find them dead and reconnect */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(store_client_ping(remote_fx.c), 0);
    daemon_kill();
    CHECK_EQ_INT(daemon_start(), 0);
    fill(val, sizeof(val), 55);
    CHECK_EQ_INT(meta_key_config(bytes(BUCKET), bytes("after-restart"), &key), 0);
    CHECK_EQ_INT(store_client_record_put(remote_fx.c, &key, val, sizeof(val)), 0);
    CHECK_EQ_INT(store_client_record_get(remote_fx.c, &key, &got, &glen), 0);
    int same = glen == sizeof(val) && memcmp(got, val, glen) == 0;
    free(got);
    CHECK(same);
    /* a batch's split calls too find their pooled connections dead and go out afresh */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(store_client_ping(remote_fx.c), 0);
    daemon_kill();
    CHECK_EQ_INT(daemon_start(), 0);
    store_batch_call_t batch[2] = {{.client = remote_fx.c, .key = &key}, {.client = remote_fx.c, .key = &key}};
    store_client_record_get_batch(batch, 2);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(batch[i].ret, 0);
        CHECK(batch[i].vlen == sizeof(val) && memcmp(batch[i].val, val, sizeof(val)) == 0);
        free(batch[i].val);
    }
    /* data written before the restarts is still there */
    fill(id, sizeof(id), 56);
    fill(data, sizeof(data), 57);
    CHECK_EQ_INT(write_shard(remote_fx.c, id, 0, data, sizeof(data), 4096), 0);
    daemon_kill();
    CHECK_EQ_INT(daemon_start(), 0);
    CHECK_EQ_INT(store_client_shard_read(remote_fx.c, id, 0, 0, sizeof(data), back), 0);
    CHECK(memcmp(data, back, sizeof(data)) == 0);
    /* a lock outlives a restart of its drive: a second owner cannot take it meanwhile */
    uint8_t a[META_ID_LEN], b[META_ID_LEN];
    fill(a, sizeof(a), 58);
    fill(b, sizeof(b), 59);
    CHECK_EQ_INT(store_client_lock_acquire(remote_fx.c, bytes("bucket/kept"), a, 60000000000LL), 0);
    daemon_kill();
    CHECK_EQ_INT(daemon_start(), 0);
    CHECK_EQ_INT(store_client_lock_acquire(remote_fx.c, bytes("bucket/kept"), b, 60000000000LL), STORE_EBUSY);
    CHECK_EQ_INT(store_client_lock_release(remote_fx.c, bytes("bucket/kept"), a), 0);
}

/* A batch spans transports and connections: each call gets its own drive's answer, more calls
 * to one daemon than its pool holds all complete, and a failure stays with its own call. */
TEST(test_batch_answers_each_call_with_its_own_drive)
{
    store_client_t *second = NULL, *unknown = NULL, *fenced = NULL;
    store_batch_call_t calls[12];
    meta_key_t key, absent;
    size_t n = 0;

    CHECK(daemon_pid > 0);
    CHECK_EQ_INT(remote_client(SECRET, "d1", &second), 0);
    CHECK_EQ_INT(remote_client(SECRET, "d9", &unknown), 0);
    CHECK_EQ_INT(remote_client(SECRET, "d1", &fenced), 0);
    store_client_fence(fenced, STORE_EUNREACHABLE);
    CHECK_EQ_INT(meta_key_config(bytes(BUCKET), bytes("batch"), &key), 0);
    CHECK_EQ_INT(meta_key_config(bytes(BUCKET), bytes("batch-absent"), &absent), 0);
    CHECK_EQ_INT(store_client_record_put(local_fx.c, &key, "local", 5), 0);
    CHECK_EQ_INT(store_client_record_put(remote_fx.c, &key, "remote", 6), 0);

    calls[n++] = (store_batch_call_t){.client = local_fx.c, .key = &key};
    for (int i = 0; i < 6; i++) /* more than the pool's 4 connections, all in flight at once */
        calls[n++] = (store_batch_call_t){.client = i % 2 ? second : remote_fx.c, .key = &key};
    calls[n++] = (store_batch_call_t){.client = remote_fx.c, .key = &absent};
    calls[n++] = (store_batch_call_t){.client = unknown, .key = &key};
    calls[n++] = (store_batch_call_t){.client = fenced, .key = &key};
    calls[n++] = (store_batch_call_t){.client = local_fx.c, .key = &absent};
    store_client_record_get_batch(calls, n);

    CHECK_EQ_INT(calls[0].ret, 0);
    CHECK(calls[0].vlen == 5 && memcmp(calls[0].val, "local", 5) == 0);
    for (size_t i = 1; i < 7; i++) {
        CHECK_EQ_INT(calls[i].ret, 0);
        CHECK(calls[i].vlen == 6 && calls[i].val != NULL && memcmp(calls[i].val, "remote", 6) == 0);
    }
    CHECK_EQ_INT(calls[7].ret, STORE_ENOENT);
    CHECK(calls[8].ret != 0);
    CHECK_EQ_INT(calls[9].ret, STORE_EUNREACHABLE);
    CHECK_EQ_INT(calls[10].ret, STORE_ENOENT);
    for (size_t i = 0; i < n; i++)
        free(calls[i].val);

    /* object records: put on both transports at once, then pruned at once */
    meta_object_t r1, r2;
    meta_buf_t raw = {0};
    meta_object_t got;
    uint8_t vid[META_ID_LEN] = {0};
    object_init(&r1, "batch/obj", 5000, vid);
    object_init(&r2, "batch/obj", 6000, vid);
    store_batch_call_t puts[3] = {
        {.client = local_fx.c, .rec = &r1}, {.client = remote_fx.c, .rec = &r1}, {.client = fenced, .rec = &r1}};
    store_client_object_put_batch(puts, 3);
    CHECK_EQ_INT(puts[0].ret, 0);
    CHECK_EQ_INT(puts[1].ret, 0);
    CHECK_EQ_INT(puts[2].ret, STORE_EUNREACHABLE);
    puts[0].rec = puts[1].rec = &r2;
    store_client_object_put_batch(puts, 2);
    CHECK_EQ_INT(puts[0].ret, 0);
    CHECK_EQ_INT(puts[1].ret, 0);
    store_client_object_prune_batch(puts, 2);
    CHECK_EQ_INT(puts[0].ret, 0);
    CHECK_EQ_INT(puts[1].ret, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(store_client_object_get(puts[i].client, bytes(BUCKET), bytes("batch/obj"), vid, &raw, &got), 0);
        CHECK_EQ_INT(got.mtime_ns, 6000);
        meta_buf_dispose(&raw);
    }
    store_client_free(second);
    store_client_free(unknown);
    store_client_free(fenced);
}

typedef struct {
    store_client_t *c;
    int delay_ms;
} fence_later_t;

static void *fence_later(void *p)
{
    fence_later_t *fl = p;
    usleep((useconds_t)fl->delay_ms * 1000);
    store_client_fence(fl->c, STORE_EUNREACHABLE);
    return NULL;
}

/* A daemon that stops answering without closing (a partition, a hung process: here SIGSTOP, so
 * the kernel still accepts connections) holds a call for its io timeout once, never twice, and
 * a fence set while the call waits ends it at once. */
TEST(test_silent_daemon_costs_one_timeout_and_a_fence_ends_the_wait)
{
    store_remote_config_t cfg = {.host = "127.0.0.1",
                                 .port = daemon_port,
                                 .drive = "d1",
                                 .secret = SECRET,
                                 .connect_timeout_ms = 500,
                                 .io_timeout_ms = 1000,
                                 .pool_size = 4};
    store_client_t *c = NULL;
    meta_key_t key;
    void *val = NULL;
    size_t vlen = 0;
    pthread_t t;

    CHECK_EQ_INT(store_client_remote(&cfg, &c), 0);
    CHECK_EQ_INT(meta_key_bucket(bytes(BUCKET), &key), 0);
    CHECK_EQ_INT(store_client_ping(c), 0); /* a pooled connection to reuse */
    CHECK_EQ_INT(kill(daemon_pid, SIGSTOP), 0);

    int64_t t0 = now_ms();
    int silent = store_client_record_get(c, &key, &val, &vlen);
    int64_t silent_took = now_ms() - t0;

    fence_later_t fl = {.c = c, .delay_ms = 200};
    int started = pthread_create(&t, NULL, fence_later, &fl) == 0;
    t0 = now_ms();
    int fenced_wait = store_client_record_get(c, &key, &val, &vlen);
    int64_t fenced_took = now_ms() - t0;
    if (started)
        pthread_join(t, NULL);
    int fenced_now = store_client_record_get(c, &key, &val, &vlen);

    /* the daemon runs again before any check can end the test */
    kill(daemon_pid, SIGCONT);
    store_client_fence(c, 0);
    int ping_after = store_client_ping(c);
    store_client_free(c);

    CHECK_EQ_INT(silent, STORE_EIO);
    CHECK(silent_took >= 900 && silent_took < 1800); /* one io timeout: no second try on a fresh connection */
    CHECK(started);
    CHECK(fenced_wait == STORE_EIO || fenced_wait == STORE_EUNREACHABLE);
    CHECK(fenced_took < 600);                     /* the fence at 200 ms, seen within a check interval */
    CHECK_EQ_INT(fenced_now, STORE_EUNREACHABLE); /* fenced: at once, without reaching the daemon */
    CHECK_EQ_INT(ping_after, 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    find_store_bin(argv[0]);

    snprintf(local_root, sizeof(local_root), "/tmp/yc-client-local-XXXXXX");
    snprintf(remote_root, sizeof(remote_root), "/tmp/yc-client-remote-XXXXXX");
    if (mkdtemp(local_root) == NULL || mkdtemp(remote_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    local_fx.name = "local:";
    snprintf(local_fx.dir, sizeof(local_fx.dir), "%s", local_root);
    if (store_drive_open(local_fx.dir, 1, &local_drive) != 0 || store_client_local(local_drive, &local_fx.c) != 0) {
        fprintf(stderr, "cannot open the local drive\n");
        return 1;
    }
    remote_fx.name = "remote:";
    snprintf(remote_fx.dir, sizeof(remote_fx.dir), "%s/d1", remote_root);
    daemon_port = free_port();
    if (remote_client(SECRET, "d1", &remote_fx.c) != 0 || daemon_start() != 0)
        fprintf(stderr, "cannot start %s: the remote tests fail\n", store_bin);

    RUN(test_ping_answers_when_local);
    RUN(test_ping_answers_when_remote);
    RUN(test_shard_round_trip_when_local);
    RUN(test_shard_round_trip_when_remote);
    RUN(test_shard_bad_block_refused_when_local);
    RUN(test_shard_bad_block_refused_when_remote);
    RUN(test_shard_abort_leaves_nothing_when_local);
    RUN(test_shard_abort_leaves_nothing_when_remote);
    RUN(test_shard_bitrot_detected_when_local);
    RUN(test_shard_bitrot_detected_when_remote);
    RUN(test_object_put_get_prune_delete_when_local);
    RUN(test_object_put_get_prune_delete_when_remote);
    RUN(test_record_round_trip_when_local);
    RUN(test_record_round_trip_when_remote);
    RUN(test_record_scan_pages_when_local);
    RUN(test_record_scan_pages_when_remote);
    RUN(test_record_scan_newest_skips_older_versions_when_local);
    RUN(test_record_scan_newest_skips_older_versions_when_remote);
    RUN(test_record_scan_live_notes_deleted_keys_when_local);
    RUN(test_record_scan_live_notes_deleted_keys_when_remote);
    RUN(test_concurrent_callers_share_when_local);
    RUN(test_concurrent_callers_share_when_remote);
    RUN(test_lock_grants_one_owner_when_local);
    RUN(test_lock_grants_one_owner_when_remote);
    RUN(test_auth_rejected_when_secret_wrong);
    RUN(test_ping_fails_when_drive_unknown);
    RUN(test_request_rejected_when_replayed);
    RUN(test_request_rejected_when_bound_to_another_drive);
    RUN(test_answer_tag_changes_with_every_part);
    RUN(test_request_rejected_when_clock_skewed);
    RUN(test_batch_answers_each_call_with_its_own_drive);
    RUN(test_silent_daemon_costs_one_timeout_and_a_fence_ends_the_wait);
    RUN(test_calls_fail_fast_when_daemon_killed);
    RUN(test_calls_work_when_daemon_restarted);

    daemon_kill();
    store_client_free(remote_fx.c);
    store_client_free(local_fx.c);
    store_drive_close(local_drive);
    remove_tree(local_root);
    remove_tree(remote_root);
    return unit_done();
}
