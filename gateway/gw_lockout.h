/* gw_lockout.h — access keys locked after repeated bad signatures.
 *
 * A signature that does not match is what an attacker guessing a secret produces; a client with a
 * wrong secret produces it too, and is as well stopped. After `failures` bad signatures of one
 * access key within `window` seconds (counted from the first of them), the key is locked for
 * `lock` seconds: every request signed with it is refused before its signature is checked, so
 * the right signature is refused too and a guesser learns nothing while the lock lasts. Failures
 * during a lock are not counted (they cannot extend it). A good signature clears the count.
 *
 * Only keys that exist are counted (an unknown key is InvalidAccessKeyId before any signature is
 * checked), so the table is bounded by the number of access keys; it is capped at
 * GW_LOCKOUT_MAX_KEYS all the same, making room by dropping counts whose window or lock ended.
 *
 * The counters live in one gateway's memory: behind several gateways a guesser spread over them
 * gets `failures` tries per gateway and window, and an unlock applies to the gateway that
 * received it. Thread-safe; each call holds one mutex for a hash lookup, and requests of a
 * gateway where no key has a count do not take it at all.
 */
#ifndef YC_GW_LOCKOUT_H
#define YC_GW_LOCKOUT_H
#include <h2o.h>
#include <stdint.h>

typedef struct gw_lockout gw_lockout_t;

#define GW_LOCKOUT_MAX_KEYS 100000
#define GW_LOCKOUT_KEY_MAX  128 /* META_ACCESS_KEY_MAX: longer keys are never counted */

typedef struct {
    uint32_t failures; /* bad signatures that lock a key; 0: never locked */
    int64_t window_ns; /* within this long from the first of them */
    int64_t lock_ns;   /* the lock lasts this long */
} gw_lockout_config_t;

/* One locked key, as gw_lockout_foreach shows it. */
typedef struct {
    const char *access_key;
    int64_t remaining_ns; /* of the lock */
    uint32_t failures;    /* the failures that locked it */
} gw_lockout_entry_t;

/* The outcome of a call that may change a key's state, for the caller to log. */
typedef enum {
    GW_LOCKOUT_NONE = 0,
    GW_LOCKOUT_LOCKED,  /* this failure locked the key */
    GW_LOCKOUT_EXPIRED, /* the key's lock had ended (checked now) */
} gw_lockout_event_t;

/* 0 or -ENOMEM. */
int gw_lockout_new(const gw_lockout_config_t *cfg, gw_lockout_t **out);
void gw_lockout_free(gw_lockout_t *l);

/* The time left of ak's lock at now_ns (0: not locked). *event (may be NULL) is set to
 * GW_LOCKOUT_EXPIRED when a lock is found ended, once per lock. */
int64_t gw_lockout_check(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns, gw_lockout_event_t *event);
/* Counts one bad signature of ak; GW_LOCKOUT_LOCKED when it locked the key. */
gw_lockout_event_t gw_lockout_fail(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns);
/* A good signature of ak: its count starts again. */
void gw_lockout_succeed(gw_lockout_t *l, h2o_iovec_t ak);
/* Ends ak's lock and count; 0, or -ENOENT when ak was not locked. */
int gw_lockout_unlock(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns);
/* Calls fn for every key locked at now_ns (under the mutex: fn must not call back). */
void gw_lockout_foreach(gw_lockout_t *l, int64_t now_ns, void (*fn)(void *arg, const gw_lockout_entry_t *e), void *arg);

#endif
