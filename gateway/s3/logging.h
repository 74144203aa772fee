/* logging.h — server access logging's documents: the BucketLoggingStatus of Put/GetBucketLogging,
 * and the lines of the log objects (S3's server access log format).
 *
 *   <BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
 *     <LoggingEnabled>
 *       <TargetBucket>logs</TargetBucket> <TargetPrefix>photos/</TargetPrefix>
 *       [<TargetGrants>...</TargetGrants>] [<TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>]
 *     </LoggingEnabled>
 *   </BucketLoggingStatus>
 *
 * A document without LoggingEnabled, or with an empty one, turns logging off. TargetBucket is
 * required in LoggingEnabled; TargetPrefix may be empty or absent (""). The PartitionedPrefix key
 * format is not built, nor are TargetGrants, but for grants of FULL_CONTROL to canonical users,
 * which change nothing when the user is the target bucket's owner, who owns the log objects
 * anyway: their ids are returned for the caller to check. For the rest the parser says so (the
 * caller answers 501 NotImplemented) rather than storing a setting that would not be obeyed.
 */
#ifndef YC_S3_LOGGING_H
#define YC_S3_LOGGING_H
#include <h2o.h>
#include <stdint.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_LOGGING_MAX_BODY   (64 * 1024)
#define S3_LOGGING_MAX_NODE   256
#define S3_LOGGING_PREFIX_MAX 512 /* bytes of a TargetPrefix (a key prefix: S3 keys are at most 1024) */
#define S3_LOGGING_MAX_GRANTS 16

typedef struct {
    int enabled;
    h2o_iovec_t target_bucket, target_prefix; /* when enabled */
    size_t ngrants;                           /* TargetGrants: canonical user ids given FULL_CONTROL */
    h2o_iovec_t grant_ids[S3_LOGGING_MAX_GRANTS];
} s3_logging_config_t;

/* Parses a BucketLoggingStatus body. 0; -S3_ERR_MALFORMED_XML for a document that is not one (or a
 * TargetBucket that is missing or empty, a prefix too long, a Grant without Grantee or Permission);
 * -S3_ERR_NOT_IMPLEMENTED for a grant other than FULL_CONTROL to a canonical user, or a
 * PartitionedPrefix key format. Strings live in pool. */
int s3_logging_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_logging_config_t *out);

/* Writes cfg as GetBucketLogging answers it (an empty BucketLoggingStatus when it is off). */
void s3_logging_write_xml(s3_xml_writer_t *w, const s3_logging_config_t *cfg);

/* The stored form of a configuration: "TARGET\nPREFIX" (a bucket name holds no newline), and back.
 * Decoding: 0 or -S3_ERR_MALFORMED_XML; the results point into doc. */
h2o_iovec_t s3_logging_encode(h2o_mem_pool_t *pool, const s3_logging_config_t *cfg);
int s3_logging_decode(h2o_iovec_t doc, s3_logging_config_t *out);

/* One request as a server access log line tells it. Strings are borrowed; {NULL,0} is "-". */
typedef struct {
    h2o_iovec_t owner, bucket;
    int64_t time_ns;
    h2o_iovec_t remote_ip, requester, request_id;
    const char *operation; /* REST.GET.OBJECT, ... (s3_logging_operation) */
    h2o_iovec_t key;       /* URL-encoded in the line */
    h2o_iovec_t method, uri;
    int status;
    const char *error_code; /* NULL: "-" */
    uint64_t bytes_sent;    /* 0: "-" */
    uint64_t object_size;   /* 0: "-" */
    int64_t total_ms, turnaround_ms;
    h2o_iovec_t referer, user_agent, version_id, host_id;
    const char *signature_version; /* "SigV4", "SigV2", NULL: "-" */
    const char *cipher_suite;      /* NULL: "-" */
    const char *auth_type;         /* "AuthHeader", "QueryString", NULL: "-" */
    h2o_iovec_t host;
    const char *tls_version; /* NULL: "-" */
} s3_logging_line_t;

#define S3_LOGGING_LINE_MAX 8192 /* a line at most, '\n' included; long fields are cut */

/* Formats e as one line of S3's server access log format ('\n' included) into buf (at least
 * S3_LOGGING_LINE_MAX bytes); returns its length. Quoted fields never hold a '"' or a control
 * character (escaped as \xHH); bare fields never hold a space. */
size_t s3_logging_format_line(const s3_logging_line_t *e, char *buf);

#endif
