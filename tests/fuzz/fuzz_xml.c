/* fuzz_xml.c — the request body parsers on arbitrary bytes, and a writer → parser round trip.
 *
 * The first byte picks the parser; the rest is the body. Results must be consistent with the
 * contract (counts within caps, every required value present). The round trip writes the input as
 * a Delete key with the writer's escaping and checks that the parser reads back the same bytes
 * whenever the input is text XML can carry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/xml.h"
#include "gateway/s3/names.h"
#include "common/utf8.h"

static int xml_carries(const uint8_t *p, size_t n)
{
    /* the writer escapes controls as references, which XML 1.0 parsers refuse: skip those */
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n')
            return 0;
    return yc_utf8_valid(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    if (size < 1)
        return 0;
    h2o_mem_init_pool(&pool);
    h2o_iovec_t body = h2o_iovec_init(data + 1, size - 1);

    switch (data[0] % 5) {
    case 0: {
        s3_xml_complete_t c;
        if (s3_xml_parse_complete(&pool, body, &c) == 0) {
            if (c.count < 1 || c.count > S3_XML_MAX_PARTS)
                abort();
            for (size_t i = 0; i < c.count; i++)
                if (c.parts[i].etag.base == NULL)
                    abort();
            (void)s3_xml_complete_check_order(&c);
        } else if (c.count != 0) {
            abort();
        }
        break;
    }
    case 1: {
        s3_xml_delete_t d;
        if (s3_xml_parse_delete(&pool, body, &d) == 0) {
            if (d.count < 1 || d.count > S3_XML_MAX_DELETE)
                abort();
            for (size_t i = 0; i < d.count; i++)
                if (d.objects[i].key.base == NULL || d.objects[i].key.len > S3_XML_MAX_TEXT)
                    abort();
        }
        break;
    }
    case 2: {
        s3_xml_create_bucket_t b;
        (void)s3_xml_parse_create_bucket(&pool, body, &b);
        break;
    }
    case 3: {
        s3_xml_versioning_t v;
        (void)s3_xml_parse_versioning(&pool, body, &v);
        break;
    }
    case 4: {
        if (body.len > 1024 || !xml_carries((const uint8_t *)body.base, body.len))
            break;
        s3_xml_writer_t w;
        s3_xml_delete_t d;
        s3_xml_writer_init(&w, &pool);
        s3_xml_declaration(&w);
        s3_xml_open_root(&w, "Delete");
        s3_xml_open(&w, "Object");
        s3_xml_element(&w, "Key", body);
        s3_xml_close(&w, "Object");
        s3_xml_close(&w, "Delete");
        if (s3_xml_parse_delete(&pool, s3_xml_writer_result(&w), &d) != 0 || d.count != 1 ||
            d.objects[0].key.len != body.len || memcmp(d.objects[0].key.base, body.base, body.len) != 0)
            abort();
        break;
    }
    }
    h2o_mem_clear_pool(&pool);
    return 0;
}
