/*
 * host.c - the local provider's primitives on this host (see internal.h):
 * programs spawned with argv arrays, inside a namespace when asked; names
 * and addresses; files; namespaces and the processes in them; sshd probes.
 */
#include "internal.h"

/* --- processes ---------------------------------------------------------- */

static void argv_join(struct cg_buf *b, const char *const argv[])
{
	for (int i = 0; argv[i]; i++)
		cg_buf_addf(b, "%s%s", i ? " " : "", argv[i]);
}

/* Trim trailing whitespace in place; return s. */
char *local_rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* In a forked child: default dispositions, nothing blocked. The executor's
 * threads may block or ignore signals: processes we start must not inherit
 * that. Async-signal-safe. */
static void child_signals(void)
{
	sigset_t none;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In a forked child: enter network namespace nsfd (>= 0) and directory dir
 * (non-NULL), stdin from in (>= 0), stdout to out, stderr to errfd, no other
 * descriptor, then exec. Never returns; async-signal-safe only. */
void __attribute__((noreturn))
local_child_exec(int nsfd, const char *dir, int in, int out, int errfd, char *const argv[],
	   char *const envp[])
{
	child_signals();
	if ((nsfd >= 0 && setns(nsfd, CLONE_NEWNET) != 0) || (dir && chdir(dir) != 0))
		_exit(126);
	if (in >= 0)
		dup2(in, 0);
	dup2(out, 1);
	dup2(errfd, 2);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	execve(argv[0], argv, envp);
	static const char msg[] = "cannot execute program\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
	_exit(127);
}

/*
 * Run argv[0] (an absolute path) with stdin from /dev/null, inside the network
 * namespace nsfd when >= 0; collect stdout into out (may be NULL) and stderr
 * into errb. *status is the exit code, or 128+signal. Returns -1 only when
 * the process could not be run or timed out. fork+exec rather than
 * posix_spawn because the child must setns() first; the child calls only
 * async-signal-safe functions (we may be one thread of many).
 */
int local_run_status(const char *const argv[], int nsfd, struct cg_buf *out,
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
	if (pid == 0)
		local_child_exec(nsfd, NULL, devnull, po[1], pe[1], (char *const *)argv, environ);
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
int local_run_in(int nsfd, struct cg_buf *out, struct cg_err *err, const char *const argv[])
{
	struct cg_buf eb = {0};
	int st = 0;
	if (local_run_status(argv, nsfd, out, &eb, &st, err) < 0) {
		cg_buf_free(&eb);
		return -1;
	}
	if (st != 0) {
		struct cg_buf cmd = {0};
		argv_join(&cmd, argv);
		cg_error(err, CG_EXIT_ERROR, "`%s` failed (exit %d): %s", cmd.data, st,
			 eb.data ? local_rtrim(eb.data) : "");
		cg_buf_free(&cmd);
		cg_buf_free(&eb);
		return -1;
	}
	cg_buf_free(&eb);
	return 0;
}

/* Exit status only (stderr dropped): for probes such as "does it exist". */
int local_probe(const char *const argv[])
{
	struct cg_buf eb = {0};
	int st = 0;
	int r = local_run_status(argv, -1, NULL, &eb, &st, NULL);
	cg_buf_free(&eb);
	return r < 0 ? -1 : st;
}

void local_find_prog(char *dst, size_t n, const char *name)
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

bool local_valid_label(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

char *local_sanitise(const char *s)
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

char *local_abs_path(const char *path)
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
	char *abs = local_abs_path(state_dir && *state_dir ? state_dir : ".");
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

void local_ip4_str(uint32_t a, char out[INET_ADDRSTRLEN])
{
	struct in_addr in = { htonl(a) };
	inet_ntop(AF_INET, &in, out, INET_ADDRSTRLEN);
}

int local_parse_cidr(const char *s, uint32_t *net, int *plen)
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

uint32_t local_mask_of(int plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

int local_dc_index(const struct cg_provider *p, const char *dc)
{
	for (int i = 0; i < p->c->ndcs; i++)
		if (p->c->dcs[i].name && !strcmp(p->c->dcs[i].name, dc))
			return i;
	return -1;
}

/* Fill nd for (dc, n); the address only when the DC is in the config. */
int node_names(struct cg_provider *p, const char *dc, int n, struct node *nd,
		      struct cg_err *err)
{
	memset(nd, 0, sizeof(*nd));
	if (!local_valid_label(dc))
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
	nd->dc_index = local_dc_index(p, dc);
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
		local_ip4_str(p->net + (uint32_t)off, nd->addr);
	}
	return 0;
}

void node_free(struct node *nd)
{
	free(nd->base_dir);
	nd->base_dir = NULL;
}

/* "machine.DC1.n3" -> dc (heap), n. */
int parse_machine_addr(const char *addr, char **dc, int *n)
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

bool local_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool local_link_exists(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	return local_path_exists(path);
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int local_rm_rf(const char *path, struct cg_err *err)
{
	if (!local_path_exists(path))
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
int local_dir_make(const char *path, mode_t mode, struct cg_err *err)
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
int local_dirs_searchable(struct cg_provider *p, const char *path, uid_t uid, gid_t gid,
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

char *local_read_trim(const char *path)
{
	char *s = NULL;
	size_t n;
	if (cg_file_read(path, &s, &n, NULL) != 0)
		return NULL;
	return local_rtrim(s);
}

/* "ssh-ed25519 AAAA... comment" -> "ssh-ed25519 AAAA..." (heap). */
char *local_pub_strip(const char *line)
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
int local_keygen(const char *path, char **pub_line, struct cg_err *err)
{
	if (cg_ssh_keygen(path, pub_line, err) != 0)
		return -1;
	if (chmod(path, 0600) != 0)
		return cg_error(err, CG_EXIT_ERROR, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/* --- network namespaces and processes ------------------------------------ */

int local_ns_open(const char *ns)
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
	int fd = local_ns_open(ns);
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
bool local_stop_now(const struct cg_provider *p)
{
	return p->interrupted && *p->interrupted >= 2;
}

/* TERM every process of the namespace, then KILL what is left; a second
 * Ctrl-C skips the grace period. */
int ns_kill_all(const struct cg_provider *p, const char *ns, struct cg_err *err)
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
		while (cg_now_ms() < deadline && !(round == 0 && local_stop_now(p))) {
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
bool local_pid_in_ns(pid_t pid, const char *ns)
{
	int fd = local_ns_open(ns);
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
bool local_ssh_banner(const char *addr, int timeout_ms)
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

pid_t local_read_pid(const char *path)
{
	char *s = local_read_trim(path);
	long v = s ? strtol(s, NULL, 10) : 0;
	free(s);
	return v > 0 ? (pid_t)v : 0;
}

bool local_sshd_up(const struct node *nd)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/sshd.pid", nd->run);
	pid_t pid = local_read_pid(path);
	if (!pid || kill(pid, 0) != 0 || !local_pid_in_ns(pid, nd->ns))
		return false;
	return nd->addr[0] && local_ssh_banner(nd->addr, 2000);
}

/* First IPv4 address of eth0 in ns ("" when none). */
void local_ns_addr(struct cg_provider *p, const char *ns, char out[INET_ADDRSTRLEN])
{
	struct cg_buf o = {0}, e = {0};
	int st = 0;
	out[0] = '\0';
	const char *const argv[] = { p->ip, "-n", ns, "-o", "-4", "addr", "show", "dev", "eth0", NULL };
	if (local_run_status(argv, -1, &o, &e, &st, NULL) == 0 && st == 0 && o.data) {
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
