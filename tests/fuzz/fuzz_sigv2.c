/* fuzz_sigv2 — SigV2 parsing, string to sign and verification on arbitrary requests. The input
 * is split at NUL bytes into: authorization header, path, query, date, one x-amz header value. */
#include "gateway/s3/sigv2.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_iovec_t parts[5] = {{0}};
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < 5; i++) {
        if (i == size || data[i] == 0) {
            parts[n++] = h2o_iovec_init((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    h2o_iovec_t names[3] = {{H2O_STRLIT("authorization")}, {H2O_STRLIT("date")}, {H2O_STRLIT("x-amz-meta-a")}};
    h2o_header_t headers[3] = {{&names[0], NULL, parts[0]}, {&names[1], NULL, parts[3]}, {&names[2], NULL, parts[4]}};
    s3_request_t req = {{H2O_STRLIT("GET")}, parts[1], parts[2], headers, parts[0].len > 0 ? 3 : 2};
    h2o_mem_pool_t pool;
    s3_sigv2_t auth;
    h2o_iovec_t sts;
    h2o_mem_init_pool(&pool);
    if (s3_sigv2_parse(&req, &pool, &auth) == 0 && auth.kind != S3_SIGV2_NONE) {
        s3_sigv2_string_to_sign(&req, &auth, &pool, &sts);
        s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT("secret")), 1700000000, &pool);
    }
    h2o_mem_clear_pool(&pool);
    return 0;
}
