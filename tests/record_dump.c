/* record_dump — prints the records one drive holds for one object key, for tests that check what
 * every drive converged on (tests/fault/test_hot_key.py):
 *
 *   record_dump DRIVE_DIR BUCKET KEY
 *
 * Opens the drive's RocksDB (DRIVE_DIR/db; the daemon serving it must be stopped), finds the
 * bucket's current incarnation from its bucket record and prints one JSON array: the key's
 * records in the drive's order (null slot first, then the versions newest first), each as
 * {"slot": true|false, "mtime": ns, "vid": hex, "etag": "...", "size": n, "marker": bool}.
 * Exit status: 0 printed (an empty array when the drive holds nothing of the key), 1 failure.
 */
#include "meta/meta.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

typedef struct {
    int printed;
} dump_t;

static void print_record(dump_t *d, meta_bytes_t raw, int slot)
{
    meta_object_t r;

    if (meta_object_decode(raw.base, raw.len, &r) != 0) {
        printf("%s{\"slot\": %s, \"damaged\": true}", d->printed++ ? ", " : "", slot ? "true" : "false");
        return;
    }
    printf("%s{\"slot\": %s, \"mtime\": %lld, \"vid\": \"", d->printed++ ? ", " : "", slot ? "true" : "false",
           (long long)r.mtime_ns);
    print_hex(r.vid, META_ID_LEN);
    printf("\", \"etag\": \"%.*s\", \"size\": %llu, \"marker\": %s}", (int)r.etag.len, r.etag.base,
           (unsigned long long)r.size, (r.flags & META_OBJ_DELETE_MARKER) ? "true" : "false");
}

static int dump_entry(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    dump_t *d = arg;
    int64_t mtime;
    meta_bytes_t raw;
    size_t pos = 0;

    if (meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, NULL) != 0)
        return 0;
    if (mtime != META_NULL_SLOT_MTIME) {
        print_record(d, (meta_bytes_t){(const char *)val, vlen}, 0);
        return 0;
    }
    while (meta_slot_next(val, vlen, &pos, &raw) == 1)
        print_record(d, raw, 1);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096], ns[META_NS_MAX + 1];
    meta_bytes_t bucket, key;
    meta_bucket_t b;
    meta_key_t bk, prefix;
    meta_db_t *db;
    dump_t d = {0};
    void *val;
    size_t vlen;
    int ret;

    if (argc != 4) {
        fprintf(stderr, "usage: record_dump DRIVE_DIR BUCKET KEY\n");
        return 1;
    }
    bucket = (meta_bytes_t){argv[2], strlen(argv[2])};
    key = (meta_bytes_t){argv[3], strlen(argv[3])};
    snprintf(path, sizeof(path), "%s/db", argv[1]);
    if ((ret = meta_db_open(path, 0, &db)) != 0) {
        fprintf(stderr, "record_dump: cannot open %s (%d)\n", path, ret);
        return 1;
    }
    if (meta_key_bucket(bucket, &bk) != 0 || meta_db_get(db, bk.buf, bk.len, &val, &vlen) != 0) {
        fprintf(stderr, "record_dump: no bucket record of %s\n", argv[2]);
        meta_db_close(db);
        return 1;
    }
    if (meta_bucket_decode(val, vlen, &b) != 0) {
        fprintf(stderr, "record_dump: damaged bucket record of %s\n", argv[2]);
        free(val);
        meta_db_close(db);
        return 1;
    }
    size_t nslen = meta_bucket_ns(bucket, b.incarnation, ns);
    free(val);
    if (meta_key_object_versions((meta_bytes_t){ns, nslen}, key, &prefix) != 0) {
        meta_db_close(db);
        return 1;
    }
    printf("[");
    ret = meta_db_scan(db, prefix.buf, prefix.len, NULL, 0, dump_entry, &d);
    printf("]\n");
    meta_db_close(db);
    return ret == 0 ? 0 : 1;
}
