/*
 * test_ssh_keys.c - the pure parts of providers/ssh: key formats,
 * fingerprints, known_hosts files, shell quoting, cgnode status and
 * `nodetool ring` ownership parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "../../providers/ssh/bootstrap.h"
#include "../../providers/ssh/ssh.h"

/* RFC 8709 / OpenSSH test key (ssh-keygen -lf gives this fingerprint). */
#define PUB_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b"
#define FP_A "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"

static char *tmpdir(void)
{
	return tmpdir_for("ssh");
}

static void test_fingerprint(void **st)
{
	(void)st;
	char *fp = cg_ssh_fingerprint(PUB_A);
	assert_non_null(fp);
	assert_string_equal(fp, FP_A);
	free(fp);
	assert_null(cg_ssh_fingerprint("ssh-ed25519"));
	assert_null(cg_ssh_fingerprint("ssh-ed25519 !!notbase64"));
	assert_null(cg_ssh_fingerprint(NULL));
	/* Comments and spacing do not change the key. */
	assert_true(cg_ssh_key_equal(PUB_A, "ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"));
	assert_false(cg_ssh_key_equal(PUB_A, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJm"));
	assert_false(cg_ssh_key_equal(PUB_A, NULL));
}

static void test_keygen_mem(void **st)
{
	(void)st;
	char *priv = NULL, *pub = NULL, *back = NULL, *priv2 = NULL, *pub2 = NULL;
	struct cg_err e = {0};
	assert_int_equal(cg_ssh_keygen_mem(&priv, &pub, &e), 0);
	assert_non_null(strstr(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
	assert_non_null(strstr(priv, "-----END OPENSSH PRIVATE KEY-----\n"));
	assert_true(strncmp(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37) == 0);
	assert_int_equal(cg_ssh_pub_from_priv(priv, &back, &e), 0);
	assert_true(cg_ssh_key_equal(pub, back));
	/* Fresh randomness every time. */
	assert_int_equal(cg_ssh_keygen_mem(&priv2, &pub2, &e), 0);
	assert_false(cg_ssh_key_equal(pub, pub2));
	assert_int_equal(cg_ssh_pub_from_priv("garbage", &back, &e), -1);
	assert_non_null(strstr(e.msg, "OpenSSH private key"));
	free(priv), free(pub), free(back), free(priv2), free(pub2);
}

static void test_keygen_file(void **st)
{
	(void)st;
	char *d = tmpdir();
	char *path = cg_xasprintf("%s/keys/id", d), *pubp = cg_xasprintf("%s.pub", path);
	char *pub = NULL, *again = NULL, *derived = NULL;
	struct cg_err e = {0};
	assert_int_equal(cg_ssh_keygen(path, &pub, &e), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(pubp, &sb), 0);
	assert_int_equal(cg_ssh_keygen(path, &again, &e), 0);
	assert_true(cg_ssh_key_equal(pub, again));
	/* Without the .pub the public line is derived from the private key. */
	assert_int_equal(unlink(pubp), 0);
	assert_int_equal(cg_ssh_keygen(path, &derived, &e), 0);
	assert_true(cg_ssh_key_equal(pub, derived));
	rm_rf(d);
	free(d), free(path), free(pubp), free(pub), free(again), free(derived);
}

static void test_knownhosts(void **st)
{
	(void)st;
	char *d = tmpdir();
	char *kh = cg_xasprintf("%s/c/known_hosts", d), *got = NULL, *text = NULL;
	struct cg_err e = {0};
	/* Missing file: nothing pinned, no error. */
	assert_int_equal(cg_ssh_knownhosts_get(kh, "i-0abc", &got, &e), 0);
	assert_null(got);
	assert_int_equal(cg_ssh_knownhosts_pin(kh, "i-0abc", PUB_A, &e), 0);
	assert_int_equal(cg_ssh_knownhosts_pin(kh, "i-0def", PUB_A, &e), 0);
	assert_int_equal(cg_ssh_knownhosts_get(kh, "i-0abc", &got, &e), 0);
	assert_non_null(got);
	assert_true(cg_ssh_key_equal(got, PUB_A));
	free(got);
	/* A prefix of an alias is another alias. */
	assert_int_equal(cg_ssh_knownhosts_get(kh, "i-0ab", &got, &e), 0);
	assert_null(got);
	/* Re-pinning replaces, never duplicates; the comment is dropped. */
	assert_int_equal(cg_ssh_knownhosts_pin(kh, "i-0abc", PUB_A, &e), 0);
	assert_int_equal(cg_file_read(kh, &text, NULL, &e), 0);
	assert_string_equal(text,
		"i-0def ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
		"i-0abc ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n");
	free(text);
	struct stat sb;
	assert_int_equal(stat(kh, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(cg_ssh_knownhosts_remove(kh, "i-0def", &e), 0);
	assert_int_equal(cg_ssh_knownhosts_get(kh, "i-0def", &got, &e), 0);
	assert_null(got);
	/* Bad input is refused with a message. */
	assert_int_equal(cg_ssh_knownhosts_pin(kh, "has space", PUB_A, &e), -1);
	assert_int_equal(cg_ssh_knownhosts_pin(kh, "x", "not a key", &e), -1);
	assert_non_null(strstr(e.msg, "invalid public key"));
	rm_rf(d);
	free(d), free(kh);
}

static void test_quote_tail(void **st)
{
	(void)st;
	char *q = cg_ssh_quote("it's /a b");
	assert_string_equal(q, "'it'\\''s /a b'");
	free(q);
	q = cg_ssh_quote("");
	assert_string_equal(q, "''");
	free(q);
	assert_string_equal(cg_ssh_tail("a\nb\nc\n", 2), "b\nc\n");
	assert_string_equal(cg_ssh_tail("a\nb\nc", 5), "a\nb\nc");
	assert_string_equal(cg_ssh_tail("", 3), "");
	assert_string_equal(cg_ssh_tail(NULL, 3), "");
}

static void test_status_get(void **st)
{
	(void)st;
	const char *s = "installed=1\nversion=5.0.9\nrunning=0\npid=\nconfig_hash=0123456789abcdef\n";
	char *v = cg_boot_status_get(s, "version");
	assert_string_equal(v, "5.0.9");
	free(v);
	v = cg_boot_status_get(s, "pid");
	assert_string_equal(v, "");
	free(v);
	assert_null(cg_boot_status_get(s, "running_hash"));
	assert_null(cg_boot_status_get(s, "config"));	/* not a prefix match */
}

/* `nodetool ring` of 5.0 (trimmed): two DCs, 2 nodes each, 2 tokens each. */
static const char RING[] =
	"\n"
	"Datacenter: DC1\n"
	"==========\n"
	"Address          Rack        Status State   Load            Owns                Token\n"
	"                                                                                4611686018427387904\n"
	"10.77.0.1        z1          Up     Normal  104.35 KiB      ?                   -9223372036854775808\n"
	"10.77.0.2        z2          Up     Normal  99.1 KiB        ?                   -4611686018427387904\n"
	"10.77.0.1        z1          Up     Normal  104.35 KiB      ?                   0\n"
	"10.77.0.2        z2          Up     Normal  99.1 KiB        ?                   4611686018427387904\n"
	"\n"
	"Datacenter: DC2\n"
	"==========\n"
	"Address          Rack        Status State   Load            Owns                Token\n"
	"                                                                                100\n"
	"10.77.1.1        z1          Up     Normal  80 KiB          ?                   -9223372036854775708\n"
	"10.77.1.2        z1          Up     Normal  80 KiB          ?                   100\n"
	"\n"
	"  Warning: \"nodetool ring\" is used to output all the tokens of a node.\n";

static void test_ring_shares(void **st)
{
	(void)st;
	const char *addrs[] = { "10.77.0.1", "10.77.0.2", "10.77.1.1", "10.77.1.2", "10.9.9.9" };
	double sh[5];
	assert_int_equal(cg_boot_ring_shares(RING, addrs, 5, sh), 6);
	assert_true(sh[0] > 0.4999 && sh[0] < 0.5001);
	assert_true(sh[1] > 0.4999 && sh[1] < 0.5001);
	/* DC2: n1 owns (100 .. 2^63-100] wrapping, n2 the other half. */
	assert_true(sh[2] > 0.4999 && sh[2] < 0.5001);
	assert_true(sh[3] > 0.4999 && sh[3] < 0.5001);
	assert_true(sh[4] < 0);		/* not in the ring */
	/* One token alone owns its whole DC. */
	const char *one = "Datacenter: X\n10.1.1.1 r Up Normal 1 KiB ? 42\n";
	assert_int_equal(cg_boot_ring_shares(one, addrs, 1, sh), 0);
	const char *a1[] = { "10.1.1.1" };
	assert_int_equal(cg_boot_ring_shares(one, a1, 1, sh), 1);
	assert_true(sh[0] > 0.9999 && sh[0] < 1.0001);
	/* Skewed: 3/4 vs 1/4. */
	const char *skew = "Datacenter: D\n"
		"10.1.1.1 r Up Normal 1 KiB ? -9223372036854775808\n"
		"10.1.1.2 r Up Normal 1 KiB ? -4611686018427387904\n";
	const char *a2[] = { "10.1.1.1", "10.1.1.2" };
	assert_int_equal(cg_boot_ring_shares(skew, a2, 2, sh), 2);
	assert_true(sh[0] > 0.7499 && sh[0] < 0.7501);
	assert_true(sh[1] > 0.2499 && sh[1] < 0.2501);
}

static void test_ssh_cmdline(void **st)
{
	(void)st;
	struct cg_cluster c;
	memset(&c, 0, sizeof(c));
	c.ssh_user = "ubuntu";
	c.ssh_address = CG_SSH_PUBLIC;
	struct cg_resource m;
	cg_res_init(&m, CG_KIND_MACHINE, "machine.DC1.n1");
	assert_null(cg_boot_ssh_cmdline(&c, "/s/kh", &m, "/k"));	/* no address yet */
	cg_res_set(&m, "private_ip", "10.0.0.5", 0);
	cg_res_set(&m, "public_ip", "54.1.2.3", 0);
	cg_res_set_id(&m, "i-0abc");
	char *cmd = cg_boot_ssh_cmdline(&c, "/s/My Cluster/known_hosts", &m, "/k/id");
	assert_string_equal(cmd, "ssh -i '/k/id' -o IdentitiesOnly=yes "
			    "-o UserKnownHostsFile='/s/My Cluster/known_hosts' "
			    "-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias='i-0abc' "
			    "-o StrictHostKeyChecking=yes -p '22' 'ubuntu@54.1.2.3'");
	free(cmd);
	/* Private address, own port, default user, no id yet: the address. */
	c.ssh_address = CG_SSH_PRIVATE;
	c.ssh_user = NULL;
	cg_res_set(&m, "ssh_port", "2222", 0);
	cg_res_set_id(&m, NULL);
	cmd = cg_boot_ssh_cmdline(&c, "/kh", &m, "/k");
	assert_non_null(strstr(cmd, "HostKeyAlias='machine.DC1.n1'"));
	assert_non_null(strstr(cmd, "-p '2222' 'cassandgo@10.0.0.5'"));
	free(cmd);
	cg_res_clear(&m);
}

static void test_embedded_cgnode(void **st)
{
	(void)st;
	assert_true(cg_cgnode_script_len > 100);
	assert_memory_equal(cg_cgnode_script, "#!", 2);
	/* Identical to the source file the build embedded. */
	char *text = NULL;
	size_t len = 0;
	struct cg_err e = {0};
	assert_int_equal(cg_file_read("../providers/ssh/cgnode", &text, &len, &e), 0);
	assert_int_equal(len, cg_cgnode_script_len);
	assert_memory_equal(text, cg_cgnode_script, len);
	free(text);
}

/* Whatever an argument holds, the node's shell passes it as one word and
 * runs nothing of it: shown with a real sh and a marker file. */
static void test_cgnode_cmdline_hostile(void **st)
{
	(void)st;
	char *d = tmpdir();
	char *mark = cg_xasprintf("%s/pwned", d);
	char *evil = cg_xasprintf("1.2.3.4; touch %s; $(touch %s) `touch %s` ' \"; touch %s #",
				  mark, mark, mark, mark);
	/* printf stands in for cgnode: it prints each argument it got */
	const char *pargs[] = { "%s\\n", "--replace", evil, NULL };
	char *cmd = cg_boot_cgnode_cmdline("/usr/bin/printf", pargs);
	char *full = cg_xasprintf("%s > %s/out", cmd, d);
	assert_int_equal(system(full), 0);
	assert_int_equal(access(mark, F_OK), -1);	/* nothing ran */
	char *out = cg_xasprintf("%s/out", d), *text = NULL;
	size_t len = 0;
	struct cg_err err = {0};
	assert_int_equal(cg_file_read(out, &text, &len, &err), 0);
	char *want = cg_xasprintf("--replace\n%s\n", evil);
	assert_string_equal(text, want);
	free(want), free(text), free(out), free(full), free(cmd), free(evil), free(mark);
	rm_rf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_keygen_mem),
		cmocka_unit_test(test_keygen_file),
		cmocka_unit_test(test_knownhosts),
		cmocka_unit_test(test_quote_tail),
		cmocka_unit_test(test_status_get),
		cmocka_unit_test(test_ring_shares),
		cmocka_unit_test(test_ssh_cmdline),
		cmocka_unit_test(test_embedded_cgnode),
		cmocka_unit_test(test_cgnode_cmdline_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
