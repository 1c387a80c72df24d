/* tls.c - a cluster's CA, node certificates and password (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct cg_tls_ca {
	EVP_PKEY *key;
	X509 *cert;
	char *pem;
	char fp[17];
};

char *cg_tls_ca_cert_path(const char *dir) { return cg_xasprintf("%s/tls/ca.crt", dir); }
char *cg_tls_ca_key_path(const char *dir) { return cg_xasprintf("%s/tls/ca.key", dir); }
char *cg_tls_password_path(const char *dir) { return cg_xasprintf("%s/superuser.password", dir); }
char *cg_tls_cqlshrc_path(const char *dir) { return cg_xasprintf("%s/cqlshrc", dir); }

/* OpenSSL's last error, for messages. */
static const char *ossl_why(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();
	if (!e)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	return cg_xstrndup(p, n > 0 ? (size_t)n : 0);
}

static EVP_PKEY *new_p256(void)
{
	return EVP_EC_gen("P-256");
}

static char *key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	/* PKCS#8, unencrypted: `BEGIN PRIVATE KEY` */
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		s = bio_string(b);
	BIO_free(b);
	return s;
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && PEM_write_bio_X509(b, x))
		s = bio_string(b);
	BIO_free(b);
	return s;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A certificate skeleton: random 128-bit serial, validity, subject. */
static X509 *cert_new(const char *cn, int days, EVP_PKEY *pub)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto bad;
	serial[0] &= 0x7f;	/* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_set_pubkey(x, pub) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto bad;
	BN_free(bn);
	return x;
bad:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

static void fingerprint(X509 *x, char out[17])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	out[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &n) && n >= 8)
		for (int i = 0; i < 8; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int make_ca(const char *cluster, struct cg_tls_ca *ca, struct cg_err *err)
{
	char why[256];
	char *cn = cg_xasprintf("cassandgo CA %s", cluster ? cluster : "");
	ca->key = new_p256();
	ca->cert = ca->key ? cert_new(cn, 3650, ca->key) : NULL;
	free(cn);
	if (!ca->cert ||
	    !X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)) ||
	    add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
	    !X509_sign(ca->cert, ca->key, EVP_sha256()))
		return cg_error(err, CG_EXIT_ERROR, "cannot make the cluster's CA: %s",
				ossl_why(why, sizeof(why)));
	return 0;
}

/* A secret file must be the user's alone. */
static int private_file(const char *path, struct cg_err *err)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return cg_error(err, CG_EXIT_ERROR, "%s: %s", path, strerror(errno));
	if (sb.st_mode & 077)
		return cg_error(err, CG_EXIT_ERROR, "%s is readable by others (mode %04o): "
				"run chmod 600 %s", path, (unsigned)(sb.st_mode & 07777), path);
	return 0;
}

static int exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

int cg_tls_ca_load(const char *dir, bool create, const char *cluster, struct cg_tls_ca **out,
		   bool *made, struct cg_err *err)
{
	char *cp = cg_tls_ca_cert_path(dir), *kp = cg_tls_ca_key_path(dir);
	struct cg_tls_ca *ca = cg_xcalloc(1, sizeof(*ca));
	char why[256];
	int rc = -1, hc = exists(cp), hk = exists(kp);
	if (made)
		*made = false;
	if (!hc && !hk) {
		if (!create) {
			rc = 1;
			goto out;
		}
		char *tdir = cg_xasprintf("%s/tls", dir);
		int mk = cg_mkdir_p(tdir, 0700, err);
		free(tdir);
		if (mk || make_ca(cluster, ca, err))
			goto out;
		char *k = key_pem(ca->key);
		ca->pem = cert_pem(ca->cert);
		/* the key first: a certificate alone would be unusable */
		int w = !k || !ca->pem ? cg_error(err, CG_EXIT_ERROR, "cannot encode the CA") :
			cg_file_write_atomic(kp, k, strlen(k), 0600, err);
		if (!w)
			w = cg_file_write_atomic(cp, ca->pem, strlen(ca->pem), 0644, err);
		if (k)
			OPENSSL_cleanse(k, strlen(k));
		free(k);
		if (w)
			goto out;
		if (made)
			*made = true;
	} else if (!hc || !hk) {
		cg_error(err, CG_EXIT_ERROR, "the cluster's CA is incomplete: %s is missing beside %s. "
			 "Restore it from a backup; without the CA's key no node can be added or "
			 "replaced (the nodes trust only this CA)", hc ? kp : cp, hc ? cp : kp);
		goto out;
	} else {
		char *text = NULL;
		size_t len = 0;
		if (private_file(kp, err))
			goto out;
		if (cg_file_read(kp, &text, &len, err))
			goto out;
		BIO *b = BIO_new_mem_buf(text, (int)len);
		ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		OPENSSL_cleanse(text, len);
		free(text);
		if (!ca->key) {
			cg_error(err, CG_EXIT_ERROR, "%s: not a PEM private key (%s); restore it from a "
				 "backup", kp, ossl_why(why, sizeof(why)));
			goto out;
		}
		if (cg_file_read(cp, &text, &len, err))
			goto out;
		b = BIO_new_mem_buf(text, (int)len);
		ca->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		ca->pem = text;
		if (!ca->cert) {
			cg_error(err, CG_EXIT_ERROR, "%s: not a PEM certificate (%s); restore it from a "
				 "backup", cp, ossl_why(why, sizeof(why)));
			goto out;
		}
		if (X509_check_private_key(ca->cert, ca->key) != 1) {
			ERR_clear_error();
			cg_error(err, CG_EXIT_ERROR, "%s does not belong to %s: restore the pair from "
				 "the same backup", kp, cp);
			goto out;
		}
	}
	fingerprint(ca->cert, ca->fp);
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	cg_tls_ca_free(ca);
	free(cp);
	free(kp);
	return rc;
}

void cg_tls_ca_free(struct cg_tls_ca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->pem);
	free(ca);
}

const char *cg_tls_ca_fingerprint(const struct cg_tls_ca *ca) { return ca->fp; }
const char *cg_tls_ca_pem(const struct cg_tls_ca *ca) { return ca->pem; }

int cg_tls_issue(const struct cg_tls_ca *ca, const char *cn, const char *const *ips, int nips,
		 int days, char **kpem, char **cpem, struct cg_err *err)
{
	char why[256];
	struct cg_buf san = {0};
	for (int i = 0; i < nips; i++) {
		unsigned char a[16];
		if (!ips[i] || (inet_pton(AF_INET, ips[i], a) != 1 && inet_pton(AF_INET6, ips[i], a) != 1)) {
			cg_buf_free(&san);
			return cg_error(err, CG_EXIT_ERROR, "certificate for %s: '%s' is not an IP address",
					cn, ips[i] ? ips[i] : "(null)");
		}
		cg_buf_addf(&san, "%sIP:%s", i ? "," : "", ips[i]);
	}
	if (!nips)
		return cg_error(err, CG_EXIT_ERROR, "certificate for %s: no address", cn);
	EVP_PKEY *k = new_p256();
	X509 *x = k ? cert_new(cn, days, k) : NULL;
	int rc = -1;
	if (!x || !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
	    add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    add_ext(x, ca->cert, NID_subject_alt_name, san.data) ||
	    add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(x, ca->key, EVP_sha256())) {
		cg_error(err, CG_EXIT_ERROR, "certificate for %s: %s", cn, ossl_why(why, sizeof(why)));
		goto out;
	}
	*kpem = key_pem(k);
	*cpem = cert_pem(x);
	if (!*kpem || !*cpem) {
		free(*kpem), free(*cpem);
		*kpem = *cpem = NULL;
		cg_error(err, CG_EXIT_ERROR, "certificate for %s: cannot encode", cn);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	cg_buf_free(&san);
	return rc;
}

int cg_tls_cert_from_ca(const struct cg_tls_ca *ca, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x) {
		ERR_clear_error();
		return -1;
	}
	EVP_PKEY *pub = X509_get0_pubkey(ca->cert);
	int ok = X509_verify(x, pub) == 1 &&
		 X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca->cert)) == 0;
	ERR_clear_error();
	X509_free(x);
	return ok;
}

static int password_ok(const char *s, size_t n)
{
	if (n < 16 || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._~+/=-", s[i])))
			return 0;
	return 1;
}

int cg_tls_password_load(const char *path, bool create, char **out, struct cg_err *err)
{
	if (!exists(path)) {
		if (!create)
			return 1;
		unsigned char raw[24];
		unsigned char b64[40];
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return cg_error(err, CG_EXIT_ERROR, "no random bytes for the password");
		int n = EVP_EncodeBlock(b64, raw, sizeof(raw));	/* 32 characters */
		OPENSSL_cleanse(raw, sizeof(raw));
		for (int i = 0; i < n; i++)	/* base64url: no character to quote */
			b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
		char *line = cg_xasprintf("%.*s\n", n, (char *)b64);
		char *d = cg_dirname(path);
		int rc = cg_mkdir_p(d, 0700, err);
		free(d);
		if (!rc)
			rc = cg_file_write_atomic(path, line, strlen(line), 0600, err);
		OPENSSL_cleanse(b64, sizeof(b64));
		if (rc) {
			OPENSSL_cleanse(line, strlen(line));
			free(line);
			return -1;
		}
		line[n] = '\0';
		*out = line;
		return 0;
	}
	char *text = NULL;
	size_t len = 0;
	if (private_file(path, err) || cg_file_read(path, &text, &len, err))
		return -1;
	size_t n = strcspn(text, "\r\n");
	/* one line, optionally ended by a newline, nothing after it */
	size_t rest = n < len && text[n] == '\r' ? n + 1 : n;
	rest += rest < len && text[rest] == '\n';
	if (!password_ok(text, n) || rest != len) {
		OPENSSL_cleanse(text, len);
		free(text);
		return cg_error(err, CG_EXIT_ERROR, "%s is not a password file (one line of 16 to 256 "
				"letters, digits or ._~+/=-): restore it from a backup (it holds the "
				"password of the cluster's superuser)", path);
	}
	text[n] = '\0';
	*out = text;
	return 0;
}

/* Write path with text unless it holds exactly that already. */
static int write_if_changed(const char *path, const char *text, struct cg_err *err)
{
	char *have = NULL;
	size_t len = 0;
	struct cg_err e = {0};
	int same = cg_file_read(path, &have, &len, &e) == 0 && len == strlen(text) &&
		   !memcmp(have, text, len);
	if (have)
		OPENSSL_cleanse(have, len);
	free(have);
	return same ? 0 : cg_file_write_atomic(path, text, strlen(text), 0600, err);
}

int cg_tls_write_cqlshrc(const char *dir, const char *user, const char *password,
			 struct cg_err *err)
{
	char abs[4096];
	if (!realpath(dir, abs))
		return cg_error(err, CG_EXIT_ERROR, "%s: %s", dir, strerror(errno));
	char *cred = cg_xasprintf("[plain_text_auth]\nusername = %s\npassword = %s\n", user, password);
	char *cpath = cg_xasprintf("%s/cqlsh.credentials", abs);
	char *rc = cg_xasprintf("; cqlsh --cqlshrc=%s/cqlshrc, written by cassandgo\n"
				"[authentication]\ncredentials = %s\n\n"
				"[connection]\nssl = true\n\n"
				"[ssl]\ncertfile = %s/tls/ca.crt\nvalidate = true\n", abs, cpath, abs);
	char *rpath = cg_xasprintf("%s/cqlshrc", abs);
	int r = write_if_changed(cpath, cred, err);
	if (!r)
		r = write_if_changed(rpath, rc, err);
	OPENSSL_cleanse(cred, strlen(cred));
	free(cred), free(cpath), free(rc), free(rpath);
	return r;
}
