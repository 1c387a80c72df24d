/*
 * refresh.c - the local provider's refresh: the bridge, the key files and
 * every namespace of the cluster, probed in parallel.
 */
#include "internal.h"

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
	int fd = local_ns_open(ns);
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
		int fd = local_ns_open(pr->nd.ns);
		if (fd < 0) {
			pr->gone = true;	/* a leftover file, not a namespace */
			continue;
		}
		close(fd);
		ns_addr_setns(pr->nd.ns, pr->nd.addr);
		pr->up = pr->nd.addr[0] && local_sshd_up(&pr->nd);
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

int local_refresh(struct cg_provider *p, const struct cg_rset *known,
		  struct cg_rset *live, struct cg_err *err)
{
	(void)err;
	static const struct cg_rset empty;
	if (!known)
		known = &empty;
	char **regs;
	int nregs;
	/* network */
	if (local_link_exists(p->bridge)) {
		local_regions_of(p, known, CG_KIND_NETWORK, &regs, &nregs);
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
		local_free_strv(regs, nregs);
	}
	/* keypair */
	local_regions_of(p, known, CG_KIND_KEYPAIR, &regs, &nregs);
	for (int i = 0; i < nregs; i++) {
		char *file = cg_xasprintf("%s/keys/%s-%s", p->state_dir, p->cname, regs[i]);
		char *pubf = cg_xasprintf("%s.pub", file);
		char *pub = local_path_exists(file) ? local_read_trim(pubf) : NULL;
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
	local_free_strv(regs, nregs);
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
		local_read_meta(nd, r);	/* what the node was made with wins */
		char kpath[256];
		snprintf(kpath, sizeof(kpath), "%s/ssh_host_ed25519_key.pub", nd->run);
		char *line = local_read_trim(kpath);
		char *hk = line ? local_pub_strip(line) : NULL;
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
