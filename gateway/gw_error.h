/* gw_error.h — the one table from an error code to the S3 answer: every code of common/errors.h
 * (and -errno) is answered with one S3 error and HTTP status, whichever handler meets it.
 *
 * What the codes mean for a client:
 *   not found (GW_ENOENT, STORE_ENOENT, META_ENOENT)       404 NoSuchKey; handlers that mean a
 *                                                         bucket or an upload check first
 *   drives missing (GW_EQUORUM, STORE_EUNREACHABLE,       503 ServiceUnavailable: the request may
 *   EC_ETOOFEW)                                           succeed once drives are back
 *   drives full (GW_ENOSPC, STORE_ENOSPC, META_ENOSPC,    507 StorageFull: nothing is written
 *   -ENOSPC)                                              until space is freed; not retried
 *   lock held (GW_EBUSY, STORE_EBUSY)                     409 OperationAborted
 *   anything else, damaged data and records included      500 InternalError, logged
 * A unit test walks every code of common/errors.h through this table.
 */
#ifndef YC_GW_ERROR_H
#define YC_GW_ERROR_H
#include "gateway/s3/error.h"

/* The S3 error that answers code (S3_OK for 0); *message (may be NULL) gets the message to send
 * with it, NULL for the error's default. Returns 1 when code has a row of its own, 0 when it
 * took a default: InternalError for a code that is not listed and for -errno but -ENOSPC. */
int gw_error_lookup(int code, s3_error_t *err, const char **message);

/* The S3 error that answers code (gw_error_lookup without the details). */
s3_error_t gw_error_s3(int code);

/* 1 with the code of row i (0, 1, ...) of the table in *code, 0 past the end. */
int gw_error_row(unsigned i, int *code);

#endif
