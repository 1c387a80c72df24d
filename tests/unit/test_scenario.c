/*
 * test_scenario.c - scenario files (planner/scenario.c), validated against
 * the Lab of examples/lab.yaml. Run with cwd tests/.
 *
 * Bad scenarios are data, like bad configs: every tests/scenario/bad/NNN-*.yaml
 * starts with
 *     # expect: LINE:COL: <substring of the message>
 * and must fail with code 65 and "scenario/bad/NAME:LINE:COL: KEY: WHAT;
 * expected ..." holding the substring.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../planner/scenario.h"

static struct cg_config *cfg;
static const struct cg_cluster *lab;

static int setup(void **state)
{
	(void)state;
	struct cg_err err = {0};
	if (cg_config_load("../examples/lab.yaml", &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	lab = cg_config_cluster(cfg, "Lab", &err);
	return lab ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	cg_config_free(cfg);
	return 0;
}

static struct cg_scenario *load_ok(const char *path)
{
	struct cg_scenario *s = NULL;
	struct cg_err err = {0};
	if (cg_scenario_load(path, lab, &s, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return s;
}

static struct cg_scenario *load_text(const char *text, struct cg_err *err)
{
	char path[] = "/tmp/cg-test-scenario.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct cg_scenario *s = NULL;
	if (cg_scenario_load(path, lab, &s, err) < 0)
		s = NULL;
	unlink(path);
	return s;
}

static void test_examples(void **state)
{
	(void)state;
	struct cg_scenario *s = load_ok("../examples/scenario-node-loss.yaml");
	assert_int_equal(s->workload, CG_STRESS_MIXED);
	assert_true(s->rate == 1000);
	assert_int_equal(s->duration_s, 120);
	assert_string_equal(s->consistency, "LOCAL_QUORUM");
	assert_int_equal(s->ndcs, 2);	/* every DC by default */
	assert_string_equal(s->dcs[0], "DC1");
	assert_string_equal(s->dcs[1], "DC2");
	assert_int_equal(s->nfaults, 2);
	assert_int_equal(s->faults[0].kind, CG_FAULT_KILL);
	assert_string_equal(s->faults[0].target, "DC1.n2");
	assert_true(s->faults[0].at_s == 30);
	assert_int_equal(s->faults[1].kind, CG_FAULT_HEAL);
	assert_true(s->faults[1].at_s == 60);
	assert_non_null(s->description);
	cg_scenario_free(s);

	s = load_ok("../examples/scenario-dc-partition.yaml");
	assert_int_equal(s->duration_s, 120);	/* 2m */
	assert_int_equal(s->nfaults, 2);
	assert_int_equal(s->faults[0].kind, CG_FAULT_PARTITION);
	assert_string_equal(s->faults[0].target, "DC2");
	assert_string_equal(s->faults[1].target, "all");
	cg_scenario_free(s);
}

/* Defaults, times in every form, zones, pause and delay, the order by time
 * (file order within one second), labels and the arguments of pause and delay. */
static void test_forms(void **state)
{
	(void)state;
	struct cg_err err = {0};
	struct cg_scenario *s = load_text(
		"load:\n  duration: 1m30s\n  dcs: [DC2]\nfaults:\n"
		"  - {at: 80, heal: all}\n"
		"  - {at: 1m, delay: lab-west-a, ms: 150}\n"
		"  - {at: 20s, pause: DC2.n1, seconds: 5}\n"
		"  - {at: 60, partition: DC1}\n"
		"  - {at: 0, stop: DC1.n1}\n", &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(s->workload, CG_STRESS_WRITE);
	assert_true(s->rate == 1000);
	assert_int_equal(s->duration_s, 90);
	assert_null(s->description);
	assert_int_equal(s->ndcs, 1);
	assert_string_equal(s->dcs[0], "DC2");
	assert_int_equal(s->nfaults, 5);
	const enum cg_fault_kind order[] = { CG_FAULT_STOP, CG_FAULT_PAUSE, CG_FAULT_DELAY,
					     CG_FAULT_PARTITION, CG_FAULT_HEAL };
	const double at[] = { 0, 20, 60, 60, 80 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(s->faults[i].kind, order[i]);
		assert_true(s->faults[i].at_s == at[i]);
	}
	struct cg_buf l = {0};
	assert_int_equal(s->faults[1].arg, 5);
	assert_int_equal(s->faults[2].arg, 150);
	assert_int_equal(s->faults[0].arg, 0);
	for (int i = 0; i < 5; i++) {
		cg_fault_label(&s->faults[i], &l);
		cg_buf_adds(&l, "|");
	}
	assert_string_equal(l.data, "stop DC1.n1|pause DC2.n1 for 5 s|delay lab-west-a by 150 ms|"
			    "partition DC1|heal all|");
	cg_buf_free(&l);
	cg_scenario_free(s);

	/* no faults at all: a plain load */
	s = load_text("description: just load\nload: {duration: 5, workload: read}\n", &err);
	assert_non_null(s);
	assert_int_equal(s->nfaults, 0);
	assert_string_equal(s->description, "just load");
	cg_scenario_free(s);

	/* times: a bare number is seconds, units m then s, nothing else */
	static const char *const bad_times[] = { "\"30\"", "30ms", "1s30m", "1m30", "m", "s30",
						 "1.5", "3h", "1234567", "30 s" };
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		char *t = cg_xasprintf("load:\n  duration: %s\n", bad_times[i]);
		struct cg_err e = {0};
		s = load_text(t, &e);
		if (s)
			fail_msg("duration %s was accepted", bad_times[i]);
		assert_int_equal(e.code, CG_EXIT_CONFIG);
		free(t);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_bad(const char *name)
{
	char *path = cg_xasprintf("scenario/bad/%s", name), *text = NULL;
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
	struct cg_scenario *s = NULL;
	if (cg_scenario_load(path, lab, &s, &err) == 0) {
		print_error("%s: loaded, expected an error\n", path);
		cg_scenario_free(s);
		goto out;
	}
	if (s || cg_scenario_load(path, lab, &s, NULL) != -1 || s) {
		print_error("%s: *out set on error, or loaded without err\n", path);
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

static void test_bad_scenarios(void **state)
{
	(void)state;
	DIR *d = opendir("scenario/bad");
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
	print_message("%d bad scenarios checked\n", n);
	assert_true(n >= 30);
	assert_int_equal(bad, 0);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct cg_scenario *s = NULL;
	struct cg_err err = {0};
	assert_int_equal(cg_scenario_load("scenario/none.yaml", lab, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, CG_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "scenario/none.yaml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bad_scenarios),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
