/*
 * boot_sec.c - the bootstrap provider's security steps: the cluster's CA,
 * node certificates, CQL run as the tool, and the auth resource
 * (system_auth replication, the superuser, no default role).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include <openssl/crypto.h>

#include "boot.h"

/* --- security: the CA, node certificates, CQL as the tool ------------------- */

/* The addresses a node's certificate names: every one it listens,
 * broadcasts or connects from (private, and public when it has one). */
static int machine_sans(const struct cg_resource *m, const char *ips[2])
{
	int n = 0;
	const char *pr = cg_res_get(m, "private_ip"), *pu = cg_res_get(m, "public_ip");
	if (pr && *pr)
		ips[n++] = pr;
	if (pu && *pu && (!pr || strcmp(pu, pr)))
		ips[n++] = pu;
	return n;
}

/* conf/tls/.id of a node holding the right certificate: the CA's
 * fingerprint and the addresses it certifies. */
char *boot_tls_id(const struct cg_tls_ca *ca, const struct cg_resource *m)
{
	const char *ips[2];
	int n = machine_sans(m, ips);
	return cg_xasprintf("%s:%s%s%s", cg_tls_ca_fingerprint(ca), n > 0 ? ips[0] : "",
			    n > 1 ? "," : "", n > 1 ? ips[1] : "");
}

const char *boot_cluster_dir(const struct cg_provider *p)
{
	return p->env && p->env->cluster_dir ? p->env->cluster_dir : ".";
}

/* The errors for security material a cluster set up before cannot do
 * without (refresh and apply say the same). */
int boot_password_missing(const char *path, struct cg_err *err)
{
	return cg_error(err, CG_EXIT_ERROR, "the superuser's password file %s is missing: "
			"restore it from a backup (the cluster accepts no other password)", path);
}

int boot_password_ready(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err)
{
	struct cg_resource au;
	memset(&au, 0, sizeof(au));
	bool recorded = ctx && ctx->lookup(ctx, "auth", &au) == 0;
	cg_res_clear(&au);
	char *path = cg_tls_password_path(boot_cluster_dir(p)), *pw = NULL;
	pthread_mutex_lock(&p->mu);	/* every node's config step may ask at once */
	bool had = access(path, F_OK) == 0;
	int rc = cg_tls_password_load(path, !recorded, &pw, err);
	if (rc == 0 && !had)
		p->pw_made = true;
	pthread_mutex_unlock(&p->mu);
	if (rc == 1)
		rc = boot_password_missing(path, err);
	if (pw)
		OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	free(path);
	return rc;
}

int boot_tools(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
	       const struct cg_resource *d, bool secure, struct cg_err *err)
{
	const char *user = p->c->ssh_user && *p->c->ssh_user ? p->c->ssh_user : "cassandgo";
	char *in = NULL, *pw = NULL;
	if (secure) {
		char *path = cg_tls_password_path(boot_cluster_dir(p));
		int r = cg_tls_password_load(path, false, &pw, err);
		if (r == 1)
			r = boot_password_missing(path, err);
		free(path);
		if (r)
			return -1;
		in = cg_xasprintf("%s\n%s\n", CG_SUPERUSER, pw);
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	if (ctx && ctx->progress)
		ctx->progress(ctx, d->addr, "nodetool and cqlsh for %s%s", user,
			      secure ? " (credentials in its login/)" : "");
	/* A cloud machine's home is its own: its rc files put bin/ on PATH. The
	 * local provider's nodes share the host's homes: its sshd does it. */
	bool profile = p->c->provider != CG_PROVIDER_LOCAL;
	int rc = boot_cgnode_in(n, 60000, in ? in : "", in ? strlen(in) : 0, NULL, err, "tools",
				user, profile ? "--profile" : NULL, (char *)NULL);
	if (in) {
		OPENSSL_cleanse(in, strlen(in));
		free(in);
	}
	return rc;
}

/*
 * The cluster's CA, loaded once. An apply (ctx) makes it when it does not
 * exist yet, unless nodes already hold certificates it issued: a new CA
 * would split the cluster, so its files must be restored instead. Without
 * ctx (refresh) a missing CA is no error: p->ca stays NULL.
 */
int boot_cluster_ca(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err)
{
	const char *dir = boot_cluster_dir(p);
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	if (!p->ca) {
		bool issued = false;
		if (ctx) {
			struct cg_rset cf;
			cg_rset_init(&cf);
			ctx->list(ctx, CG_KIND_CONFIG, &cf);
			for (int i = 0; i < cf.n; i++)
				issued |= cg_res_get(&cf.v[i], "certificate") != NULL;
			cg_rset_free(&cf);
		}
		rc = cg_tls_ca_load(dir, ctx && !issued, p->c->name, &p->ca, NULL, err);
		if (rc == 1 && ctx) {
			rc = boot_ca_missing(p, err);
		} else if (rc == 1) {
			rc = 0;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int boot_ca_missing(const struct cg_provider *p, struct cg_err *err)
{
	char *cp = cg_tls_ca_cert_path(boot_cluster_dir(p)), *kp = cg_tls_ca_key_path(boot_cluster_dir(p));
	int rc = cg_error(err, CG_EXIT_ERROR, "the cluster's CA is missing (%s, %s) while its "
			  "nodes hold certificates it issued: restore both files from a backup "
			  "(a new CA would split the cluster)", cp, kp);
	free(cp);
	free(kp);
	return rc;
}

/*
 * Give the node its key and certificate when conf/tls/.id (read into
 * have) says it holds none from this CA for its addresses: a fresh key
 * (it never leaves the node but through this channel), the CA's
 * certificate beside it, .id last.
 */
int boot_ensure_cert(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		       const struct cg_resource *d, const char *have, struct cg_err *err)
{
	char *want = boot_tls_id(p->ca, &n->m);
	if (have && !strcmp(have, want)) {
		free(want);
		return 0;
	}
	const char *ips[2];
	int nips = machine_sans(&n->m, ips);
	char *cn = cg_xasprintf("%s %s n%d", p->c->name, d->dc ? d->dc : "?", d->node);
	char *key = NULL, *crt = NULL;
	if (ctx->progress)
		ctx->progress(ctx, d->addr, "issuing the node's certificate");
	int rc = cg_tls_issue(p->ca, cn, ips, nips, 3650, &key, &crt, err);
	if (rc == 0) {
		char *dir = cg_xasprintf("%s/conf/tls", n->base);
		struct cg_buf pem = {0};
		cg_buf_adds(&pem, key);
		cg_buf_adds(&pem, crt);
		const char *ca = cg_tls_ca_pem(p->ca);
		char *id = cg_xasprintf("%s\n", want);
		/* .sum lets the node tell whether node.pem is still this one */
		char sum[66];
		cg_sha256_hex(pem.data, pem.len, sum);
		sum[64] = '\n';
		sum[65] = '\0';
		const struct boot_file f[] = {
			{ "node.pem", pem.data, pem.len, 0600 },
			{ "ca.crt", ca, strlen(ca), 0644 },
			{ ".sum", sum, 65, 0644 },
			{ ".id", id, strlen(id), 0644 },
		};
		rc = boot_put_files(n, dir, f, 4, 30000, err);
		OPENSSL_cleanse(pem.data, pem.len);
		OPENSSL_cleanse(key, strlen(key));
		cg_buf_free(&pem);
		free(id);
		free(dir);
	}
	free(key);
	free(crt);
	free(cn);
	free(want);
	return rc;
}

/* boot_node_cql (boot.h), the first login retried for wait_login_s. */
static int node_cql_wait(struct node *n, const char *user, const char *pass, const char *stmts,
			 int wait_login_s, char **out, struct cg_err *err)
{
	struct cg_buf in = {0};
	cg_buf_addf(&in, "%s\n%s\n%s\n", user ? user : "", pass ? pass : "", stmts);
	char *bin = cg_xasprintf("%s/bin/cgnode", n->base);
	char wait[16];
	snprintf(wait, sizeof(wait), "%d", wait_login_s);
	const char *args[] = { "cql", wait_login_s > 0 ? wait : NULL, NULL };
	char *cmd = cg_boot_cgnode_cmdline(bin, args);
	struct cg_ssh_result r;
	int rc = cg_ssh_exec(n->s, cmd, in.data, in.len, 180000, &r, err);
	OPENSSL_cleanse(in.data, in.len);
	cg_buf_free(&in);
	free(cmd);
	free(bin);
	if (rc)
		return -1;
	if (r.signal || r.status) {
		rc = r.status > 0 ? r.status : 1;
		cg_error(err, CG_EXIT_ERROR, "%s: CQL as %s: %s", n->label, user ? user : "nobody",
			 r.err && *r.err ? cg_ssh_tail(r.err, 2) : "no message");
		/* one line, whatever the client printed */
		for (char *c = err->msg; *c; c++)
			if (*c == '\n')
				*c = ' ';
	} else if (out) {
		*out = r.out;
		r.out = NULL;
	}
	cg_ssh_result_free(&r);
	return rc;
}

int boot_node_cql(struct node *n, const char *user, const char *pass, const char *stmts,
		  char **out, struct cg_err *err)
{
	return node_cql_wait(n, user, pass, stmts, 0, out, err);
}


/* --- auth ------------------------------------------------------------------ */

char *boot_replication_cql(const char *rf)
{
	struct cg_buf b = {0};
	cg_buf_adds(&b, "{'class': 'NetworkTopologyStrategy'");
	for (const char *q = rf; q && *q;) {
		size_t dl = strcspn(q, ":"), nl;
		if (!dl || q[dl] != ':' || strspn(q, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						      "0123456789_.-") != dl)
			goto bad;
		nl = strspn(q + dl + 1, "0123456789");
		if (!nl || (q[dl + 1 + nl] && q[dl + 1 + nl] != ','))
			goto bad;
		cg_buf_addf(&b, ", '%.*s': %.*s", (int)dl, q, (int)nl, q + dl + 1);
		q += dl + 1 + nl;
		q += *q == ',';
	}
	cg_buf_adds(&b, "}");
	return cg_buf_detach(&b);
bad:
	cg_buf_free(&b);
	return NULL;
}

/* `ALTER KEYSPACE system_auth` to the replication rf; NULL when rf is not
 * of the form "DC1:3,DC2:2". Caller frees. */
static char *system_auth_cql(const char *rf)
{
	char *map = boot_replication_cql(rf);
	char *cql = map ? cg_xasprintf("ALTER KEYSPACE system_auth WITH replication = %s", map) : NULL;
	free(map);
	return cql;
}

/* Does the rows output of `SELECT role ...` (up to its `--`) list role? */
static bool lists_role(const char *rows, const char *role)
{
	size_t rl = strlen(role);
	for (const char *l = rows; l && *l;) {
		size_t len = strcspn(l, "\n");
		if (len == 2 && !strncmp(l, "--", 2))
			return false;
		if (len == rl && !strncmp(l, role, rl))
			return true;
		l += len + (l[len] == '\n');
	}
	return false;
}

int boot_any_node(struct cg_provider *p, struct cg_ctx *ctx, const char *dc, bool *auth,
		  struct node *n, struct cg_err *err)
{
	struct cg_rset ms;
	char last[512] = "no machine recorded";
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	for (int i = 0; i < ms.n; i++) {
		struct cg_err e = {0};
		char *st = NULL;
		if (dc && (!ms.v[i].dc || strcmp(ms.v[i].dc, dc)))
			continue;
		if (boot_node_of_machine(p, ctx, &ms.v[i], 10000, n, &e) == 0) {
			if (boot_cgnode(n, 30000, &st, &e, "status") == 0 && boot_status_is(st, "running", "1") &&
			    (auth ? (*auth = boot_status_requires_auth(st), true)
				  : boot_status_requires_auth(st))) {
				free(st);
				cg_rset_free(&ms);
				return 0;
			}
			free(st);
			boot_node_clear(n);
		}
		snprintf(last, sizeof(last), "%s: %.450s", ms.v[i].addr,
			 e.msg[0] ? e.msg : auth ? "Cassandra is not running"
						: "Cassandra is not running with passwords required");
	}
	cg_rset_free(&ms);
	return cg_error(err, CG_EXIT_ERROR, "no node of %s runs Cassandra (%s)",
			dc ? dc : "the cluster", last);
}

/*
 * The cluster's authentication, once every node is up (FACTS.md: the
 * default role's row moves while nodes join, so not before): system_auth in
 * every DC, the superuser (password from the 0600 file beside the state,
 * made here the first time), then no `cassandra` role. Every step is
 * idempotent: a run killed anywhere picks up from what the cluster shows.
 */
int boot_apply_auth(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		      const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err)
{
	char *pwpath = cg_tls_password_path(boot_cluster_dir(p)), *pw = NULL;
	char *alter = system_auth_cql(cg_res_get(d, "system_auth"));
	const char *user = cg_res_get(d, "user");
	struct node n;
	memset(&n, 0, sizeof(n));
	int rc = -1;
	if (!alter || !user || strspn(user, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(user)) {
		cg_error(err, CG_EXIT_ERROR, "auth: bad user or system_auth replication");
		goto out;
	}
	/* A password file from before this step: security turned on again
	 * (the superuser's role stayed in system_auth) or being turned on
	 * (the file was made at the first step, its role not yet). */
	bool had_password = access(pwpath, F_OK) == 0;
	/* A cluster whose superuser exists accepts no new password. */
	rc = cg_tls_password_load(pwpath, cur == NULL, &pw, err);
	if (rc == 1)
		rc = boot_password_missing(pwpath, err);
	if (rc || (rc = boot_any_node(p, ctx, NULL, NULL, &n, err)))
		goto out;
	int64_t deadline = cg_now_ms() + boot_env_secs("CASSANDGO_AUTH_TIMEOUT", 180) * 1000LL;
	/* as the superuser: system_auth in every DC, no default role */
	char *st = cg_xasprintf("%s\nDROP ROLE IF EXISTS cassandra\nSELECT role FROM system_auth.roles",
				alter);
	/* as the default role: the same ALTER, the superuser, then on as it
	 * (one JVM for a new cluster) */
	/* (no ALTER ROLE after it: 5.0 refuses a password change within 5 s) */
	char *boot = cg_xasprintf("%s\nCREATE ROLE IF NOT EXISTS %s WITH SUPERUSER = true AND "
				  "LOGIN = true AND PASSWORD = '%s'\nRECONNECT\n%s\n%s\n%s",
				  alter, user, pw, user, pw, st);
	/* A new cluster has only the default role: try it first (and wait for
	 * it); with a password from before, the superuser may exist already. */
	/* (a password the config steps of this run made counts as new, and
	 * so does one kept from a destroyed cluster when this run started a
	 * new ring: it has no superuser yet) */
	pthread_mutex_lock(&p->mu);
	bool made = p->pw_made || p->ring_made;
	pthread_mutex_unlock(&p->mu);
	bool fresh = cur == NULL && (!had_password || made);
	for (;;) {
		struct cg_err e = {0};
		char *rows = NULL;
		int r = -1;
		for (int k = 0; k < 2; k++) {
			bool as_default = (k == 0) == fresh;
			if (ctx->progress)
				ctx->progress(ctx, d->addr, as_default ? "setting up %s as the default role"
								       : "logging in as %s", user);
			/* the default role of a new cluster may take a moment: one
			 * JVM waits for it (up to 60 s) */
			r = as_default ? node_cql_wait(&n, "cassandra", "cassandra", boot, fresh ? 60 : 0,
						       &rows, &e)
				       : boot_node_cql(&n, user, pw, st, &rows, &e);
			/* done, or an error other than "refused"; but on a cluster
			 * without an auth record, the superuser's row may sit in
			 * another DC (system_auth starts SimpleStrategy RF 1), so
			 * its login cannot be checked here (4): the default role,
			 * read at QUORUM, still can (a password file kept from a
			 * destroyed cluster made this retry until the deadline) */
			if (r != 3 && !(r == 4 && !cur && k == 0))
				break;
		}
		if (r == 0) {
			bool left = lists_role(rows, "cassandra"), have = lists_role(rows, user);
			free(rows);
			if (have && !left) {
				rc = 0;
				break;
			}
			snprintf(e.msg, sizeof(e.msg), "%s", left ? "the default role is still listed"
								  : "the superuser is not listed");
		} else if (r == 3) {
			/* Neither logs in: on a new cluster the default role may not
			 * exist yet (it moves while nodes join): retry until the
			 * deadline. */
			snprintf(e.msg, sizeof(e.msg), "neither %s (password in %s) nor the default role "
				 "can log in: if this cluster was set up before, %s does not hold its "
				 "password: restore it from a backup", user, pwpath, pwpath);
		}
		if (r < 0 || r == 6 || (r == 3 && cur) || cg_now_ms() >= deadline) {
			rc = cg_error(err, CG_EXIT_ERROR, "%s", e.msg);
			break;
		}
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "retrying: %.300s", e.msg);
		sleep(1);
	}
	OPENSSL_cleanse(boot, strlen(boot));
	free(boot);
	free(st);
	/* a raised RF: the new replicas get the roles before the state says
	 * done (a run stopped here repairs again: boot_auth_of) */
	if (rc == 0 && cur) {
		char *up = cg_model_rf_raised(cg_res_get(cur, "system_auth"), cg_res_get(d, "system_auth"));
		for (const char *q = up; rc == 0 && q && *q;) {
			size_t dl = strcspn(q, ",");
			rc = boot_repair_dc(p, ctx, d, "system_auth", q, dl, err);
			q += dl + (q[dl] == ',');
		}
		free(up);
	}
	/* cqlsh as the operator runs it: TLS checked, no password to type */
	if (rc == 0)
		rc = cg_tls_write_cqlshrc(boot_cluster_dir(p), user, pw, err);
	if (rc == 0) {
		cg_res_copy(res, d);
		cg_res_set_id(res, p->c->name);
	}
out:
	boot_node_clear(&n);
	if (pw)
		OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	free(pwpath);
	free(alter);
	return rc;
}

/* live auth from the superuser's view (refresh): nothing when it cannot
 * log in (the plan then sets authentication up). */
int boot_auth_of(struct cg_provider *p, struct node *n, const struct cg_resource *recorded,
		 struct cg_rset *live, struct cg_err *err)
{
	char *pwpath = cg_tls_password_path(boot_cluster_dir(p)), *pw = NULL, *rows = NULL;
	struct cg_err e = {0};
	int rc = 0, q = -1;
	if (cg_tls_password_load(pwpath, false, &pw, &e) == 0)
		q = boot_node_cql(n, CG_SUPERUSER, pw, "SELECT role FROM system_auth.roles\n"
			     "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = "
			     "'system_auth'", &rows, &e);
	/* A cluster set up before that refuses the password: the file is not
	 * the one it was set up with. Stop before anything changes. */
	if (q == 3 && recorded)
		rc = cg_error(err, CG_EXIT_ERROR, "the cluster refuses the superuser's password in %s: "
			      "restore that file from a backup (cassandgo never changes the password "
			      "of a cluster it set up)", pwpath);
	if (q == 0) {
		struct cg_resource *r = cg_rset_new(live, CG_KIND_AUTH, "auth");
		cg_res_set_id(r, p->c->name);
		if (lists_role(rows, CG_SUPERUSER))
			cg_res_set(r, "user", CG_SUPERUSER, 0);
		cg_res_set(r, "default_role", lists_role(rows, "cassandra") ? "present" : "absent", 0);
		/* the replication map: {class=...NetworkTopologyStrategy, DC1=3, ...} */
		const char *map = strstr(rows, "\n--\n");
		struct cg_buf rf = {0};
		/* every DC of it: one the configuration dropped still counts (the
		 * plan takes it off once its nodes are gone) */
		if (map && strstr(map, "NetworkTopologyStrategy"))
			boot_map_rf(p->c, map, &rf);
		/* raised, but no apply said its repair finished: as recorded */
		const char *was = recorded ? cg_res_get(recorded, "system_auth") : NULL;
		char *up = was && rf.data ? cg_model_rf_raised(was, rf.data) : NULL;
		cg_res_set(r, "system_auth", up ? was : rf.data ? rf.data : "SimpleStrategy", 0);
		free(up);
		cg_buf_free(&rf);
	}
	if (pw)
		OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	free(rows);
	free(pwpath);
	return rc;
}
