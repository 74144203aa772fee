/* test_gw_object_lock.c — the stored forms of a version's retention and legal hold, and the
 * predicate every deleting path asks (gw_object_lock_may_delete). */
#include "gateway/gw_object_lock.h"
#include "tests/unit/unit.h"

#define SEC      1000000000LL
#define NOW      (1800000000LL * SEC)
#define BN(p, n) ((meta_bytes_t){(const char *)(p), (n)})

/* A record whose attribute set holds the given retention (mode NONE: none) and hold. */
static void record_with(meta_object_t *rec, meta_buf_t *set, s3_lock_mode_t mode, int64_t until, int hold)
{
    meta_buf_t tmp = {0};
    uint8_t rv[GW_LOCK_RETENTION_LEN], hv = (uint8_t)hold;
    meta_bytes_t cur = BN("", 0);

    memset(rec, 0, sizeof(*rec));
    set->len = 0;
    if (mode != S3_LOCK_NONE) {
        s3_retention_t r = {mode, until};
        gw_lock_retention_encode(&r, rv);
        meta_bytes_t v = BN(rv, sizeof(rv));
        CHECK_EQ_INT(meta_attr_put(cur, META_ATTR_RETENTION, &v, &tmp), 0);
        cur = BN(tmp.base, tmp.len);
    }
    if (hold >= 0) {
        meta_bytes_t v = BN(&hv, 1);
        CHECK_EQ_INT(meta_attr_put(cur, META_ATTR_LEGAL_HOLD, &v, set), 0);
    } else {
        CHECK_EQ_INT(meta_attr_put(cur, META_ATTR_LEGAL_HOLD, NULL, set), 0);
    }
    meta_buf_dispose(&tmp);
    rec->attrs = BN(set->base, set->len);
}

TEST(test_retention_encoding_round_trips)
{
    uint8_t v[GW_LOCK_RETENTION_LEN];
    s3_retention_t in = {S3_LOCK_COMPLIANCE, NOW + 5 * SEC}, out;
    gw_lock_retention_encode(&in, v);
    CHECK_EQ_INT(v[0], 2);
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, sizeof(v)), &out), 0);
    CHECK(out.mode == S3_LOCK_COMPLIANCE && out.retain_until_ns == in.retain_until_ns);
    in.mode = S3_LOCK_GOVERNANCE;
    gw_lock_retention_encode(&in, v);
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, sizeof(v)), &out), 0);
    CHECK(out.mode == S3_LOCK_GOVERNANCE);
}

TEST(test_retention_decoder_refuses_bad_bytes)
{
    uint8_t v[GW_LOCK_RETENTION_LEN + 1] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    s3_retention_t out;
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN), &out), 0);
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN - 1), &out), -1); /* short */
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN + 1), &out), -1); /* long */
    v[0] = 3;                                                                           /* no such mode */
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN), &out), -1);
    v[0] = 0;
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN), &out), -1);
    v[0] = 1;
    v[1] = 0x80; /* a date before the epoch */
    CHECK_EQ_INT(gw_lock_retention_decode(BN(v, GW_LOCK_RETENTION_LEN), &out), -1);
}

TEST(test_hold_decoder_refuses_bad_bytes)
{
    uint8_t on = 1, off = 0, bad = 2, two[2] = {1, 1};
    s3_legal_hold_t h;
    CHECK_EQ_INT(gw_lock_hold_decode(BN(&on, 1), &h), 0);
    CHECK(h == S3_LEGAL_HOLD_ON);
    CHECK_EQ_INT(gw_lock_hold_decode(BN(&off, 1), &h), 0);
    CHECK(h == S3_LEGAL_HOLD_OFF);
    CHECK_EQ_INT(gw_lock_hold_decode(BN(&bad, 1), &h), -1);
    CHECK_EQ_INT(gw_lock_hold_decode(BN(two, 2), &h), -1);
    CHECK_EQ_INT(gw_lock_hold_decode(BN("", 0), &h), -1);
}

TEST(test_may_delete_when_unlocked_or_expired)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    record_with(&rec, &set, S3_LOCK_NONE, 0, -1);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 1);
    record_with(&rec, &set, S3_LOCK_COMPLIANCE, NOW - SEC, 0);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 1);
    meta_buf_dispose(&set);
}

TEST(test_may_delete_refuses_compliance_even_with_bypass)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    record_with(&rec, &set, S3_LOCK_COMPLIANCE, NOW + SEC, -1);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 0);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 0);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW + 2 * SEC), 1);
    meta_buf_dispose(&set);
}

TEST(test_may_delete_governance_only_with_bypass)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    record_with(&rec, &set, S3_LOCK_GOVERNANCE, NOW + SEC, -1);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 0);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 1);
    meta_buf_dispose(&set);
}

TEST(test_may_delete_refuses_legal_hold_whatever_the_retention)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    record_with(&rec, &set, S3_LOCK_NONE, 0, 1);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 0);
    record_with(&rec, &set, S3_LOCK_GOVERNANCE, NOW - SEC, 1);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 0);
    record_with(&rec, &set, S3_LOCK_NONE, 0, 0); /* OFF */
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 1);
    meta_buf_dispose(&set);
}

TEST(test_may_delete_refuses_a_lock_that_does_not_decode)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    uint8_t junk[3] = {9, 9, 9};
    meta_bytes_t v = BN(junk, sizeof(junk));
    memset(&rec, 0, sizeof(rec));
    CHECK_EQ_INT(meta_attr_put(BN("", 0), META_ATTR_RETENTION, &v, &set), 0);
    rec.attrs = BN(set.base, set.len);
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 0);
    rec.attrs = BN("\x02\x00\x00", 3); /* a set that does not walk */
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 1, NOW), 0);
    meta_buf_dispose(&set);
}

TEST(test_delete_markers_carry_no_lock)
{
    meta_object_t rec;
    meta_buf_t set = {0};
    record_with(&rec, &set, S3_LOCK_COMPLIANCE, NOW + SEC, 1);
    rec.flags = META_OBJ_DELETE_MARKER;
    CHECK_EQ_INT(gw_object_lock_may_delete(&rec, 0, NOW), 1);
    meta_buf_dispose(&set);
}

int main(void)
{
    RUN(test_retention_encoding_round_trips);
    RUN(test_retention_decoder_refuses_bad_bytes);
    RUN(test_hold_decoder_refuses_bad_bytes);
    RUN(test_may_delete_when_unlocked_or_expired);
    RUN(test_may_delete_refuses_compliance_even_with_bypass);
    RUN(test_may_delete_governance_only_with_bypass);
    RUN(test_may_delete_refuses_legal_hold_whatever_the_retention);
    RUN(test_may_delete_refuses_a_lock_that_does_not_decode);
    RUN(test_delete_markers_carry_no_lock);
    return unit_done();
}
