/* tagging.h — object and bucket tags: the Tagging document, the x-amz-tagging header, S3's
 * rules, and the bytes a tag set is stored as.
 *
 * Rules (S3's, as documented and as S3 answers them):
 *   - an object holds at most 10 tags, a bucket 50; more is 400 BadRequest "Object tags cannot be
 *     greater than 10" (S3 words the bucket's limit the same way, with 50);
 *   - a key is 1..128 Unicode characters and a value 0..256, counted as S3 counts them, in UTF-16
 *     code units ("Amazon S3 object tags are internally represented in UTF-16"), so a character
 *     outside the Basic Multilingual Plane counts 2;
 *   - keys and values hold Unicode letters, numbers and separators and the symbols _ . : / = + - @
 *     (AWS's pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$); anything else is InvalidTag "The TagKey
 *     you have provided is invalid" (with a TagKey element) or "The TagValue you have provided is
 *     invalid" (with TagKey and TagValue);
 *   - a key twice is InvalidTag "Cannot provide multiple Tags with the same key" (TagKey);
 *   - a key starting with aws: (any case) is reserved for AWS: InvalidTag "Your TagKey cannot be
 *     prefixed with aws:".
 * Tags are checked one by one in document order, the first fault answering, and their number
 * only after all of them, the order S3 was seen to follow. Keys and values are case-sensitive.
 *
 * The header form (PutObject, CopyObject, CreateMultipartUpload, and the query of a presigned
 * PUT) is a URL query string, k1=v1&k2=v2, read as a form is (application/x-www-form-urlencoded:
 * '+' is a space, %XX a byte). Empty pieces are skipped, a key without '=' has the empty value.
 * What cannot be read that way — a bad escape, bytes that are not UTF-8, an empty key, a second
 * '=' in a pair, a key twice — is 400 InvalidArgument "The header 'x-amz-tagging' shall be
 * encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."; then the
 * tags are checked as above.
 *
 * Stored form: the pairs sorted by key (bytewise), each as u32 little-endian length + key bytes,
 * u32 length + value bytes — the encoding of meta_kv_append, so a record can carry it as one
 * string field and meta_kv_next can walk it. No tags is zero bytes. There is one encoding of a
 * tag set: decoding refuses pairs out of order, duplicate keys, more than 50 tags and keys or
 * values past their limits, and the encoder refuses what the decoder would. Tags read back in
 * key order, as S3 gives them back.
 */
#ifndef YC_S3_TAGGING_H
#define YC_S3_TAGGING_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_TAGS_MAX_OBJECT  10
#define S3_TAGS_MAX_BUCKET  50
#define S3_TAG_KEY_MAX      128            /* UTF-16 code units */
#define S3_TAG_VALUE_MAX    256            /* UTF-16 code units */
#define S3_TAGGING_MAX_BODY (256 * 1024)   /* 50 tags of the longest keys and values, escaped, fit */
#define S3_TAGGING_MAX_NODE (4 + 3 * 1000) /* elements of a Tagging document read before giving up */

typedef struct {
    h2o_iovec_t key, value;
} s3_tag_t;

typedef struct {
    s3_tag_t *tags; /* NULL when count is 0 */
    size_t count;
} s3_tagset_t;

/* Whose tags: an object's (10 at most) or a bucket's (50). */
typedef enum { S3_TAGS_OBJECT = 0, S3_TAGS_BUCKET } s3_tags_of_t;

/* Parses a Tagging document (PutObjectTagging, PutBucketTagging): <Tagging><TagSet><Tag><Key/>
 * <Value/></Tag>...</TagSet></Tagging>. The document must have one TagSet, and each Tag one Key
 * and one Value (else MalformedXML); an empty TagSet is a valid document, the empty set. The tags
 * are then checked (s3_tagging_validate). Results in document order, memory from pool. Returns 0,
 * -S3_ERR_MALFORMED_XML, -S3_ERR_INVALID_TAG or -S3_ERR_BAD_REQUEST, with why filled. */
int s3_tagging_parse_xml(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_tags_of_t of, s3_tagset_t *out,
                         s3_error_detail_t *why);

/* Parses an x-amz-tagging value (an object's tags; see the header comment). Results in header
 * order, memory from pool. Returns 0, -S3_ERR_INVALID_ARGUMENT, -S3_ERR_INVALID_TAG or
 * -S3_ERR_BAD_REQUEST, with why filled. */
int s3_tagging_parse_header(h2o_mem_pool_t *pool, h2o_iovec_t value, s3_tagset_t *out, s3_error_detail_t *why);

/* Checks a tag set a client gave against S3's rules (above), in S3's order. Returns 0,
 * -S3_ERR_INVALID_TAG or -S3_ERR_BAD_REQUEST, with why filled. */
int s3_tagging_validate(const s3_tagset_t *set, s3_tags_of_t of, s3_error_detail_t *why);

/* 1 when key is a valid tag key (length and characters; the aws: prefix is not checked), else 0. */
int s3_tag_key_valid(h2o_iovec_t key);
/* 1 when value is a valid tag value, else 0. */
int s3_tag_value_valid(h2o_iovec_t value);
/* Length of valid UTF-8 text in UTF-16 code units, as S3 counts tag lengths; SIZE_MAX when the
 * bytes are not valid UTF-8. */
size_t s3_utf16_length(h2o_iovec_t text);

/* Sorts set by key, bytewise, in place. */
void s3_tagset_sort(s3_tagset_t *set);
/* The tag of set whose key is key (compared exactly), or NULL. */
const s3_tag_t *s3_tagset_find(const s3_tagset_t *set, h2o_iovec_t key);

/* Writes the Tagging document of set, declaration and S3's namespace included, tags in the
 * order of set (GetObjectTagging, GetBucketTagging). */
void s3_tagging_write_xml(s3_xml_writer_t *w, const s3_tagset_t *set);

/* Encodes set in its stored form into memory from pool (NULL base and length 0 for no tags).
 * Returns 0, or -S3_ERR_INVALID_TAG for a set the decoder would refuse. */
int s3_tagging_encode(h2o_mem_pool_t *pool, const s3_tagset_t *set, h2o_iovec_t *out);

/* Decodes a stored tag set: keys and values point into bytes (borrowed), the array comes from
 * pool. Returns 0, or -S3_ERR_INTERNAL_ERROR when the bytes are not a stored tag set. */
int s3_tagging_decode(h2o_mem_pool_t *pool, h2o_iovec_t bytes, s3_tagset_t *out);

#endif
