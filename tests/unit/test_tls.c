/*
 * test_tls.c - the cluster's security material (providers/tls): the CA made
 * once and reloaded, node certificates (IP SANs, both usages, signed by the
 * CA and by no other), the password file, and every damaged-file error.
 * Certificates are also checked by OpenSSL's own verifier.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../providers/tls/tls.h"

static char *tmpdir(void)
{
	return tmpdir_for("tls");
}

static int mode_of(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return (int)(sb.st_mode & 0777);
}

static void put(const char *path, const char *text, int mode)
{
	struct cg_err err = {0};
	assert_int_equal(cg_file_write_atomic(path, text, strlen(text), mode, &err), 0);
}

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

/* OpenSSL's verifier: cert chains to ca_pem, for the given IP. */
static int verifies(const char *ca_pem, const char *cert_pem, const char *ip)
{
	X509_STORE *st = X509_STORE_new();
	X509 *ca = pem_cert(ca_pem), *x = pem_cert(cert_pem);
	X509_STORE_add_cert(st, ca);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, st, x, NULL);
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	int ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(ca);
	X509_free(x);
	return ok;
}

static void test_ca_made_once(void **state)
{
	(void)state;
	char *d = tmpdir();
	struct cg_err err = {0};
	struct cg_tls_ca *ca = NULL, *again = NULL;
	bool made = false;
	assert_int_equal(cg_tls_ca_load(d, false, "Lab", &ca, &made, &err), 1);	/* none yet */
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, &made, &err), 0);
	assert_true(made);
	char *kp = cg_tls_ca_key_path(d), *cp = cg_tls_ca_cert_path(d);
	assert_int_equal(mode_of(kp), 0600);
	assert_int_equal(mode_of(cp), 0644);
	char *tdir = cg_xasprintf("%s/tls", d);
	assert_int_equal(mode_of(tdir), 0700);
	assert_int_equal(strlen(cg_tls_ca_fingerprint(ca)), 16);
	/* reloaded, not remade */
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &again, &made, &err), 0);
	assert_false(made);
	assert_string_equal(cg_tls_ca_fingerprint(ca), cg_tls_ca_fingerprint(again));
	assert_string_equal(cg_tls_ca_pem(ca), cg_tls_ca_pem(again));
	/* the key is PKCS#8, what Cassandra reads */
	char *text = NULL;
	size_t len;
	assert_int_equal(cg_file_read(kp, &text, &len, &err), 0);
	assert_non_null(strstr(text, "-----BEGIN PRIVATE KEY-----"));
	free(text);
	cg_tls_ca_free(ca);
	cg_tls_ca_free(again);
	free(kp), free(cp), free(tdir);
	rm_rf(d);
	free(d);
}

static void test_issue(void **state)
{
	(void)state;
	char *d = tmpdir(), *d2 = tmpdir();
	struct cg_err err = {0};
	struct cg_tls_ca *ca = NULL, *other = NULL;
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), 0);
	assert_int_equal(cg_tls_ca_load(d2, true, "Other", &other, NULL, &err), 0);
	const char *ips[] = { "10.0.0.5", "54.1.2.3" };
	char *key = NULL, *crt = NULL;
	assert_int_equal(cg_tls_issue(ca, "Lab DC1 n1", ips, 2, 30, &key, &crt, &err), 0);
	assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
	assert_null(strstr(key, "RSA PRIVATE KEY"));
	/* both addresses certified, by this CA only */
	assert_true(verifies(cg_tls_ca_pem(ca), crt, "10.0.0.5"));
	assert_true(verifies(cg_tls_ca_pem(ca), crt, "54.1.2.3"));
	assert_false(verifies(cg_tls_ca_pem(ca), crt, "10.0.0.6"));
	assert_false(verifies(cg_tls_ca_pem(other), crt, "10.0.0.5"));
	assert_int_equal(cg_tls_cert_from_ca(ca, crt), 1);
	assert_int_equal(cg_tls_cert_from_ca(other, crt), 0);
	assert_int_equal(cg_tls_cert_from_ca(ca, "junk"), -1);
	/* server and client usage: nodes authenticate each other */
	X509 *x = pem_cert(crt);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(X509_check_ca(x), 0);
	X509_free(x);
	free(key), free(crt);
	/* a name is not an address */
	const char *bad[] = { "10.0.0.5;touch /tmp/x" };
	assert_int_equal(cg_tls_issue(ca, "n", bad, 1, 30, &key, &crt, &err), -1);
	assert_non_null(strstr(err.msg, "is not an IP address"));
	cg_tls_ca_free(ca);
	cg_tls_ca_free(other);
	rm_rf(d), rm_rf(d2);
	free(d), free(d2);
}

static void test_ca_damaged(void **state)
{
	(void)state;
	char *d = tmpdir(), *d2 = tmpdir();
	struct cg_err err = {0};
	struct cg_tls_ca *ca = NULL;
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), 0);
	cg_tls_ca_free(ca);
	assert_int_equal(cg_tls_ca_load(d2, true, "Other", &ca, NULL, &err), 0);
	cg_tls_ca_free(ca);
	char *kp = cg_tls_ca_key_path(d), *cp = cg_tls_ca_cert_path(d);
	char *kp2 = cg_tls_ca_key_path(d2);
	char *key = NULL, *key2 = NULL;
	size_t len;
	assert_int_equal(cg_file_read(kp, &key, &len, &err), 0);
	assert_int_equal(cg_file_read(kp2, &key2, &len, &err), 0);

	/* a key readable by others */
	assert_int_equal(chmod(kp, 0644), 0);
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "readable by others"));
	assert_non_null(strstr(err.msg, kp));
	assert_int_equal(chmod(kp, 0600), 0);
	/* another CA's key beside this certificate */
	put(kp, key2, 0600);
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "does not belong to"));
	/* a corrupted key */
	put(kp, "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n", 0600);
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not a PEM private key"));
	/* the certificate missing: never silently replaced by a new CA */
	put(kp, key, 0600);
	assert_int_equal(unlink(cp), 0);
	assert_int_equal(cg_tls_ca_load(d, true, "Lab", &ca, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is missing"));
	assert_non_null(strstr(err.msg, cp));
	assert_int_equal(access(cp, F_OK), -1);	/* nothing written */
	free(key), free(key2), free(kp), free(cp), free(kp2);
	rm_rf(d), rm_rf(d2);
	free(d), free(d2);
}

static void test_password(void **state)
{
	(void)state;
	char *d = tmpdir();
	char *p = cg_tls_password_path(d), *pw = NULL, *again = NULL;
	struct cg_err err = {0};
	assert_int_equal(cg_tls_password_load(p, false, &pw, &err), 1);
	assert_int_equal(cg_tls_password_load(p, true, &pw, &err), 0);
	assert_int_equal(strlen(pw), 32);
	assert_int_equal(strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 32);
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(cg_tls_password_load(p, true, &again, &err), 0);
	assert_string_equal(pw, again);	/* kept, not remade */
	free(again);
	/* a second cluster gets another one */
	char *d2 = tmpdir(), *p2 = cg_tls_password_path(d2);
	assert_int_equal(cg_tls_password_load(p2, true, &again, &err), 0);
	assert_string_not_equal(pw, again);
	free(again);
	/* damaged: two lines, a quote, too short, empty, readable by others */
	const char *bad[] = { "abcdefghijklmnopqr\nsecond\n", "abcdefghij'klmnopqr\n", "short\n", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(p, bad[i], 0600);
		assert_int_equal(cg_tls_password_load(p, true, &again, &err), -1);
		assert_non_null(strstr(err.msg, "is not a password file"));
		assert_non_null(strstr(err.msg, p));
	}
	put(p, "abcdefghijklmnopqrstuvwxyz\n", 0644);
	assert_int_equal(cg_tls_password_load(p, true, &again, &err), -1);
	assert_non_null(strstr(err.msg, "readable by others"));
	put(p, "abcdefghijklmnopqrstuvwxyz", 0600);	/* no newline is fine */
	assert_int_equal(cg_tls_password_load(p, true, &again, &err), 0);
	assert_string_equal(again, "abcdefghijklmnopqrstuvwxyz");
	free(again);
	/* cqlsh's files: 0600, the credentials there, paths absolute */
	assert_int_equal(cg_tls_write_cqlshrc(d, "cassandgo", pw, &err), 0);
	char *rc = cg_tls_cqlshrc_path(d), *cred = cg_xasprintf("%s/cqlsh.credentials", d);
	char *text = NULL;
	size_t len;
	assert_int_equal(mode_of(rc), 0600);
	assert_int_equal(mode_of(cred), 0600);
	assert_int_equal(cg_file_read(rc, &text, &len, &err), 0);
	assert_null(strstr(text, pw));
	assert_non_null(strstr(text, "validate = true"));
	assert_non_null(strstr(text, "certfile = /"));
	free(text);
	assert_int_equal(cg_file_read(cred, &text, &len, &err), 0);
	assert_non_null(strstr(text, pw));
	free(text);
	free(rc), free(cred);
	free(pw), free(p), free(p2);
	rm_rf(d), rm_rf(d2);
	free(d), free(d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_made_once),
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_ca_damaged),
		cmocka_unit_test(test_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
