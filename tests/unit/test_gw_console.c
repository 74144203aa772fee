/* test_gw_console — the console's files as built into the binary, and which one a path names:
 * the folder is index.html, the bare prefix redirects, names outside the table (or climbing out
 * of it) are not found, an If-None-Match naming the ETag is answered 304. */
#include "gateway/gw_console.h"
#include "tests/unit/unit.h"
#include <string.h>

static h2o_iovec_t s(const char *v)
{
    return h2o_iovec_init(v, strlen(v));
}

static const h2o_iovec_t none = {NULL, 0};

TEST(test_paths_of_the_console_when_prefixed)
{
    CHECK(gw_console_is_path(s("/_console")));
    CHECK(gw_console_is_path(s("/_console/")));
    CHECK(gw_console_is_path(s("/_console/app.js")));
    CHECK(!gw_console_is_path(s("/_consolex")));
    CHECK(!gw_console_is_path(s("/_consol")));
    CHECK(!gw_console_is_path(s("/bucket/_console/")));
    CHECK(!gw_console_is_path(s("")));
}

TEST(test_folder_is_index_when_resolved)
{
    const gw_console_file_t *f, *g;
    CHECK_EQ_INT(gw_console_resolve(s("/_console/"), none, &f), 200);
    CHECK(f != NULL && strcmp(f->name, "index.html") == 0);
    CHECK(strcmp(f->content_type, "text/html; charset=utf-8") == 0);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/index.html"), none, &g), 200);
    CHECK(f == g && f->len > 0 && f->etag[0] == '"');
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), none, &f), 200);
    CHECK(strcmp(f->content_type, "text/javascript; charset=utf-8") == 0);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/console.css"), none, &f), 200);
    CHECK(strcmp(f->content_type, "text/css; charset=utf-8") == 0);
}

TEST(test_unknown_names_are_not_found_when_resolved)
{
    const gw_console_file_t *f = (const gw_console_file_t *)1;
    CHECK_EQ_INT(gw_console_resolve(s("/_console"), none, &f), 301);
    CHECK(f == NULL);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/nothing.js"), none, &f), 404);
    CHECK(f == NULL);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/../app.js"), none, &f), 404);
    CHECK_EQ_INT(gw_console_resolve(s("/_console//app.js"), none, &f), 404);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js/"), none, &f), 404);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/embed.py"), none, &f), 404); /* the tool is not served */
    CHECK_EQ_INT(gw_console_resolve(s("/other"), none, &f), 404);
}

TEST(test_not_modified_when_etag_listed)
{
    const gw_console_file_t *f;
    char list[200];
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), none, &f), 200);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), s(f->etag), &f), 304);
    CHECK(f != NULL);
    snprintf(list, sizeof(list), "\"other\", W/%s", f->etag);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), s(list), &f), 304);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), s("*"), &f), 304);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), s("\"other\""), &f), 200);
    /* a prefix of the ETag is not the ETag */
    snprintf(list, sizeof(list), "%.*s", (int)strlen(f->etag) - 2, f->etag);
    CHECK_EQ_INT(gw_console_resolve(s("/_console/app.js"), s(list), &f), 200);
}

int main(void)
{
    RUN(test_paths_of_the_console_when_prefixed);
    RUN(test_folder_is_index_when_resolved);
    RUN(test_unknown_names_are_not_found_when_resolved);
    RUN(test_not_modified_when_etag_listed);
    return unit_done();
}
