/* server_answer.c — how the yc-store daemon answers a request and hands work to its workers:
 * every answer carries content-length and x-yc-answer-nonce, any status but 200 carries
 * x-yc-error with the code (client_net.c), and every body ends with the answer's tag (net_mac.c);
 * a daemon that stops takes no more work (503). server.c and server_stream.c
 * both use it, and it uses neither.
 */
#include "store/server_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/clock.h"
#include "common/log.h"

int store_server_status_of(int code)
{
    switch (code) {
    case 0:
        return 200;
    case STORE_ENOENT:
        return 404;
    case STORE_EINVAL:
        return 400;
    case STORE_EAUTH:
    case STORE_EIDENTITY: /* on the wire only as the refusal of a request signed for another drive */
        return 401;
    case STORE_EBITROT:
    case STORE_ECORRUPT:
        return 422;
    case STORE_ENOSPC:
        return 507;
    case STORE_ESTALE:
        return 409;
    case STORE_EBUSY:
        return 423;
    case -EMSGSIZE:
        return 413;
    case -ENOMEM:
    case -ESHUTDOWN:
        return 503;
    default:
        return 500;
    }
}

static void body_sent(yc_http_req_t *req, void *arg, int status)
{
    free(arg);
    yc_http_finish(req);
}

void store_server_answer_nonce(store_server_t *s, uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN])
{
    memcpy(nonce, s->answer_nonce_prefix, 8);
    yc_put_le64(nonce + 8, atomic_fetch_add(&s->answer_nonce_seq, 1));
}

void store_server_seal(store_srv_job_t *j, int code, const uint8_t *body, size_t len)
{
    store_server_answer_nonce(j->srv, j->answer_nonce);
    store_net_answer_tag(j->srv->answer_key, j->req_sig, j->req_sig_len, j->answer_nonce, store_server_status_of(code),
                         code, code == 0 ? body : NULL, code == 0 ? len : 0, j->tag);
    j->sealed = 1;
}

void store_server_send(yc_http_req_t *req, int code, uint8_t *body, size_t len)
{
    store_srv_job_t *j = req->app; /* every request has its job before anything answers it */
    char v[16];
    int n = snprintf(v, sizeof(v), "%d", code);
    int status = store_server_status_of(code);

    if (code != 0 || body == NULL || len == 0) {
        free(body);
        body = NULL;
        len = 0;
    }
    /* small answers are tagged here; workers tag the ones with a body before they come back */
    if (!j->sealed)
        store_server_seal(j, code, body, len);
    j->sealed = 0;
    yc_hex(j->answer_nonce, sizeof(j->answer_nonce), j->nonce_hex);
    yc_http_header_t hdrs[2] = {
        {h2o_iovec_init(H2O_STRLIT("x-yc-answer-nonce")), h2o_iovec_init(j->nonce_hex, 2 * sizeof(j->answer_nonce))},
        {h2o_iovec_init(H2O_STRLIT("x-yc-error")), h2o_iovec_init(v, (size_t)n)},
    };
    if (body == NULL) {
        yc_http_send(req, status, code == 0 ? "OK" : "Error", hdrs, code != 0 ? 2 : 1,
                     h2o_iovec_init(j->tag, sizeof(j->tag)));
        return;
    }
    /* the body is sent from its own memory, freed when the socket took it; the tag follows it */
    h2o_iovec_t bufs[2] = {h2o_iovec_init(body, len), h2o_iovec_init(j->tag, sizeof(j->tag))};
    if (yc_http_respond(req, 200, "OK", hdrs, 1, len + sizeof(j->tag)) != 0 ||
        yc_http_write(req, bufs, 2, body_sent, body) != 0) {
        free(body);
        yc_http_finish(req);
    }
}

void store_server_log_failure(store_srv_job_t *j, int code)
{
    int64_t us = (yc_mono_ns() - j->started_ns) / 1000;
    if (code != 0 && code != STORE_ENOENT && code != STORE_EAUTH)
        yc_log(YC_LOG_WARN, "event=request_failed method=%.*s op=%d drive=%s err=%s us=%lld", (int)j->req->method.len,
               j->req->method.base, j->op, j->drive != NULL ? j->drive->name : "-", yc_errname(code), (long long)us);
}

void store_server_answer(store_srv_job_t *j, int code)
{
    store_server_log_failure(j, code);
    store_server_send(j->req, code, NULL, 0);
}

int store_server_submit(store_server_t *s, yc_job_t *job)
{
    /* once stopped, the pool may be gone: nothing is submitted to it any more */
    pthread_rwlock_rdlock(&s->submit_lock);
    int refusing = s->refusing;
    if (!refusing)
        yc_pool_submit(s->pool, job);
    pthread_rwlock_unlock(&s->submit_lock);
    return refusing ? -ESHUTDOWN : 0;
}
