/*
 * local.c - the local provider (see local.h): bridges, network namespaces,
 * veth pairs and one sshd per namespace, driven through `ip` and `sshd`
 * spawned with argv arrays (never a shell string).
 *
 * Every apply() is idempotent: each step first looks at what exists (a
 * namespace, a link, an address, a running sshd) and only does what is
 * missing, so a machine half-made by a crash is finished, not duplicated.
 */
#include "internal.h"

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
	if (local_parse_cidr(range, &net, &plen) != 0 || plen < 8 || plen > 23)
		return cg_error(err, CG_EXIT_CONFIG,
				"local: network \"%s\" must be an IPv4 CIDR with a prefix of /8 to /23 "
				"(e.g. %s)", range, DEFAULT_RANGE);
	const char *user = c->ssh_user && *c->ssh_user ? c->ssh_user : DEFAULT_USER;
	if (!local_valid_label(user) || user[0] == '-' || !strcmp(user, "root"))
		return cg_error(err, CG_EXIT_CONFIG,
				"local: ssh_user \"%s\" cannot be a node login user (not root; "
				"[A-Za-z0-9_-])", user);
	{	/* early, so that plan says it before apply makes anything */
		struct passwd pw;
		char buf[4096];
		if (local_user_check(c, user, local_account_of(user, &pw, buf, sizeof(buf)), err) != 0)
			return -1;
	}
	struct cg_provider *p = cg_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->c = c;
	p->interrupted = env ? env->interrupted : NULL;
	const char *sd = env && env->state_dir ? env->state_dir : ".cassandgo";
	p->state_dir = local_abs_path(sd);
	p->cname = local_sanitise(c->name);
	cg_local_tag(c->name, sd, p->tag);
	snprintf(p->bridge, sizeof(p->bridge), "cgb%s", p->tag);
	snprintf(p->prefix, sizeof(p->prefix), "cg-%s-", p->tag);
	p->net = net;
	p->plen = plen;
	p->gw = net + 1;
	p->user = cg_xstrdup(user);
	const char *root = getenv("CASSANDGO_LOCAL_ROOT");
	p->root = local_abs_path(root && *root ? root : "/var/lib/cassandgo");
	/* where Cassandra's jars are: the jar cache (the default), dir:PATH as
	 * given, or (maven, upload) each node's own copy: NULL */
	const char *cache = getenv("CASSANDGO_CASSANDRA_CACHE");
	if (!c->install)
		p->lib_dir = cg_xasprintf("%s/cassandra-%s/lib",
					  cache && *cache ? cache : "/var/cache/cassandgo",
					  c->cassandra_version ? c->cassandra_version : "unknown");
	else if (!strncmp(c->install, "dir:", 4))
		p->lib_dir = cg_xstrdup(c->install + 4);
	local_find_prog(p->ip, sizeof(p->ip), "ip");
	local_find_prog(p->sshd, sizeof(p->sshd), "sshd");
	local_find_prog(p->useradd, sizeof(p->useradd), "useradd");
	local_find_prog(p->usermod, sizeof(p->usermod), "usermod");
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
void local_regions_of(struct cg_provider *p, const struct cg_rset *known, enum cg_kind kind,
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
		if (!r || !local_valid_label(r))
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

void local_free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int keypair_ensure(struct cg_provider *p, const struct cg_resource *desired,
			  struct cg_resource *result, struct cg_err *err)
{
	const char *region = desired->region;
	if (!region)
		region = strchr(desired->addr, '.') ? strchr(desired->addr, '.') + 1 : "";
	if (!local_valid_label(region))
		return cg_error(err, CG_EXIT_ERROR, "local: region \"%s\" must be [A-Za-z0-9_-]", region);
	char *dir = cg_xasprintf("%s/keys", p->state_dir);
	char *file = cg_xasprintf("%s/%s-%s", dir, p->cname, region);
	char *pub = NULL, *fp = NULL;
	int rc = -1;
	if (cg_mkdir_p(dir, 0700, err) != 0 || local_keygen(file, &pub, err) != 0)
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
	if (!local_valid_label(region))
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
			return local_bridge_release(p, ctx, current->addr, err);
		if (local_bridge_ensure(p, err) != 0)
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
		if (op == CG_OP_UPDATE && current && cg_res_get(desired, "power") &&
		    !strcmp(cg_res_get(desired, "power"), "off"))
			return cg_local_power_off(p, ctx, current, result, err);
		return op == CG_OP_DELETE ? local_machine_destroy(p, ctx, current, err)
					  : local_machine_ensure(p, ctx, desired, result, err);
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
