/*
 * machine.c - the local provider's machine.<dc>.n<i>: the login user,
 * the namespace with its veth, address and sshd, and the meta file beside it.
 */
#include "internal.h"

/* --- login user ---------------------------------------------------------- */

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
enum account local_account_of(const char *user, struct passwd *pw, char *buf, size_t n)
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
int local_user_check(const struct cg_cluster *c, const char *user, enum account a,
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

static int write_str(const char *path, const char *s, int mode, struct cg_err *err);

/* The login user runs cgnode through sudo, as on a cloud machine (where
 * cloud-init gives the default user the same rule): it is the cluster's
 * admin account, reached only with the key in the state directory. What
 * serves the network, Cassandra, runs as RUN_USER without it. */
static int sudo_rule(struct cg_provider *p, struct cg_err *err)
{
	if (access("/usr/bin/sudo", X_OK) != 0)
		return cg_error(err, CG_EXIT_ERROR,
				"local: sudo is not installed: the login user %s runs the node script "
				"through it (apt-get install sudo)", p->user);
	/* sudo skips files in sudoers.d whose names hold a dot */
	char path[300], *rule = cg_xasprintf("%s ALL=(root) NOPASSWD: ALL\n", p->user);
	snprintf(path, sizeof(path), "/etc/sudoers.d/cassandgo-%s", p->user);
	for (char *c = path + strlen("/etc/sudoers.d/"); *c; c++)
		if (*c == '.')
			*c = '_';
	int rc = 0;
	char *have = NULL;
	size_t hl = 0;
	if (cg_file_read(path, &have, &hl, NULL) != 0 || strcmp(have, rule) != 0)
		rc = write_str(path, rule, 0440, err);
	free(have);
	free(rule);
	return rc;
}

/* The login user's home is shared by every node of the machine: its
 * .profile puts the node's own bin/ (CASSANDGO_BIN, set by the node's sshd)
 * first on PATH again after /etc/profile reset it in a login shell.
 * Written when missing or ours (marked), never over the user's own. */
#define PROFILE_MARK "# cassandgo (local provider)"
static int user_profile(const struct passwd *pw, struct cg_err *err)
{
	static const char text[] =
		PROFILE_MARK ": the node's nodetool and cqlsh first on PATH\n"
		"# (its sshd sets CASSANDGO_BIN; /etc/profile has reset PATH)\n"
		"[ -n \"${CASSANDGO_BIN-}\" ] && PATH=\"$CASSANDGO_BIN:$PATH\" && export PATH\n";
	char path[512];
	snprintf(path, sizeof(path), "%s/.profile", pw->pw_dir);
	char *have = NULL;
	size_t hl = 0;
	struct cg_err e = {0};
	struct stat st;
	int rc = 0;
	if (lstat(path, &st) == 0 &&
	    (!S_ISREG(st.st_mode) || cg_file_read(path, &have, &hl, &e) != 0 ||
	     strncmp(have, PROFILE_MARK, strlen(PROFILE_MARK)) != 0 || !strcmp(have, text))) {
		free(have);
		return 0;	/* the user's own, or ours as it should be */
	}
	free(have);
	rc = cg_file_write_atomic(path, text, strlen(text), 0644, err);
	if (rc == 0 && chown(path, pw->pw_uid, pw->pw_gid) != 0)
		rc = cg_error(err, CG_EXIT_ERROR, "chown %s: %s", path, strerror(errno));
	return rc;
}

static int user_ensure(struct cg_provider *p, uid_t *uid, gid_t *gid, struct cg_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	char home[256];
	snprintf(home, sizeof(home), "/home/%s", p->user);
	struct passwd pw;
	char buf[4096];
	enum account a = local_account_of(p->user, &pw, buf, sizeof(buf));
	if (local_user_check(p->c, p->user, a, err) != 0) {
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
		if (local_run_status(argv, -1, NULL, &eb, &st, err) != 0 ||
		    (st != 0 && st != 9 /* created meanwhile */)) {
			if (st)
				cg_error(err, CG_EXIT_ERROR, "useradd %s failed (exit %d): %s", p->user,
					 st, eb.data ? local_rtrim(eb.data) : "");
			cg_buf_free(&eb);
			rc = -1;
			goto out;
		}
		cg_buf_free(&eb);
		/* created meanwhile by someone else: whose is it? */
		a = local_account_of(p->user, &pw, buf, sizeof(buf));
		if (a == ACCOUNT_NONE) {
			rc = cg_error(err, CG_EXIT_ERROR, "user %s missing after useradd", p->user);
			goto out;
		}
		if (local_user_check(p->c, p->user, a, err) != 0) {
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
	if (sudo_rule(p, err) != 0) {
		rc = -1;
		goto out;
	}
	if (!local_path_exists(pw.pw_dir)) {
		if (local_dir_make(pw.pw_dir, 0755, err) != 0 ||
		    chown(pw.pw_dir, pw.pw_uid, pw.pw_gid) != 0) {
			rc = err && err->code ? -1 : cg_error(err, CG_EXIT_ERROR, "chown %s: %s",
							      pw.pw_dir, strerror(errno));
			goto out;
		}
	}
	if (user_profile(&pw, err) != 0)
		rc = -1;
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
	char *pub = local_read_trim(pubpath);
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
	pid_t old = local_read_pid(pidf);
	if (old && kill(old, 0) == 0 && local_pid_in_ns(old, nd->ns)) {
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
	int fd = local_ns_open(nd->ns);
	if (fd < 0)
		return cg_error(err, CG_EXIT_ERROR, "namespace %s vanished", nd->ns);
	/* daemon mode: sshd forks, detaches and writes its PidFile */
	int r = local_run_in(fd, NULL, err, (const char *const[]){ p->sshd, "-f", cfg, "-E", log, NULL });
	close(fd);
	if (r != 0)
		return -1;
	int64_t deadline = cg_now_ms() + SSHD_WAIT_MS;
	while (cg_now_ms() < deadline) {
		if (local_ssh_banner(nd->addr, 1000))
			return 0;
		if (local_stop_now(p))
			return cg_error(err, CG_EXIT_ERROR, "interrupted while waiting for sshd of %s", nd->ns);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	char *tail = local_read_trim(log);
	const char *t = tail ? tail : "";
	size_t tl = strlen(t);
	cg_error(err, CG_EXIT_ERROR, "sshd of %s does not answer on %s:%d after %d s; log: %s",
		 nd->ns, nd->addr, SSH_PORT, SSHD_WAIT_MS / 1000, tl > 800 ? t + tl - 800 : t);
	free(tail);
	return -1;
}

int local_netns_ensure(struct cg_provider *p, const struct node *nd, struct cg_err *err)
{
	int fd = local_ns_open(nd->ns);
	if (fd >= 0) {
		close(fd);
	} else {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, nd->ns);
		if (local_path_exists(path))	/* a crash left the mount point only */
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
	if (local_link_exists(nd->veth) && !peer &&
	    RUN(err, NULL, p->ip, "link", "del", "dev", nd->veth) != 0)
		return -1;
	if (!local_link_exists(nd->veth)) {
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
	local_ns_addr(p, nd->ns, have);
	snprintf(cidr, sizeof(cidr), "%s/%d", nd->addr, p->plen);
	if (strcmp(have, nd->addr) != 0) {
		if (RUN(err, NULL, p->ip, "-n", nd->ns, "addr", "flush", "dev", "eth0") != 0 ||
		    RUN(err, NULL, p->ip, "-n", nd->ns, "addr", "add", cidr, "dev", "eth0") != 0)
			return -1;
	}
	local_ip4_str(p->gw, gw);
	return RUN(err, NULL, p->ip, "-n", nd->ns, "link", "set", "dev", "eth0", "up") ||
	       RUN(err, NULL, p->ip, "-n", nd->ns, "route", "replace", "default", "via", gw) ? -1 : 0;
}

void machine_attrs(struct cg_provider *p, const struct node *nd, const char *ip,
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
	if (p->lib_dir) {
		cg_res_set(r, "lib_dir", p->lib_dir, CG_ATTR_COMPUTED);
	} else {	/* maven, upload: the node's own copy (cgnode cmd_install) */
		cg_res_setf(r, "lib_dir", CG_ATTR_COMPUTED, "%s/cassandra-%s/lib", nd->base_dir,
			    p->c->cassandra_version ? p->c->cassandra_version : "unknown");
	}
	cg_res_set(r, "run_user", RUN_USER, CG_ATTR_COMPUTED);
	cg_res_set(r, "sshd", up ? "up" : "down", CG_ATTR_COMPUTED);
	bool parked = cg_local_parked(nd);
	cg_res_set(r, "power", parked ? "off" : "on", CG_ATTR_INFO);
	/* the planner plans an update in place for health != "ok" */
	if (parked && !up)
		cg_res_set(r, "health", "the node is parked (cassandgo stop)", CG_ATTR_COMPUTED);
	else if (up)
		cg_res_set(r, "health", "ok", CG_ATTR_COMPUTED);
	else if (ip && *ip)
		cg_res_setf(r, "health", CG_ATTR_COMPUTED, "sshd is not answering on %s:%d", ip, SSH_PORT);
	else
		cg_res_set(r, "health", "the namespace has no address", CG_ATTR_COMPUTED);
}

int local_machine_ensure(struct cg_provider *p, struct cg_ctx *ctx,
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
	if (!local_valid_label(region)) {
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
	/* the login user walks down to base_dir (root's: cgnode, run through
	 * sudo, owns bin/ and conf/ and gives data/ to RUN_USER): what we
	 * create is 0755 whatever our umask is; what exists keeps its mode */
	if (local_dir_make(nd.base_dir, 0755, err) != 0 ||
	    local_dirs_searchable(p, nd.base_dir, uid, gid, err) != 0)
		goto out;
	char key[256], path[256];
	/* root-owned and not writable by the user: sshd's StrictModes checks;
	 * sshd reads authorized_keys as the user, who must reach it */
	snprintf(path, sizeof(path), "%s/authorized_keys", nd.run);
	if (local_dir_make(nd.run, 0755, err) != 0 || local_dirs_searchable(p, path, uid, gid, err) != 0)
		goto out;
	if (local_bridge_ensure(p, err) != 0 || local_netns_ensure(p, &nd, err) != 0)
		goto out;
	snprintf(key, sizeof(key), "%s/ssh_host_ed25519_key", nd.run);
	if (local_keygen(key, &hostpub, err) != 0)
		goto out;
	hk = local_pub_strip(hostpub);
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
		"Subsystem sftp internal-sftp\n"
		/* the node's nodetool and cqlsh (cgnode tools) first on the
		 * login user's PATH; its shared home's .profile keeps them
		 * there for a login shell (user_profile) */
		"SetEnv \"PATH=%s/bin:/usr/local/bin:/usr/bin:/bin\" \"CASSANDGO_BIN=%s/bin\"\n",
		nd.ns, nd.addr, SSH_PORT, key, nd.run, nd.run, p->user, nd.base_dir, nd.base_dir);
	snprintf(path, sizeof(path), "%s/sshd_config", nd.run);
	w = write_str(path, cfg, 0644, err);
	free(cfg);
	if (w != 0 || write_meta(&nd, desired, region, err) != 0)
		goto out;
	cg_local_unpark(&nd);	/* a parked node runs again */
	if (!local_sshd_up(&nd)) {
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

int local_machine_destroy(struct cg_provider *p, struct cg_ctx *ctx,
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
	if (local_link_exists(nd.veth) && RUN(err, NULL, p->ip, "link", "del", "dev", nd.veth) != 0 &&
	    local_link_exists(nd.veth))
		goto out;
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, nd.ns);
	if (local_path_exists(path) && RUN(err, NULL, p->ip, "netns", "del", nd.ns) != 0 &&
	    local_path_exists(path))
		goto out;
	if (local_rm_rf(nd.base_dir, err) != 0 || local_rm_rf(nd.run, err) != 0)
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

void local_read_meta(const struct node *nd, struct cg_resource *r)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/meta", nd->run);
	char *s = local_read_trim(path);
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
