/* bigbuf.c — large buffers kept for reuse (see bigbuf.h).
 *
 * Each buffer carries a header of one cache line in front of what the caller sees: its size
 * class (or none, for a size that is not kept) and, while free, the link of its class's list.
 * The lists are LIFO, so the buffer handed out is the one most recently used, the likeliest to
 * be in the CPU's caches still. One mutex: a GET takes and gives back a few buffers, each worth
 * a millisecond of work or more, so the lock is never contended for long.
 */
#include "common/bigbuf.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define HEADER         64
#define CLASS_MIN      18 /* 256 KiB */
#define CLASS_MAX      23 /* 8 MiB */
#define NCLASSES       (CLASS_MAX - CLASS_MIN + 1)
#define CLASS_NOT_KEPT 0xff

typedef struct header {
    struct header *next; /* in its class's free list */
    uint32_t cls;        /* CLASS_MIN.., or CLASS_NOT_KEPT */
} header_t;

_Static_assert(sizeof(header_t) <= HEADER, "the header fits its cache line");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static header_t *free_list[NCLASSES];
static size_t kept;

/* The class of len: the smallest power of two >= len, CLASS_NOT_KEPT outside the kept range. */
static uint32_t class_of(size_t len)
{
    uint32_t c = CLASS_MIN;

    if (len > ((size_t)1 << CLASS_MAX) || len < ((size_t)1 << (CLASS_MIN - 1)))
        return CLASS_NOT_KEPT;
    while (((size_t)1 << c) < len)
        c++;
    return c;
}

void *yc_bigbuf_alloc(size_t len)
{
    uint32_t cls = class_of(len);
    header_t *h = NULL;

    if (cls != CLASS_NOT_KEPT) {
        pthread_mutex_lock(&lock);
        if ((h = free_list[cls - CLASS_MIN]) != NULL) {
            free_list[cls - CLASS_MIN] = h->next;
            kept -= (size_t)1 << cls;
        }
        pthread_mutex_unlock(&lock);
        len = (size_t)1 << cls;
    }
    if (h == NULL) {
        if (len > SIZE_MAX - HEADER || posix_memalign((void **)&h, HEADER, HEADER + len) != 0)
            return NULL;
        h->cls = cls;
    }
    h->next = NULL;
    return (uint8_t *)h + HEADER;
}

void yc_bigbuf_free(void *p)
{
    header_t *h;

    if (p == NULL)
        return;
    h = (header_t *)((uint8_t *)p - HEADER);
    if (h->cls != CLASS_NOT_KEPT) {
        size_t len = (size_t)1 << h->cls;
        pthread_mutex_lock(&lock);
        if (kept + len <= YC_BIGBUF_KEPT_MAX) {
            h->next = free_list[h->cls - CLASS_MIN];
            free_list[h->cls - CLASS_MIN] = h;
            kept += len;
            h = NULL;
        }
        pthread_mutex_unlock(&lock);
    }
    free(h);
}

size_t yc_bigbuf_kept(void)
{
    size_t n;

    pthread_mutex_lock(&lock);
    n = kept;
    pthread_mutex_unlock(&lock);
    return n;
}
