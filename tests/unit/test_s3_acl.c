/* test_s3_acl.c — canned ACLs, grant headers, the AccessControlPolicy document, the stored form
 * and the ACL's decisions. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/acl.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;
static uint8_t alice[S3_ACL_ID_LEN], bob[S3_ACL_ID_LEN];
static char alice_text[S3_ACL_ID_TEXT + 1], bob_text[S3_ACL_ID_TEXT + 1];
static s3_acl_t acl; /* large: one for the tests, not on the stack */

static int has_grant(const s3_acl_t *a, s3_acl_grantee_t grantee, const uint8_t *id, s3_acl_perm_t perm)
{
    for (size_t i = 0; i < a->ngrants; i++)
        if (a->grants[i].grantee == grantee && a->grants[i].perm == perm &&
            (id == NULL || memcmp(a->grants[i].id, id, S3_ACL_ID_LEN) == 0))
            return 1;
    return 0;
}

TEST(test_id_parse_and_format_round_trip)
{
    uint8_t id[S3_ACL_ID_LEN];
    char text[S3_ACL_ID_TEXT + 1];
    CHECK_EQ_INT(s3_acl_id_parse(IOV(alice_text), id), 0);
    CHECK(memcmp(id, alice, S3_ACL_ID_LEN) == 0);
    s3_acl_id_format(id, text);
    CHECK(strcmp(text, alice_text) == 0);
    CHECK_EQ_INT(s3_acl_id_parse(IOV("abc"), id), -1);
    char bad[S3_ACL_ID_TEXT + 1];
    memcpy(bad, alice_text, sizeof(bad));
    bad[10] = 'g';
    CHECK_EQ_INT(s3_acl_id_parse(IOV(bad), id), -1);
}

TEST(test_canned_acls_give_their_grants)
{
    CHECK_EQ_INT(s3_acl_canned(IOV("private"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 1 && has_grant(&acl, S3_ACL_USER, alice, S3_ACL_FULL_CONTROL));
    CHECK_EQ_INT(s3_acl_canned(IOV("public-read"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 2 && has_grant(&acl, S3_ACL_ALL_USERS, NULL, S3_ACL_READ));
    CHECK_EQ_INT(s3_acl_canned(IOV("public-read-write"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 3 && has_grant(&acl, S3_ACL_ALL_USERS, NULL, S3_ACL_WRITE));
    CHECK_EQ_INT(s3_acl_canned(IOV("authenticated-read"), alice, bob, 0, &acl), 0);
    CHECK(has_grant(&acl, S3_ACL_AUTHENTICATED_USERS, NULL, S3_ACL_READ));
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-read"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 2 && has_grant(&acl, S3_ACL_USER, bob, S3_ACL_READ));
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-full-control"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 2 && has_grant(&acl, S3_ACL_USER, bob, S3_ACL_FULL_CONTROL));
    CHECK_EQ_INT(s3_acl_canned(IOV("log-delivery-write"), alice, alice, 1, &acl), 0);
    CHECK(has_grant(&acl, S3_ACL_LOG_DELIVERY, NULL, S3_ACL_WRITE) &&
          has_grant(&acl, S3_ACL_LOG_DELIVERY, NULL, S3_ACL_READ_ACP));
}

TEST(test_canned_acls_put_group_grants_before_the_owner)
{
    CHECK_EQ_INT(s3_acl_canned(IOV("public-read-write"), alice, bob, 0, &acl), 0);
    CHECK(acl.ngrants == 3 && acl.grants[0].grantee == S3_ACL_ALL_USERS && acl.grants[0].perm == S3_ACL_READ &&
          acl.grants[1].grantee == S3_ACL_ALL_USERS && acl.grants[1].perm == S3_ACL_WRITE &&
          acl.grants[2].grantee == S3_ACL_USER && memcmp(acl.grants[2].id, alice, S3_ACL_ID_LEN) == 0);
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-read"), alice, bob, 0, &acl), 0);
    CHECK(memcmp(acl.grants[0].id, alice, S3_ACL_ID_LEN) == 0 && memcmp(acl.grants[1].id, bob, S3_ACL_ID_LEN) == 0);
}

TEST(test_owner_only_acl_is_one_granting_no_one_else)
{
    CHECK_EQ_INT(s3_acl_canned(IOV("private"), alice, alice, 1, &acl), 0);
    CHECK(s3_acl_is_owner_only(&acl));
    acl.ngrants = 0;
    CHECK(s3_acl_is_owner_only(&acl));
    CHECK_EQ_INT(s3_acl_canned(IOV("authenticated-read"), alice, alice, 1, &acl), 0);
    CHECK(!s3_acl_is_owner_only(&acl));
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-full-control"), alice, bob, 0, &acl), 0);
    CHECK(!s3_acl_is_owner_only(&acl));
}

TEST(test_canned_bucket_owner_acls_on_a_bucket_are_private)
{
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-full-control"), alice, alice, 1, &acl), 0);
    CHECK(acl.ngrants == 1);
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-read"), alice, alice, 0, &acl), 0);
    CHECK(acl.ngrants == 1);
}

TEST(test_canned_unknown_is_invalid_and_exec_read_not_implemented)
{
    CHECK_EQ_INT(s3_acl_canned(IOV("everyone"), alice, bob, 0, &acl), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_acl_canned(IOV("Private"), alice, bob, 0, &acl), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_acl_canned(IOV("aws-exec-read"), alice, bob, 0, &acl), -S3_ERR_NOT_IMPLEMENTED);
}

TEST(test_grant_headers_parse_ids_and_groups)
{
    char read[200];
    snprintf(read, sizeof(read), "id=\"%s\", uri=\"%s\"", bob_text, S3_ACL_URI_ALL_USERS);
    h2o_iovec_t v[S3_ACL__PERMS] = {{0}};
    v[S3_ACL_READ] = IOV(read);
    v[S3_ACL_WRITE_ACP] = IOV("uri=" S3_ACL_URI_AUTH);
    CHECK_EQ_INT(s3_acl_from_headers(v, alice, &acl), 0);
    CHECK(memcmp(acl.owner, alice, S3_ACL_ID_LEN) == 0);
    CHECK(acl.ngrants == 3);
    CHECK(has_grant(&acl, S3_ACL_USER, bob, S3_ACL_READ));
    CHECK(has_grant(&acl, S3_ACL_ALL_USERS, NULL, S3_ACL_READ));
    CHECK(has_grant(&acl, S3_ACL_AUTHENTICATED_USERS, NULL, S3_ACL_WRITE_ACP));
}

TEST(test_grant_headers_refused_when_malformed_or_email)
{
    h2o_iovec_t v[S3_ACL__PERMS] = {{0}};
    const char *bad[] = {
        "",  "id", "id=\"abc\"", "uri=\"http://example.com/x\"", "who=\"x\"", "id=\"x", "uri=" S3_ACL_URI_AUTH ",",
        NULL};
    for (const char **b = bad; *b != NULL; b++) {
        v[S3_ACL_READ] = IOV(*b);
        CHECK_EQ_INT(s3_acl_from_headers(v, alice, &acl), -S3_ERR_INVALID_ARGUMENT);
    }
    v[S3_ACL_READ] = IOV("emailAddress=\"a@example.com\"");
    CHECK_EQ_INT(s3_acl_from_headers(v, alice, &acl), -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS);
}

static int parse(const char *body)
{
    return s3_acl_parse_xml(&pool, IOV(body), &acl);
}

TEST(test_document_round_trips_when_written)
{
    s3_acl_t in;
    s3_xml_writer_t w;
    CHECK_EQ_INT(s3_acl_canned(IOV("public-read-write"), alice, bob, 0, &in), 0);
    in.grants[in.ngrants++] = (s3_acl_grant_t){.grantee = S3_ACL_USER, .perm = S3_ACL_READ_ACP};
    memcpy(in.grants[in.ngrants - 1].id, bob, S3_ACL_ID_LEN);
    s3_xml_writer_init(&w, &pool);
    s3_acl_write_xml(&w, &in, NULL, NULL);
    CHECK_EQ_INT(s3_acl_parse_xml(&pool, s3_xml_writer_result(&w), &acl), 0);
    CHECK(acl.ngrants == in.ngrants && memcmp(acl.owner, alice, S3_ACL_ID_LEN) == 0);
    CHECK(memcmp(acl.grants, in.grants, in.ngrants * sizeof(in.grants[0])) == 0);
}

TEST(test_document_malformed_when_shape_or_value_wrong)
{
    char doc[1024];
    CHECK_EQ_INT(parse("<AccessControlPolicy/>"), -S3_ERR_MALFORMED_ACL_ERROR);
    CHECK_EQ_INT(parse("nonsense"), -S3_ERR_MALFORMED_ACL_ERROR);
    CHECK_EQ_INT(parse("<AccessControlPolicy><Owner><ID>12</ID></Owner></AccessControlPolicy>"),
                 -S3_ERR_MALFORMED_ACL_ERROR);
    snprintf(doc, sizeof(doc),
             "<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList><Grant><Grantee><ID>%s</ID>"
             "</Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>",
             alice_text, bob_text);
    CHECK_EQ_INT(parse(doc), -S3_ERR_MALFORMED_ACL_ERROR);
    snprintf(doc, sizeof(doc),
             "<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList><Grant><Grantee><ID>%s</ID>"
             "<URI>" S3_ACL_URI_ALL_USERS "</URI></Grantee><Permission>READ</Permission></Grant>"
             "</AccessControlList></AccessControlPolicy>",
             alice_text, bob_text);
    CHECK_EQ_INT(parse(doc), -S3_ERR_MALFORMED_ACL_ERROR); /* two grantees in one */
    snprintf(doc, sizeof(doc),
             "<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList><Grant><Grantee>"
             "<EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission></Grant>"
             "</AccessControlList></AccessControlPolicy>",
             alice_text);
    CHECK_EQ_INT(parse(doc), -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS);
    snprintf(doc, sizeof(doc),
             "<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList><Grant><Grantee><ID>_foo</ID>"
             "</Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
             alice_text);
    CHECK_EQ_INT(parse(doc), -S3_ERR_INVALID_ARGUMENT); /* well-formed, but no canonical id: "Invalid id" */
}

TEST(test_stored_form_round_trips_and_refuses_bad_bytes)
{
    uint8_t buf[S3_ACL_ENCODED_MAX];
    s3_acl_t in;
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-full-control"), alice, bob, 0, &in), 0);
    size_t n = s3_acl_encode(&in, buf);
    CHECK_EQ_INT(s3_acl_decode(buf, n, &acl), 0);
    CHECK(acl.ngrants == 2 && memcmp(&acl, &in, sizeof(acl)) == 0);
    CHECK_EQ_INT(s3_acl_decode(buf, n - 1, &acl), -1); /* cut */
    buf[n] = 0;
    CHECK_EQ_INT(s3_acl_decode(buf, n + 1, &acl), -1); /* trailing byte */
    buf[0] = 9;
    CHECK_EQ_INT(s3_acl_decode(buf, n, &acl), -1); /* another format */
    buf[0] = 1;
    buf[1 + S3_ACL_ID_LEN + 1] = S3_ACL__GRANTEES; /* no such grantee */
    CHECK_EQ_INT(s3_acl_decode(buf, n, &acl), -1);
}

TEST(test_permits_by_id_group_and_full_control)
{
    s3_acl_who_t who_bob = {bob}, who_alice = {alice}, nobody = {NULL};
    CHECK_EQ_INT(s3_acl_canned(IOV("bucket-owner-read"), alice, bob, 0, &acl), 0);
    CHECK(s3_acl_permits(&acl, who_bob, S3_ACL_READ, 0));
    CHECK(!s3_acl_permits(&acl, who_bob, S3_ACL_READ_ACP, 0));   /* READ is not READ_ACP */
    CHECK(s3_acl_permits(&acl, who_alice, S3_ACL_WRITE_ACP, 0)); /* FULL_CONTROL gives all */
    CHECK(!s3_acl_permits(&acl, nobody, S3_ACL_READ, 0));
    CHECK_EQ_INT(s3_acl_canned(IOV("authenticated-read"), alice, alice, 0, &acl), 0);
    CHECK(s3_acl_permits(&acl, who_bob, S3_ACL_READ, 0));
    CHECK(!s3_acl_permits(&acl, nobody, S3_ACL_READ, 0));  /* anonymous is not authenticated */
    CHECK(!s3_acl_permits(&acl, who_bob, S3_ACL_READ, 1)); /* IgnorePublicAcls */
    CHECK(s3_acl_is_public(&acl));
    CHECK_EQ_INT(s3_acl_canned(IOV("public-read"), alice, alice, 0, &acl), 0);
    CHECK(s3_acl_permits(&acl, nobody, S3_ACL_READ, 0));
    CHECK(!s3_acl_permits(&acl, nobody, S3_ACL_WRITE, 0));
    CHECK(!s3_acl_permits(&acl, nobody, S3_ACL_READ, 1));
    CHECK_EQ_INT(s3_acl_canned(IOV("log-delivery-write"), alice, alice, 1, &acl), 0);
    CHECK(!s3_acl_is_public(&acl));
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    for (size_t i = 0; i < S3_ACL_ID_LEN; i++) {
        alice[i] = (uint8_t)(i * 7 + 1);
        bob[i] = (uint8_t)(0xf0 - i);
    }
    s3_acl_id_format(alice, alice_text);
    s3_acl_id_format(bob, bob_text);
    RUN(test_id_parse_and_format_round_trip);
    RUN(test_canned_acls_give_their_grants);
    RUN(test_canned_acls_put_group_grants_before_the_owner);
    RUN(test_owner_only_acl_is_one_granting_no_one_else);
    RUN(test_canned_bucket_owner_acls_on_a_bucket_are_private);
    RUN(test_canned_unknown_is_invalid_and_exec_read_not_implemented);
    RUN(test_grant_headers_parse_ids_and_groups);
    RUN(test_grant_headers_refused_when_malformed_or_email);
    RUN(test_document_round_trips_when_written);
    RUN(test_document_malformed_when_shape_or_value_wrong);
    RUN(test_stored_form_round_trips_and_refuses_bad_bytes);
    RUN(test_permits_by_id_group_and_full_control);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
