/* gw_health.c — the drive prober behind gw_health.h.
 *
 * One thread per yc-store daemon, so that a daemon that hangs delays nobody else's probe. A
 * round asks each of the daemon's drives for its identity through the drive's probe client
 * (short timeouts, its own connection, so probes never queue behind data calls), sending the
 * placement the drive must have: a fresh drive records it, a placed one answers what it holds.
 * When a call cannot even connect, one plain TCP connect tells refused from timed out from no
 * route; a daemon that is down is down for all its drives, so the rest of the round copies
 * that answer instead of waiting for each drive in turn. A round therefore takes at most
 * about GW_HEALTH_CONNECT_MS twice, or GW_HEALTH_IO_MS, whatever the number of drives.
 *
 * Results are published under one mutex; a daemon's line is logged when the states of its
 * drives differ from the ones last logged (details aside: a message that changes wording is
 * not news). Fences are set and lifted here, under the same mutex, so a fence always matches
 * the state published.
 */
#include "gateway/gw_health.h"
#include "common/clock.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INTERVAL_DEFAULT_MS 1000
#define UNAVAILABLE_LOG_NS  1000000000LL /* one "unavailable" line a second at most */

typedef struct {
    gw_health_t *h;
    char *name;
    size_t *drives; /* cluster indexes */
    size_t ndrives;
    int remote;
    pthread_t tid;
    int started;
    gw_health_drive_t *results; /* the round being made (the thread's own) */
    gw_health_node_t st;        /* published, under the mutex */
    char logged[512];           /* the states last logged; empty before the first line */
} node_t;

struct gw_health {
    gw_cluster_t *c;
    uint32_t interval_ms;
    pthread_mutex_t mutex;
    pthread_cond_t cond; /* stop, and the first rounds done */
    int stopping;
    size_t first_rounds, remote_nodes;
    gw_health_drive_t *drives;
    node_t *nodes;
    size_t nnodes;
    int64_t unavailable_logged_ns;
    uint64_t unavailable_suppressed;
};

static void set_detail(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_detail(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, GW_HEALTH_DETAIL_MAX, fmt, ap);
    va_end(ap);
}

const char *gw_health_state_name(gw_health_state_t s)
{
    switch (s) {
    case GW_HEALTH_OK:
        return "ok";
    case GW_HEALTH_REFUSED:
        return "refused";
    case GW_HEALTH_TIMEOUT:
        return "timed_out";
    case GW_HEALTH_UNREACHABLE:
        return "unreachable";
    case GW_HEALTH_WRONG_SECRET:
        return "wrong_secret";
    case GW_HEALTH_WRONG_IDENTITY:
        return "wrong_identity";
    case GW_HEALTH_NOT_SERVED:
        return "not_served";
    case GW_HEALTH_ERROR:
        return "error";
    case GW_HEALTH_OFFLINE:
        return "offline";
    default:
        return "unknown";
    }
}

int gw_health_identity_mismatch(const store_identity_info_t *got, const uint8_t cluster_id[STORE_ID_LEN], uint32_t set,
                                uint32_t slot, char *buf, size_t cap)
{
    if (!got->placed) {
        snprintf(buf, cap, "the drive has no placement");
        return 1;
    }
    if (memcmp(got->cluster_id, cluster_id, STORE_ID_LEN) != 0) {
        snprintf(buf, cap,
                 "the drive belongs to another cluster (cluster id %02x%02x%02x%02x.., this one %02x%02x%02x%02x..: "
                 "another cluster secret, EC or drive count)",
                 got->cluster_id[0], got->cluster_id[1], got->cluster_id[2], got->cluster_id[3], cluster_id[0],
                 cluster_id[1], cluster_id[2], cluster_id[3]);
        return 1;
    }
    if (got->set != set || got->slot != slot) {
        snprintf(buf, cap,
                 "the drive is set %u slot %u of this cluster, expected here: set %u slot %u (drives swapped, or the "
                 "drives list reordered?)",
                 got->set, got->slot, set, slot);
        return 1;
    }
    buf[0] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- one probe */

/* Why a connection to HOST:PORT fails: one TCP connect, nothing sent. */
static gw_health_state_t classify_connect(const char *node, char *detail)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char host[256];
    const char *colon = strrchr(node, ':');
    int fd = -1, err = 0, gai;
    socklen_t elen = sizeof(err);
    gw_health_state_t st;

    if (colon == NULL || (size_t)(colon - node) >= sizeof(host)) {
        set_detail(detail, "not a HOST:PORT address");
        return GW_HEALTH_ERROR;
    }
    memcpy(host, node, (size_t)(colon - node));
    host[colon - node] = '\0';
    if ((gai = getaddrinfo(host, colon + 1, &hints, &ai)) != 0 || ai == NULL) {
        set_detail(detail, "the name %s does not resolve: %s", host, gai_strerror(gai));
        return GW_HEALTH_UNREACHABLE;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        set_detail(detail, "no socket: %s", strerror(errno));
        st = GW_HEALTH_ERROR;
        goto done;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (errno != EINPROGRESS) {
            err = errno;
        } else if (poll(&p, 1, GW_HEALTH_CONNECT_MS) <= 0) {
            set_detail(detail, "no answer to a connection within %d ms (host down, or packets dropped on the way)",
                       GW_HEALTH_CONNECT_MS);
            st = GW_HEALTH_TIMEOUT;
            goto done;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
            err = errno;
        }
    }
    switch (err) {
    case 0:
        set_detail(detail, "the connection failed, then worked: the daemon is (re)starting");
        st = GW_HEALTH_ERROR;
        break;
    case ECONNREFUSED:
        set_detail(detail, "connection refused: nothing listens on %s (is yc-store running there with --listen %s?)",
                   node, node);
        st = GW_HEALTH_REFUSED;
        break;
    case ETIMEDOUT:
        set_detail(detail, "the connection timed out (host down, or packets dropped on the way)");
        st = GW_HEALTH_TIMEOUT;
        break;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
        set_detail(detail, "%s", strerror(err));
        st = GW_HEALTH_UNREACHABLE;
        break;
    default:
        set_detail(detail, "cannot connect: %s", strerror(err));
        st = GW_HEALTH_ERROR;
        break;
    }
done:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return st;
}

static void probe_drive(gw_health_t *h, size_t i, gw_health_drive_t *out)
{
    gw_drive_t *d = &h->c->drives[i];
    store_identity_info_t want = {.format = STORE_IDENTITY_FORMAT, .placed = 1, .set = d->set_index, .slot = d->slot};
    store_identity_info_t got;
    const char *name = strrchr(d->path, '/');
    int64_t t0 = yc_mono_ns();
    int ret;

    memcpy(want.cluster_id, h->c->cluster_id, STORE_ID_LEN);
    memset(out, 0, sizeof(*out));
    ret = store_client_identity(d->probe, &want, &got);
    /* a TLS mismatch (certificate refused, one side without TLS) says so, not "unreachable" */
    if ((ret == STORE_EUNREACHABLE || ret == STORE_EIO) &&
        store_client_link_problem(d->probe, out->detail, sizeof(out->detail))) {
        out->state = GW_HEALTH_ERROR;
        return;
    }
    switch (ret) {
    case 0:
        out->has_identity = 1;
        out->identity = got;
        out->state =
            gw_health_identity_mismatch(&got, h->c->cluster_id, d->set_index, d->slot, out->detail, sizeof(out->detail))
                ? GW_HEALTH_WRONG_IDENTITY
                : GW_HEALTH_OK;
        break;
    case STORE_EAUTH:
        out->state = GW_HEALTH_WRONG_SECRET;
        set_detail(out->detail, "the daemon refused our signature: its YC_CLUSTER_SECRET differs from this "
                                "gateway's (or the clocks are more than 5 minutes apart)");
        break;
    case STORE_ENOENT:
        out->state = GW_HEALTH_NOT_SERVED;
        set_detail(out->detail, "the daemon serves no drive named '%s' (see its --drive NAME=FOLDER options)",
                   name != NULL ? name + 1 : d->path);
        break;
    case STORE_EUNREACHABLE:
        out->state = classify_connect(d->node, out->detail);
        break;
    case STORE_EIO:
        if (yc_mono_ns() - t0 >= (int64_t)(GW_HEALTH_IO_MS - 100) * 1000000) {
            out->state = GW_HEALTH_TIMEOUT;
            set_detail(out->detail, "connected, but no answer within %d ms (the daemon hangs or is overloaded)",
                       GW_HEALTH_IO_MS);
        } else {
            out->state = GW_HEALTH_ERROR;
            set_detail(out->detail, "the connection broke, or the answer was not understood");
        }
        break;
    case STORE_EINVAL:
        out->state = GW_HEALTH_ERROR;
        set_detail(out->detail, "the daemon did not take the identity call (a yc-store older than this gateway?)");
        break;
    case -ENOMEM:
        out->state = GW_HEALTH_ERROR;
        set_detail(out->detail, "the daemon is stopping, or out of memory (it answered 503)");
        break;
    default:
        out->state = GW_HEALTH_ERROR;
        set_detail(out->detail, "the drive answered %s", yc_strerror(ret));
        break;
    }
}

/* ---------------------------------------------------------------- rounds */

static void summarize(gw_health_t *h, node_t *n)
{
    gw_health_state_t first = h->drives[n->drives[0]].state;
    int same = 1;

    n->st.nok = 0;
    for (size_t k = 0; k < n->ndrives; k++) {
        const gw_health_drive_t *d = &h->drives[n->drives[k]];
        n->st.nok += d->state == GW_HEALTH_OK;
        same &= d->state == first;
    }
    gw_health_state_t st = same ? first : GW_HEALTH_OK; /* a mix: the daemon answered for some */
    if (st != n->st.state)
        n->st.since_ns = yc_mono_ns();
    n->st.state = st;
    /* a cause of the daemon as a whole is said once; a drive's own cause is said per drive */
    if (same && (first == GW_HEALTH_REFUSED || first == GW_HEALTH_TIMEOUT || first == GW_HEALTH_UNREACHABLE ||
                 first == GW_HEALTH_WRONG_SECRET || first == GW_HEALTH_UNKNOWN))
        snprintf(n->st.detail, sizeof(n->st.detail), "%s", h->drives[n->drives[0]].detail);
    else
        n->st.detail[0] = '\0';
}

/* The line of a daemon; called with the mutex held, logs after building it. */
static void node_line(gw_health_t *h, node_t *n, char *line, size_t cap, int *level)
{
    size_t len;

    *level = n->st.nok == n->ndrives ? YC_LOG_INFO : YC_LOG_WARN;
    len = (size_t)snprintf(line, cap, "event=node_state node=%s state=%s drives_ok=%zu/%zu", n->name,
                           n->st.state == GW_HEALTH_OK ? "reachable" : gw_health_state_name(n->st.state), n->st.nok,
                           n->ndrives);
    if (n->st.detail[0] != '\0' && len < cap) {
        len += (size_t)snprintf(line + len, cap - len, " detail=\"%s\"", n->st.detail);
    } else if (n->st.nok < n->ndrives && len < cap) {
        len += (size_t)snprintf(line + len, cap - len, " problems=\"");
        for (size_t k = 0; k < n->ndrives && len < cap; k++) {
            const gw_health_drive_t *d = &h->drives[n->drives[k]];
            const char *slash = strrchr(h->c->drives[n->drives[k]].path, '/');
            if (d->state == GW_HEALTH_OK)
                continue;
            len += (size_t)snprintf(line + len, cap - len, "%s%s: %s: %s", line[len - 1] == '"' ? "" : "; ",
                                    slash != NULL ? slash + 1 : "?", gw_health_state_name(d->state), d->detail);
        }
        if (len < cap)
            snprintf(line + len, cap - len, "\"");
    }
}

static void publish(gw_health_t *h, node_t *n)
{
    char line[1800], states[sizeof(n->logged)], changed[600] = "";
    int level = YC_LOG_INFO, log_it;
    size_t len = 0;
    int64_t now = yc_mono_ns();

    pthread_mutex_lock(&h->mutex);
    for (size_t k = 0; k < n->ndrives; k++) {
        size_t i = n->drives[k];
        gw_health_drive_t *cur = &h->drives[i], *res = &n->results[k];
        gw_drive_t *d = &h->c->drives[i];
        if (res->state == GW_HEALTH_OK && cur->has_identity &&
            memcmp(cur->identity.drive_id, res->identity.drive_id, STORE_ID_LEN) != 0) {
            size_t c = strlen(changed);
            snprintf(changed + c, sizeof(changed) - c, "%s%s", c > 0 ? "," : "", d->path);
        }
        res->since_ns = res->state == cur->state ? cur->since_ns : now;
        if (!res->has_identity && cur->has_identity) { /* keep what the drive last said */
            res->has_identity = 1;
            res->identity = cur->identity;
        }
        *cur = *res;
        /* a drive not known to be the right one, or whose daemon is silent, takes no calls
         * (gw_health.h) */
        if (res->state == GW_HEALTH_OK)
            store_client_fence(d->client, 0);
        else if (res->state == GW_HEALTH_WRONG_IDENTITY || res->state == GW_HEALTH_NOT_SERVED ||
                 res->state == GW_HEALTH_TIMEOUT || res->state == GW_HEALTH_UNREACHABLE)
            store_client_fence(d->client, STORE_EUNREACHABLE);
        len += (size_t)snprintf(states + len, sizeof(states) - len, "%d,", (int)res->state);
        if (len >= sizeof(states))
            len = sizeof(states) - 1;
    }
    summarize(h, n);
    log_it = strcmp(states, n->logged) != 0;
    if (log_it) {
        snprintf(n->logged, sizeof(n->logged), "%s", states);
        node_line(h, n, line, sizeof(line), &level);
    }
    pthread_mutex_unlock(&h->mutex);
    if (log_it)
        yc_log(level, "%s", line);
    if (changed[0] != '\0')
        yc_log(YC_LOG_WARN,
               "event=drive_replaced drives=%s note=\"a new drive id: the drive was wiped or replaced; "
               "heal fills it\"",
               changed);
}

static void node_round(gw_health_t *h, node_t *n)
{
    for (size_t k = 0; k < n->ndrives; k++) {
        gw_health_drive_t *r = &n->results[k];
        if (k > 0) {
            gw_health_state_t prev = n->results[k - 1].state;
            /* the daemon is not there: it is not there for its other drives either */
            if (prev == GW_HEALTH_REFUSED || prev == GW_HEALTH_TIMEOUT || prev == GW_HEALTH_UNREACHABLE) {
                *r = n->results[k - 1];
                r->has_identity = 0;
                continue;
            }
        }
        probe_drive(h, n->drives[k], r);
    }
    publish(h, n);
}

static void *node_main(void *arg)
{
    node_t *n = arg;
    gw_health_t *h = n->h;

    for (int round = 0;; round++) {
        node_round(h, n);
        pthread_mutex_lock(&h->mutex);
        if (round == 0) {
            h->first_rounds++;
            pthread_cond_broadcast(&h->cond);
        }
        struct timespec until;
        yc_deadline(CLOCK_MONOTONIC, (int64_t)h->interval_ms * 1000000, &until);
        while (!h->stopping && pthread_cond_timedwait(&h->cond, &h->mutex, &until) != ETIMEDOUT)
            ;
        int stop = h->stopping;
        pthread_mutex_unlock(&h->mutex);
        if (stop)
            return NULL;
    }
}

/* ---------------------------------------------------------------- start, stop */

static int add_to_node(gw_health_t *h, size_t i)
{
    gw_drive_t *d = &h->c->drives[i];
    node_t *n = NULL;

    for (size_t k = 0; k < h->nnodes; k++)
        if (strcmp(h->nodes[k].name, d->node) == 0)
            n = &h->nodes[k];
    if (n == NULL) {
        n = &h->nodes[h->nnodes++];
        if ((n->name = strdup(d->node)) == NULL || (n->drives = calloc(h->c->ndrives, sizeof(*n->drives))) == NULL ||
            (n->results = calloc(h->c->ndrives, sizeof(*n->results))) == NULL)
            return -ENOMEM;
        n->h = h;
        n->remote = d->probe != NULL;
        n->st.name = n->name;
        n->st.state = GW_HEALTH_UNKNOWN;
        n->st.since_ns = yc_mono_ns();
    }
    n->drives[n->ndrives++] = i;
    n->st.ndrives = n->ndrives;
    return 0;
}

int gw_health_start(gw_cluster_t *c, const gw_health_config_t *cfg, gw_health_t **out)
{
    gw_health_t *h = calloc(1, sizeof(*h));
    pthread_condattr_t attr;
    int ret = -ENOMEM;

    if (h == NULL)
        return -ENOMEM;
    h->c = c;
    h->interval_ms = cfg->interval_ms != 0 ? cfg->interval_ms : INTERVAL_DEFAULT_MS;
    pthread_mutex_init(&h->mutex, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &attr);
    pthread_condattr_destroy(&attr);
    if ((h->drives = calloc(c->ndrives, sizeof(*h->drives))) == NULL ||
        (h->nodes = calloc(c->ndrives, sizeof(*h->nodes))) == NULL)
        goto fail;
    for (size_t i = 0; i < c->ndrives; i++) {
        gw_drive_t *d = &c->drives[i];
        gw_health_drive_t *s = &h->drives[i];
        s->since_ns = yc_mono_ns();
        if (d->probe != NULL) {
            s->state = GW_HEALTH_UNKNOWN;
            set_detail(s->detail, "not probed yet");
        } else if (d->client != NULL) {
            s->state = GW_HEALTH_OK;
        } else {
            s->state = GW_HEALTH_OFFLINE;
            set_detail(s->detail, "%s", d->offline_reason != NULL ? d->offline_reason : "cannot open");
        }
        if (d->identity != NULL) {
            s->has_identity = 1;
            store_identity_get(d->identity, &s->identity);
        }
        if ((ret = add_to_node(h, i)) != 0)
            goto fail;
    }
    for (size_t k = 0; k < h->nnodes; k++) {
        node_t *n = &h->nodes[k];
        if (!n->remote) {
            summarize(h, n);
            continue;
        }
        if (pthread_create(&n->tid, NULL, node_main, n) != 0) {
            ret = -EAGAIN;
            goto fail;
        }
        n->started = 1;
        h->remote_nodes++;
    }
    /* every daemon said something before the gateway serves: its line is the first news */
    pthread_mutex_lock(&h->mutex);
    while (h->first_rounds < h->remote_nodes)
        pthread_cond_wait(&h->cond, &h->mutex);
    pthread_mutex_unlock(&h->mutex);
    *out = h;
    return 0;

fail:
    gw_health_stop(h);
    return ret;
}

void gw_health_stop(gw_health_t *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mutex);
    h->stopping = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mutex);
    for (size_t k = 0; h->nodes != NULL && k < h->nnodes; k++) {
        if (h->nodes[k].started)
            pthread_join(h->nodes[k].tid, NULL);
        free(h->nodes[k].name);
        free(h->nodes[k].drives);
        free(h->nodes[k].results);
    }
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->mutex);
    free(h->nodes);
    free(h->drives);
    free(h);
}

/* ---------------------------------------------------------------- readers */

void gw_health_drive(gw_health_t *h, size_t i, gw_health_drive_t *out)
{
    pthread_mutex_lock(&h->mutex);
    *out = h->drives[i];
    pthread_mutex_unlock(&h->mutex);
}

void gw_health_local_replaced(gw_health_t *h, size_t i)
{
    gw_drive_t *d = &h->c->drives[i];
    gw_health_drive_t *s = &h->drives[i];

    pthread_mutex_lock(&h->mutex);
    s->state = GW_HEALTH_OK;
    s->detail[0] = '\0';
    s->since_ns = yc_mono_ns();
    s->has_identity = d->identity != NULL;
    if (d->identity != NULL)
        store_identity_get(d->identity, &s->identity);
    for (size_t k = 0; k < h->nnodes; k++)
        for (size_t j = 0; j < h->nodes[k].ndrives; j++)
            if (h->nodes[k].drives[j] == i)
                summarize(h, &h->nodes[k]);
    pthread_mutex_unlock(&h->mutex);
}

size_t gw_health_nnodes(const gw_health_t *h)
{
    return h->nnodes;
}

void gw_health_node(gw_health_t *h, size_t k, gw_health_node_t *out)
{
    pthread_mutex_lock(&h->mutex);
    *out = h->nodes[k].st;
    pthread_mutex_unlock(&h->mutex);
}

const size_t *gw_health_node_drives(const gw_health_t *h, size_t k, size_t *n)
{
    *n = h->nodes[k].ndrives;
    return h->nodes[k].drives;
}

size_t gw_health_missing(gw_health_t *h, char *buf, size_t cap)
{
    size_t missing = 0, len = 0;

    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (h == NULL) {
        snprintf(buf, cap, "unknown");
        return 0;
    }
    pthread_mutex_lock(&h->mutex);
    for (size_t i = 0; i < h->c->ndrives; i++) {
        if (h->drives[i].state == GW_HEALTH_OK)
            continue;
        missing++;
        if (len < cap) {
            int n = snprintf(buf + len, cap - len, "%s%s=%s", len > 0 ? " " : "", h->c->drives[i].path,
                             gw_health_state_name(h->drives[i].state));
            len += n > 0 ? (size_t)n : 0;
        }
    }
    pthread_mutex_unlock(&h->mutex);
    if (missing == 0)
        snprintf(buf, cap, "none");
    else if (len >= cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4); /* cut, and said so */
    return missing;
}

void gw_health_log_unavailable(gw_health_t *h, const char *request_id)
{
    char missing[1024];
    uint64_t suppressed;
    int64_t now = yc_mono_ns();

    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mutex);
    if (h->unavailable_logged_ns != 0 && now - h->unavailable_logged_ns < UNAVAILABLE_LOG_NS) {
        h->unavailable_suppressed++;
        pthread_mutex_unlock(&h->mutex);
        return;
    }
    h->unavailable_logged_ns = now;
    suppressed = h->unavailable_suppressed;
    h->unavailable_suppressed = 0;
    pthread_mutex_unlock(&h->mutex);
    size_t n = gw_health_missing(h, missing, sizeof(missing));
    yc_log(YC_LOG_WARN,
           "request_id=%s event=unavailable reason=not_enough_drives drives_missing=%zu missing=\"%s\" "
           "not_logged_since_last=%llu",
           request_id, n, missing, (unsigned long long)suppressed);
}
