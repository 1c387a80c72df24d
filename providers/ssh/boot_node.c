/*
 * boot_node.c - the bootstrap provider's sessions to nodes: who and where to
 * log in, cgnode kept current on the node, commands run through it, ring
 * views parsed from nodetool (see boot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>


#include "boot.h"

int boot_env_secs(const char *name, int dflt)
{
	const char *v = getenv(name);
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && n > 0 && n < 86400 ? (int)n : dflt;
}

/* --- helpers -------------------------------------------------------------- */

char *cg_boot_status_get(const char *status, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = status; l && *l;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		if (len > kl && strncmp(l, key, kl) == 0 && l[kl] == '=')
			return cg_xstrndup(l + kl + 1, len - kl - 1);
		l = eol ? eol + 1 : NULL;
	}
	return NULL;
}

int boot_status_is(const char *status, const char *key, const char *want)
{
	char *v = cg_boot_status_get(status, key);
	int eq = v && strcmp(v, want) == 0;
	free(v);
	return eq;
}

struct tok {
	int64_t t;
	int who;
};

static int tok_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct tok *)a)->t, y = ((const struct tok *)b)->t;
	return x < y ? -1 : x > y;
}

static void dc_shares(struct tok *v, int n, double *shares)
{
	if (n == 0)
		return;
	qsort(v, (size_t)n, sizeof(*v), tok_cmp);
	for (int i = 0; i < n; i++) {
		uint64_t prev = (uint64_t)v[(i + n - 1) % n].t;
		uint64_t d = (uint64_t)v[i].t - prev;	/* wraps mod 2^64 */
		long double r = n == 1 ? 1.0L : (long double)d / 18446744073709551616.0L;
		if (shares[v[i].who] < 0)
			shares[v[i].who] = 0;
		shares[v[i].who] += (double)r;
	}
}

int cg_boot_ring_shares(const char *text, const char *const *addrs, int n, double *shares)
{
	for (int i = 0; i < n; i++)
		shares[i] = -1;
	struct tok *v = NULL;
	int nv = 0, cap = 0, total = 0;
	for (const char *l = text; l && *l;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		char *line = cg_xstrndup(l, len);
		l = eol ? eol + 1 : NULL;
		if (strncmp(line, "Datacenter:", 11) == 0) {
			dc_shares(v, nv, shares);
			nv = 0;
			free(line);
			continue;
		}
		char *first = line + strspn(line, " \t");
		size_t fl = strcspn(first, " \t");
		char *last = line + len;
		while (last > line && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r'))
			last--;
		*last = 0;
		while (last > line && last[-1] != ' ' && last[-1] != '\t')
			last--;
		char *end;
		errno = 0;
		long long t = strtoll(last, &end, 10);
		if (!*last || *end || errno || last == first) {
			free(line);
			continue;
		}
		first[fl] = 0;
		for (int i = 0; i < n; i++)
			if (strcmp(first, addrs[i]) == 0) {
				if (nv == cap) {
					cap = cap ? 2 * cap : 64;
					v = cg_xrealloc(v, (size_t)cap * sizeof(*v));
				}
				v[nv].t = t;
				v[nv].who = i;
				nv++;
				total++;
				break;
			}
		free(line);
	}
	dc_shares(v, nv, shares);
	free(v);
	return total;
}

bool boot_status_requires_auth(const char *status)
{
	char *sec = cg_boot_status_get(status, "security"), *tls = cg_boot_status_get(status, "tls");
	char *ch = cg_boot_status_get(status, "config_hash");
	char *rh = cg_boot_status_get(status, "running_hash");
	/* a node from before the security steps: on when it holds a certificate */
	bool on = sec && *sec ? !strcmp(sec, "on") : tls && *tls;
	/* the rendered step counts only once Cassandra runs it: while security
	 * turns on, every config is uploaded before the restarts */
	on = on && boot_status_is(status, "running", "1") && ch && rh && *ch && !strcmp(ch, rh);
	free(sec), free(tls), free(ch), free(rh);
	return on;
}

int boot_dc_index(const struct cg_cluster *c, const char *dc)
{
	for (int i = 0; dc && i < c->ndcs; i++)
		if (strcmp(c->dcs[i].name, dc) == 0)
			return i;
	return -1;
}


/* A session that served an action waits in p's idle list for the next
 * one on the same machine (its install, config and start each connect,
 * and a handshake costs 0.1-0.2 s on a busy machine). Bounded: a full
 * list closes it. */
#define IDLE_MAX 64

static void idle_put(struct cg_provider *p, char *key, struct cg_ssh *s)
{
	pthread_mutex_lock(&p->mu);
	if (p->nidle < IDLE_MAX) {
		p->idle = cg_xrealloc(p->idle, (size_t)(p->nidle + 1) * sizeof(*p->idle));
		p->idle[p->nidle++] = (struct boot_idle){ key, s };
		key = NULL;
		s = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	cg_ssh_close(s);
	free(key);
}

/* An idle session for key, taken out of the list (NULL: none). */
static struct cg_ssh *idle_take(struct cg_provider *p, const char *key)
{
	struct cg_ssh *s = NULL;
	pthread_mutex_lock(&p->mu);
	for (int i = p->nidle - 1; i >= 0 && !s; i--) {
		if (strcmp(p->idle[i].key, key))
			continue;
		s = p->idle[i].s;
		free(p->idle[i].key);
		p->idle[i] = p->idle[--p->nidle];
	}
	pthread_mutex_unlock(&p->mu);
	return s;
}

void boot_node_clear(struct node *n)
{
	if (n->p && n->s && cg_ssh_usable(n->s)) {
		idle_put(n->p, n->skey, n->s);
		n->skey = NULL;
		n->s = NULL;
	}
	free(n->skey);
	cg_ssh_close(n->s);
	cg_res_clear(&n->m);
	free(n->key_file);
	free(n->qbase);
	free(n->cgnode);
	memset(n, 0, sizeof(*n));
}

/* Fill n from machine m and keypair kp (kp may be NULL: error). */
int boot_node_init(struct node *n, const struct cg_resource *m, const struct cg_resource *kp,
		     struct cg_err *err)
{
	memset(n, 0, sizeof(*n));
	cg_res_copy(&n->m, m);
	n->label = n->m.addr;
	n->base = cg_res_get(&n->m, "base_dir");
	const char *kf = kp ? cg_res_get(kp, "key_file") : NULL;
	if (!n->base || !*n->base)
		return cg_error(err, CG_EXIT_ERROR, "%s: no base_dir recorded", m->addr);
	if (!kf || !*kf)
		return cg_error(err, CG_EXIT_ERROR, "%s: no SSH key file (keypair.%s.key_file)",
				m->addr, m->region ? m->region : "?");
	n->key_file = cg_xstrdup(kf);
	n->qbase = cg_ssh_quote(n->base);
	char *bin = cg_xasprintf("%s/bin/cgnode", n->base);
	n->cgnode = cg_ssh_quote(bin);
	free(bin);
	return 0;
}

/* Where and as whom cassandgo logs into a machine. */
static const char *ssh_addr(const struct cg_cluster *c, const struct cg_resource *m)
{
	const char *a = c->ssh_address == CG_SSH_PUBLIC ? cg_res_get(m, "public_ip")
							: cg_res_get(m, "private_ip");
	if (!a || !*a)
		a = cg_res_get(m, "private_ip");
	return a && *a ? a : NULL;
}

static const char *ssh_alias(const struct cg_resource *m)
{
	return m->id && *m->id ? m->id : m->addr;
}

static const char *ssh_user(const struct cg_cluster *c)
{
	return c->ssh_user && *c->ssh_user ? c->ssh_user : "cassandgo";
}

char *cg_boot_ssh_cmdline(const struct cg_cluster *c, const char *known_hosts,
			  const struct cg_resource *m, const char *key_file)
{
	const char *addr = ssh_addr(c, m), *port = cg_res_get(m, "ssh_port");
	if (!addr)
		return NULL;
	char *ud = cg_xasprintf("%s@%s", ssh_user(c), addr);
	char *qk = cg_ssh_quote(key_file ? key_file : ""), *qh = cg_ssh_quote(known_hosts);
	char *qa = cg_ssh_quote(ssh_alias(m)), *qu = cg_ssh_quote(ud);
	char *qp = cg_ssh_quote(port && *port ? port : "22");
	char *cmd = cg_xasprintf("ssh -i %s -o IdentitiesOnly=yes -o UserKnownHostsFile=%s "
				 "-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=%s "
				 "-o StrictHostKeyChecking=yes -p %s %s", qk, qh, qa, qp, qu);
	free(ud), free(qk), free(qh), free(qa), free(qu), free(qp);
	return cmd;
}

int boot_node_connect(struct cg_provider *p, struct node *n, int connect_ms,
			struct cg_err *err)
{
	const struct cg_resource *m = &n->m;
	const char *addr = ssh_addr(p->c, m);
	if (!addr)
		return cg_error(err, CG_EXIT_ERROR, "%s: no address recorded", m->addr);
	const char *port = cg_res_get(m, "ssh_port");
	struct cg_ssh_target t = {
		.name = m->addr,
		.alias = ssh_alias(m),
		.host = addr,
		.port = port ? atoi(port) : 22,
		.user = ssh_user(p->c),
		.key_file = n->key_file,
		.host_key = cg_res_get(m, "host_key"),
		.known_hosts = p->known_hosts,
		.connect_timeout_ms = connect_ms,
		.io_timeout_ms = 30000,
		.repin = n->repin,
	};
	/* Everything that makes the session this one: the address, the login,
	 * the key and the host key it was checked against (the known_hosts
	 * file is the provider's, like the list). */
	char *key = cg_xasprintf("%s\n%s\n%d\n%s\n%s\n%s", t.alias, t.host, t.port, t.user,
				 t.key_file ? t.key_file : "", t.host_key ? t.host_key : "");
	struct cg_ssh *s;
	while ((s = idle_take(p, key))) {
		/* Still there? (the machine may have restarted meanwhile) */
		if (cg_ssh_alive(s, 5000)) {
			n->s = s;
			n->p = p;
			n->skey = key;
			return 0;
		}
		cg_ssh_close(s);
	}
	if (cg_ssh_connect(&t, &n->s, err)) {
		free(key);
		return -1;
	}
	n->p = p;
	n->skey = key;
	return 0;
}

int boot_put_files(struct node *n, const char *dir, const struct boot_file *f, int nf,
		   int timeout_ms, struct cg_err *err)
{
	/* as root (sudo -n unless the login is root), positional arguments
	 * (DIR, then NAME MODE LEN per file), quoted once by cg_ssh_quote;
	 * umask first, so no temp file exists with wider permissions. stdin
	 * is the files one after the other: GNU head -c reads no more than
	 * it is asked, and the size check catches a short or long file. */
	static const char script[] =
		"umask 077 && d=$1 && shift && install -d -m 0755 -o 0 -g 0 \"$d\" || exit 1; "
		"while [ $# -ge 3 ]; do t=\"$d/.tmp.$$.$1\"; "
		"head -c \"$3\" >\"$t\" || { rm -f \"$t\"; exit 1; }; "
		"w=$(wc -c <\"$t\"); [ $w -eq \"$3\" ] || "
		"{ echo \"cg-put: $1: $w of $3 bytes came\" >&2; rm -f \"$t\"; exit 1; }; "
		"chmod \"$2\" \"$t\" && mv -fT \"$t\" \"$d/$1\" || { rm -f \"$t\"; exit 1; }; "
		"shift 3; done";
	size_t total = 0;
	for (int i = 0; i < nf; i++) {
		const char *nm = f[i].name;
		if (!*nm || strchr(nm, '/') || !strcmp(nm, ".") || !strcmp(nm, ".."))
			return cg_error(err, CG_EXIT_ERROR, "invalid file name '%s'", nm);
		total += f[i].len;
	}
	struct cg_buf cmd = {0};
	char *q = cg_ssh_quote(script);
	cg_buf_addf(&cmd, "if [ \"$(id -u)\" = 0 ]; then R=; else R='sudo -n'; fi; "
		    "$R sh -c %s cg-put ", q);
	free(q);
	q = cg_ssh_quote(dir);
	cg_buf_adds(&cmd, q);
	free(q);
	/* one allocation: the stream may hold a private key, wiped below */
	char *in = cg_xmalloc(total + 1);
	size_t at = 0;
	for (int i = 0; i < nf; i++) {
		q = cg_ssh_quote(f[i].name);
		cg_buf_addf(&cmd, " %s %o %zu", q, (unsigned)f[i].mode & 07777, f[i].len);
		free(q);
		if (f[i].len)
			memcpy(in + at, f[i].data, f[i].len);
		at += f[i].len;
	}
	int rc = cg_ssh_run(n->s, cmd.data, in, total, timeout_ms, NULL, err);
	OPENSSL_cleanse(in, total);
	free(in);
	cg_buf_free(&cmd);
	return rc;
}

/* Upload cgnode when the node's copy differs from the embedded one. */
static int ensure_cgnode(struct cg_provider *p, struct node *n, struct cg_err *err)
{
	char *key = cg_xasprintf("%s\n%s", n->m.id ? n->m.id : n->m.addr, n->base);
	int known = 0;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->nfresh && !known; i++)
		known = strcmp(p->fresh[i], key) == 0;
	pthread_mutex_unlock(&p->mu);
	if (known) {
		free(key);
		return 0;
	}
	/* base_dir and bin/ belong to root (cgnode runs through sudo and drops
	 * to the run user): a node made by an older cassandgo, whose login
	 * user owned them, is taken over here. Then the hash of its cgnode. */
	char *cmd = cg_xasprintf(
		"b=%s; [ \"$(stat -c %%u \"$b\" \"$b/bin\" 2>/dev/null | tr -d '\\n')\" = 00 ] || "
		"{ if [ \"$(id -u)\" = 0 ]; then R=; else R='sudo -n'; fi; "
		"$R install -d -m 0755 -o 0 -g 0 \"$b\" \"$b/bin\"; } || "
		"{ echo \"cannot make $b root's as $(id -un) (sudo -n)\" >&2; exit 1; }; "
		"cat \"$b/bin/.cgnode.hash\" 2>/dev/null; true", n->qbase);
	char *out = NULL;
	int rc = cg_ssh_run(n->s, cmd, NULL, 0, 30000, &out, err);
	free(cmd);
	if (rc == 0 && strncmp(out, p->cgnode_hash, 16) != 0) {
		char *bin = cg_xasprintf("%s/bin", n->base);
		char *h = cg_xasprintf("%s\n", p->cgnode_hash);
		/* The hash goes last: a crash in between uploads again. */
		const struct boot_file f[] = {
			{ "cgnode", cg_cgnode_script, cg_cgnode_script_len, 0755 },
			{ "CgCql.java", cg_cgcql_source, cg_cgcql_source_len, 0644 },
			{ ".cgnode.hash", h, strlen(h), 0644 },
		};
		rc = boot_put_files(n, bin, f, 3, 60000, err);
		free(h);
		free(bin);
	}
	free(out);
	if (rc == 0) {
		pthread_mutex_lock(&p->mu);
		p->fresh = cg_xrealloc(p->fresh, (size_t)(p->nfresh + 1) * sizeof(*p->fresh));
		p->fresh[p->nfresh++] = key;
		key = NULL;
		pthread_mutex_unlock(&p->mu);
	}
	free(key);
	return rc;
}

/*
 * The one way a command reaches a node: `<cgnode> ARG...` with every
 * argument single-quoted (cg_ssh_quote), whatever its origin (config,
 * state, another node's nodetool output). args ends with NULL.
 */
char *cg_boot_cgnode_cmdline(const char *cgnode_path, const char *const *args)
{
	struct cg_buf b = {0};
	char *q = cg_ssh_quote(cgnode_path);
	cg_buf_adds(&b, q);
	free(q);
	for (int i = 0; args[i]; i++) {
		q = cg_ssh_quote(args[i]);
		cg_buf_addf(&b, " %s", q);
		free(q);
	}
	return cg_buf_detach(&b);
}

/* Run `cgnode ARG...` (NULL-terminated; see cg_boot_cgnode_cmdline) with
 * stdin (may be NULL); *out (may be NULL) gets stdout. */
/* `cgnode ARG...` (va, NULL-terminated) as one quoted command line */
static char *cgnode_cmd(struct node *n, va_list ap)
{
	const char *args[16];
	int na = 0;
	for (const char *a; na < 15 && (a = va_arg(ap, const char *));)
		args[na++] = a;
	args[na] = NULL;
	char *bin = cg_xasprintf("%s/bin/cgnode", n->base);
	char *cmd = cg_boot_cgnode_cmdline(bin, args);
	free(bin);
	return cmd;
}

int boot_cgnode_in(struct node *n, int timeout_ms, const char *in, size_t inlen, char **out,
		     struct cg_err *err, ...)
{
	va_list ap;
	va_start(ap, err);
	char *cmd = cgnode_cmd(n, ap);
	va_end(ap);
	int rc = cg_ssh_run(n->s, cmd, in, inlen, timeout_ms, out, err);
	free(cmd);
	return rc;
}

int boot_cgnode_all(struct node *n, int timeout_ms, char **out, struct cg_err *err, ...)
{
	va_list ap;
	va_start(ap, err);
	char *cmd = cgnode_cmd(n, ap);
	va_end(ap);
	struct cg_ssh_result r;
	*out = NULL;
	int rc = cg_ssh_exec(n->s, cmd, NULL, 0, timeout_ms, &r, err);
	if (rc == 0) {
		if (r.signal || r.status != 0)
			rc = cg_ssh_result_error(n->s, cmd, &r, err);
		*out = r.out;
		r.out = NULL;
		cg_ssh_result_free(&r);
	}
	free(cmd);
	return rc;
}

/* `nodetool status` on n, parsed into *ring (caller frees: cg_ring_free). */
int boot_node_ring(struct node *n, struct cg_ring *ring, struct cg_err *err)
{
	char *out = NULL;
	int rc = boot_cgnode(n, 60000, &out, err, "nodetool", "status");
	if (rc == 0)
		rc = cg_nodetool_status_parse(out, ring, err);
	free(out);
	return rc;
}

/*
 * Open the node of a node-level resource through ctx. repin: the machine is
 * a new one (its install is being created): a pin left by an earlier machine
 * of the same id (local namespaces are re-created under their name) is
 * replaced by the host key the machine's record carries, once the server has
 * presented exactly that key. The key comes from the tool's own record,
 * never from the server.
 */
int boot_node_for(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *r,
		    bool repin, struct node *n, struct cg_err *err)
{
	char *maddr = cg_addr_node(CG_KIND_MACHINE, r->dc, r->node);
	struct cg_resource m, kp;
	memset(&m, 0, sizeof(m));
	memset(&kp, 0, sizeof(kp));
	memset(n, 0, sizeof(*n));
	int rc = -1;
	if (ctx->lookup(ctx, maddr, &m) != 0) {
		cg_error(err, CG_EXIT_ERROR, "%s: its machine %s is not recorded", r->addr, maddr);
		goto out;
	}
	char *kaddr = cg_addr_region(CG_KIND_KEYPAIR, m.region ? m.region : r->region);
	int havekp = ctx->lookup(ctx, kaddr, &kp) == 0;
	free(kaddr);
	if (boot_node_init(n, &m, havekp ? &kp : NULL, err))
		goto out;
	if (ctx->progress)
		ctx->progress(ctx, r->addr, "connecting to %s", maddr);
	n->repin = repin;
	if (boot_node_connect(p, n, boot_env_secs("CASSANDGO_SSH_TIMEOUT", 300) * 1000, err) ||
	    ensure_cgnode(p, n, err))
		goto out;
	rc = 0;
out:
	if (rc)
		boot_node_clear(n);
	cg_res_clear(&m);
	cg_res_clear(&kp);
	free(maddr);
	return rc;
}


/* Connect to machine m (NULL: error) with its region's key pair. */
int boot_node_of_machine(struct cg_provider *p, struct cg_ctx *ctx,
			   const struct cg_resource *m, int connect_ms, struct node *n,
			   struct cg_err *err)
{
	struct cg_resource kp;
	memset(&kp, 0, sizeof(kp));
	memset(n, 0, sizeof(*n));
	if (!m)
		return cg_error(err, CG_EXIT_ERROR, "a machine of the cluster is not recorded");
	char *kaddr = cg_addr_region(CG_KIND_KEYPAIR, m->region);
	int have = ctx->lookup(ctx, kaddr, &kp) == 0;
	free(kaddr);
	int rc = boot_node_init(n, m, have ? &kp : NULL, err);
	if (!rc)
		rc = boot_node_connect(p, n, connect_ms, err);
	if (!rc)
		rc = ensure_cgnode(p, n, err);
	if (rc)
		boot_node_clear(n);
	cg_res_clear(&kp);
	return rc;
}
