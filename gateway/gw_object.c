/* gw_object.c — the object engine's small shared pieces: fresh ids and the wall clock. The write,
 * read and repair paths live in gw_object_write.c, gw_object_read.c and gw_object_repair.c
 * (see gw_object.h). */
#include "gateway/gw_object.h"
#include "common/log.h"
#include <openssl/rand.h>
#include <string.h>
#include <time.h>
