/*
 * test_cost.c - what a cluster costs: price lookups in the EC2 table
 * (providers/ec2/price.c: hits, types and regions it lacks, malformed
 * tables), the real table's known prices, and the per-DC and total
 * arithmetic and renderings of planner/cost.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../planner/cost.h"
#include "../../providers/ec2/price.h"

static const char table[] =
	"# test prices\n"
	"# source: a test of 2026-01-01\n"
	"type\tus-east-1\teu-west-1\n"
	"m5.large\t0.096:0.03\t0.107:0.0457\n"
	"m5.xlarge\t0.192:0.06\t-\n";

static int price(const char *t, size_t n, const char *region, const char *type, double *od,
		 double *spot)
{
	return cg_ec2_price(t, n, region, type, od, spot);
}

static void test_lookup(void **state)
{
	(void)state;
	double od = -1, spot = -1;
	size_t n = sizeof(table) - 1;
	assert_int_equal(price(table, n, "eu-west-1", "m5.large", &od, &spot), 0);
	assert_true(od == 0.107 && spot == 0.0457);
	assert_int_equal(price(table, n, "us-east-1", "m5.xlarge", &od, &spot), 0);
	assert_true(od == 0.192 && spot == 0.06);
	/* not sold there, unknown type, unknown region, empty names */
	assert_int_equal(price(table, n, "eu-west-1", "m5.xlarge", &od, &spot), 1);
	assert_int_equal(price(table, n, "us-east-1", "m5.larg", &od, &spot), 1);
	assert_int_equal(price(table, n, "us-east-", "m5.large", &od, &spot), 1);
	assert_int_equal(price(table, n, "", "m5.large", &od, &spot), 1);
	/* the last line without its newline still counts */
	assert_int_equal(price(table, n - 1, "us-east-1", "m5.xlarge", &od, &spot), 0);
	/* malformed: no header, a bad cell, a missing column */
	static const char nohead[] = "m5.large\t0.1:0.1\n";
	static const char badcell[] = "type\tus-east-1\nm5.large\t0.1;0.1\n";
	static const char neg[] = "type\tus-east-1\nm5.large\t-0.1:0.1\n";
	static const char short_line[] = "type\tus-east-1\teu-west-1\nm5.large\t0.1:0.1\n";
	assert_int_equal(price(nohead, sizeof(nohead) - 1, "us-east-1", "m5.large", &od, &spot), -1);
	assert_int_equal(price(badcell, sizeof(badcell) - 1, "us-east-1", "m5.large", &od, &spot), -1);
	assert_int_equal(price(neg, sizeof(neg) - 1, "us-east-1", "m5.large", &od, &spot), -1);
	assert_int_equal(price(short_line, sizeof(short_line) - 1, "eu-west-1", "m5.large", &od,
			       &spot), -1);
	char *src = cg_ec2_price_source(table, n);
	assert_string_equal(src, "a test of 2026-01-01");
	free(src);
}

/* The table in the tree: prices that were public on its date. */
static void test_real_table(void **state)
{
	(void)state;
	double od, spot;
	const char *t = (const char *)cg_ec2_prices_tsv;
	assert_int_equal(cg_ec2_price(t, cg_ec2_prices_tsv_len, "us-east-1", "m5.large", &od, &spot),
			 0);
	assert_true(od == 0.096);
	assert_true(spot > 0 && spot < od);
	assert_int_equal(cg_ec2_price(t, cg_ec2_prices_tsv_len, "eu-west-1", "i4i.xlarge", &od,
				      &spot), 0);
	assert_true(od > 0.3 && od < 0.5);
	char *src = cg_ec2_prices_source();
	assert_non_null(strstr(src, "ec2instances.info data of 20"));
	free(src);
}

/* a stub price list: m5.large 0.1, i4i.xlarge 0.35, anything else none */
static int stub_hourly(const struct cg_resource *m, double *usd_h, struct cg_err *err)
{
	const char *t = cg_res_get(m, "node_type");
	if (t && !strcmp(t, "m5.large"))
		*usd_h = 0.1;
	else if (t && !strcmp(t, "i4i.xlarge"))
		*usd_h = 0.35;
	else
		return cg_error(err, CG_EXIT_ERROR, "%s in %s", t ? t : "?", m->region), 1;
	return 0;
}

static void add_machine(struct cg_rset *s, const char *dc, int node, const char *region,
			const char *type)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "machine.%s.n%d", dc, node);
	struct cg_resource *r = cg_rset_new(s, CG_KIND_MACHINE, addr);
	r->dc = strdup(dc);
	r->region = strdup(region);
	r->node = node;
	cg_res_set(r, "node_type", type, 0);
}

static void test_cost_of(void **state)
{
	(void)state;
	struct cg_rset s;
	struct cg_cost c;
	cg_rset_init(&s);
	for (int i = 1; i <= 3; i++)
		add_machine(&s, "DC1", i, "eu-west-1", "m5.large");
	add_machine(&s, "DC2", 1, "us-east-1", "i4i.xlarge");
	add_machine(&s, "DC2", 2, "us-east-1", "i4i.xlarge");
	add_machine(&s, "DC3", 1, "us-west-2", "m9.huge");
	add_machine(&s, "DC3", 2, "us-west-2", "m9.huge");
	cg_rset_new(&s, CG_KIND_RING, "ring");	/* not a machine: not priced */

	cg_cost_of(&s, stub_hourly, "test prices", &c);
	assert_true(c.known);
	assert_int_equal(c.ndcs, 3);
	assert_string_equal(c.dcs[0].dc, "DC1");
	assert_int_equal(c.dcs[0].nodes, 3);
	assert_true(c.dcs[0].per_hour > 0.2999 && c.dcs[0].per_hour < 0.3001);
	assert_true(c.dcs[1].per_hour > 0.6999 && c.dcs[1].per_hour < 0.7001);
	assert_int_equal(c.dcs[2].nodes, 2);
	assert_true(c.dcs[2].per_hour == 0);
	assert_true(c.per_hour > 0.9999 && c.per_hour < 1.0001);
	assert_int_equal(c.nmissing, 1);	/* once, though two machines lack it */
	assert_string_equal(c.missing[0], "m9.huge in us-west-2");

	struct cg_buf b = {0};
	cg_cost_render_text(&c, &b);
	assert_non_null(strstr(b.data, "3 x m5.large"));
	assert_non_null(strstr(b.data, "1.0000/h"));
	assert_non_null(strstr(b.data, "24.00/day"));
	assert_non_null(strstr(b.data, "not counted: m9.huge in us-west-2"));
	cg_buf_free(&b);
	cg_cost_render_json(&c, &b);
	assert_non_null(strstr(b.data, "\"per_hour\":1.000000,\"per_day\":24.0000"));
	assert_non_null(strstr(b.data, "\"DC2\":{\"region\":\"us-east-1\",\"node_type\":\"i4i.xlarge\",\"capacity\":\"on-demand\","
				       "\"nodes\":2,\"per_hour\":0.700000"));
	cg_buf_free(&b);
	cg_cost_free(&c);

	/* no prices at all (local provider): unknown, rendered as nothing / null */
	cg_cost_of(&s, NULL, NULL, &c);
	assert_false(c.known);
	cg_cost_render_text(&c, &b);
	assert_null(b.data);
	cg_cost_render_json(&c, &b);
	assert_string_equal(b.data, "null");
	cg_buf_free(&b);
	cg_cost_free(&c);
	cg_rset_free(&s);
}

/* Load nodes (stress_nodes) count in their DC's cost, apart from its nodes;
 * a DC without any keeps the JSON form it had. */
static void test_cost_loaders(void **state)
{
	(void)state;
	struct cg_rset s;
	struct cg_cost c;
	cg_rset_init(&s);
	/* a load node first: sets order addresses, loader.* before machine.* */
	struct cg_resource *l = cg_rset_new(&s, CG_KIND_LOADER, "loader.DC1.n1");
	l->dc = strdup("DC1");
	l->region = strdup("eu-west-1");
	cg_res_set(l, "node_type", "i4i.xlarge", 0);
	add_machine(&s, "DC1", 1, "eu-west-1", "m5.large");
	add_machine(&s, "DC1", 2, "eu-west-1", "m5.large");
	add_machine(&s, "DC2", 1, "us-east-1", "m5.large");
	cg_cost_of(&s, stub_hourly, NULL, &c);
	assert_int_equal(c.ndcs, 2);
	assert_int_equal(c.dcs[0].nodes, 2);
	assert_int_equal(c.dcs[0].loaders, 1);
	assert_string_equal(c.dcs[0].node_type, "m5.large");
	assert_string_equal(c.dcs[0].loader_type, "i4i.xlarge");
	assert_true(c.dcs[0].per_hour > 0.5499 && c.dcs[0].per_hour < 0.5501);
	assert_int_equal(c.machines, 4);
	struct cg_buf b = {0};
	cg_cost_render_text(&c, &b);
	assert_non_null(strstr(b.data, "2 x m5.large + 1 x i4i.xlarge load"));
	cg_buf_free(&b);
	cg_cost_render_json(&c, &b);
	assert_non_null(strstr(b.data, "\"nodes\":2,\"load_nodes\":1,\"load_node_type\":\"i4i.xlarge\","
				       "\"per_hour\":0.550000"));
	assert_non_null(strstr(b.data, "\"DC2\":{\"region\":\"us-east-1\",\"node_type\":\"m5.large\","
				       "\"capacity\":\"on-demand\",\"nodes\":1,\"per_hour\":0.100000"));
	cg_buf_free(&b);
	cg_cost_free(&c);
	cg_rset_free(&s);
}

/* Cost so far: each priced machine from its launch time until now; the
 * earliest launch is "since"; unpriced or unlaunched machines count nothing. */
static void test_spent(void **state)
{
	(void)state;
	struct cg_rset s;
	struct cg_cost c;
	cg_rset_init(&s);
	add_machine(&s, "DC1", 1, "eu-west-1", "m5.large");	/* 0.1/h, 10 h */
	cg_res_set(&s.v[0], "launch_time", "2026-12-01T00:00:00.000Z", 0);
	add_machine(&s, "DC1", 2, "eu-west-1", "m5.large");	/* 0.1/h, 2 h */
	cg_res_set(&s.v[1], "launch_time", "2026-12-01T08:00:00+00:00", 0);
	add_machine(&s, "DC2", 1, "us-east-1", "i4i.xlarge");	/* no launch time */
	add_machine(&s, "DC3", 1, "us-west-2", "m9.huge");	/* no price */
	cg_res_set(&s.v[3], "launch_time", "2026-11-01T00:00:00Z", 0);
	add_machine(&s, "DC3", 2, "us-west-2", "m5.large");	/* garbage time */
	cg_res_set(&s.v[4], "launch_time", "yesterday", 0);
	time_t now = 1796083200 + 10 * 3600;	/* 2026-12-01T10:00:00Z */
	cg_cost_of(&s, stub_hourly, NULL, &c);
	cg_cost_spent(&c, &s, stub_hourly, now);
	assert_true(c.spent > 1.1999 && c.spent < 1.2001);
	assert_string_equal(c.since, "2026-12-01T00:00:00.000Z");
	struct cg_buf b = {0};
	cg_cost_render_running(&c, &b);
	assert_non_null(strstr(b.data, "Cost so far: 1.20 USD since its first machine started "
				       "(2026-12-01T00:00:00.000Z)"));
	cg_buf_free(&b);
	cg_cost_render_json(&c, &b);
	assert_non_null(strstr(b.data, "\"since\":\"2026-12-01T00:00:00.000Z\",\"spent\":1.2000"));
	cg_buf_free(&b);
	cg_cost_free(&c);
	cg_rset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_real_table),
		cmocka_unit_test(test_cost_of),
		cmocka_unit_test(test_cost_loaders),
		cmocka_unit_test(test_spent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
