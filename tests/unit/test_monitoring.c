/*
 * test_monitoring.c - monitoring's pure parts: scrape targets from the
 * machines (private in the monitoring region, public elsewhere; unknown
 * while an address is), prometheus.yml, the JMX exporter agent in
 * cgnode.env for monitoring clusters only, and the model's monitoring
 * resource (present only with monitoring, targets hash follows addresses).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../planner/cassconf.h"
#include "../../planner/monitoring.h"

static char *zones1[] = { "eu-west-1a", "eu-west-1b" };
static char *zones2[] = { "us-east-1a" };

/* DC1 (eu-west-1, 2 nodes, monitoring when mon) and DC2 (us-east-1, 1). */
static void lab(struct cg_cluster *c, struct cg_dc dcs[2], bool mon)
{
	memset(c, 0, sizeof(*c));
	memset(dcs, 0, 2 * sizeof(*dcs));
	dcs[0] = (struct cg_dc){.name = "DC1", .region = "eu-west-1", .nodes = 2, .seeds = 1,
				.zones = zones1, .nzones = 2, .node_type = "m5.large",
				.monitoring = mon};
	dcs[1] = (struct cg_dc){.name = "DC2", .region = "us-east-1", .nodes = 1, .seeds = 1,
				.zones = zones2, .nzones = 1, .node_type = "m5.large"};
	c->name = "Lab";
	c->provider = CG_PROVIDER_AWS;
	c->cassandra_version = "5.0.9";
	c->num_tokens = 4;
	c->heap = "512M";
	c->dcs = dcs;
	c->ndcs = 2;
}

/* machine.<dc>.n<i>: private 10.<d+1>.0.<i>, public 203.0.<d+1>.<i>;
 * skip (dc, node) gets no address. */
static void machines(struct cg_rset *s, const struct cg_cluster *c, int skip_d, int skip_i)
{
	cg_rset_init(s);
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].nodes; i++) {
			char *addr = cg_addr_node(CG_KIND_MACHINE, c->dcs[d].name, i);
			struct cg_resource *m = cg_rset_new(s, CG_KIND_MACHINE, addr);
			free(addr);
			m->region = cg_xstrdup(c->dcs[d].region);
			m->dc = cg_xstrdup(c->dcs[d].name);
			m->node = i;
			cg_res_set(m, "zone", c->dcs[d].zones[(i - 1) % c->dcs[d].nzones], 0);
			cg_res_set(m, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(m, "lib_dir", "/usr/share/cassandra/lib", 0);
			if (d == skip_d && i == skip_i)
				continue;
			cg_res_setf(m, "private_ip", 0, "10.%d.0.%d", d + 1, i);
			cg_res_setf(m, "public_ip", 0, "203.0.%d.%d", d + 1, i);
		}
}

static void test_targets(void **state)
{
	(void)state;
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset ms;
	char **t;

	lab(&c, dcs, true);
	assert_int_equal(cg_monitoring_dc(&c), 0);
	machines(&ms, &c, -1, -1);
	assert_int_equal(cg_monitoring_targets(&c, &ms, &t), 3);
	assert_string_equal(t[0], "10.1.0.1");
	assert_string_equal(t[1], "10.1.0.2");
	assert_string_equal(t[2], "203.0.2.1");	/* another region: public */
	char *yml = cg_monitoring_prometheus_yml("Lab", t, 3);
	assert_non_null(strstr(yml, "  - job_name: cassandra\n"));
	assert_non_null(strstr(yml, "  - job_name: node\n"));
	assert_non_null(strstr(yml, "          - \"10.1.0.2:7070\"\n"));
	assert_non_null(strstr(yml, "          - \"203.0.2.1:9100\"\n"));
	assert_non_null(strstr(yml, "    cluster: \"Lab\"\n"));
	free(yml);
	cg_monitoring_targets_free(t, 3);
	cg_rset_free(&ms);

	/* one address unknown: no targets yet */
	machines(&ms, &c, 1, 1);
	assert_int_equal(cg_monitoring_targets(&c, &ms, &t), -1);
	assert_null(t);
	cg_rset_free(&ms);

	/* no monitoring: no DC, no targets */
	lab(&c, dcs, false);
	assert_int_equal(cg_monitoring_dc(&c), -1);
	assert_int_equal(cg_monitoring_targets(&c, NULL, &t), 0);
	assert_null(t);
}

static char *env_of(bool mon)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset ms;
	struct cg_node_spec s;
	struct cg_node_files f;
	struct cg_err e = {0};

	lab(&c, dcs, mon);
	machines(&ms, &c, -1, -1);
	assert_int_equal(cg_cassconf_spec(&c, 0, 2, &ms, true, &s, &e), 1);
	assert_int_equal(cg_cassconf_render(&s, &f, &e), 0);
	char *env = cg_xstrdup(f.env);
	cg_node_files_free(&f);
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&ms);
	return env;
}

static void test_env_agent(void **state)
{
	(void)state;
	char *with = env_of(true), *without = env_of(false);
	assert_non_null(strstr(with, " -javaagent:/var/lib/cassandgo/lib/jmx_prometheus_javaagent-"
			       CG_MON_JMX_EXPORTER_VERSION ".jar=10.1.0.2:7070:"
			       "/var/lib/cassandgo/conf/jmx_exporter.yaml'\n"));
	assert_non_null(strstr(with, "\nMONITORING_ADDRESS='10.1.0.2'\n"));
	assert_non_null(strstr(with, "\nJMX_EXPORTER_CONFIG='lowercaseOutputName: true\n"));
	/* travels single-quoted */
	assert_null(strchr(cg_monitoring_jmx_config(), '\''));
	assert_null(strstr(without, "jmx_prometheus"));
	assert_null(strstr(without, "MONITORING"));
	free(with);
	free(without);
}

static void test_model(void **state)
{
	(void)state;
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset ms, d1, d2, d3;
	struct cg_err e = {0};

	lab(&c, dcs, true);
	cg_rset_init(&d1);
	cg_rset_init(&d2);
	cg_rset_init(&d3);
	assert_int_equal(cg_model_build(&c, NULL, NULL, ~0u, &d1, &e), 0);
	const struct cg_resource *r = cg_rset_find(&d1, "monitoring");
	assert_non_null(r);
	assert_string_equal(cg_res_get(r, "dc"), "DC1");
	assert_string_equal(cg_res_get(r, "port"), "9090");
	assert_null(cg_res_get(r, "targets"));	/* no address known yet */
	assert_int_equal(r->ndeps, 3);
	assert_string_equal(r->deps[2], "service.DC2.n1");

	machines(&ms, &c, -1, -1);
	assert_int_equal(cg_model_build(&c, NULL, &ms, ~0u, &d2, &e), 0);
	const char *h1 = cg_res_get(cg_rset_find(&d2, "monitoring"), "targets");
	assert_non_null(h1);
	assert_int_equal(strlen(h1), 16);
	/* another address, another prometheus.yml */
	cg_res_set(cg_rset_find(&ms, "machine.DC2.n1"), "public_ip", "203.0.9.9", 0);
	assert_int_equal(cg_model_build(&c, NULL, &ms, ~0u, &d3, &e), 0);
	assert_string_not_equal(cg_res_get(cg_rset_find(&d3, "monitoring"), "targets"), h1);
	cg_rset_free(&d1);
	cg_rset_free(&d2);
	cg_rset_free(&d3);

	/* without monitoring: no resource */
	lab(&c, dcs, false);
	cg_rset_init(&d1);
	assert_int_equal(cg_model_build(&c, NULL, &ms, ~0u, &d1, &e), 0);
	assert_null(cg_rset_find(&d1, "monitoring"));
	assert_true(d1.n > 0);
	cg_rset_free(&d1);
	cg_rset_free(&ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_env_agent),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
