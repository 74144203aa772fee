/* bucket_access.c — OwnershipControls and PublicAccessBlockConfiguration (see bucket_access.h). */
#include "gateway/s3/bucket_access.h"
#include <string.h>

static const char *const ownership_names[] = {
    [S3_OWNERSHIP_BUCKET_OWNER_ENFORCED] = "BucketOwnerEnforced",
    [S3_OWNERSHIP_BUCKET_OWNER_PREFERRED] = "BucketOwnerPreferred",
    [S3_OWNERSHIP_OBJECT_WRITER] = "ObjectWriter",
};

const char *s3_ownership_name(s3_ownership_t o)
{
    return (unsigned)o < sizeof(ownership_names) / sizeof(ownership_names[0]) ? ownership_names[o] : "";
}

int s3_ownership_from_name(h2o_iovec_t name, s3_ownership_t *out)
{
    for (size_t i = 0; i < sizeof(ownership_names) / sizeof(ownership_names[0]); i++) {
        if (h2o_memis(name.base, name.len, ownership_names[i], strlen(ownership_names[i]))) {
            *out = (s3_ownership_t)i;
            return 0;
        }
    }
    return -S3_ERR_MALFORMED_XML;
}

/* 1 when every child of node is called one of names (NULL-terminated). */
static int children_among(const s3_xml_node_t *node, const char *const *names)
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

int s3_ownership_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_ownership_t *out)
{
    static const char *const root_children[] = {"Rule", NULL}, *const rule_children[] = {"ObjectOwnership", NULL};
    s3_xml_node_t *root;
    int ret;

    if ((ret = s3_xml_parse_tree(pool, body, S3_BUCKET_ACCESS_MAX_BODY, S3_BUCKET_ACCESS_MAX_NODE, &root)) != 0)
        return ret;
    if (!s3_xml_is(root, "OwnershipControls") || !children_among(root, root_children) ||
        s3_xml_count(root, "Rule") != 1)
        return -S3_ERR_MALFORMED_XML;
    const s3_xml_node_t *rule = s3_xml_child(root, "Rule");
    if (!children_among(rule, rule_children) || s3_xml_count(rule, "ObjectOwnership") != 1)
        return -S3_ERR_MALFORMED_XML;
    const s3_xml_node_t *o = s3_xml_child(rule, "ObjectOwnership");
    if (o->has_children)
        return -S3_ERR_MALFORMED_XML;
    return s3_ownership_from_name(o->text, out);
}

void s3_ownership_write_xml(s3_xml_writer_t *w, s3_ownership_t o)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "OwnershipControls");
    s3_xml_open(w, "Rule");
    s3_xml_element_str(w, "ObjectOwnership", s3_ownership_name(o));
    s3_xml_close(w, "Rule");
    s3_xml_close(w, "OwnershipControls");
}

int s3_public_access_block_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_public_access_block_t *out)
{
    static const char *const names[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                        "RestrictPublicBuckets", NULL};
    int *fields[] = {&out->block_public_acls, &out->ignore_public_acls, &out->block_public_policy,
                     &out->restrict_public_buckets};
    s3_xml_node_t *root;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = s3_xml_parse_tree(pool, body, S3_BUCKET_ACCESS_MAX_BODY, S3_BUCKET_ACCESS_MAX_NODE, &root)) != 0)
        return ret;
    if (!s3_xml_is(root, "PublicAccessBlockConfiguration") || !children_among(root, names))
        return -S3_ERR_MALFORMED_XML;
    for (size_t i = 0; i < 4; i++) {
        size_t n = s3_xml_count(root, names[i]);
        if (n > 1)
            return -S3_ERR_MALFORMED_XML;
        if (n == 1) {
            const s3_xml_node_t *c = s3_xml_child(root, names[i]);
            if (c->has_children || s3_xml_parse_bool(c->text, fields[i]) != 0)
                return -S3_ERR_MALFORMED_XML;
        }
    }
    return 0;
}

void s3_public_access_block_write_xml(s3_xml_writer_t *w, const s3_public_access_block_t *p)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "PublicAccessBlockConfiguration");
    s3_xml_element_bool(w, "BlockPublicAcls", p->block_public_acls);
    s3_xml_element_bool(w, "IgnorePublicAcls", p->ignore_public_acls);
    s3_xml_element_bool(w, "BlockPublicPolicy", p->block_public_policy);
    s3_xml_element_bool(w, "RestrictPublicBuckets", p->restrict_public_buckets);
    s3_xml_close(w, "PublicAccessBlockConfiguration");
}
