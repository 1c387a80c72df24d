/*
 * peers.c - peers.<region>: one tcp 7000 rule per other region's node (and
 * the monitoring node's scrape rules), laid out over the main group's room
 * and the overflow groups, applied and observed (see internal.h).
 */
#include "internal.h"
#include "../../planner/monitoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The monitoring node's public /32 when it is in another region than
 * region (its Prometheus scrapes this region's nodes); NULL otherwise. */
static char *monitor_cidr(struct cg_provider *p, struct cg_ctx *ctx, const char *region)
{
	int d = cg_monitoring_dc(p->c);
	if (d < 0 || !ctx || !ctx->lookup || !strcmp(p->c->dcs[d].region, region))
		return NULL;
	char *addr = cg_xasprintf("machine.%s.n1", p->c->dcs[d].name);
	struct cg_resource m;
	char *cidr = NULL;
	memset(&m, 0, sizeof(m));
	if (ctx->lookup(ctx, addr, &m) == 0) {
		const char *ip = cg_res_get(&m, "public_ip");
		if (ip && *ip)
			cidr = cg_xasprintf("%s/32", ip);
		cg_res_clear(&m);
	}
	free(addr);
	return cidr;
}

static bool sorted_has(char *const *v, int n, const char *s)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(v[mid], s);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

static bool add_pending(const struct rules *add, int ng, const char *src)
{
	for (int g = 0; g < ng; g++)
		for (int i = 0; i < add[g].n; i++)
			if (!strcmp(add[g].v[i].src, src))
				return true;
	return false;
}

/* Revoke the rules of del that may go now: those whose address has no
 * new rule waiting (only == NULL), or all of one address's (only). */
static int revoke_ready(struct cg_provider *p, const char *region, char *const *ids, int ng,
			const struct rules *add, struct rules *del, int *count, const char *only,
			bool *moved, struct cg_err *err)
{
	for (int g = 0; g < ng; g++) {
		struct rules now = { 0 };
		int keep = 0;
		for (int i = 0; i < del[g].n; i++) {
			const struct rule *x = &del[g].v[i];
			if (only ? strcmp(x->src, only) != 0 : add_pending(add, ng, x->src))
				del[g].v[keep++] = *x;
			else
				ec2_rules_add(&now, x->proto, x->from, x->to, x->src);
		}
		del[g].n = keep;
		count[g] -= now.n;
		*moved |= now.n > 0;
		int rc = ec2_change_rules(p, region, ids[g], false, &now, count[g], err);
		free(now.v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * Make each group g gain add[g] and lose del[g] (count[g]: the rules it
 * holds) without a node losing access and without passing the quota: a
 * rule is added where its group has room, an old rule goes once its
 * address's new rule is in. Groups full of old rules whose replacements
 * wait for that room (the 2014 layout at the quota) free one address's old
 * rules at a time: that address alone is without access for a moment.
 */
static int shuffle_rules(struct cg_provider *p, const char *region, char *const *ids, int ng,
			 struct rules *add, struct rules *del, int *count, struct cg_err *err)
{
	int quota = p->lim.rules_per_group;
	for (;;) {
		bool moved = false, left = false;
		for (int g = 0; g < ng; g++) {
			int k = quota - count[g] < add[g].n ? quota - count[g] : add[g].n;
			if (k <= 0)
				continue;
			struct rules now = { 0 };
			for (int i = 0; i < k; i++)
				ec2_rules_add(&now, add[g].v[i].proto, add[g].v[i].from, add[g].v[i].to,
					      add[g].v[i].src);
			memmove(add[g].v, add[g].v + k, (size_t)(add[g].n - k) * sizeof(*add[g].v));
			add[g].n -= k;
			count[g] += k;
			moved = true;
			int rc = ec2_change_rules(p, region, ids[g], true, &now, count[g], err);
			free(now.v);
			if (rc < 0)
				return -1;
		}
		if (revoke_ready(p, region, ids, ng, add, del, count, NULL, &moved, err) < 0)
			return -1;
		for (int g = 0; g < ng; g++)
			left |= add[g].n || del[g].n;
		if (!left)
			return 0;
		if (moved)
			continue;
		char only[64] = "";
		for (int g = 0; g < ng && !only[0]; g++)
			if (del[g].n)
				snprintf(only, sizeof(only), "%s", del[g].v[0].src);
		if (!only[0])
			return cg_error(err, CG_EXIT_ERROR, "security groups of %s: no room left for "
					"the rules to add (more own rules than CASSANDGO_EC2_RULES_PER_GROUP "
					"= %d?)", region, quota);
		if (revoke_ready(p, region, ids, ng, add, del, count, only, &moved, err) < 0)
			return -1;
	}
}

/*
 * Lay a region's cross-region rules out over its groups: one tcp 7000 rule
 * per address of cidrs (sorted, unique), and the monitoring node's scrape
 * rules (mon, may be NULL) in the main group. fixed_net: the main group's
 * own rules, or -1 to count those it holds now. nplan: how many addresses
 * to size the groups for (the configured remote nodes, so that the number
 * of groups follows the configuration and not moto's repeated fake
 * addresses). Addresses stay in their group while it has room; groups are
 * created and attached before rules move into them, and detached and
 * deleted only after their rules are elsewhere. Returns 1 when the region
 * has no main group.
 */
int ec2_peers_layout(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		     const char *region, char **cidrs, int n, const char *mon, int fixed_net,
		     int nplan, struct cg_err *err)
{
	struct sgset s;
	if (ec2_sgset_find(p, region, &s, err) < 0)
		return -1;
	if (!s.id[0]) {
		ec2_sgset_free(&s);
		return 1;
	}
	int rc = -1;
	int *cur = cg_xcalloc((size_t)n + 1, sizeof(int)), *out = cg_xcalloc((size_t)n + 1, sizeof(int));
	struct rules want[CG_EC2_GROUPS_MAX], add[CG_EC2_GROUPS_MAX], del[CG_EC2_GROUPS_MAX];
	memset(want, 0, sizeof(want));
	memset(add, 0, sizeof(add));
	memset(del, 0, sizeof(del));
	if (fixed_net < 0) {
		fixed_net = 0;
		for (int k = 0; k < s.rules[0].n; k++)
			fixed_net += !ec2_is_peer_rule(&s.rules[0].v[k]);
	}
	int fixed = fixed_net + (mon ? 2 : 0);
	int ng = cg_ec2_rules_groups(&p->lim, fixed, nplan > n ? nplan : n, addr, err);
	if (ng < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		cur[i] = -1;
		for (int g = 0; g < CG_EC2_GROUPS_MAX && cur[i] < 0; g++)
			for (int k = 0; s.id[g] && k < s.rules[g].n; k++)
				if (ec2_is_storage_rule(&s.rules[g].v[k]) && !strcmp(s.rules[g].v[k].src, cidrs[i])) {
					cur[i] = g;
					break;
				}
	}
	if (cg_ec2_rules_place(&p->lim, fixed, ng, n, cur, out) < 0) {
		cg_error(err, CG_EXIT_ERROR, "%s: %d addresses do not fit in %d groups", addr, n, ng);
		goto out;
	}

	/* the groups first: created, then on every instance of the region */
	for (int g = 1; g < ng; g++)
		if (!s.id[g] && ec2_sg_create(p, ctx, addr, region, s.vpc, g, &s.id[g], err) < 0)
			goto out;
	ec2_sgs_publish(p, region, &s, ng);
	if (ec2_sgs_attach(p, ctx, addr, region, s.id, ng, NULL, 0, err) < 0)
		goto out;

	for (int i = 0; i < n; i++)
		ec2_rules_add(&want[out[i]], "tcp", 7000, 7000, cidrs[i]);
	if (mon)
		ec2_scrape_rules(&want[0], mon);
	ec2_progress(ctx, addr, ng > 1 ? "reconciling cross-region rules over several groups"
				   : "reconciling cross-region rules");
	int count[CG_EC2_GROUPS_MAX];
	for (int g = 0; g < ng; g++) {
		const struct rules *h = &s.rules[g];
		struct rules gone = { 0 };
		for (int k = 0; k < h->n; k++) {
			const struct rule *x = &h->v[k];
			if ((g == 0 && !ec2_is_peer_rule(x)) || ec2_rules_has(&want[g], x))
				continue;
			/* an address wanted nowhere goes at once (room for the
			 * others); one that moves or changes form goes after its
			 * new rule is in */
			bool wanted = sorted_has(cidrs, n, x->src) || (mon && !strcmp(mon, x->src));
			ec2_rules_add(wanted ? &del[g] : &gone, x->proto, x->from, x->to, x->src);
		}
		for (int k = 0; k < want[g].n; k++)
			if (!ec2_rules_has(h, &want[g].v[k]))
				ec2_rules_add(&add[g], want[g].v[k].proto, want[g].v[k].from, want[g].v[k].to,
					      want[g].v[k].src);
		count[g] = h->n - gone.n;
		int crc = ec2_change_rules(p, region, s.id[g], false, &gone, count[g], err);
		free(gone.v);
		if (crc < 0)
			goto out;
	}
	if (shuffle_rules(p, region, s.id, ng, add, del, count, err) < 0)
		goto out;

	/* groups no longer needed: off every instance, then deleted */
	bool surplus = false;
	for (int g = ng; g < CG_EC2_GROUPS_MAX; g++)
		surplus |= s.id[g] != NULL;
	if (surplus) {
		if (ec2_sgs_attach(p, ctx, addr, region, s.id, ng, s.id + ng, CG_EC2_GROUPS_MAX - ng, err) < 0)
			goto out;
		ec2_progress(ctx, addr, "deleting overflow security groups no longer needed");
		for (int g = ng; g < CG_EC2_GROUPS_MAX; g++)
			if (s.id[g] && ec2_sg_delete(p, region, s.id[g], err) < 0)
				goto out;
	}
	rc = 0;
out:
	for (int g = 0; g < CG_EC2_GROUPS_MAX; g++) {
		free(want[g].v);
		free(add[g].v);
		free(del[g].v);
	}
	free(cur);
	free(out);
	ec2_sgset_free(&s);
	return rc;
}

/* The other regions' configured machines' public /32s, sorted, as the model
 * lists them; a machine being removed loses its rules in the same apply. */
static char *peer_cidrs(struct cg_provider *p, struct cg_ctx *ctx, const char *region)
{
	struct cg_rset ms;
	cg_rset_init(&ms);
	if (ctx && ctx->list)
		ctx->list(ctx, CG_KIND_MACHINE, &ms);
	char **v = NULL;
	int n = 0;
	for (int i = 0; i < ms.n; i++) {
		const char *ip = cg_res_get(&ms.v[i], "public_ip");
		if (!ms.v[i].region || !strcmp(ms.v[i].region, region) || !ip || !*ip ||
		    !cg_model_wants_machine(p->c, &ms.v[i]))
			continue;
		char *c = cg_xasprintf("%s/32", ip);
		v = cg_xrealloc(v, (size_t)(n + 1) * sizeof(char *));
		v[n++] = c;
	}
	cg_rset_free(&ms);
	for (int i = 1; i < n; i++)	/* insertion sort: strcmp order, as the model's */
		for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	/* each address once, as the model lists them (moto can hand two
	 * regions the same fake address) */
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; i < n; i++)
		if (!i || strcmp(v[i], v[i - 1]))
			cg_buf_addf(&b, "%s%s", b.len ? "," : "", v[i]);
	ec2_free_list(v, n);
	return cg_buf_detach(&b);
}

int ec2_peers_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		    const struct cg_resource *desired, const struct cg_resource *current,
		    struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	bool del = op == CG_OP_DELETE;
	char *cidrs = del ? cg_xstrdup("") : peer_cidrs(p, ctx, region);
	char **v;
	int n = ec2_split_list(cidrs, &v), u = 0;
	for (int i = 0; i < n; i++) {	/* sorted: duplicates are adjacent */
		if (u && !strcmp(v[i], v[u - 1])) {
			free(v[i]);
			continue;
		}
		v[u++] = v[i];
	}
	char *mon = del ? NULL : monitor_cidr(p, ctx, region);
	if (del)
		ec2_progress(ctx, r->addr, "revoking cross-region rules");
	/* deleted: every address goes, and with them the overflow groups */
	int rc = ec2_peers_layout(p, ctx, r->addr, region, v, u, mon, -1,
				  del ? 0 : ec2_remote_nodes(p->c, region), err);
	ec2_free_list(v, u);
	free(mon);
	if (rc == 1) {
		rc = del ? 0 : cg_error(err, CG_EXIT_ERROR, "%s: the security group of %s does not exist",
					r->addr, region);
	} else if (rc == 0 && !del) {
		char *sg = NULL;
		const char *pub = ec2_sgs_published(p, region);
		if (pub) {
			const char *comma = strchr(pub, ',');
			sg = comma ? cg_xstrndup(pub, (size_t)(comma - pub)) : cg_xstrdup(pub);
		}
		cg_res_copy(result, desired);
		cg_res_set_id(result, sg);
		cg_res_set(result, "cidrs", cidrs, 0);
		/* for the operator (state show): where the rules are */
		cg_res_set(result, "groups", pub, CG_ATTR_INFO);
		free(sg);
	}
	free(cidrs);
	return rc;
}

/* The monitoring node's public /32 as refreshed, when it is in another
 * region than jobs[me]'s; NULL otherwise. */
static char *observed_monitor(struct cg_provider *p, struct region_job *jobs, int nr, int me)
{
	int d = cg_monitoring_dc(p->c);
	if (d < 0 || !strcmp(p->c->dcs[d].region, jobs[me].region))
		return NULL;
	char *maddr = cg_addr_node(CG_KIND_MACHINE, p->c->dcs[d].name, 1);
	char *cidr = NULL;
	for (int i = 0; i < nr && !cidr; i++) {
		const struct cg_resource *m = cg_rset_find(&jobs[i].live, maddr);
		const char *ip = m ? cg_res_get(m, "public_ip") : NULL;
		if (ip && *ip)
			cidr = cg_xasprintf("%s/32", ip);
	}
	free(maddr);
	return cidr;
}

/*
 * peers.<region> as observed: cidrs = the addresses admitted on 7000 by a
 * group that every instance of the region carries; health names what else
 * differs from the layout ec2_peers_layout makes (rules of the 2014 layout,
 * a group missing on instances, a group over the quota, scrape rules).
 */
void ec2_peers_observe(struct cg_provider *p, struct region_job *jobs, int nr, int me)
{
	struct region_job *j = &jobs[me];
	struct sgset *s = &j->sgs;
	if (!s->id[0])
		return;
	bool any = false;
	for (int g = 1; g < CG_EC2_GROUPS_MAX; g++)
		any |= s->id[g] != NULL;
	for (int k = 0; k < s->rules[0].n; k++)
		any |= ec2_is_peer_rule(&s->rules[0].v[k]);
	if (!any)
		return;
	char *mon = observed_monitor(p, jobs, nr, me);
	struct cg_buf h = { 0 };
	struct rules extra = { 0 };
	char **peers = NULL;
	int np = 0;
	bool mon_seen[2] = { false, false };
	for (int g = 0; g < CG_EC2_GROUPS_MAX; g++) {
		if (!s->id[g])
			continue;
		int on = 0;
		for (int i = 0; i < j->ninst; i++)
			on += ec2_in_list(j->inst[i].groups, j->inst[i].n, s->id[g]);
		char *gname = cg_ec2_sg_name(p->c->name, j->region, g);
		if (on < j->ninst)
			cg_buf_addf(&h, "%sgroup %s is missing on %d of %d instances", h.len ? "; " : "",
				    gname, j->ninst - on, j->ninst);
		if (s->rules[g].n > p->lim.rules_per_group)
			cg_buf_addf(&h, "%sgroup %s holds %d inbound rules, more than %d", h.len ? "; " : "",
				    gname, s->rules[g].n, p->lim.rules_per_group);
		free(gname);
		for (int k = 0; k < s->rules[g].n; k++) {
			const struct rule *x = &s->rules[g].v[k];
			if (g == 0 && !ec2_is_peer_rule(x))
				continue;
			if (ec2_reaches_storage(x) && on == j->ninst)
				ec2_list_add_unique(&peers, &np, x->src);
			if (ec2_is_storage_rule(x))
				continue;
			if (g == 0 && mon && ec2_is_scrape_rule(x) && !strcmp(x->src, mon)) {
				mon_seen[x->from == CG_MON_NODE_EXPORTER_PORT] = true;
				continue;
			}
			ec2_rules_add(&extra, x->proto, x->from, x->to, x->src);
		}
	}
	if (extra.n) {
		struct cg_buf b = { 0 };
		ec2_rules_summary(&extra, &b);
		cg_buf_addf(&h, "%srules to revoke: %s from other regions' addresses (each node needs "
			    "tcp 7000 only)", h.len ? "; " : "", b.data);
		cg_buf_free(&b);
	}
	if (mon && (!mon_seen[0] || !mon_seen[1]))
		cg_buf_addf(&h, "%sscrape rules from the monitoring node %s missing", h.len ? "; " : "",
			    mon);
	/* groups beyond what ec2_peers_layout would keep (a raised limit, fewer
	 * nodes, a killed run): the same arithmetic as there */
	int fixed = mon ? 2 : 0, nplan = ec2_remote_nodes(p->c, j->region);
	for (int k = 0; k < s->rules[0].n; k++)
		fixed += !ec2_is_peer_rule(&s->rules[0].v[k]);
	struct cg_err ignored = { 0 };
	int ng = cg_ec2_rules_groups(&p->lim, fixed, np > nplan ? np : nplan, "", &ignored);
	for (int g = ng > 0 ? ng : CG_EC2_GROUPS_MAX; g < CG_EC2_GROUPS_MAX; g++)
		if (s->id[g]) {
			char *gname = cg_ec2_sg_name(p->c->name, j->region, g);
			cg_buf_addf(&h, "%sgroup %s is no longer needed", h.len ? "; " : "", gname);
			free(gname);
		}
	char *addr = cg_addr_region(CG_KIND_PEERS, j->region);
	struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_PEERS, addr);
	free(addr);
	r->region = cg_xstrdup(j->region);
	cg_res_set_id(r, s->id[0]);
	char *list = ec2_join_sorted(peers, np);
	cg_res_set(r, "cidrs", list, 0);
	free(list);
	if (h.len)
		cg_res_set(r, "health", h.data, CG_ATTR_COMPUTED);
	cg_buf_free(&h);
	free(extra.v);
	ec2_free_list(peers, np);
	free(mon);
}
