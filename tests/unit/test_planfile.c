/*
 * test_planfile.c - the saved-plan reader (cmd/planfile.c cg_planfile_read)
 * on good and damaged headers. cmd/ is not in the library archive, so the
 * reader is compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../cmd/planfile.c"

#define GOOD_HEADER                                                                      \
	"cassandgo-plan 1\ncluster MonoDC\nlineage 31ac367a-6d36-416a-93a3-0b6b67a78ab9\n" \
	"serial 35\nconfig_hash 976a252a8238815a\ndigest 799234ecdd6c9d00\n"             \
	"kinds 4294967295\ndestroy 1\n---\n"

/* Read text as a saved plan through a temp file; returns cg_planfile_read's rc. */
static int read_text(const char *text, struct cg_planfile *pf, struct cg_err *err)
{
	char path[] = "/tmp/cg-planfile-test.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	int rc = cg_planfile_read(path, pf, err);
	unlink(path);
	return rc;
}

static void test_good(void **state)
{
	(void)state;
	struct cg_planfile pf;
	struct cg_err err = {0};
	assert_int_equal(read_text(GOOD_HEADER "  - machine.DC1.n1\n", &pf, &err), 0);
	assert_string_equal(pf.cluster, "MonoDC");
	assert_string_equal(pf.lineage, "31ac367a-6d36-416a-93a3-0b6b67a78ab9");
	assert_int_equal(pf.serial, 35);
	assert_string_equal(pf.config_hash, "976a252a8238815a");
	assert_string_equal(pf.digest, "799234ecdd6c9d00");
	assert_int_equal(pf.kinds, 4294967295u);
	assert_true(pf.destroy);
}

/* A repeated line does not stand in for a lost one (found by
 * tests/fuzz/fuzz_planfile.c: seven field lines, none of them cluster,
 * lineage or digest, were read as a complete plan for cluster ""). */
static void test_damaged(void **state)
{
	(void)state;
	static const char *const bad[] = {
		/* the fuzzer's input, reduced */
		"cassandgo-plan 1\nserial 17\nconfig_hash 9717\nconfig_hash 9717\nserial 34\n"
		"config_hash 971a\nserial35\nkinds 1\n",
		/* destroy lost, cluster repeated: a destroy plan read as a create */
		"cassandgo-plan 1\ncluster MonoDC\ncluster MonoDC\nlineage -\nserial 0\n"
		"config_hash 976a252a8238815a\ndigest 799234ecdd6c9d00\nkinds 15\n---\n",
		/* all seven, and one of them twice */
		"cassandgo-plan 1\ncluster MonoDC\nlineage -\nserial 0\nserial 1\n"
		"config_hash 976a252a8238815a\ndigest 799234ecdd6c9d00\nkinds 15\ndestroy 0\n---\n",
		"cassandgo-plan 1\ncluster MonoDC\nlineage -\nserial 0\n---\n",
		"cassandgo-plan 2\n",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct cg_planfile pf;
		struct cg_err err = {0};
		if (read_text(bad[i], &pf, &err) != -1 || err.code != CG_EXIT_USAGE)
			fail_msg("case %zu: read as a plan (code %d)", i, err.code);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
