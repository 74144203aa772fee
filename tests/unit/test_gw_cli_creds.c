/* Unit tests for gw_cli_creds.c: yc-admin's sources of endpoint, region and keys, and their order. */
#include "gateway/gw_cli_creds.h"
#include "unit.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The environment a test pretends to run in: NAME=VALUE strings, NULL-terminated. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; fake_env != NULL && fake_env[i] != NULL; i++)
        if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
            return fake_env[i] + n + 1;
    return NULL;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode);
}

TEST(test_creds_defaults_when_nothing_is_given)
{
    static const char *const env[] = {"HOME=/nonexistent-home", NULL};
    gw_cli_flags_t flags = {0};
    gw_cli_creds_t c;
    char err[256];

    fake_env = env;
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.endpoint, "http://127.0.0.1:9000") == 0);
    CHECK(strcmp(c.region, "us-east-1") == 0);
    CHECK(c.keys_from == NULL && c.config_path[0] == '\0');
}

TEST(test_creds_options_then_yc_then_aws_then_file)
{
    char dir[] = "/tmp/yc-creds-XXXXXX", path[128], yc_config[160];
    gw_cli_creds_t c;
    char err[256];

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/admin.yaml", dir);
    CHECK_EQ_INT(
        write_file(path, "endpoint: http://file:1\nregion: file-region\naccess_key: FILEAK\nsecret_key: filesecret\n",
                   0600),
        0);
    snprintf(yc_config, sizeof(yc_config), "YC_ADMIN_CONFIG=%s", path);
    const char *const all[] = {yc_config,
                               "YC_ROOT_USER=YCAK",
                               "YC_ROOT_PASSWORD=ycsecret",
                               "YC_ENDPOINT=http://yc:2",
                               "AWS_ACCESS_KEY_ID=AWSAK",
                               "AWS_SECRET_ACCESS_KEY=awssecret",
                               "AWS_ENDPOINT_URL=http://aws:3",
                               "AWS_REGION=aws-region",
                               NULL};
    gw_cli_flags_t flags = {.access_key = "OPTAK", .secret_key = "optsecret", .endpoint = "http://opt:4"};

    fake_env = all;
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.access_key, "OPTAK") == 0 && strcmp(c.secret_key, "optsecret") == 0);
    CHECK(strcmp(c.endpoint, "http://opt:4") == 0 && strcmp(c.region, "aws-region") == 0);
    CHECK(strcmp(c.config_path, path) == 0);

    memset(&flags, 0, sizeof(flags));
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.access_key, "YCAK") == 0 && strcmp(c.secret_key, "ycsecret") == 0);
    CHECK(strcmp(c.keys_from, "YC_ROOT_USER") == 0 && strcmp(c.endpoint, "http://yc:2") == 0);

    fake_env = all + 4; /* no YC_*: the AWS variables, and no config variable */
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.access_key, "AWSAK") == 0 && strcmp(c.endpoint, "http://aws:3") == 0);

    const char *const file_only[] = {yc_config, NULL};
    fake_env = file_only;
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.access_key, "FILEAK") == 0 && strcmp(c.secret_key, "filesecret") == 0);
    CHECK(strcmp(c.endpoint, "http://file:1") == 0 && strcmp(c.region, "file-region") == 0);
    unlink(path);
    rmdir(dir);
}

TEST(test_creds_never_mix_a_key_with_another_sources_secret)
{
    static const char *const env[] = {"YC_ROOT_USER=YCAK", "AWS_SECRET_ACCESS_KEY=awssecret", NULL};
    gw_cli_flags_t flags = {0};
    gw_cli_creds_t c;
    char err[256];

    fake_env = env;
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), -1);
    CHECK(strstr(err, "YC_ROOT_USER is set without YC_ROOT_PASSWORD") != NULL);
    gw_cli_flags_t half = {.secret_key = "x"};
    fake_env = NULL;
    CHECK_EQ_INT(gw_cli_creds_resolve(&half, fake_getenv, &c, err, sizeof(err)), -1);
    CHECK(strstr(err, "--secret-key is set without --access-key") != NULL);
}

TEST(test_creds_default_file_under_xdg_config_home_and_its_mode)
{
    char dir[] = "/tmp/yc-creds-XXXXXX", sub[128], path[160], xdg[160];
    gw_cli_flags_t flags = {0};
    gw_cli_creds_t c;
    char err[256];

    CHECK(mkdtemp(dir) != NULL);
    snprintf(sub, sizeof(sub), "%s/yuncang", dir);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/admin.yaml", sub);
    snprintf(xdg, sizeof(xdg), "XDG_CONFIG_HOME=%s", dir);
    const char *const env[] = {xdg, NULL};
    fake_env = env;
    CHECK_EQ_INT(write_file(path, "access_key: A1\nsecret_key: s1\n", 0600), 0);
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.access_key, "A1") == 0 && strcmp(c.config_path, path) == 0);
    /* a secret others can read is refused; without a secret the mode does not matter */
    CHECK_EQ_INT(chmod(path, 0644), 0);
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), -1);
    CHECK(strstr(err, "readable by others") != NULL);
    CHECK_EQ_INT(write_file(path, "endpoint: http://h:9\n", 0644), 0);
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.endpoint, "http://h:9") == 0 && c.keys_from == NULL);
    /* a file named by --config must exist; the default one need not */
    flags.config = "/nonexistent/admin.yaml";
    CHECK_EQ_INT(gw_cli_creds_resolve(&flags, fake_getenv, &c, err, sizeof(err)), -1);
    CHECK(strstr(err, "/nonexistent/admin.yaml") != NULL);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

TEST(test_creds_file_rejects_unknown_names_and_shapes_with_the_line)
{
    gw_cli_creds_t c;
    char err[256];
    static const char *const bad[] = {
        "endpoint: http://x\nsecret: y\n", /* unknown name, line 2 */
        "endpoint:\n  - a\n",              /* a list */
        "endpoint: {a: b}\n",              /* a mapping */
        "- a\n- b\n",                      /* not a mapping at all */
        "endpoint: [unclosed\n",           /* not YAML */
    };
    static const char *const needle[] = {"line 2: unknown name 'secret'", "not lists", "not mappings",
                                         "expected a mapping", "line"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&c, 0, sizeof(c));
        CHECK_EQ_INT(gw_cli_creds_parse_file(bad[i], strlen(bad[i]), &c, err, sizeof(err)), -1);
        CHECK(strstr(err, needle[i]) != NULL);
    }
    char long_value[GW_CLI_VALUE_MAX + 32] = "access_key: ";
    memset(long_value + strlen(long_value), 'a', GW_CLI_VALUE_MAX);
    long_value[sizeof(long_value) - 1] = '\0';
    memset(&c, 0, sizeof(c));
    CHECK_EQ_INT(gw_cli_creds_parse_file(long_value, strlen(long_value), &c, err, sizeof(err)), -1);
    CHECK(strstr(err, "too long") != NULL);
}

int main(void)
{
    RUN(test_creds_defaults_when_nothing_is_given);
    RUN(test_creds_options_then_yc_then_aws_then_file);
    RUN(test_creds_never_mix_a_key_with_another_sources_secret);
    RUN(test_creds_default_file_under_xdg_config_home_and_its_mode);
    RUN(test_creds_file_rejects_unknown_names_and_shapes_with_the_line);
    return unit_done();
}
