/*
 * sigv4.h - AWS Signature Version 4 (HMAC-SHA256) on OpenSSL.
 *
 * Written by hand instead of curl's CURLOPT_AWS_SIGV4 (7.88 has signing bugs
 * and shows no intermediate strings): this API exposes the canonical request,
 * the string to sign and the Authorization value so that the tests compare
 * all three against AWS's and botocore's vectors.
 *
 * Ownership: cg_sigv4_sign fills *out with heap strings freed by
 * cg_sigv4_out_free.
 */
#ifndef CG_SIGV4_H
#define CG_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include "../../util/util.h"

struct cg_sigv4_header {
	const char *name;	/* as sent; case does not matter */
	const char *value;	/* raw; trimmed and folded when canonicalised */
};

struct cg_sigv4_req {
	const char *method;		/* "POST" */
	const char *path;		/* raw (not encoded) path, e.g. "/" */
	const char *query;		/* raw query string without '?', or NULL */
	const struct cg_sigv4_header *headers;	/* must include Host and X-Amz-Date */
	int nheaders;
	const void *body;
	size_t body_len;
	const char *region, *service;
	const char *access_key, *secret_key;
	/* Non-NULL: signed as the x-amz-security-token header (the caller
	 * sends the same header). */
	const char *session_token;
	const char *amz_date;		/* "YYYYMMDDTHHMMSSZ" */
};

struct cg_sigv4_out {
	char *creq;		/* canonical request */
	char *sts;		/* string to sign */
	char *authz;		/* Authorization header value */
};

int cg_sigv4_sign(const struct cg_sigv4_req *rq, struct cg_sigv4_out *out,
		  struct cg_err *err);
void cg_sigv4_out_free(struct cg_sigv4_out *out);

/* Append s percent-encoded with RFC 3986 unreserved rules (A-Za-z0-9-_.~
 * kept, everything else %XX uppercase). keep_slash leaves '/' as is. */
void cg_sigv4_uri_encode(struct cg_buf *b, const char *s, size_t n, bool keep_slash);

/* The current time as an X-Amz-Date value. */
void cg_sigv4_amz_date(char out[17]);

#endif
