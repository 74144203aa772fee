/* fuzz_cors.c — CORS configurations and their evaluation on arbitrary bytes.
 *
 * Input: a selector byte, then the request's Origin, Access-Control-Request-Method and
 * Access-Control-Request-Headers and the request's method, each ended by a newline, then the
 * configuration document. An accepted configuration must write a document that reads back to a
 * configuration writing the same bytes, and every answer to the request must be consistent: a
 * preflight is either answered with an origin and methods or refused with BadRequest or
 * AccessForbidden; an actual request's headers exist exactly when a rule matched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/cors.h"

/* Takes the next newline-ended field of *in; base NULL when it is empty (the header is absent). */
static h2o_iovec_t field(h2o_iovec_t *in)
{
    const char *nl = in->len != 0 ? memchr(in->base, '\n', in->len) : NULL;
    size_t len = nl != NULL ? (size_t)(nl - in->base) : in->len;
    h2o_iovec_t f = h2o_iovec_init(len != 0 ? in->base : NULL, len);
    size_t used = nl != NULL ? len + 1 : len;
    in->base += used;
    in->len -= used;
    return f;
}

static void check_answer(const s3_cors_response_t *r)
{
    if (!r->matched) {
        if (r->allow_origin.base != NULL || r->vary.base != NULL || r->allow_methods.base != NULL)
            abort();
        return;
    }
    if (r->rule == NULL || r->allow_origin.base == NULL || r->allow_methods.base == NULL || r->vary.base == NULL)
        abort();
    /* credentials go with an echoed origin, never with "*" */
    int star = r->allow_origin.len == 1 && r->allow_origin.base[0] == '*';
    if (star == (r->allow_credentials.base != NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_cors_config_t cfg, again;
    s3_error_detail_t why;
    s3_cors_response_t r;

    if (size < 1)
        return 0;
    h2o_mem_init_pool(&pool);
    char *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t in = h2o_iovec_init(copy, size - 1);
    s3_cors_request_t req;
    memset(&req, 0, sizeof(req));
    req.origin = field(&in);
    req.request_method = field(&in);
    req.request_headers = field(&in);
    req.method = field(&in);
    if (req.method.base == NULL)
        req.method = h2o_iovec_init(H2O_STRLIT("GET"));
    req.on_object = data[0] & 1;
    memset(&why, 0, sizeof(why));

    int ret = s3_cors_parse(&pool, in, &cfg, &why);
    if (ret == 0) {
        if (cfg.count < 1 || cfg.count > S3_CORS_MAX_RULES)
            abort();
        s3_xml_writer_t w1, w2;
        s3_xml_writer_init(&w1, &pool);
        s3_cors_write_xml(&w1, &cfg);
        h2o_iovec_t doc = s3_xml_writer_result(&w1);
        /* what is written may pass the body cap only when the input was near it: then skip */
        if (doc.len <= S3_CORS_MAX_BODY) {
            if (s3_cors_parse(&pool, doc, &again, NULL) != 0 || again.count != cfg.count)
                abort();
            s3_xml_writer_init(&w2, &pool);
            s3_cors_write_xml(&w2, &again);
            h2o_iovec_t doc2 = s3_xml_writer_result(&w2);
            if (doc2.len != doc.len || memcmp(doc2.base, doc.base, doc.len) != 0)
                abort();
        }
    } else if (ret > 0 || why.err != (s3_error_t)-ret || cfg.count != 0) {
        abort();
    }

    const s3_cors_config_t *c = ret == 0 && (data[0] & 2) == 0 ? &cfg : NULL;
    memset(&why, 0, sizeof(why));
    int pre = s3_cors_preflight(&pool, c, &req, &r, &why);
    if (pre == 0) {
        if (!r.matched)
            abort();
        check_answer(&r);
    } else if ((pre != -S3_ERR_BAD_REQUEST && pre != -S3_ERR_ACCESS_FORBIDDEN) || r.matched ||
               why.err != (s3_error_t)-pre) {
        abort();
    }
    s3_cors_actual(&pool, c, &req, &r);
    check_answer(&r);

    free(copy);
    h2o_mem_clear_pool(&pool);
    return 0;
}
