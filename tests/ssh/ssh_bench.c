/*
 * ssh_bench.c - how fast the SSH layer reaches many machines (tests/ssh/
 * bench.sh sets up the hosts; same environment as ssh_integ plus
 * CG_BENCH_BASE, the directory holding each host's node dir <name>/).
 * Prints: serial connect+exec rate, the same with a pool of threads, and the
 * bootstrap provider's refresh of all hosts (cgnode status on each).
 * Exits non-zero when any host cannot be reached or refresh misses one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../providers/ssh/bootstrap.h"
#include "../../providers/ssh/ssh.h"

#define MAXH 256
static struct {
	char *name, *addr, *hostkey;
} H[MAXH];
static int NH;
static const char *KEY, *USER, *TMP;
static char *KH;

static int one(int i, struct cg_err *e)
{
	struct cg_ssh_target t = {
		.name = H[i].name, .alias = H[i].name, .host = H[i].addr, .user = USER,
		.key_file = KEY, .host_key = H[i].hostkey, .known_hosts = KH,
		.connect_timeout_ms = 20000, .io_timeout_ms = 20000,
	};
	struct cg_ssh *s;
	int64_t a = cg_now_ms();
	if (cg_ssh_connect(&t, &s, e))
		return -1;
	int64_t b = cg_now_ms();
	int rc = cg_ssh_run(s, "true", NULL, 0, 20000, NULL, e);
	int64_t c = cg_now_ms();
	cg_ssh_close(s);
	if (getenv("CG_BENCH_TRACE"))
		fprintf(stderr, "%s: connect %lld exec %lld close %lld ms\n", H[i].name,
			(long long)(b - a), (long long)(c - b), (long long)(cg_now_ms() - c));
	return rc;
}

static int next_i, failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		int i = next_i < NH ? next_i++ : -1;
		pthread_mutex_unlock(&mu);
		if (i < 0)
			return NULL;
		struct cg_err e = {0};
		if (one(i, &e)) {
			pthread_mutex_lock(&mu);
			failures++;
			fprintf(stderr, "%s\n", e.msg);
			pthread_mutex_unlock(&mu);
		}
	}
}

static int load(void)
{
	const char *hosts = getenv("CG_SSH_HOSTS"), *kd = getenv("CG_SSH_KEYDIR");
	KEY = getenv("CG_SSH_KEY");
	USER = getenv("CG_SSH_USER");
	TMP = getenv("CG_SSH_TMP");
	if (!hosts || !kd || !KEY || !USER || !TMP || !getenv("CG_BENCH_BASE"))
		return -1;
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
		struct cg_err e;
		if (cg_file_read(p, &H[NH].hostkey, NULL, &e))
			return -1;
		H[NH].hostkey[strcspn(H[NH].hostkey, "\n")] = 0;
		free(p);
		NH++;
	}
	free(dup);
	KH = cg_xasprintf("%s/known_hosts", TMP);
	return 0;
}

int main(void)
{
	if (load()) {
		fprintf(stderr, "ssh_bench: run me from tests/ssh/bench.sh\n");
		return 2;
	}
	struct cg_err e = {0};
	int rc = 0;

	int64_t t0 = cg_now_ms();
	for (int i = 0; i < NH; i++)
		if (one(i, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			rc = 1;
		}
	int64_t serial = cg_now_ms() - t0;
	printf("serial:   %d hosts, connect+exec+close each: %lld ms (%.0f hosts/s)\n", NH,
	       (long long)serial, NH * 1000.0 / (double)(serial ? serial : 1));

	enum { THREADS = 16 };
	pthread_t th[THREADS];
	t0 = cg_now_ms();
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	int64_t par = cg_now_ms() - t0;
	printf("parallel: %d hosts, %d threads: %lld ms (%.0f hosts/s, %.1fx serial)\n", NH, THREADS,
	       (long long)par, NH * 1000.0 / (double)(par ? par : 1),
	       (double)serial / (double)(par ? par : 1));
	rc |= failures != 0;

	/* The bootstrap provider's refresh: cgnode status on every machine. */
	struct cg_cluster c;
	struct cg_dc dc;
	memset(&c, 0, sizeof(c));
	memset(&dc, 0, sizeof(dc));
	dc.name = "DC1";
	dc.region = "bench";
	dc.nodes = NH;
	dc.seeds = 1;
	c.name = "Bench";
	c.ssh_user = (char *)USER;
	c.ssh_address = CG_SSH_PRIVATE;
	c.dcs = &dc;
	c.ndcs = 1;
	struct cg_env env;
	memset(&env, 0, sizeof(env));
	env.cluster_dir = TMP;
	struct cg_rset known, live;
	cg_rset_init(&known);
	cg_rset_init(&live);
	for (int i = 0; i < NH; i++) {
		char *a = cg_addr_node(CG_KIND_MACHINE, "DC1", i + 1);
		struct cg_resource *m = cg_rset_new(&known, CG_KIND_MACHINE, a);
		free(a);
		m->region = cg_xstrdup("bench");
		m->dc = cg_xstrdup("DC1");
		m->node = i + 1;
		cg_res_set_id(m, H[i].name);
		cg_res_set(m, "private_ip", H[i].addr, 0);
		cg_res_set(m, "host_key", H[i].hostkey, 0);
		cg_res_setf(m, "base_dir", 0, "%s/%s", getenv("CG_BENCH_BASE"), H[i].name);
	}
	struct cg_resource *kp = cg_rset_new(&known, CG_KIND_KEYPAIR, "keypair.bench");
	kp->region = cg_xstrdup("bench");
	cg_res_set(kp, "key_file", KEY, 0);
	struct cg_provider *p;
	const struct cg_provider_ops *ops = &cg_provider_bootstrap_ssh;
	if (ops->open(&p, &c, &env, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	t0 = cg_now_ms();
	if (ops->refresh(p, &known, &live, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		rc = 1;
	}
	int64_t ref = cg_now_ms() - t0;
	int configs = 0;
	for (int i = 0; i < live.n; i++)
		configs += live.v[i].kind == CG_KIND_CONFIG;
	printf("refresh:  %d machines (cgnode status each): %lld ms, %d configs seen\n", NH,
	       (long long)ref, configs);
	if (configs != NH)
		rc = 1;
	ops->close(p);
	cg_rset_free(&known);
	cg_rset_free(&live);
	for (int i = 0; i < NH; i++)
		free(H[i].name), free(H[i].addr), free(H[i].hostkey);
	free(KH);
	return rc;
}
