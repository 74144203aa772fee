/* yc-admin — the admin CLI: signs admin API calls with the root keys and prints the answers.
 *
 *   yc-admin [--endpoint URL] [--access-key AK] [--secret-key SK] [--region R] [--json] COMMAND
 *     status | info | metadata | heal [status] | user add NAME ACCESS_KEY SECRET_KEY | user remove ACCESS_KEY
 *     | user list | user enable-key|disable-key NAME ACCESS_KEY | group add|remove|show NAME | group list
 *     | group member add|remove GROUP USER | policy put user|group NAME POLICY FILE
 *     | policy get|remove user|group NAME POLICY | policy list user|group NAME
 *     | audit verify [DIR]
 *
 * The user, group and policy commands beyond "user add/remove/list" are calls of the gateway's
 * IAM Query API (signed for the service "iam"), whose XML answer is printed as it comes.
 *
 * "audit verify" reads the audit folder itself (no gateway, no root keys): it needs the audit key
 * (--audit-key-file, else $YC_AUDIT_KEY), which the root credentials do not give.
 *
 * Keys default to YC_ROOT_USER / YC_ROOT_PASSWORD, the endpoint to http://127.0.0.1:9000, the
 * region (which the gateway requires in the signature's scope) to YC_REGION or us-east-1.
 * Exit status: 0 done, 1 the call failed (one line says why), 2 bad invocation (one line says
 * which).
 */
#include "gateway/gw_audit.h"
#include "gateway/s3/sigv4.h"
#include <errno.h>
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
            "  heal status                     the progress of the last heal (JSON)\n"
            "  user add NAME ACCESS_KEY SECRET_KEY\n"
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
            "  audit verify [DIR]              checks the audit trail in DIR [default: ./var/audit]: every record's\n"
            "                                  number, SM3 chain and checkpoint MAC; names the first record that was\n"
            "                                  changed, removed, inserted or reordered, or a cut tail\n"
            "\n"
            "options (--name VALUE or --name=VALUE, before or after the command):\n"
            "  --endpoint URL                  the gateway [default: " DEFAULT_ENDPOINT "]\n"
            "  --access-key AK                 root access key [default: $YC_ROOT_USER]\n"
            "  --secret-key SK                 root secret key [default: $YC_ROOT_PASSWORD]\n"
            "  --region R                      the gateway's region, signed into every call [default: $YC_REGION, "
            "else us-east-1]\n"
            "  --audit-key-file FILE           audit verify: the audit key [default: $YC_AUDIT_KEY]\n"
            "  --json                          status: print the JSON document instead of the table [default: off]\n"
            "  --help                          print this help and exit\n"
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
    s3_sigv4_format_time(time(NULL), date);

    h2o_iovec_t names[3] = {{H2O_STRLIT("host")}, {H2O_STRLIT("x-amz-content-sha256")}, {H2O_STRLIT("x-amz-date")}};
    h2o_header_t headers[3] = {{&names[0], NULL, {authority, strlen(authority)}},
                               {&names[1], NULL, {payload_hash, 64}},
                               {&names[2], NULL, {date, 16}}};
    s3_request_t req = {{(char *)method, strlen(method)}, {(char *)path, strlen(path)}, {"", 0}, headers, 3};
    if (s3_sigv4_sign_service(&req, h2o_iovec_init(payload_hash, 64), h2o_iovec_init(ak, strlen(ak)),
                              h2o_iovec_init(sk, strlen(sk)), h2o_iovec_init(signing_region, strlen(signing_region)),
                              h2o_iovec_init(signing_service, strlen(signing_service)), time(NULL), auth, sizeof(auth),
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
    if (status < 200 || status > 299) {
        fprintf(stderr, "yc-admin: HTTP %d\n", status);
        return 1;
    }
    return 0;
}

/* Starts a full heal and follows it until it is done, a progress line a second. */
static int heal(const char *endpoint, const char *ak, const char *sk)
{
    char status[1024];
    if (call_capture(endpoint, ak, sk, "POST", "/_admin/v1/heal", NULL, status, sizeof(status)) != 0)
        return 1;
    for (int i = 0; i < 86400; i++) {
        if (call_capture(endpoint, ak, sk, "GET", "/_admin/v1/heal", NULL, status, sizeof(status)) != 0)
            return 1;
        printf("%s\n", status);
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
    const char *endpoint, *ak, *sk, *region;
    const char *audit_key_file;
    int json;
    const char *words[8];
    int nwords;
} args_t;

/* 0, 1 for --help, -1 after printing the one line that says what is wrong. */
static int parse_args(int argc, char **argv, args_t *a)
{
    static const char *const with_value[] = {"endpoint", "access-key", "secret-key", "region", "audit-key-file"};
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
        else
            a->audit_key_file = value;
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

/* Calls action with the name/value pairs of params (a NULL name ends them); prints the XML answer. */
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
    ret = call(a->endpoint, a->ak, a->sk, "POST", "/", body);
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

static int is(const args_t *a, int n, const char *w0, const char *w1)
{
    return a->nwords == n && strcmp(a->words[0], w0) == 0 && (w1 == NULL || strcmp(a->words[1], w1) == 0);
}

int main(int argc, char **argv)
{
    args_t a = {.endpoint = DEFAULT_ENDPOINT,
                .ak = getenv("YC_ROOT_USER"),
                .sk = getenv("YC_ROOT_PASSWORD"),
                .region = getenv("YC_REGION")};
    char path[512], body[1024];
    int ret;

    if ((ret = parse_args(argc, argv, &a)) != 0) {
        if (ret > 0) {
            print_help(stdout);
            return 0;
        }
        return 2;
    }
    if (a.region != NULL && a.region[0] != '\0')
        signing_region = a.region;
    if (a.nwords == 0) {
        fprintf(stderr, "yc-admin: no command (yc-admin --help lists them)\n");
        return 2;
    }
    if (strcmp(a.words[0], "audit") == 0) /* the audit administrator's: no root keys needed */
        return audit_command(&a);
    if (a.ak == NULL || a.sk == NULL) {
        fprintf(stderr, "yc-admin: no root keys: set YC_ROOT_USER and YC_ROOT_PASSWORD, or give --access-key and "
                        "--secret-key\n");
        return 2;
    }
    if (is(&a, 1, "status", NULL))
        return status(a.endpoint, a.ak, a.sk, a.json);
    if (is(&a, 1, "info", NULL))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/info", NULL);
    if (is(&a, 1, "metadata", NULL))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/metadata", NULL);
    if (is(&a, 2, "heal", "status"))
        return call(a.endpoint, a.ak, a.sk, "GET", "/_admin/v1/heal", NULL);
    if (is(&a, 1, "heal", NULL))
        return heal(a.endpoint, a.ak, a.sk);
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
        return call(a.endpoint, a.ak, a.sk, "PUT", path, body);
    }
    if (is(&a, 3, "user", "remove")) {
        snprintf(path, sizeof(path), "/_admin/v1/users/%s", a.words[2]);
        return call(a.endpoint, a.ak, a.sk, "DELETE", path, NULL);
    }
    if ((ret = iam_command(&a)) >= 0)
        return ret;
    fprintf(stderr, "yc-admin: unknown command '%s'%s (yc-admin --help lists the commands)\n", a.words[0],
            a.nwords > 1 ? " or wrong arguments" : "");
    return 2;
}
