/*
 * local.c - the local provider (see local.h): bridges, network namespaces,
 * veth pairs and one sshd per namespace, driven through `ip` and `sshd`
 * spawned with argv arrays (never a shell string).
 *
 * Every apply() is idempotent: each step first looks at what exists (a
 * namespace, a link, an address, a running sshd) and only does what is
 * missing, so a machine half-made by a crash is finished, not duplicated.
 */
#include "local.h"
#include "../ssh/ssh.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <ifaddrs.h>
#include <sched.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NETNS_DIR	"/run/netns"
#define RUN_ROOT	"/run/cassandgo"
#define NSFS_MAGIC_	0x6e736673
#define SSH_PORT	22
#define DEFAULT_RANGE	"10.77.0.0/16"
#define DEFAULT_USER	"cassandgo"
/* The comment (GECOS) of the login accounts this provider creates: how it
 * tells them from accounts it must not take over (root, daemon, a person). */
#define USER_MARK	"cassandgo local provider"
#define CMD_TIMEOUT_MS	30000
#define SSHD_WAIT_MS	15000

struct cg_provider {
	pthread_mutex_t mu;		/* bridge, user, gone[] */
	const struct cg_cluster *c;	/* borrowed: outlives the provider */
	volatile sig_atomic_t *interrupted;	/* env's (may be NULL) */
	char *state_dir;		/* absolute */
	char *cname;			/* cluster name, sanitised for paths */
	char tag[13];
	char bridge[16];		/* "cgb" + tag */
	char prefix[32];		/* netns name prefix "cg-" + tag + "-" */
	uint32_t net;			/* range, host byte order */
	int plen;
	uint32_t gw;			/* first address: the bridge's */
	char *user;			/* login user on the nodes */
	char *root;			/* base_dir root */
	char *lib_dir;
	char ip[64], sshd[64], useradd[64], usermod[64];
	char **gone;			/* network addrs this instance deleted */
	int ngone;
};

/* Names and paths of one node. */
struct node {
	const char *dc;
	int n;
	char ns[128];
	char veth[16];
	char run[192];			/* RUN_ROOT/<ns> */
	char *base_dir;			/* heap */
	int dc_index;			/* -1 when the DC is not in the config */
	char addr[INET_ADDRSTRLEN];	/* "" when unknown */
};

/* --- processes ---------------------------------------------------------- */

static void argv_join(struct cg_buf *b, const char *const argv[])
{
	for (int i = 0; argv[i]; i++)
		cg_buf_addf(b, "%s%s", i ? " " : "", argv[i]);
}

/* Trim trailing whitespace in place; return s. */
static char *rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * Run argv[0] (an absolute path) with stdin from /dev/null, inside the network
 * namespace nsfd when >= 0; collect stdout into out (may be NULL) and stderr
 * into errb. *status is the exit code, or 128+signal. Returns -1 only when
 * the process could not be run or timed out. fork+exec rather than
 * posix_spawn because the child must setns() first; the child calls only
 * async-signal-safe functions (we may be one thread of many).
 */
static int run_status(const char *const argv[], int nsfd, struct cg_buf *out,
		      struct cg_buf *errb, int *status, struct cg_err *err)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) != 0)
		return cg_error(err, CG_EXIT_ERROR, "pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC) != 0) {
		close(po[0]);
		close(po[1]);
		return cg_error(err, CG_EXIT_ERROR, "pipe: %s", strerror(errno));
	}
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		/* the executor's threads may block or ignore signals: daemons
		 * we start must not inherit that */
		for (int s = 1; s < 32; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) != 0)
			_exit(126);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		syscall(SYS_close_range, 3U, ~0U, 0U);
		execv(argv[0], (char *const *)argv);
		static const char msg[] = "cannot execute program\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		_exit(127);
	}
	int saved = errno;
	if (devnull >= 0)
		close(devnull);
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return cg_error(err, CG_EXIT_ERROR, "fork: %s", strerror(saved));
	}
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	struct cg_buf sink = {0};
	int open_fds = 2, timed_out = 0;
	int64_t deadline = cg_now_ms() + CMD_TIMEOUT_MS;
	while (open_fds) {
		int64_t left = deadline - cg_now_ms();
		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		int r = poll(fds, 2, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			char buf[4096];
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				struct cg_buf *b = i == 0 ? (out ? out : &sink) : errb;
				cg_buf_add(b, buf, (size_t)n);
				sink.len = 0;
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	cg_buf_free(&sink);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		struct cg_buf cmd = {0};
		argv_join(&cmd, argv);
		cg_error(err, CG_EXIT_ERROR, "`%s` timed out after %d s", cmd.data, CMD_TIMEOUT_MS / 1000);
		cg_buf_free(&cmd);
		return -1;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

/* Run and require exit status 0; the error quotes the command and stderr. */
static int run_in(int nsfd, struct cg_buf *out, struct cg_err *err, const char *const argv[])
{
	struct cg_buf eb = {0};
	int st = 0;
	if (run_status(argv, nsfd, out, &eb, &st, err) < 0) {
		cg_buf_free(&eb);
		return -1;
	}
	if (st != 0) {
		struct cg_buf cmd = {0};
		argv_join(&cmd, argv);
		cg_error(err, CG_EXIT_ERROR, "`%s` failed (exit %d): %s", cmd.data, st,
			 eb.data ? rtrim(eb.data) : "");
		cg_buf_free(&cmd);
		cg_buf_free(&eb);
		return -1;
	}
	cg_buf_free(&eb);
	return 0;
}

#define RUN(err, out, ...) run_in(-1, (out), (err), (const char *const[]){ __VA_ARGS__, NULL })

/* Exit status only (stderr dropped): for probes such as "does it exist". */
static int probe(const char *const argv[])
{
	struct cg_buf eb = {0};
	int st = 0;
	int r = run_status(argv, -1, NULL, &eb, &st, NULL);
	cg_buf_free(&eb);
	return r < 0 ? -1 : st;
}

#define PROBE(...) probe((const char *const[]){ __VA_ARGS__, NULL })

static void find_prog(char *dst, size_t n, const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dst, n, "%s/%s", dirs[i], name);
		if (access(dst, X_OK) == 0)
			return;
	}
	snprintf(dst, n, "/usr/bin/%s", name);	/* fails later with its name */
}

/* --- names -------------------------------------------------------------- */

static bool valid_label(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static char *sanitise(const char *s)
{
	char *r = cg_xstrdup(s && *s ? s : "cluster");
	for (char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			*p = '_';
	if (strlen(r) > 64)
		r[64] = '\0';
	return r;
}

static char *abs_path(const char *path)
{
	char buf[PATH_MAX];
	if (realpath(path, buf))
		return cg_xstrdup(buf);
	/* not created yet: resolve the parent so that the name is the same
	 * before and after it exists */
	char *dir = cg_dirname(path);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *r;
	if (realpath(dir, buf))
		r = cg_xasprintf("%s/%s", buf, base);
	else if (path[0] == '/')
		r = cg_xstrdup(path);
	else {
		char cwd[PATH_MAX];
		r = cg_xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", path);
	}
	free(dir);
	return r;
}

void cg_local_tag(const char *cluster, const char *state_dir, char tag[13])
{
	char *abs = abs_path(state_dir && *state_dir ? state_dir : ".");
	struct cg_buf b = {0};
	cg_buf_adds(&b, cluster ? cluster : "");
	cg_buf_add(&b, "", 1);	/* separator: ("ab","c") != ("a","bc") */
	cg_buf_adds(&b, abs);
	char hex[17];
	cg_hash_hex(cg_hash64(b.data, b.len), hex);
	memcpy(tag, hex, 12);
	tag[12] = '\0';
	cg_buf_free(&b);
	free(abs);
}

static void ip4_str(uint32_t a, char out[INET_ADDRSTRLEN])
{
	struct in_addr in = { htonl(a) };
	inet_ntop(AF_INET, &in, out, INET_ADDRSTRLEN);
}

static int parse_cidr(const char *s, uint32_t *net, int *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	struct in_addr in;
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -1;
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || p < 0 || p > 32)
		return -1;
	*plen = (int)p;
	uint32_t mask = p ? 0xffffffffu << (32 - p) : 0;
	*net = ntohl(in.s_addr) & mask;
	return 0;
}

static uint32_t mask_of(int plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

static int dc_index(const struct cg_provider *p, const char *dc)
{
	for (int i = 0; i < p->c->ndcs; i++)
		if (p->c->dcs[i].name && !strcmp(p->c->dcs[i].name, dc))
			return i;
	return -1;
}

/* Fill nd for (dc, n); the address only when the DC is in the config. */
static int node_names(struct cg_provider *p, const char *dc, int n, struct node *nd,
		      struct cg_err *err)
{
	memset(nd, 0, sizeof(*nd));
	if (!valid_label(dc))
		return cg_error(err, CG_EXIT_ERROR,
				"local: datacenter name \"%s\" must be 1-64 characters of [A-Za-z0-9_-]",
				dc ? dc : "");
	if (n < 1 || n > 254)
		return cg_error(err, CG_EXIT_ERROR,
				"local: node index %d of %s out of range (1-254)", n, dc);
	nd->dc = dc;
	nd->n = n;
	snprintf(nd->ns, sizeof(nd->ns), "%s%s-n%d", p->prefix, dc, n);
	char hex[17];
	cg_hash_hex(cg_hash64(nd->ns, strlen(nd->ns)), hex);
	snprintf(nd->veth, sizeof(nd->veth), "cgv%.12s", hex);
	snprintf(nd->run, sizeof(nd->run), "%s/%s", RUN_ROOT, nd->ns);
	nd->base_dir = cg_xasprintf("%s/%s-%s/%s-n%d", p->root, p->cname, p->tag, dc, n);
	nd->dc_index = dc_index(p, dc);
	if (nd->dc_index >= 0) {
		uint64_t off = (uint64_t)(nd->dc_index + 1) * 256 + (uint64_t)n;
		uint64_t size = 1ull << (32 - p->plen);
		if (off >= size - 1) {
			free(nd->base_dir);
			nd->base_dir = NULL;
			return cg_error(err, CG_EXIT_ERROR,
					"local: network range %s too small for DC %d node %d "
					"(addresses are base + (dc_index+1)*256 + node)",
					p->c->network ? p->c->network : DEFAULT_RANGE,
					nd->dc_index + 1, n);
		}
		ip4_str(p->net + (uint32_t)off, nd->addr);
	}
	return 0;
}

static void node_free(struct node *nd)
{
	free(nd->base_dir);
	nd->base_dir = NULL;
}

/* "machine.DC1.n3" -> dc (heap), n. */
static int parse_machine_addr(const char *addr, char **dc, int *n)
{
	const char *a = strchr(addr, '.');
	const char *b = strrchr(addr, '.');
	if (!a || a == b || b[1] != 'n')
		return -1;
	char *end;
	long v = strtol(b + 2, &end, 10);
	if (*end || v < 1)
		return -1;
	*dc = cg_xstrndup(a + 1, (size_t)(b - a - 1));
	*n = (int)v;
	return 0;
}

/* --- filesystem --------------------------------------------------------- */

static bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool link_exists(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	return path_exists(path);
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path, struct cg_err *err)
{
	if (!path_exists(path))
		return 0;
	if (nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return cg_error(err, CG_EXIT_ERROR, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/*
 * mkdir -p where what we create gets exactly mode (whatever the umask), and
 * what exists keeps its mode: the root may be the operator's directory, kept
 * narrow on purpose, and widening it would expose whatever else it holds.
 */
static int dir_make(const char *path, mode_t mode, struct cg_err *err)
{
	char *p = cg_xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			/* through a descriptor: a link swapped in meanwhile is not followed */
			int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fchmod(fd, mode) != 0)
				rc = cg_error(err, CG_EXIT_ERROR, "cannot set the mode of %s: %s", p,
					      strerror(errno));
			if (fd >= 0)
				close(fd);
		} else if (errno != EEXIST) {
			rc = cg_error(err, CG_EXIT_ERROR, "cannot create directory %s: %s", p,
				      strerror(errno));
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

/*
 * Since we no longer widen directories we did not create, say plainly when
 * one keeps the login user from reaching path (base_dir, authorized_keys):
 * every directory above it must be searchable by uid/gid. Mode bits only
 * (the provider's users are in their own group alone).
 */
static int dirs_searchable(struct cg_provider *p, const char *path, uid_t uid, gid_t gid,
			   struct cg_err *err)
{
	char *d = cg_dirname(path);
	int rc = 0;
	for (;;) {
		struct stat st;
		if (stat(d, &st) != 0) {
			rc = cg_error(err, CG_EXIT_ERROR, "cannot inspect %s: %s", d, strerror(errno));
			break;
		}
		mode_t bit = st.st_uid == uid ? S_IXUSR : st.st_gid == gid ? S_IXGRP : S_IXOTH;
		if (!(st.st_mode & bit)) {
			rc = cg_error(err, CG_EXIT_ERROR,
				      "local: cluster %s: the login user %s cannot reach %s: %s is "
				      "mode %04o and cassandgo does not widen directories it did not "
				      "create; make it searchable (chmod o+x %s) or set "
				      "CASSANDGO_LOCAL_ROOT to another directory", p->c->name, p->user,
				      path, d, (unsigned)(st.st_mode & 07777), d);
			break;
		}
		if (!strcmp(d, "/") || !strcmp(d, "."))
			break;
		char *up = cg_dirname(d);
		free(d);
		d = up;
	}
	free(d);
	return rc;
}

static char *read_trim(const char *path)
{
	char *s = NULL;
	size_t n;
	if (cg_file_read(path, &s, &n, NULL) != 0)
		return NULL;
	return rtrim(s);
}

/* "ssh-ed25519 AAAA... comment" -> "ssh-ed25519 AAAA..." (heap). */
static char *pub_strip(const char *line)
{
	const char *sp = strchr(line, ' ');
	if (!sp)
		return NULL;
	const char *end = sp + 1;
	while (*end && *end != ' ' && *end != '\n')
		end++;
	return cg_xstrndup(line, (size_t)(end - line));
}

/* ed25519 key pair at path (+ ".pub"), generated by the tool (kept when it
 * exists); *pub_line = its public line. */
static int keygen(const char *path, char **pub_line, struct cg_err *err)
{
	if (cg_ssh_keygen(path, pub_line, err) != 0)
		return -1;
	if (chmod(path, 0600) != 0)
		return cg_error(err, CG_EXIT_ERROR, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/* --- network namespaces and processes ------------------------------------ */

static int ns_open(const char *ns)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct statfs sf;
	if (fstatfs(fd, &sf) != 0 || (unsigned long)sf.f_type != NSFS_MAGIC_) {
		close(fd);
		errno = ENOENT;
		return -1;	/* a leftover file, not a namespace */
	}
	return fd;
}

/* Pids whose network namespace is ns (what `ip netns pids` does). */
static int ns_pids(const char *ns, pid_t **pids, int *n)
{
	*pids = NULL;
	*n = 0;
	int fd = ns_open(ns);
	if (fd < 0)
		return -1;
	struct stat nst;
	if (fstat(fd, &nst) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *e;
	int cap = 0;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) != 0 || st.st_ino != nst.st_ino || st.st_dev != nst.st_dev)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*pids = cg_xrealloc(*pids, (size_t)cap * sizeof(pid_t));
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
	return 0;
}

/* Ctrl-C twice: stop waiting at once (the next apply finishes the work). */
static bool stop_now(const struct cg_provider *p)
{
	return p->interrupted && *p->interrupted >= 2;
}

/* TERM every process of the namespace, then KILL what is left; a second
 * Ctrl-C skips the grace period. */
static int ns_kill_all(const struct cg_provider *p, const char *ns, struct cg_err *err)
{
	for (int round = 0; round < 2; round++) {
		int64_t deadline = cg_now_ms() + (round == 0 ? 10000 : 5000);
		pid_t *pids;
		int n;
		if (ns_pids(ns, &pids, &n) < 0)
			return 0;	/* no namespace, no process */
		for (int i = 0; i < n; i++)
			kill(pids[i], round == 0 ? SIGTERM : SIGKILL);
		free(pids);
		while (cg_now_ms() < deadline && !(round == 0 && stop_now(p))) {
			if (ns_pids(ns, &pids, &n) < 0)
				return 0;
			free(pids);
			if (n == 0)
				return 0;
			struct timespec ts = { 0, 50 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return cg_error(err, CG_EXIT_ERROR, "processes of namespace %s survive SIGKILL", ns);
}

/* Does pid run in namespace ns? */
static bool pid_in_ns(pid_t pid, const char *ns)
{
	int fd = ns_open(ns);
	if (fd < 0)
		return false;
	struct stat nst, st;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	bool r = fstat(fd, &nst) == 0 && stat(path, &st) == 0 &&
		 st.st_ino == nst.st_ino && st.st_dev == nst.st_dev;
	close(fd);
	return r;
}

/* sshd listens and speaks SSH on addr:22 (read the banner: a port that
 * accepts is not enough to call it sshd). */
static bool ssh_banner(const char *addr, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(SSH_PORT) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return false;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	bool ok = false;
	int64_t deadline = cg_now_ms() + timeout_ms;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		goto out;
	struct pollfd pf = { s, POLLOUT, 0 };
	if (poll(&pf, 1, timeout_ms) != 1)
		goto out;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr)
		goto out;
	char buf[8];
	size_t got = 0;
	while (got < 4) {
		int64_t left = deadline - cg_now_ms();
		pf.events = POLLIN;
		if (left <= 0 || poll(&pf, 1, (int)left) != 1)
			goto out;
		ssize_t r = read(s, buf + got, 4 - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	ok = !memcmp(buf, "SSH-", 4);
out:
	close(s);
	return ok;
}

static pid_t read_pid(const char *path)
{
	char *s = read_trim(path);
	long v = s ? strtol(s, NULL, 10) : 0;
	free(s);
	return v > 0 ? (pid_t)v : 0;
}

static bool sshd_up(const struct node *nd)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/sshd.pid", nd->run);
	pid_t pid = read_pid(path);
	if (!pid || kill(pid, 0) != 0 || !pid_in_ns(pid, nd->ns))
		return false;
	return nd->addr[0] && ssh_banner(nd->addr, 2000);
}

/* First IPv4 address of eth0 in ns ("" when none). */
static void ns_addr(struct cg_provider *p, const char *ns, char out[INET_ADDRSTRLEN])
{
	struct cg_buf o = {0}, e = {0};
	int st = 0;
	out[0] = '\0';
	const char *const argv[] = { p->ip, "-n", ns, "-o", "-4", "addr", "show", "dev", "eth0", NULL };
	if (run_status(argv, -1, &o, &e, &st, NULL) == 0 && st == 0 && o.data) {
		char *s = strstr(o.data, " inet ");
		if (s) {
			s += 6;
			size_t l = strcspn(s, "/ ");
			if (l < INET_ADDRSTRLEN) {
				memcpy(out, s, l);
				out[l] = '\0';
			}
		}
	}
	cg_buf_free(&o);
	cg_buf_free(&e);
}

/* --- bridge -------------------------------------------------------------- */

/* Refuse a range that another interface of the host already uses: two
 * bridges with one subnet would route to only one of them. */
static int check_range_free(struct cg_provider *p, struct cg_err *err)
{
	struct cg_buf o = {0};
	if (RUN(err, &o, p->ip, "-o", "-4", "addr", "show") != 0)
		return -1;
	int rc = 0;
	for (char *line = o.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char ifname[64], cidr[64];
		int idx;
		if (sscanf(line, "%d: %63s inet %63s", &idx, ifname, cidr) == 3 &&
		    strcmp(ifname, p->bridge) != 0) {
			uint32_t a;
			int l;
			if (parse_cidr(cidr, &a, &l) == 0) {
				/* the /32 part of cidr is lost by parse_cidr: recover the address */
				char host[64];
				snprintf(host, sizeof(host), "%.*s", (int)strcspn(cidr, "/"), cidr);
				struct in_addr in;
				inet_pton(AF_INET, host, &in);
				uint32_t ha = ntohl(in.s_addr);
				int m = l < p->plen ? l : p->plen;
				if ((ha & mask_of(m)) == (p->net & mask_of(m))) {
					char net[INET_ADDRSTRLEN];
					ip4_str(p->net, net);
					rc = cg_error(err, CG_EXIT_ERROR,
						      "local: network range %s/%d overlaps %s on interface %s "
						      "(another cluster or state directory?); set `network:` "
						      "to a free private range",
						      net, p->plen, cidr, ifname);
					break;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	cg_buf_free(&o);
	return rc;
}

/* Called with p->mu held. */
static int bridge_ensure_locked(struct cg_provider *p, struct cg_err *err)
{
	char gw[INET_ADDRSTRLEN], cidr[40];
	ip4_str(p->gw, gw);
	snprintf(cidr, sizeof(cidr), "%s/%d", gw, p->plen);
	if (check_range_free(p, err) != 0)
		return -1;
	/* a fixed MAC: by default a bridge takes its ports' lowest MAC, which
	 * changes as nodes come and go and leaves the nodes' ARP entry for the
	 * gateway stale (connections from the host then time out) */
	char mac[18];
	snprintf(mac, sizeof(mac), "02:%.2s:%.2s:%.2s:%.2s:%.2s", p->tag, p->tag + 2, p->tag + 4,
		 p->tag + 6, p->tag + 8);
	if (!link_exists(p->bridge) &&
	    RUN(err, NULL, p->ip, "link", "add", "name", p->bridge, "address", mac, "type", "bridge") != 0 &&
	    !link_exists(p->bridge))
		return -1;
	return RUN(err, NULL, p->ip, "link", "set", "dev", p->bridge, "address", mac) ||
	       RUN(err, NULL, p->ip, "addr", "replace", cidr, "dev", p->bridge) ||
	       RUN(err, NULL, p->ip, "link", "set", "dev", p->bridge, "up") ? -1 : 0;
}

static int bridge_ensure(struct cg_provider *p, struct cg_err *err)
{
	pthread_mutex_lock(&p->mu);
	int r = bridge_ensure_locked(p, err);
	pthread_mutex_unlock(&p->mu);
	return r;
}

/* Delete the bridge when no other network.* of the cluster is left. */
static int bridge_release(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
			  struct cg_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	p->gone = cg_xrealloc(p->gone, (size_t)(p->ngone + 1) * sizeof(char *));
	p->gone[p->ngone++] = cg_xstrdup(addr);
	int others = 0;
	if (ctx && ctx->list) {
		struct cg_rset nets;
		cg_rset_init(&nets);
		ctx->list(ctx, CG_KIND_NETWORK, &nets);
		for (int i = 0; i < nets.n; i++) {
			bool gone = false;
			for (int j = 0; j < p->ngone; j++)
				gone |= !strcmp(p->gone[j], nets.v[i].addr);
			if (!gone && (!nets.v[i].id || !strcmp(nets.v[i].id, p->bridge)))
				others++;
		}
		cg_rset_free(&nets);
	}
	if (!others && link_exists(p->bridge) &&
	    RUN(err, NULL, p->ip, "link", "del", "dev", p->bridge) != 0 && link_exists(p->bridge))
		rc = -1;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* --- login user ---------------------------------------------------------- */

enum account { ACCOUNT_NONE, ACCOUNT_OURS, ACCOUNT_LEGACY, ACCOUNT_FOREIGN };

/* The highest uid of a system account (useradd --system picks below it):
 * SYS_UID_MAX of /etc/login.defs, 999 by default. */
static uid_t sys_uid_max(void)
{
	long v = 999;
	FILE *f = fopen("/etc/login.defs", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " SYS_UID_MAX %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v > 0 ? (uid_t)v : 999;
}

/*
 * Whose is the account `user`? Ours when it is a system account with the
 * comment USER_MARK. Legacy when it is exactly what this provider made
 * before it set the comment: a system account with an empty comment, its
 * own group, home /home/<user>, /bin/bash, shadow password "*" (plain
 * useradd leaves "!"). Anything else is someone else's: root, daemon, a
 * person, a service, the SSH tests' own users.
 */
static enum account account_of(const char *user, struct passwd *pw, char *buf, size_t n)
{
	struct passwd *res = NULL;
	getpwnam_r(user, pw, buf, n, &res);
	if (!res)
		return ACCOUNT_NONE;
	/* a system account (we create no other): where chfn lets people set
	 * their full name, a person's account cannot pass for ours */
	bool sys = pw->pw_uid > 0 && pw->pw_uid <= sys_uid_max();
	if (sys && pw->pw_gecos && !strcmp(pw->pw_gecos, USER_MARK))
		return ACCOUNT_OURS;
	char home[300], gbuf[4096], sbuf[4096];
	snprintf(home, sizeof(home), "/home/%s", user);
	struct group gr, *gres = NULL;
	struct spwd sp, *sres = NULL;
	getgrgid_r(pw->pw_gid, &gr, gbuf, sizeof(gbuf), &gres);
	getspnam_r(user, &sp, sbuf, sizeof(sbuf), &sres);
	if (sys && (!pw->pw_gecos || !pw->pw_gecos[0]) &&
	    gres && !strcmp(gres->gr_name, user) && pw->pw_dir && !strcmp(pw->pw_dir, home) &&
	    pw->pw_shell && !strcmp(pw->pw_shell, "/bin/bash") && sres && sres->sp_pwdp &&
	    !strcmp(sres->sp_pwdp, "*"))
		return ACCOUNT_LEGACY;
	return ACCOUNT_FOREIGN;
}

/* The login user's account must be one this provider creates or created:
 * it logs in as that user on every node, and sets its password field and
 * home. Refused otherwise, before anything is made. */
static int user_check(const struct cg_cluster *c, const char *user, enum account a,
		      struct cg_err *err)
{
	if (a != ACCOUNT_FOREIGN)
		return 0;
	return cg_error(err, CG_EXIT_CONFIG,
			"local: cluster %s: ssh_user \"%s\" is an existing account that the local "
			"provider did not create (its comment is not \"" USER_MARK "\"), and the "
			"provider will not take it over; name an account that does not exist yet "
			"(the provider creates it) or one it created earlier", c->name, user);
}

static int user_ensure(struct cg_provider *p, uid_t *uid, gid_t *gid, struct cg_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	char home[256];
	snprintf(home, sizeof(home), "/home/%s", p->user);
	struct passwd pw;
	char buf[4096];
	enum account a = account_of(p->user, &pw, buf, sizeof(buf));
	if (user_check(p->c, p->user, a, err) != 0) {
		rc = -1;
		goto out;
	}
	if (a == ACCOUNT_NONE) {
		/* no skeleton: a clean home without rc files (a pyenv .bashrc
		 * costs ~90 ms per command); '*' = no password but not locked,
		 * which sshd with UsePAM no requires; the comment marks it ours */
		struct cg_buf eb = {0};
		int st = 0;
		const char *const argv[] = { p->useradd, "--system", "--user-group", "--no-create-home",
					     "--home-dir", home, "--shell", "/bin/bash",
					     "--comment", USER_MARK, "--password", "*", p->user, NULL };
		if (run_status(argv, -1, NULL, &eb, &st, err) != 0 ||
		    (st != 0 && st != 9 /* created meanwhile */)) {
			if (st)
				cg_error(err, CG_EXIT_ERROR, "useradd %s failed (exit %d): %s", p->user,
					 st, eb.data ? rtrim(eb.data) : "");
			cg_buf_free(&eb);
			rc = -1;
			goto out;
		}
		cg_buf_free(&eb);
		/* created meanwhile by someone else: whose is it? */
		a = account_of(p->user, &pw, buf, sizeof(buf));
		if (a == ACCOUNT_NONE) {
			rc = cg_error(err, CG_EXIT_ERROR, "user %s missing after useradd", p->user);
			goto out;
		}
		if (user_check(p->c, p->user, a, err) != 0) {
			rc = -1;
			goto out;
		}
	}
	/* marked now, so that the next run needs no guess */
	if (a == ACCOUNT_LEGACY &&
	    RUN(err, NULL, p->usermod, "--comment", USER_MARK, p->user) != 0) {
		rc = -1;
		goto out;
	}
	{
		struct spwd sp, *sres = NULL;
		char sbuf[4096];
		getspnam_r(p->user, &sp, sbuf, sizeof(sbuf), &sres);
		if (sres && sres->sp_pwdp && sres->sp_pwdp[0] == '!' &&
		    RUN(err, NULL, p->usermod, "--password", "*", p->user) != 0) {
			rc = -1;
			goto out;
		}
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	if (!path_exists(pw.pw_dir)) {
		if (dir_make(pw.pw_dir, 0755, err) != 0 ||
		    chown(pw.pw_dir, pw.pw_uid, pw.pw_gid) != 0) {
			rc = err && err->code ? -1 : cg_error(err, CG_EXIT_ERROR, "chown %s: %s",
							      pw.pw_dir, strerror(errno));
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* --- machine ------------------------------------------------------------- */

static int write_str(const char *path, const char *s, int mode, struct cg_err *err)
{
	return cg_file_write_atomic(path, s, strlen(s), mode, err);
}

/* Desired labels kept beside the node, so that a refresh reports them even
 * when the state has lost the machine. */
static int write_meta(const struct node *nd, const struct cg_resource *desired, const char *region,
		      struct cg_err *err)
{
	struct cg_buf b = {0};
	if (region)
		cg_buf_addf(&b, "@region=%s\n", region);
	for (int i = 0; i < desired->nattrs; i++) {
		const struct cg_attr *a = &desired->attrs[i];
		if (!a->value || (a->flags & CG_ATTR_COMPUTED) || strchr(a->value, '\n') ||
		    strchr(a->key, '='))
			continue;
		cg_buf_addf(&b, "%s=%s\n", a->key, a->value);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/meta", nd->run);
	int r = write_str(path, b.data ? b.data : "", 0644, err);
	cg_buf_free(&b);
	return r;
}

static char *authorized_key(struct cg_provider *p, struct cg_ctx *ctx, const char *region,
			    struct cg_err *err)
{
	char *kaddr = cg_addr_region(CG_KIND_KEYPAIR, region);
	char *keyfile = NULL;
	struct cg_resource kp;
	memset(&kp, 0, sizeof(kp));
	if (ctx && ctx->lookup && ctx->lookup(ctx, kaddr, &kp) == 0 && cg_res_get(&kp, "key_file"))
		keyfile = cg_xstrdup(cg_res_get(&kp, "key_file"));
	cg_res_clear(&kp);
	if (!keyfile)
		keyfile = cg_xasprintf("%s/keys/%s-%s", p->state_dir, p->cname, region);
	char *pubpath = cg_xasprintf("%s.pub", keyfile);
	char *pub = read_trim(pubpath);
	if (!pub)
		cg_error(err, CG_EXIT_ERROR, "local: %s: public key %s missing (is %s created?)",
			 region, pubpath, kaddr);
	free(pubpath);
	free(keyfile);
	free(kaddr);
	return pub;
}

static int sshd_start(struct cg_provider *p, const struct node *nd, struct cg_err *err)
{
	char cfg[256], pidf[256], log[256];
	snprintf(cfg, sizeof(cfg), "%s/sshd_config", nd->run);
	snprintf(pidf, sizeof(pidf), "%s/sshd.pid", nd->run);
	snprintf(log, sizeof(log), "%s/sshd.log", nd->run);
	pid_t old = read_pid(pidf);
	if (old && kill(old, 0) == 0 && pid_in_ns(old, nd->ns)) {
		/* alive but not answering: replace it */
		kill(old, SIGKILL);
		for (int i = 0; i < 100 && kill(old, 0) == 0; i++) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	unlink(pidf);
	if (cg_mkdir_p("/run/sshd", 0755, err) != 0)	/* privilege separation dir */
		return -1;
	if (RUN(err, NULL, p->sshd, "-t", "-f", cfg) != 0)
		return -1;
	int fd = ns_open(nd->ns);
	if (fd < 0)
		return cg_error(err, CG_EXIT_ERROR, "namespace %s vanished", nd->ns);
	/* daemon mode: sshd forks, detaches and writes its PidFile */
	int r = run_in(fd, NULL, err, (const char *const[]){ p->sshd, "-f", cfg, "-E", log, NULL });
	close(fd);
	if (r != 0)
		return -1;
	int64_t deadline = cg_now_ms() + SSHD_WAIT_MS;
	while (cg_now_ms() < deadline) {
		if (ssh_banner(nd->addr, 1000))
			return 0;
		if (stop_now(p))
			return cg_error(err, CG_EXIT_ERROR, "interrupted while waiting for sshd of %s", nd->ns);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	char *tail = read_trim(log);
	const char *t = tail ? tail : "";
	size_t tl = strlen(t);
	cg_error(err, CG_EXIT_ERROR, "sshd of %s does not answer on %s:%d after %d s; log: %s",
		 nd->ns, nd->addr, SSH_PORT, SSHD_WAIT_MS / 1000, tl > 800 ? t + tl - 800 : t);
	free(tail);
	return -1;
}

static int netns_ensure(struct cg_provider *p, const struct node *nd, struct cg_err *err)
{
	int fd = ns_open(nd->ns);
	if (fd >= 0) {
		close(fd);
	} else {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, nd->ns);
		if (path_exists(path))	/* a crash left the mount point only */
			unlink(path);
		/* one at a time: the first `ip netns add` after boot bind-mounts
		 * /run/netns onto itself, and two racing would stack two mounts,
		 * hiding the namespace created under the lower one */
		pthread_mutex_lock(&p->mu);
		int r = RUN(err, NULL, p->ip, "netns", "add", nd->ns);
		pthread_mutex_unlock(&p->mu);
		if (r != 0)
			return -1;
	}
	if (RUN(err, NULL, p->ip, "-n", nd->ns, "link", "set", "dev", "lo", "up") != 0)
		return -1;
	bool peer = PROBE(p->ip, "-n", nd->ns, "link", "show", "dev", "eth0") == 0;
	if (link_exists(nd->veth) && !peer &&
	    RUN(err, NULL, p->ip, "link", "del", "dev", nd->veth) != 0)
		return -1;
	if (!link_exists(nd->veth)) {
		if (peer && RUN(err, NULL, p->ip, "-n", nd->ns, "link", "del", "dev", "eth0") != 0)
			return -1;
		/* the node's MAC follows from its address, so a re-created link
		 * does not leave stale ARP entries in the host and other nodes */
		struct in_addr in;
		inet_pton(AF_INET, nd->addr, &in);
		const unsigned char *b = (const unsigned char *)&in.s_addr;
		char mac[18];
		snprintf(mac, sizeof(mac), "06:00:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
		if (RUN(err, NULL, p->ip, "link", "add", "name", nd->veth, "type", "veth",
			"peer", "name", "eth0", "address", mac, "netns", nd->ns) != 0)
			return -1;
		/* and the host forgets what it knew of the old link anyway */
		RUN(NULL, NULL, p->ip, "neigh", "flush", "to", nd->addr, "dev", p->bridge);
	}
	if (RUN(err, NULL, p->ip, "link", "set", "dev", nd->veth, "master", p->bridge) != 0 ||
	    RUN(err, NULL, p->ip, "link", "set", "dev", nd->veth, "up") != 0)
		return -1;
	char have[INET_ADDRSTRLEN], cidr[40], gw[INET_ADDRSTRLEN];
	ns_addr(p, nd->ns, have);
	snprintf(cidr, sizeof(cidr), "%s/%d", nd->addr, p->plen);
	if (strcmp(have, nd->addr) != 0) {
		if (RUN(err, NULL, p->ip, "-n", nd->ns, "addr", "flush", "dev", "eth0") != 0 ||
		    RUN(err, NULL, p->ip, "-n", nd->ns, "addr", "add", cidr, "dev", "eth0") != 0)
			return -1;
	}
	ip4_str(p->gw, gw);
	return RUN(err, NULL, p->ip, "-n", nd->ns, "link", "set", "dev", "eth0", "up") ||
	       RUN(err, NULL, p->ip, "-n", nd->ns, "route", "replace", "default", "via", gw) ? -1 : 0;
}

static void machine_attrs(struct cg_provider *p, const struct node *nd, const char *ip,
			  const char *host_key, bool up, struct cg_resource *r)
{
	if (ip && *ip) {
		cg_res_set(r, "private_ip", ip, CG_ATTR_COMPUTED);
		cg_res_set(r, "public_ip", ip, CG_ATTR_COMPUTED);
	}
	if (host_key)
		cg_res_set(r, "host_key", host_key, CG_ATTR_COMPUTED);
	cg_res_setf(r, "ssh_port", CG_ATTR_COMPUTED, "%d", SSH_PORT);
	cg_res_set(r, "base_dir", nd->base_dir, CG_ATTR_COMPUTED);
	cg_res_set(r, "lib_dir", p->lib_dir, CG_ATTR_COMPUTED);
	cg_res_set(r, "sshd", up ? "up" : "down", CG_ATTR_COMPUTED);
	/* the planner plans an update in place for health != "ok" */
	if (up)
		cg_res_set(r, "health", "ok", CG_ATTR_COMPUTED);
	else if (ip && *ip)
		cg_res_setf(r, "health", CG_ATTR_COMPUTED, "sshd is not answering on %s:%d", ip, SSH_PORT);
	else
		cg_res_set(r, "health", "the namespace has no address", CG_ATTR_COMPUTED);
}

static int machine_ensure(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *desired, struct cg_resource *result,
			  struct cg_err *err)
{
	/* the address is authoritative for dc and node (it names the netns) */
	char *dcname = NULL;
	int n = 0;
	if (parse_machine_addr(desired->addr, &dcname, &n) != 0)
		return cg_error(err, CG_EXIT_ERROR, "local: bad machine address %s", desired->addr);
	struct node nd;
	int rc = -1;
	char *pub = NULL, *hostpub = NULL, *hk = NULL;
	if (node_names(p, dcname, n, &nd, err) != 0)
		goto out;
	if (nd.dc_index < 0) {
		cg_error(err, CG_EXIT_ERROR, "local: datacenter %s is not in the config of cluster %s",
			 dcname, p->c->name);
		goto out;
	}
	const char *region = desired->region ? desired->region : p->c->dcs[nd.dc_index].region;
	if (!valid_label(region)) {
		cg_error(err, CG_EXIT_ERROR, "local: region \"%s\" must be [A-Za-z0-9_-]",
			 region ? region : "");
		goto out;
	}
	if (ctx && ctx->progress)
		ctx->progress(ctx, desired->addr, "namespace %s at %s", nd.ns, nd.addr);
	uid_t uid = 0;
	gid_t gid = 0;
	/* the account and the directories first: a refusal there leaves
	 * nothing behind */
	if (user_ensure(p, &uid, &gid, err) != 0)
		goto out;
	/* the login user walks down to base_dir: what we create is 0755
	 * whatever our umask is; what exists keeps its mode */
	if (dir_make(nd.base_dir, 0755, err) != 0 ||
	    dirs_searchable(p, nd.base_dir, uid, gid, err) != 0)
		goto out;
	if (chown(nd.base_dir, uid, gid) != 0) {
		cg_error(err, CG_EXIT_ERROR, "chown %s: %s", nd.base_dir, strerror(errno));
		goto out;
	}
	char key[256], path[256];
	/* root-owned and not writable by the user: sshd's StrictModes checks;
	 * sshd reads authorized_keys as the user, who must reach it */
	snprintf(path, sizeof(path), "%s/authorized_keys", nd.run);
	if (dir_make(nd.run, 0755, err) != 0 || dirs_searchable(p, path, uid, gid, err) != 0)
		goto out;
	if (bridge_ensure(p, err) != 0 || netns_ensure(p, &nd, err) != 0)
		goto out;
	snprintf(key, sizeof(key), "%s/ssh_host_ed25519_key", nd.run);
	if (keygen(key, &hostpub, err) != 0)
		goto out;
	hk = pub_strip(hostpub);
	if (!(pub = authorized_key(p, ctx, region, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/authorized_keys", nd.run);
	char *ak = cg_xasprintf("%s\n", pub);
	int w = write_str(path, ak, 0644, err);
	free(ak);
	if (w != 0)
		goto out;
	char *cfg = cg_xasprintf(
		"# cassandgo local node %s: generated, rewritten on every apply\n"
		"ListenAddress %s:%d\n"
		"HostKey %s\n"
		"PidFile %s/sshd.pid\n"
		"AuthorizedKeysFile %s/authorized_keys\n"
		"AllowUsers %s\n"
		"PermitRootLogin no\n"
		"PasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\n"
		"PubkeyAuthentication yes\n"
		"UsePAM no\n"
		"StrictModes yes\n"
		/* the bootstrap provider opens many sessions at once */
		"MaxStartups 200:30:400\n"
		"MaxSessions 64\n"
		"ClientAliveInterval 15\n"
		"ClientAliveCountMax 4\n"
		"X11Forwarding no\n"
		"PrintMotd no\n"
		"Subsystem sftp internal-sftp\n",
		nd.ns, nd.addr, SSH_PORT, key, nd.run, nd.run, p->user);
	snprintf(path, sizeof(path), "%s/sshd_config", nd.run);
	w = write_str(path, cfg, 0644, err);
	free(cfg);
	if (w != 0 || write_meta(&nd, desired, region, err) != 0)
		goto out;
	if (!sshd_up(&nd)) {
		if (ctx && ctx->progress)
			ctx->progress(ctx, desired->addr, "starting sshd on %s:%d", nd.addr, SSH_PORT);
		if (sshd_start(p, &nd, err) != 0)
			goto out;
	}
	cg_res_copy(result, desired);
	cg_res_set_id(result, nd.ns);
	if (!result->region)
		result->region = cg_xstrdup(region);
	if (!result->dc)
		result->dc = cg_xstrdup(dcname);
	result->node = n;
	machine_attrs(p, &nd, nd.addr, hk, true, result);
	rc = 0;
out:
	if (rc != 0 && err)
		cg_error_wrap(err, "%s", desired->addr);
	free(pub);
	free(hostpub);
	free(hk);
	node_free(&nd);
	free(dcname);
	return rc;
}

static int machine_destroy(struct cg_provider *p, struct cg_ctx *ctx,
			   const struct cg_resource *cur, struct cg_err *err)
{
	char *dcname = NULL;
	int n = 0;
	if (parse_machine_addr(cur->addr, &dcname, &n) != 0)
		return cg_error(err, CG_EXIT_ERROR, "local: bad machine address %s", cur->addr);
	struct node nd;
	int rc = -1;
	if (node_names(p, dcname, n, &nd, err) != 0)
		goto out;
	if (ctx && ctx->progress)
		ctx->progress(ctx, cur->addr, "removing namespace %s", nd.ns);
	if (ns_kill_all(p, nd.ns, err) != 0)
		goto out;
	if (link_exists(nd.veth) && RUN(err, NULL, p->ip, "link", "del", "dev", nd.veth) != 0 &&
	    link_exists(nd.veth))
		goto out;
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, nd.ns);
	if (path_exists(path) && RUN(err, NULL, p->ip, "netns", "del", nd.ns) != 0 &&
	    path_exists(path))
		goto out;
	if (rm_rf(nd.base_dir, err) != 0 || rm_rf(nd.run, err) != 0)
		goto out;
	/* the cluster's directory and /run/cassandgo go with their last node */
	char *cdir = cg_dirname(nd.base_dir);
	rmdir(cdir);
	free(cdir);
	rmdir(p->root);		/* only when empty: nothing of ours is left */
	rmdir(RUN_ROOT);
	rc = 0;
out:
	if (rc != 0)
		cg_error_wrap(err, "%s", cur->addr);
	node_free(&nd);
	free(dcname);
	return rc;
}

/* --- meta file ----------------------------------------------------------- */

static void read_meta(const struct node *nd, struct cg_resource *r)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/meta", nd->run);
	char *s = read_trim(path);
	if (!s)
		return;
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			if (!strcmp(line, "@region")) {
				free(r->region);
				r->region = cg_xstrdup(eq + 1);
			} else if (line[0] != '@') {
				cg_res_set(r, line, eq + 1, 0);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(s);
}

/* --- provider ops -------------------------------------------------------- */

static int local_open(struct cg_provider **out, const struct cg_cluster *c,
		      const struct cg_env *env, struct cg_err *err)
{
	if (geteuid() != 0)
		return cg_error(err, CG_EXIT_ERROR,
				"the local provider needs root (CAP_NET_ADMIN, to create network "
				"namespaces, bridges and sshd): run cassandgo as root, e.g. with sudo");
	uint32_t net;
	int plen;
	const char *range = c->network ? c->network : DEFAULT_RANGE;
	if (parse_cidr(range, &net, &plen) != 0 || plen < 8 || plen > 23)
		return cg_error(err, CG_EXIT_CONFIG,
				"local: network \"%s\" must be an IPv4 CIDR with a prefix of /8 to /23 "
				"(e.g. %s)", range, DEFAULT_RANGE);
	const char *user = c->ssh_user && *c->ssh_user ? c->ssh_user : DEFAULT_USER;
	if (!valid_label(user) || user[0] == '-' || !strcmp(user, "root"))
		return cg_error(err, CG_EXIT_CONFIG,
				"local: ssh_user \"%s\" cannot be a node login user (not root; "
				"[A-Za-z0-9_-])", user);
	{	/* early, so that plan says it before apply makes anything */
		struct passwd pw;
		char buf[4096];
		if (user_check(c, user, account_of(user, &pw, buf, sizeof(buf)), err) != 0)
			return -1;
	}
	struct cg_provider *p = cg_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->c = c;
	p->interrupted = env ? env->interrupted : NULL;
	const char *sd = env && env->state_dir ? env->state_dir : ".cassandgo";
	p->state_dir = abs_path(sd);
	p->cname = sanitise(c->name);
	cg_local_tag(c->name, sd, p->tag);
	snprintf(p->bridge, sizeof(p->bridge), "cgb%s", p->tag);
	snprintf(p->prefix, sizeof(p->prefix), "cg-%s-", p->tag);
	p->net = net;
	p->plen = plen;
	p->gw = net + 1;
	p->user = cg_xstrdup(user);
	const char *root = getenv("CASSANDGO_LOCAL_ROOT");
	p->root = abs_path(root && *root ? root : "/var/lib/cassandgo");
	const char *cache = getenv("CASSANDGO_CASSANDRA_CACHE");
	p->lib_dir = cg_xasprintf("%s/cassandra-%s/lib", cache && *cache ? cache : "/var/cache/cassandgo",
				  c->cassandra_version ? c->cassandra_version : "unknown");
	find_prog(p->ip, sizeof(p->ip), "ip");
	find_prog(p->sshd, sizeof(p->sshd), "sshd");
	find_prog(p->useradd, sizeof(p->useradd), "useradd");
	find_prog(p->usermod, sizeof(p->usermod), "usermod");
	*out = p;
	return 0;
}

static void local_close(struct cg_provider *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->state_dir);
	free(p->cname);
	free(p->user);
	free(p->root);
	free(p->lib_dir);
	for (int i = 0; i < p->ngone; i++)
		free(p->gone[i]);
	free(p->gone);
	free(p);
}

static int local_zones(struct cg_provider *p, const char *region, char ***zones, int *n,
		       struct cg_err *err)
{
	(void)err;
	char **v = NULL;
	int nv = 0;
	for (int i = 0; i < p->c->ndcs; i++) {
		const struct cg_dc *dc = &p->c->dcs[i];
		if (!dc->region || strcmp(dc->region, region))
			continue;
		for (int z = 0; z < dc->nzones; z++) {
			bool dup = false;
			for (int k = 0; k < nv; k++)
				dup |= !strcmp(v[k], dc->zones[z]);
			if (dup)
				continue;
			v = cg_xrealloc(v, (size_t)(nv + 1) * sizeof(char *));
			v[nv++] = cg_xstrdup(dc->zones[z]);
		}
	}
	if (!nv) {
		v = cg_xcalloc(2, sizeof(char *));
		v[0] = cg_xasprintf("%sa", region);
		v[1] = cg_xasprintf("%sb", region);
		nv = 2;
	}
	*zones = v;
	*n = nv;
	return 0;
}

/* Regions of the cluster: the config's, plus those recorded for kind. */
static void regions_of(struct cg_provider *p, const struct cg_rset *known, enum cg_kind kind,
		       char ***out, int *n)
{
	char **v = NULL;
	int nv = 0;
	for (int i = -p->c->ndcs; known && i < known->n; i++) {
		const char *r;
		if (i < 0)
			r = p->c->dcs[i + p->c->ndcs].region;
		else if (known->v[i].kind == kind)
			r = known->v[i].region ? known->v[i].region
			    : strchr(known->v[i].addr, '.') ? strchr(known->v[i].addr, '.') + 1 : NULL;
		else
			continue;
		if (!r || !valid_label(r))
			continue;
		bool dup = false;
		for (int k = 0; k < nv; k++)
			dup |= !strcmp(v[k], r);
		if (!dup) {
			v = cg_xrealloc(v, (size_t)(nv + 1) * sizeof(char *));
			v[nv++] = cg_xstrdup(r);
		}
	}
	*out = v;
	*n = nv;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* One machine observed by refresh: its address and whether sshd answers. */
struct probe {
	struct cg_provider *p;
	char *dc;
	struct node nd;		/* nd.addr: the address eth0 actually has */
	bool up, gone;
};

struct probe_queue {
	pthread_mutex_t mu;
	struct probe *v;
	int n, next;
};

/* First IPv4 address of eth0 inside the namespace, read from a thread that
 * enters it (setns affects only the calling thread), without spawning ip. */
static int ns_addr_setns(const char *ns, char out[INET_ADDRSTRLEN])
{
	out[0] = '\0';
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = ns_open(ns);
	if (fd < 0 || self < 0) {
		if (fd >= 0)
			close(fd);
		if (self >= 0)
			close(self);
		return -1;
	}
	int rc = -1;
	if (setns(fd, CLONE_NEWNET) == 0) {
		struct ifaddrs *ifa = NULL;
		if (getifaddrs(&ifa) == 0) {
			for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
				if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
				    !strcmp(i->ifa_name, "eth0")) {
					inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
						  out, INET_ADDRSTRLEN);
					break;
				}
			freeifaddrs(ifa);
		}
		rc = setns(self, CLONE_NEWNET);	/* back home before anything else */
	}
	close(fd);
	close(self);
	return rc;
}

static void *probe_worker(void *arg)
{
	struct probe_queue *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		int i = q->next < q->n ? q->next++ : -1;
		pthread_mutex_unlock(&q->mu);
		if (i < 0)
			return NULL;
		struct probe *pr = &q->v[i];
		int fd = ns_open(pr->nd.ns);
		if (fd < 0) {
			pr->gone = true;	/* a leftover file, not a namespace */
			continue;
		}
		close(fd);
		ns_addr_setns(pr->nd.ns, pr->nd.addr);
		pr->up = pr->nd.addr[0] && sshd_up(&pr->nd);
	}
}

/* Probe every machine, at most 16 at once: sshd answers in ~40 ms each, so
 * a refresh of a large cluster stays well under a second. */
static void probe_all(struct probe *v, int n)
{
	struct probe_queue q = { .v = v, .n = n };
	pthread_mutex_init(&q.mu, NULL);
	pthread_t t[16];
	int nt = 0;
	for (; nt < n && nt < 16; nt++)
		if (pthread_create(&t[nt], NULL, probe_worker, &q) != 0)
			break;
	if (nt == 0)
		probe_worker(&q);	/* no thread: do it here (slowly) */
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&q.mu);
}

static int local_refresh(struct cg_provider *p, const struct cg_rset *known,
			 struct cg_rset *live, struct cg_err *err)
{
	(void)err;
	static const struct cg_rset empty;
	if (!known)
		known = &empty;
	char **regs;
	int nregs;
	/* network */
	if (link_exists(p->bridge)) {
		regions_of(p, known, CG_KIND_NETWORK, &regs, &nregs);
		for (int i = 0; i < nregs; i++) {
			char *addr = cg_addr_region(CG_KIND_NETWORK, regs[i]);
			const struct cg_resource *k = cg_rset_find(known, addr);
			struct cg_resource *r = cg_rset_new(live, CG_KIND_NETWORK, addr);
			if (k)
				for (int a = 0; a < k->nattrs; a++)
					cg_res_set(r, k->attrs[a].key, k->attrs[a].value, k->attrs[a].flags);
			else	/* the model's name, so a lost state adopts it */
				cg_res_setf(r, "name", 0, "cassandgo-%s-%s", p->c->name, regs[i]);
			r->region = cg_xstrdup(regs[i]);
			cg_res_set_id(r, p->bridge);
			free(addr);
		}
		free_strv(regs, nregs);
	}
	/* keypair */
	regions_of(p, known, CG_KIND_KEYPAIR, &regs, &nregs);
	for (int i = 0; i < nregs; i++) {
		char *file = cg_xasprintf("%s/keys/%s-%s", p->state_dir, p->cname, regs[i]);
		char *pubf = cg_xasprintf("%s.pub", file);
		char *pub = path_exists(file) ? read_trim(pubf) : NULL;
		char *fp = pub ? cg_ssh_fingerprint(pub) : NULL;
		if (fp) {
			char *addr = cg_addr_region(CG_KIND_KEYPAIR, regs[i]);
			const struct cg_resource *k = cg_rset_find(known, addr);
			struct cg_resource *r = cg_rset_new(live, CG_KIND_KEYPAIR, addr);
			const char *name = k ? cg_res_get(k, "name") : NULL;
			char *dflt = cg_xasprintf("%s-%s", p->cname, regs[i]);
			if (name)
				cg_res_set(r, "name", name, 0);
			else
				cg_res_setf(r, "name", 0, "cassandgo-%s-%s", p->c->name, regs[i]);
			cg_res_set(r, "key_file", file, CG_ATTR_COMPUTED);
			cg_res_set(r, "fingerprint", fp, CG_ATTR_COMPUTED);
			r->region = cg_xstrdup(regs[i]);
			cg_res_set_id(r, k && k->id ? k->id : dflt);
			free(dflt);
			free(addr);
		}
		free(fp);
		free(pub);
		free(pubf);
		free(file);
	}
	free_strv(regs, nregs);
	/* machines: the namespaces named with this cluster's prefix */
	struct probe *pr = NULL;
	int npr = 0;
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;
	size_t pl = strlen(p->prefix);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, p->prefix, pl) || strlen(e->d_name) >= sizeof(pr->nd.ns))
			continue;
		const char *rest = e->d_name + pl;
		const char *dash = strrchr(rest, '-');
		if (!dash || dash == rest || dash[1] != 'n')
			continue;
		char *end;
		long n = strtol(dash + 2, &end, 10);
		if (*end || n < 1 || n > 254)
			continue;
		char *dcname = cg_xstrndup(rest, (size_t)(dash - rest));
		struct node nd;
		if (node_names(p, dcname, (int)n, &nd, NULL) != 0 || strcmp(nd.ns, e->d_name)) {
			if (nd.base_dir)
				node_free(&nd);
			free(dcname);
			continue;	/* not ours */
		}
		pr = cg_xrealloc(pr, (size_t)(npr + 1) * sizeof(*pr));
		memset(&pr[npr], 0, sizeof(*pr));
		pr[npr].p = p;
		pr[npr].dc = dcname;
		pr[npr].nd = nd;
		pr[npr].nd.dc = dcname;
		npr++;
	}
	if (d)
		closedir(d);
	probe_all(pr, npr);
	for (int i = 0; i < npr; i++) {
		struct node *nd = &pr[i].nd;
		if (pr[i].gone)
			continue;
		char *addr = cg_addr_node(CG_KIND_MACHINE, nd->dc, nd->n);
		const struct cg_resource *k = cg_rset_find(known, addr);
		struct cg_resource *r = cg_rset_new(live, CG_KIND_MACHINE, addr);
		if (k && k->region)
			r->region = cg_xstrdup(k->region);
		else if (nd->dc_index >= 0)
			r->region = cg_xstrdup(p->c->dcs[nd->dc_index].region);
		r->dc = cg_xstrdup(nd->dc);
		r->node = nd->n;
		cg_res_set_id(r, nd->ns);
		if (k)
			for (int a = 0; a < k->nattrs; a++)
				if (!(k->attrs[a].flags & CG_ATTR_COMPUTED) && k->attrs[a].value)
					cg_res_set(r, k->attrs[a].key, k->attrs[a].value, k->attrs[a].flags);
		read_meta(nd, r);	/* what the node was made with wins */
		char kpath[256];
		snprintf(kpath, sizeof(kpath), "%s/ssh_host_ed25519_key.pub", nd->run);
		char *line = read_trim(kpath);
		char *hk = line ? pub_strip(line) : NULL;
		if (!hk && k && cg_res_get(k, "host_key") && k->id && !strcmp(k->id, nd->ns))
			hk = cg_xstrdup(cg_res_get(k, "host_key"));
		machine_attrs(p, nd, nd->addr, hk, pr[i].up, r);
		free(hk);
		free(line);
		free(addr);
	}
	for (int i = 0; i < npr; i++) {
		node_free(&pr[i].nd);
		free(pr[i].dc);
	}
	free(pr);
	return 0;
}

static int keypair_ensure(struct cg_provider *p, const struct cg_resource *desired,
			  struct cg_resource *result, struct cg_err *err)
{
	const char *region = desired->region;
	if (!region)
		region = strchr(desired->addr, '.') ? strchr(desired->addr, '.') + 1 : "";
	if (!valid_label(region))
		return cg_error(err, CG_EXIT_ERROR, "local: region \"%s\" must be [A-Za-z0-9_-]", region);
	char *dir = cg_xasprintf("%s/keys", p->state_dir);
	char *file = cg_xasprintf("%s/%s-%s", dir, p->cname, region);
	char *pub = NULL, *fp = NULL;
	int rc = -1;
	if (cg_mkdir_p(dir, 0700, err) != 0 || keygen(file, &pub, err) != 0)
		goto out;
	if (!(fp = cg_ssh_fingerprint(pub))) {
		cg_error(err, CG_EXIT_ERROR, "local: cannot read public key %s.pub", file);
		goto out;
	}
	cg_res_copy(result, desired);
	if (!result->region)
		result->region = cg_xstrdup(region);
	char *name = cg_xasprintf("%s-%s", p->cname, region);
	cg_res_set_id(result, name);
	if (!cg_res_get(result, "name"))
		cg_res_setf(result, "name", 0, "cassandgo-%s-%s", p->c->name, region);
	free(name);
	cg_res_set(result, "key_file", file, CG_ATTR_COMPUTED);
	cg_res_set(result, "fingerprint", fp, CG_ATTR_COMPUTED);
	rc = 0;
out:
	free(fp);
	free(pub);
	free(file);
	free(dir);
	return rc;
}

static int keypair_delete(struct cg_provider *p, const struct cg_resource *cur, struct cg_err *err)
{
	const char *region = cur->region ? cur->region : strchr(cur->addr, '.') + 1;
	if (!valid_label(region))
		return cg_error(err, CG_EXIT_ERROR, "local: region \"%s\" must be [A-Za-z0-9_-]", region);
	char *dir = cg_xasprintf("%s/keys", p->state_dir);
	char *file = cg_xasprintf("%s/%s-%s", dir, p->cname, region);
	char *pubf = cg_xasprintf("%s.pub", file);
	int rc = 0;
	if ((unlink(file) != 0 && errno != ENOENT) || (unlink(pubf) != 0 && errno != ENOENT))
		rc = cg_error(err, CG_EXIT_ERROR, "cannot remove key %s: %s", file, strerror(errno));
	rmdir(dir);	/* when empty */
	free(pubf);
	free(file);
	free(dir);
	return rc;
}

static int local_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		       const struct cg_resource *desired, const struct cg_resource *current,
		       struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	if (!r)
		return cg_error(err, CG_EXIT_ERROR, "local: apply without a resource");
	if (op == CG_OP_DELETE && !current)
		current = desired;
	if (op != CG_OP_DELETE && !desired)
		return cg_error(err, CG_EXIT_ERROR, "local: %s %s without a desired resource",
				cg_op_name(op), r->addr);
	switch (r->kind) {
	case CG_KIND_NETWORK:
		if (op == CG_OP_DELETE)
			return bridge_release(p, ctx, current->addr, err);
		if (bridge_ensure(p, err) != 0)
			return cg_error_wrap(err, "%s", desired->addr);
		cg_res_copy(result, desired);
		cg_res_set_id(result, p->bridge);
		return 0;
	case CG_KIND_PEERS:	/* one bridge: every region already reaches every other */
		if (op != CG_OP_DELETE) {
			cg_res_copy(result, desired);
			cg_res_set_id(result, p->bridge);
		}
		return 0;
	case CG_KIND_KEYPAIR:
		return op == CG_OP_DELETE ? keypair_delete(p, current, err)
					  : keypair_ensure(p, desired, result, err);
	case CG_KIND_MACHINE:
		return op == CG_OP_DELETE ? machine_destroy(p, ctx, current, err)
					  : machine_ensure(p, ctx, desired, result, err);
	default:
		return cg_error(err, CG_EXIT_ERROR, "local provider does not manage %s",
				cg_kind_name(r->kind));
	}
}

const struct cg_provider_ops cg_provider_local = {
	.name = "local",
	.kinds = CG_KIND_BIT(CG_KIND_NETWORK) | CG_KIND_BIT(CG_KIND_PEERS) |
		 CG_KIND_BIT(CG_KIND_KEYPAIR) | CG_KIND_BIT(CG_KIND_MACHINE),
	.open = local_open,
	.close = local_close,
	.zones = local_zones,
	.refresh = local_refresh,
	.apply = local_apply,
};
