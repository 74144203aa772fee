/* version_id.h — the text of an object version id, as clients send it back.
 *
 * A version id is 16 bytes (the gateway makes them: gw_handlers.h); its text is 32 lowercase hex
 * digits, and the null version's is "null". The null version is only ever named "null": 32 zero
 * digits name no version. Pure functions over client bytes (fuzzed: tests/fuzz/fuzz_version_id.c).
 */
#ifndef YC_S3_VERSION_ID_H
#define YC_S3_VERSION_ID_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

#define S3_VERSION_ID_LEN      16
#define S3_VERSION_ID_TEXT_MAX 33 /* 32 hex digits, or "null", and a NUL */

/* Parses text into vid (all zero for "null"). Returns 0, or -1 when the text names no version
 * this server can have made (vid is then unspecified). */
int s3_version_id_parse(h2o_iovec_t text, uint8_t vid[S3_VERSION_ID_LEN]);

/* Writes the text of vid into out, NUL-terminated: "null" for the all-zero id. Returns its length. */
size_t s3_version_id_format(const uint8_t vid[S3_VERSION_ID_LEN], char out[S3_VERSION_ID_TEXT_MAX]);

/* 1 for the null version's id (all zero). */
int s3_version_id_is_null(const uint8_t vid[S3_VERSION_ID_LEN]);

#endif
