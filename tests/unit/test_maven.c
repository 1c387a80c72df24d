/*
 * test_maven.c - the release manifest of install: maven
 * (providers/ssh/maven.c): what it accepts, everything it refuses (by line),
 * the canonical text a node receives, and loading from a cache directory.
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

#include "unit.h"

#include "../../providers/ssh/maven.h"
#include "../../providers/ssh/release.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ALL "org/apache/cassandra/cassandra-all/5.0.9/cassandra-all-5.0.9.jar"
#define NETTY "io/netty/netty-tcnative-boringssl-static/2.0.70.Final/" \
	      "netty-tcnative-boringssl-static-2.0.70.Final-linux-x86_64.jar"

static void test_parse(void **state)
{
	(void)state;
	const char *t = "# cassandra 5.0.9\n" H64 " 7004117 " ALL "\n" H64 " 1 " NETTY "\n";
	struct cg_maven_manifest m;
	struct cg_err err = {0};
	assert_int_equal(cg_maven_parse(t, strlen(t), &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].path, ALL);
	assert_int_equal(m.v[0].size, 7004117);
	assert_string_equal(m.v[0].sha256, H64);
	assert_true(cg_maven_has(&m, NETTY));
	assert_false(cg_maven_has(&m, "org/x/y/1/y-1.jar"));
	char *r = cg_maven_render(&m);
	assert_string_equal(r, H64 " 7004117 " ALL "\n" H64 " 1 " NETTY "\n");
	/* the rendering parses to the same (what the node gets) */
	struct cg_maven_manifest m2;
	assert_int_equal(cg_maven_parse(r, strlen(r), &m2, &err), 0);
	assert_int_equal(m2.n, 2);
	cg_maven_free(&m2);
	free(r);
	cg_maven_free(&m);
	/* no final newline */
	t = H64 " 5 " ALL;
	assert_int_equal(cg_maven_parse(t, strlen(t), &m, &err), 0);
	assert_int_equal(m.n, 1);
	cg_maven_free(&m);
}

static void refused(const char *text, const char *why)
{
	struct cg_maven_manifest m = { (void *)1, 7 };
	struct cg_err err = {0};
	assert_int_equal(cg_maven_parse(text, strlen(text), &m, &err), -1);
	assert_null(m.v);
	assert_int_equal(m.n, 0);
	if (!strstr(err.msg, why))
		fail_msg("'%s': got '%s', wanted '%s'", text, err.msg, why);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "no artifact");
	refused("# only a comment\n", "no artifact");
	refused(H64 " 5 " ALL "\n\n", "line 2: expected SHA256 SIZE PATH");
	refused("0123 5 " ALL "\n", "line 1: ");
	refused("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef 5 " ALL,
		"not 64 lowercase hex digits");
	refused(H64 "  5 " ALL, "size is not a decimal");
	refused(H64 " 05 " ALL, "size is not a decimal");
	refused(H64 " 99999999999999 " ALL, "larger than 1 TiB");
	refused(H64 " 5x " ALL, "expected SHA256 SIZE PATH");
	refused(H64 " 5 ../../etc/x/1/x-1.jar", "a path part");
	refused(H64 " 5 /org/x/1/x-1.jar", "a path part");
	refused(H64 " 5 org//x/1/x-1.jar", "a path part");
	refused(H64 " 5 org/x/1/x-1.jar ", "a path part");
	refused(H64 " 5 org/x/1/x-1.jar\r", "a path part");
	refused(H64 " 5 org/x/1/x 1.jar", "a path part");
	refused(H64 " 5 org/x/1/x-1.jar;rm", "a path part");
	refused(H64 " 5 org/x/1/$(id)-1.jar", "a path part");
	refused(H64 " 5 org/x/1/.x-1.jar", "a path part");
	refused(H64 " 5 org/x/1/x-1..jar", "holds '..'");
	refused(H64 " 5 x/1/x-1.jar", "not GROUP/ARTIFACT/VERSION/FILE");
	refused(H64 " 5 org/x/1/x-1.pom", "not a .jar");
	refused(H64 " 5 org/x/1/y-1.jar", "not ARTIFACT-VERSION");
	refused(H64 " 5 org/x/1/x-2.jar", "not ARTIFACT-VERSION");
	refused(H64 " 5 org/x/1/x-1x.jar", "not ARTIFACT-VERSION");
	refused(H64 " 5 org/a/x/1/x-1.jar\n" H64 " 5 org/b/x/1/x-1.jar\n",
		"line 2: org/b/x/1/x-1.jar: the file name x-1.jar is also that of org/a/x/1/x-1.jar");
	char nul[] = H64 " 5 org/x/1/x-1.jar\n" H64 " 5 org/y/1/y-1.jar";
	nul[sizeof(H64) + 3] = '\0';
	struct cg_maven_manifest m;
	struct cg_err err = {0};
	assert_int_equal(cg_maven_parse(nul, sizeof(nul) - 1, &m, &err), -1);
	assert_non_null(strstr(err.msg, "line 1: a NUL byte"));
}

static void test_load(void **state)
{
	(void)state;
	char *d = tmpdir_for("maven");
	struct cg_maven_manifest m;
	struct cg_err err = {0};
	/* missing: says how to make it */
	assert_int_equal(cg_maven_load(d, "5.0.9", &m, &err), -1);
	assert_non_null(strstr(err.msg, "no manifest of Cassandra 5.0.9 at "));
	assert_non_null(strstr(err.msg, "make cassandra"));
	char *dir = cg_xasprintf("%s/cassandra-5.0.9", d), *f = cg_xasprintf("%s/manifest", dir);
	assert_int_equal(cg_mkdir_p(dir, 0755, &err), 0);
	const char *bad = H64 " 5 " ALL "\n" H64 " 5 org/x/1/y-1.jar\n";
	assert_int_equal(cg_file_write_atomic(f, bad, strlen(bad), 0644, &err), 0);
	assert_int_equal(cg_maven_load(d, "5.0.9", &m, &err), -1);
	assert_non_null(strstr(err.msg, "/cassandra-5.0.9/manifest: manifest line 2: "));
	const char *good = H64 " 5 " ALL "\n";
	assert_int_equal(cg_file_write_atomic(f, good, strlen(good), 0644, &err), 0);
	assert_int_equal(cg_maven_load(d, "5.0.9", &m, &err), 0);
	assert_int_equal(m.n, 1);
	cg_maven_free(&m);
	rm_rf(d);
	free(f);
	free(dir);
	free(d);
}

/* the tar stream install: upload sends: what GNU tar reads back, only the
 * picked artifacts, each checked against the manifest first */
static void test_tar(void **state)
{
	(void)state;
	char *d = tmpdir_for("maventar");
	struct cg_err err = {0};
	/* a path over 100 characters goes into ustar's prefix field */
	const char *lng = "org/example/a-rather-long-group-name/and-another-part/artifact-with-a-long-name/"
			  "1.0/artifact-with-a-long-name-1.0.jar";
	assert_true(strlen(lng) > 100);
	char *t = cg_xasprintf("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 5 %s\n"
			       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 %s\n"
			       "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 5 "
			       "org/x/y/1/y-1.jar\n", ALL, lng);
	struct cg_maven_manifest m;
	assert_int_equal(cg_maven_parse(t, strlen(t), &m, &err), 0);
	char *dir = cg_xasprintf("%s/cassandra-5.0.9", d);
	const char *body[] = { "hello", "", "hello" };
	for (int i = 0; i < 3; i++) {
		char *f = cg_xasprintf("%s/repo/%s", dir, m.v[i].path);
		char *slash = strrchr(f, '/');
		*slash = '\0';
		assert_int_equal(cg_mkdir_p(f, 0755, &err), 0);
		*slash = '/';
		assert_int_equal(cg_file_write_atomic(f, body[i], strlen(body[i]), 0644, &err), 0);
		free(f);
	}
	bool pick[3] = { true, true, false };
	struct cg_buf b = {0};
	uint64_t bytes = 0;
	assert_int_equal(cg_maven_tar(&m, pick, dir, &b, &bytes, &err), 0);
	assert_int_equal(bytes, 5);
	assert_int_equal(b.len % 512, 0);
	assert_int_equal(b.len, 512 + 512 + 512 + 1024);	/* 2 headers, 1 block, the end */
	char *tf = cg_xasprintf("%s/t.tar", d), *out = cg_xasprintf("%s/out", d);
	assert_int_equal(cg_file_write_atomic(tf, b.data, b.len, 0644, &err), 0);
	assert_int_equal(cg_mkdir_p(out, 0755, &err), 0);
	char *cmd = cg_xasprintf("tar -x -f %s -C %s && cmp -s %s/%s %s/repo/%s && test -f %s/%s "
				 "&& ! test -e %s/org/x", tf, out, out, ALL, dir, ALL, out, lng, out);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	/* a file that is not the manifest's: refused, named, nothing added */
	char *f = cg_xasprintf("%s/repo/%s", dir, ALL);
	assert_int_equal(cg_file_write_atomic(f, "jello", 5, 0644, &err), 0);
	size_t before = b.len;
	assert_int_equal(cg_maven_tar(&m, pick, dir, &b, &bytes, &err), -1);
	assert_int_equal(b.len, before);
	assert_non_null(strstr(err.msg, ALL ": SHA-256 "));
	assert_non_null(strstr(err.msg, "the manifest says 2cf24dba"));
	/* one missing: named too */
	unlink(f);
	assert_int_equal(cg_maven_tar(&m, pick, dir, &b, &bytes, &err), -1);
	assert_non_null(strstr(err.msg, ALL));
	free(f);
	cg_buf_free(&b);
	cg_maven_free(&m);
	rm_rf(d);
	free(tf);
	free(out);
	free(dir);
	free(t);
	free(d);
}

/* Maven Central's maven-metadata.xml of cassandra-all: what exists, and
 * the summary a refused cassandra_version lists. */
static void test_metadata(void **state)
{
	(void)state;
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n"
		"  <groupId>org.apache.cassandra</groupId>\n  <artifactId>cassandra-all</artifactId>\n"
		"  <versioning>\n    <latest>6.0-alpha2</latest>\n    <versions>\n"
		"      <version>3.11.19</version>\n      <version>4.0.0</version>\n"
		"      <version>4.0.1</version>\n      <version>4.1-alpha1</version>\n"
		"      <version>4.1.0</version>\n      <version>5.0.0</version>\n"
		"      <version>5.0.8</version>\n      <version>5.0.9</version>\n"
		"      <version>6.0-alpha2</version>\n      <version>$(rm -rf /)</version>\n"
		"    </versions>\n  </versioning>\n</metadata>\n";
	char **v = NULL;
	int n = 0;
	struct cg_err err = {0};
	assert_int_equal(cg_release_parse_metadata(xml, strlen(xml), &v, &n, &err), 0);
	assert_int_equal(n, 9);		/* the shell text is not a version */
	assert_string_equal(v[0], "3.11.19");
	assert_string_equal(v[8], "6.0-alpha2");
	char *s = cg_release_summary(v, n);
	assert_string_equal(s, "4.0.0-4.0.1, 4.1.0, 5.0.0-5.0.9");
	free(s);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	assert_int_equal(cg_release_parse_metadata("<html>404</html>", 16, &v, &n, &err), -1);
	assert_int_equal(n, 0);
	assert_null(v);
	s = cg_release_summary(NULL, 0);
	assert_string_equal(s, "none");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_tar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
