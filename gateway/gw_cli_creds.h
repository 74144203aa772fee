/* gw_cli_creds.h — where yc-admin finds its endpoint, region and root keys.
 *
 * Sources, first that sets a value wins (keys come as a pair from one source, never mixed):
 *   1. the command line (--endpoint, --region, --access-key, --secret-key);
 *   2. YC_ENDPOINT, YC_REGION, YC_ROOT_USER / YC_ROOT_PASSWORD;
 *   3. AWS_ENDPOINT_URL, AWS_REGION (else AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID /
 *      AWS_SECRET_ACCESS_KEY;
 *   4. a YAML file (endpoint, region, access_key, secret_key): --config, else $YC_ADMIN_CONFIG,
 *      else $XDG_CONFIG_HOME/yuncang/admin.yaml (~/.config/yuncang/admin.yaml), which `make run`
 *      writes. A file that holds a secret key must not be readable by group or others;
 *   5. defaults: http://127.0.0.1:9000, us-east-1.
 * No I/O beyond reading the file; no printing: errors come back as text.
 */
#ifndef YC_GW_CLI_CREDS_H
#define YC_GW_CLI_CREDS_H
#include <stddef.h>

#define GW_CLI_VALUE_MAX 512

typedef struct {
    char endpoint[GW_CLI_VALUE_MAX], region[64], access_key[GW_CLI_VALUE_MAX], secret_key[GW_CLI_VALUE_MAX];
    const char *keys_from; /* which source the keys came from ("--access-key", "YC_ROOT_USER", ...); NULL: none */
    char config_path[GW_CLI_VALUE_MAX]; /* the file read, "" when none */
} gw_cli_creds_t;

/* The command line's values (each may be NULL). */
typedef struct {
    const char *endpoint, *region, *access_key, *secret_key, *config;
} gw_cli_flags_t;

/* Resolves every value from the sources above; getenv_fn reads the environment (getenv; tests pass
 * their own). 0, or -1 with err saying why (a key without its secret, an unreadable or malformed
 * file, a file with a secret open to others). Missing keys are no error: keys_from stays NULL. */
int gw_cli_creds_resolve(const gw_cli_flags_t *flags, const char *(*getenv_fn)(const char *name), gw_cli_creds_t *out,
                         char *err, size_t errlen);

/* Reads the YAML mapping text[0..len) (endpoint, region, access_key, secret_key; other names are
 * an error) into out (zeroed by the caller). 0, or -1 with err naming the line. */
int gw_cli_creds_parse_file(const char *text, size_t len, gw_cli_creds_t *out, char *err, size_t errlen);

#endif
