/* gw_error.c — the table from error codes to S3 answers (see gw_error.h). */
#include "gateway/gw_error.h"
#include "common/errors.h"
#include <errno.h>
#include <stddef.h>

#define UNAVAILABLE_MESSAGE "Not enough drives answered; try again"

typedef struct {
    int code;
    s3_error_t err;
    const char *message; /* NULL: the S3 error's default */
} row_t;

static const row_t rows[] = {
    {EC_EINVAL, S3_ERR_INTERNAL_ERROR, NULL},
    {EC_ETOOFEW, S3_ERR_SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE},
    {EC_ENOMEM, S3_ERR_INTERNAL_ERROR, NULL},

    {META_ENOENT, S3_ERR_NO_SUCH_KEY, NULL},
    {META_ECORRUPT, S3_ERR_INTERNAL_ERROR, NULL},
    {META_ENOMEM, S3_ERR_INTERNAL_ERROR, NULL},
    {META_EIO, S3_ERR_INTERNAL_ERROR, NULL},
    {META_ERANGE, S3_ERR_INTERNAL_ERROR, NULL},
    {META_ENOSPC, S3_ERR_STORAGE_FULL, NULL},

    {STORE_ENOENT, S3_ERR_NO_SUCH_KEY, NULL},
    {STORE_EBITROT, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_ENOSPC, S3_ERR_STORAGE_FULL, NULL},
    {STORE_EIO, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_ECORRUPT, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EINVAL, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EUNREACHABLE, S3_ERR_SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE},
    {STORE_EAUTH, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_ESTALE, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EBUSY, S3_ERR_OPERATION_ABORTED, NULL},
    {STORE_EFOREIGN, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_ESECRET, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EIDENTITY, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EINUSE, S3_ERR_INTERNAL_ERROR, NULL},
    {STORE_EFORMAT, S3_ERR_INTERNAL_ERROR, NULL},

    {GW_ENOENT, S3_ERR_NO_SUCH_KEY, NULL},
    {GW_EQUORUM, S3_ERR_SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE},
    {GW_EIO, S3_ERR_INTERNAL_ERROR, NULL},
    {GW_ESEALED, S3_ERR_INTERNAL_ERROR, NULL},
    {GW_ENOMEM, S3_ERR_INTERNAL_ERROR, NULL},
    {GW_EINVAL, S3_ERR_INTERNAL_ERROR, NULL},
    {GW_EBUSY, S3_ERR_OPERATION_ABORTED, NULL},
    {GW_ENOSPC, S3_ERR_STORAGE_FULL, NULL},
    {GW_ESLOWDOWN, S3_ERR_SLOW_DOWN, NULL},
    {GW_ELOCKED, S3_ERR_ACCESS_DENIED, "Access Denied because object protected by object lock."},

    /* a full filesystem met outside the drives' own checks is the same answer */
    {-ENOSPC, S3_ERR_STORAGE_FULL, NULL},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

int gw_error_lookup(int code, s3_error_t *err, const char **message)
{
    s3_error_t e = code == 0 ? S3_OK : S3_ERR_INTERNAL_ERROR;
    const char *m = NULL;
    int found = 0;

    for (size_t i = 0; i < NROWS && code != 0; i++) {
        if (rows[i].code == code) {
            e = rows[i].err;
            m = rows[i].message;
            found = 1;
            break;
        }
    }
    *err = e;
    if (message != NULL)
        *message = m;
    return found;
}

s3_error_t gw_error_s3(int code)
{
    s3_error_t err;
    gw_error_lookup(code, &err, NULL);
    return err;
}

int gw_error_row(unsigned i, int *code)
{
    if (i >= NROWS)
        return 0;
    *code = rows[i].code;
    return 1;
}
