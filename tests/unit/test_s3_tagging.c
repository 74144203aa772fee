/* test_s3_tagging.c — tag sets: the Tagging document, the x-amz-tagging header, S3's rules and
 * the stored form. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/tagging.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* The error document's extra element called name holds value. */
static int has_field(const s3_error_detail_t *d, const char *name, const char *value)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (strcmp(d->fields[i].name, name) == 0)
            return iov_eq(d->fields[i].value, value);
    return 0;
}

/* A Tagging document of the given <Tag> elements, built in a static buffer. */
static h2o_iovec_t doc(const char *tags)
{
    static char buf[1 << 16];
    snprintf(buf, sizeof(buf), "<Tagging><TagSet>%s</TagSet></Tagging>", tags);
    return IOV(buf);
}

/* n tags k0=v ... k(n-1)=v. */
static h2o_iovec_t doc_of_n(int n)
{
    static char tags[1 << 15];
    size_t len = 0;
    tags[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(tags + len, sizeof(tags) - len, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
    return doc(tags);
}

static char *repeat(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = h2o_mem_alloc_pool(&pool, u * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)n] = '\0';
    return s;
}

/* Parses a document of one tag key=value (object tags). */
static int parse_one(const char *key, const char *value, s3_error_detail_t *why)
{
    char tag[4096];
    s3_tagset_t set;
    snprintf(tag, sizeof(tag), "<Tag><Key>%s</Key><Value>%s</Value></Tag>", key, value);
    memset(why, 0, sizeof(*why));
    return s3_tagging_parse_xml(&pool, doc(tag), S3_TAGS_OBJECT, &set, why);
}

/* ---- the document ---- */

/* PutObjectTagging's sample request and GetObjectTagging's sample response (API reference). */
TEST(test_tagging_aws_example_parses_and_serializes)
{
    static const char request[] = "<Tagging>\n"
                                  "  <TagSet>\n"
                                  "     <Tag>\n"
                                  "       <Key>tag1</Key>\n"
                                  "       <Value>val1</Value>\n"
                                  "     </Tag>\n"
                                  "     <Tag>\n"
                                  "       <Key>tag2</Key>\n"
                                  "       <Value>val2</Value>\n"
                                  "     </Tag>\n"
                                  "  </TagSet>\n"
                                  "</Tagging>";
    s3_tagset_t set;
    s3_xml_writer_t w;
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, IOV(request), S3_TAGS_OBJECT, &set, NULL), 0);
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[0].key, "tag1") && iov_eq(set.tags[0].value, "val1"));
    CHECK(iov_eq(set.tags[1].key, "tag2") && iov_eq(set.tags[1].value, "val2"));
    s3_xml_writer_init(&w, &pool);
    s3_tagging_write_xml(&w, &set);
    CHECK(iov_eq(s3_xml_writer_result(&w),
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
                 "<Tag><Key>tag1</Key><Value>val1</Value></Tag><Tag><Key>tag2</Key><Value>val2</Value></Tag>"
                 "</TagSet></Tagging>"));
    /* what is written reads back the same */
    s3_tagset_t again;
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, s3_xml_writer_result(&w), S3_TAGS_OBJECT, &again, NULL), 0);
    CHECK_EQ_INT(again.count, 2);
    CHECK(iov_eq(again.tags[1].key, "tag2") && iov_eq(again.tags[1].value, "val2"));
}

TEST(test_tagging_with_namespace_and_empty_set_parses)
{
    s3_tagset_t set;
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool,
                                      IOV("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet/>"
                                          "</Tagging>"),
                                      S3_TAGS_BUCKET, &set, NULL),
                 0);
    CHECK_EQ_INT(set.count, 0);
    CHECK(set.tags == NULL);
}

TEST(test_tagging_empty_value_and_escaped_text_parse)
{
    s3_tagset_t set;
    CHECK_EQ_INT(s3_tagging_parse_xml(
                     &pool, doc("<Tag><Key>a b</Key><Value/></Tag><Tag><Key>c</Key><Value>&#x4E91;</Value></Tag>"),
                     S3_TAGS_OBJECT, &set, NULL),
                 0);
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[0].key, "a b") && iov_eq(set.tags[0].value, ""));
    CHECK(iov_eq(set.tags[1].value, "\xe4\xba\x91"));
}

TEST(test_tagging_malformed_documents_are_malformed_xml)
{
    static const char *const bodies[] = {
        "<Tagging></Tagging>",                                                             /* no TagSet */
        "<Tagging><TagSet/><TagSet/></Tagging>",                                           /* two */
        "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",                     /* no Value */
        "<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>",                 /* no Key */
        "<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>", /* two Keys */
        "<Tagging><TagSet><Tag><Key><x/></Key><Value/></Tag></TagSet></Tagging>",          /* Key not text */
        "<Tags><TagSet/></Tags>",                                                          /* wrong root */
        "<Tagging><TagSet>",                                                               /* not well-formed */
        "<!DOCTYPE t [<!ENTITY e \"x\">]><Tagging><TagSet/></Tagging>",                    /* entities refused */
        "",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        s3_tagset_t set;
        s3_error_detail_t why;
        memset(&why, 0, sizeof(why));
        CHECK_EQ_INT(s3_tagging_parse_xml(&pool, IOV(bodies[i]), S3_TAGS_OBJECT, &set, &why), -S3_ERR_MALFORMED_XML);
        CHECK_EQ_INT(why.err, S3_ERR_MALFORMED_XML);
        CHECK(why.message.base == NULL);
        CHECK_EQ_INT(set.count, 0);
    }
}

/* ---- the rules ---- */

TEST(test_tagging_key_length_is_counted_in_utf16_units)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_one(repeat("k", 128), "v", &why), 0);
    CHECK_EQ_INT(parse_one(repeat("\xe4\xba\x91", 128), "v", &why), 0);    /* 128 BMP characters, 384 bytes */
    CHECK_EQ_INT(parse_one(repeat("\xf0\x9d\x90\x80", 64), "v", &why), 0); /* 64 letters past the BMP: 128 units */
    CHECK_EQ_INT(parse_one(repeat("\xf0\x9d\x90\x80", 65), "v", &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagKey you have provided is invalid"));
    CHECK_EQ_INT(parse_one(repeat("k", 129), "v", &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagKey you have provided is invalid"));
    CHECK(has_field(&why, "TagKey", repeat("k", 129)));
}

TEST(test_tagging_value_up_to_256_units)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_one("k", repeat("v", 256), &why), 0);
    CHECK_EQ_INT(parse_one("k", repeat("\xf0\x9d\x90\x80", 128), &why), 0);
    CHECK_EQ_INT(parse_one("k", repeat("v", 257), &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagValue you have provided is invalid"));
    CHECK(has_field(&why, "TagKey", "k"));
    CHECK(has_field(&why, "TagValue", repeat("v", 257)));
}

TEST(test_tagging_empty_key_is_invalid)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_one("", "v", &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagKey you have provided is invalid"));
}

TEST(test_tagging_allowed_characters)
{
    s3_error_detail_t why;
    /* letters, digits and spaces of any script, and the symbols _ . : / = + - @ */
    CHECK_EQ_INT(parse_one("Project-1_a.b:c/d=e+f@g h", "x y_z.1:2/3=4+5-6@7", &why), 0);
    CHECK_EQ_INT(parse_one("caf\xc3\xa9", "\xe4\xba\x91\xe4\xbb\x93", &why), 0); /* café, 云仓 */
    CHECK_EQ_INT(parse_one("k", "\xd9\xa3\xe2\x85\xa7", &why), 0);               /* Arabic-Indic 3, Roman VIII */
    CHECK_EQ_INT(parse_one("k",
                           "a\xc2\xa0"
                           "b\xe3\x80\x80"
                           "c",
                           &why),
                 0); /* no-break and ideographic spaces */
    static const char *const bad[] = {"a,b",
                                      "a(b)",
                                      "a*",
                                      "a?",
                                      "a#",
                                      "a!",
                                      "a&amp;b",
                                      "a&lt;",
                                      "a\tb",
                                      "a%",
                                      "e\xcc\x81",         /* e + combining acute: a mark, not a letter */
                                      "\xf0\x9f\x98\x80"}; /* an emoji is a symbol */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(parse_one(bad[i], "v", &why), -S3_ERR_INVALID_TAG);
        CHECK(iov_eq(why.message, "The TagKey you have provided is invalid"));
        CHECK_EQ_INT(parse_one("k", bad[i], &why), -S3_ERR_INVALID_TAG);
        CHECK(iov_eq(why.message, "The TagValue you have provided is invalid"));
    }
}

TEST(test_tagging_duplicate_key_is_invalid_tag)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    memset(&why, 0, sizeof(why));
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool,
                                      doc("<Tag><Key>dup</Key><Value>1</Value></Tag><Tag><Key>x</Key><Value/></Tag>"
                                          "<Tag><Key>dup</Key><Value>2</Value></Tag>"),
                                      S3_TAGS_OBJECT, &set, &why),
                 -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "Cannot provide multiple Tags with the same key"));
    CHECK_EQ_INT(why.nfields, 1);
    CHECK(has_field(&why, "TagKey", "dup"));
    /* keys are case-sensitive: Dup and dup are two keys */
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc("<Tag><Key>dup</Key><Value/></Tag><Tag><Key>Dup</Key><Value/></Tag>"),
                                      S3_TAGS_OBJECT, &set, NULL),
                 0);
}

TEST(test_tagging_aws_prefix_is_reserved)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_one("aws:cloudformation:stack-name", "v", &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "Your TagKey cannot be prefixed with aws:"));
    CHECK(has_field(&why, "TagKey", "aws:cloudformation:stack-name"));
    CHECK_EQ_INT(parse_one("AWS:x", "v", &why), -S3_ERR_INVALID_TAG);
    CHECK_EQ_INT(parse_one("aws", "v", &why), 0);
    CHECK_EQ_INT(parse_one("awsx:y", "v", &why), 0);
    CHECK_EQ_INT(parse_one("k", "aws:value", &why), 0); /* only keys are reserved */
}

TEST(test_tagging_object_allows_10_bucket_50)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc_of_n(10), S3_TAGS_OBJECT, &set, &why), 0);
    CHECK_EQ_INT(set.count, 10);
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc_of_n(11), S3_TAGS_OBJECT, &set, &why), -S3_ERR_BAD_REQUEST);
    CHECK_EQ_INT(why.err, S3_ERR_BAD_REQUEST);
    CHECK(iov_eq(why.message, "Object tags cannot be greater than 10"));
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc_of_n(50), S3_TAGS_BUCKET, &set, &why), 0);
    CHECK_EQ_INT(set.count, 50);
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc_of_n(51), S3_TAGS_BUCKET, &set, &why), -S3_ERR_BAD_REQUEST);
    CHECK(iov_eq(why.message, "Object tags cannot be greater than 50"));
}

TEST(test_tagging_tags_are_checked_before_their_number)
{
    /* eleven tags, the last one bad: S3 names the tag, not the count */
    static char tags[4096];
    size_t len = 0;
    s3_tagset_t set;
    s3_error_detail_t why;
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(tags + len, sizeof(tags) - len, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
    snprintf(tags + len, sizeof(tags) - len, "<Tag><Key>bad,key</Key><Value>v</Value></Tag>");
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool, doc(tags), S3_TAGS_OBJECT, &set, &why), -S3_ERR_INVALID_TAG);
    CHECK(has_field(&why, "TagKey", "bad,key"));
}

TEST(test_tagging_first_fault_in_document_order_answers)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool,
                                      doc("<Tag><Key>a</Key><Value/></Tag><Tag><Key>a</Key><Value/></Tag>"
                                          "<Tag><Key>b</Key><Value>bad?</Value></Tag>"),
                                      S3_TAGS_OBJECT, &set, &why),
                 -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "Cannot provide multiple Tags with the same key"));
    CHECK_EQ_INT(s3_tagging_parse_xml(&pool,
                                      doc("<Tag><Key>b</Key><Value>bad?</Value></Tag>"
                                          "<Tag><Key>a</Key><Value/></Tag><Tag><Key>a</Key><Value/></Tag>"),
                                      S3_TAGS_OBJECT, &set, &why),
                 -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagValue you have provided is invalid"));
}

/* ---- the header ---- */

static int header(const char *value, s3_tagset_t *set, s3_error_detail_t *why)
{
    memset(why, 0, sizeof(*why));
    return s3_tagging_parse_header(&pool, IOV(value), set, why);
}

TEST(test_tagging_header_aws_example_parses)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    CHECK_EQ_INT(header("tag1=value1&tag2=value2", &set, &why), 0); /* PutObject's sample */
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[0].key, "tag1") && iov_eq(set.tags[0].value, "value1"));
    CHECK(iov_eq(set.tags[1].key, "tag2") && iov_eq(set.tags[1].value, "value2"));
}

TEST(test_tagging_header_is_form_decoded)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    CHECK_EQ_INT(header("my+key=a%20b+c&%E4%BA%91=%2F%3D%40", &set, &why), 0);
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[0].key, "my key") && iov_eq(set.tags[0].value, "a b c"));
    CHECK(iov_eq(set.tags[1].key, "\xe4\xba\x91") && iov_eq(set.tags[1].value, "/=@"));
}

TEST(test_tagging_header_key_without_value_and_empty_pieces)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    /* s3-tests' foo=bar&bar: bar has the empty value */
    CHECK_EQ_INT(header("foo=bar&bar", &set, &why), 0);
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[1].key, "bar") && iov_eq(set.tags[1].value, ""));
    CHECK_EQ_INT(header("&&a=1&&key=&", &set, &why), 0);
    CHECK_EQ_INT(set.count, 2);
    CHECK(iov_eq(set.tags[1].key, "key") && iov_eq(set.tags[1].value, ""));
    CHECK_EQ_INT(header("", &set, &why), 0);
    CHECK_EQ_INT(set.count, 0);
    CHECK_EQ_INT(header("&", &set, &why), 0);
    CHECK_EQ_INT(set.count, 0);
}

TEST(test_tagging_header_unreadable_is_invalid_argument)
{
    static const char *const bad[] = {
        "=",     "=v",   "a=1&a=2", "a=&a=",      "a=b=c", "TagSet=[{Key=string,Value=string}]",
        "%zz=1", "a=%4", "a=%ff",   "%ed%a0%80=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s3_tagset_t set;
        s3_error_detail_t why;
        CHECK_EQ_INT(header(bad[i], &set, &why), -S3_ERR_INVALID_ARGUMENT);
        CHECK(iov_eq(why.message, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                                  "parameters without tag name duplicates."));
        CHECK(has_field(&why, "ArgumentName", "x-amz-tagging"));
        CHECK_EQ_INT(set.count, 0);
    }
}

TEST(test_tagging_header_tags_follow_the_rules)
{
    s3_tagset_t set;
    s3_error_detail_t why;
    /* a key holding [ { , } ] once decoded: S3 answered InvalidTag for it */
    CHECK_EQ_INT(header("TagSet%3D%5B%7BKey%3Dstring%2CValue%3Dstring%7D%5D", &set, &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "The TagKey you have provided is invalid"));
    CHECK(has_field(&why, "TagKey", "TagSet=[{Key=string,Value=string}]"));
    CHECK_EQ_INT(header("aws%3Akey=v", &set, &why), -S3_ERR_INVALID_TAG);
    CHECK(iov_eq(why.message, "Your TagKey cannot be prefixed with aws:"));
    CHECK_EQ_INT(header("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10", &set, &why), 0);
    CHECK_EQ_INT(header("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11", &set, &why), -S3_ERR_BAD_REQUEST);
    CHECK(iov_eq(why.message, "Object tags cannot be greater than 10"));
}

/* ---- sets and the stored form ---- */

TEST(test_tagset_sort_and_find)
{
    s3_tag_t tags[] = {{IOV("b"), IOV("2")}, {IOV("ab"), IOV("1")}, {IOV("a"), IOV("0")}, {IOV("B"), IOV("3")}};
    s3_tagset_t set = {tags, 4};
    s3_tagset_sort(&set);
    CHECK(iov_eq(tags[0].key, "B") && iov_eq(tags[1].key, "a") && iov_eq(tags[2].key, "ab") &&
          iov_eq(tags[3].key, "b"));
    CHECK(iov_eq(s3_tagset_find(&set, IOV("ab"))->value, "1"));
    CHECK(s3_tagset_find(&set, IOV("A")) == NULL);
    CHECK(s3_tagset_find(NULL, IOV("a")) == NULL);
}

TEST(test_tagging_encoding_is_meta_kv_pairs_in_key_order)
{
    s3_tag_t tags[] = {{IOV("zz"), IOV("1")}, {IOV("a"), IOV("")}};
    s3_tagset_t set = {tags, 2};
    h2o_iovec_t bytes;
    static const char expect[] = "\x01\x00\x00\x00"
                                 "a"
                                 "\x00\x00\x00\x00"
                                 "\x02\x00\x00\x00"
                                 "zz"
                                 "\x01\x00\x00\x00"
                                 "1";
    CHECK_EQ_INT(s3_tagging_encode(&pool, &set, &bytes), 0);
    CHECK_EQ_INT(bytes.len, sizeof(expect) - 1);
    CHECK(memcmp(bytes.base, expect, bytes.len) == 0);
    CHECK(iov_eq(tags[0].key, "zz")); /* the caller's set is left as it was */
}

TEST(test_tagging_encoding_round_trips)
{
    s3_tagset_t set, back;
    h2o_iovec_t bytes, again;
    CHECK_EQ_INT(
        s3_tagging_parse_xml(&pool,
                             doc("<Tag><Key>Project</Key><Value>\xe4\xba\x91\xe4\xbb\x93</Value></Tag>"
                                 "<Tag><Key>env</Key><Value>prod</Value></Tag><Tag><Key>Cost</Key><Value/></Tag>"),
                             S3_TAGS_OBJECT, &set, NULL),
        0);
    CHECK_EQ_INT(s3_tagging_encode(&pool, &set, &bytes), 0);
    CHECK_EQ_INT(s3_tagging_decode(&pool, bytes, &back), 0);
    CHECK_EQ_INT(back.count, 3);
    CHECK(iov_eq(back.tags[0].key, "Cost") && iov_eq(back.tags[0].value, ""));
    CHECK(iov_eq(back.tags[1].key, "Project") && iov_eq(back.tags[1].value, "\xe4\xba\x91\xe4\xbb\x93"));
    CHECK(iov_eq(back.tags[2].key, "env") && iov_eq(back.tags[2].value, "prod"));
    /* one encoding: re-encoding what was decoded gives the same bytes */
    CHECK_EQ_INT(s3_tagging_encode(&pool, &back, &again), 0);
    CHECK(again.len == bytes.len && memcmp(again.base, bytes.base, bytes.len) == 0);
}

TEST(test_tagging_empty_set_is_no_bytes)
{
    s3_tagset_t empty = {NULL, 0}, back;
    h2o_iovec_t bytes;
    CHECK_EQ_INT(s3_tagging_encode(&pool, &empty, &bytes), 0);
    CHECK_EQ_INT(bytes.len, 0);
    CHECK_EQ_INT(s3_tagging_decode(&pool, h2o_iovec_init(NULL, 0), &back), 0);
    CHECK_EQ_INT(back.count, 0);
    CHECK(back.tags == NULL);
}

TEST(test_tagging_encode_refuses_what_decode_would)
{
    s3_tag_t dup[] = {{IOV("a"), IOV("1")}, {IOV("a"), IOV("2")}};
    s3_tag_t empty_key[] = {{IOV(""), IOV("1")}};
    s3_tag_t long_value[] = {{IOV("k"), IOV(repeat("v", 257))}};
    s3_tagset_t set;
    h2o_iovec_t bytes;
    set = (s3_tagset_t){dup, 2};
    CHECK_EQ_INT(s3_tagging_encode(&pool, &set, &bytes), -S3_ERR_INVALID_TAG);
    set = (s3_tagset_t){empty_key, 1};
    CHECK_EQ_INT(s3_tagging_encode(&pool, &set, &bytes), -S3_ERR_INVALID_TAG);
    set = (s3_tagset_t){long_value, 1};
    CHECK_EQ_INT(s3_tagging_encode(&pool, &set, &bytes), -S3_ERR_INVALID_TAG);
}

TEST(test_tagging_decode_refuses_damaged_bytes)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\x01\x00\x00", 3}, /* short length */
        {"\x05\x00\x00\x00"
         "ab",
         6}, /* past the end */
        {"\x01\x00\x00\x00"
         "a",
         5}, /* no value */
        {"\x01\x00\x00\x00"
         "b"
         "\x00\x00\x00\x00"
         "\x01\x00\x00\x00"
         "a"
         "\x00\x00\x00\x00",
         18}, /* out of order */
        {"\x01\x00\x00\x00"
         "a"
         "\x00\x00\x00\x00"
         "\x01\x00\x00\x00"
         "a"
         "\x00\x00\x00\x00",
         18}, /* duplicate */
        {"\x00\x00\x00\x00"
         "\x00\x00\x00\x00",
         8}, /* empty key */
        {"\x01\x00\x00\x00"
         "\xff"
         "\x00\x00\x00\x00",
         9},                     /* not UTF-8 */
        {"\xff\xff\xff\xff", 4}, /* huge length */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s3_tagset_t set;
        CHECK_EQ_INT(s3_tagging_decode(&pool, h2o_iovec_init(bad[i].bytes, bad[i].len), &set), -S3_ERR_INTERNAL_ERROR);
        CHECK_EQ_INT(set.count, 0);
    }
}

TEST(test_tagging_decode_refuses_more_than_50)
{
    char buf[51 * 12];
    size_t len = 0;
    s3_tagset_t set;
    for (int i = 0; i < 51; i++) {
        memcpy(buf + len, "\x02\x00\x00\x00", 4);
        buf[len + 4] = (char)('A' + i / 26);
        buf[len + 5] = (char)('a' + i % 26);
        memcpy(buf + len + 6, "\x00\x00\x00\x00", 4);
        len += 10;
    }
    CHECK_EQ_INT(s3_tagging_decode(&pool, h2o_iovec_init(buf, len - 10), &set), 0);
    CHECK_EQ_INT(set.count, 50);
    CHECK_EQ_INT(s3_tagging_decode(&pool, h2o_iovec_init(buf, len), &set), -S3_ERR_INTERNAL_ERROR);
}

TEST(test_utf16_length_counts_pairs_and_refuses_bad_utf8)
{
    CHECK_EQ_INT(s3_utf16_length(IOV("abc")), 3);
    CHECK_EQ_INT(s3_utf16_length(IOV("\xe4\xba\x91")), 1);
    CHECK_EQ_INT(s3_utf16_length(IOV("\xf0\x9f\x98\x80")), 2);
    CHECK(s3_utf16_length(IOV("\xc0\xaf")) == SIZE_MAX);         /* overlong '/' */
    CHECK(s3_utf16_length(IOV("\xed\xa0\x80")) == SIZE_MAX);     /* a surrogate */
    CHECK(s3_utf16_length(IOV("\xf4\x90\x80\x80")) == SIZE_MAX); /* past U+10FFFF */
    CHECK(s3_utf16_length(IOV("\xe4\xba")) == SIZE_MAX);         /* cut short */
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_tagging_aws_example_parses_and_serializes);
    RUN(test_tagging_with_namespace_and_empty_set_parses);
    RUN(test_tagging_empty_value_and_escaped_text_parse);
    RUN(test_tagging_malformed_documents_are_malformed_xml);
    RUN(test_tagging_key_length_is_counted_in_utf16_units);
    RUN(test_tagging_value_up_to_256_units);
    RUN(test_tagging_empty_key_is_invalid);
    RUN(test_tagging_allowed_characters);
    RUN(test_tagging_duplicate_key_is_invalid_tag);
    RUN(test_tagging_aws_prefix_is_reserved);
    RUN(test_tagging_object_allows_10_bucket_50);
    RUN(test_tagging_tags_are_checked_before_their_number);
    RUN(test_tagging_first_fault_in_document_order_answers);
    RUN(test_tagging_header_aws_example_parses);
    RUN(test_tagging_header_is_form_decoded);
    RUN(test_tagging_header_key_without_value_and_empty_pieces);
    RUN(test_tagging_header_unreadable_is_invalid_argument);
    RUN(test_tagging_header_tags_follow_the_rules);
    RUN(test_tagset_sort_and_find);
    RUN(test_tagging_encoding_is_meta_kv_pairs_in_key_order);
    RUN(test_tagging_encoding_round_trips);
    RUN(test_tagging_empty_set_is_no_bytes);
    RUN(test_tagging_encode_refuses_what_decode_would);
    RUN(test_tagging_decode_refuses_damaged_bytes);
    RUN(test_tagging_decode_refuses_more_than_50);
    RUN(test_utf16_length_counts_pairs_and_refuses_bad_utf8);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
