/* test_gw_config — the gateway configuration file. */
#include "gateway/gw_config.h"
#include "tests/unit/unit.h"

static int parse(gw_config_t *cfg, const char *text, char *err)
{
    gw_config_defaults(cfg);
    return gw_config_parse(cfg, text, strlen(text), err, 256);
}

TEST(test_config_defaults_when_file_is_empty)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.ndrives, 6);
    CHECK_EQ_INT(cfg.k, 4);
    CHECK_EQ_INT(cfg.m, 2);
    CHECK_EQ_INT(cfg.listen_port, 9000);
    gw_config_dispose(&cfg);
}

TEST(test_config_reads_every_kind_of_value)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg,
                       "listen: 0.0.0.0:8080\ndata: /srv/yc\ndrives: 12\nec: 8+4\nstripe_size: 2M\ninline_max: 64K\n"
                       "region: cn-north-1\nmax_object_size: 5G\n",
                       err),
                 0);
    CHECK(strcmp(cfg.listen_host, "0.0.0.0") == 0);
    CHECK_EQ_INT(cfg.listen_port, 8080);
    CHECK(strcmp(cfg.data_dir, "/srv/yc") == 0);
    CHECK_EQ_INT(cfg.ndrives, 12);
    CHECK_EQ_INT(cfg.k, 8);
    CHECK_EQ_INT(cfg.m, 4);
    CHECK_EQ_INT(cfg.stripe_size, 2 * 1024 * 1024);
    CHECK_EQ_INT(cfg.inline_max, 64 * 1024);
    CHECK(strcmp(cfg.region, "cn-north-1") == 0);
    CHECK(cfg.max_object_size == 5ULL * 1024 * 1024 * 1024);
    gw_config_dispose(&cfg);
}

TEST(test_config_reads_http_limits_and_domains)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.head_timeout, 10);
    CHECK_EQ_INT(cfg.body_timeout, 30);
    CHECK_EQ_INT(cfg.send_timeout, 30);
    CHECK_EQ_INT(cfg.keepalive_timeout, 60);
    CHECK_EQ_INT(cfg.max_head_bytes, 16 * 1024);
    CHECK_EQ_INT(cfg.max_headers, 100);
    CHECK_EQ_INT(cfg.max_connections, 0); /* from the open-file limit */
    CHECK(cfg.domains == NULL);           /* localhost and the host name, decided at start */
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg,
                       "send_timeout: 120\nbody_timeout: 5\nhead_timeout: 3\nkeepalive_timeout: 7\n"
                       "max_head_bytes: 32K\nmax_headers: 200\nmax_connections: 5000\n"
                       "domains: s3.example.com, localhost\n",
                       err),
                 0);
    CHECK_EQ_INT(cfg.send_timeout, 120);
    CHECK_EQ_INT(cfg.body_timeout, 5);
    CHECK_EQ_INT(cfg.head_timeout, 3);
    CHECK_EQ_INT(cfg.keepalive_timeout, 7);
    CHECK_EQ_INT(cfg.max_head_bytes, 32 * 1024);
    CHECK_EQ_INT(cfg.max_headers, 200);
    CHECK_EQ_INT(cfg.max_connections, 5000);
    CHECK(strcmp(cfg.domains, "s3.example.com, localhost") == 0);
    CHECK_EQ_INT(gw_config_split_drives(cfg.domains, NULL, 0), 2);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "send_timeout: 0\n", err), -1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "max_headers: 1001\n", err), -1);
    gw_config_dispose(&cfg);
    /* the settings of the h2o front end are gone: naming one is an error, not silently ignored */
    CHECK_EQ_INT(parse(&cfg, "body_spill_bytes: 8M\n", err), -1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "progress_timeout: 30\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_domains_as_a_yaml_list)
{
    gw_config_t cfg;
    char err[256] = "";
    CHECK_EQ_INT(parse(&cfg, "domains: [s3.example.gov, localhost]\nregion: cn-north-1\n", err), 0);
    CHECK(strcmp(cfg.domains, "s3.example.gov,localhost") == 0);
    CHECK(strcmp(cfg.region, "cn-north-1") == 0); /* the mapping goes on after the list */
    CHECK_EQ_INT(gw_config_split_drives(cfg.domains, NULL, 0), 2);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "domains:\n  - a.example\n  - b.example\n", err), 0);
    CHECK(strcmp(cfg.domains, "a.example,b.example") == 0);
    gw_config_dispose(&cfg);
    /* a list in the list, or a mapping in it, is not a domain */
    CHECK_EQ_INT(parse(&cfg, "domains: [[a]]\n", err), -1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "domains: [{a: b}]\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_access_log_takes_stderr_off_or_a_file)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK(strcmp(cfg.access_log, "stderr") == 0);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "access_log: off\n", err), 0);
    CHECK(strcmp(cfg.access_log, "off") == 0);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "access_log: /var/log/yuncang/access.log\n", err), 0);
    CHECK(strcmp(cfg.access_log, "/var/log/yuncang/access.log") == 0);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "access_log: ''\n", err), -1);
    CHECK(strstr(err, "access_log") != NULL);
    gw_config_dispose(&cfg);
}

TEST(test_config_status_listen_and_tls)
{
    gw_config_t cfg;
    char err[256], host[64];
    uint16_t port;
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK(cfg.status_listen == NULL && cfg.tls_cert == NULL && cfg.tls_key == NULL && cfg.http2 == 1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg,
                       "status_listen: 127.0.0.1:9100\ntls_cert: /etc/c.pem\ntls_key: /etc/k.pem\nhttp2: 0\n"
                       "root_user: admin\nroot_password: password1\n",
                       err),
                 0);
    CHECK(strcmp(cfg.status_listen, "127.0.0.1:9100") == 0 && strcmp(cfg.tls_cert, "/etc/c.pem") == 0);
    CHECK(strcmp(cfg.tls_key, "/etc/k.pem") == 0 && cfg.http2 == 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_config_split_hostport(cfg.status_listen, host, sizeof(host), &port), 0);
    CHECK(strcmp(host, "127.0.0.1") == 0 && port == 9100);
    gw_config_dispose(&cfg);
    /* a certificate without its key, a status address without a port: refused at start */
    CHECK_EQ_INT(parse(&cfg, "tls_cert: /etc/c.pem\nroot_user: admin\nroot_password: password1\n", err), 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "tls_key") != NULL);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "status_listen: 9100\nroot_user: admin\nroot_password: password1\n", err), 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "status_listen") != NULL);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(gw_config_split_hostport("h:0", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(gw_config_split_hostport("h:", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(gw_config_split_hostport("h:70000", host, sizeof(host), &port), -1);
    CHECK_EQ_INT(parse(&cfg, "http2: 2\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_drive_reserve_takes_auto_or_a_size)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.drive_reserve, 0); /* automatic */
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "drive_reserve: 8M\n", err), 0);
    CHECK_EQ_INT(cfg.drive_reserve, 8 * 1024 * 1024);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "drive_reserve: 2G\ndrive_reserve: auto\n", err), 0);
    CHECK_EQ_INT(cfg.drive_reserve, 0);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "drive_reserve: lots\n", err), -1);
    CHECK(strstr(err, "drive_reserve") != NULL);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "drive_reserve: -1\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_new_bucket_acls_default_and_bounds)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.new_bucket_acls, 0); /* S3's defaults of today unless asked */
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "new_bucket_acls: 1\n", err), 0);
    CHECK_EQ_INT(cfg.new_bucket_acls, 1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "new_bucket_acls: 2\n", err), -1);
    CHECK(strstr(err, "new_bucket_acls") != NULL);
    gw_config_dispose(&cfg);
}

TEST(test_config_lifecycle_settings_default_and_bounds)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.lifecycle_day_seconds, 86400);
    CHECK_EQ_INT(cfg.lifecycle_interval, 3600);
    CHECK_EQ_INT(cfg.lifecycle_lease, 60);
    CHECK_EQ_INT(cfg.lifecycle_rate, 100);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "lifecycle_day_seconds: 2\nlifecycle_interval: 1\nlifecycle_rate: 0\n", err), 0);
    CHECK_EQ_INT(cfg.lifecycle_day_seconds, 2);
    CHECK_EQ_INT(cfg.lifecycle_interval, 1);
    CHECK_EQ_INT(cfg.lifecycle_rate, 0);
    gw_config_dispose(&cfg);
    /* a day longer than a day, or none, is a typo */
    CHECK_EQ_INT(parse(&cfg, "lifecycle_day_seconds: 86401\n", err), -1);
    CHECK(strstr(err, "lifecycle_day_seconds") != NULL);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "lifecycle_day_seconds: 0\n", err), -1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "lifecycle_lease: 1\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_lockout_settings_default_and_bounds)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.lockout_failures, 10);
    CHECK_EQ_INT(cfg.lockout_window, 60);
    CHECK_EQ_INT(cfg.lockout_seconds, 300);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "lockout_failures: 0\nlockout_window: 1\nlockout_seconds: 2\n", err), 0);
    CHECK_EQ_INT(cfg.lockout_failures, 0);
    CHECK_EQ_INT(cfg.lockout_window, 1);
    CHECK_EQ_INT(cfg.lockout_seconds, 2);
    gw_config_dispose(&cfg);
    /* a lock of no time, or a window of none, is a typo */
    CHECK_EQ_INT(parse(&cfg, "lockout_seconds: 0\n", err), -1);
    CHECK(strstr(err, "lockout_seconds") != NULL);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "lockout_window: 0\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_reads_admission_settings)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(cfg.max_inflight, 4096);
    CHECK_EQ_INT(cfg.max_inflight_per_key, 1024);
    CHECK_EQ_INT(cfg.queue_max, 4096);
    CHECK_EQ_INT(cfg.queue_deadline_ms, 100);
    CHECK_EQ_INT(parse(&cfg, "max_inflight: 64\nmax_inflight_per_key: 8\nqueue_max: 0\nqueue_deadline_ms: 250\n", err),
                 0);
    CHECK_EQ_INT(cfg.max_inflight, 64);
    CHECK_EQ_INT(cfg.max_inflight_per_key, 8);
    CHECK_EQ_INT(cfg.queue_max, 0);
    CHECK_EQ_INT(cfg.queue_deadline_ms, 250);
    CHECK_EQ_INT(parse(&cfg, "queue_deadline_ms: 0\n", err), -1);
    CHECK_EQ_INT(parse(&cfg, "max_inflight_per_key: 0\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_rejects_unknown_setting_with_its_line)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "drives: 6\nstripe: 1M\n", err), -1);
    CHECK(strstr(err, "line 2") != NULL && strstr(err, "stripe") != NULL);
    gw_config_dispose(&cfg);
}

TEST(test_config_rejects_bad_values)
{
    static const char *const bad[] = {
        "ec: 4+0\n",        "ec: 15+2\n",        "ec: x\n",           "drives: -1\n",      "drives: 0\n",
        "loops: 1000000\n", "listen: nowhere\n", "stripe_size: 1T\n", "inline_max: 12Q\n", "region: \"\"\n",
        "- a\n- b\n",       "a: {b: c}\n",       "x: &a 1\ny: *a\n",  "drives: [1]\n",     "data: \"unterminated\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_config_t cfg;
        char err[256] = "";
        int ret = parse(&cfg, bad[i], err);
        gw_config_dispose(&cfg);
        if (ret == 0)
            fprintf(stderr, "  accepted: %s", bad[i]);
        CHECK_EQ_INT(ret, -1);
        CHECK(err[0] != '\0');
    }
}

TEST(test_config_check_rejects_drives_not_forming_sets)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "drives: 7\nroot_user: admin\nroot_password: 12345678\n", err), 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "drives: 12\nroot_user: admin\nroot_password: 12345678\n", err), 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
    gw_config_dispose(&cfg);
}

TEST(test_config_check_requires_credentials)
{
    gw_config_t cfg;
    char err[256];
    CHECK_EQ_INT(parse(&cfg, "", err), 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "YC_ROOT_USER") != NULL);
    gw_config_dispose(&cfg);
}

TEST(test_config_example_file_parses)
{
    gw_config_t cfg;
    char err[256];
    gw_config_defaults(&cfg);
    CHECK_EQ_INT(gw_config_load(&cfg, "conf/yuncang.yaml", err, sizeof(err)), 0);
    CHECK_EQ_INT(cfg.ndrives, 6);
    gw_config_dispose(&cfg);
}

TEST(test_config_examples_for_remote_drives_parse_and_check)
{
    static const char *const files[] = {"conf/one-host-3-stores.yaml", "conf/multi-node.yaml"};
    static const size_t drives[] = {6, 16};
    for (size_t i = 0; i < 2; i++) {
        gw_config_t cfg;
        char err[256];
        gw_config_defaults(&cfg);
        CHECK_EQ_INT(gw_config_load(&cfg, files[i], err, sizeof(err)), 0);
        CHECK_EQ_INT(gw_config_split_drives(cfg.drives_list, NULL, 0), drives[i]);
        cfg.root_user = "admin";
        cfg.root_password = "12345678";
        CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1); /* no cluster secret yet */
        cfg.cluster_secret = "secret";
        CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
        gw_config_dispose(&cfg);
    }
}

TEST(test_config_share_port_only_with_every_drive_remote)
{
    static const char *const lists[] = {NULL, "/srv/d1 /srv/d2 /srv/d3 /srv/d4 /srv/d5 /srv/d6",
                                        "n1:9200/a n1:9200/b n2:9200/a n2:9200/b n3:9200/a /srv/d6"};
    gw_config_t cfg;
    char err[256];

    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(parse(&cfg, "share_port: 1\n", err), 0);
        cfg.drives_list = lists[i];
        cfg.root_user = "admin";
        cfg.root_password = "12345678";
        cfg.cluster_secret = "secret";
        CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
        CHECK(strstr(err, "share_port needs every drive on a yc-store daemon") != NULL);
        cfg.share_port = 0; /* the same drives serve one process on a port of its own */
        CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
        gw_config_dispose(&cfg);
    }
    CHECK_EQ_INT(parse(&cfg, "share_port: 1\n", err), 0);
    cfg.drives_list = "n1:9200/a,n1:9200/b,n2:9200/a,n2:9200/b,n3:9200/a,n3:9200/b";
    cfg.root_user = "admin";
    cfg.root_password = "12345678";
    cfg.cluster_secret = "secret";
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
    gw_config_dispose(&cfg);
    CHECK_EQ_INT(parse(&cfg, "share_port: 2\n", err), -1);
    gw_config_dispose(&cfg);
}

TEST(test_config_internode_tls_all_three_or_none_and_only_for_remote_drives)
{
    gw_config_t cfg;
    char err[256];

    CHECK_EQ_INT(parse(&cfg,
                       "internode_tls_cert: /etc/g.crt\ninternode_tls_key: /etc/g.key\ninternode_tls_ca: /etc/ca.crt\n"
                       "drives_list: n1:9200/a n1:9200/b n2:9200/a n2:9200/b n3:9200/a n3:9200/b\n"
                       "root_user: admin\nroot_password: password1\ncluster_secret: secret\n",
                       err),
                 0);
    CHECK(strcmp(cfg.internode_tls_cert, "/etc/g.crt") == 0 && strcmp(cfg.internode_tls_key, "/etc/g.key") == 0 &&
          strcmp(cfg.internode_tls_ca, "/etc/ca.crt") == 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), 0);
    cfg.internode_tls_ca = NULL; /* a half-given set stops the start */
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "go together") != NULL);
    gw_config_dispose(&cfg);
    /* drives in this process have no daemon to talk TLS to */
    CHECK_EQ_INT(parse(&cfg,
                       "internode_tls_cert: /etc/g.crt\ninternode_tls_key: /etc/g.key\ninternode_tls_ca: /etc/ca.crt\n"
                       "root_user: admin\nroot_password: password1\n",
                       err),
                 0);
    CHECK_EQ_INT(gw_config_check(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "yc-store daemons") != NULL);
    gw_config_dispose(&cfg);
}

int main(void)
{
    RUN(test_config_defaults_when_file_is_empty);
    RUN(test_config_reads_every_kind_of_value);
    RUN(test_config_reads_http_limits_and_domains);
    RUN(test_config_domains_as_a_yaml_list);
    RUN(test_config_status_listen_and_tls);
    RUN(test_config_drive_reserve_takes_auto_or_a_size);
    RUN(test_config_new_bucket_acls_default_and_bounds);
    RUN(test_config_lifecycle_settings_default_and_bounds);
    RUN(test_config_lockout_settings_default_and_bounds);
    RUN(test_config_reads_admission_settings);
    RUN(test_config_rejects_unknown_setting_with_its_line);
    RUN(test_config_rejects_bad_values);
    RUN(test_config_check_rejects_drives_not_forming_sets);
    RUN(test_config_access_log_takes_stderr_off_or_a_file);
    RUN(test_config_check_requires_credentials);
    RUN(test_config_example_file_parses);
    RUN(test_config_examples_for_remote_drives_parse_and_check);
    RUN(test_config_share_port_only_with_every_drive_remote);
    RUN(test_config_internode_tls_all_three_or_none_and_only_for_remote_drives);
    return unit_done();
}
