/* gw_body.c — reading request bodies whole or streamed, payload extraction and verification
 * (see gw_body.h). */
#include "gateway/gw_body.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/chunked.h"
#include "gateway/s3/form.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_sha256(gw_ctx_t *ctx)
{
    uint8_t digest[32];
    SHA256((const unsigned char *)ctx->body.base, ctx->body.len, digest);
    if (CRYPTO_memcmp(digest, ctx->auth.payload_sha256, 32) != 0) {
        gw_set_error(ctx, S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, NULL);
        return -1;
    }
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} decoded_t;

static int on_decoded(void *arg, const uint8_t *data, size_t len)
{
    decoded_t *d = arg;
    if (d->len + len > d->cap) {
        size_t cap = d->cap ? d->cap : 64 * 1024;
        while (cap < d->len + len)
            cap *= 2;
        uint8_t *buf = realloc(d->buf, cap);
        if (buf == NULL)
            return -1;
        d->buf = buf;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, data, len);
    d->len += len;
    return 0;
}

static s3_error_t chunked_error(int ret)
{
    switch (ret) {
    case S3_CHUNKED_INCOMPLETE:
        return S3_ERR_INCOMPLETE_BODY;
    case S3_CHUNKED_SIGNATURE_MISMATCH:
        return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    case S3_CHUNKED_BAD_DIGEST:
        return S3_ERR_BAD_DIGEST;
    case S3_CHUNKED_MALFORMED:
        return S3_ERR_INVALID_REQUEST;
    default:
        return S3_ERR_INTERNAL_ERROR;
    }
}

/* Removes aws-chunked framing into a buffer of the request's own, verifying as it goes. */
static int decode_chunked(gw_ctx_t *ctx)
{
    h2o_iovec_t dl = gw_header(ctx, "x-amz-decoded-content-length");
    decoded_t d = {0};
    s3_chunked_t *dec = NULL;
    int64_t decoded_length = -1;
    int ret;

    if (dl.base != NULL) {
        uint64_t v = 0;
        if (s3_chunked_decoded_length_parse(dl, &v) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-decoded-content-length");
            return -1;
        }
        if (v > ctx->env->cfg->max_object_size) {
            gw_set_error(ctx, S3_ERR_ENTITY_TOO_LARGE, NULL);
            return -1;
        }
        decoded_length = (int64_t)v;
        /* the framing is larger than what it carries: never trust a length beyond the entity */
        d.cap = v < ctx->req->entity.len ? (size_t)v : ctx->req->entity.len;
        if (d.cap > 0 && (d.buf = malloc(d.cap)) == NULL) {
            gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
            return -1;
        }
    }
    h2o_iovec_t trailer = gw_header(ctx, "x-amz-trailer");
    s3_chunked_config_t cfg = {.mode = ctx->auth.payload_mode,
                               .sig = &ctx->sigv4,
                               .decoded_length = decoded_length,
                               .trailer = trailer.base ? trailer : h2o_iovec_init("", 0),
                               .on_data = on_decoded,
                               .cb_arg = &d};
    if ((ret = s3_chunked_new(&cfg, &dec)) != 0 ||
        (ret = s3_chunked_feed(dec, (const uint8_t *)ctx->req->entity.base, ctx->req->entity.len)) != 0 ||
        (ret = s3_chunked_finish(dec)) != 0) {
        if (ret == S3_CHUNKED_BAD_DIGEST) {
            /* S3 names the algorithm whose trailer did not match */
            char msg[96];
            int n = snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                             s3_checksum_alg_name(s3_chunked_trailer_alg(dec)));
            gw_set_error(ctx, S3_ERR_BAD_DIGEST, h2o_strdup(&ctx->req->pool, msg, (size_t)n).base);
        } else {
            gw_set_error(ctx, chunked_error(ret), NULL);
        }
        goto fail;
    }
    s3_checksum_alg_t alg = s3_chunked_trailer_alg(dec);
    if (alg != S3_CHECKSUM_NONE) {
        const char *name = s3_checksum_alg_name(alg), *value = s3_chunked_trailer_value(dec);
        ctx->trailer_checksum_algo = h2o_strdup(&ctx->req->pool, name, strlen(name));
        ctx->trailer_checksum_value = h2o_strdup(&ctx->req->pool, value, strlen(value));
    }
    s3_chunked_free(dec);
    ctx->body_owned = d.buf;
    ctx->body = h2o_iovec_init(d.buf != NULL ? (char *)d.buf : "", d.len);
    return 0;

fail:
    s3_chunked_free(dec);
    free(d.buf);
    return -1;
}

int gw_body_payload(gw_ctx_t *ctx, int defer_sha256, int *sha256_pending)
{
    h2o_iovec_t entity = ctx->req->entity;

    if (sha256_pending != NULL)
        *sha256_pending = 0;
    ctx->body = entity.base != NULL ? entity : h2o_iovec_init("", 0);
    switch (ctx->auth.payload_mode) {
    case S3_PAYLOAD_SHA256:
        if (defer_sha256) {
            *sha256_pending = 1;
            return 0;
        }
        return check_sha256(ctx);
    case S3_PAYLOAD_STREAMING_SIGNED:
    case S3_PAYLOAD_STREAMING_SIGNED_TRAILER:
    case S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER:
        return decode_chunked(ctx);
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- bodies read whole */

typedef struct {
    gw_ctx_t *ctx;
    void (*next)(gw_ctx_t *ctx);
    char *buf;
    size_t len, cap;
} whole_read_t;

static void whole_free(void *p)
{
    free(p);
}

static s3_error_t read_error(int status)
{
    switch (status) {
    case -ETIMEDOUT:
        return S3_ERR_REQUEST_TIMEOUT;
    case -EBADMSG:
        return S3_ERR_BAD_REQUEST;
    case -ENOMEM:
        return S3_ERR_SLOW_DOWN;
    default:
        return S3_ERR_INCOMPLETE_BODY; /* the client left before the end */
    }
}

static void count_in(gw_req_t *r, size_t n)
{
    r->bytes_in += n;
    atomic_fetch_add(&r->env->body_bytes_in, n);
    if (!r->authenticated)
        atomic_fetch_add(&r->env->body_before_auth, n);
}

static void on_whole_data(yc_http_req_t *http, void *arg, h2o_iovec_t data, int status)
{
    whole_read_t *w = arg;
    gw_ctx_t *ctx = w->ctx;

    if (status < 0) {
        gw_fail(ctx, read_error(status), NULL);
        return;
    }
    count_in(ctx->req, data.len);
    if (data.len > GW_BODY_WHOLE_MAX - w->len) {
        gw_fail(ctx, S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED, NULL);
        return;
    }
    if (w->len + data.len > w->cap) {
        size_t cap = w->cap > 0 ? w->cap : 16 * 1024;
        while (cap < w->len + data.len)
            cap *= 2;
        char *buf = realloc(w->buf, cap);
        if (buf == NULL) {
            gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
            return;
        }
        w->buf = ctx->body_stream = buf;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data.base, data.len);
    w->len += data.len;
    if (status == YC_HTTP_BODY_END) {
        ctx->req->entity = h2o_iovec_init(w->buf != NULL ? w->buf : "", w->len);
        w->next(ctx);
        return;
    }
    if (yc_http_body_read(http, on_whole_data, w) != 0)
        gw_fail(ctx, S3_ERR_INTERNAL_ERROR, NULL);
}

void gw_body_read_whole(gw_ctx_t *ctx, void (*next)(gw_ctx_t *ctx))
{
    yc_http_req_t *http = ctx->req->http;

    if (http->content_length == 0) {
        ctx->req->entity = h2o_iovec_init("", 0);
        yc_http_continue(http); /* authenticated: a client that expects the 100 gets it */
        next(ctx);
        return;
    }
    if (http->content_length != YC_HTTP_LENGTH_UNKNOWN && http->content_length > GW_BODY_WHOLE_MAX) {
        gw_fail(ctx, S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED, NULL); /* before a byte of it is read */
        return;
    }
    whole_read_t *w = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*w));
    *w = (whole_read_t){.ctx = ctx, .next = next};
    if (http->content_length != YC_HTTP_LENGTH_UNKNOWN) {
        w->cap = (size_t)http->content_length;
        if ((w->buf = malloc(w->cap)) == NULL) {
            gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
            return;
        }
    }
    ctx->body_stream = w->buf;
    ctx->body_stream_free = whole_free;
    if (yc_http_body_read(http, on_whole_data, w) != 0)
        gw_fail(ctx, S3_ERR_INTERNAL_ERROR, NULL);
}

/* ---------------------------------------------------------------- streamed bodies
 *
 * The ring: slots rd, rd+1, ... hold the worker's slots (in_use: a stripe it writes or hashes
 * still) then nfull full ones; wr follows them and is being filled (wfill bytes). The loop fills only free slots; a
 * piece of body that does not fit waits as `pending` (the layer keeps it until the next read) until the worker frees a
 * slot and wakes the loop. The worker waits on the condition variable while no slot is full. Everything the two sides
 * share is under the mutex; the HTTP layer is touched on the loop only. */

typedef struct {
    yc_job_t wake; /* a message to the loop (done runs there): a slot came free, or start */
    gw_ctx_t *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *slot[GW_BODY_SLOTS];
    size_t slot_len[GW_BODY_SLOTS];
    size_t cap;             /* bytes per slot (the last one of a body may hold fewer) */
    unsigned rd, wr, nfull; /* see above */
    unsigned in_use;        /* the worker holds slots rd, rd+1, ... */
    unsigned nslots;        /* slots of this ring: GW_BODY_SLOTS_MIN, or GW_BODY_SLOTS (budget) */
    size_t wfill;           /* bytes in slot wr */
    uint64_t size, decoded; /* payload bytes expected, placed in slots so far */
    s3_chunked_t *dec;      /* aws-chunked framing, else NULL */
    h2o_iovec_t pending;    /* body bytes from the layer not taken yet */
    int pending_status;     /* the status they came with */
    int started, reading, paused, wake_queued, ended;
    int prefetched;              /* started by gw_body_prefetch on the loop */
    void (*then)(gw_ctx_t *ctx); /* gw_body_prefetch's, called once the body is in */
    s3_error_t error;            /* S3_OK while all is well */
    const char *error_message;
    char trailer_algo[24], trailer_value[96]; /* a verified trailing checksum */
    /* a form upload (POST Object): the file part is the payload, its size known at its end */
    s3_form_t *form;
    void (*form_head)(gw_ctx_t *ctx, s3_form_t *form); /* until called: the fields are being read */
    int at_file;                                       /* stopped after the file's headers */
    int file_done;                                     /* the file part ended (its last slot is full) */
    uint64_t file_max;                                 /* more file bytes are EntityTooLarge */
} body_stream_t;

/* Under the mutex: the worker, waiting or not, sees the error at its next look. */
static void stream_fail(body_stream_t *bs, s3_error_t err, const char *message)
{
    if (bs->error == S3_OK) {
        bs->error = err;
        bs->error_message = message;
    }
    pthread_cond_signal(&bs->cv);
}

/* Bytes the free slots can take now (the whole rest once the payload is complete: only framing
 * follows then). Under the mutex. */
static uint64_t stream_room(const body_stream_t *bs)
{
    unsigned free_slots = bs->nslots - bs->nfull - bs->in_use;
    if (bs->decoded >= bs->size)
        return UINT64_MAX;
    if (free_slots == 0)
        return 0;
    uint64_t room = (uint64_t)(bs->cap - bs->wfill) + (uint64_t)(free_slots - 1) * bs->cap;
    return room < bs->size - bs->decoded ? room : bs->size - bs->decoded;
}

/* Places payload bytes in the free slots (the caller made sure they fit). Under the mutex. */
static int stream_place(void *arg, const uint8_t *data, size_t len)
{
    body_stream_t *bs = arg;

    if (len > bs->size - bs->decoded) {
        stream_fail(bs, S3_ERR_INCOMPLETE_BODY, "The payload is longer than the length given");
        return -1;
    }
    while (len > 0) {
        unsigned i = bs->wr;
        size_t target = bs->cap;
        uint64_t slot_start = bs->decoded - bs->wfill;
        if (bs->size - slot_start < target)
            target = (size_t)(bs->size - slot_start);
        if (bs->slot[i] == NULL && (bs->slot[i] = malloc(bs->cap)) == NULL) {
            stream_fail(bs, S3_ERR_SLOW_DOWN, NULL);
            return -1;
        }
        size_t n = target - bs->wfill < len ? target - bs->wfill : len;
        memcpy(bs->slot[i] + bs->wfill, data, n);
        bs->wfill += n;
        bs->decoded += n;
        data += n;
        len -= n;
        if (bs->wfill == target) {
            bs->slot_len[i] = target;
            bs->nfull++;
            bs->wr = (bs->wr + 1) % bs->nslots;
            bs->wfill = 0;
            pthread_cond_signal(&bs->cv);
        }
    }
    return 0;
}

static void stream_read(body_stream_t *bs);

/* A failure of the aws-chunked decoder. Under the mutex. */
static void stream_chunked_fail(body_stream_t *bs, int ret)
{
    if (ret == S3_CHUNKED_ABORTED)
        return; /* stream_place failed, and said why */
    if (ret == S3_CHUNKED_BAD_DIGEST) {
        /* S3 names the algorithm whose trailer did not match */
        snprintf(bs->trailer_value, sizeof(bs->trailer_value),
                 "The %s you specified did not match the calculated checksum.",
                 s3_checksum_alg_name(s3_chunked_trailer_alg(bs->dec)));
        stream_fail(bs, S3_ERR_BAD_DIGEST, bs->trailer_value);
    } else {
        stream_fail(bs, chunked_error(ret), NULL);
    }
}

/* The end of the HTTP body: the framing's last checks. Under the mutex. */
static void stream_end(body_stream_t *bs)
{
    int ret;

    bs->ended = 1;
    if (bs->form != NULL) {
        if (bs->error == S3_OK && (ret = s3_form_finish(bs->form)) != 0)
            stream_fail(bs, ret == S3_FORM_INCOMPLETE ? S3_ERR_INCOMPLETE_BODY : S3_ERR_MALFORMED_POST_REQUEST, NULL);
    } else if (bs->dec != NULL && bs->error == S3_OK && (ret = s3_chunked_finish(bs->dec)) != 0) {
        stream_chunked_fail(bs, ret);
    } else if (bs->error == S3_OK && bs->decoded < bs->size) {
        stream_fail(bs, S3_ERR_INCOMPLETE_BODY, NULL);
    } else if (bs->dec != NULL && bs->error == S3_OK && s3_chunked_trailer_alg(bs->dec) != S3_CHECKSUM_NONE) {
        snprintf(bs->trailer_algo, sizeof(bs->trailer_algo), "%s",
                 s3_checksum_alg_name(s3_chunked_trailer_alg(bs->dec)));
        snprintf(bs->trailer_value, sizeof(bs->trailer_value), "%s", s3_chunked_trailer_value(bs->dec));
    }
    pthread_cond_signal(&bs->cv);
}

static s3_error_t form_error(int ret)
{
    switch (ret) {
    case S3_FORM_TOO_LARGE:
        return S3_ERR_MAX_POST_PRE_DATA_LENGTH_EXCEEDED;
    case S3_FORM_NOMEM:
        return S3_ERR_SLOW_DOWN;
    default:
        return S3_ERR_MALFORMED_POST_REQUEST;
    }
}

/* A form body: the fields go to the parser whole; once the file streams, no more is fed than the
 * free slots can take, less what the parser may have held back of a delimiter. Loop thread,
 * under the mutex. */
static int stream_take_form(body_stream_t *bs)
{
    while (bs->pending.len > 0 && bs->error == S3_OK) {
        size_t n = bs->pending.len, used;
        if (bs->at_file)
            return 0; /* the caller is not known yet: nothing of the file is read */
        if (s3_form_has_file(bs->form) && !bs->file_done) {
            uint64_t room = stream_room(bs);
            if (room <= S3_FORM_HOLD_MAX)
                return 0;
            if (room - S3_FORM_HOLD_MAX < n)
                n = (size_t)(room - S3_FORM_HOLD_MAX);
        }
        int ret = s3_form_feed(bs->form, (const uint8_t *)bs->pending.base, n, &used);
        bs->pending.base += used;
        bs->pending.len -= used;
        if (ret == S3_FORM_FILE) {
            bs->at_file = 1;
            return 0;
        }
        if (ret < 0 && ret != S3_FORM_ABORTED) /* aborted: the callback said why */
            stream_fail(bs, form_error(ret), NULL);
    }
    if (bs->error == S3_OK && bs->pending_status == YC_HTTP_BODY_END)
        stream_end(bs);
    bs->pending_status = YC_HTTP_BODY_MORE;
    return 1;
}

/* Takes what it can of the pending bytes; 1 when all of them went. Loop thread, under the mutex. */
static int stream_take(body_stream_t *bs)
{
    if (bs->form != NULL)
        return stream_take_form(bs);
    while (bs->pending.len > 0 && bs->error == S3_OK) {
        uint64_t room = stream_room(bs);
        size_t n = room < bs->pending.len ? (size_t)room : bs->pending.len;
        int ret = 0;
        if (n == 0)
            return 0;
        if (bs->dec != NULL) {
            /* the decoded bytes of n framed ones are at most n: they fit */
            if ((ret = s3_chunked_feed(bs->dec, (const uint8_t *)bs->pending.base, n)) != 0 && bs->error == S3_OK)
                stream_chunked_fail(bs, ret);
        } else {
            stream_place(bs, (const uint8_t *)bs->pending.base, n);
        }
        bs->pending.base += n;
        bs->pending.len -= n;
    }
    if (bs->error == S3_OK && bs->pending_status == YC_HTTP_BODY_END)
        stream_end(bs);
    bs->pending_status = YC_HTTP_BODY_MORE;
    return 1;
}

static void on_stream_data(yc_http_req_t *http, void *arg, h2o_iovec_t data, int status)
{
    body_stream_t *bs = arg;

    count_in(bs->ctx->req, data.len);
    pthread_mutex_lock(&bs->mu);
    bs->reading = 0;
    if (status < 0) {
        stream_fail(bs, read_error(status), NULL);
        pthread_cond_signal(&bs->cv);
    } else {
        bs->pending = data;
        bs->pending_status = status;
        if (!stream_take(bs))
            bs->paused = 1; /* the worker wakes us when it frees a slot */
    }
    pthread_mutex_unlock(&bs->mu);
    /* gw_body_prefetch's body is in the ring (or failed, which the worker's first pull says): the
     * worker can go, and finds it there. Nothing of bs is touched here after but under the mutex. */
    if (bs->then != NULL) {
        void (*then)(gw_ctx_t *) = bs->then;
        bs->then = NULL;
        then(bs->ctx);
    }
    /* a form's fields are in (or its body failed): no worker exists yet, nothing races */
    if (bs->form_head != NULL && (bs->at_file || bs->error != S3_OK || bs->ended)) {
        void (*head)(gw_ctx_t *, s3_form_t *) = bs->form_head;
        bs->form_head = NULL;
        if (bs->error != S3_OK)
            gw_set_error(bs->ctx, bs->error, bs->error_message);
        head(bs->ctx, bs->form); /* may answer the request: bs is gone then */
        return;
    }
    stream_read(bs);
}

/* Asks the layer for more body when there is room for it. Loop thread. */
static void stream_read(body_stream_t *bs)
{
    pthread_mutex_lock(&bs->mu);
    int go = !bs->reading && !bs->paused && !bs->ended && bs->error == S3_OK && bs->pending.len == 0;
    if (go)
        bs->reading = 1;
    pthread_mutex_unlock(&bs->mu);
    if (go && yc_http_body_read(bs->ctx->req->http, on_stream_data, bs) != 0) {
        pthread_mutex_lock(&bs->mu);
        bs->reading = 0;
        stream_fail(bs, S3_ERR_INTERNAL_ERROR, NULL);
        pthread_cond_signal(&bs->cv);
        pthread_mutex_unlock(&bs->mu);
    }
}

/* On the loop: the worker started the stream or freed a slot. */
static void on_stream_wake(yc_job_t *job)
{
    body_stream_t *bs = H2O_STRUCT_FROM_MEMBER(body_stream_t, wake, job);

    pthread_mutex_lock(&bs->mu);
    bs->wake_queued = 0;
    bs->paused = 0;
    if (!stream_take(bs))
        bs->paused = 1;
    pthread_mutex_unlock(&bs->mu);
    stream_read(bs);
}

/* Worker: wakes the loop when it waits for the worker (or was never started). Under the mutex;
 * returns 1 when the caller must send the wake message after unlocking. */
static int stream_need_wake(body_stream_t *bs)
{
    if ((bs->started && !bs->paused) || bs->wake_queued || bs->ended || bs->error != S3_OK)
        return 0;
    bs->started = 1;
    bs->wake_queued = 1;
    return 1;
}

static void stream_send_wake(body_stream_t *bs)
{
    h2o_multithread_send_message(&bs->wake.loop->receiver, &bs->wake.super);
}

/* Worker: gives back the slots it held. Under the mutex. */
static void stream_release(body_stream_t *bs)
{
    bs->rd = (bs->rd + bs->in_use) % bs->nslots;
    bs->in_use = 0;
}

/* Worker: the next full slot, len bytes, taken (held) by the worker; NULL on failure. Wakes the
 * loop first if it waits for room. */
static const uint8_t *stream_take_slot(body_stream_t *bs, size_t len)
{
    const uint8_t *out = NULL;

    pthread_mutex_lock(&bs->mu);
    int wake = stream_need_wake(bs);
    pthread_mutex_unlock(&bs->mu);
    if (wake)
        stream_send_wake(bs);
    pthread_mutex_lock(&bs->mu);
    while (bs->nfull == 0 && bs->error == S3_OK && !bs->ended)
        pthread_cond_wait(&bs->cv, &bs->mu);
    unsigned i = (bs->rd + bs->in_use) % bs->nslots;
    if (bs->error == S3_OK && bs->nfull == 0)
        stream_fail(bs, S3_ERR_INCOMPLETE_BODY, NULL);
    if (bs->error == S3_OK && bs->slot_len[i] != len)
        stream_fail(bs, S3_ERR_INTERNAL_ERROR, NULL); /* the data pass asks stripe by stripe, as filled */
    if (bs->error == S3_OK) {
        bs->nfull--;
        bs->in_use++;
        out = bs->slot[i];
    }
    pthread_mutex_unlock(&bs->mu);
    return out;
}

/* A pull that gives back what the worker held before (one stripe at a time). */
static const uint8_t *stream_next(void *arg, uint64_t off, size_t len)
{
    body_stream_t *bs = arg;

    if (len == 0)
        return (const uint8_t *)""; /* an empty stripe takes nothing of the body */
    pthread_mutex_lock(&bs->mu);
    stream_release(bs);
    pthread_mutex_unlock(&bs->mu);
    return stream_take_slot(bs, len);
}

/* A pull that keeps what the worker held (gw_source_t.next_hold): the data pass gives each
 * stripe back once it is hashed (stream_give_back). */
static const uint8_t *stream_next_hold(void *arg, uint64_t off, size_t len)
{
    if (len == 0)
        return (const uint8_t *)"";
    return stream_take_slot(arg, len);
}

/* Gives back the oldest slot the worker holds, and wakes the loop if it waits for room. */
static void stream_give_back(void *arg)
{
    body_stream_t *bs = arg;

    pthread_mutex_lock(&bs->mu);
    if (bs->in_use > 0) {
        bs->rd = (bs->rd + 1) % bs->nslots;
        bs->in_use--;
    }
    int wake = stream_need_wake(bs);
    pthread_mutex_unlock(&bs->mu);
    if (wake)
        stream_send_wake(bs);
}

/* Bytes of the slots beyond GW_BODY_SLOTS_MIN that rings hold now, process-wide: a ring gets
 * them only while the total stays within GW_BODY_EXTRA_BUDGET, so that many bodies at once hold
 * GW_BODY_SLOTS_MIN stripes each and the memory bound stands. */
static atomic_size_t extra_bytes;

static unsigned stream_slots(size_t cap, uint64_t size)
{
    size_t extra = (size_t)(GW_BODY_SLOTS - GW_BODY_SLOTS_MIN) * cap;
    if (size <= (uint64_t)GW_BODY_SLOTS_MIN * cap) /* the minimum holds the whole body */
        return GW_BODY_SLOTS_MIN;
    if (atomic_fetch_add(&extra_bytes, extra) + extra > GW_BODY_EXTRA_BUDGET) {
        atomic_fetch_sub(&extra_bytes, extra);
        return GW_BODY_SLOTS_MIN;
    }
    return GW_BODY_SLOTS;
}

static void stream_free(void *p)
{
    body_stream_t *bs = p;
    if (bs->nslots > GW_BODY_SLOTS_MIN)
        atomic_fetch_sub(&extra_bytes, (size_t)(bs->nslots - GW_BODY_SLOTS_MIN) * bs->cap);
    for (unsigned i = 0; i < GW_BODY_SLOTS; i++)
        free(bs->slot[i]);
    s3_chunked_free(bs->dec);
    s3_form_free(bs->form);
    pthread_mutex_destroy(&bs->mu);
    pthread_cond_destroy(&bs->cv);
    free(bs);
}

/* A new ring for a body of n payload bytes, the context's (freed with it); NULL when out of
 * memory. */
static body_stream_t *stream_new(gw_ctx_t *ctx, int allow_inline, uint64_t n)
{
    body_stream_t *bs = calloc(1, sizeof(*bs));
    if (bs == NULL)
        return NULL;
    pthread_mutex_init(&bs->mu, NULL);
    pthread_cond_init(&bs->cv, NULL);
    bs->ctx = ctx;
    bs->size = n;
    bs->wake.done = on_stream_wake;
    bs->wake.loop = ctx->req->loop;
    /* the data pass asks for the whole of an inline object at once, else stripe by stripe */
    bs->cap = allow_inline && n <= ctx->cluster->inline_max ? (size_t)n : ctx->cluster->stripe_size;
    if (bs->cap > n)
        bs->cap = (size_t)n;
    if (bs->cap == 0)
        bs->cap = 1;
    bs->nslots = stream_slots(bs->cap, n);
    ctx->body_stream = bs;
    ctx->body_stream_free = stream_free;
    return bs;
}

static int is_streaming(const gw_ctx_t *ctx)
{
    return ctx->auth.payload_mode == S3_PAYLOAD_STREAMING_SIGNED ||
           ctx->auth.payload_mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
           ctx->auth.payload_mode == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
}

int gw_body_prefetch(gw_ctx_t *ctx, int allow_inline, void (*then)(gw_ctx_t *ctx))
{
    yc_http_req_t *http = ctx->req->http;
    uint64_t n = http->content_length;
    body_stream_t *bs;

    if (ctx->body_stream != NULL || is_streaming(ctx) || n == YC_HTTP_LENGTH_UNKNOWN || http->expect_continue ||
        n > ctx->env->cfg->max_object_size || !yc_http_body_buffered(http) ||
        (bs = stream_new(ctx, allow_inline, n)) == NULL)
        return 0;
    bs->prefetched = 1;
    bs->then = then;
    pthread_mutex_lock(&bs->mu);
    bs->started = 1; /* as if the worker's first pull had woken the loop */
    pthread_mutex_unlock(&bs->mu);
    stream_read(bs);
    if (bs->then != NULL && bs->error != S3_OK) { /* the read could not even start */
        bs->then = NULL;
        then(ctx);
    }
    return 1;
}

int gw_body_source(gw_ctx_t *ctx, int allow_inline, gw_source_t *src, uint64_t *size, int *sha256_pending)
{
    yc_http_req_t *http = ctx->req->http;
    int streaming = is_streaming(ctx);
    uint64_t n;

    *sha256_pending = ctx->auth.payload_mode == S3_PAYLOAD_SHA256;
    if (streaming) {
        h2o_iovec_t dl = gw_header(ctx, "x-amz-decoded-content-length");
        if (dl.base == NULL) {
            gw_set_error(ctx, S3_ERR_MISSING_CONTENT_LENGTH, NULL);
            return -1;
        }
        if (s3_chunked_decoded_length_parse(dl, &n) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-decoded-content-length");
            return -1;
        }
    } else if (http->content_length == YC_HTTP_LENGTH_UNKNOWN) {
        /* S3 wants the length of an object up front (it decides the layout): so do we */
        gw_set_error(ctx, S3_ERR_MISSING_CONTENT_LENGTH, NULL);
        return -1;
    } else {
        n = http->content_length;
    }
    if (n > ctx->env->cfg->max_object_size) {
        gw_set_error(ctx, S3_ERR_ENTITY_TOO_LARGE, NULL);
        return -1;
    }
    /* a body taken at dispatch (gw_body_prefetch) is in the ring this call would have made */
    body_stream_t *bs = ctx->body_stream;
    if ((bs == NULL || !bs->prefetched) && (bs = stream_new(ctx, allow_inline, n)) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        return -1;
    }
    if (streaming) {
        h2o_iovec_t trailer = gw_header(ctx, "x-amz-trailer");
        s3_chunked_config_t cfg = {.mode = ctx->auth.payload_mode,
                                   .sig = &ctx->sigv4,
                                   .decoded_length = (int64_t)n,
                                   .trailer = trailer.base ? trailer : h2o_iovec_init("", 0),
                                   .on_data = stream_place,
                                   .cb_arg = bs};
        int ret = s3_chunked_new(&cfg, &bs->dec);
        if (ret != 0) {
            gw_set_error(ctx, chunked_error(ret), NULL);
            return -1;
        }
    }
    *src = (gw_source_t){.next = stream_next,
                         .arg = bs,
                         .next_hold = stream_next_hold,
                         .release = stream_give_back,
                         .hold = bs->nslots - 1};
    *size = n;
    return 0;
}

/* ---------------------------------------------------------------- form uploads */

/* The parser's file bytes into the ring; the end of the file closes the slot being filled. Loop
 * thread, under the mutex. */
static int form_on_file(void *arg, const uint8_t *data, size_t len)
{
    body_stream_t *bs = arg;

    if (data == NULL) {
        if (bs->wfill > 0) {
            bs->slot_len[bs->wr] = bs->wfill;
            bs->nfull++;
            bs->wr = (bs->wr + 1) % bs->nslots;
            bs->wfill = 0;
        }
        bs->file_done = 1;
        pthread_cond_signal(&bs->cv);
        return 0;
    }
    if (len > bs->file_max - bs->decoded) {
        stream_fail(bs, S3_ERR_ENTITY_TOO_LARGE, "Your proposed upload exceeds the maximum allowed size");
        return -1;
    }
    return stream_place(bs, data, len);
}

/* The worker's pull of a form's file: a full slot, or what the last one holds, or 0 bytes once the
 * file ended. */
static const uint8_t *stream_next_upto(void *arg, uint64_t off, size_t max, size_t *got)
{
    body_stream_t *bs = arg;
    const uint8_t *out = NULL;

    pthread_mutex_lock(&bs->mu);
    stream_release(bs);
    int wake = stream_need_wake(bs);
    pthread_mutex_unlock(&bs->mu);
    if (wake)
        stream_send_wake(bs);
    pthread_mutex_lock(&bs->mu);
    while (bs->nfull == 0 && bs->error == S3_OK && !bs->file_done && !bs->ended)
        pthread_cond_wait(&bs->cv, &bs->mu);
    if (bs->error == S3_OK && bs->nfull == 0 && !bs->file_done)
        stream_fail(bs, S3_ERR_INCOMPLETE_BODY, NULL);
    if (bs->error == S3_OK && bs->nfull > 0 && bs->slot_len[bs->rd] > max)
        stream_fail(bs, S3_ERR_INTERNAL_ERROR, NULL); /* slots are a stripe: never more than asked */
    if (bs->error == S3_OK && bs->nfull == 0) {
        *got = 0;
        out = (const uint8_t *)"";
    } else if (bs->error == S3_OK) {
        bs->nfull--;
        bs->in_use = 1;
        *got = bs->slot_len[bs->rd];
        out = bs->slot[bs->rd];
    }
    pthread_mutex_unlock(&bs->mu);
    return out;
}

int gw_body_form_start(gw_ctx_t *ctx, h2o_iovec_t boundary, void (*head)(gw_ctx_t *ctx, s3_form_t *form))
{
    static const s3_form_limits_t limits = {.max_fields = GW_FORM_FIELDS_MAX, .max_field_bytes = GW_FORM_FIELDS_BYTES};
    body_stream_t *bs = calloc(1, sizeof(*bs));
    int ret;

    if (bs == NULL)
        return S3_ERR_SLOW_DOWN;
    pthread_mutex_init(&bs->mu, NULL);
    pthread_cond_init(&bs->cv, NULL);
    bs->ctx = ctx;
    bs->size = UINT64_MAX; /* known when the file ends */
    bs->file_max = 0;      /* set by gw_body_form_source once the policy is known */
    bs->wake.done = on_stream_wake;
    bs->wake.loop = ctx->req->loop;
    bs->cap = ctx->cluster->stripe_size;
    bs->nslots = GW_BODY_SLOTS_MIN; /* its pulls hold one stripe (gw_source_t.next_upto) */
    bs->form_head = head;
    bs->started = 1; /* the loop reads the fields at once; the worker's first pull resumes the file */
    ctx->body_stream = bs;
    ctx->body_stream_free = stream_free;
    if ((ret = s3_form_new(boundary, &limits, form_on_file, bs, &bs->form)) != 0)
        return ret == S3_FORM_NOMEM ? S3_ERR_SLOW_DOWN : S3_ERR_MALFORMED_POST_REQUEST;
    stream_read(bs);
    return S3_OK;
}

void gw_body_form_source(gw_ctx_t *ctx, uint64_t max, gw_source_t *src)
{
    body_stream_t *bs = ctx->body_stream;

    pthread_mutex_lock(&bs->mu);
    bs->file_max = max;
    bs->at_file = 0;
    bs->paused = 1; /* the first pull wakes the loop, which feeds the file from where it stopped */
    pthread_mutex_unlock(&bs->mu);
    *src = (gw_source_t){.next = NULL, .arg = bs, .next_upto = stream_next_upto};
}

int gw_body_end(gw_ctx_t *ctx)
{
    body_stream_t *bs = ctx->body_stream;

    if (bs == NULL || ctx->body_stream_free != stream_free)
        return 0; /* no streamed body (a copy) */
    pthread_mutex_lock(&bs->mu);
    stream_release(bs);
    int wake = stream_need_wake(bs);
    pthread_mutex_unlock(&bs->mu);
    if (wake)
        stream_send_wake(bs);
    pthread_mutex_lock(&bs->mu);
    while (!bs->ended && bs->error == S3_OK)
        pthread_cond_wait(&bs->cv, &bs->mu);
    int failed = bs->error != S3_OK;
    if (failed)
        gw_set_error(ctx, bs->error, bs->error_message);
    pthread_mutex_unlock(&bs->mu);
    if (!failed && bs->trailer_algo[0] != 0) {
        ctx->trailer_checksum_algo = h2o_iovec_init(bs->trailer_algo, strlen(bs->trailer_algo));
        ctx->trailer_checksum_value = h2o_iovec_init(bs->trailer_value, strlen(bs->trailer_value));
    }
    return failed;
}

int gw_body_failed(gw_ctx_t *ctx)
{
    body_stream_t *bs = ctx->body_stream;
    if (bs == NULL || ctx->body_stream_free != stream_free)
        return 0;
    pthread_mutex_lock(&bs->mu);
    s3_error_t err = bs->error;
    const char *message = bs->error_message;
    pthread_mutex_unlock(&bs->mu);
    if (err != S3_OK)
        gw_set_error(ctx, err, message);
    return err != S3_OK;
}
