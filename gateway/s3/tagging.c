/* tagging.c — tag sets: the Tagging document, the x-amz-tagging header, the checks S3 makes and
 * the stored form (see tagging.h for the rules).
 *
 * Both readers first get the tags out as the client wrote them (any structural fault answers
 * before a tag is looked at, MalformedXML for the document and InvalidArgument for the header),
 * then hand them to one validator, so the document and the header answer a bad tag alike.
 */
#include <string.h>
#include <stdlib.h>
#include "common/bytes.h"
#include "common/utf8.h"
#include "gateway/s3/tagging.h"
#include "gateway/s3/tagging_internal.h"

static const char HEADER_MESSAGE[] = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                                     "parameters without tag name duplicates.";

/* Decodes the UTF-8 sequence at p[*i..len) strictly and advances *i; returns the code point,
 * or -1. */
static int32_t utf8_next(const unsigned char *p, size_t len, size_t *i)
{
    uint32_t cp;
    size_t n = yc_utf8_seq(p + *i, len - *i, &cp);
    if (n == 0)
        return -1;
    *i += n;
    return (int32_t)cp;
}

size_t s3_utf16_length(h2o_iovec_t text)
{
    const unsigned char *p = (const unsigned char *)text.base;
    size_t i = 0, units = 0;

    while (i < text.len) {
        int32_t cp = utf8_next(p, text.len, &i);
        if (cp < 0)
            return SIZE_MAX;
        units += cp >= 0x10000 ? 2 : 1; /* a surrogate pair in UTF-16 */
    }
    return units;
}

/* 1 when every character of text is one a tag may hold and its UTF-16 length is in [min, max]. */
static int tag_text_valid(h2o_iovec_t text, size_t min, size_t max)
{
    const unsigned char *p = (const unsigned char *)text.base;
    size_t i = 0, units = 0;

    while (i < text.len) {
        int32_t cp = utf8_next(p, text.len, &i);
        if (cp < 0)
            return 0;
        int symbol = cp > 0 && cp < 0x80 && strchr("_.:/=+-@", cp) != NULL; /* strchr takes a char */
        if (!symbol && !s3_tag_char_is_letter_number_space((uint32_t)cp))
            return 0;
        units += cp >= 0x10000 ? 2 : 1;
        if (units > max)
            return 0;
    }
    return units >= min;
}

int s3_tag_key_valid(h2o_iovec_t key)
{
    return tag_text_valid(key, 1, S3_TAG_KEY_MAX);
}

int s3_tag_value_valid(h2o_iovec_t value)
{
    return tag_text_valid(value, 0, S3_TAG_VALUE_MAX);
}

static int has_aws_prefix(h2o_iovec_t key)
{
    return key.len >= 4 && h2o_lcstris(key.base, 4, H2O_STRLIT("aws:"));
}

int s3_tagging_validate(const s3_tagset_t *set, s3_tags_of_t of, s3_error_detail_t *why)
{
    for (size_t i = 0; i < set->count; i++) {
        const s3_tag_t *t = &set->tags[i];
        int ret;
        if (!s3_tag_key_valid(t->key)) {
            ret = s3_error_detail_set(why, S3_ERR_INVALID_TAG, "The TagKey you have provided is invalid");
            s3_error_detail_field(why, "TagKey", t->key);
            return ret;
        }
        if (!s3_tag_value_valid(t->value)) {
            ret = s3_error_detail_set(why, S3_ERR_INVALID_TAG, "The TagValue you have provided is invalid");
            s3_error_detail_field(why, "TagKey", t->key);
            s3_error_detail_field(why, "TagValue", t->value);
            return ret;
        }
        if (has_aws_prefix(t->key)) {
            ret = s3_error_detail_set(why, S3_ERR_INVALID_TAG, "Your TagKey cannot be prefixed with aws:");
            s3_error_detail_field(why, "TagKey", t->key);
            return ret;
        }
        /* quadratic, but over at most the tags a document can carry before the count refuses it */
        for (size_t j = 0; j < i; j++) {
            if (h2o_memis(set->tags[j].key.base, set->tags[j].key.len, t->key.base, t->key.len)) {
                ret = s3_error_detail_set(why, S3_ERR_INVALID_TAG, "Cannot provide multiple Tags with the same key");
                s3_error_detail_field(why, "TagKey", t->key);
                return ret;
            }
        }
    }
    if (of == S3_TAGS_OBJECT && set->count > S3_TAGS_MAX_OBJECT)
        return s3_error_detail_set(why, S3_ERR_BAD_REQUEST, "Object tags cannot be greater than 10");
    if (of == S3_TAGS_BUCKET && set->count > S3_TAGS_MAX_BUCKET)
        return s3_error_detail_set(why, S3_ERR_BAD_REQUEST, "Object tags cannot be greater than 50");
    return 0;
}

/* ---- the document ---- */

int s3_tagging_parse_xml(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_tags_of_t of, s3_tagset_t *out,
                         s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    const s3_xml_node_t *set;
    size_t n = 0;
    int ret;

    out->tags = NULL;
    out->count = 0;
    if ((ret = s3_xml_parse_tree(pool, body, S3_TAGGING_MAX_BODY, S3_TAGGING_MAX_NODE, &root)) != 0)
        goto malformed;
    if (!s3_xml_is(root, "Tagging") || s3_xml_count(root, "TagSet") != 1)
        goto malformed;
    set = s3_xml_child(root, "TagSet");
    size_t cap = s3_xml_count(set, "Tag");
    if (cap != 0)
        out->tags = h2o_mem_alloc_pool(pool, cap * sizeof(*out->tags));
    for (const s3_xml_node_t *t = set->first; t != NULL; t = t->next) {
        if (!s3_xml_is(t, "Tag"))
            continue;
        const s3_xml_node_t *k = s3_xml_child(t, "Key"), *v = s3_xml_child(t, "Value");
        if (s3_xml_count(t, "Key") != 1 || s3_xml_count(t, "Value") != 1 || k->has_children || v->has_children)
            goto malformed;
        out->tags[n].key = k->text;
        out->tags[n].value = v->text;
        n++;
    }
    out->count = n;
    if ((ret = s3_tagging_validate(out, of, why)) != 0) {
        out->tags = NULL;
        out->count = 0;
    }
    return ret;

malformed:
    out->tags = NULL;
    out->count = 0;
    return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
}

void s3_tagging_write_xml(s3_xml_writer_t *w, const s3_tagset_t *set)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "Tagging");
    s3_xml_open(w, "TagSet");
    for (size_t i = 0; i < set->count; i++) {
        s3_xml_open(w, "Tag");
        s3_xml_element(w, "Key", set->tags[i].key);
        s3_xml_element(w, "Value", set->tags[i].value);
        s3_xml_close(w, "Tag");
    }
    s3_xml_close(w, "TagSet");
    s3_xml_close(w, "Tagging");
}

/* ---- the header ---- */

/* Decodes a form-encoded piece ('+' is a space, %XX a byte) into memory from pool; -1 on a bad
 * escape or a result that is not UTF-8. */
static int form_decode(h2o_mem_pool_t *pool, const char *s, size_t len, h2o_iovec_t *out)
{
    char *d = h2o_mem_alloc_pool(pool, len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = yc_hex_digit(s[i + 1])) < 0 || (lo = yc_hex_digit(s[i + 2])) < 0)
                return -1;
            d[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[n++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    d[n] = '\0';
    *out = h2o_iovec_init(d, n);
    return s3_utf16_length(*out) == SIZE_MAX ? -1 : 0;
}

int s3_tagging_parse_header(h2o_mem_pool_t *pool, h2o_iovec_t value, s3_tagset_t *out, s3_error_detail_t *why)
{
    size_t cap = 1, n = 0;
    int ret;

    out->tags = NULL;
    out->count = 0;
    for (size_t i = 0; i < value.len; i++)
        cap += value.base[i] == '&';
    out->tags = h2o_mem_alloc_pool(pool, cap * sizeof(*out->tags));
    for (size_t start = 0; start <= value.len;) {
        const char *piece = value.base + start, *amp = memchr(piece, '&', value.len - start);
        size_t len = amp != NULL ? (size_t)(amp - piece) : value.len - start;
        start += len + 1;
        if (len == 0)
            continue; /* "a=1&&b=2", a leading or a trailing '&' */
        const char *eq = memchr(piece, '=', len);
        size_t klen = eq != NULL ? (size_t)(eq - piece) : len;
        s3_tag_t *t = &out->tags[n];
        if (klen == 0 || (eq != NULL && memchr(eq + 1, '=', len - klen - 1) != NULL))
            goto bad_header;
        if (form_decode(pool, piece, klen, &t->key) != 0)
            goto bad_header;
        t->value = h2o_iovec_init("", 0); /* "key" alone: the empty value */
        if (eq != NULL && form_decode(pool, eq + 1, len - klen - 1, &t->value) != 0)
            goto bad_header;
        for (size_t j = 0; j < n; j++)
            if (h2o_memis(out->tags[j].key.base, out->tags[j].key.len, t->key.base, t->key.len))
                goto bad_header;
        n++;
    }
    out->count = n;
    if (n == 0)
        out->tags = NULL;
    if ((ret = s3_tagging_validate(out, S3_TAGS_OBJECT, why)) != 0) {
        out->tags = NULL;
        out->count = 0;
    }
    return ret;

bad_header:
    out->tags = NULL;
    out->count = 0;
    ret = s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT, HEADER_MESSAGE);
    s3_error_detail_field(why, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-tagging")));
    s3_error_detail_field(why, "ArgumentValue", value);
    return ret;
}

/* ---- sets ---- */

static int key_cmp(h2o_iovec_t a, h2o_iovec_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n != 0 ? memcmp(a.base, b.base, n) : 0;
    return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int tag_cmp(const void *a, const void *b)
{
    return key_cmp(((const s3_tag_t *)a)->key, ((const s3_tag_t *)b)->key);
}

void s3_tagset_sort(s3_tagset_t *set)
{
    if (set->count > 1)
        qsort(set->tags, set->count, sizeof(*set->tags), tag_cmp);
}

const s3_tag_t *s3_tagset_find(const s3_tagset_t *set, h2o_iovec_t key)
{
    for (size_t i = 0; set != NULL && i < set->count; i++)
        if (h2o_memis(set->tags[i].key.base, set->tags[i].key.len, key.base, key.len))
            return &set->tags[i];
    return NULL;
}

/* ---- stored form ---- */

/* What the decoder accepts of one pair: a key and a value of valid length (characters are not
 * checked: what was stored under older rules stays readable). */
static int stored_pair_ok(const s3_tag_t *t)
{
    size_t k = s3_utf16_length(t->key), v = s3_utf16_length(t->value);
    return k != SIZE_MAX && k >= 1 && k <= S3_TAG_KEY_MAX && v != SIZE_MAX && v <= S3_TAG_VALUE_MAX;
}

int s3_tagging_encode(h2o_mem_pool_t *pool, const s3_tagset_t *set, h2o_iovec_t *out)
{
    s3_tag_t *sorted;
    size_t len = 0;
    uint8_t *p;

    *out = h2o_iovec_init(NULL, 0);
    if (set->count == 0)
        return 0;
    if (set->count > S3_TAGS_MAX_BUCKET)
        return -S3_ERR_INVALID_TAG;
    sorted = h2o_mem_alloc_pool(pool, set->count * sizeof(*sorted));
    memcpy(sorted, set->tags, set->count * sizeof(*sorted));
    qsort(sorted, set->count, sizeof(*sorted), tag_cmp);
    for (size_t i = 0; i < set->count; i++) {
        if (!stored_pair_ok(&sorted[i]) || (i > 0 && key_cmp(sorted[i - 1].key, sorted[i].key) == 0))
            return -S3_ERR_INVALID_TAG;
        len += 8 + sorted[i].key.len + sorted[i].value.len; /* lengths are checked small above */
    }
    p = h2o_mem_alloc_pool(pool, len);
    out->base = (char *)p;
    out->len = len;
    for (size_t i = 0; i < set->count; i++) {
        yc_put_le32(p, (uint32_t)sorted[i].key.len);
        memcpy(p + 4, sorted[i].key.base, sorted[i].key.len);
        p += 4 + sorted[i].key.len;
        yc_put_le32(p, (uint32_t)sorted[i].value.len);
        if (sorted[i].value.len != 0)
            memcpy(p + 4, sorted[i].value.base, sorted[i].value.len);
        p += 4 + sorted[i].value.len;
    }
    return 0;
}

/* Reads one length-prefixed string at *pos; -1 when it runs past len. */
static int read_string(const uint8_t *p, size_t len, size_t *pos, h2o_iovec_t *out)
{
    if (len - *pos < 4)
        return -1;
    uint32_t n = yc_get_le32(p + *pos);
    if (len - *pos - 4 < n)
        return -1;
    *out = h2o_iovec_init((const char *)p + *pos + 4, n);
    *pos += 4 + (size_t)n;
    return 0;
}

int s3_tagging_decode(h2o_mem_pool_t *pool, h2o_iovec_t bytes, s3_tagset_t *out)
{
    const uint8_t *p = (const uint8_t *)bytes.base;
    s3_tag_t tags[S3_TAGS_MAX_BUCKET];
    size_t pos = 0, n = 0;

    out->tags = NULL;
    out->count = 0;
    while (pos < bytes.len) {
        if (n == S3_TAGS_MAX_BUCKET)
            return -S3_ERR_INTERNAL_ERROR;
        if (read_string(p, bytes.len, &pos, &tags[n].key) != 0 || read_string(p, bytes.len, &pos, &tags[n].value) != 0)
            return -S3_ERR_INTERNAL_ERROR;
        /* strictly ascending keys: the one encoding, and no duplicate */
        if (!stored_pair_ok(&tags[n]) || (n > 0 && key_cmp(tags[n - 1].key, tags[n].key) >= 0))
            return -S3_ERR_INTERNAL_ERROR;
        n++;
    }
    if (n != 0) {
        out->tags = h2o_mem_alloc_pool(pool, n * sizeof(*out->tags));
        memcpy(out->tags, tags, n * sizeof(*out->tags));
    }
    out->count = n;
    return 0;
}
