/* meta_record.c — encoders and decoders of the records stored as RocksDB values.
 *
 * Layout of every record (format version 2: buckets gained their incarnation and state, objects
 * checksum_type and part_checksums, uploads checksum_type, parts checksum_algo; version 1 records
 * are refused, as no deployment holds any; format 3: objects gained attrs_ns and attrs, uploads
 * attrs, after their other fields — format 2 records still decode, with no attributes):
 *   u8 magic | u8 version | fields... | u64 xxh3-64 of all preceding bytes
 * Integers are fixed-width little-endian; ids, etags and the distribution table are raw bytes of
 * their fixed size; strings are u32 length + bytes. The magic differs per record type, so a
 * value read under the wrong key type is refused instead of misread.
 *
 * There is exactly one encoding of each record value in the current format: decoding then
 * re-encoding gives back the same bytes (a format 2 record comes back as format 3). A decoder verifies the checksum
 * first (a torn or bit-rotted value is refused before any field is trusted), then reads each field through a cursor
 * that checks every length against the bytes left, so it never reads past len whatever the input. After the fields, the
 * record must end exactly at the checksum, and the same semantic checks the encoder applies (bucket and key lengths,
 * flags, erasure geometry, part array size, user metadata pairs) must hold. Encoders refuse what decoders would refuse
 * (META_ERANGE) so that what is written can be read.
 *
 * User metadata pairs and part references are themselves small encodings carried as one string
 * field: pairs are (u32 len, name, u32 len, value)*, part references are a packed array of
 * fixed 44-byte entries (u32 number, u64 size, data_id[16], etag[16]). Part checksums are one string
 * field too: part_count binary checksums of one size laid end to end (their size is the field's
 * length over part_count), so part i's is found without a walk.
 *
 * A null slot's value (meta.h) is one object record, or a slot record wrapping two to
 * META_SLOT_MAX of them: u8 magic | u8 version | u32 count | (u32 len | record)* | u64 xxh3-64.
 * The wrapped records keep their own checksums; the slot's covers the framing.
 */
#include "meta/meta.h"
#include "meta/meta_internal.h"
#include "common/bytes.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum {
    MAGIC_BUCKET = 0xB0,
    MAGIC_OBJECT = 0xB1,
    MAGIC_UPLOAD = 0xB2,
    MAGIC_PART = 0xB3,
    MAGIC_USER = 0xB4,
    MAGIC_SLOT = 0xB5,
    MAGIC_CONFIG = 0xB6
};
#define RECORD_VERSION  META_RECORD_FORMAT
#define RECORD_HASH_LEN 8
#define PART_REF_LEN    (4 + 8 + META_ID_LEN + 16)
#define EC_MAX_SHARDS   16
#define PART_NUMBER_MAX 10000

/* ---- growable buffer ---- */

/* Makes room for n more bytes after len. */
static int buf_reserve(meta_buf_t *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (n > SIZE_MAX - b->len)
        return META_ENOMEM;
    if (b->len + n <= b->cap)
        return 0;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < b->len + n)
        cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
    if ((p = realloc(b->base, cap)) == NULL)
        return META_ENOMEM;
    b->base = p;
    b->cap = cap;
    return 0;
}

/* Frees the buffer's memory and leaves it empty and reusable. */
void meta_buf_dispose(meta_buf_t *b)
{
    free(b->base);
    b->base = NULL;
    b->len = b->cap = 0;
}

/* ---- writer: appends to a meta_buf_t, remembering the first failure ---- */

typedef struct {
    meta_buf_t *out;
    size_t start; /* where this record begins in out */
    int err;
} writer_t;

static void w_raw(writer_t *w, const void *p, size_t n)
{
    if (w->err != 0 || n == 0)
        return;
    if ((w->err = buf_reserve(w->out, n)) != 0)
        return;
    memcpy(w->out->base + w->out->len, p, n);
    w->out->len += n;
}

static void w_u8(writer_t *w, uint8_t v)
{
    w_raw(w, &v, 1);
}

static void w_u32(writer_t *w, uint32_t v)
{
    uint8_t b[4];

    yc_put_le32(b, v);
    w_raw(w, b, sizeof(b));
}

static void w_u64(writer_t *w, uint64_t v)
{
    uint8_t b[8];

    yc_put_le64(b, v);
    w_raw(w, b, sizeof(b));
}

static void w_bytes(writer_t *w, meta_bytes_t s)
{
    if (s.len > UINT32_MAX) {
        if (w->err == 0)
            w->err = META_ERANGE;
        return;
    }
    w_u32(w, (uint32_t)s.len);
    w_raw(w, s.base, s.len);
}

static void w_begin(writer_t *w, meta_buf_t *out, uint8_t magic)
{
    w->out = out;
    w->start = out->len;
    w->err = 0;
    w_u8(w, magic);
    w_u8(w, RECORD_VERSION);
}

/* Seals the record with its checksum, or on failure takes back whatever was appended. */
static int w_end(writer_t *w)
{
    if (w->err == 0)
        w_u64(w, XXH3_64bits(w->out->base + w->start, w->out->len - w->start));
    if (w->err != 0) {
        w->out->len = w->start;
        return w->err;
    }
    return 0;
}

/* ---- reader: a cursor that never passes end; any overrun marks the record bad ---- */

typedef struct {
    const uint8_t *p;
    size_t pos, end;
    int bad;
    int version; /* the record's format version (META_RECORD_FORMAT_MIN..META_RECORD_FORMAT) */
} reader_t;

static const uint8_t *r_raw(reader_t *r, size_t n)
{
    const uint8_t *q;

    if (r->bad || n > r->end - r->pos) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->pos;
    r->pos += n;
    return q;
}

static uint32_t r_u32(reader_t *r)
{
    const uint8_t *q = r_raw(r, 4);
    return q != NULL ? yc_get_le32(q) : 0;
}

static uint64_t r_u64(reader_t *r)
{
    const uint8_t *q = r_raw(r, 8);
    return q != NULL ? yc_get_le64(q) : 0;
}

static int64_t r_i64(reader_t *r)
{
    return (int64_t)r_u64(r);
}

static void r_fixed(reader_t *r, void *dst, size_t n)
{
    const uint8_t *q = r_raw(r, n);

    if (q != NULL)
        memcpy(dst, q, n);
}

static meta_bytes_t r_bytes(reader_t *r)
{
    meta_bytes_t s = {NULL, 0};
    uint32_t n = r_u32(r);
    const uint8_t *q = r_raw(r, n);

    if (q != NULL) {
        s.base = (const char *)q;
        s.len = n;
    }
    return s;
}

/* Checks length, checksum, magic and version; leaves the cursor on the first field. */
static int r_begin(reader_t *r, const void *buf, size_t len, uint8_t magic)
{
    const uint8_t *p = buf;

    if (buf == NULL || len < 2 + RECORD_HASH_LEN)
        return META_ECORRUPT;
    if (XXH3_64bits(p, len - RECORD_HASH_LEN) != yc_get_le64(p + len - RECORD_HASH_LEN))
        return META_ECORRUPT;
    if (p[0] != magic || p[1] < META_RECORD_FORMAT_MIN || p[1] > RECORD_VERSION)
        return META_ECORRUPT;
    r->p = p;
    r->pos = 2;
    r->end = len - RECORD_HASH_LEN;
    r->bad = 0;
    r->version = p[1];
    return 0;
}

/* The fields must have ended exactly at the checksum. */
static int r_end(const reader_t *r)
{
    return r->bad || r->pos != r->end ? META_ECORRUPT : 0;
}

/* ---- semantic checks shared by encoders and decoders ---- */

static int bucket_name_ok(meta_bytes_t b)
{
    return b.len <= META_BUCKET_MAX && (b.len == 0 || memchr(b.base, 0, b.len) == NULL);
}

/* Objects and uploads name the namespace of their bucket's incarnation (meta_bucket_ns). */
static int ns_ok(meta_bytes_t b)
{
    return b.len <= META_NS_MAX && (b.len == 0 || memchr(b.base, 0, b.len) == NULL);
}

static int kv_ok(meta_bytes_t kv)
{
    size_t pos = 0;
    meta_bytes_t n, v;
    int ret;

    while ((ret = meta_kv_next(kv, &pos, &n, &v)) == 1)
        ;
    return ret == 0;
}

/* An attribute set walks to its end with ids strictly ascending (one encoding per set). */
static int attrs_ok(meta_bytes_t attrs)
{
    size_t pos = 0;
    uint32_t id, prev = 0;
    meta_bytes_t v;
    int ret;

    while ((ret = meta_attr_next(attrs, &pos, &id, &v)) == 1) {
        if (id <= prev)
            return 0;
        prev = id;
    }
    return ret == 0;
}

/* k+m shards at most EC_MAX_SHARDS; no layout (k = m = 0) is allowed for delete markers. */
static int geometry_ok(uint32_t k, uint32_t m)
{
    uint64_t n = (uint64_t)k + m;
    return n <= EC_MAX_SHARDS && (n == 0 || k >= 1);
}

static int bucket_ok(const meta_bucket_t *r)
{
    return bucket_name_ok(r->name) && r->versioning <= 2 && r->incarnation != 0 && r->state <= META_BUCKET_DELETING;
}

/* A checksum type is known, and set exactly when there is an algorithm. */
static int checksum_type_ok(uint32_t type, meta_bytes_t algo)
{
    return type <= META_CHECKSUM_COMPOSITE && (type == META_CHECKSUM_NONE) == (algo.len == 0);
}

/* Part checksums: none, or part_count of one size in 1..META_CHECKSUM_MAX, under an algorithm. */
static int part_checksums_ok(const meta_object_t *r)
{
    if (r->part_checksums.len == 0)
        return 1;
    return r->checksum_algo.len > 0 && r->part_count > 0 && r->part_checksums.len % r->part_count == 0 &&
           r->part_checksums.len / r->part_count <= META_CHECKSUM_MAX;
}

static int object_ok(const meta_object_t *r)
{
    uint64_t shards = (uint64_t)r->ec_k + r->ec_m;

    if (!ns_ok(r->bucket) || r->key.len > META_KEY_MAX || r->mtime_ns < 0)
        return 0;
    if ((r->flags & ~(uint32_t)(META_OBJ_DELETE_MARKER | META_OBJ_INLINE)) != 0 ||
        (r->flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE)) == (META_OBJ_DELETE_MARKER | META_OBJ_INLINE))
        return 0;
    if (!(r->flags & META_OBJ_INLINE) && r->inline_data.len != 0)
        return 0;
    if (!geometry_ok(r->ec_k, r->ec_m) || (shards > 0 ? r->shard_index >= shards : r->shard_index != 0))
        return 0;
    if (r->parts.len != (uint64_t)r->part_count * PART_REF_LEN)
        return 0;
    if (!checksum_type_ok(r->checksum_type, r->checksum_algo) || !part_checksums_ok(r))
        return 0;
    return kv_ok(r->user_meta) && attrs_ok(r->attrs) && r->attrs_ns >= 0;
}

static int upload_ok(const meta_upload_t *r)
{
    return ns_ok(r->bucket) && r->key.len <= META_KEY_MAX && geometry_ok(r->ec_k, r->ec_m) &&
           checksum_type_ok(r->checksum_type, r->checksum_algo) && kv_ok(r->user_meta) && attrs_ok(r->attrs);
}

static int part_ok(const meta_part_t *r)
{
    return r->number >= 1 && r->number <= PART_NUMBER_MAX && r->shard_index < EC_MAX_SHARDS &&
           (r->checksum_algo.len == 0) == (r->checksum_value.len == 0);
}

static int user_ok(const meta_user_t *r)
{
    return r->access_key.len <= META_ACCESS_KEY_MAX &&
           (r->flags & ~(uint32_t)(META_USER_ROOT | META_USER_DISABLED)) == 0;
}

/* ---- bucket ---- */

/* Appends a bucket record; META_ERANGE for a name over 63 bytes, an unknown versioning state or
 * state, or no incarnation. */
int meta_bucket_encode(const meta_bucket_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!bucket_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_BUCKET);
    w_bytes(&w, r->name);
    w_bytes(&w, r->owner);
    w_bytes(&w, r->location);
    w_u64(&w, (uint64_t)r->created_ns);
    w_u32(&w, r->versioning);
    w_u64(&w, r->incarnation);
    w_u32(&w, r->state);
    w_u64(&w, (uint64_t)r->state_ns);
    w_u64(&w, (uint64_t)r->updated_ns);
    return w_end(&w);
}

/* Decodes a bucket record; fields borrow buf. */
int meta_bucket_decode(const void *buf, size_t len, meta_bucket_t *out)
{
    reader_t r;
    meta_bucket_t b;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_BUCKET)) != 0)
        return ret;
    b.name = r_bytes(&r);
    b.owner = r_bytes(&r);
    b.location = r_bytes(&r);
    b.created_ns = r_i64(&r);
    b.versioning = r_u32(&r);
    b.incarnation = r_u64(&r);
    b.state = r_u32(&r);
    b.state_ns = r_i64(&r);
    b.updated_ns = r_i64(&r);
    if ((ret = r_end(&r)) != 0 || !bucket_ok(&b))
        return META_ECORRUPT;
    *out = b;
    return 0;
}

/* ---- object version / delete marker ---- */

/* Appends an object record; META_ERANGE when a field breaks the rules object_ok() states. */
int meta_object_encode(const meta_object_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!object_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_OBJECT);
    w_bytes(&w, r->bucket);
    w_bytes(&w, r->key);
    w_raw(&w, r->vid, META_ID_LEN);
    w_u64(&w, (uint64_t)r->mtime_ns);
    w_u32(&w, r->flags);
    w_u64(&w, r->size);
    w_bytes(&w, r->etag);
    w_bytes(&w, r->content_type);
    w_bytes(&w, r->content_encoding);
    w_bytes(&w, r->content_disposition);
    w_bytes(&w, r->content_language);
    w_bytes(&w, r->cache_control);
    w_bytes(&w, r->expires);
    w_bytes(&w, r->user_meta);
    w_bytes(&w, r->checksum_algo);
    w_bytes(&w, r->checksum_value);
    w_u32(&w, r->checksum_type);
    w_bytes(&w, r->part_checksums);
    w_bytes(&w, r->owner);
    w_u32(&w, r->ec_k);
    w_u32(&w, r->ec_m);
    w_u32(&w, r->stripe_size);
    w_u32(&w, r->shard_index);
    w_raw(&w, r->distribution, sizeof(r->distribution));
    w_u32(&w, r->part_count);
    w_bytes(&w, r->parts);
    w_bytes(&w, r->inline_data);
    w_u64(&w, (uint64_t)r->attrs_ns);
    w_bytes(&w, r->attrs);
    return w_end(&w);
}

/* Decodes an object version or delete marker; fields borrow buf. */
int meta_object_decode(const void *buf, size_t len, meta_object_t *out)
{
    reader_t r;
    meta_object_t o;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_OBJECT)) != 0)
        return ret;
    o.bucket = r_bytes(&r);
    o.key = r_bytes(&r);
    r_fixed(&r, o.vid, META_ID_LEN);
    o.mtime_ns = r_i64(&r);
    o.flags = r_u32(&r);
    o.size = r_u64(&r);
    o.etag = r_bytes(&r);
    o.content_type = r_bytes(&r);
    o.content_encoding = r_bytes(&r);
    o.content_disposition = r_bytes(&r);
    o.content_language = r_bytes(&r);
    o.cache_control = r_bytes(&r);
    o.expires = r_bytes(&r);
    o.user_meta = r_bytes(&r);
    o.checksum_algo = r_bytes(&r);
    o.checksum_value = r_bytes(&r);
    o.checksum_type = r_u32(&r);
    o.part_checksums = r_bytes(&r);
    o.owner = r_bytes(&r);
    o.ec_k = r_u32(&r);
    o.ec_m = r_u32(&r);
    o.stripe_size = r_u32(&r);
    o.shard_index = r_u32(&r);
    r_fixed(&r, o.distribution, sizeof(o.distribution));
    o.part_count = r_u32(&r);
    o.parts = r_bytes(&r);
    o.inline_data = r_bytes(&r);
    o.attrs_ns = 0;
    o.attrs = (meta_bytes_t){0};
    if (r.version >= 3) {
        o.attrs_ns = r_i64(&r);
        o.attrs = r_bytes(&r);
    }
    if ((ret = r_end(&r)) != 0 || !object_ok(&o))
        return META_ECORRUPT;
    *out = o;
    return 0;
}

/* Reads part reference i; META_ENOENT past part_count, META_ECORRUPT if parts is too short. */
int meta_object_part(const meta_object_t *r, uint32_t i, meta_part_ref_t *out)
{
    const uint8_t *p;

    if (i >= r->part_count)
        return META_ENOENT;
    if (r->parts.len / PART_REF_LEN <= i)
        return META_ECORRUPT;
    p = (const uint8_t *)r->parts.base + (size_t)i * PART_REF_LEN;
    out->number = yc_get_le32(p);
    out->size = yc_get_le64(p + 4);
    memcpy(out->data_id, p + 12, META_ID_LEN);
    memcpy(out->etag, p + 12 + META_ID_LEN, sizeof(out->etag));
    return 0;
}

/* Borrows part i's binary checksum; META_ENOENT without part checksums or past part_count. */
int meta_object_part_checksum(const meta_object_t *r, uint32_t i, meta_bytes_t *out)
{
    size_t size;

    if (r->part_checksums.len == 0 || i >= r->part_count)
        return META_ENOENT;
    size = r->part_checksums.len / r->part_count;
    out->base = r->part_checksums.base + (size_t)i * size;
    out->len = size;
    return 0;
}

/* Appends one fixed-size part reference; the caller counts them into part_count. */
int meta_parts_append(meta_buf_t *parts, const meta_part_ref_t *p)
{
    uint8_t *q;
    int ret;

    if ((ret = buf_reserve(parts, PART_REF_LEN)) != 0)
        return ret;
    q = parts->base + parts->len;
    yc_put_le32(q, p->number);
    yc_put_le64(q + 4, p->size);
    memcpy(q + 12, p->data_id, META_ID_LEN);
    memcpy(q + 12 + META_ID_LEN, p->etag, sizeof(p->etag));
    parts->len += PART_REF_LEN;
    return 0;
}

/* ---- multipart upload ---- */

/* Appends a multipart upload record; META_ERANGE as for objects (lengths, geometry, pairs). */
int meta_upload_encode(const meta_upload_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!upload_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_UPLOAD);
    w_bytes(&w, r->bucket);
    w_bytes(&w, r->key);
    w_raw(&w, r->upload_id, META_ID_LEN);
    w_u64(&w, (uint64_t)r->initiated_ns);
    w_bytes(&w, r->owner);
    w_bytes(&w, r->content_type);
    w_bytes(&w, r->content_encoding);
    w_bytes(&w, r->content_disposition);
    w_bytes(&w, r->content_language);
    w_bytes(&w, r->cache_control);
    w_bytes(&w, r->expires);
    w_bytes(&w, r->user_meta);
    w_bytes(&w, r->checksum_algo);
    w_u32(&w, r->checksum_type);
    w_u32(&w, r->ec_k);
    w_u32(&w, r->ec_m);
    w_u32(&w, r->stripe_size);
    w_raw(&w, r->distribution, sizeof(r->distribution));
    w_bytes(&w, r->attrs);
    return w_end(&w);
}

/* Decodes a multipart upload record; fields borrow buf. */
int meta_upload_decode(const void *buf, size_t len, meta_upload_t *out)
{
    reader_t r;
    meta_upload_t u;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_UPLOAD)) != 0)
        return ret;
    u.bucket = r_bytes(&r);
    u.key = r_bytes(&r);
    r_fixed(&r, u.upload_id, META_ID_LEN);
    u.initiated_ns = r_i64(&r);
    u.owner = r_bytes(&r);
    u.content_type = r_bytes(&r);
    u.content_encoding = r_bytes(&r);
    u.content_disposition = r_bytes(&r);
    u.content_language = r_bytes(&r);
    u.cache_control = r_bytes(&r);
    u.expires = r_bytes(&r);
    u.user_meta = r_bytes(&r);
    u.checksum_algo = r_bytes(&r);
    u.checksum_type = r_u32(&r);
    u.ec_k = r_u32(&r);
    u.ec_m = r_u32(&r);
    u.stripe_size = r_u32(&r);
    r_fixed(&r, u.distribution, sizeof(u.distribution));
    u.attrs = r.version >= 3 ? r_bytes(&r) : (meta_bytes_t){0};
    if ((ret = r_end(&r)) != 0 || !upload_ok(&u))
        return META_ECORRUPT;
    *out = u;
    return 0;
}

/* ---- uploaded part ---- */

/* Appends a part record; META_ERANGE for a part number outside 1..10000, shard_index >= 16, or a
 * checksum value without an algorithm (or the reverse). */
int meta_part_encode(const meta_part_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!part_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_PART);
    w_raw(&w, r->upload_id, META_ID_LEN);
    w_u32(&w, r->number);
    w_u64(&w, r->size);
    w_u64(&w, (uint64_t)r->mtime_ns);
    w_raw(&w, r->etag, sizeof(r->etag));
    w_raw(&w, r->data_id, META_ID_LEN);
    w_u32(&w, r->shard_index);
    w_bytes(&w, r->checksum_algo);
    w_bytes(&w, r->checksum_value);
    return w_end(&w);
}

/* Decodes a part record; checksum_algo and checksum_value borrow buf. */
int meta_part_decode(const void *buf, size_t len, meta_part_t *out)
{
    reader_t r;
    meta_part_t p;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_PART)) != 0)
        return ret;
    r_fixed(&r, p.upload_id, META_ID_LEN);
    p.number = r_u32(&r);
    p.size = r_u64(&r);
    p.mtime_ns = r_i64(&r);
    r_fixed(&r, p.etag, sizeof(p.etag));
    r_fixed(&r, p.data_id, META_ID_LEN);
    p.shard_index = r_u32(&r);
    p.checksum_algo = r_bytes(&r);
    p.checksum_value = r_bytes(&r);
    if ((ret = r_end(&r)) != 0 || !part_ok(&p))
        return META_ECORRUPT;
    *out = p;
    return 0;
}

/* ---- IAM access key ---- */

/* Appends a user record; META_ERANGE for an access key over 128 bytes or unknown flags. */
int meta_user_encode(const meta_user_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!user_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_USER);
    w_bytes(&w, r->access_key);
    w_bytes(&w, r->secret_key);
    w_bytes(&w, r->user);
    w_u32(&w, r->flags);
    w_u64(&w, (uint64_t)r->created_ns);
    return w_end(&w);
}

/* Decodes a user record; fields borrow buf. */
int meta_user_decode(const void *buf, size_t len, meta_user_t *out)
{
    reader_t r;
    meta_user_t u;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_USER)) != 0)
        return ret;
    u.access_key = r_bytes(&r);
    u.secret_key = r_bytes(&r);
    u.user = r_bytes(&r);
    u.flags = r_u32(&r);
    u.created_ns = r_i64(&r);
    if ((ret = r_end(&r)) != 0 || !user_ok(&u))
        return META_ECORRUPT;
    *out = u;
    return 0;
}

/* ---- bucket configuration document ---- */

static int config_ok(const meta_config_t *r)
{
    return r->incarnation != 0 && r->state <= META_CONFIG_REMOVED &&
           (r->state == META_CONFIG_SET || r->document.len == 0);
}

/* Appends a configuration record; META_ERANGE for no incarnation, an unknown state or a removal
 * that carries a document. */
int meta_config_encode(const meta_config_t *r, meta_buf_t *out)
{
    writer_t w;

    if (!config_ok(r))
        return META_ERANGE;
    w_begin(&w, out, MAGIC_CONFIG);
    w_u64(&w, r->incarnation);
    w_u32(&w, r->state);
    w_u64(&w, (uint64_t)r->updated_ns);
    w_bytes(&w, r->document);
    return w_end(&w);
}

/* Decodes a configuration record; the document borrows buf. */
int meta_config_decode(const void *buf, size_t len, meta_config_t *out)
{
    reader_t r;
    meta_config_t c;
    int ret;

    if ((ret = r_begin(&r, buf, len, MAGIC_CONFIG)) != 0)
        return ret;
    c.incarnation = r_u64(&r);
    c.state = r_u32(&r);
    c.updated_ns = r_i64(&r);
    c.document = r_bytes(&r);
    if ((ret = r_end(&r)) != 0 || !config_ok(&c))
        return META_ECORRUPT;
    *out = c;
    return 0;
}

/* ---- user metadata pairs ---- */

/* Appends one pair; nothing is appended on failure. */
int meta_kv_append(meta_buf_t *kv, meta_bytes_t name, meta_bytes_t value)
{
    writer_t w = {kv, kv->len, 0};

    w_bytes(&w, name);
    w_bytes(&w, value);
    if (w.err != 0)
        kv->len = w.start;
    return w.err;
}

/* Returns the pair at *pos and advances it; *pos is left alone on META_ECORRUPT. */
int meta_kv_next(meta_bytes_t kv, size_t *pos, meta_bytes_t *name, meta_bytes_t *value)
{
    reader_t r = {(const uint8_t *)kv.base, *pos, kv.len, 0, RECORD_VERSION};
    meta_bytes_t n, v;

    if (*pos == kv.len)
        return 0;
    if (*pos > kv.len)
        return META_ECORRUPT;
    n = r_bytes(&r);
    v = r_bytes(&r);
    if (r.bad)
        return META_ECORRUPT;
    *pos = r.pos;
    if (name != NULL)
        *name = n;
    if (value != NULL)
        *value = v;
    return 1;
}

/* ---- null slot ---- */

int meta_slot_encode(const meta_bytes_t *recs, size_t n, meta_buf_t *out)
{
    writer_t w;

    if (n == 0 || n > META_SLOT_MAX)
        return META_ERANGE;
    for (size_t i = 0; i < n; i++)
        if (recs[i].len == 0)
            return META_ERANGE;
    if (n == 1) { /* a settled slot is the plain record: readers pay nothing for the slot */
        size_t start = out->len;
        w = (writer_t){.out = out, .start = start};
        w_raw(&w, recs[0].base, recs[0].len);
        if (w.err != 0)
            out->len = start;
        return w.err;
    }
    w_begin(&w, out, MAGIC_SLOT);
    w_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        w_bytes(&w, recs[i]);
    return w_end(&w);
}

int meta_slot_next(const void *val, size_t vlen, size_t *pos, meta_bytes_t *rec)
{
    const uint8_t *p = val;
    reader_t r;
    int ret;

    if (vlen == 0 || val == NULL)
        return META_ECORRUPT;
    if (p[0] != MAGIC_SLOT) { /* a plain record: itself, once */
        if (*pos != 0)
            return 0;
        *pos = vlen;
        rec->base = val;
        rec->len = vlen;
        return 1;
    }
    if ((ret = r_begin(&r, val, vlen, MAGIC_SLOT)) != 0)
        return ret;
    if (*pos == 0) {
        /* the whole framing is checked before the first record is handed out */
        uint32_t n = r_u32(&r);
        if (n < 2 || n > META_SLOT_MAX)
            return META_ECORRUPT;
        for (uint32_t i = 0; i < n; i++)
            if (r_bytes(&r).base == NULL)
                return META_ECORRUPT;
        if (r_end(&r) != 0)
            return META_ECORRUPT;
        *pos = 2 + 4;
    }
    if (*pos >= vlen - RECORD_HASH_LEN)
        return 0;
    r.pos = *pos;
    *rec = r_bytes(&r);
    if (r.bad || rec->base == NULL)
        return META_ECORRUPT;
    *pos = r.pos;
    return 1;
}

int meta_record_format(const void *val, size_t vlen)
{
    return val != NULL && vlen >= 2 ? ((const uint8_t *)val)[1] : -1;
}

int meta_record_format_readable(const void *val, size_t vlen)
{
    int f = meta_record_format(val, vlen);
    return f >= META_RECORD_FORMAT_MIN && f <= META_RECORD_FORMAT;
}

/* ---- attribute sets ---- */

/* One attribute at *pos: (u8 id, u32 length, bytes). Ascending order is checked by the walkers
 * that need it (attrs_ok, which every decoded record passed). */
int meta_attr_next(meta_bytes_t attrs, size_t *pos, uint32_t *id, meta_bytes_t *value)
{
    reader_t r = {(const uint8_t *)attrs.base, *pos, attrs.len, 0, RECORD_VERSION};
    uint8_t this_id;
    meta_bytes_t v;

    if (*pos == attrs.len)
        return 0;
    if (*pos > attrs.len)
        return META_ECORRUPT;
    this_id = r.p[r.pos++];
    v = r_bytes(&r);
    if (r.bad || this_id == 0)
        return META_ECORRUPT;
    *pos = r.pos;
    *id = this_id;
    *value = v;
    return 1;
}

int meta_attr_get(meta_bytes_t attrs, uint32_t id, meta_bytes_t *out)
{
    size_t pos = 0;
    uint32_t at;
    meta_bytes_t v;
    int ret;

    while ((ret = meta_attr_next(attrs, &pos, &at, &v)) == 1) {
        if (at == id) {
            *out = v;
            return 1;
        }
        if (at > id)
            return 0;
    }
    return ret;
}

static void w_attr(writer_t *w, uint32_t id, meta_bytes_t v)
{
    w_u8(w, (uint8_t)id);
    w_bytes(w, v);
}

int meta_attr_put(meta_bytes_t attrs, uint32_t id, const meta_bytes_t *value, meta_buf_t *out)
{
    writer_t w = {out, out->len, 0};
    size_t pos = 0;
    uint32_t at;
    meta_bytes_t v;
    int ret, placed = 0;

    if (id == 0 || id > META_ATTR_MAX)
        return META_ERANGE;
    if (!attrs_ok(attrs))
        return META_ECORRUPT;
    while ((ret = meta_attr_next(attrs, &pos, &at, &v)) == 1) {
        if (!placed && at >= id) {
            if (value != NULL)
                w_attr(&w, id, *value);
            placed = 1;
        }
        if (at != id)
            w_attr(&w, at, v);
    }
    if (!placed && value != NULL)
        w_attr(&w, id, *value);
    if (w.err != 0)
        out->len = w.start;
    return w.err;
}
