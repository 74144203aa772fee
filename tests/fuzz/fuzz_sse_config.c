/* fuzz_sse_config.c — the ServerSideEncryptionConfiguration reader on arbitrary bytes. Whatever
 * is accepted is written back into a document that reads back to the same configuration, and its
 * stored form decodes to it too; whatever is refused is refused as MalformedXML or (a key id
 * beside another algorithm) InvalidArgument, the answers S3 gives for this document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/sse_config.h"

static int same(const s3_sse_config_t *a, const s3_sse_config_t *b)
{
    return a->alg == b->alg && a->bucket_key == b->bucket_key &&
           h2o_memis(a->kms_key_id.base, a->kms_key_id.len, b->kms_key_id.base, b->kms_key_id.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_sse_config_t c, back, stored;
    s3_error_detail_t why = {0};
    s3_xml_writer_t w;

    /* a copy of exactly the input's size: a read past it is caught */
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    h2o_mem_init_pool(&pool);
    int ret = s3_sse_config_parse(&pool, h2o_iovec_init(copy, size), &c, &why);
    if (ret != 0) {
        if (ret != -S3_ERR_MALFORMED_XML && ret != -S3_ERR_INVALID_ARGUMENT)
            abort();
    } else {
        s3_xml_writer_init(&w, &pool);
        s3_sse_config_write_xml(&w, &c);
        if (s3_sse_config_parse(&pool, s3_xml_writer_result(&w), &back, NULL) != 0 || !same(&c, &back))
            abort();
        if (s3_sse_config_decode(s3_sse_config_encode(&pool, &c), &stored) != 0 || !same(&c, &stored))
            abort();
    }
    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
