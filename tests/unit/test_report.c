/*
 * test_report.c - golden tests of the operator's renderers (planner/report.h)
 * and of apply's progress lines (cmd/progress.c): fixed inputs, the exact
 * bytes in tests/report/. CG_UPDATE_GOLDEN=1 rewrites the files (review the
 * diff before committing).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../planner/report.h"
#include "../../planner/plan.h"
/* The progress renderer lives in the command layer, outside the library. */
#include "../../cmd/progress.c"

static void golden(const char *name, const char *got)
{
	char path[256];
	snprintf(path, sizeof(path), "report/%s", name);
	struct cg_err err = {0};
	if (getenv("CG_UPDATE_GOLDEN")) {
		assert_int_equal(cg_file_write_atomic(path, got, strlen(got), 0644, &err), 0);
		return;
	}
	char *want = NULL;
	size_t len = 0;
	if (cg_file_read(path, &want, &len, &err) < 0)
		fail_msg("%s: %s (CG_UPDATE_GOLDEN=1 writes it)", path, err.msg);
	if (strcmp(want, got)) {
		fprintf(stderr, "--- %s (golden)\n%s--- got\n%s---\n", path, want, got);
		free(want);
		fail_msg("%s differs", path);
	}
	free(want);
}

/* --- latency --------------------------------------------------------------- */

static struct cg_lat_pair *pair(struct cg_latency *l, enum cg_lat_scope sc, const char *dc,
				const char *a, const char *b, const char *from, const char *to,
				const long *us, int n)
{
	struct cg_lat_pair *p = cg_latency_add(l, sc, dc, a, b);
	p->from = cg_xstrdup(from);
	p->to = cg_xstrdup(to);
	p->from_ip = cg_xasprintf("10.0.%d.1", (int)strlen(from));
	p->to_ip = cg_xasprintf("10.0.%d.2", (int)strlen(to));
	p->method = cg_xstrdup("tcp:7000");
	cg_latency_summarise(p, us, n);
	return p;
}

/* The 2014 README's cluster: 3 DCs; DC3 has a zone pair, one DC pair failed. */
static void seed_latency(struct cg_latency *l)
{
	static const char *dcs[][2] = {{"DC1", "eu-west-1"}, {"DC2", "us-east-1"}, {"DC3", "us-west-1"}};
	memset(l, 0, sizeof(*l));
	l->cluster = cg_xstrdup("MultiDC");
	l->ndcs = 3;
	l->dcs = cg_xcalloc(3, sizeof(*l->dcs));
	for (int i = 0; i < 3; i++) {
		l->dcs[i].name = cg_xstrdup(dcs[i][0]);
		l->dcs[i].region = cg_xstrdup(dcs[i][1]);
	}
	long a[] = {960, 950, 970, 960, 960}, b[] = {890, -1, 880, 900, 890}, c[] = {660, 650, 670};
	long d[] = {970, 980, 960}, e[] = {1430, 1440, 1420};
	long x[] = {85620, 85600, 85640}, y[] = {83270, 83200, 83340}, z[] = {-1, -1, -1};
	pair(l, CG_LAT_ZONE, "DC1", "eu-west-1a", "eu-west-1b", "DC1.n1", "DC1.n2", a, 5);
	pair(l, CG_LAT_ZONE, "DC1", "eu-west-1a", "eu-west-1c", "DC1.n1", "DC1.n3", b, 5);
	pair(l, CG_LAT_ZONE, "DC1", "eu-west-1b", "eu-west-1c", "DC1.n2", "DC1.n3", c, 3);
	pair(l, CG_LAT_ZONE, "DC2", "us-east-1a", "us-east-1c", "DC2.n1", "DC2.n2", d, 3);
	pair(l, CG_LAT_ZONE, "DC3", "us-west-1a", "us-west-1c", "DC3.n1", "DC3.n2", e, 3);
	pair(l, CG_LAT_DC, NULL, "DC1", "DC2", "DC1.n1", "DC2.n1", x, 3);
	pair(l, CG_LAT_DC, NULL, "DC2", "DC3", "DC2.n1", "DC3.n1", y, 3);
	struct cg_lat_pair *p = pair(l, CG_LAT_DC, NULL, "DC1", "DC3", "DC1.n1", "DC3.n1", z, 3);
	p->error = cg_xstrdup("tcp:7000: no answer from 10.0.6.2");
}

static void test_latency_summarise(void **st)
{
	(void)st;
	struct cg_lat_pair p;
	memset(&p, 0, sizeof(p));
	long us[] = {1500, -1, 500, 1000};
	assert_int_equal(cg_latency_summarise(&p, us, 4), 3);
	assert_int_equal(p.samples, 3);
	assert_true(p.min == 0.5 && p.max == 1.5 && p.avg == 1.0);
	long none[] = {-1, -1};
	assert_int_equal(cg_latency_summarise(&p, none, 2), 0);
	assert_int_equal(p.samples, 0);
}

static void test_latency_golden(void **st)
{
	(void)st;
	struct cg_latency l;
	struct cg_buf b = {0};
	seed_latency(&l);
	cg_report_latency_table(&l, &b);
	golden("latency-table.txt", b.data);
	cg_buf_reset(&b);
	cg_report_latency_boxes(&l, &b);
	golden("latency-boxes.txt", b.data);
	cg_buf_reset(&b);
	cg_report_latency_json(&l, &b);
	golden("latency.json", b.data);
	cg_buf_free(&b);
	cg_latency_free(&l);
}

/* One DC, one zone: nothing to measure, and no inter-DC section. */
static void test_latency_single(void **st)
{
	(void)st;
	struct cg_latency l;
	struct cg_buf b = {0};
	memset(&l, 0, sizeof(l));
	l.cluster = cg_xstrdup("Mono");
	l.ndcs = 1;
	l.dcs = cg_xcalloc(1, sizeof(*l.dcs));
	l.dcs[0].name = cg_xstrdup("DC1");
	l.dcs[0].region = cg_xstrdup("lab");
	cg_report_latency_boxes(&l, &b);
	cg_report_latency_table(&l, &b);
	golden("latency-single.txt", b.data);
	assert_null(strstr(b.data, "Inter-Cluster"));
	cg_buf_free(&b);
	cg_latency_free(&l);
}

/* --- status ---------------------------------------------------------------- */

static void status_case(const char *in, const char *out_txt, const char *out_json, int expected,
			int problems)
{
	char path[128], *text = NULL;
	size_t len;
	struct cg_err err = {0};
	struct cg_ring r = {0};
	struct cg_buf b = {0};
	snprintf(path, sizeof(path), "report/%s", in);
	assert_int_equal(cg_file_read(path, &text, &len, &err), 0);
	assert_int_equal(cg_nodetool_status_parse(text, &r, &err), 0);
	assert_int_equal(cg_report_ring_problems(&r, expected), problems);
	cg_report_status_text("Lab", "DC1.n1 (10.77.1.1)", &r, expected, false, &b);
	golden(out_txt, b.data);
	cg_buf_reset(&b);
	cg_report_status_json("Lab", "DC1.n1 (10.77.1.1)", &r, expected, NULL, &b);
	golden(out_json, b.data);
	cg_buf_free(&b);
	cg_ring_free(&r);
	free(text);
}

static void test_status_healthy(void **st)
{
	(void)st;
	status_case("status-healthy.txt", "status-healthy.out", "status-healthy.json", 4, 0);
}

/* DN, UL, UJ marked; one configured node missing from the ring. */
static void test_status_degraded(void **st)
{
	(void)st;
	status_case("status-degraded.txt", "status-degraded.out", "status-degraded.json", 6, 4);
}

static void test_status_color(void **st)
{
	(void)st;
	char *text = NULL;
	size_t len;
	struct cg_err err = {0};
	struct cg_ring r = {0};
	struct cg_buf b = {0};
	assert_int_equal(cg_file_read("report/status-degraded.txt", &text, &len, &err), 0);
	assert_int_equal(cg_nodetool_status_parse(text, &r, &err), 0);
	cg_report_status_text("Lab", "x", &r, -1, true, &b);
	assert_non_null(strstr(b.data, "\033[1;31m<-- DOWN\033[0m"));
	cg_buf_reset(&b);
	cg_report_status_text("Lab", "x", &r, -1, false, &b);
	assert_null(strchr(b.data, '\033'));
	cg_buf_free(&b);
	cg_ring_free(&r);
	free(text);
}

/* --- output ---------------------------------------------------------------- */

static void test_output_golden(void **st)
{
	(void)st;
	struct cg_conn c;
	struct cg_buf b = {0};
	memset(&c, 0, sizeof(c));
	c.cluster = cg_xstrdup("MultiDC");
	c.monitoring_url = cg_xstrdup("http://54.216.130.151:9090");
	static const char *nodes[][5] = {
		{"DC1", "eu-west-1", "eu-west-1a", "10.98.131.6", "54.216.130.151"},
		{"DC1", "eu-west-1", "eu-west-1b", "10.82.142.223", "54.73.120.163"},
		{"DC2", "us-east-1", "us-east-1a", "10.147.18.55", "54.204.160.177"},
	};
	for (int i = 0; i < 3; i++) {
		struct cg_conn_node *n = cg_conn_add(&c);
		n->dc = cg_xstrdup(nodes[i][0]);
		n->region = cg_xstrdup(nodes[i][1]);
		n->zone = cg_xstrdup(nodes[i][2]);
		n->node = i == 2 ? 1 : i + 1;
		n->name = cg_xasprintf("%s.n%d", n->dc, n->node);
		n->private_ip = cg_xstrdup(nodes[i][3]);
		n->public_ip = cg_xstrdup(nodes[i][4]);
		n->ssh = cg_xasprintf("ssh -i '/s/keys/k-%s' -o IdentitiesOnly=yes -o "
				      "UserKnownHostsFile='/s/MultiDC/known_hosts' -o "
				      "GlobalKnownHostsFile=/dev/null -o HostKeyAlias='i-%d' -o "
				      "StrictHostKeyChecking=yes -p '22' 'cassandgo@%s'",
				      n->region, i, n->public_ip);
		n->cqlsh = cg_xasprintf("%s -t 'cqlsh %s 9042'", n->ssh, n->private_ip);
	}
	cg_report_output_text(&c, &b);
	golden("output.txt", b.data);
	cg_buf_reset(&b);
	cg_report_output_json(&c, &b);
	golden("output.json", b.data);
	cg_buf_free(&b);
	cg_conn_free(&c);
}

/* --- progress lines (cmd/progress.c) --------------------------------------- */

static struct cg_action *act(struct cg_plan *p, enum cg_op op, enum cg_kind k, const char *addr,
			     const char *region, const char *dc, int node, int64_t ms)
{
	p->v = cg_xrealloc(p->v, (size_t)(p->n + 1) * sizeof(*p->v));
	struct cg_action *a = &p->v[p->n++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->kind = k;
	a->addr = cg_xstrdup(addr);
	a->has_desired = op != CG_OP_DELETE;
	a->has_current = op != CG_OP_CREATE;
	struct cg_resource *r = a->has_desired ? &a->desired : &a->current;
	cg_res_init(r, k, addr);
	r->region = cg_xstrdup(region);
	r->dc = cg_xstrdup(dc);
	r->node = node;
	if (a->has_desired && a->has_current)
		cg_res_copy(&a->current, &a->desired);
	a->elapsed_ms = ms;
	return a;
}

static void test_progress_golden(void **st)
{
	(void)st;
	struct cg_plan plan;
	struct cg_rset known;
	memset(&plan, 0, sizeof(plan));
	plan.cluster = cg_xstrdup("MultiDC");
	cg_rset_init(&known);
	/* DC1.n1's machine is planned (zone from the plan); DC1.n2's exists */
	struct cg_action *m1 = act(&plan, CG_OP_CREATE, CG_KIND_MACHINE, "machine.DC1.n1",
				   "eu-west-1", "DC1", 1, 41200);
	cg_res_set(&m1->desired, "zone", "eu-west-1a", 0);
	struct cg_resource *m2 = cg_rset_new(&known, CG_KIND_MACHINE, "machine.DC1.n2");
	m2->dc = cg_xstrdup("DC1");
	m2->node = 2;
	cg_res_set(m2, "zone", "eu-west-1b", 0);
	act(&plan, CG_OP_CREATE, CG_KIND_NETWORK, "network.eu-west-1", "eu-west-1", NULL, 0, 1234);
	act(&plan, CG_OP_CREATE, CG_KIND_KEYPAIR, "keypair.eu-west-1", "eu-west-1", NULL, 0, 310);
	act(&plan, CG_OP_CREATE, CG_KIND_INSTALL, "install.DC1.n2", "eu-west-1", "DC1", 2, 95000);
	act(&plan, CG_OP_UPDATE, CG_KIND_CONFIG, "config.DC1.n2", "eu-west-1", "DC1", 2, 800);
	act(&plan, CG_OP_UPDATE, CG_KIND_SERVICE, "service.DC1.n2", "eu-west-1", "DC1", 2, 21000);
	act(&plan, CG_OP_CREATE, CG_KIND_SERVICE, "service.DC1.n1", "eu-west-1", "DC1", 1, 9999);
	act(&plan, CG_OP_CREATE, CG_KIND_RING, "ring", NULL, NULL, 0, 3000);
	act(&plan, CG_OP_REPLACE, CG_KIND_MACHINE, "machine.DC1.n2", "eu-west-1", "DC1", 2, 60000);
	act(&plan, CG_OP_DELETE, CG_KIND_MACHINE, "machine.DC2.n1", "us-east-1", "DC2", 1, 7000);
	struct cg_action *f = act(&plan, CG_OP_DELETE, CG_KIND_INSTALL, "install.DC2.n1",
				  "us-east-1", "DC2", 1, 0);
	f->forget = true;

	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	assert_non_null(mem);
	struct cg_progress *p = cg_progress_start(&plan, &known, mem, false, false);
	for (int i = 0; i < plan.n; i++) {
		struct cg_action *a = &plan.v[i];
		cg_progress_event(p, CG_EXEC_START, a, NULL);
		if (a->kind == CG_KIND_INSTALL && a->op == CG_OP_CREATE)
			cg_progress_event(p, CG_EXEC_PROGRESS, a, "connecting to machine.DC1.n2");
		if (a->kind == CG_KIND_SERVICE && a->op == CG_OP_CREATE)
			cg_progress_event(p, CG_EXEC_FAIL, a, "Cassandra did not serve CQL within 180s");
		else
			cg_progress_event(p, CG_EXEC_DONE, a, NULL);
	}
	cg_progress_event(p, CG_EXEC_SKIP, &plan.v[6], "its machine failed");
	cg_progress_finish(p);
	fclose(mem);
	/* The summary holds wall-clock times: golden up to it, its shape after. */
	char *sum = strstr(out, "\nTime per stage: ");
	assert_non_null(sum);
	assert_non_null(strstr(sum, "cloud "));
	assert_non_null(strstr(sum, "; total "));
	sum[1] = 0;
	golden("progress.txt", out);
	char lab[128];
	assert_string_equal(cg_progress_label(&plan.v[0], &known, &plan, lab, sizeof(lab)),
			    "DC1 n1    eu-west-1a  ");
	assert_string_equal(cg_progress_done_text(&plan.v[3]), "Cassandra installed");
	free(out);
	cg_plan_free(&plan);
	cg_rset_free(&known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_summarise),
		cmocka_unit_test(test_latency_golden),
		cmocka_unit_test(test_latency_single),
		cmocka_unit_test(test_status_healthy),
		cmocka_unit_test(test_status_degraded),
		cmocka_unit_test(test_status_color),
		cmocka_unit_test(test_output_golden),
		cmocka_unit_test(test_progress_golden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
