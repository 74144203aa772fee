/* gw_post_object.c — POST Object: the upload of an HTML form (multipart/form-data) to a bucket.
 *
 * Such a request carries no Authorization header: who sends it, and what it may store, are in the
 * form's fields (gateway/s3/post_policy.h). So it goes the other way round from every other
 * request: the loop reads the fields first (at most 20 KiB of them, gw_body_form_start), then, on
 * the loop, the key (with ${filename}), the signature (SigV4 or SigV2 over the policy field, or
 * none: anonymous, left to the bucket policy), the policy's expiration and conditions and the
 * fields the gateway does not implement (gw_refuse.h, as PutObject's headers); then admission,
 * and on a worker the bucket policy's decision for s3:PutObject on the key, as for a PUT. Only
 * then is the file read: it streams through the body ring into the erasure write (its size is
 * known only when its closing delimiter comes), at most the policy's content-length-range
 * maximum; below its minimum the data is removed before it was ever visible. The fields after
 * the file are read and ignored, as S3 does.
 *
 * Encryption (the x-amz-server-side-encryption* fields, as PutObject's headers, or the bucket's
 * default) seals the file block by block as it streams. A form does not say the file's size, and
 * fields may follow the file (the named submit button of AWS's example form does): the blocks are
 * sealed without the size, which the object's encryption attribute binds at commit, once the
 * file's end came (gw_sse.h, format 2).
 *
 * The answer is success_action_redirect's 303 (with bucket, key and etag in the query), or
 * success_action_status's 200 (empty), 201 (a PostResponse document) or, by default and for any
 * other value, 204.
 */
#include "gateway/gw_body.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_refuse.h"
#include "gateway/gw_roles.h"
#include "gateway/gw_tagging.h"
#include "gateway/s3/form.h"
#include "gateway/s3/names.h"
#include "gateway/s3/post_policy.h"
#include "gateway/s3/xml.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_MISSING                                                                                                    \
    "Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields."

typedef struct {
    s3_form_t *form;      /* owned by the body */
    h2o_headers_t fields; /* the object's attributes, as PutObject's headers */
    uint64_t min_size, max_size;
    h2o_iovec_t redirect; /* success_action_redirect (or redirect); base NULL: none */
    int status;           /* 200, 201 or 204 */
} post_state_t;

static int fail_missing(gw_ctx_t *ctx, const char *field)
{
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, 200);
    snprintf(msg, 200, MSG_MISSING, field);
    gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, msg);
    gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(field, strlen(field)));
    gw_set_error_field(ctx, "ArgumentValue", h2o_iovec_init("", 0));
    return -1;
}

static int fail_message(gw_ctx_t *ctx, s3_error_t err, const char *msg)
{
    gw_set_error(ctx, err, h2o_strdup(&ctx->req->pool, msg, strlen(msg)).base);
    return -1;
}

/* The caller from the form's signature fields; anonymous when there are none. */
static int authenticate_form(gw_ctx_t *ctx, s3_form_t *form, h2o_iovec_t policy)
{
    h2o_iovec_t algorithm = s3_form_field(form, "x-amz-algorithm"),
                credential = s3_form_field(form, "x-amz-credential"), date = s3_form_field(form, "x-amz-date"),
                sig4 = s3_form_field(form, "x-amz-signature"), key_id = s3_form_field(form, "awsaccesskeyid"),
                sig2 = s3_form_field(form, "signature");
    h2o_iovec_t access_key, cred_date, region;
    gw_identity_t id;
    int v4 = algorithm.base != NULL || credential.base != NULL || sig4.base != NULL, ret;

    if (!v4 && key_id.base == NULL && sig2.base == NULL) {
        if (policy.base != NULL)
            return fail_missing(ctx, "AWSAccessKeyId");
        return 0; /* anonymous: the bucket policy decides */
    }
    if (v4) {
        if (algorithm.base == NULL)
            return fail_missing(ctx, "x-amz-algorithm");
        if (!h2o_memis(algorithm.base, algorithm.len, H2O_STRLIT("AWS4-HMAC-SHA256"))) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm");
            gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-algorithm")));
            return -1;
        }
        if (credential.base == NULL)
            return fail_missing(ctx, "x-amz-credential");
        if (date.base == NULL)
            return fail_missing(ctx, "x-amz-date");
        if (sig4.base == NULL)
            return fail_missing(ctx, "x-amz-signature");
        if (policy.base == NULL)
            return fail_missing(ctx, "policy");
        if (s3_post_credential_parse(credential, &access_key, &cred_date, &region) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-credential");
            gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-credential")));
            return -1;
        }
    } else {
        if (key_id.base == NULL)
            return fail_missing(ctx, "AWSAccessKeyId");
        if (sig2.base == NULL)
            return fail_missing(ctx, "signature");
        if (policy.base == NULL)
            return fail_missing(ctx, "policy");
        access_key = key_id;
    }
    if (gw_iam_lookup(ctx->iam, access_key, &id) != 0 || id.disabled) {
        gw_set_error(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return -1;
    }
    const char *locked = gw_roles_locked(ctx, access_key);
    if (locked != NULL) {
        OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, locked);
        return -1;
    }
    h2o_iovec_t secret = h2o_iovec_init(id.secret_key, strlen(id.secret_key));
    ret =
        v4 ? s3_post_verify_sigv4(policy, secret, cred_date, region, sig4) : s3_post_verify_sigv2(policy, secret, sig2);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    gw_roles_signature_checked(ctx, access_key, ret == 0);
    if (ret != 0) {
        gw_set_error(ctx, S3_ERR_SIGNATURE_DOES_NOT_MATCH, NULL);
        return -1;
    }
    ctx->access_key = h2o_strdup(&ctx->req->pool, access_key.base, access_key.len);
    ctx->user = h2o_strdup(&ctx->req->pool, id.user, strlen(id.user));
    ctx->is_root = id.is_root;
    ctx->access->access_key = ctx->access_key;
    if (ctx->is_root && gw_roles_state(ctx) != GW_ROLES_NOT_SPLIT) {
        gw_roles_note_refusal(ctx, GW_ROLE_ROOT, 0, "PostObject");
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, "The root keys were split into the three administrator roles");
        return -1;
    }
    return 0;
}

/* The policy: parsed, unexpired, its conditions met; the length range kept for the file. */
static int check_policy(gw_ctx_t *ctx, post_state_t *st, h2o_iovec_t policy)
{
    char msg[S3_POST_MESSAGE_MAX];
    s3_post_policy_t *p;
    size_t n;
    int ret;

    if ((ret = s3_post_policy_parse(policy, &p, msg)) != 0)
        return ret == S3_POST_NOMEM ? (gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL), -1)
                                    : fail_message(ctx, S3_ERR_INVALID_POLICY_DOCUMENT, msg);
    const s3_form_field_t *fields = s3_form_fields(st->form, &n);
    ret = s3_post_policy_check(p, time(NULL), fields, n, ctx->bucket, ctx->key, msg);
    s3_post_policy_length_range(p, &st->min_size, &st->max_size);
    s3_post_policy_free(p);
    return ret == 0 ? 0 : fail_message(ctx, S3_ERR_ACCESS_DENIED, msg);
}

/* A session token in a form: temporary credentials are not served, so it is refused rather than
 * taken as checked. */
static int token_field_ok(gw_ctx_t *ctx, h2o_iovec_t name)
{
    if (!h2o_memis(name.base, name.len, H2O_STRLIT("x-amz-security-token")))
        return 1;
    gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED, "A header you provided implies functionality that is not implemented");
    gw_set_error_field(ctx, "Header", name);
    return 0;
}

/* Appends value percent-encoded (all but unreserved characters) at out + at; returns the new end. */
static size_t percent_encode(char *out, size_t at, size_t cap, h2o_iovec_t value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < value.len && at + 4 < cap; i++) {
        unsigned char c = (unsigned char)value.base[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c != 0 && strchr("-_.~", c))) {
            out[at++] = (char)c;
        } else {
            out[at++] = '%';
            out[at++] = hex[c >> 4];
            out[at++] = hex[c & 15];
        }
    }
    out[at] = 0;
    return at;
}

/* The form's tagging field, a Tagging document, as the x-amz-tagging header PutObject reads (the
 * query-string form, each key and value percent-encoded): the tags then take PutObject's path. */
static int tagging_header(gw_ctx_t *ctx, h2o_iovec_t document)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    s3_error_detail_t why = {0};
    s3_tagset_t set;
    int ret;

    if ((ret = s3_tagging_parse_xml(pool, document, S3_TAGS_OBJECT, &set, &why)) != 0) {
        gw_tagging_set_detail(ctx, ret, &why);
        return -1;
    }
    size_t cap = 1;
    for (size_t i = 0; i < set.count; i++)
        cap += 3 * (set.tags[i].key.len + set.tags[i].value.len) + 8;
    char *out = h2o_mem_alloc_pool(pool, cap);
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < set.count; i++) {
        if (i > 0)
            out[at++] = '&';
        at = percent_encode(out, at, cap, set.tags[i].key);
        out[at++] = '=';
        at = percent_encode(out, at, cap, set.tags[i].value);
    }
    h2o_add_header_by_str(pool, &ctx->req->headers, H2O_STRLIT("x-amz-tagging"), 0, NULL, out, at);
    return 0;
}

/* Fields that ask for what PutObject's headers ask for (acl, x-amz-grant-*, object lock, tagging,
 * Content-MD5, x-amz-checksum-* and x-amz-server-side-encryption*): added to the request's headers under the header's
 * name, so that the object is written, and its file verified, as a PUT with those headers would be. */
static int header_field(gw_ctx_t *ctx, h2o_iovec_t name, h2o_iovec_t value)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    if (h2o_memis(name.base, name.len, H2O_STRLIT("tagging")))
        return tagging_header(ctx, value);
    if (h2o_memis(name.base, name.len, H2O_STRLIT("acl")))
        name = h2o_iovec_init(H2O_STRLIT("x-amz-acl"));
    else if (!(name.len > 17 && memcmp(name.base, "x-amz-object-lock", 17) == 0) &&
             !(name.len > 12 && memcmp(name.base, "x-amz-grant-", 12) == 0) &&
             !(name.len > 15 && memcmp(name.base, "x-amz-checksum-", 15) == 0) &&
             !(name.len >= 28 && memcmp(name.base, "x-amz-server-side-encryption", 28) == 0) &&
             !h2o_memis(name.base, name.len, H2O_STRLIT("x-amz-sdk-checksum-algorithm")) &&
             !h2o_memis(name.base, name.len, H2O_STRLIT("content-md5")))
        return 0;
    h2o_add_header_by_str(pool, &ctx->req->headers, name.base, name.len, 0, NULL, value.base, value.len);
    return 0;
}

/* The fields that become the object's attributes, as PutObject's headers (names lowercase); each
 * checked against the table of what is not implemented, acl and tagging under their header
 * names. */
static int collect_fields(gw_ctx_t *ctx, post_state_t *st)
{
    static const char *const attributes[] = {"content-type",
                                             "content-encoding",
                                             "content-disposition",
                                             "content-language",
                                             "cache-control",
                                             "expires",
                                             NULL};
    h2o_mem_pool_t *pool = &ctx->req->pool;
    size_t n;
    const s3_form_field_t *fields = s3_form_fields(st->form, &n);

    for (size_t i = 0; i < n; i++) {
        h2o_iovec_t name = h2o_strdup(pool, fields[i].name.base, fields[i].name.len);
        h2o_strtolower(name.base, name.len);
        if (gw_refuse_check_field(ctx, name, fields[i].value) != 0)
            return -1;
        if (!token_field_ok(ctx, name) || header_field(ctx, name, fields[i].value) != 0)
            return -1;
        int keep = name.len > 11 && memcmp(name.base, "x-amz-meta-", 11) == 0;
        for (const char *const *a = attributes; !keep && *a != NULL; a++)
            keep = h2o_memis(name.base, name.len, *a, strlen(*a));
        if (keep) {
            h2o_add_header_by_str(pool, &st->fields, name.base, name.len, 0, NULL, fields[i].value.base,
                                  fields[i].value.len);
        }
    }
    return 0;
}

static void post_work(gw_ctx_t *ctx);

static void after_admission(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, post_work);
}

/* On the loop, once the fields before the file are in. */
static void on_fields(gw_ctx_t *ctx, s3_form_t *form)
{
    post_state_t *st;
    int ret;

    if (ctx->error != S3_OK) {
        gw_respond(ctx);
        return;
    }
    if (!s3_form_has_file(form)) {
        gw_fail(ctx, S3_ERR_INCORRECT_NUMBER_OF_FILES_IN_POST_REQUEST, NULL);
        return;
    }
    st = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->form = form;
    st->max_size = UINT64_MAX;
    ctx->handler_state = st;

    h2o_iovec_t key = s3_form_field(form, "key"), policy = s3_form_field(form, "policy");
    if (key.base == NULL || key.len == 0) {
        fail_missing(ctx, "key");
        gw_respond(ctx);
        return;
    }
    ctx->key = s3_post_key_substitute(&ctx->req->pool, key, s3_form_file_name(form));
    ctx->access->key = ctx->key;
    if ((ret = s3_key_validate(ctx->key)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (authenticate_form(ctx, form, policy) != 0 || (policy.base != NULL && check_policy(ctx, st, policy) != 0) ||
        collect_fields(ctx, st) != 0 || gw_refuse_check(ctx) != 0) {
        gw_respond(ctx);
        return;
    }
    ctx->req->authenticated = 1; /* the caller is known (or anonymous): the file's bytes are its */
    h2o_iovec_t status = s3_form_field(form, "success_action_status");
    st->status = h2o_memis(status.base, status.len, H2O_STRLIT("200"))   ? 200
                 : h2o_memis(status.base, status.len, H2O_STRLIT("201")) ? 201
                                                                         : 204;
    st->redirect = s3_form_field(form, "success_action_redirect");
    if (st->redirect.base == NULL)
        st->redirect = s3_form_field(form, "redirect");
    if (st->redirect.base != NULL &&
        !(st->redirect.len > 7 && h2o_memis(st->redirect.base, 7, H2O_STRLIT("http://"))) &&
        !(st->redirect.len > 8 && h2o_memis(st->redirect.base, 8, H2O_STRLIT("https://"))))
        st->redirect = h2o_iovec_init(NULL, 0); /* S3 ignores a redirect that is no URL */
    if (st->redirect.base != NULL && gw_refuse_has_control(st->redirect))
        st->redirect = h2o_iovec_init(NULL, 0);
    gw_ctx_admit(ctx, after_admission);
}

/* Appends name=value (value percent-encoded) to a redirect's query. */
static size_t append_param(char *out, size_t at, size_t cap, const char *name, h2o_iovec_t value)
{
    at += (size_t)snprintf(out + at, cap - at, "%s=", name);
    return percent_encode(out, at, cap, value);
}

static void answer(gw_ctx_t *ctx, post_state_t *st, const char *etag)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    char quoted[40];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    h2o_iovec_t quoted_etag = h2o_iovec_init(quoted, strlen(quoted));

    if (st->redirect.base != NULL) {
        size_t cap = st->redirect.len + 3 * (ctx->bucket.len + ctx->key.len + sizeof(quoted)) + 64;
        char *url = h2o_mem_alloc_pool(pool, cap);
        size_t at = (size_t)snprintf(url, cap, "%.*s%c", (int)st->redirect.len, st->redirect.base,
                                     memchr(st->redirect.base, '?', st->redirect.len) ? '&' : '?');
        at = append_param(url, at, cap, "bucket", ctx->bucket);
        url[at++] = '&';
        at = append_param(url, at, cap, "key", ctx->key);
        url[at++] = '&';
        at = append_param(url, at, cap, "etag", quoted_etag);
        gw_add_header(ctx, "location", url, at);
        ctx->status = 303;
        return;
    }
    h2o_iovec_t host = ctx->req->input.authority;
    h2o_iovec_t key = s3_url_encode_key(pool, ctx->key);
    size_t cap = host.len + ctx->bucket.len + key.len + 32;
    char *location = h2o_mem_alloc_pool(pool, cap);
    int n = ctx->host_bucket.base != NULL
                ? snprintf(location, cap, "%s://%.*s/%s", ctx->req->secure ? "https" : "http", (int)host.len, host.base,
                           key.base)
                : snprintf(location, cap, "%s://%.*s/%.*s/%s", ctx->req->secure ? "https" : "http", (int)host.len,
                           host.base, (int)ctx->bucket.len, ctx->bucket.base, key.base);
    if (!gw_refuse_has_control(host))
        gw_add_header(ctx, "location", location, (size_t)n);
    ctx->status = st->status;
    if (st->status != 201)
        return;
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, pool);
    s3_xml_declaration(&w);
    s3_xml_open(&w, "PostResponse"); /* S3 writes it without a namespace */
    s3_xml_element(&w, "Location", h2o_iovec_init(location, (size_t)n));
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element(&w, "ETag", quoted_etag);
    s3_xml_close(&w, "PostResponse");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

static void post_work(gw_ctx_t *ctx)
{
    post_state_t *st = ctx->handler_state;
    uint64_t max = ctx->env->cfg->max_object_size;
    gw_source_t src;
    char etag[33];

    /* the bucket policy decides as for a PUT of the key; nothing of the file is read before */
    if (gw_bucket_authorize(ctx) != 0)
        return;
    if (st->max_size < max)
        max = st->max_size;
    gw_body_form_source(ctx, max, &src);
    /* the file's size comes at its end, encrypted or not (an encrypted one's is bound at commit) */
    if (gw_object_store_from(ctx, &st->fields, src, GW_SIZE_UNKNOWN, st->min_size, etag) == 0)
        answer(ctx, st, etag);
}

void gw_post_object(gw_ctx_t *ctx)
{
    h2o_iovec_t boundary;
    s3_error_t err;

    if (s3_form_boundary(gw_header(ctx, "content-type"), &boundary) != 0) {
        gw_fail(ctx, S3_ERR_MALFORMED_POST_REQUEST, NULL);
        return;
    }
    if ((err = gw_body_form_start(ctx, boundary, on_fields)) != S3_OK)
        gw_fail(ctx, err, NULL);
}
