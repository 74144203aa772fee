/* fuzz_sigv4.c — SigV4 parsing and canonicalisation over hostile requests.
 *
 * Input layout: lines separated by '\n': method, path, query, then "name:value" header lines (names
 * lowercased as h2o would). Every field lives in its own exact-size heap copy, so any read past a
 * length is caught. The parser runs, then the verifier with a fixed secret at the request's own time,
 * then the canonical request with the raw signed-header list, then the signer (which must accept
 * whatever it builds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/sigv4.h"

#define MAX_HEADERS 32

static char *copy(const uint8_t *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (n)
        memcpy(c, p, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_iovec_t fields[3 + MAX_HEADERS], names[MAX_HEADERS];
    h2o_header_t headers[MAX_HEADERS];
    size_t nfields = 0, nheaders = 0, start = 0;
    s3_request_t req;
    h2o_mem_pool_t pool;
    s3_auth_t auth;

    for (size_t i = 0; i <= size && nfields < 3 + MAX_HEADERS; i++) {
        if (i == size || data[i] == '\n') {
            fields[nfields].base = copy(data + start, i - start);
            fields[nfields].len = i - start;
            nfields++;
            start = i + 1;
        }
    }
    while (nfields < 3) {
        fields[nfields].base = copy(NULL, 0);
        fields[nfields++].len = 0;
    }
    for (size_t i = 3; i < nfields; i++) {
        char *colon = memchr(fields[i].base, ':', fields[i].len);
        size_t nl = colon ? (size_t)(colon - fields[i].base) : fields[i].len;
        for (size_t k = 0; k < nl; k++)
            if (fields[i].base[k] >= 'A' && fields[i].base[k] <= 'Z')
                fields[i].base[k] += 'a' - 'A';
        names[nheaders] = h2o_iovec_init(fields[i].base, nl);
        headers[nheaders].name = &names[nheaders];
        headers[nheaders].orig_name = NULL;
        headers[nheaders].value =
            colon ? h2o_iovec_init(colon + 1, fields[i].len - nl - 1) : h2o_iovec_init(fields[i].base + nl, 0);
        nheaders++;
    }
    req.method = fields[0];
    req.path = fields[1];
    req.query = fields[2];
    req.headers = headers;
    req.num_headers = nheaders;

    h2o_mem_init_pool(&pool);
    if (s3_auth_parse(&req, &pool, &auth) == 0 && auth.kind != S3_AUTH_KIND_NONE) {
        s3_sigv4_ctx_t ctx;
        s3_sigv4_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT("secret")), auth.request_time, &ctx);
    }
    h2o_iovec_t canon;
    h2o_iovec_t list = nheaders > 0 ? headers[0].value : h2o_iovec_init(NULL, 0);
    s3_sigv4_canonical_request(&req, list, h2o_iovec_init(H2O_STRLIT("UNSIGNED-PAYLOAD")), size & 1, &pool, &canon);
    int64_t t;
    s3_sigv4_parse_time(req.method, &t);

    /* oracle: a request we sign ourselves must verify. Rebuild the headers without the auth ones,
     * with a fixed date and payload hash, sign them, add the Authorization header and check. */
    h2o_header_t h2[MAX_HEADERS + 3];
    h2o_iovec_t extra[3] = {h2o_iovec_init(H2O_STRLIT("x-amz-date")),
                            h2o_iovec_init(H2O_STRLIT("x-amz-content-sha256")),
                            h2o_iovec_init(H2O_STRLIT("authorization"))};
    size_t n2 = 0;
    for (size_t i = 0; i < nheaders; i++) {
        static const char *const skip[] = {"authorization", "x-amz-date", "x-amz-content-sha256", "date",
                                           "x-amz-security-token"};
        int drop = 0;
        for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
            drop |= names[i].len == strlen(skip[k]) && memcmp(names[i].base, skip[k], names[i].len) == 0;
        if (!drop)
            h2[n2++] = headers[i];
    }
    memset(&h2[n2], 0, 3 * sizeof(h2[0]));
    h2[n2].name = &extra[0];
    h2[n2++].value = h2o_iovec_init(H2O_STRLIT("20130524T000000Z"));
    h2[n2].name = &extra[1];
    h2[n2++].value = h2o_iovec_init(H2O_STRLIT("UNSIGNED-PAYLOAD"));
    s3_request_t req2 = req;
    req2.headers = h2;
    req2.num_headers = n2;
    char authz[S3_SIGV4_MAX_SIGNED_HEADERS + 1024];
    if (s3_sigv4_sign(&req2, h2o_iovec_init(H2O_STRLIT("UNSIGNED-PAYLOAD")), h2o_iovec_init(H2O_STRLIT("AK")),
                      h2o_iovec_init(H2O_STRLIT("secret")), h2o_iovec_init(H2O_STRLIT("us-east-1")), 1369353600, authz,
                      sizeof(authz), NULL) == 0) {
        s3_auth_t a2;
        h2[n2].name = &extra[2];
        h2[n2++].value = h2o_iovec_init(authz, strlen(authz));
        req2.num_headers = n2;
        if (s3_auth_parse(&req2, &pool, &a2) == 0 && a2.kind == S3_AUTH_KIND_HEADER &&
            s3_sigv4_verify(&req2, &a2, h2o_iovec_init(H2O_STRLIT("secret")), 1369353600, NULL) != 0)
            __builtin_trap();
    }
    h2o_mem_clear_pool(&pool);
    for (size_t i = 0; i < nfields; i++)
        free(fields[i].base);
    return 0;
}
