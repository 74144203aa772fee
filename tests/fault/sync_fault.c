/* sync_fault.c — for fault tests only: preloaded (LD_PRELOAD) into a yc-store daemon, it makes
 * fsync and fdatasync fail with EIO on files whose path contains $YC_SYNC_FAULT_PATH while the
 * file $YC_SYNC_FAULT_TRIGGER exists. The test arms and disarms it by creating and removing that
 * file, from outside the process, at the moment it chooses: with ".log" (RocksDB's WAL) a drive
 * takes shard files but fails its record writes, the way a disk that starts failing does, and
 * the drive engine sees its file system's own error. Never part of a production binary.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int armed(int fd)
{
    const char *trigger = getenv("YC_SYNC_FAULT_TRIGGER"), *part = getenv("YC_SYNC_FAULT_PATH");
    char link[64], path[4096];
    ssize_t n;

    if (trigger == NULL || part == NULL || access(trigger, F_OK) != 0)
        return 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
        return 0;
    path[n] = '\0';
    return strstr(path, part) != NULL;
}

int fdatasync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (armed(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (armed(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
