/* test_s3_error.c — the error table and the error document. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/error.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

TEST(test_error_info_gives_code_and_status)
{
    static const struct {
        s3_error_t err;
        const char *code;
        int status;
    } cases[] = {
        {S3_ERR_ACCESS_DENIED, "AccessDenied", 403},
        {S3_ERR_AUTHORIZATION_HEADER_MALFORMED, "AuthorizationHeaderMalformed", 400},
        {S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR, "AuthorizationQueryParametersError", 400},
        {S3_ERR_BAD_DIGEST, "BadDigest", 400},
        {S3_ERR_BUCKET_ALREADY_EXISTS, "BucketAlreadyExists", 409},
        {S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, "BucketAlreadyOwnedByYou", 409},
        {S3_ERR_BUCKET_NOT_EMPTY, "BucketNotEmpty", 409},
        {S3_ERR_ENTITY_TOO_LARGE, "EntityTooLarge", 400},
        {S3_ERR_ENTITY_TOO_SMALL, "EntityTooSmall", 400},
        {S3_ERR_ILLEGAL_LOCATION_CONSTRAINT_EXCEPTION, "IllegalLocationConstraintException", 400},
        {S3_ERR_INCOMPLETE_BODY, "IncompleteBody", 400},
        {S3_ERR_INTERNAL_ERROR, "InternalError", 500},
        {S3_ERR_INVALID_ACCESS_KEY_ID, "InvalidAccessKeyId", 403},
        {S3_ERR_INVALID_ARGUMENT, "InvalidArgument", 400},
        {S3_ERR_INVALID_BUCKET_NAME, "InvalidBucketName", 400},
        {S3_ERR_INVALID_DIGEST, "InvalidDigest", 400},
        {S3_ERR_INVALID_LOCATION_CONSTRAINT, "InvalidLocationConstraint", 400},
        {S3_ERR_INVALID_PART, "InvalidPart", 400},
        {S3_ERR_INVALID_PART_ORDER, "InvalidPartOrder", 400},
        {S3_ERR_INVALID_RANGE, "InvalidRange", 416},
        {S3_ERR_INVALID_REQUEST, "InvalidRequest", 400},
        {S3_ERR_INVALID_STORAGE_CLASS, "InvalidStorageClass", 400},
        {S3_ERR_KEY_TOO_LONG_ERROR, "KeyTooLongError", 400},
        {S3_ERR_MALFORMED_XML, "MalformedXML", 400},
        {S3_ERR_METADATA_TOO_LARGE, "MetadataTooLarge", 400},
        {S3_ERR_METHOD_NOT_ALLOWED, "MethodNotAllowed", 405},
        {S3_ERR_MISSING_CONTENT_LENGTH, "MissingContentLength", 411},
        {S3_ERR_MISSING_REQUEST_BODY_ERROR, "MissingRequestBodyError", 400},
        {S3_ERR_NO_SUCH_BUCKET, "NoSuchBucket", 404},
        {S3_ERR_NO_SUCH_KEY, "NoSuchKey", 404},
        {S3_ERR_NO_SUCH_UPLOAD, "NoSuchUpload", 404},
        {S3_ERR_NO_SUCH_VERSION, "NoSuchVersion", 404},
        {S3_ERR_NOT_IMPLEMENTED, "NotImplemented", 501},
        {S3_ERR_NOT_MODIFIED, "NotModified", 304},
        {S3_ERR_PRECONDITION_FAILED, "PreconditionFailed", 412},
        {S3_ERR_REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed", 403},
        {S3_ERR_SERVICE_UNAVAILABLE, "ServiceUnavailable", 503},
        {S3_ERR_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 403},
        {S3_ERR_SLOW_DOWN, "SlowDown", 503},
        {S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch", 400},
        {S3_ERR_INVALID_BUCKET_STATE, "InvalidBucketState", 409},
        {S3_ERR_MALFORMED_POLICY, "MalformedPolicy", 400},
        {S3_ERR_NO_SUCH_BUCKET_POLICY, "NoSuchBucketPolicy", 404},
        {S3_ERR_ACCOUNT_PROBLEM, "AccountProblem", 403},
        {S3_ERR_INVALID_URI, "InvalidURI", 400},
        {S3_ERR_INVALID_PART_NUMBER, "InvalidPartNumber", 416},
        {S3_ERR_STORAGE_FULL, "StorageFull", 507},
        {S3_ERR_QUOTA_EXCEEDED, "QuotaExceeded", 403},
        {S3_ERR_ACCESS_FORBIDDEN, "AccessForbidden", 403},
        {S3_ERR_BAD_REQUEST, "BadRequest", 400},
        {S3_ERR_INVALID_TAG, "InvalidTag", 400},
        {S3_ERR_NO_SUCH_OBJECT_LOCK_CONFIGURATION, "NoSuchObjectLockConfiguration", 404},
        {S3_ERR_OBJECT_LOCK_CONFIGURATION_NOT_FOUND_ERROR, "ObjectLockConfigurationNotFoundError", 404},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const s3_error_info_t *info = s3_error_info(cases[i].err);
        CHECK(strcmp(info->code, cases[i].code) == 0);
        CHECK_EQ_INT(info->status, cases[i].status);
    }
}

TEST(test_error_info_every_code_has_an_entry)
{
    for (int i = 1; i < S3_ERR__COUNT; i++) {
        const s3_error_info_t *info = s3_error_info((s3_error_t)i);
        CHECK(info->code != NULL && info->message != NULL && info->message[0] != '\0');
        CHECK(info->status >= 300 && info->status <= 599);
        /* codes are unique: the lookup by string comes back to the same entry */
        CHECK_EQ_INT(s3_error_from_code(IOV(info->code)), i);
    }
}

TEST(test_error_info_out_of_range_gives_internal_error)
{
    CHECK(strcmp(s3_error_info(S3_OK)->code, "InternalError") == 0);
    CHECK(strcmp(s3_error_info(S3_ERR__COUNT)->code, "InternalError") == 0);
    CHECK(strcmp(s3_error_info((s3_error_t)-5)->code, "InternalError") == 0);
}

TEST(test_error_from_ret_maps_library_codes)
{
    CHECK_EQ_INT(s3_error_from_ret(0), S3_OK);
    CHECK_EQ_INT(s3_error_from_ret(-S3_ERR_NO_SUCH_KEY), S3_ERR_NO_SUCH_KEY);
    CHECK_EQ_INT(s3_error_from_ret(-100000), S3_ERR_INTERNAL_ERROR);
    CHECK_EQ_INT(s3_error_from_ret(5), S3_ERR_INTERNAL_ERROR);
}

TEST(test_error_from_code_when_unknown_gives_ok)
{
    CHECK_EQ_INT(s3_error_from_code(IOV("NoSuchThing")), S3_OK);
    CHECK_EQ_INT(s3_error_from_code(IOV("nosuchkey")), S3_OK);
    CHECK_EQ_INT(s3_error_from_code(IOV("")), S3_OK);
}

TEST(test_error_xml_with_defaults)
{
    h2o_mem_pool_t pool;
    h2o_iovec_t out;
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, S3_ERR_NO_SUCH_KEY, NONE, IOV("/b/k"), IOV("REQ1"), NONE, NULL, 0, &out);
    int ok = iov_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                         "<Message>The specified key does not exist.</Message><Resource>/b/k</Resource>"
                         "<RequestId>REQ1</RequestId></Error>");
    h2o_mem_clear_pool(&pool);
    CHECK(ok);
}

TEST(test_error_xml_escapes_message_fields_and_resource)
{
    h2o_mem_pool_t pool;
    h2o_iovec_t out;
    s3_error_field_t fields[] = {{"Key", IOV("a<b>&\"c'")}, {"BucketName", IOV("bkt")}};
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, S3_ERR_INVALID_ARGUMENT, IOV("bad & worse"), IOV("/bkt/a<b"), NONE, IOV("host"), fields, 2,
                 &out);
    int ok = iov_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>"
                         "<Message>bad &amp; worse</Message><Key>a&lt;b&gt;&amp;&quot;c&apos;</Key>"
                         "<BucketName>bkt</BucketName><Resource>/bkt/a&lt;b</Resource><HostId>host</HostId>"
                         "</Error>");
    h2o_mem_clear_pool(&pool);
    CHECK(ok);
}

TEST(test_error_xml_without_resource_or_request_id_omits_them)
{
    h2o_mem_pool_t pool;
    h2o_iovec_t out;
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, S3_ERR_SLOW_DOWN, NONE, NONE, NONE, NONE, NULL, 0, &out);
    int ok = iov_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                         "<Message>Please reduce your request rate.</Message></Error>");
    h2o_mem_clear_pool(&pool);
    CHECK(ok);
}

TEST(test_error_detail_records_code_message_and_fields)
{
    s3_error_detail_t d;
    memset(&d, 0, sizeof(d));
    CHECK_EQ_INT(s3_error_detail_set(&d, S3_ERR_INVALID_TAG, "The TagKey you have provided is invalid"),
                 -S3_ERR_INVALID_TAG);
    s3_error_detail_field(&d, "TagKey", IOV("k"));
    s3_error_detail_field(&d, "TagValue", IOV("v"));
    s3_error_detail_field(&d, "Third", IOV("dropped"));
    CHECK_EQ_INT(d.err, S3_ERR_INVALID_TAG);
    CHECK(iov_eq(d.message, "The TagKey you have provided is invalid"));
    CHECK_EQ_INT(d.nfields, 2);
    CHECK(strcmp(d.fields[1].name, "TagValue") == 0 && iov_eq(d.fields[1].value, "v"));
    /* a new answer drops the fields of the one before; NULL is the code's own message */
    CHECK_EQ_INT(s3_error_detail_set(&d, S3_ERR_MALFORMED_XML, NULL), -S3_ERR_MALFORMED_XML);
    CHECK(d.message.base == NULL && d.nfields == 0);
    /* no detail wanted: still the code */
    CHECK_EQ_INT(s3_error_detail_set(NULL, S3_ERR_BAD_REQUEST, "x"), -S3_ERR_BAD_REQUEST);
    s3_error_detail_field(NULL, "A", IOV("b"));
}

TEST(test_error_access_forbidden_keeps_s3_wording)
{
    CHECK(strcmp(s3_error_info(S3_ERR_ACCESS_FORBIDDEN)->message,
                 "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                 "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                 "whitelisted by the resource's CORS spec.") == 0);
}

int main(void)
{
    RUN(test_error_info_gives_code_and_status);
    RUN(test_error_info_every_code_has_an_entry);
    RUN(test_error_info_out_of_range_gives_internal_error);
    RUN(test_error_from_ret_maps_library_codes);
    RUN(test_error_from_code_when_unknown_gives_ok);
    RUN(test_error_xml_with_defaults);
    RUN(test_error_xml_escapes_message_fields_and_resource);
    RUN(test_error_xml_without_resource_or_request_id_omits_them);
    RUN(test_error_detail_records_code_message_and_fields);
    RUN(test_error_access_forbidden_keeps_s3_wording);
    return unit_done();
}
