/* error.h — S3 error codes: the Code string, HTTP status and default Message of each, and the
 * XML error document S3 returns.
 *
 * Every function of the s3 library returns 0 on success or the negation of an s3_error_t
 * (-S3_ERR_MALFORMED_XML, ...), so a failure maps to its S3 answer with s3_error_info(-ret).
 * S3_OK is 0 and every code is positive, so the two never collide.
 *
 * Why these small negative values stay outside the error space of common/errors.h (which
 * reserves the s3 block, -1400 .. -1499, unused), although they overlap -errno: they are not
 * failures passed from layer to layer but the S3 answer itself, decided by a parser of client
 * input. The library uses no module but common's byte helpers and returns nothing else (never
 * -errno: running out of memory is a status of its own, such as S3_AUTH_NOMEM, or h2o's pool
 * aborting), and its caller, a gateway handler, turns the value into the answer on the spot
 * with s3_error_from_ret(), never passing it up, down or to gw_set_store_error. The same holds
 * for the library's status enums of one call each (S3_AUTH_* of sigv4.h, S3_CHUNKED_* of
 * chunked.h, S3_CHECKSUM_* of checksum.h), which their one caller switches on. Codes of the
 * error space, going the other way, are answered through the gateway's table
 * (gateway/gw_error.h); s3_error_from_ret() reads any of them as InternalError.
 */
#ifndef YC_S3_ERROR_H
#define YC_S3_ERROR_H
#include <stddef.h>
#include <h2o.h>

typedef enum {
    S3_OK = 0,
    S3_ERR_ACCESS_DENIED,
    S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED,
    S3_ERR_ACCESS_FORBIDDEN, /* a CORS preflight refused (403), not in S3's table but what it sends */
    S3_ERR_ACCOUNT_PROBLEM,
    S3_ERR_ALL_ACCESS_DISABLED,
    S3_ERR_AUTHORIZATION_HEADER_MALFORMED,
    S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR,
    S3_ERR_BAD_DIGEST,
    S3_ERR_BAD_REQUEST,
    S3_ERR_BUCKET_ALREADY_EXISTS,
    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU,
    S3_ERR_BUCKET_NOT_EMPTY,
    S3_ERR_CONDITIONAL_REQUEST_CONFLICT,
    S3_ERR_ENTITY_TOO_LARGE,
    S3_ERR_ENTITY_TOO_SMALL,
    S3_ERR_EXPIRED_TOKEN,
    S3_ERR_ILLEGAL_LOCATION_CONSTRAINT_EXCEPTION,
    S3_ERR_ILLEGAL_VERSIONING_CONFIGURATION_EXCEPTION,
    S3_ERR_INCOMPLETE_BODY,
    S3_ERR_INCORRECT_NUMBER_OF_FILES_IN_POST_REQUEST,
    S3_ERR_INTERNAL_ERROR,
    S3_ERR_INVALID_ACCESS_KEY_ID,
    S3_ERR_INVALID_ARGUMENT,
    S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP,
    S3_ERR_INVALID_BUCKET_NAME,
    S3_ERR_INVALID_BUCKET_STATE,
    S3_ERR_INVALID_CHUNK_SIZE_ERROR,
    S3_ERR_INVALID_DIGEST,
    S3_ERR_INVALID_ENCRYPTION_ALGORITHM_ERROR,
    S3_ERR_INVALID_LOCATION_CONSTRAINT,
    S3_ERR_INVALID_OBJECT_STATE,
    S3_ERR_INVALID_PART,
    S3_ERR_INVALID_PART_NUMBER,
    S3_ERR_INVALID_PART_ORDER,
    S3_ERR_INVALID_POLICY_DOCUMENT,
    S3_ERR_INVALID_RANGE,
    S3_ERR_INVALID_REQUEST,
    S3_ERR_INVALID_SECURITY,
    S3_ERR_INVALID_STORAGE_CLASS,
    S3_ERR_INVALID_TAG,
    S3_ERR_INVALID_TARGET_BUCKET_FOR_LOGGING,
    S3_ERR_INVALID_TOKEN,
    S3_ERR_INVALID_URI,
    S3_ERR_KEY_TOO_LONG_ERROR,
    S3_ERR_KMS_NOT_FOUND, /* KMS.NotFoundException: an aws:kms key id the key service does not hold */
    S3_ERR_MALFORMED_ACL_ERROR,
    S3_ERR_MALFORMED_POLICY,
    S3_ERR_MALFORMED_POST_REQUEST,
    S3_ERR_MALFORMED_XML,
    S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED,
    S3_ERR_MAX_POST_PRE_DATA_LENGTH_EXCEEDED,
    S3_ERR_METADATA_TOO_LARGE,
    S3_ERR_METHOD_NOT_ALLOWED,
    S3_ERR_MISSING_CONTENT_LENGTH,
    S3_ERR_MISSING_REQUEST_BODY_ERROR,
    S3_ERR_MISSING_SECURITY_HEADER,
    S3_ERR_NO_SUCH_BUCKET,
    S3_ERR_NO_SUCH_BUCKET_POLICY,
    S3_ERR_NO_SUCH_CORS_CONFIGURATION,
    S3_ERR_NO_SUCH_KEY,
    S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION,
    S3_ERR_NO_SUCH_OBJECT_LOCK_CONFIGURATION,
    S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION,
    S3_ERR_NO_SUCH_TAG_SET,
    S3_ERR_NO_SUCH_UPLOAD,
    S3_ERR_NO_SUCH_VERSION,
    S3_ERR_NOT_IMPLEMENTED,
    S3_ERR_NOT_MODIFIED,
    S3_ERR_OBJECT_LOCK_CONFIGURATION_NOT_FOUND_ERROR,
    S3_ERR_OPERATION_ABORTED,
    S3_ERR_OWNERSHIP_CONTROLS_NOT_FOUND_ERROR,
    S3_ERR_PRECONDITION_FAILED,
    S3_ERR_QUOTA_EXCEEDED, /* ours: the write would pass its bucket's or its owner's quota (403) */
    S3_ERR_REQUEST_TIME_TOO_SKEWED,
    S3_ERR_REQUEST_TIMEOUT,
    S3_ERR_SERVER_SIDE_ENCRYPTION_CONFIGURATION_NOT_FOUND_ERROR,
    S3_ERR_SERVICE_UNAVAILABLE,
    S3_ERR_SIGNATURE_DOES_NOT_MATCH,
    S3_ERR_SLOW_DOWN,
    S3_ERR_STORAGE_FULL, /* ours: no write quorum of drives with free space (507, not retried) */
    S3_ERR_TOO_MANY_BUCKETS,
    S3_ERR_UNEXPECTED_CONTENT,
    S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS,
    S3_ERR_USER_KEY_MUST_BE_SPECIFIED,
    S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH,
    S3_ERR__COUNT /* number of codes, not an error */
} s3_error_t;

typedef struct {
    const char *code;    /* the <Code> string, e.g. "NoSuchKey" */
    int status;          /* HTTP status, e.g. 404 */
    const char *message; /* default <Message> */
} s3_error_info_t;

/* Optional extra element of the error document, e.g. {"Key", key} or {"BucketName", name}. */
typedef struct {
    const char *name;  /* element name: a literal of the caller, written as is */
    h2o_iovec_t value; /* escaped when written */
} s3_error_field_t;

/* An S3 answer as a parser of a document or header decides it: the code, the message when S3
 * sends one of its own rather than the code's default, and the extra elements S3 puts in the
 * error document (TagKey and TagValue for InvalidTag, ArgumentName and ArgumentValue for
 * InvalidArgument, Method and ResourceType for a refused CORS preflight). Values are borrowed:
 * literals, or memory from the pool the parser was given. A caller that does not want the detail
 * passes NULL wherever a function takes one. */
#define S3_ERROR_DETAIL_FIELDS 2
typedef struct {
    s3_error_t err;                                  /* S3_OK until something is refused */
    h2o_iovec_t message;                             /* base NULL: the code's default message */
    s3_error_field_t fields[S3_ERROR_DETAIL_FIELDS]; /* the first nfields are set */
    size_t nfields;
} s3_error_detail_t;

/* Records err with message (NULL for the code's default) in d, when d is not NULL, dropping any
 * fields recorded before; returns -err, so that a parser can `return s3_error_detail_set(...)`. */
int s3_error_detail_set(s3_error_detail_t *d, s3_error_t err, const char *message);
/* Same with a message of pointer and length (memory from a pool, or a literal). */
int s3_error_detail_set_iov(s3_error_detail_t *d, s3_error_t err, h2o_iovec_t message);
/* Adds the element <name>value</name> to d's error document (nothing once S3_ERROR_DETAIL_FIELDS
 * are set, or when d is NULL). name is a literal; value is borrowed. */
void s3_error_detail_field(s3_error_detail_t *d, const char *name, h2o_iovec_t value);

/* The table entry of err. An out-of-range value (including S3_OK) gives InternalError's entry, so
 * the result is never NULL. */
const s3_error_info_t *s3_error_info(s3_error_t err);

/* Maps a library return code (0 or -s3_error_t) to the error to answer with: negative values
 * that are not s3 codes (e.g. -errno) become S3_ERR_INTERNAL_ERROR, 0 stays S3_OK. */
s3_error_t s3_error_from_ret(int ret);

/* Looks a Code string up (exact, case-sensitive); S3_OK when unknown. */
s3_error_t s3_error_from_code(h2o_iovec_t code);

/* Writes the error document of err into memory from pool and returns it in *out:
 *   <?xml ...?><Error><Code/><Message/>[extra fields]<Resource/><RequestId/><HostId/></Error>
 * message.base NULL means the default message; resource, request_id and host_id are omitted when
 * their base is NULL. Every value is XML-escaped. Never fails (pool allocation aborts on OOM). */
void s3_error_xml(h2o_mem_pool_t *pool, s3_error_t err, h2o_iovec_t message, h2o_iovec_t resource,
                  h2o_iovec_t request_id, h2o_iovec_t host_id, const s3_error_field_t *fields, size_t nfields,
                  h2o_iovec_t *out);

#endif
