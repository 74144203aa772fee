/* bigbuf.h — large buffers (over 128 KiB, up to 8 MiB) kept for reuse, within a bound.
 *
 * A GET decodes its stripes into buffers of a stripe or more. Allocated with malloc, each is a
 * fresh mapping (gw_server.c sets glibc's mmap threshold to 256 KiB, so that a peak of them goes
 * back to the system): every use then pays a page fault and the kernel's zeroing per 4 KiB page,
 * and an unmap at the end. At 64 connections of 4 MiB GETs that was a quarter of the gateway's
 * CPU. Buffers given back here are kept, by size class (powers of two), up to YC_BIGBUF_KEPT_MAX
 * bytes in all, and handed out again already mapped; past the bound they are freed as before, so
 * the process's memory still follows what its requests hold.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_BIGBUF_H
#define YC_COMMON_BIGBUF_H
#include <stddef.h>

/* bytes of free buffers kept at most, all classes together */
#define YC_BIGBUF_KEPT_MAX ((size_t)32 << 20)

/* A buffer of at least len bytes, 64-byte aligned (NULL when out of memory), to give back with
 * yc_bigbuf_free. Any len works; those over 128 KiB and up to 8 MiB are kept for reuse, in
 * buffers of the next power of two. */
void *yc_bigbuf_alloc(size_t len);
/* Gives back a buffer of yc_bigbuf_alloc (NULL: nothing). */
void yc_bigbuf_free(void *p);
/* Bytes of free buffers kept now (for tests and metrics). */
size_t yc_bigbuf_kept(void);

#endif
