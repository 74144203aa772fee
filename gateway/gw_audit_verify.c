/* gw_audit_verify.c — checks an audit folder (rules in gw_audit.h): reads every file in order and
 * stops at the first record that is not where the chain says it must be.
 *
 * What each fault looks like here: a changed record no longer hashes to its HASH (or, with the
 * hash recomputed, the next record's PREV does not match it; with the whole chain recomputed, the
 * next checkpoint's MAC fails); a removed, inserted or reordered record breaks the run of record
 * numbers or the chain; a cut tail is a last line without its newline, or a log that ends before
 * the checkpoint audit.head names; a removed oldest file is a first record number that no expire
 * record accounts for.
 */
#include "gateway/gw_audit.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *key;
    size_t key_len;
    char key_id[9];
    gw_audit_report_t *rep;
    char prev[GW_AUDIT_HASH_HEX + 1];
    uint64_t expected; /* the next record's number; 0 before the first */
    uint64_t *kept;    /* first_kept of every expire record */
    size_t nkept, capkept;
    gw_audit_record_t head;
    int have_head, head_seen;
    char *head_line;
} verify_t;

static int fail(verify_t *v, const char *file, uint64_t line, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(verify_t *v, const char *file, uint64_t line, uint64_t seq, const char *fmt, ...)
{
    va_list ap;
    snprintf(v->rep->bad_file, sizeof(v->rep->bad_file), "%s", file);
    v->rep->bad_line = line;
    v->rep->bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->rep->message, sizeof(v->rep->message), fmt, ap);
    va_end(ap);
    return -EBADMSG;
}

static int hash_ok(const char *line, const gw_audit_record_t *r)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[GW_AUDIT_HASH_HEX + 1];
    size_t covered = (size_t)(r->hash.base - line) - 1;

    if (EVP_Digest(line, covered, md, &mdlen, EVP_sm3(), NULL) != 1 || mdlen != 32)
        return 0;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return memcmp(hex, r->hash.base, GW_AUDIT_HASH_HEX) == 0;
}

/* A checkpoint's MAC under the key; 0, or the message of what is wrong in why. */
static int checkpoint_ok(verify_t *v, const gw_audit_record_t *r, char *why, size_t cap)
{
    json_t *doc = json_loadb(r->body.base, r->body.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(doc, "reason"));
    const char *key_id = json_string_value(json_object_get(doc, "key_id"));
    const char *mac = json_string_value(json_object_get(doc, "mac"));
    char prev[GW_AUDIT_HASH_HEX + 1], want[GW_AUDIT_HASH_HEX + 1];
    int ret = -1;

    memcpy(prev, r->prev.base, GW_AUDIT_HASH_HEX);
    prev[GW_AUDIT_HASH_HEX] = '\0';
    if (reason == NULL || key_id == NULL || mac == NULL || strlen(reason) > 32)
        snprintf(why, cap, "checkpoint without reason, key_id and mac");
    else if (strcmp(key_id, v->key_id) != 0)
        snprintf(why, cap, "checkpoint made with another key (key id %.8s; the key given has %s)", key_id, v->key_id);
    else if (gw_audit_checkpoint_mac(v->key, v->key_len, r->seq, r->time_ns, prev, reason, want) != 0)
        snprintf(why, cap, "cannot compute HMAC-SM3");
    else if (CRYPTO_memcmp(want, mac, GW_AUDIT_HASH_HEX + 1) != 0)
        snprintf(why, cap, "checkpoint MAC does not match: the records before it were rewritten");
    else
        ret = 0;
    json_decref(doc);
    return ret;
}

static void note_expire(verify_t *v, const gw_audit_record_t *r)
{
    json_t *doc = json_loadb(r->body.base, r->body.len, 0, NULL);
    json_t *kept = json_object_get(doc, "first_kept");
    if (json_is_integer(kept) && json_integer_value(kept) > 0) {
        if (v->nkept == v->capkept) {
            size_t cap = v->capkept ? v->capkept * 2 : 8;
            uint64_t *grown = realloc(v->kept, cap * sizeof(*grown));
            if (grown != NULL) {
                v->kept = grown;
                v->capkept = cap;
            }
        }
        if (v->nkept < v->capkept)
            v->kept[v->nkept++] = (uint64_t)json_integer_value(kept);
    }
    json_decref(doc);
}

static int check_record(verify_t *v, const char *file, uint64_t lineno, const char *line, size_t len, int first_of_file,
                        uint64_t file_first)
{
    gw_audit_record_t r;
    char why[256];

    if (gw_audit_record_parse(line, len, &r) != 0)
        return fail(v, file, lineno, v->expected, "line %llu is not an audit record (expected record %llu)",
                    (unsigned long long)lineno, (unsigned long long)v->expected);
    if (v->expected == 0) {
        /* the oldest record kept: record 1, or where the retention's expire records say */
        v->expected = r.seq;
        v->rep->first_seq = r.seq;
        memcpy(v->prev, r.seq == 1 ? "0000000000000000000000000000000000000000000000000000000000000000" : r.prev.base,
               GW_AUDIT_HASH_HEX);
    }
    if (r.seq != v->expected)
        return fail(v, file, lineno, v->expected,
                    "record %llu expected, record %llu found: a record was removed, inserted or reordered",
                    (unsigned long long)v->expected, (unsigned long long)r.seq);
    if (first_of_file && r.seq != file_first)
        return fail(v, file, lineno, r.seq, "the file's first record is %llu, its name says %llu",
                    (unsigned long long)r.seq, (unsigned long long)file_first);
    if (memcmp(r.prev.base, v->prev, GW_AUDIT_HASH_HEX) != 0)
        return fail(v, file, lineno, r.seq,
                    "record %llu does not chain to the record before it: that one was changed, or this one inserted",
                    (unsigned long long)r.seq);
    if (!hash_ok(line, &r))
        return fail(v, file, lineno, r.seq, "record %llu does not match its hash: it was changed",
                    (unsigned long long)r.seq);
    if (h2o_memis(r.type.base, r.type.len, H2O_STRLIT("ckpt"))) {
        if (checkpoint_ok(v, &r, why, sizeof(why)) != 0)
            return fail(v, file, lineno, r.seq, "record %llu: %s", (unsigned long long)r.seq, why);
        v->rep->checkpoints++;
        v->rep->last_checkpoint = r.seq;
    } else if (h2o_memis(r.type.base, r.type.len, H2O_STRLIT("expire"))) {
        note_expire(v, &r);
    }
    if (v->have_head && r.seq == v->head.seq) {
        if (memcmp(r.hash.base, v->head.hash.base, GW_AUDIT_HASH_HEX) != 0)
            return fail(v, file, lineno, r.seq, "record %llu is not the checkpoint " GW_AUDIT_HEAD " names",
                        (unsigned long long)r.seq);
        v->head_seen = 1;
    }
    memcpy(v->prev, r.hash.base, GW_AUDIT_HASH_HEX);
    v->rep->records++;
    v->rep->last_seq = r.seq;
    v->expected = r.seq + 1;
    return 0;
}

static int check_file(verify_t *v, const char *dir, const char *name)
{
    char path[PATH_MAX];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0, file_first = strtoull(name + 6, NULL, 10);
    int ret = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            ret = fail(v, name, lineno, v->expected, "the last line is cut short (truncated tail) after record %llu",
                       (unsigned long long)v->rep->last_seq);
            break;
        }
        if ((ret = check_record(v, name, lineno, line, (size_t)n - 1, lineno == 1, file_first)) != 0)
            break;
    }
    free(line);
    fclose(f);
    return ret;
}

/* Reads audit.head into v (v->have_head); 0, or the fault. */
static int read_head(verify_t *v, const char *dir)
{
    char path[PATH_MAX], why[256];
    size_t cap = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/" GW_AUDIT_HEAD, dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? 0 : -errno;
    n = getline(&v->head_line, &cap, f);
    fclose(f);
    if (n <= 1 || v->head_line[n - 1] != '\n' || gw_audit_record_parse(v->head_line, (size_t)n - 1, &v->head) != 0 ||
        !h2o_memis(v->head.type.base, v->head.type.len, H2O_STRLIT("ckpt")) || !hash_ok(v->head_line, &v->head))
        return fail(v, GW_AUDIT_HEAD, 1, 0, GW_AUDIT_HEAD " does not hold a checkpoint record");
    if (checkpoint_ok(v, &v->head, why, sizeof(why)) != 0)
        return fail(v, GW_AUDIT_HEAD, 1, v->head.seq, GW_AUDIT_HEAD ": %s", why);
    v->have_head = 1;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gw_audit_verify(const char *dir, const uint8_t *key, size_t key_len, gw_audit_report_t *rep)
{
    verify_t v = {.key = key, .key_len = key_len, .rep = rep};
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int ret = 0;

    memset(rep, 0, sizeof(*rep));
    gw_audit_key_id(key, key_len, v.key_id);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len != 30 || strncmp(de->d_name, "audit-", 6) != 0 || strcmp(de->d_name + 26, ".log") != 0)
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
            if (grown == NULL) {
                ret = -ENOMEM;
                break;
            }
            names = grown;
        }
        if ((names[n] = strdup(de->d_name)) == NULL) {
            ret = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (ret != 0)
        goto done;
    if (n > 1)
        qsort(names, n, sizeof(*names), compare_names);
    if (n == 0) {
        ret = fail(&v, "", 0, 0, "no audit files in the folder");
        goto done;
    }
    if ((ret = read_head(&v, dir)) != 0)
        goto done;
    for (size_t i = 0; i < n && ret == 0; i++) {
        ret = check_file(&v, dir, names[i]);
        rep->files++;
    }
    if (ret != 0)
        goto done;
    if (rep->records == 0) {
        ret = fail(&v, names[0], 0, 0, "the audit files hold no record");
        goto done;
    }
    if (rep->first_seq != 1) {
        int accounted = 0;
        for (size_t i = 0; i < v.nkept; i++)
            accounted |= v.kept[i] == rep->first_seq;
        if (!accounted) {
            ret = fail(&v, names[0], 1, rep->first_seq,
                       "records 1 to %llu are missing and no expire record accounts for them: a file was removed",
                       (unsigned long long)rep->first_seq - 1);
            goto done;
        }
    }
    if (rep->checkpoints > 0 && !v.have_head) {
        ret = fail(&v, GW_AUDIT_HEAD, 0, 0, GW_AUDIT_HEAD " is missing");
        goto done;
    }
    if (v.have_head && !v.head_seen) {
        ret = fail(&v, names[n - 1], 0, rep->last_seq + 1,
                   "truncated tail: the log ends at record %llu, but its checkpoint %llu (" GW_AUDIT_HEAD ") is gone",
                   (unsigned long long)rep->last_seq, (unsigned long long)v.head.seq);
        goto done;
    }
    rep->unsealed = rep->last_seq - rep->last_checkpoint;

done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(v.kept);
    free(v.head_line);
    return ret;
}
