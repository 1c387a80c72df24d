/*
 * net.c - the local provider's network.<region> (one bridge per cluster)
 * and the client namespaces `cassandgo stress` plugs into it.
 */
#include "internal.h"

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
			if (local_parse_cidr(cidr, &a, &l) == 0) {
				/* the /32 part of cidr is lost by parse_cidr: recover the address */
				char host[64];
				snprintf(host, sizeof(host), "%.*s", (int)strcspn(cidr, "/"), cidr);
				struct in_addr in;
				inet_pton(AF_INET, host, &in);
				uint32_t ha = ntohl(in.s_addr);
				int m = l < p->plen ? l : p->plen;
				if ((ha & local_mask_of(m)) == (p->net & local_mask_of(m))) {
					char net[INET_ADDRSTRLEN];
					local_ip4_str(p->net, net);
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
	local_ip4_str(p->gw, gw);
	snprintf(cidr, sizeof(cidr), "%s/%d", gw, p->plen);
	if (check_range_free(p, err) != 0)
		return -1;
	/* a fixed MAC: by default a bridge takes its ports' lowest MAC, which
	 * changes as nodes come and go and leaves the nodes' ARP entry for the
	 * gateway stale (connections from the host then time out) */
	char mac[18];
	snprintf(mac, sizeof(mac), "02:%.2s:%.2s:%.2s:%.2s:%.2s", p->tag, p->tag + 2, p->tag + 4,
		 p->tag + 6, p->tag + 8);
	if (!local_link_exists(p->bridge) &&
	    RUN(err, NULL, p->ip, "link", "add", "name", p->bridge, "address", mac, "type", "bridge") != 0 &&
	    !local_link_exists(p->bridge))
		return -1;
	return RUN(err, NULL, p->ip, "link", "set", "dev", p->bridge, "address", mac) ||
	       RUN(err, NULL, p->ip, "addr", "replace", cidr, "dev", p->bridge) ||
	       RUN(err, NULL, p->ip, "link", "set", "dev", p->bridge, "up") ? -1 : 0;
}

int local_bridge_ensure(struct cg_provider *p, struct cg_err *err)
{
	pthread_mutex_lock(&p->mu);
	int r = bridge_ensure_locked(p, err);
	pthread_mutex_unlock(&p->mu);
	return r;
}

static int clients_remove_all(struct cg_provider *p, struct cg_err *err);

/* Delete the bridge when no other network.* of the cluster is left (and
 * with it the client namespaces plugged into it). */
int local_bridge_release(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
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
	if (!others && clients_remove_all(p, err) != 0)
		rc = -1;
	else if (!others && local_link_exists(p->bridge) &&
	    RUN(err, NULL, p->ip, "link", "del", "dev", p->bridge) != 0 && local_link_exists(p->bridge))
		rc = -1;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* --- client namespaces (cassandgo stress) --------------------------------- */

/* Names of DC dc's client namespace: "<prefix><dc>-client" (refresh reads
 * only names ending in -n<i>, so it never takes it for a machine), veth
 * "cgc"+hash, address = the DC's block + 254 (nodes take 1..253 then). */
static int client_names(struct cg_provider *p, const char *dc, struct node *nd,
			struct cg_err *err)
{
	memset(nd, 0, sizeof(*nd));
	nd->dc_index = local_valid_label(dc) ? local_dc_index(p, dc) : -1;
	if (nd->dc_index < 0)
		return cg_error(err, CG_EXIT_USAGE, "local: %s is not a datacenter of %s", dc,
				p->c->name);
	if (p->c->dcs[nd->dc_index].nodes >= 254)
		return cg_error(err, CG_EXIT_ERROR, "local: DC %s has %d nodes: its block has no "
				"address left for a client (.254)", dc, p->c->dcs[nd->dc_index].nodes);
	nd->dc = dc;
	snprintf(nd->ns, sizeof(nd->ns), "%s%s-client", p->prefix, dc);
	char hex[17];
	cg_hash_hex(cg_hash64(nd->ns, strlen(nd->ns)), hex);
	snprintf(nd->veth, sizeof(nd->veth), "cgc%.12s", hex);
	uint64_t off = (uint64_t)(nd->dc_index + 1) * 256 + 254;
	if (off >= (1ull << (32 - p->plen)) - 1)
		return cg_error(err, CG_EXIT_ERROR, "local: network range too small for a client "
				"of DC %s", dc);
	local_ip4_str(p->net + (uint32_t)off, nd->addr);
	return 0;
}

static int client_remove(struct cg_provider *p, const struct node *nd, struct cg_err *err)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, nd->ns);
	if (ns_kill_all(p, nd->ns, err) != 0)
		return -1;
	if (local_link_exists(nd->veth) && RUN(err, NULL, p->ip, "link", "del", "dev", nd->veth) != 0 &&
	    local_link_exists(nd->veth))
		return -1;
	if (local_path_exists(path) && RUN(err, NULL, p->ip, "netns", "del", nd->ns) != 0 &&
	    local_path_exists(path))
		return -1;
	return 0;
}

int cg_local_client_up(struct cg_provider *p, const char *dc, char addr[INET_ADDRSTRLEN],
		       struct cg_err *err)
{
	struct node nd;
	if (client_names(p, dc, &nd, err) != 0)
		return -1;
	if (!local_link_exists(p->bridge))
		return cg_error(err, CG_EXIT_ERROR, "local: the bridge %s of %s is missing: run "
				"'cassandgo apply %s'", p->bridge, p->c->name, p->c->name);
	if (local_netns_ensure(p, &nd, err) != 0)
		return cg_error_wrap(err, "client namespace of %s", dc);
	memcpy(addr, nd.addr, INET_ADDRSTRLEN);
	return 0;
}

pid_t cg_local_client_spawn(struct cg_provider *p, const char *dc, const char *dir,
			    char *const argv[], char *const envp[], int *fd, struct cg_err *err)
{
	struct node nd;
	if (client_names(p, dc, &nd, err) != 0)
		return -1;
	int nsfd = local_ns_open(nd.ns);
	if (nsfd < 0)
		return cg_error(err, CG_EXIT_ERROR, "local: cannot open namespace %s: %s", nd.ns,
				strerror(errno));
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) != 0) {
		close(nsfd);
		return cg_error(err, CG_EXIT_ERROR, "pipe: %s", strerror(errno));
	}
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		/* its own process group: a Ctrl-C reaches cassandgo only, which
		 * stops the clients itself and cleans up after them */
		setpgid(0, 0);
		local_child_exec(nsfd, dir, devnull, pp[1], pp[1], argv, envp);
	}
	int saved = errno;
	if (devnull >= 0)
		close(devnull);
	close(nsfd);
	close(pp[1]);
	if (pid < 0) {
		close(pp[0]);
		return cg_error(err, CG_EXIT_ERROR, "fork: %s", strerror(saved));
	}
	*fd = pp[0];
	return pid;
}

int cg_local_client_down(struct cg_provider *p, const char *dc, struct cg_err *err)
{
	struct node nd;
	if (client_names(p, dc, &nd, err) != 0)
		return -1;
	return client_remove(p, &nd, err) != 0 ? cg_error_wrap(err, "client namespace of %s", dc) : 0;
}

/* Every client namespace of the cluster, whatever its DC (a stress killed
 * by SIGKILL leaves one; the bridge must not go and leave it behind). */
static int clients_remove_all(struct cg_provider *p, struct cg_err *err)
{
	DIR *d = opendir(NETNS_DIR);
	if (!d)
		return 0;
	struct dirent *e;
	size_t pl = strlen(p->prefix);
	int rc = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (strncmp(e->d_name, p->prefix, pl) || l <= pl + 7 ||
		    strcmp(e->d_name + l - 7, "-client") || l >= sizeof(((struct node *)0)->ns))
			continue;
		struct node nd;
		memset(&nd, 0, sizeof(nd));
		snprintf(nd.ns, sizeof(nd.ns), "%s", e->d_name);
		char hex[17];
		cg_hash_hex(cg_hash64(nd.ns, strlen(nd.ns)), hex);
		snprintf(nd.veth, sizeof(nd.veth), "cgc%.12s", hex);
		if (client_remove(p, &nd, err) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}
