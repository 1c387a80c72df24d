/*
 * test_cassconf_broadcast.c - the `broadcast_address` setting: which node
 * address goes into broadcast_address and the seed list (issue 5: in moto
 * the public addresses are fake, so the AWS end-to-end test needs private),
 * and the token allocator's replication factor for a joining node (at most
 * the DC's rack count: Cassandra refuses more, found by the same test).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../planner/cassconf.h"

static char *zones1[] = { "eu-west-1a" };
static char *zones2[] = { "us-east-1a" };

/* Two regions, 2 nodes each, 1 seed each. */
static void two_regions(struct cg_cluster *c, struct cg_dc dcs[2], struct cg_rset *known)
{
	int d, i;

	memset(c, 0, sizeof(*c));
	memset(dcs, 0, 2 * sizeof(*dcs));
	dcs[0] = (struct cg_dc){ .name = "DC1", .region = "eu-west-1", .nodes = 2, .seeds = 1,
				 .zones = zones1, .nzones = 1 };
	dcs[1] = (struct cg_dc){ .name = "DC2", .region = "us-east-1", .nodes = 2, .seeds = 1,
				 .zones = zones2, .nzones = 1 };
	c->name = "B";
	c->provider = CG_PROVIDER_AWS;
	c->cassandra_version = "5.0.9";
	c->num_tokens = 4;
	c->heap = "512M";
	c->dcs = dcs;
	c->ndcs = 2;
	cg_rset_init(known);
	for (d = 0; d < 2; d++)
		for (i = 1; i <= 2; i++) {
			char *addr = cg_addr_node(CG_KIND_MACHINE, dcs[d].name, i);
			struct cg_resource *m = cg_rset_new(known, CG_KIND_MACHINE, addr);

			free(addr);
			cg_res_setf(m, "private_ip", 0, "10.%d.0.%d", d + 1, i);
			cg_res_setf(m, "public_ip", 0, "203.0.%d.%d", d + 1, i);
			cg_res_set(m, "zone", dcs[d].zones[0], 0);
			cg_res_set(m, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(m, "lib_dir", "/usr/share/cassandra/lib", 0);
		}
}

static void test_auto_multi_region_is_public(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };

	(void)state;
	two_regions(&c, dcs, &known);
	assert_int_equal(c.broadcast, CG_BROADCAST_AUTO);
	assert_int_equal(cg_cassconf_spec(&c, 1, 2, &known, true, &s, &err), 1);
	assert_string_equal(s.broadcast, "203.0.2.2");
	assert_string_equal(s.seeds[0], "203.0.1.1");
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static void test_private_keeps_private(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_node_files f;
	struct cg_err err = { 0 };

	(void)state;
	two_regions(&c, dcs, &known);
	c.broadcast = CG_BROADCAST_PRIVATE;
	assert_int_equal(cg_cassconf_spec(&c, 1, 2, &known, true, &s, &err), 1);
	assert_string_equal(s.address, "10.2.0.2");
	assert_null(s.broadcast);	/* same as the listen address */
	assert_int_equal(s.nseeds, 2);
	assert_string_equal(s.seeds[0], "10.1.0.1");
	assert_string_equal(s.seeds[1], "10.2.0.1");
	assert_int_equal(cg_cassconf_render(&s, &f, &err), 0);
	assert_null(strstr(f.cassandra_yaml, "broadcast_address"));
	assert_null(strstr(f.cassandra_yaml, "203.0."));
	assert_non_null(strstr(f.cassandra_yaml, "seeds: \"10.1.0.1:7000,10.2.0.1:7000\""));
	cg_node_files_free(&f);
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static void test_public_in_one_region(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };

	(void)state;
	two_regions(&c, dcs, &known);
	dcs[1].region = "eu-west-1";
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, true, &s, &err), 1);
	assert_null(s.broadcast);	/* auto, one region: private */
	cg_cassconf_spec_clear(&s);
	c.broadcast = CG_BROADCAST_PUBLIC;
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, true, &s, &err), 1);
	assert_string_equal(s.broadcast, "203.0.1.1");
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static int joining_rf(struct cg_cluster *c, int d, struct cg_rset *known)
{
	struct cg_node_spec s;
	struct cg_node_files f;
	struct cg_err err = { 0 };
	const char *p;
	int rf;

	assert_int_equal(cg_cassconf_spec(c, d, 2, known, false, &s, &err), 1);
	assert_int_equal(cg_cassconf_render(&s, &f, &err), 0);
	p = strstr(f.cassandra_yaml, "\nallocate_tokens_for_local_replication_factor: ");
	assert_non_null(p);
	rf = atoi(p + strlen("\nallocate_tokens_for_local_replication_factor: "));
	assert_null(strstr(f.cassandra_yaml, "auto_bootstrap"));
	cg_node_files_free(&f);
	cg_cassconf_spec_clear(&s);
	return rf;
}

static void test_allocator_rf_by_racks(void **state)
{
	static char *three[] = { "eu-west-1a", "eu-west-1b", "eu-west-1c" };
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;

	(void)state;
	two_regions(&c, dcs, &known);
	/* both DC1 nodes in one zone: one rack, any RF is fine; say 1 */
	assert_int_equal(joining_rf(&c, 0, &known), 1);
	cg_rset_free(&known);

	/* 2 nodes over 2 zones: 2 racks */
	dcs[0].zones = three;
	dcs[0].nzones = 3;
	two_regions(&c, dcs, &known);
	cg_res_set(cg_rset_find(&known, "machine.DC1.n2"), "zone", "eu-west-1b", 0);
	assert_int_equal(joining_rf(&c, 0, &known), 2);
	cg_rset_free(&known);

	/* 4 nodes over 3 zones: 3 racks, RF 3 */
	two_regions(&c, dcs, &known);
	dcs[0].nodes = 4;
	for (int i = 2; i <= 4; i++) {
		char *addr = cg_addr_node(CG_KIND_MACHINE, "DC1", i);
		struct cg_resource *m = cg_rset_find(&known, addr);

		if (!m) {
			m = cg_rset_new(&known, CG_KIND_MACHINE, addr);
			cg_res_setf(m, "private_ip", 0, "10.1.0.%d", i);
			cg_res_set(m, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(m, "lib_dir", "/usr/share/cassandra/lib", 0);
		}
		cg_res_set(m, "zone", three[(i - 1) % 3], 0);
		free(addr);
	}
	assert_int_equal(joining_rf(&c, 0, &known), 3);
	/* DC1.n3 gone (terminated, being replaced): it still counts in the
	 * zone the config gives it, so the joining node's config (and its
	 * hash) do not change while it is replaced */
	struct cg_resource *n3 = cg_rset_find(&known, "machine.DC1.n3");
	assert_non_null(n3);
	cg_rset_remove_at(&known, (int)(n3 - known.v));
	dcs[0].zones = three;	/* the config's zones, as the machines sit */
	dcs[0].nzones = 3;
	assert_int_equal(joining_rf(&c, 0, &known), 3);
	cg_rset_free(&known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_multi_region_is_public),
		cmocka_unit_test(test_private_keeps_private),
		cmocka_unit_test(test_public_in_one_region),
		cmocka_unit_test(test_allocator_rf_by_racks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
