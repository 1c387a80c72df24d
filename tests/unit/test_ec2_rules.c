/*
 * test_ec2_rules.c - security group arithmetic (providers/ec2/rules.c):
 * rules per group, groups for N remote nodes, the error past 5 groups,
 * stable placement of addresses, group names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../providers/ec2/rules.h"

static const struct cg_ec2_sg_limits dflt = { CG_EC2_RULES_PER_GROUP, CG_EC2_GROUPS_PER_ENI };

static void test_fixed(void **st)
{
	(void)st;
	/* one allowed CIDR, no monitoring: 7000 + ICMP from the group, 22 + 9042 */
	assert_int_equal(cg_ec2_rules_fixed(1, false, false), 4);
	/* monitoring in this region: + 2 scrape ports from the group, + 9090 */
	assert_int_equal(cg_ec2_rules_fixed(1, true, false), 7);
	/* monitoring node elsewhere: + its 2 scrape ports */
	assert_int_equal(cg_ec2_rules_fixed(1, true, true), 9);
	assert_int_equal(cg_ec2_rules_fixed(3, false, false), 8);
	assert_int_equal(cg_ec2_rules_fixed(0, false, false), 2);
}

static void test_room(void **st)
{
	(void)st;
	assert_int_equal(cg_ec2_rules_room(&dflt, 4, 0), 56);
	assert_int_equal(cg_ec2_rules_room(&dflt, 4, 1), 60);
	assert_int_equal(cg_ec2_rules_room(&dflt, 4, 4), 60);
	assert_int_equal(cg_ec2_rules_room(&dflt, 60, 0), 0);
	assert_int_equal(cg_ec2_rules_room(&dflt, 75, 0), 0);	/* never negative */
}

static void test_groups(void **st)
{
	(void)st;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 0, "x", &err), 1);
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 56, "x", &err), 1);
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 57, "x", &err), 2);
	/* 3 regions x 50 nodes: 100 remote nodes per region -> 2 groups (56 + 44) */
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 100, "x", &err), 2);
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 116, "x", &err), 2);
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 117, "x", &err), 3);
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 296, "x", &err), 5);
	assert_int_equal(err.code, 0);
	/* a raised quota: one group holds 300 remote nodes */
	struct cg_ec2_sg_limits big = { 1000, 1 };
	assert_int_equal(cg_ec2_rules_groups(&big, 9, 300, "x", &err), 1);
	/* 2014's layout (3 rules per node) would have needed 4 + 300 = 304 > 60 in one group */
}

static void test_groups_too_many(void **st)
{
	(void)st;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ec2_rules_groups(&dflt, 4, 297, "peers.eu-west-1", &err), -1);
	assert_int_equal(err.code, CG_EXIT_ERROR);
	assert_non_null(strstr(err.msg, "peers.eu-west-1: 301 inbound rules needed"));
	assert_non_null(strstr(err.msg, "one tcp 7000 rule per node of the other regions: 297"));
	assert_non_null(strstr(err.msg, "5 security groups per instance of 60 rules hold 300"));
	assert_non_null(strstr(err.msg, "L-0EA8095F"));
	assert_non_null(strstr(err.msg, "L-2AFB9258"));
	assert_non_null(strstr(err.msg, "CASSANDGO_EC2_RULES_PER_GROUP"));
	/* fixed rules alone overflow the main group: no number of groups helps */
	struct cg_err e2 = { 0 };
	struct cg_ec2_sg_limits tiny = { 3, 5 };
	assert_int_equal(cg_ec2_rules_groups(&tiny, 4, 0, "network.x", &e2), -1);
	assert_non_null(strstr(e2.msg, "network.x: 4 inbound rules needed"));
}

static void test_place_fill_in_order(void **st)
{
	(void)st;
	struct cg_ec2_sg_limits l = { 5, 5 };	/* fixed 3: main has room for 2 */
	int out[9];
	assert_int_equal(cg_ec2_rules_place(&l, 3, 3, 9, NULL, out), 0);
	int want[] = { 0, 0, 1, 1, 1, 1, 1, 2, 2 };
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(cg_ec2_rules_place(&l, 3, 3, 13, NULL, (int[13]){ 0 }), -1);
	assert_int_equal(cg_ec2_rules_place(&l, 3, 0, 0, NULL, out), -1);
}

static void test_place_stable(void **st)
{
	(void)st;
	struct cg_ec2_sg_limits l = { 5, 5 };
	/* addresses stay where they are; a new one (-1) takes free room */
	int cur[] = { 2, 1, -1, 1, 0 };
	int out[5];
	assert_int_equal(cg_ec2_rules_place(&l, 3, 3, 5, cur, out), 0);
	int want[] = { 2, 1, 0, 1, 0 };
	assert_memory_equal(out, want, sizeof(want));
}

static void test_place_moves(void **st)
{
	(void)st;
	struct cg_ec2_sg_limits l = { 5, 5 };
	/* the main group's fixed rules grew (3 -> 4): its second address moves,
	 * and one in a group that goes away (index 3 of 2) finds room */
	int cur[] = { 0, 0, 1, 3 };
	int out[4];
	assert_int_equal(cg_ec2_rules_place(&l, 4, 2, 4, cur, out), 0);
	int want[] = { 0, 1, 1, 1 };
	assert_memory_equal(out, want, sizeof(want));
}

static void test_place_150(void **st)
{
	(void)st;
	/* 3 regions x 50: each region admits 100 /32s beside 4 fixed rules */
	int out[100];
	assert_int_equal(cg_ec2_rules_place(&dflt, 4, 2, 100, NULL, out), 0);
	int per[2] = { 0, 0 };
	for (int i = 0; i < 100; i++)
		per[out[i]]++;
	assert_int_equal(per[0], 56);	/* + 4 fixed = 60 rules */
	assert_int_equal(per[1], 44);
}

static void test_names(void **st)
{
	(void)st;
	char *n0 = cg_ec2_sg_name("MultiDC", "eu-west-1", 0);
	char *n1 = cg_ec2_sg_name("MultiDC", "eu-west-1", 1);
	char *n4 = cg_ec2_sg_name("MultiDC", "eu-west-1", 4);
	assert_string_equal(n0, "cassandgo-MultiDC-eu-west-1");
	assert_string_equal(n1, "cassandgo-MultiDC-eu-west-1-peers-2");
	assert_string_equal(n4, "cassandgo-MultiDC-eu-west-1-peers-5");
	assert_int_equal(cg_ec2_sg_index("MultiDC", "eu-west-1", n0), 0);
	assert_int_equal(cg_ec2_sg_index("MultiDC", "eu-west-1", n1), 1);
	assert_int_equal(cg_ec2_sg_index("MultiDC", "eu-west-1", n4), 4);
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++) {
		char *n = cg_ec2_sg_name("C", "us-east-1", i);
		assert_int_equal(cg_ec2_sg_index("C", "us-east-1", n), i);
		free(n);
	}
	const char *bad[] = {
		"cassandgo-MultiDC-eu-west-1-peers-1", "cassandgo-MultiDC-eu-west-1-peers-02",
		"cassandgo-MultiDC-eu-west-1-peers-17", "cassandgo-MultiDC-eu-west-1-peers-2x",
		"cassandgo-MultiDC-eu-west-1-peers-", "cassandgo-MultiDC-eu-west-12",
		"cassandgo-MultiDC-eu-west", "cassandgo-Other-eu-west-1", "default",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cg_ec2_sg_index("MultiDC", "eu-west-1", bad[i]), -1);
	free(n0);
	free(n1);
	free(n4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_groups_too_many),
		cmocka_unit_test(test_place_fill_in_order),
		cmocka_unit_test(test_place_stable),
		cmocka_unit_test(test_place_moves),
		cmocka_unit_test(test_place_150),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
