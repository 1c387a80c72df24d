/*
 * sg.c - a region's security groups and their rules (see internal.h): the
 * default VPC, what each rule is for, finding the groups by name, creating,
 * deleting and attaching them, authorizing and revoking rules in batches.
 * network.c and peers.c decide which rules; this file makes them so.
 */
#include "internal.h"
#include "../../planner/monitoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ec2_default_vpc(struct cg_provider *p, const char *region, const char **out,
		    struct cg_err *err)
{
	char key[128];
	snprintf(key, sizeof(key), "vpc:%s", region);
	if ((*out = ec2_cache_get(p, key)))
		return 0;
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	ec2_add_filter1(&pa, &nf, "isDefault", "true");
	xmlDocPtr d;
	int rc = ec2_call(p, region, "DescribeVpcs", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char *vpc = cg_xml_text(ec2_root(d), "vpcSet/item/vpcId");
	xmlFreeDoc(d);
	if (!vpc || !*vpc) {
		free(vpc);
		return cg_error(err, CG_EXIT_ERROR,
				"region %s has no default VPC; create one with "
				"`aws ec2 create-default-vpc --region %s`", region, region);
	}
	ec2_cache_put(p, key, vpc);
	free(vpc);
	*out = ec2_cache_get(p, key);
	return 0;
}

void ec2_rules_add(struct rules *r, const char *proto, int from, int to, const char *src)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = cg_xrealloc(r->v, (size_t)r->cap * sizeof(*r->v));
	}
	struct rule *x = &r->v[r->n++];
	snprintf(x->proto, sizeof(x->proto), "%s", proto);
	x->from = from;
	x->to = to;
	snprintf(x->src, sizeof(x->src), "%s", src);
}

static bool rule_eq(const struct rule *a, const struct rule *b)
{
	return !strcmp(a->proto, b->proto) && a->from == b->from && a->to == b->to &&
	       !strcmp(a->src, b->src);
}

bool ec2_rules_has(const struct rules *r, const struct rule *x)
{
	for (int i = 0; i < r->n; i++)
		if (rule_eq(&r->v[i], x))
			return true;
	return false;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int c = strcmp(x->proto, y->proto);
	if (!c)
		c = x->from - y->from;
	if (!c)
		c = x->to - y->to;
	return c ? c : strcmp(x->src, y->src);
}

/*
 * Cross-region (peers) rules are the CIDR-sourced internode ones, including
 * the 2014 layout's (7000-7001, 7001, 7199, ICMP per address) so that they
 * are revoked; every other rule of the main group belongs to
 * network.<region>. Overflow groups hold peers rules only.
 */
bool ec2_is_peer_rule(const struct rule *x)
{
	if (!strncmp(x->src, "sg-", 3))
		return false;
	if (!strcmp(x->proto, "icmp"))
		return true;
	return !strcmp(x->proto, "tcp") && (x->from == 7000 || x->from == 7001 || x->from == 7199 ||
					    x->from == CG_MON_JMX_EXPORTER_PORT ||
					    x->from == CG_MON_NODE_EXPORTER_PORT);
}

/* The one rule a remote node needs: storage (TLS) on 7000 from its /32. */
bool ec2_is_storage_rule(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from == 7000 && x->to == 7000 &&
	       strncmp(x->src, "sg-", 3);
}

/* A CIDR that reaches 7000 by any rule (the old ranges too): who must keep
 * access while rules change form or move between groups. */
bool ec2_reaches_storage(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from <= 7000 && x->to >= 7000 &&
	       strncmp(x->src, "sg-", 3);
}

bool ec2_is_scrape_rule(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from == x->to &&
	       (x->from == CG_MON_JMX_EXPORTER_PORT || x->from == CG_MON_NODE_EXPORTER_PORT);
}

/* Scrape ports (JMX exporter, node exporter) from src: only clusters with
 * monitoring, only from the group itself or the monitoring node. */
void ec2_scrape_rules(struct rules *r, const char *src)
{
	ec2_rules_add(r, "tcp", CG_MON_JMX_EXPORTER_PORT, CG_MON_JMX_EXPORTER_PORT, src);
	ec2_rules_add(r, "tcp", CG_MON_NODE_EXPORTER_PORT, CG_MON_NODE_EXPORTER_PORT, src);
}

/*
 * Internode access from the group itself: storage on 7000 (TLS; the legacy
 * SSL port 7001 is disabled), ICMP (latency checks) and, with install:
 * upload, the release share port (7080). JMX (7199) listens
 * on loopback only: nothing opens it. Nodes of other regions get 7000 alone
 * (one rule per /32, see ec2_peers_layout in peers.c).
 */
void ec2_self_rules(struct rules *r, const char *sg, bool upload, bool load)
{
	ec2_rules_add(r, "tcp", 7000, 7000, sg);
	ec2_rules_add(r, "icmp", -1, -1, sg);
	/* load nodes (stress_nodes) reach their DC's nodes on CQL: from the
	 * group, not from an address range */
	if (load)
		ec2_rules_add(r, "tcp", 9042, 9042, sg);
	/* install: upload: the region's first node serves the release to the
	 * others (cgnode install-share) */
	if (upload)
		ec2_rules_add(r, "tcp", CG_MODEL_SHARE_PORT, CG_MODEL_SHARE_PORT, sg);
}

bool ec2_region_loads(const struct cg_cluster *c, const char *region)
{
	for (int d = 0; d < c->ndcs; d++)
		if (c->dcs[d].stress_nodes > 0 && !strcmp(c->dcs[d].region, region))
			return true;
	return false;
}

bool ec2_upload(const struct cg_cluster *c)
{
	char *m = cg_model_install_method(c);
	bool up = !strcmp(m, "upload");
	free(m);
	return up;
}

/* Nodes the configuration puts in other regions than region. */
int ec2_remote_nodes(const struct cg_cluster *c, const char *region)
{
	int n = 0;
	for (int d = 0; d < c->ndcs; d++)
		if (strcmp(c->dcs[d].region, region))
			n += c->dcs[d].nodes;
	return n;
}

/* Is the monitoring node in another region than region? */
bool ec2_monitor_remote(const struct cg_cluster *c, const char *region)
{
	int d = cg_monitoring_dc(c);
	return d >= 0 && strcmp(c->dcs[d].region, region);
}

/* "icmp x3, tcp 7199 x3": what a set of rules opens, for plan reasons
 * (sorted in place: the same world reads the same). */
void ec2_rules_summary(struct rules *r, struct cg_buf *b)
{
	if (r->n > 1)
		qsort(r->v, (size_t)r->n, sizeof(*r->v), rule_cmp);
	bool *seen = cg_xcalloc((size_t)r->n + 1, sizeof(bool));
	for (int i = 0; i < r->n; i++) {
		if (seen[i])
			continue;
		int count = 0;
		for (int k = i; k < r->n; k++)
			if (!strcmp(r->v[k].proto, r->v[i].proto) && r->v[k].from == r->v[i].from &&
			    r->v[k].to == r->v[i].to) {
				seen[k] = true;
				count++;
			}
		cg_buf_addf(b, "%s%s", b->len ? ", " : "", r->v[i].proto);
		if (r->v[i].from >= 0)
			cg_buf_addf(b, " %d", r->v[i].from);
		if (r->v[i].to != r->v[i].from)
			cg_buf_addf(b, "-%d", r->v[i].to);
		if (count > 1)
			cg_buf_addf(b, " x%d", count);
	}
	free(seen);
}

/* Rules of a group item (ipPermissions), flattened. */
void ec2_parse_rules(xmlNodePtr sg, struct rules *out)
{
	char proto[16], buf[64];
	for (xmlNodePtr perm = cg_xml_path(sg, "ipPermissions/item"); perm;
	     perm = cg_xml_next(perm, "item")) {
		cg_xml_textb(perm, "ipProtocol", proto, sizeof(proto));
		if (!strcmp(proto, "1"))
			snprintf(proto, sizeof(proto), "icmp");
		if (!strcmp(proto, "6"))
			snprintf(proto, sizeof(proto), "tcp");
		int from = atoi(cg_xml_textb(perm, "fromPort", buf, sizeof(buf)));
		int to = atoi(cg_xml_textb(perm, "toPort", buf, sizeof(buf)));
		if (!strcmp(proto, "-1"))
			from = to = -1;
		for (xmlNodePtr g = cg_xml_path(perm, "groups/item"); g; g = cg_xml_next(g, "item"))
			ec2_rules_add(out, proto, from, to, cg_xml_textb(g, "groupId", buf, sizeof(buf)));
		for (xmlNodePtr r = cg_xml_path(perm, "ipRanges/item"); r; r = cg_xml_next(r, "item"))
			ec2_rules_add(out, proto, from, to, cg_xml_textb(r, "cidrIp", buf, sizeof(buf)));
	}
}

void ec2_sgset_free(struct sgset *s)
{
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++) {
		free(s->id[i]);
		free(s->rules[i].v);
	}
	free(s->vpc);
	memset(s, 0, sizeof(*s));
}

/* One DescribeSecurityGroups for every name the region's groups can have
 * (all CG_EC2_GROUPS_MAX: a group left by a lowered limit is found too). */
int ec2_sgset_find(struct cg_provider *p, const char *region, struct sgset *s,
		   struct cg_err *err)
{
	memset(s, 0, sizeof(*s));
	char *names[CG_EC2_GROUPS_MAX];
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++)
		names[i] = cg_ec2_sg_name(p->c->name, region, i);
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	ec2_add_filter(&pa, &nf, "group-name", (const char *const *)names, CG_EC2_GROUPS_MAX);
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++)
		free(names[i]);
	xmlDocPtr d = NULL;
	int rc = ec2_call(p, region, "DescribeSecurityGroups", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char buf[300];
	for (xmlNodePtr it = cg_xml_path(ec2_root(d), "securityGroupInfo/item"); it;
	     it = cg_xml_next(it, "item")) {
		int i = cg_ec2_sg_index(p->c->name, region,
					cg_xml_textb(it, "groupName", buf, sizeof(buf)));
		if (i < 0 || s->id[i])
			continue;	/* a namesake in another VPC: the first one wins */
		s->id[i] = cg_xml_text(it, "groupId");
		ec2_parse_rules(it, &s->rules[i]);
		if (i == 0)
			s->vpc = cg_xml_text(it, "vpcId");
	}
	xmlFreeDoc(d);
	return 0;
}

/*
 * The region's group ids (index order, groups below upto) that new
 * instances launch with, as this run last saw or changed them. A launch
 * compares it before and after RunInstances (machine.c): a group
 * added meanwhile is then attached by one side or the other.
 */
void ec2_sgs_publish(struct cg_provider *p, const char *region, const struct sgset *s, int upto)
{
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; s->id[0] && i < upto && i < CG_EC2_GROUPS_MAX; i++)
		if (s->id[i])
			cg_buf_addf(&b, "%s%s", b.len ? "," : "", s->id[i]);
	char key[160];
	snprintf(key, sizeof(key), "sgs:%s", region);
	ec2_cache_put(p, key, b.data);
	cg_buf_free(&b);
}

const char *ec2_sgs_published(struct cg_provider *p, const char *region)
{
	char key[160];
	snprintf(key, sizeof(key), "sgs:%s", region);
	return ec2_cache_get(p, key);
}

/* Groups to launch an instance of region with (caller frees the list). */
int ec2_sgs_for_launch(struct cg_provider *p, const char *region, bool fresh, char **out,
		       struct cg_err *err)
{
	const char *v = fresh ? NULL : ec2_sgs_published(p, region);
	if (!v || !*v) {
		struct sgset s;
		if (ec2_sgset_find(p, region, &s, err) < 0)
			return -1;
		ec2_sgs_publish(p, region, &s, CG_EC2_GROUPS_MAX);
		ec2_sgset_free(&s);
		v = ec2_sgs_published(p, region);
	}
	if (!v || !*v)
		return cg_error(err, CG_EXIT_ERROR, "the security group of %s does not exist", region);
	*out = cg_xstrdup(v);
	return 0;
}

/* Set an instance's groups (the whole list: that is what the API takes). */
int ec2_set_instance_groups(struct cg_provider *p, const char *region, const char *id,
			    char *const *groups, int n, struct cg_err *err)
{
	struct cg_ec2_params pa = { 0 };
	char k[32];
	cg_ec2_params_add(&pa, "InstanceId", id);
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "GroupId.%d", i + 1);
		cg_ec2_params_add(&pa, k, groups[i]);
	}
	struct cg_ec2_error e;
	/* a group created a moment ago may not be visible everywhere yet */
	int rc = ec2_call(p, region, "ModifyInstanceAttribute", &pa, CG_EC2_RETRY_NOTFOUND, NULL, &e, err);
	cg_ec2_params_free(&pa);
	if (rc < 0 && (!strcmp(e.code, "IncorrectInstanceState") ||
		       !strcmp(e.code, "InvalidInstanceID.NotFound")))
		rc = 0;		/* terminated meanwhile: nothing to protect */
	return rc;
}

/*
 * Make every live instance of the cluster in region carry the groups add
 * and none of drop; groups of anyone else stay. One DescribeInstances, then
 * one ModifyInstanceAttribute per instance that differs.
 */
int ec2_sgs_attach(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		   const char *region, char *const *add, int nadd, char *const *drop, int ndrop,
		   struct cg_err *err)
{
	xmlDocPtr *docs;
	int nd, rc = 0, changed = 0;
	if (ec2_describe_cluster(p, region, NULL, 0, true, &docs, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && rc == 0; i++)
		for (xmlNodePtr res = cg_xml_path(ec2_root(docs[i]), "reservationSet/item");
		     res && rc == 0; res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it && rc == 0;
			     it = cg_xml_next(it, "item")) {
				char **want = NULL, **have = NULL;
				int nw = 0, nh = 0;
				for (xmlNodePtr g = cg_xml_path(it, "groupSet/item"); g;
				     g = cg_xml_next(g, "item")) {
					have = cg_xrealloc(have, (size_t)(nh + 1) * sizeof(char *));
					have[nh++] = cg_xml_text(g, "groupId");
				}
				for (int k = 0; k < nadd; k++)
					if (add[k]) {
						want = cg_xrealloc(want, (size_t)(nw + 1) * sizeof(char *));
						want[nw++] = cg_xstrdup(add[k]);
					}
				for (int k = 0; k < nh; k++)
					if (have[k] && !ec2_in_list(add, nadd, have[k]) &&
					    !ec2_in_list(drop, ndrop, have[k])) {
						want = cg_xrealloc(want, (size_t)(nw + 1) * sizeof(char *));
						want[nw++] = cg_xstrdup(have[k]);
					}
				bool same = nw == nh;
				for (int k = 0; same && k < nw; k++)
					same = ec2_in_list(have, nh, want[k]);
				if (!same) {
					char *id = cg_xml_text(it, "instanceId");
					if (id) {
						if (!changed++)
							ec2_progress(ctx, addr, "attaching security groups to instances");
						rc = ec2_set_instance_groups(p, region, id, want, nw, err);
					}
					free(id);
				}
				ec2_free_list(want, nw);
				ec2_free_list(have, nh);
			}
	ec2_free_docs(docs, nd);
	return rc;
}

/* Create group `index` of region (adopting one a retried call or a crashed
 * run created: names are unique per VPC). */
int ec2_sg_create(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		  const char *region, const char *vpc, int index, char **id, struct cg_err *err)
{
	if (!vpc && ec2_default_vpc(p, region, &vpc, err) < 0)
		return -1;
	char *name = cg_ec2_sg_name(p->c->name, region, index);
	ec2_progress(ctx, addr, index ? "creating overflow security group" : "creating security group");
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "GroupName", name);
	if (index)
		cg_ec2_params_addf(&pa, "GroupDescription",
				   "cassandgo cluster %s in %s: other regions' nodes, part %d",
				   p->c->name, region, index + 1);
	else
		cg_ec2_params_addf(&pa, "GroupDescription", "cassandgo cluster %s in %s",
				   p->c->name, region);
	cg_ec2_params_add(&pa, "VpcId", vpc);
	const char *tags[] = { TAG_CLUSTER, p->c->name, "Name", name, TAG_ROLE, "peers" };
	ec2_add_tags(&pa, 1, "security-group", tags, index ? 3 : 2);
	xmlDocPtr d = NULL;
	struct cg_ec2_error e;
	int rc = ec2_call(p, region, "CreateSecurityGroup", &pa, 0, &d, &e, err);
	cg_ec2_params_free(&pa);
	*id = NULL;
	if (rc == 0) {
		*id = cg_xml_text(ec2_root(d), "groupId");
		xmlFreeDoc(d);
	} else if (cg_ec2_error_duplicate(&e)) {
		/* a dropped answer to our own earlier attempt, or a crashed run's
		 * group: adopt it (the call's error is not this one's) */
		struct sgset s;
		if (ec2_sgset_find(p, region, &s, err) < 0) {
			free(name);
			return -1;
		}
		*id = s.id[index] ? cg_xstrdup(s.id[index]) : NULL;
		ec2_sgset_free(&s);
		rc = 0;
	} else {
		free(name);
		return -1;
	}
	if (!*id)
		rc = cg_error(err, CG_EXIT_ERROR, "%s: security group %s not found after create", addr,
			      name);
	free(name);
	return rc < 0 ? -1 : 0;
}

/* Delete a group; instances just terminated or detached may hold it a while. */
int ec2_sg_delete(struct cg_provider *p, const char *region, const char *id, struct cg_err *err)
{
	int64_t until = cg_now_ms() + 1000 * p->wait_s;
	for (;;) {
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "GroupId", id);
		struct cg_ec2_error e;
		int rc = ec2_call(p, region, "DeleteSecurityGroup", &pa, 0, NULL, &e, err);
		cg_ec2_params_free(&pa);
		if (rc == 0 || cg_ec2_error_notfound(&e))
			return 0;
		if (strcmp(e.code, "DependencyViolation") || cg_now_ms() > until || ec2_interrupted_hard(p))
			return -1;
		ec2_sleep_ms(p->poll_ms * 2);
	}
}

/*
 * Rules v[from..to) as IpPermissions: consecutive rules with the same
 * protocol and ports share one permission (callers sort them so).
 */
static void add_perms(struct cg_ec2_params *pa, const struct rule *v, int n)
{
	char k[80];
	int perm = 0, nsrc = 0, ngrp = 0;
	for (int i = 0; i < n; i++) {
		const struct rule *x = &v[i];
		if (i == 0 || strcmp(x->proto, v[i - 1].proto) || x->from != v[i - 1].from ||
		    x->to != v[i - 1].to) {
			perm++;
			nsrc = ngrp = 0;
			snprintf(k, sizeof(k), "IpPermissions.%d.IpProtocol", perm);
			cg_ec2_params_add(pa, k, x->proto);
			snprintf(k, sizeof(k), "IpPermissions.%d.FromPort", perm);
			cg_ec2_params_addf(pa, k, "%d", x->from);
			snprintf(k, sizeof(k), "IpPermissions.%d.ToPort", perm);
			cg_ec2_params_addf(pa, k, "%d", x->to);
		}
		if (!strncmp(x->src, "sg-", 3)) {
			snprintf(k, sizeof(k), "IpPermissions.%d.Groups.%d.GroupId", perm, ++ngrp);
			cg_ec2_params_add(pa, k, x->src);
		} else {
			snprintf(k, sizeof(k), "IpPermissions.%d.IpRanges.%d.CidrIp", perm, ++nsrc);
			cg_ec2_params_add(pa, k, x->src);
		}
	}
}

#define RULES_PER_CALL 100

/*
 * Authorize or revoke rules, grouped by port into as few calls as
 * possible. When a call fails with Duplicate / NotFound (someone else got
 * there first, or a retried call had already succeeded) its rules are
 * redone one at a time, ignoring those codes.
 */
int ec2_change_rules(struct cg_provider *p, const char *region, const char *sg, bool add,
		     struct rules *rs, int count_hint, struct cg_err *err)
{
	const char *action = add ? "AuthorizeSecurityGroupIngress" : "RevokeSecurityGroupIngress";
	if (rs->n == 0)
		return 0;
	qsort(rs->v, (size_t)rs->n, sizeof(*rs->v), rule_cmp);
	for (int i = 0; i < rs->n; i += RULES_PER_CALL) {
		int m = rs->n - i < RULES_PER_CALL ? rs->n - i : RULES_PER_CALL;
		for (int one = 0; one < 2; one++) {
			bool retry_each = false;
			for (int j = 0; j < (one ? m : 1); j++) {
				struct cg_ec2_params pa = { 0 };
				cg_ec2_params_add(&pa, "GroupId", sg);
				add_perms(&pa, &rs->v[i + j], one ? 1 : m);
				struct cg_ec2_error e;
				int rc = ec2_call(p, region, action, &pa, add ? CG_EC2_RETRY_NOTFOUND : 0,
						  NULL, &e, err);
				cg_ec2_params_free(&pa);
				if (rc == 0)
					continue;
				if (!strcmp(e.code, "RulesPerSecurityGroupLimitExceeded"))
					return cg_error(err, CG_EXIT_ERROR,
							"security group %s in %s refused more inbound "
							"rules (it would hold about %d): the account's "
							"quota 'Inbound or outbound rules per security "
							"group' (Service Quotas L-0EA8095F) is below the "
							"%d cassandgo plans with. Set "
							"CASSANDGO_EC2_RULES_PER_GROUP to the quota, or "
							"raise the quota", sg, region, count_hint,
							p->lim.rules_per_group);
				bool benign = add ? cg_ec2_error_duplicate(&e)
						  : !strcmp(e.code, "InvalidPermission.NotFound");
				if (!benign)
					return -1;
				if (!one) {
					retry_each = true;
					break;
				}
			}
			if (!retry_each)
				break;
		}
	}
	return 0;
}
