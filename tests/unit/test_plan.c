/*
 * test_plan.c - the desired model, the diff (golden plans in tests/plan/),
 * the graph (order) and the executor (failure propagation, parallelism),
 * with a stub provider behind the interface and a real SQLite state.
 * UPDATE_GOLDEN=1 rewrites the golden files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../planner/exec.h"
#include "../../planner/plan.h"

static struct cg_config *load(const char *path)
{
	struct cg_config *cfg = NULL;
	struct cg_err err = {0};
	int rc = cg_config_load(path, &cfg, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	return cfg;
}

static void zones_for(struct cg_zonemap *zm)
{
	char *eu[] = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
	cg_zonemap_add(zm, "eu-west-1", eu, 3);
}

static void golden(const char *name, const char *got)
{
	char *path = cg_xasprintf("plan/%s.golden", name);
	struct cg_err err = {0};
	if (getenv("UPDATE_GOLDEN")) {
		assert_int_equal(cg_file_write_atomic(path, got, strlen(got), 0644, &err), 0);
	} else {
		char *want = NULL;
		if (cg_file_read(path, &want, NULL, &err) < 0)
			fail_msg("%s (run with UPDATE_GOLDEN=1 to create it)", err.msg);
		if (strcmp(want, got)) {
			fprintf(stderr, "--- %s\n%s\n--- got\n%s\n", path, want, got);
			fail_msg("%s differs", path);
		}
		free(want);
	}
	free(path);
}

/* The first plan of a new cluster. */
static void test_golden_create(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset desired, current;
	struct cg_plan plan;
	struct cg_err err = {0};
	struct cg_buf text = {0};

	zones_for(&zm);
	cg_rset_init(&desired);
	cg_rset_init(&current);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &desired, &err), 0);
	assert_int_equal(cg_plan_diff("Small", &desired, &current, NULL, ~0u, &plan, &err), 0);
	/* 2 networks, 2 keypairs, 5 x (machine install config service), 2 peers, ring,
	 * monitoring (opscenter: yes), auth (security on by default) */
	assert_int_equal(plan.add, 2 + 2 + 5 * 4 + 2 + 1 + 1 + 1);
	cg_plan_render_text(&plan, false, &text);
	golden("small-create", text.data);

	/* the graph: deps point to actions that must come first; a non-seed's
	 * service waits for every seed's service; the ring waits for all. */
	assert_int_equal(cg_plan_check_acyclic(&plan, &err), 0);
	int ring = -1, s_dc1n2 = -1;
	for (int i = 0; i < plan.n; i++) {
		if (!strcmp(plan.v[i].addr, "ring"))
			ring = i;
		if (!strcmp(plan.v[i].addr, "service.DC1.n2"))
			s_dc1n2 = i;
	}
	assert_true(ring >= 0 && s_dc1n2 >= 0);
	int seeds = 0;
	for (int k = 0; k < plan.v[s_dc1n2].ndeps; k++) {
		const char *d = plan.v[plan.v[s_dc1n2].deps[k]].addr;
		if (!strcmp(d, "service.DC1.n1") || !strcmp(d, "service.DC2.n1"))
			seeds++;
	}
	assert_int_equal(seeds, 2);
	assert_true(plan.v[ring].ndeps >= 5 * 3);
	/* DC1 lists no zones: the provider's, round-robin; DC2 its own */
	const struct cg_resource *m3 = cg_rset_find(&desired, "machine.DC1.n3");
	assert_string_equal(cg_res_get(m3, "zone"), "eu-west-1c");
	const struct cg_resource *m4 = cg_rset_find(&desired, "machine.DC2.n2");
	assert_string_equal(cg_res_get(m4, "zone"), "us-east-1b");

	cg_buf_free(&text);
	cg_plan_free(&plan);
	cg_rset_free(&desired);
	cg_rset_free(&current);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* Pretend everything was applied: current = desired with outputs filled. */
static void materialise(const struct cg_rset *desired, struct cg_rset *out)
{
	for (int i = 0; i < desired->n; i++) {
		struct cg_resource *r = cg_rset_add(out, &desired->v[i]);
		if (r->kind == CG_KIND_MACHINE) {
			char id[32];
			snprintf(id, sizeof(id), "i-%04d", i);
			cg_res_set_id(r, id);
			cg_res_setf(r, "private_ip", 0, "172.31.0.%d", i + 1);
			cg_res_setf(r, "public_ip", 0, "198.51.100.%d", i + 1);
			cg_res_set(r, "host_key", "ssh-ed25519 AAAA", 0);
			cg_res_set(r, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(r, "lib_dir", "/usr/share/cassandra/lib", 0);
		}
	}
}

/* The world after a successful apply of cluster c from nothing. */
static void applied(const struct cg_cluster *c, const struct cg_zonemap *zm, struct cg_rset *world)
{
	struct cg_rset d0;
	struct cg_err err = {0};
	cg_rset_init(&d0);
	assert_int_equal(cg_model_build(c, zm, NULL, ~0u, &d0, &err), 0);
	materialise(&d0, world);
	cg_rset_free(&d0);
}

/* DC1 goes from 3 nodes to 2: system_auth's RF there drops 3 -> 2 before
 * the decommission (Cassandra refuses to leave fewer nodes than an RF),
 * so the auth update waits for no ring check and the decommission waits
 * for it. */
static void test_auth_rf_before_decommission(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset world, d1;
	struct cg_plan plan;
	struct cg_err err = {0};

	zones_for(&zm);
	cg_rset_init(&world);
	cg_rset_init(&d1);
	applied(&cfg->clusters[0], &zm, &world);
	assert_string_equal(cg_res_get(cg_rset_find(&world, "auth"), "system_auth"), "DC1:3,DC2:2");
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_CONFIG && !cg_res_get(&world.v[i], "hash"))
			cg_res_set(&world.v[i], "hash", "0123456789abcdef", 0);
	cfg->clusters[0].dcs[0].nodes = 2;
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, &world, ~0u, &d1, &err), 0);
	assert_string_equal(cg_res_get(cg_rset_find(&d1, "auth"), "system_auth"), "DC1:2,DC2:2");
	if (cg_plan_diff("Small", &d1, &world, &world, ~0u, &plan, &err))
		fail_msg("%s", err.msg);
	int auth = -1, svc = -1;
	for (int i = 0; i < plan.n; i++) {
		if (!strcmp(plan.v[i].addr, "auth"))
			auth = i;
		if (!strcmp(plan.v[i].addr, "service.DC1.n3") && plan.v[i].op == CG_OP_DELETE)
			svc = i;
	}
	assert_true(auth >= 0 && svc >= 0);
	assert_int_equal(plan.v[auth].op, CG_OP_UPDATE);
	bool waits = false;
	for (int k = 0; k < plan.v[svc].ndeps; k++)
		waits |= plan.v[svc].deps[k] == auth;
	assert_true(waits);
	for (int k = 0; k < plan.v[auth].ndeps; k++)
		assert_int_not_equal(plan.v[plan.v[auth].deps[k]].kind, CG_KIND_RING);
	cg_plan_free(&plan);
	cg_rset_free(&d1);
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* A converged cluster, then changes: a zone (replace), Cassandra down
 * (update), a machine gone (create), an extra node (delete), a duplicate. */
static void test_golden_changes(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset d0, world, d1;
	struct cg_plan plan;
	struct cg_err err = {0};
	struct cg_buf text = {0};

	zones_for(&zm);
	cg_rset_init(&d0);
	cg_rset_init(&world);
	cg_rset_init(&d1);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &d0, &err), 0);
	materialise(&d0, &world);
	/* with every address known, the model renders configs: make the world
	 * agree with it, so that only our edits below are changes */
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, &world, ~0u, &d1, &err), 0);
	for (int i = 0; i < d1.n; i++) {
		struct cg_resource *w = cg_rset_find(&world, d1.v[i].addr);
		for (int k = 0; k < d1.v[i].nattrs; k++)
			if (d1.v[i].attrs[k].value)
				cg_res_set(w, d1.v[i].attrs[k].key, d1.v[i].attrs[k].value, 0);
	}
	if (cg_plan_diff("Small", &d1, &world, &world, ~0u, &plan, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(plan.n, 0);
	cg_plan_free(&plan);

	struct cg_rset recorded;
	cg_rset_init(&recorded);
	for (int i = 0; i < world.n; i++)
		cg_rset_add(&recorded, &world.v[i]);
	cg_res_set(cg_rset_find(&world, "machine.DC1.n2"), "zone", "eu-west-1a", 0);
	cg_res_set(cg_rset_find(&world, "service.DC2.n2"), "running", "false", 0);
	for (int i = 0; i < world.n; i++)
		if (!strcmp(world.v[i].addr, "machine.DC1.n3")) {
			cg_rset_remove_at(&world, i);
			break;
		}
	struct cg_resource *extra = cg_rset_new(&world, CG_KIND_MACHINE, "machine.DC2.n9");
	extra->region = cg_xstrdup("us-east-1");
	cg_res_set_id(extra, "i-extra");
	struct cg_resource dup;
	cg_res_copy(&dup, cg_rset_find(&world, "machine.DC2.n1"));
	cg_res_set_id(&dup, "i-dup");
	cg_res_set(&dup, "launch_time", "2030-01-01T00:00:00Z", 0);
	cg_rset_add(&world, &dup);
	cg_res_clear(&dup);

	assert_int_equal(cg_plan_diff("Small", &d1, &world, &recorded, ~0u, &plan, &err), 0);
	cg_plan_render_text(&plan, false, &text);
	golden("small-changes", text.data);
	assert_int_equal(cg_plan_check_acyclic(&plan, &err), 0);

	cg_buf_free(&text);
	cg_plan_free(&plan);
	cg_rset_free(&recorded);
	cg_rset_free(&d0);
	cg_rset_free(&d1);
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* A node whose machine was replaced renders its config to join the ring,
 * also when the ring is not seen (a crash left the new machine without
 * Cassandra: the refresh reports no ring) and the state still holds its
 * predecessor's config: one running node proves the ring. A new cluster
 * renders precomputed tokens. */
static const char *mode_of(const struct cg_cluster *c, struct cg_zonemap *zm,
			   const struct cg_rset *known, const char *addr)
{
	static char mode[16];
	struct cg_rset d;
	struct cg_err err = {0};
	cg_rset_init(&d);
	assert_int_equal(cg_model_build(c, zm, known, ~0u, &d, &err), 0);
	const struct cg_resource *cf = cg_rset_find(&d, addr);
	assert_non_null(cf);
	snprintf(mode, sizeof(mode), "%s", cg_res_get(cf, "mode"));
	cg_rset_free(&d);
	return mode;
}

static void drop(struct cg_rset *s, const char *addr)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (!strcmp(s->v[i].addr, addr))
			cg_rset_remove_at(s, i);
}

static void test_join_mode(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	const struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;

	zones_for(&zm);
	cg_rset_init(&world);
	applied(c, &zm, &world);
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_SERVICE)
			cg_res_set(&world.v[i], "running", "true", 0);
	/* a new cluster: nothing runs, no ring */
	assert_string_equal(mode_of(c, &zm, NULL, "config.DC1.n2"), "initial");

	/* DC1.n2's machine replaced by a crashed run: a new instance, none of
	 * its node steps live, and no ring seen */
	cg_res_set_id(cg_rset_find(&world, "machine.DC1.n2"), "i-new");
	drop(&world, "ring");
	drop(&world, "install.DC1.n2");
	drop(&world, "config.DC1.n2");
	drop(&world, "service.DC1.n2");
	assert_string_equal(mode_of(c, &zm, &world, "config.DC1.n2"), "join");
	/* a node's own config keeps the mode it was first rendered with */
	assert_string_equal(mode_of(c, &zm, &world, "config.DC1.n1"), "initial");

	/* nothing runs anywhere (a first apply killed before any start) */
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_SERVICE)
			cg_res_set(&world.v[i], "running", "false", 0);
	assert_string_equal(mode_of(c, &zm, &world, "config.DC1.n2"), "initial");

	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* Destroy: reverse order, node steps forgotten with their machines. */
static void test_destroy_order(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset d0, world, none;
	struct cg_plan plan;
	struct cg_err err = {0};

	zones_for(&zm);
	cg_rset_init(&d0);
	cg_rset_init(&world);
	cg_rset_init(&none);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &d0, &err), 0);
	materialise(&d0, &world);
	assert_int_equal(cg_plan_diff("Small", &none, &world, &world, ~0u, &plan, &err), 0);
	assert_int_equal(plan.destroy, world.n);
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		assert_int_equal(a->op, CG_OP_DELETE);
		if (a->kind == CG_KIND_INSTALL || a->kind == CG_KIND_SERVICE || a->kind == CG_KIND_RING)
			assert_true(a->forget);
		if (a->kind == CG_KIND_NETWORK) {
			/* the network goes after every machine of its region */
			int machines = 0;
			for (int k = 0; k < a->ndeps; k++)
				if (plan.v[a->deps[k]].kind == CG_KIND_MACHINE) {
					machines++;
					assert_string_equal(plan.v[a->deps[k]].current.region,
							    a->current.region);
				}
			assert_int_equal(machines, !strcmp(a->current.region, "eu-west-1") ? 3 : 2);
		}
	}
	cg_plan_free(&plan);
	cg_rset_free(&d0);
	cg_rset_free(&world);
	cg_rset_free(&none);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* --- executor with a stub provider --------------------------------------- */

struct cg_provider {
	pthread_mutex_t mu;
	int running, max_running;
	char order[4096];
	const char *fail;
};

static int stub_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		      const struct cg_resource *desired, const struct cg_resource *current,
		      struct cg_resource *result, struct cg_err *err)
{
	(void)ctx;
	(void)result;
	const char *addr = desired ? desired->addr : current->addr;
	pthread_mutex_lock(&p->mu);
	if (++p->running > p->max_running)
		p->max_running = p->running;
	strcat(p->order, addr);
	strcat(p->order, " ");
	pthread_mutex_unlock(&p->mu);
	struct timespec ts = {0, 20000000};	/* 20 ms: long enough to overlap under valgrind */
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&p->mu);
	p->running--;
	pthread_mutex_unlock(&p->mu);
	(void)op;
	if (p->fail && !strcmp(addr, p->fail))
		return cg_error(err, 1, "stub failure");
	return 0;
}

static const struct cg_provider_ops stub_ops = {.name = "stub", .kinds = ~0u, .apply = stub_apply};

static void test_exec_failure_propagation(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset desired, none;
	struct cg_plan plan;
	struct cg_err err = {0};
	struct cg_provider prov = {.fail = "machine.DC1.n2"};
	char dir[] = "/tmp/cg-exec-XXXXXX";
	struct cg_state *st;
	volatile sig_atomic_t intr = 0;

	pthread_mutex_init(&prov.mu, NULL);
	assert_non_null(mkdtemp(dir));
	char *path = cg_xasprintf("%s/state.db", dir);
	assert_int_equal(cg_state_open(&st, path, 1, &err), 0);
	zones_for(&zm);
	cg_rset_init(&desired);
	cg_rset_init(&none);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &desired, &err), 0);
	assert_int_equal(cg_plan_diff("Small", &desired, &none, NULL, ~0u, &plan, &err), 0);

	struct cg_env env = {.interrupted = &intr};
	struct cg_exec ex = {.plan = &plan, .state = st, .cluster = &cfg->clusters[0], .env = &env,
			     .parallelism = 3};
	for (int k = 0; k < CG_KIND__COUNT; k++) {
		ex.by_kind[k].ops = &stub_ops;
		ex.by_kind[k].p = &prov;
	}
	struct cg_exec_result res;
	assert_int_equal(cg_exec_run(&ex, &res, &err), -1);
	assert_non_null(strstr(err.msg, "machine.DC1.n2 (create): stub failure"));
	assert_int_equal(res.failed, 1);
	assert_true(prov.max_running <= 3);
	assert_true(prov.max_running >= 2);	/* it did run things in parallel */
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		bool downstream = !strcmp(a->addr, "install.DC1.n2") ||
				  !strcmp(a->addr, "config.DC1.n2") ||
				  !strcmp(a->addr, "peers.us-east-1") ||
				  !strcmp(a->addr, "service.DC1.n2") || !strcmp(a->addr, "ring") ||
				  !strcmp(a->addr, "monitoring") || !strcmp(a->addr, "auth");
		if (downstream)
			assert_int_equal(a->status, CG_ACT_SKIPPED);
		else if (strcmp(a->addr, "machine.DC1.n2"))
			assert_int_equal(a->status, CG_ACT_DONE);	/* independent went on */
		/* everything that ran ran after what it depends on */
		if (a->status == CG_ACT_DONE)
			for (int k = 0; k < a->ndeps; k++) {
				const char *dep = plan.v[a->deps[k]].addr;
				char *pd = strstr(prov.order, dep), *pa = strstr(prov.order, a->addr);
				assert_non_null(pd);
				assert_true(pd < pa);
			}
	}
	/* every success is in the state; the failure is journaled */
	struct cg_rset rec;
	cg_rset_init(&rec);
	assert_int_equal(cg_state_load(st, "Small", &rec, &err), 0);
	assert_int_equal(rec.n, res.added);
	assert_null(cg_rset_find(&rec, "machine.DC1.n2"));
	cg_rset_free(&rec);
	struct cg_journal_entry *j;
	int nj;
	assert_int_equal(cg_state_journal_pending(st, "Small", &j, &nj, &err), 0);
	assert_int_equal(nj, 0);
	cg_state_journal_free(j, nj);

	cg_state_close(st);
	cg_plan_free(&plan);
	cg_rset_free(&desired);
	cg_rset_free(&none);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
	char *cmd = cg_xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
	pthread_mutex_destroy(&prov.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_create),
		cmocka_unit_test(test_golden_changes),
		cmocka_unit_test(test_auth_rf_before_decommission),
		cmocka_unit_test(test_join_mode),
		cmocka_unit_test(test_destroy_order),
		cmocka_unit_test(test_exec_failure_propagation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
