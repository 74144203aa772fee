/* xml.h — S3 XML: a writer for response documents and parsers for request bodies.
 *
 * Writer: appends to one contiguous buffer grown from an h2o_mem_pool_t (each growth doubles and
 * leaves the old block to the pool, so a document costs at most about twice its size until the
 * pool is cleared). Writer calls cannot fail: pool allocation aborts the process on OOM, as
 * everywhere in h2o. Element names are literals of the caller and are written as given; text is
 * escaped: & < > " ' as entities, and bytes XML cannot carry literally (controls other than TAB
 * and LF, and CR, which parsers would turn into LF) as &#xN; character references, which is what
 * S3 sends for keys holding them; clients that need those keys ask for encoding-type=url.
 *
 * Parsers: libexpat with namespaces resolved to local names (the S3 namespace
 * "http://s3.amazonaws.com/doc/2006-03-01/" is optional), any DOCTYPE or entity declaration
 * refused, a body size cap, a depth cap and a cap on each text value. Unknown elements are
 * skipped, so newer SDK fields do not break older servers. Results live in the pool. Every
 * failure (malformed, wrong root, missing required element, bad value, too large) returns
 * -S3_ERR_MALFORMED_XML.
 *
 * Element trees: documents whose checks S3 makes in an order of its own (the bucket
 * configurations: tagging, CORS, lifecycle, object lock) are read whole into a small tree first,
 * with the same refusals and caps plus a cap on the number of elements, and then checked by
 * walking it, so that the first fault S3 would report is the one reported. The value readers
 * below (integers, booleans, ISO 8601 times) read an element's text as XML Schema does.
 */
#ifndef YC_S3_XML_H
#define YC_S3_XML_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"

#define S3_XML_NS         "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_TIME_LEN   24                /* "2009-10-12T17:50:30.000Z" */
#define S3_XML_MAX_BODY   (8 * 1024 * 1024) /* cap of a request body given to a parser */
#define S3_XML_MAX_DEPTH  16
#define S3_XML_MAX_TEXT   4096 /* cap of one element's text (keys are at most 1024 bytes) */
#define S3_XML_MAX_PARTS  10000
#define S3_XML_MAX_DELETE 1000

/* ---- writer ---- */

typedef struct {
    h2o_mem_pool_t *pool;
    char *buf;
    size_t len, cap;
} s3_xml_writer_t;

/* Starts an empty document whose memory comes from pool. */
void s3_xml_writer_init(s3_xml_writer_t *w, h2o_mem_pool_t *pool);
/* The bytes written so far (borrowed from the pool; NUL-terminated, len excludes the NUL). */
h2o_iovec_t s3_xml_writer_result(s3_xml_writer_t *w);

/* Appends <?xml version="1.0" encoding="UTF-8"?>. */
void s3_xml_declaration(s3_xml_writer_t *w);
/* Appends <name>. */
void s3_xml_open(s3_xml_writer_t *w, const char *name);
/* Appends <name xmlns="http://s3.amazonaws.com/doc/2006-03-01/">, for a document's root. */
void s3_xml_open_root(s3_xml_writer_t *w, const char *name);
/* Appends </name>. */
void s3_xml_close(s3_xml_writer_t *w, const char *name);
/* Appends escaped text. */
void s3_xml_text(s3_xml_writer_t *w, h2o_iovec_t text);
/* Appends bytes as they are (for pre-built fragments the caller vouches for). */
void s3_xml_raw(s3_xml_writer_t *w, const char *s, size_t len);
/* Appends <name>escaped text</name>. */
void s3_xml_element(s3_xml_writer_t *w, const char *name, h2o_iovec_t text);
/* Same with a NUL-terminated string. */
void s3_xml_element_str(s3_xml_writer_t *w, const char *name, const char *text);
/* Appends <name>decimal</name>. */
void s3_xml_element_uint(s3_xml_writer_t *w, const char *name, uint64_t v);
void s3_xml_element_int(s3_xml_writer_t *w, const char *name, int64_t v);
/* Appends <name>true</name> or <name>false</name>. */
void s3_xml_element_bool(s3_xml_writer_t *w, const char *name, int v);
/* Appends <name>2009-10-12T17:50:30.000Z</name> for a time in nanoseconds since the epoch. */
void s3_xml_element_time(s3_xml_writer_t *w, const char *name, int64_t ns);

/* Formats ns (UTC, truncated to milliseconds) as "YYYY-MM-DDThh:mm:ss.mmmZ" into buf and returns
 * the length (S3_XML_TIME_LEN for years 0..9999). buf must hold S3_XML_TIME_LEN + 8 bytes. */
size_t s3_xml_format_time(int64_t ns, char *buf);

/* ---- request bodies ---- */

typedef struct {
    uint32_t part_number;
    h2o_iovec_t etag; /* as sent, quotes included when the client sent them */
    h2o_iovec_t checksum_crc32, checksum_crc32c, checksum_crc64nvme, checksum_sha1,
        checksum_sha256; /* base NULL if absent */
} s3_xml_part_t;

typedef struct {
    s3_xml_part_t *parts; /* in document order; count >= 1 */
    size_t count;
} s3_xml_complete_t;

/* Parses a CompleteMultipartUpload body: <CompleteMultipartUpload><Part><PartNumber/><ETag/>
 * [<ChecksumCRC32/>...]</Part>...</CompleteMultipartUpload>. PartNumber must be a decimal
 * integer and ETag present in each Part; 1..S3_XML_MAX_PARTS parts. Order and range of the part
 * numbers are not checked here (see s3_xml_complete_check_order): S3 reports NoSuchUpload before
 * InvalidPartOrder. Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_complete(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_complete_t *out);

/* Returns 0 when part numbers are strictly ascending, -S3_ERR_INVALID_PART_ORDER otherwise; a
 * number outside 1..10000 gives -S3_ERR_INVALID_ARGUMENT. */
int s3_xml_complete_check_order(const s3_xml_complete_t *c);

typedef struct {
    h2o_iovec_t key;         /* decoded text of <Key>; may be empty, which the caller reports per key */
    h2o_iovec_t version_id;  /* base NULL if absent */
    h2o_iovec_t etag;        /* base NULL if absent (conditional delete) */
    int has_mtime, has_size; /* <LastModifiedTime>, <Size>: conditions of the delete */
    int64_t mtime_ns;        /* <LastModifiedTime> (ISO 8601) */
    uint64_t size;           /* <Size> (decimal) */
} s3_xml_delete_object_t;

typedef struct {
    int quiet;
    s3_xml_delete_object_t *objects; /* in document order; count 1..S3_XML_MAX_DELETE */
    size_t count;
} s3_xml_delete_t;

/* Parses a DeleteObjects body: <Delete>[<Quiet>true|false</Quiet>]<Object><Key/>[<VersionId/>]
 * [<ETag/>][<LastModifiedTime/>][<Size/>]</Object>...</Delete>. Each Object needs a Key; 1..1000
 * objects; a time that is no ISO 8601 date or a size that is no decimal is malformed. Returns 0
 * or -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_delete(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_delete_t *out);

typedef struct {
    h2o_iovec_t location_constraint; /* base NULL if absent; "" when the element is empty */
} s3_xml_create_bucket_t;

/* Parses a CreateBucketConfiguration body. An empty body is valid for CreateBucket but is the
 * caller's case: this parser needs a document. Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_create_bucket(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_create_bucket_t *out);

typedef enum { S3_VERSIONING_UNSET = 0, S3_VERSIONING_ENABLED, S3_VERSIONING_SUSPENDED } s3_versioning_status_t;
typedef enum { S3_MFA_DELETE_UNSET = 0, S3_MFA_DELETE_ENABLED, S3_MFA_DELETE_DISABLED } s3_mfa_delete_t;

typedef struct {
    s3_versioning_status_t status;
    s3_mfa_delete_t mfa_delete;
} s3_xml_versioning_t;

/* Parses a VersioningConfiguration body: Status Enabled|Suspended, MfaDelete Enabled|Disabled,
 * both optional; other values → -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_versioning(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_versioning_t *out);

/* ---- element trees ---- */

typedef struct s3_xml_node s3_xml_node_t;
struct s3_xml_node {
    const char *name;     /* local name, namespace dropped; NUL-terminated */
    h2o_iovec_t text;     /* a leaf's character data, decoded, NUL-terminated; "" for an element with children */
    int has_children;     /* 1 when the element holds elements */
    s3_xml_node_t *first; /* first child element, in document order */
    s3_xml_node_t *next;  /* next sibling */
};

/* Reads body (at most max_body bytes, at most max_nodes elements) into a tree whose memory comes
 * from pool, and returns its root element in *root. Refuses what the request body parsers refuse
 * (DOCTYPE, entity declarations, depth over S3_XML_MAX_DEPTH, a text over S3_XML_MAX_TEXT), and
 * an empty or oversized body. Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_tree(h2o_mem_pool_t *pool, h2o_iovec_t body, size_t max_body, size_t max_nodes, s3_xml_node_t **root);

/* 1 when node is called name, else 0. */
int s3_xml_is(const s3_xml_node_t *node, const char *name);
/* The first child of parent called name, or NULL. */
const s3_xml_node_t *s3_xml_child(const s3_xml_node_t *parent, const char *name);
/* How many children of parent are called name. */
size_t s3_xml_count(const s3_xml_node_t *parent, const char *name);

/* Reads an xs:integer: optional sign, decimal digits, surrounding XML white space. Returns 0 or
 * -S3_ERR_MALFORMED_XML (not an integer, or outside int64). */
int s3_xml_parse_int64(h2o_iovec_t text, int64_t *out);
/* Reads an xs:boolean (true, false, 1, 0, surrounding white space). Returns 0 or
 * -S3_ERR_MALFORMED_XML. */
int s3_xml_parse_bool(h2o_iovec_t text, int *out);

/* Reads an ISO 8601 time into nanoseconds since the epoch (UTC): YYYY-MM-DDThh:mm:ss, optional
 * fraction (digits past nanoseconds dropped), then Z or an offset +hh:mm / -hh:mm / +hhmm; or a
 * bare date YYYY-MM-DD, read as its midnight UTC. Surrounding XML white space is allowed. Times
 * int64 nanoseconds cannot hold (before 1678, after 2261) are refused. Returns 0 or
 * -S3_ERR_INVALID_ARGUMENT. */
int s3_xml_parse_iso8601(h2o_iovec_t text, int64_t *out_ns);

#endif
