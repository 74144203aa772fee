/* fuzz_query.c — query strings, percent-coding and list parameters on arbitrary bytes.
 *
 * Every parsed parameter is run through the list parameter parsers; the key encoder's output must
 * decode back to its input once '+' is read as a space (what SDKs do with unquote_plus).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_query_t q;
    char *copy = malloc(size ? size : 1);

    memcpy(copy, data, size);
    h2o_iovec_t raw = h2o_iovec_init(copy, size);
    h2o_mem_init_pool(&pool);

    if (s3_query_parse(&pool, raw, &q) == 0) {
        if (q.count > S3_QUERY_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < q.count; i++) {
            uint32_t n;
            int url;
            h2o_iovec_t v = q.params[i].value;
            if (s3_parse_list_limit(v, 1000, S3_LIST_MAX_KEYS, &n) == 0 && n > S3_LIST_MAX_KEYS)
                abort();
            if (s3_parse_part_number(v, &n) == 0 && (n < 1 || n > S3_PART_NUMBER_MAX))
                abort();
            (void)s3_parse_part_number_marker(v, &n);
            (void)s3_parse_encoding_type(v, &url);
            (void)s3_query_find(&q, q.params[i].name.base[0] ? "prefix" : "uploads");
        }
    }

    h2o_iovec_t enc = s3_url_encode_key(&pool, raw), dec;
    if (s3_percent_decode(&pool, enc, &dec) != 0 || dec.len != size || memcmp(dec.base, data, size) != 0)
        abort();

    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
