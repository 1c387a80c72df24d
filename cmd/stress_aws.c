/*
 * stress_aws.c - `stress` on AWS: each DC's client runs on the DC's load
 * node (loader.<dc>.n1, `stress_nodes:`), over the same pinned SSH as every
 * node (providers/ssh/node.h). See stress.h.
 *
 * On the load node, under <base_dir>/stress/: latte-<version> (sent once;
 * sent again only when its SHA-256 differs from the operator's), and a run
 * directory (0700) per run holding the script, the cluster's CA certificate
 * and latte's reports, removed once they are fetched. The password goes to
 * the remote shell on stdin and into latte's environment, never on a
 * command line; latte's report, which holds it, is scrubbed on the
 * operator's side like a local run's.
 */
#include "stress.h"
#include "../providers/ssh/node.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOADER_CONNECT_MS 20000
#define SEND_TIMEOUT_MS 300000		/* 12 MB of latte over a slow link */

static const char *base_of(const struct cg_resource *m)
{
	const char *b = cg_res_get(m, "base_dir");
	return b && *b ? b : "/var/lib/cassandgo";
}

int stress_loader_prepare(const struct ops *ops, const char *dc, const char *latte,
			  const char *script, const char *ca, const char *stamp,
			  struct stress_loader *out, struct cg_err *err)
{
	memset(out, 0, sizeof(*out));
	char *addr = cg_addr_node(CG_KIND_LOADER, dc, 1);
	const struct cg_resource *m = cg_rset_find(&ops->known, addr);
	free(addr);
	if (!m || !cg_res_get(m, "private_ip"))
		return cg_error(err, CG_EXIT_ERROR, "datacenter %s has no load node recorded: on "
				"AWS each DC's client runs on a load node of its own (never on a "
				"Cassandra node); set stress_nodes: 1 under %s in the config and run "
				"'cassandgo apply %s'", dc, dc, ops->c->name);
	out->m = m;
	const char *base = base_of(m);
	out->latte = cg_xasprintf("%s/stress/latte-%s", base, CG_STRESS_LATTE_VERSION);
	out->dir = cg_xasprintf("%s/stress/run-%s-%d", base, stamp, (int)getpid());
	struct cg_ssh *s = NULL;
	if (cg_node_open(ops->c, &ops->known, ops->known_hosts, m, LOADER_CONNECT_MS, &s, err) < 0)
		return cg_error_wrap(err, "load node of %s", dc);
	char *bin = NULL, *text = NULL;
	size_t blen = 0, tlen = 0;
	int rc = -1;
	/* latte: sent when the load node's copy is missing or differs */
	if (cg_file_read(latte, &bin, &blen, err) < 0)
		goto out;
	char want[65], *have = NULL;
	cg_sha256_hex(bin, blen, want);
	char *ql = cg_ssh_quote(out->latte);
	char *cmd = cg_xasprintf("sha256sum %s 2>/dev/null || true", ql);
	rc = cg_ssh_run(s, cmd, NULL, 0, 30000, &have, err);
	free(cmd);
	free(ql);
	if (rc < 0)
		goto out;
	rc = -1;
	if (!have || strncmp(have, want, 64)) {
		char *dir = cg_dirname(out->latte);
		int urc = cg_ssh_upload(s, dir, strrchr(out->latte, '/') + 1, bin, blen, 0755,
					SEND_TIMEOUT_MS, err);
		free(dir);
		if (urc < 0) {
			free(have);
			cg_error_wrap(err, "sending latte to %s", m->addr);
			goto out;
		}
	}
	free(have);
	/* the run directory: private (latte writes the password into its report) */
	char *qd = cg_ssh_quote(out->dir);
	cmd = cg_xasprintf("umask 077 && mkdir -p %s", qd);
	free(qd);
	rc = cg_ssh_run(s, cmd, NULL, 0, 30000, NULL, err);
	free(cmd);
	if (rc < 0)
		goto out;
	out->prepared = true;	/* cleanup removes it from here on */
	rc = -1;
	if (cg_file_read(script, &text, &tlen, err) < 0 ||
	    cg_ssh_upload(s, out->dir, "workload.rn", text, tlen, 0600, 30000, err) < 0)
		goto out;
	free(text);
	text = NULL;
	if (ca && (cg_file_read(ca, &text, &tlen, err) < 0 ||
		   cg_ssh_upload(s, out->dir, "ca.crt", text, tlen, 0644, 30000, err) < 0))
		goto out;
	rc = 0;
out:
	free(bin);
	free(text);
	cg_ssh_close(s);
	return rc;
}

pid_t stress_loader_spawn(const struct ops *ops, const struct stress_loader *l,
			  char *const argv[], const char *user, const char *password, int *fd,
			  struct cg_err *err)
{
	/* the remote command: every value quoted by the one helper; the
	 * password read from stdin into latte's environment; killed at the
	 * end of the duration latte was given plus a margin, whatever
	 * happens to this side */
	struct cg_buf cmd = {0};
	char *qd = cg_ssh_quote(l->dir);
	/* sshd made the shell a session leader: its pid names the group
	 * that cleanup kills when this side stopped before latte */
	cg_buf_addf(&cmd, "cd %s && echo $$ >pid && ", qd);
	free(qd);
	if (user) {
		char *qu = cg_ssh_quote(user);
		cg_buf_addf(&cmd, "IFS= read -r p && export CASSANDRA_USER=%s CASSANDRA_PASSWORD=\"$p\" "
			    "&& unset p && ", qu);
		free(qu);
	}
	cg_buf_adds(&cmd, "exec timeout -s KILL 86700");
	for (int i = 0; argv[i]; i++) {
		char *q = cg_ssh_quote(argv[i]);
		cg_buf_addf(&cmd, " %s", q);
		free(q);
	}
	cg_buf_adds(&cmd, " 2>&1");
	int p[2];
	if (pipe(p) != 0) {
		cg_buf_free(&cmd);
		return cg_error(err, CG_EXIT_ERROR, "pipe: %s", strerror(errno)), -1;
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		cg_buf_free(&cmd);
		return cg_error(err, CG_EXIT_ERROR, "fork: %s", strerror(e)), -1;
	}
	if (pid == 0) {
		/* the child: one SSH session carrying latte's output to the pipe;
		 * its exit code is latte's (255: the session failed) */
		/* no thread runs yet (stress spawns its clients before `run`
		 * starts its timeline), so libssh2 and OpenSSL are safe here;
		 * gone with its parent, whatever kills it */
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(255);
		close(p[0]);
		struct cg_err e = {0};
		struct cg_ssh *s = NULL;
		struct cg_ssh_result res;
		int code = 255;
		char *in = user ? cg_xasprintf("%s\n", password ? password : "") : NULL;
		if (cg_node_open(ops->c, &ops->known, ops->known_hosts, l->m, LOADER_CONNECT_MS, &s,
				 &e) == 0 &&
		    cg_ssh_exec_stream(s, cmd.data, in, in ? strlen(in) : 0, 87000 * 1000, p[1], &res,
				       &e) == 0) {
			code = res.signal ? 128 + 9 : res.status;
			cg_ssh_result_free(&res);
		} else {
			dprintf(p[1], "cassandgo: %s\n", e.msg);
		}
		if (in) {
			explicit_bzero(in, strlen(in));
			free(in);
		}
		cg_ssh_close(s);
		_exit(code & 0xff);
	}
	setpgid(pid, pid);
	close(p[1]);
	cg_buf_free(&cmd);
	*fd = p[0];
	return pid;
}

int stress_loader_fetch(const struct ops *ops, const struct stress_loader *l,
			const char *const names[], int n, const char *local_dir, struct cg_err *err)
{
	struct cg_ssh *s = NULL;
	if (cg_node_open(ops->c, &ops->known, ops->known_hosts, l->m, LOADER_CONNECT_MS, &s, err) < 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *path = cg_xasprintf("%s/%s", l->dir, names[i]);
		char *q = cg_ssh_quote(path);
		char *cmd = cg_xasprintf("test ! -e %s || cat %s", q, q);
		struct cg_ssh_result res;
		rc = cg_ssh_exec(s, cmd, NULL, 0, 120000, &res, err);
		if (rc == 0 && res.status != 0)
			rc = cg_ssh_result_error(s, cmd, &res, err);
		else if (rc == 0 && res.out_len) {	/* 0600: the report holds the password */
			char *local = cg_xasprintf("%s/%s", local_dir, names[i]);
			rc = cg_file_write_atomic(local, res.out, res.out_len, 0600, err);
			free(local);
		}
		cg_ssh_result_free(&res);
		free(cmd);
		free(q);
		free(path);
	}
	cg_ssh_close(s);
	return rc;
}

int stress_loader_cleanup(const struct ops *ops, struct stress_loader *l, struct cg_err *err)
{
	if (!l->prepared)
		return 0;
	struct cg_ssh *s = NULL;
	if (cg_node_open(ops->c, &ops->known, ops->known_hosts, l->m, LOADER_CONNECT_MS, &s, err) < 0)
		return -1;
	/* a latte this side did not wait for (Ctrl-C, a lost session) is
	 * killed with its group: only while it still runs in this directory */
	char *q = cg_ssh_quote(l->dir);
	char *cmd = cg_xasprintf("p=$(cat %s/pid 2>/dev/null); d=$(cd %s 2>/dev/null && pwd -P); "
				 "if [ -n \"$p\" ] && [ -n \"$d\" ] && "
				 "[ \"$(readlink /proc/$p/cwd 2>/dev/null)\" = \"$d\" ]; "
				 "then kill -KILL -- -$p 2>/dev/null; fi; rm -rf %s", q, q, q);
	int rc = cg_ssh_run(s, cmd, NULL, 0, 30000, NULL, err);
	free(cmd);
	free(q);
	cg_ssh_close(s);
	if (rc == 0)
		l->prepared = false;
	return rc;
}

void stress_loader_free(struct stress_loader *l)
{
	free(l->latte);
	free(l->dir);
	memset(l, 0, sizeof(*l));
}
