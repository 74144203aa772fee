/* gw_admit.h — admission control: how many requests the gateway works on at once, whose, and in
 * which order the waiting ones get in.
 *
 * A request takes a slot before it costs a worker, and gives it back when its answer is done.
 * The gateway has max_inflight slots; one key (an access key, or the anonymous callers together)
 * holds at most max_inflight_per_key of them. A request that finds no slot it may take waits in
 * a short queue; a slot that frees goes to the next waiting request by round robin between keys
 * (deficit round robin with every request costing one: a tenant offering ten times the load of
 * another gets the same number of slots once both wait). Waiting is bounded twice:
 *
 *   - in time: a request still waiting after queue_deadline (100 ms by default) is shed;
 *   - in space: queue_max requests wait at most, all keys together. When the queue is full, a
 *     request of a key that waits less than the longest-waiting key takes the place of that
 *     key's newest waiter (which is shed), so a noisy tenant cannot fill the queue and lock a
 *     quiet one out; otherwise the new request is shed at once.
 *
 * A shed request is answered 503 SlowDown with Retry-After (GW_ESLOWDOWN in the error table),
 * which every AWS SDK retries with backoff.
 *
 * Classes: client requests (every S3 operation, reads and writes alike) come strictly before
 * background work (heal, scrub, lifecycle): a waiting background request gets a slot only when
 * no client request waits, and background work holds at most background_max slots together, so
 * that a burst of clients always finds most of the gateway free. Reads are not put ahead of
 * writes: S3 orders neither before the other, an application usually reads what it just wrote
 * (strong read-after-write), and a strict priority would let a read storm starve every upload of
 * launch day into retries; fairness between keys is what protects one tenant from another.
 *
 * Keys: the caller passes the authenticated access key id; anonymous callers pass the empty key
 * and share one key. Keyed by client address, an anonymous flood would get a share per address
 * it has (a botnet, an IPv6 /64) and crowd out every authenticated tenant; as one key it is one
 * tenant among the others. Key identity is the first GW_ADMIT_KEY_MAX bytes (AWS access key ids
 * are at most 128 characters).
 *
 * The door. Slots count the work the workers do; they do not see the event loops' own CPU, and a
 * loop that is behind makes every request wait before admission is even asked (a 4 KiB GET costs
 * the loop more than the worker). So each loop also asks gw_admit_door, with its lag (how long
 * ready events wait on it, common/server.h), when a request's head is in — before the request is
 * authenticated, routed or handed to a worker — and when a connection is accepted:
 *
 *   - lag up to door_lag_ns: everything comes in;
 *   - between door_lag_ns and twice that: a share grows linearly from none to all, drawn at
 *     random per request (a smooth ramp, not a cliff that would make the loop swing between
 *     shedding all and shedding nothing);
 *   - past twice door_lag_ns: everything is shed but a floor of one request in
 *     2^GW_ADMIT_DOOR_FLOOR_SHIFT. A loop can lag for reasons shedding does not remove (thousands
 *     of connections each with a request waiting: the time to reach them all is theirs, not the
 *     work admitted), and shedding everything would then serve nobody; the floor keeps the loop
 *     serving at a rate it surely can while it sheds the rest.
 *
 * A request shed at the door is answered 503 SlowDown with Retry-After on the loop at once
 * (the answer costs a head parse and one write). The connections a shedding loop keeps are
 * bounded too: past door_connections of them a shed answer also closes its connection, and a new
 * connection gets the 503 written at accept and is closed without being read — a loop cannot
 * keep up with thousands of busy connections, and each one it drops stops costing it reads.
 * Below that bound connections stay open (a keep-alive connection is cheaper to the client and to
 * the loop than a new one). Idle connections are never touched: they cost no CPU.
 *
 * The door knows no key (the request is not authenticated yet): the loop's CPU is shared by all,
 * and a tenant sending more requests loses more of them. Fairness between keys is the slots'.
 *
 * The adaptive bound. max_inflight is a ceiling, not a target: two cores finish a few hundred
 * small requests in the time a client will wait, and thousands admitted at once only queue in the
 * worker pools, each waiting for all before it. So, when adaptive_delay_ns is set, the slots in
 * use follow a bound that follows the measured queue, in the spirit of TCP Vegas: every job a
 * request hands to the read pool reports how long it waited there for a worker (gw_admit_observe).
 * That wait is the queueing the bound is about, whatever the request's own size, and it leaves
 * out the event loops' own delays, which are the door's (below): cutting slots frees no loop
 * time. Only reads report (gw_dispatch_read): a write's worker waits on its client's body, so the
 * write pool's queue is the clients' pace as much as the gateway's load. The gateway sets it off
 * by default: a burst of large GETs queues its first stripe reads for tens of milliseconds as a
 * matter of course, which the bound would shed. Every GW_ADMIT_WINDOW_NS, with
 * GW_ADMIT_WINDOW_SAMPLES waits or more, their mean is compared with adaptive_delay_ns:
 *
 *   - above it: the bound is cut in proportion (the bound, or the slots in use when fewer, times
 *     adaptive_delay_ns / mean, at most halved), and waits
 *     of jobs handed over before the cut no longer count (they measure the old bound);
 *   - below half of it, while the bound kept requests out: the bound grows by a sixteenth (at
 *     least one); a window without waits in which the bound kept requests out grows it too;
 *   - otherwise it holds. It never goes below adaptive_min nor above max_inflight.
 *
 * A request the adaptive bound keeps out waits at most adaptive_delay_ns (or queue_deadline when
 * shorter): a longer wait would cost it what the bound saves it. When the bound is at the ceiling,
 * the queue keeps its own deadline.
 *
 * Background work yields first: after any client request was shed (at the door or from the
 * queue), background work takes no new slot for background_yield_ns; its waiters stay queued and
 * are shed at their deadline (the healer tries again later).
 *
 * Threads: requests start and end on several event loops; every call is safe from any thread.
 * One mutex guards the state and is held for the bookkeeping only (a hash lookup, a few list
 * links); no callback runs under it. A freed slot is handed to the next request by calling the
 * wake function that request registered, on the thread that freed the slot (or that noticed a
 * deadline): wake must only pass the news on to the request's own loop (an h2o multithread
 * message, a yc_job_t's queue) and return.
 */
#ifndef YC_GW_ADMIT_H
#define YC_GW_ADMIT_H
#include <stddef.h>
#include <stdint.h>
#include "common/errors.h"
#include "gateway/gw_config.h"

#define GW_ADMIT_KEY_MAX 128

typedef struct gw_admit gw_admit_t;

typedef enum {
    GW_ADMIT_CLIENT = 0,     /* S3 requests */
    GW_ADMIT_BACKGROUND = 1, /* heal, scrub, lifecycle: after every waiting client request */
    GW_ADMIT__CLASSES
} gw_admit_class_t;

/* Why a request was shed (counted apart). */
typedef enum {
    GW_ADMIT_SHED_QUEUE_FULL = 0, /* the queue was full when it came */
    GW_ADMIT_SHED_PUSHED_OUT = 1, /* it waited and a request of a shorter-waiting key took its place */
    GW_ADMIT_SHED_DEADLINE = 2,   /* it waited queue_deadline without a slot */
    GW_ADMIT__SHED_REASONS
} gw_admit_shed_t;

/* gw_admit_enter's answers besides GW_ESLOWDOWN. */
enum { GW_ADMIT_OK = 0, GW_ADMIT_QUEUED = 1 };

typedef struct {
    size_t max_inflight;            /* slots of the gateway */
    size_t max_inflight_per_key;    /* slots one key may hold */
    size_t queue_max;               /* requests waiting, all keys and classes together (0: none wait) */
    int64_t queue_deadline_ns;      /* a client request waits at most this long */
    size_t background_max;          /* slots background work may hold together */
    int64_t background_deadline_ns; /* a background request waits at most this long */
    uint32_t retry_after_s;         /* the Retry-After of a shed answer */
    int64_t door_lag_ns;            /* a loop lagging more sheds at the door (twice as much: all); 0: no door */
    size_t door_connections;        /* connections a shedding loop keeps open (per loop) */
    int64_t background_yield_ns;    /* background takes no new slot this long after a client shed */
    int64_t adaptive_delay_ns;      /* mean wait for a worker the adaptive bound allows; 0: max_inflight only */
    size_t adaptive_min;            /* the adaptive bound's lowest value */
    int64_t (*now_ns)(void);        /* monotonic clock; NULL: yc_mono_ns (tests bring their own) */
} gw_admit_config_t;

/* Fills cfg with the defaults: 4096 slots, 1024 per key, 4096 waiting, 100 ms deadline, 1/16 of
 * the slots for background work (at least one) waiting up to 1 s, Retry-After 1; the door at a
 * lag of 5 ms keeping 256 connections a loop; background yielding 250 ms after a client shed; no
 * adaptive bound (adaptive_min 8 once one is set). */
void gw_admit_config_defaults(gw_admit_config_t *cfg);

/* The defaults, then the gateway's settings (max_inflight, max_inflight_per_key, queue_max,
 * queue_deadline_ms, shed_lag_ms, shed_connections, adaptive_delay_us, adaptive_min); background
 * work gets a sixteenth of the slots, at least one. */
void gw_admit_config_from(const gw_config_t *gw, gw_admit_config_t *out);

/* One request's place: caller's memory, from gw_admit_enter until its slot is given back, its
 * wake has begun, or gw_admit_cancel returned. The module touches a ticket only under its lock
 * and hands the wake only wake_arg, so the ticket may live in the request's pool; wake_arg must
 * stay valid until the wake has run, even for a request that went away (cancel returned 0):
 * for example a small reference-counted message the wake posts to the loop. The caller sets wake
 * and wake_arg (gw_admit_ticket_init); the rest is the module's. */
typedef struct gw_admit_ticket gw_admit_ticket_t;
/* Called once for a request that had to wait: result 0 (it holds a slot now: gw_admit_leave
 * when done) or GW_ESLOWDOWN (shed: answer 503 SlowDown). Runs on whichever thread freed the slot
 * or found the deadline passed, never under the module's lock; after it is called the module
 * no longer touches the ticket. */
typedef void (*gw_admit_wake_fn)(void *arg, int result);

struct gw_admit_ticket {
    gw_admit_wake_fn wake;
    void *wake_arg;
    /* the module's */
    struct gw_admit_key *key;
    gw_admit_ticket_t *prev, *next;   /* in its key's queue */
    gw_admit_ticket_t *dprev, *dnext; /* in its class's deadline order */
    int64_t enqueued_ns, deadline_ns;
    int state;
    gw_admit_shed_t shed;
};

/* Makes an admission controller; the config is copied. -EINVAL for zero slots, -ENOMEM. */
int gw_admit_new(const gw_admit_config_t *cfg, gw_admit_t **out);
/* Frees it; no request may hold or wait for a slot any more. */
void gw_admit_free(gw_admit_t *a);

/* Prepares t for gw_admit_enter: wake(wake_arg, result) is how a wait ends. */
void gw_admit_ticket_init(gw_admit_ticket_t *t, gw_admit_wake_fn wake, void *wake_arg);

/* Asks for a slot of class cls for key[0..key_len) (the empty key: anonymous). GW_ADMIT_OK: the
 * slot is held (gw_admit_leave when done; no wake comes). GW_ADMIT_QUEUED: it waits; its wake
 * comes exactly once unless gw_admit_cancel takes it out first. GW_ESLOWDOWN: shed at once
 * (queue full): answer 503 SlowDown with Retry-After. May run other requests' wakes. */
int gw_admit_enter(gw_admit_t *a, gw_admit_ticket_t *t, gw_admit_class_t cls, const char *key, size_t key_len);

/* Gives back the slot t holds (after GW_ADMIT_OK, or a wake with 0); may hand it to a waiting
 * request, whose wake runs on this thread before this returns. */
void gw_admit_leave(gw_admit_t *a, gw_admit_ticket_t *t);

/* For the adaptive bound: a job handed to a worker pool at queued_ns was taken up by a worker at
 * started_ns (gw_admit.h). Any thread. */
void gw_admit_observe(gw_admit_t *a, int64_t queued_ns, int64_t started_ns);

/* How often the adaptive bound is reconsidered, and the waits a window needs to count. */
#define GW_ADMIT_WINDOW_NS      (10LL * 1000 * 1000)
#define GW_ADMIT_WINDOW_SAMPLES 8

/* Takes a waiting request out (its client left). 1: it was waiting and nothing more will come;
 * 0: its wake ran or is running (the wake's receiver must then give back a slot it got). */
int gw_admit_cancel(gw_admit_t *a, gw_admit_ticket_t *t);

/* Sheds the requests whose deadline passed (their wakes run on this thread). enter and leave
 * do it too; a timer calls it so that a quiet gateway still answers its waiters in time (every
 * loop, every few milliseconds: the waits it may lengthen are bounded by that period). */
void gw_admit_expire(gw_admit_t *a);

/* Like gw_admit_enter, for a thread that may block (the healer): waits until a slot is held (0)
 * or the wait is shed (GW_ESLOWDOWN). t is set up here; gw_admit_leave(a, t) when done. */
int gw_admit_wait(gw_admit_t *a, gw_admit_ticket_t *t, gw_admit_class_t cls, const char *key, size_t key_len);

/* Past twice its lag, the door lets one request in 2^this through (a sixteenth). */
#define GW_ADMIT_DOOR_FLOOR_SHIFT 4

/* The door's answers. */
typedef enum {
    GW_ADMIT_DOOR_OPEN = 0,  /* let it in */
    GW_ADMIT_DOOR_SHED = 1,  /* answer 503 SlowDown, keep the connection */
    GW_ADMIT_DOOR_CLOSE = 2, /* answer 503 SlowDown and close the connection */
} gw_admit_door_t;

/* At the door, for a request whose head is in, on a loop lagging lag_ns with connections open
 * (this one included); rnd is a random value drawn per call (the share shed on the ramp). Takes
 * no lock: safe and cheap on any loop. */
gw_admit_door_t gw_admit_door(gw_admit_t *a, int64_t lag_ns, size_t connections, uint32_t rnd);

/* The same for a connection just accepted (connections: those already open): GW_ADMIT_DOOR_CLOSE
 * (write the 503 and close it) only when the loop sheds and holds door_connections or more;
 * otherwise GW_ADMIT_DOOR_OPEN. */
gw_admit_door_t gw_admit_door_accept(gw_admit_t *a, int64_t lag_ns, size_t connections, uint32_t rnd);

/* Connection-level admission. Each loop also keeps a budget of connections, max_inflight (no
 * limit) while the loop keeps up. Why: when every connection of a crowd holds a request, every
 * answer, served or shed, waits for the loop to go round all of them — connections over answers
 * per second, whatever each answer costs (Little's law) — and only fewer connections shorten the
 * round. So the loop serves a set of connections it can answer within door_lag_ns, and tells
 * every other client at once, for the cost of an accept and one write, to come back later.
 *
 * The loop counts, over windows of GW_ADMIT_BUDGET_WINDOW_NS, the requests it admits and the
 * worst lag a request found. GW_ADMIT_BUDGET_STREAK windows in a row with GW_ADMIT_BUDGET_REQUESTS
 * requests or more whose worst lag passed half of door_lag_ns (a sustained overload of requests:
 * a few large uploads on a busy loop are none, nor is one long iteration of a loop whose core
 * another process took) set the budget by Little's law: the connections whose requests the loop
 * answers within door_lag_ns at the rate it admitted them, no more than the connections it has,
 * never below GW_ADMIT_BUDGET_MIN. While the budget holds, each window in which connections were
 * still turned away sets it again the same way (growing by at most an eighth); a window that
 * turned nobody away grows it by an eighth (at least one), back to max_inflight: the crowd left.
 *
 * While the budget holds, the loop closes idle keep-alive connections past it, a request on a
 * connection past it is answered 503 SlowDown and its connection closed, and a new connection is
 * answered at accept and closed while the loop has the budget or more, or when its request has
 * waited in the backlog past door_lag_ns already (served, it would be late anyway). Idle means
 * idle for a while (gw_server.c's DOOR_IDLE_MS) with nothing in the kernel: a client between two
 * requests is about to send. */
#define GW_ADMIT_BUDGET_WINDOW_NS (20LL * 1000 * 1000)
#define GW_ADMIT_BUDGET_MIN       16
#define GW_ADMIT_BUDGET_REQUESTS  16
#define GW_ADMIT_BUDGET_STREAK    5

/* A loop's budget: the loop's own memory, touched by its thread only. */
typedef struct {
    size_t budget;     /* connections the loop keeps now; max_inflight: no limit */
    int64_t window_ns; /* when the current window began */
    int64_t lag_max;   /* the worst lag a request of the window found */
    size_t requests;   /* requests admitted in the window */
    size_t refused;    /* requests and connections turned away in the window */
    unsigned streak;   /* overloaded windows in a row */
    uint64_t cuts;     /* windows that set the budget by the rate (overloaded ones) */
} gw_admit_budget_t;

/* Starts b at max_inflight (no limit). */
void gw_admit_budget_init(const gw_admit_t *a, gw_admit_budget_t *b);

/* At a request (request set) or a connection finding the loop lagging lag_ns with connections
 * open: ends the window when it is over, moving the budget. Returns the budget. */
size_t gw_admit_budget_update(const gw_admit_t *a, gw_admit_budget_t *b, int64_t lag_ns, size_t connections,
                              int request);

/* 1 while b limits the loop. */
int gw_admit_budget_cut(const gw_admit_t *a, const gw_admit_budget_t *b);

/* For a request whose head is in, on a loop with connections open (its own included):
 * GW_ADMIT_DOOR_CLOSE (answer 503 and close) when b limits and connections exceed it, counted as a
 * door shed; GW_ADMIT_DOOR_OPEN otherwise, counted as admitted in b's window (then ask
 * gw_admit_door). */
gw_admit_door_t gw_admit_door_budget(gw_admit_t *a, gw_admit_budget_t *b, size_t connections);

/* The same for a connection just accepted (connections: those open before it; late: its request
 * already waited past the door's lag, in the backlog): GW_ADMIT_DOOR_CLOSE when b limits and the
 * loop has b or more, or the connection is late, counted as an accept shed. */
gw_admit_door_t gw_admit_door_budget_accept(gw_admit_t *a, gw_admit_budget_t *b, size_t connections, int late);

/* The Retry-After, in seconds, of a shed answer. */
uint32_t gw_admit_retry_after(const gw_admit_t *a);

/* Wait times of admitted requests: bucket i counts waits up to gw_admit_wait_bounds_ns[i] (not
 * cumulative), the last one the longer ones; bucket 0 (bound 0) the requests admitted at once. */
#define GW_ADMIT_WAIT_BUCKETS 14
extern const int64_t gw_admit_wait_bounds_ns[GW_ADMIT_WAIT_BUCKETS - 1];

typedef struct {
    uint64_t admitted[GW_ADMIT__CLASSES]; /* since start, at once or after a wait */
    uint64_t waited;                      /* of those, admitted after waiting */
    uint64_t shed[GW_ADMIT__SHED_REASONS];
    uint64_t cancelled; /* waits ended by gw_admit_cancel */
    size_t inflight;    /* slots held now */
    size_t inflight_class[GW_ADMIT__CLASSES];
    size_t queued; /* requests waiting now */
    size_t keys;   /* keys holding or waiting for a slot now */
    uint64_t wait_hist[GW_ADMIT_WAIT_BUCKETS];
    int64_t wait_sum_ns;        /* sum of the admitted requests' waits */
    uint64_t door_shed;         /* requests shed at the door (their connection kept or closed) */
    uint64_t door_closed;       /* of those, the ones whose connection was closed */
    uint64_t door_accept;       /* connections answered and closed at accept */
    uint64_t background_yields; /* background requests kept waiting because clients were shed */
    size_t limit;               /* the bound on slots now (max_inflight, or the adaptive bound) */
    int64_t delay_ns;           /* the last counted window's mean wait for a worker */
    uint64_t limit_cuts;        /* times the adaptive bound was cut */
} gw_admit_stats_t;

/* A consistent copy of the counters. */
void gw_admit_stats(gw_admit_t *a, gw_admit_stats_t *out);

#endif
