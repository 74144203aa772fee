/* fuzz_post_policy.c — the POST policy over hostile documents: the input is taken both as the
 * policy field itself (base64 as a client sends it) and, base64-encoded here, as the JSON inside
 * it; a document that parses is then checked against fields cut from the same input, and the
 * messages must stay NUL-terminated within S3_POST_MESSAGE_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/bytes.h"
#include "gateway/s3/post_policy.h"

static void run(h2o_iovec_t field, const uint8_t *data, size_t size)
{
    char msg[S3_POST_MESSAGE_MAX + 1];
    s3_post_policy_t *p;
    msg[S3_POST_MESSAGE_MAX] = 0x55;
    if (s3_post_policy_parse(field, &p, msg) != 0) {
        if (msg[S3_POST_MESSAGE_MAX] != 0x55)
            __builtin_trap();
        return;
    }
    /* fields: name and value halves of the input */
    s3_form_field_t fields[2] = {
        {h2o_iovec_init((const char *)data, size / 4), h2o_iovec_init((const char *)data + size / 4, size / 4)},
        {h2o_iovec_init(H2O_STRLIT("key")), h2o_iovec_init((const char *)data + size / 2, size - size / 2)}};
    uint64_t lo, hi;
    s3_post_policy_check(p, 1700000000, fields, 2, h2o_iovec_init(H2O_STRLIT("b")), fields[1].value, msg);
    s3_post_policy_length_range(p, &lo, &hi);
    if (lo > hi || msg[S3_POST_MESSAGE_MAX] != 0x55)
        __builtin_trap();
    s3_post_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    run(h2o_iovec_init(copy, size), data, size);
    char *enc = malloc(YC_BASE64_LEN(size) + 1);
    size_t n = yc_base64_encode(data, size, enc);
    run(h2o_iovec_init(enc, n), data, size);
    free(enc);
    free(copy);
    return 0;
}
