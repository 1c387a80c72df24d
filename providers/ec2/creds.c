/*
 * creds.c - the AWS credential chain; see creds.h.
 */
#include "creds.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void cg_ec2_creds_clear(struct cg_ec2_creds *c)
{
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static const char *nonempty_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/*
 * Read the keys of one section of an INI file into c. Returns 1 when both
 * keys were found, 0 when not (the file or section missing: *why says
 * which), -1 on a read error other than a missing file.
 */
static int ini_section(const char *path, const char *section, struct cg_ec2_creds *c,
		       const char **why)
{
	char *text;
	size_t len;
	struct cg_err e = { 0 };
	FILE *f = fopen(path, "r");
	if (!f) {
		*why = "missing";
		return 0;
	}
	fclose(f);
	if (cg_file_read(path, &text, &len, &e) < 0) {
		*why = "unreadable";
		return 0;
	}
	bool in = false, seen = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line);
		if (*l == '#' || *l == ';' || !*l)
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');
			if (end)
				*end = 0;
			in = !strcmp(trim(l + 1), section);
			seen |= in;
			continue;
		}
		if (!in)
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			continue;
		*eq = 0;
		char *k = trim(l), *v = trim(eq + 1);
		char **dst = !strcmp(k, "aws_access_key_id") ? &c->access_key :
			     !strcmp(k, "aws_secret_access_key") ? &c->secret_key :
			     !strcmp(k, "aws_session_token") ? &c->session_token : NULL;
		if (dst && *v) {
			wipe_free(*dst);
			*dst = cg_xstrdup(v);
		}
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (c->access_key && c->secret_key)
		return 1;
	*why = seen ? "section lacks aws_access_key_id/aws_secret_access_key" : "no such section";
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
	return 0;
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	struct cg_buf *b = ud;
	if (b->len + sz * n > 65536)
		return 0;
	cg_buf_add(b, p, sz * n);
	return sz * n;
}

/* One IMDS request; returns the HTTP status or -1 (network error, *why). */
static long imds_call(CURL *h, const char *url, const char *method, const char *token,
		      struct cg_buf *body, char *why, size_t whyn)
{
	struct curl_slist *hdrs = NULL;
	char hb[1200];
	if (token) {
		snprintf(hb, sizeof(hb), "X-aws-ec2-metadata-token: %s", token);
		hdrs = curl_slist_append(hdrs, hb);
	} else {
		hdrs = curl_slist_append(hdrs, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	}
	cg_buf_reset(body);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	OPENSSL_cleanse(hb, sizeof(hb));
	if (rc != CURLE_OK) {
		snprintf(why, whyn, "%s", curl_easy_strerror(rc));
		return -1;
	}
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* The string value of "key" in a flat JSON object (enough for IMDS). */
static char *json_field(const char *js, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(js, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (isspace((unsigned char)*p) || *p == ':')
		p++;
	if (*p != '"')
		return NULL;
	const char *e = strchr(p + 1, '"');
	return e ? cg_xstrndup(p + 1, e - p - 1) : NULL;
}

static int imds(const char *base, struct cg_ec2_creds *c, char *why, size_t whyn)
{
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(why, whyn, "curl init failed");
		return 0;
	}
	struct cg_buf body = { 0 };
	char *token = NULL, *url = NULL, *role = NULL;
	int ok = 0;
	url = cg_xasprintf("%s/latest/api/token", base);
	long st = imds_call(h, url, "PUT", NULL, &body, why, whyn);
	free(url);
	if (st != 200) {
		if (st > 0)
			snprintf(why, whyn, "token request answered HTTP %ld", st);
		goto out;
	}
	token = cg_xstrdup(trim(body.data ? body.data : ""));
	url = cg_xasprintf("%s/latest/meta-data/iam/security-credentials/", base);
	st = imds_call(h, url, "GET", token, &body, why, whyn);
	free(url);
	if (st != 200 || !body.data) {
		if (st >= 0)
			snprintf(why, whyn, "no instance role (HTTP %ld)", st);
		goto out;
	}
	char *nl = strchr(body.data, '\n');
	if (nl)
		*nl = 0;
	role = cg_xstrdup(trim(body.data));
	url = cg_xasprintf("%s/latest/meta-data/iam/security-credentials/%s", base, role);
	st = imds_call(h, url, "GET", token, &body, why, whyn);
	free(url);
	if (st != 200 || !body.data) {
		if (st >= 0)
			snprintf(why, whyn, "role credentials answered HTTP %ld", st);
		goto out;
	}
	c->access_key = json_field(body.data, "AccessKeyId");
	c->secret_key = json_field(body.data, "SecretAccessKey");
	c->session_token = json_field(body.data, "Token");
	char *exp = json_field(body.data, "Expiration");
	if (exp) {
		struct tm tm = { 0 };
		if (strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm))
			c->expires = (int64_t)timegm(&tm);
		free(exp);
	}
	if (c->access_key && c->secret_key) {
		ok = 1;
		snprintf(c->source, sizeof(c->source), "IMDSv2 role %s", role);
	} else {
		snprintf(why, whyn, "role credentials lack AccessKeyId/SecretAccessKey");
		wipe_free(c->access_key);
		wipe_free(c->secret_key);
		wipe_free(c->session_token);
		c->access_key = c->secret_key = c->session_token = NULL;
	}
out:
	if (body.data)
		OPENSSL_cleanse(body.data, body.len);
	cg_buf_free(&body);
	wipe_free(token);
	free(role);
	curl_easy_cleanup(h);
	return ok;
}

int cg_ec2_creds_load(struct cg_ec2_creds *out, struct cg_err *err)
{
	memset(out, 0, sizeof(*out));
	struct cg_buf looked = { 0 };

	/* 1. environment */
	const char *ak = nonempty_env("AWS_ACCESS_KEY_ID");
	const char *sk = nonempty_env("AWS_SECRET_ACCESS_KEY");
	if (ak && sk) {
		out->access_key = cg_xstrdup(ak);
		out->secret_key = cg_xstrdup(sk);
		out->session_token = cg_xstrdup(nonempty_env("AWS_SESSION_TOKEN"));
		snprintf(out->source, sizeof(out->source), "environment");
		return 0;
	}
	cg_buf_addf(&looked, "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: %s)",
		    ak ? "secret key unset" : sk ? "access key id unset" : "unset");

	/* 2. shared files */
	const char *home = nonempty_env("HOME");
	const char *profile = nonempty_env("AWS_PROFILE");
	if (!profile)
		profile = "default";
	char *cred_path = nonempty_env("AWS_SHARED_CREDENTIALS_FILE")
		? cg_xstrdup(getenv("AWS_SHARED_CREDENTIALS_FILE"))
		: cg_xasprintf("%s/.aws/credentials", home ? home : "");
	char *conf_path = nonempty_env("AWS_CONFIG_FILE")
		? cg_xstrdup(getenv("AWS_CONFIG_FILE"))
		: cg_xasprintf("%s/.aws/config", home ? home : "");
	const char *why = "";
	int r = ini_section(cred_path, profile, out, &why);
	if (r == 1) {
		snprintf(out->source, sizeof(out->source), "profile %s (%s)", profile, cred_path);
		goto found;
	}
	cg_buf_addf(&looked, "; profile [%s] in %s (%s)", profile, cred_path, why);
	char *section = !strcmp(profile, "default") ? cg_xstrdup("default")
						    : cg_xasprintf("profile %s", profile);
	r = ini_section(conf_path, section, out, &why);
	cg_buf_addf(&looked, "; [%s] in %s (%s)", section, conf_path, r == 1 ? "" : why);
	free(section);
	if (r == 1) {
		snprintf(out->source, sizeof(out->source), "profile %s (%s)", profile, conf_path);
		goto found;
	}

	/* 3. IMDSv2 */
	const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
	const char *base = nonempty_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (!base)
		base = "http://169.254.169.254";
	char basebuf[512];
	snprintf(basebuf, sizeof(basebuf), "%s", base);
	size_t bl = strlen(basebuf);
	while (bl > 0 && basebuf[bl - 1] == '/')
		basebuf[--bl] = 0;
	if (dis && !strcasecmp(dis, "true")) {
		cg_buf_addf(&looked, "; IMDSv2 (disabled by AWS_EC2_METADATA_DISABLED)");
	} else {
		char iwhy[256] = "";
		if (imds(basebuf, out, iwhy, sizeof(iwhy)))
			goto found;
		cg_buf_addf(&looked, "; IMDSv2 at %s (%s)", basebuf, iwhy);
	}
	cg_error(err, CG_EXIT_ERROR,
		 "no AWS credentials found; looked at: %s. Set AWS_ACCESS_KEY_ID and "
		 "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials",
		 looked.data);
	free(cred_path);
	free(conf_path);
	cg_buf_free(&looked);
	return -1;
found:
	free(cred_path);
	free(conf_path);
	cg_buf_free(&looked);
	return 0;
}
