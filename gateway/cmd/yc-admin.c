/* yc-admin — the admin CLI: signs admin API calls with the root keys and prints the answers.
 *
 *   yc-admin [--endpoint URL] [--access-key AK] [--secret-key SK] [--region R] [--json] COMMAND
 *     status | info | metadata | heal [status] | user add NAME ACCESS_KEY SECRET_KEY [--create-buckets]
 *     | user remove ACCESS_KEY
 *     | user list | user enable-key|disable-key NAME ACCESS_KEY | group add|remove|show NAME | group list
 *     | group member add|remove GROUP USER | policy put user|group NAME POLICY FILE
 *     | policy get|remove user|group NAME POLICY | policy list user|group NAME
 *     | roles init | roles show | key lockouts | key unlock ACCESS_KEY
 *     | buckets list|usage | buckets info NAME | quota set|get|clear bucket|user NAME [SIZE]
 *     | drive list | drive drain NODE DRIVE SPARE | drive remove NODE DRIVE | config show
 *     | audit verify [DIR] | secrets keygen FILE | secrets status | secrets rotate
 *   yc-admin cluster-ca init --dir DIR | cluster-ca issue --dir DIR --node NAME [--ip A]... [--dns N]...
 *
 * "cluster-ca" makes the internode TLS files itself (no gateway, no keys; store/tls.h): the
 * cluster CA, then a key and certificate per node. Its options are its own, parsed apart.
 *
 * The user, group and policy commands beyond "user add/remove/list" are calls of the gateway's
 * IAM Query API (signed for the service "iam"), whose XML answer is printed as it comes (with
 * --json, as JSON).
 *
 * "secrets keygen" appends a new secrets key to a key file itself (no gateway): the key that seals
 * access keys' secrets at rest (gw_secret.h); "secrets rotate" then has the gateway read its key
 * file again and re-seal every secret under that key.
 *
 * "audit verify" reads the audit folder itself (no gateway, no root keys): it needs the audit key
 * (--audit-key-file, else $YC_AUDIT_KEY), which the root credentials do not give.
 *
 * Endpoint, region and keys come from the options, the YC_* and AWS_* variables or a config file,
 * in that order (gw_cli_creds.h); the region is signed into every call's scope.
 * Exit status: 0 done, 1 the call failed (one line says why), 2 bad invocation (one line says
 * which).
 */
#include "gateway/gw_cli_creds.h"
#include "gateway/gw_cli_json.h"
#include "gateway/gw_audit.h"
#include "gateway/gw_secret.h"
#include "gateway/s3/sigv4.h"
#include "store/tls.h"
#include "common/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ENDPOINT "http://127.0.0.1:9000"

/* user add --create-buckets: the inline policy that gives a user buckets of its own */
#define CREATE_BUCKETS_POLICY "yc-create-buckets"
#define CREATE_BUCKETS_DOC                                                                                             \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:CreateBucket\","                \
    "\"s3:ListAllMyBuckets\"],\"Resource\":\"arn:aws:s3:::*\"}]}"

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: yc-admin [OPTION ...] COMMAND\n"
            "\n"
            "Administers a yuncang gateway through its admin API, signed with the root keys.\n"
            "\n"
            "commands:\n"
            "  status                          every node and drive the gateway uses: reachable or why not,\n"
            "                                  and whether each erasure set can read and write\n"
            "  info                            drives, sets and errors seen per drive (JSON)\n"
            "  metadata                        per local drive: RocksDB's size figures, its records and\n"
            "                                  their bytes, compactions run for deletes (JSON)\n"
            "  heal                            rebuilds whatever any drive is missing; waits and shows progress\n"
            "                                  (objects checked of the total, rate, ETA, bytes rebuilt); with\n"
            "                                  --rate SIZE at most SIZE of shards a second (e.g. 50M), leaving\n"
            "                                  the disks to clients\n"
            "  heal status                     the progress of the last heal (JSON)\n"
            "  buckets list                    every bucket: owner, versioning, object lock, objects, bytes, quota\n"
            "  buckets info NAME               one bucket in detail\n"
            "  buckets usage                   objects, versions and bytes per bucket and per user (bucket owner)\n"
            "  quota set bucket|user NAME SIZE the most a bucket, or all buckets a user owns, may hold (SIZE in\n"
            "                                  bytes, or 10G, 512Mi, 1TB); a write past it is refused: 403\n"
            "                                  QuotaExceeded\n"
            "  quota get bucket|user NAME\n"
            "  quota clear bucket|user NAME    no limit any more\n"
            "  drive list                      every drive's place (set, slot) and any drain\n"
            "  drive drain NODE DRIVE SPARE    moves a local drive's place to the empty folder SPARE and rebuilds\n"
            "                                  its shards there; waits and shows progress (NODE: local)\n"
            "  drive remove NODE DRIVE         forgets a drained drive (the gateway closes it)\n"
            "  config show                     the gateway's running configuration, secrets masked\n"
            "  user add NAME ACCESS_KEY SECRET_KEY [--create-buckets]\n"
            "                                  a user needs an identity policy for ListBuckets and\n"
            "                                  CreateBucket, as in S3; --create-buckets attaches the inline\n"
            "                                  policy " CREATE_BUCKETS_POLICY
            " (s3:CreateBucket and s3:ListAllMyBuckets\n"
            "                                  on every bucket name), which lets it make and list buckets of\n"
            "                                  its own as every user could before\n"
            "  user remove ACCESS_KEY\n"
            "  user list                       (JSON)\n"
            "  user enable-key NAME ACCESS_KEY / user disable-key NAME ACCESS_KEY\n"
            "                                  a disabled key is refused (InvalidAccessKeyId)\n"
            "  group add NAME / group remove NAME / group show NAME / group list\n"
            "  group member add GROUP USER / group member remove GROUP USER\n"
            "  policy put user|group NAME POLICY FILE\n"
            "                                  sets an inline policy (JSON from FILE, '-' for stdin)\n"
            "  policy get user|group NAME POLICY / policy remove user|group NAME POLICY\n"
            "  policy list user|group NAME     (the IAM API's XML answers)\n"
            "  roles init                      splits the root keys into the system, security and audit\n"
            "                                  administrators; prints their keys once (JSON); the root keys\n"
            "                                  serve nothing afterwards\n"
            "  roles show                      the split's state and the role users (JSON)\n"
            "  key lockouts                    access keys locked after wrong signatures (JSON)\n"
            "  key unlock ACCESS_KEY           ends a key's lock on this gateway (security administrator)\n"
            "  kms key add ID / kms key rotate ID / kms key list\n"
            "                                  named keys of aws:kms encryption; a rotation makes a new version\n"
            "                                  current (objects keep the version they were written with)\n"
            "  secrets keygen FILE             appends a new key sealing access keys' secrets to FILE (made mode\n"
            "                                  0600 if missing; no gateway needed); prints its id. Give every\n"
            "                                  gateway the file, then: secrets rotate\n"
            "  secrets rotate                  the gateway reads its secrets key file again and re-seals every\n"
            "                                  secret under the newest key (JSON); older lines may go afterwards\n"
            "  secrets status                  key ids (the last current) and the secrets sealed under each (JSON)\n"
            "  cluster-ca init --dir DIR       makes the cluster CA for internode TLS in DIR (ca.key, ca.crt,\n"
            "                                  ECDSA P-256, 10 years, files 0600; never overwrites); no gateway\n"
            "                                  needed. Keep ca.key offline; give every node ca.crt\n"
            "  cluster-ca issue --dir DIR --node NAME [--ip A]... [--dns N]... [--days N]\n"
            "                                  a key and certificate for a daemon or gateway (DIR/NAME.key,\n"
            "                                  DIR/NAME.crt), signed by the CA; the addresses gateways dial it\n"
            "                                  at go in --ip / --dns [default: NAME]; valid N days [365]\n"
            "  audit verify [DIR]              checks the audit trail in DIR [default: ./var/audit]: every record's\n"
            "                                  number, SM3 chain and checkpoint MAC; names the first record that was\n"
            "                                  changed, removed, inserted or reordered, or a cut tail\n"
            "\n"
            "options (--name VALUE or --name=VALUE, before or after the command):\n"
            "  --endpoint URL                  the gateway [default: $YC_ENDPOINT, $AWS_ENDPOINT_URL, the config\n"
            "                                  file's endpoint, else " DEFAULT_ENDPOINT "]\n"
            "  --access-key AK                 root access key [default: $YC_ROOT_USER, $AWS_ACCESS_KEY_ID, the\n"
            "                                  config file's access_key]\n"
            "  --secret-key SK                 root secret key [default: $YC_ROOT_PASSWORD, $AWS_SECRET_ACCESS_KEY,\n"
            "                                  the config file's secret_key]\n"
            "  --region R                      the gateway's region, signed into every call [default: $YC_REGION,\n"
            "                                  $AWS_REGION, the config file's region, else us-east-1]\n"
            "  --config FILE                   YAML file of endpoint, region, access_key, secret_key (mode 0600)\n"
            "                                  [default: $YC_ADMIN_CONFIG, else ~/.config/yuncang/admin.yaml,\n"
            "                                  which `make run` writes]\n"
            "  --json                          print JSON (every command that prints data) [default: off]\n"
            "  --audit-key-file FILE           audit verify: the audit key [default: $YC_AUDIT_KEY]\n"
            "  --rate SIZE                     heal: shard bytes a second at most, with a K, M or G suffix\n"
            "                                  [default: no bound]\n"
            "  --help                          print this help and exit\n"
            "\n"
            "Keys come as a pair from the first source that names one: --access-key/--secret-key, YC_ROOT_USER/\n"
            "YC_ROOT_PASSWORD, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the config file.\n"
            "\n"
            "exit status: 0 done, 1 the call failed (one line says why), 2 bad invocation (one line says which)\n");
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

/* Sends one signed request; prints the body; returns 0 on a 2xx answer. */
/* The region signed into every call: set once by main from --region / YC_REGION. */
static const char *signing_region = "us-east-1";
/* The service signed into the credential scope: "s3" for the admin API, "iam" for IAM calls. */
static const char *signing_service = "s3";

static int call_capture(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                        const char *body, char *out, size_t out_size);
/* The status of the last answer; quiet_status: the caller says it in its own line. */
static int last_status, quiet_status;

static int call(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                const char *body)
{
    return call_capture(endpoint, ak, sk, method, path, body, NULL, 0);
}

/* Sends one signed request; prints the body (or copies it to out); returns 0 on a 2xx answer. */
static int call_capture(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                        const char *body, char *out, size_t out_size)
{
    char host[280], port[16] = "80", authority[280], date[17], payload_hash[65], auth[2048];
    const char *p = endpoint;
    size_t body_len = body ? strlen(body) : 0;
    uint8_t digest[32];

    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    snprintf(authority, sizeof(authority), "%s", p);
    authority[strcspn(authority, "/")] = '\0';
    snprintf(host, sizeof(host), "%s", authority);
    char *colon = strrchr(host, ':');
    if (colon != NULL) {
        snprintf(port, sizeof(port), "%s", colon + 1);
        *colon = '\0';
    }
    SHA256((const unsigned char *)(body ? body : ""), body_len, digest);
    hex(digest, 32, payload_hash);
    /* one reading of the clock for the X-Amz-Date header and the signature: two could fall on
     * either side of a second, and the gateway would refuse the request (SignatureDoesNotMatch) */
    time_t now = time(NULL);
    s3_sigv4_format_time(now, date);

    h2o_iovec_t names[3] = {{H2O_STRLIT("host")}, {H2O_STRLIT("x-amz-content-sha256")}, {H2O_STRLIT("x-amz-date")}};
    h2o_header_t headers[3] = {{&names[0], NULL, {authority, strlen(authority)}},
                               {&names[1], NULL, {payload_hash, 64}},
                               {&names[2], NULL, {date, 16}}};
    /* the query is signed on its own (canonical query string): path is sent as given */
    size_t path_len = strcspn(path, "?");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : "";
    s3_request_t req = {
        {(char *)method, strlen(method)}, {(char *)path, path_len}, {(char *)query, strlen(query)}, headers, 3};
    if (s3_sigv4_sign_service(&req, h2o_iovec_init(payload_hash, 64), h2o_iovec_init(ak, strlen(ak)),
                              h2o_iovec_init(sk, strlen(sk)), h2o_iovec_init(signing_region, strlen(signing_region)),
                              h2o_iovec_init(signing_service, strlen(signing_service)), now, auth, sizeof(auth),
                              NULL) != 0) {
        fprintf(stderr, "yc-admin: cannot sign the request\n");
        return 1;
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "yc-admin: cannot resolve %s\n", host);
        return 1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "yc-admin: cannot connect to %s: %s (is yc-gateway running there?)\n", endpoint,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    char head[4096];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nX-Amz-Content-Sha256: %s\r\nAuthorization: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, authority, date, payload_hash, auth, body_len);
    if (write(fd, head, (size_t)n) != n || (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        fprintf(stderr, "yc-admin: write failed\n");
        close(fd);
        return 1;
    }
    size_t cap = 65536, len = 0;
    char *resp = malloc(cap + 1);
    ssize_t r;
    while (resp && (r = read(fd, resp + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap) {
            char *bigger = realloc(resp, 2 * cap + 1);
            if (bigger == NULL)
                break;
            resp = bigger;
            cap *= 2;
        }
    }
    close(fd);
    if (resp == NULL)
        return 1;
    resp[len] = '\0';
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    char *payload = strstr(resp, "\r\n\r\n");
    if (out != NULL && out_size > 0)
        snprintf(out, out_size, "%s", payload != NULL ? payload + 4 : "");
    else if (payload != NULL && payload[4] != '\0')
        printf("%s\n", payload + 4);
    free(resp);
    last_status = status;
    if (status < 200 || status > 299) {
        if (!quiet_status)
            fprintf(stderr, "yc-admin: HTTP %d\n", status);
        return 1;
    }
    return 0;
}

static void print_progress(const char *what, json_t *h);

/* Starts a full heal and follows it until it is done, a progress line a second (objects checked
 * of the total, rate, ETA), or the status document a second with --json. */
static int heal(const char *endpoint, const char *ak, const char *sk, const char *rate, int as_json)
{
    char status[2048], path[96];
    uint64_t bytes;
    if (rate != NULL && (yc_parse_size(rate, 1ULL << 40, &bytes) != 0 || bytes == 0)) {
        fprintf(stderr, "yc-admin: --rate is a size a second, from 1 to 1T (e.g. 50M)\n");
        return 2;
    }
    snprintf(path, sizeof(path), "/_admin/v1/heal%s%s", rate != NULL ? "?rate=" : "", rate != NULL ? rate : "");
    if (call_capture(endpoint, ak, sk, "POST", path, NULL, status, sizeof(status)) != 0)
        return 1;
    for (int i = 0; i < 86400; i++) {
        if (call_capture(endpoint, ak, sk, "GET", "/_admin/v1/heal", NULL, status, sizeof(status)) != 0)
            return 1;
        json_t *doc = as_json ? NULL : json_loads(status, 0, NULL);
        if (doc != NULL)
            print_progress("heal", doc);
        else
            printf("%s\n", status);
        json_decref(doc);
        fflush(stdout);
        if (strstr(status, "\"running\":false") != NULL)
            return strstr(status, "\"failed\":0") != NULL ? 0 : 1;
        sleep(1);
    }
    return 1;
}

/* ---------------------------------------------------------------- status */

static const char *jstr(json_t *o, const char *name)
{
    const char *v = json_string_value(json_object_get(o, name));
    return v != NULL ? v : "";
}

static long long jint(json_t *o, const char *name)
{
    return (long long)json_integer_value(json_object_get(o, name));
}

static void print_for(long long seconds)
{
    if (seconds >= 3600)
        printf("  for %lld h %lld min", seconds / 3600, seconds % 3600 / 60);
    else if (seconds >= 60)
        printf("  for %lld min %lld s", seconds / 60, seconds % 60);
    else
        printf("  for %lld s", seconds);
}

/* The status document as a table an operator reads at a glance. */
static int print_status(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr), *v;
    size_t i, j;

    if (doc == NULL || !json_is_object(doc)) {
        fprintf(stderr, "yc-admin: the status answer is not JSON: %s\n", jerr.text);
        json_decref(doc);
        return 1;
    }
    printf("cluster %.16s: %lld drives, %lld ok\n", jstr(doc, "clusterId"), jint(doc, "drives"), jint(doc, "drivesOk"));
    json_array_foreach(json_object_get(doc, "nodes"), i, v)
    {
        json_t *d;
        printf("node %-22s %-15s %lld/%lld drives ok", jstr(v, "node"), jstr(v, "state"), jint(v, "drivesOk"),
               jint(v, "drivesTotal"));
        if (strcmp(jstr(v, "state"), "reachable") != 0 || jint(v, "drivesOk") != jint(v, "drivesTotal"))
            print_for(jint(v, "forSeconds"));
        printf("\n");
        if (jstr(v, "detail")[0] != '\0')
            printf("    %s\n", jstr(v, "detail"));
        json_array_foreach(json_object_get(v, "drives"), j, d)
        {
            const char *id = jstr(d, "driveId");
            printf("  %-24s %-15s set %lld slot %-3lld", jstr(d, "name"), jstr(d, "state"), jint(d, "set"),
                   jint(d, "slot"));
            if (id[0] != '\0')
                printf(" drive %.16s", id);
            if (strcmp(jstr(d, "state"), "ok") != 0)
                print_for(jint(d, "forSeconds"));
            printf("\n");
            /* a cause of the whole node was said on the node's line */
            if (strcmp(jstr(d, "state"), "ok") != 0 && jstr(v, "detail")[0] == '\0' && jstr(d, "detail")[0] != '\0')
                printf("      %s\n", jstr(d, "detail"));
        }
    }
    json_array_foreach(json_object_get(doc, "sets"), i, v)
    {
        int readable = json_is_true(json_object_get(v, "readable")),
            writable = json_is_true(json_object_get(v, "writable"));
        printf("set %lld (EC %lld+%lld): %lld/%lld drives ok: %s (writes need %lld, reads %lld)\n", jint(v, "index"),
               jint(v, "k"), jint(v, "m"), jint(v, "drivesOk"), jint(v, "k") + jint(v, "m"),
               writable   ? "reads and writes work"
               : readable ? "reads work, WRITES FAIL"
                          : "READS AND WRITES FAIL",
               jint(v, "writeQuorum"), jint(v, "k"));
    }
    json_decref(doc);
    return 0;
}

static int status(const char *endpoint, const char *ak, const char *sk, int as_json)
{
    size_t cap = 1 << 20;
    char *text = malloc(cap);
    int ret;

    if (text == NULL)
        return 1;
    text[0] = '\0'; /* a call that fails before the answer leaves it as it was */
    if ((ret = call_capture(endpoint, ak, sk, "GET", "/_admin/v1/status", NULL, text, cap)) == 0) {
        if (as_json)
            printf("%s\n", text);
        else
            ret = print_status(text);
    } else if (text[0] != '\0') {
        fprintf(stderr, "%s\n", text);
    }
    free(text);
    return ret;
}

/* ---------------------------------------------------------------- main */

typedef struct {
    const char *endpoint, *ak, *sk, *region, *config;
    const char *audit_key_file;
    const char *rate; /* heal --rate */
    int json;
    int create_buckets; /* user add --create-buckets */
    const char *words[8];
    int nwords;
} args_t;

/* 0, 1 for --help, -1 after printing the one line that says what is wrong. */
static int parse_args(int argc, char **argv, args_t *a)
{
    static const char *const with_value[] = {"endpoint", "access-key",     "secret-key", "region",
                                             "config",   "audit-key-file", "rate"};
    enum { NWITH = sizeof(with_value) / sizeof(with_value[0]) };

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        size_t nlen;
        int k;

        if (strncmp(arg, "--", 2) != 0) {
            if (a->nwords == (int)(sizeof(a->words) / sizeof(a->words[0]))) {
                fprintf(stderr, "yc-admin: too many words after the command\n");
                return -1;
            }
            a->words[a->nwords++] = arg;
            continue;
        }
        eq = strchr(arg, '=');
        nlen = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (nlen == 14 && strncmp(arg + 2, "create-buckets", 14) == 0 && eq == NULL) {
            a->create_buckets = 1;
            continue;
        }
        if ((nlen == 4 && strncmp(arg + 2, "help", 4) == 0) || (nlen == 4 && strncmp(arg + 2, "json", 4) == 0)) {
            if (eq != NULL) {
                fprintf(stderr, "yc-admin: --%.*s takes no value\n", (int)nlen, arg + 2);
                return -1;
            }
            if (arg[2] == 'h')
                return 1;
            a->json = 1;
            continue;
        }
        for (k = 0; k < NWITH; k++)
            if (strlen(with_value[k]) == nlen && strncmp(with_value[k], arg + 2, nlen) == 0)
                break;
        if (k == NWITH) {
            fprintf(stderr, "yc-admin: unknown option '%.*s' (yc-admin --help lists the options)\n", (int)nlen + 2,
                    arg);
            return -1;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "yc-admin: --%s needs a value\n", with_value[k]);
            return -1;
        }
        if (k == 0)
            a->endpoint = value;
        else if (k == 1)
            a->ak = value;
        else if (k == 2)
            a->sk = value;
        else if (k == 3)
            a->region = value;
        else if (k == 4)
            a->config = value;
        else if (k == 5)
            a->audit_key_file = value;
        else
            a->rate = value;
    }
    return 0;
}

/* ---------------------------------------------------------------- IAM calls */

/* Appends "&name=value" to the form in b (cap bytes), value percent-encoded; -1 when it does not fit. */
static int form_add(char *b, size_t cap, const char *name, const char *value)
{
    size_t len = strlen(b);
    int n = snprintf(b + len, cap - len, "&%s=", name);
    if (n < 0 || (size_t)n >= cap - len)
        return -1;
    len += (size_t)n;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        if (len + 4 > cap)
            return -1;
        if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || *v == '-' ||
            *v == '_' || *v == '.' || *v == '~')
            b[len++] = (char)*v;
        else
            len += (size_t)snprintf(b + len, 4, "%%%02X", *v);
    }
    b[len] = '\0';
    return 0;
}

static int print_json(json_t *doc);

/* Calls action with the name/value pairs of params (a NULL name ends them); prints the XML answer
 * (with --json, its JSON form: gw_cli_json.h). */
static int iam_call(const args_t *a, const char *action, const char *const *params)
{
    size_t cap = 3 * 10240 + 4096;
    char *body = malloc(cap);
    int ret = 0;

    if (body == NULL)
        return 1;
    snprintf(body, cap, "Action=%s&Version=2010-05-08", action);
    for (size_t i = 0; ret == 0 && params[i] != NULL; i += 2)
        ret = form_add(body, cap, params[i], params[i + 1]);
    if (ret != 0) {
        fprintf(stderr, "yc-admin: the arguments are too long\n");
        free(body);
        return 2;
    }
    signing_service = "iam";
    if (a->json) {
        size_t cap = 4 << 20;
        char *xml = malloc(cap);
        ret = xml != NULL ? call_capture(a->endpoint, a->ak, a->sk, "POST", "/", body, xml, cap) : 1;
        json_t *doc = ret == 0 ? gw_cli_xml_to_json(xml, strlen(xml)) : NULL;
        if (doc != NULL)
            print_json(doc);
        else if (xml != NULL && xml[0] != '\0')
            fprintf(ret == 0 ? stdout : stderr, "%s\n", xml); /* not XML: as it came */
        free(xml);
    } else {
        ret = call(a->endpoint, a->ak, a->sk, "POST", "/", body);
    }
    signing_service = "s3";
    free(body);
    return ret;
}

/* Reads a policy document from path ('-': stdin), at most 10 KiB; NULL with a line said. */
static char *read_policy(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *doc = f != NULL ? calloc(1, 10241 + 1) : NULL;
    size_t n = doc != NULL ? fread(doc, 1, 10241, f) : 0;
    if (f != NULL && f != stdin)
        fclose(f);
    if (doc == NULL || n > 10240) {
        fprintf(stderr, "yc-admin: cannot read a policy of at most 10 KiB from %s\n", path);
        free(doc);
        return NULL;
    }
    return doc;
}

/* iam_call with the pairs written out: IAM_CALL(a, "GetGroup", "GroupName", name). */
#define IAM_CALL(a, action, ...) iam_call((a), (action), (const char *const[]){__VA_ARGS__, NULL})

/* The IAM commands: 0/1 as call() when the words name one, -1 when they do not. */
static int iam_command(const args_t *a)
{
    const char *const *w = (const char *const *)a->words;
    int n = a->nwords, user_kind = n >= 3 && strcmp(w[0], "policy") == 0 && strcmp(w[2], "user") == 0;
    const char *owner_param = user_kind ? "UserName" : "GroupName";

    if (n == 4 && strcmp(w[0], "user") == 0 && (strcmp(w[1], "enable-key") == 0 || strcmp(w[1], "disable-key") == 0))
        return IAM_CALL(a, "UpdateAccessKey", "UserName", w[2], "AccessKeyId", w[3], "Status",
                        strcmp(w[1], "enable-key") == 0 ? "Active" : "Inactive");
    if (n == 3 && strcmp(w[0], "group") == 0 && strcmp(w[1], "add") == 0)
        return IAM_CALL(a, "CreateGroup", "GroupName", w[2]);
    if (n == 3 && strcmp(w[0], "group") == 0 && strcmp(w[1], "remove") == 0)
        return IAM_CALL(a, "DeleteGroup", "GroupName", w[2]);
    if (n == 3 && strcmp(w[0], "group") == 0 && strcmp(w[1], "show") == 0)
        return IAM_CALL(a, "GetGroup", "GroupName", w[2]);
    if (n == 2 && strcmp(w[0], "group") == 0 && strcmp(w[1], "list") == 0)
        return iam_call(a, "ListGroups", (const char *const[]){NULL});
    if (n == 5 && strcmp(w[0], "group") == 0 && strcmp(w[1], "member") == 0 &&
        (strcmp(w[2], "add") == 0 || strcmp(w[2], "remove") == 0))
        return IAM_CALL(a, strcmp(w[2], "add") == 0 ? "AddUserToGroup" : "RemoveUserFromGroup", "GroupName", w[3],
                        "UserName", w[4]);
    if (n < 4 || strcmp(w[0], "policy") != 0 || !(user_kind || strcmp(w[2], "group") == 0))
        return -1;
    if (n == 6 && strcmp(w[1], "put") == 0) {
        char *doc = read_policy(w[5]);
        if (doc == NULL)
            return 1;
        int ret = IAM_CALL(a, user_kind ? "PutUserPolicy" : "PutGroupPolicy", owner_param, w[3], "PolicyName", w[4],
                           "PolicyDocument", doc);
        free(doc);
        return ret;
    }
    if (n == 5 && strcmp(w[1], "get") == 0)
        return IAM_CALL(a, user_kind ? "GetUserPolicy" : "GetGroupPolicy", owner_param, w[3], "PolicyName", w[4]);
    if (n == 5 && strcmp(w[1], "remove") == 0)
        return IAM_CALL(a, user_kind ? "DeleteUserPolicy" : "DeleteGroupPolicy", owner_param, w[3], "PolicyName", w[4]);
    if (n == 4 && strcmp(w[1], "list") == 0)
        return IAM_CALL(a, user_kind ? "ListUserPolicies" : "ListGroupPolicies", owner_param, w[3]);
    return -1;
}

/* ---------------------------------------------------------------- buckets, quotas, drives, config */

/* The JSON answer of one admin call, or NULL after saying why on stderr (the S3 error's code and
 * message when the gateway sent one). */
static json_t *admin_json(const args_t *a, const char *method, const char *path, const char *body)
{
    size_t cap = 16 << 20;
    char *text = malloc(cap);
    json_t *doc = NULL;
    json_error_t jerr;

    if (text == NULL)
        return NULL;
    text[0] = '\0';
    last_status = 0;
    quiet_status = 1;
    int ret = call_capture(a->endpoint, a->ak, a->sk, method, path, body, text, cap);
    quiet_status = 0;
    if (ret == 0) {
        if ((doc = json_loads(text, 0, &jerr)) == NULL)
            fprintf(stderr, "yc-admin: the answer is not JSON: %s\n", jerr.text);
    } else {
        const char *code = strstr(text, "<Code>"), *msg = strstr(text, "<Message>");
        if (code != NULL)
            fprintf(stderr, "yc-admin: HTTP %d %.*s: %.*s\n", last_status, (int)strcspn(code + 6, "<"), code + 6,
                    msg != NULL ? (int)strcspn(msg + 9, "<") : 0, msg != NULL ? msg + 9 : "");
        else if (last_status != 0)
            fprintf(stderr, "yc-admin: HTTP %d\n", last_status);
    }
    free(text);
    return doc;
}

/* Prints doc as it came (--json) and returns 0; 1 for NULL. */
static int print_json(json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

/* "123", "10K" / "10Ki" / "10KiB" (1024s), "10KB" (1000s), up to T: 0 with *out, -1 when not a size. */
static int parse_size(const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = 1;

    if (end == s || *s == '-' || errno != 0)
        return -1;
    if (*end != '\0') {
        const char *u = strchr(units, end[0] >= 'a' ? end[0] - 32 : end[0]);
        if (u == NULL || end[0] == '\0')
            return -1;
        int decimal = strcmp(end + 1, "B") == 0;
        if (!decimal && strcmp(end + 1, "") != 0 && strcmp(end + 1, "i") != 0 && strcmp(end + 1, "iB") != 0)
            return -1;
        for (long i = 0; i <= u - units; i++)
            mult *= decimal ? 1000 : 1024;
    }
    if (v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

static void human(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)v);
    else
        snprintf(buf, cap, "%.1f %s", d, units[u]);
}

static void print_bucket_line(json_t *b)
{
    char size[32], quota[32] = "-";
    human((uint64_t)jint(b, "bytes"), size, sizeof(size));
    if (jint(b, "quotaBytes") > 0)
        human((uint64_t)jint(b, "quotaBytes"), quota, sizeof(quota));
    printf("%-40s %-16s %-10s %-4s %10lld %12lld  %-10s %s\n", jstr(b, "name"), jstr(b, "owner"), jstr(b, "versioning"),
           json_is_true(json_object_get(b, "objectLock")) ? "on" : "off", jint(b, "objects"), jint(b, "bytes"), size,
           quota);
}

static int buckets_command(const args_t *a)
{
    const char *const *w = (const char *const *)a->words;
    char path[600];
    json_t *doc, *v;
    size_t i;

    if (a->nwords == 3 && strcmp(w[1], "info") == 0) {
        snprintf(path, sizeof(path), "/_admin/v1/buckets/%s", w[2]);
        if ((doc = admin_json(a, "GET", path, NULL)) == NULL || a->json)
            return print_json(doc);
        char size[32], quota[32] = "none";
        human((uint64_t)jint(doc, "bytes"), size, sizeof(size));
        if (jint(doc, "quotaBytes") > 0)
            snprintf(quota, sizeof(quota), "%lld bytes", jint(doc, "quotaBytes"));
        time_t created = (time_t)(jint(doc, "createdNs") / 1000000000);
        char when[32];
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&created));
        printf("bucket:      %s\nowner:       %s\ncreated:     %s\nversioning:  %s\nobject lock: %s\n"
               "objects:     %lld (%lld versions)\nbytes:       %lld (%s)\nquota:       %s\n",
               jstr(doc, "name"), jstr(doc, "owner"), when, jstr(doc, "versioning"),
               json_is_true(json_object_get(doc, "objectLock")) ? "enabled" : "off", jint(doc, "objects"),
               jint(doc, "versions"), jint(doc, "bytes"), size, quota);
        json_decref(doc);
        return 0;
    }
    if (a->nwords == 2 && strcmp(w[1], "list") == 0) {
        if ((doc = admin_json(a, "GET", "/_admin/v1/buckets", NULL)) == NULL || a->json)
            return print_json(doc);
        printf("%-40s %-16s %-10s %-4s %10s %12s  %-10s %s\n", "BUCKET", "OWNER", "VERSIONING", "LOCK", "OBJECTS",
               "BYTES", "SIZE", "QUOTA");
        json_array_foreach(json_object_get(doc, "buckets"), i, v)
        {
            print_bucket_line(v);
        }
        json_decref(doc);
        return 0;
    }
    if (a->nwords == 2 && strcmp(w[1], "usage") == 0) {
        if ((doc = admin_json(a, "GET", "/_admin/v1/usage", NULL)) == NULL || a->json)
            return print_json(doc);
        printf("%-40s %-16s %10s %10s %14s %14s\n", "BUCKET", "OWNER", "OBJECTS", "VERSIONS", "BYTES", "QUOTA");
        json_array_foreach(json_object_get(doc, "buckets"), i, v)
        {
            printf("%-40s %-16s %10lld %10lld %14lld %14lld\n", jstr(v, "name"), jstr(v, "owner"), jint(v, "objects"),
                   jint(v, "versions"), jint(v, "bytes"), jint(v, "quotaBytes"));
        }
        printf("\n%-40s %-16s %10s %10s %14s %14s\n", "USER", "BUCKETS", "OBJECTS", "VERSIONS", "BYTES", "QUOTA");
        json_array_foreach(json_object_get(doc, "users"), i, v)
        {
            printf("%-40s %-16lld %10lld %10lld %14lld %14lld\n", jstr(v, "user"), jint(v, "buckets"),
                   jint(v, "objects"), jint(v, "versions"), jint(v, "bytes"), jint(v, "quotaBytes"));
        }
        json_decref(doc);
        return 0;
    }
    return -1;
}

static int quota_command(const args_t *a)
{
    const char *const *w = (const char *const *)a->words;
    char path[600], body[64];
    uint64_t bytes = 0;
    json_t *doc;

    if (a->nwords < 4 || (strcmp(w[2], "bucket") != 0 && strcmp(w[2], "user") != 0) || strpbrk(w[3], "/?#%& ") != NULL)
        return -1;
    snprintf(path, sizeof(path), "/_admin/v1/quota/%s/%s", w[2], w[3]);
    if (a->nwords == 5 && strcmp(w[1], "set") == 0) {
        if (parse_size(w[4], &bytes) != 0 || bytes == 0 || bytes > (uint64_t)INT64_MAX) {
            fprintf(stderr, "yc-admin: '%s' is not a size above 0 (bytes, or with K, M, G, T: 10G, 512Mi, 1TB)\n",
                    w[4]);
            return 2;
        }
        snprintf(body, sizeof(body), "{\"bytes\":%llu}", (unsigned long long)bytes);
        doc = admin_json(a, "PUT", path, body);
    } else if (a->nwords == 4 && strcmp(w[1], "get") == 0) {
        doc = admin_json(a, "GET", path, NULL);
    } else if (a->nwords == 4 && strcmp(w[1], "clear") == 0) {
        doc = admin_json(a, "DELETE", path, NULL);
    } else {
        return -1;
    }
    if (doc == NULL || a->json)
        return print_json(doc);
    if (jint(doc, "quotaBytes") > 0) {
        char size[32];
        human((uint64_t)jint(doc, "quotaBytes"), size, sizeof(size));
        printf("%s %s: quota %lld bytes (%s)\n", w[2], w[3], jint(doc, "quotaBytes"), size);
    } else {
        printf("%s %s: no quota\n", w[2], w[3]);
    }
    json_decref(doc);
    return 0;
}

/* One line of a heal's progress: objects checked of the total, rate, time left, shard bytes rebuilt. */
static void print_progress(const char *what, json_t *h)
{
    json_t *eta = json_object_get(h, "etaSeconds");
    printf("%s: %lld/%lld objects (%.1f %%), %.1f objects/s, ", what, jint(h, "scanned"), jint(h, "total"),
           json_number_value(json_object_get(h, "percent")), json_number_value(json_object_get(h, "ratePerSecond")));
    if (json_is_integer(eta))
        printf("ETA %lld s", jint(h, "etaSeconds"));
    else
        printf("ETA unknown");
    printf(", repaired %lld, failed %lld, rebuilt %.1f MiB (%.1f MiB/s)\n", jint(h, "repaired"), jint(h, "failed"),
           (double)jint(h, "rebuiltBytes") / 1048576.0,
           json_number_value(json_object_get(h, "rebuiltBytesPerSecond")) / 1048576.0);
    fflush(stdout);
}

static int drive_command(const args_t *a)
{
    const char *const *w = (const char *const *)a->words;
    char body[2048];
    json_t *doc, *v;
    size_t i;

    if (a->nwords == 2 && strcmp(w[1], "list") == 0) {
        if ((doc = admin_json(a, "GET", "/_admin/v1/drives", NULL)) == NULL || a->json)
            return print_json(doc);
        json_array_foreach(json_object_get(doc, "drives"), i, v)
        {
            printf("%-16s %-40s set %lld slot %-3lld %s", jstr(v, "node"), jstr(v, "drive"), jint(v, "set"),
                   jint(v, "slot"), json_is_true(json_object_get(v, "online")) ? "online" : "OFFLINE");
            if (jstr(v, "drained")[0] != '\0')
                printf("  (took the place of %s: %s)", jstr(v, "drained"), jstr(v, "drain"));
            printf("\n");
        }
        json_decref(doc);
        return 0;
    }
    if ((a->nwords != 5 || strcmp(w[1], "drain") != 0) && (a->nwords != 4 || strcmp(w[1], "remove") != 0))
        return -1;
    for (int k = 2; k < a->nwords; k++)
        if (strpbrk(w[k], "\"\\") != NULL || strlen(w[k]) > 512) {
            fprintf(stderr, "yc-admin: '%s' may not hold '\"' or '\\'\n", w[k]);
            return 2;
        }
    if (strcmp(w[1], "remove") == 0) {
        snprintf(body, sizeof(body), "{\"node\":\"%s\",\"drive\":\"%s\"}", w[2], w[3]);
        if ((doc = admin_json(a, "POST", "/_admin/v1/drives/remove", body)) == NULL || a->json)
            return print_json(doc);
        printf("removed %s %s: the gateway no longer holds it open; before the next restart, name %s in the drive "
               "list in its place\n",
               w[2], w[3], jstr(doc, "place"));
        json_decref(doc);
        return 0;
    }
    char spare[4096];
    if (w[4][0] != '/' && realpath(w[4], spare) == NULL) {
        /* the gateway resolves nothing relative to the caller's folder: send an absolute path */
        if (getcwd(spare, sizeof(spare) - 600) == NULL)
            return 1;
        snprintf(spare + strlen(spare), 600, "/%s", w[4]);
    } else if (w[4][0] == '/') {
        snprintf(spare, sizeof(spare), "%s", w[4]);
    }
    snprintf(body, sizeof(body), "{\"node\":\"%s\",\"drive\":\"%s\",\"spare\":\"%s\"}", w[2], w[3], spare);
    if ((doc = admin_json(a, "POST", "/_admin/v1/drives/drain", body)) == NULL)
        return 1;
    if (a->json) {
        print_json(json_incref(doc));
    } else {
        printf("draining %s into %s (set %lld slot %lld): rebuilding its shards there\n", jstr(doc, "draining"),
               jstr(doc, "spare"), jint(doc, "set"), jint(doc, "slot"));
    }
    json_decref(doc);
    /* follow the drain's heal until it ends, a line a second */
    for (int n = 0; n < 86400 * 7; n++) {
        json_t *st = admin_json(a, "GET", "/_admin/v1/drives", NULL), *h = json_object_get(st, "heal");
        char state[32] = "";
        if (st == NULL)
            return 1;
        json_array_foreach(json_object_get(st, "drives"), i, v)
        {
            if (strcmp(jstr(v, "drive"), spare) == 0)
                snprintf(state, sizeof(state), "%s", jstr(v, "drain"));
        }
        if (a->json) {
            json_t *line = json_pack("{s:s, s:O}", "drain", state, "heal", h);
            char *text = json_dumps(line, JSON_COMPACT);
            printf("%s\n", text != NULL ? text : "{}");
            fflush(stdout);
            free(text);
            json_decref(line);
        } else {
            print_progress("drain", h);
        }
        int done = strcmp(state, "draining") != 0;
        json_decref(st);
        if (done) {
            if (!a->json)
                printf("drain %s: %s\n", state,
                       strcmp(state, "drained") == 0 ? "the data is on the spare; `yc-admin drive remove` forgets the "
                                                       "drained drive"
                                                     : "some objects could not be rebuilt (see the gateway's log); "
                                                       "run `yc-admin heal` and check again");
            return strcmp(state, "drained") == 0 ? 0 : 1;
        }
        sleep(1);
    }
    return 1;
}

static int config_command(const args_t *a)
{
    const char *name;
    json_t *doc, *v;

    if (a->nwords != 2 || strcmp(a->words[1], "show") != 0)
        return -1;
    if ((doc = admin_json(a, "GET", "/_admin/v1/config", NULL)) == NULL || a->json)
        return print_json(doc);
    json_object_foreach(doc, name, v)
    {
        char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        printf("%-20s %s\n", name, text != NULL ? text : "");
        free(text);
    }
    json_decref(doc);
    return 0;
}

/* The daily-work commands: 0/1 as call(), 2 for bad arguments, -1 when the words name none. */
static int daily_command(const args_t *a)
{
    if (a->nwords >= 2 && strcmp(a->words[0], "buckets") == 0)
        return buckets_command(a);
    if (a->nwords >= 2 && strcmp(a->words[0], "quota") == 0)
        return quota_command(a);
    if (a->nwords >= 2 && strcmp(a->words[0], "drive") == 0)
        return drive_command(a);
    if (a->nwords >= 2 && strcmp(a->words[0], "config") == 0)
        return config_command(a);
    return -1;
}

/* ---------------------------------------------------------------- secrets keys */

/* secrets keygen FILE: appends a fresh key (a line of 64 hex digits) and prints its id. */
static int secrets_keygen(const char *path)
{
    char key[66], id[2 * GW_SECRET_KEY_ID_LEN + 1];
    int fd, ok;

    if (gw_secret_key_generate(key) != 0 || gw_secret_key_id_of_hex(key, 64, id) != 0) {
        fprintf(stderr, "yc-admin: no random bytes for a key\n");
        return 1;
    }
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "yc-admin: %s: %s\n", path, strerror(errno));
        return 1;
    }
    key[64] = '\n';
    ok = write(fd, key, 65) == 65 && fsync(fd) == 0;
    close(fd);
    memset(key, 0, sizeof(key));
    if (!ok) {
        fprintf(stderr, "yc-admin: cannot write %s\n", path);
        return 1;
    }
    printf("secrets keygen: key %s appended to %s (now the current key); give every gateway this file, then run "
           "yc-admin secrets rotate\n",
           id, path);
    return 0;
}

/* ---------------------------------------------------------------- audit */

/* audit verify [DIR]: 0 intact, 1 a fault (the first, with its record number), 2 bad invocation. */
static int audit_command(const args_t *a)
{
    const char *dir = a->nwords == 3 ? a->words[2] : "./var/audit";
    uint8_t key[GW_AUDIT_KEY_MAX];
    size_t key_len = 0;
    gw_audit_report_t rep;
    int ret;

    if (a->nwords < 2 || a->nwords > 3 || strcmp(a->words[1], "verify") != 0) {
        fprintf(stderr, "yc-admin: audit takes: verify [DIR]\n");
        return 2;
    }
    if ((ret = gw_audit_key_load(a->audit_key_file, "YC_AUDIT_KEY", key, &key_len)) != 0) {
        fprintf(stderr,
                "yc-admin: no audit key (%s): give --audit-key-file FILE or set YC_AUDIT_KEY (%d to %d bytes)\n",
                strerror(-ret), GW_AUDIT_KEY_MIN, GW_AUDIT_KEY_MAX);
        return 2;
    }
    ret = gw_audit_verify(dir, key, key_len, &rep);
    memset(key, 0, sizeof(key));
    if (ret == -EBADMSG) {
        printf("audit verify: FAILED at record %llu (%s line %llu): %s\n", (unsigned long long)rep.bad_seq,
               rep.bad_file, (unsigned long long)rep.bad_line, rep.message);
        return 1;
    }
    if (ret != 0) {
        fprintf(stderr, "yc-admin: cannot read the audit folder %s: %s\n", dir, strerror(-ret));
        return 1;
    }
    printf("audit verify: ok: %llu files, records %llu to %llu, %llu checkpoints, last at record %llu",
           (unsigned long long)rep.files, (unsigned long long)rep.first_seq, (unsigned long long)rep.last_seq,
           (unsigned long long)rep.checkpoints, (unsigned long long)rep.last_checkpoint);
    if (rep.unsealed > 0)
        printf("; %llu records after it not sealed yet", (unsigned long long)rep.unsealed);
    printf("\n");
    return 0;
}

/* user add --create-buckets: PutUserPolicy of the policy that lets the user make buckets (an IAM
 * call, so that the split's rules hold: only the security administrator writes policies). */
static int attach_create_buckets(const args_t *a, const char *user)
{
    char form[1024], answer[4096] = "";
    int ret;

    snprintf(form, sizeof(form), "Action=PutUserPolicy&Version=2010-05-08");
    if (form_add(form, sizeof(form), "UserName", user) != 0 ||
        form_add(form, sizeof(form), "PolicyName", CREATE_BUCKETS_POLICY) != 0 ||
        form_add(form, sizeof(form), "PolicyDocument", CREATE_BUCKETS_DOC) != 0) {
        fprintf(stderr, "yc-admin: the user name is too long\n");
        return 2;
    }
    signing_service = "iam";
    ret = call_capture(a->endpoint, a->ak, a->sk, "POST", "/", form, answer, sizeof(answer));
    signing_service = "s3";
    if (ret != 0)
        fprintf(stderr, "yc-admin: user %s was added, but its policy %s was not: %s\n", user, CREATE_BUCKETS_POLICY,
                answer);
    return ret;
}

static int is(const args_t *a, int n, const char *w0, const char *w1)
{
    return a->nwords == n && strcmp(a->words[0], w0) == 0 && (w1 == NULL || strcmp(a->words[1], w1) == 0);
}

/* cluster-ca init|issue with its own options: 0, 1 failed (one line why), 2 bad invocation. */
static int cluster_ca_command(int argc, char **argv)
{
    enum { MAX_NAMES = 16 };
    const char *dir = NULL, *node = NULL, *ips[MAX_NAMES], *dns[MAX_NAMES];
    size_t nips = 0, ndns = 0;
    unsigned long days = 0;
    char why[1024];
    int ret;

    if (argc < 2 || (strcmp(argv[1], "init") != 0 && strcmp(argv[1], "issue") != 0)) {
        fprintf(stderr, "yc-admin: cluster-ca init --dir DIR, or cluster-ca issue --dir DIR --node NAME [--ip A] "
                        "[--dns N]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i], *eq = strchr(opt, '='), *value;
        size_t nlen = eq != NULL ? (size_t)(eq - opt) : strlen(opt);
        if (eq != NULL)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "yc-admin: cluster-ca: %s needs a value\n", opt);
            return 2;
        }
#define OPT_IS(s) (nlen == sizeof(s) - 1 && strncmp(opt, s, nlen) == 0)
        if (OPT_IS("--dir")) {
            dir = value;
        } else if (OPT_IS("--node")) {
            node = value;
        } else if (OPT_IS("--ip") && nips < MAX_NAMES) {
            ips[nips++] = value;
        } else if (OPT_IS("--dns") && ndns < MAX_NAMES) {
            dns[ndns++] = value;
        } else if (OPT_IS("--days")) {
            char *end;
            days = strtoul(value, &end, 10);
            if (*end != '\0' || days == 0 || days > 36500) {
                fprintf(stderr, "yc-admin: cluster-ca: --days expects 1 to 36500, not '%s'\n", value);
                return 2;
            }
        } else {
            fprintf(stderr, "yc-admin: cluster-ca: unknown or repeated too often: '%.*s' (yc-admin --help)\n",
                    (int)nlen, opt);
            return 2;
        }
#undef OPT_IS
    }
    if (dir == NULL || (strcmp(argv[1], "issue") == 0 && node == NULL)) {
        fprintf(stderr, "yc-admin: cluster-ca %s needs --dir DIR%s\n", argv[1],
                strcmp(argv[1], "issue") == 0 ? " and --node NAME" : "");
        return 2;
    }
    if (strcmp(argv[1], "init") == 0) {
        if (node != NULL || nips > 0 || ndns > 0 || days != 0) {
            fprintf(stderr, "yc-admin: cluster-ca init takes --dir only\n");
            return 2;
        }
        if ((ret = store_tls_ca_init(dir, why, sizeof(why))) != 0) {
            fprintf(stderr, "yc-admin: cluster-ca init: %s\n", why);
            return 1;
        }
        printf("cluster-ca: CA made: %s/%s (keep it offline) and %s/%s (give it to every node)\n", dir,
               STORE_TLS_CA_KEY, dir, STORE_TLS_CA_CERT);
        return 0;
    }
    store_tls_node_t n = {.name = node, .ips = ips, .nips = nips, .dns = dns, .ndns = ndns, .days = (uint32_t)days};
    if ((ret = store_tls_ca_issue(dir, &n, why, sizeof(why))) != 0) {
        fprintf(stderr, "yc-admin: cluster-ca issue: %s\n", why);
        return ret == -EINVAL ? 2 : 1;
    }
    printf("cluster-ca: %s/%s.key and %s/%s.crt issued for node %s\n", dir, node, dir, node, node);
    return 0;
}

static const char *getenv_str(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    args_t a = {0};
    static gw_cli_creds_t creds; /* static: the secret stays off the stack frames of every call */
    char path[512], body[1024], err[600];
    int ret;

    if (argc >= 2 && strcmp(argv[1], "cluster-ca") == 0) /* local files, options of its own */
        return cluster_ca_command(argc - 1, argv + 1);
    if ((ret = parse_args(argc, argv, &a)) != 0) {
        if (ret > 0) {
            print_help(stdout);
            return 0;
        }
        return 2;
    }
    if (a.nwords == 0) {
        fprintf(stderr, "yc-admin: no command (yc-admin --help lists them)\n");
        return 2;
    }
    if (a.create_buckets && !is(&a, 5, "user", "add")) {
        fprintf(stderr, "yc-admin: --create-buckets goes with user add NAME ACCESS_KEY SECRET_KEY\n");
        return 2;
    }
    if (strcmp(a.words[0], "audit") == 0) /* the audit administrator's: no root keys needed */
        return audit_command(&a);
    if (is(&a, 3, "secrets", "keygen")) /* a local file: no gateway, no keys */
        return secrets_keygen(a.words[2]);
    gw_cli_flags_t flags = {a.endpoint, a.region, a.ak, a.sk, a.config};
    if (gw_cli_creds_resolve(&flags, getenv_str, &creds, err, sizeof(err)) != 0) {
        fprintf(stderr, "yc-admin: %s\n", err);
        return 2;
    }
    if (creds.keys_from == NULL) {
        fprintf(stderr, "yc-admin: no root keys: give --access-key and --secret-key, set YC_ROOT_USER and "
                        "YC_ROOT_PASSWORD (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or write them to "
                        "~/.config/yuncang/admin.yaml (make run does)\n");
        return 2;
    }
    if (strncmp(creds.endpoint, "http://", 7) != 0 && strstr(creds.endpoint, "://") != NULL) {
        fprintf(stderr, "yc-admin: endpoint %s: only http:// endpoints are supported\n", creds.endpoint);
        return 2;
    }
    a.endpoint = creds.endpoint;
    a.ak = creds.access_key;
    a.sk = creds.secret_key;
    signing_region = creds.region;
    if (is(&a, 1, "status", NULL))
        return status(a.endpoint, a.ak, a.sk, a.json);
    if (is(&a, 1, "info", NULL))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/info", NULL);
    if (is(&a, 1, "metadata", NULL))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/metadata", NULL);
    if (is(&a, 2, "heal", "status"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/heal", NULL);
    if (is(&a, 1, "heal", NULL))
        return heal(a.endpoint, a.ak, a.sk, a.rate, a.json);
    if (is(&a, 2, "user", "list"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/users", NULL);
    if (is(&a, 5, "user", "add")) {
        snprintf(path, sizeof(path), "/_admin/v1/users/%s", a.words[3]);
        /* names and keys are limited to [A-Za-z0-9-_.@+=] by the server; a secret needs no JSON
         * escaping unless it holds a quote or a backslash, which we refuse here */
        if (strpbrk(a.words[4], "\"\\") != NULL) {
            fprintf(stderr, "yc-admin: a secret key may not contain '\"' or '\\'\n");
            return 2;
        }
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"secretKey\":\"%s\"}", a.words[2], a.words[4]);
        if ((ret = call(a.endpoint, a.ak, a.sk, "PUT", path, body)) != 0 || !a.create_buckets)
            return ret;
        return attach_create_buckets(&a, a.words[2]);
    }
    if (is(&a, 3, "user", "remove")) {
        snprintf(path, sizeof(path), "/_admin/v1/users/%s", a.words[2]);
        return call(a.endpoint, a.ak, a.sk, "DELETE", path, NULL);
    }
    if (is(&a, 2, "roles", "init"))
        return call(a.endpoint, a.ak, a.sk, "POST", "/_admin/v1/roles/init", NULL);
    if (is(&a, 2, "roles", "show"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/roles", NULL);
    if (is(&a, 2, "key", "lockouts"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/lockouts", NULL);
    if (is(&a, 3, "key", "unlock")) {
        snprintf(path, sizeof(path), "/_admin/v1/lockouts/%s", a.words[2]);
        return call(a.endpoint, a.ak, a.sk, "DELETE", path, NULL);
    }
    if (a.nwords >= 3 && strcmp(a.words[0], "kms") == 0 && strcmp(a.words[1], "key") == 0) {
        if (a.nwords == 3 && strcmp(a.words[2], "list") == 0)
            return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/kms/keys", NULL);
        if (a.nwords == 4 && (strcmp(a.words[2], "add") == 0 || strcmp(a.words[2], "rotate") == 0)) {
            int add = strcmp(a.words[2], "add") == 0;
            snprintf(path, sizeof(path), "/_admin/v1/kms/keys/%s%s", a.words[3], add ? "" : "/rotate");
            return call(a.endpoint, a.ak, a.sk, add ? "PUT" : "POST", path, NULL);
        }
    }
    if (is(&a, 2, "secrets", "status"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/keys/secrets", NULL);
    if (is(&a, 2, "secrets", "rotate"))
        return call(a.endpoint, a.ak, a.sk, "POST", "/_admin/v1/keys/secrets/rotate", NULL);
    if ((ret = iam_command(&a)) >= 0)
        return ret;
    if ((ret = daily_command(&a)) >= 0)
        return ret;
    fprintf(stderr, "yc-admin: unknown command '%s'%s (yc-admin --help lists the commands)\n", a.words[0],
            a.nwords > 1 ? " or wrong arguments" : "");
    return 2;
}
