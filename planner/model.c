/*
 * model.c - desired model: a validated cluster -> the resources that should
 * exist (see model.h for the address scheme). Pure: no I/O.
 */
#include "model.h"
#include "cassconf.h"
#include "monitoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Regions in first-use order. */
static int cluster_regions(const struct cg_cluster *c, const char **out)
{
	int n = 0;
	for (int d = 0; d < c->ndcs; d++) {
		int seen = 0;
		for (int j = 0; j < n; j++)
			if (!strcmp(out[j], c->dcs[d].region))
				seen = 1;
		if (!seen)
			out[n++] = c->dcs[d].region;
	}
	return n;
}

static bool has_monitoring(const struct cg_cluster *c)
{
	for (int d = 0; d < c->ndcs; d++)
		if (c->dcs[d].monitoring)
			return true;
	return false;
}

/* The node's zone: round-robin over the DC's zones (config) or the
 * region's (provider). Seeds are the first nodes, so they spread too. */
static const char *node_zone(const struct cg_dc *dc, const struct cg_zonemap *zm, int node)
{
	if (dc->nzones)
		return dc->zones[(node - 1) % dc->nzones];
	int n;
	const char *const *z = cg_zonemap_get(zm, dc->region, &n);
	return n ? z[(node - 1) % n] : NULL;
}

char *cg_model_install_method(const struct cg_cluster *c)
{
	if (c->install)
		return cg_xstrdup(c->install);
	/* local nodes share the operator's disk: the verified cache is already
	 * the install (install: maven works there too, with a maven_mirror) */
	if (c->provider == CG_PROVIDER_LOCAL)
		return cg_xasprintf("dir:/var/cache/cassandgo/cassandra-%s/lib",
				    c->cassandra_version);
	return cg_xstrdup("maven");
}

/* The DC whose node 1 is the upload source of node i of DC d; -1: itself. */
static int upload_source_dc(const struct cg_cluster *c, int d, int i)
{
	int f = 0;
	while (strcmp(c->dcs[f].region, c->dcs[d].region))
		f++;
	return f == d && i == 1 ? -1 : f;
}

char *cg_model_upload_source(const struct cg_cluster *c, int d, int i)
{
	int f = upload_source_dc(c, d, i);
	return f < 0 ? NULL : cg_addr_node(CG_KIND_MACHINE, c->dcs[f].name, 1);
}

bool cg_model_dc_new(const struct cg_rset *known, const char *dc)
{
	if (!known || !dc)
		return false;
	char *check = cg_addr_region(CG_KIND_DATACENTER, dc);
	bool checked = cg_rset_find(known, check) != NULL;
	free(check);
	if (checked)		/* rebuilt and checked: it is a DC like the others */
		return false;
	/* a node of it rendered already says how it came (an apply stopped
	 * half-way through the DC's addition goes on rebuilding it) */
	bool any = false;
	for (int i = 0; i < known->n; i++) {
		const struct cg_resource *r = &known->v[i];
		const char *mode = cg_res_get(r, "mode");
		if (r->kind != CG_KIND_CONFIG || !r->dc || strcmp(r->dc, dc) || !mode)
			continue;
		if (!strcmp(mode, CG_MODE_REBUILD))
			return true;
		any = true;
	}
	return !any;
}

const char *cg_model_node_mode(const struct cg_rset *known, const char *dc,
			       const char *node_key)
{
	if (!cg_model_ring_exists(known, node_key))
		return CG_MODE_INITIAL;
	return cg_model_dc_new(known, dc) ? CG_MODE_REBUILD : CG_MODE_JOIN;
}

/* A node renders its config for a brand-new ring (precomputed tokens, no
 * bootstrap) unless it was first rendered to join an existing ring (or to
 * be rebuilt in a DC added to one); the choice is recorded so a later
 * re-render does not flip it. */
static const char *node_mode(const struct cg_rset *known, const char *dc, const char *config_addr)
{
	const struct cg_resource *cfg = known ? cg_rset_find(known, config_addr) : NULL;
	const char *mode = cfg ? cg_res_get(cfg, "mode") : NULL;
	if (mode && (!strcmp(mode, CG_MODE_INITIAL) || !strcmp(mode, CG_MODE_JOIN) ||
		     !strcmp(mode, CG_MODE_REBUILD)))
		return mode;
	const char *dot = strchr(config_addr, '.');
	return cg_model_node_mode(known, dc, dot ? dot + 1 : config_addr);
}

bool cg_model_wants_machine(const struct cg_cluster *c, const struct cg_resource *m)
{
	for (int d = 0; d < c->ndcs && m->dc; d++)
		if (!strcmp(c->dcs[d].name, m->dc))
			return m->node >= 1 && m->node <= c->dcs[d].nodes;
	return false;
}

bool cg_model_ring_exists(const struct cg_rset *known, const char *except)
{
	if (!known)
		return false;
	if (cg_rset_find(known, "ring"))
		return true;
	/* The ring is only seen when every node answers; one running node is
	 * enough to prove it (a new machine beside it has nothing yet). */
	for (int i = 0; i < known->n; i++) {
		const struct cg_resource *r = &known->v[i];
		const char *dot = strchr(r->addr, '.');
		const char *run = cg_res_get(r, "running");
		if (r->kind == CG_KIND_SERVICE && run && !strcmp(run, "true") &&
		    !(except && dot && !strcmp(dot + 1, except)))
			return true;
	}
	return false;
}

/* Every seed's machine and service address, computed once per build:
 * each node's config and each non-seed's service depend on all of them. */
struct seedlist {
	char **machines, **services;
	int n;
};

static void seedlist_init(struct seedlist *s, const struct cg_cluster *c)
{
	int total = 0;
	for (int d = 0; d < c->ndcs; d++)
		total += c->dcs[d].seeds;
	s->machines = cg_xcalloc((size_t)total + 1, sizeof(char *));
	s->services = cg_xcalloc((size_t)total + 1, sizeof(char *));
	s->n = 0;
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].seeds; i++) {
			s->machines[s->n] = cg_addr_node(CG_KIND_MACHINE, c->dcs[d].name, i);
			s->services[s->n++] = cg_addr_node(CG_KIND_SERVICE, c->dcs[d].name, i);
		}
}

static void seedlist_free(struct seedlist *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->machines[i]);
		free(s->services[i]);
	}
	free(s->machines);
	free(s->services);
}

/* Append distinct addresses (seed lists have no duplicates, and a node's
 * own dependencies are never seeds' of another kind). */
static void add_deps(struct cg_resource *r, char *const *addrs, int n)
{
	r->deps = cg_xrealloc(r->deps, (size_t)(r->ndeps + n) * sizeof(char *));
	for (int i = 0; i < n; i++)
		r->deps[r->ndeps++] = cg_xstrdup(addrs[i]);
}

/* A fingerprint of the renderer itself: the hash of a fixed node's files.
 * Any change to what cassconf renders changes it. */
static uint64_t renderer_fingerprint(void)
{
	struct cg_dc dc = {.name = "DC1", .region = "r", .nodes = 3, .seeds = 1};
	struct cg_kv kv = {.key = "concurrent_reads", .value = "32"};
	struct cg_cluster c = {.name = "fingerprint", .cassandra_version = "5.0.0",
			       .num_tokens = 4, .heap = "1G", .dcs = &dc, .ndcs = 1,
			       .cassandra = &kv, .ncassandra = 1};
	char *seeds[] = {"10.0.0.1"};
	struct cg_node_spec s = {.cluster = &c, .dc_index = 0, .node = 2, .address = "10.0.0.2",
				 .rack = "r-a", .base_dir = "/b", .lib_dir = "/l", .seeds = seeds,
				 .nseeds = 1, .new_cluster = true};
	struct cg_node_files f;
	struct cg_err e = {0};
	uint64_t h = 0;
	for (int st = CG_SEC_OFF; st <= CG_SEC_ON; st++) {	/* every form it renders */
		s.security = (enum cg_security)st;
		if (cg_cassconf_render(&s, &f, &e) == 0) {
			h = h * 31 + f.hash;
			cg_node_files_free(&f);
		}
	}
	return h;
}

/* Everything cg_cassconf_render reads for this node, and the renderer. */
static uint64_t spec_digest(const struct cg_node_spec *s, uint64_t renderer)
{
	const struct cg_cluster *c = s->cluster;
	const struct cg_dc *dc = &c->dcs[s->dc_index];
	struct cg_buf b = {0};
	cg_buf_addf(&b, "%llx|%s|%s|%d|%s|", (unsigned long long)renderer, c->name,
		    c->cassandra_version ? c->cassandra_version : "", c->num_tokens,
		    c->heap ? c->heap : "");
	for (int k = 0; k < c->ncassandra; k++)
		cg_buf_addf(&b, "%s=%s|", c->cassandra[k].key, c->cassandra[k].value);
	cg_buf_addf(&b, "%d|%s|%d|%d|%d|%s|%s|%s|%s|%s|%d|", s->dc_index, dc->name, dc->nodes,
		    dc->seeds, s->node, s->address ? s->address : "",
		    s->broadcast ? s->broadcast : "", s->rack ? s->rack : "",
		    s->base_dir ? s->base_dir : "", s->lib_dir ? s->lib_dir : "",
		    s->new_cluster + 2 * s->rebuild);
	cg_buf_addf(&b, "racks=%d|zones=%d|provider=%d|security=%d|run_user=%s|", s->racks,
		    dc->nzones, (int)c->provider, (int)s->security, s->run_user ? s->run_user : "");
	/* not the seed list: the hash leaves it out (cassconf.h) */
	if (has_monitoring(c))		/* the exporter agent joins the files */
		cg_buf_adds(&b, "|monitoring");
	uint64_t h = cg_hash64(b.data, b.len);
	cg_buf_free(&b);
	return h;
}

/* loader.<dc>.n<i>: a load node, an instance like a machine (zones in
 * turn, the DC's AMI and expiry, its group and key pair) but of
 * stress_node_type, always on-demand (a reclaimed loader would end a run
 * half-way) and running no Cassandra: nothing depends on it. */
static void add_loader(const struct cg_cluster *c, int d, int i, const struct cg_zonemap *zm,
		       unsigned kinds, struct cg_rset *out)
{
	const struct cg_dc *dc = &c->dcs[d];
	char *a = cg_addr_node(CG_KIND_LOADER, dc->name, i);
	struct cg_resource *r = cg_rset_new(out, CG_KIND_LOADER, a);
	free(a);
	const char *zone = node_zone(dc, zm, i);
	r->region = cg_xstrdup(dc->region);
	r->dc = cg_xstrdup(dc->name);
	r->node = i;
	cg_res_set(r, "cluster", c->name, CG_ATTR_INFO);
	cg_res_set(r, "dc", dc->name, CG_ATTR_INFO);
	cg_res_setf(r, "node", CG_ATTR_INFO, "%d", i);
	cg_res_set(r, "zone", zone, CG_ATTR_FORCENEW | (zone ? 0 : CG_ATTR_COMPUTED));
	cg_res_set(r, "node_type", dc->stress_node_type ? dc->stress_node_type : CG_STRESS_NODE_TYPE,
		   CG_ATTR_FORCENEW);
	cg_res_set(r, "capacity", "on-demand", CG_ATTR_FORCENEW);
	if (c->expires)
		cg_res_set(r, "expires", c->expires, 0);
	cg_res_set(r, "ami", dc->ami ? dc->ami : "ubuntu-24.04", CG_ATTR_FORCENEW);
	cg_res_setf(r, "name", 0, "[%s] load n%d %s", dc->name, i, c->name);
	cg_res_set(r, "private_ip", NULL, CG_ATTR_COMPUTED);
	cg_res_set(r, "public_ip", NULL, CG_ATTR_COMPUTED);
	cg_res_set(r, "host_key", NULL, CG_ATTR_COMPUTED);
	char *net = cg_addr_region(CG_KIND_NETWORK, dc->region);
	char *kp = cg_addr_region(CG_KIND_KEYPAIR, dc->region);
	if (kinds & CG_KIND_BIT(CG_KIND_NETWORK))
		cg_res_add_dep(r, net);
	if (kinds & CG_KIND_BIT(CG_KIND_KEYPAIR))
		cg_res_add_dep(r, kp);
	free(net);
	free(kp);
}

static void add_node_resources(const struct cg_cluster *c, int d, int i,
			       const struct cg_zonemap *zm, const struct cg_rset *known,
			       unsigned kinds, const struct seedlist *seeds, uint64_t renderer,
			       int security, struct cg_rset *out)
{
	const struct cg_dc *dc = &c->dcs[d];
	bool seed = cg_cassconf_is_seed(dc, i);
	char *maddr = cg_addr_node(CG_KIND_MACHINE, dc->name, i);
	char *iaddr = cg_addr_node(CG_KIND_INSTALL, dc->name, i);
	char *caddr = cg_addr_node(CG_KIND_CONFIG, dc->name, i);
	char *saddr = cg_addr_node(CG_KIND_SERVICE, dc->name, i);
	char *net = cg_addr_region(CG_KIND_NETWORK, dc->region);
	char *kp = cg_addr_region(CG_KIND_KEYPAIR, dc->region);
	const char *zone = node_zone(dc, zm, i);
	/* initial (a new ring), join or rebuild: the config renders it, and
	 * whether the service waits for the seeds follows from it */
	const char *mode = node_mode(known, dc->name, caddr);
	struct cg_resource *r;

	if (kinds & CG_KIND_BIT(CG_KIND_MACHINE)) {
		r = cg_rset_new(out, CG_KIND_MACHINE, maddr);
		r->region = cg_xstrdup(dc->region);
		r->dc = cg_xstrdup(dc->name);
		r->node = i;
		cg_res_set(r, "cluster", c->name, CG_ATTR_INFO);
		cg_res_set(r, "dc", dc->name, CG_ATTR_INFO);
		cg_res_setf(r, "node", CG_ATTR_INFO, "%d", i);
		cg_res_set(r, "zone", zone, CG_ATTR_FORCENEW | (zone ? 0 : CG_ATTR_COMPUTED));
		if (c->provider == CG_PROVIDER_AWS) {
			cg_res_set(r, "node_type", dc->node_type, CG_ATTR_FORCENEW);
			/* an instance's market cannot change: a new one */
			cg_res_set(r, "capacity", dc->capacity ? dc->capacity : "on-demand",
				   CG_ATTR_FORCENEW);
			/* tagged on the instance with the time it ends (cassandgo gc) */
			if (c->expires)
				cg_res_set(r, "expires", c->expires, 0);
			cg_res_set(r, "ami", dc->ami ? dc->ami : "ubuntu-24.04", CG_ATTR_FORCENEW);
			char *m = cg_model_install_method(c);
			cg_res_set(r, "install", m, CG_ATTR_INFO);
			free(m);
			cg_res_set(r, "cassandra_version", c->cassandra_version, CG_ATTR_INFO);
		}
		cg_res_set(r, "seed", seed ? "true" : "false", 0);
		cg_res_setf(r, "name", 0, "[%s] n%d %s", dc->name, i, c->name);
		cg_res_set(r, "private_ip", NULL, CG_ATTR_COMPUTED);
		cg_res_set(r, "public_ip", NULL, CG_ATTR_COMPUTED);
		cg_res_set(r, "host_key", NULL, CG_ATTR_COMPUTED);
		if (kinds & CG_KIND_BIT(CG_KIND_NETWORK))
			cg_res_add_dep(r, net);
		if (kinds & CG_KIND_BIT(CG_KIND_KEYPAIR))
			cg_res_add_dep(r, kp);
	}
	if (kinds & CG_KIND_BIT(CG_KIND_INSTALL)) {
		r = cg_rset_new(out, CG_KIND_INSTALL, iaddr);
		r->region = cg_xstrdup(dc->region);
		r->dc = cg_xstrdup(dc->name);
		r->node = i;
		cg_res_set(r, "version", c->cassandra_version, 0);
		char *m = cg_model_install_method(c);
		cg_res_set(r, "method", m, 0);
		/* where the artifacts come from (shown, not diffed) */
		if (!strcmp(m, "maven")) {
			cg_res_set(r, "source", c->maven_mirror ? c->maven_mirror : CG_MODEL_MAVEN_CENTRAL,
				   CG_ATTR_INFO);
		} else if (!strcmp(m, "upload")) {
			int f = upload_source_dc(c, d, i);
			char *src = f < 0 ? NULL : cg_addr_node(CG_KIND_MACHINE, c->dcs[f].name, 1);
			cg_res_set(r, "source", src ? src : "operator", CG_ATTR_INFO);
			free(src);
			if (f >= 0) {	/* the region's first node has it first */
				char *sa = cg_addr_node(CG_KIND_INSTALL, c->dcs[f].name, 1);
				cg_res_add_dep(r, sa);
				free(sa);
			}
		}
		free(m);
		cg_res_add_dep(r, maddr);
	}
	if (kinds & CG_KIND_BIT(CG_KIND_CONFIG)) {
		bool fresh = cg_cassconf_mode_new(mode);
		r = cg_rset_new(out, CG_KIND_CONFIG, caddr);
		r->region = cg_xstrdup(dc->region);
		r->dc = cg_xstrdup(dc->name);
		r->node = i;
		struct cg_node_spec spec;
		struct cg_err e = {0};
		char hex[17] = "", inputs[40] = "";
		char *seedlist = NULL;
		int have = cg_cassconf_spec(c, d, i, known, fresh, &spec, &e);
		cg_cassconf_mode_set(&spec, mode);
		spec.security = (enum cg_security)security;
		/* The hash leaves the seeds out: it is known as soon as the
		 * node's own inputs are, even while a seed's address is not
		 * (a seed machine gone or new). */
		bool own = have == 1 || (have == 0 && spec.address && spec.rack && spec.base_dir &&
					 spec.lib_dir);
		if (have == 1)
			seedlist = cg_cassconf_seed_list(&spec);
		if (own) {
			/* Rendering 1,000 configs dominates a plan; the same inputs
			 * rendered by the same renderer give the same files, so reuse
			 * the hash recorded with them. */
			char dg[17];
			cg_hash_hex(spec_digest(&spec, renderer), dg);
			const struct cg_resource *rec = known ? cg_rset_find(known, caddr) : NULL;
			const char *was = rec ? cg_res_get(rec, "inputs") : NULL;
			if (was && strlen(was) == 33 && !strncmp(was, dg, 16) && was[16] == ':') {
				memcpy(hex, was + 17, 16);
				hex[16] = '\0';
			} else {
				uint64_t h;
				if (cg_cassconf_hash(&spec, &h, &e) == 0)
					cg_hash_hex(h, hex);
			}
			if (hex[0])
				snprintf(inputs, sizeof(inputs), "%s:%s", dg, hex);
		}
		cg_cassconf_spec_clear(&spec);
		cg_res_set(r, "hash", hex[0] ? hex : NULL, 0);
		/* a change of the seeds alone is reloaded, not restarted (plan.c) */
		cg_res_set(r, "seeds", seedlist, 0);
		free(seedlist);
		if (inputs[0])
			cg_res_set(r, "inputs", inputs, CG_ATTR_INFO);
		cg_res_set(r, "mode", mode, CG_ATTR_INFO);
		cg_res_set(r, "security", cg_cassconf_security_name(security), 0);
		/* The node's certificate (the cluster's CA, the machine's
		 * addresses): the provider reports "current" when the node holds it. */
		if (security != CG_SEC_OFF)
			cg_res_set(r, "certificate", "current", 0);
		/* nodetool and cqlsh for the login user (with the superuser's
		 * credentials while security is on): reported by the provider */
		cg_res_set(r, "tools", "current", 0);
		cg_res_add_dep(r, iaddr);
		add_deps(r, seeds->machines, seeds->n);
	}
	if (kinds & CG_KIND_BIT(CG_KIND_SERVICE)) {
		const struct cg_resource *cfg = cg_rset_find(out, caddr);
		const char *hash = cfg ? cg_res_get(cfg, "hash") : NULL;
		r = cg_rset_new(out, CG_KIND_SERVICE, saddr);
		r->region = cg_xstrdup(dc->region);
		r->dc = cg_xstrdup(dc->name);
		r->node = i;
		cg_res_set(r, "running", "true", 0);
		cg_res_set(r, "config_hash", hash, 0);
		/* the release Cassandra runs: a change is an upgrade (plan.c) */
		cg_res_set(r, "version", c->cassandra_version, 0);
		cg_res_add_dep(r, caddr);
		/* A node joining a running ring waits for its seeds. A new
		 * ring's nodes (tokens precomputed, nothing to stream) start
		 * together: a non-seed only needs a seed to answer its first
		 * gossip, which comes seconds into both starts, and cgnode
		 * starts it again if none did (wait-ready). Waiting for the
		 * seeds to serve CQL put a whole start in series (issue 15). */
		if (!seed && mode && strcmp(mode, CG_MODE_INITIAL))
			add_deps(r, seeds->services, seeds->n);
	}
	free(maddr);
	free(iaddr);
	free(caddr);
	free(saddr);
	free(net);
	free(kp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* peers.<region>: the other regions' nodes' public addresses, known only
 * once every one of them exists. */
static void add_peers(const struct cg_cluster *c, const char *region,
		      const struct cg_rset *known, struct cg_rset *out)
{
	char *addr = cg_addr_region(CG_KIND_PEERS, region);
	char *net = cg_addr_region(CG_KIND_NETWORK, region);
	struct cg_resource *r = cg_rset_new(out, CG_KIND_PEERS, addr);
	struct cg_buf list = {0};
	bool complete = true;
	char **ips = NULL;
	int nips = 0;

	r->region = cg_xstrdup(region);
	cg_res_add_dep(r, net);
	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		if (!strcmp(dc->region, region))
			continue;
		for (int i = 1; i <= dc->nodes; i++) {
			char *m = cg_addr_node(CG_KIND_MACHINE, dc->name, i);
			const struct cg_resource *k = known ? cg_rset_find(known, m) : NULL;
			const char *ip = k ? cg_res_get(k, "public_ip") : NULL;
			if (ip) {
				ips = cg_xrealloc(ips, (size_t)(nips + 1) * sizeof(char *));
				ips[nips++] = cg_xasprintf("%s/32", ip);
			} else {
				complete = false;
			}
			/* distinct by construction */
			r->deps = cg_xrealloc(r->deps, (size_t)(r->ndeps + 1) * sizeof(char *));
			r->deps[r->ndeps++] = m;
		}
	}
	if (nips)
		qsort(ips, (size_t)nips, sizeof(char *), cmp_str);
	for (int i = 0; i < nips; i++) {
		if (!i || strcmp(ips[i], ips[i - 1]))	/* one rule per address */
			cg_buf_addf(&list, "%s%s", list.len ? "," : "", ips[i]);
	}
	for (int i = 0; i < nips; i++)
		free(ips[i]);
	free(ips);
	cg_res_set(r, "cidrs", complete ? (list.data ? list.data : "") : NULL, 0);
	cg_buf_free(&list);
	free(net);
	free(addr);
}

/* monitoring: Prometheus on node 1 of the monitoring DC, scraping every
 * node once every service runs; `targets` hashes the rendered
 * prometheus.yml, unknown until every address is. */
static void add_monitoring(const struct cg_cluster *c, const struct cg_rset *known,
			   struct cg_rset *out)
{
	int md = cg_monitoring_dc(c);
	struct cg_resource *r = cg_rset_new(out, CG_KIND_MONITORING, "monitoring");
	char **t;
	int n = cg_monitoring_targets(c, known, &t);

	cg_res_set(r, "dc", c->dcs[md].name, 0);
	cg_res_set(r, "node", "1", 0);
	cg_res_setf(r, "port", 0, "%d", CG_MON_PROMETHEUS_PORT);
	cg_res_setf(r, "node_exporter_port", 0, "%d", CG_MON_NODE_EXPORTER_PORT);
	cg_res_setf(r, "jmx_exporter_port", 0, "%d", CG_MON_JMX_EXPORTER_PORT);
	cg_res_set(r, "jmx_exporter_version", CG_MON_JMX_EXPORTER_VERSION, 0);
	if (n >= 0) {
		char *yml = cg_monitoring_prometheus_yml(c->name, t, n);
		char hex[17];
		cg_hash_hex(cg_hash64(yml, strlen(yml)), hex);
		cg_res_set(r, "targets", hex, 0);
		free(yml);
		cg_monitoring_targets_free(t, n);
	} else {
		cg_res_set(r, "targets", NULL, 0);
	}
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].nodes; i++) {
			char *a = cg_addr_node(CG_KIND_SERVICE, c->dcs[d].name, i);
			cg_res_add_dep(r, a);
			free(a);
		}
}

/* The security step a node is at: what its config records, else (a node
 * made before the steps existed) on when it holds a certificate. A node
 * whose Cassandra does not run its rendered config counts as the step it
 * came from, so the next step never outruns a node not yet restarted. */
static int node_security(const struct cg_resource *cf, const struct cg_resource *svc,
			 bool turning_on)
{
	int st = cg_cassconf_security_parse(cg_res_get(cf, "security"));
	if (st < 0)
		st = cg_res_get(cf, "certificate") ? CG_SEC_ON : CG_SEC_OFF;
	const char *h = cg_res_get(cf, "hash"), *rh = cg_res_get(svc, "config_hash");
	if (!h || !rh || strcmp(h, rh))
		st += turning_on ? -1 : 1;
	return st < CG_SEC_OFF ? CG_SEC_OFF : st > CG_SEC_ON ? CG_SEC_ON : st;
}

int cg_model_security(const struct cg_cluster *c, const struct cg_rset *known)
{
	int target = c->security_off ? CG_SEC_OFF : CG_SEC_ON;
	int lo = CG_SEC_ON, hi = CG_SEC_OFF;
	bool any = false;
	for (int i = 0; known && i < known->n; i++) {
		const struct cg_resource *svc = &known->v[i];
		const char *run = cg_res_get(svc, "running");
		if (svc->kind != CG_KIND_SERVICE || !run || strcmp(run, "true"))
			continue;
		char *ca = cg_addr_node(CG_KIND_CONFIG, svc->dc, svc->node);
		const struct cg_resource *cf = cg_rset_find(known, ca);
		free(ca);
		if (!cf)
			continue;
		int st = node_security(cf, svc, target == CG_SEC_ON);
		lo = st < lo ? st : lo;
		hi = st > hi ? st : hi;
		any = true;
	}
	if (!any)		/* a new cluster starts where it is meant to be */
		return target;
	if (target == CG_SEC_ON)
		return lo < CG_SEC_ON ? lo + 1 : CG_SEC_ON;
	return hi > CG_SEC_OFF ? hi - 1 : CG_SEC_OFF;
}

char *cg_model_keyspace_replication(const struct cg_cluster *c, const struct cg_keyspace *ks)
{
	struct cg_buf b = {0};
	for (int d = 0; d < c->ndcs; d++)
		if (ks->rf[d] > 0)
			cg_buf_addf(&b, "%s%s:%d", b.len ? "," : "", c->dcs[d].name, ks->rf[d]);
	return b.data ? cg_buf_detach(&b) : cg_xstrdup("");
}

int cg_model_rf_of(const char *replication, const char *dc, size_t dl)
{
	for (const char *q = replication; q && *q;) {
		size_t ql = strcspn(q, ":,");
		if (q[ql] == ':' && ql == dl && !strncmp(q, dc, dl))
			return atoi(q + ql + 1);
		q += strcspn(q, ",");
		q += *q == ',';
	}
	return 0;
}

char *cg_model_rf_raised(const char *from, const char *to)
{
	struct cg_buf b = {0};
	for (const char *q = to; q && *q;) {
		size_t dl = strcspn(q, ":,");
		int was = cg_model_rf_of(from, q, dl), now = cg_model_rf_of(to, q, dl);
		if (was > 0 && now > was)
			cg_buf_addf(&b, "%s%.*s", b.len ? "," : "", (int)dl, q);
		q += strcspn(q, ",");
		q += *q == ',';
	}
	return b.data ? cg_buf_detach(&b) : NULL;
}

bool cg_model_dc_listed(const char *names, const char *dc, size_t dl)
{
	for (const char *q = names; q && *q;) {
		size_t ql = strcspn(q, ",");
		if (ql == dl && !strncmp(q, dc, dl))
			return true;
		q += ql;
		q += *q == ',';
	}
	return false;
}

/* keyspace.<name>: once the ring is up, and as the superuser when security
 * is on (after auth). A keyspace is never dropped, so nothing else waits
 * for it. */
static void add_keyspaces(const struct cg_cluster *c, unsigned kinds, bool auth,
			  struct cg_rset *out)
{
	for (int k = 0; k < c->nkeyspaces; k++) {
		const struct cg_keyspace *ks = &c->keyspaces[k];
		char *addr = cg_xasprintf("keyspace.%s", ks->name);
		struct cg_resource *r = cg_rset_new(out, CG_KIND_KEYSPACE, addr);
		char *rf = cg_model_keyspace_replication(c, ks);
		cg_res_set(r, "replication", rf, 0);
		cg_res_set(r, "durable_writes", ks->durable_writes ? "true" : "false", 0);
		/* a raised RF owes a repair until one finished (see plan.c) */
		cg_res_set(r, "repair", CG_KEYSPACE_REPAIRED, 0);
		if (kinds & CG_KIND_BIT(CG_KIND_RING))
			cg_res_add_dep(r, "ring");
		if (auth)
			cg_res_add_dep(r, "auth");
		free(rf);
		free(addr);
	}
}

char *cg_model_system_replication(const struct cg_cluster *c)
{
	struct cg_buf rf = {0};
	for (int d = 0; d < c->ndcs; d++)
		cg_buf_addf(&rf, "%s%s:%d", d ? "," : "", c->dcs[d].name,
			    c->dcs[d].nodes < 3 ? c->dcs[d].nodes : 3);
	return rf.data ? cg_buf_detach(&rf) : cg_xstrdup("");
}

/* system_keyspaces: Cassandra's own replicated keyspaces in every DC
 * (SimpleStrategy places replicas without regard to DCs, and a DC missing
 * from them has no copy of repair history or traces), RF = min(3, nodes).
 * system_auth is the auth step's when security is on. After the ring (and
 * auth); an RF lowered goes before the decommissions (plan.c). */
static void add_system_keyspaces(const struct cg_cluster *c, unsigned kinds, bool auth,
				 struct cg_rset *out)
{
	struct cg_resource *r = cg_rset_new(out, CG_KIND_SYSTEM, "system_keyspaces");
	char *rf = cg_model_system_replication(c);
	cg_res_set(r, "replication", rf, 0);
	cg_res_set(r, "keyspaces", auth ? CG_SYSTEM_KEYSPACES : "system_auth," CG_SYSTEM_KEYSPACES,
		   0);
	free(rf);
	if (kinds & CG_KIND_BIT(CG_KIND_RING))
		cg_res_add_dep(r, "ring");
	if (auth)
		cg_res_add_dep(r, "auth");
}

/*
 * A DC added to a running ring (its nodes' configs say "rebuild": they
 * started empty, auto_bootstrap: false): once every keyspace names it
 * (system_keyspaces, auth, the declared ones), each of its nodes runs
 * nodetool rebuild from the first DC of the config that is not new
 * (rebuild.<dc>.n<i>, recorded when it finished); then datacenter.<dc>
 * checks that rows written before read back from it at LOCAL_QUORUM.
 */
static void add_rebuilds(const struct cg_cluster *c, const struct cg_rset *known, unsigned kinds,
			 struct cg_rset *out)
{
	int src = -1;
	bool *rebuilt = cg_xcalloc((size_t)c->ndcs + 1, sizeof(bool));
	for (int d = 0; d < c->ndcs; d++) {
		for (int i = 1; i <= c->dcs[d].nodes; i++) {
			char *ca = cg_addr_node(CG_KIND_CONFIG, c->dcs[d].name, i);
			const struct cg_resource *cf = cg_rset_find(out, ca);
			const char *mode = cf ? cg_res_get(cf, "mode") : NULL;
			if (!cf)
				mode = node_mode(known, c->dcs[d].name, ca);
			rebuilt[d] |= mode && !strcmp(mode, CG_MODE_REBUILD);
			free(ca);
		}
		if (!rebuilt[d] && src < 0)
			src = d;
	}
	/* the replicas a keyspace gains in a rebuilt DC are filled by the
	 * rebuild, not by a repair (plan.c, the keyspace step) */
	struct cg_buf names = {0};
	for (int d = 0; d < c->ndcs && src >= 0; d++)
		if (rebuilt[d] && cg_model_dc_new(known, c->dcs[d].name))
			cg_buf_addf(&names, "%s%s", names.len ? "," : "", c->dcs[d].name);
	for (int k = 0; names.len && k < out->n; k++)
		if (out->v[k].kind == CG_KIND_KEYSPACE || out->v[k].kind == CG_KIND_SYSTEM)
			cg_res_set(&out->v[k], "rebuilt_dcs", names.data, CG_ATTR_INFO);
	cg_buf_free(&names);
	for (int d = 0; d < c->ndcs && src >= 0; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		if (!rebuilt[d])
			continue;
		char *da = cg_addr_region(CG_KIND_DATACENTER, dc->name);
		for (int i = 1; i <= dc->nodes; i++) {
			char *ra = cg_addr_node(CG_KIND_REBUILD, dc->name, i);
			char *sa = cg_addr_node(CG_KIND_SERVICE, dc->name, i);
			struct cg_resource *r = cg_rset_new(out, CG_KIND_REBUILD, ra);
			r->region = cg_xstrdup(dc->region);
			r->dc = cg_xstrdup(dc->name);
			r->node = i;
			cg_res_set(r, "from", c->dcs[src].name, 0);
			if (kinds & CG_KIND_BIT(CG_KIND_SERVICE))
				cg_res_add_dep(r, sa);
			/* after every keyspace gained the DC: rebuild streams only
			 * the keyspaces that replicate to it */
			for (int k = 0; k < out->n; k++) {
				enum cg_kind kk = out->v[k].kind;
				if (kk == CG_KIND_KEYSPACE || kk == CG_KIND_SYSTEM || kk == CG_KIND_AUTH ||
				    kk == CG_KIND_RING)
					cg_res_add_dep(r, out->v[k].addr);
			}
			free(sa);
			free(ra);
		}
		struct cg_resource *r = cg_rset_new(out, CG_KIND_DATACENTER, da);
		cg_res_set(r, "from", c->dcs[src].name, 0);
		cg_res_set(r, "check", "LOCAL_QUORUM", 0);
		for (int i = 1; i <= dc->nodes; i++) {
			char *ra = cg_addr_node(CG_KIND_REBUILD, dc->name, i);
			cg_res_add_dep(r, ra);
			free(ra);
		}
		free(da);
	}
	free(rebuilt);
}

int cg_model_build(const struct cg_cluster *c, const struct cg_zonemap *zones,
		   const struct cg_rset *known, unsigned kinds,
		   struct cg_rset *out, struct cg_err *err)
{
	/* turning security on or off for a running cluster: one step per apply */
	int security = cg_model_security(c, known);
	const char **regions = cg_xcalloc((size_t)c->ndcs + 1, sizeof(char *));
	int nregions = cluster_regions(c, regions);
	int total = 0;

	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		int nz = dc->nzones;
		if (!nz)
			cg_zonemap_get(zones, dc->region, &nz);
		if (!nz && (kinds & CG_KIND_BIT(CG_KIND_MACHINE))) {
			free(regions);
			return cg_error(err, CG_EXIT_ERROR,
					"no availability zone known for region %s (DC %s): "
					"list `zones:` for it in the config", dc->region, dc->name);
		}
		total += dc->nodes;
	}

	for (int g = 0; g < nregions; g++) {
		struct cg_resource *r;
		char *a;
		if (kinds & CG_KIND_BIT(CG_KIND_NETWORK)) {
			a = cg_addr_region(CG_KIND_NETWORK, regions[g]);
			r = cg_rset_new(out, CG_KIND_NETWORK, a);
			free(a);
			r->region = cg_xstrdup(regions[g]);
			cg_res_setf(r, "name", CG_ATTR_FORCENEW, "cassandgo-%s-%s", c->name, regions[g]);
			if (c->provider == CG_PROVIDER_AWS) {
				struct cg_buf b = {0};
				for (int i = 0; i < c->nallowed_cidrs; i++)
					cg_buf_addf(&b, "%s%s", i ? "," : "", c->allowed_cidrs[i]);
				cg_res_set(r, "allowed_cidrs", b.data ? b.data : "", 0);
				cg_buf_free(&b);
				if (has_monitoring(c))
					cg_res_set(r, "monitoring_port", "9090", 0);
				/* install: upload: the region's nodes fetch from its first */
				char *m = cg_model_install_method(c);
				if (!strcmp(m, "upload"))
					cg_res_setf(r, "release_port", 0, "%d", CG_MODEL_SHARE_PORT);
				free(m);
				/* load nodes reach the region's nodes on CQL */
				for (int d = 0; d < c->ndcs; d++)
					if (c->dcs[d].stress_nodes > 0 &&
					    !strcmp(c->dcs[d].region, regions[g])) {
						cg_res_set(r, "load_port", "9042", 0);
						break;
					}
			}
		}
		if (kinds & CG_KIND_BIT(CG_KIND_KEYPAIR)) {
			a = cg_addr_region(CG_KIND_KEYPAIR, regions[g]);
			r = cg_rset_new(out, CG_KIND_KEYPAIR, a);
			free(a);
			r->region = cg_xstrdup(regions[g]);
			cg_res_setf(r, "name", CG_ATTR_FORCENEW, "cassandgo-%s-%s", c->name, regions[g]);
		}
	}
	struct seedlist seeds;
	uint64_t renderer = (kinds & CG_KIND_BIT(CG_KIND_CONFIG)) ? renderer_fingerprint() : 0;
	seedlist_init(&seeds, c);
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].nodes; i++)
			add_node_resources(c, d, i, zones, known, kinds, &seeds, renderer, security,
					   out);
	seedlist_free(&seeds);
	if (c->provider == CG_PROVIDER_AWS && (kinds & CG_KIND_BIT(CG_KIND_LOADER)))
		for (int d = 0; d < c->ndcs; d++)
			for (int i = 1; i <= c->dcs[d].stress_nodes; i++)
				add_loader(c, d, i, zones, kinds, out);
	if (c->provider == CG_PROVIDER_AWS && nregions > 1 &&
	    (kinds & CG_KIND_BIT(CG_KIND_PEERS)))
		for (int g = 0; g < nregions; g++)
			add_peers(c, regions[g], known, out);

	if (kinds & CG_KIND_BIT(CG_KIND_RING)) {
		struct cg_resource *r = cg_rset_new(out, CG_KIND_RING, "ring");
		struct cg_buf dcs = {0};
		for (int d = 0; d < c->ndcs; d++)
			cg_buf_addf(&dcs, "%s%s:%d", d ? "," : "", c->dcs[d].name, c->dcs[d].nodes);
		cg_res_setf(r, "nodes", 0, "%d", total);
		cg_res_set(r, "dcs", dcs.data, 0);
		/* the release the whole ring last ran: after an upgrade that
		 * changes the on-disk format, upgradesstables is owed until the
		 * ring step records the new one (plan.c) */
		cg_res_set(r, "release", c->cassandra_version, CG_ATTR_INFO);
		cg_buf_free(&dcs);
		r->deps = cg_xrealloc(r->deps, (size_t)total * sizeof(char *));
		for (int d = 0; d < c->ndcs; d++)
			for (int i = 1; i <= c->dcs[d].nodes; i++)
				r->deps[r->ndeps++] = cg_addr_node(CG_KIND_SERVICE, c->dcs[d].name, i);
	}
	if ((kinds & CG_KIND_BIT(CG_KIND_MONITORING)) && has_monitoring(c))
		add_monitoring(c, known, out);
	/* (once every node requires passwords: before, roles with passwords
	 * cannot be made) */
	if ((kinds & CG_KIND_BIT(CG_KIND_AUTH)) && security == CG_SEC_ON) {
		/* Once the ring is up (FACTS.md: the default role moves while
		 * nodes join): the superuser, no default role, and system_auth
		 * replicated in every DC, RF = min(3, nodes in the DC). */
		struct cg_resource *r = cg_rset_new(out, CG_KIND_AUTH, "auth");
		struct cg_buf rf = {0};
		for (int d = 0; d < c->ndcs; d++)
			cg_buf_addf(&rf, "%s%s:%d", d ? "," : "", c->dcs[d].name,
				    c->dcs[d].nodes < 3 ? c->dcs[d].nodes : 3);
		cg_res_set(r, "user", CG_SUPERUSER, 0);
		cg_res_set(r, "default_role", "absent", 0);
		cg_res_set(r, "system_auth", rf.data, 0);
		cg_buf_free(&rf);
		if (kinds & CG_KIND_BIT(CG_KIND_RING))
			cg_res_add_dep(r, "ring");
	}
	if (kinds & CG_KIND_BIT(CG_KIND_KEYSPACE))
		add_keyspaces(c, kinds, cg_rset_find(out, "auth") != NULL, out);
	if (kinds & CG_KIND_BIT(CG_KIND_SYSTEM))
		add_system_keyspaces(c, kinds, cg_rset_find(out, "auth") != NULL, out);
	if (kinds & CG_KIND_BIT(CG_KIND_REBUILD))
		add_rebuilds(c, known, kinds, out);
	free(regions);
	return 0;
}
