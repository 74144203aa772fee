/* names.c — bucket names, object keys, user metadata size (see names.h for the rules). */
#include <string.h>
#include "gateway/s3/names.h"
#include "common/utf8.h"

static int has_prefix(h2o_iovec_t s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.base, prefix, n) == 0;
}

static int has_suffix(h2o_iovec_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.base + s.len - n, suffix, n) == 0;
}

/* Four dot-separated groups of 1..3 digits: S3 refuses names "formatted as an IP address",
 * whether or not each group is a valid octet. */
static int looks_like_ipv4(h2o_iovec_t s)
{
    size_t groups = 1, run = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.base[i] == '.') {
            if (run == 0)
                return 0;
            groups++;
            run = 0;
        } else if (s.base[i] >= '0' && s.base[i] <= '9') {
            if (++run > 3)
                return 0;
        } else {
            return 0;
        }
    }
    return groups == 4 && run != 0;
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int s3_bucket_name_validate(h2o_iovec_t name)
{
    static const char *const bad_prefixes[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_suffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};

    if (name.base == NULL || name.len < 3 || name.len > 63)
        goto fail;
    if (!is_lower_alnum(name.base[0]) || !is_lower_alnum(name.base[name.len - 1]))
        goto fail;
    for (size_t i = 0; i < name.len; i++) {
        char c = name.base[i];
        if (!is_lower_alnum(c) && c != '-' && c != '.')
            goto fail;
        /* a dot next to a dot or a dash would leave an empty DNS label or one that starts or
         * ends with a dash, which virtual-host addressing cannot carry */
        if (c == '.' && i > 0 && (name.base[i - 1] == '.' || name.base[i - 1] == '-'))
            goto fail;
        if (c == '-' && i > 0 && name.base[i - 1] == '.')
            goto fail;
    }
    if (looks_like_ipv4(name))
        goto fail;
    for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++)
        if (has_prefix(name, bad_prefixes[i]))
            goto fail;
    for (size_t i = 0; i < sizeof(bad_suffixes) / sizeof(bad_suffixes[0]); i++)
        if (has_suffix(name, bad_suffixes[i]))
            goto fail;
    return 0;

fail:
    return -S3_ERR_INVALID_BUCKET_NAME;
}

int s3_key_validate(h2o_iovec_t key)
{
    if (key.base == NULL || key.len == 0)
        return -S3_ERR_INVALID_ARGUMENT;
    if (key.len > S3_KEY_MAX_LEN)
        return -S3_ERR_KEY_TOO_LONG_ERROR;
    if (!yc_utf8_valid((const unsigned char *)key.base, key.len))
        return -S3_ERR_INVALID_ARGUMENT;
    return 0;
}

int s3_meta_is_user(h2o_iovec_t header_name)
{
    return header_name.len >= S3_META_PREFIX_LEN &&
           h2o_lcstris(header_name.base, S3_META_PREFIX_LEN, S3_META_PREFIX, S3_META_PREFIX_LEN);
}

int s3_meta_account(size_t *total, h2o_iovec_t header_name, h2o_iovec_t value)
{
    size_t name_len = header_name.len;
    if (s3_meta_is_user(header_name))
        name_len -= S3_META_PREFIX_LEN;
    /* each term is bounded by the request's header size, so the sum cannot wrap */
    *total += name_len + value.len;
    return *total > S3_META_MAX_SIZE ? -S3_ERR_METADATA_TOO_LARGE : 0;
}
