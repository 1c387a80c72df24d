/* test_faults.c - the chaos faults as plan and status see them
 * (planner/faults.c) and the plan's heal of a faulted service (plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../planner/faults.h"
#include "../../planner/plan.h"

/* 2026-12-06 16:20:00 UTC */
#define T0 1796574000

static struct cg_resource *machine(struct cg_rset *s, const char *dc, int node, const char *zone)
{
	char *a = cg_addr_node(CG_KIND_MACHINE, dc, node);
	struct cg_resource *m = cg_rset_new(s, CG_KIND_MACHINE, a);
	free(a);
	m->dc = cg_xstrdup(dc);
	m->node = node;
	cg_res_set(m, "zone", zone, 0);
	return m;
}

static struct cg_resource *service(struct cg_rset *s, const char *dc, int node, const char *running)
{
	char *a = cg_addr_node(CG_KIND_SERVICE, dc, node);
	struct cg_resource *r = cg_rset_new(s, CG_KIND_SERVICE, a);
	free(a);
	r->dc = cg_xstrdup(dc);
	r->node = node;
	cg_res_set(r, "running", running, 0);
	cg_res_set(r, "config_hash", "h1", 0);
	return r;
}

static void test_hits_and_what(void **state)
{
	(void)state;
	struct cg_rset s;
	cg_rset_init(&s);
	machine(&s, "DC1", 2, "z1a");
	machine(&s, "DC2", 1, "z2b");
	struct cg_fault kill = {.kind = "kill", .target = "DC1.n2", .since = T0};
	struct cg_fault part = {.kind = "partition", .target = "z2b", .since = T0};
	struct cg_fault pause = {.kind = "pause", .target = "DC2.n1", .detail = "90s",
				 .since = T0, .until = T0 + 90};
	struct cg_fault delay = {.kind = "delay", .target = "DC1", .detail = "50ms", .since = T0};
	assert_true(cg_fault_hits(&kill, &s.v[0]));
	assert_false(cg_fault_hits(&kill, &s.v[1]));
	assert_false(cg_fault_hits(&part, &s.v[0]));
	assert_true(cg_fault_hits(&part, &s.v[1]));	/* by zone */
	assert_true(cg_fault_hits(&delay, &s.v[0]));	/* by DC */
	assert_true(cg_fault_active(&pause, T0 + 89));
	assert_false(cg_fault_active(&pause, T0 + 90));
	assert_true(cg_fault_active(&kill, T0 + 100000));
	char *w = cg_fault_what(&kill);
	assert_string_equal(w, "killed at 16:20");
	free(w);
	w = cg_fault_what(&pause);
	assert_string_equal(w, "paused at 16:20 until 16:21");
	free(w);
	w = cg_fault_what(&delay);
	assert_string_equal(w, "delayed 50ms (DC1) at 16:20");
	free(w);
	cg_rset_free(&s);
}

static void test_mark_and_render(void **state)
{
	(void)state;
	struct cg_rset s;
	cg_rset_init(&s);
	machine(&s, "DC1", 1, "z1a");
	machine(&s, "DC2", 1, "z2a");
	machine(&s, "DC2", 2, "z2b");
	service(&s, "DC1", 1, "true");
	service(&s, "DC2", 1, "false");
	service(&s, "DC2", 2, "true");
	struct cg_fault v[] = {
		{.kind = "stop", .target = "DC2.n1", .since = T0},
		{.kind = "partition", .target = "DC2", .since = T0 + 60},
		{.kind = "pause", .target = "DC1.n1", .detail = "5s", .since = T0, .until = T0 + 5},
	};
	cg_faults_mark(v, 3, T0 + 120, &s);
	assert_null(cg_res_get(cg_rset_find(&s, "service.DC1.n1"), "chaos"));	/* over */
	assert_string_equal(cg_res_get(cg_rset_find(&s, "service.DC2.n1"), "chaos"),
			    "stopped at 16:20; partitioned (DC2) at 16:21");
	assert_string_equal(cg_res_get(cg_rset_find(&s, "service.DC2.n2"), "chaos"),
			    "partitioned (DC2) at 16:21");
	struct cg_buf b = {0};
	cg_faults_render_json(v, 3, T0 + 120, &b);
	assert_string_equal(b.data, "[{\"kind\": \"stop\", \"target\": \"DC2.n1\", \"detail\": \"\", "
			    "\"since\": \"2026-12-06T16:20:00Z\", \"until\": null}, {\"kind\": "
			    "\"partition\", \"target\": \"DC2\", \"detail\": \"\", \"since\": "
			    "\"2026-12-06T16:21:00Z\", \"until\": null}]");
	cg_buf_reset(&b);
	cg_faults_render_text(v, 3, T0 + 120, &b);
	assert_non_null(strstr(b.data, "Active faults"));
	assert_non_null(strstr(b.data, "stop       DC2.n1       stopped at 16:20\n"));
	assert_null(strstr(b.data, "pause"));
	cg_buf_reset(&b);
	cg_faults_render_text(v + 2, 1, T0 + 120, &b);	/* none in force: nothing */
	assert_null(b.data && *b.data ? b.data : NULL);
	cg_buf_free(&b);
	cg_rset_free(&s);
}

/* A killed node: its service is updated in place (a restart) for the fault,
 * not for "running"; a partitioned one that runs is healed too; without a
 * fault a stopped service still says why. */
static void test_plan_heals(void **state)
{
	(void)state;
	struct cg_rset desired, current;
	cg_rset_init(&desired);
	cg_rset_init(&current);
	service(&desired, "DC1", 1, "true");
	service(&desired, "DC1", 2, "true");
	service(&desired, "DC2", 1, "true");
	service(&current, "DC1", 1, "false");
	service(&current, "DC1", 2, "true");
	service(&current, "DC2", 1, "false");
	cg_res_set(cg_rset_find(&current, "service.DC1.n1"), "chaos", "killed at 16:20", CG_ATTR_INFO);
	cg_res_set(cg_rset_find(&current, "service.DC1.n2"), "chaos", "partitioned (DC1) at 16:21",
		   CG_ATTR_INFO);
	struct cg_plan plan;
	struct cg_err err = {0};
	assert_int_equal(cg_plan_diff("Lab", &desired, &current, NULL, ~0u, &plan, &err), 0);
	assert_int_equal(plan.n, 3);
	int seen = 0;
	for (int i = 0; i < plan.n; i++) {
		const struct cg_action *a = &plan.v[i];
		assert_int_equal(a->op, CG_OP_UPDATE);
		if (!strcmp(a->addr, "service.DC1.n1"))
			seen++, assert_string_equal(a->reason, "chaos: killed at 16:20");
		if (!strcmp(a->addr, "service.DC1.n2"))
			seen++, assert_string_equal(a->reason, "chaos: partitioned (DC1) at 16:21");
		if (!strcmp(a->addr, "service.DC2.n1"))
			seen++, assert_string_equal(a->reason, "running: \"false\" -> \"true\"");
	}
	assert_int_equal(seen, 3);
	assert_int_equal(plan.add, 0);
	assert_int_equal(plan.destroy, 0);
	cg_plan_free(&plan);
	cg_rset_free(&desired);
	cg_rset_free(&current);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hits_and_what),
		cmocka_unit_test(test_mark_and_render),
		cmocka_unit_test(test_plan_heals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
