/* meta.h — the metadata model: key encoding, record codecs, and one RocksDB per drive.
 *
 * Keys (all binary, compared bytewise by RocksDB):
 *   'B' bucket                                           bucket record
 *   'O' ns 0x00 esc(key) 0x00 0x01 be64(~mtime) vid      object version or delete marker
 *   'O' ns 0x00 esc(key) 0x00 0x01 0x00 * 24             the null slot: the key's null version(s)
 *   'U' ns 0x00 esc(key) 0x00 0x01 upload_id             multipart upload
 *   'P' upload_id be32(part_number)                      uploaded part
 *   'I' access_key                                       IAM user / access key
 *   'I' 0x00 kind name [0x00 member]                     IAM user, group, membership, inline policy
 *   'C' bucket 0x00 name                                 bucket configuration document
 *   'L' name                                             namespace lock (store/lock.c)
 *   'V' "layout"                                         the drive's layout version (le32)
 *   'H' ns 0x00 esc(key) 0x00 0x01                       head: the key's newest record, live
 *   'h' ns 0x00 esc(key) 0x00 0x01                       head: the key's newest record, a delete marker
 * Objects and uploads live under the bucket's namespace `ns`, not under its name: one
 * incarnation of a bucket (meta_bucket_ns), so a bucket deleted and created again starts empty
 * and whatever a racing writer left in the old incarnation is unreachable garbage.
 * esc() maps 0x00 to 0x00 0xFF and leaves every other byte alone, and the key is closed by
 * 0x00 0x01: so a key sorts before every longer key it is a prefix of ("a" < "a\0" < "a/b",
 * exactly as memcmp orders the raw keys), object keys come back in binary UTF-8 order (S3
 * order), and because the version suffix is the bitwise complement of the modification time,
 * the versions of a key come newest first (mtime must be >= 0; versions with the same mtime
 * follow in ascending vid order).
 * The null version is not keyed by its time: it has one key per object key, the null slot,
 * replaced in place, so overwriting an unversioned key leaves no tombstone in front of it (a
 * delete is the only tombstone it ever gets). The slot sorts before the key's versions; its
 * value is one object record, or while a new null version is not yet acknowledged a slot
 * record holding it and the ones it replaces (meta_slot_encode), newest first by
 * (mtime, vid); the drive engine orders and prunes them (store/object.c).
 * Bucket names and namespaces cannot contain 0x00, so they need no escaping.
 *
 * Records start with a magic byte, a format version and end with an xxh3-64 of everything
 * before it; fields are length-prefixed. Decoding checks every length against the buffer and
 * the checksum first: a corrupt or truncated record is META_ECORRUPT, never a crash.
 * Decoded records point into the buffer they were decoded from (borrowed: the caller keeps
 * that buffer alive as long as it uses the record).
 */
#ifndef YC_META_H
#define YC_META_H
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include "common/errors.h"

/* Errors: the meta block of common/errors.h. META_ENOENT no such record; META_ECORRUPT checksum,
 * magic, version or a length is wrong; META_ENOMEM; META_EIO RocksDB reported an error;
 * META_ERANGE a field is too long to encode, or an output buffer is too small; META_ENOSPC the
 * drive is full: RocksDB could not write, or is open read-only for it. */
enum { META_OK = 0 };

#define META_ID_LEN          16   /* version ids, data ids and upload ids */
#define META_KEY_MAX         1024 /* longest object key S3 allows, in bytes */
#define META_BUCKET_MAX      63
#define META_NS_MAX          (META_BUCKET_MAX + 1 + 16) /* "name:incarnation" (meta_bucket_ns) */
#define META_LOCK_NAME_MAX   (META_NS_MAX + 1 + 2 * META_KEY_MAX)
#define META_ACCESS_KEY_MAX  128 /* longest access key (IAM allows 16..128) */
#define META_ENCODED_KEY_MAX (1 + META_NS_MAX + 1 + 2 * META_KEY_MAX + 2 + 8 + META_ID_LEN)

/* Borrowed bytes: pointer + length, never assumed NUL-terminated. */
typedef struct {
    const char *base;
    size_t len;
} meta_bytes_t;

/* ---- keys ---- */

/* An encoded key in caller memory. */
typedef struct {
    uint8_t buf[META_ENCODED_KEY_MAX];
    size_t len;
} meta_key_t;

int meta_key_bucket(meta_bytes_t bucket, meta_key_t *out);
/* The key functions below that take `bucket` take a namespace (meta_bucket_ns), at most
 * META_NS_MAX bytes without 0x00. */
/* Key of one object version; the null version has an all-zero vid. */
int meta_key_object(meta_bytes_t bucket, meta_bytes_t key, int64_t mtime_ns, const uint8_t vid[META_ID_LEN],
                    meta_key_t *out);
/* Key of the null slot of one object key (meta_key_parse_object gives it META_NULL_SLOT_MTIME). */
int meta_key_object_null(meta_bytes_t bucket, meta_bytes_t key, meta_key_t *out);
#define META_NULL_SLOT_MTIME ((int64_t)-1)
/* Key of the drive's layout record ('V' "layout"). */
int meta_key_layout(meta_key_t *out);
/* The layout this build writes: 3, the null slot and a head per object key. Layout 1 (no layout
 * record) kept every null version under its own time-stamped key, layout 2 had no heads; the
 * drive engine migrates both at open. */
#define META_LAYOUT_VERSION 3
#define META_LAYOUT_SLOTS   2
/* Key of the head of one object key (meta_head_t): in the live range ('H') when dead is 0, in the
 * dead range ('h', the key's newest record is a delete marker) otherwise. */
int meta_key_head(meta_bytes_t bucket, meta_bytes_t key, int dead, meta_key_t *out);
/* The same from an object record's key or versions prefix (its part through 0x00 0x01, plen
 * bytes): the tag swapped, nothing else. */
void meta_key_head_of(const uint8_t *okey, size_t plen, int dead, meta_key_t *out);
/* Prefix shared by every version of one object key. */
int meta_key_object_versions(meta_bytes_t bucket, meta_bytes_t key, meta_key_t *out);
/* Prefix of all object records of a bucket ('O' bucket 0x00). */
int meta_key_bucket_objects(meta_bytes_t bucket, meta_key_t *out);
/* Seek key for listing: the first record whose object key is >= key_prefix (escaped, not closed).
 * Used for prefix= and for start-after (the caller skips equal keys). */
int meta_key_object_seek(meta_bytes_t bucket, meta_bytes_t key_prefix, meta_key_t *out);
int meta_key_upload(meta_bytes_t bucket, meta_bytes_t key, const uint8_t upload_id[META_ID_LEN], meta_key_t *out);
int meta_key_bucket_uploads(meta_bytes_t bucket, meta_key_t *out);
int meta_key_part(const uint8_t upload_id[META_ID_LEN], uint32_t part_number, meta_key_t *out);
int meta_key_parts(const uint8_t upload_id[META_ID_LEN], meta_key_t *out); /* prefix of an upload's parts */
int meta_key_user(meta_bytes_t access_key, meta_key_t *out);
int meta_key_config(meta_bytes_t bucket, meta_bytes_t name, meta_key_t *out);
/* Key of an IAM entity record (users, groups, memberships, inline policies; the gateway's
 * gw_iam.h gives the kinds): 'I' 0x00 kind name, plus 0x00 member when member.base is not NULL.
 * kind is not 0; name and member are at most META_IAM_NAME_MAX bytes without 0x00, else
 * META_ERANGE. The value is a meta_config_t whose document the kind defines. */
#define META_IAM_NAME_MAX 128
int meta_key_iam(char kind, meta_bytes_t name, meta_bytes_t member, meta_key_t *out);
/* Splits an IAM entity key; member.base is NULL when it has none. META_ECORRUPT for another key. */
int meta_key_parse_iam(const uint8_t *enc, size_t len, char *kind, meta_bytes_t *name, meta_bytes_t *member);
/* Key of a namespace lock: 'L' name (at most META_LOCK_NAME_MAX bytes). */
int meta_key_lock(meta_bytes_t name, meta_key_t *out);

/* 1 when enc is the key of an object version (not the null slot), with *out set to the first key
 * past every record of that object key; 0 for any other key. */
int meta_key_version_successor(const uint8_t *enc, size_t len, meta_key_t *out);

/* Decodes an object or upload key. The unescaped object key is written to key_buf
 * (META_KEY_MAX bytes) and described by *key. mtime/vid are filled for 'O' keys, upload ids
 * for 'U' keys (vid receives it). Any pointer may be NULL. */
int meta_key_parse_object(const uint8_t *enc, size_t len, meta_bytes_t *bucket, char *key_buf, meta_bytes_t *key,
                          int64_t *mtime_ns, uint8_t vid[META_ID_LEN]);

/* ---- records ---- */

/* A bucket record is replaced in place (a deletion in progress marks it first), so drives may
 * briefly hold different states of it: updated_ns orders them, the newest wins. */
typedef struct {
    meta_bytes_t name;
    meta_bytes_t owner;    /* access key of the owning user */
    meta_bytes_t location; /* LocationConstraint, "" for the default region */
    int64_t created_ns;
    uint32_t versioning;  /* 0 never enabled, 1 enabled, 2 suspended */
    uint64_t incarnation; /* random, fixed at creation, never 0: names the objects' namespace */
    uint32_t state;       /* META_BUCKET_ACTIVE or META_BUCKET_DELETING */
    int64_t state_ns;     /* when the state was set (the start of a deletion) */
    int64_t updated_ns;   /* when this state of the record was written */
} meta_bucket_t;

enum { META_BUCKET_ACTIVE = 0, META_BUCKET_DELETING = 1 };

/* The namespace of one incarnation of a bucket, "name:xxxxxxxxxxxxxxxx" (incarnation in hex),
 * written to out (META_NS_MAX + 1 bytes, NUL-terminated); returns its length. The ':' cannot
 * occur in a bucket name, so no namespace equals a bucket name or another bucket's namespace. */
size_t meta_bucket_ns(meta_bytes_t name, uint64_t incarnation, char *out);

/* One part of an object's data: a single PUT has one, a completed multipart upload several. */
typedef struct {
    uint32_t number;
    uint64_t size;
    uint8_t data_id[META_ID_LEN]; /* names the part's shard files on every drive */
    uint8_t etag[16];             /* MD5 of the part's bytes */
} meta_part_ref_t;

enum { META_OBJ_DELETE_MARKER = 1 << 0, META_OBJ_INLINE = 1 << 1 };

/* How an object's checksum was made (x-amz-checksum-type): a single PUT's is always FULL_OBJECT. */
enum { META_CHECKSUM_NONE = 0, META_CHECKSUM_FULL_OBJECT = 1, META_CHECKSUM_COMPOSITE = 2 };
#define META_CHECKSUM_MAX 64 /* bytes of one binary part checksum */

typedef struct {
    meta_bytes_t bucket, key;
    uint8_t vid[META_ID_LEN]; /* all zero: the null version */
    int64_t mtime_ns;
    uint32_t flags;
    uint64_t size;
    meta_bytes_t etag; /* as returned to clients, without quotes: "hex" or "hex-N" */
    meta_bytes_t content_type, content_encoding, content_disposition, content_language, cache_control, expires;
    meta_bytes_t user_meta;      /* encoded name/value pairs: build with meta_kv_append, walk with meta_kv_next */
    meta_bytes_t checksum_algo;  /* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" or "" */
    meta_bytes_t checksum_value; /* as S3 shows it: base64, or base64 "-N" for a composite checksum */
    uint32_t checksum_type;      /* META_CHECKSUM_*: NONE exactly when checksum_algo is "" */
    meta_bytes_t part_checksums; /* each part's binary checksum, all of one size, in part order, or
                                    nothing: use meta_object_part_checksum() */
    meta_bytes_t owner;
    /* erasure layout */
    uint32_t ec_k, ec_m, stripe_size;
    uint32_t shard_index;     /* which shard of each part this drive holds */
    uint8_t distribution[16]; /* distribution[i] = drive slot in the set holding shard i */
    meta_bytes_t parts;       /* encoded meta_part_ref_t array: use meta_object_part() */
    uint32_t part_count;
    meta_bytes_t inline_data; /* this drive's shard bytes when META_OBJ_INLINE */
    /* Attributes of the version that may change after its write (tags, retention, legal hold,
     * ACL): an attribute set (meta_attr_*). attrs_ns orders their states: 0 as written by the
     * PUT, then the time of each change (store_object_update keeps the newest). */
    int64_t attrs_ns;
    meta_bytes_t attrs;
} meta_object_t;

/* A multipart upload in progress: the headers to give the object at Complete. */
typedef struct {
    meta_bytes_t bucket, key;
    uint8_t upload_id[META_ID_LEN];
    int64_t initiated_ns;
    meta_bytes_t owner;
    meta_bytes_t content_type, content_encoding, content_disposition, content_language, cache_control, expires;
    meta_bytes_t user_meta;
    meta_bytes_t checksum_algo; /* x-amz-checksum-algorithm of the upload, or "" */
    uint32_t checksum_type;     /* META_CHECKSUM_*: NONE exactly when checksum_algo is "" */
    uint32_t ec_k, ec_m, stripe_size;
    uint8_t distribution[16];
    meta_bytes_t attrs; /* the attribute set the object gets at Complete (meta_attr_*) */
} meta_upload_t;

typedef struct {
    uint8_t upload_id[META_ID_LEN];
    uint32_t number;
    uint64_t size;
    int64_t mtime_ns;
    uint8_t etag[16];
    uint8_t data_id[META_ID_LEN];
    uint32_t shard_index;
    meta_bytes_t checksum_algo;  /* "CRC32", ... or "" */
    meta_bytes_t checksum_value; /* base64; "" exactly when checksum_algo is "" */
} meta_part_t;

typedef struct {
    meta_bytes_t access_key;
    meta_bytes_t secret_key;
    meta_bytes_t user; /* user name; several access keys may belong to one user */
    uint32_t flags;    /* META_USER_ROOT, META_USER_DISABLED */
    int64_t created_ns;
} meta_user_t;

enum { META_USER_ROOT = 1 << 0, META_USER_DISABLED = 1 << 1 };

/* A bucket configuration document ('C' bucket 0x00 kind): one per kind (policy, cors, ...) of a
 * bucket, replaced in place like the bucket record, so updated_ns orders the states a drive may
 * hold and the newest wins. It belongs to one incarnation of the bucket: a state of another
 * incarnation (left by a bucket deleted and created again) counts as no configuration. A removal
 * is a state too (META_CONFIG_REMOVED, no document), so that an older state a drive missed the
 * removal of cannot come back. */
typedef struct {
    uint64_t incarnation;  /* the bucket incarnation it belongs to, never 0 */
    uint32_t state;        /* META_CONFIG_SET or META_CONFIG_REMOVED */
    int64_t updated_ns;    /* when this state was written */
    meta_bytes_t document; /* the document as the client sent it; empty when removed */
} meta_config_t;

enum { META_CONFIG_SET = 0, META_CONFIG_REMOVED = 1 };

/* Growable output buffer for encoders; free with meta_buf_dispose. */
typedef struct {
    uint8_t *base;
    size_t len, cap;
} meta_buf_t;
void meta_buf_dispose(meta_buf_t *b);

/* Encoders append one complete record to out (out->len is not reset; nothing is appended on
 * failure). They refuse with META_ERANGE what a decoder would refuse as META_ECORRUPT: a bucket
 * over 63 bytes or containing 0x00, a key over 1024 bytes, an access key over 128 bytes, unknown
 * flags or versioning state, k+m over 16 (or m without k), an object shard_index >= k+m (0 when
 * there is no layout), part_count * 44 != parts.len, inline_data without META_OBJ_INLINE, a
 * delete marker with META_OBJ_INLINE, a negative object mtime, user_meta that does not walk,
 * a part number outside 1..10000, a part shard_index over 15, a checksum type unknown or given
 * without an algorithm (or an algorithm without a type), part checksums of unequal or zero size,
 * over META_CHECKSUM_MAX bytes or without an algorithm, and a part checksum value without an
 * algorithm or the reverse. */
int meta_bucket_encode(const meta_bucket_t *r, meta_buf_t *out);
int meta_object_encode(const meta_object_t *r, meta_buf_t *out);
int meta_upload_encode(const meta_upload_t *r, meta_buf_t *out);
int meta_part_encode(const meta_part_t *r, meta_buf_t *out);
int meta_user_encode(const meta_user_t *r, meta_buf_t *out);
int meta_config_encode(const meta_config_t *r, meta_buf_t *out);

/* Decoders: fields point into buf (borrowed). */
int meta_bucket_decode(const void *buf, size_t len, meta_bucket_t *out);
int meta_object_decode(const void *buf, size_t len, meta_object_t *out);
int meta_upload_decode(const void *buf, size_t len, meta_upload_t *out);
int meta_part_decode(const void *buf, size_t len, meta_part_t *out);
int meta_user_decode(const void *buf, size_t len, meta_user_t *out);
int meta_config_decode(const void *buf, size_t len, meta_config_t *out);

/* The null slot's value: n encoded object records, newest first. One record is stored as itself
 * (bytes equal to a plain object record, so a settled key costs readers nothing more), two to
 * META_SLOT_MAX in a slot record (u8 magic, u8 version, u32 count, (u32 len, bytes)*, xxh3-64).
 * META_ERANGE for n == 0 or n > META_SLOT_MAX. */
#define META_SLOT_MAX 4
int meta_slot_encode(const meta_bytes_t *recs, size_t n, meta_buf_t *out);
/* Iterates the object records of a null slot's value (or of any object record's, which yields
 * itself); *pos starts at 0. Returns 1 with the next record's bytes (borrowed from val), 0 at
 * the end, META_ECORRUPT when the slot record's checksum or a length is wrong (checked whole at
 * pos 0, before anything is returned). */
int meta_slot_next(const void *val, size_t vlen, size_t *pos, meta_bytes_t *rec);
/* The format version byte of any record value, or -1 when it is too short to have one. This
 * build writes META_RECORD_FORMAT and reads META_RECORD_FORMAT_MIN to META_RECORD_FORMAT:
 * format 3 added the attribute set of object and upload records (a format 2 record decodes with
 * none, and is written back as format 3). The encoding of one format is canonical. */
#define META_RECORD_FORMAT     3
#define META_RECORD_FORMAT_MIN 2
/* 1 when this build reads records of the format version byte val[1] says. */
int meta_record_format_readable(const void *val, size_t vlen);
int meta_record_format(const void *val, size_t vlen);

/* The head of an object key on a drive: which of its records is the newest there, by
 * (modification time, version id), over its null slot's first record and its versions. One per
 * object key that has records, written in the same atomic batch as the record change that moves
 * it, under the drive engine's per-key lock (store/object.c), so that a GET of the newest version
 * is point reads and a listing of current objects walks the live heads only (meta_head.c). */
enum { META_HEAD_SLOT = 1 << 0, META_HEAD_MARKER = 1 << 1 };
typedef struct {
    uint32_t flags;           /* META_HEAD_SLOT: the null slot's first record; META_HEAD_MARKER */
    int64_t mtime_ns;         /* of the version named (0 for the slot: its record says) */
    uint8_t vid[META_ID_LEN]; /* of the version named (zero for the slot) */
    meta_bytes_t record;      /* a copy of the version's record (empty for the slot), borrowed */
} meta_head_t;
/* A head's value: a header (u8 magic, u8 version, u8 flags, le64 mtime, vid, xxh3-64 of those)
 * of META_HEAD_LEN bytes, then the record copy (whose own checksum covers it). */
#define META_HEAD_LEN (2 + 1 + 8 + META_ID_LEN + 8)
/* Writes the header only; the record's bytes follow it in the value. */
void meta_head_encode(const meta_head_t *h, uint8_t out[META_HEAD_LEN]);
/* META_ECORRUPT for anything but a head this build wrote; record points into buf. */
int meta_head_decode(const void *buf, size_t len, meta_head_t *out);

/* Part i (0-based) of an object record; META_ENOENT when i >= part_count. */
int meta_object_part(const meta_object_t *r, uint32_t i, meta_part_ref_t *out);
/* The binary checksum of part i (0-based), borrowed from the record; META_ENOENT when the record
 * keeps no part checksums or i >= part_count. */
int meta_object_part_checksum(const meta_object_t *r, uint32_t i, meta_bytes_t *out);
/* Appends one part reference to an encoded part array (for building meta_object_t.parts). */
int meta_parts_append(meta_buf_t *parts, const meta_part_ref_t *p);

/* Attribute sets: (u8 id, u32 length, bytes)* with ids strictly ascending, so that a set has one
 * encoding. The ids are fixed here; what each value holds is its owner's encoding. */
enum {
    META_ATTR_TAGS = 1,       /* object tags (gateway/s3/tagging.h's stored form) */
    META_ATTR_RETENTION = 2,  /* object lock retention: mode and retain-until date */
    META_ATTR_LEGAL_HOLD = 3, /* object lock legal hold */
    META_ATTR_ACL = 4,        /* access control list */
    META_ATTR_UPLOAD_ID = 8,  /* the multipart upload a completed object came from (its id) */
    META_ATTR_SSE = 9,        /* server-side encryption: kind and wrapped key (gateway/gw_sse.h) */
    META_ATTR_MAX = 255
};
/* The value of attribute id: 1 with it in *out (borrowed from attrs), 0 when absent,
 * META_ECORRUPT when attrs does not walk. */
int meta_attr_get(meta_bytes_t attrs, uint32_t id, meta_bytes_t *out);
/* Appends to out (out->len is not reset) the set attrs with attribute id set to value, or
 * removed when value is NULL. META_ERANGE for an id outside 1..META_ATTR_MAX, META_ECORRUPT when
 * attrs does not walk; nothing appended on failure. */
int meta_attr_put(meta_bytes_t attrs, uint32_t id, const meta_bytes_t *value, meta_buf_t *out);
/* Iterates a set; *pos starts at 0. 1 with the next attribute, 0 at the end, META_ECORRUPT on
 * bad input (ids not ascending, lengths past the end). */
int meta_attr_next(meta_bytes_t attrs, size_t *pos, uint32_t *id, meta_bytes_t *value);

/* User metadata pairs (names without the x-amz-meta- prefix). */
int meta_kv_append(meta_buf_t *kv, meta_bytes_t name, meta_bytes_t value);
/* Iterates pairs; *pos starts at 0. Returns 1 with a pair, 0 at the end, META_ECORRUPT on bad input. */
int meta_kv_next(meta_bytes_t kv, size_t *pos, meta_bytes_t *name, meta_bytes_t *value);

/* ---- the drive's RocksDB ---- */

typedef struct meta_db meta_db_t;

/* Opens (creating when create is set) the RocksDB at dir; META_ENOENT when it does not exist
 * and create is 0. Safe for concurrent use by any number of threads until meta_db_close.
 * When the drive is too full to open the database for writing, it is opened read-only: reads
 * are served, writes fail with META_ENOSPC until meta_db_reopen succeeds. */
int meta_db_open(const char *dir, int create, meta_db_t **out);
void meta_db_close(meta_db_t *db);

/* 0 while the database takes writes. After a write failed (or RocksDB stopped on a background
 * error, or the open was read-only) every write returns this code without reaching RocksDB:
 * META_ENOSPC when the drive is full, META_EIO for any other failure. Reads go on. */
int meta_db_write_error(meta_db_t *db);
/* 1 when the handle is read-only (or absent after a failed reopen). */
int meta_db_read_only(meta_db_t *db);
/* Recovers a database that stopped taking writes: closes the handle and opens it again
 * (RocksDB replays its WAL), read-only when space is still short. Returns 0 once writes are
 * taken again (at once when they never stopped), else the write error that stays. Waits at
 * most a fraction of a second for the calls in progress and leaves the handle as it was when
 * they do not finish; blocks every call on this database while it reopens. */
int meta_db_reopen(meta_db_t *db);
/* A number that moves whenever a bucket record ('B') of db may have changed: every put or delete
 * of one (alone or in a batch) moves it after RocksDB applied it and before the write returns, and
 * so does a reopen. Random at open. A reader that takes it, reads bucket records, and later finds
 * it unchanged knows that no bucket-record write of db returned in between: what it read then is
 * still what db holds (the gateway's bucket confirm relies on it). */
uint64_t meta_db_bucket_epoch(meta_db_t *db);
/* Starts writing the memtables to an SST without waiting. Records deleted since the last flush
 * are dropped by it, and the WAL files that held them are deleted afterwards: the way to give
 * back the space of deleted small records promptly. A write error like any other. */
int meta_db_flush(meta_db_t *db);
/* What RocksDB's memtables (active and immutable) hold now: its estimate of their size, the
 * entries they hold, and how many of those are deletes (tombstones). */
typedef struct {
    uint64_t bytes, entries, deletes;
} meta_memtable_stats_t;
int meta_db_memtable_stats(meta_db_t *db, meta_memtable_stats_t *out);
/* One integer property of RocksDB (rocksdb/db.h's names: "rocksdb.estimate-num-keys"); META_EIO
 * when RocksDB does not know it or the handle is gone. Cheap (in-memory counters). */
int meta_db_property_int(meta_db_t *db, const char *name, uint64_t *out);
/* What the database says of itself, for metrics. The RocksDB figures are estimates of the open
 * handle (they start again after a reopen); background_errors counts since meta_db_open. */
typedef struct {
    uint64_t estimate_keys;            /* rocksdb.estimate-num-keys: records, deletes not yet compacted away */
    uint64_t sst_bytes;                /* rocksdb.total-sst-files-size: every SST, obsolete ones included */
    uint64_t live_sst_bytes;           /* rocksdb.live-sst-files-size */
    uint64_t memtable_bytes;           /* rocksdb.cur-size-all-mem-tables */
    uint64_t pending_compaction_bytes; /* rocksdb.estimate-pending-compaction-bytes */
    uint64_t running_compactions, running_flushes;
    uint64_t background_errors; /* errors RocksDB's listener reported (each stops writes until a reopen) */
    uint64_t synced_writes;     /* synced writes since meta_db_open (a group commit's batch is one) */
    uint64_t synced_records;    /* puts and deletes those writes held */
    int write_error;            /* meta_db_write_error */
    int read_only;              /* meta_db_read_only */
} meta_db_stats_t;
/* Fills out; 0, or META_EIO when a property could not be read (the others are filled still). */
int meta_db_stats(meta_db_t *db, meta_db_stats_t *out);

/* Compacts the keys in [start, end) to the last level, flushing the memtables first when they
 * overlap the range: the range's tombstones and the records they deleted are dropped. Blocks
 * for the whole compaction: call it from a background thread. */
int meta_db_compact_range(meta_db_t *db, const void *start, size_t slen, const void *end, size_t elen);

/* Settles an idle database into its last levels: the memtables are flushed (waiting for it), then
 * the key span of the level-0 files is compacted down, unless the files below it that overlap the
 * span hold more than max_rewrite bytes (a wide span on a large drive is left to RocksDB's own
 * compactions). Reads then find each record in one sorted run with pinned index and filter blocks,
 * listings merge one level instead of several. *compacted (may be NULL) says whether it compacted.
 * Blocks: call it from a background thread. A write error like any other. */
int meta_db_settle(meta_db_t *db, uint64_t max_rewrite, int *compacted);

/* The number of SST files in level 0 (a string property in RocksDB, not an integer one). */
int meta_db_level0_files(meta_db_t *db, uint64_t *out);

/* Bytes of the block cache (shared by every database of the process) held pinned: entries in use,
 * such as the index and filter blocks that open tables keep. */
uint64_t meta_db_cache_pinned_bytes(meta_db_t *db);
/* RocksDB's own size figures: SST bytes, its estimate of the live data in them, the memtables'
 * bytes, its estimate of the keys, and the tombstones it holds (memtables and SST files). */
typedef struct {
    uint64_t sst_bytes, live_bytes, memtable_bytes, keys, tombstones;
} meta_db_sizes_t;
int meta_db_sizes(meta_db_t *db, meta_db_sizes_t *out);

/* A batch of puts and deletes applied atomically and durably (synced WAL; concurrent
 * writers are group-committed by RocksDB). */
typedef struct meta_batch meta_batch_t;
meta_batch_t *meta_batch_new(void);
void meta_batch_free(meta_batch_t *b);
void meta_batch_put(meta_batch_t *b, const void *key, size_t klen, const void *val, size_t vlen);
void meta_batch_delete(meta_batch_t *b, const void *key, size_t klen);
int meta_db_write(meta_db_t *db, meta_batch_t *b);

int meta_db_put(meta_db_t *db, const void *key, size_t klen, const void *val, size_t vlen);

/* Whether the drive keeps a head per object key (set by the drive engine once its heads are
 * built, before anything reads): the newest-only scan of one key and the live scan then read
 * the heads (meta_head.c). 0 at open. */
void meta_db_set_heads(meta_db_t *db, int on);
int meta_db_heads(meta_db_t *db);
/* The head of the object key whose versions prefix is okey (plen bytes): the live range first,
 * then the dead one; its header only (out->record is left empty). META_ENOENT when the key has
 * none (no record), META_ECORRUPT. */
int meta_db_head_get(meta_db_t *db, const uint8_t *okey, size_t plen, meta_head_t *out);

/* Group commit (meta_group.c): puts and deletes queued by any number of threads are written by
 * the group's own thread as one batch, one WAL append and one sync for all of them; a write is
 * applied (visible) and durable together, when meta_group_wait returns 0. */
typedef struct meta_group meta_group_t;
/* One queued write; the caller's storage, filled by meta_group_put/_delete. key and val are
 * borrowed until meta_group_wait returns, which every queued write must be given. */
typedef struct meta_waiter meta_waiter_t;
/* One put or delete of a multi-write entry (meta_group_write). */
typedef struct {
    const void *key, *val;
    size_t klen, vlen;
    int is_delete;
} meta_op_t;
typedef struct meta_pending {
    struct meta_pending *next; /* the rest: the group's own */
    meta_group_t *group;
    meta_waiter_t *waiter;
    const void *key, *val;
    size_t klen, vlen;
    int is_delete, done, result, detached;
    const meta_op_t *ops; /* meta_group_write: these instead of key/val, in one batch */
    size_t nops;
    pthread_cond_t cv;
} meta_pending_t;
/* Starts db's committer thread; db must outlive meta_group_stop, which writes what is queued
 * and ends the thread. */
int meta_group_start(meta_db_t *db, meta_group_t **out);
void meta_group_stop(meta_group_t *g);
void meta_group_put(meta_group_t *g, meta_pending_t *p, const void *key, size_t klen, const void *val, size_t vlen);
void meta_group_delete(meta_group_t *g, meta_pending_t *p, const void *key, size_t klen);
/* Queues a put of copies of key and val that nobody waits for: applied and durable with its
 * batch, lost with it if that batch fails. For writes whose loss leaves nothing wrong, only
 * something to redo. 0 or META_ENOMEM. */
int meta_group_put_detached(meta_group_t *g, const void *key, size_t klen, const void *val, size_t vlen);
/* Writes queued on several groups, waited for together: one wake when the last is done, rather
 * than one per group as their batches end one after the other. */
struct meta_waiter {
    unsigned left; /* writes not done yet; a futex word (meta_group.c) */
};
void meta_waiter_init(meta_waiter_t *w);
/* meta_group_put, counted in w; meta_waiter_wait(w) before meta_group_wait(p). */
void meta_group_put_joined(meta_group_t *g, meta_pending_t *p, meta_waiter_t *w, const void *key, size_t klen,
                           const void *val, size_t vlen);
/* Queues the n writes of ops (borrowed, like their keys and values, until meta_group_wait) as one
 * entry: they are applied in one batch, together or not at all. w may be NULL (not joined). */
void meta_group_write(meta_group_t *g, meta_pending_t *p, meta_waiter_t *w, const meta_op_t *ops, size_t n);
/* Waits until every write joined to w is done, then disposes of w; each meta_group_wait after it
 * returns at once. */
void meta_waiter_wait(meta_waiter_t *w);
/* Waits for p's batch; returns what meta_db_write returned for it. */
int meta_group_wait(meta_pending_t *p);
/* Batches written and writes queued since start (their ratio is the mean batch). */
void meta_group_counts(meta_group_t *g, uint64_t *batches, uint64_t *writes);
int meta_db_delete(meta_db_t *db, const void *key, size_t klen);
/* Reads one value; on success *val is malloc'd (caller frees). META_ENOENT when absent. */
int meta_db_get(meta_db_t *db, const void *key, size_t klen, void **val, size_t *vlen);
/* meta_db_get from memory only (memtables, RocksDB's block cache), for a thread that must not
 * wait (an event loop): -EAGAIN when the answer needs a read of a file, or a reopen holds the
 * handle. */
int meta_db_get_cached(meta_db_t *db, const void *key, size_t klen, void **val, size_t *vlen);

/* Iterates keys with `prefix`, starting at the first key >= seek (seek NULL: the prefix itself),
 * in key order. The callback gets borrowed key/value (valid only during the call) and returns
 * 0 to continue, 1 to stop, negative to abort with that error. */
typedef int (*meta_scan_cb)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int meta_db_scan(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                 void *arg);

/* Same, giving each object key's newest records only: its null slot and its first (newest)
 * version; past that version the scan seeks to the next object key, through RocksDB's index,
 * instead of stepping over the key's older versions and the tombstones of deleted ones. A seek
 * that is itself a version's key starts past its object key (a scan that goes on after a
 * version it took). Other keys come as meta_db_scan gives them. */
int meta_db_scan_newest(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                        void *arg);

/* A listing's scan (meta_scan_live.c): meta_db_scan_newest that leaves out every object key whose
 * newest record on this drive is a delete marker (by modification time and version id, over its
 * null slot and its newest version), stepping up to 12 times past a key's newest version before it
 * seeks to the next key.
 * Where keys were left out, cb gets a skip note before the next record it gets and at the end of
 * the scan: the key of the last record left out and an empty value (no record is empty). It says
 * that every object key after the previous record given and up to the note's own object key has a
 * delete marker on top here, or is not here at all; a run of many keys gets a note every
 * META_SCAN_NOTE_EVERY keys. A key whose null slot holds a live version comes as
 * meta_db_scan_newest gives it, whatever its versions. On a drive with heads (meta_db_heads), from
 * the first key that has a version or a marker on, each live key comes as its newest record only,
 * from its head, and the notes come from the dead heads. cb returns as for meta_db_scan. */
#define META_SCAN_NOTE_EVERY 1024
int meta_db_scan_live(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                      void *arg);

/* What the calling thread's RocksDB reads did since meta_perf_start (RocksDB's per-thread perf
 * context): for tests that check what a lookup costs, not for production paths. gets: memtable
 * lookups of point reads; seeks / nexts: iterator seeks and steps in the memtables;
 * deletes_skipped / keys_skipped: tombstones and hidden entries that iterators stepped over. */
typedef struct {
    uint64_t gets, seeks, nexts, deletes_skipped, keys_skipped;
    /* block cache lookups that hit (pinned index and filter blocks are not looked up), and point
     * reads that a memtable's bloom filter answered "not here" without searching it */
    uint64_t cache_hits, memtable_bloom_misses;
} meta_perf_t;
void meta_perf_start(void);
void meta_perf_stop(meta_perf_t *out);

/* ---- RocksDB's file operations, for fault tests ----
 *
 * RocksDB reaches the disk through a thin file-system wrapper (meta_rocksdb.cc) that asks a
 * hook before each operation: opening a file, an append, a read, Sync, Fsync (also of a
 * directory), closing, rename, delete, creating a directory. The hook returns 0 to let the
 * operation through or an errno to fail it as the file system would (ENOSPC as "No space left
 * on device"); for a read or a write it may cut *len, and the operation then moves only that
 * many bytes first (a write fails after them when an errno is returned too, else completes).
 * path2 is a rename's target (NULL otherwise). The hook runs on any RocksDB thread. */
enum {
    META_FS_OPEN,
    META_FS_CLOSE,
    META_FS_READ,
    META_FS_WRITE,
    META_FS_SYNC,
    META_FS_FSYNC,
    META_FS_RENAME,
    META_FS_DELETE,
    META_FS_MKDIR,
};
typedef int (*meta_fs_fault_fn)(int op, const char *path, const char *path2, size_t *len);
/* Installs the hook for every database of the process (NULL, the default: none). The one piece
 * of global mutable state of meta/ besides the shared cache, set only by tests (store_fault.h). */
void meta_fs_set_fault_hook(meta_fs_fault_fn fn);

#endif
