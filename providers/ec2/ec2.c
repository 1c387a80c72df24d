/*
 * ec2.c - the EC2 provider: security groups, cross-region rules, key pairs
 * and instances of a cluster; see ec2.h. The ops are here; what each kind
 * does is in its own file (internal.h lists them).
 */
#include "internal.h"
#include "price.h"
#include "../../planner/monitoring.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

/* ---- open, close, zones ---- */

static long env_num(const char *name, long def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	return (*end || v < 0) ? def : v;
}

static int ec2_open(struct cg_provider **out, const struct cg_cluster *c,
		    const struct cg_env *env, struct cg_err *err)
{
	struct cg_provider *p = cg_xcalloc(1, sizeof(*p));
	if (cg_ec2_client_new(&p->cli, err) < 0) {
		free(p);
		return -1;
	}
	p->c = c;
	p->env = env;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->resolve_mu, NULL);
	p->poll_ms = env_num("CASSANDGO_EC2_POLL_MS", 2000);
	if (p->poll_ms < 10)
		p->poll_ms = 10;
	p->wait_s = env_num("CASSANDGO_EC2_WAIT_S", 600);
	/* tests shrink pages to exercise pagination (EC2 itself wants >= 5) */
	p->page_size = env_num("CASSANDGO_EC2_PAGE_SIZE", 1000);
	if (p->page_size < 1 || p->page_size > 1000)
		p->page_size = 1000;
	/* an account with raised quotas says so: fewer groups are needed */
	long rpg = env_num("CASSANDGO_EC2_RULES_PER_GROUP", CG_EC2_RULES_PER_GROUP);
	long gpe = env_num("CASSANDGO_EC2_GROUPS_PER_ENI", CG_EC2_GROUPS_PER_ENI);
	p->lim.rules_per_group = rpg < 1 || rpg > 1000 ? CG_EC2_RULES_PER_GROUP : (int)rpg;
	p->lim.groups_per_eni = gpe < 1 || gpe > CG_EC2_GROUPS_MAX ? CG_EC2_GROUPS_PER_ENI : (int)gpe;
	*out = p;
	return 0;
}

static void ec2_close(struct cg_provider *p)
{
	if (!p)
		return;
	cg_ec2_client_free(p->cli);
	ec2_cache_free(p);
	ec2_pollers_free(p);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->resolve_mu);
	free(p);
}

static int ec2_zones(struct cg_provider *p, const char *region, char ***zones, int *n,
		     struct cg_err *err)
{
	*zones = NULL;
	*n = 0;
	xmlDocPtr d = NULL;
	if (ec2_call(p, region, "DescribeAvailabilityZones", NULL, 0, &d, NULL, err) < 0)
		return -1;
	char st[32], ty[48], nm[64];
	for (xmlNodePtr it = cg_xml_path(ec2_root(d), "availabilityZoneInfo/item"); it;
	     it = cg_xml_next(it, "item")) {
		cg_xml_textb(it, "zoneState", st, sizeof(st));
		cg_xml_textb(it, "zoneType", ty, sizeof(ty));
		cg_xml_textb(it, "zoneName", nm, sizeof(nm));
		/* Local Zones and Wavelength zones are opt-in and special */
		if (strcmp(st, "available") || (ty[0] && strcmp(ty, "availability-zone")) || !nm[0])
			continue;
		*zones = cg_xrealloc(*zones, (size_t)(*n + 1) * sizeof(char *));
		(*zones)[(*n)++] = cg_xstrdup(nm);
	}
	xmlFreeDoc(d);
	if (*n > 1)
		qsort(*zones, (size_t)*n, sizeof(char *), ec2_cmp_str);
	if (*n == 0)
		return cg_error(err, CG_EXIT_ERROR, "region %s reports no available zone", region);
	return 0;
}

/* ---- refresh: one thread per region, then what spans regions ---- */

static void *refresh_region(void *arg)
{
	struct region_job *j = arg;
	xmlDocPtr *docs = NULL;
	int nd = 0;
	j->rc = ec2_describe_cluster(j->p, j->region, NULL, 0, true, &docs, &nd, &j->err);
	if (j->rc == 0) {
		ec2_machine_refresh(j, docs, nd);
		ec2_free_docs(docs, nd);
		j->rc = ec2_network_refresh(j);
	}
	if (j->rc == 0)
		j->rc = ec2_keypair_refresh(j);
	return NULL;
}

/*
 * Before anything is created: can each region's groups admit every node of
 * the other regions (one rule each) within the quotas? Said at plan time,
 * not after 150 instances were launched.
 */
static int check_quota(struct cg_provider *p, struct cg_err *err)
{
	for (int d = 0; d < p->c->ndcs; d++) {
		const char *region = p->c->dcs[d].region;
		int nremote = ec2_remote_nodes(p->c, region);
		if (!nremote)
			continue;
		int fixed = cg_ec2_rules_fixed(p->c->nallowed_cidrs, cg_monitoring_dc(p->c) >= 0,
					       ec2_monitor_remote(p->c, region)) +
			    (ec2_upload(p->c) ? 1 : 0) + (ec2_region_loads(p->c, region) ? 1 : 0);
		char *where = cg_addr_region(CG_KIND_PEERS, region);
		int rc = cg_ec2_rules_groups(&p->lim, fixed, nremote, where, err);
		free(where);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int ec2_refresh(struct cg_provider *p, const struct cg_rset *known, struct cg_rset *live,
		       struct cg_err *err)
{
	if (!(p->env && p->env->destroying) && check_quota(p, err) < 0)
		return -1;
	/* regions of the config, and those where the state still holds things */
	const char **regions = NULL;
	int nr = 0;
	for (int i = 0; i < p->c->ndcs + (known ? known->n : 0); i++) {
		const char *r = i < p->c->ndcs ? p->c->dcs[i].region : known->v[i - p->c->ndcs].region;
		if (i >= p->c->ndcs) {
			enum cg_kind k = known->v[i - p->c->ndcs].kind;
			if (k != CG_KIND_MACHINE && k != CG_KIND_NETWORK && k != CG_KIND_KEYPAIR &&
			    k != CG_KIND_PEERS && k != CG_KIND_LOADER)
				continue;
		}
		if (!r)
			continue;
		bool dup = false;
		for (int k = 0; k < nr; k++)
			dup |= !strcmp(regions[k], r);
		if (!dup) {
			regions = cg_xrealloc(regions, (size_t)(nr + 1) * sizeof(char *));
			regions[nr++] = r;
		}
	}
	struct region_job *jobs = cg_xcalloc((size_t)nr + 1, sizeof(*jobs));
	pthread_t *th = cg_xcalloc((size_t)nr + 1, sizeof(pthread_t));
	for (int i = 0; i < nr; i++) {
		jobs[i].p = p;
		jobs[i].region = regions[i];
		jobs[i].known = known;
		cg_rset_init(&jobs[i].live);
		if (pthread_create(&th[i], NULL, refresh_region, &jobs[i]) != 0) {
			th[i] = 0;
			refresh_region(&jobs[i]);
		}
	}
	int rc = 0;
	for (int i = 0; i < nr; i++) {
		if (th[i])
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < nr && rc == 0; i++) {
		struct region_job *j = &jobs[i];
		if (j->rc < 0) {
			rc = -1;
			*err = j->err;
			break;
		}
		/* A region that suddenly reports no instance while the state
		 * holds some is far more likely a wrong account, region or
		 * endpoint than a world to rebuild. */
		int had = 0;
		for (int k = 0; known && k < known->n; k++)
			if (known->v[k].kind == CG_KIND_MACHINE && known->v[k].id &&
			    known->v[k].region && !strcmp(known->v[k].region, j->region))
				had++;
		if (had && j->ninstances == 0 && !(p->env && p->env->destroying)) {
			char *q = cg_xasprintf("EC2 reports no instance of cluster %s in %s, but the "
					       "state records %d there. Continue and plan as if they "
					       "were gone?", p->c->name, j->region, had);
			bool yes = p->env && p->env->interactive && p->env->confirm &&
				   p->env->confirm(p->env->ui, q);
			free(q);
			if (!yes) {
				rc = cg_error(err, CG_EXIT_ERROR,
					      "EC2 reports no instance of cluster %s in %s while the state "
					      "records %d there (wrong account, region or endpoint?). "
					      "Check AWS_PROFILE / AWS_ENDPOINT_URL, or plan from the state "
					      "alone with --refresh=false; answer yes interactively to go "
					      "on", p->c->name, j->region, had);
				break;
			}
		}
	}
	if (rc == 0)
		for (int i = 0; i < nr; i++) {
			ec2_peers_observe(p, jobs, nr, i);
		}
	if (rc == 0)
		for (int i = 0; i < nr; i++)
			for (int k = 0; k < jobs[i].live.n; k++)
				cg_rset_add(live, &jobs[i].live.v[k]);
	for (int i = 0; i < nr; i++) {
		cg_rset_free(&jobs[i].live);
		ec2_sgset_free(&jobs[i].sgs);
		for (int k = 0; k < jobs[i].ninst; k++)
			ec2_free_list(jobs[i].inst[k].groups, jobs[i].inst[k].n);
		free(jobs[i].inst);
	}
	free(jobs);
	free(th);
	free(regions);
	if (rc == 0) {
		pthread_mutex_lock(&p->mu);
		p->refreshed = true;
		pthread_mutex_unlock(&p->mu);
	}
	return rc;
}

/* ---- apply: by kind ---- */

static int ec2_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		     const struct cg_resource *desired, const struct cg_resource *current,
		     struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	if (!r)
		return cg_error(err, CG_EXIT_ERROR, "ec2: apply without a resource");
	if (op == CG_OP_REPLACE || op == CG_OP_NOOP)
		return cg_error(err, CG_EXIT_ERROR, "ec2: %s: unexpected operation %s", r->addr,
				cg_op_name(op));
	if (op != CG_OP_DELETE && !desired)
		return cg_error(err, CG_EXIT_ERROR, "ec2: %s without a desired resource", cg_op_name(op));
	if (!r->region)
		return cg_error(err, CG_EXIT_ERROR, "ec2: %s has no region", r->addr);
	switch (r->kind) {
	case CG_KIND_NETWORK:
		return ec2_network_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_PEERS:
		return ec2_peers_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_KEYPAIR:
		return ec2_keypair_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_MACHINE:
	case CG_KIND_LOADER:	/* an instance too, tagged as a load node */
		return ec2_machine_apply(p, ctx, op, desired, current, result, err);
	default:
		return cg_error(err, CG_EXIT_ERROR, "ec2: %s is not a kind this provider manages",
				r->addr);
	}
}

/* ---- the operator's public address ---- */

static size_t ip_sink(char *ptr, size_t sz, size_t n, void *ud)
{
	struct cg_buf *b = ud;
	if (b->len + sz * n > 256)
		return 0;
	cg_buf_add(b, ptr, sz * n);
	return sz * n;
}

/*
 * The operator's public IPv4 address (for the default allowed CIDR): GET
 * CASSANDGO_IP_ECHO_URL (default https://checkip.amazonaws.com), 2 s timeout.
 */
static int ec2_public_ip(char *out, size_t n, struct cg_err *err)
{
	const char *url = getenv("CASSANDGO_IP_ECHO_URL");
	if (!url || !*url)
		url = "https://checkip.amazonaws.com";
	CURL *h = curl_easy_init();
	if (!h)
		return cg_error(err, CG_EXIT_ERROR, "cannot detect the public address: curl init failed");
	struct cg_buf b = { 0 };
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ip_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	int rc = 0;
	char ip[64] = "";
	if (b.data) {
		size_t i = 0, j = 0;
		while (b.data[i] && isspace((unsigned char)b.data[i]))
			i++;
		while (b.data[i] && !isspace((unsigned char)b.data[i]) && j + 1 < sizeof(ip))
			ip[j++] = b.data[i++];
		ip[j] = 0;
	}
	struct in_addr a;
	if (cc != CURLE_OK)
		rc = cg_error(err, CG_EXIT_ERROR, "cannot detect the public address from %s: %s; "
			      "set CASSANDGO_ALLOWED_CIDRS or allowed_cidrs", url, curl_easy_strerror(cc));
	else if (status != 200 || inet_pton(AF_INET, ip, &a) != 1)
		rc = cg_error(err, CG_EXIT_ERROR, "cannot detect the public address from %s: HTTP %ld "
			      "without an IPv4 address; set CASSANDGO_ALLOWED_CIDRS or allowed_cidrs",
			      url, status);
	else
		snprintf(out, n, "%s", ip);
	cg_buf_free(&b);
	return rc;
}

const struct cg_provider_ops cg_provider_ec2 = {
	.name = "ec2",
	.kinds = CG_KIND_BIT(CG_KIND_NETWORK) | CG_KIND_BIT(CG_KIND_PEERS) |
		 CG_KIND_BIT(CG_KIND_KEYPAIR) | CG_KIND_BIT(CG_KIND_MACHINE) |
		 CG_KIND_BIT(CG_KIND_LOADER),
	.open = ec2_open,
	.close = ec2_close,
	.public_ip = ec2_public_ip,
	.zones = ec2_zones,
	.refresh = ec2_refresh,
	.apply = ec2_apply,
	.hourly = cg_ec2_hourly,
	.price_source = cg_ec2_prices_source,
	.inventory = cg_ec2_inventory,
	.purge = cg_ec2_purge,
};
