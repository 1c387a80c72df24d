/*
 * ssh_integ.c - providers/ssh/ssh.h against real OpenSSH sshds, each in its
 * own network namespace (set up by tests/ssh/run.sh, which passes):
 *   CG_SSH_HOSTS   name=addr,name=addr,...  (>= 3)
 *   CG_SSH_KEY     user private key (made by `ssh_integ keygen`)
 *   CG_SSH_USER    login user
 *   CG_SSH_KEYDIR  <name>.pub: each host's public host key
 *   CG_SSH_TMP     scratch directory
 *   CG_NETNS       path of netns-host.sh (to stop/start an sshd)
 * `ssh_integ keygen PATH` makes a key with cg_ssh_keygen (so sshd itself
 * proves it reads our private key format).
 */
#include <pthread.h>
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

#include "../../providers/ssh/ssh.h"

#define MAXH 16
static struct {
	char *name, *addr, *hostkey;
} H[MAXH];
static int NH;
static const char *KEY, *USER, *TMP, *NETNS;

static char *slurp(const char *path)
{
	char *s = NULL;
	struct cg_err e;
	if (cg_file_read(path, &s, NULL, &e))
		return NULL;
	s[strcspn(s, "\n")] = 0;
	return s;
}

static char *run_cmd(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	struct cg_buf b = {0};
	char buf[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		cg_buf_add(&b, buf, n);
	pclose(f);
	return b.data ? cg_buf_detach(&b) : cg_xstrdup("");
}

static void target(struct cg_ssh_target *t, int i, const char *kh)
{
	memset(t, 0, sizeof(*t));
	t->name = H[i].name;
	t->alias = H[i].name;
	t->host = H[i].addr;
	t->user = USER;
	t->key_file = KEY;
	t->host_key = H[i].hostkey;
	t->known_hosts = kh;
	t->connect_timeout_ms = 10000;
	t->io_timeout_ms = 10000;
}

static char *fresh_kh(const char *tag)
{
	char *p = cg_xasprintf("%s/kh-%s", TMP, tag);
	unlink(p);
	return p;
}

static struct cg_ssh *open_host(int i, const char *kh)
{
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	struct cg_err e = {0};
	target(&t, i, kh);
	if (cg_ssh_connect(&t, &s, &e))
		fail_msg("connect %s: %s", H[i].name, e.msg);
	return s;
}

static void test_keygen(void **st)
{
	(void)st;
	char *path = cg_xasprintf("%s/k/id_test", TMP);
	char *pub = NULL, *pub2 = NULL;
	struct cg_err e;
	assert_int_equal(cg_ssh_keygen(path, &pub, &e), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true(strncmp(pub, "ssh-ed25519 AAAA", 16) == 0);
	/* Existing key: same public line back, nothing regenerated. */
	assert_int_equal(cg_ssh_keygen(path, &pub2, &e), 0);
	assert_true(cg_ssh_key_equal(pub, pub2));
	/* OpenSSH reads our private key and derives the same public key. */
	char *cmd = cg_xasprintf("ssh-keygen -y -f %s", path);
	char *y = run_cmd(cmd);
	assert_true(cg_ssh_key_equal(pub, y));
	free(cmd);
	/* Same fingerprint as ssh-keygen -l. */
	cmd = cg_xasprintf("ssh-keygen -l -f %s.pub | awk '{print $2}'", path);
	char *l = run_cmd(cmd);
	l[strcspn(l, "\n")] = 0;
	char *fp = cg_ssh_fingerprint(pub);
	assert_string_equal(fp, l);
	/* In memory, and derive the public line back from the private text. */
	char *priv = NULL, *mpub = NULL, *dpub = NULL;
	assert_int_equal(cg_ssh_keygen_mem(&priv, &mpub, &e), 0);
	assert_int_equal(cg_ssh_pub_from_priv(priv, &dpub, &e), 0);
	assert_true(cg_ssh_key_equal(mpub, dpub));
	assert_false(cg_ssh_key_equal(mpub, pub));
	free(priv), free(mpub), free(dpub), free(fp), free(l), free(cmd), free(y);
	free(pub), free(pub2), free(path);
}

static void test_exec_status(void **st)
{
	(void)st;
	char *kh = fresh_kh("exec");
	struct cg_ssh *s = open_host(0, kh);
	struct cg_ssh_result r;
	struct cg_err e;
	assert_int_equal(cg_ssh_exec(s, "echo hello; echo oops >&2; exit 3", NULL, 0, 5000, &r, &e), 0);
	assert_int_equal(r.status, 3);
	assert_null(r.signal);
	assert_string_equal(r.out, "hello\n");
	assert_string_equal(r.err, "oops\n");
	cg_ssh_result_free(&r);
	/* Killed by a signal: libssh2 says status 0, the signal tells the truth. */
	assert_int_equal(cg_ssh_exec(s, "kill -KILL $$", NULL, 0, 5000, &r, &e), 0);
	assert_non_null(r.signal);
	assert_string_equal(r.signal, "KILL");
	assert_int_equal(r.status, -1);
	cg_ssh_result_free(&r);
	assert_int_equal(cg_ssh_run(s, "kill -TERM $$", NULL, 0, 5000, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "SIGTERM"));
	assert_int_equal(cg_ssh_run(s, "echo bad thing >&2; exit 7", NULL, 0, 5000, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "status 7"));
	assert_non_null(strstr(e.msg, "bad thing"));
	/* The session stays usable after failing commands. */
	char *out = NULL;
	assert_int_equal(cg_ssh_run(s, "printf '%s' ok", NULL, 0, 5000, &out, &e), 0);
	assert_string_equal(out, "ok");
	free(out);
	cg_ssh_close(s);
	/* The pinned entry was written, 0600, under the alias. */
	struct stat sb;
	assert_int_equal(stat(kh, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char *pinned = NULL;
	assert_int_equal(cg_ssh_knownhosts_get(kh, H[0].name, &pinned, &e), 0);
	assert_non_null(pinned);
	assert_true(cg_ssh_key_equal(pinned, H[0].hostkey));
	free(pinned);
	free(kh);
}

static void test_big_streams(void **st)
{
	(void)st;
	char *kh = fresh_kh("big");
	struct cg_ssh *s = open_host(1, kh);
	struct cg_ssh_result r;
	struct cg_err e;
	/* 8 MB of stderr first (4x the channel window), then stdout: must not stall. */
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_exec(s, "head -c 8000000 /dev/zero | tr '\\0' e >&2; "
				     "head -c 3000000 /dev/zero | tr '\\0' o", NULL, 0, 30000, &r, &e), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.err_len, 8000000);
	assert_int_equal(r.out_len, 3000000);
	assert_int_equal(r.err[7999999], 'e');
	assert_int_equal(r.out[0], 'o');
	cg_ssh_result_free(&r);
	/* 5 MB on stdin while the command talks back. */
	size_t n = 5000000;
	char *in = cg_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	assert_int_equal(cg_ssh_exec(s, "tee /dev/stderr | md5sum | cut -c1-32; wc -c >&2 </dev/null",
				     in, n, 30000, &r, &e), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.err_len, n + 2);
	assert_memory_equal(r.err, in, n);
	assert_int_equal(strlen(r.out), 33);
	cg_ssh_result_free(&r);
	free(in);
	print_message("big streams: 16 MB moved in %lld ms\n", (long long)(cg_now_ms() - t0));
	cg_ssh_close(s);
	free(kh);
}

static void test_upload(void **st)
{
	(void)st;
	char *kh = fresh_kh("up");
	struct cg_ssh *s = open_host(2, kh);
	struct cg_err e;
	char *dir = cg_xasprintf("%s/remote/up-%d/sub dir", TMP, (int)getpid());
	char *q = cg_ssh_quote(dir);
	const char *c1 = "first version\n", *c2 = "second, it's longer\n";
	assert_int_equal(cg_ssh_upload(s, dir, "f.conf", c1, strlen(c1), 0640, 5000, &e), 0);
	char *cmd = cg_xasprintf("cd %s && stat -c '%%a %%i' f.conf && cat f.conf && ls -A | wc -l", q);
	char *o1 = NULL, *o2 = NULL;
	assert_int_equal(cg_ssh_run(s, cmd, NULL, 0, 5000, &o1, &e), 0);
	assert_true(strncmp(o1, "640 ", 4) == 0);
	assert_non_null(strstr(o1, "\nfirst version\n1\n"));
	assert_int_equal(cg_ssh_upload(s, dir, "f.conf", c2, strlen(c2), 0755, 5000, &e), 0);
	assert_int_equal(cg_ssh_run(s, cmd, NULL, 0, 5000, &o2, &e), 0);
	assert_true(strncmp(o2, "755 ", 4) == 0);
	assert_non_null(strstr(o2, "\nsecond, it's longer\n1\n"));	/* no temp left */
	/* A new inode: replaced by rename, never rewritten in place. */
	assert_true(strtoul(o1 + 4, NULL, 10) != strtoul(o2 + 4, NULL, 10));
	assert_int_equal(cg_ssh_upload(s, dir, "../x", c1, 1, 0600, 5000, &e), -1);
	free(o1), free(o2), free(cmd);
	cmd = cg_xasprintf("rm -rf %s/remote/up-%d", TMP, (int)getpid());
	assert_int_equal(cg_ssh_run(s, cmd, NULL, 0, 5000, NULL, &e), 0);
	free(cmd), free(q), free(dir);
	cg_ssh_close(s);
	free(kh);
}

static void test_wrong_host_key(void **st)
{
	(void)st;
	char *kh = fresh_kh("wrong");
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	struct cg_err e;
	target(&t, 0, kh);
	t.host_key = H[1].hostkey;	/* another machine's key */
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	assert_true(cg_now_ms() - t0 < 3000);	/* hard error: no retries */
	char *f0 = cg_ssh_fingerprint(H[0].hostkey), *f1 = cg_ssh_fingerprint(H[1].hostkey);
	assert_non_null(strstr(e.msg, H[0].name));
	assert_non_null(strstr(e.msg, f0));
	assert_non_null(strstr(e.msg, f1));
	assert_int_equal(access(kh, F_OK), -1);	/* nothing pinned */

	/* Pinned key differs (machine replaced behind the alias), none expected. */
	assert_int_equal(cg_ssh_knownhosts_pin(kh, H[0].name, H[2].hostkey, &e), 0);
	target(&t, 0, kh);
	t.host_key = NULL;
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	char *f2 = cg_ssh_fingerprint(H[2].hostkey);
	assert_non_null(strstr(e.msg, "changed"));
	assert_non_null(strstr(e.msg, f0));
	assert_non_null(strstr(e.msg, f2));
	/* The expected key matches the server but the pin does not: still refused. */
	t.host_key = H[0].hostkey;
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	assert_non_null(strstr(e.msg, f2));

	/* A new machine under the same alias (repin): the stale pin is replaced
	 * only once the server has shown the expected key. */
	t.repin = 1;
	t.host_key = H[1].hostkey;
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	char *pinned = NULL;
	assert_int_equal(cg_ssh_knownhosts_get(kh, H[0].name, &pinned, &e), 0);
	assert_true(cg_ssh_key_equal(pinned, H[2].hostkey));	/* untouched */
	free(pinned);
	t.host_key = H[0].hostkey;
	if (cg_ssh_connect(&t, &s, &e))
		fail_msg("repin: %s", e.msg);
	cg_ssh_close(s);
	assert_int_equal(cg_ssh_knownhosts_get(kh, H[0].name, &pinned, &e), 0);
	assert_true(cg_ssh_key_equal(pinned, H[0].hostkey));
	free(pinned);
	t.repin = 0;

	/* Unknown: nothing pinned and nothing expected. */
	assert_int_equal(cg_ssh_knownhosts_remove(kh, H[0].name, &e), 0);
	t.host_key = NULL;
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	assert_non_null(strstr(e.msg, "unknown host key"));
	assert_non_null(strstr(e.msg, f0));
	/* Once pinned, no expected key is needed. */
	assert_int_equal(cg_ssh_knownhosts_pin(kh, H[0].name, H[0].hostkey, &e), 0);
	assert_int_equal(cg_ssh_connect(&t, &s, &e), 0);
	cg_ssh_close(s);
	free(f0), free(f1), free(f2), free(kh);
}

static void test_no_ed25519_host_key(void **st)
{
	(void)st;
	char *spec = cg_xstrdup(getenv("CG_SSH_RSA_HOST")), *eq = strchr(spec, '=');
	assert_non_null(eq);
	*eq = 0;
	char *kh = fresh_kh("rsa");
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	struct cg_err e;
	target(&t, 0, kh);
	t.name = spec;
	t.alias = spec;
	t.host = eq + 1;
	t.host_key = NULL;
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	assert_true(cg_now_ms() - t0 < 3000);	/* not retried until the deadline */
	if (!strstr(e.msg, spec) || !strstr(e.msg, "ssh-ed25519"))
		fail_msg("unexpected: %s", e.msg);
	free(spec), free(kh);
}

static void test_bad_user_key(void **st)
{
	(void)st;
	char *kh = fresh_kh("auth");
	char *other = cg_xasprintf("%s/k/other", TMP);
	struct cg_err e;
	assert_int_equal(cg_ssh_keygen(other, NULL, &e), 0);
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	target(&t, 1, kh);
	t.key_file = other;
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	assert_true(cg_now_ms() - t0 < 3000);
	assert_non_null(strstr(e.msg, "refused key"));
	free(other), free(kh);
}

static void netns(const char *verb, const char *name, int background_delay)
{
	char *cmd = background_delay
		? cg_xasprintf("(sleep %d; %s %s %s) >/dev/null 2>&1 &", background_delay, NETNS, verb, name)
		: cg_xasprintf("%s %s %s", NETNS, verb, name);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_retry_late_sshd(void **st)
{
	(void)st;
	char *kh = fresh_kh("late");
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	struct cg_err e;
	netns("sshd-stop", H[2].name, 0);
	/* Nothing listens: refused until the deadline, then a clear error. */
	target(&t, 2, kh);
	t.connect_timeout_ms = 1500;
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_connect(&t, &s, &e), -1);
	int64_t dt = cg_now_ms() - t0;
	assert_true(dt >= 1000 && dt < 4000);
	if (!strstr(e.msg, "Connection refused") || !strstr(e.msg, "gave up"))
		fail_msg("unexpected: %s", e.msg);
	assert_non_null(strstr(e.msg, "gave up"));
	/* sshd comes up 2 s later: connect keeps trying and gets in. */
	netns("sshd-start", H[2].name, 2);
	t.connect_timeout_ms = 20000;
	t0 = cg_now_ms();
	if (cg_ssh_connect(&t, &s, &e))
		fail_msg("late sshd: %s", e.msg);
	dt = cg_now_ms() - t0;
	print_message("late sshd: connected after %lld ms\n", (long long)dt);
	assert_true(dt >= 1500);
	char *out = NULL;
	assert_int_equal(cg_ssh_run(s, "echo up", NULL, 0, 5000, &out, &e), 0);
	assert_string_equal(out, "up\n");
	free(out);
	cg_ssh_close(s);
	free(kh);
}

static void test_hung_command(void **st)
{
	(void)st;
	char *kh = fresh_kh("hung");
	struct cg_ssh *s = open_host(0, kh);
	struct cg_ssh_result r;
	struct cg_err e;
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_ssh_exec(s, "sleep 60", NULL, 0, 1000, &r, &e), -1);
	int64_t dt = cg_now_ms() - t0;
	assert_true(dt >= 900 && dt < 3000);
	assert_non_null(strstr(e.msg, "timed out"));
	/* The session is marked unusable rather than reused half-way. */
	assert_int_equal(cg_ssh_exec(s, "true", NULL, 0, 1000, &r, &e), -1);
	assert_non_null(strstr(e.msg, "unusable"));
	cg_ssh_close(s);
	/* A command that daemonises with its fds redirected does not hold the channel. */
	s = open_host(0, kh);
	t0 = cg_now_ms();
	assert_int_equal(cg_ssh_exec(s, "setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $!",
				     NULL, 0, 5000, &r, &e), 0);
	assert_true(cg_now_ms() - t0 < 2000);
	long pid = strtol(r.out, NULL, 10);
	assert_true(pid > 1);
	cg_ssh_result_free(&r);
	char *kill_cmd = cg_xasprintf("kill %ld", pid);	/* only the one we started */
	assert_int_equal(cg_ssh_run(s, kill_cmd, NULL, 0, 5000, NULL, &e), 0);
	free(kill_cmd);
	cg_ssh_close(s);
	free(kh);
}

struct par {
	int host;
	char *kh;
	int ok;
	char msg[2048];
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	struct cg_ssh_target t;
	struct cg_ssh *s = NULL;
	struct cg_err e;
	target(&t, p->host, p->kh);
	if (cg_ssh_connect(&t, &s, &e)) {
		memcpy(p->msg, e.msg, sizeof(p->msg));
		return NULL;
	}
	for (int i = 0; i < 10; i++) {
		char *out = NULL;
		if (cg_ssh_run(s, "hostname -I", NULL, 0, 10000, &out, &e)) {
			memcpy(p->msg, e.msg, sizeof(p->msg));
			cg_ssh_close(s);
			return NULL;
		}
		/* Each session reaches its own namespace. */
		int mine = strstr(out, H[p->host].addr) != NULL;
		free(out);
		if (!mine) {
			snprintf(p->msg, sizeof(p->msg), "wrong host behind %s", H[p->host].addr);
			cg_ssh_close(s);
			return NULL;
		}
	}
	cg_ssh_close(s);
	p->ok = 1;
	return NULL;
}

static void test_parallel(void **st)
{
	(void)st;
	/* One known_hosts for all: concurrent pins must not lose entries. */
	char *kh = fresh_kh("par");
	enum { PER = 8 };
	int n = NH * PER;
	struct par *ps = cg_xcalloc((size_t)n, sizeof(*ps));
	pthread_t *th = cg_xcalloc((size_t)n, sizeof(*th));
	int64_t t0 = cg_now_ms();
	for (int i = 0; i < n; i++) {
		ps[i].host = i % NH;
		ps[i].kh = kh;
		assert_int_equal(pthread_create(&th[i], NULL, par_main, &ps[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	int64_t dt = cg_now_ms() - t0;
	for (int i = 0; i < n; i++)
		if (!ps[i].ok)
			fail_msg("session %d (%s): %s", i, H[ps[i].host].name, ps[i].msg);
	print_message("parallel: %d sessions x 10 commands on %d hosts in %lld ms\n", n, NH,
		      (long long)dt);
	struct cg_err e;
	for (int i = 0; i < NH; i++) {
		char *pinned = NULL;
		assert_int_equal(cg_ssh_knownhosts_get(kh, H[i].name, &pinned, &e), 0);
		assert_non_null(pinned);
		assert_true(cg_ssh_key_equal(pinned, H[i].hostkey));
		free(pinned);
	}
	free(ps), free(th), free(kh);
}

static int load_env(void)
{
	const char *hosts = getenv("CG_SSH_HOSTS"), *kd = getenv("CG_SSH_KEYDIR");
	KEY = getenv("CG_SSH_KEY");
	USER = getenv("CG_SSH_USER");
	TMP = getenv("CG_SSH_TMP");
	NETNS = getenv("CG_NETNS");
	if (!hosts || !kd || !KEY || !USER || !TMP || !NETNS) {
		fprintf(stderr, "ssh_integ: run me from tests/ssh/run.sh (CG_SSH_* unset)\n");
		return -1;
	}
	char *dup = cg_xstrdup(hosts), *save = NULL;
	for (char *tok = strtok_r(dup, ",", &save); tok && NH < MAXH;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq = 0;
		H[NH].name = cg_xstrdup(tok);
		H[NH].addr = cg_xstrdup(eq + 1);
		char *p = cg_xasprintf("%s/%s.pub", kd, tok);
		H[NH].hostkey = slurp(p);
		free(p);
		if (!H[NH].hostkey)
			return -1;
		NH++;
	}
	free(dup);
	return NH >= 3 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "keygen") == 0) {
		struct cg_err e;
		char *pub = NULL;
		if (cg_ssh_keygen(argv[2], &pub, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		printf("%s\n", pub);
		free(pub);
		return 0;
	}
	if (load_env())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_exec_status),
		cmocka_unit_test(test_big_streams),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_wrong_host_key),
		cmocka_unit_test(test_bad_user_key),
		cmocka_unit_test(test_no_ed25519_host_key),
		cmocka_unit_test(test_hung_command),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_retry_late_sshd),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (int i = 0; i < NH; i++)
		free(H[i].name), free(H[i].addr), free(H[i].hostkey);
	return rc;
}
