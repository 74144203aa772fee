/* cors.c — the CORSConfiguration document and S3's evaluation of it (see cors.h for the rules).
 *
 * The document is read into an element tree, its shape checked first (every MalformedXML), then
 * its values rule by rule, so the answer is the one S3 gives for the first fault it would find.
 * Evaluation walks the rules in order and stops at the first match; the response header values
 * are built in the request's pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "gateway/s3/cors.h"
#include "gateway/s3/tagging.h" /* s3_utf16_length: S3 counts an ID's characters as it counts a tag's */

static const char *const METHODS[] = {"GET", "PUT", "POST", "DELETE", "HEAD", NULL};

static int method_supported(h2o_iovec_t m)
{
    for (int i = 0; METHODS[i] != NULL; i++)
        if (h2o_memis(m.base, m.len, METHODS[i], strlen(METHODS[i])))
            return 1;
    return 0;
}

static size_t count_char(h2o_iovec_t s, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++)
        n += s.base[i] == c;
    return n;
}

/* Formats a message with one value into pool memory. */
static h2o_iovec_t message_with(h2o_mem_pool_t *pool, const char *before, h2o_iovec_t value, const char *after)
{
    size_t b = strlen(before), a = strlen(after);
    char *p = h2o_mem_alloc_pool(pool, b + value.len + a + 1);
    memcpy(p, before, b);
    if (value.len != 0)
        memcpy(p + b, value.base, value.len);
    memcpy(p + b + value.len, after, a + 1);
    return h2o_iovec_init(p, b + value.len + a);
}

/* Collects the text of every child of rule called name into a pool array; -1 when one is not a
 * leaf (a value cannot hold elements). */
static int collect(h2o_mem_pool_t *pool, const s3_xml_node_t *rule, const char *name, h2o_iovec_t **out, size_t *n)
{
    size_t count = s3_xml_count(rule, name), i = 0;
    *out = NULL;
    *n = count;
    if (count == 0)
        return 0;
    *out = h2o_mem_alloc_pool(pool, count * sizeof(**out));
    for (const s3_xml_node_t *c = rule->first; c != NULL; c = c->next) {
        if (!s3_xml_is(c, name))
            continue;
        if (c->has_children)
            return -1;
        (*out)[i++] = c->text;
    }
    return 0;
}

/* The shape of one rule; -1 for MalformedXML. */
static int read_rule(h2o_mem_pool_t *pool, const s3_xml_node_t *node, s3_cors_rule_t *r)
{
    memset(r, 0, sizeof(*r));
    r->max_age_seconds = -1;
    if (collect(pool, node, "AllowedOrigin", &r->origins, &r->n_origins) != 0 ||
        collect(pool, node, "AllowedMethod", &r->methods, &r->n_methods) != 0 ||
        collect(pool, node, "AllowedHeader", &r->allowed_headers, &r->n_allowed_headers) != 0 ||
        collect(pool, node, "ExposeHeader", &r->expose_headers, &r->n_expose_headers) != 0)
        return -1;
    if (r->n_origins == 0 || r->n_methods == 0)
        return -1;
    if (s3_xml_count(node, "ID") > 1 || s3_xml_count(node, "MaxAgeSeconds") > 1)
        return -1;
    const s3_xml_node_t *id = s3_xml_child(node, "ID"), *age = s3_xml_child(node, "MaxAgeSeconds");
    if (id != NULL) {
        if (id->has_children)
            return -1;
        r->id = id->text;
    }
    if (age != NULL) {
        int64_t v;
        /* an xs:int; a negative age means nothing to a browser and is refused as not validating */
        if (age->has_children || s3_xml_parse_int64(age->text, &v) != 0 || v < 0 || v > INT32_MAX)
            return -1;
        r->max_age_seconds = v;
    }
    return 0;
}

/* The values of one rule, in the order S3 checks them. */
static int check_rule(h2o_mem_pool_t *pool, const s3_cors_rule_t *r, s3_error_detail_t *why)
{
    for (size_t i = 0; i < r->n_methods; i++)
        if (!method_supported(r->methods[i]))
            return s3_error_detail_set_iov(
                why, S3_ERR_INVALID_REQUEST,
                message_with(pool, "Found unsupported HTTP method in CORS config. Unsupported method is ",
                             r->methods[i], ""));
    for (size_t i = 0; i < r->n_origins; i++)
        if (count_char(r->origins[i], '*') > 1)
            return s3_error_detail_set_iov(
                why, S3_ERR_INVALID_REQUEST,
                message_with(pool, "AllowedOrigin \"", r->origins[i], "\" can not have more than one wildcard."));
    for (size_t i = 0; i < r->n_allowed_headers; i++)
        if (count_char(r->allowed_headers[i], '*') > 1)
            return s3_error_detail_set_iov(why, S3_ERR_INVALID_REQUEST,
                                           message_with(pool, "AllowedHeader \"", r->allowed_headers[i],
                                                        "\" can not have more than one wildcard."));
    for (size_t i = 0; i < r->n_expose_headers; i++)
        if (count_char(r->expose_headers[i], '*') != 0)
            return s3_error_detail_set_iov(why, S3_ERR_INVALID_REQUEST,
                                           message_with(pool, "ExposeHeader \"", r->expose_headers[i],
                                                        "\" contains wildcard. We currently do not support wildcard "
                                                        "for ExposeHeader."));
    if (r->id.base != NULL) {
        size_t units = s3_utf16_length(r->id);
        if (units == SIZE_MAX || units > S3_CORS_ID_MAX)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                       "ID length should not exceed allowed limit of 255");
    }
    return 0;
}

int s3_cors_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_cors_config_t *out, s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    size_t n, i = 0;
    int ret;

    out->rules = NULL;
    out->count = 0;
    if (s3_xml_parse_tree(pool, body, S3_CORS_MAX_BODY, S3_CORS_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "CORSConfiguration"))
        return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
    n = s3_xml_count(root, "CORSRule");
    if (n == 0 || n > S3_CORS_MAX_RULES)
        return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
    s3_cors_rule_t *rules = h2o_mem_alloc_pool(pool, n * sizeof(*rules));
    for (const s3_xml_node_t *c = root->first; c != NULL; c = c->next) {
        if (!s3_xml_is(c, "CORSRule"))
            continue;
        if (read_rule(pool, c, &rules[i++]) != 0)
            return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
    }
    for (i = 0; i < n; i++)
        if ((ret = check_rule(pool, &rules[i], why)) != 0)
            return ret;
    out->rules = rules;
    out->count = n;
    return 0;
}

void s3_cors_write_xml(s3_xml_writer_t *w, const s3_cors_config_t *cfg)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "CORSConfiguration");
    for (size_t i = 0; i < cfg->count; i++) {
        const s3_cors_rule_t *r = &cfg->rules[i];
        s3_xml_open(w, "CORSRule");
        if (r->id.base != NULL)
            s3_xml_element(w, "ID", r->id);
        for (size_t k = 0; k < r->n_allowed_headers; k++)
            s3_xml_element(w, "AllowedHeader", r->allowed_headers[k]);
        for (size_t k = 0; k < r->n_methods; k++)
            s3_xml_element(w, "AllowedMethod", r->methods[k]);
        for (size_t k = 0; k < r->n_origins; k++)
            s3_xml_element(w, "AllowedOrigin", r->origins[k]);
        for (size_t k = 0; k < r->n_expose_headers; k++)
            s3_xml_element(w, "ExposeHeader", r->expose_headers[k]);
        if (r->max_age_seconds >= 0)
            s3_xml_element_int(w, "MaxAgeSeconds", r->max_age_seconds);
        s3_xml_close(w, "CORSRule");
    }
    s3_xml_close(w, "CORSConfiguration");
}

/* ---- evaluation ---- */

/* n bytes of a and b equal without regard to ASCII case (h2o_lcstris lowercases one side only). */
static int equal_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (h2o_tolower(a[i]) != h2o_tolower(b[i]))
            return 0;
    return 1;
}

int s3_cors_wildcard_match(h2o_iovec_t pattern, h2o_iovec_t value)
{
    const char *star = pattern.len != 0 ? memchr(pattern.base, '*', pattern.len) : NULL;
    if (star == NULL)
        return value.len == pattern.len && equal_nocase(value.base, pattern.base, value.len);
    size_t pre = (size_t)(star - pattern.base), post = pattern.len - pre - 1;
    if (value.len < pre + post)
        return 0;
    return equal_nocase(value.base, pattern.base, pre) && equal_nocase(value.base + value.len - post, star + 1, post);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits an Access-Control-Request-Headers value into its names (OWS trimmed, empty elements
 * skipped, RFC 9110 §5.6.1) in a pool array. */
static size_t split_names(h2o_mem_pool_t *pool, h2o_iovec_t list, h2o_iovec_t **out)
{
    size_t cap = list.len != 0 ? count_char(list, ',') + 1 : 0, n = 0;
    *out = cap != 0 ? h2o_mem_alloc_pool(pool, cap * sizeof(**out)) : NULL;
    for (size_t start = 0; start < list.len;) {
        const char *p = list.base + start, *comma = memchr(p, ',', list.len - start);
        size_t len = comma != NULL ? (size_t)(comma - p) : list.len - start;
        start += len + 1;
        while (len > 0 && is_ows(p[0])) {
            p++;
            len--;
        }
        while (len > 0 && is_ows(p[len - 1]))
            len--;
        if (len != 0)
            (*out)[n++] = h2o_iovec_init(p, len);
    }
    return n;
}

/* The first of rule's patterns that matches value, or NULL. */
static const h2o_iovec_t *match_any(const h2o_iovec_t *patterns, size_t n, h2o_iovec_t value)
{
    for (size_t i = 0; i < n; i++)
        if (s3_cors_wildcard_match(patterns[i], value))
            return &patterns[i];
    return NULL;
}

static int rule_has_method(const s3_cors_rule_t *r, h2o_iovec_t method)
{
    for (size_t i = 0; i < r->n_methods; i++)
        if (h2o_memis(r->methods[i].base, r->methods[i].len, method.base, method.len))
            return 1;
    return 0;
}

/* The first rule matching origin and method (and, when names is not NULL, every requested
 * header); its matching origin pattern in *pattern. */
static const s3_cors_rule_t *find_rule(const s3_cors_config_t *cfg, h2o_iovec_t origin, h2o_iovec_t method,
                                       const h2o_iovec_t *names, size_t n_names, const h2o_iovec_t **pattern)
{
    for (size_t i = 0; i < cfg->count; i++) {
        const s3_cors_rule_t *r = &cfg->rules[i];
        const h2o_iovec_t *o = match_any(r->origins, r->n_origins, origin);
        if (o == NULL || !rule_has_method(r, method))
            continue;
        size_t k = 0;
        while (k < n_names && match_any(r->allowed_headers, r->n_allowed_headers, names[k]) != NULL)
            k++;
        if (k != n_names)
            continue;
        *pattern = o;
        return r;
    }
    return NULL;
}

/* Joins n values with ", " into pool memory, lowercased when lower is set. */
static h2o_iovec_t join(h2o_mem_pool_t *pool, const h2o_iovec_t *v, size_t n, int lower)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += v[i].len + (i != 0 ? 2 : 0);
    char *p = h2o_mem_alloc_pool(pool, len + 1), *q = p;
    for (size_t i = 0; i < n; i++) {
        if (i != 0) {
            memcpy(q, ", ", 2);
            q += 2;
        }
        for (size_t k = 0; k < v[i].len; k++)
            q[k] = lower ? h2o_tolower(v[i].base[k]) : v[i].base[k];
        q += v[i].len;
    }
    *q = '\0';
    return h2o_iovec_init(p, len);
}

static void answer(h2o_mem_pool_t *pool, const s3_cors_rule_t *r, const h2o_iovec_t *pattern, h2o_iovec_t origin,
                   const h2o_iovec_t *names, size_t n_names, s3_cors_response_t *out)
{
    out->matched = 1;
    out->rule = r;
    if (h2o_memis(pattern->base, pattern->len, H2O_STRLIT("*"))) {
        out->allow_origin = h2o_iovec_init(H2O_STRLIT("*"));
    } else {
        out->allow_origin = origin;
        out->allow_credentials = h2o_iovec_init(H2O_STRLIT("true"));
    }
    out->allow_methods = join(pool, r->methods, r->n_methods, 0);
    if (n_names != 0)
        out->allow_headers = join(pool, names, n_names, 1);
    if (r->n_expose_headers != 0)
        out->expose_headers = join(pool, r->expose_headers, r->n_expose_headers, 0);
    if (r->max_age_seconds >= 0) {
        char *p = h2o_mem_alloc_pool(pool, 24);
        out->max_age = h2o_iovec_init(p, (size_t)snprintf(p, 24, "%" PRId64, r->max_age_seconds));
    }
    out->vary = h2o_iovec_init(H2O_STRLIT(S3_CORS_VARY));
}

static int forbidden(s3_error_detail_t *why, const char *message, h2o_iovec_t method, int object)
{
    int ret = s3_error_detail_set(why, S3_ERR_ACCESS_FORBIDDEN, message);
    s3_error_detail_field(why, "Method", method.base != NULL ? method : h2o_iovec_init(H2O_STRLIT("OPTIONS")));
    s3_error_detail_field(why, "ResourceType",
                          object ? h2o_iovec_init(H2O_STRLIT("OBJECT")) : h2o_iovec_init(H2O_STRLIT("BUCKET")));
    return ret;
}

int s3_cors_preflight(h2o_mem_pool_t *pool, const s3_cors_config_t *cfg, const s3_cors_request_t *req,
                      s3_cors_response_t *out, s3_error_detail_t *why)
{
    const s3_cors_rule_t *r;
    const h2o_iovec_t *pattern = NULL;
    h2o_iovec_t *names = NULL;
    size_t n_names = 0;

    memset(out, 0, sizeof(*out));
    if (req->origin.base == NULL || req->origin.len == 0)
        return s3_error_detail_set(why, S3_ERR_BAD_REQUEST, "Insufficient information. Origin request header needed.");
    if (cfg == NULL || cfg->count == 0)
        return forbidden(why, "CORSResponse: CORS is not enabled for this bucket.", req->request_method, 0);
    if (req->request_method.base == NULL || req->request_method.len == 0)
        return s3_error_detail_set(why, S3_ERR_BAD_REQUEST, "Invalid Access-Control-Request-Method: null");
    if (req->request_headers.base != NULL)
        n_names = split_names(pool, req->request_headers, &names);
    if ((r = find_rule(cfg, req->origin, req->request_method, names, n_names, &pattern)) == NULL)
        return forbidden(why, NULL, req->request_method, req->on_object);
    answer(pool, r, pattern, req->origin, names, n_names, out);
    return 0;
}

void s3_cors_actual(h2o_mem_pool_t *pool, const s3_cors_config_t *cfg, const s3_cors_request_t *req,
                    s3_cors_response_t *out)
{
    const s3_cors_rule_t *r;
    const h2o_iovec_t *pattern = NULL;

    memset(out, 0, sizeof(*out));
    if (cfg == NULL || req->origin.base == NULL || req->origin.len == 0)
        return; /* not cross-origin, or nothing allows it */
    h2o_iovec_t method = req->request_method.base != NULL ? req->request_method : req->method;
    if ((r = find_rule(cfg, req->origin, method, NULL, 0, &pattern)) != NULL)
        answer(pool, r, pattern, req->origin, NULL, 0, out);
}
