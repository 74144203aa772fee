/* test_s3_policy.c — the policy language and its evaluator: one test per rule (principals,
 * actions, resources, each condition operator with its nearest negative, IfExists, the set
 * qualifiers, Null, variables, deny over allow, the combiner), every MalformedPolicy case with
 * its message, the public-policy test, AWS's documented example policies parsed and evaluated,
 * and an evaluation that allocates nothing.
 *
 * Documents are written with ' for " (json() swaps them) so that they read as policies do.
 * Allocations are counted by interposing malloc, calloc and realloc for this binary, as
 * test_gw_object.c does; under a sanitizer, which brings its own allocator, the count is skipped.
 */
#include <stdarg.h>
#include <stdlib.h>
#include "gateway/s3/policy.h"
#include "tests/unit/unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static __thread int counting;
static __thread size_t allocations;

#if COUNTING
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size)
{
    allocations += counting;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    allocations += counting;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    allocations += counting;
    return __libc_realloc(p, size);
}
#endif

#define IOV(s)  h2o_iovec_init((s), strlen(s))
#define NONE    h2o_iovec_init(NULL, 0)
#define BUCKET  "photos"
#define DOC(st) "{'Version':'2012-10-17','Statement':[" st "]}"
#define ALLOW   S3_POLICY_ALLOW
#define DENY    S3_POLICY_DENY
#define NA      S3_POLICY_NOT_APPLICABLE
/* 2024-06-01T12:00:00Z */
#define NOW_NS (1717243200LL * 1000000000LL)

/* ---- documents */

/* s with every ' turned into " (in one of a few rotating buffers). */
static const char *json(const char *s)
{
    static char bufs[4][32768];
    static int next;
    char *b = bufs[next++ % 4];
    size_t n = strlen(s);
    if (n >= sizeof(bufs[0]))
        n = sizeof(bufs[0]) - 1;
    for (size_t i = 0; i < n; i++)
        b[i] = s[i] == '\'' ? '"' : s[i];
    b[n] = '\0';
    return b;
}

static s3_policy_options_t options(s3_policy_kind_t kind)
{
    s3_policy_options_t o = {.kind = kind, .bucket = IOV(BUCKET)};
    return o;
}

/* Parses raw JSON (no quote swap); NULL when refused (the message printed). */
static s3_policy_t *parse_raw(s3_policy_kind_t kind, const char *text)
{
    s3_policy_options_t o = options(kind);
    s3_policy_error_t err;
    s3_policy_t *p = NULL;
    if (s3_policy_parse(IOV(text), &o, &p, &err) != 0) {
        fprintf(stderr, "  refused: %s\n", err.message);
        return NULL;
    }
    return p;
}

static s3_policy_t *bucket_policy(const char *doc)
{
    return parse_raw(S3_POLICY_BUCKET, json(doc));
}

static s3_policy_t *identity_policy(const char *doc)
{
    return parse_raw(S3_POLICY_IDENTITY, json(doc));
}

/* 1 when doc is refused as MalformedPolicy with exactly message, and no policy comes back. */
static int refused_as(s3_policy_kind_t kind, const char *text, const char *message)
{
    s3_policy_options_t o = options(kind);
    s3_policy_error_t err;
    s3_policy_t *p = (s3_policy_t *)&err; /* must be reset to NULL */
    int ret = s3_policy_parse(IOV(text), &o, &p, &err);
    if (ret != -S3_ERR_MALFORMED_POLICY || p != NULL) {
        fprintf(stderr, "  accepted or wrong code (%d): %s\n", ret, text);
        if (ret == 0)
            s3_policy_free(p);
        return 0;
    }
    if (strcmp(err.message, message) != 0) {
        fprintf(stderr, "  message \"%s\", expected \"%s\"\n", err.message, message);
        return 0;
    }
    return 1;
}

static int refused(const char *doc, const char *message)
{
    return refused_as(S3_POLICY_BUCKET, json(doc), message);
}

static int refused_identity(const char *doc, const char *message)
{
    return refused_as(S3_POLICY_IDENTITY, json(doc), message);
}

/* ---- requests */

enum { ANON, ALICE, BOB, ROOT, CAROL };

#define ALICE_CANONICAL "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define BOB_CANONICAL   "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define ROOT_CANONICAL  "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
#define CAROL_CANONICAL "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"

static s3_policy_principal_t principal(int who)
{
    s3_policy_principal_t p = {S3_POLICY_ANONYMOUS};
    switch (who) {
    case ALICE:
        p = (s3_policy_principal_t){
            S3_POLICY_USER,       IOV("111122223333"), IOV("arn:aws:iam::111122223333:user/alice"),
            IOV(ALICE_CANONICAL), IOV("alice"),        IOV("AIDAALICE")};
        break;
    case BOB:
        p = (s3_policy_principal_t){S3_POLICY_USER,     IOV("111122223333"), IOV("arn:aws:iam::111122223333:user/bob"),
                                    IOV(BOB_CANONICAL), IOV("bob"),          IOV("AIDABOB")};
        break;
    case ROOT:
        p = (s3_policy_principal_t){
            S3_POLICY_ACCOUNT,  IOV("111122223333"), IOV("arn:aws:iam::111122223333:root"), IOV(ROOT_CANONICAL), NONE,
            IOV("111122223333")};
        break;
    case CAROL:
        p = (s3_policy_principal_t){
            S3_POLICY_USER,       IOV("444455556666"), IOV("arn:aws:iam::444455556666:user/carol"),
            IOV(CAROL_CANONICAL), IOV("carol"),        IOV("AIDACAROL")};
        break;
    }
    return p;
}

typedef struct {
    s3_policy_request_t r;
    s3_policy_value_t v[16];
    h2o_iovec_t s[64];
    size_t ns;
    char arn[S3_POLICY_ARN_MAX];
} req_t;

static req_t Q;

/* A request of who for action ("s3:GetObject") on the bucket, or on key when not NULL. */
static req_t *req(int who, const char *action, const char *key)
{
    memset(&Q, 0, sizeof(Q));
    Q.r.principal = principal(who);
    if (s3_policy_action_lookup(IOV(action), &Q.r.action) != 0) {
        fprintf(stderr, "  no action %s\n", action);
        Q.r.action = S3_POLICY_ACTION__COUNT;
    }
    s3_policy_resource_arn(IOV(BUCKET), key ? IOV(key) : NONE, Q.arn, sizeof(Q.arn), &Q.r.resource);
    Q.r.now_ns = NOW_NS;
    Q.r.values = Q.v;
    return &Q;
}

/* Gives the request values of key (tag for the tag families, else NULL): strings, then NULL. */
static req_t *with(req_t *q, s3_policy_key_t key, const char *tag, ...)
{
    va_list ap;
    const char *s;
    s3_policy_value_t *v = &q->v[q->r.nvalues++];
    v->key = key;
    v->tag = tag ? IOV(tag) : NONE;
    v->values = &q->s[q->ns];
    va_start(ap, tag);
    while ((s = va_arg(ap, const char *)) != NULL) {
        q->s[q->ns++] = IOV(s);
        v->nvalues++;
    }
    va_end(ap);
    return q;
}

/* The decision of a bucket policy doc (or -1 when refused) on the request. */
static int eval_bucket(const char *doc, const req_t *q)
{
    s3_policy_t *p = bucket_policy(doc);
    if (p == NULL)
        return -1;
    int d = (int)s3_policy_evaluate(p, &q->r);
    s3_policy_free(p);
    return d;
}

static int eval_identity(const char *doc, const req_t *q)
{
    s3_policy_t *p = identity_policy(doc);
    if (p == NULL)
        return -1;
    int d = (int)s3_policy_evaluate(p, &q->r);
    s3_policy_free(p);
    return d;
}

/* One statement allowing GetObject on every object to the principal element given. */
#define ALLOW_GET_TO(principal)                                                                                        \
    DOC("{'Effect':'Allow','Principal':" principal ",'Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}")

/* One statement allowing GetObject to everyone under condition. */
#define GET_IF(condition)                                                                                              \
    DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*',"                \
        "'Condition':" condition "}")

/* ---- principals */

TEST(test_principal_star_matches_anonymous_and_every_user)
{
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("'*'"), req(ANON, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("'*'"), req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("'*'"), req(CAROL, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("'*'"), req(ROOT, "s3:GetObject", "a.jpg")), ALLOW);
}

TEST(test_principal_aws_star_matches_anonymous_and_every_user)
{
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("{'AWS':'*'}"), req(ANON, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("{'AWS':['*']}"), req(BOB, "s3:GetObject", "a.jpg")), ALLOW);
}

TEST(test_principal_user_arn_matches_that_user_only)
{
    const char *doc = ALLOW_GET_TO("{'AWS':'arn:aws:iam::111122223333:user/alice'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_principal_account_id_matches_every_principal_of_that_account)
{
    const char *doc = ALLOW_GET_TO("{'AWS':'111122223333'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(CAROL, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_principal_account_root_arn_matches_every_principal_of_that_account)
{
    const char *doc = ALLOW_GET_TO("{'AWS':'arn:aws:iam::444455556666:root'}");
    CHECK_EQ_INT(eval_bucket(doc, req(CAROL, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_principal_canonical_user_matches_its_id_in_either_case)
{
    char doc[1024];
    snprintf(doc, sizeof(doc), "%s",
             ALLOW_GET_TO("{'CanonicalUser':'B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2'}"));
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a.jpg")), NA);
    req_t *q = req(BOB, "s3:GetObject", "a.jpg");
    q->r.principal.canonical_id = IOV("B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2");
    CHECK_EQ_INT(eval_bucket(ALLOW_GET_TO("{'CanonicalUser':'" BOB_CANONICAL "'}"), q), ALLOW);
}

TEST(test_principal_list_matches_any_of_its_entries)
{
    const char *doc = ALLOW_GET_TO("{'AWS':['arn:aws:iam::111122223333:user/alice','444455556666'],"
                                   "'CanonicalUser':'" BOB_CANONICAL "'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(CAROL, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_principal_service_and_role_are_accepted_and_match_no_request)
{
    const char *doc = ALLOW_GET_TO("{'Service':'logging.s3.amazonaws.com','AWS':'arn:aws:iam::111122223333:role/x'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_not_principal_applies_to_everyone_not_named)
{
    const char *doc = DOC("{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam::111122223333:user/alice'},"
                          "'Action':'s3:*','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a.jpg")), DENY);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a.jpg")), DENY);
}

TEST(test_identity_policy_applies_to_its_principal_whoever_it_is)
{
    const char *doc = DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, req(CAROL, "s3:GetObject", "a.jpg")), ALLOW);
}

/* ---- actions */

TEST(test_action_names_one_action)
{
    const char *doc = ALLOW_GET_TO("'*'");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObjectAcl", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "a.jpg")), NA);
}

TEST(test_action_is_case_insensitive)
{
    const char *doc =
        DOC("{'Effect':'Allow','Principal':'*','Action':'S3:getobject','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    s3_policy_action_t a;
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("S3:GETOBJECT"), &a), 0);
    CHECK_EQ_INT(a, S3_POLICY_ACTION_GET_OBJECT);
}

TEST(test_action_star_wildcard_matches_a_family)
{
    const char *doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:Get*','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObjectTagging", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "a.jpg")), NA);
    doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*Tagging','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObjectTagging", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_action_question_mark_matches_one_character)
{
    const char *doc =
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:?etObject','Resource':'arn:aws:s3:::photos/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "a.jpg")), NA);
}

TEST(test_action_star_and_s3_star_match_every_action)
{
    const char *docs[] = {
        DOC("{'Effect':'Allow','Principal':'*','Action':'*','Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/"
            "*']}"),
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/"
            "*']}"),
    };
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(eval_bucket(docs[i], req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
        CHECK_EQ_INT(eval_bucket(docs[i], req(ALICE, "s3:DeleteObjectVersion", "a.jpg")), ALLOW);
        CHECK_EQ_INT(eval_bucket(docs[i], req(ALICE, "s3:ListBucket", NULL)), ALLOW);
        CHECK_EQ_INT(eval_bucket(docs[i], req(ALICE, "s3:PutBucketPolicy", NULL)), ALLOW);
    }
}

TEST(test_not_action_matches_every_other_action)
{
    const char *doc = DOC("{'Effect':'Deny','Principal':'*','NotAction':['s3:GetObject','s3:List*'],"
                          "'Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*']}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:ListBucket", NULL)), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "a.jpg")), DENY);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:DeleteBucket", NULL)), DENY);
}

TEST(test_action_of_another_service_in_identity_policy_matches_nothing)
{
    const char *doc = DOC("{'Effect':'Allow','Action':['iam:*','ec2:DescribeInstances'],'Resource':'*'}");
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_action_names_round_trip_through_lookup)
{
    for (int a = 0; a < S3_POLICY_ACTION__COUNT; a++) {
        char name[128];
        s3_policy_action_t back;
        snprintf(name, sizeof(name), "%s:%s", s3_policy_action_service((s3_policy_action_t)a),
                 s3_policy_action_name((s3_policy_action_t)a));
        CHECK_EQ_INT(s3_policy_action_lookup(IOV(name), &back), 0);
        CHECK_EQ_INT(back, a);
    }
    s3_policy_action_t a;
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("s3:GetObjekt"), &a), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("GetObject"), &a), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("iam:GetObject"), &a), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("s3:CreateUser"), &a), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_policy_action_lookup(IOV("IAM:createuser"), &a), 0);
    CHECK_EQ_INT(a, S3_POLICY_ACTION_IAM_CREATE_USER);
    CHECK(strcmp(s3_policy_action_service(S3_POLICY_ACTION_GET_OBJECT), "s3") == 0);
    CHECK(strcmp(s3_policy_action_service(S3_POLICY_ACTION_IAM_LIST_USERS), "iam") == 0);
    CHECK(strcmp(s3_policy_action_name(S3_POLICY_ACTION__COUNT), "") == 0);
    CHECK(strcmp(s3_policy_action_service(S3_POLICY_ACTION__COUNT), "") == 0);
}

/* ---- IAM actions in identity policies */

#define IAM_ARN "arn:aws:iam::111122223333:"

/* A request of who for an IAM action ("iam:CreateUser") on an IAM resource ARN. */
static req_t *iam_req(int who, const char *action, const char *arn)
{
    req_t *q = req(who, action, NULL);
    q->r.resource = IOV(arn);
    return q;
}

TEST(test_iam_action_on_user_pattern_allows_matching_users_only)
{
    const char *doc = DOC("{'Effect':'Allow','Action':'iam:CreateUser','Resource':'" IAM_ARN "user/team-*'}");
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/team-x")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/other-y")), NA);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:DeleteUser", IAM_ARN "user/team-x")), NA);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateGroup", IAM_ARN "group/team-x")), NA);
}

TEST(test_iam_wildcards_reach_the_iam_actions_and_s3_ones_do_not)
{
    const char *iam_star = DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*'}");
    const char *s3_star = DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*'}");
    const char *star = DOC("{'Effect':'Allow','Action':'*','Resource':'*'}");
    const char *gets = DOC("{'Effect':'Allow','Action':'IAM:Get*','Resource':'*'}");
    CHECK_EQ_INT(eval_identity(iam_star, iam_req(ALICE, "iam:ListUsers", IAM_ARN "user/")), ALLOW);
    CHECK_EQ_INT(eval_identity(iam_star, req(ALICE, "s3:GetObject", "a.jpg")), NA);
    CHECK_EQ_INT(eval_identity(s3_star, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")), NA);
    CHECK_EQ_INT(eval_identity(star, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")), ALLOW);
    CHECK_EQ_INT(eval_identity(star, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_identity(gets, iam_req(ALICE, "iam:GetUserPolicy", IAM_ARN "user/x")), ALLOW);
    CHECK_EQ_INT(eval_identity(gets, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")), NA);
}

TEST(test_iam_actions_not_served_parse_and_match_nothing)
{
    const char *doc = DOC("{'Effect':'Allow','Action':['iam:CreateRole','iam:Attach*'],'Resource':'*'}");
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")), NA);
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'iam:CreateUser','Resource':'arn:aws:s3:::photos'}"),
                  "Policy has invalid action"));
}

TEST(test_iam_not_action_covers_iam_actions)
{
    const char *doc = DOC("{'Effect':'Allow','NotAction':'s3:*','Resource':'*'}");
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:ListUsers", IAM_ARN "user/")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_iam_username_variable_names_the_callers_own_user)
{
    const char *doc = DOC("{'Effect':'Allow','Action':'iam:*AccessKey*','Resource':'" IAM_ARN "user/${aws:username}'}");
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateAccessKey", IAM_ARN "user/alice")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:ListAccessKeys", IAM_ARN "user/alice")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateAccessKey", IAM_ARN "user/bob")), NA);
    CHECK_EQ_INT(eval_identity(doc, iam_req(BOB, "iam:CreateAccessKey", IAM_ARN "user/bob")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/alice")), NA);
}

TEST(test_identity_policy_takes_other_services_condition_keys_as_absent)
{
    const char *if_exists = DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*',"
                                "'Condition':{'StringLikeIfExists':{'iam:PassedToService':'lambda.amazonaws.com'}}}");
    const char *equals = DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*',"
                             "'Condition':{'StringEquals':{'ec2:Region':'cn-north-1'}}}");
    const char *not_equals = DOC("{'Effect':'Deny','Action':'iam:*','Resource':'*',"
                                 "'Condition':{'StringNotEquals':{'iam:PolicyARN':'arn:aws:iam::aws:policy/x'}}}");
    CHECK_EQ_INT(eval_identity(if_exists, iam_req(ALICE, "iam:ListUsers", IAM_ARN "user/")), ALLOW);
    CHECK_EQ_INT(eval_identity(equals, iam_req(ALICE, "iam:ListUsers", IAM_ARN "user/")), NA);
    CHECK_EQ_INT(eval_identity(not_equals, iam_req(ALICE, "iam:ListUsers", IAM_ARN "user/")), DENY);
    /* a bucket policy, and the aws: and s3: families, still name known keys only */
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*',"
                      "'Condition':{'StringEquals':{'iam:PassedToService':'x'}}}"),
                  "Policy has an invalid condition key"));
    CHECK(refused_identity(DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*',"
                               "'Condition':{'StringEquals':{'s3:NoSuchKey':'x'}}}"),
                           "Policy has an invalid condition key"));
    CHECK(refused_identity(DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*',"
                               "'Condition':{'StringEquals':{'AWS:Bogus':'x'}}}"),
                           "Policy has an invalid condition key"));
    CHECK(refused_identity(DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*',"
                               "'Condition':{'StringEquals':{'iam:':'x'}}}"),
                           "Policy has an invalid condition key"));
}

TEST(test_iam_explicit_deny_wins_over_an_allow_of_another_policy)
{
    s3_policy_t *allow = identity_policy(DOC("{'Effect':'Allow','Action':'iam:*','Resource':'*'}"));
    s3_policy_t *deny = identity_policy(DOC("{'Effect':'Deny','Action':'iam:DeleteUser','Resource':'*'}"));
    CHECK(allow != NULL && deny != NULL);
    const s3_policy_t *both[2] = {allow, deny};
    s3_policy_sources_t src = {.identity = both, .nidentity = 2, .owner_account = IOV("111122223333")};
    s3_policy_reason_t why;
    CHECK_EQ_INT(s3_policy_decide(&src, &iam_req(ALICE, "iam:DeleteUser", IAM_ARN "user/x")->r, &why), DENY);
    CHECK_EQ_INT(why.source, S3_POLICY_BY_IDENTITY);
    CHECK_EQ_INT(s3_policy_decide(&src, &iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")->r, &why), ALLOW);
    src.nidentity = 0;
    CHECK_EQ_INT(s3_policy_decide(&src, &iam_req(ALICE, "iam:CreateUser", IAM_ARN "user/x")->r, &why), DENY);
    CHECK_EQ_INT(why.source, S3_POLICY_BY_IMPLICIT_DENY);
    s3_policy_free(allow);
    s3_policy_free(deny);
}

/* ---- resources */

TEST(test_resource_bucket_arn_names_the_bucket_not_its_objects)
{
    const char *doc = DOC("{'Effect':'Allow','Principal':'*','Action':['s3:ListBucket','s3:GetObject'],"
                          "'Resource':'arn:aws:s3:::photos'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:ListBucket", NULL)), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), NA);
}

TEST(test_resource_bucket_part_may_be_a_pattern_matching_the_bucket)
{
    /* arn:aws:s3:::* names the bucket and, the star running over the slash, every object too */
    const char *doc = DOC("{'Effect':'Allow','Principal':'*','Action':['s3:ListBucket','s3:GetObject'],"
                          "'Resource':'arn:aws:s3:::*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:ListBucket", NULL)), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a/b.jpg")), ALLOW);
    doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::pho?os/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a.jpg")), ALLOW);
    doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:ListBucket','Resource':'arn:aws:s3:::ph*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:ListBucket", NULL)), ALLOW);
}

TEST(test_resource_star_matches_any_key_and_slashes)
{
    const char *doc = ALLOW_GET_TO("'*'");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a/b/c.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", NULL)), NA);
}

TEST(test_resource_prefix_and_inner_wildcards)
{
    const char *doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject',"
                          "'Resource':['arn:aws:s3:::photos/2024/*','arn:aws:s3:::photos/*/thumbs/*.png']}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "2024/06/a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "2023/06/a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "x/thumbs/a.png")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "x/y/thumbs/z/a.png")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "x/thumbs/a.png.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "x/thumb/a.png")), NA);
}

TEST(test_resource_question_mark_matches_exactly_one_character)
{
    const char *doc =
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/img?.jpg'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "img1.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "img.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "img12.jpg")), NA);
}

TEST(test_resource_is_case_sensitive)
{
    const char *doc =
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/Docs/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "Docs/a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "docs/a")), NA);
}

TEST(test_not_resource_matches_every_other_resource)
{
    const char *doc =
        DOC("{'Effect':'Deny','Principal':'*','Action':'s3:*','NotResource':'arn:aws:s3:::photos/public/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "public/a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "private/a")), DENY);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:ListBucket", NULL)), DENY);
}

TEST(test_resource_arn_is_built_and_bounded)
{
    char buf[S3_POLICY_ARN_MAX], small[20];
    h2o_iovec_t out;
    char key[1025];
    memset(key, 'k', 1024);
    key[1024] = '\0';
    CHECK_EQ_INT(s3_policy_resource_arn(IOV("photos"), NONE, buf, sizeof(buf), &out), 0);
    CHECK(out.len == 19 && memcmp(out.base, "arn:aws:s3:::photos", 19) == 0);
    CHECK_EQ_INT(s3_policy_resource_arn(IOV("photos"), IOV(""), buf, sizeof(buf), &out), 0);
    CHECK(out.len == 20 && out.base[19] == '/');
    CHECK_EQ_INT(s3_policy_resource_arn(IOV("a23456789012345678901234567890123456789012345678901234567890123"),
                                        IOV(key), buf, sizeof(buf), &out),
                 0);
    CHECK_EQ_INT(s3_policy_resource_arn(IOV("photos"), IOV("a/b"), small, sizeof(small), &out),
                 -S3_ERR_INVALID_ARGUMENT);
}

/* ---- conditions: strings */

TEST(test_string_equals_is_exact_and_case_sensitive)
{
    const char *doc = GET_IF("{'StringEquals':{'aws:UserAgent':'app/1.0'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app/1.0", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "App/1.0", NULL)),
        NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app/1.01", NULL)),
        NA);
    /* no wildcard: a '*' is a character */
    doc = GET_IF("{'StringEquals':{'aws:UserAgent':'app/*'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app/1.0", NULL)),
        NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app/*", NULL)),
        ALLOW);
}

TEST(test_string_not_equals_holds_for_other_values)
{
    const char *doc = GET_IF("{'StringNotEquals':{'aws:UserAgent':['bot','crawler']}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app", NULL)), ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "bot", NULL)), NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, "crawler", NULL)),
        NA);
}

TEST(test_string_equals_ignore_case)
{
    const char *doc = GET_IF("{'StringEqualsIgnoreCase':{'s3:x-amz-acl':'Public-Read'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "public-read", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "private", NULL)), NA);
    doc = GET_IF("{'StringNotEqualsIgnoreCase':{'s3:x-amz-acl':'PRIVATE'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "private", NULL)), NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "public-read", NULL)),
        ALLOW);
}

TEST(test_string_like_and_not_like_use_wildcards)
{
    const char *doc = GET_IF("{'StringLike':{'aws:Referer':['http://www.example.com/*','http://example.com/?']}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://www.example.com/x/y", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://example.com/a", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://example.com/ab", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://evil.com/", NULL)),
                 NA);
    doc = GET_IF("{'StringNotLike':{'aws:Referer':'http://www.example.com/*'}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://www.example.com/x", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "http://evil.com/", NULL)),
                 ALLOW);
}

/* ---- numbers */

TEST(test_numeric_operators_compare_numbers)
{
    static const struct {
        const char *op;
        int lt, eq, gt; /* decisions for max-keys 99, 100 and 101 against 100 */
    } cases[] = {
        {"NumericEquals", NA, ALLOW, NA},      {"NumericNotEquals", ALLOW, NA, ALLOW},
        {"NumericLessThan", ALLOW, NA, NA},    {"NumericLessThanEquals", ALLOW, ALLOW, NA},
        {"NumericGreaterThan", NA, NA, ALLOW}, {"NumericGreaterThanEquals", NA, ALLOW, ALLOW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc),
                 DOC("{'Effect':'Allow','Principal':'*','Action':'s3:ListBucket','Resource':'arn:aws:s3:::photos',"
                     "'Condition':{'%s':{'s3:max-keys':'100'}}}"),
                 cases[i].op);
        CHECK_EQ_INT(
            eval_bucket(doc, with(req(ANON, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "99", NULL)),
            cases[i].lt);
        CHECK_EQ_INT(
            eval_bucket(doc, with(req(ANON, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "100", NULL)),
            cases[i].eq);
        CHECK_EQ_INT(
            eval_bucket(doc, with(req(ANON, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "101", NULL)),
            cases[i].gt);
    }
}

TEST(test_numeric_values_may_be_json_numbers_and_decimals)
{
    const char *doc = GET_IF("{'NumericLessThan':{'s3:TlsVersion':1.2}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_TLS_VERSION, NULL, "1.1", NULL)), ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_TLS_VERSION, NULL, "1.3", NULL)), NA);
    doc = GET_IF("{'NumericGreaterThan':{'s3:object-lock-remaining-retention-days':-1}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"),
                                       S3_POLICY_KEY_S3_OBJECT_LOCK_REMAINING_RETENTION_DAYS, NULL, "0", NULL)),
                 ALLOW);
}

TEST(test_numeric_condition_on_a_value_that_is_no_number_does_not_match)
{
    const char *doc = GET_IF("{'NumericLessThan':{'s3:max-keys':'10'}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "five", NULL)),
                 NA);
    doc = GET_IF("{'NumericNotEquals':{'s3:max-keys':'10'}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "five", NULL)),
                 ALLOW);
}

/* ---- dates */

TEST(test_date_operators_compare_times)
{
    /* the request's time is 2024-06-01T12:00:00Z */
    static const struct {
        const char *op, *value;
        int expect;
    } cases[] = {
        {"DateEquals", "2024-06-01T12:00:00Z", ALLOW},
        {"DateEquals", "2024-06-01T12:00:01Z", NA},
        {"DateNotEquals", "2024-06-01T12:00:01Z", ALLOW},
        {"DateNotEquals", "2024-06-01T14:00:00+02:00", NA},
        {"DateLessThan", "2024-06-01T12:00:01Z", ALLOW},
        {"DateLessThan", "2024-06-01T12:00:00Z", NA},
        {"DateLessThanEquals", "2024-06-01T12:00:00Z", ALLOW},
        {"DateLessThanEquals", "2024-06-01T11:59:59Z", NA},
        {"DateGreaterThan", "2024-06-01", ALLOW},
        {"DateGreaterThan", "2024-06-01T12:00:00Z", NA},
        {"DateGreaterThanEquals", "2024-06-01T12:00:00.000Z", ALLOW},
        {"DateGreaterThanEquals", "2024-06-01T07:00:01-05:00", NA},
        {"DateEquals", "1717243200", ALLOW}, /* epoch seconds */
        {"DateGreaterThan", "2024-05", ALLOW},
        {"DateLessThan", "2025", ALLOW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), GET_IF("{'%s':{'aws:CurrentTime':'%s'}}"), cases[i].op, cases[i].value);
        int got = eval_bucket(doc, req(ANON, "s3:GetObject", "a"));
        if (got != cases[i].expect)
            fprintf(stderr, "  %s %s\n", cases[i].op, cases[i].value);
        CHECK_EQ_INT(got, cases[i].expect);
    }
}

TEST(test_date_condition_reads_dates_and_epochs_of_request_values)
{
    const char *doc = GET_IF("{'DateLessThan':{'s3:object-lock-retain-until-date':'2030-01-01T00:00:00Z'}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_OBJECT_LOCK_RETAIN_UNTIL_DATE,
                                       NULL, "2029-12-31T23:59:59.999Z", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_OBJECT_LOCK_RETAIN_UNTIL_DATE,
                                       NULL, "2030-01-01T00:00:00Z", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_OBJECT_LOCK_RETAIN_UNTIL_DATE,
                                       NULL, "not a date", NULL)),
                 NA);
    doc = GET_IF("{'NumericGreaterThanEquals':{'aws:EpochTime':1717243200}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
}

TEST(test_current_time_is_absent_without_a_clock)
{
    const char *doc = GET_IF("{'DateGreaterThan':{'aws:CurrentTime':'2000-01-01T00:00:00Z'}}");
    req_t *q = req(ANON, "s3:GetObject", "a");
    q->r.now_ns = 0;
    CHECK_EQ_INT(eval_bucket(doc, q), NA);
}

/* ---- booleans, binary, addresses, ARNs */

TEST(test_bool_matches_true_and_false)
{
    const char *doc = DOC("{'Effect':'Deny','Principal':'*','Action':'s3:*','Resource':'arn:aws:s3:::photos/*',"
                          "'Condition':{'Bool':{'aws:SecureTransport':'false'}}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL,
                                       "false", NULL)),
                 DENY);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL, "true", NULL)),
        NA);
    doc = GET_IF("{'Bool':{'aws:SecureTransport':true}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL, "TRUE", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL, "yes", NULL)),
        NA);
}

TEST(test_binary_equals_compares_the_base64_value)
{
    const char *doc = GET_IF("{'BinaryEquals':{'s3:x-amz-content-sha256':'QUJD'}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_CONTENT_SHA256, NULL,
                                       "QUJD", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_CONTENT_SHA256, NULL,
                                       "QUJE", NULL)),
                 NA);
}

TEST(test_ip_address_matches_v4_and_v6_blocks)
{
    const char *doc = GET_IF("{'IpAddress':{'aws:SourceIp':['192.0.2.0/24','2001:DB8:1234:5678::/64','203.0.113.7']}}");
    const char *in[] = {"192.0.2.1", "192.0.2.255", "2001:db8:1234:5678::1", "203.0.113.7", "::ffff:192.0.2.9"};
    const char *out[] = {"192.0.3.1", "2001:db8:1234:5679::1", "203.0.113.8", "not-an-ip", "10.0.0.1"};
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ_INT(
            eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, in[i], NULL)),
            ALLOW);
        CHECK_EQ_INT(
            eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, out[i], NULL)),
            NA);
    }
}

TEST(test_not_ip_address_holds_outside_the_blocks)
{
    const char *doc = DOC("{'Effect':'Deny','Principal':'*','Action':'s3:*','Resource':'arn:aws:s3:::photos/*',"
                          "'Condition':{'NotIpAddress':{'aws:SourceIp':['10.0.0.0/8','::1/128']}}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "10.1.2.3", NULL)),
        NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "::1", NULL)), NA);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "11.0.0.1", NULL)),
        DENY);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "::2", NULL)), DENY);
}

TEST(test_arn_like_and_equals_match_part_by_part)
{
    const char *doc = GET_IF("{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/a*'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), NA);
    /* a '*' stays inside its part: it cannot swallow the colons of the region and account; the
     * sixth part keeps its own colons */
    const char *topic = "arn:aws:sns:us-east-1:111122223333:topic:sub";
    doc = GET_IF("{'ArnEquals':{'aws:SourceArn':'arn:aws:sns:*:topic:sub'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_ARN, NULL, topic, NULL)), NA);
    doc = GET_IF("{'ArnEquals':{'aws:SourceArn':'arn:aws:sns:*:*:topic:sub'}}");
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_ARN, NULL, topic, NULL)),
        ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_ARN, NULL,
                                       "arn:aws:sns:topic:sub", NULL)),
                 NA);
    doc = GET_IF("{'ArnEquals':{'aws:PrincipalArn':'arn:aws:iam::111122223333:user/alice'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), ALLOW);
}

TEST(test_arn_not_like_and_not_equals)
{
    const char *doc = GET_IF("{'ArnNotLike':{'aws:PrincipalArn':'arn:aws:iam::111122223333:*'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(CAROL, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW); /* absent: "not like" holds */
    doc = GET_IF("{'ArnNotEquals':{'aws:PrincipalArn':'arn:aws:iam::111122223333:user/alice'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a")), ALLOW);
}

/* ---- absent keys, IfExists, Null, set qualifiers */

TEST(test_absent_key_fails_positive_and_satisfies_negated_operators)
{
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:Referer':'x'}}"), req(ANON, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringNotEquals':{'aws:Referer':'x'}}"), req(ANON, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'NumericLessThan':{'s3:max-keys':5}}"), req(ANON, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}"), req(ANON, "s3:GetObject", "a")),
                 ALLOW);
    /* a key given without values is absent too */
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:Referer':'x'}}"),
                             with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL, NULL)),
                 NA);
}

TEST(test_if_exists_holds_when_the_key_is_absent)
{
    const char *doc = GET_IF("{'StringEqualsIfExists':{'s3:x-amz-acl':'private'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "private", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "public-read", NULL)),
        NA);
    doc = GET_IF("{'NumericLessThanIfExists':{'s3:max-keys':'10'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "20", NULL)),
                 NA);
}

TEST(test_null_tests_whether_the_key_is_present)
{
    const char *doc = GET_IF("{'Null':{'s3:x-amz-server-side-encryption':'true'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION,
                                       NULL, "AES256", NULL)),
                 NA);
    doc = GET_IF("{'Null':{'s3:x-amz-server-side-encryption':false}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION,
                                       NULL, "AES256", NULL)),
                 ALLOW);
    /* the principal's keys: aws:username is absent for anonymous requests */
    doc = GET_IF("{'Null':{'aws:username':'true'}}");
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), NA);
}

TEST(test_for_any_value_needs_one_request_value_to_match)
{
    const char *doc = GET_IF("{'ForAnyValue:StringEquals':{'s3:RequestObjectTagKeys':['Owner','Project']}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Color", "Owner", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Color", "Size", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), NA); /* absent: false */
    doc = GET_IF("{'ForAnyValue:StringNotEquals':{'s3:RequestObjectTagKeys':['Owner']}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", "Size", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", NULL)),
                 NA);
}

TEST(test_for_all_values_needs_every_request_value_to_match)
{
    const char *doc = GET_IF("{'ForAllValues:StringLike':{'s3:RequestObjectTagKeys':['Owner','Cost*']}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", "CostCenter", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", "Color", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), ALLOW); /* absent: true */
    doc = GET_IF("{'ForAllValues:StringNotEquals':{'s3:RequestObjectTagKeys':['Secret']}}");
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", "Color", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL,
                                       "Owner", "Secret", NULL)),
                 NA);
}

TEST(test_conditions_are_and_of_operators_and_keys_or_of_values)
{
    const char *doc = GET_IF("{'StringEquals':{'s3:prefix':['a/','b/'],'s3:delimiter':'/'},"
                             "'NumericLessThanEquals':{'s3:max-keys':'100'}}");
    req_t *q = with(with(with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_PREFIX, NULL, "b/", NULL),
                         S3_POLICY_KEY_S3_DELIMITER, NULL, "/", NULL),
                    S3_POLICY_KEY_S3_MAX_KEYS, NULL, "50", NULL);
    CHECK_EQ_INT(eval_bucket(doc, q), ALLOW);
    q = with(with(with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_PREFIX, NULL, "b/", NULL),
                  S3_POLICY_KEY_S3_DELIMITER, NULL, "/", NULL),
             S3_POLICY_KEY_S3_MAX_KEYS, NULL, "500", NULL);
    CHECK_EQ_INT(eval_bucket(doc, q), NA);
    q = with(with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_PREFIX, NULL, "c/", NULL),
             S3_POLICY_KEY_S3_DELIMITER, NULL, "/", NULL);
    CHECK_EQ_INT(eval_bucket(doc, with(q, S3_POLICY_KEY_S3_MAX_KEYS, NULL, "5", NULL)), NA);
}

TEST(test_condition_key_names_ignore_case_but_tag_names_do_not)
{
    const char *doc = GET_IF("{'StringEquals':{'AWS:SOURCEIP':'x','S3:EXISTINGOBJECTTAG/Env':'prod'}}");
    req_t *q = with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "x", NULL);
    CHECK_EQ_INT(eval_bucket(doc, with(q, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG, "Env", "prod", NULL)), ALLOW);
    q = with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "x", NULL);
    CHECK_EQ_INT(eval_bucket(doc, with(q, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG, "env", "prod", NULL)), NA);
}

TEST(test_principal_keys_come_from_the_principal)
{
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:username':'alice'}}"), req(ALICE, "s3:GetObject", "a")),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:userid':'AIDABOB'}}"), req(BOB, "s3:GetObject", "a")),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:userid':'anonymous'}}"), req(ANON, "s3:GetObject", "a")),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:PrincipalAccount':'444455556666'}}"),
                             req(CAROL, "s3:GetObject", "a")),
                 ALLOW);
    CHECK_EQ_INT(
        eval_bucket(GET_IF("{'StringEquals':{'aws:PrincipalType':'Anonymous'}}"), req(ANON, "s3:GetObject", "a")),
        ALLOW);
    CHECK_EQ_INT(
        eval_bucket(GET_IF("{'StringEquals':{'aws:PrincipalType':'Account'}}"), req(ROOT, "s3:GetObject", "a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:PrincipalType':'User'}}"), req(BOB, "s3:GetObject", "a")),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(GET_IF("{'StringEquals':{'aws:username':'alice'}}"), req(ROOT, "s3:GetObject", "a")), NA);
}

/* ---- policy variables */

TEST(test_variable_username_in_resource)
{
    const char *doc = DOC("{'Effect':'Allow','Principal':{'AWS':'111122223333'},'Action':'s3:*',"
                          "'Resource':'arn:aws:s3:::photos/home/${aws:username}/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "home/alice/a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "home/bob/a.jpg")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:PutObject", "home/bob/a.jpg")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:GetObject", "home//a.jpg")), NA); /* no user name: no match */
}

TEST(test_variable_userid_in_condition)
{
    const char *doc = DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'arn:aws:s3:::photos',"
                          "'Condition':{'StringLike':{'s3:prefix':['${aws:userid}/*','']}}}");
    CHECK_EQ_INT(
        eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "AIDAALICE/x", NULL)),
        ALLOW);
    CHECK_EQ_INT(eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "", NULL)),
                 ALLOW);
    CHECK_EQ_INT(
        eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "AIDABOB/x", NULL)),
        NA);
}

TEST(test_variable_value_is_literal_not_a_wildcard)
{
    const char *doc =
        DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/${aws:username}'}");
    req_t *q = req(ALICE, "s3:GetObject", "alice");
    q->r.principal.username = IOV("a*");
    CHECK_EQ_INT(eval_identity(doc, q), NA);
    q = req(ALICE, "s3:GetObject", "a*");
    q->r.principal.username = IOV("a*");
    CHECK_EQ_INT(eval_identity(doc, q), ALLOW);
}

TEST(test_variable_escapes_are_literal_characters)
{
    const char *doc =
        DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/a${*}b${?}c${$}d'}");
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "a*b?c$d")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "axxbycd")), NA);
}

TEST(test_variable_default_fills_a_missing_key)
{
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::photos/${aws:username, 'guest'}/*\"}}";
    s3_policy_t *p = parse_raw(S3_POLICY_BUCKET, doc);
    CHECK(p != NULL);
    int anon = (int)s3_policy_evaluate(p, &req(ANON, "s3:GetObject", "guest/a")->r);
    int alice = (int)s3_policy_evaluate(p, &req(ALICE, "s3:GetObject", "alice/a")->r);
    int other = (int)s3_policy_evaluate(p, &req(ALICE, "s3:GetObject", "guest/a")->r);
    s3_policy_free(p);
    CHECK_EQ_INT(anon, ALLOW);
    CHECK_EQ_INT(alice, ALLOW);
    CHECK_EQ_INT(other, NA);
}

TEST(test_variables_are_text_in_version_2008_and_without_version)
{
    const char *doc = "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'s3:GetObject',"
                      "'Resource':'arn:aws:s3:::photos/${aws:username}'}}";
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "alice")), NA);
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "${aws:username}")), ALLOW);
    doc = "{'Statement':{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/${aws:username}'}}";
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:GetObject", "${aws:username}")), ALLOW);
}

TEST(test_variable_current_time_and_source_ip)
{
    const char *doc = DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/${aws:SourceIp}/"
                          "${aws:CurrentTime}'}");
    CHECK_EQ_INT(eval_identity(doc, with(req(ALICE, "s3:GetObject", "192.0.2.1/2024-06-01T12:00:00Z"),
                                         S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "192.0.2.1", NULL)),
                 ALLOW);
}

/* A plain recursive glob: the reference the compiled matchers must agree with. */
static int reference_glob(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '*')
        return reference_glob(p + 1, s) || (*s != '\0' && reference_glob(p, s + 1));
    return *s != '\0' && (*p == '?' || *p == *s) && reference_glob(p + 1, s + 1);
}

TEST(test_wildcards_agree_with_a_reference_matcher)
{
    /* each pattern twice: as written (matched by its literal segments) and with a variable that
     * adds nothing (matched by the token walk) */
    unsigned seed = 12345;
    for (int n = 0; n < 3000; n++) {
        char pat[16], subj[16], doc[512];
        int plen = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 10;
        int slen = (int)((seed = seed * 1103515245 + 12345) >> 16) % 12;
        for (int i = 0; i < plen; i++)
            pat[i] = "ab*?"[((seed = seed * 1103515245 + 12345) >> 16) % 4];
        for (int i = 0; i < slen; i++)
            subj[i] = "ab"[((seed = seed * 1103515245 + 12345) >> 16) % 2];
        pat[plen] = subj[slen] = '\0';
        int expect = reference_glob(pat, subj) ? ALLOW : NA;
        for (int variant = 0; variant < 2; variant++) {
            snprintf(doc, sizeof(doc),
                     "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
                     "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::photos/*\",\"Condition\":"
                     "{\"StringLike\":{\"aws:UserAgent\":\"%s%s\"}}}}",
                     pat, variant ? "${aws:SourceVpc, ''}" : "");
            s3_policy_t *p = parse_raw(S3_POLICY_BUCKET, doc);
            CHECK(p != NULL);
            int got = (int)s3_policy_evaluate(
                p, &with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_USER_AGENT, NULL, subj, NULL)->r);
            s3_policy_free(p);
            if (got != expect)
                fprintf(stderr, "  pattern '%s' subject '%s' variant %d\n", pat, subj, variant);
            CHECK_EQ_INT(got, expect);
        }
    }
}

/* ---- one document: deny over allow, implicit deny */

TEST(test_deny_wins_over_allow_in_one_document)
{
    const char *doc = DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':'arn:aws:s3:::photos/*'},"
                          "{'Sid':'NoSecrets','Effect':'Deny','Principal':'*','Action':'s3:GetObject',"
                          "'Resource':'arn:aws:s3:::photos/secret/*'}");
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "secret/a")), DENY);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "public/a")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "secret/a")), ALLOW);
}

TEST(test_no_applicable_statement_is_not_applicable)
{
    const char *doc = ALLOW_GET_TO("{'AWS':'arn:aws:iam::111122223333:user/alice'}");
    CHECK_EQ_INT(eval_bucket(doc, req(BOB, "s3:GetObject", "a")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:DeleteObject", "a")), NA);
}

TEST(test_single_statement_object_is_a_statement)
{
    const char *doc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':'*','Action':'s3:GetObject',"
                      "'Resource':'arn:aws:s3:::photos/*'}}";
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), ALLOW);
}

/* ---- the combiner */

typedef struct {
    s3_policy_t *identity[2], *bucket;
    s3_policy_sources_t src;
} sources_t;

static void sources(sources_t *s, const char *identity, const char *bucket)
{
    memset(s, 0, sizeof(*s));
    if (identity != NULL)
        s->identity[s->src.nidentity++] = identity_policy(identity);
    if (bucket != NULL)
        s->bucket = bucket_policy(bucket);
    s->src.identity = (const s3_policy_t *const *)s->identity;
    s->src.bucket = s->bucket;
    s->src.owner_account = IOV("111122223333");
}

static void sources_free(sources_t *s)
{
    for (size_t i = 0; i < 2; i++)
        s3_policy_free(s->identity[i]);
    s3_policy_free(s->bucket);
}

static int decide(sources_t *s, const req_t *q, s3_policy_source_t *by)
{
    s3_policy_reason_t why;
    int d = (int)s3_policy_decide(&s->src, &q->r, &why);
    *by = why.source;
    return d;
}

#define IDENTITY_GET                                                                                                   \
    DOC("{'Sid':'ReadAll','Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}")
#define IDENTITY_DENY_DELETE DOC("{'Effect':'Deny','Action':'s3:DeleteObject','Resource':'*'}")

TEST(test_decide_implicit_deny_when_nothing_allows)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, NULL, NULL);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:GetObject", "a"), &by), DENY);
    CHECK_EQ_INT(by, S3_POLICY_BY_IMPLICIT_DENY);
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:GetObject", "a"), &by), DENY);
    sources_free(&s);
}

TEST(test_decide_identity_allow_is_enough_in_the_owners_account)
{
    sources_t s;
    s3_policy_source_t by;
    s3_policy_reason_t why;
    sources(&s, IDENTITY_GET, NULL);
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_IDENTITY);
    CHECK_EQ_INT(s3_policy_decide(&s.src, &req(BOB, "s3:GetObject", "a")->r, &why), ALLOW);
    CHECK(why.sid.len == 7 && memcmp(why.sid.base, "ReadAll", 7) == 0);
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:PutObject", "a"), &by), DENY);
    sources_free(&s);
}

TEST(test_decide_bucket_policy_allow_is_enough_in_the_owners_account)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, NULL, ALLOW_GET_TO("{'AWS':'arn:aws:iam::111122223333:user/bob'}"));
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_BUCKET);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:GetObject", "a"), &by), DENY);
    sources_free(&s);
}

TEST(test_decide_acl_grant_allows)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, NULL, NULL);
    s.src.acl_allows = 1;
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_ACL);
    sources_free(&s);
}

TEST(test_decide_explicit_deny_beats_every_allow)
{
    sources_t s;
    s3_policy_source_t by;
    /* a deny in the bucket policy beats the identity's allow and an ACL */
    sources(
        &s, IDENTITY_GET,
        DOC("{'Effect':'Deny','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/private/*'}"));
    s.src.acl_allows = 1;
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:GetObject", "private/a"), &by), DENY);
    CHECK_EQ_INT(by, S3_POLICY_BY_BUCKET);
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:GetObject", "public/a"), &by), ALLOW);
    sources_free(&s);
    /* a deny in an identity policy beats the bucket policy's allow */
    sources(&s, IDENTITY_DENY_DELETE,
            DOC("{'Effect':'Allow','Principal':'*','Action':'s3:DeleteObject','Resource':'arn:aws:s3:::photos/*'}"));
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:DeleteObject", "a"), &by), DENY);
    CHECK_EQ_INT(by, S3_POLICY_BY_IDENTITY);
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:DeleteObject", "a"), &by), ALLOW); /* anonymous has no identity policy */
    sources_free(&s);
}

TEST(test_decide_owner_is_allowed_unless_denied_but_keeps_the_policy_operations)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, NULL,
            DOC("{'Effect':'Deny','Principal':'*','Action':['s3:GetObject','s3:*BucketPolicy'],"
                "'Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*']}"));
    s.src.is_owner = 1;
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:PutObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_OWNER);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:GetObject", "a"), &by), DENY);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:PutBucketPolicy", NULL), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_OWNER);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:GetBucketPolicy", NULL), &by), ALLOW);
    CHECK_EQ_INT(decide(&s, req(ALICE, "s3:DeleteBucketPolicy", NULL), &by), ALLOW);
    s.src.is_owner = 0;
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:DeleteBucketPolicy", NULL), &by), DENY);
    sources_free(&s);
}

TEST(test_decide_anonymous_only_where_a_policy_or_acl_grants)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*'}"), ALLOW_GET_TO("'*'"));
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_BUCKET);
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:PutObject", "a"), &by), DENY); /* identity policies are not anonymous's */
    sources_free(&s);
}

TEST(test_decide_another_account_needs_its_own_and_the_buckets_allow)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, NULL, ALLOW_GET_TO("{'AWS':'444455556666'}"));
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), DENY); /* no identity allow */
    sources_free(&s);
    sources(&s, IDENTITY_GET, NULL);
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), DENY); /* no bucket allow */
    s.src.acl_allows = 1;
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_ACL);
    sources_free(&s);
    sources(&s, IDENTITY_GET, ALLOW_GET_TO("{'AWS':'444455556666'}"));
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(by, S3_POLICY_BY_BUCKET);
    sources_free(&s);
}

TEST(test_decide_restrict_public_buckets_keeps_a_public_policy_to_the_owners_account)
{
    sources_t s;
    s3_policy_source_t by;
    sources(&s, IDENTITY_GET, ALLOW_GET_TO("'*'"));
    s.src.restrict_public_buckets = 1;
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:GetObject", "a"), &by), DENY);
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), DENY);
    CHECK_EQ_INT(decide(&s, req(BOB, "s3:GetObject", "a"), &by), ALLOW);
    s.src.restrict_public_buckets = 0;
    CHECK_EQ_INT(decide(&s, req(ANON, "s3:GetObject", "a"), &by), ALLOW);
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), ALLOW);
    sources_free(&s);
    /* a policy that is not public is not restricted */
    sources(&s, IDENTITY_GET, ALLOW_GET_TO("{'AWS':'444455556666'}"));
    s.src.restrict_public_buckets = 1;
    CHECK_EQ_INT(decide(&s, req(CAROL, "s3:GetObject", "a"), &by), ALLOW);
    sources_free(&s);
}

/* ---- public policies */

static int is_public(const char *doc)
{
    s3_policy_t *p = bucket_policy(doc);
    if (p == NULL)
        return -1;
    int r = s3_policy_is_public(p);
    s3_policy_free(p);
    return r;
}

TEST(test_public_when_everyone_is_allowed_without_a_narrowing_condition)
{
    CHECK_EQ_INT(is_public(ALLOW_GET_TO("'*'")), 1);
    CHECK_EQ_INT(is_public(ALLOW_GET_TO("{'AWS':'*'}")), 1);
    CHECK_EQ_INT(is_public(DOC("{'Effect':'Allow','NotPrincipal':{'AWS':'111122223333'},'Action':'s3:GetObject',"
                               "'Resource':'arn:aws:s3:::photos/*'}")),
                 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringLike':{'aws:SourceVpc':'vpc-*'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:Referer':'http://example.com/'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEqualsIfExists':{'aws:SourceVpce':'vpce-1a2b3c4d'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringNotEquals':{'aws:SourceVpce':'vpce-1a2b3c4d'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:userid':'AROLEID:*'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'IpAddress':{'aws:SourceIp':['192.0.2.0/24','0.0.0.0/1']}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'IpAddress':{'aws:SourceIp':'2001:db8::/16'}}")), 1);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:SourceAccount':'${aws:username}'}}")), 1);
}

TEST(test_not_public_when_fixed_parties_or_deny)
{
    CHECK_EQ_INT(is_public(ALLOW_GET_TO("{'AWS':'111122223333'}")), 0);
    CHECK_EQ_INT(is_public(ALLOW_GET_TO("{'CanonicalUser':'" ALICE_CANONICAL "'}")), 0);
    CHECK_EQ_INT(is_public(DOC("{'Effect':'Deny','Principal':'*','Action':'s3:*','Resource':'arn:aws:s3:::photos/*'}")),
                 0);
    CHECK_EQ_INT(is_public(GET_IF("{'IpAddress':{'aws:SourceIp':['192.0.2.0/24','10.0.0.0/8','2001:db8::/32']}}")), 0);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:SourceVpce':'vpce-1a2b3c4d'}}")), 0);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:SourceAccount':'111122223333'}}")), 0);
    CHECK_EQ_INT(is_public(GET_IF("{'ArnEquals':{'aws:SourceArn':'arn:aws:s3:::logs'}}")), 0);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:PrincipalArn':'arn:aws:iam::111122223333:user/bob'}}")), 0);
    CHECK_EQ_INT(is_public(GET_IF("{'StringEquals':{'aws:userid':'AIDABOB'}}")), 0);
    /* one public statement makes the policy public */
    CHECK_EQ_INT(
        is_public(DOC("{'Effect':'Allow','Principal':{'AWS':'111122223333'},'Action':'s3:GetObject',"
                      "'Resource':'arn:aws:s3:::photos/*'},"
                      "{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}")),
        1);
    /* identity policies name no principal: never public */
    s3_policy_t *p = identity_policy(DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*'}"));
    CHECK(p != NULL);
    int pub = s3_policy_is_public(p);
    s3_policy_free(p);
    CHECK_EQ_INT(pub, 0);
}

/* ---- MalformedPolicy */

TEST(test_malformed_json)
{
    CHECK(refused_as(S3_POLICY_BUCKET, "{\"Statement\":[", "This policy contains invalid Json"));
    CHECK(refused_as(S3_POLICY_BUCKET, "{\"Statement\":[]} trailing", "This policy contains invalid Json"));
    CHECK(refused_as(S3_POLICY_BUCKET, "{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\"}",
                     "This policy contains invalid Json"));
    CHECK(refused_as(S3_POLICY_BUCKET, "{\"a\":\"\xff\"}", "This policy contains invalid Json"));
    CHECK(refused_as(S3_POLICY_BUCKET, "[{}]", "Policies must be valid JSON and the first byte must be '{'"));
    CHECK(refused_as(S3_POLICY_BUCKET, "", "Policies must be valid JSON and the first byte must be '{'"));
    CHECK(refused_as(S3_POLICY_BUCKET, "Version: 1", "Policies must be valid JSON and the first byte must be '{'"));
}

TEST(test_malformed_when_too_large)
{
    static char big[S3_POLICY_MAX_SIZE + 64];
    const char *head = "{\"Version\":\"2012-10-17\",\"Id\":\"", *tail =
                                                                    "\",\"Statement\":{\"Effect\":\"Allow\","
                                                                    "\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                                                                    "\"Resource\":\"arn:aws:s3:::photos/*\"}}";
    size_t fill = S3_POLICY_MAX_SIZE - strlen(head) - strlen(tail);
    snprintf(big, sizeof(big), "%s%*s%s", head, (int)fill, "", tail);
    CHECK_EQ_INT(strlen(big), S3_POLICY_MAX_SIZE);
    s3_policy_t *p = parse_raw(S3_POLICY_BUCKET, big); /* exactly the limit: accepted */
    CHECK(p != NULL);
    s3_policy_free(p);
    snprintf(big, sizeof(big), "%s%*s%s", head, (int)fill + 1, "", tail);
    CHECK(refused_as(S3_POLICY_BUCKET, big, "Policy exceeds the maximum allowed document size."));
}

TEST(test_malformed_top_level)
{
    CHECK(refused("{'version':'2012-10-17','Statement':[]}", "Unknown field version"));
    CHECK(refused("{'Version':'2012-10-18','Statement':[]}", "The policy must contain a valid version string"));
    CHECK(refused("{'Version':20121017,'Statement':[]}", "The policy must contain a valid version string"));
    CHECK(refused("{'Version':'2012-10-17','Id':5,'Statement':[]}", "Id must be a string"));
    CHECK(refused("{'Version':'2012-10-17'}", "Missing required field Statement"));
    CHECK(refused("{'Version':'2012-10-17','Statement':[]}", "Statement must not be empty"));
    CHECK(refused("{'Version':'2012-10-17','Statement':['x']}", "Statement must be an object or an array of objects"));
    CHECK(refused("{'Version':'2012-10-17','Statement':5}", "Statement must be an object or an array of objects"));
}

TEST(test_malformed_statement_fields)
{
    CHECK(refused(
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*','Extra':1}"),
        "Unknown field Extra"));
    CHECK(refused(
        DOC("{'Sid':7,'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
        "Sid must be a string"));
    CHECK(refused(DOC("{'Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
                  "Missing required field Effect"));
    CHECK(refused(DOC("{'Effect':'hello','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
                  "Invalid effect: hello"));
    CHECK(refused(DOC("{'Effect':'allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
                  "Invalid effect: allow"));
    CHECK(refused(DOC("{'Effect':true,'Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
                  "Invalid effect: not a string"));
}

TEST(test_malformed_principal)
{
    CHECK(refused(DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}"),
                  "Missing required field Principal"));
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','NotPrincipal':{'AWS':'111122223333'},'Action':'s3:GetObject',"
                      "'Resource':'arn:aws:s3:::photos/*'}"),
                  "A statement may have Principal or NotPrincipal, not both"));
    const char *bad[] = {
        "'bob'",
        "5",
        "{}",
        "{'AWS':[]}",
        "{'AWS':'bob'}",
        "{'AWS':'12345678901'}",
        "{'AWS':'arn:aws:iam::1:user/x'}",
        "{'AWS':'arn:aws:iam::111122223333:user/*'}",
        "{'AWS':'arn:aws:iam::111122223333:user/'}",
        "{'AWS':'arn:aws:iam::111122223333:group/g'}",
        "{'AWS':'arn:aws:s3:::photos'}",
        "{'Federated':'cognito-identity.amazonaws.com'}",
        "{'CanonicalUser':'xyz'}",
        "{'CanonicalUser':'" ALICE_CANONICAL "0'}",
        "{'Service':'*'}",
        "{'AWS':['*',5]}",
        "['*']",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), "%s", ALLOW_GET_TO("%s"));
        char full[1024];
        snprintf(full, sizeof(full), doc, bad[i]);
        if (!refused(full, "Invalid principal in policy"))
            fprintf(stderr, "  principal %s\n", bad[i]);
        CHECK(refused(full, "Invalid principal in policy"));
    }
}

TEST(test_malformed_principal_in_identity_policy)
{
    CHECK(refused_identity(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'*'}"),
                           "Policy document should not specify a principal."));
    CHECK(refused_identity(
        DOC("{'Effect':'Allow','NotPrincipal':{'AWS':'111122223333'},'Action':'s3:GetObject','Resource':'*'}"),
        "Policy document should not specify a principal."));
}

TEST(test_identity_policy_sids_are_unique)
{
    CHECK(refused_identity(DOC("{'Sid':'A1','Effect':'Allow','Action':'*','Resource':'*'},"
                               "{'Sid':'B2','Effect':'Allow','Action':'*','Resource':'*'},"
                               "{'Sid':'A1','Effect':'Deny','Action':'s3:GetObject','Resource':'*'}"),
                           "Statement IDs (SID) in a single policy must be unique."));
    /* distinct Sids, or none, are fine */
    s3_policy_t *p = identity_policy(DOC("{'Sid':'A1','Effect':'Allow','Action':'*','Resource':'*'},"
                                         "{'Effect':'Allow','Action':'*','Resource':'*'},"
                                         "{'Effect':'Deny','Action':'s3:GetObject','Resource':'*'}"));
    CHECK(p != NULL);
    s3_policy_free(p);
}

static int no_such_user(void *arg, h2o_iovec_t arn)
{
    (*(int *)arg)++;
    return arn.len >= 3 && memcmp(arn.base + arn.len - 3, "bob", 3) == 0 ? 0 : -1;
}

TEST(test_malformed_principal_that_does_not_exist)
{
    s3_policy_options_t o = options(S3_POLICY_BUCKET);
    s3_policy_error_t err;
    s3_policy_t *p = NULL;
    int asked = 0;
    o.principal_exists = no_such_user;
    o.principal_exists_arg = &asked;
    const char *doc =
        json(ALLOW_GET_TO("{'AWS':['arn:aws:iam::111122223333:user/bob','arn:aws:iam::111122223333:user/eve']}"));
    CHECK_EQ_INT(s3_policy_parse(IOV(doc), &o, &p, &err), -S3_ERR_MALFORMED_POLICY);
    CHECK(strcmp(err.message, "Invalid principal in policy") == 0);
    CHECK_EQ_INT(asked, 2);
    doc = json(ALLOW_GET_TO("{'AWS':['arn:aws:iam::111122223333:user/bob','111122223333']}"));
    CHECK_EQ_INT(s3_policy_parse(IOV(doc), &o, &p, &err), 0);
    s3_policy_free(p);
}

TEST(test_malformed_action)
{
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Resource':'arn:aws:s3:::photos/*'}"),
                  "Missing required field Action"));
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','NotAction':'s3:PutObject',"
                      "'Resource':'arn:aws:s3:::photos/*'}"),
                  "A statement may have Action or NotAction, not both"));
    const char *bad[] = {"'s3:GetObjekt'",   "'GetObject'",     "'s3:'", "':GetObject'", "'s3:Foo*'",
                         "'iam:CreateUser'", "'s3:Get Object'", "5",     "[]",           "['s3:GetObject',7]",
                         "{'a':1}",          "'s3:Get/Object'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc),
                 json(DOC("{'Effect':'Allow','Principal':'*','Action':%s,'Resource':'arn:aws:s3:::photos/*'}")),
                 json(bad[i]));
        if (!refused_as(S3_POLICY_BUCKET, doc, "Policy has invalid action"))
            fprintf(stderr, "  action %s\n", bad[i]);
        CHECK(refused_as(S3_POLICY_BUCKET, doc, "Policy has invalid action"));
    }
    /* an identity policy may name other services' actions, not unknown S3 ones */
    CHECK(refused_identity(DOC("{'Effect':'Allow','Action':'s3:GetObjekt','Resource':'*'}"),
                           "Policy has invalid action"));
    s3_policy_t *p = identity_policy(DOC("{'Effect':'Allow','Action':'iam:CreateUser','Resource':'*'}"));
    CHECK(p != NULL);
    s3_policy_free(p);
}

TEST(test_malformed_resource)
{
    CHECK(
        refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject'}"), "Missing required field Resource"));
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*',"
                      "'NotResource':'arn:aws:s3:::photos/a'}"),
                  "A statement may have Resource or NotResource, not both"));
    const char *bad[] = {"'arn:aws:s3:::other/*'",
                         "'*'",
                         "'arn:aws:s3:::photosx/*'",
                         "'arn:aws:s3:::photo?x'",
                         "'arn:aws:s3:::other*'",
                         "'photos/*'",
                         "'arn:aws:iam::111122223333:user/x'",
                         "5",
                         "[]",
                         "['arn:aws:s3:::photos/*',null]",
                         "'arn:aws:s3:::${aws:username}/*'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), json(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:*','Resource':%s}")),
                 json(bad[i]));
        if (!refused_as(S3_POLICY_BUCKET, doc, "Policy has invalid resource"))
            fprintf(stderr, "  resource %s\n", bad[i]);
        CHECK(refused_as(S3_POLICY_BUCKET, doc, "Policy has invalid resource"));
    }
    CHECK(
        refused_identity(DOC("{'Effect':'Allow','Action':'s3:*','Resource':'photos'}"), "Policy has invalid resource"));
    CHECK(refused_identity(DOC("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:s3'}"),
                           "Policy has invalid resource"));
}

TEST(test_malformed_when_action_fits_no_resource)
{
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos'}"),
                  "Action does not apply to any resource(s) in statement"));
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':['s3:ListBucket','s3:GetBucketAcl'],"
                      "'Resource':'arn:aws:s3:::photos/*'}"),
                  "Action does not apply to any resource(s) in statement"));
    CHECK(refused(
        DOC("{'Effect':'Allow','Principal':'*','Action':'s3:ListAllMyBuckets','Resource':'arn:aws:s3:::photos'}"),
        "Action does not apply to any resource(s) in statement"));
    /* one fitting pair is enough */
    s3_policy_t *p = bucket_policy(DOC("{'Effect':'Allow','Principal':'*','Action':['s3:ListBucket','s3:GetObject'],"
                                       "'Resource':'arn:aws:s3:::photos'}"));
    CHECK(p != NULL);
    s3_policy_free(p);
}

TEST(test_malformed_condition_operator)
{
    CHECK(refused(GET_IF("{'StringEqualz':{'aws:Referer':'x'}}"), "Invalid Condition type : StringEqualz"));
    CHECK(refused(GET_IF("{'stringequals':{'aws:Referer':'x'}}"), "Invalid Condition type : stringequals"));
    CHECK(refused(GET_IF("{'NullIfExists':{'aws:Referer':'true'}}"), "Invalid Condition type : NullIfExists"));
    CHECK(refused(GET_IF("{'ForAnyValue:Null':{'aws:Referer':'true'}}"), "Invalid Condition type : ForAnyValue:Null"));
    CHECK(refused(GET_IF("{'ForSomeValues:StringEquals':{'aws:Referer':'x'}}"),
                  "Invalid Condition type : ForSomeValues:StringEquals"));
    CHECK(refused(GET_IF("{'IfExists':{'aws:Referer':'x'}}"), "Invalid Condition type : IfExists"));
    CHECK(refused(GET_IF("'StringEquals'"), "Condition must be an object of condition operators"));
    CHECK(refused(GET_IF("{'StringEquals':['aws:Referer']}"),
                  "Condition operator must map condition keys to values: StringEquals"));
}

TEST(test_malformed_condition_key)
{
    const char *bad[] = {"s3:prefixx",           "aws:SourceIP6",         "prefix",        "",
                         "s3:ExistingObjectTag", "s3:ExistingObjectTag/", "aws:nosuchkey", "ec2:SourceInstanceARN"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), GET_IF("{'StringEquals':{'%s':'x'}}"), bad[i]);
        if (!refused(doc, "Policy has an invalid condition key"))
            fprintf(stderr, "  key %s\n", bad[i]);
        CHECK(refused(doc, "Policy has an invalid condition key"));
    }
}

TEST(test_malformed_condition_values)
{
    CHECK(refused(GET_IF("{'NumericLessThan':{'s3:max-keys':'ten'}}"), "Invalid number in Conditions: ten"));
    CHECK(refused(GET_IF("{'NumericLessThan':{'s3:max-keys':'1e3'}}"), "Invalid number in Conditions: 1e3"));
    CHECK(refused(GET_IF("{'NumericLessThan':{'s3:max-keys':true}}"), "Invalid number in Conditions: true"));
    CHECK(
        refused(GET_IF("{'DateLessThan':{'aws:CurrentTime':'2024-13-01'}}"), "Invalid date in Conditions: 2024-13-01"));
    CHECK(refused(GET_IF("{'DateLessThan':{'aws:CurrentTime':'2024-02-30T00:00:00Z'}}"),
                  "Invalid date in Conditions: 2024-02-30T00:00:00Z"));
    CHECK(refused(GET_IF("{'DateLessThan':{'aws:CurrentTime':'2024-02-01T10:00:00'}}"),
                  "Invalid date in Conditions: 2024-02-01T10:00:00"));
    CHECK(refused(GET_IF("{'DateLessThan':{'aws:CurrentTime':'yesterday'}}"), "Invalid date in Conditions: yesterday"));
    CHECK(refused(GET_IF("{'Bool':{'aws:SecureTransport':'yes'}}"), "Invalid boolean in Conditions: yes"));
    CHECK(refused(GET_IF("{'Null':{'aws:Referer':1}}"), "Invalid boolean in Conditions: 1"));
    CHECK(refused(GET_IF("{'IpAddress':{'aws:SourceIp':'192.0.2.0/33'}}"),
                  "Invalid IP address in Conditions: 192.0.2.0/33"));
    CHECK(refused(GET_IF("{'IpAddress':{'aws:SourceIp':'10.0.0.*'}}"), "Invalid IP address in Conditions: 10.0.0.*"));
    CHECK(refused(GET_IF("{'NotIpAddress':{'aws:SourceIp':'::1/129'}}"), "Invalid IP address in Conditions: ::1/129"));
    CHECK(refused(GET_IF("{'BinaryEquals':{'aws:Referer':'QUJ'}}"), "Invalid base64 value in Conditions: QUJ"));
    CHECK(refused(GET_IF("{'ArnLike':{'aws:SourceArn':'arn:aws:s3'}}"), "Invalid ARN in Conditions: arn:aws:s3"));
    CHECK(
        refused(GET_IF("{'ArnLike':{'aws:SourceArn':'urn:aws:s3:::x'}}"), "Invalid ARN in Conditions: urn:aws:s3:::x"));
    CHECK(refused(GET_IF("{'StringEquals':{'aws:Referer':[]}}"), "Condition key has no value: aws:Referer"));
    CHECK(refused(GET_IF("{'StringEquals':{'aws:Referer':null}}"),
                  "Condition values must be strings, numbers or booleans: aws:Referer"));
    CHECK(refused(GET_IF("{'StringEquals':{'aws:Referer':[['x']]}}"),
                  "Condition values must be strings, numbers or booleans: aws:Referer"));
    CHECK(refused(GET_IF("{'StringEquals':{'aws:Referer':{'x':1}}}"),
                  "Condition values must be strings, numbers or booleans: aws:Referer"));
}

TEST(test_malformed_policy_variable)
{
    CHECK(refused(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/"
                      "${aws:nosuch}'}"),
                  "Invalid policy variable: ${aws:nosuch}"));
    CHECK(refused(GET_IF("{'StringLike':{'s3:prefix':'${aws:username,guest}'}}"),
                  "Invalid policy variable: ${aws:username,guest}"));
    /* unterminated: text */
    s3_policy_t *p = bucket_policy(GET_IF("{'StringLike':{'s3:prefix':'${aws:username'}}"));
    CHECK(p != NULL);
    s3_policy_free(p);
}

TEST(test_malformed_message_is_safe_for_xml_and_bounded)
{
    char doc[4096], effect[2100];
    memset(effect, 'x', 2000);
    effect[2000] = '\0';
    snprintf(doc, sizeof(doc),
             json(DOC("{'Effect':'%s','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::photos/*'}")),
             effect);
    s3_policy_options_t o = options(S3_POLICY_BUCKET);
    s3_policy_error_t err;
    s3_policy_t *p = NULL;
    CHECK_EQ_INT(s3_policy_parse(IOV(doc), &o, &p, &err), -S3_ERR_MALFORMED_POLICY);
    CHECK(strlen(err.message) < S3_POLICY_MESSAGE_MAX && strncmp(err.message, "Invalid effect: xxx", 19) == 0);
    /* a control character becomes '?'; a multi-byte character cut short is dropped whole */
    const char *ctl = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"a\\u0001b\\n\"}}";
    CHECK_EQ_INT(s3_policy_parse(IOV(ctl), &o, &p, &err), -S3_ERR_MALFORMED_POLICY);
    CHECK(strcmp(err.message, "Invalid effect: a?b?") == 0);
    char wide[1024] = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"";
    for (int i = 0; i < 100; i++)
        strcat(wide, "\xe4\xba\x91"); /* 云, three bytes */
    strcat(wide, "\"}}");
    CHECK_EQ_INT(s3_policy_parse(IOV(wide), &o, &p, &err), -S3_ERR_MALFORMED_POLICY);
    size_t n = strlen(err.message) - strlen("Invalid effect: ");
    CHECK_EQ_INT(n % 3, 0);
}

/* ---- the stored text */

TEST(test_text_is_kept_exactly_as_sent)
{
    const char *doc = "  {\n  \"Version\" : \"2012-10-17\",\n \"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::photos/\xe4\xba\x91*\"}]\n}\n";
    s3_policy_t *p = parse_raw(S3_POLICY_BUCKET, doc);
    CHECK(p != NULL);
    h2o_iovec_t t = s3_policy_text(p);
    int same = t.len == strlen(doc) && memcmp(t.base, doc, t.len) == 0;
    s3_policy_free(p);
    CHECK(same);
}

/* ---- AWS's documented example policies */

TEST(test_example_public_read)
{
    const char *doc = "{'Version':'2012-10-17','Statement':[{'Sid':'PublicRead','Effect':'Allow','Principal':'*',"
                      "'Action':['s3:GetObject','s3:GetObjectVersion'],'Resource':['arn:aws:s3:::photos/*']}]}";
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "index.html")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObjectVersion", "index.html")), ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:PutObject", "index.html")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:ListBucket", NULL)), NA);
    CHECK_EQ_INT(is_public(doc), 1);
}

TEST(test_example_restrict_to_ip_ranges)
{
    const char *doc = "{'Version':'2012-10-17','Id':'S3PolicyId1','Statement':[{'Sid':'IPAllow','Effect':'Deny',"
                      "'Principal':'*','Action':'s3:*','Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*'],"
                      "'Condition':{'NotIpAddress':{'aws:SourceIp':'192.0.2.0/24'}}}]}";
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "192.0.2.10", NULL)),
        NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_AWS_SOURCE_IP, NULL,
                                       "198.51.100.1", NULL)),
                 DENY);
    doc = "{'Version':'2012-10-17','Statement':[{'Sid':'AllowIPmix','Effect':'Allow','Principal':'*','Action':'s3:*',"
          "'Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*'],'Condition':{'IpAddress':{'aws:SourceIp':"
          "['192.0.2.0/24','2001:DB8:1234:5678::/64']},'NotIpAddress':{'aws:SourceIp':['203.0.113.0/24',"
          "'2001:DB8:1234:5678:ABCD::/80']}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL,
                                       "2001:db8:1234:5678::9", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL,
                                       "2001:db8:1234:5678:abcd::9", NULL)),
                 NA);
    CHECK_EQ_INT(is_public(doc), 0);
}

TEST(test_example_http_referer)
{
    const char *doc =
        "{'Version':'2012-10-17','Id':'HTTP referer policy example','Statement':[{'Sid':"
        "'Allow only GET requests originating from www.example.com and example.com.','Effect':'Allow',"
        "'Principal':'*','Action':['s3:GetObject','s3:GetObjectVersion'],'Resource':'arn:aws:s3:::photos/*',"
        "'Condition':{'StringLike':{'aws:Referer':['https://www.example.com/*','https://example.com/*']}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(ANON, "s3:GetObject", "a"), S3_POLICY_KEY_AWS_REFERER, NULL,
                                       "https://example.com/page", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:GetObject", "a")), NA);
}

TEST(test_example_enforce_https)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'RestrictToTLSRequestsOnly','Action':'s3:*','Effect':'Deny',"
        "'Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*'],'Condition':{'Bool':{'aws:SecureTransport':"
        "'false'}},'Principal':'*'}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:PutObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL,
                                       "false", NULL)),
                 DENY);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(ALICE, "s3:PutObject", "a"), S3_POLICY_KEY_AWS_SECURE_TRANSPORT, NULL, "true", NULL)),
        NA);
    CHECK_EQ_INT(is_public(doc), 0);
}

TEST(test_example_bucket_owner_full_control)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'AddCannedAcl','Effect':'Allow','Principal':{'AWS':"
        "['arn:aws:iam::111122223333:root','arn:aws:iam::444455556666:root']},'Action':['s3:PutObject',"
        "'s3:PutObjectAcl'],'Resource':'arn:aws:s3:::photos/*','Condition':{'StringEquals':{'s3:x-amz-acl':"
        "['bucket-owner-full-control']}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(CAROL, "s3:PutObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL,
                                       "bucket-owner-full-control", NULL)),
                 ALLOW);
    CHECK_EQ_INT(
        eval_bucket(doc, with(req(CAROL, "s3:PutObject", "a"), S3_POLICY_KEY_S3_X_AMZ_ACL, NULL, "private", NULL)), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(CAROL, "s3:PutObject", "a")), NA);
}

TEST(test_example_object_tags)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Principal':{'AWS':['arn:aws:iam::111122223333:user/alice']},"
        "'Effect':'Allow','Action':['s3:GetObject','s3:GetObjectVersion'],'Resource':'arn:aws:s3:::photos/*',"
        "'Condition':{'StringEquals':{'s3:ExistingObjectTag/environment':'production'}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG,
                                       "environment", "production", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG,
                                       "environment", "test", NULL)),
                 NA);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:GetObject", "a"), S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG, "stage",
                                       "production", NULL)),
                 NA);
    doc =
        "{'Version':'2012-10-17','Statement':[{'Principal':{'AWS':['arn:aws:iam::111122223333:root']},'Effect':'Allow',"
        "'Action':['s3:PutObjectTagging'],'Resource':['arn:aws:s3:::photos/*'],'Condition':{'ForAllValues:StringLike':"
        "{'s3:RequestObjectTagKeys':['Owner','CreationDate']},'StringEquals':{'s3:RequestObjectTag/"
        "Department':'Finance'}}}]}";
    req_t *q = with(req(BOB, "s3:PutObjectTagging", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL, "Owner",
                    "Department", NULL);
    CHECK_EQ_INT(eval_bucket(doc, with(q, S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG, "Department", "Finance", NULL)), NA);
    q = with(req(BOB, "s3:PutObjectTagging", "a"), S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, NULL, "Owner",
             "CreationDate", NULL);
    CHECK_EQ_INT(eval_bucket(doc, with(q, S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG, "Department", "Finance", NULL)), ALLOW);
}

TEST(test_example_require_encryption)
{
    const char *doc =
        "{'Version':'2012-10-17','Id':'PutObjectPolicy','Statement':[{'Sid':'DenyIncorrectEncryptionHeader',"
        "'Effect':'Deny','Principal':'*','Action':'s3:PutObject','Resource':'arn:aws:s3:::photos/*',"
        "'Condition':{'StringNotEquals':{'s3:x-amz-server-side-encryption':'AES256'}}},{'Sid':"
        "'DenyUnEncryptedObjectUploads','Effect':'Deny','Principal':'*','Action':'s3:PutObject',"
        "'Resource':'arn:aws:s3:::photos/*','Condition':{'Null':{'s3:x-amz-server-side-encryption':true}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:PutObject", "a")), DENY);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:PutObject", "a"), S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION,
                                       NULL, "aws:kms", NULL)),
                 DENY);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:PutObject", "a"), S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION,
                                       NULL, "AES256", NULL)),
                 NA);
}

TEST(test_example_home_folders)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'AllowListingOfUserFolder','Action':['s3:ListBucket'],"
        "'Effect':'Allow','Resource':['arn:aws:s3:::photos'],'Condition':{'StringLike':{'s3:prefix':"
        "['home/${aws:username}/*','home/${aws:username}']}}},{'Sid':'AllowAllS3ActionsInUserFolder',"
        "'Effect':'Allow','Action':['s3:*'],'Resource':['arn:aws:s3:::photos/home/${aws:username}/*']}]}";
    CHECK_EQ_INT(
        eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "home/alice/", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "home/alice", NULL)),
        ALLOW);
    CHECK_EQ_INT(
        eval_identity(doc, with(req(ALICE, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_PREFIX, NULL, "home/bob/", NULL)),
        NA);
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:DeleteObject", "home/alice/x")), ALLOW);
    CHECK_EQ_INT(eval_identity(doc, req(ALICE, "s3:DeleteObject", "home/bob/x")), NA);
}

TEST(test_example_mfa_and_time_and_max_keys)
{
    /* MFA: yuncang has none, so the "deny without MFA" example denies every request */
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'','Effect':'Deny','Principal':'*','Action':'s3:*',"
        "'Resource':'arn:aws:s3:::photos/taxdocuments/*','Condition':{'Null':{'aws:MultiFactorAuthAge':true}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "taxdocuments/2023.pdf")), DENY);
    doc = "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'111122223333'},'Action':'s3:"
          "ListBucket',"
          "'Resource':'arn:aws:s3:::photos','Condition':{'NumericLessThanEquals':{'s3:max-keys':'10'},"
          "'DateGreaterThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'},'DateLessThan':{'aws:CurrentTime':'2024-12-"
          "31T23:59:59Z'}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(BOB, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "10", NULL)),
                 ALLOW);
    CHECK_EQ_INT(eval_bucket(doc, with(req(BOB, "s3:ListBucket", NULL), S3_POLICY_KEY_S3_MAX_KEYS, NULL, "1000", NULL)),
                 NA);
}

TEST(test_example_object_lock_retention)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'SetRetentionLimits','Effect':'Deny','Principal':'*',"
        "'Action':['s3:PutObjectRetention'],'Resource':'arn:aws:s3:::photos/*','Condition':{"
        "'NumericGreaterThan':{'s3:object-lock-remaining-retention-days':'10'}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:PutObjectRetention", "a"),
                                       S3_POLICY_KEY_S3_OBJECT_LOCK_REMAINING_RETENTION_DAYS, NULL, "30", NULL)),
                 DENY);
    CHECK_EQ_INT(eval_bucket(doc, with(req(ALICE, "s3:PutObjectRetention", "a"),
                                       S3_POLICY_KEY_S3_OBJECT_LOCK_REMAINING_RETENTION_DAYS, NULL, "5", NULL)),
                 NA);
}

TEST(test_example_server_access_logging_parses_and_matches_no_request)
{
    const char *doc =
        "{'Version':'2012-10-17','Statement':[{'Sid':'S3ServerAccessLogsPolicy','Effect':'Allow','Principal':"
        "{'Service':'logging.s3.amazonaws.com'},'Action':['s3:PutObject'],'Resource':'arn:aws:s3:::photos/logs/*',"
        "'Condition':{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::source-bucket'},'StringEquals':"
        "{'aws:SourceAccount':'111122223333'}}}]}";
    CHECK_EQ_INT(eval_bucket(doc, req(ANON, "s3:PutObject", "logs/x")), NA);
    CHECK_EQ_INT(eval_bucket(doc, req(ROOT, "s3:PutObject", "logs/x")), NA);
    CHECK_EQ_INT(is_public(doc), 0);
}

TEST(test_example_deny_except_vpc_endpoint)
{
    const char *doc =
        "{'Version':'2012-10-17','Id':'Policy1415115909152','Statement':[{'Sid':'Access-to-specific-VPCE-only',"
        "'Principal':'*','Action':'s3:*','Effect':'Deny','Resource':['arn:aws:s3:::photos','arn:aws:s3:::photos/*'],"
        "'Condition':{'StringNotEquals':{'aws:SourceVpce':'vpce-1a2b3c4d'}}}]}";
    /* no request comes through a VPC endpoint here: every one is denied */
    CHECK_EQ_INT(eval_bucket(doc, req(ALICE, "s3:GetObject", "a")), DENY);
}

/* ---- cost */

TEST(test_evaluation_allocates_nothing)
{
    if (!COUNTING) {
        fprintf(stderr, "  skipped %s: a sanitizer owns the allocator\n", __func__);
        return;
    }
    const char *doc = DOC("{'Effect':'Deny','Principal':'*','Action':'s3:*','Resource':'arn:aws:s3:::photos/*',"
                          "'Condition':{'NotIpAddress':{'aws:SourceIp':['10.0.0.0/8','2001:db8::/32']}}},"
                          "{'Effect':'Allow','Principal':{'AWS':'111122223333'},'Action':'s3:GetObject',"
                          "'Resource':'arn:aws:s3:::photos/home/${aws:username}/*','Condition':{'DateLessThan':"
                          "{'aws:CurrentTime':'2030-01-01'},'StringLike':{'aws:UserAgent':'*${aws:userid}*'}}}");
    s3_policy_t *p = bucket_policy(doc);
    CHECK(p != NULL);
    req_t *q =
        with(with(req(ALICE, "s3:GetObject", "home/alice/a.jpg"), S3_POLICY_KEY_AWS_SOURCE_IP, NULL, "10.1.2.3", NULL),
             S3_POLICY_KEY_AWS_USER_AGENT, NULL, "app AIDAALICE 1.0", NULL);
    const s3_policy_t *ident[1] = {p};
    s3_policy_sources_t src = {.identity = ident, .nidentity = 0, .bucket = p, .owner_account = IOV("111122223333")};
    allocations = 0;
    counting = 1;
    int d = (int)s3_policy_evaluate(p, &q->r);
    int d2 = (int)s3_policy_decide(&src, &q->r, NULL);
    counting = 0;
    s3_policy_free(p);
    CHECK_EQ_INT(d, ALLOW);
    CHECK_EQ_INT(d2, ALLOW);
    CHECK_EQ_INT(allocations, 0);
}

/* ---- keys a policy reads */

TEST(test_uses_key_finds_conditions_and_variables_only)
{
    s3_policy_t *p = bucket_policy(GET_IF("{'StringEquals':{'s3:ExistingObjectTag/team':'blue'}}"));
    CHECK(p != NULL);
    CHECK_EQ_INT(s3_policy_uses_key(p, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG), 1);
    CHECK_EQ_INT(s3_policy_uses_key(p, S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG), 0);
    s3_policy_free(p);
    p = bucket_policy(GET_IF("{'StringEquals':{'aws:UserAgent':'${s3:ExistingObjectTag/agent}'}}"));
    CHECK(p != NULL);
    CHECK_EQ_INT(s3_policy_uses_key(p, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG), 1);
    s3_policy_free(p);
    p = bucket_policy(DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject',"
                          "'Resource':'arn:aws:s3:::photos/${s3:ExistingObjectTag/dir}/*'}"));
    CHECK(p != NULL);
    CHECK_EQ_INT(s3_policy_uses_key(p, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG), 1);
    s3_policy_free(p);
    p = bucket_policy(GET_IF("{'StringEquals':{'s3:RequestObjectTag/team':'blue'}}"));
    CHECK(p != NULL);
    CHECK_EQ_INT(s3_policy_uses_key(p, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG), 0);
    s3_policy_free(p);
    CHECK_EQ_INT(s3_policy_uses_key(NULL, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG), 0);
}

int main(void)
{
    RUN(test_principal_star_matches_anonymous_and_every_user);
    RUN(test_principal_aws_star_matches_anonymous_and_every_user);
    RUN(test_principal_user_arn_matches_that_user_only);
    RUN(test_principal_account_id_matches_every_principal_of_that_account);
    RUN(test_principal_account_root_arn_matches_every_principal_of_that_account);
    RUN(test_principal_canonical_user_matches_its_id_in_either_case);
    RUN(test_principal_list_matches_any_of_its_entries);
    RUN(test_principal_service_and_role_are_accepted_and_match_no_request);
    RUN(test_not_principal_applies_to_everyone_not_named);
    RUN(test_identity_policy_applies_to_its_principal_whoever_it_is);
    RUN(test_action_names_one_action);
    RUN(test_action_is_case_insensitive);
    RUN(test_action_star_wildcard_matches_a_family);
    RUN(test_action_question_mark_matches_one_character);
    RUN(test_action_star_and_s3_star_match_every_action);
    RUN(test_not_action_matches_every_other_action);
    RUN(test_action_of_another_service_in_identity_policy_matches_nothing);
    RUN(test_action_names_round_trip_through_lookup);
    RUN(test_iam_action_on_user_pattern_allows_matching_users_only);
    RUN(test_iam_wildcards_reach_the_iam_actions_and_s3_ones_do_not);
    RUN(test_iam_actions_not_served_parse_and_match_nothing);
    RUN(test_iam_not_action_covers_iam_actions);
    RUN(test_iam_username_variable_names_the_callers_own_user);
    RUN(test_identity_policy_takes_other_services_condition_keys_as_absent);
    RUN(test_iam_explicit_deny_wins_over_an_allow_of_another_policy);
    RUN(test_resource_bucket_arn_names_the_bucket_not_its_objects);
    RUN(test_resource_bucket_part_may_be_a_pattern_matching_the_bucket);
    RUN(test_resource_star_matches_any_key_and_slashes);
    RUN(test_resource_prefix_and_inner_wildcards);
    RUN(test_resource_question_mark_matches_exactly_one_character);
    RUN(test_resource_is_case_sensitive);
    RUN(test_not_resource_matches_every_other_resource);
    RUN(test_resource_arn_is_built_and_bounded);
    RUN(test_string_equals_is_exact_and_case_sensitive);
    RUN(test_string_not_equals_holds_for_other_values);
    RUN(test_string_equals_ignore_case);
    RUN(test_string_like_and_not_like_use_wildcards);
    RUN(test_numeric_operators_compare_numbers);
    RUN(test_numeric_values_may_be_json_numbers_and_decimals);
    RUN(test_numeric_condition_on_a_value_that_is_no_number_does_not_match);
    RUN(test_date_operators_compare_times);
    RUN(test_date_condition_reads_dates_and_epochs_of_request_values);
    RUN(test_current_time_is_absent_without_a_clock);
    RUN(test_bool_matches_true_and_false);
    RUN(test_binary_equals_compares_the_base64_value);
    RUN(test_ip_address_matches_v4_and_v6_blocks);
    RUN(test_not_ip_address_holds_outside_the_blocks);
    RUN(test_arn_like_and_equals_match_part_by_part);
    RUN(test_arn_not_like_and_not_equals);
    RUN(test_absent_key_fails_positive_and_satisfies_negated_operators);
    RUN(test_if_exists_holds_when_the_key_is_absent);
    RUN(test_null_tests_whether_the_key_is_present);
    RUN(test_for_any_value_needs_one_request_value_to_match);
    RUN(test_for_all_values_needs_every_request_value_to_match);
    RUN(test_conditions_are_and_of_operators_and_keys_or_of_values);
    RUN(test_condition_key_names_ignore_case_but_tag_names_do_not);
    RUN(test_principal_keys_come_from_the_principal);
    RUN(test_variable_username_in_resource);
    RUN(test_variable_userid_in_condition);
    RUN(test_variable_value_is_literal_not_a_wildcard);
    RUN(test_variable_escapes_are_literal_characters);
    RUN(test_variable_default_fills_a_missing_key);
    RUN(test_variables_are_text_in_version_2008_and_without_version);
    RUN(test_variable_current_time_and_source_ip);
    RUN(test_wildcards_agree_with_a_reference_matcher);
    RUN(test_deny_wins_over_allow_in_one_document);
    RUN(test_no_applicable_statement_is_not_applicable);
    RUN(test_single_statement_object_is_a_statement);
    RUN(test_decide_implicit_deny_when_nothing_allows);
    RUN(test_decide_identity_allow_is_enough_in_the_owners_account);
    RUN(test_decide_bucket_policy_allow_is_enough_in_the_owners_account);
    RUN(test_decide_acl_grant_allows);
    RUN(test_decide_explicit_deny_beats_every_allow);
    RUN(test_decide_owner_is_allowed_unless_denied_but_keeps_the_policy_operations);
    RUN(test_decide_anonymous_only_where_a_policy_or_acl_grants);
    RUN(test_decide_another_account_needs_its_own_and_the_buckets_allow);
    RUN(test_decide_restrict_public_buckets_keeps_a_public_policy_to_the_owners_account);
    RUN(test_public_when_everyone_is_allowed_without_a_narrowing_condition);
    RUN(test_not_public_when_fixed_parties_or_deny);
    RUN(test_malformed_json);
    RUN(test_malformed_when_too_large);
    RUN(test_malformed_top_level);
    RUN(test_malformed_statement_fields);
    RUN(test_malformed_principal);
    RUN(test_malformed_principal_in_identity_policy);
    RUN(test_identity_policy_sids_are_unique);
    RUN(test_malformed_principal_that_does_not_exist);
    RUN(test_malformed_action);
    RUN(test_malformed_resource);
    RUN(test_malformed_when_action_fits_no_resource);
    RUN(test_malformed_condition_operator);
    RUN(test_malformed_condition_key);
    RUN(test_malformed_condition_values);
    RUN(test_malformed_policy_variable);
    RUN(test_malformed_message_is_safe_for_xml_and_bounded);
    RUN(test_text_is_kept_exactly_as_sent);
    RUN(test_example_public_read);
    RUN(test_example_restrict_to_ip_ranges);
    RUN(test_example_http_referer);
    RUN(test_example_enforce_https);
    RUN(test_example_bucket_owner_full_control);
    RUN(test_example_object_tags);
    RUN(test_example_require_encryption);
    RUN(test_example_home_folders);
    RUN(test_example_mfa_and_time_and_max_keys);
    RUN(test_example_object_lock_retention);
    RUN(test_example_server_access_logging_parses_and_matches_no_request);
    RUN(test_example_deny_except_vpc_endpoint);
    RUN(test_evaluation_allocates_nothing);
    RUN(test_uses_key_finds_conditions_and_variables_only);
    return unit_done();
}
