/*
 * cmd_stress.c - `stress CLUSTER`: load on a running cluster with latte,
 * one client per DC against its own DC, then a table, summary.json and
 * report.html in results/CLUSTER/TIMESTAMP/ beside the state directory.
 *
 * Where the clients run: on the local provider each in a client namespace
 * of its DC (providers/local: cg_local_client_up), made for the run and
 * removed after it; on AWS on the DC's load node (stress_aws.c). The pure
 * half (script, report reading, the renderings) is planner/stress.c.
 *
 * Secrets: the superuser's password reaches latte in its environment
 * (CASSANDRA_PASSWORD; never its command line, which `ps` shows), and latte
 * writes it into its report: every file goes through a private 0700
 * directory and is scrubbed before it is copied to the results folder, which
 * is then checked for the password once more.
 */
#include "stress.h"
#include "../providers/local/local.h"
#include "../providers/ssh/node.h"
#include "../providers/tls/tls.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* One DC's client. */
struct client {
	const char *dc;
	char addr[INET_ADDRSTRLEN];
	char **nodes;		/* the DC's node addresses (latte's contact points) */
	int nnodes;
	pid_t pid;
	int fd;			/* latte's stdout+stderr */
	struct cg_buf out;	/* all of it (DC.log, scrubbed) */
	size_t line_start;	/* first byte of the unfinished line in out */
	struct cg_stress_sample live;
	bool have_live;
	uint64_t live_errors;
	int status;		/* exit code, 128+signal, -1 = not run */
};

#define opts stress_opts

double stress_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dc", required_argument, NULL, 'd' },
		{ "workload", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 't' },
		{ "consistency", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->rate = 1000;
	o->duration = 30;
	o->consistency = "LOCAL_QUORUM";
	opterr = 0;
	int ch;
	char *end;
	/* options before or after CLUSTER (GNU getopt permutes) */
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->dcs = cg_xrealloc(o->dcs, (size_t)(o->ndcs + 1) * sizeof(char *));
			o->dcs[o->ndcs++] = optarg;
			break;
		case 'w':
			if (cg_stress_workload_parse(optarg, &o->workload) < 0)
				return cli_usage("stress", "--workload: \"%s\": expected write, read or "
						 "mixed", optarg);
			break;
		case 'r':
			errno = 0;
			o->rate = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o->rate > 0) || o->rate > 1e7)
				return cli_usage("stress", "--rate: \"%s\": expected operations per "
						 "second per DC, > 0 and <= 10000000", optarg);
			break;
		case 't': {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > 86400)
				return cli_usage("stress", "--duration: \"%s\": expected seconds, 1 to "
						 "86400", optarg);
			o->duration = (int)v;
			break;
		}
		case 'c':
			o->consistency = cg_stress_consistency(optarg);
			if (!o->consistency)
				return cli_usage("stress", "--consistency: \"%s\": expected ONE, TWO, "
						 "THREE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
						 "EACH_QUORUM or ANY", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		default:
			return cli_usage("stress", "unknown option %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage("stress", "expected CLUSTER");
	o->cluster = argv[optind];
	return 0;
}

/* Every --dc is a DC of the cluster (else: the valid names); none = all. */
static int pick_dcs(const struct cg_cluster *c, struct opts *o, struct cg_err *err)
{
	struct cg_buf valid = {0};
	for (int i = 0; i < c->ndcs; i++)
		cg_buf_addf(&valid, "%s%s", i ? ", " : "", c->dcs[i].name);
	for (int i = 0; i < o->ndcs; i++) {
		bool found = false;
		for (int d = 0; d < c->ndcs && !found; d++)
			found = !strcmp(o->dcs[i], c->dcs[d].name);
		for (int j = 0; j < i && found; j++)
			if (!strcmp(o->dcs[i], o->dcs[j])) {
				cg_error(err, CG_EXIT_USAGE, "--dc %s given twice", o->dcs[i]);
				cg_buf_free(&valid);
				return -1;
			}
		if (!found) {
			cg_error(err, CG_EXIT_USAGE, "%s has no datacenter \"%s\"; its datacenters: %s",
				 c->name, o->dcs[i], valid.data);
			cg_buf_free(&valid);
			return -1;
		}
	}
	cg_buf_free(&valid);
	if (!o->ndcs)
		for (int d = 0; d < c->ndcs; d++) {
			o->dcs = cg_xrealloc(o->dcs, (size_t)(o->ndcs + 1) * sizeof(char *));
			o->dcs[o->ndcs++] = c->dcs[d].name;
		}
	return 0;
}

/* latte names a DC as the client asks and never checks it (traffic then
 * fails over to other DCs): each DC must be in the ring, with a node up. */
static int check_ring(const struct ops *ops, const struct opts *o, struct cg_err *err)
{
	struct cg_ring ring;
	char *from = NULL;
	if (ops_ring(ops, &ring, &from, err) < 0)
		return cg_error_wrap(err, "%s is not up (cannot stress it)", ops->c->name);
	int rc = 0;
	for (int i = 0; i < o->ndcs && rc == 0; i++) {
		int up = 0, seen = 0;
		for (int n = 0; n < ring.n; n++)
			if (!strcmp(ring.v[n].dc, o->dcs[i])) {
				seen++;
				up += ring.v[n].status == 'U' && ring.v[n].state == 'N';
			}
		if (!seen || !up) {
			struct cg_buf names = {0};
			for (int n = 0; n < ring.n; n++)
				if (!names.data || !strstr(names.data, ring.v[n].dc))
					cg_buf_addf(&names, "%s%s", names.len ? ", " : "", ring.v[n].dc);
			rc = cg_error(err, CG_EXIT_ERROR, "datacenter %s %s in the ring as %s sees it "
				      "(its DCs: %s)", o->dcs[i], seen ? "has no node up and normal" :
				      "is not", from, names.data ? names.data : "none");
			cg_buf_free(&names);
		}
	}
	cg_ring_free(&ring);
	free(from);
	return rc;
}

/* $CASSANDGO_LATTE, else the cache tests/deps.d/stress.sh builds into. */
static char *latte_path(struct cg_err *err)
{
	const char *env = getenv("CASSANDGO_LATTE");
	const char *cache = getenv("CASSANDGO_CASSANDRA_CACHE");
	char *p = env && *env ? cg_xstrdup(env)
			      : cg_xasprintf("%s/latte-%s/bin/latte",
					     cache && *cache ? cache : "/var/cache/cassandgo",
					     CG_STRESS_LATTE_VERSION);
	if (access(p, X_OK) != 0) {
		cg_error(err, CG_EXIT_ERROR, "latte %s is not installed at %s (%s): 'make deps' "
			 "builds it once (about 13 minutes), or set CASSANDGO_LATTE",
			 CG_STRESS_LATTE_VERSION, p, strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

/* results/CLUSTER/TIMESTAMP beside the state directory (it outlives
 * destroy, which removes only what the state holds). Absolute. */
static char *results_dir(const struct cg_cli *cli, const char *cluster, char stamp[32],
			 struct cg_err *err)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, 32, "%Y%m%dT%H%M%SZ", &tm);
	char *parent = cg_dirname(cli->state_dir);
	char *base = ops_abs_path(parent);
	free(parent);
	char *dir = cg_xasprintf("%s/results/%s/%s", base, cluster, stamp);
	/* two runs in one second: -2, -3, ... */
	for (int i = 2; access(dir, F_OK) == 0 && i < 100; i++) {
		free(dir);
		dir = cg_xasprintf("%s/results/%s/%s-%d", base, cluster, stamp, i);
	}
	free(base);
	if (cg_mkdir_p(dir, 0755, err) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* The environment latte gets: ours without CASSANDRA_*, plus the
 * credentials (NULL user: none). Strings of the array are the caller's. */
static char **latte_env(const char *user, const char *password)
{
	int n = 0;
	while (environ[n])
		n++;
	char **v = cg_xcalloc((size_t)n + 3, sizeof(char *));
	int k = 0;
	for (int i = 0; i < n; i++)
		if (strncmp(environ[i], "CASSANDRA_", 10))
			v[k++] = cg_xstrdup(environ[i]);
	if (user) {
		v[k++] = cg_xasprintf("CASSANDRA_USER=%s", user);
		v[k++] = cg_xasprintf("CASSANDRA_PASSWORD=%s", password);
	}
	return v;
}

static void strv_free(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* latte's connection arguments, appended to args (n so far): TLS with the
 * cluster's CA, the DC, the consistency, the DC's nodes. */
static int conn_args(char **args, int n, const struct cg_cluster *c, const char *ca,
		     const struct client *cl, const char *consistency)
{
	/* consistency NULL: `latte schema`, which takes none */
	if (!c->security_off) {
		args[n++] = cg_xstrdup("--ssl");
		args[n++] = cg_xstrdup("--ssl-ca");
		args[n++] = cg_xstrdup(ca);
	}
	args[n++] = cg_xstrdup("--datacenter");
	args[n++] = cg_xstrdup(cl->dc);
	if (consistency) {
		args[n++] = cg_xstrdup("--consistency");
		args[n++] = cg_xstrdup(consistency);
	}
	for (int i = 0; i < cl->nnodes; i++)
		args[n++] = cg_xstrdup(cl->nodes[i]);
	return n;
}

/* Read what is ready on cl->fd into cl->out; parse finished lines for the
 * live figures. Returns false at end of file. */
static bool drain(struct client *cl)
{
	char buf[8192];
	ssize_t r = read(cl->fd, buf, sizeof(buf));
	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0)
		return false;
	cg_buf_add(&cl->out, buf, (size_t)r);
	for (;;) {
		char *nl = memchr(cl->out.data + cl->line_start, '\n', cl->out.len - cl->line_start);
		if (!nl)
			break;
		char *line = cg_xstrndup(cl->out.data + cl->line_start,
					 (size_t)(nl - (cl->out.data + cl->line_start)));
		struct cg_stress_sample s;
		if (cg_stress_live_parse(line, &s)) {
			cl->live = s;
			cl->have_live = true;
			cl->live_errors += s.errors;
		}
		free(line);
		cl->line_start = (size_t)(nl - cl->out.data) + 1;
	}
	return true;
}

static void live_line(const struct client *cl, struct cg_buf *b)
{
	if (!cl->have_live)
		cg_buf_addf(b, "%-12s connecting...\n", cl->dc);
	else
		cg_buf_addf(b, "%-12s %6.0fs %10.0f op/s   p99 %8.2f ms   errors %llu\n", cl->dc,
			    cl->live.t_s, cl->live.ops_per_s, cl->live.p99_ms,
			    (unsigned long long)cl->live_errors);
}

/* Wait for every client, printing a live line per DC: redrawn in place on
 * a terminal, else every 5 s. Ctrl-C or the deadline stops them. h: the
 * hooks of `run` (tick), or NULL. */
static void run_clients(struct cg_cli *cli, struct client *cls, int n, int64_t deadline_ms,
			bool quiet, bool *interrupted, const struct stress_hooks *h)
{
	double load_start = 0;
	if (n <= 0)
		return;
	struct pollfd *pf = cg_xcalloc((size_t)n, sizeof(*pf));
	int open_fds = n, drawn = 0;
	int64_t last_print = cg_now_ms();
	bool killed = false;
	while (open_fds) {
		for (int i = 0; i < n; i++) {
			pf[i].fd = cls[i].fd;
			pf[i].events = POLLIN;
		}
		int r = poll(pf, (nfds_t)n, 500);
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && r > 0; i++) {
			bool had = cls[i].have_live;
			if (pf[i].fd >= 0 && pf[i].revents && !drain(&cls[i])) {
				close(cls[i].fd);
				cls[i].fd = -1;
				open_fds--;
			}
			/* the load began the sample's time before its line came */
			if (!had && cls[i].have_live) {
				double st = stress_wall_now() - cls[i].live.t_s;
				if (!load_start || st < load_start)
					load_start = st;
			}
		}
		struct cg_buf above = {0};
		if (h && h->tick)
			h->tick(h->arg, load_start, &above);
		if (!killed && ((cli->interrupted && *cli->interrupted) || cg_now_ms() > deadline_ms)) {
			*interrupted = cli->interrupted && *cli->interrupted;
			for (int i = 0; i < n; i++)
				if (cls[i].pid > 0)
					kill(-cls[i].pid, SIGKILL);
			killed = true;
		}
		if (quiet) {
			if (above.data)
				fputs(above.data, stderr);
			cg_buf_free(&above);
			continue;
		}
		struct cg_buf b = {0};
		if (cli->stdout_tty) {
			if (drawn)
				cg_buf_addf(&b, "\033[%dA", drawn);
			for (char *l = above.data; l && *l;) {	/* above the live lines */
				char *nl = strchr(l, '\n');
				size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
				cg_buf_adds(&b, "\033[2K");
				cg_buf_add(&b, l, len);
				l += len;
			}
			for (int i = 0; i < n; i++) {
				cg_buf_adds(&b, "\033[2K");
				live_line(&cls[i], &b);
			}
			drawn = n;
		} else {
			if (above.data)
				cg_buf_adds(&b, above.data);
			if (cg_now_ms() - last_print >= 5000) {
				for (int i = 0; i < n; i++)
					live_line(&cls[i], &b);
				last_print = cg_now_ms();
			}
		}
		cg_buf_free(&above);
		if (b.data) {
			fputs(b.data, stdout);
			fflush(stdout);
		}
		cg_buf_free(&b);
	}
	free(pf);
	for (int i = 0; i < n; i++) {
		if (cls[i].fd >= 0)
			close(cls[i].fd);
		cls[i].fd = -1;
		int ws;
		while (cls[i].pid > 0 && waitpid(cls[i].pid, &ws, 0) < 0 && errno == EINTR)
			;
		if (cls[i].pid > 0)
			cls[i].status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
}

/* The last lines of a client's output, for an error message. */
static const char *tail_of(const struct cg_buf *b, int lines)
{
	if (!b->data)
		return "(no output)";
	const char *p = b->data + b->len;
	while (p > b->data && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	for (int seen = 0; p > b->data; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	return p;
}

/* Read a file of the private directory, scrub the password, write it to
 * the results directory; *text keeps the scrubbed copy when wanted. */
static int publish(const char *from, const char *to, const char *password, char **text,
		   size_t *len, struct cg_err *err)
{
	char *s = NULL;
	size_t n = 0;
	if (cg_file_read(from, &s, &n, err) < 0)
		return -1;
	cg_stress_scrub(&s, &n, password);
	int rc = cg_file_write_atomic(to, s, n, 0644, err);
	if (text && rc == 0) {
		*text = s;
		*len = n;
	} else {
		free(s);
	}
	return rc;
}

/* Once more, every file of dir: none may hold the password. */
static int check_clean(const char *dir, const char *password, struct cg_err *err)
{
	if (!password || !*password)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return cg_error(err, CG_EXIT_ERROR, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) && rc == 0) {
		if (e->d_name[0] == '.')
			continue;
		char *p = cg_xasprintf("%s/%s", dir, e->d_name);
		char *s = NULL;
		size_t n = 0;
		struct cg_err ignore = {0};
		if (cg_file_read(p, &s, &n, &ignore) == 0 && memmem(s, n, password, strlen(password))) {
			unlink(p);
			rc = cg_error(err, CG_EXIT_ERROR, "%s held the password: removed", p);
		}
		free(s);
		free(p);
	}
	closedir(d);
	return rc;
}

static void rm_private(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = cg_xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Private directories of runs killed before they cleaned up (their
 * process is gone): they may hold a report with the password. */
static void rm_stale(const char *cluster_dir)
{
	DIR *d = opendir(cluster_dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, "stress.", 7))
			continue;
		long pid = strtol(e->d_name + 7, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *p = cg_xasprintf("%s/%s", cluster_dir, e->d_name);
		rm_private(p);
		free(p);
	}
	if (d)
		closedir(d);
}

struct run {
	struct cg_cli *cli;
	struct opts o;
	struct ops ops;
	struct cg_provider *local;
	struct client *cls;
	char *latte, *ca, *password, *results, *priv, *script;
	char **env;
	/* aws: each client's load node (NULL: local namespaces) */
	struct stress_loader *ld;
	/* latte, its log directory, the script and the CA as the clients see
	 * them: this machine's paths, or the load nodes' */
	const char *c_latte, *c_priv, *c_script, *c_ca;
	char stamp[32];
	char started[32];	/* ISO-8601 UTC */
};

/* Start argv as client i: in its DC's namespace, or on its load node. */
static pid_t client_spawn(struct run *r, int i, char **args, int *fd, struct cg_err *err)
{
	if (r->ld)
		return stress_loader_spawn(&r->ops, &r->ld[i], args,
					   r->ops.c->security_off ? NULL : CG_SUPERUSER, r->password,
					   fd, err);
	return cg_local_client_spawn(r->local, r->cls[i].dc, r->priv, args, r->env, fd, err);
}

/* Schema once, from the first client: the keyspace over every DC. */
static int make_schema(struct run *r, struct cg_err *err)
{
	struct client *cl = &r->cls[0];
	char **args = cg_xcalloc(16 + (size_t)cl->nnodes, sizeof(char *));
	int n = 0;
	args[n++] = cg_xstrdup(r->c_latte);
	args[n++] = cg_xstrdup("--log-dir");
	args[n++] = cg_xstrdup(r->c_priv);
	args[n++] = cg_xstrdup("schema");
	args[n++] = cg_xstrdup(r->c_script);
	conn_args(args, n, r->ops.c, r->c_ca, cl, NULL);
	struct client sc = *cl;
	memset(&sc.out, 0, sizeof(sc.out));
	sc.line_start = 0;
	sc.status = -1;
	sc.pid = client_spawn(r, 0, args, &sc.fd, err);
	strv_free(args);
	if (sc.pid < 0)
		return -1;
	bool intr = false;
	run_clients(r->cli, &sc, 1, cg_now_ms() + 120000, true, &intr, NULL);
	int rc = 0;
	if (sc.status != 0) {
		char *out = sc.out.data ? cg_xstrdup(tail_of(&sc.out, 5)) : cg_xstrdup("");
		size_t l = strlen(out);
		cg_stress_scrub(&out, &l, r->password);
		rc = cg_error(err, CG_EXIT_ERROR, "latte schema (keyspace %s) failed with exit %d%s: %s",
			      CG_STRESS_KEYSPACE, sc.status, intr ? " (interrupted)" : "", out);
		free(out);
	}
	cg_buf_free(&sc.out);
	return rc;
}

static int start_runs(struct run *r, struct cg_err *err)
{
	char rate[32], dur[32];
	snprintf(rate, sizeof(rate), "%.6g", r->o.rate);
	snprintf(dur, sizeof(dur), "%ds", r->o.duration);
	for (int i = 0; i < r->o.ndcs; i++) {
		struct client *cl = &r->cls[i];
		char **args = cg_xcalloc(32 + (size_t)cl->nnodes, sizeof(char *));
		int n = 0;
		args[n++] = cg_xstrdup(r->c_latte);
		args[n++] = cg_xstrdup("--log-dir");
		args[n++] = cg_xstrdup(r->c_priv);
		args[n++] = cg_xstrdup("--log-file");
		args[n++] = cg_xasprintf("%s.latte.log", cl->dc);
		args[n++] = cg_xstrdup("run");
		args[n++] = cg_xstrdup(r->c_script);
		args[n++] = cg_xstrdup("-q");
		args[n++] = cg_xstrdup("-f");
		args[n++] = cg_xstrdup(cg_stress_functions(r->o.workload));
		args[n++] = cg_xstrdup("-r");
		args[n++] = cg_xstrdup(rate);
		args[n++] = cg_xstrdup("-d");
		args[n++] = cg_xstrdup(dur);
		args[n++] = cg_xstrdup("--tag");
		args[n++] = cg_xasprintf("cassandgo,%s", cl->dc);
		args[n++] = cg_xstrdup("-o");
		args[n++] = cg_xasprintf("%s/%s.json", r->c_priv, cl->dc);
		/* Every request of the workload is idempotent (an INSERT or a
		 * SELECT by key): retried as a well-configured driver does, also
		 * when its connection breaks (a killed coordinator), not only
		 * on a timeout. What fails after latte's 3 retries is what an
		 * application would see. */
		args[n++] = cg_xstrdup("--retry-on-all-errors");
		conn_args(args, n, r->ops.c, r->c_ca, cl, r->o.consistency);
		cl->pid = client_spawn(r, i, args, &cl->fd, err);
		strv_free(args);
		if (cl->pid < 0)
			return cg_error_wrap(err, "latte run for %s", cl->dc);
	}
	return 0;
}

/* After the runs: each DC's report and output into the results folder,
 * scrubbed; results[] filled. */
static int collect(struct run *r, struct cg_stress_result *res, bool interrupted,
		   struct cg_err *err)
{
	for (int i = 0; i < r->o.ndcs; i++) {
		struct client *cl = &r->cls[i];
		/* scrubbed in place: the log and any error message come from it */
		size_t ol = cl->out.len;
		char *out = cl->out.data ? cg_buf_detach(&cl->out) : cg_xstrdup("");
		cg_stress_scrub(&out, &ol, r->password);
		cg_buf_add(&cl->out, out, ol);
		free(out);
		char *logp = cg_xasprintf("%s/%s.log", r->results, cl->dc);
		int wrc = cg_file_write_atomic(logp, cl->out.data ? cl->out.data : "", cl->out.len,
					       0644, err);
		free(logp);
		if (wrc < 0)
			return -1;
		/* a load node's reports come to the private directory first: after
		 * a run that ended, its log at least (what went wrong); nothing
		 * after Ctrl-C (the cleanup that stops latte there comes first) */
		if (r->ld && !interrupted) {
			bool ended = cl->status == 0;
			char *names[2] = { cg_xasprintf("%s.latte.log", cl->dc),
					   cg_xasprintf("%s.json", cl->dc) };
			struct cg_err fe = {0};
			int frc = stress_loader_fetch(&r->ops, &r->ld[i], (const char *const *)names,
						      ended ? 2 : 1, r->priv, ended ? err : &fe);
			free(names[0]);
			free(names[1]);
			if (frc < 0 && ended)
				return cg_error_wrap(err, "fetching %s's results from %s", cl->dc,
						     r->ld[i].m->addr);
		}
		char *lp = cg_xasprintf("%s/%s.latte.log", r->priv, cl->dc);
		char *lq = cg_xasprintf("%s/%s.latte.log", r->results, cl->dc);
		struct cg_err ignore = {0};
		if (access(lp, F_OK) == 0)
			publish(lp, lq, r->password, NULL, NULL, &ignore);
		free(lp);
		free(lq);
		if (interrupted)
			return cg_error(err, CG_EXIT_ERROR, "interrupted: the clients were stopped; "
					"their output is in %s", r->results);
		if (cl->status != 0)
			return cg_error(err, CG_EXIT_ERROR, "latte in %s exited with %d%s; its last "
					"output (all of it in %s/%s.log):\n%s", cl->dc, cl->status,
					cl->status == 137 ? " (killed: it ran past the deadline)" : "",
					r->results, cl->dc, tail_of(&cl->out, 6));
		char *from = cg_xasprintf("%s/%s.json", r->priv, cl->dc);
		char *to = cg_xasprintf("%s/%s.json", r->results, cl->dc);
		char *text = NULL;
		size_t len = 0;
		int rc = publish(from, to, r->password, &text, &len, err);
		if (rc == 0 && cg_stress_report_parse(text, len, &res[i], err) < 0)
			rc = cg_error_wrap(err, "%s", to);
		free(text);
		free(from);
		free(to);
		if (rc < 0)
			return -1;
		res[i].dc = cg_xstrdup(cl->dc);
	}
	return 0;
}

static void run_free(struct run *r)
{
	for (int i = 0; r->cls && i < r->o.ndcs; i++) {
		struct client *cl = &r->cls[i];
		if (cl->pid > 0 && cl->status < 0) {
			kill(-cl->pid, SIGKILL);
			waitpid(cl->pid, NULL, 0);
		}
		if (cl->fd >= 0)
			close(cl->fd);
		for (int k = 0; k < cl->nnodes; k++)
			free(cl->nodes[k]);
		free(cl->nodes);
		cg_buf_free(&cl->out);
	}
	free(r->cls);
	for (int i = 0; r->ld && i < r->o.ndcs; i++)
		stress_loader_free(&r->ld[i]);
	free(r->ld);
	if (r->priv) {
		rm_private(r->priv);
		free(r->priv);
	}
	if (r->password) {	/* not left in freed memory */
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	strv_free(r->env);
	free(r->latte);
	free(r->ca);
	free(r->results);
	free(r->script);
	free(r->o.dcs);
}

/* Client namespaces down, or the load nodes' run directories removed (each,
 * whatever failed). */
static void clients_down(struct run *r, struct cg_err *err)
{
	for (int i = 0; r->ld && i < r->o.ndcs; i++) {
		struct cg_err e = {0};
		if (stress_loader_cleanup(&r->ops, &r->ld[i], &e) < 0 && err && !err->code)
			*err = e;
	}
	for (int i = 0; r->local && r->cls && i < r->o.ndcs; i++) {
		struct cg_err e = {0};
		if (cg_local_client_down(r->local, r->cls[i].dc, &e) < 0 && err && !err->code)
			*err = e;
	}
}

static int prepare(struct run *r, struct cg_err *err)
{
	const struct cg_cluster *c = r->ops.c;
	if (!(r->latte = latte_path(err)))
		return -1;
	if (!c->security_off) {
		char *pwf = cg_tls_password_path(r->cli->cluster_dir);
		int prc = cg_tls_password_load(pwf, false, &r->password, err);
		free(pwf);
		if (prc != 0)
			return prc > 0 ? cg_error(err, CG_EXIT_ERROR, "%s has no superuser password "
						  "file: run 'cassandgo apply %s'", c->name, c->name)
				       : -1;
		char *ca = cg_tls_ca_cert_path(r->cli->cluster_dir);
		r->ca = ops_abs_path(ca);
		free(ca);
		if (access(r->ca, R_OK) != 0)
			return cg_error(err, CG_EXIT_ERROR, "%s: %s (the cluster's CA certificate)",
					r->ca, strerror(errno));
	}
	r->env = latte_env(c->security_off ? NULL : CG_SUPERUSER, r->password);
	r->cls = cg_xcalloc((size_t)r->o.ndcs, sizeof(*r->cls));
	for (int i = 0; i < r->o.ndcs; i++) {
		struct client *cl = &r->cls[i];
		cl->dc = r->o.dcs[i];
		cl->fd = -1;
		cl->status = -1;
		for (int d = 0; d < c->ndcs; d++)
			if (!strcmp(c->dcs[d].name, cl->dc))
				for (int k = 1; k <= c->dcs[d].nodes; k++) {
					const struct cg_resource *m = cg_node_machine(&r->ops.known, cl->dc, k);
					const char *ip = m ? cg_res_get(m, "private_ip") : NULL;
					if (!ip)
						continue;
					cl->nodes = cg_xrealloc(cl->nodes, (size_t)(cl->nnodes + 1) * sizeof(char *));
					cl->nodes[cl->nnodes++] = cg_xstrdup(ip);
				}
		if (!cl->nnodes)
			return cg_error(err, CG_EXIT_ERROR, "no node of %s is recorded: run 'cassandgo "
					"apply %s'", cl->dc, c->name);
	}
	/* private: latte writes the password into its report. Absolute: latte
	 * runs in it and is given paths in it */
	char *cdir = ops_abs_path(r->cli->cluster_dir);
	r->priv = cg_xasprintf("%s/stress.%d", cdir, (int)getpid());
	free(cdir);
	if (cg_mkdir_p(r->cli->cluster_dir, 0700, err) < 0)
		return -1;
	rm_stale(r->cli->cluster_dir);
	if (mkdir(r->priv, 0700) != 0) {
		int e = errno;
		char *p = r->priv;
		r->priv = NULL;
		cg_error(err, CG_EXIT_ERROR, "mkdir %s: %s", p, strerror(e));
		free(p);
		return -1;
	}
	cg_iso8601(cg_wall_s(), r->started);
	if (!(r->results = results_dir(r->cli, c->name, r->stamp, err)))
		return -1;
	char *script = cg_stress_script(c);
	r->script = cg_xasprintf("%s/workload.rn", r->results);
	int rc = cg_file_write_atomic(r->script, script, strlen(script), 0644, err);
	free(script);
	if (rc < 0)
		return -1;
	if (c->provider == CG_PROVIDER_AWS) {
		/* each DC's client on its load node, never on a Cassandra node */
		r->ld = cg_xcalloc((size_t)r->o.ndcs, sizeof(*r->ld));
		for (int i = 0; i < r->o.ndcs; i++)
			if (stress_loader_prepare(&r->ops, r->cls[i].dc, r->latte, r->script, r->ca,
						  r->stamp, &r->ld[i], err) < 0)
				return -1;
		/* the same paths on every load node */
		r->c_latte = r->ld[0].latte;
		r->c_priv = r->ld[0].dir;
		r->c_script = "workload.rn";
		r->c_ca = r->ca ? "ca.crt" : NULL;
		return 0;
	}
	r->c_latte = r->latte;
	r->c_priv = r->priv;
	r->c_script = r->script;
	r->c_ca = r->ca;
	struct cg_env env;
	cli_env(r->cli, c->name, true, &env);
	if (cg_provider_local.open(&r->local, c, &env, err) < 0)
		return -1;
	for (int i = 0; i < r->o.ndcs; i++)
		if (cg_local_client_up(r->local, r->cls[i].dc, r->cls[i].addr, err) < 0)
			return -1;
	return 0;
}

static void print_report(struct run *r, const struct cg_stress_run *sr)
{
	struct cg_buf b = {0};
	if (r->o.json) {
		cg_stress_cli_json(sr, &b);
	} else {
		cg_buf_addf(&b, "\n%s on %s: %s at %s, ", sr->nmarks ? "Scenario" : "Stress", sr->cluster,
			    sr->workload, sr->consistency);
		cg_buf_addf(&b, "%.0f op/s per DC for %d s (latte %s)\n\n", sr->rate, sr->duration_s,
			    CG_STRESS_LATTE_VERSION);
		cg_stress_table_text(sr, &b);
		cg_stress_faults_text(sr, &b);
		char *below = cg_stress_below_rate(sr);
		if (below)
			cg_buf_addf(&b, "\nBelow the rate asked (%.0f op/s): %s. The client or the "
				    "cluster could not keep up.\n", sr->rate, below);
		free(below);
		double ops, p99;
		uint64_t errs;
		cg_stress_totals(sr, &ops, &errs, &p99);
		if (errs)
			cg_buf_addf(&b, "\n%llu requests failed (counted from latte's report: latte's own "
				    "error count misses failed requests).\n", (unsigned long long)errs);
		cg_buf_addf(&b, "\nResults: %s (report.html, summary.json, latte's reports)\n", sr->dir);
	}
	cli_print(b.data);
	cg_buf_free(&b);
}

int stress_main(struct cg_cli *cli, struct stress_opts *o, const struct stress_hooks *h)
{
	static const struct stress_hooks none;
	if (!h)
		h = &none;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.cli = cli;
	r.o = *o;
	struct cg_err err = {0};
	const struct cg_cluster *c = NULL;
	/* the DC names against the config first: that error needs no state */
	if (cli_load_config(cli, &err) < 0 || !(c = cg_config_cluster(cli->cfg, r.o.cluster, &err)) ||
	    pick_dcs(c, &r.o, &err) < 0) {
		free(r.o.dcs);
		return cli_fail(&err);
	}
	if (ops_open(&r.ops, cli, r.o.cluster, &err) < 0 || check_ring(&r.ops, &r.o, &err) < 0) {
		ops_close(&r.ops);
		free(r.o.dcs);
		return cli_fail(&err);
	}
	int rc = prepare(&r, &err);
	if (rc == 0 && !r.o.json && !r.ops.c->security_off)
		fprintf(stderr, "Note: %s\n\n", cg_stress_tls_note);
	if (rc == 0)
		rc = make_schema(&r, &err);
	if (rc == 0)
		rc = start_runs(&r, &err);
	bool started = false;
	if (rc == 0 && h->started) {
		rc = h->started(h->arg, &r.ops, &err);
		started = rc == 0;
	}
	bool interrupted = false;
	if (rc == 0) {
		if (!r.o.json)
			printf("Running %s on %d DC(s) for %d s...\n", cg_stress_workload_name(r.o.workload),
			       r.o.ndcs, r.o.duration);
		/* latte connects, prepares and warms up before its clock starts */
		run_clients(cli, r.cls, r.o.ndcs, cg_now_ms() + (int64_t)r.o.duration * 1000 + 120000,
			    r.o.json, &interrupted, h);
	}
	struct cg_stress_run sr = {
		.cluster = r.ops.c->name, .started = r.started,
		.workload = cg_stress_workload_name(r.o.workload), .consistency = r.o.consistency,
		.rate = r.o.rate, .duration_s = r.o.duration, .dir = r.results, .n = r.o.ndcs,
	};
	if (started && h->finished)
		h->finished(h->arg, &r.ops, interrupted, &sr);
	struct cg_stress_result *res = cg_xcalloc((size_t)r.o.ndcs, sizeof(*res));
	sr.v = res;
	if (rc == 0)
		rc = collect(&r, res, interrupted, &err);
	if (rc == 0) {
		clients_down(&r, &err);
	} else {	/* the run's error comes first; a failed cleanup too */
		struct cg_err ce = {0};
		clients_down(&r, &ce);
		if (ce.code)
			fprintf(stderr, "Warning: cleaning up after the load: %s\n", ce.msg);
	}
	if (rc == 0 && err.code)
		rc = -1;
	if (rc == 0) {
		struct cg_buf sj = {0}, html = {0};
		cg_stress_summary_json(&sr, &sj);
		cg_stress_html(&sr, &html);
		char *p1 = cg_xasprintf("%s/summary.json", r.results);
		char *p2 = cg_xasprintf("%s/report.html", r.results);
		if (cg_file_write_atomic(p1, sj.data, sj.len, 0644, &err) < 0 ||
		    cg_file_write_atomic(p2, html.data, html.len, 0644, &err) < 0)
			rc = -1;
		free(p1);
		free(p2);
		cg_buf_free(&sj);
		cg_buf_free(&html);
	}
	if (r.results && check_clean(r.results, r.password, &err) < 0)
		rc = -1;
	if (rc == 0)
		print_report(&r, &sr);
	if (r.local)
		cg_provider_local.close(r.local);
	for (int i = 0; i < r.o.ndcs; i++)
		cg_stress_result_clear(&res[i]);
	free(res);
	run_free(&r);
	ops_close(&r.ops);
	return rc == 0 ? CG_EXIT_OK : cli_fail(&err);
}

int cmd_stress(struct cg_cli *cli, int argc, char **argv)
{
	struct stress_opts o;
	int urc = parse_args(argc, argv, &o);
	if (urc) {
		free(o.dcs);
		return urc;
	}
	return stress_main(cli, &o, NULL);
}
