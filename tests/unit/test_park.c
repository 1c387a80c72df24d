/*
 * test_park.c - parking (cassandgo stop/start): the plan of a stop, the
 * plan that starts a parked cluster (planner/plan.c: powered-off machines),
 * the state's parked mark, and what a parked cluster costs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../planner/park.h"
#include "../../state/state.h"
#include "../../providers/ec2/price.h"

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

/* A running Small cluster (tests/plan/small.yaml: DC1 3 nodes in
 * eu-west-1, DC2 2 in us-east-1, one seed each) as the refresh shows it,
 * every value the model renders agreeing, every Cassandra running. */
static void running(const struct cg_cluster *c, struct cg_zonemap *zm, struct cg_rset *world)
{
	char *eu[] = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
	struct cg_rset d0, d1;
	struct cg_err err = {0};
	cg_zonemap_add(zm, "eu-west-1", eu, 3);
	cg_rset_init(&d0);
	cg_rset_init(&d1);
	assert_int_equal(cg_model_build(c, zm, NULL, ~0u, &d0, &err), 0);
	for (int i = 0; i < d0.n; i++) {
		struct cg_resource *r = cg_rset_add(world, &d0.v[i]);
		if (r->kind == CG_KIND_MACHINE) {
			char id[32];
			snprintf(id, sizeof(id), "i-%04d", i);
			cg_res_set_id(r, id);
			cg_res_setf(r, "private_ip", 0, "172.31.0.%d", i + 1);
			cg_res_setf(r, "public_ip", 0, "198.51.100.%d", i + 1);
			cg_res_set(r, "host_key", "ssh-ed25519 AAAA", 0);
			cg_res_set(r, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(r, "lib_dir", "/usr/share/cassandra/lib", 0);
			cg_res_set(r, "state", "running", CG_ATTR_INFO);
			cg_res_set(r, "power", "on", CG_ATTR_INFO);
		} else {
			cg_res_set_id(r, r->addr);
		}
	}
	assert_int_equal(cg_model_build(c, zm, world, ~0u, &d1, &err), 0);
	for (int i = 0; i < d1.n; i++) {
		struct cg_resource *w = cg_rset_find(world, d1.v[i].addr);
		for (int k = 0; k < d1.v[i].nattrs; k++)
			if (d1.v[i].attrs[k].value && !(d1.v[i].attrs[k].flags & CG_ATTR_COMPUTED))
				cg_res_set(w, d1.v[i].attrs[k].key, d1.v[i].attrs[k].value, 0);
	}
	cg_rset_free(&d0);
	cg_rset_free(&d1);
}

static const struct cg_action *find(const struct cg_plan *p, const char *addr)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].addr, addr))
			return &p->v[i];
	return NULL;
}

static bool depends_on(const struct cg_plan *p, const struct cg_action *a, const char *addr)
{
	for (int k = 0; k < a->ndeps; k++)
		if (!strcmp(p->v[a->deps[k]].addr, addr))
			return true;
	return false;
}

static void test_machine_off(void **state)
{
	(void)state;
	struct cg_resource m;
	cg_res_init(&m, CG_KIND_MACHINE, "machine.DC1.n1");
	assert_false(cg_park_machine_off(&m));
	cg_res_set(&m, "state", "stopping", CG_ATTR_INFO);	/* behind our back */
	assert_true(cg_park_machine_off(&m));
	cg_res_set(&m, "power", "on", CG_ATTR_INFO);		/* power says it */
	assert_false(cg_park_machine_off(&m));
	cg_res_set(&m, "power", "off", CG_ATTR_INFO);
	assert_true(cg_park_machine_off(&m));
	cg_res_clear(&m);
}

/* stop: every running node drained and stopped, then every machine powered
 * off once all of them are; what is off already is left alone; a node that
 * did not answer is drained from its record (so it fails rather than being
 * powered off undrained). */
static void test_stop_plan(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset world, recorded;
	struct cg_plan plan;
	struct cg_err err = {0};
	cg_rset_init(&world);
	cg_rset_init(&recorded);
	running(&cfg->clusters[0], &zm, &world);
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_SERVICE)
			cg_res_set(&world.v[i], "running", "true", 0);

	assert_int_equal(cg_park_plan("Small", &world, &world, &plan, &err), 0);
	assert_int_equal(plan.n, 10);
	assert_int_equal(plan.change, 10);
	assert_int_equal(plan.add + plan.destroy, 0);
	const struct cg_action *s = find(&plan, "service.DC1.n2");
	assert_non_null(s);
	assert_int_equal(s->op, CG_OP_UPDATE);
	assert_string_equal(cg_res_get(&s->desired, "running"), "false");
	assert_string_equal(cg_res_get(&s->current, "running"), "true");
	assert_int_equal(s->ndeps, 0);		/* drains all at once */
	const struct cg_action *m = find(&plan, "machine.DC2.n1");
	assert_non_null(m);
	assert_string_equal(cg_res_get(&m->desired, "power"), "off");
	assert_string_equal(m->desired.id, cg_rset_find(&world, "machine.DC2.n1")->id);
	assert_int_equal(m->ndeps, 5);
	assert_true(depends_on(&plan, m, "service.DC1.n3"));
	assert_true(depends_on(&plan, m, "service.DC2.n2"));
	struct cg_buf text = {0};
	cg_plan_render_text(&plan, false, &text);
	assert_non_null(strstr(text.data, "~ service.DC1.n1  (drain"));
	assert_non_null(strstr(text.data, "= \"true\" -> \"false\""));
	assert_non_null(strstr(text.data, "= \"on\" -> \"off\""));
	assert_non_null(strstr(text.data, "Plan: 0 to add, 10 to change, 0 to destroy."));
	cg_buf_free(&text);
	cg_plan_free(&plan);

	/* a stop killed half-way: DC1.n2 off already, DC1.n3 drained and
	 * stopped but its machine still on; DC2.n2 does not answer */
	for (int i = 0; i < world.n; i++)
		cg_rset_add(&recorded, &world.v[i]);
	cg_res_set(cg_rset_find(&world, "machine.DC1.n2"), "power", "off", CG_ATTR_INFO);
	cg_res_set(cg_rset_find(&world, "service.DC1.n3"), "running", "false", 0);
	for (int i = 0; i < world.n; i++)
		if (!strcmp(world.v[i].addr, "service.DC2.n2")) {
			cg_rset_remove_at(&world, i);
			break;
		}
	assert_int_equal(cg_park_plan("Small", &world, &recorded, &plan, &err), 0);
	assert_null(find(&plan, "machine.DC1.n2"));
	assert_null(find(&plan, "service.DC1.n2"));
	assert_null(find(&plan, "service.DC1.n3"));
	assert_non_null(find(&plan, "machine.DC1.n3"));
	s = find(&plan, "service.DC2.n2");
	assert_non_null(s);
	assert_non_null(strstr(s->reason, "did not answer"));
	assert_int_equal(plan.n, 3 + 4);	/* DC1.n1, DC2.n1, DC2.n2; 4 machines */
	assert_int_equal(find(&plan, "machine.DC1.n3")->ndeps, 3);
	cg_plan_free(&plan);

	/* everything off: nothing to do */
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_MACHINE)
			cg_res_set(&world.v[i], "power", "off", CG_ATTR_INFO);
	assert_int_equal(cg_park_plan("Small", &world, &recorded, &plan, &err), 0);
	assert_int_equal(plan.n, 0);
	cg_park_note(&plan, "2026-12-06T17:00:00Z", &world);
	assert_string_equal(plan.parked, "2026-12-06T17:00:00Z");
	assert_int_equal(plan.nnotes, 1);
	assert_non_null(strstr(plan.notes[0], "its 5 machines are powered off"));
	cg_plan_render_text(&plan, false, &text);
	assert_non_null(strstr(text.data, "No changes: cluster Small is parked. `cassandgo start Small`"));
	cg_buf_free(&text);
	cg_plan_render_json(&plan, &text);
	assert_non_null(strstr(text.data, "\"parked\":\"2026-12-06T17:00:00Z\""));
	cg_buf_free(&text);
	cg_plan_free(&plan);

	cg_rset_free(&recorded);
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* start: the cluster's own plan. A powered-off machine is started (an
 * update, not a replacement), what derives from its addresses is known
 * only after (configs, cross-region rules), its node steps stay (no
 * reinstall, no join), and Cassandra starts seeds first, the others beside
 * each other: no rolling chain through nodes that are all down. */
static void test_start_plan(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	const struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world, desired;
	struct cg_plan plan;
	struct cg_err err = {0};
	cg_rset_init(&world);
	cg_rset_init(&desired);
	running(c, &zm, &world);
	for (int i = 0; i < world.n; i++) {
		struct cg_resource *r = &world.v[i];
		if (r->kind == CG_KIND_SERVICE)
			cg_res_set(r, "running", "false", 0);
		if (r->kind == CG_KIND_MACHINE) {
			cg_res_set(r, "power", "off", CG_ATTR_INFO);
			cg_res_set(r, "state", "stopped", CG_ATTR_INFO);
			cg_res_set(r, "public_ip", NULL, CG_ATTR_COMPUTED);	/* released */
			cg_res_setf(r, "health", CG_ATTR_COMPUTED, "instance %s is stopped", r->id);
		}
	}
	assert_int_equal(cg_model_build(c, &zm, &world, ~0u, &desired, &err), 0);
	assert_int_equal(cg_plan_diff("Small", &desired, &world, &world, ~0u, &plan, &err), 0);
	assert_int_equal(plan.add, 0);
	assert_int_equal(plan.destroy, 0);
	for (int i = 0; i < plan.n; i++)
		assert_int_not_equal(plan.v[i].kind, CG_KIND_INSTALL);
	const struct cg_action *m = find(&plan, "machine.DC1.n2");
	assert_non_null(m);
	assert_int_equal(m->op, CG_OP_UPDATE);
	const struct cg_action *cf = find(&plan, "config.DC1.n2");
	assert_non_null(cf);
	assert_int_equal(cf->op, CG_OP_UPDATE);
	assert_null(cg_res_get(&cf->desired, "hash"));		/* known after apply */
	assert_string_equal(cg_res_get(&cf->desired, "mode"), "initial");	/* not a join */
	assert_true(depends_on(&plan, cf, "machine.DC1.n1"));	/* the seeds' addresses */
	const struct cg_action *p = find(&plan, "peers.us-east-1");
	assert_non_null(p);
	assert_null(cg_res_get(&p->desired, "cidrs"));
	const struct cg_action *seed = find(&plan, "service.DC1.n1");
	const struct cg_action *n2 = find(&plan, "service.DC1.n2");
	const struct cg_action *n3 = find(&plan, "service.DC1.n3");
	assert_non_null(seed);
	assert_non_null(n2);
	assert_non_null(n3);
	/* every node of a ring that is not running starts at once (cgnode
	 * launches a non-seed when a seed listens) */
	assert_false(depends_on(&plan, n2, "service.DC1.n1"));
	assert_false(depends_on(&plan, n2, "service.DC2.n1"));
	assert_true(depends_on(&plan, n2, "config.DC1.n2"));
	assert_false(depends_on(&plan, n3, "service.DC1.n2"));
	assert_false(depends_on(&plan, seed, "service.DC2.n1"));
	const struct cg_action *ring = find(&plan, "ring");
	assert_non_null(ring);
	assert_true(depends_on(&plan, ring, "service.DC2.n2"));
	assert_int_equal(cg_plan_check_acyclic(&plan, &err), 0);
	cg_plan_free(&plan);

	/* a running cluster's config change still restarts one node at a time */
	cg_rset_free(&world);
	cg_rset_free(&desired);
	cg_zonemap_free(&zm);
	memset(&zm, 0, sizeof(zm));
	cg_rset_init(&world);
	cg_rset_init(&desired);
	running(c, &zm, &world);
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == CG_KIND_SERVICE) {
			cg_res_set(&world.v[i], "running", "true", 0);
			cg_res_set(&world.v[i], "config_hash", "0000000000000000", 0);
		}
	assert_int_equal(cg_model_build(c, &zm, &world, ~0u, &desired, &err), 0);
	assert_int_equal(cg_plan_diff("Small", &desired, &world, &world, ~0u, &plan, &err), 0);
	n2 = find(&plan, "service.DC1.n2");
	n3 = find(&plan, "service.DC1.n3");
	assert_non_null(n2);
	assert_non_null(n3);
	assert_true(depends_on(&plan, n3, "service.DC1.n2") || depends_on(&plan, n2, "service.DC1.n3"));
	cg_plan_free(&plan);

	cg_rset_free(&world);
	cg_rset_free(&desired);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* The parked mark: set before a stop touches anything, read by every plan,
 * removed by a completed start; changes bump the serial. */
static void test_state_mark(void **state)
{
	(void)state;
	char *dir = tmpdir_for("park");
	char *path = cg_xasprintf("%s/state.db", dir);
	struct cg_state *st = NULL;
	struct cg_err err = {0};
	struct cg_state_meta m0, m1;
	char *v = NULL;
	assert_int_equal(cg_state_open(&st, path, 1, &err), 0);
	assert_int_equal(cg_state_parked(st, "Lab", &v, &err), 0);
	assert_null(v);
	assert_int_equal(cg_state_meta(st, &m0, &err), 0);
	assert_int_equal(cg_state_set_parked(st, "Lab", "2026-12-06T17:00:00Z", &err), 0);
	assert_int_equal(cg_state_set_parked(st, "Lab", "2026-12-06T17:00:00Z", &err), 0);
	assert_int_equal(cg_state_meta(st, &m1, &err), 0);
	assert_int_equal(m1.serial, m0.serial + 1);	/* the same value twice: once */
	assert_int_equal(cg_state_parked(st, "Lab", &v, &err), 0);
	assert_string_equal(v, "2026-12-06T17:00:00Z");
	free(v);
	assert_int_equal(cg_state_parked(st, "Other", &v, &err), 0);
	assert_null(v);
	cg_state_close(st);
	/* durable: another process sees it */
	assert_int_equal(cg_state_open(&st, path, 0, &err), 0);
	assert_int_equal(cg_state_parked(st, "Lab", &v, &err), 0);
	assert_non_null(v);
	free(v);
	assert_int_equal(cg_state_set_parked(st, "Lab", NULL, &err), 0);
	assert_int_equal(cg_state_parked(st, "Lab", &v, &err), 0);
	assert_null(v);
	assert_int_equal(cg_state_meta(st, &m0, &err), 0);
	assert_int_equal(m0.serial, m1.serial + 1);
	assert_int_equal(cg_state_set_parked(st, "Lab", NULL, &err), 0);	/* no-op */
	cg_state_close(st);
	free(path);
	rm_rf(dir);
	free(dir);
}

/* A stopped instance bills its EBS volume only, and the cost says so. */
static void test_parked_cost(void **state)
{
	(void)state;
	struct cg_rset ms;
	struct cg_cost cost;
	struct cg_buf b = {0};
	cg_rset_init(&ms);
	for (int i = 1; i <= 2; i++) {
		char *a = cg_addr_node(CG_KIND_MACHINE, "DC1", i);
		struct cg_resource *m = cg_rset_new(&ms, CG_KIND_MACHINE, a);
		free(a);
		m->region = cg_xstrdup("us-east-1");
		m->dc = cg_xstrdup("DC1");
		m->node = i;
		cg_res_set(m, "node_type", "m3.large", 0);
	}
	cg_cost_of(&ms, cg_ec2_hourly, "test", &cost);
	double ebs = 8 * 0.08 / 730, running = cost.per_hour;
	assert_true(running > 2 * ebs + 0.2);	/* 2 x m3.large, 0.133 each */
	assert_int_equal(cost.parked, 0);
	cg_cost_free(&cost);

	cg_res_set(&ms.v[0], "power", "off", CG_ATTR_INFO);
	cg_cost_of(&ms, cg_ec2_hourly, "test", &cost);
	assert_int_equal(cost.parked, 1);
	assert_true(cost.per_hour > running / 2 - 1e-9 && cost.per_hour < running);
	cg_cost_render_text(&cost, &b);
	assert_non_null(strstr(b.data, "1 of 2 machines stopped, billed for their EBS volumes only"));
	cg_buf_free(&b);
	cg_cost_free(&cost);

	cg_res_set(&ms.v[1], "state", "stopped", CG_ATTR_INFO);	/* behind our back */
	cg_cost_of(&ms, cg_ec2_hourly, "test", &cost);
	assert_int_equal(cost.parked, 2);
	assert_true(cost.per_hour > 2 * ebs - 1e-12 && cost.per_hour < 2 * ebs + 1e-12);
	cg_cost_render_text(&cost, &b);
	assert_non_null(strstr(b.data, "Cost while parked (USD, estimate; prices: test): the EBS "
				       "volumes only"));
	cg_buf_reset(&b);
	cg_cost_render_running(&cost, &b);
	assert_non_null(strstr(b.data, "Cost while parked: 0.0018 USD per hour"));
	cg_buf_reset(&b);
	cg_cost_render_json(&cost, &b);
	assert_non_null(strstr(b.data, "\"parked_machines\":2,\"ebs_only\":true"));
	cg_buf_free(&b);
	cg_cost_free(&cost);
	cg_rset_free(&ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_off),
		cmocka_unit_test(test_stop_plan),
		cmocka_unit_test(test_start_plan),
		cmocka_unit_test(test_state_mark),
		cmocka_unit_test(test_parked_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
