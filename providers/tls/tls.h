/*
 * tls.h - a cluster's security material, made with OpenSSL's library (never
 * the `openssl` command): its certificate authority, the certificate of each
 * node, and the superuser's password.
 *
 * Files, in the cluster's directory beside the state (<state_dir>/<cluster>):
 *   tls/ca.key            the CA's private key (EC P-256, PKCS#8 PEM), 0600;
 *                         it never leaves this machine
 *   tls/ca.crt            the CA's certificate (PEM), 0644
 *   superuser.password    the superuser's password alone on one line, 0600
 *   cqlshrc, cqlsh.credentials   cqlsh's configuration (TLS + login), 0600
 * Every file is written with temp + fsync + rename, created with its final
 * mode (a secret never exists with wider permissions).
 *
 * Node keys are EC P-256 in unencrypted PKCS#8 (`BEGIN PRIVATE KEY`), what
 * Cassandra 5.0's PEMBasedSslContextFactory reads (FACTS.md: Ed25519 and
 * PKCS#1 are refused). A node's certificate carries an IP subject
 * alternative name for every address it listens, broadcasts or connects
 * from, and both serverAuth and clientAuth (mutual TLS between nodes).
 *
 * Ownership: strings returned are the caller's (free); a cg_tls_ca is freed
 * with cg_tls_ca_free.
 */
#ifndef CG_TLS_H
#define CG_TLS_H

#include <stdbool.h>
#include "../../util/util.h"

struct cg_tls_ca;

/* Paths of the material of the cluster whose directory is cluster_dir. */
char *cg_tls_ca_cert_path(const char *cluster_dir);
char *cg_tls_ca_key_path(const char *cluster_dir);
char *cg_tls_password_path(const char *cluster_dir);

/*
 * Load the cluster's CA; with create, make one when neither file exists.
 * Returns 0 (loaded or made, *made says which; made may be NULL), 1 when
 * there is none and !create, -1 on error: one file without the other, a
 * key that does not belong to the certificate, a key file readable by
 * others, unreadable PEM. Messages name the file and what to do.
 */
int cg_tls_ca_load(const char *cluster_dir, bool create, const char *cluster,
		   struct cg_tls_ca **out, bool *made, struct cg_err *err);
void cg_tls_ca_free(struct cg_tls_ca *ca);
/* 16 hex digits of the SHA-256 of the CA certificate (DER). */
const char *cg_tls_ca_fingerprint(const struct cg_tls_ca *ca);
/* The CA certificate, PEM. */
const char *cg_tls_ca_pem(const struct cg_tls_ca *ca);

/*
 * Issue a node key and certificate signed by ca: subject CN=cn, IP SANs
 * ips[0..nips) (IPv4/IPv6 literals; anything else is an error), valid
 * `days` days. *key_pem (PKCS#8) and *cert_pem are the caller's.
 */
int cg_tls_issue(const struct cg_tls_ca *ca, const char *cn, const char *const *ips, int nips,
		 int days, char **key_pem, char **cert_pem, struct cg_err *err);

/*
 * The superuser's password from path; with create, a new random one (24
 * bytes from OpenSSL's generator, base64url: 32 characters) is written
 * when the file does not exist. A file that is not one line of 16 to 256
 * characters of [A-Za-z0-9._~+/=-], or is readable by others, is an error
 * naming it. Returns 0, 1 when absent and !create, -1 on error.
 */
int cg_tls_password_load(const char *path, bool create, char **out, struct cg_err *err);

/*
 * cqlsh's files beside the others: <dir>/cqlshrc (TLS on, server checked
 * against tls/ca.crt; credentials from the next file) and
 * <dir>/cqlsh.credentials ([plain_text_auth] user and password), both
 * 0600, paths absolute. Rewritten only when their content differs.
 */
int cg_tls_write_cqlshrc(const char *cluster_dir, const char *user, const char *password,
			 struct cg_err *err);
char *cg_tls_cqlshrc_path(const char *cluster_dir);

/* Does pem hold a certificate issued by ca (signature checks)? 1 yes, 0 no,
 * -1 unreadable. */
int cg_tls_cert_from_ca(const struct cg_tls_ca *ca, const char *pem);

#endif
