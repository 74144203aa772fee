/* id.c — random ids (see id.h). */
#include "common/id.h"
#include "common/clock.h"
#include "common/log.h"
#include <openssl/rand.h>
#include <string.h>

void yc_random_id(uint8_t id[YC_ID_LEN])
{
    if (RAND_bytes(id, YC_ID_LEN) != 1) {
        /* OpenSSL's DRBG failing means the process cannot be trusted to make ids: fall back to
         * time and address bits, still unique enough for a data id, and say so */
        int64_t t = yc_now_ns();
        memcpy(id, &t, 8);
        uintptr_t p = (uintptr_t)id;
        memcpy(id + 8, &p, sizeof(p) < 8 ? sizeof(p) : 8);
        yc_log(YC_LOG_ERROR, "event=rand_bytes_failed");
    }
}
