/* fuzz_store_head.c — the yc-store daemon's reading of a request head on arbitrary bytes: the
 * routing of method, path and query (server_route.c) and the authentication from the headers
 * (server_auth.c: date, nonce, declared body hash, signature), as a loop runs them before any
 * body is read.
 *
 * Input: the method, the target and "name: value" header lines, one per line. A request the
 * router accepts must name an operation and, for shard operations, a drive; one it refuses must
 * say so. Authentication with a random signature must refuse (a forgery here is a bug).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/server_internal.h"

#define MAX_HEADERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store_server_t srv;
    static store_served_drive_t drives[2];
    static int ready;
    yc_http_header_t headers[MAX_HEADERS];
    h2o_iovec_t lines[2 + MAX_HEADERS];
    size_t nlines = 0, start = 0;
    char *copy = malloc(size ? size : 1);
    h2o_mem_pool_t pool;
    yc_http_req_t req;
    store_srv_job_t j;

    if (!ready) {
        strcpy(drives[0].name, "d1");
        strcpy(drives[1].name, "disk.2");
        srv.secret = (uint8_t *)"fuzz-secret";
        srv.secret_len = 11;
        store_replay_init(&srv.replay);
        ready = 1;
    }
    memcpy(copy, data, size);
    for (size_t i = 0; i <= size && nlines < 2 + MAX_HEADERS; i++) {
        if (i == size || copy[i] == '\n') {
            lines[nlines++] = h2o_iovec_init(copy + start, i - start);
            start = i + 1;
        }
    }
    memset(&req, 0, sizeof(req));
    h2o_mem_init_pool(&pool);
    req.pool = &pool;
    req.method = nlines > 0 ? lines[0] : h2o_iovec_init("", 0);
    req.target = nlines > 1 ? lines[1] : h2o_iovec_init("", 0);
    const char *q = memchr(req.target.base, '?', req.target.len);
    req.path = h2o_iovec_init(req.target.base, q != NULL ? (size_t)(q - req.target.base) : req.target.len);
    req.query = q != NULL ? h2o_iovec_init(q + 1, req.target.len - req.path.len - 1) : h2o_iovec_init("", 0);
    for (size_t i = 2; i < nlines; i++) {
        const char *colon = memchr(lines[i].base, ':', lines[i].len);
        size_t nlen = colon != NULL ? (size_t)(colon - lines[i].base) : lines[i].len;
        size_t voff = colon != NULL ? nlen + 1 : nlen;
        while (voff < lines[i].len && lines[i].base[voff] == ' ')
            voff++;
        headers[req.num_headers].name = h2o_iovec_init(lines[i].base, nlen);
        headers[req.num_headers].value = h2o_iovec_init(lines[i].base + voff, lines[i].len - voff);
        req.num_headers++;
    }
    req.headers = headers;

    memset(&j, 0, sizeof(j));
    j.req = &req;
    store_server_route(drives, 2, &j);
    if (j.route_err == 0 && j.op == STORE_OP_BAD)
        abort();
    if (j.route_err == 0 && j.op != STORE_OP_STATS && j.drive == NULL)
        abort();
    if (j.route_err != 0 && j.route_err != STORE_EINVAL && j.route_err != STORE_ENOENT)
        abort();

    char sha[65];
    const char *why = NULL;
    int ret = store_server_authenticate(&srv, &req, sha, &why);
    if (ret == 0 || why == NULL)
        abort();

    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
