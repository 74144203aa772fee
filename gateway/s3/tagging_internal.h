/* tagging_internal.h — the character table of tag keys and values, shared by tagging.c and its
 * generated table in tagging_chars.c; not part of the s3 library's interface. */
#ifndef YC_S3_TAGGING_INTERNAL_H
#define YC_S3_TAGGING_INTERNAL_H
#include <stdint.h>

/* 1 when the code point is a Unicode letter, number or separator (categories L*, N*, Z*). */
int s3_tag_char_is_letter_number_space(uint32_t cp);

#endif
