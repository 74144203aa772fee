/* gw_object.c — the object engine's small shared pieces: fresh ids and the wall clock. The write,
 * read and repair paths live in gw_object_write.c, gw_object_read.c and gw_object_repair.c
 * (see gw_object.h). */
#include "gateway/gw_object.h"
#include "gateway/gw_log.h"
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

void gw_random_id(uint8_t id[META_ID_LEN])
{
    if (RAND_bytes(id, META_ID_LEN) != 1) {
        /* OpenSSL's DRBG failing means the process cannot be trusted to make ids: fall back to
         * time and address bits, still unique enough for a data id, and say so */
        int64_t t = gw_now_ns();
        memcpy(id, &t, 8);
        uintptr_t p = (uintptr_t)id;
        memcpy(id + 8, &p, sizeof(p) < 8 ? sizeof(p) : 8);
        gw_log(GW_LOG_ERROR, "event=rand_bytes_failed");
    }
}

int64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
