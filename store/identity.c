/* identity.c — who a drive is: preparing a folder as a drive, and its identity file.
 *
 * The file (see store.h) is text, one "name: value" per line after a first line naming it, so
 * that an operator can read it with cat:
 *
 *   yuncang drive identity
 *   format: 1
 *   drive_id: 6b1f...           32 hex digits
 *   verifier: 90ac...           64 hex digits; absent on a drive never served with a secret
 *   cluster_id: 3e07...         absent until a gateway placed the drive
 *   set: 0
 *   slot: 3
 *
 * Preparing a folder, in this order, each step with its own OS error for the operator:
 *   1. mkdir: only the last level, so that a typo in a path, or a disk that is not mounted
 *      under a missing mount point's parent, is an error rather than a new folder elsewhere;
 *   2. lock: flock on the folder, so that two processes never serve one drive (RocksDB would
 *      refuse the second too, but with a message about a LOCK file);
 *   3. write probe: a temp file is made and removed, which names a read-only or unwritable
 *      folder at start rather than at the first PUT;
 *   4. the identity is read; a folder without one is a fresh drive when it is empty (an empty
 *      lost+found of a freshly made file system aside) or when it holds the layout of a drive
 *      made before identities existed (db/ and shards/): anything else is foreign and refused,
 *      since serving it would mix our files with someone else's.
 * Each field is written once: the file is rewritten only to add one (a verifier to an old
 * drive, a placement), never to change one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store_internal.h"

#define IDENTITY_FILE   "identity"
#define IDENTITY_TMP    "identity.tmp"
#define IDENTITY_HEADER "yuncang drive identity"

struct store_identity {
    char *dir;
    int dirfd; /* holds the lock */
    pthread_mutex_t mutex;
    store_identity_info_t info;
};

void store_set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* Exactly 2*len lowercase hex digits into out; -1 otherwise. */
static int from_hex(const char *in, size_t inlen, uint8_t *out, size_t len)
{
    return inlen == 2 * len && yc_unhex_lower(in, len, out) == 0 ? 0 : -1;
}

static void compute_verifier(const void *secret, size_t secret_len, const uint8_t drive_id[STORE_ID_LEN],
                             uint8_t out[32])
{
    char msg[64];
    char hex[2 * STORE_ID_LEN + 1];
    unsigned int len = 0;

    yc_hex(drive_id, STORE_ID_LEN, hex);
    int n = snprintf(msg, sizeof(msg), "yuncang drive verifier 1 %s", hex);
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, (size_t)n, out, &len) == NULL ||
        len != 32)
        RAND_bytes(out, 32); /* matches nothing: the drive is then refused rather than trusted */
}

void store_identity_cluster_id(const void *secret, size_t secret_len, uint32_t k, uint32_t m, size_t ndrives,
                               uint8_t out[STORE_ID_LEN])
{
    static const char no_secret[] = "yuncang without a cluster secret";
    uint8_t mac[32];
    unsigned int len = 0;
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "yuncang cluster 1 k=%u m=%u drives=%zu", k, m, ndrives);

    if (secret == NULL || secret_len == 0) {
        secret = no_secret;
        secret_len = sizeof(no_secret) - 1;
    }
    if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, (size_t)n, mac, &len) == NULL)
        memset(mac, 0, sizeof(mac));
    memcpy(out, mac, STORE_ID_LEN);
}

/* ---------------------------------------------------------------- text form */

int store_identity_encode(const store_identity_info_t *info, char *buf, size_t cap, size_t *len)
{
    char hex[65];
    size_t n = 0;
    int w;

#define EMIT(...)                                                                                                      \
    do {                                                                                                               \
        w = snprintf(buf + n, cap - n, __VA_ARGS__);                                                                   \
        if (w < 0 || (size_t)w >= cap - n)                                                                             \
            return STORE_EINVAL;                                                                                       \
        n += (size_t)w;                                                                                                \
    } while (0)

    if (cap == 0)
        return STORE_EINVAL;
    EMIT("%s\nformat: %u\n", IDENTITY_HEADER, info->format);
    if (info->has_drive_id) {
        yc_hex(info->drive_id, STORE_ID_LEN, hex);
        EMIT("drive_id: %s\n", hex);
    }
    if (info->has_verifier) {
        yc_hex(info->verifier, 32, hex);
        EMIT("verifier: %s\n", hex);
    }
    if (info->placed) {
        yc_hex(info->cluster_id, STORE_ID_LEN, hex);
        EMIT("cluster_id: %s\nset: %u\nslot: %u\n", hex, info->set, info->slot);
    }
#undef EMIT
    *len = n;
    return 0;
}

static int parse_u32(const char *p, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int store_identity_decode(const char *text, size_t len, store_identity_info_t *out)
{
    const char *p = text, *end = text + len;
    int have_format = 0, have_set = 0, have_slot = 0, have_cluster = 0;

    memset(out, 0, sizeof(*out));
    if (len < sizeof(IDENTITY_HEADER) || memcmp(text, IDENTITY_HEADER "\n", sizeof(IDENTITY_HEADER)) != 0)
        return STORE_ECORRUPT;
    p += sizeof(IDENTITY_HEADER);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            return STORE_ECORRUPT; /* a torn last line */
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon + 1 >= eol || colon[1] != ' ')
            return STORE_ECORRUPT;
        size_t nlen = (size_t)(colon - p), vlen = (size_t)(eol - colon - 2);
        const char *v = colon + 2;
        int bad = 0;
        if (nlen == 6 && memcmp(p, "format", 6) == 0) {
            bad = parse_u32(v, vlen, &out->format);
            have_format = 1;
        } else if (nlen == 8 && memcmp(p, "drive_id", 8) == 0) {
            bad = from_hex(v, vlen, out->drive_id, STORE_ID_LEN);
            out->has_drive_id = 1;
        } else if (nlen == 8 && memcmp(p, "verifier", 8) == 0) {
            bad = from_hex(v, vlen, out->verifier, 32);
            out->has_verifier = 1;
        } else if (nlen == 10 && memcmp(p, "cluster_id", 10) == 0) {
            bad = from_hex(v, vlen, out->cluster_id, STORE_ID_LEN);
            have_cluster = 1;
        } else if (nlen == 3 && memcmp(p, "set", 3) == 0) {
            bad = parse_u32(v, vlen, &out->set);
            have_set = 1;
        } else if (nlen == 4 && memcmp(p, "slot", 4) == 0) {
            bad = parse_u32(v, vlen, &out->slot);
            have_slot = 1;
        } /* else: a field of a later format, which this one neither keeps nor refuses */
        if (bad)
            return STORE_ECORRUPT;
        p = eol + 1;
    }
    /* a placement is the three fields together or none of them */
    int nplace = have_cluster + have_set + have_slot;
    if (!have_format || (nplace != 0 && nplace != 3))
        return STORE_ECORRUPT;
    out->placed = have_cluster;
    return 0;
}

/* ---------------------------------------------------------------- the file */

/* Writes the identity durably: temp file, fsync, rename, fsync of the folder. */
static int write_identity(store_identity_t *id, const store_identity_info_t *info, char *why, size_t whylen)
{
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;
    int fd = -1, ret;

    if ((ret = store_identity_encode(info, text, sizeof(text), &len)) != 0) {
        store_set_why(why, whylen, "identity too long to write");
        return ret;
    }
    if ((fd = openat(id->dirfd, IDENTITY_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        goto os_fail;
    if (write(fd, text, len) != (ssize_t)len) {
        if (errno == 0)
            errno = ENOSPC; /* a short write with no error is a full disk */
        goto os_fail;
    }
    if (fsync(fd) != 0)
        goto os_fail;
    close(fd);
    fd = -1;
    if (renameat(id->dirfd, IDENTITY_TMP, id->dirfd, IDENTITY_FILE) != 0 || fsync(id->dirfd) != 0)
        goto os_fail;
    return 0;

os_fail:
    ret = errno;
    store_set_why(why, whylen, "cannot write its identity: %s", strerror(ret));
    if (fd >= 0)
        close(fd);
    unlinkat(id->dirfd, IDENTITY_TMP, 0);
    return store_errno(ret) == -ENOMEM ? -ENOMEM : ret == ENOSPC ? STORE_ENOSPC : STORE_EIO;
}

/* 1 when the folder (which has no identity) may become a drive: it is empty but for a
 * lost+found and a temp identity, or it holds the layout of a drive made before identities
 * (shards/00 .. and db/, tmp/). 0 with the first stranger's name in *stranger; -errno. */
static int folder_is_ours(int dirfd, char *stranger, size_t cap)
{
    struct stat st;
    int fd = dup(dirfd), ret, legacy;
    struct dirent *e;
    DIR *dp;

    stranger[0] = '\0';
    if (fd < 0 || (dp = fdopendir(fd)) == NULL) {
        ret = -errno;
        if (fd >= 0)
            close(fd);
        return ret;
    }
    legacy = fstatat(dirfd, "shards/00", &st, 0) == 0 && S_ISDIR(st.st_mode);
    rewinddir(dp);
    while ((e = readdir(dp)) != NULL) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, IDENTITY_TMP) == 0 || strcmp(n, "lost+found") == 0)
            continue;
        if (legacy && (strcmp(n, "shards") == 0 || strcmp(n, "db") == 0 || strcmp(n, "tmp") == 0))
            continue;
        snprintf(stranger, cap, "%s", n);
        break;
    }
    closedir(dp);
    return stranger[0] == '\0' ? 1 : 0;
}

/* Reads the identity file: 1 when it exists (parsed into *info), 0 when absent. */
static int read_identity(int dirfd, store_identity_info_t *info, char *why, size_t whylen)
{
    char text[STORE_IDENTITY_TEXT_MAX + 1];
    int fd = openat(dirfd, IDENTITY_FILE, O_RDONLY | O_CLOEXEC), err;
    ssize_t n;

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        err = errno;
        store_set_why(why, whylen, "cannot read its identity: %s", strerror(err));
        return STORE_EIO;
    }
    n = read(fd, text, sizeof(text));
    err = errno;
    close(fd);
    if (n < 0) {
        store_set_why(why, whylen, "cannot read its identity: %s", strerror(err));
        return STORE_EIO;
    }
    if ((size_t)n > STORE_IDENTITY_TEXT_MAX || store_identity_decode(text, (size_t)n, info) != 0 ||
        !info->has_drive_id) {
        store_set_why(why, whylen, "its identity file (" IDENTITY_FILE ") is damaged; it was left as it is");
        return STORE_ECORRUPT;
    }
    if (info->format > STORE_IDENTITY_FORMAT) {
        store_set_why(why, whylen, "its identity has format %u, newer than this program knows (%u)", info->format,
                      STORE_IDENTITY_FORMAT);
        return STORE_ECORRUPT;
    }
    return 1;
}

static int parent_exists(const char *dir)
{
    char parent[PATH_MAX];
    struct stat st;
    size_t len = strlen(dir);

    while (len > 1 && dir[len - 1] == '/')
        len--;
    while (len > 0 && dir[len - 1] != '/')
        len--;
    if (len == 0)
        return 1; /* a relative name in the current folder */
    if (len >= sizeof(parent))
        return 0;
    memcpy(parent, dir, len);
    parent[len] = '\0';
    return stat(parent, &st) == 0 && S_ISDIR(st.st_mode);
}

int store_identity_open(const char *dir, const void *secret, size_t secret_len, store_identity_t **out, char *why,
                        size_t whylen)
{
    store_identity_t *id = NULL;
    store_identity_info_t info;
    char stranger[256];
    int ret, err, dirty = 0, fd;

    if (secret != NULL && secret_len == 0)
        secret = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        err = errno;
        if (err == ENOENT && !parent_exists(dir))
            store_set_why(why, whylen, "%s (its parent folder must exist: only the drive's own folder is made)",
                          strerror(err));
        else
            store_set_why(why, whylen, "%s", strerror(err));
        return err == ENOMEM ? -ENOMEM : err == ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    if ((id = calloc(1, sizeof(*id))) == NULL)
        return -ENOMEM;
    id->dirfd = -1;
    pthread_mutex_init(&id->mutex, NULL);
    if ((id->dir = strdup(dir)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    if ((id->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        err = errno;
        store_set_why(why, whylen, "%s", strerror(err));
        ret = STORE_EIO;
        goto fail;
    }
    if (flock(id->dirfd, LOCK_EX | LOCK_NB) != 0) {
        err = errno;
        if (err == EWOULDBLOCK)
            store_set_why(why, whylen, "in use by another process (a yc-store or a gateway already serves this drive)");
        else
            store_set_why(why, whylen, "cannot lock the folder: %s", strerror(err));
        ret = err == EWOULDBLOCK ? STORE_EINUSE : STORE_EIO;
        goto fail;
    }
    /* a folder we cannot write is found now, not at the first write */
    if ((fd = openat(id->dirfd, IDENTITY_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
        close(fd);
        unlinkat(id->dirfd, IDENTITY_TMP, 0);
    } else if (errno != ENOSPC && errno != EDQUOT) { /* a full drive is writable: it must come up */
        err = errno;
        store_set_why(why, whylen, "%s (the drive's folder must be writable)", strerror(err));
        ret = STORE_EIO;
        goto fail;
    }

    if ((ret = read_identity(id->dirfd, &info, why, whylen)) < 0)
        goto fail;
    if (ret == 0) {
        if ((ret = folder_is_ours(id->dirfd, stranger, sizeof(stranger))) < 0) {
            store_set_why(why, whylen, "cannot list the folder: %s", strerror(-ret));
            ret = STORE_EIO;
            goto fail;
        }
        if (ret == 0) {
            store_set_why(why, whylen,
                          "not empty and not a yuncang drive (it holds '%s'); give an empty folder, or the drive's own",
                          stranger);
            ret = STORE_EFOREIGN;
            goto fail;
        }
        memset(&info, 0, sizeof(info));
        info.format = STORE_IDENTITY_FORMAT;
        info.has_drive_id = 1;
        if (RAND_bytes(info.drive_id, STORE_ID_LEN) != 1) {
            store_set_why(why, whylen, "no random bytes for a drive id");
            ret = STORE_EIO;
            goto fail;
        }
        dirty = 1;
    }
    if (info.has_verifier) {
        uint8_t expect[32];
        if (secret == NULL) {
            store_set_why(why, whylen,
                          "the drive was prepared with a cluster secret, and none is given (YC_CLUSTER_SECRET)");
            ret = STORE_ESECRET;
            goto fail;
        }
        compute_verifier(secret, secret_len, info.drive_id, expect);
        if (CRYPTO_memcmp(expect, info.verifier, sizeof(expect)) != 0) {
            store_set_why(
                why, whylen,
                "wrong cluster secret: the drive was prepared with another one (YC_CLUSTER_SECRET must be the "
                "cluster's)");
            ret = STORE_ESECRET;
            goto fail;
        }
    } else if (secret != NULL) {
        compute_verifier(secret, secret_len, info.drive_id, info.verifier);
        info.has_verifier = 1;
        dirty = 1;
    }
    id->info = info;
    if (dirty && (ret = write_identity(id, &info, why, whylen)) != 0)
        goto fail;
    *out = id;
    return 0;

fail:
    store_identity_close(id);
    return ret;
}

void store_identity_close(store_identity_t *id)
{
    if (id == NULL)
        return;
    if (id->dirfd >= 0)
        close(id->dirfd); /* releases the lock */
    pthread_mutex_destroy(&id->mutex);
    free(id->dir);
    free(id);
}

void store_identity_get(store_identity_t *id, store_identity_info_t *out)
{
    pthread_mutex_lock(&id->mutex);
    *out = id->info;
    pthread_mutex_unlock(&id->mutex);
}

int store_identity_place(store_identity_t *id, const uint8_t cluster_id[STORE_ID_LEN], uint32_t set, uint32_t slot,
                         store_identity_info_t *out)
{
    int ret = 0;

    pthread_mutex_lock(&id->mutex);
    if (!id->info.placed) {
        store_identity_info_t next = id->info;
        next.placed = 1;
        memcpy(next.cluster_id, cluster_id, STORE_ID_LEN);
        next.set = set;
        next.slot = slot;
        if ((ret = write_identity(id, &next, NULL, 0)) == 0)
            id->info = next;
    } else if (memcmp(id->info.cluster_id, cluster_id, STORE_ID_LEN) != 0 || id->info.set != set ||
               id->info.slot != slot) {
        ret = STORE_EIDENTITY;
    }
    if (out != NULL)
        *out = id->info;
    pthread_mutex_unlock(&id->mutex);
    return ret;
}
