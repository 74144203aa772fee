/* gw_sse.h — server-side encryption of objects: what a request asks for, the keys, and the
 * encrypting and decrypting passes over an object's data.
 *
 * Kinds: SSE-S3 (x-amz-server-side-encryption: AES256), SM4 (x-amz-server-side-encryption: SM4,
 * or OBS's x-obs-server-side-data-encryption: SM4), SSE-KMS (aws:kms, with a named key of the
 * built-in key service, gw_kms.h) and SSE-C (x-amz-server-side-encryption-customer-*: the
 * client's own AES-256 key with every request).
 *
 * Key hierarchy. Every object gets a fresh random data key; its blocks are sealed under keys
 * derived from it (gw_sse_block.h). SSE-S3 and SM4 store the data key wrapped by the master key
 * (AES-256-GCM for SSE-S3, SM4-CTR + HMAC-SM3 for SM4; SSE-KMS: AES-256-GCM under the named key's
 * current version, itself derived from the master key), naming the master key's version, so a new
 * master key version rewraps keys without touching data and old versions stay readable. SSE-C
 * stores no key at all: the data key is HMAC-SHA-256 of a random salt under the customer's key,
 * and a second HMAC of the salt (the check) tells a wrong key from a damaged object. The stored
 * state is the object's META_ATTR_SSE attribute:
 *     u8 format (1) | u8 kind | u8 suite | be32 key version | material
 * or, for an object whose blocks were sealed before its size was known (format 2), the same with
 * a tag of the plaintext size (HMAC under a key derived from the data key) after the material.
 * material: the wrapped data key (GW_SSE_WRAPPED_LEN bytes) for SSE-S3 and SM4; the same, then the
 * KMS key's version (be32), its id's length (u8) and its id for SSE-KMS; salt (16) and check (32)
 * for SSE-C. The record's size and ETag are the plaintext's (SSE-C and SSE-KMS: the ETag is the
 * MD5 of the stored bytes, as S3's is no MD5 of the plaintext there); the part references hold the
 * stored sizes (gw_record_data_size).
 *
 * Master keys come from a file (sse_master_key_file: one key a line, 64 hex digits, line n is
 * version n, the last line is current) or an environment variable (sse_master_key_env: one key,
 * version 1); with neither, the embedded default keeps a generated key in data_dir, and gateways
 * over a drives_list have none (encrypted writes answer 501: each would generate its own). Never
 * logged.
 */
#ifndef YC_GW_SSE_H
#define YC_GW_SSE_H
#include "gateway/gw_handlers.h"
#include "gateway/gw_object.h"
#include "gateway/gw_sse_block.h"

typedef enum { GW_SSE_NONE = 0, GW_SSE_S3 = 1, GW_SSE_SM4 = 2, GW_SSE_C = 3, GW_SSE_KMS = 4 } gw_sse_kind_t;

/* What a request says about encryption (parsed, checked). */
typedef struct {
    gw_sse_kind_t kind;
    uint8_t customer_key[32];  /* SSE-C */
    char customer_key_md5[32]; /* SSE-C: the base64 MD5 as given, NUL-terminated */
    h2o_iovec_t kms_key_id;    /* SSE-KMS: the key's id (borrowed from the request or its bucket's default) */
} gw_sse_request_t;

/* The master keys: loaded once at start, read-only afterwards. */
typedef struct gw_sse_keys gw_sse_keys_t;
int gw_sse_keys_load(const gw_config_t *cfg, gw_sse_keys_t **out, char *err, size_t errlen);
void gw_sse_keys_free(gw_sse_keys_t *k);

/* The encryption a write asks for (PutObject, CopyObject, CreateMultipartUpload):
 * x-amz-server-side-encryption (or OBS's spelling) or the SSE-C headers, else the bucket's default
 * encryption. 0 (kind NONE when none), or the S3 error set and -1. */
int gw_sse_parse_write(gw_ctx_t *ctx, gw_sse_request_t *out);
/* The SSE-C headers of a read (GetObject, HeadObject); prefix "x-amz-" or, for a copy's source,
 * "x-amz-copy-source-". 0 (kind NONE or C), or the S3 error set and -1. */
int gw_sse_parse_customer(gw_ctx_t *ctx, const char *prefix, gw_sse_request_t *out);

/* ---------------------------------------------------------------- writing */

typedef struct gw_sse_writer gw_sse_writer_t;
/* An encrypting pass over plain_size bytes of inner, pulled unit bytes at a time (the size the
 * source hands out: gw_body_source's stripes). observe sees the plaintext in order, one call at a
 * time, maybe on the cluster's hash lane, but never after the source's next returned. plain_size
 * GW_SIZE_UNKNOWN (a form's file followed by other fields): what inner.next_upto gives until its
 * end; its blocks are sealed without the size, which the attribute binds at commit (format 2). */
int gw_sse_writer_new(gw_ctx_t *ctx, const gw_sse_request_t *req, gw_source_t inner, uint64_t plain_size, size_t unit,
                      gw_observe_fn observe, void *observe_arg, gw_sse_writer_t **out);
/* The source of the stored bytes, and how many there are (GW_SIZE_UNKNOWN for an unknown
 * plain_size: the source then has next_upto). */
gw_source_t gw_sse_writer_source(gw_sse_writer_t *w);
uint64_t gw_sse_writer_stored_size(const gw_sse_writer_t *w);
/* The plaintext's size: the one given, or, after the pass, the one found at the end. */
uint64_t gw_sse_writer_plain_size(const gw_sse_writer_t *w);
/* After the pass: the plaintext's MD5 (for Content-MD5) and the object's ETag digest, from
 * stored_md5 (the MD5 of the stored bytes, which gw_data_write computed). Once. */
void gw_sse_writer_digests(gw_sse_writer_t *w, const uint8_t stored_md5[16], uint8_t plain_md5[16], uint8_t etag[16]);
/* The attribute set attrs with META_ATTR_SSE added, appended to out (empty on entry). */
int gw_sse_writer_attrs(const gw_sse_writer_t *w, meta_bytes_t attrs, meta_buf_t *out);
void gw_sse_writer_free(gw_sse_writer_t *w);

/* ---------------------------------------------------------------- multipart uploads */

/* CreateMultipartUpload: attrs with the upload's META_ATTR_SSE for req (a fresh data key, wrapped;
 * or an SSE-C salt and check) appended to out (empty on entry). The object gets it at Complete. */
int gw_sse_upload_attrs(gw_ctx_t *ctx, const gw_sse_request_t *req, meta_bytes_t attrs, meta_buf_t *out);
/* UploadPart, UploadPartCopy: the encrypting pass of part number of an upload whose attribute
 * set is upload_attrs (req: the SSE-C headers given). 0 with *out NULL for an upload that is not
 * encrypted; else the S3 error set and -1 (a missing or wrong SSE-C key). */
int gw_sse_part_writer_new(gw_ctx_t *ctx, meta_bytes_t upload_attrs, uint32_t number, const gw_sse_request_t *req,
                           gw_source_t inner, uint64_t plain_size, size_t unit, gw_observe_fn observe,
                           void *observe_arg, gw_sse_writer_t **out);
/* The upload part an UploadPartCopy writes (gw_copy_data): the upload's attribute set, the part's
 * number and the SSE-C key the request gave for it. */
typedef struct gw_sse_part {
    meta_bytes_t upload_attrs;
    uint32_t number;
    const gw_sse_request_t *req;
} gw_sse_part_t;
/* The bytes stored for a part of plain_size bytes of an upload with attribute set attrs. */
uint64_t gw_sse_part_stored_size(meta_bytes_t attrs, uint64_t plain_size);
/* The plaintext size of a part of rec stored as stored_size bytes (itself when not encrypted). */
uint64_t gw_sse_part_plain_size(const meta_object_t *rec, uint64_t stored_size);

/* ---------------------------------------------------------------- reading */

typedef struct gw_sse_reader gw_sse_reader_t;
/* The decrypting view of version rec for a request that gave req (kind NONE when it gave no
 * SSE-C key): 0 with *out NULL for an object stored in plaintext; else the S3 error set and -1
 * (a key missing, wrong, or given for an object not stored with one). */
int gw_sse_reader_open(gw_ctx_t *ctx, const meta_object_t *rec, const gw_sse_request_t *req, gw_sse_reader_t **out);
/* Reads len plaintext bytes at off: only the blocks they touch are read and opened. GW_ESEALED
 * when a block does not open (changed bytes: never returned), else gw_object_read's codes. */
int gw_sse_read(gw_sse_reader_t *r, gw_object_t *o, uint64_t off, size_t len, void *buf);
/* Bytes of a buffer for gw_sse_read_stripe: one stripe of o and room for a sealed block before it. */
size_t gw_sse_stripe_buffer_len(const gw_object_t *o);
/* The plaintext from off (at most up to end) that the next stripe of o completes, opened in place in
 * buf (gw_sse_stripe_buffer_len bytes): decoded there by gw_object_read_stripe and each sealed block
 * opened where it lies, so nothing is copied but the piece of a block that crosses into the next
 * stripe (kept by r for the call that reads it). The bytes are *nvecs pieces of buf (at most
 * max_vecs), *len in all, never 0. Made for a stream that reads on from off + *len with the next
 * call (into another buffer: a piece kept is taken before buf is read into). Codes of gw_sse_read. */
int gw_sse_read_stripe(gw_sse_reader_t *r, gw_object_t *o, uint64_t off, uint64_t end, uint8_t *buf, h2o_iovec_t *vecs,
                       size_t max_vecs, size_t *nvecs, size_t *len);
void gw_sse_reader_free(gw_sse_reader_t *r);

/* The response headers that tell how an object (or upload) with attribute set attrs is encrypted
 * (PUT, GET, HEAD, copy and multipart answers); req: the request's SSE-C key MD5 to echo. */
void gw_sse_headers(gw_ctx_t *ctx, meta_bytes_t attrs, const gw_sse_request_t *req);
/* The kind rec is stored with (NONE for plaintext or an attribute that does not parse). */
gw_sse_kind_t gw_sse_kind_of(const meta_object_t *rec);

#endif
