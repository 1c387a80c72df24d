/*
 * client.c - EC2 Query API client: signing, pooling, rate limits, retries;
 * see client.h.
 */
#include "client.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "sigv4.h"

#define API_VERSION "2016-11-15"
#define POOL_MAX 16

struct bucket {
	double tokens, cap, rate;	/* rate: tokens per second */
	int64_t last_ms;
};

struct region {
	char *name;
	char *url, *host;
	pthread_mutex_t mu;
	CURL *idle[POOL_MAX];
	int nidle;
	struct bucket describe, mutate;
	struct region *next;
};

struct cg_ec2_client {
	pthread_mutex_t mu;		/* regions list, creds, counters */
	struct region *regions;
	struct cg_ec2_creds creds;
	int max_attempts;
	long base_ms, timeout_ms, notfound_ms;
	double rate_scale, burst_scale;
	long attempts, retries;
};

/* ---- parameters ---- */

void cg_ec2_params_add(struct cg_ec2_params *p, const char *key, const char *value)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->k = cg_xrealloc(p->k, p->cap * sizeof(char *));
		p->v = cg_xrealloc(p->v, p->cap * sizeof(char *));
	}
	p->k[p->n] = cg_xstrdup(key);
	p->v[p->n] = cg_xstrdup(value ? value : "");
	p->n++;
}

void cg_ec2_params_addf(struct cg_ec2_params *p, const char *key, const char *fmt, ...)
{
	struct cg_buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	cg_ec2_params_add(p, key, b.data ? b.data : "");
	cg_buf_free(&b);
}

void cg_ec2_params_free(struct cg_ec2_params *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->k[i]);
		free(p->v[i]);
	}
	free(p->k);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

char *cg_ec2_params_body(const char *action, const struct cg_ec2_params *p)
{
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "Action=");
	cg_sigv4_uri_encode(&b, action, strlen(action), false);
	cg_buf_adds(&b, "&Version=" API_VERSION);
	for (int i = 0; p && i < p->n; i++) {
		cg_buf_adds(&b, "&");
		cg_sigv4_uri_encode(&b, p->k[i], strlen(p->k[i]), false);
		cg_buf_adds(&b, "=");
		cg_sigv4_uri_encode(&b, p->v[i], strlen(p->v[i]), false);
	}
	return cg_buf_detach(&b);
}

/* ---- client ---- */

static long env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return def;
	return v;
}

int cg_ec2_client_new(struct cg_ec2_client **out, struct cg_err *err)
{
	struct cg_ec2_client *c = cg_xcalloc(1, sizeof(*c));
	if (cg_ec2_creds_load(&c->creds, err) < 0) {
		free(c);
		return -1;
	}
	/* Reference counted and thread-safe in libcurl >= 7.84. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&c->mu, NULL);
	c->max_attempts = (int)env_long("CASSANDGO_EC2_MAX_ATTEMPTS", 8, 1, 100);
	c->base_ms = env_long("CASSANDGO_EC2_RETRY_BASE_MS", 1000, 1, 60000);
	c->timeout_ms = env_long("CASSANDGO_EC2_TIMEOUT_MS", 30000, 100, 600000);
	c->notfound_ms = env_long("CASSANDGO_EC2_NOTFOUND_MS", 30000, 0, 600000);
	const char *rs = getenv("CASSANDGO_EC2_RATE_SCALE");
	c->rate_scale = rs && atof(rs) > 0 ? atof(rs) : 1.0;
	const char *bs = getenv("CASSANDGO_EC2_BURST_SCALE");
	c->burst_scale = bs && atof(bs) > 0 ? atof(bs) : 1.0;
	*out = c;
	return 0;
}

void cg_ec2_client_free(struct cg_ec2_client *c)
{
	if (!c)
		return;
	struct region *r = c->regions;
	while (r) {
		struct region *next = r->next;
		for (int i = 0; i < r->nidle; i++)
			curl_easy_cleanup(r->idle[i]);
		pthread_mutex_destroy(&r->mu);
		free(r->name);
		free(r->url);
		free(r->host);
		free(r);
		r = next;
	}
	cg_ec2_creds_clear(&c->creds);
	pthread_mutex_destroy(&c->mu);
	free(c);
	curl_global_cleanup();
}

void cg_ec2_client_stats(struct cg_ec2_client *c, long *attempts, long *retries)
{
	pthread_mutex_lock(&c->mu);
	if (attempts)
		*attempts = c->attempts;
	if (retries)
		*retries = c->retries;
	pthread_mutex_unlock(&c->mu);
}

char *cg_ec2_endpoint(const char *region)
{
	const char *e = getenv("AWS_ENDPOINT_URL_EC2");
	if (!e || !*e)
		e = getenv("AWS_ENDPOINT_URL");
	if (e && *e) {
		/* the path part is "/" for EC2: make sure there is one */
		const char *hs = strstr(e, "://");
		if (hs && !strchr(hs + 3, '/'))
			return cg_xasprintf("%s/", e);
		return cg_xstrdup(e);
	}
	return cg_xasprintf("https://ec2.%s.amazonaws.com/", region);
}

/* host[:port] of a URL, as sent in the Host header. */
static char *url_host(const char *url)
{
	const char *hs = strstr(url, "://");
	hs = hs ? hs + 3 : url;
	size_t len = strcspn(hs, "/?#");
	return cg_xstrndup(hs, len);
}

static struct region *region_get(struct cg_ec2_client *c, const char *name)
{
	pthread_mutex_lock(&c->mu);
	struct region *r;
	for (r = c->regions; r; r = r->next)
		if (!strcmp(r->name, name))
			break;
	if (!r) {
		r = cg_xcalloc(1, sizeof(*r));
		r->name = cg_xstrdup(name);
		r->url = cg_ec2_endpoint(name);
		r->host = url_host(r->url);
		pthread_mutex_init(&r->mu, NULL);
		/* EC2's documented buckets: non-mutating 100 (+20/s), mutating
		 * 200 (+5/s); we stay a little under them. */
		double db = 80 * c->burst_scale, mb = 150 * c->burst_scale;
		r->describe = (struct bucket){ db, db, 18 * c->rate_scale, cg_now_ms() };
		r->mutate = (struct bucket){ mb, mb, 4.5 * c->rate_scale, cg_now_ms() };
		r->next = c->regions;
		c->regions = r;
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

static void sleep_ms(long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void take_token(struct region *r, struct bucket *b)
{
	for (;;) {
		pthread_mutex_lock(&r->mu);
		int64_t now = cg_now_ms();
		b->tokens += (now - b->last_ms) * b->rate / 1000.0;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last_ms = now;
		if (b->tokens >= 1) {
			b->tokens -= 1;
			pthread_mutex_unlock(&r->mu);
			return;
		}
		long wait = (long)((1 - b->tokens) * 1000.0 / b->rate) + 1;
		pthread_mutex_unlock(&r->mu);
		sleep_ms(wait);
	}
}

static CURL *handle_get(struct region *r)
{
	CURL *h = NULL;
	pthread_mutex_lock(&r->mu);
	if (r->nidle > 0)
		h = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->mu);
	return h ? h : curl_easy_init();
}

static void handle_put(struct region *r, CURL *h, bool broken)
{
	pthread_mutex_lock(&r->mu);
	if (!broken && r->nidle < POOL_MAX) {
		r->idle[r->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	if (h)
		curl_easy_cleanup(h);
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	struct cg_buf *b = ud;
	if (b->len + sz * n > (64u << 20))
		return 0;	/* a describe answer is never this big */
	cg_buf_add(b, p, sz * n);
	return sz * n;
}

static long jitter_ms(long cap_ms)
{
	uint32_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)cg_now_ms() * 2654435761u;
	return cap_ms > 0 ? (long)(r % (uint32_t)cap_ms) : 0;
}

/* Credentials for one attempt, refreshed when they are about to expire. */
static int creds_copy(struct cg_ec2_client *c, struct cg_ec2_creds *out, struct cg_err *err)
{
	pthread_mutex_lock(&c->mu);
	if (c->creds.expires && c->creds.expires - cg_wall_s() < 300) {
		struct cg_ec2_creds fresh;
		if (cg_ec2_creds_load(&fresh, err) < 0) {
			pthread_mutex_unlock(&c->mu);
			return -1;
		}
		cg_ec2_creds_clear(&c->creds);
		c->creds = fresh;
	}
	memset(out, 0, sizeof(*out));
	out->access_key = cg_xstrdup(c->creds.access_key);
	out->secret_key = cg_xstrdup(c->creds.secret_key);
	out->session_token = cg_xstrdup(c->creds.session_token);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* One attempt. Returns the HTTP status, or 0 with *cc set on a network error. */
static long attempt(struct cg_ec2_client *c, struct region *r, const char *body,
		    bool fresh, struct cg_buf *resp, CURLcode *cc, struct cg_err *err)
{
	struct cg_ec2_creds cr;
	if (creds_copy(c, &cr, err) < 0)
		return -1;
	char date[17];
	cg_sigv4_amz_date(date);
	struct cg_sigv4_header h[3] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", r->host },
		{ "X-Amz-Date", date },
	};
	struct cg_sigv4_req rq = {
		.method = "POST", .path = "/", .headers = h, .nheaders = 3,
		.body = body, .body_len = strlen(body),
		.region = r->name, .service = "ec2",
		.access_key = cr.access_key, .secret_key = cr.secret_key,
		.session_token = cr.session_token, .amz_date = date,
	};
	struct cg_sigv4_out so;
	if (cg_sigv4_sign(&rq, &so, err) < 0) {
		cg_ec2_creds_clear(&cr);
		return -1;
	}
	struct curl_slist *hl = NULL;
	char *line;
	hl = curl_slist_append(hl, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
	line = cg_xasprintf("Host: %s", r->host);
	hl = curl_slist_append(hl, line);
	free(line);
	line = cg_xasprintf("X-Amz-Date: %s", date);
	hl = curl_slist_append(hl, line);
	free(line);
	if (cr.session_token) {
		line = cg_xasprintf("X-Amz-Security-Token: %s", cr.session_token);
		hl = curl_slist_append(hl, line);
		OPENSSL_cleanse(line, strlen(line));
		free(line);
	}
	line = cg_xasprintf("Authorization: %s", so.authz);
	hl = curl_slist_append(hl, line);
	free(line);
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, "User-Agent: cassandgo/1");
	cg_sigv4_out_free(&so);
	cg_ec2_creds_clear(&cr);

	CURL *ch = handle_get(r);
	curl_easy_setopt(ch, CURLOPT_URL, r->url);
	curl_easy_setopt(ch, CURLOPT_POST, 1L);
	curl_easy_setopt(ch, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(ch, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(ch, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(ch, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(ch, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(ch, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(ch, CURLOPT_TCP_KEEPALIVE, 1L);
	/* libcurl silently sends a request again when a reused connection
	 * dies without an answer; the server may have carried it out: for a
	 * call that must not run twice, use a connection of its own. */
	curl_easy_setopt(ch, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
	*cc = curl_easy_perform(ch);
	long status = 0;
	if (*cc == CURLE_OK)
		curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &status);
	/* The header list dies with this attempt: detach it from the handle. */
	curl_easy_setopt(ch, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(ch, CURLOPT_WRITEDATA, NULL);
	handle_put(r, ch, *cc != CURLE_OK);
	curl_slist_free_all(hl);
	pthread_mutex_lock(&c->mu);
	c->attempts++;
	pthread_mutex_unlock(&c->mu);
	return status;
}

/* Network errors that prove the request never reached the server. */
static bool curl_not_sent(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_SSL_CONNECT_ERROR;
}

int cg_ec2_call(struct cg_ec2_client *c, const char *region, const char *action,
		const struct cg_ec2_params *p, unsigned flags, xmlDocPtr *doc,
		struct cg_ec2_error *eout, struct cg_err *err)
{
	struct region *r = region_get(c, region);
	char *body = cg_ec2_params_body(action, p);
	bool describe = !strncmp(action, "Describe", 8);
	struct cg_ec2_error e;
	int64_t t0 = cg_now_ms();
	int n;
	if (doc)
		*doc = NULL;
	for (n = 1;; n++) {
		take_token(r, describe ? &r->describe : &r->mutate);
		struct cg_buf resp = { 0 };
		CURLcode cc = CURLE_OK;
		long status = attempt(c, r, body, (flags & CG_EC2_NO_AMBIGUOUS) != 0, &resp, &cc, err);
		if (status < 0) {
			cg_buf_free(&resp);
			free(body);
			return -1;
		}
		if (status == 200) {
			xmlDocPtr d = cg_xml_parse(resp.data, resp.len);
			if (d) {
				if (doc)
					*doc = d;
				else
					xmlFreeDoc(d);
				cg_buf_free(&resp);
				free(body);
				return 0;
			}
			/* A truncated 200: treat like a server error. */
			cg_ec2_parse_error(500, resp.data, resp.len, &e);
			e.http_status = 200;
			snprintf(e.code, sizeof(e.code), "InternalError");
			e.ambiguous = true;
		} else if (status == 0) {
			memset(&e, 0, sizeof(e));
			snprintf(e.code, sizeof(e.code), "Network");
			snprintf(e.message, sizeof(e.message), "%s (%s)", curl_easy_strerror(cc), r->url);
			e.ambiguous = !curl_not_sent(cc);
		} else {
			cg_ec2_parse_error(status, resp.data, resp.len, &e);
			e.ambiguous = status >= 500 && !cg_ec2_error_throttled(&e);
		}
		cg_buf_free(&resp);

		bool again = false;
		long delay = 0;
		if (cg_ec2_error_retryable(&e) && n < c->max_attempts &&
		    !((flags & CG_EC2_NO_AMBIGUOUS) && e.ambiguous)) {
			long cap = c->base_ms << (n - 1 < 15 ? n - 1 : 15);
			if (cap > 20000)
				cap = 20000;
			delay = jitter_ms(cap);
			again = true;
		} else if ((flags & CG_EC2_RETRY_NOTFOUND) && cg_ec2_error_notfound(&e) &&
			   cg_now_ms() - t0 < c->notfound_ms) {
			delay = 250 + jitter_ms(750);
			again = true;
		}
		if (!again)
			break;
		pthread_mutex_lock(&c->mu);
		c->retries++;
		pthread_mutex_unlock(&c->mu);
		sleep_ms(delay);
	}
	free(body);
	if (eout)
		*eout = e;
	return cg_error(err, CG_EXIT_ERROR, "EC2 %s in %s: %s: %s%s%s (after %d attempt%s)",
			action, region, e.code, e.message,
			e.request_id[0] ? "; request id " : "", e.request_id,
			n, n == 1 ? "" : "s");
}
