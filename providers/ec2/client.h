/*
 * client.h - the EC2 Query API (version 2016-11-15) over HTTPS.
 *
 * One client serves every region of a provider and is safe to use from
 * several threads. Per region it keeps a small pool of libcurl handles (so
 * connections are reused) and two token buckets (describe and mutating
 * calls) so that a large apply stays under EC2's request rate limits.
 * Every attempt is re-signed (SigV4). Throttling, 5xx and network errors
 * are retried with exponential backoff and full jitter (delay = rand *
 * min(base * 2^n, 20 s)).
 *
 * Endpoint: AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL, else
 * https://ec2.REGION.amazonaws.com/ (always signed for the real region).
 * Tuning (tests): CASSANDGO_EC2_MAX_ATTEMPTS (default 8),
 * CASSANDGO_EC2_RETRY_BASE_MS (1000), CASSANDGO_EC2_TIMEOUT_MS (30000),
 * CASSANDGO_EC2_RATE_SCALE (1.0, multiplies the bucket refill rates: 18/s
 * describe, 4.5/s mutating), CASSANDGO_EC2_BURST_SCALE (1.0, multiplies the
 * bucket sizes: 80 describe, 150 mutating),
 * CASSANDGO_EC2_NOTFOUND_MS (30000). The provider adds CASSANDGO_EC2_POLL_MS
 * (2000, instance state polls), CASSANDGO_EC2_WAIT_S (600, running/terminated
 * deadline) and CASSANDGO_EC2_PAGE_SIZE (1000, DescribeInstances page).
 *
 * Ownership: a document returned by cg_ec2_call is freed with xmlFreeDoc().
 */
#ifndef CG_EC2_CLIENT_H
#define CG_EC2_CLIENT_H

#include <stdbool.h>
#include "xml.h"
#include "creds.h"

struct cg_ec2_client;

/* Request parameters (form fields), in insertion order. */
struct cg_ec2_params {
	char **k, **v;
	int n, cap;
};
void cg_ec2_params_add(struct cg_ec2_params *p, const char *key, const char *value);
void cg_ec2_params_addf(struct cg_ec2_params *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cg_ec2_params_free(struct cg_ec2_params *p);
/* The form body "Action=..&Version=2016-11-15&k=v..", RFC 3986 encoded. */
char *cg_ec2_params_body(const char *action, const struct cg_ec2_params *p);

/* Loads credentials now (error names every place looked at). */
int cg_ec2_client_new(struct cg_ec2_client **out, struct cg_err *err);
void cg_ec2_client_free(struct cg_ec2_client *c);

/* The endpoint URL for region (caller frees). */
char *cg_ec2_endpoint(const char *region);

/* Call flags. */
#define CG_EC2_RETRY_NOTFOUND	1u	/* retry *.NotFound for a while (just created) */
#define CG_EC2_NO_AMBIGUOUS	2u	/* do not retry when the call may have happened
					 * (network error / 5xx after sending): the caller
					 * checks by tag first (RunInstances) */

/*
 * Perform action in region. On success *doc (may be NULL to discard) holds
 * the answer. On failure returns -1 with err filled ("EC2 Action in region:
 * Code: Message") and *eout (may be NULL) the parsed error, so callers can
 * tell Duplicate / NotFound / capacity apart.
 */
int cg_ec2_call(struct cg_ec2_client *c, const char *region, const char *action,
		const struct cg_ec2_params *p, unsigned flags, xmlDocPtr *doc,
		struct cg_ec2_error *eout, struct cg_err *err);

/* Counters since creation: HTTP attempts and retries (for benchmarks). */
void cg_ec2_client_stats(struct cg_ec2_client *c, long *attempts, long *retries);

#endif
