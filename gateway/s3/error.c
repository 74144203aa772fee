/* error.c — the table of S3 error codes and the error document.
 *
 * Codes, statuses and default messages are those S3 documents in its error code list, so SDKs
 * that switch on Code or status behave as they do against S3. One is ours, because S3 is never
 * full: StorageFull, 507 Insufficient Storage (RFC 4918), for a write refused because too many
 * drives lack free space. SDKs retry 500, 502, 503 and 504 (and throttling codes) but not 507,
 * which is right: retrying at once cannot succeed, freeing space can. AccessForbidden is missing
 * from S3's table but is what S3 answers a refused CORS preflight with; its message keeps S3's
 * wording, typo ("evalution") included, since clients and tests compare it. The table is indexed by
 * s3_error_t and built at compile time (designated initialisers keep it in step with the enum).
 */
#include <string.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

static const s3_error_info_t error_table[S3_ERR__COUNT] = {
    [S3_OK] = {"OK", 200, "OK"},
    [S3_ERR_ACCESS_DENIED] = {"AccessDenied", 403, "Access Denied"},
    [S3_ERR_ACCESS_FORBIDDEN] = {"AccessForbidden", 403,
                                 "CORSResponse: This CORS request is not allowed. This is usually because the "
                                 "evalution of Origin, request method / Access-Control-Request-Method or "
                                 "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."},
    [S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED] = {"AccessControlListNotSupported", 400,
                                                  "The bucket does not allow ACLs"},
    [S3_ERR_ACCOUNT_PROBLEM] = {"AccountProblem", 403,
                                "There is a problem with your account that prevents the operation from completing "
                                "successfully."},
    [S3_ERR_ALL_ACCESS_DISABLED] = {"AllAccessDisabled", 403, "All access to this resource has been disabled."},
    [S3_ERR_AUTHORIZATION_HEADER_MALFORMED] = {"AuthorizationHeaderMalformed", 400,
                                               "The authorization header you provided is not valid."},
    [S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR] = {"AuthorizationQueryParametersError", 400,
                                                     "Error parsing the X-Amz-Credential parameter."},
    [S3_ERR_BAD_DIGEST] = {"BadDigest", 400, "The Content-MD5 you specified did not match what we received."},
    [S3_ERR_BAD_REQUEST] = {"BadRequest", 400, "Bad Request"},
    [S3_ERR_BUCKET_ALREADY_EXISTS] = {"BucketAlreadyExists", 409,
                                      "The requested bucket name is not available. The bucket namespace is shared "
                                      "by all users of the system. Please select a different name and try again."},
    [S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU] = {"BucketAlreadyOwnedByYou", 409,
                                            "Your previous request to create the named bucket succeeded and you "
                                            "already own it."},
    [S3_ERR_BUCKET_NOT_EMPTY] = {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty."},
    [S3_ERR_CONDITIONAL_REQUEST_CONFLICT] = {"ConditionalRequestConflict", 409,
                                             "A conflicting conditional operation is currently in progress against "
                                             "this resource. Please try again."},
    [S3_ERR_ENTITY_TOO_LARGE] = {"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size."},
    [S3_ERR_ENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
                                 "Your proposed upload is smaller than the minimum allowed object size."},
    [S3_ERR_EXPIRED_TOKEN] = {"ExpiredToken", 400, "The provided token has expired."},
    [S3_ERR_ILLEGAL_LOCATION_CONSTRAINT_EXCEPTION] = {"IllegalLocationConstraintException", 400,
                                                      "The unspecified location constraint is incompatible for the "
                                                      "region specific endpoint this request was sent to."},
    [S3_ERR_ILLEGAL_VERSIONING_CONFIGURATION_EXCEPTION] = {"IllegalVersioningConfigurationException", 400,
                                                           "The versioning configuration specified in the request "
                                                           "is invalid."},
    [S3_ERR_INCOMPLETE_BODY] = {"IncompleteBody", 400,
                                "You did not provide the number of bytes specified by the Content-Length HTTP "
                                "header."},
    [S3_ERR_INCORRECT_NUMBER_OF_FILES_IN_POST_REQUEST] = {"IncorrectNumberOfFilesInPostRequest", 400,
                                                          "POST requires exactly one file upload per request."},
    [S3_ERR_INTERNAL_ERROR] = {"InternalError", 500, "We encountered an internal error. Please try again."},
    [S3_ERR_INVALID_ACCESS_KEY_ID] = {"InvalidAccessKeyId", 403,
                                      "The AWS access key ID you provided does not exist in our records."},
    [S3_ERR_INVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument"},
    [S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP] = {"InvalidBucketAclWithObjectOwnership", 400,
                                                         "Bucket cannot have ACLs set with ObjectOwnership's "
                                                         "BucketOwnerEnforced setting"},
    [S3_ERR_INVALID_BUCKET_NAME] = {"InvalidBucketName", 400, "The specified bucket is not valid."},
    [S3_ERR_INVALID_BUCKET_STATE] = {"InvalidBucketState", 409,
                                     "The request is not valid with the current state of the bucket."},
    [S3_ERR_INVALID_CHUNK_SIZE_ERROR] = {"InvalidChunkSizeError", 403,
                                         "Only the last chunk is allowed to have a size less than 8192 bytes"},
    [S3_ERR_INVALID_DIGEST] = {"InvalidDigest", 400, "The Content-MD5 you specified is not valid."},
    [S3_ERR_INVALID_ENCRYPTION_ALGORITHM_ERROR] = {"InvalidEncryptionAlgorithmError", 400,
                                                   "The encryption request you specified is not valid. The valid "
                                                   "value is AES256."},
    [S3_ERR_INVALID_LOCATION_CONSTRAINT] = {"InvalidLocationConstraint", 400,
                                            "The specified location constraint is not valid."},
    [S3_ERR_INVALID_OBJECT_STATE] = {"InvalidObjectState", 403,
                                     "The operation is not valid for the current state of the object."},
    [S3_ERR_INVALID_PART] = {"InvalidPart", 400,
                             "One or more of the specified parts could not be found. The part might not have been "
                             "uploaded, or the specified entity tag might not have matched the part's entity tag."},
    [S3_ERR_INVALID_PART_NUMBER] = {"InvalidPartNumber", 416, "The requested partnumber is not satisfiable"},
    [S3_ERR_INVALID_PART_ORDER] = {"InvalidPartOrder", 400,
                                   "The list of parts was not in ascending order. Parts must be ordered by part "
                                   "number."},
    [S3_ERR_INVALID_POLICY_DOCUMENT] = {"InvalidPolicyDocument", 400,
                                        "The content of the form does not meet the conditions specified in the "
                                        "policy document."},
    [S3_ERR_INVALID_RANGE] = {"InvalidRange", 416, "The requested range is not satisfiable"},
    [S3_ERR_INVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request"},
    [S3_ERR_INVALID_SECURITY] = {"InvalidSecurity", 403, "The provided security credentials are not valid."},
    [S3_ERR_INVALID_STORAGE_CLASS] = {"InvalidStorageClass", 400, "The storage class you specified is not valid"},
    [S3_ERR_INVALID_TAG] = {"InvalidTag", 400, "The tag provided was not a valid tag."},
    [S3_ERR_INVALID_TARGET_BUCKET_FOR_LOGGING] = {"InvalidTargetBucketForLogging", 400,
                                                  "The target bucket for logging does not exist"},
    [S3_ERR_INVALID_TOKEN] = {"InvalidToken", 400, "The provided token is malformed or otherwise invalid."},
    [S3_ERR_INVALID_URI] = {"InvalidURI", 400, "Couldn't parse the specified URI."},
    [S3_ERR_KEY_TOO_LONG_ERROR] = {"KeyTooLongError", 400, "Your key is too long"},
    [S3_ERR_MALFORMED_ACL_ERROR] = {"MalformedACLError", 400,
                                    "The XML you provided was not well-formed or did not validate against our "
                                    "published schema"},
    [S3_ERR_MALFORMED_POLICY] = {"MalformedPolicy", 400, "Policy has invalid resource"},
    [S3_ERR_MALFORMED_POST_REQUEST] = {"MalformedPOSTRequest", 400,
                                       "The body of your POST request is not well-formed multipart/form-data."},
    [S3_ERR_KMS_NOT_FOUND] = {"KMS.NotFoundException", 400, "Invalid keyId"},
    [S3_ERR_MALFORMED_XML] = {"MalformedXML", 400,
                              "The XML you provided was not well-formed or did not validate against our published "
                              "schema"},
    [S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED] = {"MaxMessageLengthExceeded", 400, "Your request was too big."},
    [S3_ERR_MAX_POST_PRE_DATA_LENGTH_EXCEEDED] = {"MaxPostPreDataLengthExceededError", 400,
                                                  "Your POST request fields preceding the upload file were too large."},
    [S3_ERR_METADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
                                   "Your metadata headers exceed the maximum allowed metadata size."},
    [S3_ERR_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405,
                                   "The specified method is not allowed against this resource."},
    [S3_ERR_MISSING_CONTENT_LENGTH] = {"MissingContentLength", 411, "You must provide the Content-Length HTTP header."},
    [S3_ERR_MISSING_REQUEST_BODY_ERROR] = {"MissingRequestBodyError", 400, "Request Body is empty"},
    [S3_ERR_MISSING_SECURITY_HEADER] = {"MissingSecurityHeader", 400, "Your request is missing a required header."},
    [S3_ERR_NO_SUCH_BUCKET] = {"NoSuchBucket", 404, "The specified bucket does not exist"},
    [S3_ERR_NO_SUCH_BUCKET_POLICY] = {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"},
    [S3_ERR_NO_SUCH_CORS_CONFIGURATION] = {"NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"},
    [S3_ERR_NO_SUCH_KEY] = {"NoSuchKey", 404, "The specified key does not exist."},
    [S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION] = {"NoSuchLifecycleConfiguration", 404,
                                                "The lifecycle configuration does not exist"},
    [S3_ERR_NO_SUCH_OBJECT_LOCK_CONFIGURATION] = {"NoSuchObjectLockConfiguration", 404,
                                                  "The specified object does not have a ObjectLock configuration"},
    [S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION] = {"NoSuchPublicAccessBlockConfiguration", 404,
                                                          "The public access block configuration was not found"},
    [S3_ERR_NO_SUCH_TAG_SET] = {"NoSuchTagSet", 404, "The TagSet does not exist"},
    [S3_ERR_NO_SUCH_UPLOAD] = {"NoSuchUpload", 404,
                               "The specified upload does not exist. The upload ID may be invalid, or the upload may "
                               "have been aborted or completed."},
    [S3_ERR_NO_SUCH_VERSION] = {"NoSuchVersion", 404,
                                "The version ID specified in the request does not match an existing version."},
    [S3_ERR_NOT_IMPLEMENTED] = {"NotImplemented", 501,
                                "A header you provided implies functionality that is not implemented"},
    [S3_ERR_NOT_MODIFIED] = {"NotModified", 304, "Not Modified"},
    [S3_ERR_OBJECT_LOCK_CONFIGURATION_NOT_FOUND_ERROR] = {"ObjectLockConfigurationNotFoundError", 404,
                                                          "Object Lock configuration does not exist for this bucket"},
    [S3_ERR_OWNERSHIP_CONTROLS_NOT_FOUND_ERROR] = {"OwnershipControlsNotFoundError", 404,
                                                   "The bucket ownership controls were not found"},
    [S3_ERR_OPERATION_ABORTED] = {"OperationAborted", 409,
                                  "A conflicting conditional operation is currently in progress against this "
                                  "resource. Try again."},
    [S3_ERR_PRECONDITION_FAILED] = {"PreconditionFailed", 412,
                                    "At least one of the pre-conditions you specified did not hold"},
    [S3_ERR_QUOTA_EXCEEDED] = {"QuotaExceeded", 403,
                               "This write would exceed the quota of the bucket or of its owner. Delete objects or "
                               "ask for a larger quota."},
    [S3_ERR_REQUEST_TIME_TOO_SKEWED] = {"RequestTimeTooSkewed", 403,
                                        "The difference between the request time and the server's time is too "
                                        "large."},
    [S3_ERR_REQUEST_TIMEOUT] = {"RequestTimeout", 400,
                                "Your socket connection to the server was not read from or written to within the "
                                "timeout period."},
    [S3_ERR_SERVER_SIDE_ENCRYPTION_CONFIGURATION_NOT_FOUND_ERROR] =
        {"ServerSideEncryptionConfigurationNotFoundError", 404,
         "The server side encryption configuration was not found"},
    [S3_ERR_SERVICE_UNAVAILABLE] = {"ServiceUnavailable", 503, "Please reduce your request rate."},
    [S3_ERR_SIGNATURE_DOES_NOT_MATCH] = {"SignatureDoesNotMatch", 403,
                                         "The request signature we calculated does not match the signature you "
                                         "provided. Check your key and signing method."},
    [S3_ERR_SLOW_DOWN] = {"SlowDown", 503, "Please reduce your request rate."},
    [S3_ERR_STORAGE_FULL] = {"StorageFull", 507,
                             "The drives that would store this have no free space left. Delete objects or add drives, "
                             "then retry."},
    [S3_ERR_TOO_MANY_BUCKETS] = {"TooManyBuckets", 400, "You have attempted to create more buckets than allowed."},
    [S3_ERR_UNEXPECTED_CONTENT] = {"UnexpectedContent", 400, "This request does not support content."},
    [S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS] = {"UnresolvableGrantByEmailAddress", 400,
                                                    "The email address you provided does not match any account on "
                                                    "record."},
    [S3_ERR_USER_KEY_MUST_BE_SPECIFIED] = {"UserKeyMustBeSpecified", 400,
                                           "The bucket POST must contain the specified field name. If it is "
                                           "specified, check the order of the fields."},
    [S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH] = {"XAmzContentSHA256Mismatch", 400,
                                              "The provided 'x-amz-content-sha256' header does not match what was "
                                              "computed."},
};

int s3_error_detail_set_iov(s3_error_detail_t *d, s3_error_t err, h2o_iovec_t message)
{
    if (d != NULL) {
        d->err = err;
        d->message = message;
        d->nfields = 0;
    }
    return -(int)err;
}

int s3_error_detail_set(s3_error_detail_t *d, s3_error_t err, const char *message)
{
    return s3_error_detail_set_iov(
        d, err, message != NULL ? h2o_iovec_init(message, strlen(message)) : h2o_iovec_init(NULL, 0));
}

void s3_error_detail_field(s3_error_detail_t *d, const char *name, h2o_iovec_t value)
{
    if (d == NULL || d->nfields >= S3_ERROR_DETAIL_FIELDS)
        return;
    d->fields[d->nfields].name = name;
    d->fields[d->nfields].value = value;
    d->nfields++;
}

const s3_error_info_t *s3_error_info(s3_error_t err)
{
    if ((int)err <= 0 || (int)err >= S3_ERR__COUNT || error_table[err].code == NULL)
        return &error_table[S3_ERR_INTERNAL_ERROR];
    return &error_table[err];
}

s3_error_t s3_error_from_ret(int ret)
{
    if (ret == 0)
        return S3_OK;
    /* -errno and other modules' codes share the negative range: only our own range maps through */
    if (ret < 0 && ret > -S3_ERR__COUNT)
        return (s3_error_t)-ret;
    return S3_ERR_INTERNAL_ERROR;
}

s3_error_t s3_error_from_code(h2o_iovec_t code)
{
    for (int i = 1; i < S3_ERR__COUNT; i++) {
        const char *c = error_table[i].code;
        if (c != NULL && strlen(c) == code.len && memcmp(c, code.base, code.len) == 0)
            return (s3_error_t)i;
    }
    return S3_OK;
}

void s3_error_xml(h2o_mem_pool_t *pool, s3_error_t err, h2o_iovec_t message, h2o_iovec_t resource,
                  h2o_iovec_t request_id, h2o_iovec_t host_id, const s3_error_field_t *fields, size_t nfields,
                  h2o_iovec_t *out)
{
    const s3_error_info_t *info = s3_error_info(err);
    s3_xml_writer_t w;

    s3_xml_writer_init(&w, pool);
    s3_xml_declaration(&w);
    s3_xml_open(&w, "Error");
    s3_xml_element_str(&w, "Code", info->code);
    if (message.base != NULL)
        s3_xml_element(&w, "Message", message);
    else
        s3_xml_element_str(&w, "Message", info->message);
    for (size_t i = 0; i < nfields; i++)
        s3_xml_element(&w, fields[i].name, fields[i].value);
    if (resource.base != NULL)
        s3_xml_element(&w, "Resource", resource);
    if (request_id.base != NULL)
        s3_xml_element(&w, "RequestId", request_id);
    if (host_id.base != NULL)
        s3_xml_element(&w, "HostId", host_id);
    s3_xml_close(&w, "Error");
    *out = s3_xml_writer_result(&w);
}
