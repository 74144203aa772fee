/* fuzz_meta_record.c — libFuzzer target for the record decoders, the null slot's framing and the
 * object key parser.
 *
 * Each input is tried twice: as it is, and with its last 8 bytes replaced by a valid xxh3-64 of
 * the rest. Raw inputs exercise the checksum gate; resealed inputs get past it, so the fuzzer
 * reaches the field parsing and semantic checks that a forged or buggy-but-checksummed record
 * would hit. Whatever decodes must re-encode to exactly the same bytes (the encoding is
 * canonical), and every nested encoding it carries (user metadata pairs, part references, part
 * checksums) must walk cleanly. A decoder that reads past len is caught by ASan because the input is copied into
 * an allocation of exactly its size.
 */
#include "meta/meta.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Records of the current format re-encode to the same bytes; older formats decode and are
 * written back in the current one. */
static void check_same(const meta_buf_t *b, const uint8_t *data, size_t len)
{
    if (meta_record_format(data, len) != META_RECORD_FORMAT)
        return;
    if (b->len != len || memcmp(b->base, data, len) != 0)
        abort();
}

static void walk_kv(meta_bytes_t kv)
{
    meta_bytes_t n, v;
    size_t pos = 0;

    while (meta_kv_next(kv, &pos, &n, &v) == 1)
        ;
    if (pos != kv.len) /* a decoded record's pairs were validated: they must walk to the end */
        abort();
}

static void walk_attrs(meta_bytes_t attrs)
{
    meta_bytes_t v;
    uint32_t id, prev = 0;
    size_t pos = 0;

    while (meta_attr_next(attrs, &pos, &id, &v) == 1) {
        meta_bytes_t got;
        if (id <= prev || meta_attr_get(attrs, id, &got) != 1 || got.base != v.base || got.len != v.len)
            abort(); /* a decoded record's attributes were validated: ascending and each found */
        prev = id;
    }
    if (pos != attrs.len)
        abort();
}

static void try_decoders(const uint8_t *data, size_t len)
{
    meta_buf_t out = {0};
    meta_bucket_t b;
    meta_object_t o;
    meta_upload_t u;
    meta_part_t p;
    meta_user_t us;
    meta_config_t cf;
    meta_part_ref_t ref;

    if (meta_bucket_decode(data, len, &b) == 0) {
        if (meta_bucket_encode(&b, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
    }
    if (meta_object_decode(data, len, &o) == 0) {
        if (meta_object_encode(&o, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
        walk_kv(o.user_meta);
        walk_attrs(o.attrs);
        for (uint32_t i = 0; i < o.part_count; i++) {
            meta_bytes_t ck;
            if (meta_object_part(&o, i, &ref) != 0)
                abort();
            /* part checksums, when kept, are one per part, of one size, inside the record */
            if (o.part_checksums.len > 0 &&
                (meta_object_part_checksum(&o, i, &ck) != 0 || ck.len == 0 || ck.len > META_CHECKSUM_MAX ||
                 ck.base + ck.len > o.part_checksums.base + o.part_checksums.len))
                abort();
        }
        if (meta_object_part(&o, o.part_count, &ref) != META_ENOENT)
            abort();
    }
    if (meta_upload_decode(data, len, &u) == 0) {
        if (meta_upload_encode(&u, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
        walk_kv(u.user_meta);
    }
    if (meta_part_decode(data, len, &p) == 0) {
        if (meta_part_encode(&p, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
    }
    if (meta_user_decode(data, len, &us) == 0) {
        if (meta_user_encode(&us, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
    }
    if (meta_config_decode(data, len, &cf) == 0) {
        if (meta_config_encode(&cf, &out) != 0)
            abort();
        check_same(&out, data, len);
        out.len = 0;
    }
    meta_buf_dispose(&out);
}

/* Parses data as an object or upload key and, when it parses, rebuilds the key from the parts. */
static void try_key(const uint8_t *data, size_t len)
{
    meta_bytes_t bucket, key;
    char key_buf[META_KEY_MAX];
    uint8_t vid[META_ID_LEN];
    int64_t mtime;
    meta_key_t k;
    int ret;

    if (meta_key_parse_object(data, len, &bucket, key_buf, &key, &mtime, vid) != 0)
        return;
    if (data[0] == 'O' && mtime == META_NULL_SLOT_MTIME)
        ret = meta_key_object_null(bucket, key, &k);
    else if (data[0] == 'O')
        ret = meta_key_object(bucket, key, mtime, vid, &k);
    else
        ret = meta_key_upload(bucket, key, vid, &k);
    if (ret != 0 || k.len != len || memcmp(k.buf, data, len) != 0)
        abort();
}

/* Walks data as a null slot's value: every record handed out lies inside it, a slot record
 * walks to its end, and what walks encodes back to the same bytes. */
static void try_slot(const uint8_t *data, size_t len)
{
    meta_bytes_t recs[META_SLOT_MAX + 1], r;
    meta_buf_t out = {0};
    size_t pos = 0, n = 0;
    int ret;

    while ((ret = meta_slot_next(data, len, &pos, &r)) == 1) {
        if (n == META_SLOT_MAX + 1 || r.base < (const char *)data || r.base + r.len > (const char *)data + len)
            abort();
        recs[n++] = r;
    }
    if (ret != 0 || n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (recs[i].len == 0)
            return; /* walks, but no encoder writes it: an empty record never decodes */
    if (meta_slot_encode(recs, n, &out) != 0)
        abort();
    check_same(&out, data, len);
    meta_buf_dispose(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    uint64_t h;

    if ((copy = malloc(size ? size : 1)) == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    try_decoders(copy, size);
    try_key(copy, size);
    try_slot(copy, size);
    if (size >= 10) {
        h = XXH3_64bits(copy, size - 8);
        for (int i = 0; i < 8; i++)
            copy[size - 8 + i] = (uint8_t)(h >> (8 * i));
        try_decoders(copy, size);
        try_slot(copy, size);
    }
    free(copy);
    return 0;
}
