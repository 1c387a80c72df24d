/*
 * creds.h - AWS credentials, found the way every AWS tool finds them:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. profile AWS_PROFILE (else "default") in AWS_SHARED_CREDENTIALS_FILE
 *      (~/.aws/credentials, section [NAME]) then AWS_CONFIG_FILE
 *      (~/.aws/config, section [profile NAME] or [default]);
 *   3. IMDSv2 (PUT /latest/api/token, then the instance role), 1 s timeout;
 *      endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT (tests point it at
 *      loopback), skipped when AWS_EC2_METADATA_DISABLED=true.
 * When nothing is found the error names every place looked at. Secrets are
 * never put in error messages.
 *
 * Ownership: cg_ec2_creds_clear wipes and frees what load filled.
 */
#ifndef CG_EC2_CREDS_H
#define CG_EC2_CREDS_H

#include <stdint.h>
#include "../../util/util.h"

struct cg_ec2_creds {
	char *access_key;
	char *secret_key;
	char *session_token;	/* NULL when none */
	int64_t expires;	/* wall seconds; 0 = does not expire */
	char source[96];	/* "environment", "profile default (/root/.aws/credentials)", "imds" */
};

int cg_ec2_creds_load(struct cg_ec2_creds *out, struct cg_err *err);
void cg_ec2_creds_clear(struct cg_ec2_creds *c);

#endif
