/* store_fault.h — for tests only: file-system calls of the drive engine that fail on purpose.
 *
 * A test states which call fails, the way one would say it:
 *
 *   store_fault_fail(STORE_SYS_FDATASYNC, 1, EIO);                // the next fdatasync fails
 *   store_fault_fail_on(STORE_SYS_PREAD, "/d3/shards/", 2, EIO);  // the 2nd shard read on d3
 *   store_fault_fail_from(STORE_SYS_PWRITE, "/d2/tmp/", 3, ENOSPC); // d2 is full from its 3rd write on
 *   store_fault_short_write("/d1/tmp/", 1);                       // the next write on d1 moves half
 *   store_fault_fail_on(STORE_SYS_FDATASYNC, ".log", 1, EIO);     // RocksDB's next WAL sync
 *   ...
 *   CHECK_EQ_INT(store_fault_fired(), 1);                         // the fault did happen
 *   store_fault_clear();
 *
 * A rule counts the calls of its kind whose file path contains its path part (any path when
 * NULL), from the moment it is added, and fails calls nth .. nth + times - 1 with errno err
 * (the call does nothing else; close still closes, as Linux's does). A short rule lets the call
 * move only half its bytes: with err 0 it reports that short count (the caller must resume),
 * else it then fails with err (a disk that filled up in the middle of the write). A rule with
 * times 0 fails nothing and only counts (store_fault_seen). For a descriptor the path is the
 * one the kernel names for it now (a renamed file has its new name); a rename matches on
 * either of its two paths.
 *
 * The same rules reach RocksDB's own file operations (meta_fs_set_fault_hook): opening a file
 * is STORE_SYS_OPEN, an append STORE_SYS_PWRITE (RocksDB resumes a short one by itself, so
 * only a short rule with an err shows: a torn append), Sync STORE_SYS_FDATASYNC, Fsync and a
 * directory's fsync STORE_SYS_FSYNC, a read STORE_SYS_PREAD, closing STORE_SYS_CLOSE, rename,
 * delete and creating a directory STORE_SYS_RENAME, STORE_SYS_UNLINK, STORE_SYS_MKDIR. Its
 * files are named like 000012.log (WAL), 000015.sst, MANIFEST-000005, CURRENT.
 *
 * The plan is process-wide (unit tests are processes of their own) and safe to change while
 * other threads make calls. Production code never includes this header.
 */
#ifndef YC_STORE_FAULT_H
#define YC_STORE_FAULT_H
#include <limits.h>

enum {
    STORE_SYS_OPEN,
    STORE_SYS_CLOSE, /* close, closedir */
    STORE_SYS_PREAD,
    STORE_SYS_PWRITE,
    STORE_SYS_FSYNC,
    STORE_SYS_FDATASYNC,
    STORE_SYS_STAT, /* stat, fstat */
    STORE_SYS_RENAME,
    STORE_SYS_UNLINK, /* unlink, unlinkat */
    STORE_SYS_MKDIR,
    STORE_SYS_OPENDIR,
    STORE_SYS_READDIR,
    STORE_SYS_STATVFS,
    STORE_SYS_KINDS
};

#define STORE_FAULT_FOREVER UINT_MAX /* times: every call from the nth on */

typedef struct {
    int kind;         /* STORE_SYS_ */
    const char *path; /* a part of the paths the rule applies to (copied); NULL: every path */
    unsigned nth;     /* the first call that fails, counting from 1 */
    unsigned times;   /* how many fail from there (STORE_FAULT_FOREVER: all); 0: only count */
    int err;          /* the errno they fail with */
    int short_io;     /* reads and writes: move half the bytes (then fail with err, if any) */
} store_fault_t;

/* Adds a rule and routes every file-system call of the drive engine and of RocksDB through the
 * checks. Returns the rule's number (for store_fault_seen), or STORE_EINVAL (bad kind, path
 * too long, too many rules). */
int store_fault_add(const store_fault_t *f);
/* Removes every rule; the calls go straight to the C library again. */
void store_fault_clear(void);
/* Calls failed (or cut short) since the last store_fault_clear. */
unsigned store_fault_fired(void);
/* Calls rule `rule` counted so far. */
unsigned store_fault_seen(int rule);

/* The nth call of kind, on any path, fails with err. */
static inline int store_fault_fail(int kind, unsigned nth, int err)
{
    store_fault_t f = {.kind = kind, .nth = nth, .times = 1, .err = err};
    return store_fault_add(&f);
}

/* The nth call of kind on a path containing path fails with err. */
static inline int store_fault_fail_on(int kind, const char *path, unsigned nth, int err)
{
    store_fault_t f = {.kind = kind, .path = path, .nth = nth, .times = 1, .err = err};
    return store_fault_add(&f);
}

/* Every call of kind on a path containing path fails with err from the nth on: a disk that
 * filled up, or broke, and stays that way. */
static inline int store_fault_fail_from(int kind, const char *path, unsigned nth, int err)
{
    store_fault_t f = {.kind = kind, .path = path, .nth = nth, .times = STORE_FAULT_FOREVER, .err = err};
    return store_fault_add(&f);
}

/* The nth write on a path containing path writes half its bytes and says so. */
static inline int store_fault_short_write(const char *path, unsigned nth)
{
    store_fault_t f = {.kind = STORE_SYS_PWRITE, .path = path, .nth = nth, .times = 1, .short_io = 1};
    return store_fault_add(&f);
}

/* Counts the calls of kind on a path containing path (store_fault_seen), failing none. */
static inline int store_fault_watch(int kind, const char *path)
{
    store_fault_t f = {.kind = kind, .path = path, .nth = 1, .times = 0};
    return store_fault_add(&f);
}

#endif
