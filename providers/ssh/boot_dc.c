/*
 * boot_dc.c - a datacenter added to a running ring: each of its nodes
 * rebuilt from an existing DC (rebuild.<dc>.n<i>), then the DC checked
 * (datacenter.<dc>: rows written before read back from it at LOCAL_QUORUM).
 *
 * The nodes of a new DC start empty (auto_bootstrap: false, cassconf.c);
 * the plan runs these steps once every keyspace replicates to the DC
 * (system_keyspaces, auth, the declared keyspaces), so that nodetool
 * rebuild streams all of it.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"

/* A DC name as it may go on a command line (quoted anyway) and in CQL. */
static bool dc_word(const char *s)
{
	return s && *s && strlen(s) < 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

/* Is a rebuild running on n (`nodetool netstats` lists a Rebuild stream)? */
static bool rebuilding(struct node *n)
{
	char *out = NULL;
	struct cg_err e = {0};
	bool yes = boot_cgnode(n, 60000, &out, &e, "nodetool", "netstats") == 0 && out &&
		   strstr(out, "Rebuild") != NULL;
	free(out);
	return yes;
}

/* While a rebuild runs: what the node has received, every 10 s, over a
 * session of its own (libssh2: one session per thread). */
struct watch {
	struct cg_provider *p;
	struct cg_ctx *ctx;
	const struct cg_resource *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void *watch_rebuild(void *arg)
{
	struct watch *w = arg;
	struct node n;
	struct cg_err e = {0};
	bool open = boot_node_for(w->p, w->ctx, w->d, false, &n, &e) == 0;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		if (w->stop || !open)
			continue;
		pthread_mutex_unlock(&w->mu);
		char *out = NULL;
		struct cg_receiving r;
		if (boot_cgnode(&n, 60000, &out, &e, "nodetool", "netstats") == 0 &&
		    cg_nodetool_receiving_parse(out, &r) == 0 && w->ctx->progress)
			w->ctx->progress(w->ctx, w->d->addr, "rebuild of %s n%d: %lld of %lld files, "
					 "%.1f of %.1f MiB received", w->d->dc, w->d->node, r.files_done,
					 r.files, (double)r.bytes_done / 1048576.0,
					 (double)r.bytes / 1048576.0);
		free(out);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	if (open)
		boot_node_clear(&n);
	return NULL;
}

int boot_apply_rebuild(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		       struct cg_resource *res, struct cg_err *err)
{
	const char *from = cg_res_get(d, "from");
	if (!dc_word(from) || !d->dc)
		return cg_error(err, CG_EXIT_ERROR, "%s: no datacenter to rebuild from", d->addr);
	struct node n;
	if (boot_node_for(p, ctx, d, false, &n, err))
		return -1;
	char *st = NULL;
	int rc = boot_cgnode(&n, 30000, &st, err, "status");
	if (rc == 0 && !boot_status_is(st, "running", "1"))
		rc = cg_error(err, CG_EXIT_ERROR, "%s: Cassandra does not run on %s n%d", d->addr,
			      d->dc, d->node);
	free(st);
	int timeout = boot_env_secs("CASSANDGO_REBUILD_TIMEOUT", 3600) * 1000;
	int64_t t0 = cg_now_ms();
	for (int attempt = 0; rc == 0; attempt++) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "rebuilding %s n%d from %s (nodetool rebuild -- %s)",
				      d->dc, d->node, from, from);
		struct cg_err e = {0};
		char *out = NULL;
		struct watch w = {.p = p, .ctx = ctx, .d = d};
		pthread_t th;
		pthread_mutex_init(&w.mu, NULL);
		pthread_cond_init(&w.cv, NULL);
		bool watching = pthread_create(&th, NULL, watch_rebuild, &w) == 0;
		/* all of its output: a refusal lists the ranges */
		int rrc = boot_cgnode_all(&n, timeout, &out, &e, "nodetool", "rebuild", "--", from,
					  (char *)NULL);
		if (watching) {
			pthread_mutex_lock(&w.mu);
			w.stop = true;
			pthread_cond_signal(&w.cv);
			pthread_mutex_unlock(&w.mu);
			pthread_join(th, NULL);
		}
		pthread_cond_destroy(&w.cv);
		pthread_mutex_destroy(&w.mu);
		/* Cassandra refuses a rebuild after one that streamed: done when
		 * that one (left running by a stopped apply) fetched every range */
		int done = rrc ? cg_nodetool_rebuild_done(out) : -1;
		free(out);
		if (rrc == 0)
			break;
		if (done == 1) {
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "an earlier rebuild of %s n%d (a stopped "
					      "apply's) streamed every range already", d->dc, d->node);
			break;
		}
		if (done == 0) {
			rc = cg_error(err, CG_EXIT_ERROR,
				      "%s: an earlier rebuild of %s n%d streamed only part of its ranges "
				      "and Cassandra refuses another (it keeps the progress); restart the "
				      "node with -Dcassandra.reset_bootstrap_progress=true, then apply again",
				      d->addr, d->dc, d->node);
			break;
		}
		/* An apply killed during a rebuild left it running in Cassandra,
		 * which refuses a second one: wait for it, then run it again (the
		 * state records a rebuild only once one finished here). */
		if (attempt == 0 && (strstr(e.msg, "still rebuilding") || rebuilding(&n))) {
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "a rebuild is under way on %s n%d (an apply "
					      "was stopped): waiting for it", d->dc, d->node);
			int64_t until = cg_now_ms() + timeout;
			while (rebuilding(&n) && cg_now_ms() < until)
				sleep(3);
			continue;
		}
		rc = cg_error(err, CG_EXIT_ERROR, "%s: nodetool rebuild -- %s: %s", d->addr, from,
			      e.msg);
	}
	if (rc == 0) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "rebuilt %s n%d from %s in %.1fs", d->dc, d->node,
				      from, (double)(cg_now_ms() - t0) / 1000.0);
		cg_res_copy(res, d);
	}
	boot_node_clear(&n);
	return rc;
}

/* --- the check --------------------------------------------------------------- */

/* A CQL identifier as it goes into a statement: as it is when plain
 * lowercase, else double-quoted; NULL when it cannot go on one line. */
static char *cql_ident(const char *s)
{
	bool plain = islower((unsigned char)s[0]);
	for (const char *q = s; *q; q++) {
		if (iscntrl((unsigned char)*q))
			return NULL;
		plain &= islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_';
	}
	if (plain)
		return cg_xstrdup(s);
	struct cg_buf b = {0};
	cg_buf_adds(&b, "\"");
	for (const char *q = s; *q; q++)
		cg_buf_addf(&b, "%s%c", *q == '"' ? "\"" : "", *q);
	cg_buf_adds(&b, "\"");
	return cg_buf_detach(&b);
}

/* Up to this many rows per table, in token order, are compared. */
#define CHECK_ROWS 1000

struct table {
	char *ks, *name, *select;	/* select: the statement reading tokens */
	char *pk[16];			/* partition key columns by position */
	int npk;
};

/* The tables of keyspaces ks[0..nks) from `SELECT keyspace_name,
 * table_name, column_name, kind, position FROM system_schema.columns`
 * rows; one SELECT token(...) per table. */
static int tables_of(const char *rows, char **ks, int nks, struct table **out)
{
	int n = 0;
	*out = NULL;
	for (const char *l = rows; l && *l;) {
		size_t len = strcspn(l, "\n");
		if (len == 2 && !strncmp(l, "--", 2))
			break;
		char *line = cg_xstrndup(l, len), *f[5];
		int nf = 0;
		for (char *q = line; nf < 5;) {
			f[nf++] = q;
			char *tab = strchr(q, '\t');
			if (!tab)
				break;
			*tab = '\0';
			q = tab + 1;
		}
		bool ours = false;
		for (int k = 0; nf == 5 && k < nks; k++)
			ours |= !strcmp(ks[k], f[0]);
		if (ours && !strcmp(f[3], "partition_key") && atoi(f[4]) >= 0 && atoi(f[4]) < 16) {
			struct table *t = NULL;
			for (int i = 0; i < n && !t; i++)
				if (!strcmp((*out)[i].ks, f[0]) && !strcmp((*out)[i].name, f[1]))
					t = &(*out)[i];
			if (!t) {
				*out = cg_xrealloc(*out, (size_t)(n + 1) * sizeof(**out));
				t = &(*out)[n++];
				memset(t, 0, sizeof(*t));
				t->ks = cg_xstrdup(f[0]);
				t->name = cg_xstrdup(f[1]);
			}
			int pos = atoi(f[4]);
			if (!t->pk[pos]) {
				t->pk[pos] = cg_xstrdup(f[2]);
				t->npk = pos + 1 > t->npk ? pos + 1 : t->npk;
			}
		}
		free(line);
		l += len + (l[len] == '\n');
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct table *t = &(*out)[i];
		struct cg_buf b = {0};
		char *ki = cql_ident(t->ks), *ti = cql_ident(t->name);
		bool ok = ki && ti;
		cg_buf_adds(&b, "SELECT token(");
		for (int c = 0; ok && c < t->npk; c++) {
			char *ci = t->pk[c] ? cql_ident(t->pk[c]) : NULL;
			ok = ci != NULL;
			if (ci)
				cg_buf_addf(&b, "%s%s", c ? ", " : "", ci);
			free(ci);
		}
		cg_buf_addf(&b, ") FROM %s.%s LIMIT %d", ki ? ki : "", ti ? ti : "", CHECK_ROWS);
		free(ki);
		free(ti);
		if (ok && t->npk > 0) {
			t->select = cg_buf_detach(&b);
			(*out)[k++] = *t;
		} else {
			cg_buf_free(&b);
			free(t->ks);
			free(t->name);
			for (int c = 0; c < 16; c++)
				free(t->pk[c]);
		}
	}
	return k;
}

static void tables_free(struct table *t, int n)
{
	for (int i = 0; i < n; i++) {
		free(t[i].ks);
		free(t[i].name);
		free(t[i].select);
		for (int c = 0; c < 16; c++)
			free(t[i].pk[c]);
	}
	free(t);
}

/* The tokens of block k (0-based; blocks end with "--") of rows. */
static int block_tokens(const char *rows, int k, long long **out)
{
	int n = 0;
	*out = NULL;
	const char *l = rows;
	for (int b = 0; l && *l && b < k;) {
		size_t len = strcspn(l, "\n");
		b += len == 2 && !strncmp(l, "--", 2);
		l += len + (l[len] == '\n');
	}
	while (l && *l) {
		size_t len = strcspn(l, "\n");
		if (len == 2 && !strncmp(l, "--", 2))
			break;
		*out = cg_xrealloc(*out, (size_t)(n + 1) * sizeof(**out));
		(*out)[n++] = strtoll(l, NULL, 10);
		l += len + (l[len] == '\n');
	}
	return n;
}

int boot_apply_datacenter(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			  struct cg_resource *res, struct cg_err *err)
{
	const char *dc = strchr(d->addr, '.') ? strchr(d->addr, '.') + 1 : NULL;
	const char *from = cg_res_get(d, "from");
	if (!dc_word(dc) || !dc_word(from))
		return cg_error(err, CG_EXIT_ERROR, "%s: no datacenter to check", d->addr);
	const struct cg_cluster *c = p->c;
	/* the declared keyspaces that replicate to dc */
	char **ks = cg_xcalloc((size_t)c->nkeyspaces + 1, sizeof(char *));
	int nks = 0;
	for (int k = 0; k < c->nkeyspaces; k++) {
		char *rf = cg_model_keyspace_replication(c, &c->keyspaces[k]);
		if (cg_model_rf_of(rf, dc, strlen(dc)) > 0)
			ks[nks++] = c->keyspaces[k].name;
		free(rf);
	}
	struct node src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	bool sauth = false, dauth = false;
	char *spw = NULL, *dpw = NULL, *schema = NULL, *srows = NULL, *drows = NULL;
	struct table *t = NULL;
	int nt = 0, rc = 0, rows = 0, missing = 0;
	struct cg_buf q = {0}, bad = {0};
	if (!nks)
		goto done;
	rc = boot_any_node(p, ctx, from, &sauth, &src, err);
	if (rc == 0)
		rc = boot_any_node(p, ctx, dc, &dauth, &dst, err);
	if (rc == 0)
		rc = boot_cql_login(p, sauth, &spw, err);
	if (rc == 0)
		rc = boot_cql_login(p, dauth, &dpw, err);
	if (rc == 0)
		rc = boot_node_cql(&src, sauth ? CG_SUPERUSER : NULL, spw, "SELECT keyspace_name, "
				   "table_name, column_name, kind, position FROM system_schema.columns",
				   &schema, err);
	if (rc == 0) {
		nt = tables_of(schema, ks, nks, &t);
		cg_buf_adds(&q, "CONSISTENCY LOCAL_QUORUM\n");
		for (int i = 0; i < nt; i++)
			cg_buf_addf(&q, "%s\n", t[i].select);
	}
	if (rc == 0 && nt) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "reading %d table%s at LOCAL_QUORUM through %s, then "
				      "through %s", nt, nt == 1 ? "" : "s", from, dc);
		rc = boot_node_cql(&src, sauth ? CG_SUPERUSER : NULL, spw, q.data, &srows, err);
		if (rc == 0)
			rc = boot_node_cql(&dst, dauth ? CG_SUPERUSER : NULL, dpw, q.data, &drows, err);
	}
	for (int i = 0; rc == 0 && i < nt; i++) {
		long long *a, *b;
		int na = block_tokens(srows, i, &a), nb = block_tokens(drows, i, &b);
		int m = cg_cassconf_tokens_missing(a, na, b, nb, CHECK_ROWS);
		rows += na;
		missing += m;
		if (m)
			cg_buf_addf(&bad, "%s%s.%s: %d of %d rows", bad.len ? ", " : "", t[i].ks,
				    t[i].name, m, na);
		free(a);
		free(b);
	}
	if (rc == 0 && missing)
		rc = cg_error(err, CG_EXIT_ERROR, "%s: rows %s shows do not read back from %s at "
			      "LOCAL_QUORUM (%s); the rebuild may have failed: see nodetool netstats "
			      "on its nodes", d->addr, from, dc, bad.data);
done:
	if (rc == 0) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "%d row%s of %d table%s read back from %s at "
				      "LOCAL_QUORUM (up to %d per table, as %s shows them)", rows,
				      rows == 1 ? "" : "s", nt, nt == 1 ? "" : "s", dc, CHECK_ROWS, from);
		cg_res_copy(res, d);
	}
	boot_node_clear(&src);
	boot_node_clear(&dst);
	boot_cleanse_free(spw);
	boot_cleanse_free(dpw);
	free(schema);
	free(srows);
	free(drows);
	tables_free(t, nt);
	cg_buf_free(&q);
	cg_buf_free(&bad);
	free(ks);
	return rc;
}
