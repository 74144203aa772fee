/* server_stream.c — the yc-store daemon's streamed operations: a shard append's block goes to
 * the shard file as it arrives, a shard read's range goes to the client as it is read.
 *
 * Memory. Each streamed request has two buffers of stream_buffer bytes (fewer for a smaller
 * body or range) whatever the block or range size: one is filled or drained on the loop while
 * the other is written or read by a worker. Back-pressure is the HTTP layer's: we ask for more
 * body only when a buffer has room (the socket is not read otherwise, the kernel's window fills
 * and the sender blocks), and write the next piece of an answer only when the socket took the
 * previous one.
 *
 * An append, step by step. The head was authenticated (server_auth.c) before we get here. A
 * first worker step, run while the loop already reads the first buffer, takes the writer out
 * of the table's reach (busy), answers a resent seq from memory, and begins the block
 * (store_shard_block_begin: its length against the shard's rules and the free-space reserve).
 * Each full buffer then goes to a worker, which hashes it (SHA-256) and writes it into the
 * block; the last one's step compares the hash with the signed one: equal, the block ends (its
 * xxh3 written) and the writer is given back; different, the block is dropped and the whole
 * writer aborted — temp file removed, out of the table — so that nothing of a body that was
 * not the one signed can ever be committed (no file, no record). A body that breaks off (the
 * client went, body timeout) drops the block and gives the writer back unchanged: the same seq
 * may be sent again. One step at a time per request, so the writer and the hash are only ever
 * touched by one thread at once; the pool's queues order the steps.
 *
 * A read. Workers read the range a buffer at a time (store_shard_read verifies each block's
 * checksum first), cut at the shard's block boundaries so that each block is read once; a block
 * larger than the buffer is read whole, which its verification needs anyway. The first piece is read before the answer
 * starts, so a missing shard or a damaged first block is answered with its code as before; a later failure can only cut
 * the answer short, which closes the connection and the client sees an incomplete answer (STORE_EIO).
 *
 * Loop side, but for the step functions (*_run), which are the workers'.
 */
#include "store/server_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"

enum { BUF_FREE, BUF_BUSY, BUF_READY, BUF_SENDING };

typedef struct {
    yc_job_t job; /* first: the step on a worker; one at a time */
    store_srv_job_t *j;
    uint8_t *buf[2];
    size_t len[2];
    size_t cap;
    int busy; /* a step is on a worker */
    int ret;  /* the last step's result */
    /* append */
    store_srv_writer_t *w; /* held (busy) from the first step until the last */
    void *hash;            /* SHA-256 of the body so far */
    int fill;              /* the buffer the loop fills */
    int step_buf;          /* the buffer the step takes: -1 for none */
    int step_last, step_cancel;
    int stop;         /* a step ended the append: answer ret */
    int reading;      /* a body read is pending */
    int body_done;    /* the body's last piece came */
    int body_err;     /* the body broke off */
    h2o_iovec_t rest; /* of the last piece, not yet copied (borrowed until the next read) */
    uint64_t received;
    /* read */
    int state[2];
    int rd, wr;    /* the next buffer to read into, to send from */
    uint64_t next; /* shard offset of the next read (relative to the range) */
    int started, failed, sending;
    size_t piece;            /* bytes a read covers at most, a multiple of the block length */
    uint32_t block_len;      /* the shard's */
    store_net_mac_t *mac;    /* the answer's tag over what was read so far (net_mac.c) */
    int tag_ready, tag_sent; /* the tag is in j->tag once the last piece is read; then it is sent */
} stream_t;

static void note_buffers(store_server_t *s, size_t bytes)
{
    uint_fast64_t seen = atomic_load(&s->stats.stream_buffers_max);
    while (bytes > seen && !atomic_compare_exchange_weak(&s->stats.stream_buffers_max, &seen, bytes))
        ;
}

static stream_t *stream_new(store_srv_job_t *j, uint64_t total)
{
    stream_t *st = h2o_mem_alloc_pool(j->req->pool, sizeof(*st));

    memset(st, 0, sizeof(*st));
    st->j = j;
    st->cap = total < j->srv->stream_buffer ? (size_t)total : j->srv->stream_buffer;
    if (st->cap == 0)
        st->cap = 1;
    st->buf[0] = malloc(st->cap);
    /* a body or range that fits one buffer needs no second one */
    st->buf[1] = total > st->cap ? malloc(st->cap) : NULL;
    if (st->buf[0] == NULL || (total > st->cap && st->buf[1] == NULL)) {
        free(st->buf[0]);
        free(st->buf[1]);
        return NULL;
    }
    note_buffers(j->srv, st->cap * (st->buf[1] != NULL ? 2 : 1));
    return st;
}

static void stream_free(stream_t *st)
{
    free(st->buf[0]);
    free(st->buf[1]);
    st->buf[0] = st->buf[1] = NULL;
    if (st->hash != NULL)
        store_body_hash_free(st->hash);
    st->hash = NULL;
    store_net_mac_free(st->mac);
    st->mac = NULL;
}

static int submit(stream_t *st, void (*run)(yc_job_t *), void (*done)(yc_job_t *))
{
    st->job.run = run;
    st->job.done = done;
    st->job.loop = &st->j->lt->loop;
    st->busy = 1;
    if (store_server_submit(st->j->srv, &st->job) != 0) {
        st->busy = 0;
        return -ESHUTDOWN;
    }
    return 0;
}

/* ---------------------------------------------------------------- appends: worker steps */

/* The first step's part: the writer, a resend, the block's start. 0 to go on, else st->stop. */
static int append_open(stream_t *st)
{
    store_srv_job_t *j = st->j;
    store_server_t *s = j->srv;
    int ret;

    if ((st->w = store_writer_acquire(&s->writers, j, &ret)) == NULL)
        goto stop;
    if (j->seq == st->w->last_seq) {
        ret = st->w->last_ret; /* a resend whose first answer was lost: not appended again */
        goto release;
    }
    if (j->seq != st->w->last_seq + 1) {
        ret = STORE_EINVAL;
        goto release;
    }
    if ((ret = store_shard_block_begin(st->w->w, st->j->req->content_length)) != 0) {
        st->w->last_seq = j->seq;
        st->w->last_ret = ret;
        goto release;
    }
    return 0;

release:
    store_writer_release(&s->writers, st->w);
    st->w = NULL;
stop:
    st->ret = ret;
    st->stop = 1;
    return ret;
}

/* Ends the append with ret recorded for its seq, and gives the writer back. */
static void append_close(stream_t *st, int ret)
{
    st->w->last_seq = st->j->seq;
    st->w->last_ret = ret;
    store_writer_release(&st->j->srv->writers, st->w);
    st->w = NULL;
    st->ret = ret;
    st->stop = 1;
}

static void append_run(yc_job_t *job)
{
    stream_t *st = (stream_t *)job;
    store_server_t *s = st->j->srv;
    int ret;

    if (st->w == NULL && append_open(st) != 0)
        return;
    if (st->step_cancel) { /* the body broke off: the block goes, the writer stays as it was */
        store_shard_block_cancel(st->w->w);
        store_writer_release(&s->writers, st->w);
        st->w = NULL;
        return;
    }
    if (st->step_buf >= 0) {
        const uint8_t *p = st->buf[st->step_buf];
        size_t len = st->len[st->step_buf];
        store_body_hash_update(st->hash, p, len);
        if ((ret = store_shard_block_write(st->w->w, p, len)) != 0) {
            store_shard_block_cancel(st->w->w);
            append_close(st, ret);
            return;
        }
        atomic_fetch_add(&s->stats.streamed_in, len);
    }
    if (!st->step_last)
        return;
    int match = store_body_hash_matches(st->hash, st->j->body_sha256);
    st->hash = NULL;
    if (!match) {
        /* not the body that was signed: nothing of this writer may ever be committed */
        store_shard_block_cancel(st->w->w);
        store_writer_remove(&s->writers, st->w);
        store_shard_abort(st->w->w);
        free(st->w);
        st->w = NULL;
        atomic_fetch_add(&s->stats.body_mismatch, 1);
        atomic_fetch_add(&s->stats.rolled_back, 1);
        yc_log(YC_LOG_WARN, "event=shard_write_rolled_back drive=%s index=%u reason=body_hash", st->j->drive->name,
               st->j->index);
        st->ret = STORE_EAUTH;
        st->stop = 1;
        return;
    }
    append_close(st, store_shard_block_end(st->w->w));
}

/* ---------------------------------------------------------------- appends: the loop */

static void append_pump(stream_t *st);

static void append_end(stream_t *st, int answer)
{
    store_srv_job_t *j = st->j;
    stream_free(st);
    if (answer)
        store_server_answer(j, st->ret);
    else
        yc_http_finish(j->req); /* the layer answers a broken body (408, 400) and closes */
}

static void append_step_done(yc_job_t *job)
{
    stream_t *st = (stream_t *)job;

    st->busy = 0;
    if (st->step_buf >= 0)
        st->len[st->step_buf] = 0;
    if (st->stop) {
        append_end(st, 1); /* a pending body read is dropped with the request */
        return;
    }
    append_pump(st);
}

static void append_body(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    stream_t *st = arg;

    st->reading = 0;
    if (!st->j->authenticated) /* never: a tripwire for the order of things */
        atomic_fetch_add(&st->j->srv->stats.refused_body, data.len);
    if (status < 0) {
        st->body_err = status;
    } else {
        st->rest = data;
        st->received += data.len;
        st->body_done = status == YC_HTTP_BODY_END;
    }
    append_pump(st);
}

static void append_pump(stream_t *st)
{
    for (;;) {
        if (st->body_err != 0) {
            if (st->busy)
                return; /* its step comes back first */
            if (st->w == NULL) {
                append_end(st, 0);
                return;
            }
            st->step_buf = -1;
            st->step_cancel = 1;
            st->step_last = 0;
            if (submit(st, append_run, append_step_done) != 0) {
                st->ret = -ENOMEM;
                append_end(st, 1); /* the writer stays busy: the daemon's end aborts it */
            }
            return;
        }
        while (st->rest.len > 0 && st->len[st->fill] < st->cap) {
            size_t n = st->cap - st->len[st->fill];
            if (n > st->rest.len)
                n = st->rest.len;
            memcpy(st->buf[st->fill] + st->len[st->fill], st->rest.base, n);
            st->len[st->fill] += n;
            st->rest.base += n;
            st->rest.len -= n;
        }
        int last = st->body_done && st->rest.len == 0;
        if (st->len[st->fill] == st->cap || last) {
            if (st->busy)
                return; /* the other buffer is still being written */
            st->step_buf = st->fill;
            st->step_last = last;
            st->step_cancel = 0;
            if (submit(st, append_run, append_step_done) != 0) {
                st->ret = -ENOMEM;
                append_end(st, 1);
                return;
            }
            if (last)
                return;
            st->fill ^= 1;
            if (st->buf[st->fill] == NULL) { /* one buffer only: wait for it */
                st->fill ^= 1;
                return;
            }
            continue;
        }
        if (st->rest.len == 0 && !st->body_done && !st->reading) {
            st->reading = 1;
            yc_http_body_read(st->j->req, append_body, st);
        }
        return;
    }
}

void store_stream_append(store_srv_job_t *j)
{
    yc_http_req_t *req = j->req;
    stream_t *st;

    if (!j->has_token || !j->has_seq || req->content_length == 0 || req->content_length > STORE_NET_MAX_BODY) {
        store_server_answer(j, STORE_EINVAL);
        return;
    }
    if ((st = stream_new(j, req->content_length)) == NULL || (st->hash = store_body_hash_new()) == NULL) {
        if (st != NULL)
            stream_free(st);
        store_server_answer(j, -ENOMEM);
        return;
    }
    /* the writer is opened on a worker while the loop reads the first buffer */
    st->step_buf = -1;
    if (submit(st, append_run, append_step_done) != 0) {
        stream_free(st);
        store_server_answer(j, -ENOMEM);
        return;
    }
    st->reading = 1;
    yc_http_body_read(req, append_body, st);
}

/* ---------------------------------------------------------------- reads */

static void read_pump(stream_t *st);

/* The first step's part: the piece size from the shard's block length, and the buffers. */
static int read_open(stream_t *st)
{
    store_srv_job_t *j = st->j;
    size_t want = j->srv->stream_buffer;
    uint64_t size;
    uint32_t block_len;
    int ret;

    if ((ret = store_shard_layout(j->drive->drive, j->data_id, j->index, &size, &block_len)) != 0)
        return ret;
    /* Pieces end on block boundaries, so each block is read and verified once. A block larger
     * than the buffer is one piece: verifying it needs it whole in memory anyway. */
    if (block_len > 0)
        want = block_len >= want ? block_len : want / block_len * block_len;
    st->piece = want;
    st->cap = j->len < want ? (size_t)j->len : want;
    if (st->cap == 0)
        st->cap = 1;
    st->buf[0] = malloc(st->cap);
    st->buf[1] = j->len > st->cap ? malloc(st->cap) : NULL;
    if (st->buf[0] == NULL || (j->len > st->cap && st->buf[1] == NULL))
        return -ENOMEM;
    st->block_len = block_len;
    /* the answer's tag is computed as the pieces are read, and sent after the last one */
    store_server_answer_nonce(j->srv, j->answer_nonce);
    if ((st->mac = store_net_mac_begin(j->srv->answer_key, j->req_sig, j->req_sig_len, j->answer_nonce, 200, 0,
                                       j->len)) == NULL)
        return -ENOMEM;
    return 0;
}

static void read_run(yc_job_t *job)
{
    stream_t *st = (stream_t *)job;
    store_srv_job_t *j = st->j;
    uint64_t pos = j->off + st->next, end = j->off + j->len, stop;

    if (st->buf[0] == NULL && (st->ret = read_open(st)) != 0)
        return;
    /* to the end of the piece that holds pos, counted from pos's block */
    stop = st->block_len > 0 ? pos - pos % st->block_len + st->piece : pos + st->piece;
    if (stop > end)
        stop = end;
    st->len[st->rd] = (size_t)(stop - pos);
    st->ret = store_shard_read(j->drive->drive, j->data_id, j->index, pos, st->len[st->rd], st->buf[st->rd]);
    if (st->ret != 0)
        return;
    store_net_mac_update(st->mac, st->buf[st->rd], st->len[st->rd]);
    if (stop == end) {
        store_net_mac_end(st->mac, j->tag);
        st->mac = NULL;
        st->tag_ready = 1;
    }
}

static void read_step_done(yc_job_t *job)
{
    stream_t *st = (stream_t *)job;
    store_srv_job_t *j = st->j;

    st->busy = 0;
    if (!st->started && st->buf[0] != NULL)
        note_buffers(j->srv, st->cap * (st->buf[1] != NULL ? 2 : 1));
    if (st->ret != 0) {
        if (!st->started) {
            stream_free(st);
            store_server_answer(j, st->ret);
            return;
        }
        store_server_log_failure(j, st->ret);
        st->failed = 1;
    } else {
        st->state[st->rd] = BUF_READY;
        st->next += st->len[st->rd];
        if (st->buf[1] != NULL)
            st->rd ^= 1;
        if (!st->started) {
            yc_http_header_t nonce = {h2o_iovec_init(H2O_STRLIT("x-yc-answer-nonce")),
                                      h2o_iovec_init(j->nonce_hex, 2 * sizeof(j->answer_nonce))};
            yc_hex(j->answer_nonce, sizeof(j->answer_nonce), j->nonce_hex);
            if (yc_http_respond(j->req, 200, "OK", &nonce, 1, j->len + sizeof(j->tag)) != 0) {
                stream_free(st);
                yc_http_finish(j->req);
                return;
            }
            st->started = 1;
        }
    }
    read_pump(st);
}

static void read_sent(yc_http_req_t *req, void *arg, int status)
{
    stream_t *st = arg;

    st->sending = 0;
    if (status != 0) {
        st->failed = 1;
    } else {
        atomic_fetch_add(&st->j->srv->stats.streamed_out, st->len[st->wr]);
        st->state[st->wr] = BUF_FREE;
        if (st->buf[1] != NULL)
            st->wr ^= 1;
    }
    read_pump(st);
}

static void tag_sent(yc_http_req_t *req, void *arg, int status)
{
    stream_t *st = arg;

    st->sending = 0;
    if (status != 0)
        st->failed = 1;
    else
        st->tag_sent = 1;
    read_pump(st);
}

static void read_pump(stream_t *st)
{
    store_srv_job_t *j = st->j;

    if (st->failed) {
        if (!st->busy && !st->sending) {
            stream_free(st);
            yc_http_finish(j->req); /* short of its length: the connection closes */
        }
        return;
    }
    if (!st->sending && st->state[st->wr] == BUF_READY) {
        h2o_iovec_t b = h2o_iovec_init(st->buf[st->wr], st->len[st->wr]);
        st->state[st->wr] = BUF_SENDING;
        st->sending = 1;
        if (b.len == 0 || yc_http_write(j->req, &b, 1, read_sent, st) != 0) {
            st->sending = 0;
            if (b.len != 0) {
                st->failed = 1;
                read_pump(st);
                return;
            }
            st->state[st->wr] = BUF_FREE;
        }
    }
    if (!st->busy && st->next < j->len && st->state[st->rd] == BUF_FREE) {
        st->state[st->rd] = BUF_BUSY;
        if (submit(st, read_run, read_step_done) != 0) {
            st->state[st->rd] = BUF_FREE;
            st->failed = 1;
            read_pump(st);
            return;
        }
    }
    if (!st->busy && !st->sending && st->next >= j->len && st->state[st->wr] != BUF_READY) {
        if (!st->tag_sent && st->tag_ready) { /* the answer ends with its tag (net_mac.c) */
            h2o_iovec_t t = h2o_iovec_init(j->tag, sizeof(j->tag));
            st->sending = 1;
            if (yc_http_write(j->req, &t, 1, tag_sent, st) != 0) {
                st->sending = 0;
                st->failed = 1;
                read_pump(st);
            }
            return;
        }
        stream_free(st);
        yc_http_finish(j->req);
    }
}

void store_stream_read(store_srv_job_t *j)
{
    stream_t *st;

    if (!j->has_off || !j->has_len || j->len > STORE_NET_MAX_BODY) {
        store_server_answer(j, STORE_EINVAL);
        return;
    }
    /* the buffers come with the first step, once the shard's block length is known */
    st = h2o_mem_alloc_pool(j->req->pool, sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->j = j;
    /* the first piece before the answer: a missing or damaged shard is answered with its code */
    st->state[0] = BUF_BUSY;
    if (submit(st, read_run, read_step_done) != 0) {
        stream_free(st);
        store_server_answer(j, -ENOMEM);
    }
}
