/* shard.c — shard files: one shard of one piece of data, with a checksum per block.
 *
 * File format (integers little-endian):
 *   0   magic "YCSH"
 *   4   u32 format version (1)
 *   8   u32 block length (every block's, but the last may be shorter; 0 only when empty)
 *   12  u32 reserved, zero
 *   16  u64 data length (bytes of shard data, checksums excluded)
 *   24  u64 xxh3-64 of bytes 0..23
 *   32  block 0, then its u64 xxh3-64 (ec_block_checksum), block 1, its checksum, ...
 * Block b starts at 32 + b * (block length + 8), so a range read seeks straight to the blocks
 * it touches and verifies only those.
 *
 * Durability: a writer streams blocks into a private file under tmp/. The data length is
 * known only at the end, so commit writes the header then (pwrite at offset 0), fdatasyncs the
 * file, renames it to shards/XX/<id>.<index> and fsyncs shards/XX. After a crash the file is
 * either still in tmp/ (swept at the next open) or complete under its final name: rename is
 * atomic and the data was durable before it. Writeback of the appended blocks is started every
 * WRITEBACK_BYTES as they come (sync_file_range, which does not wait), so that the disk writes a
 * large shard while the rest of it is still being received and encoded, and the fdatasync of
 * commit finds little left to write rather than the whole file. A file under shards/ is never modified in place;
 * rewriting a shard (healing) renames a new file over the old one, so a reader holding the old
 * file open keeps reading consistent bytes. A torn header cannot pass its own checksum, and a
 * torn block cannot pass its checksum, so damage is reported, never returned as data.
 *
 * A full drive: creating a shard and every append first ask the drive for room
 * (store_space_admit: the whole reserve must stay free), so a writer is refused with
 * STORE_ENOSPC before it touches the disk; a real ENOSPC from write, fdatasync or rename fails
 * the same way. Either way the writer's temp file goes when the caller aborts it (or at once
 * in commit), and the shard it would have replaced was never touched.
 *
 * Deleting a shard does not fsync the directory: a delete lost in a crash leaves an orphan
 * file that no record refers to, which wastes space but never returns wrong data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>
#include "erasure/erasure.h"
#include "store/store_internal.h"

#define SHARD_MAGIC      "YCSH"
#define SHARD_VERSION    1
#define SHARD_HEADER_LEN 32
#define SHARD_CSUM_LEN   8

struct store_shard_writer {
    store_drive_t *drive;
    int fd;
    int err;        /* first I/O error; commit reports it */
    int short_seen; /* a block shorter than block_len was appended: it must be the last */
    uint32_t index;
    uint32_t block_len;
    uint64_t data_len;
    uint64_t file_off; /* where the next block goes */
    uint64_t file_end; /* past the last byte written: beyond file_off after a cancelled block */
    uint64_t flushed;  /* writeback started up to here (start_writeback) */
    /* a block arriving in pieces (store_shard_block_begin): its length, bytes so far, checksum */
    int in_block;
    size_t block_want, block_got;
    XXH3_state_t *block_xxh;
    uint8_t data_id[META_ID_LEN];
    char tmp[PATH_MAX];
};

typedef struct {
    uint32_t block_len;
    uint64_t data_len;
} shard_header_t;

static void header_encode(uint32_t block_len, uint64_t data_len, uint8_t out[SHARD_HEADER_LEN])
{
    memcpy(out, SHARD_MAGIC, 4);
    yc_put_le32(out + 4, SHARD_VERSION);
    yc_put_le32(out + 8, block_len);
    yc_put_le32(out + 12, 0);
    yc_put_le64(out + 16, data_len);
    yc_put_le64(out + 24, XXH3_64bits(out, 24));
}

static int header_decode(const uint8_t in[SHARD_HEADER_LEN], shard_header_t *out)
{
    if (memcmp(in, SHARD_MAGIC, 4) != 0 || yc_get_le64(in + 24) != XXH3_64bits(in, 24) ||
        yc_get_le32(in + 4) != SHARD_VERSION)
        return STORE_ECORRUPT;
    out->block_len = yc_get_le32(in + 8);
    out->data_len = yc_get_le64(in + 16);
    /* Only an empty shard has no block length; anything else could not be mapped to blocks. */
    if ((out->block_len == 0) != (out->data_len == 0))
        return STORE_ECORRUPT;
    return 0;
}

static uint64_t block_count(const shard_header_t *h)
{
    return h->block_len == 0 ? 0 : (h->data_len + h->block_len - 1) / h->block_len;
}

static uint64_t block_file_off(const shard_header_t *h, uint64_t b)
{
    return SHARD_HEADER_LEN + b * ((uint64_t)h->block_len + SHARD_CSUM_LEN);
}

/* Writes every byte of iov at off, resuming after short writes. */
static int pwritev_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
    const store_sys_t *sys = store_sys();

    while (cnt > 0) {
        ssize_t n = sys->pwritev(fd, iov, cnt, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return store_errno(errno);
        }
        off += (uint64_t)n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* Reads exactly the bytes of iov at off. A file shorter than its header promises has lost
 * data: that is damage to the shard, reported like a bad checksum. */
static int preadv_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
    const store_sys_t *sys = store_sys();

    while (cnt > 0) {
        ssize_t n = sys->preadv(fd, iov, cnt, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return store_errno(errno);
        }
        if (n == 0)
            return STORE_EBITROT;
        off += (uint64_t)n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

int store_shard_create(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, store_shard_writer_t **out)
{
    store_shard_writer_t *w;
    int ret;

    if ((w = calloc(1, sizeof(*w))) == NULL)
        return -ENOMEM;
    w->drive = d;
    w->fd = -1;
    w->index = index;
    w->file_off = SHARD_HEADER_LEN;
    memcpy(w->data_id, data_id, META_ID_LEN);
    if ((ret = store_space_admit(d, STORE_ADMIT_DATA, SHARD_HEADER_LEN)) != 0 ||
        (ret = store_shard_tmp_path(d, data_id, index, w->tmp)) != 0)
        goto fail;
    if ((w->fd = store_sys()->open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        ret = store_errno(errno);
        if (ret == STORE_ENOSPC)
            store_space_stale(d);
        goto fail;
    }
    *out = w;
    return 0;

fail:
    free(w);
    return ret;
}

/* Bytes appended before their writeback is started: a few blocks, so the call is rare. */
#define WRITEBACK_BYTES (1u << 20)

/* Starts the disk writes of what was appended since the last call, without waiting for them. A
 * hint to the kernel: an error here (none is expected on a regular file) is left to the
 * fdatasync of commit, which reports what did not reach the disk. */
static void start_writeback(store_shard_writer_t *w)
{
    if (w->file_off - w->flushed < WRITEBACK_BYTES)
        return;
    (void)sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->file_off - w->flushed), SYNC_FILE_RANGE_WRITE);
    w->flushed = w->file_off;
}

int store_shard_append(store_shard_writer_t *w, const void *block, size_t len)
{
    uint8_t csum[SHARD_CSUM_LEN];
    struct iovec iov[2];
    int ret;

    if (w->err != 0)
        return w->err;
    /* Refusing a bad block leaves the writer usable: nothing was written. */
    if (w->in_block || len == 0 || len > UINT32_MAX || w->short_seen || (w->block_len != 0 && len > w->block_len))
        return STORE_EINVAL;
    /* Below the reserve the shard fails as a whole: the caller aborts it and its temp file goes. */
    if ((ret = store_space_admit(w->drive, STORE_ADMIT_DATA, len + SHARD_CSUM_LEN)) != 0) {
        w->err = ret;
        return ret;
    }
    if (w->block_len == 0)
        w->block_len = (uint32_t)len;
    yc_put_le64(csum, ec_block_checksum(block, len));
    /* The block goes to the file straight from the caller's buffer, its checksum beside it. */
    iov[0] = (struct iovec){.iov_base = (void *)block, .iov_len = len};
    iov[1] = (struct iovec){.iov_base = csum, .iov_len = sizeof(csum)};
    if ((ret = pwritev_all(w->fd, iov, 2, w->file_off)) != 0) {
        if (ret == STORE_ENOSPC)
            store_space_stale(w->drive);
        w->err = ret;
        return ret;
    }
    if (len < w->block_len)
        w->short_seen = 1;
    w->file_off += len + SHARD_CSUM_LEN;
    w->data_len += len;
    if (w->file_end < w->file_off)
        w->file_end = w->file_off;
    start_writeback(w);
    return 0;
}

/* A block in pieces is written where a whole block would be, its checksum computed as it goes
 * (XXH3's streaming form gives the same value as ec_block_checksum of the whole block), so the
 * file is the same byte for byte; until _end nothing of it counts: file_off and data_len move
 * only there, and a cancel leaves them, so the next block overwrites the dropped bytes. */
int store_shard_block_begin(store_shard_writer_t *w, size_t len)
{
    int ret;

    if (w->err != 0)
        return w->err;
    if (w->in_block || len == 0 || len > UINT32_MAX || w->short_seen || (w->block_len != 0 && len > w->block_len))
        return STORE_EINVAL;
    if ((ret = store_space_admit(w->drive, STORE_ADMIT_DATA, len + SHARD_CSUM_LEN)) != 0) {
        w->err = ret;
        return ret;
    }
    if (w->block_xxh == NULL && (w->block_xxh = XXH3_createState()) == NULL)
        return -ENOMEM;
    XXH3_64bits_reset(w->block_xxh);
    w->in_block = 1;
    w->block_want = len;
    w->block_got = 0;
    return 0;
}

int store_shard_block_write(store_shard_writer_t *w, const void *piece, size_t len)
{
    struct iovec iov = {.iov_base = (void *)piece, .iov_len = len};
    int ret;

    if (w->err != 0)
        return w->err;
    if (!w->in_block || len > w->block_want - w->block_got)
        return STORE_EINVAL;
    if (len == 0)
        return 0;
    if ((ret = pwritev_all(w->fd, &iov, 1, w->file_off + w->block_got)) != 0) {
        if (ret == STORE_ENOSPC)
            store_space_stale(w->drive);
        w->err = ret;
        return ret;
    }
    XXH3_64bits_update(w->block_xxh, piece, len);
    w->block_got += len;
    if (w->file_end < w->file_off + w->block_got)
        w->file_end = w->file_off + w->block_got;
    return 0;
}

int store_shard_block_end(store_shard_writer_t *w)
{
    uint8_t csum[SHARD_CSUM_LEN];
    struct iovec iov = {.iov_base = csum, .iov_len = sizeof(csum)};
    int ret;

    if (w->err != 0)
        return w->err;
    if (!w->in_block || w->block_got != w->block_want)
        return STORE_EINVAL;
    yc_put_le64(csum, (uint64_t)XXH3_64bits_digest(w->block_xxh));
    if ((ret = pwritev_all(w->fd, &iov, 1, w->file_off + w->block_got)) != 0) {
        if (ret == STORE_ENOSPC)
            store_space_stale(w->drive);
        w->err = ret;
        return ret;
    }
    w->in_block = 0;
    if (w->block_len == 0)
        w->block_len = (uint32_t)w->block_want;
    if (w->block_want < w->block_len)
        w->short_seen = 1;
    w->file_off += w->block_want + SHARD_CSUM_LEN;
    w->data_len += w->block_want;
    if (w->file_end < w->file_off)
        w->file_end = w->file_off;
    start_writeback(w);
    return 0;
}

void store_shard_block_cancel(store_shard_writer_t *w)
{
    w->in_block = 0;
    w->block_want = w->block_got = 0;
}

int store_shard_commit(store_shard_writer_t *w)
{
    const store_sys_t *sys = store_sys();
    uint8_t header[SHARD_HEADER_LEN];
    char dst[PATH_MAX], dir[PATH_MAX];
    struct iovec iov;
    int ret;

    if ((ret = w->err) != 0)
        goto fail;
    if (w->in_block) {
        ret = STORE_EINVAL; /* a block begun and neither ended nor cancelled */
        goto fail;
    }
    /* a cancelled block longer than what followed it left bytes past the data */
    if (w->file_end > w->file_off && ftruncate(w->fd, (off_t)w->file_off) != 0) {
        ret = store_errno(errno);
        goto fail;
    }
    if ((ret = store_shard_path(w->drive, w->data_id, w->index, dst)) != 0 ||
        (ret = store_shard_dir_path(w->drive, w->data_id, dir)) != 0)
        goto fail;
    header_encode(w->block_len, w->data_len, header);
    iov = (struct iovec){.iov_base = header, .iov_len = sizeof(header)};
    if ((ret = pwritev_all(w->fd, &iov, 1, 0)) != 0)
        goto fail;
    if (sys->fdatasync(w->fd) != 0) {
        ret = store_errno(errno);
        goto fail;
    }
    if (sys->close(w->fd) != 0) {
        w->fd = -1;
        ret = store_errno(errno);
        goto fail;
    }
    w->fd = -1;
    if (sys->rename(w->tmp, dst) != 0) { /* the shard becomes visible, whole, here */
        ret = store_errno(errno);
        goto fail;
    }
    /* Without this the rename may be lost in a crash after the record that names the shard
     * has been written. The file is in place now, so a failure here leaves nothing in tmp/. */
    ret = store_fsync_dir(dir);
    XXH3_freeState(w->block_xxh);
    free(w);
    return ret;

fail:
    if (ret == STORE_ENOSPC)
        store_space_stale(w->drive);
    store_shard_abort(w);
    return ret;
}

void store_shard_abort(store_shard_writer_t *w)
{
    const store_sys_t *sys = store_sys();

    if (w == NULL)
        return;
    if (w->fd >= 0)
        sys->close(w->fd);
    sys->unlink(w->tmp);
    XXH3_freeState(w->block_xxh);
    free(w);
}

/* Opens a committed shard and decodes its header. */
static int shard_open(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, int *fd_out,
                      shard_header_t *h)
{
    uint8_t header[SHARD_HEADER_LEN];
    char path[PATH_MAX];
    struct iovec iov = {.iov_base = header, .iov_len = sizeof(header)};
    const store_sys_t *sys = store_sys();
    int fd, ret;

    if ((ret = store_shard_path(d, data_id, index, path)) != 0)
        return ret;
    if ((fd = sys->open(path, O_RDONLY | O_CLOEXEC, 0)) < 0)
        return store_errno(errno);
    if ((ret = preadv_all(fd, &iov, 1, 0)) != 0 || (ret = header_decode(header, h)) != 0) {
        sys->close(fd);
        /* A file too short to hold a header has no header to trust. */
        return ret == STORE_EBITROT ? STORE_ECORRUPT : ret;
    }
    *fd_out = fd;
    return 0;
}

/* Reads block b into dst and checks it against its stored checksum. */
static int read_block(int fd, const shard_header_t *h, uint64_t b, void *dst, size_t *blen_out)
{
    uint64_t start = b * h->block_len;
    size_t blen = (size_t)(h->data_len - start < h->block_len ? h->data_len - start : h->block_len);
    uint8_t csum[SHARD_CSUM_LEN] = {0};
    struct iovec iov[2] = {{.iov_base = dst, .iov_len = blen}, {.iov_base = csum, .iov_len = sizeof(csum)}};
    int ret;

    if ((ret = preadv_all(fd, iov, 2, block_file_off(h, b))) != 0)
        return ret;
    if (yc_get_le64(csum) != ec_block_checksum(dst, blen))
        return STORE_EBITROT;
    *blen_out = blen;
    return 0;
}

int store_shard_read(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off, size_t len,
                     void *buf)
{
    shard_header_t h;
    uint8_t *scratch = NULL;
    uint64_t end, b;
    int fd = -1, ret;

    if ((ret = shard_open(d, data_id, index, &fd, &h)) != 0)
        return ret;
    if (off > h.data_len || len > h.data_len - off) {
        ret = STORE_EINVAL;
        goto fail;
    }
    if (len == 0) /* nothing to read, and an empty shard has no block length to divide by */
        goto fail;
    end = off + len;
    for (b = off / h.block_len; b * h.block_len < end; b++) {
        uint64_t bstart = b * h.block_len;
        uint64_t bend = bstart + h.block_len < h.data_len ? bstart + h.block_len : h.data_len;
        size_t blen;
        if (bstart >= off && bend <= end) {
            /* A block wholly inside the range is read into the caller's buffer in place. */
            if ((ret = read_block(fd, &h, b, (uint8_t *)buf + (bstart - off), &blen)) != 0)
                goto fail;
        } else {
            uint64_t from = off > bstart ? off : bstart, to = end < bend ? end : bend;
            if (scratch == NULL && (scratch = malloc(h.block_len)) == NULL) {
                ret = -ENOMEM;
                goto fail;
            }
            if ((ret = read_block(fd, &h, b, scratch, &blen)) != 0)
                goto fail;
            memcpy((uint8_t *)buf + (from - off), scratch + (from - bstart), (size_t)(to - from));
        }
    }
    ret = 0;

fail:
    free(scratch);
    store_sys()->close(fd);
    return ret;
}

int store_shard_layout(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size,
                       uint32_t *block_len)
{
    shard_header_t h;
    int fd, ret;

    if ((ret = shard_open(d, data_id, index, &fd, &h)) != 0)
        return ret;
    store_sys()->close(fd);
    *size = h.data_len;
    *block_len = h.block_len;
    return 0;
}

int store_shard_stat(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size)
{
    uint32_t block_len;
    return store_shard_layout(d, data_id, index, size, &block_len);
}

int store_shard_delete(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    char path[PATH_MAX];
    int ret;

    if ((ret = store_shard_path(d, data_id, index, path)) != 0)
        return ret;
    if (store_sys()->unlink(path) != 0)
        return store_errno(errno);
    store_space_stale(d); /* the next write sees the room this made */
    return 0;
}

int store_shard_verify(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    shard_header_t h;
    uint8_t *scratch = NULL;
    struct stat st;
    uint64_t n;
    size_t blen;
    int fd = -1, ret;

    if ((ret = shard_open(d, data_id, index, &fd, &h)) != 0)
        return ret;
    n = block_count(&h);
    if (store_sys()->fstat(fd, &st) != 0) {
        ret = store_errno(errno);
        goto fail;
    }
    /* Bytes missing or trailing the last checksum mean the file is not what was committed. */
    if ((uint64_t)st.st_size != SHARD_HEADER_LEN + h.data_len + n * SHARD_CSUM_LEN) {
        ret = STORE_EBITROT;
        goto fail;
    }
    if (h.block_len != 0 && (scratch = malloc(h.block_len)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    for (uint64_t b = 0; b < n; b++) {
        if ((ret = read_block(fd, &h, b, scratch, &blen)) != 0)
            goto fail;
    }
    ret = 0;

fail:
    free(scratch);
    store_sys()->close(fd);
    return ret;
}
