/* fuzz_acl.c — the ACL parsers on arbitrary bytes. The first byte picks the reader: the
 * AccessControlPolicy document, the grant headers, a canned ACL name, the stored form. An
 * accepted document is written back and must read back to the same ACL; an accepted ACL must
 * survive its stored form; a refusal must be one of the errors S3 gives for that input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/acl.h"

static s3_acl_t acl, back;
static const uint8_t owner[S3_ACL_ID_LEN] = {1, 2, 3};

static void check_stored(const s3_acl_t *a)
{
    uint8_t buf[S3_ACL_ENCODED_MAX];
    size_t n = s3_acl_encode(a, buf);
    if (s3_acl_decode(buf, n, &back) != 0 || back.ngrants != a->ngrants ||
        memcmp(back.grants, a->grants, a->ngrants * sizeof(a->grants[0])) != 0)
        abort();
}

static void try_document(h2o_mem_pool_t *pool, h2o_iovec_t body)
{
    s3_xml_writer_t w;
    int ret = s3_acl_parse_xml(pool, body, &acl);
    if (ret != 0) {
        if (ret != -S3_ERR_MALFORMED_ACL_ERROR && ret != -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS)
            abort();
        return;
    }
    s3_xml_writer_init(&w, pool);
    s3_acl_write_xml(&w, &acl, NULL, NULL);
    if (s3_acl_parse_xml(pool, s3_xml_writer_result(&w), &back) != 0 || back.ngrants != acl.ngrants ||
        memcmp(back.grants, acl.grants, acl.ngrants * sizeof(acl.grants[0])) != 0)
        abort();
    check_stored(&acl);
}

static void try_headers(h2o_iovec_t text)
{
    h2o_iovec_t v[S3_ACL__PERMS] = {{0}};
    v[text.len % S3_ACL__PERMS] = text;
    int ret = s3_acl_from_headers(v, owner, &acl);
    if (ret == 0)
        check_stored(&acl);
    else if (ret != -S3_ERR_INVALID_ARGUMENT && ret != -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS)
        abort();
}

static void try_canned(h2o_iovec_t text)
{
    int ret = s3_acl_canned(text, owner, owner, (int)(text.len & 1), &acl);
    if (ret == 0)
        check_stored(&acl);
    else if (ret != -S3_ERR_INVALID_ARGUMENT && ret != -S3_ERR_NOT_IMPLEMENTED)
        abort();
}

static void try_stored(h2o_iovec_t bytes)
{
    if (s3_acl_decode((const uint8_t *)bytes.base, bytes.len, &acl) == 0) {
        uint8_t buf[S3_ACL_ENCODED_MAX];
        if (s3_acl_encode(&acl, buf) != bytes.len || memcmp(buf, bytes.base, bytes.len) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    if (size < 1)
        return 0;
    /* a copy of exactly the input's size: a read past it is caught */
    char *copy = malloc(size - 1 + 1);
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 1);
    h2o_mem_init_pool(&pool);
    switch (data[0] & 3) {
    case 0:
        try_document(&pool, in);
        break;
    case 1:
        try_headers(in);
        break;
    case 2:
        try_canned(in);
        break;
    default:
        try_stored(in);
        break;
    }
    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
