/* policy_bench.c — single-thread cost of authorising one GetObject with the policy evaluator.
 *
 * Three bucket policies: none (the combiner alone: owner check, implicit deny), one statement
 * (public read), and twenty statements of the kinds real bucket policies hold (denies by address
 * and transport, per-user home folders with ${aws:username}, tag and prefix conditions, dates),
 * where only the last statement allows the request, so every statement is looked at. Each figure
 * is s3_policy_decide() for an authenticated GetObject of a 4 KiB object's key, best of several
 * rounds so that frequency drift and other tenants show less; the parse of the twenty-statement
 * policy is timed as well (done once per PutBucketPolicy or when a policy is loaded).
 *
 *     policy_bench [seconds per round]    (default 0.05; seven rounds per figure)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/clock.h"
#include "gateway/s3/policy.h"

#define ROUNDS 7
#define IOV(s) h2o_iovec_init((s), strlen(s))

static double round_seconds = 0.05;

/* Twenty statements; the GetObject below is allowed by the last one only. */
static const char policy20[] =
    "{\"Version\":\"2012-10-17\",\"Id\":\"bench\",\"Statement\":["
    "{\"Sid\":\"DenyOutside\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
    "\"Resource\":[\"arn:aws:s3:::photos\",\"arn:aws:s3:::photos/*\"],"
    "\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"192.168.0.0/16\",\"2001:db8::/32\"]}}},"
    "{\"Sid\":\"DenyPlain\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
    "\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},"
    "{\"Sid\":\"DenyUnencrypted\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\","
    "\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}},"
    "{\"Sid\":\"DenySecrets\",\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::111122223333:user/admin\"},"
    "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos/secret/*\"},"
    "{\"Sid\":\"Home\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":[\"s3:PutObject\","
    "\"s3:DeleteObject\"],\"Resource\":\"arn:aws:s3:::photos/home/${aws:username}/*\"},"
    "{\"Sid\":\"ListHome\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:ListBucket\","
    "\"Resource\":\"arn:aws:s3:::photos\",\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"home/${aws:username}/*\","
    "\"\"]}}},"
    "{\"Sid\":\"Partner1\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},"
    "\"Action\":[\"s3:GetObject\",\"s3:GetObjectVersion\"],\"Resource\":\"arn:aws:s3:::photos/partner1/*\"},"
    "{\"Sid\":\"Partner2\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::555566667777:root\"},"
    "\"Action\":[\"s3:GetObject\",\"s3:GetObjectVersion\"],\"Resource\":\"arn:aws:s3:::photos/partner2/*\"},"
    "{\"Sid\":\"Uploads\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/uploader\"},"
    "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::photos/incoming/*\","
    "\"Condition\":{\"StringEquals\":{\"s3:x-amz-acl\":\"bucket-owner-full-control\"}}},"
    "{\"Sid\":\"Tagged\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":{\"StringEquals\":{\"s3:ExistingObjectTag/"
    "class\":\"public\"}}},"
    "{\"Sid\":\"Tagging\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:"
    "PutObjectTagging\","
    "\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":"
    "[\"class\",\"owner\"]}}},"
    "{\"Sid\":\"Campaign\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::photos/campaign/*\",\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":"
    "\"2030-01-01T00:00:00Z\"}}},"
    "{\"Sid\":\"Referer\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::photos/web/*\",\"Condition\":{\"StringLike\":{\"aws:Referer\":"
    "[\"https://www.example.com/*\",\"https://example.com/*\"]}}},"
    "{\"Sid\":\"SmallLists\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:"
    "ListBucket\","
    "\"Resource\":\"arn:aws:s3:::photos\",\"Condition\":{\"NumericLessThanEquals\":{\"s3:max-keys\":\"100\"}}},"
    "{\"Sid\":\"Versions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/auditor\"},"
    "\"Action\":[\"s3:ListBucketVersions\",\"s3:GetObjectVersion\"],\"Resource\":[\"arn:aws:s3:::photos\","
    "\"arn:aws:s3:::photos/*\"]},"
    "{\"Sid\":\"Acl\",\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":"
    "\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\"},\"Action\":\"s3:GetObjectAcl\","
    "\"Resource\":\"arn:aws:s3:::photos/*\"},"
    "{\"Sid\":\"Lock\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:PutObjectRetention\","
    "\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":{\"NumericGreaterThan\":"
    "{\"s3:object-lock-remaining-retention-days\":\"3650\"}}},"
    "{\"Sid\":\"Agents\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::photos/"
    "*\",\"Condition\":{\"StringLike\":{\"aws:UserAgent\":[\"*crawler*\",\"*bot*\"]}}},"
    "{\"Sid\":\"Thumbs\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::photos/*/thumbs/*.png\"},"
    "{\"Sid\":\"Team\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:user/alice\","
    "\"arn:aws:iam::111122223333:user/bob\"]},\"Action\":[\"s3:GetObject\",\"s3:GetObjectVersion\"],"
    "\"Resource\":\"arn:aws:s3:::photos/albums/*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}"
    "]}";

static const char policy1[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"PublicRead\",\"Effect\":\"Allow\","
    "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::photos/*\"}]}";

static double now(void)
{
    return (double)yc_mono_ns() * 1e-9;
}

/* Best of ROUNDS: nanoseconds per s3_policy_decide. */
static double time_decide(const s3_policy_sources_t *src, const s3_policy_request_t *req, s3_policy_decision_t expect)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        size_t n = 0;
        double start = now(), t;
        do {
            for (int i = 0; i < 1000; i++)
                if (s3_policy_decide(src, req, NULL) != expect) {
                    fprintf(stderr, "policy_bench: unexpected decision\n");
                    exit(1);
                }
            n += 1000;
        } while ((t = now() - start) < round_seconds);
        if (t / (double)n < best)
            best = t / (double)n;
    }
    return best * 1e9;
}

static s3_policy_t *parse(const char *text)
{
    s3_policy_options_t opt = {.kind = S3_POLICY_BUCKET, .bucket = IOV("photos")};
    s3_policy_error_t err;
    s3_policy_t *p;
    if (s3_policy_parse(IOV(text), &opt, &p, &err) != 0) {
        fprintf(stderr, "policy_bench: %s\n", err.message);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        round_seconds = atof(argv[1]);

    static const h2o_iovec_t ip[] = {{"10.20.30.40", 11}}, tls[] = {{"true", 4}},
                             agent[] = {{"aws-sdk-go/1.44 (go1.20; linux; amd64)", 38}};
    s3_policy_value_t values[] = {{S3_POLICY_KEY_AWS_SOURCE_IP, {NULL, 0}, ip, 1},
                                  {S3_POLICY_KEY_AWS_SECURE_TRANSPORT, {NULL, 0}, tls, 1},
                                  {S3_POLICY_KEY_AWS_USER_AGENT, {NULL, 0}, agent, 1}};
    char arn[S3_POLICY_ARN_MAX];
    s3_policy_request_t req = {.principal = {S3_POLICY_USER, IOV("111122223333"),
                                             IOV("arn:aws:iam::111122223333:user/alice"),
                                             IOV("a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"),
                                             IOV("alice"), IOV("AIDAALICE")},
                               .action = S3_POLICY_ACTION_GET_OBJECT,
                               .now_ns = yc_now_ns(),
                               .values = values,
                               .nvalues = 3};
    s3_policy_resource_arn(IOV("photos"), IOV("albums/2024/summer/img-0042.jpg"), arn, sizeof(arn), &req.resource);

    s3_policy_t *p1 = parse(policy1), *p20 = parse(policy20);
    s3_policy_sources_t none = {.owner_account = IOV("111122223333")};
    s3_policy_sources_t one = {.bucket = p1, .owner_account = IOV("111122223333")};
    s3_policy_sources_t twenty = {.bucket = p20, .owner_account = IOV("111122223333")};

    double t0 = time_decide(&none, &req, S3_POLICY_DENY);
    double t1 = time_decide(&one, &req, S3_POLICY_ALLOW);
    double t20 = time_decide(&twenty, &req, S3_POLICY_ALLOW);

    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        size_t n = 0;
        double start = now(), t;
        do {
            s3_policy_free(parse(policy20));
            n++;
        } while ((t = now() - start) < round_seconds);
        if (t / (double)n < best)
            best = t / (double)n;
    }

    printf("policy evaluation, one thread, s3_policy_decide for an authenticated GetObject\n");
    printf("%-28s %12s %16s\n", "bucket policy", "ns/decision", "decisions/s");
    printf("%-28s %12.1f %16.0f\n", "none", t0, 1e9 / t0);
    printf("%-28s %12.1f %16.0f\n", "1 statement", t1, 1e9 / t1);
    printf("%-28s %12.1f %16.0f\n", "20 statements", t20, 1e9 / t20);
    printf("parse of the 20-statement policy (%zu bytes): %.1f us\n", sizeof(policy20) - 1, best * 1e6);
    s3_policy_free(p1);
    s3_policy_free(p20);
    return 0;
}
