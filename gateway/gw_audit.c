/* gw_audit.c — the audit trail's queue and writer thread (format and rules in gw_audit.h).
 *
 * Callers only format a record's body and link it into the queue under the mutex. The writer
 * takes the whole queue at once, numbers and chains its records into a buffer, writes the buffer
 * with one write(2), and seals with a checkpoint (fsync, then audit.head) when enough records or
 * time have passed. A failed write is retried every second rather than skipped: a record the
 * chain numbered but the file lacks would read as tampering. Meanwhile the queue fills and
 * request records are dropped and counted; admin records wait in the queue.
 */
#include "gateway/gw_audit.h"
#include "common/clock.h"
#include "common/log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFFER   (256 * 1024)
#define NAME_MAX_LEN 64
#define RETENTION_NS (3600LL * 1000000000) /* how often the retention looks for expired files */
#define RETRY_NS     1000000000LL
#define DROP_WARN_NS (10LL * 1000000000) /* one warning about drops per this interval */
#define LOCK_NAME    "audit.lock"

typedef struct item {
    struct item *next;
    int admin;
    char type[8];
    size_t len;
    char body[];
} item_t;

struct gw_audit {
    gw_audit_options_t opt;
    char *dir;
    uint8_t key[GW_AUDIT_KEY_MAX];
    char key_id[9];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    item_t *head, *tail;
    size_t queued; /* request records in the queue */
    int stopping;
    atomic_uint_fast64_t dropped;
    int64_t last_drop_warning_ns;
    pthread_t writer;

    int lock_fd; /* holds the folder's lock: one writer per chain */

    /* the writer's own state */
    int fd;
    uint64_t file_first; /* the number of the first record the current file holds (its name) */
    uint64_t file_bytes;
    int64_t file_opened_ns;
    uint64_t seq;
    char prev[GW_AUDIT_HASH_HEX + 1];
    uint64_t unsealed;
    int64_t first_unsealed_ns;
    uint64_t dropped_chained;
    int64_t retention_checked_ns;
    char *out;
    size_t out_len;
    char line[GW_AUDIT_LINE_MAX];
};

/* ---------------------------------------------------------------- files */

static int is_audit_file(const char *name)
{
    size_t n = strlen(name);
    return n == 30 && strncmp(name, "audit-", 6) == 0 && strcmp(name + 26, ".log") == 0 &&
           strspn(name + 6, "0123456789") == 20;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The audit files of dir, sorted (record order); caller frees each and the array. */
static int list_files(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        if (!is_audit_file(de->d_name))
            continue;
        if (n == cap) {
            char **grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (grown == NULL)
                goto nomem;
            v = grown;
        }
        if ((v[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof(*v), compare_names);
    *names = v;
    *count = n;
    return 0;

nomem:
    closedir(d);
    while (n > 0)
        free(v[--n]);
    free(v);
    return -ENOMEM;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The last whole record of file path: its number and hash. 1 found, 0 no whole line, -errno. */
static int last_record(const char *path, uint64_t *seq, char *hash)
{
    static const size_t tail = 2 * GW_AUDIT_LINE_MAX;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    int ret = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || (buf = malloc(tail)) == NULL) {
        close(fd);
        return -ENOMEM;
    }
    off_t from = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
    ssize_t n = pread(fd, buf, tail, from);
    close(fd);
    if (n < 0) {
        free(buf);
        return -EIO;
    }
    /* a line cut by a crash is left for the verifier to report; the chain goes on from the last
     * whole one */
    size_t end = (size_t)n;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    if (end > 0) {
        size_t start = end - 1;
        while (start > 0 && buf[start - 1] != '\n')
            start--;
        gw_audit_record_t r;
        if (gw_audit_record_parse(buf + start, end - 1 - start, &r) != 0) {
            ret = -EBADMSG;
        } else {
            *seq = r.seq;
            memcpy(hash, r.hash.base, GW_AUDIT_HASH_HEX);
            hash[GW_AUDIT_HASH_HEX] = '\0';
            ret = 1;
        }
    }
    free(buf);
    return ret;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        ret = -errno;
    close(fd);
    return ret;
}

/* Two writers of one folder (gateways on one node given the same audit_dir) would each number
 * records from the same last one, and the chain would read as tampered with: the second is
 * refused. The lock is the kernel's (flock), so a writer that died holds none. -EBUSY or -errno. */
static int lock_folder(gw_audit_t *a)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/" LOCK_NAME, a->dir);
    if ((a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
        return -errno;
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    return 0;
}

static int open_file(gw_audit_t *a)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/audit-%020llu.log", a->dir, (unsigned long long)a->file_first);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    a->fd = fd;
    a->file_bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    a->file_opened_ns = yc_mono_ns();
    return fsync_dir(a->dir);
}

/* ---------------------------------------------------------------- writing */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the buffered records; on failure retries every second (see the top), giving up only
 * when the trail is being closed and a retry failed too. */
static int flush_out(gw_audit_t *a)
{
    size_t done = 0;
    int logged = 0;

    while (done < a->out_len) {
        /* a rotation whose new file could not be opened: open it now */
        ssize_t n = a->fd >= 0 || open_file(a) == 0 ? write(a->fd, a->out + done, a->out_len - done) : -1;
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        int err = n < 0 ? errno : EIO;
        if (!logged)
            yc_log(YC_LOG_ERROR, "event=audit_write_failed dir=%s err=%d retry=1s", a->dir, -err);
        logged = 1;
        pthread_mutex_lock(&a->lock);
        int stopping = a->stopping;
        pthread_mutex_unlock(&a->lock);
        if (stopping && logged > 1)
            return -err;
        logged++;
        struct timespec ts = {RETRY_NS / 1000000000, RETRY_NS % 1000000000};
        nanosleep(&ts, NULL);
    }
    a->file_bytes += a->out_len;
    a->out_len = 0;
    return 0;
}

/* Chains one record into the output buffer. */
static void append(gw_audit_t *a, const char *type, const char *body, size_t len)
{
    char hash[GW_AUDIT_HASH_HEX + 1];
    size_t n;

    if (a->out_len + GW_AUDIT_LINE_MAX > OUT_BUFFER)
        flush_out(a);
    n = gw_audit_record_format(a->seq + 1, yc_now_ns(), type, a->prev, body, len, a->out + a->out_len,
                               OUT_BUFFER - a->out_len, hash);
    if (n == 0) { /* never: bodies are cut to fit a line */
        static const char cut[] = "{\"error\":\"record too long\"}";
        n = gw_audit_record_format(a->seq + 1, yc_now_ns(), type, a->prev, cut, sizeof(cut) - 1, a->out + a->out_len,
                                   OUT_BUFFER - a->out_len, hash);
    }
    a->out_len += n;
    a->seq++;
    memcpy(a->prev, hash, sizeof(hash));
    if (strcmp(type, "ckpt") != 0) {
        if (a->unsealed++ == 0)
            a->first_unsealed_ns = yc_mono_ns();
    }
}

static void write_head(gw_audit_t *a, const char *line, size_t len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd, ret = 0;

    snprintf(path, sizeof(path), "%s/" GW_AUDIT_HEAD, a->dir);
    snprintf(tmp, sizeof(tmp), "%s/" GW_AUDIT_HEAD ".tmp", a->dir);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
        ret = -errno;
    } else {
        if ((ret = write_all(fd, line, len)) == 0 && fsync(fd) != 0)
            ret = -errno;
        close(fd);
        if (ret == 0 && rename(tmp, path) != 0)
            ret = -errno;
        if (ret == 0)
            ret = fsync_dir(a->dir);
    }
    if (ret != 0)
        yc_log(YC_LOG_ERROR, "event=audit_head_write_failed dir=%s err=%d", a->dir, ret);
}

/* Seals the chain so far: a ckpt record, the file on disk, then audit.head. */
static void checkpoint(gw_audit_t *a, const char *reason)
{
    char mac[GW_AUDIT_HASH_HEX + 1], body[256], hash[GW_AUDIT_HASH_HEX + 1];
    int64_t now = yc_now_ns();

    flush_out(a);
    if (gw_audit_checkpoint_mac(a->key, a->opt.key_len, a->seq + 1, now, a->prev, reason, mac) != 0) {
        yc_log(YC_LOG_ERROR, "event=audit_checkpoint_failed dir=%s", a->dir);
        return;
    }
    int blen =
        snprintf(body, sizeof(body), "{\"reason\":\"%s\",\"key_id\":\"%s\",\"mac\":\"%s\"}", reason, a->key_id, mac);
    size_t n = gw_audit_record_format(a->seq + 1, now, "ckpt", a->prev, body, (size_t)blen, a->out, OUT_BUFFER, hash);
    a->out_len = n;
    a->seq++;
    memcpy(a->prev, hash, sizeof(hash));
    a->unsealed = 0;
    memcpy(a->line, a->out, n);
    if (flush_out(a) != 0)
        return;
    if (fsync(a->fd) != 0)
        yc_log(YC_LOG_ERROR, "event=audit_fsync_failed dir=%s err=%d", a->dir, -errno);
    write_head(a, a->line, n);
}

/* Removes closed files past the retention, oldest first, and chains an expire record naming them. */
static void expire(gw_audit_t *a)
{
    char **names = NULL, path[PATH_MAX], body[4096];
    size_t n = 0, removed = 0, blen;
    int64_t now = yc_now_ns();
    struct stat st;

    a->retention_checked_ns = yc_mono_ns();
    if (a->opt.retain_seconds == 0 || list_files(a->dir, &names, &n) != 0)
        return;
    blen = (size_t)snprintf(body, sizeof(body), "{\"removed\":[");
    /* the newest file is the one being written: never a candidate */
    for (size_t i = 0; i + 1 < n && blen + 64 < sizeof(body); i++) {
        snprintf(path, sizeof(path), "%s/%s", a->dir, names[i]);
        if (stat(path, &st) != 0 ||
            now - (int64_t)st.st_mtime * 1000000000 <= (int64_t)a->opt.retain_seconds * 1000000000)
            break;
        if (unlink(path) != 0)
            break;
        blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "%s\"%s\"", removed > 0 ? "," : "", names[i]);
        removed++;
    }
    if (removed > 0) {
        unsigned long long first_kept = strtoull(names[removed] + 6, NULL, 10);
        blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "],\"first_kept\":%llu}", first_kept);
        fsync_dir(a->dir);
        append(a, "expire", body, blen);
        yc_log(YC_LOG_INFO, "event=audit_expired files=%zu first_kept=%llu", removed, first_kept);
    }
    free_names(names, n);
}

static void rotate(gw_audit_t *a)
{
    checkpoint(a, "rotate");
    close(a->fd);
    a->fd = -1;
    a->file_first = a->seq + 1;
    if (open_file(a) != 0 && a->fd < 0) /* the next write tries again */
        yc_log(YC_LOG_ERROR, "event=audit_rotate_failed dir=%s err=%d", a->dir, -errno);
    expire(a);
}

/* Chains a drop record when request records were lost since the last one. */
static void note_drops(gw_audit_t *a)
{
    uint64_t dropped = atomic_load(&a->dropped);
    if (dropped != a->dropped_chained) {
        char body[96];
        int n = snprintf(body, sizeof(body), "{\"dropped\":%llu,\"total\":%llu}",
                         (unsigned long long)(dropped - a->dropped_chained), (unsigned long long)dropped);
        append(a, "drop", body, (size_t)n);
        a->dropped_chained = dropped;
    }
}

static void *writer_main(void *arg)
{
    gw_audit_t *a = arg;
    struct timespec deadline;

    pthread_mutex_lock(&a->lock);
    for (;;) {
        if (a->head == NULL && !a->stopping) {
            /* wake for the next interval checkpoint, or each second to look at the clocks */
            int64_t wait = 1000000000;
            if (a->unsealed > 0) {
                int64_t due = a->first_unsealed_ns + (int64_t)a->opt.checkpoint_ms * 1000000 - yc_mono_ns();
                wait = due < 1000000 ? 1000000 : due < wait ? due : wait;
            }
            yc_deadline(CLOCK_MONOTONIC, wait, &deadline);
            pthread_cond_timedwait(&a->wake, &a->lock, &deadline);
        }
        item_t *batch = a->head;
        int stopping = a->stopping;
        a->head = a->tail = NULL;
        a->queued = 0;
        pthread_mutex_unlock(&a->lock);

        while (batch != NULL) {
            item_t *next = batch->next;
            append(a, batch->type, batch->body, batch->len);
            free(batch);
            batch = next;
            if (a->unsealed >= a->opt.checkpoint_records)
                checkpoint(a, "count");
        }
        note_drops(a);
        flush_out(a);
        int64_t now = yc_mono_ns();
        if (a->unsealed > 0 && now - a->first_unsealed_ns >= (int64_t)a->opt.checkpoint_ms * 1000000)
            checkpoint(a, "interval");
        if (!stopping && (a->file_bytes >= a->opt.rotate_bytes ||
                          now - a->file_opened_ns >= (int64_t)a->opt.rotate_seconds * 1000000000))
            rotate(a);
        else if (!stopping && now - a->retention_checked_ns >= RETENTION_NS)
            expire(a);

        pthread_mutex_lock(&a->lock);
        if (stopping && a->head == NULL)
            break;
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* ---------------------------------------------------------------- the API */

/* Finds where the chain stands: the last whole record of the newest file that has one. */
static int resume_chain(gw_audit_t *a)
{
    char **names = NULL, path[PATH_MAX];
    size_t n = 0;
    int ret;

    a->seq = 0;
    memset(a->prev, '0', GW_AUDIT_HASH_HEX);
    a->prev[GW_AUDIT_HASH_HEX] = '\0';
    if ((ret = list_files(a->dir, &names, &n)) != 0)
        return ret;
    for (size_t i = n; i > 0; i--) {
        snprintf(path, sizeof(path), "%s/%s", a->dir, names[i - 1]);
        if ((ret = last_record(path, &a->seq, a->prev)) != 0)
            break;
    }
    free_names(names, n);
    return ret < 0 ? ret : 0;
}

static void queue(gw_audit_t *a, const char *type, int admin, const char *body, size_t len)
{
    item_t *it;

    pthread_mutex_lock(&a->lock);
    if (!admin && a->queued >= a->opt.queue_max) {
        int64_t now = yc_mono_ns();
        int warn = now - a->last_drop_warning_ns >= DROP_WARN_NS;
        if (warn)
            a->last_drop_warning_ns = now;
        pthread_mutex_unlock(&a->lock);
        uint64_t total = atomic_fetch_add(&a->dropped, 1) + 1;
        if (warn)
            yc_log(YC_LOG_WARN, "event=audit_records_dropped total=%llu queue_max=%zu", (unsigned long long)total,
                   a->opt.queue_max);
        return;
    }
    pthread_mutex_unlock(&a->lock);
    if ((it = malloc(sizeof(*it) + len)) == NULL) {
        atomic_fetch_add(&a->dropped, 1);
        return;
    }
    it->next = NULL;
    it->admin = admin;
    snprintf(it->type, sizeof(it->type), "%s", type);
    it->len = len;
    memcpy(it->body, body, len);
    pthread_mutex_lock(&a->lock);
    if (a->tail != NULL)
        a->tail->next = it;
    else
        a->head = it;
    a->tail = it;
    if (!admin)
        a->queued++;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

int gw_audit_open(const gw_audit_options_t *opt, gw_audit_t **out)
{
    gw_audit_t *a;
    pthread_condattr_t attr;
    int ret;

    *out = NULL;
    if (opt->key_len < GW_AUDIT_KEY_MIN || opt->key_len > GW_AUDIT_KEY_MAX)
        return -EINVAL;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return -ENOMEM;
    a->opt = *opt;
    a->fd = a->lock_fd = -1;
    memcpy(a->key, opt->key, opt->key_len);
    a->opt.key = NULL;
    gw_audit_key_id(a->key, opt->key_len, a->key_id);
    if (a->opt.checkpoint_records == 0)
        a->opt.checkpoint_records = 1;
    if ((a->dir = strdup(opt->dir)) == NULL || (a->out = malloc(OUT_BUFFER)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    if (mkdir(a->dir, 0750) != 0 && errno != EEXIST) {
        ret = -errno;
        goto fail;
    }
    if ((ret = lock_folder(a)) != 0)
        goto fail;
    if ((ret = resume_chain(a)) != 0)
        goto fail;
    a->file_first = a->seq + 1;
    if ((ret = open_file(a)) != 0)
        goto fail;
    a->retention_checked_ns = yc_mono_ns();
    a->last_drop_warning_ns = yc_mono_ns() - DROP_WARN_NS;
    {
        char body[128];
        int n = snprintf(body, sizeof(body), "{\"event\":\"start\",\"pid\":%ld}", (long)getpid());
        append(a, "start", body, (size_t)n);
        if ((ret = flush_out(a)) != 0)
            goto fail;
    }
    expire(a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &attr);
    pthread_condattr_destroy(&attr);
    if ((ret = -pthread_create(&a->writer, NULL, writer_main, a)) != 0) {
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        goto fail;
    }
    *out = a;
    return 0;

fail:
    if (a->fd >= 0)
        close(a->fd);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    OPENSSL_cleanse(a->key, sizeof(a->key));
    free(a->out);
    free(a->dir);
    free(a);
    return ret;
}

void gw_audit_close(gw_audit_t *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = 1;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->writer, NULL);
    static const char body[] = "{\"event\":\"stop\"}";
    note_drops(a);
    append(a, "stop", body, sizeof(body) - 1);
    checkpoint(a, "close");
    close(a->fd);
    close(a->lock_fd); /* last: the chain is sealed */
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    OPENSSL_cleanse(a->key, sizeof(a->key));
    free(a->out);
    free(a->dir);
    free(a);
}

void gw_audit_request(gw_audit_t *a, const gw_access_entry_t *e, int admin, h2o_iovec_t detail)
{
    char body[GW_ACCESS_LINE_MAX + 2048];
    size_t len;

    if (a == NULL || (len = gw_access_log_format(e, body, sizeof(body))) < 2)
        return;
    len -= 2; /* the record's body is the access line's object: drop its "}\n" ... */
    if (detail.base != NULL) {
        static const char name[] = ",\"detail\":";
        memcpy(body + len, name, sizeof(name) - 1);
        len += sizeof(name) - 1;
        size_t n = gw_access_log_json(detail, 256, body + len, sizeof(body) - len - 1);
        len += n;
    }
    body[len++] = '}'; /* ... and close it again */
    queue(a, admin ? "admin" : "req", admin, body, len);
}

uint64_t gw_audit_dropped(gw_audit_t *a)
{
    return a != NULL ? atomic_load(&a->dropped) : 0;
}
