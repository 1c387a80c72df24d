/*
 * sigv4.c - AWS Signature Version 4; see sigv4.h.
 */
#include "sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char hexu[] = "0123456789ABCDEF";

void cg_sigv4_uri_encode(struct cg_buf *b, const char *s, size_t n, bool keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
			cg_buf_add(b, &s[i], 1);
		} else {
			char e[3] = { '%', hexu[c >> 4], hexu[c & 15] };
			cg_buf_add(b, e, 3);
		}
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) (query components arrive encoded or not: decode
 * then re-encode gives one canonical form). '+' stays '+'. */
static char *pct_decode(const char *s, size_t n)
{
	char *o = cg_xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			o[j++] = (char)(h * 16 + l);
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = 0;
	return o;
}


void cg_sigv4_amz_date(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Canonical URI: remove dot segments and empty segments, encode once. */
static void canon_path(struct cg_buf *b, const char *path)
{
	if (!path || !*path)
		path = "/";
	const char *segs[256];
	size_t lens[256];
	int n = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 1 && p[0] == '.') {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n > 0)
				n--;
		} else if (n < 256) {
			segs[n] = p;
			lens[n] = len;
			n++;
		}
		p += len;
	}
	size_t plen = strlen(path);
	bool trailing = plen > 0 && path[plen - 1] == '/';
	/* "/x/.." and "/x/." behave like a directory, too */
	if (plen >= 2 && path[plen - 1] == '.' &&
	    (path[plen - 2] == '/' || (plen >= 3 && path[plen - 2] == '.' && path[plen - 3] == '/')))
		trailing = true;
	cg_buf_adds(b, "/");
	for (int i = 0; i < n; i++) {
		if (i)
			cg_buf_adds(b, "/");
		cg_sigv4_uri_encode(b, segs[i], lens[i], false);
	}
	if (n > 0 && trailing)
		cg_buf_adds(b, "/");
}

struct kv {
	char *k, *v;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : strcmp(x->v, y->v);
}

static void canon_query(struct cg_buf *b, const char *q)
{
	if (!q || !*q)
		return;
	struct kv *v = NULL;
	int n = 0, cap = 0;
	const char *p = q;
	while (*p) {
		const char *e = strchr(p, '&');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t kl = eq ? (size_t)(eq - p) : len;
			char *k = pct_decode(p, kl);
			char *val = eq ? pct_decode(eq + 1, len - kl - 1) : cg_xstrdup("");
			struct cg_buf kb = { 0 }, vb = { 0 };
			cg_sigv4_uri_encode(&kb, k, strlen(k), false);
			cg_sigv4_uri_encode(&vb, val, strlen(val), false);
			free(k);
			free(val);
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				v = cg_xrealloc(v, cap * sizeof(*v));
			}
			v[n].k = kb.data ? cg_buf_detach(&kb) : cg_xstrdup("");
			v[n].v = vb.data ? cg_buf_detach(&vb) : cg_xstrdup("");
			n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), kv_cmp);
	for (int i = 0; i < n; i++) {
		cg_buf_addf(b, "%s%s=%s", i ? "&" : "", v[i].k, v[i].v);
		free(v[i].k);
		free(v[i].v);
	}
	free(v);
}

struct hdr {
	char *name;		/* lowercased */
	struct cg_buf value;	/* trimmed, folded; duplicates joined by ',' */
	int order;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Trim and collapse runs of whitespace (including folded lines) to one space. */
static void add_folded(struct cg_buf *b, const char *s)
{
	bool space = false, any = false;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = true;
			continue;
		}
		if (space && any)
			cg_buf_add(b, " ", 1);
		space = false;
		any = true;
		cg_buf_add(b, s, 1);
	}
	if (!b->data)
		cg_buf_adds(b, "");
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 32;
	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

int cg_sigv4_sign(const struct cg_sigv4_req *rq, struct cg_sigv4_out *out,
		  struct cg_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!rq->amz_date || strlen(rq->amz_date) != 16)
		return cg_error(err, CG_EXIT_ERROR, "sigv4: bad X-Amz-Date value");
	if (!rq->access_key || !rq->secret_key)
		return cg_error(err, CG_EXIT_ERROR, "sigv4: no credentials");

	int nh = rq->nheaders + 1;
	struct hdr *h = cg_xcalloc(nh, sizeof(*h));
	int n = 0;
	for (int i = 0; i <= rq->nheaders; i++) {
		const char *name, *value;
		if (i < rq->nheaders) {
			name = rq->headers[i].name;
			value = rq->headers[i].value;
		} else if (rq->session_token) {
			name = "x-amz-security-token";
			value = rq->session_token;
		} else {
			break;
		}
		char *lname = cg_xstrdup(name);
		for (char *c = lname; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		int j;
		for (j = 0; j < n; j++)
			if (!strcmp(h[j].name, lname))
				break;
		if (j < n) {
			if (i == rq->nheaders) {	/* token header already given */
				free(lname);
				continue;
			}
			free(lname);
			cg_buf_add(&h[j].value, ",", 1);
			add_folded(&h[j].value, value);
		} else {
			h[n].name = lname;
			h[n].order = n;
			add_folded(&h[n].value, value);
			n++;
		}
	}
	qsort(h, n, sizeof(*h), hdr_cmp);

	struct cg_buf c = { 0 }, signed_h = { 0 };
	cg_buf_addf(&c, "%s\n", rq->method);
	canon_path(&c, rq->path);
	cg_buf_adds(&c, "\n");
	canon_query(&c, rq->query);
	cg_buf_adds(&c, "\n");
	for (int i = 0; i < n; i++) {
		cg_buf_addf(&c, "%s:%s\n", h[i].name, h[i].value.data);
		cg_buf_addf(&signed_h, "%s%s", i ? ";" : "", h[i].name);
	}
	cg_buf_addf(&c, "\n%s\n", signed_h.data ? signed_h.data : "");
	char body_hash[65];
	cg_sha256_hex(rq->body ? rq->body : "", rq->body ? rq->body_len : 0, body_hash);
	cg_buf_adds(&c, body_hash);
	for (int i = 0; i < n; i++) {
		free(h[i].name);
		cg_buf_free(&h[i].value);
	}
	free(h);

	char date[9];
	memcpy(date, rq->amz_date, 8);
	date[8] = 0;
	char creq_hash[65];
	cg_sha256_hex(c.data, c.len, creq_hash);
	char *scope = cg_xasprintf("%s/%s/%s/aws4_request", date, rq->region, rq->service);
	char *sts = cg_xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", rq->amz_date, scope, creq_hash);

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request") */
	unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
	char *kdate = cg_xasprintf("AWS4%s", rq->secret_key);
	hmac(kdate, strlen(kdate), date, k1);
	OPENSSL_cleanse(kdate, strlen(kdate));
	free(kdate);
	hmac(k1, 32, rq->region, k2);
	hmac(k2, 32, rq->service, k3);
	hmac(k3, 32, "aws4_request", k4);
	hmac(k4, 32, sts, sig);
	OPENSSL_cleanse(k1, 32);
	OPENSSL_cleanse(k4, 32);
	char sighex[65];
	static const char hexl[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		sighex[2 * i] = hexl[sig[i] >> 4];
		sighex[2 * i + 1] = hexl[sig[i] & 15];
	}
	sighex[64] = 0;

	out->authz = cg_xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
				  rq->access_key, scope, signed_h.data ? signed_h.data : "", sighex);
	out->creq = cg_buf_detach(&c);
	out->sts = sts;
	free(scope);
	cg_buf_free(&signed_h);
	return 0;
}

void cg_sigv4_out_free(struct cg_sigv4_out *out)
{
	free(out->creq);
	free(out->sts);
	free(out->authz);
	memset(out, 0, sizeof(*out));
}
