/* unit_fs.h — small filesystems for the tests of a full drive: a tmpfs of a given size mounted on
 * a fresh directory, and a filler file that takes its free space down to a given number of bytes.
 *
 *   char dir[64], why[128];
 *   if (unit_tmpfs_mount(dir, "8m", why, sizeof(why)) != 0) { UNIT_SKIP(why); }
 *   unit_fill(dir, 0);            // the filesystem is full now
 *   unit_unfill(dir);             // and has its space back
 *   unit_tmpfs_umount(dir);
 *
 * Mounting needs root (or CAP_SYS_ADMIN); a test that cannot mount says so and passes. A test
 * that fails returns before its unit_tmpfs_umount: what it left mounted goes at exit.
 */
#ifndef YC_UNIT_FS_H
#define YC_UNIT_FS_H
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Prints why the running test does nothing, and leaves it (counted as passed). */
#define UNIT_SKIP(why)                                                                                                 \
    do {                                                                                                               \
        fprintf(stderr, "  skipped %s: %s\n", __func__, (why));                                                        \
        return;                                                                                                        \
    } while (0)

static inline uint64_t unit_free_bytes(const char *dir)
{
    struct statvfs st;
    return statvfs(dir, &st) == 0 ? (uint64_t)st.f_bavail * st.f_frsize : 0;
}

#define UNIT_TMPFS_MAX 16
static char unit_tmpfs_dirs[UNIT_TMPFS_MAX][64];

static inline void unit_tmpfs_umount(const char *dir)
{
    char path[64];

    snprintf(path, sizeof(path), "%.63s", dir); /* dir may be one of the entries cleared below */
    for (int i = 0; i < UNIT_TMPFS_MAX; i++)
        if (strcmp(unit_tmpfs_dirs[i], path) == 0)
            unit_tmpfs_dirs[i][0] = '\0';
    umount2(path, MNT_DETACH);
    rmdir(path);
}

static void unit_tmpfs_umount_all(void)
{
    for (int i = 0; i < UNIT_TMPFS_MAX; i++)
        if (unit_tmpfs_dirs[i][0] != '\0')
            unit_tmpfs_umount(unit_tmpfs_dirs[i]);
}

/* Makes a directory under /tmp and mounts a tmpfs of size ("8m") on it. */
static inline int unit_tmpfs_mount(char dir[64], const char *size, char *why, size_t whylen)
{
    static int registered;
    char opts[32];

    snprintf(dir, 64, "/tmp/yc-fs-test-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    snprintf(opts, sizeof(opts), "size=%s", size);
    if (mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
        snprintf(why, whylen, "cannot mount a tmpfs (%s): %s", geteuid() == 0 ? "mount refused" : "not root",
                 strerror(errno));
        rmdir(dir);
        return -1;
    }
    if (!registered) {
        atexit(unit_tmpfs_umount_all);
        registered = 1;
    }
    for (int i = 0; i < UNIT_TMPFS_MAX; i++) {
        if (unit_tmpfs_dirs[i][0] == '\0') {
            snprintf(unit_tmpfs_dirs[i], sizeof(unit_tmpfs_dirs[i]), "%s", dir);
            break;
        }
    }
    return 0;
}

/* Grows dir/.filler until at most leave bytes stay free (tmpfs counts whole pages). The bulk
 * is one fallocate, so that the space goes at once, faster than a drive's free-space estimate
 * ages (10 ms): a write right after it meets the full disk itself, not the drive's reserve. */
static inline int unit_fill(const char *dir, uint64_t leave)
{
    static char zeros[64 * 1024];
    char path[128];
    struct stat st;
    uint64_t free = unit_free_bytes(dir);
    int fd;

    snprintf(path, sizeof(path), "%s/.filler", dir);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
        return -errno;
    if (free > leave + 8192 && fstat(fd, &st) == 0)
        posix_fallocate(fd, st.st_size, (off_t)((free - leave - 8192) & ~(uint64_t)4095));
    for (size_t chunk = sizeof(zeros); chunk >= 1;) {
        uint64_t free = unit_free_bytes(dir);
        if (free <= leave)
            break;
        size_t n = free - leave < chunk ? (size_t)(free - leave) : chunk;
        if (write(fd, zeros, n) < 0) {
            if (errno != ENOSPC)
                break;
            chunk /= 2; /* what is left is less than a chunk: go smaller */
        }
    }
    fsync(fd);
    close(fd);
    return 0;
}

/* Removes the filler: the space it took is free again. */
static inline void unit_unfill(const char *dir)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/.filler", dir);
    unlink(path);
}

#endif
