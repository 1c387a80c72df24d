/*
 * test_ec2_client.c - the EC2 client against a scripted fake server on
 * loopback: what goes on the wire (form body, Host, signature scope, the
 * session token header), retries of throttling / 5xx / dropped connections,
 * final errors not retried, non-XML bodies reported with status and first
 * bytes, and a call that must not run twice not being replayed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../providers/ec2/client.h"

#define OK_BODY "<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">" \
		"<requestId>r1</requestId><regionInfo><item><regionName>eu-west-1</regionName>" \
		"</item></regionInfo></DescribeRegionsResponse>"
#define THROTTLE "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow " \
		 "down</Message></Error></Errors><RequestID>t</RequestID></Response>"
#define DUP "<Response><Errors><Error><Code>InvalidGroup.Duplicate</Code><Message>exists" \
	    "</Message></Error></Errors><RequestID>d</RequestID></Response>"

/* One scripted answer per request: status and body; status 0 = close the
 * connection without answering. */
struct answer {
	int status;
	const char *body;
};

struct fake {
	int fd;
	const struct answer *script;
	int nscript;
	int served;
	char last_req[8192];
	pthread_mutex_t mu;
	pthread_t conns[32];
	int fds[32];		/* -1 once that connection is closed */
	int nconns;
};

struct conn {
	struct fake *f;
	int slot;
};

/* One connection: keep-alive, several requests may come on it. */
static void *serve_conn(void *arg)
{
	struct conn *cn = arg;
	struct fake *f = cn->f;
	int slot = cn->slot;
	int c = f->fds[slot];
	free(cn);
	for (;;) {
		char req[8192];
		ssize_t n = 0, r;
		int want = -1;
		while (n < (ssize_t)sizeof(req) - 1 && (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
			n += r;
			req[n] = 0;
			char *hdr_end = strstr(req, "\r\n\r\n");
			if (hdr_end && want < 0) {
				const char *cl = strcasestr(req, "Content-Length:");
				want = (int)(hdr_end + 4 - req) + (cl ? atoi(cl + 15) : 0);
			}
			if (want >= 0 && n >= want)
				break;
		}
		if (n <= 0)
			break;
		req[n] = 0;
		pthread_mutex_lock(&f->mu);
		if (f->served == f->nscript) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		memcpy(f->last_req, req, (size_t)n + 1);
		const struct answer *a = &f->script[f->served++];
		pthread_mutex_unlock(&f->mu);
		if (a->status == 0)
			break;	/* drop: close without answering */
		char resp[4096];
		int len = snprintf(resp, sizeof(resp),
				   "HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n\r\n%s",
				   a->status, strlen(a->body), a->body);
		if (write(c, resp, len) != len)
			break;
	}
	pthread_mutex_lock(&f->mu);
	f->fds[slot] = -1;
	close(c);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	while (f->nconns < 32) {
		int c = accept(f->fd, NULL, NULL);
		if (c < 0)
			break;
		struct conn *cn = cg_xmalloc(sizeof(*cn));
		cn->f = f;
		pthread_mutex_lock(&f->mu);
		cn->slot = f->nconns;
		f->fds[f->nconns] = c;
		pthread_create(&f->conns[f->nconns], NULL, serve_conn, cn);
		f->nconns++;
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

static struct fake f;
static pthread_t th;

static void start(const struct answer *script, int n)
{
	memset(&f, 0, sizeof(f));
	f.script = script;
	f.nscript = n;
	pthread_mutex_init(&f.mu, NULL);
	f.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f.fd, 8), 0);
	socklen_t al = sizeof(a);
	getsockname(f.fd, (struct sockaddr *)&a, &al);
	char *url = cg_xasprintf("http://127.0.0.1:%d", ntohs(a.sin_port));
	setenv("AWS_ENDPOINT_URL_EC2", url, 1);
	free(url);
	pthread_create(&th, NULL, serve, &f);
}

static void stop(void)
{
	shutdown(f.fd, SHUT_RDWR);
	close(f.fd);
	pthread_join(th, NULL);
	/* the client's pool keeps connections open: end them from here */
	pthread_mutex_lock(&f.mu);
	for (int i = 0; i < f.nconns; i++)
		if (f.fds[i] >= 0)
			shutdown(f.fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&f.mu);
	for (int i = 0; i < f.nconns; i++)
		pthread_join(f.conns[i], NULL);
	pthread_mutex_destroy(&f.mu);
}

static int setup(void **state)
{
	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETSECRET", 1);
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
	unsetenv("AWS_ENDPOINT_URL");
	setenv("CASSANDGO_EC2_RETRY_BASE_MS", "5", 1);
	setenv("CASSANDGO_EC2_MAX_ATTEMPTS", "4", 1);
	setenv("CASSANDGO_EC2_TIMEOUT_MS", "5000", 1);
	return 0;
}

static void test_wire_and_retries(void **state)
{
	(void)state;
	static const struct answer script[] = {
		{ 503, THROTTLE }, { 500, "<html>oops</html>" }, { 0, NULL }, { 200, OK_BODY },
	};
	start(script, 4);
	setenv("AWS_SESSION_TOKEN", "TOKEN123", 1);
	struct cg_ec2_client *c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_client_new(&c, &err), 0);
	struct cg_ec2_params p = { 0 };
	cg_ec2_params_add(&p, "RegionName.1", "eu-west-1");
	xmlDocPtr d = NULL;
	int rc = cg_ec2_call(c, "ap-south-1", "DescribeRegions", &p, 0, &d, NULL, &err);
	stop();
	unsetenv("AWS_SESSION_TOKEN");
	assert_int_equal(rc, 0);
	assert_non_null(d);
	char buf[64];
	assert_string_equal(cg_xml_textb(xmlDocGetRootElement(d), "regionInfo/item/regionName",
					 buf, sizeof(buf)), "eu-west-1");
	xmlFreeDoc(d);
	long attempts, retries;
	cg_ec2_client_stats(c, &attempts, &retries);
	/* 4 requests reached the server, but libcurl itself sent the dropped
	 * one again on a fresh connection (harmless for a describe): 3 of
	 * ours, 2 retries */
	assert_int_equal(f.served, 4);
	assert_int_equal(attempts, 3);
	assert_int_equal(retries, 2);
	/* the last request as the server saw it */
	assert_non_null(strstr(f.last_req, "POST / HTTP/1.1"));
	assert_non_null(strcasestr(f.last_req, "\r\nHost: 127.0.0.1:"));
	assert_non_null(strstr(f.last_req, "Credential=AKIDTEST/"));
	assert_non_null(strstr(f.last_req, "/ap-south-1/ec2/aws4_request"));
	assert_non_null(strstr(f.last_req, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"));
	assert_non_null(strcasestr(f.last_req, "X-Amz-Security-Token: TOKEN123"));
	assert_null(strstr(f.last_req, "SECRETSECRET"));
	assert_non_null(strstr(f.last_req,
			       "\r\n\r\nAction=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1"));
	cg_ec2_params_free(&p);
	cg_ec2_client_free(c);
}

static void test_final_errors(void **state)
{
	(void)state;
	static const struct answer script[] = {
		{ 400, DUP },
		{ 502, "<html>bad gateway</html>" }, { 502, "<html>bad gateway</html>" },
		{ 502, "<html>bad gateway</html>" }, { 502, "<html>\x1b[1mbad gateway</html>" },
	};
	start(script, 5);
	struct cg_ec2_client *c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_client_new(&c, &err), 0);
	struct cg_ec2_error e;
	/* Duplicate: answered once, not retried, parsed for the caller */
	assert_int_equal(cg_ec2_call(c, "eu-west-1", "CreateSecurityGroup", NULL, 0, NULL, &e, &err), -1);
	assert_string_equal(e.code, "InvalidGroup.Duplicate");
	assert_true(cg_ec2_error_duplicate(&e));
	assert_non_null(strstr(err.msg, "EC2 CreateSecurityGroup in eu-west-1: InvalidGroup.Duplicate: exists"));
	/* non-XML 5xx: retried up to the attempt limit, then reported */
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_ec2_call(c, "eu-west-1", "DescribeVpcs", NULL, 0, NULL, &e, &err), -1);
	stop();
	assert_string_equal(e.code, "NonXml");
	assert_non_null(strstr(err.msg, "HTTP 502: <html>?[1mbad gateway</html>"));
	assert_non_null(strstr(err.msg, "after 4 attempts"));
	assert_int_equal(f.served, 5);
	cg_ec2_client_free(c);
}

static void test_no_replay(void **state)
{
	(void)state;
	/* the connection dies after the request was read: RunInstances may
	 * have happened; with CG_EC2_NO_AMBIGUOUS the client must not send it
	 * again (not even libcurl's silent retry on a reused connection) */
	static const struct answer script[] = {
		{ 200, OK_BODY }, { 0, NULL }, { 200, OK_BODY },
	};
	start(script, 3);
	struct cg_ec2_client *c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_client_new(&c, &err), 0);
	/* a first call leaves a pooled keep-alive connection behind */
	assert_int_equal(cg_ec2_call(c, "eu-west-1", "DescribeRegions", NULL, 0, NULL, NULL, &err), 0);
	struct cg_ec2_error e;
	assert_int_equal(cg_ec2_call(c, "eu-west-1", "RunInstances", NULL, CG_EC2_NO_AMBIGUOUS,
				     NULL, &e, &err), -1);
	assert_true(e.ambiguous);
	assert_string_equal(e.code, "Network");
	assert_int_equal(f.served, 2);
	/* the next call still works (the dead connection was dropped) */
	assert_int_equal(cg_ec2_call(c, "eu-west-1", "DescribeRegions", NULL, 0, NULL, NULL, &err), 0);
	stop();
	assert_int_equal(f.served, 3);
	cg_ec2_client_free(c);
}

static void test_rate_limit(void **state)
{
	(void)state;
	/* describe bucket of 2, refilled at 9/s: calls 3..6 wait ~111 ms each */
	setenv("CASSANDGO_EC2_BURST_SCALE", "0.025", 1);
	setenv("CASSANDGO_EC2_RATE_SCALE", "0.5", 1);
	static const struct answer script[] = {
		{ 200, OK_BODY }, { 200, OK_BODY }, { 200, OK_BODY },
		{ 200, OK_BODY }, { 200, OK_BODY }, { 200, OK_BODY },
	};
	start(script, 6);
	struct cg_ec2_client *c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_client_new(&c, &err), 0);
	int64_t t0 = cg_now_ms();
	for (int i = 0; i < 2; i++)
		assert_int_equal(cg_ec2_call(c, "eu-west-1", "DescribeRegions", NULL, 0, NULL, NULL, &err), 0);
	int64_t burst = cg_now_ms() - t0;
	for (int i = 0; i < 4; i++)
		assert_int_equal(cg_ec2_call(c, "eu-west-1", "DescribeRegions", NULL, 0, NULL, NULL, &err), 0);
	int64_t total = cg_now_ms() - t0;
	stop();
	cg_ec2_client_free(c);
	unsetenv("CASSANDGO_EC2_BURST_SCALE");
	unsetenv("CASSANDGO_EC2_RATE_SCALE");
	print_message("burst of 2: %lld ms; 6 calls: %lld ms\n", (long long)burst, (long long)total);
	/* the limiter's own waits are lower bounds; nothing here bounds how
	 * fast a loaded machine (or valgrind) runs a call: the burst of 2 went
	 * through faster than the 4 calls that had to wait for tokens */
	assert_true(total >= 400);	/* 4 x 111 ms, less the refill during the burst */
	assert_true(burst < total - burst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_and_retries),
		cmocka_unit_test(test_final_errors),
		cmocka_unit_test(test_no_replay),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
