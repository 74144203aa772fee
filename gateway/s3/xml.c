/* xml.c — the XML writer and the request body parsers (see xml.h for the rules).
 *
 * Parsing is one generic expat driver plus a small callback per document. The driver keeps the
 * stack of open elements as tag ids of the document's name table (0 for names it does not know),
 * collects character data of the innermost element and calls the document's start and end
 * callbacks with the element, its parent and its depth; the callbacks only check the place of
 * each element and store values. Anything unexpected sets `failed` and stops expat, so one flag
 * carries every error out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
/* The distribution's libexpat is built with DTD support (expat's default); declaring it exposes
 * the billion-laughs limits. A library built without it fails at link time, not silently. */
#ifndef XML_DTD
#define XML_DTD
#endif
#include <expat.h>
#include "gateway/s3/xml.h"
#include "common/bigbuf.h"
#include "common/bytes.h"

/* ---- writer ---- */

#define WRITER_BIGBUF_MIN ((size_t)128 << 10)

static void bigbuf_dispose(void *holder)
{
    yc_bigbuf_free(*(void **)holder);
}

/* cap bytes that live as long as the pool. A large document (a listing page is about 350 KiB)
 * from the pool would be a fresh mapping at each doubling, paying a page fault and the kernel's
 * zeroing per page touched; common/bigbuf's buffers are mapped already. */
static char *writer_alloc(h2o_mem_pool_t *pool, size_t cap)
{
    if (cap >= WRITER_BIGBUF_MIN) {
        void **holder = h2o_mem_alloc_shared(pool, sizeof(*holder), bigbuf_dispose);
        if ((*holder = yc_bigbuf_alloc(cap)) != NULL)
            return *holder;
    }
    return h2o_mem_alloc_pool(pool, cap);
}

static void writer_reserve(s3_xml_writer_t *w, size_t extra)
{
    size_t need = w->len + extra + 1; /* +1 keeps room for the terminating NUL */
    if (need <= w->cap)
        return;
    size_t cap = w->cap != 0 ? w->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = writer_alloc(w->pool, cap);
    if (w->len != 0)
        memcpy(p, w->buf, w->len);
    w->buf = p;
    w->cap = cap;
}

void s3_xml_writer_init(s3_xml_writer_t *w, h2o_mem_pool_t *pool)
{
    w->pool = pool;
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
}

h2o_iovec_t s3_xml_writer_result(s3_xml_writer_t *w)
{
    writer_reserve(w, 0);
    w->buf[w->len] = '\0';
    return h2o_iovec_init(w->buf, w->len);
}

void s3_xml_raw(s3_xml_writer_t *w, const char *s, size_t len)
{
    writer_reserve(w, len);
    if (len != 0)
        memcpy(w->buf + w->len, s, len);
    w->len += len;
}

static void writer_str(s3_xml_writer_t *w, const char *s)
{
    s3_xml_raw(w, s, strlen(s));
}

void s3_xml_declaration(s3_xml_writer_t *w)
{
    writer_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void s3_xml_open(s3_xml_writer_t *w, const char *name)
{
    s3_xml_raw(w, "<", 1);
    writer_str(w, name);
    s3_xml_raw(w, ">", 1);
}

void s3_xml_open_root(s3_xml_writer_t *w, const char *name)
{
    s3_xml_raw(w, "<", 1);
    writer_str(w, name);
    writer_str(w, " xmlns=\"" S3_XML_NS "\">");
}

void s3_xml_close(s3_xml_writer_t *w, const char *name)
{
    s3_xml_raw(w, "</", 2);
    writer_str(w, name);
    s3_xml_raw(w, ">", 1);
}

void s3_xml_text(s3_xml_writer_t *w, h2o_iovec_t text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = 0;

    /* runs of plain bytes are copied at once; only the bytes that need it are expanded */
    for (size_t i = 0; i < text.len; i++) {
        unsigned char c = (unsigned char)text.base[i];
        const char *rep = NULL;
        char num[8];
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == '\r') {
                num[0] = '&';
                num[1] = '#';
                num[2] = 'x';
                size_t n = 3;
                if (c >= 0x10)
                    num[n++] = hex[c >> 4];
                num[n++] = hex[c & 0xf];
                num[n++] = ';';
                num[n] = '\0';
                rep = num;
            }
            break;
        }
        if (rep != NULL) {
            s3_xml_raw(w, text.base + start, i - start);
            writer_str(w, rep);
            start = i + 1;
        }
    }
    s3_xml_raw(w, text.base + start, text.len - start);
}

void s3_xml_element(s3_xml_writer_t *w, const char *name, h2o_iovec_t text)
{
    s3_xml_open(w, name);
    s3_xml_text(w, text);
    s3_xml_close(w, name);
}

void s3_xml_element_str(s3_xml_writer_t *w, const char *name, const char *text)
{
    s3_xml_element(w, name, h2o_iovec_init(text, strlen(text)));
}

void s3_xml_element_uint(s3_xml_writer_t *w, const char *name, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
    s3_xml_open(w, name);
    s3_xml_raw(w, buf, (size_t)n);
    s3_xml_close(w, name);
}

void s3_xml_element_int(s3_xml_writer_t *w, const char *name, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    s3_xml_open(w, name);
    s3_xml_raw(w, buf, (size_t)n);
    s3_xml_close(w, name);
}

void s3_xml_element_bool(s3_xml_writer_t *w, const char *name, int v)
{
    s3_xml_element_str(w, name, v ? "true" : "false");
}

size_t s3_xml_format_time(int64_t ns, char *buf)
{
    /* floor division, so times before the epoch still round towards the past */
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* int64 nanoseconds span the years 1677..2262, so the fields always have their fixed width */
    int n = snprintf(buf, S3_XML_TIME_LEN + 8, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
    return (size_t)n;
}

void s3_xml_element_time(s3_xml_writer_t *w, const char *name, int64_t ns)
{
    char buf[S3_XML_TIME_LEN + 8];
    size_t n = s3_xml_format_time(ns, buf);
    s3_xml_open(w, name);
    s3_xml_raw(w, buf, n);
    s3_xml_close(w, name);
}

/* ---- parser driver ---- */

typedef struct xml_doc xml_doc_t;

struct xml_doc {
    XML_Parser parser;
    h2o_mem_pool_t *pool;
    const char *const *names; /* tag id i+1 is names[i]; NULL-terminated */
    int root;                 /* tag id the document element must have */
    int failed;
    unsigned depth;
    int stack[S3_XML_MAX_DEPTH + 1]; /* stack[d] is the tag of the element at depth d (1 = root) */
    int has_child[S3_XML_MAX_DEPTH + 1];
    const char *name; /* local name of the element being started, for on_start only */
    int (*on_start)(xml_doc_t *d, int tag, int parent);
    int (*on_end)(xml_doc_t *d, int tag, int parent, h2o_iovec_t text);
    void *out;
    size_t text_len;
    int text_overflow;
    char text[S3_XML_MAX_TEXT];
};

static void doc_fail(xml_doc_t *d)
{
    if (!d->failed) {
        d->failed = 1;
        XML_StopParser(d->parser, XML_FALSE);
    }
}

/* With namespace processing on, expat gives "uri\nlocal" or "local". */
static const char *local_name(const char *name)
{
    const char *local = strrchr(name, '\n');
    return local != NULL ? local + 1 : name;
}

static int doc_tag(const xml_doc_t *d, const char *name)
{
    const char *local = local_name(name);
    for (int i = 0; d->names[i] != NULL; i++)
        if (strcmp(d->names[i], local) == 0)
            return i + 1;
    return 0;
}

static void XMLCALL doc_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    xml_doc_t *d = ud;
    (void)attrs; /* S3 request bodies carry no meaningful attributes */
    if (d->failed)
        return;
    if (d->depth >= S3_XML_MAX_DEPTH) {
        doc_fail(d);
        return;
    }
    int tag = doc_tag(d, name);
    int parent = d->stack[d->depth];
    if (d->depth == 0 && tag != d->root) {
        doc_fail(d);
        return;
    }
    d->has_child[d->depth] = 1;
    d->depth++;
    d->stack[d->depth] = tag;
    d->has_child[d->depth] = 0;
    d->text_len = 0;
    d->text_overflow = 0;
    d->name = local_name(name);
    if (d->on_start != NULL && d->on_start(d, tag, parent) != 0)
        doc_fail(d);
}

static void XMLCALL doc_end(void *ud, const XML_Char *name)
{
    xml_doc_t *d = ud;
    (void)name; /* the stack already holds the element's tag */
    if (d->failed || d->depth == 0)
        return;
    int tag = d->stack[d->depth];
    int parent = d->stack[d->depth - 1];
    /* the text is the element's own only when it has no child; callbacks that want a leaf's
     * value get a NULL base otherwise and treat that as malformed */
    h2o_iovec_t text = h2o_iovec_init(NULL, 0);
    if (!d->has_child[d->depth] && !d->text_overflow)
        text = h2o_iovec_init(d->text, d->text_len);
    if (d->on_end(d, tag, parent, text) != 0) {
        doc_fail(d);
        return;
    }
    d->depth--;
    d->text_len = 0;
    d->text_overflow = 0;
}

static void XMLCALL doc_chars(void *ud, const XML_Char *s, int len)
{
    xml_doc_t *d = ud;
    if (d->failed || len <= 0)
        return;
    if ((size_t)len > sizeof(d->text) - d->text_len) {
        d->text_overflow = 1;
        return;
    }
    memcpy(d->text + d->text_len, s, (size_t)len);
    d->text_len += (size_t)len;
}

static void XMLCALL doc_refuse_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                                       int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    doc_fail(ud); /* a DTD is the door to entity expansion and external fetches: S3 bodies never carry one */
}

static void XMLCALL doc_refuse_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                                      int value_len, const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
                                      const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid, (void)notation;
    doc_fail(ud);
}

/* Runs the parser over body; returns 0 or -S3_ERR_MALFORMED_XML. */
static int doc_parse(xml_doc_t *d, h2o_iovec_t body)
{
    int ret = -S3_ERR_MALFORMED_XML;

    if (body.len == 0 || body.len > S3_XML_MAX_BODY)
        return ret;
    if ((d->parser = XML_ParserCreateNS(NULL, '\n')) == NULL)
        return -S3_ERR_INTERNAL_ERROR;
    XML_SetUserData(d->parser, d);
    XML_SetElementHandler(d->parser, doc_start, doc_end);
    XML_SetCharacterDataHandler(d->parser, doc_chars);
    XML_SetStartDoctypeDeclHandler(d->parser, doc_refuse_doctype);
    XML_SetEntityDeclHandler(d->parser, doc_refuse_entity);
    XML_SetParamEntityParsing(d->parser, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 4)
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(d->parser, 2.0f);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(d->parser, 64 * 1024);
#endif
    if (XML_Parse(d->parser, body.base, (int)body.len, XML_TRUE) != XML_STATUS_OK || d->failed)
        goto fail;
    ret = 0;

fail:
    XML_ParserFree(d->parser);
    d->parser = NULL;
    return ret;
}

static void doc_init(xml_doc_t *d, h2o_mem_pool_t *pool, const char *const *names, int root, void *out)
{
    memset(d, 0, offsetof(xml_doc_t, text));
    d->pool = pool;
    d->names = names;
    d->root = root;
    d->out = out;
}

static h2o_iovec_t doc_strdup(xml_doc_t *d, h2o_iovec_t text)
{
    char *p = h2o_mem_alloc_pool(d->pool, text.len + 1);
    if (text.len != 0)
        memcpy(p, text.base, text.len);
    p[text.len] = '\0';
    return h2o_iovec_init(p, text.len);
}

/* XML schema integers allow surrounding whitespace; S3 values never need more than 10 digits. */
static int parse_uint32(h2o_iovec_t text, uint32_t *out)
{
    size_t i = 0, end = text.len;
    uint64_t v = 0;
    while (i < end && (text.base[i] == ' ' || text.base[i] == '\t' || text.base[i] == '\n' || text.base[i] == '\r'))
        i++;
    while (end > i && (text.base[end - 1] == ' ' || text.base[end - 1] == '\t' || text.base[end - 1] == '\n' ||
                       text.base[end - 1] == '\r'))
        end--;
    if (i == end)
        return -1;
    for (; i < end; i++) {
        if (text.base[i] < '0' || text.base[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(text.base[i] - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int text_is(h2o_iovec_t text, const char *s)
{
    return text.base != NULL && h2o_memis(text.base, text.len, s, strlen(s));
}

/* Grows a pool array by doubling; old blocks stay with the pool. */
static void *grow_array(h2o_mem_pool_t *pool, void *old, size_t count, size_t *cap, size_t elem)
{
    if (count < *cap)
        return old;
    size_t ncap = *cap != 0 ? *cap * 2 : 16;
    void *p = h2o_mem_alloc_pool(pool, ncap * elem);
    if (count != 0)
        memcpy(p, old, count * elem);
    *cap = ncap;
    return p;
}

/* ---- CompleteMultipartUpload ---- */

enum { C_ROOT = 1, C_PART, C_NUMBER, C_ETAG, C_CRC32, C_CRC32C, C_CRC64NVME, C_SHA1, C_SHA256 };
static const char *const complete_names[] = {
    "CompleteMultipartUpload", "Part",         "PartNumber",     "ETag", "ChecksumCRC32", "ChecksumCRC32C",
    "ChecksumCRC64NVME",       "ChecksumSHA1", "ChecksumSHA256", NULL};

typedef struct {
    s3_xml_complete_t *out;
    size_t cap;
    int have_number, have_etag;
} complete_state_t;

static int complete_start(xml_doc_t *d, int tag, int parent)
{
    complete_state_t *st = d->out;
    if (tag == C_PART && parent == C_ROOT && d->depth == 2) {
        s3_xml_complete_t *c = st->out;
        if (c->count >= S3_XML_MAX_PARTS)
            return -1;
        c->parts = grow_array(d->pool, c->parts, c->count, &st->cap, sizeof(*c->parts));
        memset(&c->parts[c->count], 0, sizeof(c->parts[0]));
        c->count++;
        st->have_number = st->have_etag = 0;
    }
    return 0;
}

static int complete_end(xml_doc_t *d, int tag, int parent, h2o_iovec_t text)
{
    complete_state_t *st = d->out;
    s3_xml_complete_t *c = st->out;

    if (parent == C_PART && d->depth == 3) {
        s3_xml_part_t *p = &c->parts[c->count - 1];
        h2o_iovec_t *dst = NULL;
        switch (tag) {
        case C_NUMBER:
            if (text.base == NULL || st->have_number || parse_uint32(text, &p->part_number) != 0)
                return -1;
            st->have_number = 1;
            return 0;
        case C_ETAG:
            if (text.base == NULL || st->have_etag)
                return -1;
            p->etag = doc_strdup(d, text);
            st->have_etag = 1;
            return 0;
        case C_CRC32:
            dst = &p->checksum_crc32;
            break;
        case C_CRC32C:
            dst = &p->checksum_crc32c;
            break;
        case C_CRC64NVME:
            dst = &p->checksum_crc64nvme;
            break;
        case C_SHA1:
            dst = &p->checksum_sha1;
            break;
        case C_SHA256:
            dst = &p->checksum_sha256;
            break;
        default:
            return 0;
        }
        if (text.base == NULL || dst->base != NULL)
            return -1;
        *dst = doc_strdup(d, text);
        return 0;
    }
    if (tag == C_PART && parent == C_ROOT && d->depth == 2)
        return st->have_number && st->have_etag ? 0 : -1;
    return 0;
}

int s3_xml_parse_complete(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_complete_t *out)
{
    xml_doc_t d;
    complete_state_t st = {out, 0, 0, 0};
    int ret;

    out->parts = NULL;
    out->count = 0;
    doc_init(&d, pool, complete_names, C_ROOT, &st);
    d.on_start = complete_start;
    d.on_end = complete_end;
    if ((ret = doc_parse(&d, body)) != 0)
        goto fail;
    if (out->count == 0) {
        ret = -S3_ERR_MALFORMED_XML;
        goto fail;
    }
    return 0;

fail:
    out->parts = NULL;
    out->count = 0;
    return ret;
}

int s3_xml_complete_check_order(const s3_xml_complete_t *c)
{
    for (size_t i = 0; i < c->count; i++)
        if (c->parts[i].part_number < 1 || c->parts[i].part_number > 10000)
            return -S3_ERR_INVALID_ARGUMENT;
    for (size_t i = 1; i < c->count; i++)
        if (c->parts[i].part_number <= c->parts[i - 1].part_number)
            return -S3_ERR_INVALID_PART_ORDER;
    return 0;
}

/* ---- DeleteObjects ---- */

enum { D_ROOT = 1, D_QUIET, D_OBJECT, D_KEY, D_VERSION, D_ETAG, D_MTIME, D_SIZE };
static const char *const delete_names[] = {"Delete",           "Quiet", "Object", "Key", "VersionId", "ETag",
                                           "LastModifiedTime", "Size",  NULL};

typedef struct {
    s3_xml_delete_t *out;
    size_t cap;
    int have_key, have_quiet;
} delete_state_t;

static int delete_start(xml_doc_t *d, int tag, int parent)
{
    delete_state_t *st = d->out;
    if (tag == D_OBJECT && parent == D_ROOT && d->depth == 2) {
        s3_xml_delete_t *del = st->out;
        if (del->count >= S3_XML_MAX_DELETE)
            return -1;
        del->objects = grow_array(d->pool, del->objects, del->count, &st->cap, sizeof(*del->objects));
        memset(&del->objects[del->count], 0, sizeof(del->objects[0]));
        del->count++;
        st->have_key = 0;
    }
    return 0;
}

static int delete_end(xml_doc_t *d, int tag, int parent, h2o_iovec_t text)
{
    delete_state_t *st = d->out;
    s3_xml_delete_t *del = st->out;

    if (parent == D_OBJECT && d->depth == 3) {
        s3_xml_delete_object_t *o = &del->objects[del->count - 1];
        h2o_iovec_t *dst;
        switch (tag) {
        case D_KEY:
            if (st->have_key)
                return -1;
            st->have_key = 1;
            dst = &o->key;
            break;
        case D_VERSION:
            dst = &o->version_id;
            break;
        case D_ETAG:
            dst = &o->etag;
            break;
        case D_MTIME:
            if (o->has_mtime || text.base == NULL || s3_xml_parse_iso8601(text, &o->mtime_ns) != 0)
                return -1;
            o->has_mtime = 1;
            return 0;
        case D_SIZE:
            if (o->has_size || yc_decimal_u64(text.base, text.len, &o->size) != 0)
                return -1;
            o->has_size = 1;
            return 0;
        default:
            return 0;
        }
        if (text.base == NULL || dst->base != NULL)
            return -1;
        *dst = doc_strdup(d, text);
        return 0;
    }
    if (parent == D_ROOT && d->depth == 2) {
        if (tag == D_OBJECT)
            return st->have_key ? 0 : -1;
        if (tag == D_QUIET) {
            if (st->have_quiet)
                return -1;
            st->have_quiet = 1;
            /* xs:boolean */
            if (text_is(text, "true") || text_is(text, "1"))
                del->quiet = 1;
            else if (text_is(text, "false") || text_is(text, "0"))
                del->quiet = 0;
            else
                return -1;
        }
    }
    return 0;
}

int s3_xml_parse_delete(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_delete_t *out)
{
    xml_doc_t d;
    delete_state_t st = {out, 0, 0, 0};
    int ret;

    memset(out, 0, sizeof(*out));
    doc_init(&d, pool, delete_names, D_ROOT, &st);
    d.on_start = delete_start;
    d.on_end = delete_end;
    if ((ret = doc_parse(&d, body)) != 0)
        goto fail;
    if (out->count == 0) {
        ret = -S3_ERR_MALFORMED_XML;
        goto fail;
    }
    return 0;

fail:
    memset(out, 0, sizeof(*out));
    return ret;
}

/* ---- CreateBucketConfiguration ---- */

enum { B_ROOT = 1, B_LOCATION };
static const char *const bucket_names[] = {"CreateBucketConfiguration", "LocationConstraint", NULL};

static int bucket_end(xml_doc_t *d, int tag, int parent, h2o_iovec_t text)
{
    s3_xml_create_bucket_t *b = d->out;
    if (tag == B_LOCATION && parent == B_ROOT && d->depth == 2) {
        if (text.base == NULL || b->location_constraint.base != NULL)
            return -1;
        b->location_constraint = doc_strdup(d, text);
    }
    return 0;
}

int s3_xml_parse_create_bucket(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_create_bucket_t *out)
{
    xml_doc_t d;
    int ret;

    memset(out, 0, sizeof(*out));
    doc_init(&d, pool, bucket_names, B_ROOT, out);
    d.on_end = bucket_end;
    if ((ret = doc_parse(&d, body)) != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/* ---- VersioningConfiguration ---- */

enum { V_ROOT = 1, V_STATUS, V_MFA };
static const char *const versioning_names[] = {"VersioningConfiguration", "Status", "MfaDelete", NULL};

static int versioning_end(xml_doc_t *d, int tag, int parent, h2o_iovec_t text)
{
    s3_xml_versioning_t *v = d->out;
    if (parent != V_ROOT || d->depth != 2)
        return 0;
    if (tag == V_STATUS) {
        if (v->status != S3_VERSIONING_UNSET)
            return -1;
        if (text_is(text, "Enabled"))
            v->status = S3_VERSIONING_ENABLED;
        else if (text_is(text, "Suspended"))
            v->status = S3_VERSIONING_SUSPENDED;
        else
            return -1;
    } else if (tag == V_MFA) {
        if (v->mfa_delete != S3_MFA_DELETE_UNSET)
            return -1;
        if (text_is(text, "Enabled"))
            v->mfa_delete = S3_MFA_DELETE_ENABLED;
        else if (text_is(text, "Disabled"))
            v->mfa_delete = S3_MFA_DELETE_DISABLED;
        else
            return -1;
    }
    return 0;
}

int s3_xml_parse_versioning(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_xml_versioning_t *out)
{
    xml_doc_t d;
    int ret;

    memset(out, 0, sizeof(*out));
    doc_init(&d, pool, versioning_names, V_ROOT, out);
    d.on_end = versioning_end;
    if ((ret = doc_parse(&d, body)) != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/* ---- element trees ---- */

static const char *const tree_names[] = {NULL}; /* every element is tag 0: the tree keeps names */

typedef struct {
    s3_xml_node_t *root;
    s3_xml_node_t *open[S3_XML_MAX_DEPTH + 1]; /* open[d] is the element at depth d (1 = root) */
    s3_xml_node_t *last[S3_XML_MAX_DEPTH + 1]; /* last child added to open[d] */
    size_t nodes, max_nodes;
} tree_state_t;

static int tree_start(xml_doc_t *d, int tag, int parent)
{
    tree_state_t *st = d->out;
    (void)tag, (void)parent;
    if (st->nodes >= st->max_nodes)
        return -1;
    st->nodes++;
    s3_xml_node_t *n = h2o_mem_alloc_pool(d->pool, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->name = doc_strdup(d, h2o_iovec_init(d->name, strlen(d->name))).base;
    n->text = h2o_iovec_init("", 0);
    /* the driver has already pushed this element: it is at d->depth, its parent one above */
    unsigned depth = d->depth;
    if (depth == 1) {
        st->root = n;
    } else {
        s3_xml_node_t *p = st->open[depth - 1];
        p->has_children = 1;
        if (st->last[depth - 1] != NULL)
            st->last[depth - 1]->next = n;
        else
            p->first = n;
        st->last[depth - 1] = n;
    }
    st->open[depth] = n;
    st->last[depth] = NULL;
    return 0;
}

static int tree_end(xml_doc_t *d, int tag, int parent, h2o_iovec_t text)
{
    tree_state_t *st = d->out;
    s3_xml_node_t *n = st->open[d->depth];
    (void)tag, (void)parent;
    if (n->has_children)
        return 0; /* white space between elements; S3's documents have no mixed content */
    if (text.base == NULL)
        return -1; /* a leaf whose text passed S3_XML_MAX_TEXT */
    n->text = doc_strdup(d, text);
    return 0;
}

int s3_xml_parse_tree(h2o_mem_pool_t *pool, h2o_iovec_t body, size_t max_body, size_t max_nodes, s3_xml_node_t **root)
{
    xml_doc_t d;
    tree_state_t st;
    int ret;

    *root = NULL;
    if (body.len > max_body)
        return -S3_ERR_MALFORMED_XML;
    memset(&st, 0, sizeof(st));
    st.max_nodes = max_nodes;
    doc_init(&d, pool, tree_names, 0, &st);
    d.on_start = tree_start;
    d.on_end = tree_end;
    if ((ret = doc_parse(&d, body)) != 0)
        return ret;
    if (st.root == NULL)
        return -S3_ERR_MALFORMED_XML;
    *root = st.root;
    return 0;
}

int s3_xml_is(const s3_xml_node_t *node, const char *name)
{
    return node != NULL && strcmp(node->name, name) == 0;
}

const s3_xml_node_t *s3_xml_child(const s3_xml_node_t *parent, const char *name)
{
    for (const s3_xml_node_t *c = parent->first; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

size_t s3_xml_count(const s3_xml_node_t *parent, const char *name)
{
    size_t n = 0;
    for (const s3_xml_node_t *c = parent->first; c != NULL; c = c->next)
        n += strcmp(c->name, name) == 0;
    return n;
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text without the XML white space around it (xs:whiteSpace collapse, for non-strings). */
static h2o_iovec_t trim_space(h2o_iovec_t t)
{
    while (t.len > 0 && is_xml_space(t.base[0])) {
        t.base++;
        t.len--;
    }
    while (t.len > 0 && is_xml_space(t.base[t.len - 1]))
        t.len--;
    return t;
}

int s3_xml_parse_int64(h2o_iovec_t text, int64_t *out)
{
    h2o_iovec_t t = trim_space(text);
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, limit;

    if (t.len > 0 && (t.base[0] == '+' || t.base[0] == '-')) {
        neg = t.base[0] == '-';
        i = 1;
    }
    if (i == t.len)
        return -S3_ERR_MALFORMED_XML;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < t.len; i++) {
        if (t.base[i] < '0' || t.base[i] > '9')
            return -S3_ERR_MALFORMED_XML;
        unsigned digit = (unsigned)(t.base[i] - '0');
        if (v > (limit - digit) / 10)
            return -S3_ERR_MALFORMED_XML;
        v = v * 10 + digit;
    }
    /* -2^63 has no positive counterpart: negate in unsigned arithmetic */
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int s3_xml_parse_bool(h2o_iovec_t text, int *out)
{
    h2o_iovec_t t = trim_space(text);
    if (h2o_memis(t.base, t.len, H2O_STRLIT("true")) || h2o_memis(t.base, t.len, H2O_STRLIT("1")))
        *out = 1;
    else if (h2o_memis(t.base, t.len, H2O_STRLIT("false")) || h2o_memis(t.base, t.len, H2O_STRLIT("0")))
        *out = 0;
    else
        return -S3_ERR_MALFORMED_XML;
    return 0;
}

/* Reads exactly n decimal digits at p; -1 when one is not a digit. */
static int read_digits(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), pure arithmetic, so no time zone or libc state is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int s3_xml_parse_iso8601(h2o_iovec_t text, int64_t *out_ns)
{
    h2o_iovec_t t = trim_space(text);
    const char *p = t.base;
    size_t n = t.len, i;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac_ns = 0, offset_s = 0;

    if (n < 10 || p[4] != '-' || p[7] != '-')
        return -S3_ERR_INVALID_ARGUMENT;
    if ((y = read_digits(p, 4)) < 0 || (mo = read_digits(p + 5, 2)) < 0 || (d = read_digits(p + 8, 2)) < 0)
        return -S3_ERR_INVALID_ARGUMENT;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -S3_ERR_INVALID_ARGUMENT;
    i = 10;
    if (i < n) {
        if (n < 19 || p[10] != 'T' || p[13] != ':' || p[16] != ':')
            return -S3_ERR_INVALID_ARGUMENT;
        if ((h = read_digits(p + 11, 2)) < 0 || (mi = read_digits(p + 14, 2)) < 0 || (sec = read_digits(p + 17, 2)) < 0)
            return -S3_ERR_INVALID_ARGUMENT;
        if (h > 23 || mi > 59 || sec > 59)
            return -S3_ERR_INVALID_ARGUMENT;
        i = 19;
        if (i < n && p[i] == '.') {
            size_t start = ++i;
            int64_t scale = 100000000;
            for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
                frac_ns += (p[i] - '0') * scale;
                scale /= 10;
            }
            if (i == start)
                return -S3_ERR_INVALID_ARGUMENT;
        }
        /* a time of day needs its zone: without one it would be local time, which is nobody's */
        if (i == n)
            return -S3_ERR_INVALID_ARGUMENT;
        if (p[i] == 'Z') {
            i++;
        } else if (p[i] == '+' || p[i] == '-') {
            int sign = p[i] == '-' ? -1 : 1, oh, om;
            if (n - i == 6 && p[i + 3] == ':') {
                oh = read_digits(p + i + 1, 2);
                om = read_digits(p + i + 4, 2);
            } else if (n - i == 5) {
                oh = read_digits(p + i + 1, 2);
                om = read_digits(p + i + 3, 2);
            } else {
                return -S3_ERR_INVALID_ARGUMENT;
            }
            if (oh < 0 || om < 0 || oh > 23 || om > 59)
                return -S3_ERR_INVALID_ARGUMENT;
            offset_s = sign * (int64_t)(oh * 3600 + om * 60);
            i = n;
        } else {
            return -S3_ERR_INVALID_ARGUMENT;
        }
        if (i != n)
            return -S3_ERR_INVALID_ARGUMENT;
    }
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11: whole years inside are safe */
    if (y < 1678 || y > 2261)
        return -S3_ERR_INVALID_ARGUMENT;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *out_ns = secs * 1000000000 + frac_ns;
    return 0;
}
