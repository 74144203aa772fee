/* test_s3_xml.c — the XML writer and the request body parsers. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/xml.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* ---- writer ---- */

TEST(test_writer_builds_document)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListBucketResult");
    s3_xml_element_str(&w, "Name", "bkt");
    s3_xml_element_uint(&w, "MaxKeys", 1000);
    s3_xml_element_int(&w, "Neg", -5);
    s3_xml_element_bool(&w, "IsTruncated", 0);
    s3_xml_element_time(&w, "LastModified", 1255369830000000000LL);
    s3_xml_element(&w, "Prefix", IOV(""));
    s3_xml_close(&w, "ListBucketResult");
    CHECK(iov_eq(s3_xml_writer_result(&w),
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bkt</Name>"
                 "<MaxKeys>1000</MaxKeys><Neg>-5</Neg><IsTruncated>false</IsTruncated>"
                 "<LastModified>2009-10-12T17:50:30.000Z</LastModified><Prefix></Prefix></ListBucketResult>"));
}

TEST(test_writer_empty_result_is_empty_string)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    h2o_iovec_t r = s3_xml_writer_result(&w);
    CHECK(r.base != NULL && r.len == 0 && r.base[0] == '\0');
}

TEST(test_writer_escapes_markup)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_xml_text(&w, IOV("a&b<c>d\"e'f"));
    CHECK(iov_eq(s3_xml_writer_result(&w), "a&amp;b&lt;c&gt;d&quot;e&apos;f"));
}

TEST(test_writer_escapes_control_characters)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_xml_text(&w, h2o_iovec_init("\x00\x01\t\n\r\x1f\x7f", 7));
    CHECK(iov_eq(s3_xml_writer_result(&w), "&#x0;&#x1;\t\n&#xD;&#x1F;\x7f"));
}

TEST(test_writer_keeps_utf8)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_xml_element(&w, "Key", IOV("\xe4\xba\x91/\xf0\x9f\x98\x80"));
    CHECK(iov_eq(s3_xml_writer_result(&w), "<Key>\xe4\xba\x91/\xf0\x9f\x98\x80</Key>"));
}

TEST(test_writer_grows_for_large_documents)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    for (int i = 0; i < 10000; i++)
        s3_xml_element_str(&w, "Key", "0123456789&");
    h2o_iovec_t r = s3_xml_writer_result(&w);
    CHECK_EQ_INT(r.len, 10000 * strlen("<Key>0123456789&amp;</Key>"));
    CHECK(memcmp(r.base + r.len - 26, "<Key>0123456789&amp;</Key>", 26) == 0);
}

TEST(test_format_time_has_milliseconds)
{
    char buf[S3_XML_TIME_LEN + 8];
    CHECK_EQ_INT(s3_xml_format_time(1255369830123999999LL, buf), S3_XML_TIME_LEN);
    CHECK(strcmp(buf, "2009-10-12T17:50:30.123Z") == 0);
    s3_xml_format_time(0, buf);
    CHECK(strcmp(buf, "1970-01-01T00:00:00.000Z") == 0);
    s3_xml_format_time(-1000000, buf);
    CHECK(strcmp(buf, "1969-12-31T23:59:59.999Z") == 0);
}

/* ---- CompleteMultipartUpload ---- */

TEST(test_parse_complete_reads_parts)
{
    s3_xml_complete_t c;
    const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
                       "  <Part><PartNumber>1</PartNumber><ETag>\"aaa\"</ETag></Part>\n"
                       "  <Part><ETag>&quot;bbb&quot;</ETag><PartNumber> 2 </PartNumber>"
                       "<ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA256>xyz=</ChecksumSHA256></Part>\n"
                       "</CompleteMultipartUpload>";
    CHECK_EQ_INT(s3_xml_parse_complete(&pool, IOV(body), &c), 0);
    CHECK_EQ_INT(c.count, 2);
    CHECK_EQ_INT(c.parts[0].part_number, 1);
    CHECK(iov_eq(c.parts[0].etag, "\"aaa\""));
    CHECK(c.parts[0].checksum_crc32.base == NULL);
    CHECK_EQ_INT(c.parts[1].part_number, 2);
    CHECK(iov_eq(c.parts[1].etag, "\"bbb\""));
    CHECK(iov_eq(c.parts[1].checksum_crc32, "AAAAAA=="));
    CHECK(iov_eq(c.parts[1].checksum_sha256, "xyz="));
    CHECK(c.parts[1].checksum_crc32c.base == NULL);
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), 0);
}

TEST(test_parse_complete_without_namespace)
{
    s3_xml_complete_t c;
    CHECK_EQ_INT(s3_xml_parse_complete(&pool,
                                       IOV("<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>e</ETag>"
                                           "<Unknown>x</Unknown></Part><Extra/></CompleteMultipartUpload>"),
                                       &c),
                 0);
    CHECK_EQ_INT(c.count, 1);
    CHECK_EQ_INT(c.parts[0].part_number, 3);
    CHECK(iov_eq(c.parts[0].etag, "e"));
}

TEST(test_parse_complete_with_prefixed_namespace)
{
    s3_xml_complete_t c;
    CHECK_EQ_INT(s3_xml_parse_complete(&pool,
                                       IOV("<s3:CompleteMultipartUpload xmlns:s3=\"http://s3.amazonaws.com/doc/"
                                           "2006-03-01/\"><s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>e"
                                           "</s3:ETag></s3:Part></s3:CompleteMultipartUpload>"),
                                       &c),
                 0);
    CHECK_EQ_INT(c.count, 1);
}

TEST(test_parse_complete_when_part_incomplete_fails)
{
    s3_xml_complete_t c;
    const char *bad[] = {
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>e</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1<b/></PartNumber><ETag>e</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
        "<CompleteMultipartUpload/>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_xml_parse_complete(&pool, IOV(bad[i]), &c), -S3_ERR_MALFORMED_XML);
}

static char *repeat_doc(const char *head, const char *item, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    char *p = malloc(hl + il * n + tl + 1), *o = p;
    memcpy(o, head, hl);
    o += hl;
    for (size_t i = 0; i < n; i++, o += il)
        memcpy(o, item, il);
    memcpy(o, tail, tl + 1);
    *len = hl + il * n + tl;
    return p;
}

TEST(test_parse_complete_caps_part_count)
{
    s3_xml_complete_t c;
    size_t len;
    char *doc = repeat_doc("<CompleteMultipartUpload>", "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>",
                           S3_XML_MAX_PARTS, "</CompleteMultipartUpload>", &len);
    int ok_max = s3_xml_parse_complete(&pool, h2o_iovec_init(doc, len), &c) == 0 && c.count == S3_XML_MAX_PARTS;
    free(doc);
    CHECK(ok_max);
    doc = repeat_doc("<CompleteMultipartUpload>", "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>",
                     S3_XML_MAX_PARTS + 1, "</CompleteMultipartUpload>", &len);
    int ret = s3_xml_parse_complete(&pool, h2o_iovec_init(doc, len), &c);
    free(doc);
    CHECK_EQ_INT(ret, -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(c.count, 0);
}

TEST(test_complete_check_order)
{
    s3_xml_part_t parts[3] = {{.part_number = 1}, {.part_number = 5}, {.part_number = 10000}};
    s3_xml_complete_t c = {parts, 3};
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), 0);
    parts[1].part_number = 1;
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), -S3_ERR_INVALID_PART_ORDER);
    parts[1].part_number = 20000;
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), -S3_ERR_INVALID_ARGUMENT);
    parts[1].part_number = 0;
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), -S3_ERR_INVALID_ARGUMENT);
    parts[1].part_number = 3;
    parts[2].part_number = 2;
    CHECK_EQ_INT(s3_xml_complete_check_order(&c), -S3_ERR_INVALID_PART_ORDER);
}

/* ---- Delete ---- */

TEST(test_parse_delete_reads_objects)
{
    s3_xml_delete_t d;
    const char *body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
                       "<Object><Key>a &amp; b</Key></Object>"
                       "<Object><Key> spaced </Key><VersionId>v1</VersionId><ETag>\"e\"</ETag></Object>"
                       "<Object><Key></Key></Object></Delete>";
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(body), &d), 0);
    CHECK_EQ_INT(d.quiet, 1);
    CHECK_EQ_INT(d.count, 3);
    CHECK(iov_eq(d.objects[0].key, "a & b"));
    CHECK(d.objects[0].version_id.base == NULL);
    CHECK(iov_eq(d.objects[1].key, " spaced "));
    CHECK(iov_eq(d.objects[1].version_id, "v1"));
    CHECK(iov_eq(d.objects[1].etag, "\"e\""));
    CHECK(iov_eq(d.objects[2].key, ""));
}

TEST(test_parse_delete_quiet_values)
{
    s3_xml_delete_t d;
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Object><Key>k</Key></Object></Delete>"), &d), 0);
    CHECK_EQ_INT(d.quiet, 0);
    CHECK_EQ_INT(
        s3_xml_parse_delete(&pool, IOV("<Delete><Quiet>false</Quiet><Object><Key>k</Key></Object></Delete>"), &d), 0);
    CHECK_EQ_INT(d.quiet, 0);
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Quiet>1</Quiet><Object><Key>k</Key></Object></Delete>"), &d),
                 0);
    CHECK_EQ_INT(d.quiet, 1);
    CHECK_EQ_INT(
        s3_xml_parse_delete(&pool, IOV("<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>"), &d),
        -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_delete_reads_conditions)
{
    s3_xml_delete_t d;
    const char *body = "<Delete><Object><Key>a</Key><LastModifiedTime>2025-01-02T03:04:05.000Z</LastModifiedTime>"
                       "<Size>42</Size></Object><Object><Key>b</Key></Object></Delete>";
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(body), &d), 0);
    CHECK_EQ_INT(d.objects[0].has_mtime, 1);
    CHECK(d.objects[0].mtime_ns == 1735787045LL * 1000000000);
    CHECK_EQ_INT(d.objects[0].has_size, 1);
    CHECK(d.objects[0].size == 42);
    CHECK_EQ_INT(d.objects[1].has_mtime, 0);
    CHECK_EQ_INT(d.objects[1].has_size, 0);
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Object><Key>a</Key><Size>-1</Size></Object></Delete>"), &d),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(
        s3_xml_parse_delete(
            &pool, IOV("<Delete><Object><Key>a</Key><LastModifiedTime>soon</LastModifiedTime></Object></Delete>"), &d),
        -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_delete_when_key_missing_fails)
{
    s3_xml_delete_t d;
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Object><VersionId>v</VersionId></Object></Delete>"), &d),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete></Delete>"), &d), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>"), &d),
                 -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_delete_caps_at_1000_objects)
{
    s3_xml_delete_t d;
    size_t len;
    char *doc = repeat_doc("<Delete>", "<Object><Key>k</Key></Object>", 1000, "</Delete>", &len);
    int ok = s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d) == 0 && d.count == 1000;
    free(doc);
    CHECK(ok);
    doc = repeat_doc("<Delete>", "<Object><Key>k</Key></Object>", 1001, "</Delete>", &len);
    int ret = s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d);
    free(doc);
    CHECK_EQ_INT(ret, -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_delete_accepts_1024_byte_key)
{
    s3_xml_delete_t d;
    size_t len;
    char *doc = repeat_doc("<Delete><Object><Key>", "k", 1024, "</Key></Object></Delete>", &len);
    int ret = s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d);
    free(doc);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(d.objects[0].key.len, 1024);
}

TEST(test_parse_when_text_too_long_fails)
{
    s3_xml_delete_t d;
    size_t len;
    char *doc = repeat_doc("<Delete><Object><Key>", "k", S3_XML_MAX_TEXT + 1, "</Key></Object></Delete>", &len);
    int ret = s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d);
    free(doc);
    CHECK_EQ_INT(ret, -S3_ERR_MALFORMED_XML);
}

/* ---- hostile and malformed input, shared by every parser ---- */

TEST(test_parse_rejects_doctype)
{
    s3_xml_delete_t d;
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<!DOCTYPE Delete><Delete><Object><Key>k</Key></Object></Delete>"), &d),
                 -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_entity_declaration)
{
    s3_xml_delete_t d;
    const char *body = "<?xml version=\"1.0\"?><!DOCTYPE Delete [<!ENTITY x \"boom\">]>"
                       "<Delete><Object><Key>&x;</Key></Object></Delete>";
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(body), &d), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_billion_laughs)
{
    s3_xml_delete_t d;
    const char *body = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;\">"
                       "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>"
                       "<Delete><Object><Key>&lol2;</Key></Object></Delete>";
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(body), &d), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_external_entity)
{
    s3_xml_delete_t d;
    const char *body = "<!DOCTYPE Delete SYSTEM \"file:///etc/passwd\"><Delete><Object><Key>k</Key></Object></Delete>";
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(body), &d), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_undefined_entity)
{
    s3_xml_delete_t d;
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Delete><Object><Key>&nope;</Key></Object></Delete>"), &d),
                 -S3_ERR_MALFORMED_XML);
}

static int parse_nested(int n)
{
    char doc[1024];
    size_t len = (size_t)snprintf(doc, sizeof(doc), "<Delete><Object><Key>k</Key></Object>");
    s3_xml_delete_t d;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "<a>");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "</a>");
    len += (size_t)snprintf(doc + len, sizeof(doc) - len, "</Delete>");
    return s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d);
}

TEST(test_parse_rejects_deep_nesting)
{
    /* the root is depth 1 */
    CHECK_EQ_INT(parse_nested(S3_XML_MAX_DEPTH - 1), 0);
    CHECK_EQ_INT(parse_nested(S3_XML_MAX_DEPTH), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_wrong_root)
{
    s3_xml_delete_t d;
    s3_xml_complete_t c;
    CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV("<Remove><Object><Key>k</Key></Object></Remove>"), &d),
                 -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_complete(&pool, IOV("<Delete><Object><Key>k</Key></Object></Delete>"), &c),
                 -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_malformed)
{
    s3_xml_delete_t d;
    const char *bad[] = {"",
                         "   ",
                         "not xml",
                         "<Delete><Object><Key>k</Key></Object>",
                         "<Delete><Object><Key>k</Object></Key></Delete>",
                         "<Delete><Object><Key>k</Key></Object></Delete><Delete/>",
                         "<Delete><Object><Key>k</Key></Object></Delete>trailing",
                         "<Delete><Object><Key>\x01</Key></Object></Delete>",
                         "<Delete><Object><Key>\xff</Key></Object></Delete>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_xml_parse_delete(&pool, IOV(bad[i]), &d), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_rejects_oversized_body)
{
    s3_xml_delete_t d;
    size_t len = S3_XML_MAX_BODY + 1;
    char *doc = malloc(len);
    memset(doc, ' ', len);
    memcpy(doc, "<Delete><Object><Key>k</Key></Object></Delete>", 46);
    int ret = s3_xml_parse_delete(&pool, h2o_iovec_init(doc, len), &d);
    free(doc);
    CHECK_EQ_INT(ret, -S3_ERR_MALFORMED_XML);
}

/* ---- CreateBucketConfiguration, VersioningConfiguration ---- */

TEST(test_parse_create_bucket_location)
{
    s3_xml_create_bucket_t b;
    CHECK_EQ_INT(s3_xml_parse_create_bucket(&pool,
                                            IOV("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                                                "2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint>"
                                                "</CreateBucketConfiguration>"),
                                            &b),
                 0);
    CHECK(iov_eq(b.location_constraint, "eu-west-1"));
    CHECK_EQ_INT(s3_xml_parse_create_bucket(&pool, IOV("<CreateBucketConfiguration/>"), &b), 0);
    CHECK(b.location_constraint.base == NULL);
    CHECK_EQ_INT(s3_xml_parse_create_bucket(
                     &pool, IOV("<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>"), &b),
                 0);
    CHECK(iov_eq(b.location_constraint, ""));
    CHECK_EQ_INT(s3_xml_parse_create_bucket(&pool, IOV("<Bucket/>"), &b), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_versioning_status)
{
    s3_xml_versioning_t v;
    CHECK_EQ_INT(s3_xml_parse_versioning(&pool,
                                         IOV("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
                                             "\"><Status>Enabled</Status></VersioningConfiguration>"),
                                         &v),
                 0);
    CHECK_EQ_INT(v.status, S3_VERSIONING_ENABLED);
    CHECK_EQ_INT(v.mfa_delete, S3_MFA_DELETE_UNSET);
    CHECK_EQ_INT(
        s3_xml_parse_versioning(&pool,
                                IOV("<VersioningConfiguration><MfaDelete>Disabled</MfaDelete><Status>Suspended</Status>"
                                    "</VersioningConfiguration>"),
                                &v),
        0);
    CHECK_EQ_INT(v.status, S3_VERSIONING_SUSPENDED);
    CHECK_EQ_INT(v.mfa_delete, S3_MFA_DELETE_DISABLED);
    CHECK_EQ_INT(s3_xml_parse_versioning(&pool, IOV("<VersioningConfiguration/>"), &v), 0);
    CHECK_EQ_INT(v.status, S3_VERSIONING_UNSET);
}

TEST(test_parse_versioning_when_value_invalid_fails)
{
    s3_xml_versioning_t v;
    const char *bad[] = {"<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>",
                         "<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>",
                         "<VersioningConfiguration><Status></Status></VersioningConfiguration>",
                         "<VersioningConfiguration><MfaDelete>On</MfaDelete></VersioningConfiguration>",
                         ("<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status>"
                          "</VersioningConfiguration>")};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_xml_parse_versioning(&pool, IOV(bad[i]), &v), -S3_ERR_MALFORMED_XML);
}

/* ---- element trees and value readers ---- */

TEST(test_tree_reads_elements_in_order)
{
    s3_xml_node_t *root;
    CHECK_EQ_INT(
        s3_xml_parse_tree(&pool,
                          IOV("<?xml version=\"1.0\"?>\n<R xmlns=\"" S3_XML_NS "\">\n  <A>1</A>\n  <B><C>x &amp; y"
                              "</C><C/></B>\n  <A>2</A></R>"),
                          4096, 16, &root),
        0);
    CHECK(s3_xml_is(root, "R") && root->has_children);
    CHECK(iov_eq(root->text, ""));
    const s3_xml_node_t *a = root->first, *b = a->next, *a2 = b->next;
    CHECK(s3_xml_is(a, "A") && iov_eq(a->text, "1") && !a->has_children);
    CHECK(s3_xml_is(b, "B") && b->has_children);
    CHECK(iov_eq(b->first->text, "x & y") && iov_eq(b->first->next->text, ""));
    CHECK(b->first->next->next == NULL);
    CHECK(s3_xml_is(a2, "A") && iov_eq(a2->text, "2") && a2->next == NULL);
    CHECK_EQ_INT(s3_xml_count(root, "A"), 2);
    CHECK_EQ_INT(s3_xml_count(root, "Z"), 0);
    CHECK(s3_xml_child(root, "A") == a);
    CHECK(s3_xml_child(root, "C") == NULL); /* children only, not deeper */
}

TEST(test_tree_keeps_local_names_of_prefixed_elements)
{
    s3_xml_node_t *root;
    CHECK_EQ_INT(
        s3_xml_parse_tree(&pool, IOV("<s3:R xmlns:s3=\"" S3_XML_NS "\"><s3:A>v</s3:A></s3:R>"), 4096, 16, &root), 0);
    CHECK(s3_xml_is(root, "R") && s3_xml_is(root->first, "A"));
}

TEST(test_tree_refuses_what_the_parsers_refuse)
{
    static char deep[1024];
    s3_xml_node_t *root;
    size_t len = 0;
    for (int i = 0; i < S3_XML_MAX_DEPTH + 1; i++)
        len += (size_t)snprintf(deep + len, sizeof(deep) - len, "<a>");
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV(deep), 4096, 100, &root), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<!DOCTYPE r><r/>"), 4096, 16, &root), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<r>&e;</r>"), 4096, 16, &root), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<r><a></r>"), 4096, 16, &root), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV(""), 4096, 16, &root), -S3_ERR_MALFORMED_XML);
    CHECK(root == NULL);
}

TEST(test_tree_caps_elements_body_and_text)
{
    s3_xml_node_t *root;
    char *text = h2o_mem_alloc_pool(&pool, S3_XML_MAX_TEXT + 64);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<r><a/><a/><a/></r>"), 4096, 4, &root), 0);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<r><a/><a/><a/><a/></r>"), 4096, 4, &root), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV("<r><a/><a/></r>"), 10, 16, &root), -S3_ERR_MALFORMED_XML);
    memcpy(text, "<r>", 3);
    memset(text + 3, 'x', S3_XML_MAX_TEXT + 1);
    memcpy(text + 3 + S3_XML_MAX_TEXT + 1, "</r>", 5);
    CHECK_EQ_INT(s3_xml_parse_tree(&pool, IOV(text), 1 << 20, 16, &root), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_int64_reads_xs_integer)
{
    int64_t v;
    CHECK_EQ_INT(s3_xml_parse_int64(IOV(" 42\n"), &v), 0);
    CHECK_EQ_INT(v, 42);
    CHECK_EQ_INT(s3_xml_parse_int64(IOV("-7"), &v), 0);
    CHECK_EQ_INT(v, -7);
    CHECK_EQ_INT(s3_xml_parse_int64(IOV("+007"), &v), 0);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(s3_xml_parse_int64(IOV("9223372036854775807"), &v), 0);
    CHECK(v == INT64_MAX);
    CHECK_EQ_INT(s3_xml_parse_int64(IOV("-9223372036854775808"), &v), 0);
    CHECK(v == INT64_MIN);
    static const char *const bad[] = {"", " ", "-", "1.0", "1e3", "0x10", "9223372036854775808", "- 1", "1 2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_xml_parse_int64(IOV(bad[i]), &v), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_bool_reads_xs_boolean)
{
    int b;
    CHECK(s3_xml_parse_bool(IOV("true"), &b) == 0 && b == 1);
    CHECK(s3_xml_parse_bool(IOV(" 1 "), &b) == 0 && b == 1);
    CHECK(s3_xml_parse_bool(IOV("false"), &b) == 0 && b == 0);
    CHECK(s3_xml_parse_bool(IOV("0"), &b) == 0 && b == 0);
    CHECK_EQ_INT(s3_xml_parse_bool(IOV("True"), &b), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_xml_parse_bool(IOV("yes"), &b), -S3_ERR_MALFORMED_XML);
}

TEST(test_parse_iso8601_reads_times_and_dates)
{
    int64_t ns;
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2014-01-15T10:30:00Z"), &ns), 0);
    CHECK(ns == 1389781800LL * 1000000000);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2014-01-15T10:30:00.123456789Z"), &ns), 0);
    CHECK(ns == 1389781800LL * 1000000000 + 123456789);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2014-01-15T10:30:00.5123456789999Z"), &ns), 0);
    CHECK(ns == 1389781800LL * 1000000000 + 512345678);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2014-01-15T18:30:00+08:00"), &ns), 0);
    CHECK(ns == 1389781800LL * 1000000000);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2014-01-15T09:00:00-0130"), &ns), 0);
    CHECK(ns == 1389781800LL * 1000000000);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV(" 2016-02-29 "), &ns), 0); /* a bare date: its midnight UTC */
    CHECK(ns == 1456704000LL * 1000000000);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("1969-12-31T23:59:59Z"), &ns), 0);
    CHECK(ns == -1000000000LL);
    CHECK_EQ_INT(s3_xml_parse_iso8601(IOV("2000-03-01T00:00:00.000Z"), &ns), 0);
    CHECK(ns == 951868800LL * 1000000000);
}

TEST(test_parse_iso8601_refuses_other_forms)
{
    static const char *const bad[] = {
        "2014-02-29",
        "2015-13-01",
        "2014-01-32",
        "2014-01-15T24:00:00Z",
        "2014-01-15T10:60:00Z",
        "2014-01-15T10:30:60Z",
        "2014-01-15T10:30:00",
        "2014-01-15T10:30:00.Z",
        "2014-01-15 10:30:00Z",
        "Fri, 01 Jan 2016 00:00:00 GMT",
        "20140115T103000Z",
        "2014-01-15T10:30:00Zx",
        "2014-01-15T10:30:00+8:00",
        "3000-01-01T00:00:00Z",
        "1600-01-01",
        "",
        "2014-1-15",
        "2014-01-15t10:30:00z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ns;
        CHECK_EQ_INT(s3_xml_parse_iso8601(IOV(bad[i]), &ns), -S3_ERR_INVALID_ARGUMENT);
    }
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_writer_builds_document);
    RUN(test_writer_empty_result_is_empty_string);
    RUN(test_writer_escapes_markup);
    RUN(test_writer_escapes_control_characters);
    RUN(test_writer_keeps_utf8);
    RUN(test_writer_grows_for_large_documents);
    RUN(test_format_time_has_milliseconds);
    RUN(test_parse_complete_reads_parts);
    RUN(test_parse_complete_without_namespace);
    RUN(test_parse_complete_with_prefixed_namespace);
    RUN(test_parse_complete_when_part_incomplete_fails);
    RUN(test_parse_complete_caps_part_count);
    RUN(test_complete_check_order);
    RUN(test_parse_delete_reads_objects);
    RUN(test_parse_delete_quiet_values);
    RUN(test_parse_delete_reads_conditions);
    RUN(test_parse_delete_when_key_missing_fails);
    RUN(test_parse_delete_caps_at_1000_objects);
    RUN(test_parse_delete_accepts_1024_byte_key);
    RUN(test_parse_when_text_too_long_fails);
    RUN(test_parse_rejects_doctype);
    RUN(test_parse_rejects_entity_declaration);
    RUN(test_parse_rejects_billion_laughs);
    RUN(test_parse_rejects_external_entity);
    RUN(test_parse_rejects_undefined_entity);
    RUN(test_parse_rejects_deep_nesting);
    RUN(test_parse_rejects_wrong_root);
    RUN(test_parse_rejects_malformed);
    RUN(test_parse_rejects_oversized_body);
    RUN(test_parse_create_bucket_location);
    RUN(test_parse_versioning_status);
    RUN(test_parse_versioning_when_value_invalid_fails);
    RUN(test_tree_reads_elements_in_order);
    RUN(test_tree_keeps_local_names_of_prefixed_elements);
    RUN(test_tree_refuses_what_the_parsers_refuse);
    RUN(test_tree_caps_elements_body_and_text);
    RUN(test_parse_int64_reads_xs_integer);
    RUN(test_parse_bool_reads_xs_boolean);
    RUN(test_parse_iso8601_reads_times_and_dates);
    RUN(test_parse_iso8601_refuses_other_forms);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
