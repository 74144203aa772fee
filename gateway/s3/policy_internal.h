/* policy_internal.h — the compiled form of a policy, shared by its three files:
 *
 *   policy_value.c  values: patterns with wildcards and variables, numbers, dates, CIDR blocks,
 *                   booleans, and a request's values of a key (uses nothing of the other two)
 *   policy.c        parsing, validation and compilation; the public-policy test
 *   policy_eval.c   evaluation of a document and the combiner
 *
 * Everything a policy holds lives in its arena (chunks of malloc'd memory freed together), laid
 * out for the evaluator: a statement's action set is a bit array indexed by s3_policy_action_t,
 * its patterns token arrays whose common shapes (one literal, a literal then one '*') are
 * flagged so that matching them is a memcmp.
 */
#ifndef YC_S3_POLICY_INTERNAL_H
#define YC_S3_POLICY_INTERNAL_H
#include "gateway/s3/policy.h"

#define POL_ACTION_WORDS ((S3_POLICY_ACTION__COUNT + 63) / 64)
#define POL_MAX_VARS     16 /* distinct variables in one string; more is refused at parse */

/* ---- patterns */

enum { POL_TOK_LIT, POL_TOK_STAR, POL_TOK_QMARK, POL_TOK_VAR };

typedef struct {
    uint8_t kind;
    uint8_t has_default; /* VAR: a default was written (${key, 'default'}) */
    uint8_t slot;        /* VAR: its index among the pattern's variables */
    uint16_t key;        /* VAR: s3_policy_key_t */
    uint32_t len;        /* LIT: bytes at text; VAR: bytes of the default */
    const char *text;    /* LIT: literal bytes; VAR: the default */
    h2o_iovec_t tag;     /* VAR of a TAG family: the tag name */
} pol_tok_t;

enum {
    POL_SHAPE_EXACT,  /* one literal (lit), or empty */
    POL_SHAPE_PREFIX, /* a literal (lit) then one '*' */
    POL_SHAPE_GLOB,   /* wildcards, no variable */
    POL_SHAPE_VARS,   /* variables (and maybe wildcards) */
};

/* GLOB patterns are also kept as the literal segments between their stars (the pattern a?c, star,
 * /thumbs/, star, .png has the segments "a?c", "/thumbs/" and ".png"), '?' marked in q: matched by
 * anchoring the first and last segments and finding each middle one at its leftmost place. */
typedef struct {
    const char *text;
    const uint8_t *q; /* NULL, or 1 where text has a '?' wildcard */
    uint32_t len;
} pol_seg_t;

typedef struct {
    const pol_tok_t *toks;
    uint32_t ntoks;
    uint8_t shape;
    uint8_t lead_star, trail_star; /* GLOB: the pattern starts / ends with '*' */
    h2o_iovec_t lit;               /* EXACT: the text; PREFIX: the literal before the '*' */
    const pol_seg_t *segs;         /* GLOB */
    uint32_t nsegs;
} pol_pattern_t;

/* ---- typed values */

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix; /* bits */
    uint8_t addr[16];
} pol_cidr_t;

/* ---- a compiled policy */

enum {
    POL_FAM_STRING,
    POL_FAM_NUMERIC,
    POL_FAM_DATE,
    POL_FAM_BOOL,
    POL_FAM_BINARY,
    POL_FAM_IP,
    POL_FAM_ARN,
    POL_FAM_NULL
};
enum { POL_CMP_EQ, POL_CMP_EQ_ICASE, POL_CMP_LIKE, POL_CMP_LT, POL_CMP_LE, POL_CMP_GT, POL_CMP_GE };
enum { POL_SET_NONE, POL_SET_ANY, POL_SET_ALL };

typedef struct {
    h2o_iovec_t text;         /* as written (numbers and booleans of JSON in their text form) */
    pol_pattern_t pat;        /* STRING, BINARY */
    const pol_pattern_t *arn; /* ARN: the six components */
    double num;               /* NUMERIC */
    int64_t ms;               /* DATE: milliseconds since the epoch */
    pol_cidr_t cidr;          /* IP */
    int boolean;              /* BOOL, NULL */
} pol_value_t;

typedef struct {
    uint8_t family, cmp, negated, if_exists, set;
    uint16_t key;
    h2o_iovec_t tag;
    const pol_value_t *values;
    uint32_t nvalues;
} pol_cond_t;

enum { POL_PRINCIPAL_ANY, POL_PRINCIPAL_ACCOUNT, POL_PRINCIPAL_ARN, POL_PRINCIPAL_CANONICAL, POL_PRINCIPAL_SERVICE };

typedef struct {
    uint8_t kind;
    h2o_iovec_t value; /* ACCOUNT: 12 digits; ARN: the ARN; CANONICAL: 64 lowercase hex */
} pol_principal_t;

typedef struct {
    uint8_t allow, not_principal, not_action, not_resource;
    uint64_t actions[POL_ACTION_WORDS];
    const pol_principal_t *principals; /* none in identity policies */
    uint32_t nprincipals;
    const pol_pattern_t *resources;
    uint32_t nresources;
    const pol_cond_t *conds;
    uint32_t nconds;
    h2o_iovec_t sid; /* {NULL, 0} without a Sid */
} pol_statement_t;

typedef struct pol_chunk pol_chunk_t;

struct s3_policy {
    s3_policy_kind_t kind;
    int is_public;
    h2o_iovec_t text; /* the document as sent */
    const pol_statement_t *statements;
    uint32_t nstatements;
    pol_chunk_t *chunks; /* the arena: everything above */
    char *cur, *end;     /* free room in the newest chunk */
};

/* ---- policy_value.c */

/* Memory from the policy's arena (8-byte aligned, zeroed), or NULL when malloc fails. */
void *pol_alloc(s3_policy_t *p, size_t size);
/* Frees every chunk of the arena. */
void pol_arena_free(s3_policy_t *p);

/* Sets err->message to what, then text (made safe for an XML answer and cut short when long),
 * then after (may be NULL). */
void pol_error(s3_policy_error_t *err, const char *what, h2o_iovec_t text, const char *after);

/* The key called name (case-insensitive; "name/<tag>" for TAG families, the tag in *tag). Returns 0
 * or -1 for an unknown key. */
int pol_key_lookup(h2o_iovec_t name, uint16_t *key, h2o_iovec_t *tag);

/* Compiles text into a pattern: wildcards '*' '?' when wild, policy variables when vars (2012-10-17
 * documents). Returns 0, -1 for a malformed or unknown variable (message in err), -2 without
 * memory. */
int pol_pattern_compile(s3_policy_t *p, h2o_iovec_t text, int wild, int vars, pol_pattern_t *out,
                        s3_policy_error_t *err);
/* 1 when the pattern has no wildcard and no variable: it names one value. */
int pol_pattern_is_fixed(const pol_pattern_t *pat);
/* 1 when s matches the pattern; icase compares ASCII letters case-insensitively; req resolves the
 * variables (NULL: a variable matches nothing). */
int pol_pattern_match(const pol_pattern_t *pat, h2o_iovec_t s, int icase, const s3_policy_request_t *req);

/* Typed values; each returns 0 or -1 when text is not one. */
int pol_number_parse(h2o_iovec_t text, double *out);
int pol_date_parse(h2o_iovec_t text, int64_t *ms);     /* W3C ISO 8601 profile, or epoch seconds */
int pol_bool_parse(h2o_iovec_t text, int *out);        /* "true" / "false", any case */
int pol_cidr_parse(h2o_iovec_t text, pol_cidr_t *out); /* an address, or address/prefix */
int pol_ip_parse(h2o_iovec_t text, pol_cidr_t *out);   /* an address (IPv4-mapped IPv6 as IPv4) */
int pol_cidr_contains(const pol_cidr_t *block, const pol_cidr_t *ip);
int pol_base64_valid(h2o_iovec_t text);

/* A request's values of one key. v may point into the struct itself, which must therefore stay
 * where it is while they are read. */
typedef struct {
    const h2o_iovec_t *v;
    size_t n;
    h2o_iovec_t one;
    char buf[32];
} pol_values_t;
void pol_request_values(const s3_policy_request_t *req, uint16_t key, h2o_iovec_t tag, pol_values_t *out);

#endif
