/* gw_cli_creds.c — yc-admin's endpoint, region and keys from flags, environment and file. */
#include "gateway/gw_cli_creds.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define FILE_MAX 65536

static int set_value(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

int gw_cli_creds_parse_file(const char *text, size_t len, gw_cli_creds_t *out, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    char name[32] = "";
    int depth = 0, expect_key = 1, done = 0, ret = -1;

    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
                     parser.problem != NULL ? parser.problem : "not YAML");
            goto fail;
        }
        size_t line = ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            if (++depth > 1) {
                snprintf(err, errlen, "line %zu: values are plain strings, not mappings", line);
                goto fail_event;
            }
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SEQUENCE_START_EVENT:
            snprintf(err, errlen, "line %zu: %s", line,
                     depth == 0 ? "expected a mapping of names to values" : "values are plain strings, not lists");
            goto fail_event;
        case YAML_SCALAR_EVENT: {
            const char *v = (const char *)ev.data.scalar.value;
            if (depth != 1) {
                snprintf(err, errlen, "line %zu: expected a mapping of names to values", line);
                goto fail_event;
            }
            if (expect_key) {
                snprintf(name, sizeof(name), "%s", v);
                expect_key = 0;
                break;
            }
            expect_key = 1;
            int r;
            if (strcmp(name, "endpoint") == 0)
                r = set_value(out->endpoint, sizeof(out->endpoint), v);
            else if (strcmp(name, "region") == 0)
                r = set_value(out->region, sizeof(out->region), v);
            else if (strcmp(name, "access_key") == 0)
                r = set_value(out->access_key, sizeof(out->access_key), v);
            else if (strcmp(name, "secret_key") == 0)
                r = set_value(out->secret_key, sizeof(out->secret_key), v);
            else {
                snprintf(err, errlen, "line %zu: unknown name '%s' (endpoint, region, access_key, secret_key)", line,
                         name);
                goto fail_event;
            }
            if (r != 0) {
                snprintf(err, errlen, "line %zu: the value of %s is too long", line, name);
                goto fail_event;
            }
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    ret = 0;
    goto fail;
fail_event:
    yaml_event_delete(&ev);
fail:
    yaml_parser_delete(&parser);
    return ret;
}

/* Reads the file at path into file; a missing default file is no error (*found 0). */
static int read_file(const char *path, int must_exist, gw_cli_creds_t *file, int *found, char *err, size_t errlen)
{
    char *text = NULL, perr[256];
    struct stat st;
    size_t n;
    FILE *f = fopen(path, "r");

    *found = 0;
    if (f == NULL) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || (text = malloc(FILE_MAX + 1)) == NULL) {
        snprintf(err, errlen, "cannot read %s", path);
        fclose(f);
        return -1;
    }
    n = fread(text, 1, FILE_MAX + 1, f);
    fclose(f);
    if (n > FILE_MAX) {
        snprintf(err, errlen, "%s: more than %d bytes", path, FILE_MAX);
        free(text);
        return -1;
    }
    if (gw_cli_creds_parse_file(text, n, file, perr, sizeof(perr)) != 0) {
        snprintf(err, errlen, "%s: %s", path, perr);
        free(text);
        return -1;
    }
    free(text);
    /* a root secret in a file others can read is a leak waiting to happen: refuse, as ssh does */
    if (file->secret_key[0] != '\0' && (st.st_mode & 077) != 0) {
        snprintf(err, errlen, "%s holds a secret key but is readable by others (mode %03o): chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    *found = 1;
    return 0;
}

static const char *nonempty(const char *v)
{
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Takes the keys from one source when it names an access key; -1 when its secret is missing. */
static int take_keys(gw_cli_creds_t *out, const char *ak, const char *sk, const char *ak_name, const char *sk_name,
                     char *err, size_t errlen)
{
    if (out->keys_from != NULL || (ak == NULL && sk == NULL))
        return 0;
    if (ak == NULL || sk == NULL) {
        snprintf(err, errlen, "%s is set without %s", ak != NULL ? ak_name : sk_name, ak != NULL ? sk_name : ak_name);
        return -1;
    }
    if (set_value(out->access_key, sizeof(out->access_key), ak) != 0 ||
        set_value(out->secret_key, sizeof(out->secret_key), sk) != 0) {
        snprintf(err, errlen, "the keys from %s are too long", ak_name);
        return -1;
    }
    out->keys_from = ak_name;
    return 0;
}

static int take(char *dst, size_t cap, const char *v, const char *what, char *err, size_t errlen)
{
    if (dst[0] != '\0' || v == NULL)
        return 0;
    if (set_value(dst, cap, v) != 0) {
        snprintf(err, errlen, "the value of %s is too long", what);
        return -1;
    }
    return 0;
}

int gw_cli_creds_resolve(const gw_cli_flags_t *flags, const char *(*getenv_fn)(const char *name), gw_cli_creds_t *out,
                         char *err, size_t errlen)
{
    gw_cli_creds_t *file = calloc(1, sizeof(*file));
    const char *path = nonempty(flags->config), *home;
    char defpath[GW_CLI_VALUE_MAX];
    int must_exist = 1, found = 0, ret = -1;

    memset(out, 0, sizeof(*out));
    if (file == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (path == NULL)
        path = nonempty(getenv_fn("YC_ADMIN_CONFIG"));
    if (path == NULL) {
        must_exist = 0;
        if ((home = nonempty(getenv_fn("XDG_CONFIG_HOME"))) != NULL)
            snprintf(defpath, sizeof(defpath), "%s/yuncang/admin.yaml", home);
        else if ((home = nonempty(getenv_fn("HOME"))) != NULL)
            snprintf(defpath, sizeof(defpath), "%s/.config/yuncang/admin.yaml", home);
        else
            defpath[0] = '\0';
        path = defpath[0] != '\0' ? defpath : NULL;
    }
    if (path != NULL && read_file(path, must_exist, file, &found, err, errlen) != 0)
        goto done;
    if (found)
        snprintf(out->config_path, sizeof(out->config_path), "%s", path);

    const char *aws_region = nonempty(getenv_fn("AWS_REGION"));
    if (aws_region == NULL)
        aws_region = nonempty(getenv_fn("AWS_DEFAULT_REGION"));
    if (take_keys(out, nonempty(flags->access_key), nonempty(flags->secret_key), "--access-key", "--secret-key", err,
                  errlen) != 0 ||
        take_keys(out, nonempty(getenv_fn("YC_ROOT_USER")), nonempty(getenv_fn("YC_ROOT_PASSWORD")), "YC_ROOT_USER",
                  "YC_ROOT_PASSWORD", err, errlen) != 0 ||
        take_keys(out, nonempty(getenv_fn("AWS_ACCESS_KEY_ID")), nonempty(getenv_fn("AWS_SECRET_ACCESS_KEY")),
                  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", err, errlen) != 0 ||
        take_keys(out, nonempty(file->access_key), nonempty(file->secret_key), "access_key (config file)",
                  "secret_key (config file)", err, errlen) != 0)
        goto done;
    if (take(out->endpoint, sizeof(out->endpoint), nonempty(flags->endpoint), "--endpoint", err, errlen) != 0 ||
        take(out->endpoint, sizeof(out->endpoint), nonempty(getenv_fn("YC_ENDPOINT")), "YC_ENDPOINT", err, errlen) !=
            0 ||
        take(out->endpoint, sizeof(out->endpoint), nonempty(getenv_fn("AWS_ENDPOINT_URL")), "AWS_ENDPOINT_URL", err,
             errlen) != 0 ||
        take(out->endpoint, sizeof(out->endpoint), nonempty(file->endpoint), "endpoint", err, errlen) != 0 ||
        take(out->endpoint, sizeof(out->endpoint), "http://127.0.0.1:9000", "", err, errlen) != 0)
        goto done;
    if (take(out->region, sizeof(out->region), nonempty(flags->region), "--region", err, errlen) != 0 ||
        take(out->region, sizeof(out->region), nonempty(getenv_fn("YC_REGION")), "YC_REGION", err, errlen) != 0 ||
        take(out->region, sizeof(out->region), aws_region, "AWS_REGION", err, errlen) != 0 ||
        take(out->region, sizeof(out->region), nonempty(file->region), "region", err, errlen) != 0 ||
        take(out->region, sizeof(out->region), "us-east-1", "", err, errlen) != 0)
        goto done;
    ret = 0;
done:
    memset(file, 0, sizeof(*file)); /* the secret does not outlive its use */
    free(file);
    return ret;
}
