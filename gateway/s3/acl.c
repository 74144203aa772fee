/* acl.c — canned ACLs, grant headers, the AccessControlPolicy document and the stored form of an
 * ACL (see acl.h). */
#include "gateway/s3/acl.h"
#include <string.h>
#include "common/bytes.h"

#define FORMAT 1

static const char *const perm_names[S3_ACL__PERMS] = {"READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"};
static const char *const group_uris[S3_ACL__GRANTEES] = {
    [S3_ACL_ALL_USERS] = S3_ACL_URI_ALL_USERS,
    [S3_ACL_AUTHENTICATED_USERS] = S3_ACL_URI_AUTH,
    [S3_ACL_LOG_DELIVERY] = S3_ACL_URI_LOG,
};

int s3_acl_id_parse(h2o_iovec_t text, uint8_t id[S3_ACL_ID_LEN])
{
    if (text.len != S3_ACL_ID_TEXT)
        return -1;
    for (size_t i = 0; i < S3_ACL_ID_LEN; i++) {
        int hi = yc_hex_digit(text.base[2 * i]), lo = yc_hex_digit(text.base[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void s3_acl_id_format(const uint8_t id[S3_ACL_ID_LEN], char out[S3_ACL_ID_TEXT + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < S3_ACL_ID_LEN; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[S3_ACL_ID_TEXT] = '\0';
}

static int group_of_uri(h2o_iovec_t uri, s3_acl_grantee_t *out)
{
    for (int g = S3_ACL_ALL_USERS; g < S3_ACL__GRANTEES; g++) {
        if (h2o_memis(uri.base, uri.len, group_uris[g], strlen(group_uris[g]))) {
            *out = (s3_acl_grantee_t)g;
            return 0;
        }
    }
    return -1;
}

/* Appends a grant; -1 when the list is full. */
static int add_grant(s3_acl_t *acl, s3_acl_grantee_t grantee, const uint8_t *id, s3_acl_perm_t perm)
{
    if (acl->ngrants == S3_ACL_MAX_GRANTS)
        return -1;
    s3_acl_grant_t *g = &acl->grants[acl->ngrants++];
    memset(g, 0, sizeof(*g));
    g->grantee = (uint8_t)grantee;
    g->perm = (uint8_t)perm;
    if (grantee == S3_ACL_USER && id != NULL)
        memcpy(g->id, id, S3_ACL_ID_LEN);
    return 0;
}

/* ---------------------------------------------------------------- canned */

int s3_acl_canned(h2o_iovec_t name, const uint8_t owner[S3_ACL_ID_LEN], const uint8_t bucket_owner[S3_ACL_ID_LEN],
                  int on_bucket, s3_acl_t *out)
{
#define IS(s) h2o_memis(name.base, name.len, H2O_STRLIT(s))
    memset(out, 0, sizeof(*out));
    memcpy(out->owner, owner, S3_ACL_ID_LEN);
    int other_owner = memcmp(owner, bucket_owner, S3_ACL_ID_LEN) != 0;
    /* the group grants come before the owner's, in the order S3 clients and suites read them back */
    if (IS("public-read") || IS("public-read-write")) {
        add_grant(out, S3_ACL_ALL_USERS, NULL, S3_ACL_READ);
        if (IS("public-read-write"))
            add_grant(out, S3_ACL_ALL_USERS, NULL, S3_ACL_WRITE);
    } else if (IS("authenticated-read")) {
        add_grant(out, S3_ACL_AUTHENTICATED_USERS, NULL, S3_ACL_READ);
    } else if (IS("log-delivery-write")) {
        add_grant(out, S3_ACL_LOG_DELIVERY, NULL, S3_ACL_WRITE);
        add_grant(out, S3_ACL_LOG_DELIVERY, NULL, S3_ACL_READ_ACP);
    } else if (IS("aws-exec-read")) {
        return -S3_ERR_NOT_IMPLEMENTED; /* its grantee is an AWS service this server does not have */
    } else if (!IS("private") && !IS("bucket-owner-read") && !IS("bucket-owner-full-control")) {
        return -S3_ERR_INVALID_ARGUMENT;
    }
    add_grant(out, S3_ACL_USER, owner, S3_ACL_FULL_CONTROL);
    /* on a bucket, or an object of the bucket's owner, these give the owner what it has already */
    if (IS("bucket-owner-read") && !on_bucket && other_owner)
        return add_grant(out, S3_ACL_USER, bucket_owner, S3_ACL_READ);
    if (IS("bucket-owner-full-control") && !on_bucket && other_owner)
        return add_grant(out, S3_ACL_USER, bucket_owner, S3_ACL_FULL_CONTROL);
    return 0;
#undef IS
}

/* ---------------------------------------------------------------- grant headers */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads one `type=value` (value optionally in double quotes) at *p of [*p, end); advances *p past
 * it and the comma after it. */
static int next_grantee(const char **p, const char *end, h2o_iovec_t *type, h2o_iovec_t *value)
{
    const char *s = *p;
    while (s < end && is_space(*s))
        s++;
    const char *t = s;
    while (s < end && *s != '=' && *s != ',' && !is_space(*s))
        s++;
    *type = h2o_iovec_init(t, (size_t)(s - t));
    while (s < end && is_space(*s))
        s++;
    if (type->len == 0 || s == end || *s != '=')
        return -1;
    s++;
    while (s < end && is_space(*s))
        s++;
    if (s < end && *s == '"') {
        const char *v = ++s;
        while (s < end && *s != '"')
            s++;
        if (s == end)
            return -1;
        *value = h2o_iovec_init(v, (size_t)(s - v));
        s++;
    } else {
        const char *v = s;
        while (s < end && *s != ',' && !is_space(*s))
            s++;
        *value = h2o_iovec_init(v, (size_t)(s - v));
    }
    while (s < end && is_space(*s))
        s++;
    if (s < end) {
        if (*s != ',')
            return -1;
        s++;
        if (s == end)
            return -1; /* a trailing comma names nobody */
    }
    *p = s;
    return 0;
}

int s3_acl_from_headers(const h2o_iovec_t values[S3_ACL__PERMS], const uint8_t owner[S3_ACL_ID_LEN], s3_acl_t *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->owner, owner, S3_ACL_ID_LEN);
    for (int perm = 0; perm < S3_ACL__PERMS; perm++) {
        if (values[perm].base == NULL)
            continue;
        const char *p = values[perm].base, *end = p + values[perm].len;
        if (p == end)
            return -S3_ERR_INVALID_ARGUMENT;
        while (p < end) {
            h2o_iovec_t type, value;
            uint8_t id[S3_ACL_ID_LEN];
            s3_acl_grantee_t group;
            if (next_grantee(&p, end, &type, &value) != 0)
                return -S3_ERR_INVALID_ARGUMENT;
            if (h2o_lcstris(type.base, type.len, H2O_STRLIT("emailaddress")))
                return -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS;
            if (h2o_lcstris(type.base, type.len, H2O_STRLIT("id"))) {
                if (s3_acl_id_parse(value, id) != 0 || add_grant(out, S3_ACL_USER, id, (s3_acl_perm_t)perm) != 0)
                    return -S3_ERR_INVALID_ARGUMENT;
            } else if (h2o_lcstris(type.base, type.len, H2O_STRLIT("uri"))) {
                if (group_of_uri(value, &group) != 0 || add_grant(out, group, NULL, (s3_acl_perm_t)perm) != 0)
                    return -S3_ERR_INVALID_ARGUMENT;
            } else {
                return -S3_ERR_INVALID_ARGUMENT;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the document */

static int only_children(const s3_xml_node_t *node, const char *const *names)
{
    for (const s3_xml_node_t *c = node->first; c != NULL; c = c->next) {
        const char *const *n = names;
        while (*n != NULL && !s3_xml_is(c, *n))
            n++;
        if (*n == NULL)
            return 0;
    }
    return 1;
}

static int parse_grant(const s3_xml_node_t *grant, s3_acl_t *out)
{
    static const char *const grant_children[] = {"Grantee", "Permission", NULL};
    static const char *const grantee_children[] = {"ID", "DisplayName", "URI", "EmailAddress", NULL};
    if (!only_children(grant, grant_children) || s3_xml_count(grant, "Grantee") != 1 ||
        s3_xml_count(grant, "Permission") != 1)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    const s3_xml_node_t *who = s3_xml_child(grant, "Grantee"), *perm = s3_xml_child(grant, "Permission");
    int perm_index = -1;
    for (int i = 0; i < S3_ACL__PERMS && !perm->has_children; i++)
        if (h2o_memis(perm->text.base, perm->text.len, perm_names[i], strlen(perm_names[i])))
            perm_index = i;
    if (perm_index < 0 || !only_children(who, grantee_children))
        return -S3_ERR_MALFORMED_ACL_ERROR;
    size_t nid = s3_xml_count(who, "ID"), nuri = s3_xml_count(who, "URI"), nmail = s3_xml_count(who, "EmailAddress");
    if (nid + nuri + nmail != 1 || s3_xml_count(who, "DisplayName") > 1)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    if (nmail == 1)
        return -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS;
    if (nid == 1) {
        const s3_xml_node_t *n = s3_xml_child(who, "ID");
        if (n->has_children || add_grant(out, S3_ACL_USER, NULL, (s3_acl_perm_t)perm_index) != 0)
            return -S3_ERR_MALFORMED_ACL_ERROR;
        /* well-formed XML naming no canonical id: S3's "Invalid id" (InvalidArgument) */
        if (s3_acl_id_parse(n->text, out->grants[out->ngrants - 1].id) != 0)
            return -S3_ERR_INVALID_ARGUMENT;
        return 0;
    }
    s3_acl_grantee_t group;
    const s3_xml_node_t *n = s3_xml_child(who, "URI");
    if (n->has_children || group_of_uri(n->text, &group) != 0 ||
        add_grant(out, group, NULL, (s3_acl_perm_t)perm_index) != 0)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    return 0;
}

int s3_acl_parse_xml(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_acl_t *out)
{
    static const char *const root_children[] = {"Owner", "AccessControlList", NULL};
    static const char *const owner_children[] = {"ID", "DisplayName", NULL};
    static const char *const list_children[] = {"Grant", NULL};
    s3_xml_node_t *root;

    memset(out, 0, sizeof(*out));
    if (s3_xml_parse_tree(pool, body, S3_ACL_MAX_BODY, 8 * S3_ACL_MAX_GRANTS + 16, &root) != 0)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    if (!s3_xml_is(root, "AccessControlPolicy") || !only_children(root, root_children) ||
        s3_xml_count(root, "Owner") != 1 || s3_xml_count(root, "AccessControlList") > 1)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    const s3_xml_node_t *owner = s3_xml_child(root, "Owner");
    if (!only_children(owner, owner_children) || s3_xml_count(owner, "ID") != 1 ||
        s3_xml_count(owner, "DisplayName") > 1)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    const s3_xml_node_t *id = s3_xml_child(owner, "ID");
    if (id->has_children || s3_acl_id_parse(id->text, out->owner) != 0)
        return -S3_ERR_MALFORMED_ACL_ERROR;
    const s3_xml_node_t *list = s3_xml_child(root, "AccessControlList");
    if (list == NULL)
        return 0;
    if (!only_children(list, list_children))
        return -S3_ERR_MALFORMED_ACL_ERROR;
    for (const s3_xml_node_t *g = list->first; g != NULL; g = g->next) {
        int ret = parse_grant(g, out);
        if (ret != 0)
            return ret;
    }
    return 0;
}

static void write_user(s3_xml_writer_t *w, const uint8_t id[S3_ACL_ID_LEN], s3_acl_name_fn name, void *arg)
{
    char text[S3_ACL_ID_TEXT + 1];
    s3_acl_id_format(id, text);
    s3_xml_element_str(w, "ID", text);
    h2o_iovec_t display = name != NULL ? name(arg, id) : h2o_iovec_init(NULL, 0);
    if (display.base != NULL)
        s3_xml_element(w, "DisplayName", display);
}

void s3_acl_write_xml(s3_xml_writer_t *w, const s3_acl_t *acl, s3_acl_name_fn name, void *arg)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "AccessControlPolicy");
    s3_xml_open(w, "Owner");
    write_user(w, acl->owner, name, arg);
    s3_xml_close(w, "Owner");
    s3_xml_open(w, "AccessControlList");
    for (size_t i = 0; i < acl->ngrants; i++) {
        const s3_acl_grant_t *g = &acl->grants[i];
        s3_xml_open(w, "Grant");
        if (g->grantee == S3_ACL_USER) {
            s3_xml_raw(w, H2O_STRLIT("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                     "xsi:type=\"CanonicalUser\">"));
            write_user(w, g->id, name, arg);
        } else {
            s3_xml_raw(w, H2O_STRLIT("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                     "xsi:type=\"Group\">"));
            s3_xml_element_str(w, "URI", group_uris[g->grantee]);
        }
        s3_xml_close(w, "Grantee");
        s3_xml_element_str(w, "Permission", perm_names[g->perm]);
        s3_xml_close(w, "Grant");
    }
    s3_xml_close(w, "AccessControlList");
    s3_xml_close(w, "AccessControlPolicy");
}

/* ---------------------------------------------------------------- stored form */

size_t s3_acl_encode(const s3_acl_t *acl, uint8_t *buf)
{
    size_t n = 0;
    buf[n++] = FORMAT;
    memcpy(buf + n, acl->owner, S3_ACL_ID_LEN);
    n += S3_ACL_ID_LEN;
    buf[n++] = (uint8_t)acl->ngrants;
    for (size_t i = 0; i < acl->ngrants; i++) {
        buf[n++] = acl->grants[i].grantee;
        buf[n++] = acl->grants[i].perm;
        if (acl->grants[i].grantee == S3_ACL_USER) {
            memcpy(buf + n, acl->grants[i].id, S3_ACL_ID_LEN);
            n += S3_ACL_ID_LEN;
        }
    }
    return n;
}

int s3_acl_decode(const uint8_t *data, size_t len, s3_acl_t *out)
{
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    if (len < 2 + S3_ACL_ID_LEN || data[0] != FORMAT)
        return -1;
    memcpy(out->owner, data + 1, S3_ACL_ID_LEN);
    n = 1 + S3_ACL_ID_LEN;
    size_t count = data[n++];
    if (count > S3_ACL_MAX_GRANTS)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (len - n < 2 || data[n] >= S3_ACL__GRANTEES || data[n + 1] >= S3_ACL__PERMS)
            return -1;
        s3_acl_grant_t *g = &out->grants[out->ngrants++];
        g->grantee = data[n];
        g->perm = data[n + 1];
        n += 2;
        if (g->grantee == S3_ACL_USER) {
            if (len - n < S3_ACL_ID_LEN)
                return -1;
            memcpy(g->id, data + n, S3_ACL_ID_LEN);
            n += S3_ACL_ID_LEN;
        }
    }
    return n == len ? 0 : -1;
}

/* ---------------------------------------------------------------- decisions */

int s3_acl_is_public(const s3_acl_t *acl)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].grantee == S3_ACL_ALL_USERS || acl->grants[i].grantee == S3_ACL_AUTHENTICATED_USERS)
            return 1;
    return 0;
}

int s3_acl_is_owner_only(const s3_acl_t *acl)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].grantee != S3_ACL_USER || memcmp(acl->grants[i].id, acl->owner, S3_ACL_ID_LEN) != 0)
            return 0;
    return 1;
}

int s3_acl_permits(const s3_acl_t *acl, s3_acl_who_t who, s3_acl_perm_t perm, int ignore_public)
{
    for (size_t i = 0; i < acl->ngrants; i++) {
        const s3_acl_grant_t *g = &acl->grants[i];
        if (g->perm != perm && g->perm != S3_ACL_FULL_CONTROL)
            continue;
        switch (g->grantee) {
        case S3_ACL_USER:
            if (who.id != NULL && memcmp(who.id, g->id, S3_ACL_ID_LEN) == 0)
                return 1;
            break;
        case S3_ACL_ALL_USERS:
            if (!ignore_public)
                return 1;
            break;
        case S3_ACL_AUTHENTICATED_USERS:
            if (!ignore_public && who.id != NULL)
                return 1;
            break;
        default:
            break; /* LogDelivery: no request of this server comes from it */
        }
    }
    return 0;
}
