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
#include "../../planner/cassconf.h"
#include "../../planner/upgrade.h"

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
	 * monitoring (opscenter: yes), auth (security on by default), system_keyspaces */
	assert_int_equal(plan.add, 2 + 2 + 5 * 4 + 2 + 1 + 1 + 1 + 1);
	cg_plan_render_text(&plan, false, &text);
	golden("small-create", text.data);

	/* the graph: deps point to actions that must come first; a new ring's
	 * services start together (a non-seed waits for its own config, and
	 * cgnode launches it once a seed listens); the ring waits for all. */
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
	assert_int_equal(seeds, 0);
	bool own_config = false;
	for (int k = 0; k < plan.v[s_dc1n2].ndeps; k++)
		own_config |= !strcmp(plan.v[plan.v[s_dc1n2].deps[k]].addr, "config.DC1.n2");
	assert_true(own_config);
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

/* The world's nodes all running configs rendered at security step st. */
static void world_at(struct cg_rset *world, const char *st)
{
	for (int i = 0; i < world->n; i++) {
		struct cg_resource *r = &world->v[i];
		if (r->kind == CG_KIND_CONFIG) {
			cg_res_set(r, "hash", "0123456789abcdef", 0);
			cg_res_set(r, "security", st, 0);
		} else if (r->kind == CG_KIND_SERVICE) {
			cg_res_set(r, "running", "true", 0);
			cg_res_set(r, "config_hash", "0123456789abcdef", 0);
		}
	}
}

static const char *plan_note(const struct cg_plan *plan, const char *needle)
{
	for (int i = 0; i < plan->nnotes; i++)
		if (strstr(plan->notes[i], needle))
			return plan->notes[i];
	return NULL;
}

/* Security off then on again for a running cluster: one step per apply,
 * every node at one step before any moves on (on -> send -> accept -> off
 * and back); the plan says which step it is; passwords stop being managed
 * at the first step off; on the way on, the superuser is set up right
 * after the first restart and the second restart waits for it. A node not
 * yet running its rendered config holds the next step back. */
static void test_security_steps(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;
	struct cg_err err = {0};
	static const char *const off_steps[] = { "on", "send", "accept", "off" };

	zones_for(&zm);
	cg_rset_init(&world);
	applied(c, &zm, &world);
	c->security_off = true;
	for (int k = 0; k < 3; k++) {
		world_at(&world, off_steps[k]);
		assert_int_equal(cg_model_security(c, &world), CG_SEC_ON - (k + 1));
		struct cg_rset d;
		struct cg_plan plan;
		cg_rset_init(&d);
		assert_int_equal(cg_model_build(c, &zm, &world, ~0u, &d, &err), 0);
		assert_string_equal(cg_res_get(cg_rset_find(&d, "config.DC1.n1"), "security"),
				    off_steps[k + 1]);
		assert_null(cg_rset_find(&d, "auth"));
		if (cg_plan_diff("Small", &d, &world, &world, ~0u, &plan, &err))
			fail_msg("%s", err.msg);
		char want[64];
		snprintf(want, sizeof(want), "turns off in 3 steps, one per apply, each restarting");
		assert_non_null(plan_note(&plan, want));
		snprintf(want, sizeof(want), "step %d of 3", k + 1);
		assert_non_null(plan_note(&plan, want));
		assert_int_equal(plan_note(&plan, "Run apply again") != NULL, k < 2);
		int au = -1;
		for (int i = 0; i < plan.n; i++)
			if (!strcmp(plan.v[i].addr, "auth"))
				au = i;
		if (k == 0) {	/* the superuser is no longer managed */
			assert_true(au >= 0);
			assert_int_equal(plan.v[au].op, CG_OP_DELETE);
		}
		cg_plan_free(&plan);
		cg_rset_free(&d);
	}
	/* one node still runs its old config: the step is not taken yet */
	world_at(&world, "accept");
	cg_res_set(cg_rset_find(&world, "service.DC1.n2"), "config_hash", "fedcba9876543210", 0);
	assert_int_equal(cg_model_security(c, &world), CG_SEC_ACCEPT);

	/* and on again: off -> accept -> send -> on */
	c->security_off = false;
	static const char *const on_steps[] = { "off", "accept", "send", "on" };
	for (int i = world.n - 1; i >= 0; i--)
		if (world.v[i].kind == CG_KIND_AUTH)
			cg_rset_remove_at(&world, i);
	for (int k = 0; k < 3; k++) {
		world_at(&world, on_steps[k]);
		assert_int_equal(cg_model_security(c, &world), k + 1);
		struct cg_rset d;
		struct cg_plan plan;
		cg_rset_init(&d);
		assert_int_equal(cg_model_build(c, &zm, &world, ~0u, &d, &err), 0);
		assert_int_equal(cg_rset_find(&d, "auth") != NULL, k == 2);
		if (cg_plan_diff("Small", &d, &world, &world, ~0u, &plan, &err))
			fail_msg("%s", err.msg);
		char want[32];
		snprintf(want, sizeof(want), "step %d of 3", k + 1);
		assert_non_null(plan_note(&plan, want));
		if (k == 2) {
			int au = -1, first = -1, second = -1;
			for (int i = 0; i < plan.n; i++)
				if (!strcmp(plan.v[i].addr, "auth"))
					au = i;
			assert_true(au >= 0);
			assert_int_equal(plan.v[au].op, CG_OP_CREATE);
			/* the restart chain: the first has no restart before it */
			for (int i = 0; i < plan.n; i++) {
				if (plan.v[i].kind != CG_KIND_SERVICE || plan.v[i].op != CG_OP_UPDATE)
					continue;
				bool after_restart = false, after_auth = false;
				for (int j = 0; j < plan.v[i].ndeps; j++) {
					const struct cg_action *dep = &plan.v[plan.v[i].deps[j]];
					after_restart |= dep->kind == CG_KIND_SERVICE &&
							 dep->op == CG_OP_UPDATE;
					after_auth |= plan.v[i].deps[j] == au;
				}
				if (!after_restart)
					first = i;
				if (after_auth)
					second = i;
			}
			assert_true(first >= 0 && second >= 0 && first != second);
			bool auth_after_first = false;
			for (int j = 0; j < plan.v[au].ndeps; j++) {
				auth_after_first |= plan.v[au].deps[j] == first;
				assert_int_not_equal(plan.v[plan.v[au].deps[j]].kind, CG_KIND_RING);
			}
			assert_true(auth_after_first);
			assert_int_equal(cg_plan_check_acyclic(&plan, &err), 0);
		}
		cg_plan_free(&plan);
		cg_rset_free(&d);
	}
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

static const struct cg_action *action_at(const struct cg_plan *plan, const char *addr)
{
	for (int i = 0; i < plan->n; i++)
		if (!strcmp(plan->v[i].addr, addr))
			return &plan->v[i];
	return NULL;
}

static bool waits_for(const struct cg_plan *plan, const struct cg_action *a, const char *addr)
{
	for (int k = 0; k < a->ndeps; k++)
		if (!strcmp(plan->v[a->deps[k]].addr, addr))
			return true;
	return false;
}

/* The plan of the keyspaces test config against world. */
static void keyspace_plan(struct cg_config *cfg, struct cg_zonemap *zm, struct cg_rset *world,
			  struct cg_plan *plan)
{
	struct cg_rset d;
	struct cg_err err = {0};
	cg_rset_init(&d);
	assert_int_equal(cg_model_build(&cfg->clusters[0], zm, world, ~0u, &d, &err), 0);
	if (cg_plan_diff("Small", &d, world, world, ~0u, plan, &err))
		fail_msg("%s", err.msg);
	cg_rset_free(&d);
}

/* Keyspaces declared in the config: created after the ring and auth with
 * their replication in the config's DC order (default: min(3, nodes)); an
 * RF raised says so per DC with the repair that follows; a repair left
 * unfinished is owed again; an RF lowered goes before the decommission; a
 * keyspace removed from the config is only forgotten, with a note, and
 * counts as nothing destroyed. */
static void test_keyspaces(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/keyspaces.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world, none;
	struct cg_plan plan;

	zones_for(&zm);
	cg_rset_init(&world);
	cg_rset_init(&none);
	keyspace_plan(cfg, &zm, &none, &plan);
	const struct cg_action *app = action_at(&plan, "keyspace.app");
	const struct cg_action *logs = action_at(&plan, "keyspace.logs");
	assert_non_null(app);
	assert_non_null(logs);
	assert_int_equal(app->op, CG_OP_CREATE);
	assert_string_equal(cg_res_get(&app->desired, "replication"), "DC1:3,DC2:1");
	assert_string_equal(cg_res_get(&app->desired, "durable_writes"), "true");
	assert_string_equal(cg_res_get(&logs->desired, "replication"), "DC1:3,DC2:2");
	assert_string_equal(cg_res_get(&logs->desired, "durable_writes"), "false");
	assert_true(waits_for(&plan, app, "ring") && waits_for(&plan, app, "auth"));
	cg_plan_free(&plan);

	/* applied, the world as the model wants it (configs rendered with
	 * every address known); then DC2's RF raised (and a third node there) */
	applied(c, &zm, &world);
	world_at(&world, "on");
	struct cg_rset d1;
	struct cg_err err = {0};
	cg_rset_init(&d1);
	assert_int_equal(cg_model_build(c, &zm, &world, ~0u, &d1, &err), 0);
	for (int i = 0; i < d1.n; i++)
		for (int k = 0; k < d1.v[i].nattrs; k++)
			if (d1.v[i].attrs[k].value)
				cg_res_set(cg_rset_find(&world, d1.v[i].addr), d1.v[i].attrs[k].key,
					   d1.v[i].attrs[k].value, 0);
	cg_rset_free(&d1);
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_int_equal(plan.n, 0);
	cg_plan_free(&plan);
	c->dcs[1].nodes = 3;
	c->keyspaces[0].rf[1] = 3;
	keyspace_plan(cfg, &zm, &world, &plan);
	app = action_at(&plan, "keyspace.app");
	assert_non_null(app);
	assert_int_equal(app->op, CG_OP_UPDATE);
	assert_string_equal(app->reason, "DC2 1 -> 3; then a full repair of app in DC2 (nodetool "
			    "repair -full app on each of its nodes, one at a time)");
	assert_true(waits_for(&plan, app, "ring"));
	cg_plan_free(&plan);
	c->dcs[1].nodes = 2;
	c->keyspaces[0].rf[1] = 1;

	/* an apply stopped between the ALTER and the end of the repair: the
	 * refresh says a repair is still owed in DC2 */
	struct cg_resource *w = cg_rset_find(&world, "keyspace.app");
	cg_res_set(w, "repair", CG_KEYSPACE_PENDING "DC2", 0);
	keyspace_plan(cfg, &zm, &world, &plan);
	app = action_at(&plan, "keyspace.app");
	assert_non_null(app);
	assert_string_equal(app->reason, "the full repair after the last RF raise did not finish (an "
			    "interrupted apply); then a full repair of app in DC2 (nodetool repair "
			    "-full app on each of its nodes, one at a time)");
	cg_plan_free(&plan);
	cg_res_set(w, "repair", CG_KEYSPACE_REPAIRED, 0);

	/* one node less in DC1, RF 3 -> 2 there: no repair, before the
	 * decommission, not after the ring check */
	c->dcs[0].nodes = 2;
	c->keyspaces[0].rf[0] = 2;
	keyspace_plan(cfg, &zm, &world, &plan);
	app = action_at(&plan, "keyspace.app");
	assert_string_equal(app->reason, "DC1 3 -> 2; before the decommissions");
	const struct cg_action *svc = NULL;
	for (int i = 0; i < plan.n; i++)
		if (!strcmp(plan.v[i].addr, "service.DC1.n3") && plan.v[i].op == CG_OP_DELETE)
			svc = &plan.v[i];
	assert_non_null(svc);
	assert_true(waits_for(&plan, svc, "keyspace.app"));
	assert_false(waits_for(&plan, app, "ring"));
	assert_int_equal(cg_plan_check_acyclic(&plan, &(struct cg_err){0}), 0);
	cg_plan_free(&plan);
	c->dcs[0].nodes = 3;
	c->keyspaces[0].rf[0] = 3;

	/* a DC added (the ring does not have DC2 yet) or removed: the user
	 * keyspaces the config does not declare are named, not carried along */
	struct cg_resource *ring = cg_rset_find(&world, "ring");
	cg_res_set(ring, "undeclared_keyspaces", "legacy,metrics", CG_ATTR_INFO);
	cg_res_set(ring, "dcs", "DC1:3", 0);
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_non_null(plan_note(&plan, "keyspace legacy is not declared: it will not be "
				  "replicated to DC2 (declare it under keyspaces: for cassandgo to)"));
	assert_non_null(plan_note(&plan, "keyspace metrics is not declared: it will not be"));
	cg_plan_free(&plan);
	cg_res_set(ring, "dcs", "DC1:3,DC2:2,DC3:3", 0);
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_non_null(plan_note(&plan, "keyspace legacy is not declared: cassandgo leaves its "
				  "replication in DC3 as it is"));
	cg_plan_free(&plan);
	cg_res_set(ring, "dcs", "DC1:3,DC2:2", 0);
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_null(plan_note(&plan, "is not declared"));	/* no DC change: nothing to say */
	cg_plan_free(&plan);

	/* logs removed from the config: forgotten, never dropped */
	c->nkeyspaces = 1;
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_int_equal(plan.n, 1);
	logs = action_at(&plan, "keyspace.logs");
	assert_int_equal(logs->op, CG_OP_DELETE);
	assert_true(logs->forget);
	assert_string_equal(logs->reason, "removed from the configuration: cassandgo never drops a "
			    "keyspace; its data stays");
	assert_non_null(plan_note(&plan, "keyspace.logs is no longer in the configuration"));
	assert_int_equal(plan.destroy, 0);
	cg_plan_free(&plan);
	c->nkeyspaces = 2;

	cg_rset_free(&world);
	cg_rset_free(&none);
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

/* --- rolling upgrade -------------------------------------------------- */

static int act(const struct cg_plan *plan, const char *addr)
{
	for (int i = 0; i < plan->n; i++)
		if (!strcmp(plan->v[i].addr, addr) && plan->v[i].op != CG_OP_DELETE)
			return i;
	return -1;
}

static bool has_dep(const struct cg_plan *plan, const char *a, const char *on)
{
	int i = act(plan, a), j = act(plan, on);
	assert_true(i >= 0 && j >= 0);
	for (int k = 0; k < plan->v[i].ndeps; k++)
		if (plan->v[i].deps[k] == j)
			return true;
	return false;
}

/* The world of small.yaml at release from, every node running it. */
static void world_at_release(struct cg_cluster *c, const struct cg_zonemap *zm, const char *from,
			     struct cg_rset *world)
{
	char *want = c->cassandra_version;
	c->cassandra_version = (char *)from;
	cg_rset_init(world);
	applied(c, zm, world);
	/* the configs rendered (a first plan knows no address yet) */
	struct cg_rset d;
	struct cg_err err = {0};
	cg_rset_init(&d);
	assert_int_equal(cg_model_build(c, zm, world, ~0u, &d, &err), 0);
	for (int i = 0; i < d.n; i++) {
		const struct cg_resource *r = &d.v[i];
		if (r->kind != CG_KIND_CONFIG)
			continue;
		struct cg_resource *w = cg_rset_find(world, r->addr);
		cg_res_set(w, "hash", cg_res_get(r, "hash"), 0);
		cg_res_set(w, "seeds", cg_res_get(r, "seeds"), 0);
		cg_res_set(w, "inputs", cg_res_get(r, "inputs"), CG_ATTR_INFO);
		char *sa = cg_xasprintf("service.%s", strchr(r->addr, '.') + 1);
		cg_res_set(cg_rset_find(world, sa), "config_hash", cg_res_get(r, "hash"), 0);
		free(sa);
	}
	cg_rset_free(&d);
	c->cassandra_version = want;
	for (int i = 0; i < world->n; i++)
		if (world->v[i].kind == CG_KIND_SERVICE)
			cg_res_set(&world->v[i], "running", "true", 0);
}

static int upgrade_plan(struct cg_cluster *c, const struct cg_zonemap *zm,
			const struct cg_rset *world, struct cg_plan *plan, struct cg_err *err)
{
	struct cg_rset d;
	cg_rset_init(&d);
	assert_int_equal(cg_model_build(c, zm, world, ~0u, &d, err), 0);
	int rc = cg_plan_diff("Small", &d, world, world, ~0u, plan, err);
	cg_rset_free(&d);
	return rc;
}

/* --- the seed list: reloaded, not restarted ------------------------------ */

static int count_kind(const struct cg_plan *plan, enum cg_kind k, enum cg_op op)
{
	int n = 0;
	for (int i = 0; i < plan->n; i++)
		n += plan->v[i].kind == k && plan->v[i].op == op;
	return n;
}

/* A change of the seeds alone (a seed more, a seed machine replaced)
 * rewrites every config and reloads it on the running node: config
 * updates that say so, no service action, so no restart and no ring check.
 * With another change beside it, each node restarts once. */
static void test_seeds_reload(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;
	struct cg_plan plan;
	struct cg_err err = {0};

	zones_for(&zm);
	world_at_release(c, &zm, c->cassandra_version, &world);
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), 0);
	/* (the test world has no peers' CIDRs nor monitoring targets) */
	for (int i = 0; i < plan.n; i++)
		assert_false(plan.v[i].kind == CG_KIND_CONFIG || plan.v[i].kind == CG_KIND_SERVICE);
	cg_plan_free(&plan);

	/* DC1 gets a second seed: its n2 joins every node's list */
	c->dcs[0].seeds = 2;
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), 0);
	assert_int_equal(count_kind(&plan, CG_KIND_CONFIG, CG_OP_UPDATE), 5);
	assert_int_equal(count_kind(&plan, CG_KIND_SERVICE, CG_OP_UPDATE), 0);
	assert_int_equal(act(&plan, "ring"), -1);
	int ci = act(&plan, "config.DC2.n2");
	assert_true(ci >= 0);
	const char *seeds1 = cg_res_get(&plan.v[ci].current, "seeds");
	const char *seeds2 = cg_res_get(&plan.v[ci].desired, "seeds");
	assert_non_null(seeds1);
	assert_non_null(seeds2);
	assert_true(strlen(seeds2) > strlen(seeds1));
	assert_string_equal(cg_res_get(&plan.v[ci].current, "hash"),
			    cg_res_get(&plan.v[ci].desired, "hash"));
	/* the reason names the seed added (the attribute lines show both lists) */
	assert_non_null(strstr(plan.v[ci].reason, "seeds +"));
	assert_non_null(strstr(plan.v[ci].reason, ": written to cassandra.yaml, reloaded without "
			       "restart (nodetool reloadseeds)"));
	assert_null(strstr(plan.v[ci].reason, " -"));
	struct cg_buf text = {0};
	cg_plan_render_text(&plan, false, &text);
	assert_non_null(strstr(text.data, "  ~ config.DC2.n2  (seeds +"));
	assert_null(strstr(text.data, "service."));
	cg_buf_free(&text);
	cg_plan_free(&plan);

	/* the same and another setting: one restart per node, the config's
	 * reason names both changes */
	char *heap = c->heap;
	c->heap = "7G";
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), 0);
	assert_int_equal(count_kind(&plan, CG_KIND_CONFIG, CG_OP_UPDATE), 5);
	assert_int_equal(count_kind(&plan, CG_KIND_SERVICE, CG_OP_UPDATE), 5);
	ci = act(&plan, "config.DC2.n2");
	assert_non_null(strstr(plan.v[ci].reason, "hash: "));
	assert_non_null(strstr(plan.v[ci].reason, "seeds: "));
	assert_null(strstr(plan.v[ci].reason, "without restart"));
	/* one at a time: every restart but the first waits for another */
	int chained = 0;
	for (int i = 0; i < plan.n; i++)
		for (int k = 0; plan.v[i].kind == CG_KIND_SERVICE && k < plan.v[i].ndeps; k++)
			chained += plan.v[plan.v[i].deps[k]].kind == CG_KIND_SERVICE &&
				   plan.v[plan.v[i].deps[k]].op == CG_OP_UPDATE;
	assert_int_equal(chained, 4);
	cg_plan_free(&plan);
	c->heap = heap;
	c->dcs[0].seeds = 1;

	/* DC1's seed machine is gone (terminated behind our back): a new one
	 * with an address known after apply. The other nodes' seeds are
	 * unknown, their hash is not: reloaded, no restart. */
	struct cg_resource *m = cg_rset_find(&world, "machine.DC1.n1");
	assert_non_null(m);
	cg_rset_remove_at(&world, (int)(m - world.v));
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), 0);
	assert_true(act(&plan, "machine.DC1.n1") >= 0);
	assert_int_equal(plan.v[act(&plan, "machine.DC1.n1")].op, CG_OP_CREATE);
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		if (!strcmp(a->addr + strcspn(a->addr, "."), ".DC1.n1"))
			continue;	/* the new node's own steps */
		if (a->kind == CG_KIND_SERVICE)
			fail_msg("%s restarts: %s", a->addr, a->reason);
		if (a->kind != CG_KIND_CONFIG)
			continue;
		assert_int_equal(a->op, CG_OP_UPDATE);
		assert_null(cg_res_get(&a->desired, "seeds"));
		assert_non_null(cg_res_get(&a->desired, "hash"));
		assert_string_equal(cg_res_get(&a->desired, "hash"), cg_res_get(&a->current, "hash"));
		assert_non_null(strstr(a->reason, "seeds change with a new seed machine"));
		assert_true(has_dep(&plan, a->addr, "machine.DC1.n1"));
	}
	assert_int_equal(count_kind(&plan, CG_KIND_CONFIG, CG_OP_UPDATE), 4);
	cg_plan_free(&plan);

	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* A node whose nodetool, cqlsh or credentials are missing (an apply killed
 * before its config step delivered them, or removed by hand): its config is
 * updated in place, nothing restarts, nothing else changes. */
static void test_tools_missing(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;
	struct cg_plan plan;
	struct cg_err err = {0};

	zones_for(&zm);
	world_at_release(c, &zm, c->cassandra_version, &world);
	cg_res_set(cg_rset_find(&world, "config.DC1.n2"), "tools", "missing", 0);
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), 0);
	/* (the region's resources of this pretend world are not all
	 * materialised: only the node steps count here) */
	int changes = 0;
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		bool node = a->kind == CG_KIND_INSTALL || a->kind == CG_KIND_CONFIG ||
			    a->kind == CG_KIND_SERVICE;
		if (a->op == CG_OP_NOOP || !node)
			continue;
		changes++;
		assert_string_equal(a->addr, "config.DC1.n2");
		assert_int_equal(a->op, CG_OP_UPDATE);
		assert_non_null(strstr(a->reason, "tools"));
	}
	assert_int_equal(changes, 1);
	cg_plan_free(&plan);
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* 5.0.6 -> 5.0.9 on DC1 x3, DC2 x2: per node drain/stop/install, then its
 * service; node after node, DC by DC; no upgradesstables (a patch). A run
 * killed with DC1.n2 stopped and installed resumes there. A downgrade and
 * a major jump are refused; a minor upgrade owes upgradesstables. */
static void test_upgrade(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/small.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;
	struct cg_plan plan;
	struct cg_err err = {0};
	char *pinned = c->cassandra_version;

	zones_for(&zm);
	world_at_release(c, &zm, "5.0.6", &world);
	c->cassandra_version = "5.0.9";
	if (upgrade_plan(c, &zm, &world, &plan, &err))
		fail_msg("%s", err.msg);
	static const char *const order[] = { "DC1.n1", "DC1.n2", "DC1.n3", "DC2.n1", "DC2.n2" };
	for (int k = 0; k < 5; k++) {
		char ia[32], sa[32], pa[32];
		snprintf(ia, sizeof(ia), "install.%s", order[k]);
		snprintf(sa, sizeof(sa), "service.%s", order[k]);
		int ii = act(&plan, ia), si = act(&plan, sa);
		assert_true(ii >= 0 && si >= 0);
		assert_non_null(strstr(plan.v[ii].reason, "upgrade 5.0.6 -> 5.0.9: nodetool drain, stop"));
		assert_non_null(strstr(plan.v[si].reason, "upgrade 5.0.6 -> 5.0.9: start 5.0.9"));
		if (k) {
			snprintf(pa, sizeof(pa), "service.%s", order[k - 1]);
			assert_true(has_dep(&plan, ia, pa));
			assert_true(has_dep(&plan, sa, pa));
		}
	}
	/* seeds first does not hold: DC2's seed waits for DC1's last node */
	assert_false(has_dep(&plan, "service.DC1.n2", "service.DC2.n1"));
	assert_non_null(plan_note(&plan, "rolling upgrade to Cassandra 5.0.9 (from 5.0.6): 5 nodes"));
	assert_non_null(plan_note(&plan, "no upgradesstables: a patch release"));
	assert_non_null(strstr(plan.v[act(&plan, "ring")].reason, "verify the ring"));
	cg_plan_free(&plan);
	/* apply --stage install would stop every node: refused */
	{
		struct cg_rset d;
		cg_rset_init(&d);
		unsigned upto = ~0u & ~(CG_KIND_BIT(CG_KIND_SERVICE) | CG_KIND_BIT(CG_KIND_RING));
		assert_int_equal(cg_model_build(c, &zm, &world, upto, &d, &err), 0);
		assert_int_equal(cg_plan_diff("Small", &d, &world, &world, upto, &plan, &err), -1);
		assert_non_null(strstr(err.msg, "cannot stop after the installs; apply without --stage"));
		cg_plan_free(&plan);
		cg_rset_free(&d);
	}

	/* killed after DC1.n1 and DC1.n2's install (drained, stopped) */
	cg_res_set(cg_rset_find(&world, "install.DC1.n1"), "version", "5.0.9", 0);
	cg_res_set(cg_rset_find(&world, "service.DC1.n1"), "version", "5.0.9", 0);
	cg_res_set(cg_rset_find(&world, "install.DC1.n2"), "version", "5.0.9", 0);
	cg_res_set(cg_rset_find(&world, "service.DC1.n2"), "running", "false", 0);
	if (upgrade_plan(c, &zm, &world, &plan, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(act(&plan, "install.DC1.n1"), -1);
	assert_int_equal(act(&plan, "service.DC1.n1"), -1);
	assert_int_equal(act(&plan, "install.DC1.n2"), -1);
	assert_non_null(strstr(plan.v[act(&plan, "service.DC1.n2")].reason, "it is down"));
	assert_true(has_dep(&plan, "install.DC1.n3", "service.DC1.n2"));
	assert_non_null(plan_note(&plan, "(from 5.0.6): 4 nodes"));
	cg_plan_free(&plan);
	cg_rset_free(&world);

	/* refused: older, or a major version skipped */
	world_at_release(c, &zm, "5.0.6", &world);
	c->cassandra_version = "5.0.5";
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "5.0.5 is older than the 5.0.6 that install.DC1.n1 runs: "
				       "a downgrade is refused"));
	assert_int_equal(err.code, CG_EXIT_CONFIG);
	cg_plan_free(&plan);
	cg_rset_free(&world);
	world_at_release(c, &zm, "4.1.10", &world);
	c->cassandra_version = "6.0.0";
	memset(&err, 0, sizeof(err));
	assert_int_equal(upgrade_plan(c, &zm, &world, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "jumps over a major version"));
	assert_non_null(strstr(err.msg, "set cassandra_version to a 5.x release first"));
	cg_plan_free(&plan);

	/* 4.1 -> 5.0: the on-disk format changes: upgradesstables after the
	 * last node (the ring step), also owed after a run killed before it */
	c->cassandra_version = "5.0.9";
	if (upgrade_plan(c, &zm, &world, &plan, &err))
		fail_msg("%s", err.msg);
	assert_non_null(plan_note(&plan, "then nodetool upgradesstables on every node"));
	int ri = act(&plan, "ring");
	assert_non_null(strstr(plan.v[ri].reason, "upgradesstables on every node, one at a time "
						   "(the on-disk format changes 4.1.10 -> 5.0.9)"));
	assert_string_equal(cg_res_get(&plan.v[ri].current, "release"), "4.1.10");
	assert_true(has_dep(&plan, "ring", "service.DC2.n2"));
	cg_plan_free(&plan);
	cg_rset_free(&world);
	world_at_release(c, &zm, "5.0.9", &world);
	cg_res_set(cg_rset_find(&world, "ring"), "release", "4.1.10", CG_ATTR_INFO);
	if (upgrade_plan(c, &zm, &world, &plan, &err))
		fail_msg("%s", err.msg);
	for (int i = 0; i < plan.n; i++)	/* no node step: only the ring's */
		assert_true(plan.v[i].kind != CG_KIND_INSTALL && plan.v[i].kind != CG_KIND_SERVICE);
	assert_non_null(strstr(plan.v[act(&plan, "ring")].reason, "the ring ran 4.1.10: after the "
							   "last node runs 5.0.9, nodetool upgradesstables"));
	cg_plan_free(&plan);
	cg_rset_free(&world);

	c->cassandra_version = pinned;
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* Releases, and what `nodetool describecluster` says of the schema. */
static void test_upgrade_rules(void **state)
{
	(void)state;
	struct cg_release r;
	assert_true(cg_upgrade_parse("5.0.9", &r));
	assert_int_equal(r.major * 10000 + r.minor * 100 + r.patch, 50009);
	assert_false(cg_upgrade_parse("5.0", &r));
	assert_false(cg_upgrade_parse("5.0.9-rc1", &r));
	assert_false(cg_upgrade_parse("5. 0.9", &r));
	assert_false(cg_upgrade_parse("1234.0.0", &r));
	assert_false(cg_upgrade_parse(NULL, &r));
	struct cg_err err = {0};
	assert_int_equal(cg_upgrade_check("n", "5.0.8", "5.0.9", &err), 0);
	assert_int_equal(cg_upgrade_check("n", "4.0.19", "5.0.9", &err), 0);
	assert_int_equal(cg_upgrade_check("n", "5.0.9", "5.0.9", &err), 0);
	assert_int_equal(cg_upgrade_check("n", "5.0.9", "5.0.10", &err), 0);
	assert_int_equal(cg_upgrade_check("n", "5.0.10", "5.0.9", &err), -1);
	assert_int_equal(cg_upgrade_check("n", "3.11.19", "5.0.9", &err), -1);
	assert_int_equal(cg_upgrade_check("n", "garbage", "5.0.9", &err), -1);
	assert_true(cg_upgrade_format_changes("4.1.10", "5.0.9"));
	assert_true(cg_upgrade_format_changes("5.0.9", "5.1.0"));
	assert_false(cg_upgrade_format_changes("5.0.8", "5.0.9"));
	assert_false(cg_upgrade_format_changes("5.0.8", "x"));

	int un = -1;
	const char *agree =
		"Cluster Information:\n\tName: Lab\n\tSnitch: org.apache.cassandra.locator.GossipingPropertyFileSnitch\n"
		"\tDynamicEndPointSnitch: enabled\n\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n"
		"\tSchema versions:\n\t\t86afa796-d883-3932-aa73-6b017cef0d19: [10.78.1.1, 10.78.2.1]\n"
		"\nStats for all nodes:\n\tLive: 2\n";
	assert_int_equal(cg_nodetool_schema_parse(agree, &un), 1);
	assert_int_equal(un, 0);
	/* nodetool 5.0's own layout: an empty line after each entry */
	const char *split =
		"Cluster Information:\n\tName: Lab\n\tSchema versions:\n"
		"\t\t86afa796-d883-3932-aa73-6b017cef0d19: [10.78.1.1]\n\n"
		"\t\t59adb24e-f3cd-3e02-97f0-5b395827453f: [10.78.2.1]\n\n"
		"\t\tUNREACHABLE: [10.78.1.2, 10.78.2.2]\n\n"
		"Stats for all nodes:\n\tLive: 2\n\tJoining: 0\n";
	assert_int_equal(cg_nodetool_schema_parse(split, &un), 2);
	assert_int_equal(un, 2);
	assert_int_equal(cg_nodetool_schema_parse("nodetool: Failed to connect\n", &un), -1);
	assert_int_equal(cg_nodetool_schema_parse(NULL, &un), -1);
	assert_int_equal(cg_nodetool_schema_parse("Schema versions:", &un), 0);
	/* a deeper section after it is not part of it */
	assert_int_equal(cg_nodetool_schema_parse("\tSchema versions:\n\t\tx: [a]\n\n\tData Centers:\n"
						  "\t\tDC1 #Nodes: 3\n", &un), 1);
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

/* Load nodes: instances of their DC's region (its zones, the default
 * type, on-demand), depending on its group and key pair and nothing on them;
 * the region's group admits CQL from itself; destroyed before the group. */
static void test_loaders(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/loaders.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset d0, world, none;
	struct cg_plan plan;
	struct cg_err err = {0};

	zones_for(&zm);
	cg_rset_init(&d0);
	cg_rset_init(&world);
	cg_rset_init(&none);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &d0, &err), 0);
	int loaders = 0;
	for (int i = 0; i < d0.n; i++) {
		const struct cg_resource *r = &d0.v[i];
		if (r->kind == CG_KIND_LOADER)
			loaders++;
		for (int k = 0; k < r->ndeps; k++)	/* nothing waits for a load node */
			assert_null(strstr(r->deps[k], "loader."));
	}
	assert_int_equal(loaders, 2);
	const struct cg_resource *l1 = cg_rset_find(&d0, "loader.DC1.n1");
	const struct cg_resource *l2 = cg_rset_find(&d0, "loader.DC3.n1");
	assert_non_null(l1);
	assert_non_null(l2);
	assert_null(cg_rset_find(&d0, "loader.DC2.n1"));
	assert_string_equal(l1->region, "eu-west-1");
	assert_string_equal(cg_res_get(l1, "node_type"), CG_STRESS_NODE_TYPE);
	assert_string_equal(cg_res_get(l1, "capacity"), "on-demand");
	assert_string_equal(cg_res_get(l1, "zone"), "eu-west-1a");
	assert_string_equal(cg_res_get(l2, "zone"), "eu-west-1b");
	assert_string_equal(cg_res_get(l2, "name"), "[DC3] load n1 Load");
	assert_true(cg_res_attr(l1, "node_type")->flags & CG_ATTR_FORCENEW);
	assert_int_equal(l1->ndeps, 2);
	assert_string_equal(cg_res_get(cg_rset_find(&d0, "network.eu-west-1"), "load_port"), "9042");
	assert_null(cg_res_get(cg_rset_find(&d0, "network.us-east-1"), "load_port"));

	/* the first plan creates them with the cloud stage; destroy ends them
	 * before their group */
	assert_int_equal(cg_plan_diff("Load", &d0, &none, &none, ~0u, &plan, &err), 0);
	int created = 0;
	for (int i = 0; i < plan.n; i++)
		created += plan.v[i].kind == CG_KIND_LOADER && plan.v[i].op == CG_OP_CREATE;
	assert_int_equal(created, 2);
	cg_plan_free(&plan);
	materialise(&d0, &world);
	assert_int_equal(cg_plan_diff("Load", &none, &world, &world, ~0u, &plan, &err), 0);
	bool seen = false;
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		if (a->kind != CG_KIND_NETWORK || strcmp(a->current.region, "eu-west-1"))
			continue;
		int before = 0;
		for (int k = 0; k < a->ndeps; k++)
			before += plan.v[a->deps[k]].kind == CG_KIND_LOADER;
		assert_int_equal(before, 2);
		seen = true;
	}
	assert_true(seen);
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
				  !strcmp(a->addr, "monitoring") || !strcmp(a->addr, "auth") ||
				  !strcmp(a->addr, "system_keyspaces");
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

/* install: upload: the plan says where each node's release comes from, and
 * a node waits for its region's first node to have it */
/* system_auth's repair after a raise: only DCs that had replicas and now
 * have more (a new DC is rebuilt; a lowered RF needs nothing) */
static void test_rf_raised(void **state)
{
	(void)state;
	struct { const char *from, *to, *want; } cases[] = {
		{"DC1:2,DC2:2", "DC1:3,DC2:2", "DC1"},
		{"DC1:2,DC2:1", "DC1:3,DC2:2", "DC1,DC2"},
		{"DC1:3,DC2:2", "DC1:2,DC2:2", NULL},		/* lowered */
		{"DC1:2", "DC1:2,DC3:2", NULL},			/* DC3 is new */
		{"DC1:2,DC10:1", "DC1:2,DC10:3", "DC10"},	/* names are whole */
		{"SimpleStrategy", "DC1:3", NULL},		/* security turned on */
		{NULL, "DC1:3", NULL},
		{"DC1:2", "", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cg_model_rf_raised(cases[i].from, cases[i].to);
		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
		free(got);
	}
}

static void test_upload(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/upload.yaml");
	struct cg_zonemap zm = {0};
	struct cg_rset desired, current;
	struct cg_plan plan;
	struct cg_err err = {0};
	zones_for(&zm);
	cg_rset_init(&desired);
	cg_rset_init(&current);
	assert_int_equal(cg_model_build(&cfg->clusters[0], &zm, NULL, ~0u, &desired, &err), 0);
	static const char *const want[][2] = {
		{ "install.DC1.n1", "operator" }, { "install.DC1.n2", "machine.DC1.n1" },
		{ "install.DC2.n1", "operator" }, { "install.DC2.n2", "machine.DC2.n1" },
		{ "install.DC3.n1", "machine.DC1.n1" },
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const struct cg_resource *r = cg_rset_find(&desired, want[k][0]);
		assert_non_null(r);
		assert_string_equal(cg_res_get(r, "method"), "upload");
		assert_string_equal(cg_res_get(r, "source"), want[k][1]);
	}
	/* the share port opens in each region's group */
	assert_string_equal(cg_res_get(cg_rset_find(&desired, "network.eu-west-1"), "release_port"),
			    "7080");
	assert_int_equal(cg_plan_diff("Up", &desired, &current, NULL, ~0u, &plan, &err), 0);
	assert_int_equal(cg_plan_check_acyclic(&plan, &err), 0);
	int first = -1, dc3 = -1, dc2n1 = -1;
	for (int i = 0; i < plan.n; i++) {
		if (!strcmp(plan.v[i].addr, "install.DC1.n1"))
			first = i;
		if (!strcmp(plan.v[i].addr, "install.DC3.n1"))
			dc3 = i;
		if (!strcmp(plan.v[i].addr, "install.DC2.n1"))
			dc2n1 = i;
	}
	assert_true(first >= 0 && dc3 >= 0 && dc2n1 >= 0);
	bool waits = false;
	for (int k = 0; k < plan.v[dc3].ndeps; k++)
		waits |= plan.v[dc3].deps[k] == first;
	assert_true(waits);
	for (int k = 0; k < plan.v[dc2n1].ndeps; k++)	/* first of its region: waits for none */
		assert_int_not_equal(plan.v[plan.v[dc2n1].deps[k]].kind, CG_KIND_INSTALL);
	cg_plan_free(&plan);
	cg_rset_free(&desired);
	cg_rset_free(&current);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

/* --- datacenters added and removed --------------------------------------- */

/* The world as the model of c wants it, given what it holds (twice: the
 * addresses, then what derives from them); records in skip are left out. */
static void converge(const struct cg_cluster *c, struct cg_zonemap *zm, struct cg_rset *world,
		     const char *const *skip)
{
	for (int round = 0; round < 2; round++) {
		struct cg_rset d, add;
		struct cg_err err = {0};
		cg_rset_init(&d);
		cg_rset_init(&add);
		assert_int_equal(cg_model_build(c, zm, world, ~0u, &d, &err), 0);
		for (int i = 0; i < d.n; i++) {
			bool skipped = false;
			for (int k = 0; skip && skip[k]; k++)
				skipped |= !strcmp(skip[k], d.v[i].addr);
			struct cg_resource *w = cg_rset_find(world, d.v[i].addr);
			if (skipped)
				continue;
			if (!w) {
				cg_rset_add(&add, &d.v[i]);
				continue;
			}
			for (int k = 0; k < d.v[i].nattrs; k++)
				if (d.v[i].attrs[k].value)
					cg_res_set(w, d.v[i].attrs[k].key, d.v[i].attrs[k].value,
						   d.v[i].attrs[k].flags);
		}
		materialise(&add, world);
		cg_rset_free(&add);
		cg_rset_free(&d);
	}
	world_at(world, "on");
	for (int i = 0; i < world->n; i++)
		if (world->v[i].kind == CG_KIND_CONFIG || world->v[i].kind == CG_KIND_SERVICE) {
			/* the hashes as the model renders them */
			struct cg_rset d;
			struct cg_err err = {0};
			cg_rset_init(&d);
			assert_int_equal(cg_model_build(c, zm, world, ~0u, &d, &err), 0);
			for (int j = 0; j < world->n; j++) {
				const struct cg_resource *dr = cg_rset_find(&d, world->v[j].addr);
				const char *h = dr ? cg_res_get(dr, "hash") : NULL;
				const char *ch = dr ? cg_res_get(dr, "config_hash") : NULL;
				if (h)
					cg_res_set(&world->v[j], "hash", h, 0);
				if (ch)
					cg_res_set(&world->v[j], "config_hash", ch, 0);
			}
			cg_rset_free(&d);
			break;
		}
}

/* DC3 added to a running DC1 + DC2: its nodes start empty, one at a time
 * (mode rebuild: auto_bootstrap false, no initial tokens); system keyspaces,
 * system_auth and the declared keyspaces gain DC3 (no repair there) before
 * any rebuild; rebuilds two at a time, then the DC's check; an apply
 * stopped half-way reruns only the unfinished rebuilds. Then DC3 removed:
 * every keyspace leaves it before any decommission, its rebuilds and check
 * are forgotten with it. */
static void test_datacenters(void **state)
{
	(void)state;
	struct cg_config *cfg = load("plan/datacenters.yaml");
	struct cg_cluster *c = &cfg->clusters[0];
	struct cg_zonemap zm = {0};
	struct cg_rset world;
	struct cg_plan plan;

	zones_for(&zm);
	cg_rset_init(&world);
	c->ndcs = 2;
	applied(c, &zm, &world);
	converge(c, &zm, &world, NULL);
	keyspace_plan(cfg, &zm, &world, &plan);
	for (int i = 0; i < plan.n; i++)
		fprintf(stderr, "unexpected: %s %s (%s)\n", cg_op_name(plan.v[i].op), plan.v[i].addr,
			plan.v[i].reason ? plan.v[i].reason : "");
	assert_int_equal(plan.n, 0);
	assert_null(cg_rset_find(&world, "rebuild.DC1.n1"));
	assert_null(cg_rset_find(&world, "datacenter.DC1"));
	cg_plan_free(&plan);

	/* --- DC3 added */
	c->ndcs = 3;
	keyspace_plan(cfg, &zm, &world, &plan);
	const struct cg_action *cf = action_at(&plan, "config.DC3.n2");
	assert_non_null(cf);
	assert_string_equal(cg_res_get(&cf->desired, "mode"), "rebuild");
	assert_true(waits_for(&plan, action_at(&plan, "service.DC3.n2"), "service.DC3.n1"));
	const struct cg_action *app = action_at(&plan, "keyspace.app");
	assert_non_null(app);
	assert_string_equal(app->reason, "DC3 0 -> 1 (a new DC: its nodes are rebuilt after this)");
	const struct cg_action *logs = action_at(&plan, "keyspace.logs");
	assert_non_null(logs);
	assert_null(strstr(logs->reason, "repair"));
	const struct cg_action *sys = action_at(&plan, "system_keyspaces");
	assert_non_null(sys);
	assert_string_equal(sys->reason, "system_distributed,system_traces: DC3 0 -> 3 (a new DC: "
			    "its nodes are rebuilt after this)");
	assert_non_null(action_at(&plan, "auth"));
	for (int i = 1; i <= 3; i++) {
		char ra[32], sa[32];
		snprintf(ra, sizeof(ra), "rebuild.DC3.n%d", i);
		snprintf(sa, sizeof(sa), "service.DC3.n%d", i);
		const struct cg_action *rb = action_at(&plan, ra);
		assert_non_null(rb);
		assert_int_equal(rb->op, CG_OP_CREATE);
		assert_string_equal(cg_res_get(&rb->desired, "from"), "DC1");
		/* alter before rebuild */
		assert_true(waits_for(&plan, rb, "keyspace.app") && waits_for(&plan, rb, "keyspace.logs") &&
			    waits_for(&plan, rb, "system_keyspaces") && waits_for(&plan, rb, "auth") &&
			    waits_for(&plan, rb, sa));
		assert_true(waits_for(&plan, action_at(&plan, "datacenter.DC3"), ra));
	}
	assert_true(!strncmp(action_at(&plan, "rebuild.DC3.n1")->reason, "rebuild DC3 n1 from DC1: "
			     "nodetool rebuild -- DC1", 48));
	/* two at a time */
	assert_true(waits_for(&plan, action_at(&plan, "rebuild.DC3.n3"), "rebuild.DC3.n1"));
	assert_false(waits_for(&plan, action_at(&plan, "rebuild.DC3.n2"), "rebuild.DC3.n1"));
	assert_non_null(plan_note(&plan, "DC3 joins the running ring"));
	assert_null(action_at(&plan, "rebuild.DC1.n1"));
	cg_plan_free(&plan);

	/* --- an apply stopped after DC3 n1's rebuild: n2 and n3 are rerun,
	 * the configs stay "rebuild", the check is still owed */
	const char *const left[] = {"rebuild.DC3.n2", "rebuild.DC3.n3", "datacenter.DC3", NULL};
	converge(c, &zm, &world, left);
	assert_non_null(cg_rset_find(&world, "rebuild.DC3.n1"));
	/* the node's files: auto_bootstrap false, the allocator's tokens */
	struct cg_node_spec spec;
	struct cg_node_files f;
	struct cg_err err = {0};
	assert_int_equal(cg_cassconf_spec(c, 2, 1, &world, cg_cassconf_mode_new("rebuild"), &spec,
					  &err), 1);
	cg_cassconf_mode_set(&spec, "rebuild");
	assert_int_equal(cg_cassconf_render(&spec, &f, &err), 0);
	assert_non_null(strstr(f.cassandra_yaml, "auto_bootstrap: false"));
	assert_non_null(strstr(f.cassandra_yaml, "allocate_tokens_for_local_replication_factor"));
	assert_null(strstr(f.cassandra_yaml, "initial_token"));
	cg_node_files_free(&f);
	cg_cassconf_spec_clear(&spec);

	keyspace_plan(cfg, &zm, &world, &plan);
	assert_null(action_at(&plan, "rebuild.DC3.n1"));
	assert_non_null(action_at(&plan, "rebuild.DC3.n2"));
	assert_non_null(action_at(&plan, "rebuild.DC3.n3"));
	assert_non_null(action_at(&plan, "datacenter.DC3"));
	assert_null(action_at(&plan, "keyspace.app"));
	assert_int_equal(plan.n, 3);
	cg_plan_free(&plan);

	/* --- done: nothing to do; a node added to DC3 later joins (bootstraps) */
	converge(c, &zm, &world, NULL);
	keyspace_plan(cfg, &zm, &world, &plan);
	assert_int_equal(plan.n, 0);
	cg_plan_free(&plan);
	c->dcs[2].nodes = 4;
	keyspace_plan(cfg, &zm, &world, &plan);
	cf = action_at(&plan, "config.DC3.n4");
	assert_non_null(cf);
	assert_string_equal(cg_res_get(&cf->desired, "mode"), "join");
	assert_null(action_at(&plan, "rebuild.DC3.n4") ? NULL : "no rebuild");
	cg_plan_free(&plan);
	c->dcs[2].nodes = 3;

	/* --- DC3 removed: keyspaces off it before any decommission */
	c->ndcs = 2;
	keyspace_plan(cfg, &zm, &world, &plan);
	app = action_at(&plan, "keyspace.app");
	sys = action_at(&plan, "system_keyspaces");
	assert_non_null(app);
	assert_non_null(sys);
	assert_string_equal(app->reason, "DC3 1 -> 0; before the decommissions");
	assert_string_equal(sys->reason, "system_distributed,system_traces: DC3 3 -> 0; before "
			    "the decommissions");
	for (int i = 1; i <= 3; i++) {
		char a[32];
		snprintf(a, sizeof(a), "service.DC3.n%d", i);
		const struct cg_action *svc = NULL;
		for (int k = 0; k < plan.n; k++)
			if (!strcmp(plan.v[k].addr, a) && plan.v[k].op == CG_OP_DELETE)
				svc = &plan.v[k];
		assert_non_null(svc);
		assert_false(svc->forget);
		assert_true(waits_for(&plan, svc, "keyspace.app") && waits_for(&plan, svc, "keyspace.logs") &&
			    waits_for(&plan, svc, "system_keyspaces"));
		/* system_auth cannot leave a DC with live nodes (Cassandra
		 * refuses): it goes after the decommissions, through the ring */
		assert_false(waits_for(&plan, svc, "auth"));
		snprintf(a, sizeof(a), "rebuild.DC3.n%d", i);
		const struct cg_action *rb = action_at(&plan, a);
		assert_non_null(rb);
		assert_true(rb->op == CG_OP_DELETE && rb->forget);
	}
	assert_false(waits_for(&plan, app, "ring"));
	assert_false(waits_for(&plan, app, "auth"));
	const struct cg_action *au = action_at(&plan, "auth");
	assert_non_null(au);
	{	/* security on: after the ring, which waits for the decommissions */
		assert_true(waits_for(&plan, au, "ring"));
		assert_non_null(strstr(au->reason, "once their nodes are gone"));
	}
	const struct cg_action *dc = action_at(&plan, "datacenter.DC3");
	assert_non_null(dc);
	assert_true(dc->op == CG_OP_DELETE && dc->forget);
	assert_non_null(plan_note(&plan, "DC3 leaves the ring: every keyspace stops replicating"));
	cg_plan_free(&plan);

	/* the DC's check: tokens read through the old DC (first) must read
	 * back through the new one; rows written in between only add, and a
	 * read that hit its limit is compared up to its last token */
	const long long src[] = {-9, -5, -5, 1, 7, 12};
	const long long all[] = {-9, -6, -5, -5, 1, 7, 12}, holes[] = {-9, 1, 12};
	assert_int_equal(cg_cassconf_tokens_missing(src, 6, all, 7, 1000), 0);
	assert_int_equal(cg_cassconf_tokens_missing(src, 6, holes, 3, 1000), 3);
	assert_int_equal(cg_cassconf_tokens_missing(src, 6, all, 4, 4), 0);	/* up to -5 */
	assert_int_equal(cg_cassconf_tokens_missing(src, 6, holes, 2, 2), 2);	/* -5, -5 */
	/* a rebuild's progress, from nodetool netstats */
	struct cg_receiving rv;
	assert_int_equal(cg_nodetool_receiving_parse(
		"Mode: NORMAL\nRebuild 9c6a\n    /10.88.1.1\n        Receiving 3 files, 1234 bytes "
		"total. Already received 1 files (33.33%), 567 bytes total (45.95%)\n"
		"    /10.88.1.2\n        Receiving 2 files, 100 bytes total. Already received 2 files "
		"(100.00%), 100 bytes total (100.00%)\nRead Repair Statistics:\n", &rv), 0);
	assert_true(rv.files == 5 && rv.files_done == 3 && rv.bytes == 1334 && rv.bytes_done == 667);
	assert_int_equal(cg_nodetool_receiving_parse("Mode: NORMAL\nNot sending any streams.\n", &rv),
			 -1);
	/* the fuzzer's finding: a count too long for long long (sscanf
	 * saturates it) overflowed the sum; such a line, or a negative
	 * count, is not taken, the others are */
	assert_int_equal(cg_nodetool_receiving_parse(
		"Rebuild 9c6a\n    /10.88.1.1\n        Receiving 3 files, "
		"66666666666666666666666666666666666666661234 bytes total. Already received 1 files "
		"(33.33%), 567 bytes total (45.95%)\n    /10.88.1.2\n        Receiving 3 files, 1234 "
		"bytes total. Already received 1 files (33.33%), 567 bytes total (45.95%)\n"
		"        Receiving -3 files, 1 bytes total. Already received 1 files (1%), 1 bytes "
		"total (1%)\n", &rv), 0);
	assert_true(rv.files == 3 && rv.files_done == 1 && rv.bytes == 1234 && rv.bytes_done == 567);
	assert_int_equal(cg_nodetool_receiving_parse(
		"Receiving 3 files, 99999999999999999999 bytes total. Already received 1 files "
		"(1%), 1 bytes total (1%)\n", &rv), -1);
	/* a rebuild refused after one a stopped apply left running (5.0's
	 * words, ranges cut down): done when every range to fetch is fully
	 * available */
	const char *refused =
		"nodetool: Discovered existing bootstrap data and cassandra.reset_bootstrap_progress "
		"is not configured; aborting bootstrap. Please clean up local files manually and try "
		"again or set cassandra.reset_bootstrap_progress=true to ignore. Found: "
		"[FetchReplica{local=Full(/10.88.3.1:7000,(-768,-693]), remote=Full(/10.88.1.1:7000,"
		"(-768,-693])}, FetchReplica{local=Full(/10.88.3.1:7000,(-8,100]), remote=Full("
		"/10.88.1.1:7000,(-8,100])}, FetchReplica{local=Full(/10.88.3.1:7000,(8839,-9223]), "
		"remote=Full(/10.88.1.1:7000,(8839,-9223])}]. Fully available: [(100,381], (8839,-9223]"
		", (-768,-693], (-8,100]]. Transiently available: []\n"
		"See 'nodetool help' or 'nodetool help <command>'.\n";
	assert_int_equal(cg_nodetool_rebuild_done(refused), 1);
	char *part = cg_xstrdup(refused);
	char *gap = strstr(part, ", (-8,100]]");	/* (-8,100] not available: */
	memcpy(gap, ", (-9,100]]", 11);
	assert_int_equal(cg_nodetool_rebuild_done(part), 0);
	/* a range that only starts like an available one is not it */
	memcpy(gap, ", (-8,1000]", 11);
	assert_int_equal(cg_nodetool_rebuild_done(part), 0);
	free(part);
	assert_int_equal(cg_nodetool_rebuild_done("nodetool: Node is still rebuilding. Check "
						  "nodetool netstats.\n"), -1);
	assert_int_equal(cg_nodetool_rebuild_done(NULL), -1);
	c->ndcs = 3;		/* as loaded, for cg_config_free */

	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_create),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_rf_raised),
		cmocka_unit_test(test_golden_changes),
		cmocka_unit_test(test_security_steps),
		cmocka_unit_test(test_auth_rf_before_decommission),
		cmocka_unit_test(test_keyspaces),
		cmocka_unit_test(test_join_mode),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_seeds_reload),
		cmocka_unit_test(test_upgrade_rules),
		cmocka_unit_test(test_tools_missing),
		cmocka_unit_test(test_destroy_order),
		cmocka_unit_test(test_loaders),
		cmocka_unit_test(test_exec_failure_propagation),
		cmocka_unit_test(test_datacenters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
