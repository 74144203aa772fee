/* sys.c — the drive engine's seam to the file system, and the faults tests inject through it.
 *
 * The seam. shard.c, drive.c and gc.c make every file-system call through store_sys(), a table
 * of function pointers (store_internal.h). In production the table is store_sys_real, the C
 * library's own functions: a call costs one pointer load and an indirect call, and nothing
 * locks. RocksDB reaches the disk through a file-system wrapper of meta/ (meta_rocksdb.cc)
 * that asks a hook before each operation; in production no hook is set.
 *
 * Faults, for tests only (declared in store_fault.h, which production code never includes). A
 * test adds rules: "the nth call of kind K on a path containing P fails with errno E" (or moves
 * half its bytes). The first rule switches store_sys_active to store_sys_checked and installs
 * the RocksDB hook, so that both consult the same plan; store_fault_clear switches back. The
 * rules, their counters and the active pointer are the one piece of global mutable state of
 * store/, and they exist for tests: a unit test runs as a process of its own, its plan covers
 * every drive in it, and rules tell drives apart by their paths.
 *
 * Checking a call: its path (for a descriptor, the one /proc/self/fd shows for it) is compared
 * with every rule of its kind; each rule that matches counts the call, and the first one whose
 * count falls in its window [nth, nth + times) decides what happens: the call fails with the
 * rule's errno without doing anything (but close, which closes anyway, as Linux's does), or a
 * read or write moves only half its bytes. The plan sits under one mutex: tests make few calls,
 * and the checked table is never the one production runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "store/store_fault.h"
#include "store/store_internal.h"

/* ---------------------------------------------------------------- the real calls */

/* open is variadic: the table needs a fixed signature. */
static int real_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const store_sys_t store_sys_real = {
    .open = real_open,
    .close = close,
    .preadv = preadv,
    .pwritev = pwritev,
    .fsync = fsync,
    .fdatasync = fdatasync,
    .fstat = fstat,
    .stat = stat,
    .rename = rename,
    .unlink = unlink,
    .unlinkat = unlinkat,
    .mkdir = mkdir,
    .opendir = opendir,
    .readdir = readdir,
    .closedir = closedir,
    .statvfs = statvfs,
};

const store_sys_t *store_sys_active = &store_sys_real;

/* ---------------------------------------------------------------- the plan (tests) */

#define FAULT_RULES    32
#define FAULT_PATH_MAX 256

typedef struct {
    int kind;
    char path[FAULT_PATH_MAX]; /* "": every path */
    unsigned nth, times, seen;
    int err, short_io;
} rule_t;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static rule_t plan[FAULT_RULES];
static size_t plan_len;
static unsigned plan_fired;

static int rule_matches(const rule_t *r, const char *path)
{
    return r->path[0] == '\0' || (path != NULL && strstr(path, r->path) != NULL);
}

/* What happens to a call of kind on path (and path2, a rename's target): 0 and *short_io 0 for
 * nothing, else the errno it fails with and/or *short_io set. */
static int decide(int kind, const char *path, const char *path2, int *short_io)
{
    int err = 0, decided = 0;

    *short_io = 0;
    pthread_mutex_lock(&plan_lock);
    for (size_t i = 0; i < plan_len; i++) {
        rule_t *r = &plan[i];
        if (r->kind != kind || !(rule_matches(r, path) || (path2 != NULL && rule_matches(r, path2))))
            continue;
        r->seen++;
        /* every matching rule counts the call; the first whose window holds it decides */
        if (decided || r->times == 0 || r->seen < r->nth || r->seen - r->nth >= r->times)
            continue;
        decided = 1;
        err = r->err;
        *short_io = r->short_io;
        plan_fired++;
    }
    pthread_mutex_unlock(&plan_lock);
    return err;
}

/* The path the kernel names for fd ("" when it cannot tell). */
static const char *fd_path(int fd, char *buf, size_t cap)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, buf, cap - 1)) < 0)
        n = 0;
    buf[n] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- the checked calls (tests) */

static int fail_with(int err)
{
    errno = err;
    return -1;
}

static int checked_open(const char *path, int flags, mode_t mode)
{
    int short_io, err = decide(STORE_SYS_OPEN, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : open(path, flags, mode);
}

static int checked_close(int fd)
{
    char path[PATH_MAX];
    int short_io, err = decide(STORE_SYS_CLOSE, fd_path(fd, path, sizeof(path)), NULL, &short_io);
    int ret = close(fd); /* the descriptor is gone even when close reports an error */
    return err != 0 ? fail_with(err) : ret;
}

/* Moves half the bytes of iov through fn: a short transfer. */
static ssize_t half_iov(ssize_t (*fn)(int, const struct iovec *, int, off_t), int fd, const struct iovec *iov, int cnt,
                        off_t off)
{
    struct iovec cut[16];
    size_t total = 0, want;
    int n = 0;

    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    want = total > 1 ? total / 2 : total;
    for (int i = 0; i < cnt && n < 16 && want > 0; i++) {
        cut[n] = iov[i];
        if (cut[n].iov_len > want)
            cut[n].iov_len = want;
        want -= cut[n].iov_len;
        n++;
    }
    return fn(fd, cut, n, off);
}

static ssize_t checked_rw(int kind, ssize_t (*fn)(int, const struct iovec *, int, off_t), int fd,
                          const struct iovec *iov, int cnt, off_t off)
{
    char path[PATH_MAX];
    int short_io, err = decide(kind, fd_path(fd, path, sizeof(path)), NULL, &short_io);
    ssize_t n;

    if (!short_io)
        return err != 0 ? fail_with(err) : fn(fd, iov, cnt, off);
    n = half_iov(fn, fd, iov, cnt, off);
    return err != 0 && n >= 0 ? fail_with(err) : n;
}

static ssize_t checked_preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    return checked_rw(STORE_SYS_PREAD, preadv, fd, iov, cnt, off);
}

static ssize_t checked_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    return checked_rw(STORE_SYS_PWRITE, pwritev, fd, iov, cnt, off);
}

/* A call on a descriptor that either fails or goes through. */
static int checked_fd(int kind, int fd)
{
    char path[PATH_MAX];
    int short_io;
    return decide(kind, fd_path(fd, path, sizeof(path)), NULL, &short_io);
}

static int checked_fsync(int fd)
{
    int err = checked_fd(STORE_SYS_FSYNC, fd);
    return err != 0 ? fail_with(err) : fsync(fd);
}

static int checked_fdatasync(int fd)
{
    int err = checked_fd(STORE_SYS_FDATASYNC, fd);
    return err != 0 ? fail_with(err) : fdatasync(fd);
}

static int checked_fstat(int fd, struct stat *st)
{
    int err = checked_fd(STORE_SYS_STAT, fd);
    return err != 0 ? fail_with(err) : fstat(fd, st);
}

static int checked_stat(const char *path, struct stat *st)
{
    int short_io, err = decide(STORE_SYS_STAT, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : stat(path, st);
}

static int checked_rename(const char *from, const char *to)
{
    int short_io, err = decide(STORE_SYS_RENAME, from, to, &short_io);
    return err != 0 ? fail_with(err) : rename(from, to);
}

static int checked_unlink(const char *path)
{
    int short_io, err = decide(STORE_SYS_UNLINK, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : unlink(path);
}

static int checked_unlinkat(int dirfd, const char *name, int flags)
{
    char path[PATH_MAX], dir[PATH_MAX];
    int short_io, err;

    if (snprintf(path, sizeof(path), "%s/%s", fd_path(dirfd, dir, sizeof(dir)), name) >= (int)sizeof(path))
        path[0] = '\0'; /* too long to name: only rules for every path see it */
    err = decide(STORE_SYS_UNLINK, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : unlinkat(dirfd, name, flags);
}

static int checked_mkdir(const char *path, mode_t mode)
{
    int short_io, err = decide(STORE_SYS_MKDIR, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : mkdir(path, mode);
}

static DIR *checked_opendir(const char *path)
{
    int short_io, err = decide(STORE_SYS_OPENDIR, path, NULL, &short_io);
    if (err != 0) {
        errno = err;
        return NULL;
    }
    return opendir(path);
}

static struct dirent *checked_readdir(DIR *dp)
{
    int err = checked_fd(STORE_SYS_READDIR, dirfd(dp));
    if (err != 0) {
        errno = err;
        return NULL;
    }
    return readdir(dp);
}

static int checked_closedir(DIR *dp)
{
    int err = checked_fd(STORE_SYS_CLOSE, dirfd(dp));
    int ret = closedir(dp);
    return err != 0 ? fail_with(err) : ret;
}

static int checked_statvfs(const char *path, struct statvfs *st)
{
    int short_io, err = decide(STORE_SYS_STATVFS, path, NULL, &short_io);
    return err != 0 ? fail_with(err) : statvfs(path, st);
}

static const store_sys_t store_sys_checked = {
    .open = checked_open,
    .close = checked_close,
    .preadv = checked_preadv,
    .pwritev = checked_pwritev,
    .fsync = checked_fsync,
    .fdatasync = checked_fdatasync,
    .fstat = checked_fstat,
    .stat = checked_stat,
    .rename = checked_rename,
    .unlink = checked_unlink,
    .unlinkat = checked_unlinkat,
    .mkdir = checked_mkdir,
    .opendir = checked_opendir,
    .readdir = checked_readdir,
    .closedir = checked_closedir,
    .statvfs = checked_statvfs,
};

/* RocksDB's operations, checked against the same plan. */
static int rocksdb_fault(int op, const char *path, const char *path2, size_t *len)
{
    static const int kinds[] = {
        [META_FS_OPEN] = STORE_SYS_OPEN,     [META_FS_CLOSE] = STORE_SYS_CLOSE,    [META_FS_READ] = STORE_SYS_PREAD,
        [META_FS_WRITE] = STORE_SYS_PWRITE,  [META_FS_SYNC] = STORE_SYS_FDATASYNC, [META_FS_FSYNC] = STORE_SYS_FSYNC,
        [META_FS_RENAME] = STORE_SYS_RENAME, [META_FS_DELETE] = STORE_SYS_UNLINK,  [META_FS_MKDIR] = STORE_SYS_MKDIR,
    };
    int short_io, err;

    if (op < 0 || (size_t)op >= sizeof(kinds) / sizeof(kinds[0]))
        return 0;
    err = decide(kinds[op], path, path2, &short_io);
    if (short_io && len != NULL && *len > 1)
        *len /= 2;
    return err;
}

/* ---------------------------------------------------------------- the fault API (tests) */

int store_fault_add(const store_fault_t *f)
{
    rule_t *r;
    int n;

    if (f->kind < 0 || f->kind >= STORE_SYS_KINDS || (f->path != NULL && strlen(f->path) >= FAULT_PATH_MAX))
        return STORE_EINVAL;
    pthread_mutex_lock(&plan_lock);
    if (plan_len == FAULT_RULES) {
        pthread_mutex_unlock(&plan_lock);
        return STORE_EINVAL;
    }
    r = &plan[plan_len];
    memset(r, 0, sizeof(*r));
    r->kind = f->kind;
    if (f->path != NULL)
        snprintf(r->path, sizeof(r->path), "%s", f->path);
    r->nth = f->nth > 0 ? f->nth : 1;
    r->times = f->times;
    r->err = f->err;
    r->short_io = f->short_io;
    n = (int)plan_len++;
    pthread_mutex_unlock(&plan_lock);
    meta_fs_set_fault_hook(rocksdb_fault);
    __atomic_store_n(&store_sys_active, &store_sys_checked, __ATOMIC_RELEASE);
    return n;
}

void store_fault_clear(void)
{
    __atomic_store_n(&store_sys_active, &store_sys_real, __ATOMIC_RELEASE);
    meta_fs_set_fault_hook(NULL);
    pthread_mutex_lock(&plan_lock);
    plan_len = 0;
    plan_fired = 0;
    pthread_mutex_unlock(&plan_lock);
}

unsigned store_fault_fired(void)
{
    unsigned n;

    pthread_mutex_lock(&plan_lock);
    n = plan_fired;
    pthread_mutex_unlock(&plan_lock);
    return n;
}

unsigned store_fault_seen(int rule)
{
    unsigned n = 0;

    pthread_mutex_lock(&plan_lock);
    if (rule >= 0 && (size_t)rule < plan_len)
        n = plan[rule].seen;
    pthread_mutex_unlock(&plan_lock);
    return n;
}
