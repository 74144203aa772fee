/* fuzz_logging.c — server access logging's client input on arbitrary bytes: the BucketLoggingStatus
 * document of PutBucketLogging and the stored form it becomes; and the log line made of hostile
 * request fields.
 *
 * The first byte picks the reader; the rest is its input. An accepted document must encode to the
 * stored form, decode back to the same target and prefix, and read back the same from the document
 * GetBucketLogging writes of it; a refused one answers MalformedXML or NotImplemented only. A line
 * made of any bytes must end in its one newline, hold no other control byte, and split into the
 * format's 26 fields: no field lets a client's byte add a space or end a quote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/logging.h"

static int same(h2o_iovec_t a, h2o_iovec_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

static void check_document(h2o_mem_pool_t *pool, h2o_iovec_t in)
{
    s3_logging_config_t cfg, back, reread;
    s3_xml_writer_t w;
    int ret = s3_logging_parse(pool, in, &cfg);

    if (ret != 0) {
        if (ret != -S3_ERR_MALFORMED_XML && ret != -S3_ERR_NOT_IMPLEMENTED)
            abort();
        return;
    }
    if (!cfg.enabled)
        return;
    if (cfg.target_bucket.len == 0 || cfg.target_prefix.len > S3_LOGGING_PREFIX_MAX)
        abort();
    if (s3_logging_decode(s3_logging_encode(pool, &cfg), &back) != 0 || !back.enabled ||
        !same(back.target_bucket, cfg.target_bucket) || !same(back.target_prefix, cfg.target_prefix))
        abort();
    s3_xml_writer_init(&w, pool);
    s3_logging_write_xml(&w, &cfg);
    if (s3_logging_parse(pool, s3_xml_writer_result(&w), &reread) != 0 || !reread.enabled ||
        !same(reread.target_bucket, cfg.target_bucket) || !same(reread.target_prefix, cfg.target_prefix))
        abort();
}

/* Splits the input at NUL bytes into the line's client fields. */
static void check_line(h2o_iovec_t in)
{
    h2o_iovec_t f[8] = {{0}};
    size_t n = 0, start = 0;
    char buf[S3_LOGGING_LINE_MAX];

    for (size_t i = 0; i <= in.len && n < 8; i++) {
        if (i == in.len || in.base[i] == '\0') {
            f[n++] = h2o_iovec_init(in.base + start, i - start);
            start = i + 1;
        }
    }
    s3_logging_line_t e = {.owner = f[0],
                           .bucket = f[1],
                           .time_ns = 1796604222123456789LL,
                           .remote_ip = f[2],
                           .requester = f[3],
                           .request_id = f[4],
                           .operation = "REST.GET.OBJECT",
                           .key = f[5],
                           .method = h2o_iovec_init("GET", 3),
                           .uri = f[6],
                           .status = 200,
                           .user_agent = f[7],
                           .referer = f[7],
                           .host = f[2],
                           .total_ms = 1,
                           .turnaround_ms = -1};
    size_t len = s3_logging_format_line(&e, buf);
    if (len == 0 || len > S3_LOGGING_LINE_MAX || buf[len - 1] != '\n')
        abort();
    /* fields outside quotes are separated by single spaces; the three quoted ones hold no quote */
    size_t fields = 1, quotes = 0;
    int quoted = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7F)
            abort();
        if (c == '"') {
            quoted = !quoted;
            quotes++;
        } else if (c == ' ' && !quoted) {
            fields++;
        } else if (c == '[' && !quoted && fields == 3 && buf[i - 1] == ' ') { /* the time: one space inside */
            const char *end = memchr(buf + i, ']', len - i);
            if (end == NULL)
                abort();
            i = (size_t)(end - buf);
        }
    }
    if (quoted || quotes != 6 || fields != 26)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_logging_config_t cfg;

    if (size < 1)
        return 0;
    h2o_mem_init_pool(&pool);
    /* a copy the size of the input, so that reads past it are caught */
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 1);
    switch (data[0] % 3) {
    case 0:
        check_document(&pool, in);
        break;
    case 1:
        if (s3_logging_decode(in, &cfg) == 0 && (cfg.target_bucket.len == 0 || !cfg.enabled))
            abort();
        break;
    default:
        check_line(in);
        break;
    }
    free(copy);
    h2o_mem_clear_pool(&pool);
    return 0;
}
