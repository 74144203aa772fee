/* id.h — random 16-byte ids: data ids, upload ids, drive ids, lock owners.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_ID_H
#define YC_COMMON_ID_H
#include <stdint.h>

#define YC_ID_LEN 16

/* Fills id with random bytes from OpenSSL's DRBG. Should that fail, the id is made of the time
 * and an address, still unique enough for a data id, and the failure is logged. */
void yc_random_id(uint8_t id[YC_ID_LEN]);

#endif
