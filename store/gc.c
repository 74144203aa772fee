/* gc.c — removing orphan shard files: committed shards no record on the drive refers to.
 *
 * They are left by a writer that died between committing its shard files and writing the
 * record (the record is the commit point, so such data was never acknowledged), by a failed
 * or aborted write whose cleanup did not reach this drive, and by a prune or delete that was
 * interrupted between dropping a record and unlinking its files. They waste space, never
 * correctness.
 *
 * The collector first builds the set of data ids referenced by the drive's object records
 * ('O': every part of every version) and part records ('P': multipart uploads in progress),
 * then walks shards/XX/ and unlinks every well-named file whose data id is not in the set and
 * whose modification time is older than min_age. The age is what makes it safe while writes go
 * on: a writer commits its shard and writes its record within moments, so a shard younger than
 * min_age may be one whose record is on its way.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include "store/store_internal.h"

typedef struct {
    uint8_t (*ids)[META_ID_LEN];
    size_t n, cap; /* open addressing; cap is a power of two */
} id_set_t;

static int id_empty(const uint8_t id[META_ID_LEN])
{
    static const uint8_t zero[META_ID_LEN];
    return memcmp(id, zero, META_ID_LEN) == 0;
}

static int set_add(id_set_t *s, const uint8_t id[META_ID_LEN]);

static int set_grow(id_set_t *s)
{
    id_set_t bigger = {calloc(s->cap ? s->cap * 2 : 1024, META_ID_LEN), 0, s->cap ? s->cap * 2 : 1024};
    if (bigger.ids == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (!id_empty(s->ids[i]))
            set_add(&bigger, s->ids[i]);
    free(s->ids);
    *s = bigger;
    return 0;
}

static int set_add(id_set_t *s, const uint8_t id[META_ID_LEN])
{
    if (id_empty(id))
        return 0; /* never a real data id: ids are random */
    if ((s->n + 1) * 2 > s->cap && set_grow(s) != 0)
        return -ENOMEM;
    for (size_t i = XXH3_64bits(id, META_ID_LEN) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (memcmp(s->ids[i], id, META_ID_LEN) == 0)
            return 0;
        if (id_empty(s->ids[i])) {
            memcpy(s->ids[i], id, META_ID_LEN);
            s->n++;
            return 0;
        }
    }
}

static int set_has(const id_set_t *s, const uint8_t id[META_ID_LEN])
{
    if (s->cap == 0)
        return 0;
    for (size_t i = XXH3_64bits(id, META_ID_LEN) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (memcmp(s->ids[i], id, META_ID_LEN) == 0)
            return 1;
        if (id_empty(s->ids[i]))
            return 0;
    }
}

static int add_object_refs(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    meta_object_t r;
    meta_part_ref_t p;
    meta_bytes_t rec;
    size_t pos = 0;

    /* a null slot holds several records while a write is pending; every one keeps its files */
    while (meta_slot_next(val, vlen, &pos, &rec) == 1) {
        if (meta_object_decode(rec.base, rec.len, &r) != 0)
            continue; /* a damaged record cannot name its parts: the healer rewrites record and shards */
        for (uint32_t i = 0; i < r.part_count; i++)
            if (meta_object_part(&r, i, &p) == 0 && set_add(arg, p.data_id) != 0)
                return -ENOMEM;
    }
    return 0;
}

static int add_part_refs(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    meta_part_t p;
    if (meta_part_decode(val, vlen, &p) != 0)
        return 0;
    return set_add(arg, p.data_id) != 0 ? -ENOMEM : 0;
}

static int parse_name(const char *name, uint8_t id[META_ID_LEN])
{
    /* <32 hex>.<decimal index> */
    for (size_t i = 0; i < META_ID_LEN; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = name[2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        id[i] = (uint8_t)v;
    }
    const char *p = name + 2 * META_ID_LEN;
    if (*p++ != '.' || *p == '\0')
        return -1;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return 0;
}

int store_drive_gc_orphans(store_drive_t *d, int64_t min_age_ns, const volatile int *stop, size_t *removed)
{
    const store_sys_t *sys = store_sys();
    id_set_t refs = {0};
    char dir[PATH_MAX], path[PATH_MAX];
    int ret = 0;

    *removed = 0;
    uint8_t prefix = 'O';
    if ((ret = meta_db_scan(d->db, &prefix, 1, NULL, 0, add_object_refs, &refs)) != 0)
        goto out;
    prefix = 'P';
    if ((ret = meta_db_scan(d->db, &prefix, 1, NULL, 0, add_part_refs, &refs)) != 0)
        goto out;
    int64_t cutoff = yc_now_ns() - min_age_ns;
    for (int x = 0; x < 256 && !(stop != NULL && *stop); x++) {
        snprintf(dir, sizeof(dir), "%s/shards/%02x", d->path, x);
        DIR *dh = sys->opendir(dir);
        struct dirent *e;
        if (dh == NULL)
            continue;
        while ((e = sys->readdir(dh)) != NULL) {
            uint8_t id[META_ID_LEN];
            struct stat st;
            if (parse_name(e->d_name, id) != 0 || set_has(&refs, id))
                continue;
            if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) || sys->stat(path, &st) != 0)
                continue;
            if ((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec > cutoff)
                continue; /* young: its record may be on its way */
            if (sys->unlink(path) == 0)
                (*removed)++;
        }
        sys->closedir(dh);
    }
out:
    free(refs.ids);
    return ret == 0 ? 0 : ret == -ENOMEM ? -ENOMEM : store_meta_err(ret);
}

/* ---- in the background ---- */

struct store_gc {
    pthread_t thread;
    store_drive_t **drives;
    size_t n;
    int64_t min_age_ns;
    store_gc_report_fn report;
    void *arg;
    volatile int stop;
};

static void *gc_main(void *p)
{
    store_gc_t *gc = p;
    for (size_t i = 0; i < gc->n && !gc->stop; i++) {
        size_t removed = 0;
        int ret = store_drive_gc_orphans(gc->drives[i], gc->min_age_ns, &gc->stop, &removed);
        if (gc->report != NULL)
            gc->report(gc->arg, gc->drives[i]->path, removed, ret);
    }
    return NULL;
}

int store_gc_start(store_drive_t *const *drives, size_t n, int64_t min_age_ns, store_gc_report_fn report, void *arg,
                   store_gc_t **out)
{
    store_gc_t *gc = calloc(1, sizeof(*gc));
    if (gc == NULL || (gc->drives = calloc(n ? n : 1, sizeof(*gc->drives))) == NULL) {
        free(gc);
        return -ENOMEM;
    }
    memcpy(gc->drives, drives, n * sizeof(*drives));
    gc->n = n;
    gc->min_age_ns = min_age_ns;
    gc->report = report;
    gc->arg = arg;
    if (pthread_create(&gc->thread, NULL, gc_main, gc) != 0) {
        free(gc->drives);
        free(gc);
        return -EAGAIN;
    }
    *out = gc;
    return 0;
}

void store_gc_stop(store_gc_t *gc)
{
    if (gc == NULL)
        return;
    gc->stop = 1;
    pthread_join(gc->thread, NULL);
    free(gc->drives);
    free(gc);
}
