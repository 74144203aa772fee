/* meta_key.c — the binary key encoding (layout in meta.h).
 *
 * The encoding exists so that RocksDB's bytewise order is the order S3 wants. An object key is
 * escaped (0x00 -> 0x00 0xFF) and closed by 0x00 0x01. Comparing two encoded keys then gives
 * the same answer as memcmp on the raw keys: where the raw keys first differ, the escaped forms
 * differ in the same direction (a raw 0x00 becomes 0x00 0xFF, still below any other byte), and
 * when one raw key ends first its terminator 0x00 0x01 sorts below both an escaped 0x00
 * (0x00 0xFF) and any other byte. What follows the terminator (mtime, version, upload id) only
 * orders records of the same object key.
 *
 * mtime is stored as the big-endian complement so that newer versions sort first; negative
 * times are refused, both because no real version has one and because the complement of a
 * negative value would sort it before every positive time.
 *
 * Every function checks the lengths S3 allows (bucket <= 63, namespace <= META_NS_MAX, key <= 1024 bytes) and the space
 * in meta_key_t before writing, and returns META_ERANGE instead of truncating.
 */
#include "meta/meta.h"
#include "meta/meta_internal.h"
#include "common/bytes.h"

#include <string.h>

enum {
    KEY_TAG_BUCKET = 'B',
    KEY_TAG_OBJECT = 'O',
    KEY_TAG_UPLOAD = 'U',
    KEY_TAG_PART = 'P',
    KEY_TAG_USER = 'I',
    KEY_TAG_CONFIG = 'C',
    KEY_TAG_LOCK = 'L',
    KEY_TAG_LAYOUT = 'V',
    KEY_TAG_HEAD = 'H',     /* live heads */
    KEY_TAG_HEAD_DEAD = 'h' /* heads of keys topped by a delete marker */
};

/* A bucket name is at most 63 bytes and has no 0x00, which the key layout uses as separator. */
static int bucket_ok(meta_bytes_t bucket)
{
    return bucket.len <= META_BUCKET_MAX && (bucket.len == 0 || memchr(bucket.base, 0, bucket.len) == NULL);
}

/* A namespace (objects, uploads) is at most META_NS_MAX bytes, also without 0x00. */
static int ns_ok(meta_bytes_t ns)
{
    return ns.len <= META_NS_MAX && (ns.len == 0 || memchr(ns.base, 0, ns.len) == NULL);
}

size_t meta_bucket_ns(meta_bytes_t name, uint64_t incarnation, char *out)
{
    size_t n = name.len <= META_BUCKET_MAX ? name.len : META_BUCKET_MAX;
    uint8_t be[8];

    memcpy(out, name.base, n);
    out[n++] = ':';
    yc_put_be64(be, incarnation); /* most significant digit first */
    yc_hex(be, sizeof(be), out + n);
    return n + 2 * sizeof(be);
}

static void put_bytes(meta_key_t *out, const void *p, size_t n)
{
    if (n > 0)
        memcpy(out->buf + out->len, p, n);
    out->len += n;
}

static void put_byte(meta_key_t *out, uint8_t c)
{
    out->buf[out->len++] = c;
}

/* tag ns 0x00 (a bucket name for configs, a namespace for objects and uploads) */
static int put_bucket_head(uint8_t tag, meta_bytes_t bucket, meta_key_t *out)
{
    if (tag == KEY_TAG_CONFIG ? !bucket_ok(bucket) : !ns_ok(bucket))
        return META_ERANGE;
    out->len = 0;
    put_byte(out, tag);
    put_bytes(out, bucket.base, bucket.len);
    put_byte(out, 0x00);
    return 0;
}

/* Appends esc(key); the caller has checked key.len <= META_KEY_MAX, which bounds the output. */
static void put_escaped(meta_key_t *out, meta_bytes_t key)
{
    const uint8_t *p = (const uint8_t *)key.base;

    for (size_t i = 0; i < key.len; i++) {
        out->buf[out->len++] = p[i];
        if (p[i] == 0x00)
            out->buf[out->len++] = 0xFF;
    }
}

/* tag bucket 0x00 esc(key) 0x00 0x01 */
static int put_object_head(uint8_t tag, meta_bytes_t bucket, meta_bytes_t key, meta_key_t *out)
{
    int ret;

    if (key.len > META_KEY_MAX)
        return META_ERANGE;
    if ((ret = put_bucket_head(tag, bucket, out)) != 0)
        return ret;
    put_escaped(out, key);
    put_byte(out, 0x00);
    put_byte(out, 0x01);
    return 0;
}

/* Key of a bucket record: 'B' bucket. */
int meta_key_bucket(meta_bytes_t bucket, meta_key_t *out)
{
    if (!bucket_ok(bucket))
        return META_ERANGE;
    out->len = 0;
    put_byte(out, KEY_TAG_BUCKET);
    put_bytes(out, bucket.base, bucket.len);
    return 0;
}

/* Key of one object version; META_ERANGE for a negative mtime or an over-long bucket or key. */
int meta_key_object(meta_bytes_t bucket, meta_bytes_t key, int64_t mtime_ns, const uint8_t vid[META_ID_LEN],
                    meta_key_t *out)
{
    int ret;

    if (mtime_ns < 0)
        return META_ERANGE;
    if ((ret = put_object_head(KEY_TAG_OBJECT, bucket, key, out)) != 0)
        return ret;
    yc_put_be64(out->buf + out->len, ~(uint64_t)mtime_ns);
    out->len += 8;
    put_bytes(out, vid, META_ID_LEN);
    return 0;
}

/* Key of the null slot: the tail of a version key with every byte 0, which no version key has
 * (its complemented time would be negative), so the slot sorts before every version of the key. */
int meta_key_object_null(meta_bytes_t bucket, meta_bytes_t key, meta_key_t *out)
{
    int ret;

    if ((ret = put_object_head(KEY_TAG_OBJECT, bucket, key, out)) != 0)
        return ret;
    memset(out->buf + out->len, 0, 8 + META_ID_LEN);
    out->len += 8 + META_ID_LEN;
    return 0;
}

/* Key of the drive's layout record. */
int meta_key_layout(meta_key_t *out)
{
    static const char name[] = "layout";

    out->len = 0;
    put_byte(out, KEY_TAG_LAYOUT);
    put_bytes(out, name, sizeof(name) - 1);
    return 0;
}

/* Prefix of every version of one object key: the key closed by its terminator. */
int meta_key_object_versions(meta_bytes_t bucket, meta_bytes_t key, meta_key_t *out)
{
    return put_object_head(KEY_TAG_OBJECT, bucket, key, out);
}

/* Key of an object key's head: its versions prefix under the head tag. */
int meta_key_head(meta_bytes_t bucket, meta_bytes_t key, int dead, meta_key_t *out)
{
    return put_object_head(dead ? KEY_TAG_HEAD_DEAD : KEY_TAG_HEAD, bucket, key, out);
}

void meta_key_head_of(const uint8_t *okey, size_t plen, int dead, meta_key_t *out)
{
    memcpy(out->buf, okey, plen);
    out->buf[0] = dead ? KEY_TAG_HEAD_DEAD : KEY_TAG_HEAD;
    out->len = plen;
}

/* Prefix of every object record of a bucket. */
int meta_key_bucket_objects(meta_bytes_t bucket, meta_key_t *out)
{
    return put_bucket_head(KEY_TAG_OBJECT, bucket, out);
}

/* Listing seek key: sorts at or before every object key >= key_prefix, after every smaller one. */
int meta_key_object_seek(meta_bytes_t bucket, meta_bytes_t key_prefix, meta_key_t *out)
{
    int ret;

    if (key_prefix.len > META_KEY_MAX)
        return META_ERANGE;
    if ((ret = put_bucket_head(KEY_TAG_OBJECT, bucket, out)) != 0)
        return ret;
    /* Left open on purpose: every object key that starts with key_prefix continues past this
     * point, and a key equal to it continues with its terminator, so both sort at or after. */
    put_escaped(out, key_prefix);
    return 0;
}

/* Key of a multipart upload, ordered like the object key it will complete. */
int meta_key_upload(meta_bytes_t bucket, meta_bytes_t key, const uint8_t upload_id[META_ID_LEN], meta_key_t *out)
{
    int ret;

    if ((ret = put_object_head(KEY_TAG_UPLOAD, bucket, key, out)) != 0)
        return ret;
    put_bytes(out, upload_id, META_ID_LEN);
    return 0;
}

/* Prefix of every upload record of a bucket. */
int meta_key_bucket_uploads(meta_bytes_t bucket, meta_key_t *out)
{
    return put_bucket_head(KEY_TAG_UPLOAD, bucket, out);
}

/* Key of a part: 'P' upload_id be32(part_number), so an upload's parts scan in number order. */
int meta_key_part(const uint8_t upload_id[META_ID_LEN], uint32_t part_number, meta_key_t *out)
{
    out->len = 0;
    put_byte(out, KEY_TAG_PART);
    put_bytes(out, upload_id, META_ID_LEN);
    yc_put_be32(out->buf + out->len, part_number);
    out->len += 4;
    return 0;
}

/* Prefix of every part of one upload. */
int meta_key_parts(const uint8_t upload_id[META_ID_LEN], meta_key_t *out)
{
    out->len = 0;
    put_byte(out, KEY_TAG_PART);
    put_bytes(out, upload_id, META_ID_LEN);
    return 0;
}

/* Key of an access key's record: 'I' access_key (at most META_ACCESS_KEY_MAX bytes). */
int meta_key_user(meta_bytes_t access_key, meta_key_t *out)
{
    if (access_key.len > META_ACCESS_KEY_MAX)
        return META_ERANGE;
    out->len = 0;
    put_byte(out, KEY_TAG_USER);
    put_bytes(out, access_key.base, access_key.len);
    return 0;
}

/* Key of an IAM entity: 'I' 0x00 kind name, then 0x00 member when member.base is set. Access keys
 * never hold 0x00, so these sort before every access key and one scan of 'I' reads both. */
int meta_key_iam(char kind, meta_bytes_t name, meta_bytes_t member, meta_key_t *out)
{
    if (kind == 0 || name.len > META_IAM_NAME_MAX || memchr(name.base, 0, name.len) != NULL ||
        (member.base != NULL && (member.len > META_IAM_NAME_MAX || memchr(member.base, 0, member.len) != NULL)))
        return META_ERANGE;
    out->len = 0;
    put_byte(out, KEY_TAG_USER);
    put_byte(out, 0);
    put_byte(out, (uint8_t)kind);
    put_bytes(out, name.base, name.len);
    if (member.base != NULL) {
        put_byte(out, 0);
        put_bytes(out, member.base, member.len);
    }
    return 0;
}

int meta_key_parse_iam(const uint8_t *enc, size_t len, char *kind, meta_bytes_t *name, meta_bytes_t *member)
{
    if (len < 3 || enc[0] != KEY_TAG_USER || enc[1] != 0 || enc[2] == 0)
        return META_ECORRUPT;
    const uint8_t *rest = enc + 3, *sep = memchr(rest, 0, len - 3);
    size_t name_len = sep != NULL ? (size_t)(sep - rest) : len - 3;
    *kind = (char)enc[2];
    *name = (meta_bytes_t){(const char *)rest, name_len};
    *member = sep != NULL ? (meta_bytes_t){(const char *)sep + 1, len - 3 - name_len - 1} : (meta_bytes_t){NULL, 0};
    if (name->len > META_IAM_NAME_MAX || member->len > META_IAM_NAME_MAX ||
        (member->base != NULL && memchr(member->base, 0, member->len) != NULL))
        return META_ECORRUPT;
    return 0;
}

/* Key of a bucket configuration document: 'C' bucket 0x00 name (name at most META_KEY_MAX). */
int meta_key_config(meta_bytes_t bucket, meta_bytes_t name, meta_key_t *out)
{
    int ret;

    if (name.len > META_KEY_MAX)
        return META_ERANGE;
    if ((ret = put_bucket_head(KEY_TAG_CONFIG, bucket, out)) != 0)
        return ret;
    put_bytes(out, name.base, name.len);
    return 0;
}

/* Key of a namespace lock: 'L' name. */
int meta_key_lock(meta_bytes_t name, meta_key_t *out)
{
    if (name.len > META_LOCK_NAME_MAX)
        return META_ERANGE;
    out->len = 0;
    put_byte(out, KEY_TAG_LOCK);
    put_bytes(out, name.base, name.len);
    return 0;
}

/* When enc is the key of an object version (not the null slot, not an upload), the smallest key
 * past every record of its object key: the version's head with its terminator 0x00 0x01 made
 * 0x00 0x02. Only the shape is checked (tag, terminator, a time with its top bit set, as ~mtime
 * of a time >= 0 always has): the successor of a key the encoders never wrote is still a key
 * after it, which is all a scan needs. */
int meta_key_version_successor(const uint8_t *enc, size_t len, meta_key_t *out)
{
    size_t head = len - 8 - META_ID_LEN;

    if (len < 3 + 8 + META_ID_LEN || len > sizeof(out->buf) || enc[0] != KEY_TAG_OBJECT || enc[head - 2] != 0x00 ||
        enc[head - 1] != 0x01 || (enc[head] & 0x80) == 0)
        return 0;
    memcpy(out->buf, enc, head);
    out->buf[head - 1] = 0x02;
    out->len = head;
    return 1;
}

/* Splits an 'O' or 'U' key back into its fields; META_ECORRUPT for anything the encoders could
 * not have produced. Nothing is written to the outputs unless the whole key is valid. */
int meta_key_parse_object(const uint8_t *enc, size_t len, meta_bytes_t *bucket, char *key_buf, meta_bytes_t *key,
                          int64_t *mtime_ns, uint8_t vid[META_ID_LEN])
{
    const uint8_t *sep;
    size_t pos, klen = 0, tail;
    uint64_t inv = 0;

    if (len < 2 || (enc[0] != KEY_TAG_OBJECT && enc[0] != KEY_TAG_UPLOAD))
        return META_ECORRUPT;
    if ((sep = memchr(enc + 1, 0x00, len - 1)) == NULL || (size_t)(sep - (enc + 1)) > META_NS_MAX)
        return META_ECORRUPT;
    /* Unescape up to the terminator, validating every escape before anything is returned. */
    for (pos = (size_t)(sep - enc) + 1;;) {
        uint8_t c;

        if (pos >= len)
            return META_ECORRUPT;
        if ((c = enc[pos++]) == 0x00) {
            if (pos >= len)
                return META_ECORRUPT;
            if (enc[pos] == 0x01) {
                pos++;
                break;
            }
            if (enc[pos++] != 0xFF)
                return META_ECORRUPT;
        }
        if (klen == META_KEY_MAX)
            return META_ECORRUPT;
        if (key_buf != NULL)
            key_buf[klen] = (char)c;
        klen++;
    }
    tail = enc[0] == KEY_TAG_OBJECT ? 8 + META_ID_LEN : META_ID_LEN;
    if (len - pos != tail)
        return META_ECORRUPT;
    if (enc[0] == KEY_TAG_OBJECT) {
        static const uint8_t zero[8 + META_ID_LEN];

        inv = ~yc_get_be64(enc + pos);
        if (memcmp(enc + pos, zero, sizeof(zero)) == 0) {
            inv = (uint64_t)META_NULL_SLOT_MTIME; /* the null slot */
        } else if (inv > (uint64_t)INT64_MAX) {   /* the encoder never writes a negative time */
            return META_ECORRUPT;
        }
        pos += 8;
    }
    if (bucket != NULL) {
        bucket->base = (const char *)enc + 1;
        bucket->len = (size_t)(sep - (enc + 1));
    }
    if (key != NULL) {
        key->base = key_buf;
        key->len = klen;
    }
    if (mtime_ns != NULL)
        *mtime_ns = (int64_t)inv;
    if (vid != NULL)
        memcpy(vid, enc + pos, META_ID_LEN);
    return 0;
}
