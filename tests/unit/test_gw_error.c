/* test_gw_error — the one table from error codes to S3 answers: every code of the error space has
 * exactly one row, and the answers the issue found wrong are right (a damaged record is an
 * internal error; a full drive set is 507 StorageFull from every layer). */
#include "common/errors.h"
#include "gateway/gw_error.h"
#include "tests/unit/unit.h"
#include <errno.h>

TEST(test_every_code_has_one_row_and_an_error_status)
{
    unsigned ncodes = 0;

    for (int code; yc_error_at(ncodes, &code); ncodes++) {
        s3_error_t err;
        const char *message;
        unsigned rows = 0;
        /* a row of its own, not the default */
        CHECK_EQ_INT(gw_error_lookup(code, &err, &message), 1);
        int c;
        for (unsigned r = 0; gw_error_row(r, &c); r++)
            rows += c == code;
        if (rows != 1)
            fprintf(stderr, "  %s has %u rows\n", yc_errname(code), rows);
        CHECK_EQ_INT(rows, 1);
        /* an S3 error, answered with an error status */
        CHECK(err != S3_OK && err < S3_ERR__COUNT);
        CHECK(s3_error_info(err)->status >= 400);
        CHECK(gw_error_s3(code) == err);
    }
    CHECK(ncodes > 0);
}

TEST(test_every_row_is_a_code_of_the_space)
{
    for (unsigned r = 0;; r++) {
        int code, listed = 0;
        if (!gw_error_row(r, &code))
            break;
        int c;
        for (unsigned i = 0; yc_error_at(i, &c); i++)
            listed += c == code;
        /* -errno rows are the exceptions the table names; everything else is a listed code */
        CHECK(listed == 1 || (code < 0 && code >= YC_ERRNO_MIN));
    }
}

TEST(test_damaged_data_is_an_internal_error)
{
    CHECK_EQ_INT(gw_error_s3(GW_EIO), S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(gw_error_s3(META_ECORRUPT), S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(gw_error_s3(STORE_ECORRUPT), S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(gw_error_s3(STORE_EBITROT), S3_ERR_INTERNAL_ERROR);
}

TEST(test_full_drives_are_storage_full_from_every_layer)
{
    CHECK_EQ_INT(gw_error_s3(GW_ENOSPC), S3_ERR_STORAGE_FULL);
    CHECK_EQ_INT(gw_error_s3(STORE_ENOSPC), S3_ERR_STORAGE_FULL);
    CHECK_EQ_INT(gw_error_s3(META_ENOSPC), S3_ERR_STORAGE_FULL);
    CHECK_EQ_INT(gw_error_s3(-ENOSPC), S3_ERR_STORAGE_FULL);
    CHECK_EQ_INT(s3_error_info(S3_ERR_STORAGE_FULL)->status, 507);
}

TEST(test_shed_requests_are_slow_down)
{
    CHECK_EQ_INT(gw_error_s3(GW_ESLOWDOWN), S3_ERR_SLOW_DOWN);
    CHECK_EQ_INT(s3_error_info(S3_ERR_SLOW_DOWN)->status, 503);
}

TEST(test_missing_drives_are_unavailable_and_say_so)
{
    const char *message = NULL;
    s3_error_t err;
    CHECK_EQ_INT(gw_error_lookup(GW_EQUORUM, &err, &message), 1);
    CHECK_EQ_INT(err, S3_ERR_SERVICE_UNAVAILABLE);
    CHECK(message != NULL && strstr(message, "drives") != NULL);
    CHECK_EQ_INT(gw_error_s3(STORE_EUNREACHABLE), S3_ERR_SERVICE_UNAVAILABLE);
    CHECK_EQ_INT(gw_error_s3(GW_EBUSY), S3_ERR_OPERATION_ABORTED);
    CHECK_EQ_INT(gw_error_s3(GW_ENOENT), S3_ERR_NO_SUCH_KEY);
}

TEST(test_unknown_codes_and_errno_are_internal_errors)
{
    s3_error_t err;
    CHECK_EQ_INT(gw_error_lookup(-ENOMEM, &err, NULL), 0);
    CHECK_EQ_INT(err, S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(gw_error_lookup(-1450, &err, NULL), 0);
    CHECK_EQ_INT(err, S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(gw_error_lookup(0, &err, NULL), 0);
    CHECK_EQ_INT(err, S3_OK);
}

int main(void)
{
    RUN(test_every_code_has_one_row_and_an_error_status);
    RUN(test_every_row_is_a_code_of_the_space);
    RUN(test_damaged_data_is_an_internal_error);
    RUN(test_full_drives_are_storage_full_from_every_layer);
    RUN(test_shed_requests_are_slow_down);
    RUN(test_missing_drives_are_unavailable_and_say_so);
    RUN(test_unknown_codes_and_errno_are_internal_errors);
    return unit_done();
}
