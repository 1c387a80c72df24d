/*
 * boot_park.c - cassandgo stop on a node: drain Cassandra (nodetool drain:
 * every memtable flushed, no more writes taken, commit log done with), then
 * stop it cleanly (cgnode stop). A drain that fails stops the stop: the
 * node is not powered off undrained (planner/park.c makes the machine wait
 * for every node's drain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

int boot_park_service(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		      struct cg_resource *res, struct cg_err *err)
{
	struct node n;
	if (boot_node_for(p, ctx, d, false, &n, err))
		return cg_error_wrap(err, "%s: cannot drain it", d->addr);
	char *st = NULL, *hash = NULL;
	int rc = boot_cgnode(&n, 30000, &st, err, "status");
	if (rc == 0 && boot_status_is(st, "running", "1")) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "draining");
		int tmo = boot_env_secs("CASSANDGO_DRAIN_TIMEOUT", 900);
		rc = boot_cgnode(&n, tmo * 1000, NULL, err, "nodetool", "drain");
		if (rc)
			cg_error_wrap(err, "%s: nodetool drain failed, Cassandra left running (stop "
				      "it with `cassandgo chaos %s stop %s.n%d`, then stop again)",
				      d->addr, p->c->name, d->dc, d->node);
		if (rc == 0) {
			if (ctx->progress)
				ctx->progress(ctx, d->addr, "drained; stopping Cassandra");
			rc = boot_cgnode(&n, 180000, NULL, err, "stop");
		}
	}
	if (rc == 0) {
		hash = cg_boot_status_get(st, "config_hash");
		cg_res_copy(res, d);
		cg_res_set_id(res, n.m.id ? n.m.id : n.m.addr);
		cg_res_set(res, "running", "false", 0);
		if (hash && *hash)
			cg_res_set(res, "config_hash", hash, 0);
	}
	free(hash);
	free(st);
	boot_node_clear(&n);
	return rc;
}
