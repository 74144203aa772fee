/* unit.h — the unit test harness: one test per behaviour, a list of them, one summary line.
 *
 *   TEST(test_block_checksum_detects_flip) { ... CHECK(x == 1); CHECK_EQ_INT(ret, 0); }
 *   int main(void) { RUN(test_block_checksum_detects_flip); return unit_done(); }
 *
 * A failed CHECK prints file:line and the expression, marks the running test failed and
 * returns from it. unit_done() prints "N passed, N failed" and returns the exit status.
 */
#ifndef YC_UNIT_H
#define YC_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_current_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                 \
            unit_current_failed = 1;                                                                                   \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                                             \
    do {                                                                                                               \
        long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);                                                  \
        if (unit_a_ != unit_b_) {                                                                                      \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, unit_a_, unit_b_); \
            unit_current_failed = 1;                                                                                   \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

#define RUN(name)                                                                                                      \
    do {                                                                                                               \
        unit_current_failed = 0;                                                                                       \
        name();                                                                                                        \
        if (unit_current_failed) {                                                                                     \
            unit_failed++;                                                                                             \
            fprintf(stderr, "FAIL %s\n", #name);                                                                       \
        } else {                                                                                                       \
            unit_passed++;                                                                                             \
        }                                                                                                              \
    } while (0)

static inline int unit_done(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
