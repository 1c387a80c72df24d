/*
 * test_cassconf.c - what runs on a node: rendered files against golden
 * copies (tests/cassconf/), spec from machine resources, token balance with
 * 128-bit arithmetic, `nodetool status` parsing, hash determinism.
 *
 * Runs from tests/. CG_UPDATE_GOLDEN=1 rewrites the golden files (review
 * the diff before committing).
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

/* ---- a known cluster -----------------------------------------------------
 * Lab: DC1 (eu-west-1, 3 nodes, 2 seeds, zones a/b) and DC2 (us-east-1,
 * 2 nodes, 1 seed): two regions, so nodes broadcast their public address. */

static char *zones1[] = { "eu-west-1a", "eu-west-1b" };
static char *zones2[] = { "us-east-1a", "us-east-1b" };

static struct cg_kv extra[] = {
	{ "concurrent_compactors", "2", { 0, 0 } },	/* overrides ours */
	{ "authenticator", "PasswordAuthenticator", { 0, 0 } },
	{ "x_quoting_probe", "it's: odd", { 0, 0 } },	/* synthetic key: quoting */
};

static void lab(struct cg_cluster *c, struct cg_dc dcs[2])
{
	memset(c, 0, sizeof(*c));
	memset(dcs, 0, 2 * sizeof(*dcs));
	dcs[0].name = "DC1";
	dcs[0].region = "eu-west-1";
	dcs[0].nodes = 3;
	dcs[0].seeds = 2;
	dcs[0].zones = zones1;
	dcs[0].nzones = 2;
	dcs[1].name = "DC2";
	dcs[1].region = "us-east-1";
	dcs[1].nodes = 2;
	dcs[1].seeds = 1;
	dcs[1].zones = zones2;
	dcs[1].nzones = 2;
	c->name = "Lab";
	c->provider = CG_PROVIDER_AWS;
	c->cassandra_version = "5.0.9";
	c->num_tokens = 4;
	c->heap = "512M";
	c->dcs = dcs;
	c->ndcs = 2;
	c->cassandra = extra;
	c->ncassandra = 3;
}

/* machine.<dc>.n<i>: private 10.<d+1>.0.<i>, public 203.0.<d+1>.<i>. */
static void machines(struct cg_rset *s, const struct cg_cluster *c)
{
	int d, i;

	cg_rset_init(s);
	for (d = 0; d < c->ndcs; d++) {
		for (i = 1; i <= c->dcs[d].nodes; i++) {
			char *addr = cg_addr_node(CG_KIND_MACHINE, c->dcs[d].name, i);
			struct cg_resource *m = cg_rset_new(s, CG_KIND_MACHINE, addr);

			free(addr);
			cg_res_setf(m, "private_ip", 0, "10.%d.0.%d", d + 1, i);
			cg_res_setf(m, "public_ip", 0, "203.0.%d.%d", d + 1, i);
			cg_res_set(m, "zone", c->dcs[d].zones[(i - 1) % c->dcs[d].nzones], 0);
			cg_res_set(m, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(m, "lib_dir", "/usr/share/cassandra/lib", 0);
		}
	}
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t len;
	struct cg_err err = { 0 };

	if (cg_file_read(path, &s, &len, &err) < 0)
		return NULL;
	return s;
}

static void golden(const char *name, const char *got)
{
	char *path = cg_xasprintf("cassconf/%s", name);
	char *want;

	if (getenv("CG_UPDATE_GOLDEN")) {
		struct cg_err err = { 0 };

		assert_int_equal(cg_file_write_atomic(path, got, strlen(got), 0644, &err), 0);
	}
	want = slurp(path);
	if (!want)
		fail_msg("golden file %s missing (CG_UPDATE_GOLDEN=1 creates it)", path);
	if (strcmp(want, got))
		fail_msg("%s differs from the rendering:\n%s", path, got);
	free(want);
	free(path);
}

/* ---- spec ------------------------------------------------------------------ */

static void test_spec_from_machines(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };

	(void)state;
	lab(&c, dcs);
	machines(&known, &c);
	assert_int_equal(cg_cassconf_spec(&c, 0, 2, &known, true, &s, &err), 1);
	assert_ptr_equal(s.cluster, &c);
	assert_int_equal(s.dc_index, 0);
	assert_int_equal(s.node, 2);
	assert_string_equal(s.address, "10.1.0.2");
	/* Two regions: gossip over the public address. */
	assert_string_equal(s.broadcast, "203.0.1.2");
	assert_string_equal(s.rack, "eu-west-1b");
	assert_string_equal(s.base_dir, "/var/lib/cassandgo");
	assert_string_equal(s.lib_dir, "/usr/share/cassandra/lib");
	assert_true(s.new_cluster);
	/* DC1's two seeds, then DC2's one, by broadcast address. */
	assert_int_equal(s.nseeds, 3);
	assert_string_equal(s.seeds[0], "203.0.1.1");
	assert_string_equal(s.seeds[1], "203.0.1.2");
	assert_string_equal(s.seeds[2], "203.0.2.1");
	cg_cassconf_spec_clear(&s);
	assert_null(s.seeds);

	/* One region: private addresses only, no broadcast. */
	dcs[1].region = "eu-west-1";
	assert_int_equal(cg_cassconf_spec(&c, 1, 2, &known, false, &s, &err), 1);
	assert_string_equal(s.address, "10.2.0.2");
	assert_null(s.broadcast);
	assert_string_equal(s.rack, "us-east-1b");
	assert_false(s.new_cluster);
	assert_int_equal(s.nseeds, 3);
	assert_string_equal(s.seeds[0], "10.1.0.1");
	assert_string_equal(s.seeds[2], "10.2.0.1");
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

/* A joining node is never its own seed (Cassandra would not bootstrap
 * it); a replaced sole seed is introduced by the other nodes. */
static void test_spec_join_not_own_seed(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };

	(void)state;
	lab(&c, dcs);
	machines(&known, &c);
	/* DC1.n1 joins: DC1's other seed and DC2's seed remain. */
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, false, &s, &err), 1);
	assert_int_equal(s.nseeds, 2);
	assert_string_equal(s.seeds[0], "203.0.1.2");
	assert_string_equal(s.seeds[1], "203.0.2.1");
	cg_cassconf_spec_clear(&s);
	/* The same node in a new cluster is a seed like the others. */
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, true, &s, &err), 1);
	assert_int_equal(s.nseeds, 3);
	assert_string_equal(s.seeds[0], "203.0.1.1");
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);

	/* One DC, one seed, and the seed is the joining node. */
	c.ndcs = 1;
	dcs[0].seeds = 1;
	dcs[0].region = "eu-west-1";
	machines(&known, &c);
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, false, &s, &err), 1);
	assert_int_equal(s.nseeds, 2);
	assert_string_equal(s.seeds[0], "10.1.0.2");
	assert_string_equal(s.seeds[1], "10.1.0.3");
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static void test_spec_incomplete(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };
	struct cg_resource *m;

	(void)state;
	lab(&c, dcs);
	machines(&known, &c);
	/* A seed whose address is known only after apply. */
	m = cg_rset_find(&known, "machine.DC2.n1");
	assert_non_null(m);
	cg_res_set(m, "private_ip", NULL, CG_ATTR_COMPUTED);
	cg_res_set(m, "public_ip", NULL, CG_ATTR_COMPUTED);
	assert_int_equal(cg_cassconf_spec(&c, 0, 3, &known, true, &s, &err), 0);
	assert_int_equal(s.nseeds, 2);
	cg_cassconf_spec_clear(&s);

	/* No machines at all: nothing known, not an error. */
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, NULL, true, &s, &err), 0);
	assert_null(s.address);
	cg_cassconf_spec_clear(&s);

	/* Out of range. */
	assert_int_equal(cg_cassconf_spec(&c, 2, 1, &known, true, &s, &err), -1);
	assert_non_null(strstr(err.msg, "#2"));
	assert_int_equal(cg_cassconf_spec(&c, 1, 3, &known, true, &s, &err), -1);
	assert_non_null(strstr(err.msg, "DC2 has no node 3"));
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static void test_is_seed(void **state)
{
	struct cg_dc dc = { 0 };

	(void)state;
	dc.nodes = 3;
	dc.seeds = 2;
	assert_true(cg_cassconf_is_seed(&dc, 1));
	assert_true(cg_cassconf_is_seed(&dc, 2));
	assert_false(cg_cassconf_is_seed(&dc, 3));
	assert_false(cg_cassconf_is_seed(&dc, 0));
	dc.seeds = 5;		/* more seeds than nodes */
	assert_true(cg_cassconf_is_seed(&dc, 3));
	assert_false(cg_cassconf_is_seed(&dc, 4));
}

/* ---- rendering --------------------------------------------------------------- */

static void render_node(const struct cg_cluster *c, int d, int node, bool new_cluster,
			struct cg_node_files *f)
{
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_err err = { 0 };

	machines(&known, c);
	assert_int_equal(cg_cassconf_spec(c, d, node, &known, new_cluster, &s, &err), 1);
	if (cg_cassconf_render(&s, f, &err) < 0)
		fail_msg("render: %s", err.msg);
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

static void test_render_golden(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_node_files f;
	struct cg_buf all = { 0 };
	char hex[17];

	(void)state;
	lab(&c, dcs);
	render_node(&c, 0, 2, true, &f);
	golden("DC1.n2.cassandra.yaml", f.cassandra_yaml);
	golden("DC1.n2.cassandra-rackdc.properties", f.rackdc);
	golden("DC1.n2.cgnode.env", f.env);
	golden("DC1.n2.logback.xml", f.logback);
	/* The documented hash: the four files, each NUL-terminated, with the
	 * seed list left out of cassandra.yaml (a new list is reloaded). */
	assert_string_equal(f.seeds, "203.0.1.1:7000,203.0.1.2:7000,203.0.2.1:7000");
	const char *at = strstr(f.cassandra_yaml, f.seeds);
	assert_non_null(at);
	cg_buf_add(&all, f.cassandra_yaml, (size_t)(at - f.cassandra_yaml));
	cg_buf_add(&all, at + strlen(f.seeds), strlen(at + strlen(f.seeds)) + 1);
	cg_buf_add(&all, f.rackdc, strlen(f.rackdc) + 1);
	cg_buf_add(&all, f.env, strlen(f.env) + 1);
	cg_buf_add(&all, f.logback, strlen(f.logback) + 1);
	assert_true(f.hash == cg_hash64(all.data, all.len));
	cg_hash_hex(f.hash, hex);
	assert_int_equal(strlen(hex), 16);
	cg_buf_free(&all);
	cg_node_files_free(&f);
	assert_null(f.cassandra_yaml);
}

static void test_render_contents(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_node_files f;
	char *tok, *line;

	(void)state;
	lab(&c, dcs);
	render_node(&c, 0, 2, true, &f);
	/* Precomputed tokens of this node, no bootstrap. */
	tok = cg_tokens_initial(0, 3, 2, 4);
	line = cg_xasprintf("\ninitial_token: %s\n", tok);
	assert_non_null(strstr(f.cassandra_yaml, line));
	free(line);
	free(tok);
	assert_non_null(strstr(f.cassandra_yaml, "\nauto_bootstrap: false\n"));
	assert_non_null(strstr(f.cassandra_yaml,
		"      - seeds: \"203.0.1.1:7000,203.0.1.2:7000,203.0.2.1:7000\"\n"));
	assert_non_null(strstr(f.cassandra_yaml, "\nlisten_address: 10.1.0.2\n"));
	assert_non_null(strstr(f.cassandra_yaml, "\nbroadcast_address: 203.0.1.2\n"));
	/* Extra settings: override in place (once), append, quote. */
	assert_non_null(strstr(f.cassandra_yaml, "\nconcurrent_compactors: 2\n"));
	assert_null(strstr(f.cassandra_yaml, "concurrent_compactors: 1"));
	assert_non_null(strstr(f.cassandra_yaml, "\nauthenticator: PasswordAuthenticator\n"));
	assert_non_null(strstr(f.cassandra_yaml, "\nx_quoting_probe: 'it''s: odd'\n"));
	assert_string_equal(f.rackdc,
		"# cassandra-rackdc.properties, rendered by cassandgo\n"
		"dc=DC1\nrack=eu-west-1b\nprefer_local=true\n");
	assert_non_null(strstr(f.env, "\nHEAP='512M'\n"));
	assert_non_null(strstr(f.env, "\nJMX_PORT=7199\n"));
	assert_non_null(strstr(f.env, " -Dcassandra.skip_wait_for_gossip_to_settle=0 "));
	assert_non_null(strstr(f.env, " -javaagent:/usr/share/cassandra/lib/jamm-0.4.0.jar "));
	assert_non_null(strstr(f.env,
		" -Dcassandra.config=file:///var/lib/cassandgo/conf/cassandra.yaml "));
	assert_non_null(strstr(f.env, " -Djna.tmpdir=/var/lib/cassandgo/tmp "));
	assert_non_null(strstr(f.logback, "<file>/var/lib/cassandgo/logs/system.log</file>"));
	assert_null(strstr(f.env, "TieredStopAtLevel"));	/* aws: full JIT */
	assert_null(strstr(f.env, "computation_step"));
	/* TLS on: the in-memory key store's PBKDF2 costs one round, not 10000 */
	assert_non_null(strstr(f.env, " -Dkeystore.pkcs12.keyPbeIterationCount=1 "));
	cg_node_files_free(&f);

	/* Security off: no TLS context, no key store, no flag for it. */
	c.security_off = true;
	render_node(&c, 0, 2, true, &f);
	assert_null(strstr(f.env, "keyPbeIterationCount"));
	assert_null(strstr(f.env, "CQL_TLS"));
	c.security_off = false;
	cg_node_files_free(&f);

	/* A lab node (local provider) trades JIT for a cheaper start. */
	c.provider = CG_PROVIDER_LOCAL;
	render_node(&c, 0, 2, true, &f);
	assert_non_null(strstr(f.env, " -XX:TieredStopAtLevel=1 "));
	assert_non_null(strstr(f.env, " -Dcassandra.memtable_row_overhead_computation_step=100 "));
	c.provider = CG_PROVIDER_AWS;
	cg_node_files_free(&f);

	/* Joining an existing cluster: the allocator, and bootstrap; DC2's
	 * nodes sit in 2 racks, and Cassandra refuses an allocator RF above
	 * the rack count (test_cassconf_broadcast.c has the other cases). */
	render_node(&c, 1, 2, false, &f);
	assert_null(strstr(f.cassandra_yaml, "initial_token"));
	assert_null(strstr(f.cassandra_yaml, "auto_bootstrap"));
	assert_non_null(strstr(f.cassandra_yaml,
		"\nallocate_tokens_for_local_replication_factor: 2\n"));
	cg_node_files_free(&f);
}

static void test_render_deterministic(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_node_files a, b;

	(void)state;
	lab(&c, dcs);
	render_node(&c, 1, 1, true, &a);
	render_node(&c, 1, 1, true, &b);
	assert_true(a.hash == b.hash);
	assert_string_equal(a.cassandra_yaml, b.cassandra_yaml);
	assert_string_equal(a.env, b.env);
	cg_node_files_free(&b);

	/* Every input that matters moves the hash. */
	c.heap = "1G";
	render_node(&c, 1, 1, true, &b);
	assert_true(a.hash != b.hash);
	cg_node_files_free(&b);
	c.heap = "512M";
	c.ncassandra = 1;
	render_node(&c, 1, 1, true, &b);
	assert_true(a.hash != b.hash);
	cg_node_files_free(&b);
	c.ncassandra = 3;
	render_node(&c, 1, 2, true, &b);	/* another node */
	assert_true(a.hash != b.hash);
	cg_node_files_free(&b);
	render_node(&c, 1, 1, false, &b);	/* not a new cluster */
	assert_true(a.hash != b.hash);
	cg_node_files_free(&b);
	cg_node_files_free(&a);
}

/* The seed list is not in the hash: a new list alone is written and
 * reloaded by the running node (nodetool reloadseeds), never a restart;
 * any other change still moves the hash. */
static void test_render_seeds_apart(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_node_files a, b;
	struct cg_err err = { 0 };
	uint64_t h;

	(void)state;
	lab(&c, dcs);
	render_node(&c, 1, 2, true, &a);
	/* a seed replaced (new address), then one seed fewer in DC1 */
	machines(&known, &c);
	cg_res_set(cg_rset_find(&known, "machine.DC1.n1"), "public_ip", "203.0.9.9", 0);
	assert_int_equal(cg_cassconf_spec(&c, 1, 2, &known, true, &s, &err), 1);
	assert_int_equal(cg_cassconf_render(&s, &b, &err), 0);
	assert_string_equal(b.seeds, "203.0.9.9:7000,203.0.1.2:7000,203.0.2.1:7000");
	assert_string_not_equal(a.cassandra_yaml, b.cassandra_yaml);
	assert_non_null(strstr(b.cassandra_yaml, "      - seeds: \"203.0.9.9:7000,"));
	assert_true(a.hash == b.hash);
	char *list = cg_cassconf_seed_list(&s);
	assert_string_equal(list, b.seeds);
	free(list);
	cg_node_files_free(&b);
	cg_cassconf_spec_clear(&s);
	dcs[0].seeds = 1;
	render_node(&c, 1, 2, true, &b);
	assert_string_equal(b.seeds, "203.0.1.1:7000,203.0.2.1:7000");
	assert_true(a.hash == b.hash);
	cg_node_files_free(&b);
	dcs[0].seeds = 2;

	/* the hash is known while a seed's address is not (a seed machine
	 * new or gone): cg_cassconf_hash, not cg_cassconf_render */
	cg_res_set(cg_rset_find(&known, "machine.DC1.n1"), "public_ip", NULL, CG_ATTR_COMPUTED);
	cg_res_set(cg_rset_find(&known, "machine.DC1.n1"), "private_ip", NULL, CG_ATTR_COMPUTED);
	assert_int_equal(cg_cassconf_spec(&c, 1, 2, &known, true, &s, &err), 0);
	assert_int_equal(cg_cassconf_hash(&s, &h, &err), 0);
	assert_true(h == a.hash);
	cg_cassconf_spec_clear(&s);
	/* ... even with no seed known at all; render still refuses that */
	c.ndcs = 1;
	dcs[0].nodes = 1;
	dcs[0].seeds = 1;
	cg_res_set(cg_rset_find(&known, "machine.DC1.n1"), "private_ip", "10.1.0.1", 0);
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, false, &s, &err), 1);
	assert_int_equal(s.nseeds, 0);	/* a joining node is not its own seed */
	assert_int_equal(cg_cassconf_hash(&s, &h, &err), 0);
	assert_int_equal(cg_cassconf_render(&s, &b, &err), -1);
	assert_non_null(strstr(err.msg, "no seed address known"));
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);

	/* anything else moves it (the cluster's settings, here the heap) */
	lab(&c, dcs);
	c.heap = "1G";
	render_node(&c, 1, 2, true, &b);
	assert_string_equal(a.seeds, b.seeds);
	assert_true(a.hash != b.hash);
	cg_node_files_free(&b);
	cg_node_files_free(&a);
}

static void test_render_refuses(void **state)
{
	struct cg_cluster c;
	struct cg_dc dcs[2];
	struct cg_rset known;
	struct cg_node_spec s;
	struct cg_node_files f;
	struct cg_err err = { 0 };
	const char *saved;

	(void)state;
	lab(&c, dcs);
	machines(&known, &c);
	assert_int_equal(cg_cassconf_spec(&c, 0, 1, &known, true, &s, &err), 1);

	saved = s.base_dir;
	s.base_dir = "relative/dir";
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	assert_non_null(strstr(err.msg, "base_dir"));
	assert_null(f.cassandra_yaml);
	s.base_dir = "/with space";
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	s.base_dir = "/x'; rm -rf /";
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	s.base_dir = saved;

	saved = s.address;
	s.address = NULL;
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	assert_non_null(strstr(err.msg, "DC1.n1"));
	s.address = saved;

	c.heap = "512M -XX:+Evil";
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	assert_non_null(strstr(err.msg, "heap"));
	c.heap = "512M";

	c.name = "La'b";
	assert_int_equal(cg_cassconf_render(&s, &f, &err), -1);
	c.name = "Lab";

	assert_int_equal(cg_cassconf_render(&s, &f, &err), 0);
	cg_node_files_free(&f);
	cg_cassconf_spec_clear(&s);
	cg_rset_free(&known);
}

/* ---- tokens ------------------------------------------------------------------ */

struct tok {
	int64_t t;
	int node;
};

static int tok_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct tok *)a)->t, y = ((const struct tok *)b)->t;

	return (x > y) - (x < y);
}

/* Tokens of every node of one DC; checks each node's share of the ring is
 * 2^64/N to within N*T (the integer remainder), i.e. exactly 1/N. */
static void check_dc_balance(int d, int nodes, int ntok)
{
	int m = nodes * ntok, i, k, j;
	struct tok *v = cg_xcalloc((size_t)m, sizeof(*v));
	__int128 *own = cg_xcalloc((size_t)nodes, sizeof(*own));
	const __int128 ring = (__int128)1 << 64;

	for (j = 1, i = 0; j <= nodes; j++) {
		char *s = cg_tokens_initial(d, nodes, j, ntok), *p = s, *end;

		assert_non_null(s);
		for (k = 0; k < ntok; k++) {
			v[i].t = strtoll(p, &end, 10);
			v[i].node = j - 1;
			i++;
			assert_true(end != p);
			p = *end == ',' ? end + 1 : end;
		}
		assert_int_equal(*p, '\0');	/* exactly ntok tokens */
		free(s);
	}
	qsort(v, (size_t)m, sizeof(*v), tok_cmp);
	for (i = 0; i < m; i++) {
		/* A token owns (previous, itself]; the first wraps around. */
		__int128 prev = i ? v[i - 1].t : (__int128)v[m - 1].t - ring;

		assert_true(i == 0 || v[i].t != v[i - 1].t);	/* unique */
		own[v[i].node] += (__int128)v[i].t - prev;
	}
	for (j = 0; j < nodes; j++) {
		__int128 diff = own[j] - ring / nodes;

		if (diff < 0)
			diff = -diff;
		if (diff > m)
			fail_msg("DC %d, %d nodes x %d tokens: node %d off by %lld", d, nodes,
				 ntok, j + 1, (long long)diff);
	}
	free(v);
	free(own);
}

static void test_tokens_balanced(void **state)
{
	static const int ns[] = { 1, 2, 3, 4, 5, 7, 12 };
	static const int ts[] = { 1, 4, 8, 16, 256 };
	size_t a, b;
	int d;

	(void)state;
	for (d = 0; d < 3; d++)
		for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
			for (b = 0; b < sizeof(ts) / sizeof(ts[0]); b++)
				check_dc_balance(d, ns[a], ts[b]);
}

static void test_tokens_values(void **state)
{
	char *s;

	(void)state;
	/* FACTS.md formula, by hand: step = 2^64/(2*2) = 2^62. */
	s = cg_tokens_initial(0, 2, 1, 2);
	assert_string_equal(s, "-9223372036854775808,0");
	free(s);
	s = cg_tokens_initial(0, 2, 2, 2);
	assert_string_equal(s, "-4611686018427387904,4611686018427387904");
	free(s);
	/* The second DC is offset by 100, so no token is shared. */
	s = cg_tokens_initial(1, 2, 1, 2);
	assert_string_equal(s, "-9223372036854775708,100");
	free(s);
	s = cg_tokens_initial(0, 1, 1, 1);
	assert_string_equal(s, "-9223372036854775808");
	free(s);
	assert_null(cg_tokens_initial(0, 2, 3, 4));
	assert_null(cg_tokens_initial(0, 2, 0, 4));
	assert_null(cg_tokens_initial(0, 0, 1, 4));
	assert_null(cg_tokens_initial(0, 2, 1, 0));
	assert_null(cg_tokens_initial(-1, 2, 1, 4));
}

/* ---- nodetool status ---------------------------------------------------------- */

static void parse_file(const char *name, struct cg_ring *r)
{
	char *path = cg_xasprintf("cassconf/%s", name);
	char *text = slurp(path);
	struct cg_err err = { 0 };

	assert_non_null(text);
	if (cg_nodetool_status_parse(text, r, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	free(text);
	free(path);
}

static void test_status_single(void **state)
{
	struct cg_ring r;

	(void)state;
	parse_file("status-single.txt", &r);	/* real 5.0.9 output */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].status, 'U');
	assert_int_equal(r.v[0].state, 'N');
	assert_string_equal(r.v[0].dc, "DC1");
	assert_string_equal(r.v[0].address, "127.0.0.1");
	assert_string_equal(r.v[0].load, "114.4 KiB");
	assert_int_equal(r.v[0].tokens, 4);
	assert_true(r.v[0].owns == 100.0);
	assert_string_equal(r.v[0].host_id, "267eaa9f-c95c-4a17-8e3f-6d32da978252");
	assert_string_equal(r.v[0].rack, "r1");	/* trailing blanks trimmed */
	cg_ring_free(&r);
	assert_int_equal(r.n, 0);
}

static void test_status_multi(void **state)
{
	struct cg_ring r;

	(void)state;
	parse_file("status-multi.txt", &r);
	assert_int_equal(r.n, 5);
	assert_string_equal(r.v[0].dc, "DC1");
	assert_string_equal(r.v[0].load, "104.35 KiB");
	assert_true(r.v[0].owns == -1);
	assert_string_equal(r.v[0].rack, "eu-west-1a");
	/* Down node: load unknown. */
	assert_int_equal(r.v[1].status, 'D');
	assert_int_equal(r.v[1].state, 'N');
	assert_string_equal(r.v[1].load, "?");
	assert_string_equal(r.v[1].address, "10.0.1.11");
	assert_int_equal(r.v[2].state, 'L');
	assert_string_equal(r.v[2].load, "1.02 MiB");
	assert_string_equal(r.v[3].dc, "DC2");
	assert_string_equal(r.v[3].host_id, "11111111-2222-4333-8444-555555555555");
	assert_int_equal(r.v[4].status, 'U');
	assert_int_equal(r.v[4].state, 'J');
	assert_string_equal(r.v[4].dc, "DC2");
	assert_string_equal(r.v[4].rack, "us-east-1b");
	assert_int_equal(r.v[4].tokens, 16);
	cg_ring_free(&r);
}

static void test_status_owns(void **state)
{
	struct cg_ring r;

	(void)state;
	parse_file("status-owns.txt", &r);
	assert_int_equal(r.n, 3);
	assert_true(r.v[0].owns == 50.0);
	assert_true(r.v[1].owns == 50.0);
	assert_string_equal(r.v[2].dc, "DC2");
	assert_true(r.v[2].owns == 100.0);
	assert_string_equal(r.v[2].rack, "my rack 1");
	cg_ring_free(&r);
}

/* Another node's output can reach a command (replace, removenode): an
 * address that is not an address, or a host id that is not a UUID, makes
 * the whole output refused. */
static void test_status_hostile(void **state)
{
	static const char *const hostile[] = {
		("Datacenter: DC1\nUN  10.0.0.1;touch${IFS}/tmp/cg-pwned  1 KiB  16  ?  "
		 "267eaa9f-c95c-4a17-8e3f-6d32da978252  r1\n"),
		"Datacenter: DC1\nDN  $(reboot)  1 KiB  16  ?  267eaa9f-c95c-4a17-8e3f-6d32da978252  r1\n",
		"Datacenter: DC1\nDN  10.0.0.1  1 KiB  16  ?  `id`-c95c-4a17-8e3f-6d32da978252  r1\n",
		"Datacenter: DC1\nDN  10.0.0.1  1 KiB  16  ?  267eaa9f;rm${IFS}-rf${IFS}/  r1\n",
	};
	struct cg_ring r;
	struct cg_err err = { 0 };
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		assert_int_equal(cg_nodetool_status_parse(hostile[i], &r, &err), -1);
		assert_non_null(strstr(err.msg, "is not valid: output refused"));
		assert_int_equal(r.n, 0);
	}
	/* IPv6 and the usual form still pass */
	assert_int_equal(cg_nodetool_status_parse("Datacenter: DC1\nUN  fd00::1  1 KiB  16  ?  "
		"267eaa9f-c95c-4a17-8e3f-6d32da978252  r1\n", &r, &err), 0);
	assert_string_equal(r.v[0].address, "fd00::1");
	cg_ring_free(&r);
}

static void test_status_errors(void **state)
{
	struct cg_ring r;
	struct cg_err err = { 0 };
	char *text = slurp("cassconf/status-error.txt");

	(void)state;
	assert_non_null(text);
	assert_int_equal(cg_nodetool_status_parse(text, &r, &err), -1);
	assert_non_null(strstr(err.msg, "Connection refused"));
	assert_int_equal(r.n, 0);
	free(text);
	assert_int_equal(cg_nodetool_status_parse("", &r, &err), -1);
	assert_int_equal(cg_nodetool_status_parse(NULL, &r, &err), -1);
	/* A node line with no Datacenter header before it. */
	assert_int_equal(cg_nodetool_status_parse(
		"UN  10.0.0.1  1 KiB  16  ?  abc  r1\nDatacenter: DC1\n", &r, &err), -1);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_null(r.v);
	/* Not a node line: bad status letter, missing columns. */
	assert_int_equal(cg_nodetool_status_parse(
		"Datacenter: DC1\nXN  10.0.0.1  1 KiB  16  ?  abc  r1\n"
		"UN  10.0.0.2  1 KiB\n", &r, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_from_machines),
		cmocka_unit_test(test_spec_join_not_own_seed),
		cmocka_unit_test(test_spec_incomplete),
		cmocka_unit_test(test_is_seed),
		cmocka_unit_test(test_render_golden),
		cmocka_unit_test(test_render_contents),
		cmocka_unit_test(test_render_deterministic),
		cmocka_unit_test(test_render_seeds_apart),
		cmocka_unit_test(test_render_refuses),
		cmocka_unit_test(test_tokens_balanced),
		cmocka_unit_test(test_tokens_values),
		cmocka_unit_test(test_status_single),
		cmocka_unit_test(test_status_multi),
		cmocka_unit_test(test_status_owns),
		cmocka_unit_test(test_status_errors),
		cmocka_unit_test(test_status_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
