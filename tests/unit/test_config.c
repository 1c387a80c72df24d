/*
 * test_config.c - the config loader (planner/config.c). Run with cwd tests/.
 *
 * Bad configs are data: every tests/config/bad/NNN-*.yaml starts with
 *     # expect: LINE:COL: <substring of the message>
 * and must fail with code 65 and message "config/bad/NAME:LINE:COL: ..." that
 * contains the substring and follows "KEY: WHAT; expected WHAT".
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../planner/config.h"
#include "../../planner/model.h"
#include "../../planner/cassandra_keys.h"

static struct cg_config *load_ok(const char *path)
{
	struct cg_config *cfg = NULL;
	struct cg_err err = {0};
	if (cg_config_load(path, &cfg, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	assert_non_null(cfg);
	return cfg;
}

static void assert_seed_dc(const struct cg_dc *dc, const char *name, const char *region,
			   int nodes, bool mon)
{
	assert_string_equal(dc->name, name);
	assert_string_equal(dc->region, region);
	assert_int_equal(dc->nodes, nodes);
	assert_int_equal(dc->seeds, 2);
	assert_string_equal(dc->node_type, "m3.large");
	assert_int_equal(dc->monitoring, mon);
	assert_null(dc->zones);
	assert_int_equal(dc->nzones, 0);
	assert_null(dc->ami);
}

/* The default release is the one the build pins (and the local cache holds). */
static void assert_default_version(const char *v)
{
	char *pinned;
	size_t len;
	struct cg_err err = {0};
	assert_int_equal(cg_file_read("cassandra/VERSION", &pinned, &len, &err), 0);
	while (len && (pinned[len - 1] == '\n' || pinned[len - 1] == ' '))
		pinned[--len] = '\0';
	assert_string_equal(v, pinned);
	free(pinned);
}

static void assert_aws_defaults(const struct cg_cluster *c)
{
	assert_int_equal(c->provider, CG_PROVIDER_AWS);
	assert_default_version(c->cassandra_version);
	assert_int_equal(c->num_tokens, 16);
	assert_string_equal(c->heap, "2G");
	assert_string_equal(c->ssh_user, "ubuntu");
	assert_int_equal(c->ssh_address, CG_SSH_PUBLIC);
	assert_int_equal(c->broadcast, CG_BROADCAST_AUTO);
	assert_null(c->allowed_cidrs);
	assert_int_equal(c->nallowed_cidrs, 0);
	assert_null(c->install);
	assert_null(c->network);
	assert_int_equal(c->ncassandra, 0);
}

/* The 2014 seed's file, unchanged. */
static void test_seed_file(void **state)
{
	(void)state;
	struct cg_config *cfg = load_ok("../cassandgo.yaml");
	assert_string_equal(cfg->path, "../cassandgo.yaml");
	assert_int_equal(cfg->nclusters, 2);

	const struct cg_cluster *mono = &cfg->clusters[0];
	assert_string_equal(mono->name, "MonoDC");
	assert_int_equal(mono->pos.line, 3);
	assert_int_equal(mono->pos.col, 1);
	assert_aws_defaults(mono);
	assert_int_equal(mono->ndcs, 1);
	assert_seed_dc(&mono->dcs[0], "DC1", "eu-west-1", 6, true);
	assert_int_equal(mono->dcs[0].pos.line, 4);
	assert_int_equal(mono->dcs[0].pos.col, 3);

	const struct cg_cluster *multi = &cfg->clusters[1];
	assert_string_equal(multi->name, "MultiDC");
	assert_aws_defaults(multi);
	assert_int_equal(multi->ndcs, 3);
	assert_seed_dc(&multi->dcs[0], "DC1", "eu-west-1", 5, true);
	assert_seed_dc(&multi->dcs[1], "DC2", "us-east-1", 5, false);
	assert_seed_dc(&multi->dcs[2], "DC3", "us-west-1", 5, false);
	assert_int_equal(multi->dcs[2].pos.line, 29);

	struct cg_err err = {0};
	assert_ptr_equal(cg_config_cluster(cfg, "MultiDC", &err), multi);
	assert_ptr_equal(cg_config_cluster(cfg, "MonoDC", &err), mono);
	assert_int_equal(err.code, 0);
	cg_config_free(cfg);
}

/* A scratch directory per test, removed by the teardown even on failure. */
static int tmpdir_setup(void **state)
{
	char *dir = cg_xstrdup("/tmp/cg-test-config-XXXXXX");
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	char *dir = *state, *path = cg_xasprintf("%s/c.yaml", dir);
	unlink(path);
	int rc = rmdir(dir);
	free(path);
	free(dir);
	return rc;
}

/* The hash is the file's bytes: one byte more changes it. */
static void test_hash(void **state)
{
	const char *dir = *state;
	char *text;
	size_t len;
	struct cg_err err = {0};
	assert_int_equal(cg_file_read("../cassandgo.yaml", &text, &len, &err), 0);
	struct cg_config *cfg = load_ok("../cassandgo.yaml");
	assert_true(cfg->hash == cg_hash64(text, len));

	char *path = cg_xasprintf("%s/c.yaml", dir);
	char *text2 = cg_xasprintf("%s\n", text);
	assert_int_equal(cg_file_write_atomic(path, text2, len + 1, 0644, &err), 0);
	struct cg_config *cfg2 = load_ok(path);
	assert_true(cfg2->hash != cfg->hash);
	assert_true(cfg2->hash == cg_hash64(text2, len + 1));
	cg_config_free(cfg2);
	cg_config_free(cfg);
	free(path);
	free(text2);
	free(text);
}

static void test_unknown_cluster(void **state)
{
	(void)state;
	struct cg_config *cfg = load_ok("../cassandgo.yaml");
	struct cg_err err = {0};
	assert_null(cg_config_cluster(cfg, "MultDC", &err));
	assert_int_equal(err.code, CG_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "no cluster named 'MultDC'"));
	assert_non_null(strstr(err.msg, "did you mean 'MultiDC'?"));
	assert_non_null(strstr(err.msg, "known clusters: MonoDC, MultiDC"));

	memset(&err, 0, sizeof(err));
	assert_null(cg_config_cluster(cfg, "Zzzzzzzzz", &err));
	assert_int_equal(err.code, CG_EXIT_USAGE);
	assert_null(strstr(err.msg, "did you mean"));
	cg_config_free(cfg);
}

/* install: maven is the default on aws; maven_mirror goes with it */
static void test_maven(void **state)
{
	(void)state;
	struct cg_config *cfg = load_ok("config/good/maven.yaml");
	assert_int_equal(cfg->nclusters, 3);
	assert_null(cfg->clusters[0].install);
	assert_string_equal(cfg->clusters[0].maven_mirror, "https://repo.example.com:8443/maven2");
	char *m = cg_model_install_method(&cfg->clusters[0]);
	assert_string_equal(m, "maven");
	free(m);
	assert_string_equal(cfg->clusters[1].install, "maven");
	assert_string_equal(cfg->clusters[1].maven_mirror, "http://127.0.0.1:8081/maven2");
	m = cg_model_install_method(&cfg->clusters[1]);
	assert_string_equal(m, "maven");
	free(m);
	assert_null(cfg->clusters[2].maven_mirror);
	cg_config_free(cfg);
}

static void test_every_key(void **state)
{
	(void)state;
	struct cg_config *cfg = load_ok("config/good/every-key.yaml");
	assert_int_equal(cfg->nclusters, 5);

	const struct cg_cluster *c = &cfg->clusters[0];
	assert_string_equal(c->name, "Full");
	assert_int_equal(c->provider, CG_PROVIDER_AWS);
	assert_string_equal(c->cassandra_version, "5.0.4");
	assert_int_equal(c->num_tokens, 8);
	assert_string_equal(c->heap, "3G");
	assert_string_equal(c->ssh_user, "admin");
	assert_int_equal(c->ssh_address, CG_SSH_PRIVATE);
	assert_int_equal(c->broadcast, CG_BROADCAST_PRIVATE);
	assert_int_equal(c->nallowed_cidrs, 2);
	assert_string_equal(c->allowed_cidrs[0], "203.0.113.0/24");
	assert_string_equal(c->allowed_cidrs[1], "198.51.100.7/32");
	assert_string_equal(c->install, "dir:/opt/cassandra-jars");
	assert_null(c->network);
	assert_int_equal(c->ncassandra, 3);
	assert_true(c->security_off);
	assert_string_equal(c->cassandra[0].key, "concurrent_reads");
	assert_string_equal(c->cassandra[0].value, "64");
	assert_int_equal(c->cassandra[0].pos.line, 13);
	assert_int_equal(c->cassandra[0].pos.col, 23);
	assert_string_equal(c->cassandra[1].key, "authenticator");
	assert_string_equal(c->cassandra[1].value, "PasswordAuthenticator");
	assert_string_equal(c->cassandra[2].key, "auto_snapshot");
	assert_string_equal(c->cassandra[2].value, "false");

	assert_int_equal(c->ndcs, 2);
	const struct cg_dc *eu = &c->dcs[0], *us = &c->dcs[1];
	assert_string_equal(eu->name, "eu");
	assert_string_equal(eu->region, "eu-west-3");
	assert_int_equal(eu->nzones, 2);
	assert_string_equal(eu->zones[0], "eu-west-3a");
	assert_string_equal(eu->zones[1], "eu-west-3b");
	assert_int_equal(eu->nodes, 4);
	assert_int_equal(eu->seeds, 2);
	assert_string_equal(eu->node_type, "c6gd.2xlarge");
	assert_false(eu->monitoring);
	assert_null(eu->ami);
	assert_int_equal(eu->pos.line, 18);
	assert_int_equal(eu->pos.col, 7);

	assert_string_equal(us->name, "us-2");
	assert_string_equal(us->region, "us-west-2");
	assert_int_equal(us->nzones, 1);
	assert_string_equal(us->zones[0], "us-west-2-lax-1a");
	assert_int_equal(us->nodes, 1000);
	assert_int_equal(us->seeds, 3);
	assert_string_equal(us->node_type, "m5.large");
	assert_true(us->monitoring);
	assert_string_equal(us->ami, "ami-0123abcd");
	assert_int_equal(us->stress_nodes, 1);
	assert_string_equal(us->stress_node_type, "c6i.large");
	/* the other DC: no load nodes, the default type ready */
	assert_int_equal(c->dcs[0].stress_nodes, 0);
	assert_string_equal(c->dcs[0].stress_node_type, CG_STRESS_NODE_TYPE);

	/* keyspaces: RFs in the order of the DCs, whatever order they are given */
	assert_int_equal(c->nkeyspaces, 2);
	assert_string_equal(c->keyspaces[0].name, "app");
	assert_int_equal(c->keyspaces[0].rf[0], 4);
	assert_int_equal(c->keyspaces[0].rf[1], 5);
	assert_false(c->keyspaces[0].durable_writes);
	assert_int_equal(c->keyspaces[0].pos.line, 36);
	assert_string_equal(c->keyspaces[1].name, "app_2");
	assert_int_equal(c->keyspaces[1].rf[0], 3);
	assert_int_equal(c->keyspaces[1].rf[1], 3);
	assert_true(c->keyspaces[1].durable_writes);

	c = &cfg->clusters[1];
	assert_string_equal(c->name, "Small");
	assert_aws_defaults(c);
	assert_int_equal(c->dcs[0].seeds, 1);
	assert_false(c->dcs[0].monitoring);
	assert_string_equal(c->dcs[0].node_type, "m5.large");
	assert_string_equal(c->dcs[0].region, "ca-west-1");

	c = &cfg->clusters[2];
	assert_string_equal(c->name, "LocalDefaults");
	assert_int_equal(c->provider, CG_PROVIDER_LOCAL);
	assert_default_version(c->cassandra_version);
	assert_string_equal(c->heap, "512M");
	assert_string_equal(c->ssh_user, "cassandgo");
	assert_int_equal(c->ssh_address, CG_SSH_PRIVATE);
	assert_string_equal(c->network, "10.77.0.0/16");
	assert_null(c->install);
	assert_string_equal(c->dcs[0].region, "r1-2");
	assert_string_equal(c->dcs[0].node_type, "local");
	assert_int_equal(c->dcs[0].stress_nodes, 0);
	assert_null(c->dcs[0].stress_node_type);
	assert_int_equal(c->dcs[0].nzones, 2);
	assert_string_equal(c->dcs[0].zones[0], "r1-2-x");
	assert_string_equal(c->dcs[0].zones[1], "r1-2-y");

	c = &cfg->clusters[3];		/* a 5.0 setting under its old name */
	assert_int_equal(c->ncassandra, 1);
	assert_string_equal(c->cassandra[0].key, "compaction_throughput_mb_per_sec");
	c = &cfg->clusters[4];		/* 4.1: names not checked */
	assert_string_equal(c->cassandra_version, "4.1.5");
	assert_string_equal(c->cassandra[0].key, "some_setting_5_0_lacks");
	cg_config_free(cfg);
}

static void test_examples(void **state)
{
	(void)state;
	struct cg_config *cfg = load_ok("../examples/lab.yaml");
	assert_int_equal(cfg->nclusters, 1);
	const struct cg_cluster *c = &cfg->clusters[0];
	assert_string_equal(c->name, "Lab");
	assert_int_equal(c->provider, CG_PROVIDER_LOCAL);
	assert_string_equal(c->heap, "512M");
	assert_int_equal(c->ndcs, 2);
	static const char *const dcn[] = { "DC1", "DC2" }, *const reg[] = { "lab-east", "lab-west" };
	for (int i = 0; i < 2; i++) {
		const struct cg_dc *dc = &c->dcs[i];
		assert_string_equal(dc->name, dcn[i]);
		assert_string_equal(dc->region, reg[i]);
		assert_int_equal(dc->nodes, 2);
		assert_int_equal(dc->seeds, 1);
		assert_int_equal(dc->nzones, 2);
		char *za = cg_xasprintf("%s-a", reg[i]), *zb = cg_xasprintf("%s-b", reg[i]);
		assert_string_equal(dc->zones[0], za);
		assert_string_equal(dc->zones[1], zb);
		free(za);
		free(zb);
	}
	cg_config_free(cfg);

	cfg = load_ok("../examples/multidc-mapping.yaml");
	assert_int_equal(cfg->nclusters, 1);
	c = &cfg->clusters[0];
	assert_int_equal(c->provider, CG_PROVIDER_AWS);
	assert_int_equal(c->ndcs, 2);
	assert_string_equal(c->dcs[1].region, "us-east-1");
	assert_true(c->dcs[0].monitoring);
	cg_config_free(cfg);
}

/* Every shipped example loads (examples added later are covered too). */
static void test_all_examples(void **state)
{
	(void)state;
	DIR *d = opendir("../examples");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		/* scenarios (cassandgo run) are checked by test_scenario.c */
		if (l < 5 || strcmp(e->d_name + l - 5, ".yaml") || !strncmp(e->d_name, "scenario-", 9))
			continue;
		char *path = cg_xasprintf("../examples/%s", e->d_name);
		struct cg_config *cfg = load_ok(path);
		assert_true(cfg->nclusters >= 1);
		cg_config_free(cfg);
		free(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 2);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct cg_config *cfg = (struct cg_config *)0x1;
	struct cg_err err = {0};
	assert_int_equal(cg_config_load("config/does-not-exist.yaml", &cfg, &err), -1);
	assert_ptr_equal(cfg, (struct cg_config *)0x1);	/* untouched */
	assert_int_equal(err.code, CG_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "does-not-exist.yaml"));
}

static void test_regions(void **state)
{
	(void)state;
	static const char *const yes[] = { "us-east-1", "us-east-2", "us-west-1", "us-west-2",
		"eu-west-1", "eu-west-3", "eu-central-2", "eu-north-1", "eu-south-2",
		"ap-southeast-4", "ap-northeast-3", "sa-east-1", "ca-central-1", "ca-west-1",
		"me-central-1", "af-south-1", "il-central-1", "mx-central-1" };
	static const char *const no[] = { "eu-west", "eu-west-4", "us-east-3", "us-gov-west-1",
		"cn-north-1", "EU-WEST-1", "", "eu-west-1a" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		assert_true(cg_config_aws_region_known(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_false(cg_config_aws_region_known(no[i]));
	assert_false(cg_config_aws_region_known(NULL));
}

/* The generated key tables: sorted (config.c bsearches them), disjoint, and
 * for the release series the build pins. */
static void test_cassandra_keys(void **state)
{
	(void)state;
	size_t ns = sizeof(cassandra_scalar_keys) / sizeof(*cassandra_scalar_keys);
	size_t nm = sizeof(cassandra_multi_keys) / sizeof(*cassandra_multi_keys);
	assert_true(ns > 300);
	assert_true(nm > 10);
	for (size_t i = 1; i < ns; i++)
		assert_true(strcmp(cassandra_scalar_keys[i - 1], cassandra_scalar_keys[i]) < 0);
	for (size_t i = 1; i < nm; i++)
		assert_true(strcmp(cassandra_multi_keys[i - 1], cassandra_multi_keys[i]) < 0);
	for (size_t i = 0; i < nm; i++)
		for (size_t j = 0; j < ns; j++)
			assert_string_not_equal(cassandra_multi_keys[i], cassandra_scalar_keys[j]);

	char *pinned;
	struct cg_err err = {0};
	assert_int_equal(cg_file_read("cassandra/VERSION", &pinned, NULL, &err), 0);
	size_t sl = strlen(CG_CASSANDRA_KEYS_SERIES);
	assert_memory_equal(pinned, CG_CASSANDRA_KEYS_SERIES, sl);
	assert_int_equal(pinned[sl], '.');
	free(pinned);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check one bad config; 0 when it behaves, else -1 with a report printed. */
static int check_bad(const char *name)
{
	char *path = cg_xasprintf("config/bad/%s", name), *text = NULL;
	struct cg_err err = {0};
	int line = 0, col = 0, used = 0, rc = -1;
	if (cg_file_read(path, &text, NULL, &err) < 0 ||
	    sscanf(text, "# expect: %d:%d: %n", &line, &col, &used) != 2 || !used) {
		print_error("%s: no '# expect: LINE:COL: TEXT' first line\n", path);
		goto out;
	}
	char *want = text + used, *nl = strchr(want, '\n');
	if (nl)
		*nl = '\0';
	struct cg_config *cfg = NULL;
	if (cg_config_load(path, &cfg, &err) == 0) {
		print_error("%s: loaded, expected an error\n", path);
		cg_config_free(cfg);
		goto out;
	}
	if (cfg) {
		print_error("%s: *out set on error\n", path);
		goto out;
	}
	if (cg_config_load(path, &cfg, NULL) != -1 || cfg) {	/* err is optional */
		print_error("%s: loaded without err\n", path);
		goto out;
	}
	char *prefix = cg_xasprintf("%s:%d:%d: ", path, line, col);
	if (err.code != CG_EXIT_CONFIG)
		print_error("%s: code %d, expected 65\n", path, err.code);
	else if (strncmp(err.msg, prefix, strlen(prefix)))
		print_error("%s: message '%s' does not start with '%s'\n", path, err.msg, prefix);
	else if (!strstr(err.msg, want))
		print_error("%s: message '%s' lacks '%s'\n", path, err.msg, want);
	else if (!strstr(err.msg + strlen(prefix), ": ") || !strstr(err.msg, "; expected "))
		print_error("%s: message '%s' is not 'KEY: WHAT; expected ...'\n", path, err.msg);
	else
		rc = 0;
	free(prefix);
out:
	free(text);
	free(path);
	return rc;
}

static void test_bad_configs(void **state)
{
	(void)state;
	DIR *d = opendir("config/bad");
	assert_non_null(d);
	char **names = NULL;
	int n = 0, bad = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) {
			names = cg_xrealloc(names, (size_t)(n + 1) * sizeof(*names));
			names[n++] = cg_xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_str);
	for (int i = 0; i < n; i++) {
		if (check_bad(names[i]) < 0)
			bad++;
		free(names[i]);
	}
	free(names);
	print_message("%d bad configs checked\n", n);
	assert_true(n >= 35);
	assert_int_equal(bad, 0);
}

/* expires: a lifetime from now, or a UTC date (a day, or a time with Z);
 * nothing else, and no date that does not exist. */
static void test_expiry(void **state)
{
	(void)state;
	time_t at;
	assert_int_equal(cg_config_expiry("8h", 1000, &at), 0);
	assert_int_equal(at, 1000 + 8 * 3600);
	assert_int_equal(cg_config_expiry("30m", 0, &at), 0);
	assert_int_equal(at, 1800);
	assert_int_equal(cg_config_expiry("3d", 0, &at), 0);
	assert_int_equal(at, 3 * 86400);
	assert_int_equal(cg_config_expiry("2026-12-31", 0, &at), 0);
	assert_int_equal(at, 1798675200);
	assert_int_equal(cg_config_expiry("2026-12-31T18:30Z", 0, &at), 0);
	assert_int_equal(at, 1798675200 + 18 * 3600 + 30 * 60);
	assert_int_equal(cg_config_expiry("2026-12-31T18:30:15Z", 0, &at), 0);
	assert_int_equal(at, 1798675200 + 18 * 3600 + 30 * 60 + 15);
	static const char *const bad[] = {
		"", "h", "0h", "08h", "8", "8 h", "8hours", "400d", "-1h", "2026-02-30",
		"2026-13-01", "2026-12-31T18:30", "2026-12-31 18:30Z", "2026-12-31T25:00Z",
		"1999-01-01", "2026-1-1", "tomorrow",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cg_config_expiry(bad[i], 0, &at) == 0)
			fail_msg("'%s' was taken as an expiry", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_file),
		cmocka_unit_test_setup_teardown(test_hash, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_unknown_cluster),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_maven),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_all_examples),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_cassandra_keys),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
