/* lifecycle.h — a bucket's lifecycle configuration: the LifecycleConfiguration document, its
 * checks, and what its rules do to an object version or a multipart upload on a given day.
 *
 * The document: 1..1000 Rule, each with one Status (Enabled | Disabled), an optional ID (at most
 * 255 characters, unique), what it applies to — a Filter (empty, or exactly one of Prefix, Tag,
 * ObjectSizeGreaterThan, ObjectSizeLessThan, or And of two or more of them) or, in configurations
 * written before filters existed ("Lifecycle V1"), the rule's own Prefix — and its actions:
 * Expiration (exactly one of Days, Date at midnight UTC, ExpiredObjectDeleteMarker),
 * NoncurrentVersionExpiration (NoncurrentDays, optional NewerNoncurrentVersions),
 * AbortIncompleteMultipartUpload (DaysAfterInitiation). A configuration is V2 when its first
 * rule has a Filter; rules of the other form are then refused.
 *
 * Checks and answers, the first fault answering, in S3's order: the document's shape
 * (MalformedXML: an element twice, a missing Status or value, a Filter of two predicates, an And
 * of one, an Expiration of none or two of its forms, a value that is no integer, date or
 * boolean, a rule with neither Filter nor Prefix); then the number of rules (InvalidRequest "At
 * least one lifecycle rule must be specified." / "The number of lifecycle rules must not exceed
 * the allowed limit of 1000 rules.", the error table's wording); the IDs (InvalidArgument "ID
 * length should not exceed allowed limit of 255", "Rule ID must be unique. Found same ID for more
 * than one rule"); then each rule:
 *   - V1/V2 mixed: InvalidRequest "Filter element can only be used in Lifecycle V2." or "Base
 *     level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.";
 *   - sizes: InvalidRequest "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000.",
 *     "'ObjectSizeLessThan' should be between 1 and 1099511627776000.", "'ObjectSizeLessThan' has
 *     to be a value greater than 'ObjectSizeGreaterThan'."; a tag key twice in an And:
 *     InvalidRequest "Duplicate Tag Keys are not allowed.";
 *   - no action: InvalidRequest "At least one action needs to be specified in a rule";
 *   - InvalidArgument "'Days' for Expiration action must be a positive integer", "'Date' must be
 *     at midnight GMT", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a
 *     positive integer", "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must
 *     be a positive integer", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action
 *     must be a positive integer"; NewerNoncurrentVersions in V1: InvalidRequest
 *     "NewerNoncurrentVersions element can only be used in Lifecycle V2.";
 *   - InvalidRequest "ExpiredObjectDeleteMarker cannot be specified with Tags." / "... with Object
 *     Size.", "AbortIncompleteMultipartUpload cannot be specified with Tags." / "... with Object
 *     Size.";
 * then, in V1, rules whose prefixes overlap taking the same kind of action: InvalidRequest "Found
 * overlapping prefixes 'a' and 'ab' for same action type 'Expiration'". Last, Transition and
 * NoncurrentVersionTransition: this server has one storage class, so a rule that moves objects
 * between classes cannot be honoured; S3's closest answer to a request for functionality a
 * server lacks is 501 NotImplemented, and it is given after every check S3 makes, so that a
 * configuration S3 would refuse is refused as S3 refuses it. NewerNoncurrentVersions is
 * documented up to 100 but S3 accepted 500, so no maximum is enforced.
 *
 * When an action falls due (S3's rules): the number of days is added to the time counted from
 * (the version's creation for Expiration and the removal of expired delete markers, the creation
 * of its successor for NoncurrentVersionExpiration, the upload's initiation for
 * AbortIncompleteMultipartUpload) and the result rounded up to the next midnight UTC (a time
 * already at midnight stays); a Date falls due on that date, and stays due after it. Of several
 * enabled rules that apply, the one falling due first is honoured (the first listed on a tie).
 * What falls due:
 *   - a current version that is not a delete marker, under Expiration Days or Date: deleted in a
 *     bucket never versioned; in a versioned or suspended bucket expired as DeleteObject without
 *     a version id expires it (a delete marker on top; a null one when suspended);
 *   - a current delete marker with no other version of its key (an "expired object delete
 *     marker"): removed under ExpiredObjectDeleteMarker true (at the first midnight after its
 *     creation) or under Expiration Days (once it is that old); with other versions beneath it,
 *     nothing;
 *   - a noncurrent version (delete markers included) under NoncurrentVersionExpiration: deleted
 *     NoncurrentDays after it became noncurrent, and only when at least NewerNoncurrentVersions
 *     noncurrent versions of its key are newer (both must be exceeded);
 *   - an incomplete multipart upload whose key the rule's prefix covers, under
 *     AbortIncompleteMultipartUpload.
 * A rule's filter sees a delete marker as size 0 with no tags. Object Lock is the caller's to
 * apply: a version under retention or legal hold is not removed whatever the rules say.
 */
#ifndef YC_S3_LIFECYCLE_H
#define YC_S3_LIFECYCLE_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/tagging.h"
#include "gateway/s3/xml.h"

#define S3_LIFECYCLE_MAX_RULES 1000
#define S3_LIFECYCLE_MAX_BODY  (8 * 1024 * 1024)
#define S3_LIFECYCLE_MAX_NODE  (S3_LIFECYCLE_MAX_RULES * 64)
#define S3_LIFECYCLE_ID_MAX    255
#define S3_LIFECYCLE_SIZE_MAX  1099511627776000ULL /* S3's bound on the size predicates */
#define S3_LIFECYCLE_ID_LEN    48                  /* a generated ID: base64 of a UUID, as S3 makes them */

/* What a rule applies to. */
typedef enum {
    S3_LC_RULE_PREFIX = 0, /* the rule's own Prefix (V1) */
    S3_LC_FILTER_EMPTY,    /* <Filter/>: every object */
    S3_LC_FILTER_PREFIX,
    S3_LC_FILTER_TAG,
    S3_LC_FILTER_SIZE_GT,
    S3_LC_FILTER_SIZE_LT,
    S3_LC_FILTER_AND,
} s3_lifecycle_scope_t;

typedef enum { S3_LC_EXPIRE_NONE = 0, S3_LC_EXPIRE_DAYS, S3_LC_EXPIRE_DATE, S3_LC_EXPIRE_MARKER } s3_lifecycle_expire_t;

typedef struct {
    h2o_iovec_t id; /* base NULL when none was given (see s3_lifecycle_assign_ids) */
    int enabled;
    s3_lifecycle_scope_t scope;
    h2o_iovec_t prefix; /* base NULL when the filter names none; "" is a prefix that covers every key */
    s3_tag_t *tags;     /* one for FILTER_TAG, any number in an And */
    size_t ntags;
    int has_size_gt, has_size_lt;
    uint64_t size_gt, size_lt;
    /* Expiration */
    s3_lifecycle_expire_t expire;
    uint32_t expire_days;
    int64_t expire_date_ns;    /* a midnight UTC */
    int expired_delete_marker; /* the value of ExpiredObjectDeleteMarker */
    /* NoncurrentVersionExpiration */
    int has_noncurrent;
    uint32_t noncurrent_days;
    uint32_t newer_noncurrent; /* NewerNoncurrentVersions; 0 when absent */
    /* AbortIncompleteMultipartUpload */
    int has_abort;
    uint32_t abort_days;
} s3_lifecycle_rule_t;

typedef struct {
    s3_lifecycle_rule_t *rules; /* in document order */
    size_t count;
    /* The length of a day for due times (Days, NoncurrentDays, DaysAfterInitiation and the
     * midnight they round up to: a multiple of it since the epoch); 0: 86400 s. A gateway set up
     * to scale days down (tests) sets it after parsing; Dates stay the instants they name. */
    int64_t day_ns;
} s3_lifecycle_config_t;

/* Parses and checks a LifecycleConfiguration document (PutBucketLifecycleConfiguration) into
 * memory from pool. Returns 0, -S3_ERR_MALFORMED_XML, -S3_ERR_INVALID_REQUEST,
 * -S3_ERR_INVALID_ARGUMENT or -S3_ERR_NOT_IMPLEMENTED, with why filled. */
int s3_lifecycle_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_lifecycle_config_t *out, s3_error_detail_t *why);

/* Gives every rule without an ID one as S3 does (48 characters: the base64 of a random version 4
 * UUID), so that the configuration read back names each rule. Memory from pool. */
void s3_lifecycle_assign_ids(h2o_mem_pool_t *pool, s3_lifecycle_config_t *cfg);

/* Writes the LifecycleConfiguration document of cfg (GetBucketLifecycleConfiguration),
 * declaration and S3's namespace included; each rule as ID, Filter or Prefix, Status, then its
 * actions. What it writes parses back to cfg. */
void s3_lifecycle_write_xml(s3_xml_writer_t *w, const s3_lifecycle_config_t *cfg);

/* Whether the bucket keeps versions: a bucket never versioned has no delete markers and no
 * noncurrent versions, and its expired objects are deleted. */
typedef enum { S3_LC_UNVERSIONED = 0, S3_LC_VERSIONING_ENABLED, S3_LC_VERSIONING_SUSPENDED } s3_lifecycle_versioning_t;

/* The facts of one object version the rules look at. */
typedef struct {
    h2o_iovec_t key;
    uint64_t size;
    const s3_tagset_t *tags; /* NULL: no tags */
    int is_current;
    int is_delete_marker;
    int64_t mtime_ns;            /* when the version was created (its Last-Modified) */
    int64_t noncurrent_since_ns; /* noncurrent versions: when the version after it was created */
    uint32_t newer_noncurrent;   /* noncurrent versions: how many noncurrent versions of the key are newer */
    int only_version;            /* current delete markers: 1 when the key has no other version */
} s3_lifecycle_version_t;

typedef enum {
    S3_LC_ACTION_NONE = 0,
    S3_LC_ACTION_DELETE,               /* remove this version for good */
    S3_LC_ACTION_ADD_DELETE_MARKER,    /* expire the current version: a delete marker on top */
    S3_LC_ACTION_REMOVE_DELETE_MARKER, /* remove this expired object delete marker */
    S3_LC_ACTION_ABORT_UPLOAD,         /* abort this incomplete multipart upload */
} s3_lifecycle_action_t;

typedef struct {
    s3_lifecycle_action_t action;    /* what the rules do to it, once due; NONE when no rule applies */
    int64_t due_ns;                  /* when (a midnight UTC, or a Date); INT64_MAX when no rule applies */
    int due;                         /* 1 when due_ns <= now: the action is to be taken now */
    const s3_lifecycle_rule_t *rule; /* the rule that sets it; NULL when none */
} s3_lifecycle_decision_t;

/* What cfg's enabled rules do to version v of a bucket of the given versioning, as of now_ns. */
void s3_lifecycle_evaluate(const s3_lifecycle_config_t *cfg, const s3_lifecycle_version_t *v,
                           s3_lifecycle_versioning_t versioning, int64_t now_ns, s3_lifecycle_decision_t *out);

/* What cfg's enabled rules do to the incomplete multipart upload of key initiated at
 * initiated_ns, as of now_ns (action ABORT_UPLOAD or NONE). */
void s3_lifecycle_evaluate_upload(const s3_lifecycle_config_t *cfg, h2o_iovec_t key, int64_t initiated_ns,
                                  int64_t now_ns, s3_lifecycle_decision_t *out);

/* time + days, rounded up to the next midnight UTC (a midnight stays); INT64_MAX past what int64
 * nanoseconds hold. */
int64_t s3_lifecycle_due(int64_t time_ns, uint32_t days);
/* Same with days of day_ns (> 0): the "midnights" are the multiples of day_ns since the epoch. */
int64_t s3_lifecycle_due_scaled(int64_t time_ns, uint32_t days, int64_t day_ns);

/* Whether the object tags satisfy every Tag of rule r (its filter's Tag, or the Tags of its And):
 * each key present with exactly the value; other tags do not matter. tags NULL: an object without
 * tags, which a rule without Tags matches and a rule with any does not. The one place a rule's
 * tags meet an object's. */
int s3_lifecycle_tags_match(const s3_lifecycle_rule_t *r, const s3_tagset_t *tags);

/* The x-amz-expiration value for a version expiring at due_ns under rule_id:
 * expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", rule-id="rule id". The ID goes as it is (S3 sends
 * spaces as spaces) unless a header cannot carry it (controls, non-ASCII, '"', '\'), in which
 * case it is percent-encoded, as S3 documents. Memory from pool. */
h2o_iovec_t s3_lifecycle_expiration_header(h2o_mem_pool_t *pool, int64_t due_ns, h2o_iovec_t rule_id);

#endif
