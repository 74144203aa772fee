/* policy.h — the access-policy language (bucket policies, identity policies of users and groups)
 * and the one evaluator every request is authorised by.
 *
 * A document is parsed once (libjansson) and compiled: each statement's Action/NotAction becomes a
 * bit set over the S3 actions (wildcards expanded against the table below, case-insensitively, as
 * AWS does), each Resource and condition value a pattern of literal runs, '*' and '?' wildcards
 * and policy variables, each condition value of a typed operator a number, a date (milliseconds),
 * a CIDR block or a boolean. Evaluation then walks the statements without allocating: an action
 * bit test first, then the principal, the resource and the conditions.
 *
 * Evaluation of one document (as the IAM policy evaluation logic states it): a statement applies
 * when its action, principal, resource and every condition match; any applicable Deny makes the
 * document DENY, else any applicable Allow makes it ALLOW, else it is NOT_APPLICABLE. The
 * combiner (s3_policy_decide) takes the identity's policies, the bucket policy, an ACL's verdict
 * and the bucket owner's rights: an explicit deny wins, then an allow, else the implicit deny.
 *
 * Conditions: operators of the families String, Numeric, Date, Bool, Binary, IpAddress, Arn and
 * Null, each with ...IfExists (but Null) and the ForAnyValue: / ForAllValues: set qualifiers.
 * Operators in one block and keys under one operator must all hold (AND); several values of one
 * key are alternatives (OR). A key absent from the request makes a positive operator false and a
 * negated one (StringNotEquals, NotIpAddress, ...) true; ...IfExists makes it true either way;
 * ForAllValues is true and ForAnyValue false on an absent key. Condition key names are
 * case-insensitive; the tag name of s3:ExistingObjectTag/<tag> and its kin is not.
 *
 * Policy variables (${aws:username}, ${aws:userid}, any single-valued key, ${key, 'default'},
 * and ${*} ${?} ${$} for the literal characters) are substituted at evaluation in Resource,
 * NotResource and the values of String and Arn operators, when the Version is 2012-10-17; with
 * 2008-10-17 or no Version they are plain text. A variable whose key the request lacks, without
 * a default, matches nothing. A substituted value is always literal: a '*' in a user name is not
 * a wildcard.
 *
 * Thread safety: a parsed policy is immutable; any number of threads may evaluate it at once.
 */
#ifndef YC_S3_POLICY_H
#define YC_S3_POLICY_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"

#define S3_POLICY_MAX_SIZE    20480 /* bytes of a bucket policy (S3's 20 KB) */
#define S3_POLICY_MESSAGE_MAX 256   /* bytes of an error message, NUL included */
#define S3_POLICY_ARN_PREFIX  "arn:aws:s3:::"
/* room for the ARN of any object: the prefix, a 63-byte bucket, '/', a 1024-byte key, NUL */
#define S3_POLICY_ARN_MAX (sizeof(S3_POLICY_ARN_PREFIX) - 1 + 63 + 1 + 1024 + 1)

/* The S3 actions: X(ENUM_SUFFIX, "Name", resource type). The resource type is what the action's
 * resource ARN names: an object (arn:aws:s3:::bucket/key), a bucket (arn:aws:s3:::bucket), or
 * something else (the account, access points, batch jobs, Storage Lens), which a bucket policy
 * cannot grant. A bucket policy statement none of whose actions fits any of its resources is
 * refused, as S3 does ("Action does not apply to any resource(s) in statement"). */
#define S3_POLICY_ACTIONS(X)                                                                                           \
    X(ABORT_MULTIPART_UPLOAD, "AbortMultipartUpload", OBJECT)                                                          \
    X(BYPASS_GOVERNANCE_RETENTION, "BypassGovernanceRetention", OBJECT)                                                \
    X(DELETE_OBJECT, "DeleteObject", OBJECT)                                                                           \
    X(DELETE_OBJECT_TAGGING, "DeleteObjectTagging", OBJECT)                                                            \
    X(DELETE_OBJECT_VERSION, "DeleteObjectVersion", OBJECT)                                                            \
    X(DELETE_OBJECT_VERSION_TAGGING, "DeleteObjectVersionTagging", OBJECT)                                             \
    X(GET_OBJECT, "GetObject", OBJECT)                                                                                 \
    X(GET_OBJECT_ACL, "GetObjectAcl", OBJECT)                                                                          \
    X(GET_OBJECT_ATTRIBUTES, "GetObjectAttributes", OBJECT)                                                            \
    X(GET_OBJECT_LEGAL_HOLD, "GetObjectLegalHold", OBJECT)                                                             \
    X(GET_OBJECT_RETENTION, "GetObjectRetention", OBJECT)                                                              \
    X(GET_OBJECT_TAGGING, "GetObjectTagging", OBJECT)                                                                  \
    X(GET_OBJECT_TORRENT, "GetObjectTorrent", OBJECT)                                                                  \
    X(GET_OBJECT_VERSION, "GetObjectVersion", OBJECT)                                                                  \
    X(GET_OBJECT_VERSION_ACL, "GetObjectVersionAcl", OBJECT)                                                           \
    X(GET_OBJECT_VERSION_ATTRIBUTES, "GetObjectVersionAttributes", OBJECT)                                             \
    X(GET_OBJECT_VERSION_FOR_REPLICATION, "GetObjectVersionForReplication", OBJECT)                                    \
    X(GET_OBJECT_VERSION_TAGGING, "GetObjectVersionTagging", OBJECT)                                                   \
    X(GET_OBJECT_VERSION_TORRENT, "GetObjectVersionTorrent", OBJECT)                                                   \
    X(INITIATE_REPLICATION, "InitiateReplication", OBJECT)                                                             \
    X(LIST_MULTIPART_UPLOAD_PARTS, "ListMultipartUploadParts", OBJECT)                                                 \
    X(OBJECT_OWNER_OVERRIDE_TO_BUCKET_OWNER, "ObjectOwnerOverrideToBucketOwner", OBJECT)                               \
    X(PUT_OBJECT, "PutObject", OBJECT)                                                                                 \
    X(PUT_OBJECT_ACL, "PutObjectAcl", OBJECT)                                                                          \
    X(PUT_OBJECT_LEGAL_HOLD, "PutObjectLegalHold", OBJECT)                                                             \
    X(PUT_OBJECT_RETENTION, "PutObjectRetention", OBJECT)                                                              \
    X(PUT_OBJECT_TAGGING, "PutObjectTagging", OBJECT)                                                                  \
    X(PUT_OBJECT_VERSION_ACL, "PutObjectVersionAcl", OBJECT)                                                           \
    X(PUT_OBJECT_VERSION_TAGGING, "PutObjectVersionTagging", OBJECT)                                                   \
    X(REPLICATE_DELETE, "ReplicateDelete", OBJECT)                                                                     \
    X(REPLICATE_OBJECT, "ReplicateObject", OBJECT)                                                                     \
    X(REPLICATE_TAGS, "ReplicateTags", OBJECT)                                                                         \
    X(RESTORE_OBJECT, "RestoreObject", OBJECT)                                                                         \
    X(CREATE_BUCKET, "CreateBucket", BUCKET)                                                                           \
    X(CREATE_BUCKET_METADATA_TABLE_CONFIGURATION, "CreateBucketMetadataTableConfiguration", BUCKET)                    \
    X(DELETE_BUCKET, "DeleteBucket", BUCKET)                                                                           \
    X(DELETE_BUCKET_METADATA_TABLE_CONFIGURATION, "DeleteBucketMetadataTableConfiguration", BUCKET)                    \
    X(DELETE_BUCKET_OWNERSHIP_CONTROLS, "DeleteBucketOwnershipControls", BUCKET)                                       \
    X(DELETE_BUCKET_POLICY, "DeleteBucketPolicy", BUCKET)                                                              \
    X(DELETE_BUCKET_WEBSITE, "DeleteBucketWebsite", BUCKET)                                                            \
    X(GET_ACCELERATE_CONFIGURATION, "GetAccelerateConfiguration", BUCKET)                                              \
    X(GET_ANALYTICS_CONFIGURATION, "GetAnalyticsConfiguration", BUCKET)                                                \
    X(GET_BUCKET_ACL, "GetBucketAcl", BUCKET)                                                                          \
    X(GET_BUCKET_CORS, "GetBucketCORS", BUCKET)                                                                        \
    X(GET_BUCKET_LOCATION, "GetBucketLocation", BUCKET)                                                                \
    X(GET_BUCKET_LOGGING, "GetBucketLogging", BUCKET)                                                                  \
    X(GET_BUCKET_METADATA_TABLE_CONFIGURATION, "GetBucketMetadataTableConfiguration", BUCKET)                          \
    X(GET_BUCKET_NOTIFICATION, "GetBucketNotification", BUCKET)                                                        \
    X(GET_BUCKET_OBJECT_LOCK_CONFIGURATION, "GetBucketObjectLockConfiguration", BUCKET)                                \
    X(GET_BUCKET_OWNERSHIP_CONTROLS, "GetBucketOwnershipControls", BUCKET)                                             \
    X(GET_BUCKET_POLICY, "GetBucketPolicy", BUCKET)                                                                    \
    X(GET_BUCKET_POLICY_STATUS, "GetBucketPolicyStatus", BUCKET)                                                       \
    X(GET_BUCKET_PUBLIC_ACCESS_BLOCK, "GetBucketPublicAccessBlock", BUCKET)                                            \
    X(GET_BUCKET_REQUEST_PAYMENT, "GetBucketRequestPayment", BUCKET)                                                   \
    X(GET_BUCKET_TAGGING, "GetBucketTagging", BUCKET)                                                                  \
    X(GET_BUCKET_VERSIONING, "GetBucketVersioning", BUCKET)                                                            \
    X(GET_BUCKET_WEBSITE, "GetBucketWebsite", BUCKET)                                                                  \
    X(GET_ENCRYPTION_CONFIGURATION, "GetEncryptionConfiguration", BUCKET)                                              \
    X(GET_INTELLIGENT_TIERING_CONFIGURATION, "GetIntelligentTieringConfiguration", BUCKET)                             \
    X(GET_INVENTORY_CONFIGURATION, "GetInventoryConfiguration", BUCKET)                                                \
    X(GET_LIFECYCLE_CONFIGURATION, "GetLifecycleConfiguration", BUCKET)                                                \
    X(GET_METRICS_CONFIGURATION, "GetMetricsConfiguration", BUCKET)                                                    \
    X(GET_REPLICATION_CONFIGURATION, "GetReplicationConfiguration", BUCKET)                                            \
    X(LIST_BUCKET, "ListBucket", BUCKET)                                                                               \
    X(LIST_BUCKET_MULTIPART_UPLOADS, "ListBucketMultipartUploads", BUCKET)                                             \
    X(LIST_BUCKET_VERSIONS, "ListBucketVersions", BUCKET)                                                              \
    X(PAUSE_REPLICATION, "PauseReplication", BUCKET)                                                                   \
    X(PUT_ACCELERATE_CONFIGURATION, "PutAccelerateConfiguration", BUCKET)                                              \
    X(PUT_ANALYTICS_CONFIGURATION, "PutAnalyticsConfiguration", BUCKET)                                                \
    X(PUT_BUCKET_ACL, "PutBucketAcl", BUCKET)                                                                          \
    X(PUT_BUCKET_CORS, "PutBucketCORS", BUCKET)                                                                        \
    X(PUT_BUCKET_LOGGING, "PutBucketLogging", BUCKET)                                                                  \
    X(PUT_BUCKET_NOTIFICATION, "PutBucketNotification", BUCKET)                                                        \
    X(PUT_BUCKET_OBJECT_LOCK_CONFIGURATION, "PutBucketObjectLockConfiguration", BUCKET)                                \
    X(PUT_BUCKET_OWNERSHIP_CONTROLS, "PutBucketOwnershipControls", BUCKET)                                             \
    X(PUT_BUCKET_POLICY, "PutBucketPolicy", BUCKET)                                                                    \
    X(PUT_BUCKET_PUBLIC_ACCESS_BLOCK, "PutBucketPublicAccessBlock", BUCKET)                                            \
    X(PUT_BUCKET_REQUEST_PAYMENT, "PutBucketRequestPayment", BUCKET)                                                   \
    X(PUT_BUCKET_TAGGING, "PutBucketTagging", BUCKET)                                                                  \
    X(PUT_BUCKET_VERSIONING, "PutBucketVersioning", BUCKET)                                                            \
    X(PUT_BUCKET_WEBSITE, "PutBucketWebsite", BUCKET)                                                                  \
    X(PUT_ENCRYPTION_CONFIGURATION, "PutEncryptionConfiguration", BUCKET)                                              \
    X(PUT_INTELLIGENT_TIERING_CONFIGURATION, "PutIntelligentTieringConfiguration", BUCKET)                             \
    X(PUT_INVENTORY_CONFIGURATION, "PutInventoryConfiguration", BUCKET)                                                \
    X(PUT_LIFECYCLE_CONFIGURATION, "PutLifecycleConfiguration", BUCKET)                                                \
    X(PUT_METRICS_CONFIGURATION, "PutMetricsConfiguration", BUCKET)                                                    \
    X(PUT_REPLICATION_CONFIGURATION, "PutReplicationConfiguration", BUCKET)                                            \
    X(CREATE_ACCESS_POINT, "CreateAccessPoint", OTHER)                                                                 \
    X(CREATE_ACCESS_POINT_FOR_OBJECT_LAMBDA, "CreateAccessPointForObjectLambda", OTHER)                                \
    X(CREATE_JOB, "CreateJob", OTHER)                                                                                  \
    X(CREATE_MULTI_REGION_ACCESS_POINT, "CreateMultiRegionAccessPoint", OTHER)                                         \
    X(DELETE_ACCESS_POINT, "DeleteAccessPoint", OTHER)                                                                 \
    X(DELETE_ACCESS_POINT_FOR_OBJECT_LAMBDA, "DeleteAccessPointForObjectLambda", OTHER)                                \
    X(DELETE_ACCESS_POINT_POLICY, "DeleteAccessPointPolicy", OTHER)                                                    \
    X(DELETE_ACCESS_POINT_POLICY_FOR_OBJECT_LAMBDA, "DeleteAccessPointPolicyForObjectLambda", OTHER)                   \
    X(DELETE_JOB_TAGGING, "DeleteJobTagging", OTHER)                                                                   \
    X(DELETE_MULTI_REGION_ACCESS_POINT, "DeleteMultiRegionAccessPoint", OTHER)                                         \
    X(DELETE_STORAGE_LENS_CONFIGURATION, "DeleteStorageLensConfiguration", OTHER)                                      \
    X(DELETE_STORAGE_LENS_CONFIGURATION_TAGGING, "DeleteStorageLensConfigurationTagging", OTHER)                       \
    X(DESCRIBE_JOB, "DescribeJob", OTHER)                                                                              \
    X(DESCRIBE_MULTI_REGION_ACCESS_POINT_OPERATION, "DescribeMultiRegionAccessPointOperation", OTHER)                  \
    X(GET_ACCESS_POINT, "GetAccessPoint", OTHER)                                                                       \
    X(GET_ACCESS_POINT_CONFIGURATION_FOR_OBJECT_LAMBDA, "GetAccessPointConfigurationForObjectLambda", OTHER)           \
    X(GET_ACCESS_POINT_FOR_OBJECT_LAMBDA, "GetAccessPointForObjectLambda", OTHER)                                      \
    X(GET_ACCESS_POINT_POLICY, "GetAccessPointPolicy", OTHER)                                                          \
    X(GET_ACCESS_POINT_POLICY_FOR_OBJECT_LAMBDA, "GetAccessPointPolicyForObjectLambda", OTHER)                         \
    X(GET_ACCESS_POINT_POLICY_STATUS, "GetAccessPointPolicyStatus", OTHER)                                             \
    X(GET_ACCESS_POINT_POLICY_STATUS_FOR_OBJECT_LAMBDA, "GetAccessPointPolicyStatusForObjectLambda", OTHER)            \
    X(GET_ACCOUNT_PUBLIC_ACCESS_BLOCK, "GetAccountPublicAccessBlock", OTHER)                                           \
    X(GET_JOB_TAGGING, "GetJobTagging", OTHER)                                                                         \
    X(GET_MULTI_REGION_ACCESS_POINT, "GetMultiRegionAccessPoint", OTHER)                                               \
    X(GET_MULTI_REGION_ACCESS_POINT_POLICY, "GetMultiRegionAccessPointPolicy", OTHER)                                  \
    X(GET_MULTI_REGION_ACCESS_POINT_POLICY_STATUS, "GetMultiRegionAccessPointPolicyStatus", OTHER)                     \
    X(GET_STORAGE_LENS_CONFIGURATION, "GetStorageLensConfiguration", OTHER)                                            \
    X(GET_STORAGE_LENS_CONFIGURATION_TAGGING, "GetStorageLensConfigurationTagging", OTHER)                             \
    X(GET_STORAGE_LENS_DASHBOARD, "GetStorageLensDashboard", OTHER)                                                    \
    X(LIST_ACCESS_POINTS, "ListAccessPoints", OTHER)                                                                   \
    X(LIST_ACCESS_POINTS_FOR_OBJECT_LAMBDA, "ListAccessPointsForObjectLambda", OTHER)                                  \
    X(LIST_ALL_MY_BUCKETS, "ListAllMyBuckets", OTHER)                                                                  \
    X(LIST_JOBS, "ListJobs", OTHER)                                                                                    \
    X(LIST_MULTI_REGION_ACCESS_POINTS, "ListMultiRegionAccessPoints", OTHER)                                           \
    X(LIST_STORAGE_LENS_CONFIGURATIONS, "ListStorageLensConfigurations", OTHER)                                        \
    X(LIST_TAGS_FOR_RESOURCE, "ListTagsForResource", OTHER)                                                            \
    X(PUT_ACCESS_POINT_CONFIGURATION_FOR_OBJECT_LAMBDA, "PutAccessPointConfigurationForObjectLambda", OTHER)           \
    X(PUT_ACCESS_POINT_POLICY, "PutAccessPointPolicy", OTHER)                                                          \
    X(PUT_ACCESS_POINT_POLICY_FOR_OBJECT_LAMBDA, "PutAccessPointPolicyForObjectLambda", OTHER)                         \
    X(PUT_ACCOUNT_PUBLIC_ACCESS_BLOCK, "PutAccountPublicAccessBlock", OTHER)                                           \
    X(PUT_JOB_TAGGING, "PutJobTagging", OTHER)                                                                         \
    X(PUT_MULTI_REGION_ACCESS_POINT_POLICY, "PutMultiRegionAccessPointPolicy", OTHER)                                  \
    X(PUT_STORAGE_LENS_CONFIGURATION, "PutStorageLensConfiguration", OTHER)                                            \
    X(PUT_STORAGE_LENS_CONFIGURATION_TAGGING, "PutStorageLensConfigurationTagging", OTHER)                             \
    X(TAG_RESOURCE, "TagResource", OTHER)                                                                              \
    X(UNTAG_RESOURCE, "UntagResource", OTHER)                                                                          \
    X(UPDATE_JOB_PRIORITY, "UpdateJobPriority", OTHER)                                                                 \
    X(UPDATE_JOB_STATUS, "UpdateJobStatus", OTHER)

/* The IAM actions of the gateway's IAM API (gw_iam_api.c): X(ENUM_SUFFIX, "Name"). Identity
 * policies name them "iam:Name" (wildcards reach these only; other IAM actions are accepted and
 * match nothing, as other services' are); "*" includes them, "s3:*" does not; a bucket policy
 * cannot name them. Their resources are IAM ARNs (arn:aws:iam::<account>:user/<path><name>,
 * ...:group/<path><name>, ...:policy/<path><name>). */
#define S3_POLICY_IAM_ACTIONS(X)                                                                                       \
    X(ADD_USER_TO_GROUP, "AddUserToGroup")                                                                             \
    X(ATTACH_GROUP_POLICY, "AttachGroupPolicy")                                                                        \
    X(ATTACH_USER_POLICY, "AttachUserPolicy")                                                                          \
    X(CREATE_ACCESS_KEY, "CreateAccessKey")                                                                            \
    X(CREATE_GROUP, "CreateGroup")                                                                                     \
    X(CREATE_POLICY, "CreatePolicy")                                                                                   \
    X(CREATE_USER, "CreateUser")                                                                                       \
    X(DELETE_ACCESS_KEY, "DeleteAccessKey")                                                                            \
    X(DELETE_GROUP, "DeleteGroup")                                                                                     \
    X(DELETE_GROUP_POLICY, "DeleteGroupPolicy")                                                                        \
    X(DELETE_POLICY, "DeletePolicy")                                                                                   \
    X(DELETE_USER, "DeleteUser")                                                                                       \
    X(DELETE_USER_POLICY, "DeleteUserPolicy")                                                                          \
    X(DETACH_GROUP_POLICY, "DetachGroupPolicy")                                                                        \
    X(DETACH_USER_POLICY, "DetachUserPolicy")                                                                          \
    X(GET_GROUP, "GetGroup")                                                                                           \
    X(GET_GROUP_POLICY, "GetGroupPolicy")                                                                              \
    X(GET_POLICY, "GetPolicy")                                                                                         \
    X(GET_POLICY_VERSION, "GetPolicyVersion")                                                                          \
    X(GET_USER, "GetUser")                                                                                             \
    X(GET_USER_POLICY, "GetUserPolicy")                                                                                \
    X(LIST_ACCESS_KEYS, "ListAccessKeys")                                                                              \
    X(LIST_ATTACHED_GROUP_POLICIES, "ListAttachedGroupPolicies")                                                       \
    X(LIST_ATTACHED_USER_POLICIES, "ListAttachedUserPolicies")                                                         \
    X(LIST_GROUP_POLICIES, "ListGroupPolicies")                                                                        \
    X(LIST_GROUPS, "ListGroups")                                                                                       \
    X(LIST_GROUPS_FOR_USER, "ListGroupsForUser")                                                                       \
    X(LIST_POLICIES, "ListPolicies")                                                                                   \
    X(LIST_POLICY_VERSIONS, "ListPolicyVersions")                                                                      \
    X(LIST_USER_POLICIES, "ListUserPolicies")                                                                          \
    X(LIST_USERS, "ListUsers")                                                                                         \
    X(PUT_GROUP_POLICY, "PutGroupPolicy")                                                                              \
    X(PUT_USER_POLICY, "PutUserPolicy")                                                                                \
    X(REMOVE_USER_FROM_GROUP, "RemoveUserFromGroup")                                                                   \
    X(UPDATE_ACCESS_KEY, "UpdateAccessKey")                                                                            \
    X(UPDATE_GROUP, "UpdateGroup")                                                                                     \
    X(UPDATE_USER, "UpdateUser")

/* One enum for both services: the S3 actions, then the IAM ones from S3_POLICY_ACTION__IAM_FIRST
 * (the member before the first IAM row only makes that row's value equal to __IAM_FIRST). */
typedef enum {
#define S3_POLICY_ACTION_ENUM_(id, name, type) S3_POLICY_ACTION_##id,
    S3_POLICY_ACTIONS(S3_POLICY_ACTION_ENUM_)
#undef S3_POLICY_ACTION_ENUM_
        S3_POLICY_ACTION__IAM_FIRST, /* the first IAM action; the S3 actions are those below it */
    S3_POLICY_ACTION__IAM_BEFORE = S3_POLICY_ACTION__IAM_FIRST - 1,
#define S3_POLICY_IAM_ACTION_ENUM_(id, name) S3_POLICY_ACTION_IAM_##id,
    S3_POLICY_IAM_ACTIONS(S3_POLICY_IAM_ACTION_ENUM_)
#undef S3_POLICY_IAM_ACTION_ENUM_
        S3_POLICY_ACTION__COUNT /* number of actions, not an action */
} s3_policy_action_t;

/* The condition keys a policy may name: X(ENUM_SUFFIX, "name", flags). TAG: a family written
 * "name/<tag>" (s3:ExistingObjectTag/<tag>), one key per tag. A request gives the values of the
 * keys it has (s3_policy_value_t); the principal's keys (aws:username, aws:userid,
 * aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType) come from its principal and the
 * clock's (aws:CurrentTime, aws:EpochTime) from its time. Keys of AWS features yuncang does not
 * have (VPC endpoints, organizations, MFA, service principals) are accepted and always absent. */
#define S3_POLICY_KEYS(X)                                                                                              \
    X(AWS_CALLED_VIA, "aws:CalledVia", 0)                                                                              \
    X(AWS_CALLED_VIA_FIRST, "aws:CalledViaFirst", 0)                                                                   \
    X(AWS_CALLED_VIA_LAST, "aws:CalledViaLast", 0)                                                                     \
    X(AWS_CURRENT_TIME, "aws:CurrentTime", 0)                                                                          \
    X(AWS_EC2_INSTANCE_SOURCE_PRIVATE_IPV4, "aws:Ec2InstanceSourcePrivateIPv4", 0)                                     \
    X(AWS_EC2_INSTANCE_SOURCE_VPC, "aws:Ec2InstanceSourceVpc", 0)                                                      \
    X(AWS_EPOCH_TIME, "aws:EpochTime", 0)                                                                              \
    X(AWS_FEDERATED_PROVIDER, "aws:FederatedProvider", 0)                                                              \
    X(AWS_MULTI_FACTOR_AUTH_AGE, "aws:MultiFactorAuthAge", 0)                                                          \
    X(AWS_MULTI_FACTOR_AUTH_PRESENT, "aws:MultiFactorAuthPresent", 0)                                                  \
    X(AWS_PRINCIPAL_ACCOUNT, "aws:PrincipalAccount", 0)                                                                \
    X(AWS_PRINCIPAL_ARN, "aws:PrincipalArn", 0)                                                                        \
    X(AWS_PRINCIPAL_IS_AWS_SERVICE, "aws:PrincipalIsAWSService", 0)                                                    \
    X(AWS_PRINCIPAL_ORG_ID, "aws:PrincipalOrgID", 0)                                                                   \
    X(AWS_PRINCIPAL_ORG_PATHS, "aws:PrincipalOrgPaths", 0)                                                             \
    X(AWS_PRINCIPAL_SERVICE_NAME, "aws:PrincipalServiceName", 0)                                                       \
    X(AWS_PRINCIPAL_SERVICE_NAMES_LIST, "aws:PrincipalServiceNamesList", 0)                                            \
    X(AWS_PRINCIPAL_TAG, "aws:PrincipalTag", S3_POLICY_KEY_TAG)                                                        \
    X(AWS_PRINCIPAL_TYPE, "aws:PrincipalType", 0)                                                                      \
    X(AWS_REFERER, "aws:Referer", 0)                                                                                   \
    X(AWS_REQUESTED_REGION, "aws:RequestedRegion", 0)                                                                  \
    X(AWS_REQUEST_TAG, "aws:RequestTag", S3_POLICY_KEY_TAG)                                                            \
    X(AWS_RESOURCE_ACCOUNT, "aws:ResourceAccount", 0)                                                                  \
    X(AWS_RESOURCE_ORG_ID, "aws:ResourceOrgID", 0)                                                                     \
    X(AWS_RESOURCE_ORG_PATHS, "aws:ResourceOrgPaths", 0)                                                               \
    X(AWS_RESOURCE_TAG, "aws:ResourceTag", S3_POLICY_KEY_TAG)                                                          \
    X(AWS_SECURE_TRANSPORT, "aws:SecureTransport", 0)                                                                  \
    X(AWS_SOURCE_ACCOUNT, "aws:SourceAccount", 0)                                                                      \
    X(AWS_SOURCE_ARN, "aws:SourceArn", 0)                                                                              \
    X(AWS_SOURCE_IDENTITY, "aws:SourceIdentity", 0)                                                                    \
    X(AWS_SOURCE_IP, "aws:SourceIp", 0)                                                                                \
    X(AWS_SOURCE_ORG_ID, "aws:SourceOrgID", 0)                                                                         \
    X(AWS_SOURCE_ORG_PATHS, "aws:SourceOrgPaths", 0)                                                                   \
    X(AWS_SOURCE_OWNER, "aws:SourceOwner", 0)                                                                          \
    X(AWS_SOURCE_VPC, "aws:SourceVpc", 0)                                                                              \
    X(AWS_SOURCE_VPC_ARN, "aws:SourceVpcArn", 0)                                                                       \
    X(AWS_SOURCE_VPCE, "aws:SourceVpce", 0)                                                                            \
    X(AWS_TAG_KEYS, "aws:TagKeys", 0)                                                                                  \
    X(AWS_TOKEN_ISSUE_TIME, "aws:TokenIssueTime", 0)                                                                   \
    X(AWS_USER_AGENT, "aws:UserAgent", 0)                                                                              \
    X(AWS_USERID, "aws:userid", 0)                                                                                     \
    X(AWS_USERNAME, "aws:username", 0)                                                                                 \
    X(AWS_VIA_AWS_SERVICE, "aws:ViaAWSService", 0)                                                                     \
    X(AWS_VPC_SOURCE_IP, "aws:VpcSourceIp", 0)                                                                         \
    X(S3_ACCESS_POINT_NETWORK_ORIGIN, "s3:AccessPointNetworkOrigin", 0)                                                \
    X(S3_AUTH_TYPE, "s3:authType", 0)                                                                                  \
    X(S3_DATA_ACCESS_POINT_ACCOUNT, "s3:DataAccessPointAccount", 0)                                                    \
    X(S3_DATA_ACCESS_POINT_ARN, "s3:DataAccessPointArn", 0)                                                            \
    X(S3_DELIMITER, "s3:delimiter", 0)                                                                                 \
    X(S3_EXISTING_JOB_OPERATION, "s3:ExistingJobOperation", 0)                                                         \
    X(S3_EXISTING_JOB_PRIORITY, "s3:ExistingJobPriority", 0)                                                           \
    X(S3_EXISTING_OBJECT_TAG, "s3:ExistingObjectTag", S3_POLICY_KEY_TAG)                                               \
    X(S3_IF_MATCH, "s3:if-match", 0)                                                                                   \
    X(S3_IF_NONE_MATCH, "s3:if-none-match", 0)                                                                         \
    X(S3_JOB_SUSPENDED_CAUSE, "s3:JobSuspendedCause", 0)                                                               \
    X(S3_LOCATION_CONSTRAINT, "s3:LocationConstraint", 0)                                                              \
    X(S3_MAX_KEYS, "s3:max-keys", 0)                                                                                   \
    X(S3_OBJECT_LOCK_LEGAL_HOLD, "s3:object-lock-legal-hold", 0)                                                       \
    X(S3_OBJECT_LOCK_MODE, "s3:object-lock-mode", 0)                                                                   \
    X(S3_OBJECT_LOCK_REMAINING_RETENTION_DAYS, "s3:object-lock-remaining-retention-days", 0)                           \
    X(S3_OBJECT_LOCK_RETAIN_UNTIL_DATE, "s3:object-lock-retain-until-date", 0)                                         \
    X(S3_PREFIX, "s3:prefix", 0)                                                                                       \
    X(S3_REQUEST_JOB_OPERATION, "s3:RequestJobOperation", 0)                                                           \
    X(S3_REQUEST_JOB_PRIORITY, "s3:RequestJobPriority", 0)                                                             \
    X(S3_REQUEST_OBJECT_TAG, "s3:RequestObjectTag", S3_POLICY_KEY_TAG)                                                 \
    X(S3_REQUEST_OBJECT_TAG_KEYS, "s3:RequestObjectTagKeys", 0)                                                        \
    X(S3_RESOURCE_ACCOUNT, "s3:ResourceAccount", 0)                                                                    \
    X(S3_SIGNATURE_AGE, "s3:signatureAge", 0)                                                                          \
    X(S3_SIGNATURE_VERSION, "s3:signatureversion", 0)                                                                  \
    X(S3_TLS_VERSION, "s3:TlsVersion", 0)                                                                              \
    X(S3_VERSION_ID, "s3:VersionId", 0)                                                                                \
    X(S3_X_AMZ_ACL, "s3:x-amz-acl", 0)                                                                                 \
    X(S3_X_AMZ_CONTENT_SHA256, "s3:x-amz-content-sha256", 0)                                                           \
    X(S3_X_AMZ_COPY_SOURCE, "s3:x-amz-copy-source", 0)                                                                 \
    X(S3_X_AMZ_GRANT_FULL_CONTROL, "s3:x-amz-grant-full-control", 0)                                                   \
    X(S3_X_AMZ_GRANT_READ, "s3:x-amz-grant-read", 0)                                                                   \
    X(S3_X_AMZ_GRANT_READ_ACP, "s3:x-amz-grant-read-acp", 0)                                                           \
    X(S3_X_AMZ_GRANT_WRITE, "s3:x-amz-grant-write", 0)                                                                 \
    X(S3_X_AMZ_GRANT_WRITE_ACP, "s3:x-amz-grant-write-acp", 0)                                                         \
    X(S3_X_AMZ_METADATA_DIRECTIVE, "s3:x-amz-metadata-directive", 0)                                                   \
    X(S3_X_AMZ_OBJECT_OWNERSHIP, "s3:x-amz-object-ownership", 0)                                                       \
    X(S3_X_AMZ_SERVER_SIDE_ENCRYPTION, "s3:x-amz-server-side-encryption", 0)                                           \
    X(S3_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID, "s3:x-amz-server-side-encryption-aws-kms-key-id", 0)             \
    X(S3_X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM, "s3:x-amz-server-side-encryption-customer-algorithm", 0)     \
    X(S3_X_AMZ_STORAGE_CLASS, "s3:x-amz-storage-class", 0)                                                             \
    X(S3_X_AMZ_WEBSITE_REDIRECT_LOCATION, "s3:x-amz-website-redirect-location", 0)

#define S3_POLICY_KEY_TAG 1 /* flag of S3_POLICY_KEYS: a family of keys "name/<tag>" */

typedef enum {
#define S3_POLICY_KEY_ENUM_(id, name, flags) S3_POLICY_KEY_##id,
    S3_POLICY_KEYS(S3_POLICY_KEY_ENUM_)
#undef S3_POLICY_KEY_ENUM_
        S3_POLICY_KEY__COUNT /* number of keys, not a key */
} s3_policy_key_t;

typedef enum {
    S3_POLICY_BUCKET = 0, /* a bucket policy: Principal required, every Resource in the bucket */
    S3_POLICY_IDENTITY,   /* a user's or group's policy: no Principal, the identity is implied */
} s3_policy_kind_t;

typedef enum {
    S3_POLICY_ANONYMOUS = 0, /* no credentials */
    S3_POLICY_USER,          /* an IAM user: arn:aws:iam::<account>:user/<name> */
    S3_POLICY_ACCOUNT,       /* the account itself (its root): arn:aws:iam::<account>:root */
} s3_policy_principal_type_t;

/* Who makes the request. Borrowed for the evaluation; empty fields ({NULL, 0}) are absent. */
typedef struct {
    s3_policy_principal_type_t type;
    h2o_iovec_t account;      /* 12 digits: aws:PrincipalAccount, matches "<account>" and ":root" */
    h2o_iovec_t arn;          /* aws:PrincipalArn, matches a user principal exactly */
    h2o_iovec_t canonical_id; /* 64 hex digits, matches {"CanonicalUser": ...} (either case) */
    h2o_iovec_t username;     /* aws:username (users only) */
    h2o_iovec_t userid;       /* aws:userid: a user's unique id, the account id for the account */
} s3_policy_principal_t;

/* The values of one condition key in a request. Borrowed for the evaluation. */
typedef struct {
    s3_policy_key_t key;
    h2o_iovec_t tag;           /* TAG families: the tag key (case-sensitive); else {NULL, 0} */
    const h2o_iovec_t *values; /* one for single-valued keys; a key with no value is absent */
    size_t nvalues;
} s3_policy_value_t;

/* One request to authorise. */
typedef struct {
    s3_policy_principal_t principal;
    s3_policy_action_t action;
    h2o_iovec_t resource;            /* "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key" (s3_policy_resource_arn) */
    int64_t now_ns;                  /* wall clock, for aws:CurrentTime and aws:EpochTime; 0: absent */
    const s3_policy_value_t *values; /* the other condition keys the request has */
    size_t nvalues;
} s3_policy_request_t;

typedef enum {
    S3_POLICY_NOT_APPLICABLE = 0, /* no statement applies */
    S3_POLICY_ALLOW,
    S3_POLICY_DENY,
} s3_policy_decision_t;

typedef struct {
    s3_policy_kind_t kind;
    h2o_iovec_t bucket; /* bucket policies: the bucket every Resource must lie in (empty: any) */
    size_t max_size;    /* bytes; 0 means S3_POLICY_MAX_SIZE */
    /* Optional: asked for every user principal (its ARN) once the document is well-formed;
     * nonzero refuses the policy with "Invalid principal in policy", as S3 refuses a principal
     * that does not exist. NULL accepts every well-formed principal. */
    int (*principal_exists)(void *arg, h2o_iovec_t arn);
    void *principal_exists_arg;
} s3_policy_options_t;

typedef struct {
    char message[S3_POLICY_MESSAGE_MAX]; /* why the policy was refused, S3's wording where S3 has one */
} s3_policy_error_t;

typedef struct s3_policy s3_policy_t;

/* Parses and compiles the policy document text (JSON, borrowed; copied). Returns 0 with the policy
 * in *out (free with s3_policy_free), or -S3_ERR_MALFORMED_POLICY with err->message set, or
 * -S3_ERR_INTERNAL_ERROR when memory runs out. */
int s3_policy_parse(h2o_iovec_t text, const s3_policy_options_t *opt, s3_policy_t **out, s3_policy_error_t *err);
void s3_policy_free(s3_policy_t *policy);

/* The document exactly as the client sent it (GetBucketPolicy answers it); owned by the policy. */
h2o_iovec_t s3_policy_text(const s3_policy_t *policy);

/* 1 when the policy is public in S3's sense (GetBucketPolicyStatus, BlockPublicPolicy,
 * RestrictPublicBuckets): some statement allows a principal of "*" (or NotPrincipal) without a
 * condition fixing one of the keys that narrow it to known parties — aws:SourceIp to CIDR blocks
 * (IPv4 /8 or longer, IPv6 /32 or longer), or a fixed value (no wildcard, no variable) of
 * aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
 * aws:SourceOrgID, aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID,
 * s3:x-amz-server-side-encryption-aws-kms-key-id, s3:DataAccessPointArn,
 * s3:DataAccessPointAccount or aws:userid (outside "<id>:*"); else 0. */
int s3_policy_is_public(const s3_policy_t *policy);

/* 1 when some statement of policy (NULL: none) reads key, in a condition or a policy variable;
 * else 0. For values that cost a lookup to supply (s3:ExistingObjectTag/<tag>). */
int s3_policy_uses_key(const s3_policy_t *policy, s3_policy_key_t key);

/* Evaluates one document against a request: S3_POLICY_DENY when an applicable statement denies,
 * else S3_POLICY_ALLOW when one allows, else S3_POLICY_NOT_APPLICABLE. Allocates nothing. */
s3_policy_decision_t s3_policy_evaluate(const s3_policy_t *policy, const s3_policy_request_t *req);

/* Everything that decides one request besides the request itself. */
typedef struct {
    const s3_policy_t *const *identity; /* the principal's policies (its own and its groups') */
    size_t nidentity;
    const s3_policy_t *bucket;   /* the bucket policy, or NULL */
    h2o_iovec_t owner_account;   /* the bucket owner's account */
    int is_owner;                /* the principal owns the bucket */
    int acl_allows;              /* an ACL grant allows the request (public grants already
                                  * left out by the caller under IgnorePublicAcls) */
    int restrict_public_buckets; /* the public-access block's RestrictPublicBuckets */
} s3_policy_sources_t;

typedef enum {
    S3_POLICY_BY_IMPLICIT_DENY = 0, /* nothing allowed the request */
    S3_POLICY_BY_IDENTITY,          /* a statement of one of the identity's policies */
    S3_POLICY_BY_BUCKET,            /* a statement of the bucket policy */
    S3_POLICY_BY_ACL,
    S3_POLICY_BY_OWNER, /* the bucket owner's rights */
} s3_policy_source_t;

typedef struct {
    s3_policy_source_t source; /* what decided */
    h2o_iovec_t sid;           /* the deciding statement's Sid ({NULL, 0} when none or no Sid) */
} s3_policy_reason_t;

/* Decides a request, as S3 documents it: an explicit Deny in any of the policies wins (but the
 * owner may always get, put and delete the bucket policy, so that no policy locks it out); then
 * the owner is allowed; then an Allow of an identity policy, of the bucket policy or an ACL
 * grant; else the implicit deny. A principal of another account than the owner's needs both an
 * Allow of its own policies and one of the bucket (policy or ACL). Under RestrictPublicBuckets a
 * public bucket policy allows only principals of the owner's account. Returns S3_POLICY_ALLOW or
 * S3_POLICY_DENY; why (may be NULL) says what decided. Allocates nothing. */
s3_policy_decision_t s3_policy_decide(const s3_policy_sources_t *src, const s3_policy_request_t *req,
                                      s3_policy_reason_t *why);

/* Looks an action name up ("s3:GetObject", "iam:CreateUser"; case-insensitive as in policies).
 * Returns 0 or -S3_ERR_INVALID_ARGUMENT when it is no action of the tables above. */
int s3_policy_action_lookup(h2o_iovec_t name, s3_policy_action_t *out);
/* The action's name without its service ("GetObject", "CreateUser"); "" for a value out of range. */
const char *s3_policy_action_name(s3_policy_action_t action);
/* The action's service: "s3" or "iam" ("" for a value out of range). */
const char *s3_policy_action_service(s3_policy_action_t action);

/* Writes the resource ARN of a bucket (key.base NULL) or an object into buf (cap bytes, at least
 * S3_POLICY_ARN_MAX for any valid bucket and key) and points *out at it. Returns 0 or
 * -S3_ERR_INVALID_ARGUMENT when it does not fit. */
int s3_policy_resource_arn(h2o_iovec_t bucket, h2o_iovec_t key, char *buf, size_t cap, h2o_iovec_t *out);

#endif
