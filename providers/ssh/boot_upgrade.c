/*
 * boot_upgrade.c - a node's rolling upgrade, the node's half: drain and
 * stop before its install takes the new release (install step), wait
 * until it is UN, serves CQL and agrees on the schema after its start
 * (service step), nodetool upgradesstables after the last node when the
 * on-disk format changed (ring step). The order (one node at a time, DC by
 * DC) is the plan's (planner/plan.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"

int boot_upgrade_stop(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		      const struct cg_resource *d, const char *from, struct cg_err *err)
{
	(void)p;
	char *st = NULL;
	int rc = boot_cgnode(n, 30000, &st, err, "status");
	if (rc == 0 && boot_status_is(st, "running", "1")) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "upgrade %s -> %s: nodetool drain", from,
				      cg_res_get(d, "version"));
		int tmo = boot_env_secs("CASSANDGO_DRAIN_TIMEOUT", 900);
		rc = boot_cgnode(n, tmo * 1000, NULL, err, "nodetool", "drain");
		if (rc)
			cg_error_wrap(err, "%s: nodetool drain failed: the node still runs %s, "
				      "nothing was installed", d->addr, from);
		if (rc == 0) {
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "drained; stopping Cassandra %s", from);
			rc = boot_cgnode(n, 180000, NULL, err, "stop");
		}
	}
	free(st);
	return rc;
}

int boot_upgrade_settle(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
			const char *addr, struct cg_err *err)
{
	int secs = boot_env_secs("CASSANDGO_RING_TIMEOUT", 300);
	if (boot_wait_ring(p, n, ctx, addr, secs, err))
		return -1;
	int64_t deadline = cg_now_ms() + (int64_t)secs * 1000;
	char last[512] = "";
	for (;;) {
		char *out = NULL;
		struct cg_err e = {0};
		int unreachable = 0, v = -1;
		if (boot_cgnode(n, 90000, &out, &e, "nodetool", "describecluster") == 0) {
			v = cg_nodetool_schema_parse(out, &unreachable);
			if (v == 1 && !unreachable) {
				free(out);
				return boot_wait_seen_up(p, ctx, n, addr, secs, err);
			}
			if (v < 0)
				snprintf(last, sizeof(last), "no schema versions in nodetool describecluster");
			else
				snprintf(last, sizeof(last), "%d schema versions, %d nodes unreachable", v,
					 unreachable);
		} else {
			snprintf(last, sizeof(last), "%.500s", e.msg);
		}
		free(out);
		if (cg_now_ms() >= deadline)
			break;
		if (ctx->progress)
			ctx->progress(ctx, addr, "waiting for schema agreement (%s)", last);
		sleep(2);
	}
	return cg_error(err, CG_EXIT_ERROR, "%s: the schema does not agree after %d s: %s", addr,
			secs, last);
}

/* "5.0.9" and "5.0.8" are of one series (same major.minor: same format). */
static bool same_series(const char *a, const char *b)
{
	const char *da = strchr(a, '.'), *db = strchr(b, '.');
	da = da ? strchr(da + 1, '.') : NULL;
	db = db ? strchr(db + 1, '.') : NULL;
	return da && db && da - a == db - b && !strncmp(a, b, (size_t)(da - a));
}

int boot_upgrade_sstables(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *d, const struct cg_resource *cur,
			  struct cg_err *err)
{
	const char *from = cur ? cg_res_get(cur, "release") : NULL, *to = cg_res_get(d, "release");
	if (!from || !to || same_series(from, to))
		return 0;
	struct cg_rset ms;
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	int rc = 0;
	/* config order, one node at a time: it rewrites every SSTable */
	for (int di = 0; rc == 0 && di < p->c->ndcs; di++)
		for (int i = 1; rc == 0 && i <= p->c->dcs[di].nodes; i++) {
			char *a = cg_addr_node(CG_KIND_MACHINE, p->c->dcs[di].name, i);
			const struct cg_resource *m = cg_rset_find(&ms, a);
			free(a);
			if (!m)
				continue;
			struct node n;
			if ((rc = boot_node_of_machine(p, ctx, m, 10000, &n, err)))
				break;
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "nodetool upgradesstables on %s n%d (%s -> %s)",
					      p->c->dcs[di].name, i, from, to);
			int64_t t0 = cg_now_ms();
			rc = boot_cgnode(&n, boot_env_secs("CASSANDGO_UPGRADESSTABLES_TIMEOUT", 3600) * 1000,
					 NULL, err, "nodetool", "upgradesstables");
			if (rc)
				cg_error_wrap(err, "%s n%d: nodetool upgradesstables", p->c->dcs[di].name, i);
			else if (ctx->progress)
				ctx->progress(ctx, d->addr, "upgradesstables done on %s n%d in %.1fs",
					      p->c->dcs[di].name, i, (double)(cg_now_ms() - t0) / 1000.0);
			boot_node_clear(&n);
		}
	cg_rset_free(&ms);
	return rc;
}
