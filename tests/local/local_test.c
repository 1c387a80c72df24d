/*
 * local_test.c - integration test of the local provider against the real
 * kernel (bridge, netns, veth) and real OpenSSH (sshd in each namespace,
 * ssh from the host with the pinned host key). Run as root by run.sh, which
 * cleans up whatever this leaves behind if it dies.
 *
 * usage: local_test STATE_DIR
 * Cluster "LocalTest": DC1 (region r1, zones r1-z1 r1-z2) and DC2 (region r2,
 * no zones) with 2 nodes each, range $CG_LOCAL_TEST_RANGE (10.213.0.0/16).
 * Traffic goes only to addresses of the namespaces this test creates.
 */
#include "../../providers/local/local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

#define REQUIRE(cond, ...) do { \
	bool ok_ = (cond); \
	CHECK(ok_, __VA_ARGS__); \
	if (!ok_) { \
		fprintf(stderr, "fatal: stopping (run.sh cleans up)\n"); \
		exit(1); \
	} \
} while (0)

/* --- a tiny executor context over one resource set ---------------------- */

struct world {
	pthread_mutex_t mu;
	struct cg_rset set;
};

static int w_lookup(struct cg_ctx *ctx, const char *addr, struct cg_resource *out)
{
	struct world *w = ctx->priv;
	pthread_mutex_lock(&w->mu);
	struct cg_resource *r = cg_rset_find(&w->set, addr);
	if (r)
		cg_res_copy(out, r);
	pthread_mutex_unlock(&w->mu);
	return r ? 0 : -1;
}

static void w_list(struct cg_ctx *ctx, enum cg_kind kind, struct cg_rset *out)
{
	struct world *w = ctx->priv;
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < w->set.n; i++)
		if (w->set.v[i].kind == kind)
			cg_rset_add(out, &w->set.v[i]);
	pthread_mutex_unlock(&w->mu);
}

static void w_progress(struct cg_ctx *ctx, const char *addr, const char *fmt, ...)
{
	(void)ctx;
	va_list ap;
	va_start(ap, fmt);
	printf("  %s: ", addr);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void w_put(struct world *w, const struct cg_resource *r)
{
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < w->set.n; i++)
		if (!strcmp(w->set.v[i].addr, r->addr)) {
			cg_rset_remove_at(&w->set, i);
			break;
		}
	cg_rset_add(&w->set, r);
	pthread_mutex_unlock(&w->mu);
}

static void w_drop(struct world *w, const char *addr)
{
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < w->set.n; i++)
		if (!strcmp(w->set.v[i].addr, addr)) {
			cg_rset_remove_at(&w->set, i);
			break;
		}
	pthread_mutex_unlock(&w->mu);
}

static struct world W;
static struct cg_provider *P;
static struct cg_ctx CTX;

/* Apply op on addr, record the outcome in W like the executor would. */
static int apply(enum cg_op op, const struct cg_resource *desired, struct cg_err *err)
{
	struct cg_resource cur, res;
	memset(&cur, 0, sizeof(cur));
	memset(&res, 0, sizeof(res));
	bool have = CTX.lookup(&CTX, desired->addr, &cur) == 0;
	int r = cg_provider_local.apply(P, &CTX, op, op == CG_OP_DELETE ? NULL : desired,
					have ? &cur : (op == CG_OP_DELETE ? desired : NULL), &res, err);
	if (r == 0 && op == CG_OP_DELETE)
		w_drop(&W, desired->addr);
	else if (r == 0)
		w_put(&W, &res);
	cg_res_clear(&cur);
	cg_res_clear(&res);
	return r;
}

struct job {
	enum cg_op op;
	struct cg_resource *desired;
	struct cg_err err;
	int rc;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	j->rc = apply(j->op, j->desired, &j->err);
	return NULL;
}

/* Run the ops on every resource at once (the executor's threads do). */
static void apply_parallel(enum cg_op op, struct cg_resource **rs, int n)
{
	pthread_t t[16];
	struct job jobs[16];
	for (int i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].op = op;
		jobs[i].desired = rs[i];
		pthread_create(&t[i], NULL, job_run, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		CHECK(jobs[i].rc == 0, "%s %s: %s", cg_op_name(op), rs[i]->addr, jobs[i].err.msg);
	}
}

/* --- running programs ---------------------------------------------------- */

/* Run argv, return exit status; stdout+stderr into *out (caller frees). */
static int run(char **out, const char *const argv[])
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_RDONLY);
		dup2(dn, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	struct cg_buf b = {0};
	char buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		cg_buf_add(&b, buf, (size_t)n);
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	if (out)
		*out = b.data ? cg_buf_detach(&b) : cg_xstrdup("");
	cg_buf_free(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN(out, ...) run((out), (const char *const[]){ __VA_ARGS__, NULL })

static char STATE[512], KH[600];

/* ssh to a machine as the login user with its pinned host key only. */
static int ssh_to(const struct cg_resource *m, const char *host_key, const char *cmd, char **out)
{
	char kh[1200];
	snprintf(kh, sizeof(kh), "%s %s\n", m->addr, host_key);
	FILE *f = fopen(KH, "w");
	if (!f)
		return -1;
	fputs(kh, f);
	fclose(f);
	struct cg_resource kp;
	memset(&kp, 0, sizeof(kp));
	char kaddr[64];
	snprintf(kaddr, sizeof(kaddr), "keypair.%s", m->region);
	if (CTX.lookup(&CTX, kaddr, &kp) != 0)
		return -1;
	char alias[128], khopt[700], dest[128];
	snprintf(alias, sizeof(alias), "HostKeyAlias=%s", m->addr);
	snprintf(khopt, sizeof(khopt), "UserKnownHostsFile=%s", KH);
	snprintf(dest, sizeof(dest), "cassandgo@%s", cg_res_get(m, "private_ip"));
	int r = RUN(out, "ssh", "-F", "/dev/null", "-i", cg_res_get(&kp, "key_file"),
		    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		    "-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null",
		    "-o", khopt, "-o", alias, "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		    dest, cmd);
	cg_res_clear(&kp);
	return r;
}

/* Running (a zombie waiting for init to reap it counts as gone). */
static bool alive(pid_t pid)
{
	char path[64], *s = NULL;
	size_t n;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (cg_file_read(path, &s, &n, NULL) != 0)
		return false;
	const char *rp = strrchr(s, ')');
	bool r = rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
	free(s);
	return r;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char *attr_of(const struct cg_rset *s, const char *addr, const char *key)
{
	struct cg_resource *r = cg_rset_find(s, addr);
	return r ? cg_res_get(r, key) : NULL;
}

static void refresh(struct cg_rset *live, const struct cg_rset *known)
{
	struct cg_err err = {0};
	cg_rset_init(live);
	int r = cg_provider_local.refresh(P, known, live, &err);
	CHECK(r == 0, "refresh: %s", err.msg);
}

/* Any process whose command line mentions s? */
static int procs_mentioning(const char *s)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		char path[300], buf[4096];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		n += strstr(buf, s) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s STATE_DIR\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(STATE, sizeof(STATE), "%s", argv[1]);
	snprintf(KH, sizeof(KH), "%s/test_known_hosts", STATE);
	const char *range = getenv("CG_LOCAL_TEST_RANGE");
	char *zones1[] = { "r1-z1", "r1-z2" };
	struct cg_dc dcs[2] = {
		{ .name = "DC1", .region = "r1", .nodes = 2, .seeds = 1, .zones = zones1, .nzones = 2 },
		{ .name = "DC2", .region = "r2", .nodes = 2, .seeds = 1 },
	};
	struct cg_cluster c = {
		.name = "LocalTest", .provider = CG_PROVIDER_LOCAL, .cassandra_version = "5.0.6",
		.num_tokens = 4, .heap = "512M", .ssh_user = "cassandgo", .ssh_address = CG_SSH_PRIVATE,
		.network = (char *)(range && *range ? range : "10.213.0.0/16"),
		.dcs = dcs, .ndcs = 2,
	};
	char cluster_dir[600];
	snprintf(cluster_dir, sizeof(cluster_dir), "%s/LocalTest", STATE);
	struct cg_env env = { .config_dir = STATE, .state_dir = STATE, .cluster_dir = cluster_dir };
	char tag[13];
	cg_local_tag(c.name, STATE, tag);
	{	/* for run.sh's cleanup */
		char path[600];
		snprintf(path, sizeof(path), "%s/tag", STATE);
		FILE *f = fopen(path, "w");
		REQUIRE(f, "cannot write %s", path);
		fprintf(f, "%s\n", tag);
		fclose(f);
	}
	struct cg_err err = {0};
	REQUIRE(cg_provider_local.open(&P, &c, &env, &err) == 0, "open: %s", err.msg);
	pthread_mutex_init(&W.mu, NULL);
	cg_rset_init(&W.set);
	CTX = (struct cg_ctx){ .env = &env, .cluster = &c, .lookup = w_lookup, .list = w_list,
			       .progress = w_progress, .priv = &W };

	/* zones: listed ones, else two labels */
	char **z;
	int nz;
	REQUIRE(cg_provider_local.zones(P, "r1", &z, &nz, &err) == 0, "zones: %s", err.msg);
	CHECK(nz == 2 && !strcmp(z[0], "r1-z1") && !strcmp(z[1], "r1-z2"), "r1 zones %d", nz);
	for (int i = 0; i < nz; i++)
		free(z[i]);
	free(z);
	REQUIRE(cg_provider_local.zones(P, "r2", &z, &nz, &err) == 0, "zones: %s", err.msg);
	CHECK(nz == 2 && !strcmp(z[0], "r2a") && !strcmp(z[1], "r2b"), "r2 zones %d", nz);
	for (int i = 0; i < nz; i++)
		free(z[i]);
	free(z);

	/* desired resources, as the model builds them */
	struct cg_rset desired;
	cg_rset_init(&desired);
	const char *regions[2] = { "r1", "r2" };
	for (int i = 0; i < 2; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "network.%s", regions[i]);
		struct cg_resource *r = cg_rset_new(&desired, CG_KIND_NETWORK, addr);
		r->region = cg_xstrdup(regions[i]);
		cg_res_setf(r, "name", 0, "cassandgo-LocalTest-%s", regions[i]);
		snprintf(addr, sizeof(addr), "keypair.%s", regions[i]);
		r = cg_rset_new(&desired, CG_KIND_KEYPAIR, addr);
		r->region = cg_xstrdup(regions[i]);
		cg_res_setf(r, "name", 0, "cassandgo-LocalTest-%s", regions[i]);
		cg_res_set(r, "key_file", NULL, CG_ATTR_COMPUTED);
		cg_res_set(r, "fingerprint", NULL, CG_ATTR_COMPUTED);
	}
	const char *mzone[4] = { "r1-z1", "r1-z2", "r2a", "r2b" };
	const char *expect_ip[4];
	char ipbuf[4][32];
	{
		unsigned a, b;
		REQUIRE(sscanf(c.network, "%u.%u.", &a, &b) == 2, "range %s", c.network);
		for (int i = 0; i < 4; i++) {
			snprintf(ipbuf[i], sizeof(ipbuf[i]), "%u.%u.%d.%d", a, b, i / 2 + 1, i % 2 + 1);
			expect_ip[i] = ipbuf[i];
		}
	}
	for (int i = 0; i < 4; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "machine.DC%d.n%d", i / 2 + 1, i % 2 + 1);
		struct cg_resource *r = cg_rset_new(&desired, CG_KIND_MACHINE, addr);
		r->region = cg_xstrdup(regions[i / 2]);
		r->dc = cg_xasprintf("DC%d", i / 2 + 1);
		r->node = i % 2 + 1;
		cg_res_set(r, "cluster", "LocalTest", 0);
		cg_res_set(r, "dc", r->dc, 0);
		cg_res_setf(r, "node", 0, "%d", r->node);
		cg_res_set(r, "zone", mzone[i], 0);
		cg_res_set(r, "seed", i % 2 == 0 ? "true" : "false", 0);
		cg_res_setf(r, "name", 0, "LocalTest-%s-n%d", r->dc, r->node);
		cg_res_set(r, "node_type", "local", 0);
		cg_res_set(r, "private_ip", NULL, CG_ATTR_COMPUTED);
		cg_res_set(r, "host_key", NULL, CG_ATTR_COMPUTED);
	}
	struct cg_resource *nets[2], *kps[2], *ms[4];
	for (int i = 0; i < 2; i++) {
		char a[64];
		snprintf(a, sizeof(a), "network.%s", regions[i]);
		nets[i] = cg_rset_find(&desired, a);
		snprintf(a, sizeof(a), "keypair.%s", regions[i]);
		kps[i] = cg_rset_find(&desired, a);
	}
	for (int i = 0; i < 4; i++) {
		char a[64];
		snprintf(a, sizeof(a), "machine.DC%d.n%d", i / 2 + 1, i % 2 + 1);
		ms[i] = cg_rset_find(&desired, a);
	}

	/* --- create ---------------------------------------------------------- */
	int64_t t0 = cg_now_ms();
	printf("== create networks and key pairs\n");
	apply_parallel(CG_OP_CREATE, nets, 2);
	apply_parallel(CG_OP_CREATE, kps, 2);
	char bridge[32];
	snprintf(bridge, sizeof(bridge), "/sys/class/net/cgb%s", tag);
	REQUIRE(exists(bridge), "bridge %s missing", bridge);
	for (int i = 0; i < 2; i++) {
		const char *kf = attr_of(&W.set, kps[i]->addr, "key_file");
		struct stat st;
		REQUIRE(kf && stat(kf, &st) == 0, "key file of %s", kps[i]->addr);
		CHECK((st.st_mode & 0777) == 0600, "key %s mode %o", kf, st.st_mode & 0777);
		const char *fp = attr_of(&W.set, kps[i]->addr, "fingerprint");
		char *out = NULL;
		CHECK(RUN(&out, "ssh-keygen", "-l", "-f", kf) == 0 && fp && strstr(out, fp),
		      "fingerprint %s vs ssh-keygen: %s", fp ? fp : "(null)", out);
		free(out);
	}
	/* another state directory with the same range: refused (two bridges
	 * on one subnet would route to only one), and no second bridge */
	{
		char other[600], tag2[13], br2[40];
		snprintf(other, sizeof(other), "%s/other", STATE);
		struct cg_env env2 = env;
		env2.state_dir = other;
		cg_local_tag(c.name, other, tag2);
		CHECK(strcmp(tag, tag2) != 0, "two state dirs, one tag %s", tag);
		struct cg_provider *p2;
		REQUIRE(cg_provider_local.open(&p2, &c, &env2, &err) == 0, "open: %s", err.msg);
		struct cg_resource res;
		memset(&res, 0, sizeof(res));
		struct cg_err e2 = {0};
		int r = cg_provider_local.apply(p2, &CTX, CG_OP_CREATE, nets[0], NULL, &res, &e2);
		CHECK(r != 0 && strstr(e2.msg, "overlaps"), "same range twice: %d %s", r, e2.msg);
		snprintf(br2, sizeof(br2), "/sys/class/net/cgb%s", tag2);
		CHECK(!exists(br2), "second bridge %s created", br2);
		cg_res_clear(&res);
		cg_provider_local.close(p2);
	}
	/* not root: a plain message */
	{
		pid_t pid = fork();
		if (pid == 0) {
			struct cg_provider *p3;
			struct cg_err e3 = {0};
			if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
				_exit(3);
			int r = cg_provider_local.open(&p3, &c, &env, &e3);
			_exit(r != 0 && strstr(e3.msg, "needs root") ? 0 : 1);
		}
		int st;
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "open as non-root: status %d", st);
	}
	/* --- the login account: only one this provider creates or created ---- */
	printf("== login accounts: foreign ones refused, legacy ones adopted\n");
	char u_for[16], u_leg[16], u_race[16], u_per[16];
	snprintf(u_for, sizeof(u_for), "cgf%.8s", tag);
	snprintf(u_per, sizeof(u_per), "cgp%.8s", tag);
	snprintf(u_leg, sizeof(u_leg), "cgl%.8s", tag);
	snprintf(u_race, sizeof(u_race), "cgr%.8s", tag);
	{	/* for run.sh's cleanup */
		char path[600];
		snprintf(path, sizeof(path), "%s/users", STATE);
		FILE *f = fopen(path, "w");
		REQUIRE(f, "cannot write %s", path);
		fprintf(f, "%s\n%s\n%s\n%s\n", u_for, u_leg, u_race, u_per);
		fclose(f);
	}
	/* made like tests/ssh/lib.sh makes its users; and like the provider made
	 * its own before it marked them */
	char home_for[64], home_leg[64];
	snprintf(home_for, sizeof(home_for), "/var/lib/%s", u_for);
	snprintf(home_leg, sizeof(home_leg), "/home/%s", u_leg);
	REQUIRE(RUN(NULL, "useradd", "--system", "--create-home", "--home-dir", home_for,
		    "--shell", "/bin/bash", u_for) == 0 && RUN(NULL, "usermod", "-p", "*", u_for) == 0,
		"useradd %s", u_for);
	REQUIRE(RUN(NULL, "useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
		    home_leg, "--shell", "/bin/bash", "--password", "*", u_leg) == 0, "useradd %s", u_leg);
	/* a person's account whose full name (chfn) reads like our mark */
	REQUIRE(RUN(NULL, "useradd", "--no-create-home", "--shell", "/bin/bash", "--comment",
		    "cassandgo local provider", u_per) == 0, "useradd %s", u_per);
	{
		const char *foreign[] = { "daemon", "bin", u_for, u_per };
		for (int i = 0; i < 4; i++) {
			struct cg_cluster c2 = c;
			c2.ssh_user = (char *)foreign[i];
			struct cg_provider *p2 = NULL;
			struct cg_err e2 = {0};
			int r = cg_provider_local.open(&p2, &c2, &env, &e2);
			CHECK(r != 0 && e2.code == CG_EXIT_CONFIG && strstr(e2.msg, "cluster LocalTest") &&
			      strstr(e2.msg, foreign[i]) && strstr(e2.msg, "did not create") &&
			      strstr(e2.msg, "does not exist yet"),
			      "ssh_user %s (an account not ours): open %d: %s", foreign[i], r, e2.msg);
			if (r == 0)
				cg_provider_local.close(p2);
		}
		struct passwd *fp = getpwnam(u_for);
		CHECK(fp && fp->pw_gecos && !strstr(fp->pw_gecos, "cassandgo"), "%s was marked", u_for);
	}
	{	/* an account made between open and create: refused there, before
		 * anything (namespace, directories) is made for the machine */
		struct cg_cluster c3 = c;
		c3.name = "LocalTestRace";
		c3.ssh_user = u_race;
		char tag3[13], ns3[300];
		cg_local_tag(c3.name, STATE, tag3);
		snprintf(ns3, sizeof(ns3), "/run/netns/cg-%s-DC1-n1", tag3);
		struct cg_provider *p3 = NULL;
		REQUIRE(cg_provider_local.open(&p3, &c3, &env, &err) == 0, "open: %s", err.msg);
		REQUIRE(RUN(NULL, "useradd", "--system", "--no-create-home", "--shell", "/bin/bash",
			    u_race) == 0, "useradd %s", u_race);
		struct cg_resource res;
		memset(&res, 0, sizeof(res));
		struct cg_err e3 = {0};
		int r = cg_provider_local.apply(p3, &CTX, CG_OP_CREATE, ms[0], NULL, &res, &e3);
		CHECK(r != 0 && strstr(e3.msg, u_race) && strstr(e3.msg, "did not create"),
		      "account made after open: create %d: %s", r, e3.msg);
		CHECK(!exists(ns3), "%s made for a refused account", ns3);
		const char *root = getenv("CASSANDGO_LOCAL_ROOT");
		char cdir3[600];
		snprintf(cdir3, sizeof(cdir3), "%s/LocalTestRace-%s", root ? root : "/var/lib/cassandgo",
			 tag3);
		CHECK(!exists(cdir3), "%s made for a refused account", cdir3);
		cg_res_clear(&res);
		cg_provider_local.close(p3);
	}
	{	/* legacy: adopted and marked. Its create stops at the bridge (same
		 * range as ours, refused), after the account step, before any
		 * namespace; its delete removes the directories it made. */
		struct cg_cluster c4 = c;
		c4.name = "LocalTestLegacy";
		c4.ssh_user = u_leg;
		struct cg_provider *p4 = NULL;
		REQUIRE(cg_provider_local.open(&p4, &c4, &env, &err) == 0, "legacy open: %s", err.msg);
		struct cg_resource res;
		memset(&res, 0, sizeof(res));
		struct cg_err e4 = {0};
		int r = cg_provider_local.apply(p4, &CTX, CG_OP_CREATE, ms[0], NULL, &res, &e4);
		CHECK(r != 0 && strstr(e4.msg, "overlaps"), "legacy create: %d %s", r, e4.msg);
		struct passwd *lp = getpwnam(u_leg);
		CHECK(lp && lp->pw_gecos && !strcmp(lp->pw_gecos, "cassandgo local provider"),
		      "legacy account %s not marked: '%s'", u_leg, lp ? lp->pw_gecos : "(gone)");
		cg_res_clear(&res);
		memset(&e4, 0, sizeof(e4));
		r = cg_provider_local.apply(p4, &CTX, CG_OP_DELETE, NULL, ms[0], &res, &e4);
		CHECK(r == 0, "legacy delete: %s", e4.msg);
		cg_res_clear(&res);
		cg_provider_local.close(p4);
	}

	/* --- directories: created 0755 whatever the umask; an existing root
	 * keeps its mode, and one the login user cannot cross is named --------- */
	const char *lroot = getenv("CASSANDGO_LOCAL_ROOT");
	mode_t old_umask = umask(077);
	if (lroot) {
		printf("== a root the login user cannot cross: refused, mode kept\n");
		/* (the legacy delete above removed it when it left it empty) */
		REQUIRE((mkdir(lroot, 0700) == 0 || errno == EEXIST) && chmod(lroot, 0700) == 0,
			"chmod %s: %s", lroot, strerror(errno));
		struct cg_err e5 = {0};
		int r = apply(CG_OP_CREATE, ms[0], &e5);
		struct stat st;
		CHECK(r != 0 && strstr(e5.msg, "cannot reach") && strstr(e5.msg, lroot) &&
		      strstr(e5.msg, "0700"), "create under a 0700 root: %d %s", r, e5.msg);
		CHECK(stat(lroot, &st) == 0 && (st.st_mode & 07777) == 0700,
		      "root %s widened to %o", lroot, st.st_mode & 07777);
		char nspath[300];
		snprintf(nspath, sizeof(nspath), "/run/netns/cg-%s-DC1-n1", tag);
		CHECK(!exists(nspath), "%s made though its directories were refused", nspath);
		/* searchable, not listable: kept so */
		REQUIRE(chmod(lroot, 0711) == 0, "chmod %s", lroot);
	}

	printf("== create 4 machines in parallel\n");
	int64_t t1 = cg_now_ms();
	apply_parallel(CG_OP_CREATE, ms, 4);
	int64_t t2 = cg_now_ms();
	printf("   machines ready in %lld ms (networks+keys %lld ms)\n", (long long)(t2 - t1),
	       (long long)(t1 - t0));

	umask(old_umask);
	struct passwd *pw = getpwnam("cassandgo");
	REQUIRE(pw, "user cassandgo missing");
	CHECK(pw->pw_shell && !strcmp(pw->pw_shell, "/bin/bash"), "shell %s", pw->pw_shell);
	CHECK(pw->pw_gecos && !strcmp(pw->pw_gecos, "cassandgo local provider"),
	      "login account not marked as the provider's: '%s'", pw->pw_gecos);
	if (lroot) {
		struct stat st;
		CHECK(stat(lroot, &st) == 0 && (st.st_mode & 07777) == 0711,
		      "root %s: mode %o, was 0711", lroot, st.st_mode & 07777);
	}
	char *hostkeys[4];
	char *ids[4];
	for (int i = 0; i < 4; i++) {
		struct cg_resource *m = cg_rset_find(&W.set, ms[i]->addr);
		REQUIRE(m && m->id, "%s not recorded", ms[i]->addr);
		ids[i] = cg_xstrdup(m->id);
		const char *ip = cg_res_get(m, "private_ip");
		CHECK(ip && !strcmp(ip, expect_ip[i]), "%s ip %s, want %s", m->addr, ip ? ip : "(null)", expect_ip[i]);
		CHECK(ip && cg_res_get(m, "public_ip") && !strcmp(ip, cg_res_get(m, "public_ip")),
		      "%s public_ip", m->addr);
		const char *hk = cg_res_get(m, "host_key");
		REQUIRE(hk && !strncmp(hk, "ssh-ed25519 AAAA", 16), "%s host_key %s", m->addr, hk ? hk : "(null)");
		hostkeys[i] = cg_xstrdup(hk);
		CHECK(!strcmp(cg_res_get(m, "ssh_port"), "22"), "ssh_port");
		CHECK(!strcmp(cg_res_get(m, "zone"), mzone[i]), "zone kept");
		const char *bd = cg_res_get(m, "base_dir");
		struct stat st;
		/* root's since #11 (bin/, conf/ and run/ are; cgnode, run
		 * through sudo, hands data/, logs/, tmp/ to the run account) */
		CHECK(bd && stat(bd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0,
		      "%s base_dir %s", m->addr, bd ? bd : "(null)");
		if (bd) {	/* made under umask 077: 0755 all the same */
			char *cdir = cg_dirname(bd);
			CHECK(stat(cdir, &st) == 0 && (st.st_mode & 07777) == 0755,
			      "cluster dir %s: mode %o", cdir, st.st_mode & 07777);
			free(cdir);
		}
		char rundir[300];
		snprintf(rundir, sizeof(rundir), "/run/cassandgo/%s", m->id);
		CHECK(stat(rundir, &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
		      "%s: mode %o", rundir, st.st_mode & 07777);
		CHECK(cg_res_get(m, "lib_dir") && strstr(cg_res_get(m, "lib_dir"), "cassandra-5.0.6/lib"),
		      "lib_dir %s", cg_res_get(m, "lib_dir"));
		char nspath[300];
		snprintf(nspath, sizeof(nspath), "/run/netns/%s", m->id);
		CHECK(exists(nspath), "%s missing", nspath);
		char *out = NULL;
		CHECK(RUN(&out, "ip", "-n", m->id, "-4", "-o", "addr", "show", "dev", "eth0") == 0 &&
		      ip && strstr(out, ip), "address of %s: %s", m->id, out);
		free(out);
		out = NULL;
		/* the login user walks down to base_dir but cannot write it */
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "cd '%s' && ! touch .probe 2>/dev/null && echo ok-$(id -un)",
			 bd ? bd : "/nonexistent");
		int r = ssh_to(m, hk, cmd, &out);
		CHECK(r == 0 && strstr(out, "ok-cassandgo"), "ssh %s: exit %d: %s", m->addr, r, out);
		free(out);
	}
	/* all four host keys differ, and a wrong pinned key is refused */
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			CHECK(strcmp(hostkeys[i], hostkeys[j]), "host keys %d and %d equal", i, j);
	{
		struct cg_resource *m = cg_rset_find(&W.set, ms[0]->addr);
		char *out = NULL;
		int r = ssh_to(m, hostkeys[1], "true", &out);
		CHECK(r == 255 && strstr(out, "HOST IDENTIFICATION HAS CHANGED"),
		      "ssh with the wrong pinned key: exit %d: %s", r, out);
		free(out);
	}
	/* nodes reach each other across DCs (one bridge) */
	{
		char *out = NULL;
		struct cg_resource *m = cg_rset_find(&W.set, ms[0]->addr);
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "exec 3<>/dev/tcp/%s/22 && head -c 4 <&3", expect_ip[3]);
		int r = ssh_to(m, hostkeys[0], cmd, &out);
		CHECK(r == 0 && strstr(out, "SSH-"), "DC1.n1 -> DC2.n2:22: exit %d: %s", r, out);
		free(out);
	}

	/* --- idempotent re-create: same node, same key, same sshd ------------ */
	printf("== create again (idempotent)\n");
	char pidpath[300];
	snprintf(pidpath, sizeof(pidpath), "/run/cassandgo/%s/sshd.pid", ids[0]);
	char *pid_before = NULL, *pid_after = NULL;
	size_t len;
	cg_file_read(pidpath, &pid_before, &len, NULL);
	CHECK(apply(CG_OP_CREATE, ms[0], &err) == 0, "re-create: %s", err.msg);
	cg_file_read(pidpath, &pid_after, &len, NULL);
	CHECK(pid_before && pid_after && !strcmp(pid_before, pid_after), "sshd restarted needlessly");
	CHECK(!strcmp(attr_of(&W.set, ms[0]->addr, "host_key"), hostkeys[0]), "host key changed");
	free(pid_before);
	free(pid_after);

	/* --- refresh ----------------------------------------------------------- */
	printf("== refresh\n");
	struct cg_rset live;
	int64_t tr = cg_now_ms();
	refresh(&live, &W.set);
	printf("   refresh of 2 networks, 2 key pairs, 4 machines: %lld ms\n",
	       (long long)(cg_now_ms() - tr));
	CHECK(live.n == 8, "refresh found %d resources, want 8", live.n);
	for (int i = 0; i < 2; i++) {
		CHECK(cg_rset_find(&live, nets[i]->addr), "%s not refreshed", nets[i]->addr);
		CHECK(attr_of(&live, kps[i]->addr, "fingerprint") &&
		      !strcmp(attr_of(&live, kps[i]->addr, "fingerprint"),
			      attr_of(&W.set, kps[i]->addr, "fingerprint")), "%s fingerprint", kps[i]->addr);
	}
	for (int i = 0; i < 4; i++) {
		const char *a = ms[i]->addr;
		CHECK(attr_of(&live, a, "sshd") && !strcmp(attr_of(&live, a, "sshd"), "up"), "%s sshd", a);
		CHECK(attr_of(&live, a, "private_ip") && !strcmp(attr_of(&live, a, "private_ip"), expect_ip[i]),
		      "%s ip", a);
		CHECK(attr_of(&live, a, "host_key") && !strcmp(attr_of(&live, a, "host_key"), hostkeys[i]),
		      "%s host_key", a);
	}
	cg_rset_free(&live);
	/* a state that lost everything still sees the machines, labels included */
	struct cg_rset none;
	cg_rset_init(&none);
	refresh(&live, &none);
	CHECK(attr_of(&live, "network.r2", "name") &&
	      !strcmp(attr_of(&live, "network.r2", "name"), "cassandgo-LocalTest-r2"), "network name");
	CHECK(attr_of(&live, "keypair.r1", "name") &&
	      !strcmp(attr_of(&live, "keypair.r1", "name"), "cassandgo-LocalTest-r1"), "keypair name");
	CHECK(live.n == 8, "refresh without a state found %d, want 8", live.n);
	CHECK(attr_of(&live, ms[1]->addr, "zone") && !strcmp(attr_of(&live, ms[1]->addr, "zone"), "r1-z2"),
	      "zone from the node's own record");
	CHECK(attr_of(&live, ms[3]->addr, "seed") && !strcmp(attr_of(&live, ms[3]->addr, "seed"), "false"),
	      "seed from the node's own record");
	CHECK(cg_rset_find(&live, ms[3]->addr) && cg_rset_find(&live, ms[3]->addr)->region &&
	      !strcmp(cg_rset_find(&live, ms[3]->addr)->region, "r2"), "region");
	cg_rset_free(&live);

	/* --- sshd dies: refresh says down, update restarts it ------------------ */
	printf("== kill one sshd\n");
	snprintf(pidpath, sizeof(pidpath), "/run/cassandgo/%s/sshd.pid", ids[1]);
	char *pids = NULL;
	REQUIRE(cg_file_read(pidpath, &pids, &len, NULL) == 0, "pid file %s", pidpath);
	pid_t spid = (pid_t)atoi(pids);
	free(pids);
	REQUIRE(spid > 1 && kill(spid, SIGKILL) == 0, "kill sshd %d", (int)spid);
	for (int i = 0; i < 100 && kill(spid, 0) == 0; i++)
		usleep(20000);
	refresh(&live, &W.set);
	CHECK(attr_of(&live, ms[1]->addr, "sshd") && !strcmp(attr_of(&live, ms[1]->addr, "sshd"), "down"),
	      "dead sshd reported %s", attr_of(&live, ms[1]->addr, "sshd"));
	CHECK(attr_of(&live, ms[1]->addr, "health") && strstr(attr_of(&live, ms[1]->addr, "health"), "sshd"),
	      "health of a dead sshd: %s", attr_of(&live, ms[1]->addr, "health"));
	CHECK(!strcmp(attr_of(&live, ms[0]->addr, "sshd"), "up"), "others stay up");
	CHECK(!strcmp(attr_of(&live, ms[0]->addr, "health"), "ok"), "others stay healthy");
	cg_rset_free(&live);
	CHECK(apply(CG_OP_UPDATE, ms[1], &err) == 0, "update: %s", err.msg);
	refresh(&live, &W.set);
	CHECK(attr_of(&live, ms[1]->addr, "sshd") && !strcmp(attr_of(&live, ms[1]->addr, "sshd"), "up"),
	      "sshd after update %s", attr_of(&live, ms[1]->addr, "sshd"));
	cg_rset_free(&live);
	{
		char *out = NULL;
		int r = ssh_to(cg_rset_find(&W.set, ms[1]->addr), hostkeys[1], "true", &out);
		CHECK(r == 0, "ssh after restart: exit %d: %s", r, out);
		free(out);
	}

	/* --- parking (cassandgo stop/start): power off ends every process of
	 * the node, sshd included, and keeps its namespace, address and files;
	 * the refresh says parked; the update that starts it brings sshd back */
	printf("== park one node, then start it\n");
	{
		struct cg_resource off;
		cg_res_copy(&off, cg_rset_find(&W.set, ms[1]->addr));
		cg_res_set(&off, "power", "off", 0);
		snprintf(pidpath, sizeof(pidpath), "/run/cassandgo/%s/sshd.pid", ids[1]);
		char *pids1 = NULL;
		REQUIRE(cg_file_read(pidpath, &pids1, &len, NULL) == 0, "pid file %s", pidpath);
		pid_t sp = (pid_t)atoi(pids1);
		free(pids1);
		CHECK(apply(CG_OP_UPDATE, &off, &err) == 0, "power off: %s", err.msg);
		cg_res_clear(&off);
		/* gone, or a zombie its reaper has not collected yet */
		char st1[64], *stat1 = NULL;
		snprintf(st1, sizeof(st1), "/proc/%d/stat", (int)sp);
		bool alive1 = cg_file_read(st1, &stat1, NULL, NULL) == 0 && strrchr(stat1, ')') &&
			      strrchr(stat1, ')')[2] != 'Z';
		free(stat1);
		CHECK(!alive1, "sshd %d survives the power off", (int)sp);
		refresh(&live, &W.set);
		CHECK(attr_of(&live, ms[1]->addr, "power") && !strcmp(attr_of(&live, ms[1]->addr, "power"), "off"),
		      "power of a parked node: %s", attr_of(&live, ms[1]->addr, "power"));
		CHECK(attr_of(&live, ms[1]->addr, "health") && strstr(attr_of(&live, ms[1]->addr, "health"), "parked"),
		      "health of a parked node: %s", attr_of(&live, ms[1]->addr, "health"));
		CHECK(attr_of(&live, ms[1]->addr, "private_ip"), "a parked node keeps its address");
		CHECK(!strcmp(attr_of(&live, ms[0]->addr, "power"), "on"), "others stay on");
		cg_rset_free(&live);
		CHECK(apply(CG_OP_UPDATE, ms[1], &err) == 0, "start: %s", err.msg);
		refresh(&live, &W.set);
		CHECK(!strcmp(attr_of(&live, ms[1]->addr, "power"), "on") &&
		      !strcmp(attr_of(&live, ms[1]->addr, "health"), "ok"),
		      "after start: power %s, health %s", attr_of(&live, ms[1]->addr, "power"),
		      attr_of(&live, ms[1]->addr, "health"));
		cg_rset_free(&live);
		char *out = NULL;
		int r = ssh_to(cg_rset_find(&W.set, ms[1]->addr), hostkeys[1], "true", &out);
		CHECK(r == 0, "ssh after start: exit %d: %s", r, out);
		free(out);
	}

	/* --- half-made machine (veth gone, as after a crash): create finishes it */
	printf("== repair a half-made machine\n");
	{
		char *out = NULL;
		CHECK(RUN(&out, "ip", "-n", ids[2], "link", "del", "dev", "eth0") == 0, "del eth0: %s", out);
		free(out);
		refresh(&live, &W.set);
		CHECK(cg_rset_find(&live, ms[2]->addr) && !strcmp(attr_of(&live, ms[2]->addr, "sshd"), "down"),
		      "machine without a link is down");
		cg_rset_free(&live);
		CHECK(apply(CG_OP_CREATE, ms[2], &err) == 0, "repair: %s", err.msg);
		out = NULL;
		int r = ssh_to(cg_rset_find(&W.set, ms[2]->addr), hostkeys[2], "true", &out);
		CHECK(r == 0, "ssh after repair: exit %d: %s", r, out);
		free(out);
	}

	/* the bridge removed behind our back: networks vanish from the refresh,
	 * machines turn unhealthy; create + update bring everything back */
	printf("== bridge removed behind our back\n");
	{
		char *out = NULL;
		CHECK(RUN(&out, "ip", "link", "del", "dev", bridge + strlen("/sys/class/net/")) == 0,
		      "del bridge: %s", out);
		free(out);
		refresh(&live, &W.set);
		CHECK(!cg_rset_find(&live, nets[0]->addr), "network reported without its bridge");
		for (int i = 0; i < 4; i++)
			CHECK(attr_of(&live, ms[i]->addr, "health") &&
			      strcmp(attr_of(&live, ms[i]->addr, "health"), "ok"),
			      "%s healthy without a bridge", ms[i]->addr);
		cg_rset_free(&live);
		apply_parallel(CG_OP_CREATE, nets, 2);
		apply_parallel(CG_OP_UPDATE, ms, 4);
		refresh(&live, &W.set);
		for (int i = 0; i < 4; i++)
			CHECK(attr_of(&live, ms[i]->addr, "health") &&
			      !strcmp(attr_of(&live, ms[i]->addr, "health"), "ok"),
			      "%s after repair: %s", ms[i]->addr, attr_of(&live, ms[i]->addr, "health"));
		cg_rset_free(&live);
	}

	/* a process left running on a node (as Cassandra will be) */
	pid_t stray = 0;
	{
		char *out = NULL;
		int r = ssh_to(cg_rset_find(&W.set, ms[3]->addr), hostkeys[3],
			       "sleep 600 </dev/null >/dev/null 2>&1 & echo $!", &out);
		CHECK(r == 0 && (stray = (pid_t)atoi(out)) > 1, "start a stray process: %s", out);
		free(out);
	}

	/* --- delete everything --------------------------------------------------- */
	printf("== delete all\n");
	int64_t t3 = cg_now_ms();
	apply_parallel(CG_OP_DELETE, ms, 4);
	apply_parallel(CG_OP_DELETE, kps, 2);
	apply_parallel(CG_OP_DELETE, nets, 2);
	printf("   deleted in %lld ms\n", (long long)(cg_now_ms() - t3));
	CHECK(W.set.n == 0, "%d resources left recorded", W.set.n);
	CHECK(!exists(bridge), "bridge %s left", bridge);
	for (int i = 0; i < 4; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/run/netns/%s", ids[i]);
		CHECK(!exists(path), "%s left", path);
		snprintf(path, sizeof(path), "/run/cassandgo/%s", ids[i]);
		CHECK(!exists(path), "%s left", path);
		CHECK(procs_mentioning(ids[i]) == 0, "a process of %s is left", ids[i]);
	}
	{
		DIR *d = opendir("/sys/class/net");
		struct dirent *e;
		char *out = NULL;
		/* our veths are the only cgv* on the bridge; none may remain unattached
		 * to a namespace of ours: count links whose peer was ours */
		RUN(&out, "ip", "-o", "link", "show", "type", "veth");
		int left = 0;
		for (int i = 0; i < 4; i++) {
			char h[17], veth[20];
			cg_hash_hex(cg_hash64(ids[i], strlen(ids[i])), h);
			snprintf(veth, sizeof(veth), "cgv%.12s", h);
			left += strstr(out, veth) != NULL;
		}
		CHECK(left == 0, "%d veth left: %s", left, out);
		free(out);
		if (d)
			closedir(d);
		(void)e;
	}
	CHECK(stray > 1 && !alive(stray), "stray process %d survived", (int)stray);
	{
		char path[600];
		snprintf(path, sizeof(path), "%s/keys", STATE);
		CHECK(!exists(path), "%s left", path);
		const char *root = getenv("CASSANDGO_LOCAL_ROOT");
		if (root) {
			DIR *d = opendir(root);
			int n = 0;
			struct dirent *e;
			while (d && (e = readdir(d)))
				n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
			if (d)
				closedir(d);
			CHECK(n == 0, "%d entries left in %s", n, root);
		}
	}
	refresh(&live, &W.set);
	CHECK(live.n == 0, "refresh after delete found %d", live.n);
	cg_rset_free(&live);
	/* deleting again is a no-op, not an error */
	apply_parallel(CG_OP_DELETE, ms, 1);

	for (int i = 0; i < 4; i++) {
		free(hostkeys[i]);
		free(ids[i]);
	}
	cg_rset_free(&desired);
	cg_rset_free(&W.set);
	cg_provider_local.close(P);
	unlink(KH);
	RUN(NULL, "userdel", "-r", u_for);
	RUN(NULL, "userdel", "-r", u_leg);
	RUN(NULL, "userdel", "-r", u_race);
	RUN(NULL, "userdel", "-r", u_per);
	printf("local provider test: %s (%d failures), total %lld ms\n", failures ? "FAILED" : "ok",
	       failures, (long long)(cg_now_ms() - t0));
	return failures ? 1 : 0;
}
