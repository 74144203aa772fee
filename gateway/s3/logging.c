/* logging.c — BucketLoggingStatus documents and server access log lines (see logging.h). */
#include "gateway/s3/logging.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- the document */

int s3_logging_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_logging_config_t *out)
{
    s3_xml_node_t *root;
    const s3_xml_node_t *le, *target, *prefix, *format;

    memset(out, 0, sizeof(*out));
    if (s3_xml_parse_tree(pool, body, S3_LOGGING_MAX_BODY, S3_LOGGING_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "BucketLoggingStatus") || s3_xml_count(root, "LoggingEnabled") > 1)
        return -S3_ERR_MALFORMED_XML;
    if ((le = s3_xml_child(root, "LoggingEnabled")) == NULL || (!le->has_children && le->text.len == 0))
        return 0; /* logging off */
    if (s3_xml_count(le, "TargetBucket") != 1 || s3_xml_count(le, "TargetPrefix") > 1 ||
        s3_xml_count(le, "TargetGrants") > 1 || s3_xml_count(le, "TargetObjectKeyFormat") > 1)
        return -S3_ERR_MALFORMED_XML;
    target = s3_xml_child(le, "TargetBucket");
    prefix = s3_xml_child(le, "TargetPrefix");
    if (target->has_children || target->text.len == 0 || (prefix != NULL && prefix->has_children) ||
        (prefix != NULL && prefix->text.len > S3_LOGGING_PREFIX_MAX))
        return -S3_ERR_MALFORMED_XML;
    /* a bucket name never holds a newline: the stored form depends on it */
    if (memchr(target->text.base, '\n', target->text.len) != NULL)
        return -S3_ERR_MALFORMED_XML;
    const s3_xml_node_t *grants = s3_xml_child(le, "TargetGrants");
    for (const s3_xml_node_t *g = grants != NULL ? grants->first : NULL; g != NULL; g = g->next) {
        if (!s3_xml_is(g, "Grant"))
            continue;
        const s3_xml_node_t *grantee = s3_xml_child(g, "Grantee"), *perm = s3_xml_child(g, "Permission");
        if (grantee == NULL || perm == NULL || s3_xml_count(g, "Grantee") != 1 || s3_xml_count(g, "Permission") != 1)
            return -S3_ERR_MALFORMED_XML;
        const s3_xml_node_t *id = s3_xml_child(grantee, "ID");
        if (id == NULL || id->text.len == 0 || s3_xml_child(grantee, "URI") != NULL ||
            s3_xml_child(grantee, "EmailAddress") != NULL ||
            !h2o_memis(perm->text.base, perm->text.len, H2O_STRLIT("FULL_CONTROL")) ||
            out->ngrants == S3_LOGGING_MAX_GRANTS)
            return -S3_ERR_NOT_IMPLEMENTED;
        out->grant_ids[out->ngrants++] = id->text;
    }
    if ((format = s3_xml_child(le, "TargetObjectKeyFormat")) != NULL) {
        size_t simple = s3_xml_count(format, "SimplePrefix"), partitioned = s3_xml_count(format, "PartitionedPrefix");
        if (simple + partitioned > 1)
            return -S3_ERR_MALFORMED_XML;
        if (partitioned == 1)
            return -S3_ERR_NOT_IMPLEMENTED;
    }
    out->enabled = 1;
    out->target_bucket = target->text;
    /* ngrants and grant_ids were filled above */
    out->target_prefix = prefix != NULL ? prefix->text : h2o_iovec_init("", 0);
    return 0;
}

void s3_logging_write_xml(s3_xml_writer_t *w, const s3_logging_config_t *cfg)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "BucketLoggingStatus");
    if (cfg->enabled) {
        s3_xml_open(w, "LoggingEnabled");
        s3_xml_element(w, "TargetBucket", cfg->target_bucket);
        s3_xml_element(w, "TargetPrefix", cfg->target_prefix);
        s3_xml_close(w, "LoggingEnabled");
    }
    s3_xml_close(w, "BucketLoggingStatus");
}

h2o_iovec_t s3_logging_encode(h2o_mem_pool_t *pool, const s3_logging_config_t *cfg)
{
    size_t len = cfg->target_bucket.len + 1 + cfg->target_prefix.len;
    char *p = h2o_mem_alloc_pool(pool, len + 1);
    memcpy(p, cfg->target_bucket.base, cfg->target_bucket.len);
    p[cfg->target_bucket.len] = '\n';
    memcpy(p + cfg->target_bucket.len + 1, cfg->target_prefix.base, cfg->target_prefix.len);
    p[len] = '\0';
    return h2o_iovec_init(p, len);
}

int s3_logging_decode(h2o_iovec_t doc, s3_logging_config_t *out)
{
    const char *nl = doc.base != NULL ? memchr(doc.base, '\n', doc.len) : NULL;

    memset(out, 0, sizeof(*out));
    if (nl == NULL || nl == doc.base)
        return -S3_ERR_MALFORMED_XML;
    out->enabled = 1;
    out->target_bucket = h2o_iovec_init(doc.base, (size_t)(nl - doc.base));
    out->target_prefix = h2o_iovec_init(nl + 1, doc.len - (size_t)(nl - doc.base) - 1);
    return 0;
}

/* ---------------------------------------------------------------- the lines */

typedef struct {
    char *p;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        n = o->cap - o->len;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_str(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_hex_escape(out_t *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    put(o, esc, 4);
}

/* A bare field: "-" when empty; at most max bytes; a space, a quote, a backslash or a control
 * byte escaped so that the line still splits on spaces. */
static void put_bare(out_t *o, h2o_iovec_t v, size_t max)
{
    if (v.base == NULL || v.len == 0) {
        put(o, "-", 1);
        return;
    }
    for (size_t i = 0; i < v.len && i < max; i++) {
        unsigned char c = (unsigned char)v.base[i];
        if (c <= 0x20 || c == 0x7F || c == '"' || c == '\\')
            put_hex_escape(o, c);
        else
            put(o, (const char *)&c, 1);
    }
}

/* A quoted field ("-" inside quotes when empty, as S3 writes the referer and user agent). */
static void put_quoted(out_t *o, h2o_iovec_t v, size_t max)
{
    put(o, "\"", 1);
    if (v.base == NULL || v.len == 0)
        put(o, "-", 1);
    for (size_t i = 0; v.base != NULL && i < v.len && i < max; i++) {
        unsigned char c = (unsigned char)v.base[i];
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            put_hex_escape(o, c);
        else
            put(o, (const char *)&c, 1);
    }
    put(o, "\"", 1);
}

/* The key, URL-encoded as S3 logs it: unreserved characters and '/' as they are. */
static void put_key(out_t *o, h2o_iovec_t key)
{
    static const char hex[] = "0123456789ABCDEF";
    if (key.base == NULL || key.len == 0) {
        put(o, "-", 1);
        return;
    }
    for (size_t i = 0; i < key.len && i < 1024; i++) {
        unsigned char c = (unsigned char)key.base[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || c == '/') {
            put(o, (const char *)&c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(o, esc, 3);
        }
    }
}

static void put_num(out_t *o, uint64_t v, int dash_when_zero)
{
    char buf[24];
    if (v == 0 && dash_when_zero) {
        put(o, "-", 1);
        return;
    }
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    put(o, buf, (size_t)n);
}

static h2o_iovec_t iov_str(const char *s)
{
    return s != NULL ? h2o_iovec_init(s, strlen(s)) : h2o_iovec_init(NULL, 0);
}

size_t s3_logging_format_line(const s3_logging_line_t *e, char *buf)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    out_t o = {buf, 0, S3_LOGGING_LINE_MAX - 1};
    time_t secs = (time_t)(e->time_ns / 1000000000);
    struct tm tm;
    char when[40];

    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    put_bare(&o, e->owner, 256);
    put(&o, " ", 1);
    put_bare(&o, e->bucket, 256);
    put(&o, " ", 1);
    put_str(&o, when);
    put(&o, " ", 1);
    put_bare(&o, e->remote_ip, 64);
    put(&o, " ", 1);
    put_bare(&o, e->requester, 256);
    put(&o, " ", 1);
    put_bare(&o, e->request_id, 64);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->operation), 64);
    put(&o, " ", 1);
    put_key(&o, e->key);
    put(&o, " \"", 2);
    /* "METHOD URI HTTP/1.1": one quoted field with its own spaces */
    out_t inner = {o.p + o.len, 0, o.cap - o.len};
    put_bare(&inner, e->method, 16);
    put(&inner, " ", 1);
    put_bare(&inner, e->uri, 2048);
    put_str(&inner, " HTTP/1.1\"");
    o.len += inner.len;
    put(&o, " ", 1);
    put_num(&o, (uint64_t)(e->status > 0 ? e->status : 0), 1);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->error_code), 64);
    put(&o, " ", 1);
    put_num(&o, e->bytes_sent, 1);
    put(&o, " ", 1);
    put_num(&o, e->object_size, 1);
    put(&o, " ", 1);
    put_num(&o, (uint64_t)(e->total_ms > 0 ? e->total_ms : 0), 0);
    put(&o, " ", 1);
    if (e->turnaround_ms >= 0)
        put_num(&o, (uint64_t)e->turnaround_ms, 0);
    else
        put(&o, "-", 1);
    put(&o, " ", 1);
    put_quoted(&o, e->referer, 512);
    put(&o, " ", 1);
    put_quoted(&o, e->user_agent, 512);
    put(&o, " ", 1);
    put_bare(&o, e->version_id, 64);
    put(&o, " ", 1);
    put_bare(&o, e->host_id, 128);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->signature_version), 16);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->cipher_suite), 64);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->auth_type), 16);
    put(&o, " ", 1);
    put_bare(&o, e->host, 256);
    put(&o, " ", 1);
    put_bare(&o, iov_str(e->tls_version), 16);
    put_str(&o, " - -"); /* access point ARN, aclRequired */
    buf[o.len++] = '\n';
    return o.len;
}
