/* test_gw_secret.c — sealing access keys' secrets (gateway/gw_secret.h): round trip, binding to
 * the record's name, versioned keys, wrong keys, tampering, and the key sources. */
#include "gateway/gw_secret.h"
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define NAME                                                                                                           \
    "\x49"                                                                                                             \
    "AKALICE0001"
#define SECRET "alice-secret-key-40-characters-long-xyz"

static gw_secret_keys_t *keys(const char *text)
{
    gw_secret_keys_t *k = NULL;
    return gw_secret_keys_parse(text, strlen(text), &k) == 0 ? k : NULL;
}

static int seal(gw_secret_keys_t *k, const char *name, uint8_t *out, size_t *len)
{
    return gw_secret_seal(k, name, strlen(name), SECRET, strlen(SECRET), out, GW_SECRET_SEALED_LEN(strlen(SECRET)),
                          len);
}

TEST(test_secret_round_trip_hides_the_secret)
{
    gw_secret_keys_t *k = keys(KEY_A);
    uint8_t sealed[256];
    char plain[256];
    size_t len = 0, plen = 0;

    CHECK(k != NULL);
    CHECK_EQ_INT(seal(k, NAME, sealed, &len), 0);
    CHECK_EQ_INT(len, GW_SECRET_SEALED_LEN(strlen(SECRET)));
    CHECK(gw_secret_is_sealed(sealed, len));
    CHECK(!gw_secret_is_sealed(SECRET, strlen(SECRET)));
    CHECK(memmem(sealed, len, "alice", 5) == NULL); /* no run of the secret in the sealed form */
    CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), 0);
    CHECK_EQ_INT(plen, strlen(SECRET));
    CHECK(strcmp(plain, SECRET) == 0);
    gw_secret_keys_free(k);
}

TEST(test_secret_two_seals_differ)
{
    gw_secret_keys_t *k = keys(KEY_A);
    uint8_t a[256], b[256];
    size_t la, lb;
    CHECK_EQ_INT(seal(k, NAME, a, &la), 0);
    CHECK_EQ_INT(seal(k, NAME, b, &lb), 0);
    CHECK(la == lb && memcmp(a, b, la) != 0); /* a fresh nonce each time */
    gw_secret_keys_free(k);
}

TEST(test_secret_open_fails_for_another_record)
{
    gw_secret_keys_t *k = keys(KEY_A);
    uint8_t sealed[256];
    char plain[256];
    size_t len, plen;
    CHECK_EQ_INT(seal(k, NAME, sealed, &len), 0);
    CHECK_EQ_INT(gw_secret_open(k, "IAKBOB0001", 10, sealed, len, plain, sizeof(plain), &plen), -EBADMSG);
    CHECK(plain[0] == '\0'); /* wiped */
    gw_secret_keys_free(k);
}

TEST(test_secret_open_fails_when_altered)
{
    gw_secret_keys_t *k = keys(KEY_A);
    uint8_t sealed[256];
    char plain[256];
    size_t len, plen;
    CHECK_EQ_INT(seal(k, NAME, sealed, &len), 0);
    for (size_t i = GW_SECRET_HEAD_LEN - 12; i < len; i += 7) { /* nonce, ciphertext, tag */
        sealed[i] ^= 0x01;
        CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), -EBADMSG);
        sealed[i] ^= 0x01;
    }
    CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, len - 1, plain, sizeof(plain), &plen), -EBADMSG);
    CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, 20, plain, sizeof(plain), &plen), -EINVAL);
    sealed[2] = 9; /* a format this build does not know */
    CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), -EINVAL);
    gw_secret_keys_free(k);
}

TEST(test_secret_wrong_key_is_unknown_not_garbage)
{
    gw_secret_keys_t *a = keys(KEY_A), *b = keys(KEY_B);
    uint8_t sealed[256];
    char plain[256], ida[17], idb[17], sid[17];
    size_t len, plen;
    CHECK_EQ_INT(seal(a, NAME, sealed, &len), 0);
    CHECK_EQ_INT(gw_secret_open(b, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), -ENOKEY);
    CHECK_EQ_INT(gw_secret_keys_id_hex(a, 0, ida), 0);
    CHECK_EQ_INT(gw_secret_keys_id_hex(b, 0, idb), 0);
    CHECK_EQ_INT(gw_secret_sealed_key_hex(sealed, len, sid), 0);
    CHECK(strcmp(ida, idb) != 0 && strcmp(sid, ida) == 0);
    CHECK_EQ_INT(gw_secret_keys_id_hex(a, 1, ida), -ENOENT);
    /* the id names the key, it is not the key */
    CHECK(strstr(KEY_A, ida) == NULL);
    gw_secret_keys_free(a);
    gw_secret_keys_free(b);
}

TEST(test_secret_old_key_still_opens_after_rotation)
{
    gw_secret_keys_t *old = keys(KEY_A), *both = keys("# rotated\n" KEY_A "\n" KEY_B "\n");
    uint8_t sealed[256], fresh[256];
    char plain[256], cur[17], sid[17];
    size_t len, flen, plen;

    CHECK(both != NULL);
    CHECK_EQ_INT(gw_secret_keys_count(both), 2);
    CHECK_EQ_INT(seal(old, NAME, sealed, &len), 0);
    CHECK_EQ_INT(gw_secret_open(both, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), 0);
    CHECK(strcmp(plain, SECRET) == 0);
    /* new seals use the last key */
    CHECK_EQ_INT(seal(both, NAME, fresh, &flen), 0);
    CHECK_EQ_INT(gw_secret_keys_id_hex(both, 1, cur), 0);
    CHECK_EQ_INT(gw_secret_sealed_key_hex(fresh, flen, sid), 0);
    CHECK(strcmp(cur, sid) == 0);
    CHECK_EQ_INT(gw_secret_open(old, NAME, strlen(NAME), fresh, flen, plain, sizeof(plain), &plen), -ENOKEY);
    gw_secret_keys_free(old);
    gw_secret_keys_free(both);
}

TEST(test_secret_no_key_refuses_to_seal)
{
    gw_secret_keys_t *none = keys("");
    uint8_t sealed[256];
    size_t len;
    CHECK(none != NULL);
    CHECK_EQ_INT(gw_secret_keys_count(none), 0);
    CHECK_EQ_INT(seal(none, NAME, sealed, &len), -ENOKEY);
    CHECK(strcmp(gw_secret_keys_source(none), "no key configured") == 0);
    gw_secret_keys_free(none);
}

TEST(test_secret_short_buffers_and_bad_keys)
{
    gw_secret_keys_t *k = keys(KEY_A), *bad = NULL;
    uint8_t sealed[256];
    char plain[8];
    size_t len, plen;
    CHECK_EQ_INT(gw_secret_seal(k, NAME, strlen(NAME), SECRET, strlen(SECRET), sealed, 20, &len), -ENOBUFS);
    CHECK_EQ_INT(seal(k, NAME, sealed, &len), 0);
    CHECK_EQ_INT(gw_secret_open(k, NAME, strlen(NAME), sealed, len, plain, sizeof(plain), &plen), -ENOBUFS);
    CHECK_EQ_INT(gw_secret_keys_parse("0011", 4, &bad), -EINVAL);
    CHECK_EQ_INT(gw_secret_keys_parse(KEY_A "zz", 66, &bad), -EINVAL);
    CHECK_EQ_INT(gw_secret_keys_parse(KEY_A "\0" KEY_B, 129, &bad), -EINVAL);
    CHECK_EQ_INT(gw_secret_keys_parse(KEY_A ", " KEY_B, 130, &bad), 0);
    CHECK_EQ_INT(gw_secret_keys_count(bad), 2);
    gw_secret_keys_free(bad);
    gw_secret_keys_free(k);
}

TEST(test_secret_keys_from_file_env_and_default)
{
    char dir[] = "/tmp/yc-secret-XXXXXX", path[128], err[256];
    gw_config_t cfg;
    gw_secret_keys_t *k = NULL;
    struct stat st;
    char id1[17], id2[17];

    CHECK(mkdtemp(dir) != NULL);
    gw_config_defaults(&cfg);
    cfg.data_dir = dir;
    /* the default: made once, mode 0600, the same key at the next start */
    CHECK_EQ_INT(gw_secret_keys_load(&cfg, &k, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_secret_keys_count(k), 1);
    snprintf(path, sizeof(path), "%s/secrets.keys", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(gw_secret_keys_id_hex(k, 0, id1), 0);
    gw_secret_keys_free(k);
    CHECK_EQ_INT(gw_secret_keys_load(&cfg, &k, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_secret_keys_id_hex(k, 0, id2), 0);
    CHECK(strcmp(id1, id2) == 0);
    /* a key appended to the file is current after a reload */
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    fputs(KEY_B "\n", f);
    fclose(f);
    CHECK_EQ_INT(gw_secret_keys_reload(k, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_secret_keys_count(k), 2);
    /* a file that became unreadable keeps the keys held */
    f = fopen(path, "a");
    fputs("not-a-key\n", f);
    fclose(f);
    CHECK(gw_secret_keys_reload(k, err, sizeof(err)) != 0);
    CHECK(strstr(err, "not 64 hex digits") != NULL);
    CHECK_EQ_INT(gw_secret_keys_count(k), 2);
    gw_secret_keys_free(k);
    unlink(path);
    /* over shared drives no key is made */
    cfg.drives_list = "a,b";
    CHECK_EQ_INT(gw_secret_keys_load(&cfg, &k, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_secret_keys_count(k), 0);
    CHECK(stat(path, &st) != 0);
    gw_secret_keys_free(k);
    /* the environment */
    setenv("YC_TEST_SECRETS_KEY", KEY_A " " KEY_B, 1);
    cfg.secrets_key_env = "YC_TEST_SECRETS_KEY";
    CHECK_EQ_INT(gw_secret_keys_load(&cfg, &k, err, sizeof(err)), 0);
    CHECK_EQ_INT(gw_secret_keys_count(k), 2);
    CHECK(strstr(gw_secret_keys_source(k), "YC_TEST_SECRETS_KEY") != NULL);
    gw_secret_keys_free(k);
    unsetenv("YC_TEST_SECRETS_KEY");
    CHECK(gw_secret_keys_load(&cfg, &k, err, sizeof(err)) != 0);
    CHECK(strstr(err, "is not set") != NULL);
    /* a named file that is missing is an error, not a silent cleartext */
    cfg.secrets_key_file = "/nonexistent/secrets.keys";
    CHECK(gw_secret_keys_load(&cfg, &k, err, sizeof(err)) != 0);
    CHECK(strstr(err, "/nonexistent/secrets.keys") != NULL);
    rmdir(dir);
}

TEST(test_secret_generated_keys_differ_and_have_ids)
{
    char a[65], b[65], ida[17];
    CHECK_EQ_INT(gw_secret_key_generate(a), 0);
    CHECK_EQ_INT(gw_secret_key_generate(b), 0);
    CHECK(strlen(a) == 64 && strcmp(a, b) != 0);
    CHECK_EQ_INT(gw_secret_key_id_of_hex(a, 64, ida), 0);
    CHECK_EQ_INT(strlen(ida), 16);
    CHECK_EQ_INT(gw_secret_key_id_of_hex(a, 63, ida), -EINVAL);
}

int main(void)
{
    RUN(test_secret_round_trip_hides_the_secret);
    RUN(test_secret_two_seals_differ);
    RUN(test_secret_open_fails_for_another_record);
    RUN(test_secret_open_fails_when_altered);
    RUN(test_secret_wrong_key_is_unknown_not_garbage);
    RUN(test_secret_old_key_still_opens_after_rotation);
    RUN(test_secret_no_key_refuses_to_seal);
    RUN(test_secret_short_buffers_and_bad_keys);
    RUN(test_secret_keys_from_file_env_and_default);
    RUN(test_secret_generated_keys_differ_and_have_ids);
    return unit_done();
}
