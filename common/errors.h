/* errors.h — one error space for every library: each code has one value, one name and one
 * meaning, whichever layer it reaches.
 *
 * Functions return 0 on success or a negative code. The negative range is cut into blocks, as
 * errno and libuv do, so that a code that crosses a layer (a meta code passed up by the store,
 * a store code sent over the network transport in x-yc-error, a gateway code in a handler) can
 * never be read as another one:
 *
 *   -1    .. -999    -errno, passed through as they are (-ENOMEM, -ENOSPC, ...)
 *   -1000 .. -1099   common      (none yet: its functions return -errno)
 *   -1100 .. -1199   erasure     EC_E*
 *   -1200 .. -1299   meta        META_E*
 *   -1300 .. -1399   store       STORE_E*
 *   -1400 .. -1499   s3          reserved, unused: the s3 protocol library returns the negation
 *                                of the S3 answer itself (-S3_ERR_*, small values), see
 *                                gateway/s3/error.h for why those never mix with these
 *   -1500 .. -1599   gateway     GW_E*
 *
 * A code keeps its offset inside its block (META_ENOSPC is the meta block's 6th code), so the
 * blocks only ever grow at their end. Every code is listed once, below, with its name and a short
 * text: yc_strerror() gives both, for logs (err=STORE_ENOSPC) and messages. How each code is
 * answered to an S3 client is the gateway's table (gateway/gw_error.h), checked against this
 * list by a unit test.
 *
 * The lists are here rather than in each module's header because the names must be known to
 * yc_strerror in this library, which may use no other; every module header includes this one, so
 * the names read as the module's own (META_ENOENT from meta/meta.h).
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_ERRORS_H
#define YC_COMMON_ERRORS_H

#define YC_ERRNO_MIN  (-999) /* -errno values lie in [YC_ERRNO_MIN, -1] */
#define YC_ERR_COMMON (-1000)
#define YC_ERR_EC     (-1100)
#define YC_ERR_META   (-1200)
#define YC_ERR_STORE  (-1300)
#define YC_ERR_S3     (-1400)
#define YC_ERR_GW     (-1500)
#define YC_ERR_BLOCK  100 /* codes per block */
#define YC_ERR_MIN    (YC_ERR_GW - YC_ERR_BLOCK + 1)

/* X(name, value, text) for every code, block by block. */
#define YC_ERRORS_EC(X)                                                                                                \
    X(EC_EINVAL, YC_ERR_EC - 1, "bad erasure geometry or arguments")                                                   \
    X(EC_ETOOFEW, YC_ERR_EC - 2, "fewer than k shards available: the stripe cannot be decoded")                        \
    X(EC_ENOMEM, YC_ERR_EC - 3, "out of memory in the erasure codec")

#define YC_ERRORS_META(X)                                                                                              \
    X(META_ENOENT, YC_ERR_META - 1, "no such record")                                                                  \
    X(META_ECORRUPT, YC_ERR_META - 2, "a record is damaged: checksum, magic, version or a length is wrong")            \
    X(META_ENOMEM, YC_ERR_META - 3, "out of memory in the metadata store")                                             \
    X(META_EIO, YC_ERR_META - 4, "RocksDB reported an error")                                                          \
    X(META_ERANGE, YC_ERR_META - 5, "a field is too long to encode, or an output buffer is too small")                 \
    X(META_ENOSPC, YC_ERR_META - 6, "the drive is full: RocksDB could not write, or is open read-only for it")

#define YC_ERRORS_STORE(X)                                                                                             \
    X(STORE_ENOENT, YC_ERR_STORE - 1, "no such record or shard")                                                       \
    X(STORE_EBITROT, YC_ERR_STORE - 2, "a block's checksum does not match: the shard is damaged")                      \
    X(STORE_ENOSPC, YC_ERR_STORE - 3, "no space left on the drive")                                                    \
    X(STORE_EIO, YC_ERR_STORE - 4, "an I/O or RocksDB failure on the drive")                                           \
    X(STORE_ECORRUPT, YC_ERR_STORE - 5, "a record or shard header cannot be decoded")                                  \
    X(STORE_EINVAL, YC_ERR_STORE - 6, "bad arguments to the drive")                                                    \
    X(STORE_EUNREACHABLE, YC_ERR_STORE - 7, "the drive's daemon could not be reached: nothing was sent")               \
    X(STORE_EAUTH, YC_ERR_STORE - 8, "the drive's daemon rejected the request's credentials")                          \
    X(STORE_ESTALE, YC_ERR_STORE - 9, "a newer null version is already stored: this put was absorbed")                 \
    X(STORE_EBUSY, YC_ERR_STORE - 10, "a namespace lock is held by another owner")                                     \
    X(STORE_EFOREIGN, YC_ERR_STORE - 20, "the folder holds files that are not a yuncang drive's")                      \
    X(STORE_ESECRET, YC_ERR_STORE - 21, "the drive was first served with another cluster secret")                      \
    X(STORE_EIDENTITY, YC_ERR_STORE - 22, "the drive is placed elsewhere: another cluster, set or slot")               \
    X(STORE_EINUSE, YC_ERR_STORE - 23, "another process has the drive open")                                           \
    X(STORE_EFORMAT, YC_ERR_STORE - 24,                                                                                \
      "the drive's metadata is in a format this build cannot read: open it with the release that wrote it")

#define YC_ERRORS_GW(X)                                                                                                \
    X(GW_ENOENT, YC_ERR_GW - 1, "no visible version")                                                                  \
    X(GW_EQUORUM, YC_ERR_GW - 2, "too few drives answered or agreed")                                                  \
    X(GW_EIO, YC_ERR_GW - 3, "data or a record could not be read back, even with parity")                              \
    X(GW_ENOMEM, YC_ERR_GW - 4, "out of memory in the gateway")                                                        \
    X(GW_EINVAL, YC_ERR_GW - 5, "bad arguments in the gateway")                                                        \
    X(GW_EBUSY, YC_ERR_GW - 6, "a namespace lock stayed held by someone else")                                         \
    X(GW_ENOSPC, YC_ERR_GW - 7, "too many drives are full for a write quorum")                                         \
    X(GW_ESLOWDOWN, YC_ERR_GW - 8, "too many requests: shed by admission control")                                     \
    X(GW_ELOCKED, YC_ERR_GW - 20, "the version is protected by object lock")                                           \
    X(GW_ESEALED, YC_ERR_GW - 21, "an encrypted block does not open: its bytes were changed, moved or cut")

#define YC_ERRORS(X) YC_ERRORS_EC(X) YC_ERRORS_META(X) YC_ERRORS_STORE(X) YC_ERRORS_GW(X)

#define YC_ERROR_ENUM_(name, value, text) name = (value),
enum yc_error { YC_ERRORS(YC_ERROR_ENUM_) };
#undef YC_ERROR_ENUM_

/* "NAME: text" of code, a string that lives forever: "STORE_ENOSPC: no space left on the drive",
 * "ENOSPC: No space left on device" for -errno, "OK: success" for 0, and for a value that is no
 * code "UNKNOWN: not an error code". */
const char *yc_strerror(int code);

/* The name alone ("STORE_ENOSPC", "ENOMEM", "OK", "UNKNOWN"), for key=value fields. */
const char *yc_errname(int code);

/* 1 with the listed code at index i (0, 1, ...) in *code, 0 past the end: for walking the whole
 * space (tests, tables checked against it). */
int yc_error_at(unsigned i, int *code);

#endif
