/*
 * boot_integ.c - the bootstrap provider against real sshds in network
 * namespaces and real Cassandra 5.0 nodes: a 2-node ring (DC1, zones z1/z2)
 * is installed, configured, started, verified, refreshed, repaired after a
 * kill -9 and shrunk by a decommission. Set up by tests/ssh/boot.sh:
 *   CG_BOOT_ADDRS  addr1,addr2     CG_BOOT_NAMES  ns1,ns2 (machine ids)
 *   CG_SSH_KEY, CG_SSH_USER, CG_SSH_KEYDIR (<name>.pub host keys),
 *   CG_SSH_TMP (scratch; node dirs CG_SSH_TMP/nodes/<name>), CG_BOOT_LIB.
 * The executor is played by a small fake ctx over an in-memory world.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../providers/ssh/boot.h"
#include "../../providers/ssh/bootstrap.h"
#include "../../providers/ssh/ssh.h"

static struct cg_rset world;
static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static struct cg_cluster C;
static struct cg_dc DC;
static char *ZONES[2] = { "z1", "z2" };
static struct cg_env ENV;
static struct cg_provider *P;
static const struct cg_provider_ops *OPS = &cg_provider_bootstrap_ssh;
static const char *ADDR[2], *NAME[2], *TMP;
static char *HOSTKEY[2], *BASE[2];

static int w_lookup(struct cg_ctx *ctx, const char *addr, struct cg_resource *out)
{
	(void)ctx;
	pthread_mutex_lock(&wmu);
	const struct cg_resource *r = cg_rset_find(&world, addr);
	if (r)
		cg_res_copy(out, r);
	pthread_mutex_unlock(&wmu);
	return r ? 0 : -1;
}

static void w_list(struct cg_ctx *ctx, enum cg_kind kind, struct cg_rset *out)
{
	(void)ctx;
	pthread_mutex_lock(&wmu);
	for (int i = 0; i < world.n; i++)
		if (world.v[i].kind == kind)
			cg_rset_add(out, &world.v[i]);
	pthread_mutex_unlock(&wmu);
}

static void w_progress(struct cg_ctx *ctx, const char *addr, const char *fmt, ...)
{
	(void)ctx;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  [%s] ", addr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct cg_ctx CTX = { .env = &ENV, .cluster = &C, .lookup = w_lookup, .list = w_list,
			     .progress = w_progress };

static void record(const struct cg_resource *r)
{
	pthread_mutex_lock(&wmu);
	for (int i = 0; i < world.n; i++)
		if (!strcmp(world.v[i].addr, r->addr)) {
			cg_rset_remove_at(&world, i);
			break;
		}
	cg_rset_add(&world, r);
	pthread_mutex_unlock(&wmu);
}

static void forget(const char *addr)
{
	pthread_mutex_lock(&wmu);
	for (int i = 0; i < world.n; i++)
		if (!strcmp(world.v[i].addr, addr)) {
			cg_rset_remove_at(&world, i);
			break;
		}
	pthread_mutex_unlock(&wmu);
}

/* The desired resource the planner would make for kind on node i (0-based). */
static void desired(struct cg_resource *r, enum cg_kind k, int i)
{
	char *a = k == CG_KIND_RING ? cg_xstrdup("ring") : cg_addr_node(k, "DC1", i + 1);
	cg_res_init(r, k, a);
	free(a);
	if (k != CG_KIND_RING) {
		r->region = cg_xstrdup("local");
		r->dc = cg_xstrdup("DC1");
		r->node = i + 1;
	}
	switch (k) {
	case CG_KIND_INSTALL:
		cg_res_set(r, "version", C.cassandra_version, 0);
		cg_res_set(r, "method", C.install, 0);
		break;
	case CG_KIND_CONFIG:
		cg_res_set(r, "hash", NULL, CG_ATTR_COMPUTED);
		cg_res_set(r, "mode", "initial", CG_ATTR_INFO);
		break;
	case CG_KIND_SERVICE:
		cg_res_set(r, "running", "true", 0);
		break;
	case CG_KIND_RING:
		cg_res_set(r, "nodes", "2", 0);
		cg_res_set(r, "dcs", "DC1:2", 0);
		break;
	default:
		break;
	}
}

/* Apply op on kind for node i; returns rc, records the result. */
static int apply(enum cg_op op, enum cg_kind k, int i, struct cg_err *e)
{
	struct cg_resource d, res, cur;
	int have = 0;
	memset(&res, 0, sizeof(res));
	memset(&cur, 0, sizeof(cur));
	desired(&d, k, i);
	have = w_lookup(NULL, d.addr, &cur) == 0;
	int rc = OPS->apply(P, &CTX, op, op == CG_OP_DELETE ? NULL : &d, have ? &cur : NULL, &res, e);
	if (rc == 0 && op != CG_OP_DELETE)
		record(&res);
	if (rc == 0 && op == CG_OP_DELETE)
		forget(d.addr);
	cg_res_clear(&d);
	cg_res_clear(&res);
	cg_res_clear(&cur);
	return rc;
}

static void must(enum cg_op op, enum cg_kind k, int i)
{
	struct cg_err e = {0};
	int64_t t0 = cg_now_ms();
	if (apply(op, k, i, &e))
		fail_msg("%s %s n%d: %s", cg_op_name(op), cg_kind_name(k), i + 1, e.msg);
	print_message("%s %s n%d: %lld ms\n", cg_op_name(op), cg_kind_name(k), i + 1,
		      (long long)(cg_now_ms() - t0));
}

static const char *wget(const char *addr, const char *key)
{
	const struct cg_resource *r = cg_rset_find(&world, addr);
	return r ? cg_res_get(r, key) : NULL;
}

static void refresh(struct cg_rset *live)
{
	struct cg_err e = {0};
	cg_rset_init(live);
	int64_t t0 = cg_now_ms();
	assert_int_equal(OPS->refresh(P, &world, live, &e), 0);
	print_message("refresh: %d resources in %lld ms\n", live->n, (long long)(cg_now_ms() - t0));
}

static const char *lget(const struct cg_rset *live, const char *addr, const char *key)
{
	const struct cg_resource *r = cg_rset_find(live, addr);
	return r ? cg_res_get(r, key) : NULL;
}

static void test_refresh_empty(void **st)
{
	(void)st;
	struct cg_rset live;
	refresh(&live);
	assert_int_equal(live.n, 0);	/* nothing bootstrapped yet */
	cg_rset_free(&live);
}

static void test_wrong_host_key(void **st)
{
	(void)st;
	struct cg_resource *m = cg_rset_find(&world, "machine.DC1.n1");
	cg_res_set(m, "host_key", HOSTKEY[1], CG_ATTR_COMPUTED);
	struct cg_err e = {0};
	assert_int_equal(apply(CG_OP_CREATE, CG_KIND_INSTALL, 0, &e), -1);
	char *f0 = cg_ssh_fingerprint(HOSTKEY[0]), *f1 = cg_ssh_fingerprint(HOSTKEY[1]);
	if (!strstr(e.msg, "machine.DC1.n1") || !strstr(e.msg, f0) || !strstr(e.msg, f1))
		fail_msg("unexpected: %s", e.msg);
	free(f0), free(f1);
	m = cg_rset_find(&world, "machine.DC1.n1");
	cg_res_set(m, "host_key", HOSTKEY[0], CG_ATTR_COMPUTED);
	assert_null(cg_rset_find(&world, "install.DC1.n1"));
}

struct job {
	enum cg_op op;
	enum cg_kind k;
	int i, rc;
	struct cg_err e;
};

static void *job_main(void *a)
{
	struct job *j = a;
	j->rc = apply(j->op, j->k, j->i, &j->e);
	return NULL;
}

/* Both nodes at once, as the executor would. */
static void both(enum cg_op op, enum cg_kind k)
{
	struct job j[2] = { { op, k, 0, 0, { 0, "" } }, { op, k, 1, 0, { 0, "" } } };
	pthread_t t[2];
	int64_t t0 = cg_now_ms();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, job_main, &j[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		if (j[i].rc)
			fail_msg("%s n%d: %s", cg_kind_name(k), i + 1, j[i].e.msg);
	print_message("%s %s both nodes: %lld ms\n", cg_op_name(op), cg_kind_name(k),
		      (long long)(cg_now_ms() - t0));
}

static ino_t inode(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void test_install_config(void **st)
{
	(void)st;
	both(CG_OP_CREATE, CG_KIND_INSTALL);
	assert_string_equal(wget("install.DC1.n1", "version"), C.cassandra_version);
	/* cgnode landed, executable, identical to the embedded copy. */
	char *bin = cg_xasprintf("%s/bin/cgnode", BASE[0]), *text = NULL;
	size_t len = 0;
	struct cg_err e;
	assert_int_equal(cg_file_read(bin, &text, &len, &e), 0);
	assert_int_equal(len, cg_cgnode_script_len);
	assert_memory_equal(text, cg_cgnode_script, len);
	assert_int_equal(access(bin, X_OK), 0);
	free(text), free(bin);

	both(CG_OP_CREATE, CG_KIND_CONFIG);
	for (int i = 0; i < 2; i++) {
		char *a = cg_addr_node(CG_KIND_CONFIG, "DC1", i + 1);
		const char *h = wget(a, "hash");
		assert_non_null(h);
		assert_int_equal(strlen(h), 16);
		char *hp = cg_xasprintf("%s/conf/.hash", BASE[i]), *on = NULL;
		assert_int_equal(cg_file_read(hp, &on, NULL, &e), 0);
		assert_int_equal(strncmp(on, h, 16), 0);
		free(on), free(hp), free(a);
		char *y = cg_xasprintf("%s/conf/cassandra.yaml", BASE[i]), *yt = NULL;
		assert_int_equal(cg_file_read(y, &yt, NULL, &e), 0);
		assert_non_null(strstr(yt, ADDR[i]));
		free(yt), free(y);
	}
	/* Same config again: nothing uploaded (same inode). */
	char *y = cg_xasprintf("%s/conf/cassandra.yaml", BASE[0]);
	ino_t before = inode(y);
	must(CG_OP_UPDATE, CG_KIND_CONFIG, 0);
	assert_true(before != 0 && inode(y) == before);
	free(y);
}

/* Is there a ".tmp." file left in dir? */
static int temp_left(const char *dir)
{
	char *cmd = cg_xasprintf("ls -a '%s' | grep -q '^\\.tmp\\.'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0;
}

static void file_is(const char *dir, const char *name, const void *want, size_t len, int mode)
{
	char *path = cg_xasprintf("%s/%s", dir, name), *got = NULL;
	size_t n = 0;
	struct cg_err e;
	struct stat sb;
	assert_int_equal(cg_file_read(path, &got, &n, &e), 0);
	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, mode);
	assert_int_equal(sb.st_uid, 0);
	free(got), free(path);
}

/*
 * Files go up in one command, each renamed in order: a failure keeps the
 * ones before it, writes none after it and leaves no temp file. A session
 * an action is done with serves the next one on its machine; one whose
 * server side is gone is found dead and replaced.
 */
static void test_put_files_idle(void **st)
{
	(void)st;
	struct node n;
	struct cg_err e = {0};
	const struct cg_resource *m = cg_rset_find(&world, "machine.DC1.n1");
	assert_non_null(m);
	assert_int_equal(boot_node_of_machine(P, &CTX, m, 10000, &n, &e), 0);
	char *dir = cg_xasprintf("%s/puttest", BASE[0]);
	char bin[3000];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);	/* NULs and high bytes */
	const struct boot_file f[] = {
		{ "a.txt", "hello\n", 6, 0644 },
		{ "b.bin", bin, sizeof(bin), 0600 },
		{ "empty", "", 0, 0640 },
	};
	assert_int_equal(boot_put_files(&n, dir, f, 3, 30000, &e), 0);
	file_is(dir, "a.txt", "hello\n", 6, 0644);
	file_is(dir, "b.bin", bin, sizeof(bin), 0600);
	file_is(dir, "empty", "", 0, 0640);
	assert_false(temp_left(dir));

	/* b.bin cannot be replaced (immutable): a.txt is, empty is not */
	char *cmd = cg_xasprintf("chattr +i '%s/b.bin'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	const struct boot_file g[] = {
		{ "a.txt", "v2\n", 3, 0644 },
		{ "b.bin", "v2\n", 3, 0600 },
		{ "empty", "v2\n", 3, 0640 },
	};
	assert_int_not_equal(boot_put_files(&n, dir, g, 3, 30000, &e), 0);
	print_message("failed upload: %s\n", e.msg);
	cmd = cg_xasprintf("chattr -i '%s/b.bin'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	file_is(dir, "a.txt", "v2\n", 3, 0644);
	file_is(dir, "b.bin", bin, sizeof(bin), 0600);
	file_is(dir, "empty", "", 0, 0640);
	assert_false(temp_left(dir));
	/* a name that is not one file is refused before anything runs: the
	 * good file before it is not written either */
	const struct boot_file bad[] = { { "c.txt", "c", 1, 0644 }, { "..", "x", 1, 0644 } };
	memset(&e, 0, sizeof(e));
	assert_int_not_equal(boot_put_files(&n, dir, bad, 2, 30000, &e), 0);
	assert_non_null(strstr(e.msg, "invalid file name"));
	char *c = cg_xasprintf("%s/c.txt", dir);
	assert_int_not_equal(access(c, F_OK), 0);
	free(c);
	free(dir);

	/* released, kept, taken again by the next action on the machine */
	struct cg_ssh *s = n.s;
	int idle = P->nidle;
	boot_node_clear(&n);
	assert_int_equal(P->nidle, idle + 1);
	assert_int_equal(boot_node_of_machine(P, &CTX, m, 10000, &n, &e), 0);
	assert_ptr_equal(n.s, s);
	assert_int_equal(P->nidle, idle);
	/* the server side of this session (its shell's parent, sshd's
	 * process of the connection) ends while the session is kept: found
	 * dead when taken, closed, and a new one connects */
	char *out = NULL;
	assert_int_equal(cg_ssh_run(n.s, "echo $PPID", NULL, 0, 10000, &out, &e), 0);
	int server = atoi(out);
	free(out);
	assert_true(server > 1);
	boot_node_clear(&n);
	assert_int_equal(P->nidle, idle + 1);
	assert_int_equal(kill(server, SIGKILL), 0);
	usleep(300000);
	assert_int_equal(boot_node_of_machine(P, &CTX, m, 10000, &n, &e), 0);
	assert_int_equal(P->nidle, idle);
	assert_int_equal(cg_ssh_run(n.s, "echo $PPID", NULL, 0, 10000, &out, &e), 0);
	assert_int_not_equal(atoi(out), server);
	free(out);
	boot_node_clear(&n);
}

static void test_start_ring(void **st)
{
	(void)st;
	int64_t t0 = cg_now_ms();
	must(CG_OP_CREATE, CG_KIND_SERVICE, 0);	/* the seed first */
	must(CG_OP_CREATE, CG_KIND_SERVICE, 1);
	must(CG_OP_CREATE, CG_KIND_RING, 0);
	print_message("2-node ring from configured to verified: %lld ms\n",
		      (long long)(cg_now_ms() - t0));
	assert_string_equal(wget("ring", "nodes"), "2");
	assert_string_equal(wget("ring", "dcs"), "DC1:2");
	assert_string_equal(wget("service.DC1.n2", "running"), "true");
	assert_string_equal(wget("service.DC1.n2", "config_hash"), wget("config.DC1.n2", "hash"));
}

static void test_refresh_full(void **st)
{
	(void)st;
	struct cg_rset live;
	refresh(&live);
	for (int i = 0; i < 2; i++) {
		char *ia = cg_addr_node(CG_KIND_INSTALL, "DC1", i + 1);
		char *ca = cg_addr_node(CG_KIND_CONFIG, "DC1", i + 1);
		char *sa = cg_addr_node(CG_KIND_SERVICE, "DC1", i + 1);
		assert_non_null(lget(&live, ia, "version"));
		assert_string_equal(lget(&live, ia, "version"), C.cassandra_version);
		assert_string_equal(lget(&live, ia, "method"), C.install);
		assert_string_equal(lget(&live, ca, "hash"), wget(ca, "hash"));
		assert_string_equal(lget(&live, sa, "running"), "true");
		assert_string_equal(lget(&live, sa, "config_hash"), wget(ca, "hash"));
		free(ia), free(ca), free(sa);
	}
	/* The ssh command users are shown works as printed, strictly pinned. */
	char *kh = cg_xasprintf("%s/known_hosts", ENV.cluster_dir);
	char *ssh = cg_boot_ssh_cmdline(&C, kh, cg_rset_find(&world, "machine.DC1.n1"),
					getenv("CG_SSH_KEY"));
	char *cmd = cg_xasprintf("%s -o BatchMode=yes %s/bin/cgnode status 2>&1", ssh, BASE[0]);
	FILE *f = popen(cmd, "r");
	char buf[4096];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = 0;
	if (f)
		pclose(f);
	if (!strstr(buf, "running=1"))
		fail_msg("%s\n-> %s", cmd, buf);
	free(kh), free(ssh), free(cmd);
	assert_non_null(lget(&live, "ring", "nodes"));
	assert_string_equal(lget(&live, "ring", "nodes"), "2");
	assert_string_equal(lget(&live, "ring", "dcs"), "DC1:2");
	cg_rset_free(&live);
}

static void test_kill_and_repair(void **st)
{
	(void)st;
	char *pf = cg_xasprintf("%s/run/cassandra.pid", BASE[1]), *pid = NULL;
	struct cg_err e;
	assert_int_equal(cg_file_read(pf, &pid, NULL, &e), 0);
	long p = strtol(pid, NULL, 10);
	assert_true(p > 1);
	assert_int_equal(kill((pid_t)p, 9), 0);
	for (int i = 0; i < 100 && kill((pid_t)p, 0) == 0; i++)
		usleep(100000);
	free(pf), free(pid);
	struct cg_rset live;
	refresh(&live);
	assert_string_equal(lget(&live, "service.DC1.n2", "running"), "false");
	assert_string_equal(lget(&live, "service.DC1.n1", "running"), "true");
	assert_null(cg_rset_find(&live, "ring"));	/* not every service runs */
	cg_rset_free(&live);
	must(CG_OP_UPDATE, CG_KIND_SERVICE, 1);	/* restarts, waits for the ring */
	must(CG_OP_UPDATE, CG_KIND_RING, 0);
	refresh(&live);
	assert_string_equal(lget(&live, "service.DC1.n2", "running"), "true");
	assert_string_equal(lget(&live, "ring", "nodes"), "2");
	cg_rset_free(&live);
}

static long node_pid(int i)
{
	char *pf = cg_xasprintf("%s/run/cassandra.pid", BASE[i]), *pid = NULL;
	struct cg_err e;
	long p = cg_file_read(pf, &pid, NULL, &e) == 0 ? strtol(pid, NULL, 10) : -1;
	free(pf), free(pid);
	return p;
}

/* A changed setting: new config hash, the running node restarts with it and
 * waits until the ring is healthy again; the other node is left alone. */
static void test_config_change_restart(void **st)
{
	(void)st;
	static struct cg_kv kv = { .key = "concurrent_reads", .value = "16" };
	char *old = cg_xstrdup(wget("config.DC1.n1", "hash"));
	long pid1 = node_pid(0), pid2 = node_pid(1);
	C.cassandra = &kv;
	C.ncassandra = 1;
	must(CG_OP_UPDATE, CG_KIND_CONFIG, 0);
	assert_string_not_equal(wget("config.DC1.n1", "hash"), old);
	must(CG_OP_UPDATE, CG_KIND_SERVICE, 0);
	assert_true(node_pid(0) != pid1);			/* restarted */
	assert_int_equal(node_pid(1), pid2);			/* untouched */
	assert_string_equal(wget("service.DC1.n1", "config_hash"), wget("config.DC1.n1", "hash"));
	char *y = cg_xasprintf("%s/conf/cassandra.yaml", BASE[0]), *yt = NULL;
	struct cg_err e;
	assert_int_equal(cg_file_read(y, &yt, NULL, &e), 0);
	assert_non_null(strstr(yt, "concurrent_reads: 16"));
	/* Applying again changes nothing: same pid. */
	long pid = node_pid(0);
	must(CG_OP_UPDATE, CG_KIND_SERVICE, 0);
	assert_int_equal(node_pid(0), pid);
	must(CG_OP_UPDATE, CG_KIND_RING, 0);
	free(y), free(yt), free(old);
}

/* A node that cannot start fails its own action with its log's last lines. */
static void test_start_failure(void **st)
{
	(void)st;
	char *y = cg_xasprintf("%s/conf/cassandra.yaml", BASE[1]), *orig = NULL;
	size_t len;
	struct cg_err e = {0};
	assert_int_equal(cg_file_read(y, &orig, &len, &e), 0);
	char *pf = cg_xasprintf("%s/run/cassandra.pid", BASE[1]), *pid = NULL;
	assert_int_equal(cg_file_read(pf, &pid, NULL, &e), 0);
	pid_t p = (pid_t)strtol(pid, NULL, 10);
	assert_int_equal(kill(p, 9), 0);
	for (int i = 0; i < 100 && kill(p, 0) == 0; i++)
		usleep(100000);
	/* Unknown keys are fatal to Cassandra. */
	char *bad = cg_xasprintf("%sno_such_setting_cg: 1\n", orig);
	FILE *f = fopen(y, "w");
	assert_non_null(f);
	fputs(bad, f);
	fclose(f);
	setenv("CASSANDGO_START_TIMEOUT", "90", 1);
	int64_t t0 = cg_now_ms();
	assert_int_equal(apply(CG_OP_UPDATE, CG_KIND_SERVICE, 1, &e), -1);
	unsetenv("CASSANDGO_START_TIMEOUT");
	fprintf(stderr, "failed start reported after %lld ms:\n%s\n", (long long)(cg_now_ms() - t0),
		e.msg);
	assert_non_null(strstr(e.msg, "machine.DC1.n2"));
	assert_non_null(strstr(e.msg, "wait-ready"));
	assert_non_null(strstr(e.msg, "no_such_setting_cg"));
	/* Put the config back: the next update starts it again. */
	f = fopen(y, "w");
	assert_non_null(f);
	fwrite(orig, 1, len, f);
	fclose(f);
	must(CG_OP_UPDATE, CG_KIND_SERVICE, 1);
	free(y), free(orig), free(bad), free(pf), free(pid);
}

static void test_decommission(void **st)
{
	(void)st;
	/* Two nodes, system_distributed RF 3: Cassandra refuses, the error says why
	 * and the node keeps running. */
	struct cg_err e = {0};
	assert_int_equal(apply(CG_OP_DELETE, CG_KIND_SERVICE, 1, &e), -1);
	if (!strstr(e.msg, "replication factor") || !strstr(e.msg, "machine.DC1.n2"))
		fail_msg("unexpected: %s", e.msg);
	/* The operator insists. */
	setenv("CASSANDGO_DECOMMISSION_FORCE", "1", 1);
	must(CG_OP_DELETE, CG_KIND_SERVICE, 1);
	unsetenv("CASSANDGO_DECOMMISSION_FORCE");
	struct cg_rset live;
	refresh(&live);
	assert_string_equal(lget(&live, "service.DC1.n2", "running"), "false");
	cg_rset_free(&live);
	/* n1 now sees a ring of one: n2 left it rather than going down. */
	char *cmd = cg_xasprintf("su -s /bin/sh %s -c '%s/bin/cgnode nodetool status' 2>&1",
				 getenv("CG_SSH_USER"), BASE[0]);
	char *ns = cg_xasprintf("ip netns exec %s %s", NAME[0], cmd);
	FILE *f = popen(ns, "r");
	char buf[8192];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = 0;
	if (f)
		pclose(f);
	assert_non_null(strstr(buf, ADDR[0]));
	assert_null(strstr(buf, ADDR[1]));
	free(cmd), free(ns);
}

static struct cg_resource *machine(int i)
{
	char *a = cg_addr_node(CG_KIND_MACHINE, "DC1", i + 1);
	struct cg_resource *m = cg_rset_new(&world, CG_KIND_MACHINE, a);
	free(a);
	m->region = cg_xstrdup("local");
	m->dc = cg_xstrdup("DC1");
	m->node = i + 1;
	cg_res_set_id(m, NAME[i]);
	cg_res_set(m, "private_ip", ADDR[i], CG_ATTR_COMPUTED);
	cg_res_set(m, "public_ip", ADDR[i], CG_ATTR_COMPUTED);
	cg_res_set(m, "zone", ZONES[i], 0);
	cg_res_set(m, "host_key", HOSTKEY[i], CG_ATTR_COMPUTED);
	cg_res_set(m, "base_dir", BASE[i], CG_ATTR_COMPUTED);
	cg_res_set(m, "lib_dir", getenv("CG_BOOT_LIB"), CG_ATTR_COMPUTED);
	cg_res_set(m, "seed", i == 0 ? "true" : "false", 0);
	return m;
}

static int setup(void)
{
	const char *addrs = getenv("CG_BOOT_ADDRS"), *names = getenv("CG_BOOT_NAMES");
	const char *kd = getenv("CG_SSH_KEYDIR"), *lib = getenv("CG_BOOT_LIB");
	TMP = getenv("CG_SSH_TMP");
	if (!addrs || !names || !kd || !TMP || !lib || !getenv("CG_SSH_KEY") || !getenv("CG_SSH_USER")) {
		fprintf(stderr, "boot_integ: run me from tests/ssh/boot.sh\n");
		return -1;
	}
	static char a[256], n[256];
	snprintf(a, sizeof(a), "%s", addrs);
	snprintf(n, sizeof(n), "%s", names);
	char *c1 = strchr(a, ','), *c2 = strchr(n, ',');
	if (!c1 || !c2)
		return -1;
	*c1 = *c2 = 0;
	ADDR[0] = a, ADDR[1] = c1 + 1, NAME[0] = n, NAME[1] = c2 + 1;
	for (int i = 0; i < 2; i++) {
		char *p = cg_xasprintf("%s/%s.pub", kd, NAME[i]);
		struct cg_err e;
		if (cg_file_read(p, &HOSTKEY[i], NULL, &e))
			return -1;
		HOSTKEY[i][strcspn(HOSTKEY[i], "\n")] = 0;
		free(p);
		BASE[i] = cg_xasprintf("%s/nodes/%s", TMP, NAME[i]);
	}
	C.name = "SshBoot";
	C.provider = CG_PROVIDER_LOCAL;
	C.cassandra_version = getenv("CG_BOOT_VERSION");
	C.num_tokens = 16;
	C.heap = "512M";
	C.ssh_user = getenv("CG_SSH_USER");
	C.ssh_address = CG_SSH_PRIVATE;
	C.install = cg_xasprintf("dir:%s", lib);
	DC.name = "DC1";
	DC.region = "local";
	DC.nodes = 2;
	DC.seeds = 1;
	DC.zones = ZONES;
	DC.nzones = 2;
	C.dcs = &DC;
	C.ndcs = 1;
	ENV.state_dir = TMP;
	ENV.cluster_dir = cg_xasprintf("%s/cluster", TMP);
	cg_rset_init(&world);
	machine(0);
	machine(1);
	struct cg_resource *kp = cg_rset_new(&world, CG_KIND_KEYPAIR, "keypair.local");
	kp->region = cg_xstrdup("local");
	cg_res_set_id(kp, "cgt-boot");
	cg_res_set(kp, "key_file", getenv("CG_SSH_KEY"), CG_ATTR_COMPUTED);
	struct cg_err e;
	if (OPS->open(&P, &C, &ENV, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

int main(void)
{
	if (setup())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_empty),
		cmocka_unit_test(test_wrong_host_key),
		cmocka_unit_test(test_install_config),
		cmocka_unit_test(test_put_files_idle),
		cmocka_unit_test(test_start_ring),
		cmocka_unit_test(test_refresh_full),
		cmocka_unit_test(test_kill_and_repair),
		cmocka_unit_test(test_config_change_restart),
		cmocka_unit_test(test_start_failure),
		cmocka_unit_test(test_decommission),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	OPS->close(P);
	cg_rset_free(&world);
	for (int i = 0; i < 2; i++)
		free(HOSTKEY[i]), free(BASE[i]);
	free((char *)C.install);
	free((char *)ENV.cluster_dir);
	return rc;
}
