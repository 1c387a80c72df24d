/*
 * boot_monitoring.c - the monitoring resource: node exporters on every node,
 * Prometheus on one, live when every target is up.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "boot.h"

/* --- monitoring ------------------------------------------------------------- */


/* Node exporters on every node, a bounded pool of SSH sessions at once: on
 * a cloud machine the first start installs the package. */
struct xpool {
	struct cg_provider *p;
	struct cg_ctx *ctx;
	const struct cg_resource **m;
	int n, next, failed;
	struct cg_err err;		/* the first failure */
	pthread_mutex_t mu;
};

static void *exporter_worker(void *arg)
{
	struct xpool *x = arg;
	for (;;) {
		pthread_mutex_lock(&x->mu);
		int i = x->next < x->n && !x->failed ? x->next++ : -1;
		pthread_mutex_unlock(&x->mu);
		if (i < 0)
			return NULL;
		struct node nd;
		struct cg_err e = {0};
		if (boot_node_of_machine(x->p, x->ctx, x->m[i], 30000, &nd, &e) == 0) {
			if (boot_cgnode(&nd, 600000, NULL, &e, "exporter-start"))
				cg_error_wrap(&e, "node exporter on %s", x->m[i]->addr);
			boot_node_clear(&nd);
		}
		if (e.msg[0]) {
			pthread_mutex_lock(&x->mu);
			if (!x->failed++)
				x->err = e;
			pthread_mutex_unlock(&x->mu);
		}
	}
}

static int start_exporters(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_rset *ms,
			   struct cg_err *err)
{
	struct xpool x = {.p = p, .ctx = ctx};
	int total = 0;
	for (int di = 0; di < p->c->ndcs; di++)
		total += p->c->dcs[di].nodes;
	x.m = cg_xcalloc((size_t)total + 1, sizeof(*x.m));
	for (int di = 0; di < p->c->ndcs; di++)
		for (int i = 1; i <= p->c->dcs[di].nodes; i++) {
			char *a = cg_addr_node(CG_KIND_MACHINE, p->c->dcs[di].name, i);
			x.m[x.n] = cg_rset_find(ms, a);
			if (!x.m[x.n]) {
				cg_error(err, CG_EXIT_ERROR, "monitoring: %s is not recorded", a);
				free(a);
				free(x.m);
				return -1;
			}
			free(a);
			x.n++;
		}
	pthread_mutex_init(&x.mu, NULL);
	int nth = x.n < 16 ? x.n : 16, started = 0;
	pthread_t th[16];
	for (int i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, exporter_worker, &x) == 0)
			started++;
	if (!started)
		exporter_worker(&x);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&x.mu);
	free(x.m);
	if (x.failed) {
		*err = x.err;
		return -1;
	}
	return 0;
}

/*
 * A node exporter on every node, then Prometheus on node 1 of the monitoring
 * DC with every node as target of both jobs; done when Prometheus says every
 * target is up (CASSANDGO_MONITORING_TIMEOUT seconds, 180). Each node's JMX
 * exporter came with its Cassandra (cgnode.env).
 */
int boot_apply_monitoring(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			    struct cg_resource *res, struct cg_err *err)
{
	int md = cg_monitoring_dc(p->c), rc = -1, n = 0;
	struct cg_rset ms;
	char **t = NULL, *yml = NULL, *host = NULL;
	struct node nd;
	memset(&nd, 0, sizeof(nd));
	cg_rset_init(&ms);
	ctx->list(ctx, CG_KIND_MACHINE, &ms);
	if (md < 0) {
		cg_error(err, CG_EXIT_ERROR, "monitoring: no DC of %s has monitoring", p->c->name);
		goto out;
	}
	n = cg_monitoring_targets(p->c, &ms, &t);
	if (n < 0) {
		cg_error(err, CG_EXIT_ERROR, "monitoring: some node's address is not recorded");
		goto out;
	}
	if (ctx->progress)
		ctx->progress(ctx, d->addr, "node exporters on %d nodes", n);
	if (start_exporters(p, ctx, &ms, err))
		goto out;
	yml = cg_monitoring_prometheus_yml(p->c->name, t, n);
	char hex[17];
	cg_hash_hex(cg_hash64(yml, strlen(yml)), hex);
	host = cg_addr_node(CG_KIND_MACHINE, p->c->dcs[md].name, 1);
	const struct cg_resource *m1 = cg_rset_find(&ms, host);
	if (ctx->progress)
		ctx->progress(ctx, d->addr, "Prometheus on %s n1", p->c->dcs[md].name);
	if (boot_node_of_machine(p, ctx, m1, 30000, &nd, err))
		goto out;
	{
		if (boot_cgnode_in(&nd, 600000, yml, strlen(yml), NULL, err, "monitoring-start", hex,
			      (char *)NULL))
			goto out;
	}
	int secs = boot_env_secs("CASSANDGO_MONITORING_TIMEOUT", 180);
	if (ctx->progress)
		ctx->progress(ctx, d->addr, "waiting for %d targets up", 2 * n);
	char ssecs[16], stargets[16];
	snprintf(ssecs, sizeof(ssecs), "%d", secs);
	snprintf(stargets, sizeof(stargets), "%d", 2 * n);
	if (boot_cgnode(&nd, (secs + 30) * 1000, NULL, err, "monitoring-wait", ssecs, stargets))
		goto out;
	cg_res_copy(res, d);
	cg_res_set_id(res, host);
	cg_res_set(res, "targets", hex, 0);
	rc = 0;
out:
	boot_node_clear(&nd);
	cg_monitoring_targets_free(t, n > 0 ? n : 0);
	free(yml);
	free(host);
	cg_rset_free(&ms);
	return rc;
}

/* Stop Prometheus and the exporters where the machines still answer; a
 * machine that is gone took them with it. */
int boot_delete_monitoring(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err)
{
	(void)err;
	struct cg_rset ms;
	cg_rset_init(&ms);
	ctx->list(ctx, CG_KIND_MACHINE, &ms);
	for (int i = 0; i < ms.n; i++) {
		struct node nd;
		struct cg_err e = {0};
		if (ms.v[i].kind != CG_KIND_MACHINE || !ms.v[i].dc)
			continue;
		if (boot_node_of_machine(p, ctx, &ms.v[i], 10000, &nd, &e) == 0) {
			boot_cgnode(&nd, 60000, NULL, &e, "monitoring-stop");
			boot_cgnode(&nd, 60000, NULL, &e, "exporter-stop");
			boot_node_clear(&nd);
		}
	}
	cg_rset_free(&ms);
	return 0;
}
