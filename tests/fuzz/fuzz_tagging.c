/* fuzz_tagging.c — tag sets on arbitrary bytes: the Tagging document, the x-amz-tagging header,
 * the stored form, and the round trips between them.
 *
 * The first byte picks the reader; the rest is its input. Whatever is accepted must satisfy the
 * rules it was checked against, encode, decode back to the same set in key order, re-encode to the
 * same bytes, and read back from the document the writer makes of it. Whatever is refused must
 * leave an empty set and say why with the code it returned. Stored bytes that decode must
 * re-encode to themselves (one encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/tagging.h"

static int same_tag(const s3_tag_t *a, const s3_tag_t *b)
{
    return a->key.len == b->key.len && memcmp(a->key.base, b->key.base, a->key.len) == 0 &&
           a->value.len == b->value.len &&
           (a->value.len == 0 || memcmp(a->value.base, b->value.base, a->value.len) == 0);
}

/* set was accepted: check everything that follows from it. */
static void check_accepted(h2o_mem_pool_t *pool, s3_tagset_t *set, s3_tags_of_t of)
{
    h2o_iovec_t bytes, again;
    s3_tagset_t back, reread;
    s3_xml_writer_t w;

    if (set->count > (of == S3_TAGS_OBJECT ? S3_TAGS_MAX_OBJECT : S3_TAGS_MAX_BUCKET))
        abort();
    if (s3_tagging_validate(set, of, NULL) != 0)
        abort();
    if (s3_tagging_encode(pool, set, &bytes) != 0 || s3_tagging_decode(pool, bytes, &back) != 0)
        abort();
    if (back.count != set->count)
        abort();
    s3_tagset_sort(set);
    for (size_t i = 0; i < set->count; i++)
        if (!same_tag(&set->tags[i], &back.tags[i]))
            abort();
    if (s3_tagging_encode(pool, &back, &again) != 0 || again.len != bytes.len ||
        (bytes.len != 0 && memcmp(again.base, bytes.base, bytes.len) != 0))
        abort();
    s3_xml_writer_init(&w, pool);
    s3_tagging_write_xml(&w, &back);
    if (s3_tagging_parse_xml(pool, s3_xml_writer_result(&w), of, &reread, NULL) != 0 || reread.count != back.count)
        abort();
    for (size_t i = 0; i < back.count; i++)
        if (!same_tag(&back.tags[i], &reread.tags[i]))
            abort();
}

static void check_refused(int ret, const s3_tagset_t *set, const s3_error_detail_t *why)
{
    if (ret >= 0 || set->count != 0 || set->tags != NULL || why->err != (s3_error_t)-ret)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_tagset_t set;
    s3_error_detail_t why;
    int ret;

    if (size < 1)
        return 0;
    h2o_mem_init_pool(&pool);
    /* a copy the size of the input, so that reads past it are caught */
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 1);
    memset(&why, 0, sizeof(why));

    switch (data[0] % 4) {
    case 0:
    case 1: {
        s3_tags_of_t of = data[0] % 4 == 0 ? S3_TAGS_OBJECT : S3_TAGS_BUCKET;
        if ((ret = s3_tagging_parse_xml(&pool, in, of, &set, &why)) == 0)
            check_accepted(&pool, &set, of);
        else
            check_refused(ret, &set, &why);
        break;
    }
    case 2:
        if ((ret = s3_tagging_parse_header(&pool, in, &set, &why)) == 0)
            check_accepted(&pool, &set, S3_TAGS_OBJECT);
        else
            check_refused(ret, &set, &why);
        break;
    case 3: {
        h2o_iovec_t again;
        if (s3_tagging_decode(&pool, in, &set) == 0) {
            if (set.count > S3_TAGS_MAX_BUCKET || s3_tagging_encode(&pool, &set, &again) != 0 || again.len != in.len ||
                (in.len != 0 && memcmp(again.base, in.base, in.len) != 0))
                abort();
        } else if (set.count != 0) {
            abort();
        }
        break;
    }
    }
    free(copy);
    h2o_mem_clear_pool(&pool);
    return 0;
}
