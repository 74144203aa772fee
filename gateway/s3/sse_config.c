/* sse_config.c — ServerSideEncryptionConfiguration documents (see sse_config.h). */
#include "gateway/s3/sse_config.h"
#include <string.h>

static const char *const alg_names[] = {
    [S3_SSE_AES256] = "AES256",
    [S3_SSE_KMS] = "aws:kms",
    [S3_SSE_KMS_DSSE] = "aws:kms:dsse",
    [S3_SSE_SM4] = "SM4",
};
#define NALGS (sizeof(alg_names) / sizeof(alg_names[0]))

const char *s3_sse_alg_name(s3_sse_alg_t alg)
{
    return (unsigned)alg < NALGS && alg_names[alg] != NULL ? alg_names[alg] : "";
}

int s3_sse_alg_from_name(h2o_iovec_t name, s3_sse_alg_t *out)
{
    for (size_t i = 1; i < NALGS; i++) {
        if (h2o_memis(name.base, name.len, alg_names[i], strlen(alg_names[i]))) {
            *out = (s3_sse_alg_t)i;
            return 0;
        }
    }
    return -1;
}

/* 1 when every child of node is called one of names (NULL-terminated), each at most once. */
static int children_once_among(const s3_xml_node_t *node, const char *const *names)
{
    for (const s3_xml_node_t *c = node->first; c != NULL; c = c->next) {
        const char *const *n = names;
        while (*n != NULL && !s3_xml_is(c, *n))
            n++;
        if (*n == NULL || s3_xml_count(node, *n) != 1)
            return 0;
    }
    return 1;
}

static int malformed(s3_error_detail_t *why)
{
    return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
}

int s3_sse_config_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_sse_config_t *out, s3_error_detail_t *why)
{
    static const char *const root_children[] = {"Rule", NULL};
    static const char *const rule_children[] = {"ApplyServerSideEncryptionByDefault", "BucketKeyEnabled", NULL};
    static const char *const apply_children[] = {"SSEAlgorithm", "KMSMasterKeyID", NULL};
    s3_xml_node_t *root;

    memset(out, 0, sizeof(*out));
    if (s3_xml_parse_tree(pool, body, S3_SSE_CONFIG_MAX_BODY, S3_SSE_CONFIG_MAX_NODE, &root) != 0)
        return malformed(why);
    if (!s3_xml_is(root, "ServerSideEncryptionConfiguration") || !children_once_among(root, root_children) ||
        s3_xml_count(root, "Rule") != 1)
        return malformed(why);
    const s3_xml_node_t *rule = s3_xml_child(root, "Rule");
    if (!children_once_among(rule, rule_children))
        return malformed(why);
    const s3_xml_node_t *bke = s3_xml_child(rule, "BucketKeyEnabled");
    if (bke != NULL && (bke->has_children || s3_xml_parse_bool(bke->text, &out->bucket_key) != 0))
        return malformed(why);
    const s3_xml_node_t *apply = s3_xml_child(rule, "ApplyServerSideEncryptionByDefault");
    if (apply == NULL || !children_once_among(apply, apply_children))
        return malformed(why);
    const s3_xml_node_t *alg = s3_xml_child(apply, "SSEAlgorithm");
    const s3_xml_node_t *key = s3_xml_child(apply, "KMSMasterKeyID");
    if (alg == NULL || alg->has_children || s3_sse_alg_from_name(alg->text, &out->alg) != 0)
        return malformed(why);
    if (key != NULL) {
        if (key->has_children || key->text.len == 0 || key->text.len > S3_SSE_KMS_KEY_ID_MAX ||
            memchr(key->text.base, '\n', key->text.len) != NULL)
            return malformed(why);
        if (out->alg != S3_SSE_KMS && out->alg != S3_SSE_KMS_DSSE)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                       "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                                       "aws:kms or aws:kms:dsse");
        out->kms_key_id = key->text;
    }
    return 0;
}

void s3_sse_config_write_xml(s3_xml_writer_t *w, const s3_sse_config_t *c)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "ServerSideEncryptionConfiguration");
    s3_xml_open(w, "Rule");
    s3_xml_open(w, "ApplyServerSideEncryptionByDefault");
    s3_xml_element_str(w, "SSEAlgorithm", s3_sse_alg_name(c->alg));
    if (c->kms_key_id.base != NULL)
        s3_xml_element(w, "KMSMasterKeyID", c->kms_key_id);
    s3_xml_close(w, "ApplyServerSideEncryptionByDefault");
    s3_xml_element_bool(w, "BucketKeyEnabled", c->bucket_key);
    s3_xml_close(w, "Rule");
    s3_xml_close(w, "ServerSideEncryptionConfiguration");
}

h2o_iovec_t s3_sse_config_encode(h2o_mem_pool_t *pool, const s3_sse_config_t *c)
{
    const char *name = s3_sse_alg_name(c->alg);
    size_t n = strlen(name) + 3 + c->kms_key_id.len;
    char *p = h2o_mem_alloc_pool(pool, n + 1);
    snprintf(p, n + 1, "%s\n%d\n%.*s", name, c->bucket_key ? 1 : 0, (int)c->kms_key_id.len,
             c->kms_key_id.base != NULL ? c->kms_key_id.base : "");
    return h2o_iovec_init(p, n);
}

int s3_sse_config_decode(h2o_iovec_t stored, s3_sse_config_t *out)
{
    const char *end = stored.base + stored.len, *nl = memchr(stored.base, '\n', stored.len);

    memset(out, 0, sizeof(*out));
    if (nl == NULL || s3_sse_alg_from_name(h2o_iovec_init(stored.base, (size_t)(nl - stored.base)), &out->alg) != 0)
        return -1;
    if (end - nl < 3 || (nl[1] != '0' && nl[1] != '1') || nl[2] != '\n')
        return -1;
    out->bucket_key = nl[1] == '1';
    if (end > nl + 3)
        out->kms_key_id = h2o_iovec_init(nl + 3, (size_t)(end - (nl + 3)));
    return 0;
}
