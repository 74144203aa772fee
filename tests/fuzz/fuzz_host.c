/* fuzz_host.c — Host headers on arbitrary bytes: a virtual-host answer names a non-empty bucket
 * that is the host's own prefix, followed by a dot and one of the domains. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const h2o_iovec_t domains[] = {{"localhost", 9}, {"example.com", 11}, {"s3.example.com", 14}};
    char *copy = malloc(size ? size : 1), name[S3_HOST_NAME_MAX + 1];
    h2o_iovec_t bucket = {NULL, 0};

    memcpy(copy, data, size);
    if (s3_host_parse(h2o_iovec_init(copy, size), domains, 3, name, &bucket) == S3_HOST_VIRTUAL) {
        size_t n = strlen(name);
        if (bucket.base != name || bucket.len == 0 || bucket.len + 1 >= n || name[bucket.len] != '.')
            abort();
        int found = 0;
        for (size_t i = 0; i < 3; i++)
            found |= n - bucket.len - 1 == domains[i].len &&
                     memcmp(name + bucket.len + 1, domains[i].base, domains[i].len) == 0;
        if (!found)
            abort();
    }
    free(copy);
    return 0;
}
