/*
 * local_bench.c - how long the local provider takes for a larger cluster:
 * create N machines (4 DCs, up to 10 at once, like the executor's default
 * parallelism), refresh them, destroy them. Run as root by bench.sh.
 *
 * usage: local_bench STATE_DIR [NODES_PER_DC]
 */
#include "../../providers/local/local.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDC 4
#define PARALLEL 10

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cg_rset world;
static struct cg_provider *P;
static struct cg_ctx CTX;

static int w_lookup(struct cg_ctx *ctx, const char *addr, struct cg_resource *out)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	struct cg_resource *r = cg_rset_find(&world, addr);
	if (r)
		cg_res_copy(out, r);
	pthread_mutex_unlock(&mu);
	return r ? 0 : -1;
}

static void w_list(struct cg_ctx *ctx, enum cg_kind kind, struct cg_rset *out)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == kind)
			cg_rset_add(out, &world.v[i]);
	pthread_mutex_unlock(&mu);
}

struct queue {
	struct cg_resource **v;
	int n, next, failed;
	enum cg_op op;
};

static void *worker(void *arg)
{
	struct queue *q = arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		int i = q->next < q->n ? q->next++ : -1;
		pthread_mutex_unlock(&mu);
		if (i < 0)
			return NULL;
		struct cg_resource res, *d = q->v[i];
		struct cg_err err = {0};
		memset(&res, 0, sizeof(res));
		if (cg_provider_local.apply(P, &CTX, q->op, q->op == CG_OP_DELETE ? NULL : d,
					    q->op == CG_OP_DELETE ? d : NULL, &res, &err) != 0) {
			fprintf(stderr, "%s %s: %s\n", cg_op_name(q->op), d->addr, err.msg);
			pthread_mutex_lock(&mu);
			q->failed++;
			pthread_mutex_unlock(&mu);
		} else if (q->op != CG_OP_DELETE) {
			pthread_mutex_lock(&mu);
			cg_rset_add(&world, &res);
			pthread_mutex_unlock(&mu);
		}
		cg_res_clear(&res);
	}
}

/* Apply op to every resource, PARALLEL at once; returns elapsed ms. */
static int64_t run_all(enum cg_op op, struct cg_resource **v, int n, int *failed)
{
	struct queue q = { .v = v, .n = n, .op = op };
	pthread_t t[PARALLEL];
	int64_t t0 = cg_now_ms();
	for (int i = 0; i < PARALLEL; i++)
		pthread_create(&t[i], NULL, worker, &q);
	for (int i = 0; i < PARALLEL; i++)
		pthread_join(t[i], NULL);
	*failed += q.failed;
	return cg_now_ms() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s STATE_DIR [NODES_PER_DC]\n", argv[0]);
		return 2;
	}
	int per_dc = argc > 2 ? atoi(argv[2]) : 5;
	if (per_dc < 1 || per_dc > 250)
		per_dc = 5;
	const char *range = getenv("CG_LOCAL_TEST_RANGE");
	static char names[NDC][8], regions[NDC][8];
	struct cg_dc dcs[NDC];
	memset(dcs, 0, sizeof(dcs));
	for (int d = 0; d < NDC; d++) {
		snprintf(names[d], sizeof(names[d]), "DC%d", d + 1);
		snprintf(regions[d], sizeof(regions[d]), "r%d", d % 2 + 1);
		dcs[d] = (struct cg_dc){ .name = names[d], .region = regions[d], .nodes = per_dc, .seeds = 1 };
	}
	struct cg_cluster c = {
		.name = "LocalBench", .provider = CG_PROVIDER_LOCAL, .cassandra_version = "5.0.9",
		.ssh_user = "cassandgo", .network = (char *)(range && *range ? range : "10.212.0.0/16"),
		.dcs = dcs, .ndcs = NDC,
	};
	struct cg_env env = { .config_dir = argv[1], .state_dir = argv[1], .cluster_dir = argv[1] };
	char tag[13];
	cg_local_tag(c.name, argv[1], tag);
	char path[600];
	snprintf(path, sizeof(path), "%s/tag", argv[1]);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%s\n", tag);
	fclose(f);
	struct cg_err err = {0};
	if (cg_provider_local.open(&P, &c, &env, &err) != 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 1;
	}
	cg_rset_init(&world);
	CTX = (struct cg_ctx){ .env = &env, .cluster = &c, .lookup = w_lookup, .list = w_list };

	struct cg_rset desired;
	cg_rset_init(&desired);
	for (int g = 0; g < 2; g++) {
		char *a = cg_addr_region(CG_KIND_NETWORK, regions[g]);
		cg_rset_new(&desired, CG_KIND_NETWORK, a)->region = cg_xstrdup(regions[g]);
		free(a);
		a = cg_addr_region(CG_KIND_KEYPAIR, regions[g]);
		cg_rset_new(&desired, CG_KIND_KEYPAIR, a)->region = cg_xstrdup(regions[g]);
		free(a);
	}
	for (int d = 0; d < NDC; d++)
		for (int i = 1; i <= per_dc; i++) {
			char *a = cg_addr_node(CG_KIND_MACHINE, names[d], i);
			struct cg_resource *r = cg_rset_new(&desired, CG_KIND_MACHINE, a);
			r->region = cg_xstrdup(regions[d]);
			r->dc = cg_xstrdup(names[d]);
			r->node = i;
			cg_res_set(r, "zone", "z", 0);
			free(a);
		}
	int n = desired.n, failed = 0, nm = n - 4;
	struct cg_resource **v = cg_xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++)
		v[i] = &desired.v[i];
	int64_t t_infra = run_all(CG_OP_CREATE, v, 4, &failed);
	int64_t t_create = run_all(CG_OP_CREATE, v + 4, nm, &failed);
	struct cg_rset live;
	cg_rset_init(&live);
	int64_t t0 = cg_now_ms();
	cg_provider_local.refresh(P, &world, &live, &err);
	int64_t t_refresh = cg_now_ms() - t0;
	int up = 0;
	for (int i = 0; i < live.n; i++)
		up += live.v[i].kind == CG_KIND_MACHINE && cg_res_get(&live.v[i], "health") &&
		      !strcmp(cg_res_get(&live.v[i], "health"), "ok");
	cg_rset_free(&live);
	int64_t t_delete = run_all(CG_OP_DELETE, v + 4, nm, &failed);
	t_delete += run_all(CG_OP_DELETE, v, 4, &failed);
	printf("local provider, %d machines (%d DCs x %d), %d at once:\n", nm, NDC, per_dc, PARALLEL);
	printf("  networks + key pairs  %6lld ms\n", (long long)t_infra);
	printf("  create machines       %6lld ms  (%.1f ms per machine of wall time)\n",
	       (long long)t_create, (double)t_create / nm);
	printf("  refresh               %6lld ms  (%d/%d healthy)\n", (long long)t_refresh, up, nm);
	printf("  destroy all           %6lld ms\n", (long long)t_delete);
	free(v);
	cg_rset_free(&desired);
	cg_rset_free(&world);
	cg_provider_local.close(P);
	if (failed || up != nm) {
		fprintf(stderr, "bench-local: %d failures, %d/%d healthy\n", failed, up, nm);
		return 1;
	}
	return 0;
}
