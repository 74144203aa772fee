/* test_gw_audit — the audit trail's chain format: a record's line and its SM3, the checkpoint's
 * HMAC-SM3 (both against values from an independent implementation), the parser against broken
 * lines, the key's sources and bounds; and the writer: records from many threads chain and
 * verify, a reopen continues the chain in a new file, rotation by size keeps it whole, and a full
 * queue drops request records (counted, and said so in the chain) but never an admin record. */
#include "gateway/gw_audit.h"
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
static const uint8_t KEY[] = "0123456789abcdef";

static char *temp_dir(void)
{
    char *d = strdup("/tmp/yc-test-audit-XXXXXX");
    return mkdtemp(d);
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
    free(dir);
}

static gw_audit_options_t options(const char *dir)
{
    gw_audit_options_t o = {.dir = dir,
                            .key = KEY,
                            .key_len = 16,
                            .checkpoint_records = 200,
                            .checkpoint_ms = 50,
                            .rotate_bytes = 1 << 20,
                            .rotate_seconds = 3600,
                            .retain_seconds = 0,
                            .queue_max = 100000};
    return o;
}

static gw_access_entry_t entry(const char *key)
{
    gw_access_entry_t e = {.time_ns = 1796604222123456789LL,
                           .request_id = h2o_iovec_init(H2O_STRLIT("17F3A0C2D4E5B6A7")),
                           .operation = "PutObject",
                           .bucket = h2o_iovec_init(H2O_STRLIT("photos")),
                           .key = h2o_iovec_init(key, strlen(key)),
                           .status = 200};
    return e;
}

/* Counts the records of type in dir's files. */
static size_t count_type(const char *dir, const char *type)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512], *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "audit-", 6) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        while (f != NULL && (len = getline(&line, &cap, f)) > 0) {
            gw_audit_record_t r;
            if (gw_audit_record_parse(line, (size_t)len - 1, &r) == 0 && r.type.len == strlen(type) &&
                memcmp(r.type.base, type, r.type.len) == 0)
                n++;
        }
        if (f != NULL)
            fclose(f);
    }
    if (d != NULL)
        closedir(d);
    free(line);
    return n;
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;
    while (d != NULL && (de = readdir(d)) != NULL)
        n += strncmp(de->d_name, "audit-", 6) == 0;
    if (d != NULL)
        closedir(d);
    return n;
}

TEST(test_audit_record_hash_is_sm3_of_the_line)
{
    char line[256], hash[65];
    size_t n = gw_audit_record_format(1, 5, "req", ZEROS, "{}", 2, line, sizeof(line), hash);
    /* SM3 computed apart (Python's hashlib) over "1 5 req <64 zeros> {}" */
    CHECK(n > 0);
    CHECK(strcmp(hash, "b3ddc927fa44e4275b51cc032f2604f283f6f1df3061361a83033092b740b3a3") == 0);
    CHECK(n == strlen("1 5 req " ZEROS " {} ") + 64 + 1 && line[n - 1] == '\n');
    CHECK(memcmp(line + n - 65, hash, 64) == 0);
}

TEST(test_audit_record_parses_back_when_formatted)
{
    char line[256], hash[65];
    gw_audit_record_t r;
    const char *body = "{\"a\":\"x y z\"}";
    size_t n =
        gw_audit_record_format(42, 1796604222123456789LL, "admin", ZEROS, body, strlen(body), line, sizeof(line), hash);
    CHECK(n > 0);
    CHECK_EQ_INT(gw_audit_record_parse(line, n - 1, &r), 0);
    CHECK_EQ_INT(r.seq, 42);
    CHECK(r.time_ns == 1796604222123456789LL);
    CHECK(h2o_memis(r.type.base, r.type.len, H2O_STRLIT("admin")));
    CHECK(r.body.len == strlen(body) && memcmp(r.body.base, body, r.body.len) == 0);
    CHECK(memcmp(r.hash.base, hash, 64) == 0 && memcmp(r.prev.base, ZEROS, 64) == 0);
}

TEST(test_audit_record_parse_rejects_broken_lines)
{
    static const char *const bad[] = {
        "",
        "1 5 req",
        "1 5 req " ZEROS " {} " ZEROS "0",
        "+1 5 req " ZEROS " {} " ZEROS,
        "1 -5 req " ZEROS " {} " ZEROS,
        "1 5 req " ZEROS " [] " ZEROS,
        "1 5 req " ZEROS " {} "
        "G000000000000000000000000000000000000000000000000000000000000000",
        "1 5 req 00 {} " ZEROS,
        "99999999999999999999999 5 req " ZEROS " {} " ZEROS,
        "1 5 req " ZEROS "  " ZEROS,
    };
    gw_audit_record_t r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(gw_audit_record_parse(bad[i], strlen(bad[i]), &r), -EBADMSG);
    const char *good = "1 5 req " ZEROS " {} " ZEROS;
    CHECK_EQ_INT(gw_audit_record_parse(good, strlen(good), &r), 0);
}

TEST(test_audit_checkpoint_mac_is_hmac_sm3_of_each_field)
{
    char mac[65], other[65];
    CHECK_EQ_INT(gw_audit_checkpoint_mac(KEY, 16, 7, 9, ZEROS, "close", mac), 0);
    /* HMAC-SM3 computed apart (Python's hmac) */
    CHECK(strcmp(mac, "184b0a317c90db47a1ece562f185a22264b60013c4d132ef6503644c30b4a28f") == 0);
    CHECK_EQ_INT(gw_audit_checkpoint_mac(KEY, 16, 8, 9, ZEROS, "close", other), 0);
    CHECK(strcmp(mac, other) != 0);
    CHECK_EQ_INT(gw_audit_checkpoint_mac(KEY, 16, 7, 10, ZEROS, "close", other), 0);
    CHECK(strcmp(mac, other) != 0);
    CHECK_EQ_INT(gw_audit_checkpoint_mac(KEY, 16, 7, 9, ZEROS, "count", other), 0);
    CHECK(strcmp(mac, other) != 0);
    CHECK_EQ_INT(gw_audit_checkpoint_mac((const uint8_t *)"0123456789abcdeF", 16, 7, 9, ZEROS, "close", other), 0);
    CHECK(strcmp(mac, other) != 0);
    char id[9];
    gw_audit_key_id(KEY, 16, id);
    CHECK(strcmp(id, "a34fdd8e") == 0);
}

TEST(test_audit_key_loads_from_file_or_environment_within_bounds)
{
    char *dir = temp_dir(), path[512];
    uint8_t key[GW_AUDIT_KEY_MAX];
    size_t len = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/key", dir);
    f = fopen(path, "w");
    fputs("0123456789abcdef-secret\n\n", f);
    fclose(f);
    CHECK_EQ_INT(gw_audit_key_load(path, "UNUSED", key, &len), 0);
    CHECK(len == 23 && memcmp(key, "0123456789abcdef-secret", 23) == 0);
    f = fopen(path, "w");
    fputs("too-short\n", f);
    fclose(f);
    CHECK_EQ_INT(gw_audit_key_load(path, NULL, key, &len), -EINVAL);
    unlink(path);
    CHECK_EQ_INT(gw_audit_key_load(path, NULL, key, &len), -ENOENT);
    setenv("YC_TEST_AUDIT_KEY", "fedcba9876543210fedcba", 1);
    CHECK_EQ_INT(gw_audit_key_load(NULL, "YC_TEST_AUDIT_KEY", key, &len), 0);
    CHECK(len == 22);
    unsetenv("YC_TEST_AUDIT_KEY");
    CHECK_EQ_INT(gw_audit_key_load(NULL, "YC_TEST_AUDIT_KEY", key, &len), -ENOENT);
    remove_dir(dir);
}

typedef struct {
    gw_audit_t *audit;
    int n, admin_every;
} writer_arg_t;

static void *write_many(void *arg)
{
    writer_arg_t *w = arg;
    char key[32];
    for (int i = 0; i < w->n; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        gw_access_entry_t e = entry(key);
        int admin = w->admin_every > 0 && i % w->admin_every == 0;
        gw_audit_request(w->audit, &e, admin, admin ? h2o_iovec_init(H2O_STRLIT("PUT /_admin/v1/users/AK")) : e.key);
    }
    return NULL;
}

TEST(test_audit_records_from_threads_chain_and_verify)
{
    char *dir = temp_dir();
    gw_audit_options_t o = options(dir);
    gw_audit_report_t rep;
    gw_audit_t *a;
    pthread_t t[4];
    writer_arg_t w = {.n = 250};

    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    w.audit = a;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, write_many, &w);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    gw_audit_close(a);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    CHECK_EQ_INT(count_type(dir, "req"), 1000);
    CHECK(rep.checkpoints >= 5 && rep.unsealed == 0 && rep.first_seq == 1);
    CHECK_EQ_INT(rep.last_seq, rep.records);
    /* and the wrong key is told apart from damage */
    CHECK_EQ_INT(gw_audit_verify(dir, (const uint8_t *)"another key, same", 17, &rep), -EBADMSG);
    CHECK(strstr(rep.message, "another key") != NULL);
    remove_dir(dir);
}

TEST(test_audit_reopen_continues_the_chain_in_a_new_file)
{
    char *dir = temp_dir();
    gw_audit_options_t o = options(dir);
    gw_audit_report_t rep;
    gw_audit_t *a;
    writer_arg_t w = {.n = 15};
    uint64_t first_last;

    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    w.audit = a;
    write_many(&w);
    gw_audit_close(a);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    first_last = rep.last_seq;
    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    w.audit = a;
    write_many(&w);
    gw_audit_close(a);
    CHECK_EQ_INT(count_files(dir), 2);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    CHECK(rep.files == 2 && rep.last_seq > first_last + 15);
    CHECK_EQ_INT(count_type(dir, "start"), 2);
    remove_dir(dir);
}

TEST(test_audit_folder_has_one_writer_at_a_time)
{
    char *dir = temp_dir();
    gw_audit_options_t o = options(dir);
    gw_audit_report_t rep;
    gw_audit_t *a, *b = NULL;

    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    /* a second writer (another gateway given the same audit_dir) would fork the chain */
    CHECK_EQ_INT(gw_audit_open(&o, &b), -EBUSY);
    CHECK(b == NULL);
    gw_audit_close(a);
    CHECK_EQ_INT(gw_audit_open(&o, &b), 0); /* the first one's lock went with it */
    gw_audit_close(b);
    CHECK_EQ_INT(count_type(dir, "start"), 2);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    remove_dir(dir);
}

TEST(test_audit_rotation_by_size_keeps_the_chain)
{
    char *dir = temp_dir();
    gw_audit_options_t o = options(dir);
    gw_audit_report_t rep;
    gw_audit_t *a;
    writer_arg_t w = {.n = 400};

    o.rotate_bytes = 8192;
    o.checkpoint_records = 1000000;
    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    w.audit = a;
    for (int i = 0; i < 4; i++) {
        write_many(&w);
        usleep(100000); /* let the writer see the size between batches */
    }
    gw_audit_close(a);
    CHECK(count_files(dir) >= 2);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    CHECK(count_type(dir, "ckpt") >= count_files(dir)); /* each rotation sealed its file */
    remove_dir(dir);
}

TEST(test_audit_full_queue_drops_requests_but_never_admin_actions)
{
    char *dir = temp_dir();
    gw_audit_options_t o = options(dir);
    gw_audit_report_t rep;
    gw_audit_t *a;
    pthread_t t[4];
    writer_arg_t w = {.n = 5000, .admin_every = 10};

    o.queue_max = 16;
    CHECK_EQ_INT(gw_audit_open(&o, &a), 0);
    w.audit = a;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, write_many, &w);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    uint64_t dropped = gw_audit_dropped(a);
    gw_audit_close(a);
    CHECK_EQ_INT(gw_audit_verify(dir, KEY, 16, &rep), 0);
    CHECK_EQ_INT(count_type(dir, "admin"), 4 * 500);
    CHECK_EQ_INT(count_type(dir, "req") + dropped, 4 * 4500);
    CHECK(dropped == 0 || count_type(dir, "drop") >= 1); /* a loss is said in the chain itself */
    remove_dir(dir);
}

int main(void)
{
    RUN(test_audit_record_hash_is_sm3_of_the_line);
    RUN(test_audit_record_parses_back_when_formatted);
    RUN(test_audit_record_parse_rejects_broken_lines);
    RUN(test_audit_checkpoint_mac_is_hmac_sm3_of_each_field);
    RUN(test_audit_key_loads_from_file_or_environment_within_bounds);
    RUN(test_audit_records_from_threads_chain_and_verify);
    RUN(test_audit_reopen_continues_the_chain_in_a_new_file);
    RUN(test_audit_folder_has_one_writer_at_a_time);
    RUN(test_audit_rotation_by_size_keeps_the_chain);
    RUN(test_audit_full_queue_drops_requests_but_never_admin_actions);
    return unit_done();
}
