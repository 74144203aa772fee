/* objectlock.h — Object Lock (write once, read many): the bucket's ObjectLockConfiguration, a
 * version's Retention and LegalHold, the x-amz-object-lock-* headers of a write, and the
 * decisions the handlers make from them.
 *
 * Documents and their answers (S3's, as recorded):
 *   - ObjectLockConfiguration: ObjectLockEnabled must be "Enabled"; an optional Rule holds one
 *     DefaultRetention with a Mode (GOVERNANCE | COMPLIANCE) and exactly one of Days and Years.
 *     Anything else about its shape is MalformedXML (no ObjectLockEnabled, an empty Rule or
 *     DefaultRetention, a mode without a period, Days with Years, an unknown mode). Days or Years
 *     not positive: 400 InvalidArgument "Default retention period must be a positive integer
 *     value." (ArgumentName Days or Years); over 36500 days or 100 years: "Default retention
 *     period too large." A configuration without Rule removes the default retention.
 *   - Retention: Mode and RetainUntilDate together (one alone is MalformedXML), or neither,
 *     which asks to remove the retention (allowed only where shortening is). A date not in the
 *     future: 400 InvalidArgument "The retain until date must be in the future!" (ArgumentName
 *     RetainUntilDate).
 *   - LegalHold: Status ON | OFF, else MalformedXML.
 * The headers of PutObject, CopyObject and CreateMultipartUpload, checked together before the
 * bucket is looked at, each fault 400 InvalidArgument with ArgumentName (and ArgumentValue):
 *   - a mode without a date or the reverse: "x-amz-object-lock-retain-until-date and
 *     x-amz-object-lock-mode must both be supplied" (ArgumentName the missing one);
 *   - a mode other than GOVERNANCE | COMPLIANCE: "Unknown wormMode directive.";
 *   - a date that is not ISO 8601: "The retain until date must be provided in ISO 8601 format";
 *     one not in the future: "The retain until date must be in the future!";
 *   - a legal hold other than ON | OFF: "Legal Hold must be either of 'ON' or 'OFF'".
 *
 * The rules the decisions apply (S3's user guide):
 *   - a version under a legal hold, or under a retention whose date has not passed, may not be
 *     deleted or overwritten (a permanent DELETE with its version id): 403 AccessDenied "Access
 *     Denied because object protected by object lock."; a simple DELETE, which adds a delete
 *     marker, is always allowed (delete markers are not protected), and is the caller's to tell;
 *   - GOVERNANCE gives way to a request carrying x-amz-bypass-governance-retention: true from a
 *     user holding s3:BypassGovernanceRetention; COMPLIANCE gives way to no one;
 *   - a retention in force may be extended (same mode, a date no earlier) by anyone allowed to
 *     set retention; shortened, removed or changed in mode only in GOVERNANCE, with the bypass;
 *     never in COMPLIANCE; a retention whose date has passed protects nothing and may be replaced;
 *   - a legal hold is independent of retention: the bypass does not lift it.
 * Default retention: a new version gets the bucket's default mode, until its creation time plus
 * the period; a year counts 365 days, which is how AWS says it counts a year of an event hold's
 * duration, the one place its Object Lock pages say how a year is counted.
 *
 * The caller's: 400 InvalidRequest "Bucket is missing Object Lock Configuration" for lock
 * operations on a bucket without Object Lock; 409 InvalidBucketState for a configuration on a
 * bucket whose versioning is not Enabled; the Content-MD5 or checksum that writes with lock
 * parameters need; 404 NoSuchObjectLockConfiguration when a version has no lock.
 */
#ifndef YC_S3_OBJECTLOCK_H
#define YC_S3_OBJECTLOCK_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_OBJECTLOCK_MAX_BODY  (16 * 1024)
#define S3_OBJECTLOCK_MAX_NODE  64
#define S3_OBJECTLOCK_MAX_DAYS  36500
#define S3_OBJECTLOCK_MAX_YEARS 100

typedef enum { S3_LOCK_NONE = 0, S3_LOCK_GOVERNANCE, S3_LOCK_COMPLIANCE } s3_lock_mode_t;
typedef enum { S3_LEGAL_HOLD_UNSET = 0, S3_LEGAL_HOLD_OFF, S3_LEGAL_HOLD_ON } s3_legal_hold_t;

/* A bucket's configuration (Object Lock enabled). mode NONE: no default retention; otherwise
 * exactly one of days and years is set. */
typedef struct {
    s3_lock_mode_t mode;
    uint32_t days, years;
} s3_objectlock_config_t;

/* A version's retention; mode NONE: none (or, asked for, its removal). */
typedef struct {
    s3_lock_mode_t mode;
    int64_t retain_until_ns;
} s3_retention_t;

/* What protects a version. */
typedef struct {
    s3_retention_t retention;
    s3_legal_hold_t legal_hold;
} s3_lock_state_t;

/* Parses and checks an ObjectLockConfiguration document (PutObjectLockConfiguration). Returns 0,
 * -S3_ERR_MALFORMED_XML or -S3_ERR_INVALID_ARGUMENT, with why filled. */
int s3_objectlock_parse_config(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_objectlock_config_t *out,
                               s3_error_detail_t *why);
/* Writes the ObjectLockConfiguration document of cfg (GetObjectLockConfiguration). */
void s3_objectlock_write_config(s3_xml_writer_t *w, const s3_objectlock_config_t *cfg);
/* The retention cfg gives a version created at created_ns (mode NONE without a default). */
void s3_objectlock_default_retention(const s3_objectlock_config_t *cfg, int64_t created_ns, s3_retention_t *out);

/* Parses and checks a Retention document (PutObjectRetention) as of now_ns. Returns 0,
 * -S3_ERR_MALFORMED_XML or -S3_ERR_INVALID_ARGUMENT, with why filled (values of why borrow from
 * pool). */
int s3_objectlock_parse_retention(h2o_mem_pool_t *pool, h2o_iovec_t body, int64_t now_ns, s3_retention_t *out,
                                  s3_error_detail_t *why);
/* Writes the Retention document of r (GetObjectRetention); r->mode must not be NONE. */
void s3_objectlock_write_retention(s3_xml_writer_t *w, const s3_retention_t *r);

/* Parses a LegalHold document (PutObjectLegalHold). Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_objectlock_parse_legal_hold(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_legal_hold_t *out,
                                   s3_error_detail_t *why);
/* Writes the LegalHold document (GetObjectLegalHold); hold must not be UNSET. */
void s3_objectlock_write_legal_hold(s3_xml_writer_t *w, s3_legal_hold_t hold);

/* The x-amz-object-lock-* headers of a write; base NULL when absent. */
typedef struct {
    h2o_iovec_t mode;              /* x-amz-object-lock-mode */
    h2o_iovec_t retain_until_date; /* x-amz-object-lock-retain-until-date */
    h2o_iovec_t legal_hold;        /* x-amz-object-lock-legal-hold */
} s3_objectlock_headers_t;

/* Reads and checks the headers together as of now_ns: *retention gets the mode and date (mode
 * NONE when neither was sent), *hold the legal hold (UNSET when not sent). Returns 0 or
 * -S3_ERR_INVALID_ARGUMENT, with why filled. */
int s3_objectlock_parse_headers(const s3_objectlock_headers_t *h, int64_t now_ns, s3_retention_t *retention,
                                s3_legal_hold_t *hold, s3_error_detail_t *why);

/* 1 when an x-amz-bypass-governance-retention value asks for the bypass ("true", any case). */
int s3_objectlock_bypass_requested(h2o_iovec_t value);

/* May the version protected by st be deleted for good, or overwritten, as of now_ns? bypass: the
 * request asks for the governance bypass; may_bypass: its user holds
 * s3:BypassGovernanceRetention. Returns 0 or -S3_ERR_ACCESS_DENIED with why filled. */
int s3_objectlock_check_remove(const s3_lock_state_t *st, int64_t now_ns, int bypass, int may_bypass,
                               s3_error_detail_t *why);

/* May the retention cur of a version be replaced by next (mode NONE: removed) as of now_ns?
 * bypass and may_bypass as above. Returns 0 or -S3_ERR_ACCESS_DENIED with why filled. */
int s3_objectlock_check_retention_change(const s3_retention_t *cur, const s3_retention_t *next, int64_t now_ns,
                                         int bypass, int may_bypass, s3_error_detail_t *why);

/* The name S3 gives a mode: "GOVERNANCE" or "COMPLIANCE" ("" for NONE). */
const char *s3_lock_mode_name(s3_lock_mode_t mode);

#endif
