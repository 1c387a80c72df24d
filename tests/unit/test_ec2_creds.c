/*
 * test_ec2_creds.c - the credential chain: environment, profiles in the
 * shared files, IMDSv2 against a tiny fake metadata server on loopback (the
 * real 169.254.169.254 is never contacted: every case sets the endpoint
 * override or the disable switch), and the "looked at" message.
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
#include <sys/stat.h>
#include <unistd.h>

#include "../../providers/ec2/creds.h"

static char tmpdir[64];

static void clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	setenv("HOME", tmpdir, 1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cg-creds-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	char *d = cg_xasprintf("%s/.aws", tmpdir);
	mkdir(d, 0700);
	free(d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = cg_xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

static void write_file(const char *rel, const char *text)
{
	char *p = cg_xasprintf("%s/%s", tmpdir, rel);
	struct cg_err err = { 0 };
	assert_int_equal(cg_file_write_atomic(p, text, strlen(text), 0600, &err), 0);
	free(p);
}

static void remove_file(const char *rel)
{
	char *p = cg_xasprintf("%s/%s", tmpdir, rel);
	unlink(p);
	free(p);
}

static void test_env(void **state)
{
	(void)state;
	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	struct cg_ec2_creds c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_creds_load(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	assert_string_equal(c.secret_key, "secretenv");
	assert_string_equal(c.session_token, "tok");
	assert_string_equal(c.source, "environment");
	cg_ec2_creds_clear(&c);
	assert_null(c.access_key);
}

static void test_profiles(void **state)
{
	(void)state;
	clear_env();
	write_file(".aws/credentials",
		   "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = sdef\n\n"
		   "[work]\n  aws_access_key_id=AKIDWORK \naws_secret_access_key= swork\n"
		   "aws_session_token = twork\n");
	write_file(".aws/config",
		   "[default]\nregion = eu-west-1\n[profile cfgonly]\n"
		   "aws_access_key_id = AKIDCFG\naws_secret_access_key = scfg\n");
	struct cg_ec2_creds c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_creds_load(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDDEF");
	assert_null(c.session_token);
	cg_ec2_creds_clear(&c);

	setenv("AWS_PROFILE", "work", 1);
	assert_int_equal(cg_ec2_creds_load(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDWORK");
	assert_string_equal(c.secret_key, "swork");
	assert_string_equal(c.session_token, "twork");
	assert_non_null(strstr(c.source, "work"));
	cg_ec2_creds_clear(&c);

	setenv("AWS_PROFILE", "cfgonly", 1);
	assert_int_equal(cg_ec2_creds_load(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDCFG");
	assert_non_null(strstr(c.source, "config"));
	cg_ec2_creds_clear(&c);

	/* environment wins over the files */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	assert_int_equal(cg_ec2_creds_load(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	cg_ec2_creds_clear(&c);
	remove_file(".aws/credentials");
	remove_file(".aws/config");
}

static void test_missing_names_every_place(void **state)
{
	(void)state;
	clear_env();
	setenv("AWS_PROFILE", "nosuch", 1);
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIDDEF\n"
		   "aws_secret_access_key = TOPSECRETVALUE\n");
	struct cg_ec2_creds c;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_creds_load(&c, &err), -1);
	assert_non_null(strstr(err.msg, "environment"));
	assert_non_null(strstr(err.msg, "[nosuch]"));
	assert_non_null(strstr(err.msg, ".aws/credentials (no such section)"));
	assert_non_null(strstr(err.msg, "[profile nosuch]"));
	assert_non_null(strstr(err.msg, ".aws/config (missing)"));
	assert_non_null(strstr(err.msg, "IMDSv2 (disabled"));
	assert_null(strstr(err.msg, "TOPSECRETVALUE"));
	remove_file(".aws/credentials");

	/* IMDS enabled but nothing listens: reported with the address */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/", 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_ec2_creds_load(&c, &err), -1);
	assert_non_null(strstr(err.msg, "IMDSv2 at http://127.0.0.1:9 ("));
}

/* A fake IMDSv2: answers token, role list and role credentials; refuses
 * credential requests without the token header. */
struct fake {
	int fd;
	int served;
	int token_ok;
};

static void *fake_imds(void *arg)
{
	struct fake *f = arg;
	for (int i = 0; i < 3; i++) {
		int c = accept(f->fd, NULL, NULL);
		if (c < 0)
			break;
		char req[4096];
		ssize_t n = 0, r;
		while (n < (ssize_t)sizeof(req) - 1 &&
		       (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
			n += r;
			req[n] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[n > 0 ? n : 0] = 0;
		const char *body;
		int status = 200;
		if (!strncmp(req, "PUT /latest/api/token", 21) &&
		    strstr(req, "X-aws-ec2-metadata-token-ttl-seconds"))
			body = "FAKETOKEN";
		else if (!strstr(req, "X-aws-ec2-metadata-token: FAKETOKEN"))
			status = 401, body = "";
		else if (strstr(req, "GET /latest/meta-data/iam/security-credentials/ "))
			body = "cg-role\n";
		else if (strstr(req, "GET /latest/meta-data/iam/security-credentials/cg-role "))
			body = "{\n  \"Code\" : \"Success\",\n  \"AccessKeyId\" : \"ASIAIMDS\",\n"
			       "  \"SecretAccessKey\" : \"simds\",\n  \"Token\" : \"timds\",\n"
			       "  \"Expiration\" : \"2030-01-02T03:04:05Z\"\n}";
		else
			status = 404, body = "";
		if (status == 200 && strstr(req, "FAKETOKEN"))
			f->token_ok++;
		char resp[1024];
		int len = snprintf(resp, sizeof(resp),
				   "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
				   status, strlen(body), body);
		if (write(c, resp, len) != len)
			break;
		close(c);
		f->served++;
	}
	return NULL;
}

static void test_imds(void **state)
{
	(void)state;
	clear_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	struct fake f = { 0 };
	f.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f.fd, 4), 0);
	socklen_t al = sizeof(a);
	getsockname(f.fd, (struct sockaddr *)&a, &al);
	char *url = cg_xasprintf("http://127.0.0.1:%d", ntohs(a.sin_port));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	free(url);
	pthread_t th;
	pthread_create(&th, NULL, fake_imds, &f);
	struct cg_ec2_creds c;
	struct cg_err err = { 0 };
	int rc = cg_ec2_creds_load(&c, &err);
	shutdown(f.fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(f.fd);
	assert_int_equal(rc, 0);
	assert_int_equal(f.served, 3);
	assert_int_equal(f.token_ok, 2);
	assert_string_equal(c.access_key, "ASIAIMDS");
	assert_string_equal(c.secret_key, "simds");
	assert_string_equal(c.session_token, "timds");
	assert_true(c.expires == 1893553445);
	assert_non_null(strstr(c.source, "cg-role"));
	cg_ec2_creds_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_missing_names_every_place),
		cmocka_unit_test(test_imds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
