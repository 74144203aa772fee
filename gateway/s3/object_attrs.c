/* object_attrs.c — the x-amz-object-attributes header (see object_attrs.h). */
#include "gateway/s3/object_attrs.h"
#include <string.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int s3_object_attrs_parse(h2o_iovec_t value, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"ETag", S3_ATTR_ETAG},
                 {"Checksum", S3_ATTR_CHECKSUM},
                 {"ObjectParts", S3_ATTR_OBJECT_PARTS},
                 {"StorageClass", S3_ATTR_STORAGE_CLASS},
                 {"ObjectSize", S3_ATTR_OBJECT_SIZE}};
    const char *p = value.base, *end = value.base + value.len;

    if (value.base == NULL)
        return -S3_ERR_INVALID_ARGUMENT;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma != NULL ? comma : end, *s = p;
        size_t i;
        while (s < e && is_ows(*s))
            s++;
        while (e > s && is_ows(e[-1]))
            e--;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if ((size_t)(e - s) == strlen(names[i].name) && memcmp(s, names[i].name, (size_t)(e - s)) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return -S3_ERR_INVALID_ARGUMENT;
        *mask |= names[i].bit;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}
