/* test_store_identity.c — preparing a folder as a drive and the drive's identity file: fresh,
 * missing parent, foreign, lost+found, drives made before identities, cluster secrets,
 * placement written once, the lock, the text form, a damaged file.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store.h"
#include "tests/unit/unit.h"

#define SECRET     "identity-test-secret"
#define SECRET_LEN (sizeof(SECRET) - 1)

static char root[] = "/tmp/yc-identity-XXXXXX";
static int seq;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* A new path under the test's folder (not made). */
static void fresh_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/d%d", root, ++seq);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (int)n;
}

static uint8_t cluster_a[STORE_ID_LEN], cluster_b[STORE_ID_LEN];

TEST(test_identity_open_prepares_a_missing_folder)
{
    char dir[256], path[300], text[1024], why[256];
    store_identity_t *id;
    store_identity_info_t info, again;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_get(id, &info);
    CHECK(info.has_drive_id && info.has_verifier && !info.placed);
    CHECK_EQ_INT(info.format, STORE_IDENTITY_FORMAT);
    store_identity_close(id);
    snprintf(path, sizeof(path), "%s/identity", dir);
    CHECK(read_file(path, text, sizeof(text)) > 0);
    static const char head[] = "yuncang drive identity\nformat: 1\ndrive_id: ";
    CHECK(strncmp(text, head, sizeof(head) - 1) == 0);
    /* the same drive next time */
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_get(id, &again);
    store_identity_close(id);
    CHECK(memcmp(info.drive_id, again.drive_id, STORE_ID_LEN) == 0);
}

TEST(test_identity_open_refuses_a_folder_whose_parent_is_missing)
{
    char dir[256], why[256];
    store_identity_t *id = NULL;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/no-such-parent/a", root);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), STORE_EIO);
    CHECK(id == NULL);
    CHECK(strstr(why, "No such file or directory") != NULL);
    CHECK(strstr(why, "parent") != NULL);
    snprintf(dir, sizeof(dir), "%s/no-such-parent", root);
    CHECK(stat(dir, &st) != 0); /* nothing made on the way */
}

TEST(test_identity_open_refuses_a_file_in_place_of_the_folder)
{
    char dir[256], why[256];
    store_identity_t *id = NULL;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(write_file(dir, "not a folder"), 0);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), STORE_EIO);
    CHECK(strstr(why, "Not a directory") != NULL);
}

TEST(test_identity_open_refuses_a_foreign_folder)
{
    char dir[256], path[300], why[256];
    store_identity_t *id = NULL;
    struct stat st;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/holiday.jpg", dir);
    CHECK_EQ_INT(write_file(path, "someone's photo"), 0);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), STORE_EFOREIGN);
    CHECK(strstr(why, "holiday.jpg") != NULL);
    snprintf(path, sizeof(path), "%s/identity", dir);
    CHECK(stat(path, &st) != 0); /* left as it was */
}

TEST(test_identity_open_takes_a_fresh_file_system_with_lost_and_found)
{
    char dir[256], path[300], why[256];
    store_identity_t *id = NULL;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/lost+found", dir);
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_close(id);
}

TEST(test_identity_open_adopts_a_drive_made_before_identities)
{
    char dir[256], path[300], why[256];
    store_drive_t *d;
    store_identity_t *id = NULL;
    store_identity_info_t info;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    store_drive_close(d);
    snprintf(path, sizeof(path), "%s/identity", dir);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_get(id, &info);
    store_identity_close(id);
    CHECK(info.has_drive_id && info.has_verifier);
    CHECK(access(path, F_OK) == 0);
}

TEST(test_identity_open_refuses_another_cluster_secret)
{
    char dir[256], why[256];
    store_identity_t *id = NULL;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_close(id);
    id = NULL;
    CHECK_EQ_INT(store_identity_open(dir, "another-secret", 14, &id, why, sizeof(why)), STORE_ESECRET);
    CHECK(strstr(why, "wrong cluster secret") != NULL);
    CHECK_EQ_INT(store_identity_open(dir, NULL, 0, &id, why, sizeof(why)), STORE_ESECRET);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_close(id);
}

TEST(test_identity_open_adds_a_verifier_once_a_secret_is_given)
{
    char dir[256], why[256];
    store_identity_t *id = NULL;
    store_identity_info_t info;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_identity_open(dir, NULL, 0, &id, why, sizeof(why)), 0);
    store_identity_get(id, &info);
    store_identity_close(id);
    CHECK(!info.has_verifier);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_close(id);
    CHECK_EQ_INT(store_identity_open(dir, "another-secret", 14, &id, why, sizeof(why)), STORE_ESECRET);
}

TEST(test_identity_place_is_written_once)
{
    char dir[256], why[256];
    store_identity_t *id = NULL;
    store_identity_info_t info;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    CHECK_EQ_INT(store_identity_place(id, cluster_a, 1, 3, &info), 0);
    CHECK(info.placed && info.set == 1 && info.slot == 3);
    CHECK_EQ_INT(store_identity_place(id, cluster_a, 1, 3, NULL), 0); /* the same place again */
    CHECK_EQ_INT(store_identity_place(id, cluster_a, 1, 4, &info), STORE_EIDENTITY);
    CHECK(info.set == 1 && info.slot == 3);
    CHECK_EQ_INT(store_identity_place(id, cluster_b, 1, 3, &info), STORE_EIDENTITY);
    store_identity_close(id);
    /* and it stays after a reopen */
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    store_identity_get(id, &info);
    CHECK(info.placed && info.set == 1 && info.slot == 3 && memcmp(info.cluster_id, cluster_a, STORE_ID_LEN) == 0);
    CHECK_EQ_INT(store_identity_place(id, cluster_a, 0, 3, NULL), STORE_EIDENTITY);
    store_identity_close(id);
}

TEST(test_identity_open_refuses_a_drive_held_by_another_opener)
{
    char dir[256], why[256];
    store_identity_t *id = NULL, *second = NULL;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), 0);
    int ret = store_identity_open(dir, SECRET, SECRET_LEN, &second, why, sizeof(why));
    store_identity_close(id);
    CHECK_EQ_INT(ret, STORE_EINUSE);
    CHECK(strstr(why, "in use") != NULL);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &second, why, sizeof(why)), 0);
    store_identity_close(second);
}

TEST(test_identity_open_leaves_a_damaged_file_alone)
{
    char dir[256], path[300], text[256], why[256];
    store_identity_t *id = NULL;

    fresh_path(dir, sizeof(dir));
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/identity", dir);
    CHECK_EQ_INT(write_file(path, "yuncang drive identity\nformat: 1\ndrive_id: zz\n"), 0);
    CHECK_EQ_INT(store_identity_open(dir, SECRET, SECRET_LEN, &id, why, sizeof(why)), STORE_ECORRUPT);
    CHECK(strstr(why, "damaged") != NULL);
    CHECK(read_file(path, text, sizeof(text)) > 0);
    CHECK(strcmp(text, "yuncang drive identity\nformat: 1\ndrive_id: zz\n") == 0);
}

TEST(test_identity_text_round_trips_and_refuses_garbage)
{
    store_identity_info_t in = {.format = 1, .has_drive_id = 1, .has_verifier = 1, .placed = 1, .set = 7, .slot = 15};
    store_identity_info_t out;
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;

    memset(in.drive_id, 0xab, sizeof(in.drive_id));
    memset(in.verifier, 0x5c, sizeof(in.verifier));
    memcpy(in.cluster_id, cluster_a, STORE_ID_LEN);
    CHECK_EQ_INT(store_identity_encode(&in, text, sizeof(text), &len), 0);
    CHECK_EQ_INT(store_identity_decode(text, len, &out), 0);
    CHECK(out.has_drive_id && out.has_verifier && out.placed && out.set == 7 && out.slot == 15);
    CHECK(memcmp(out.drive_id, in.drive_id, STORE_ID_LEN) == 0 && memcmp(out.verifier, in.verifier, 32) == 0);
    CHECK(memcmp(out.cluster_id, in.cluster_id, STORE_ID_LEN) == 0);
    /* torn: the last line without its end */
    CHECK_EQ_INT(store_identity_decode(text, len - 1, &out), STORE_ECORRUPT);
    /* not an identity at all */
    CHECK_EQ_INT(store_identity_decode("hello\n", 6, &out), STORE_ECORRUPT);
    /* a placement is all three fields or none */
    static const char partial[] = "yuncang drive identity\nformat: 1\nset: 1\n";
    CHECK_EQ_INT(store_identity_decode(partial, sizeof(partial) - 1, &out), STORE_ECORRUPT);
    /* a field of a later format is passed over */
    static const char later[] = "yuncang drive identity\nformat: 1\ncolour: blue\n";
    CHECK_EQ_INT(store_identity_decode(later, sizeof(later) - 1, &out), 0);
    /* too small a buffer is an error, not a cut identity */
    CHECK_EQ_INT(store_identity_encode(&in, text, 40, &len), STORE_EINVAL);
}

TEST(test_identity_cluster_id_depends_on_secret_and_layout)
{
    uint8_t a[STORE_ID_LEN], b[STORE_ID_LEN];

    store_identity_cluster_id(SECRET, SECRET_LEN, 4, 2, 6, a);
    store_identity_cluster_id(SECRET, SECRET_LEN, 4, 2, 6, b);
    CHECK(memcmp(a, b, STORE_ID_LEN) == 0);
    store_identity_cluster_id("other", 5, 4, 2, 6, b);
    CHECK(memcmp(a, b, STORE_ID_LEN) != 0);
    store_identity_cluster_id(SECRET, SECRET_LEN, 4, 2, 12, b);
    CHECK(memcmp(a, b, STORE_ID_LEN) != 0);
    store_identity_cluster_id(SECRET, SECRET_LEN, 6, 2, 6, b);
    CHECK(memcmp(a, b, STORE_ID_LEN) != 0);
    store_identity_cluster_id(NULL, 0, 4, 2, 6, b);
    CHECK(memcmp(a, b, STORE_ID_LEN) != 0);
}

int main(void)
{
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    store_identity_cluster_id(SECRET, SECRET_LEN, 4, 2, 6, cluster_a);
    store_identity_cluster_id(SECRET, SECRET_LEN, 6, 2, 16, cluster_b);
    RUN(test_identity_open_prepares_a_missing_folder);
    RUN(test_identity_open_refuses_a_folder_whose_parent_is_missing);
    RUN(test_identity_open_refuses_a_file_in_place_of_the_folder);
    RUN(test_identity_open_refuses_a_foreign_folder);
    RUN(test_identity_open_takes_a_fresh_file_system_with_lost_and_found);
    RUN(test_identity_open_adopts_a_drive_made_before_identities);
    RUN(test_identity_open_refuses_another_cluster_secret);
    RUN(test_identity_open_adds_a_verifier_once_a_secret_is_given);
    RUN(test_identity_place_is_written_once);
    RUN(test_identity_open_refuses_a_drive_held_by_another_opener);
    RUN(test_identity_open_leaves_a_damaged_file_alone);
    RUN(test_identity_text_round_trips_and_refuses_garbage);
    RUN(test_identity_cluster_id_depends_on_secret_and_layout);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done();
}
