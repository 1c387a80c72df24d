/*
 * network.c - network.<region>: the main security group and its own rules
 * (the group itself, SSH/CQL/monitoring from allowed_cidrs), applied and
 * observed (see internal.h).
 */
#include "internal.h"
#include "../../planner/monitoring.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool valid_cidr4(const char *s)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, slash - s);
	ip[slash - s] = 0;
	struct in_addr a;
	char *end;
	long plen = strtol(slash + 1, &end, 10);
	return inet_pton(AF_INET, ip, &a) == 1 && !*end && slash[1] && plen >= 0 && plen <= 32;
}

static int network_rules(const struct cg_resource *desired, const char *sg, struct rules *want,
			 struct cg_err *err)
{
	ec2_self_rules(want, sg, cg_res_get(desired, "release_port") != NULL,
		       cg_res_get(desired, "load_port") != NULL);
	if (cg_res_get(desired, "monitoring_port"))
		ec2_scrape_rules(want, sg);
	char **cidrs;
	int n = ec2_split_list(cg_res_get(desired, "allowed_cidrs"), &cidrs);
	const char *mon = cg_res_get(desired, "monitoring_port");
	int monp = mon ? atoi(mon) : 0;
	if (n == 0) {
		ec2_free_list(cidrs, n);
		return cg_error(err, CG_EXIT_ERROR,
				"%s: no allowed CIDRs: set allowed_cidrs in the config or "
				"CASSANDGO_ALLOWED_CIDRS (SSH and CQL would be closed to everyone)",
				desired->addr);
	}
	for (int i = 0; i < n; i++) {
		if (!valid_cidr4(cidrs[i])) {
			cg_error(err, CG_EXIT_CONFIG, "%s: '%s' is not an IPv4 CIDR such as 203.0.113.7/32",
				 desired->addr, cidrs[i]);
			ec2_free_list(cidrs, n);
			return -1;
		}
		ec2_rules_add(want, "tcp", 22, 22, cidrs[i]);
		ec2_rules_add(want, "tcp", 9042, 9042, cidrs[i]);
		if (monp > 0)
			ec2_rules_add(want, "tcp", monp, monp, cidrs[i]);
	}
	ec2_free_list(cidrs, n);
	return 0;
}

/*
 * Make the main group's own (network) rules equal to want; peers rules are
 * left alone. Authorize first (a node never loses access it should keep)
 * unless the group has no room for that: then revoke first, which costs
 * nothing, as no revoked rule is wanted.
 */
static int reconcile(struct cg_provider *p, const char *region, const char *sg,
		     const struct rules *want, struct cg_err *err)
{
	xmlDocPtr d = NULL;
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "GroupId.1", sg);
	int rc = ec2_call(p, region, "DescribeSecurityGroups", &pa, CG_EC2_RETRY_NOTFOUND, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	struct rules have = { 0 }, add = { 0 }, del = { 0 };
	ec2_parse_rules(cg_xml_path(ec2_root(d), "securityGroupInfo/item"), &have);
	xmlFreeDoc(d);
	for (int i = 0; i < have.n; i++)
		if (!ec2_is_peer_rule(&have.v[i]) && !ec2_rules_has(want, &have.v[i]))
			ec2_rules_add(&del, have.v[i].proto, have.v[i].from, have.v[i].to, have.v[i].src);
	for (int i = 0; i < want->n; i++)
		if (!ec2_rules_has(&have, &want->v[i]))
			ec2_rules_add(&add, want->v[i].proto, want->v[i].from, want->v[i].to, want->v[i].src);
	int total = have.n + add.n - del.n;
	if (have.n + add.n > p->lim.rules_per_group) {
		rc = ec2_change_rules(p, region, sg, false, &del, total, err);
		if (rc == 0)
			rc = ec2_change_rules(p, region, sg, true, &add, total, err);
	} else {
		rc = ec2_change_rules(p, region, sg, true, &add, total, err);
		if (rc == 0)
			rc = ec2_change_rules(p, region, sg, false, &del, total, err);
	}
	free(have.v);
	free(add.v);
	free(del.v);
	return rc;
}

int ec2_network_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		      const struct cg_resource *desired, const struct cg_resource *current,
		      struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	struct sgset s;
	if (op == CG_OP_DELETE) {
		if (ec2_sgset_find(p, region, &s, err) < 0)
			return -1;
		if (!s.id[0] && current && current->id)
			s.id[0] = cg_xstrdup(current->id);
		int rc = 0;
		ec2_progress(ctx, r->addr, "deleting security groups");
		for (int g = CG_EC2_GROUPS_MAX - 1; g >= 0 && rc == 0; g--)
			if (s.id[g])
				rc = ec2_sg_delete(p, region, s.id[g], err);
		ec2_sgset_free(&s);
		return rc;
	}

	const char *vpc;
	if (ec2_default_vpc(p, region, &vpc, err) < 0)
		return -1;
	if (ec2_sgset_find(p, region, &s, err) < 0)
		return -1;
	struct rules want = { 0 };
	int rc = -1;
	if (!s.id[0]) {
		free(s.vpc);
		s.vpc = cg_xstrdup(vpc);
		if (ec2_sg_create(p, ctx, r->addr, region, vpc, 0, &s.id[0], err) < 0)
			goto out;
	}
	if (network_rules(desired, s.id[0], &want, err) < 0)
		goto out;
	/* Overflow groups exist before the region's instances launch (they
	 * launch with every group): as many as the configured remote nodes
	 * need. Fewer are deleted by peers.<region>, which knows the addresses. */
	int nremote = ec2_remote_nodes(p->c, region);
	int ng = cg_ec2_rules_groups(&p->lim, want.n + (ec2_monitor_remote(p->c, region) ? 2 : 0),
				     nremote, r->addr, err);
	if (ng < 0)
		goto out;
	bool created = false;
	for (int g = 1; g < ng; g++)
		if (!s.id[g]) {
			if (ec2_sg_create(p, ctx, r->addr, region, s.vpc ? s.vpc : vpc, g, &s.id[g], err) < 0)
				goto out;
			created = true;
		}
	ec2_sgs_publish(p, region, &s, CG_EC2_GROUPS_MAX);
	if (created && ec2_sgs_attach(p, ctx, r->addr, region, s.id, CG_EC2_GROUPS_MAX, NULL, 0, err) < 0)
		goto out;
	/* More own rules than the main group has room for beside its remote
	 * addresses (an allowed CIDR added): move addresses out first. */
	int npeer = 0;
	for (int k = 0; k < s.rules[0].n; k++)
		npeer += ec2_is_peer_rule(&s.rules[0].v[k]);
	if (want.n + npeer > p->lim.rules_per_group) {
		char **obs = NULL;
		int nobs = 0;
		char *mon = NULL;
		for (int g = 0; g < CG_EC2_GROUPS_MAX; g++)
			for (int k = 0; s.id[g] && k < s.rules[g].n; k++) {
				const struct rule *x = &s.rules[g].v[k];
				if (ec2_reaches_storage(x))
					ec2_list_add_unique(&obs, &nobs, x->src);
				else if (g == 0 && ec2_is_scrape_rule(x) && strncmp(x->src, "sg-", 3) && !mon)
					mon = cg_xstrdup(x->src);
			}
		if (nobs > 1)
			qsort(obs, (size_t)nobs, sizeof(char *), ec2_cmp_str);
		int lrc = ec2_peers_layout(p, ctx, r->addr, region, obs, nobs, mon, want.n, nremote, err);
		ec2_free_list(obs, nobs);
		free(mon);
		if (lrc < 0)
			goto out;
	}
	ec2_progress(ctx, r->addr, "reconciling ingress rules");
	if (reconcile(p, region, s.id[0], &want, err) < 0)
		goto out;
	cg_res_copy(result, desired);
	cg_res_set_id(result, s.id[0]);
	cg_res_set(result, "vpc_id", vpc, CG_ATTR_INFO);
	rc = 0;
out:
	free(want.v);
	ec2_sgset_free(&s);
	return rc;
}

/* allowed_cidrs as the state wrote it when the set is the same (order kept),
 * else the observed set sorted. */
static char *same_set_or(const char *known, char **v, int n)
{
	char **kv;
	int kn = ec2_split_list(known, &kv);
	bool same = kn == n;
	for (int i = 0; same && i < n; i++) {
		bool f = false;
		for (int k = 0; k < kn; k++)
			f |= !strcmp(kv[k], v[i]);
		same = f;
	}
	ec2_free_list(kv, kn);
	if (same && known)
		return cg_xstrdup(known);
	return ec2_join_sorted(v, n);
}

int ec2_network_refresh(struct region_job *j)
{
	struct cg_provider *p = j->p;
	struct sgset *s = &j->sgs;
	if (ec2_sgset_find(p, j->region, s, &j->err) < 0)
		return -1;
	ec2_sgs_publish(p, j->region, s, CG_EC2_GROUPS_MAX);
	const char *sg = s->id[0];
	if (!sg)
		return 0;
	const struct rules *have = &s->rules[0];
	char **cidrs = NULL;
	int nc = 0, mon = 0;
	/* rules from groups: exactly the group itself on the internode ports */
	struct rules self = { 0 }, extra = { 0 }, missing = { 0 };
	bool share = false, load = false;
	ec2_self_rules(&self, sg, ec2_upload(p->c), ec2_region_loads(p->c, j->region));
	if (cg_monitoring_dc(p->c) >= 0)
		ec2_scrape_rules(&self, sg);
	for (int i = 0; i < have->n; i++) {
		const struct rule *x = &have->v[i];
		if (!strncmp(x->src, "sg-", 3)) {
			share |= !strcmp(x->proto, "tcp") && x->from == CG_MODEL_SHARE_PORT &&
				 x->to == CG_MODEL_SHARE_PORT && !strcmp(x->src, sg);
			load |= !strcmp(x->proto, "tcp") && x->from == 9042 && x->to == 9042 &&
				!strcmp(x->src, sg);
			if (!ec2_rules_has(&self, x))
				ec2_rules_add(&extra, x->proto, x->from, x->to, x->src);
			continue;
		}
		if (ec2_is_peer_rule(x))
			continue;
		ec2_list_add_unique(&cidrs, &nc, x->src);
		if (!strcmp(x->proto, "tcp") && x->from == x->to && x->from != 22 && x->from != 9042)
			mon = x->from;
	}
	for (int i = 0; i < self.n; i++)
		if (!ec2_rules_has(have, &self.v[i]))
			ec2_rules_add(&missing, self.v[i].proto, self.v[i].from, self.v[i].to, self.v[i].src);

	char *addr = cg_addr_region(CG_KIND_NETWORK, j->region);
	const struct cg_resource *k = cg_rset_find(j->known, addr);
	struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_NETWORK, addr);
	free(addr);
	r->region = cg_xstrdup(j->region);
	cg_res_set_id(r, sg);
	char *gname = cg_ec2_sg_name(p->c->name, j->region, 0);
	cg_res_set(r, "name", gname, CG_ATTR_FORCENEW);
	free(gname);
	char *list = same_set_or(k ? cg_res_get(k, "allowed_cidrs") : NULL, cidrs, nc);
	cg_res_set(r, "allowed_cidrs", list, 0);
	free(list);
	if (mon)
		cg_res_setf(r, "monitoring_port", 0, "%d", mon);
	if (share)
		cg_res_setf(r, "release_port", 0, "%d", CG_MODEL_SHARE_PORT);
	if (load)
		cg_res_set(r, "load_port", "9042", 0);
	cg_res_set(r, "vpc_id", s->vpc, CG_ATTR_INFO);
	/* what the diff shows when only group-sourced rules differ (the 2014
	 * layout's 7001 and 7199 among them) */
	if (extra.n || missing.n) {
		struct cg_buf h = { 0 }, b = { 0 };
		if (extra.n) {
			ec2_rules_summary(&extra, &b);
			cg_buf_addf(&h, "rules to revoke: %s from security groups", b.data);
			cg_buf_free(&b);
		}
		if (missing.n) {
			ec2_rules_summary(&missing, &b);
			cg_buf_addf(&h, "%srules to add: %s from the group itself", h.len ? "; " : "",
				    b.data);
			cg_buf_free(&b);
		}
		cg_res_set(r, "health", h.data, CG_ATTR_COMPUTED);
		cg_buf_free(&h);
	}
	free(self.v);
	free(extra.v);
	free(missing.v);
	ec2_free_list(cidrs, nc);
	return 0;
}
