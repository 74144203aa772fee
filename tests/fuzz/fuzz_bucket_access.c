/* fuzz_bucket_access.c — the OwnershipControls and PublicAccessBlockConfiguration readers on
 * arbitrary bytes. The first byte picks the reader. Whatever is accepted must be written back by
 * the writer into a document that reads back to the same settings; whatever is refused must be
 * refused as MalformedXML, the one answer S3 gives for these documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/bucket_access.h"

static void try_ownership(h2o_mem_pool_t *pool, h2o_iovec_t body)
{
    s3_ownership_t o, back;
    s3_xml_writer_t w;
    int ret = s3_ownership_parse(pool, body, &o);
    if (ret != 0) {
        if (ret != -S3_ERR_MALFORMED_XML)
            abort();
        return;
    }
    s3_xml_writer_init(&w, pool);
    s3_ownership_write_xml(&w, o);
    if (s3_ownership_parse(pool, s3_xml_writer_result(&w), &back) != 0 || back != o)
        abort();
}

static void try_public_access_block(h2o_mem_pool_t *pool, h2o_iovec_t body)
{
    s3_public_access_block_t p, back;
    s3_xml_writer_t w;
    int ret = s3_public_access_block_parse(pool, body, &p);
    if (ret != 0) {
        if (ret != -S3_ERR_MALFORMED_XML)
            abort();
        return;
    }
    s3_xml_writer_init(&w, pool);
    s3_public_access_block_write_xml(&w, &p);
    if (s3_public_access_block_parse(pool, s3_xml_writer_result(&w), &back) != 0 || memcmp(&back, &p, sizeof(p)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    if (size < 1)
        return 0;
    /* a copy of exactly the input's size: a read past it is caught */
    char *copy = malloc(size - 1 + 1);
    memcpy(copy, data + 1, size - 1);
    h2o_mem_init_pool(&pool);
    if (data[0] & 1)
        try_public_access_block(&pool, h2o_iovec_init(copy, size - 1));
    else
        try_ownership(&pool, h2o_iovec_init(copy, size - 1));
    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
