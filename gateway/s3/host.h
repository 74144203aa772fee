/* host.h — how the Host header addresses a request.
 *
 * Virtual-host style: the Host is <bucket>.<domain> for one of the endpoint's domains; the bucket
 * is the part before the domain (the longest matching domain wins: b.s3.example.com is bucket b
 * under s3.example.com rather than b.s3 under example.com). Path style: the Host is a domain
 * itself, an IPv4 literal, an IPv6 literal in brackets, or absent; the path names the bucket.
 * Anything else addresses nothing we serve. A port (":digits") and a final dot (the fully
 * qualified spelling) are ignored; names compare case-insensitively (DNS), and the bucket comes
 * back lowercase.
 */
#ifndef YC_S3_HOST_H
#define YC_S3_HOST_H
#include <stddef.h>
#include <h2o.h>

#define S3_HOST_NAME_MAX 255 /* longest host name accepted (DNS) */

typedef enum { S3_HOST_PATH_STYLE = 0, S3_HOST_VIRTUAL, S3_HOST_UNKNOWN } s3_host_style_t;

/* Classifies host against domains (lowercase, without port). For S3_HOST_VIRTUAL, *bucket points
 * into name (S3_HOST_NAME_MAX + 1 bytes of the caller), which holds the lowercased host. */
s3_host_style_t s3_host_parse(h2o_iovec_t host, const h2o_iovec_t *domains, size_t ndomains,
                              char name[S3_HOST_NAME_MAX + 1], h2o_iovec_t *bucket);

#endif
