/*
 * boot_schema.c - the bootstrap provider's keyspace steps (the keyspace
 * resource): a keyspace declared in the config is created with
 * NetworkTopologyStrategy, its replication and durable_writes converged, and
 * a full repair runs in every DC whose RF went up, one node at a time.
 * Refresh reads system_schema.keyspaces. Nothing here drops a keyspace.
 *
 * CQL goes through the node's client (boot_node_cql: credentials and
 * statements on stdin) as the superuser when the node requires passwords,
 * as nobody when security is off; repairs through cgnode's nodetool.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "boot.h"

/* The keyspace's name (after "keyspace."), when it can go into CQL as it
 * is: what the config accepts, checked again because the address may come
 * from the state. NULL otherwise. */
static const char *ks_name(const struct cg_resource *r)
{
	static const char prefix[] = "keyspace.";
	if (strncmp(r->addr, prefix, sizeof(prefix) - 1))
		return NULL;
	const char *s = r->addr + sizeof(prefix) - 1;
	size_t n = strlen(s);
	if (!n || n > 48 || !islower((unsigned char)s[0]) || !strncmp(s, "system", 6))
		return NULL;
	for (const char *q = s; *q; q++)
		if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '_')
			return NULL;
	return s;
}

/* Credentials for CQL on a node: the superuser's when it requires
 * passwords (*pw allocated, caller cleanses and frees), else none. */
int boot_cql_login(struct cg_provider *p, bool auth, char **pw, struct cg_err *err)
{
	*pw = NULL;
	if (!auth)
		return 0;
	char *path = cg_tls_password_path(boot_cluster_dir(p));
	int rc = cg_tls_password_load(path, false, pw, err);
	if (rc == 1)
		rc = boot_password_missing(path, err);
	free(path);
	return rc;
}

void boot_cleanse_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

#define KS_SELECT "SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces"

void boot_map_rf(const struct cg_cluster *c, const char *map, struct cg_buf *b)
{
	/* entries start after '{' or ", ": the config's DCs in its order */
	for (int d = 0; d < c->ndcs; d++) {
		char *key = cg_xasprintf("%s=", c->dcs[d].name);
		for (const char *q = strstr(map, key); q; q = strstr(q + 1, key))
			if (q > map && (q[-1] == '{' || q[-1] == ' ')) {
				cg_buf_addf(b, "%s%s:%d", b->len ? "," : "", c->dcs[d].name,
					    atoi(q + strlen(key)));
				break;
			}
		free(key);
	}
	/* then DCs the config does not know (a DC being removed) */
	const char *q = strchr(map, '{');
	for (q = q ? q + 1 : NULL; q && *q && *q != '}';) {
		size_t el = strcspn(q, ",}");
		const char *eq = memchr(q, '=', el);
		size_t kl = eq ? (size_t)(eq - q) : 0;
		bool known = false;
		for (int d = 0; eq && d < c->ndcs; d++)
			known |= strlen(c->dcs[d].name) == kl && !strncmp(c->dcs[d].name, q, kl);
		if (eq && !known && strncmp(q, "class", kl))
			cg_buf_addf(b, "%s%.*s:%d", b->len ? "," : "", (int)kl, q, atoi(eq + 1));
		q += el;
		while (*q == ',' || *q == ' ')
			q++;
	}
}

int boot_keyspaces_in_dc(struct cg_provider *p, struct node *n, bool auth, const char *dc,
			 char **names, struct cg_err *err)
{
	char *pw = NULL, *rows = NULL;
	*names = NULL;
	int rc = boot_cql_login(p, auth, &pw, err);
	if (rc == 0)
		rc = boot_node_cql(n, auth ? CG_SUPERUSER : NULL, pw, KS_SELECT, &rows, err);
	boot_cleanse_free(pw);
	struct cg_buf out = {0};
	char *key = cg_xasprintf("%s:", dc);
	for (const char *l = rc == 0 ? rows : NULL; l && *l;) {
		size_t len = strcspn(l, "\n");
		if (len == 2 && !strncmp(l, "--", 2))
			break;
		char *line = cg_xstrndup(l, len);
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (t2 && strstr(t2, "NetworkTopologyStrategy")) {
			*t1 = '\0';
			struct cg_buf b = {0};
			boot_map_rf(p->c, t2 + 1, &b);
			for (const char *e = b.data; e && *e; e += strcspn(e, ","), e += *e == ',')
				if (!strncmp(e, key, strlen(key)) && atoi(e + strlen(key)) > 0 &&
				    strcmp(line, "system_auth")) {
					cg_buf_addf(&out, "%s%s", out.len ? ", " : "", line);
					break;
				}
			cg_buf_free(&b);
		}
		free(line);
		l += len + (l[len] == '\n');
	}
	free(key);
	free(rows);
	*names = out.data ? cg_buf_detach(&out) : NULL;
	return rc;
}

/*
 * The keyspace's row of `SELECT keyspace_name, durable_writes, replication
 * FROM system_schema.keyspaces` (rows up to "--"): its replication as
 * "DC1:3,DC2:2" (the config's DC order first, then others as listed; a
 * strategy other than NetworkTopologyStrategy: its class alone) into *rf,
 * and durable_writes into *dw. 0 when found, -1 when not.
 */
static int ks_row(const struct cg_cluster *c, const char *rows, const char *name, char **rf,
		  char **dw)
{
	size_t nl = strlen(name);
	for (const char *l = rows; l && *l;) {
		size_t len = strcspn(l, "\n");
		if (len == 2 && !strncmp(l, "--", 2))
			break;
		if (len > nl && !strncmp(l, name, nl) && l[nl] == '\t') {
			char *line = cg_xstrndup(l + nl + 1, len - nl - 1);
			char *tab = strchr(line, '\t');
			if (!tab) {
				free(line);
				return -1;
			}
			*tab = '\0';
			*dw = cg_xstrdup(line);
			/* {class=org.apache.cassandra.locator.NetworkTopologyStrategy, DC1=3} */
			char *map = tab + 1;
			struct cg_buf b = {0};
			if (!strstr(map, "NetworkTopologyStrategy")) {
				const char *cls = strstr(map, "class=");
				size_t cl = cls ? strcspn(cls + 6, ",}") : 0;
				const char *dot = cls ? memrchr(cls + 6, '.', cl) : NULL;
				cg_buf_addf(&b, "%.*s", (int)(dot ? cl - (size_t)(dot + 1 - (cls + 6)) : cl),
					    dot ? dot + 1 : cls ? cls + 6 : "unknown");
			} else {
				boot_map_rf(c, map, &b);
			}
			free(line);
			*rf = b.data ? cg_buf_detach(&b) : cg_xstrdup("");
			return 0;
		}
		l += len + (l[len] == '\n');
	}
	return -1;
}


/* The user keyspaces of `rows` neither recorded nor declared, as
 * "ks1,ks2" (NULL: none). */
static char *undeclared_of(const struct cg_cluster *c, const struct cg_rset *known,
			   const char *rows)
{
	struct cg_buf b = {0};
	for (const char *l = rows; l && *l;) {
		size_t len = strcspn(l, "\n"), nl = strcspn(l, "\t\n");
		if (len == 2 && !strncmp(l, "--", 2))
			break;
		char *name = cg_xstrndup(l, nl);
		char *addr = cg_xasprintf("keyspace.%s", name);
		bool ours = cg_rset_find(known, addr) != NULL;
		for (int k = 0; k < c->nkeyspaces; k++)
			ours |= !strcmp(c->keyspaces[k].name, name);
		/* Cassandra's own (system*) are its business; a name with
		 * characters of a list would not read back */
		if (!ours && strncmp(name, "system", 6) && !strpbrk(name, ", "))
			cg_buf_addf(&b, "%s%s", b.len ? "," : "", name);
		free(addr);
		free(name);
		l += len + (l[len] == '\n');
	}
	return b.data ? cg_buf_detach(&b) : NULL;
}

/* --- system_keyspaces ------------------------------------------------------ */

/* Each keyspace of the comma list ks: fn(name, ctx); stops at the first
 * that returns nonzero, which is returned. Only names Cassandra's own
 * replicated keyspaces have. */
static int each_system(const char *ks, int (*fn)(const char *, void *), void *ctx)
{
	static const char *const allowed[] = { "system_auth", "system_distributed", "system_traces" };
	for (const char *q = ks; q && *q;) {
		size_t l = strcspn(q, ",");
		for (size_t a = 0; a < sizeof(allowed) / sizeof(*allowed); a++)
			if (strlen(allowed[a]) == l && !strncmp(allowed[a], q, l)) {
				int rc = fn(allowed[a], ctx);
				if (rc)
					return rc;
			}
		q += l;
		q += *q == ',';
	}
	return 0;
}

struct sys_read {
	const struct cg_cluster *c;
	const char *rows;
	char *rf;		/* the replication they share, "mixed", or NULL */
};

static int sys_read_one(const char *name, void *ctx)
{
	struct sys_read *s = ctx;
	char *rf = NULL, *dw = NULL;
	if (ks_row(s->c, s->rows, name, &rf, &dw) < 0)
		rf = cg_xstrdup("absent");
	free(dw);
	if (!s->rf) {
		s->rf = rf;
	} else if (strcmp(s->rf, rf)) {
		free(s->rf);
		free(rf);
		s->rf = cg_xstrdup("mixed");
		return 1;
	} else {
		free(rf);
	}
	return 0;
}

/* The live system_keyspaces: the replication the keyspaces it keeps share
 * ("mixed" when they differ, which an ALTER of each settles). */
static void system_of(const struct cg_cluster *c, const char *rows,
		      const struct cg_resource *rec, struct cg_rset *live)
{
	const char *ks = rec && cg_res_get(rec, "keyspaces") ? cg_res_get(rec, "keyspaces")
							      : CG_SYSTEM_KEYSPACES;
	struct sys_read s = {.c = c, .rows = rows};
	each_system(ks, sys_read_one, &s);
	if (!s.rf)
		return;
	struct cg_resource *r = cg_rset_new(live, CG_KIND_SYSTEM, "system_keyspaces");
	cg_res_set(r, "replication", s.rf, 0);
	cg_res_set(r, "keyspaces", ks, 0);
	free(s.rf);
}

struct sys_alter {
	struct cg_buf cql;
	const char *map;
};

static int sys_alter_one(const char *name, void *ctx)
{
	struct sys_alter *a = ctx;
	cg_buf_addf(&a->cql, "ALTER KEYSPACE %s WITH replication = %s\n", name, a->map);
	return 0;
}

int boot_apply_system(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		      struct cg_resource *res, struct cg_err *err)
{
	const char *rf = cg_res_get(d, "replication"), *ks = cg_res_get(d, "keyspaces");
	struct sys_alter a = {.map = rf ? boot_replication_cql(rf) : NULL};
	if (!a.map || !ks || each_system(ks, sys_alter_one, &a) || !a.cql.len) {
		free((char *)a.map);
		cg_buf_free(&a.cql);
		return cg_error(err, CG_EXIT_ERROR, "%s: not a replication cassandgo can put in CQL",
				d->addr);
	}
	struct node n;
	memset(&n, 0, sizeof(n));
	bool auth = false;
	char *pw = NULL, *rows = NULL;
	int rc = boot_any_node(p, ctx, NULL, &auth, &n, err);
	if (rc == 0 && (rc = boot_cql_login(p, auth, &pw, err)) == 0) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "%s: replication %s", ks, rf);
		cg_buf_adds(&a.cql, KS_SELECT);
		rc = boot_node_cql(&n, auth ? CG_SUPERUSER : NULL, pw, a.cql.data, &rows, err);
	}
	if (rc == 0) {
		struct sys_read s = {.c = p->c, .rows = rows};
		each_system(ks, sys_read_one, &s);
		if (!s.rf || strcmp(s.rf, rf))
			rc = cg_error(err, CG_EXIT_ERROR, "%s: the cluster shows replication %s after "
				      "the change; expected %s", d->addr, s.rf ? s.rf : "(none)", rf);
		free(s.rf);
	}
	boot_node_clear(&n);
	if (rc == 0)
		cg_res_copy(res, d);
	boot_cleanse_free(pw);
	free(rows);
	free((char *)a.map);
	cg_buf_free(&a.cql);
	return rc;
}

int boot_keyspaces_of(struct cg_provider *p, struct node *n, bool auth,
		      const struct cg_rset *known, struct cg_rset *live, char **undeclared)
{
	const struct cg_cluster *c = p->c;
	char *rows = NULL, *pw = NULL;
	struct cg_err e = {0};
	int q = boot_cql_login(p, auth, &pw, &e);
	if (q == 0)
		q = boot_node_cql(n, auth ? CG_SUPERUSER : NULL, pw, KS_SELECT, &rows, &e);
	boot_cleanse_free(pw);
	if (q != 0)
		return -1;
	if (undeclared)
		*undeclared = undeclared_of(c, known, rows);
	system_of(c, rows, cg_rset_find(known, "system_keyspaces"), live);
	/* those recorded, then those declared (not recorded) */
	for (int round = 0; round < 2; round++) {
		int count = round == 0 ? known->n : c->nkeyspaces;
		for (int i = 0; i < count; i++) {
			char *addr = round == 0 ? NULL : cg_xasprintf("keyspace.%s", c->keyspaces[i].name);
			const struct cg_resource *rec = round == 0 ? &known->v[i] : cg_rset_find(known, addr);
			if ((round == 0 && rec->kind != CG_KIND_KEYSPACE) || (round == 1 && rec)) {
				free(addr);
				continue;
			}
			const char *name = round == 0 ? rec->addr + strlen("keyspace.") : c->keyspaces[i].name;
			char *rf = NULL, *dw = NULL;
			if (ks_row(c, rows, name, &rf, &dw) == 0) {
				char *a = cg_xasprintf("keyspace.%s", name);
				struct cg_resource *r = cg_rset_new(live, CG_KIND_KEYSPACE, a);
				free(a);
				cg_res_set_id(r, name);
				cg_res_set(r, "replication", rf, 0);
				cg_res_set(r, "durable_writes", dw, 0);
				/* An RF above the recorded one: an apply raised it and was
				 * stopped before its repair finished (or it was raised
				 * behind cassandgo's back): the repair is still owed. */
				const char *was = rec ? cg_res_get(rec, "replication") : NULL;
				struct cg_buf owed = {0};
				for (const char *q = rf; was && *q;) {
					size_t dl = strcspn(q, ":,");
					if (q[dl] == ':' && atoi(q + dl + 1) > cg_model_rf_of(was, q, dl))
						cg_buf_addf(&owed, "%s%.*s", owed.len ? "," : "", (int)dl, q);
					q += strcspn(q, ",");
					q += *q == ',';
				}
				if (owed.len)
					cg_res_setf(r, "repair", 0, "%s%s", CG_KEYSPACE_PENDING, owed.data);
				else
					cg_res_set(r, "repair", CG_KEYSPACE_REPAIRED, 0);
				cg_buf_free(&owed);
			}
			free(rf);
			free(dw);
			free(addr);
		}
	}
	free(rows);
	return 0;
}

/*
 * `nodetool repair -full name` on each configured node of DC dc, one at a
 * time: the new replicas there get every row the others hold.
 */
int boot_repair_dc(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		   const char *name, const char *dc, size_t dl, struct cg_err *err)
{
	struct cg_rset ms;
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	int total = 0, done = 0, rc = 0;
	for (int i = 0; i < ms.n; i++)
		total += ms.v[i].dc && strlen(ms.v[i].dc) == dl && !strncmp(ms.v[i].dc, dc, dl);
	int timeout = boot_env_secs("CASSANDGO_REPAIR_TIMEOUT", 3600) * 1000;
	for (int k = 1; rc == 0 && done < total; k++) {	/* node order: n1, n2, ... */
		for (int i = 0; rc == 0 && i < ms.n; i++) {
			const struct cg_resource *m = &ms.v[i];
			if (m->node != k || !m->dc || strlen(m->dc) != dl || strncmp(m->dc, dc, dl))
				continue;
			struct node n;
			int64_t t0 = cg_now_ms();
			done++;
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "full repair of %s on %s n%d (%d of %d in %.*s)",
					      name, m->dc, m->node, done, total, (int)dl, dc);
			rc = boot_node_of_machine(p, ctx, m, 30000, &n, err);
			if (rc == 0)
				rc = boot_cgnode(&n, timeout, NULL, err, "nodetool", "repair", "-full", name);
			boot_node_clear(&n);
			if (rc == 0 && ctx->progress)
				ctx->progress(ctx, d->addr, "repaired %s on %s n%d in %.1fs", name, m->dc,
					      m->node, (double)(cg_now_ms() - t0) / 1000.0);
			else if (rc)
				cg_error_wrap(err, "full repair of %s on %s n%d", name, m->dc, m->node);
		}
	}
	cg_rset_free(&ms);
	return rc;
}

int boot_apply_keyspace(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err)
{
	const char *name = ks_name(d), *rf = cg_res_get(d, "replication");
	const char *dw = cg_res_get(d, "durable_writes");
	char *map = rf ? boot_replication_cql(rf) : NULL;
	if (!name || !map || !dw || (strcmp(dw, "true") && strcmp(dw, "false"))) {
		free(map);
		return cg_error(err, CG_EXIT_ERROR, "%s: not a keyspace cassandgo can put in CQL "
				"(name, replication or durable_writes)", d->addr);
	}
	struct node n;
	memset(&n, 0, sizeof(n));
	bool auth = false;
	char *pw = NULL, *rows = NULL, *before = NULL, *was_dw = NULL, *after = NULL, *now_dw = NULL;
	int rc = boot_any_node(p, ctx, NULL, &auth, &n, err);
	if (rc == 0)
		rc = boot_cql_login(p, auth, &pw, err);
	const char *user = auth ? CG_SUPERUSER : NULL;
	/* what the cluster holds before: a keyspace that exists (made behind
	 * cassandgo's back, or by a run that was stopped) counts as it is */
	if (rc == 0 && (rc = boot_node_cql(&n, user, pw, KS_SELECT, &rows, err)) == 0)
		ks_row(p->c, rows, name, &before, &was_dw);
	free(rows);
	rows = NULL;
	if (rc == 0) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "%s keyspace %s: replication %s", before ? "altering"
				      : "creating", name, rf);
		char *stmts = cg_xasprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s "
					   "AND durable_writes = %s\nALTER KEYSPACE %s WITH "
					   "replication = %s AND durable_writes = %s\n" KS_SELECT,
					   name, map, dw, name, map, dw);
		rc = boot_node_cql(&n, user, pw, stmts, &rows, err);
		free(stmts);
	}
	if (rc == 0 && (ks_row(p->c, rows, name, &after, &now_dw) || strcmp(after, rf) ||
			strcmp(now_dw, dw)))
		rc = cg_error(err, CG_EXIT_ERROR, "%s: the cluster shows replication %s, durable_writes "
			      "%s after the change; expected %s, %s", d->addr, after ? after : "(none)",
			      now_dw ? now_dw : "(none)", rf, dw);
	boot_node_clear(&n);
	/* a full repair where replicas were added: an RF above what the
	 * keyspace had (before this run, or as recorded), or one a stopped
	 * run still owed */
	const char *crf = cur ? cg_res_get(cur, "replication") : NULL;
	const char *rep = cur ? cg_res_get(cur, "repair") : NULL;
	size_t pl = strlen(CG_KEYSPACE_PENDING);
	const char *pending = rep && !strncmp(rep, CG_KEYSPACE_PENDING, pl) ? rep + pl : NULL;
	for (const char *q = rf; rc == 0 && (before || cur) && *q;) {
		size_t dl = strcspn(q, ":,");
		int want = atoi(q + dl + 1);
		bool raised = (before && want > cg_model_rf_of(before, q, dl)) ||
			      (crf && want > cg_model_rf_of(crf, q, dl)) || cg_model_dc_listed(pending, q, dl);
		/* a DC being added: its nodes are rebuilt after this step */
		if (cg_model_dc_listed(cg_res_get(d, "rebuilt_dcs"), q, dl) &&
		    !(before && cg_model_rf_of(before, q, dl)) && !(crf && cg_model_rf_of(crf, q, dl)))
			raised = false;
		if (q[dl] == ':' && raised)
			rc = boot_repair_dc(p, ctx, d, name, q, dl, err);
		q += strcspn(q, ",");
		q += *q == ',';
	}
	if (rc == 0) {
		cg_res_copy(res, d);
		cg_res_set_id(res, name);
		cg_res_set(res, "repair", CG_KEYSPACE_REPAIRED, 0);
	}
	boot_cleanse_free(pw);
	free(rows);
	free(before);
	free(was_dw);
	free(after);
	free(now_dw);
	free(map);
	return rc;
}
