/*
 * ec2.c - the EC2 provider: security groups, cross-region rules, key pairs
 * and instances of a cluster; see ec2.h.
 *
 * Concurrency: apply() runs on several executor threads at once. Shared
 * data (lookup caches, the per-region instance pollers) sits behind
 * mutexes; the client is thread-safe. Threads waiting for instances of one
 * region share their DescribeInstances calls (one poll serves every
 * waiter), so waiting for 100 instances costs a handful of calls.
 */
#include "ec2.h"
#include "../../planner/monitoring.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "client.h"
#include "rules.h"
#include "../ssh/ssh.h"

#define TAG_CLUSTER "cassandgo:cluster"
#define TAG_DC "cassandgo:dc"
#define TAG_NODE "cassandgo:node"
#define TAG_ROLE "cassandgo:role"
#define TAG_HOSTKEY "cassandgo:host_key"
#define TAG_AMI "cassandgo:ami"
#define TAG_INSTALL "cassandgo:install"
#define TAG_VERSION "cassandgo:cassandra_version"
#define CANONICAL_OWNER "099720109477"
#define UBUNTU_2404_NAME "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-*"
#define AWS_BASE_DIR "/var/lib/cassandgo"
#define AWS_LIB_DIR "/usr/share/cassandra/lib"

/* ---- instance observations shared by waiters of one region ---- */

struct obs {
	char *id, *state, *priv_ip, *pub_ip, *image, *launch, *reason;
	long seq;		/* poll that saw it */
};

struct poller {
	char *region;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy;
	int64_t last_ms;
	long seq;
	char **want;
	int nwant, cwant;
	struct obs *obs;
	int nobs, cobs;
	/* TerminateInstances batching: ids waiting for the next call, and
	 * the outcome of those already sent (rc 0 = terminating, 1 = was
	 * gone already, -1 = failed with msg) */
	char **term;
	int nterm, cterm;
	bool term_leader;
	struct term_done {
		char *id;
		int rc;
		char *msg;
	} *done;
	int ndone, cdone;
	struct poller *next;
};

struct cache_ent {
	char *key, *value;
};

struct cg_provider {
	const struct cg_cluster *c;
	const struct cg_env *env;
	struct cg_ec2_client *cli;
	pthread_mutex_t mu;		/* cache, pollers, refreshed */
	pthread_mutex_t resolve_mu;	/* one AMI/arch look-up at a time: the
					 * others then find it in the cache */
	struct cache_ent *cache;
	int ncache, ccache;
	struct poller *pollers;
	long poll_ms;
	long wait_s;
	long page_size;			/* DescribeInstances MaxResults (5..1000) */
	struct cg_ec2_sg_limits lim;	/* the account's security group quotas */
	bool refreshed;			/* refresh() ran: creates need no tag look-up first */
};

/* ---- small helpers ---- */

static const char *cache_get(struct cg_provider *p, const char *key)
{
	const char *v = NULL;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->ncache; i++)
		if (!strcmp(p->cache[i].key, key))
			v = p->cache[i].value;	/* entries are never freed before close */
	pthread_mutex_unlock(&p->mu);
	return v;
}

static void cache_put(struct cg_provider *p, const char *key, const char *value)
{
	pthread_mutex_lock(&p->mu);
	if (p->ncache == p->ccache) {
		p->ccache = p->ccache ? 2 * p->ccache : 16;
		p->cache = cg_xrealloc(p->cache, (size_t)p->ccache * sizeof(*p->cache));
	}
	p->cache[p->ncache].key = cg_xstrdup(key);
	p->cache[p->ncache].value = cg_xstrdup(value);
	p->ncache++;
	pthread_mutex_unlock(&p->mu);
}

static long env_num(const char *name, long def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	return (*end || v < 0) ? def : v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool interrupted_hard(struct cg_provider *p)
{
	return p->env && p->env->interrupted && *p->env->interrupted >= 2;
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = cg_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static void add_filter(struct cg_ec2_params *pa, int *nf, const char *name, const char *const *vals,
		       int nvals)
{
	char k[64];
	(*nf)++;
	snprintf(k, sizeof(k), "Filter.%d.Name", *nf);
	cg_ec2_params_add(pa, k, name);
	for (int i = 0; i < nvals; i++) {
		snprintf(k, sizeof(k), "Filter.%d.Value.%d", *nf, i + 1);
		cg_ec2_params_add(pa, k, vals[i]);
	}
}

static void add_filter1(struct cg_ec2_params *pa, int *nf, const char *name, const char *val)
{
	add_filter(pa, nf, name, &val, 1);
}

/* TagSpecification.<spec> with n key/value pairs. */
static void add_tags(struct cg_ec2_params *pa, int spec, const char *type,
		     const char *const *kv, int n)
{
	char k[80];
	snprintf(k, sizeof(k), "TagSpecification.%d.ResourceType", spec);
	cg_ec2_params_add(pa, k, type);
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%d.Key", spec, i + 1);
		cg_ec2_params_add(pa, k, kv[2 * i]);
		snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%d.Value", spec, i + 1);
		cg_ec2_params_add(pa, k, kv[2 * i + 1]);
	}
}

static int call(struct cg_provider *p, const char *region, const char *action,
		struct cg_ec2_params *pa, unsigned flags, xmlDocPtr *doc,
		struct cg_ec2_error *e, struct cg_err *err)
{
	struct cg_ec2_error local;
	return cg_ec2_call(p->cli, region, action, pa, flags, doc, e ? e : &local, err);
}

static xmlNodePtr root_of(xmlDocPtr d)
{
	return d ? xmlDocGetRootElement(d) : NULL;
}

/* Value of tag key in a tagSet node. */
static char *tag_value(xmlNodePtr it, const char *key)
{
	char kb[128];
	for (xmlNodePtr t = cg_xml_path(it, "tagSet/item"); t; t = cg_xml_next(t, "item"))
		if (!strcmp(cg_xml_textb(t, "key", kb, sizeof(kb)), key))
			return cg_xml_text(t, "value");
	return NULL;
}

static char *keys_dir(struct cg_provider *p)
{
	return cg_xasprintf("%s/keys", p->env && p->env->state_dir ? p->env->state_dir : ".cassandgo");
}

static char *key_path(struct cg_provider *p, const char *region)
{
	char *d = keys_dir(p);
	char *s = cg_xasprintf("%s/%s-%s", d, p->c->name, region);
	free(d);
	return s;
}

static char *sg_name(struct cg_provider *p, const char *region)
{
	return cg_ec2_sg_name(p->c->name, region, 0);
}

static void lookup_res(struct cg_ctx *ctx, const char *addr, struct cg_resource *out, bool *found)
{
	memset(out, 0, sizeof(*out));
	*found = ctx && ctx->lookup && ctx->lookup(ctx, addr, out) == 0;
}

static void progress(struct cg_ctx *ctx, const char *addr, const char *what)
{
	if (ctx && ctx->progress)
		ctx->progress(ctx, addr, "%s", what);
}

/* ---- default VPC, security groups and their rules ---- */

static int default_vpc(struct cg_provider *p, const char *region, const char **out,
		       struct cg_err *err)
{
	char key[128];
	snprintf(key, sizeof(key), "vpc:%s", region);
	if ((*out = cache_get(p, key)))
		return 0;
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	add_filter1(&pa, &nf, "isDefault", "true");
	xmlDocPtr d;
	int rc = call(p, region, "DescribeVpcs", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char *vpc = cg_xml_text(root_of(d), "vpcSet/item/vpcId");
	xmlFreeDoc(d);
	if (!vpc || !*vpc) {
		free(vpc);
		return cg_error(err, CG_EXIT_ERROR,
				"region %s has no default VPC; create one with "
				"`aws ec2 create-default-vpc --region %s`", region, region);
	}
	cache_put(p, key, vpc);
	free(vpc);
	*out = cache_get(p, key);
	return 0;
}

/* One ingress rule: protocol, port range and one source. */
struct rule {
	char proto[8];		/* "tcp", "icmp" */
	int from, to;
	char src[64];		/* "sg-..." or a CIDR */
};

struct rules {
	struct rule *v;
	int n, cap;
};

static void rules_add(struct rules *r, const char *proto, int from, int to, const char *src)
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

static bool rules_has(const struct rules *r, const struct rule *x)
{
	for (int i = 0; i < r->n; i++)
		if (rule_eq(&r->v[i], x))
			return true;
	return false;
}

static int describe_cluster(struct cg_provider *p, const char *region, const char *dc, int node,
			    bool include_stopped, xmlDocPtr **docs, int *ndocs, struct cg_err *err);
static void free_docs(xmlDocPtr *docs, int n);
static void list_add_unique(char ***v, int *n, const char *s);
static int cmp_str(const void *a, const void *b);
static int rule_cmp(const void *a, const void *b);

/*
 * Cross-region (peers) rules are the CIDR-sourced internode ones, including
 * the 2014 layout's (7000-7001, 7001, 7199, ICMP per address) so that they
 * are revoked; every other rule of the main group belongs to
 * network.<region>. Overflow groups hold peers rules only.
 */
static bool is_peer_rule(const struct rule *x)
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
static bool is_storage_rule(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from == 7000 && x->to == 7000 &&
	       strncmp(x->src, "sg-", 3);
}

/* A CIDR that reaches 7000 by any rule (the old ranges too): who must keep
 * access while rules change form or move between groups. */
static bool reaches_storage(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from <= 7000 && x->to >= 7000 &&
	       strncmp(x->src, "sg-", 3);
}

static bool is_scrape_rule(const struct rule *x)
{
	return !strcmp(x->proto, "tcp") && x->from == x->to &&
	       (x->from == CG_MON_JMX_EXPORTER_PORT || x->from == CG_MON_NODE_EXPORTER_PORT);
}

/* Scrape ports (JMX exporter, node exporter) from src: only clusters with
 * monitoring, only from the group itself or the monitoring node. */
static void scrape_rules(struct rules *r, const char *src)
{
	rules_add(r, "tcp", CG_MON_JMX_EXPORTER_PORT, CG_MON_JMX_EXPORTER_PORT, src);
	rules_add(r, "tcp", CG_MON_NODE_EXPORTER_PORT, CG_MON_NODE_EXPORTER_PORT, src);
}

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

/*
 * Internode access from the group itself: storage on 7000 (TLS; the legacy
 * SSL port 7001 is disabled) and ICMP (latency checks). JMX (7199) listens
 * on loopback only: nothing opens it. Nodes of other regions get 7000 alone
 * (one rule per /32, see peers_layout).
 */
static void self_rules(struct rules *r, const char *sg)
{
	rules_add(r, "tcp", 7000, 7000, sg);
	rules_add(r, "icmp", -1, -1, sg);
}

/* Nodes the configuration puts in other regions than region. */
static int remote_nodes(const struct cg_cluster *c, const char *region)
{
	int n = 0;
	for (int d = 0; d < c->ndcs; d++)
		if (strcmp(c->dcs[d].region, region))
			n += c->dcs[d].nodes;
	return n;
}

/* Is the monitoring node in another region than region? */
static bool monitor_remote(const struct cg_cluster *c, const char *region)
{
	int d = cg_monitoring_dc(c);
	return d >= 0 && strcmp(c->dcs[d].region, region);
}

/* "icmp x3, tcp 7199 x3": what a set of rules opens, for plan reasons
 * (sorted in place: the same world reads the same). */
static void rules_summary(struct rules *r, struct cg_buf *b)
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

/* Comma list -> array of trimmed items (caller frees each and the array). */
static int split_list(const char *s, char ***out)
{
	*out = NULL;
	int n = 0;
	if (!s)
		return 0;
	const char *q = s;
	while (*q) {
		const char *e = strchr(q, ',');
		size_t len = e ? (size_t)(e - q) : strlen(q);
		while (len && isspace((unsigned char)*q))
			q++, len--;
		while (len && isspace((unsigned char)q[len - 1]))
			len--;
		if (len) {
			*out = cg_xrealloc(*out, (size_t)(n + 1) * sizeof(char *));
			(*out)[n++] = cg_xstrndup(q, len);
		}
		q = e ? e + 1 : q + strlen(q);
	}
	return n;
}

static void free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

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

/* Rules of a group item (ipPermissions), flattened. */
static void parse_rules(xmlNodePtr sg, struct rules *out)
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
			rules_add(out, proto, from, to, cg_xml_textb(g, "groupId", buf, sizeof(buf)));
		for (xmlNodePtr r = cg_xml_path(perm, "ipRanges/item"); r; r = cg_xml_next(r, "item"))
			rules_add(out, proto, from, to, cg_xml_textb(r, "cidrIp", buf, sizeof(buf)));
	}
}

/* A region's groups, found by name: [0] the main group, [i] overflow group i. */
struct sgset {
	char *id[CG_EC2_GROUPS_MAX];
	struct rules rules[CG_EC2_GROUPS_MAX];
	char *vpc;			/* the main group's */
};

static void sgset_free(struct sgset *s)
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
static int sgset_find(struct cg_provider *p, const char *region, struct sgset *s,
		      struct cg_err *err)
{
	memset(s, 0, sizeof(*s));
	char *names[CG_EC2_GROUPS_MAX];
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++)
		names[i] = cg_ec2_sg_name(p->c->name, region, i);
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	add_filter(&pa, &nf, "group-name", (const char *const *)names, CG_EC2_GROUPS_MAX);
	for (int i = 0; i < CG_EC2_GROUPS_MAX; i++)
		free(names[i]);
	xmlDocPtr d = NULL;
	int rc = call(p, region, "DescribeSecurityGroups", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char buf[300];
	for (xmlNodePtr it = cg_xml_path(root_of(d), "securityGroupInfo/item"); it;
	     it = cg_xml_next(it, "item")) {
		int i = cg_ec2_sg_index(p->c->name, region,
					cg_xml_textb(it, "groupName", buf, sizeof(buf)));
		if (i < 0 || s->id[i])
			continue;	/* a namesake in another VPC: the first one wins */
		s->id[i] = cg_xml_text(it, "groupId");
		parse_rules(it, &s->rules[i]);
		if (i == 0)
			s->vpc = cg_xml_text(it, "vpcId");
	}
	xmlFreeDoc(d);
	return 0;
}

/*
 * The region's group ids (index order, groups below upto) that new
 * instances launch with, as this run last saw or changed them. A launch
 * compares it before and after RunInstances (machine_create): a group
 * added meanwhile is then attached by one side or the other.
 */
static void sgs_publish(struct cg_provider *p, const char *region, const struct sgset *s, int upto)
{
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; s->id[0] && i < upto && i < CG_EC2_GROUPS_MAX; i++)
		if (s->id[i])
			cg_buf_addf(&b, "%s%s", b.len ? "," : "", s->id[i]);
	char key[160];
	snprintf(key, sizeof(key), "sgs:%s", region);
	cache_put(p, key, b.data);
	cg_buf_free(&b);
}

static const char *sgs_published(struct cg_provider *p, const char *region)
{
	char key[160];
	snprintf(key, sizeof(key), "sgs:%s", region);
	return cache_get(p, key);
}

/* Groups to launch an instance of region with (caller frees the list). */
static int sgs_for_launch(struct cg_provider *p, const char *region, bool fresh, char **out,
			  struct cg_err *err)
{
	const char *v = fresh ? NULL : sgs_published(p, region);
	if (!v || !*v) {
		struct sgset s;
		if (sgset_find(p, region, &s, err) < 0)
			return -1;
		sgs_publish(p, region, &s, CG_EC2_GROUPS_MAX);
		sgset_free(&s);
		v = sgs_published(p, region);
	}
	if (!v || !*v)
		return cg_error(err, CG_EXIT_ERROR, "the security group of %s does not exist", region);
	*out = cg_xstrdup(v);
	return 0;
}

/* Set an instance's groups (the whole list: that is what the API takes). */
static int set_instance_groups(struct cg_provider *p, const char *region, const char *id,
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
	int rc = call(p, region, "ModifyInstanceAttribute", &pa, CG_EC2_RETRY_NOTFOUND, NULL, &e, err);
	cg_ec2_params_free(&pa);
	if (rc < 0 && (!strcmp(e.code, "IncorrectInstanceState") ||
		       !strcmp(e.code, "InvalidInstanceID.NotFound")))
		rc = 0;		/* terminated meanwhile: nothing to protect */
	return rc;
}

static bool in_list(char *const *v, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (v[i] && !strcmp(v[i], s))
			return true;
	return false;
}

/*
 * Make every live instance of the cluster in region carry the groups add
 * and none of drop; groups of anyone else stay. One DescribeInstances, then
 * one ModifyInstanceAttribute per instance that differs.
 */
static int sgs_attach(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		      const char *region, char *const *add, int nadd, char *const *drop, int ndrop,
		      struct cg_err *err)
{
	xmlDocPtr *docs;
	int nd, rc = 0, changed = 0;
	if (describe_cluster(p, region, NULL, 0, true, &docs, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && rc == 0; i++)
		for (xmlNodePtr res = cg_xml_path(root_of(docs[i]), "reservationSet/item");
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
					if (have[k] && !in_list(add, nadd, have[k]) &&
					    !in_list(drop, ndrop, have[k])) {
						want = cg_xrealloc(want, (size_t)(nw + 1) * sizeof(char *));
						want[nw++] = cg_xstrdup(have[k]);
					}
				bool same = nw == nh;
				for (int k = 0; same && k < nw; k++)
					same = in_list(have, nh, want[k]);
				if (!same) {
					char *id = cg_xml_text(it, "instanceId");
					if (id) {
						if (!changed++)
							progress(ctx, addr, "attaching security groups to instances");
						rc = set_instance_groups(p, region, id, want, nw, err);
					}
					free(id);
				}
				free_list(want, nw);
				free_list(have, nh);
			}
	free_docs(docs, nd);
	return rc;
}

/* Create group `index` of region (adopting one a retried call or a crashed
 * run created: names are unique per VPC). */
static int sg_create(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		     const char *region, const char *vpc, int index, char **id, struct cg_err *err)
{
	if (!vpc && default_vpc(p, region, &vpc, err) < 0)
		return -1;
	char *name = cg_ec2_sg_name(p->c->name, region, index);
	progress(ctx, addr, index ? "creating overflow security group" : "creating security group");
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
	add_tags(&pa, 1, "security-group", tags, index ? 3 : 2);
	xmlDocPtr d = NULL;
	struct cg_ec2_error e;
	int rc = call(p, region, "CreateSecurityGroup", &pa, 0, &d, &e, err);
	cg_ec2_params_free(&pa);
	*id = NULL;
	if (rc == 0) {
		*id = cg_xml_text(root_of(d), "groupId");
		xmlFreeDoc(d);
	} else if (cg_ec2_error_duplicate(&e)) {
		struct sgset s;
		if (sgset_find(p, region, &s, err) < 0) {
			free(name);
			return -1;
		}
		*id = cg_xstrdup(s.id[index]);
		sgset_free(&s);
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
static int sg_delete(struct cg_provider *p, const char *region, const char *id, struct cg_err *err)
{
	int64_t until = cg_now_ms() + 1000 * p->wait_s;
	for (;;) {
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "GroupId", id);
		struct cg_ec2_error e;
		int rc = call(p, region, "DeleteSecurityGroup", &pa, 0, NULL, &e, err);
		cg_ec2_params_free(&pa);
		if (rc == 0 || cg_ec2_error_notfound(&e))
			return 0;
		if (strcmp(e.code, "DependencyViolation") || cg_now_ms() > until || interrupted_hard(p))
			return -1;
		sleep_ms(p->poll_ms * 2);
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

#define RULES_PER_CALL 100

/*
 * Authorize or revoke rules, grouped by port into as few calls as
 * possible. When a call fails with Duplicate / NotFound (someone else got
 * there first, or a retried call had already succeeded) its rules are
 * redone one at a time, ignoring those codes.
 */
static int change_rules(struct cg_provider *p, const char *region, const char *sg, bool add,
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
				int rc = call(p, region, action, &pa, add ? CG_EC2_RETRY_NOTFOUND : 0,
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
	int rc = call(p, region, "DescribeSecurityGroups", &pa, CG_EC2_RETRY_NOTFOUND, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	struct rules have = { 0 }, add = { 0 }, del = { 0 };
	parse_rules(cg_xml_path(root_of(d), "securityGroupInfo/item"), &have);
	xmlFreeDoc(d);
	for (int i = 0; i < have.n; i++)
		if (!is_peer_rule(&have.v[i]) && !rules_has(want, &have.v[i]))
			rules_add(&del, have.v[i].proto, have.v[i].from, have.v[i].to, have.v[i].src);
	for (int i = 0; i < want->n; i++)
		if (!rules_has(&have, &want->v[i]))
			rules_add(&add, want->v[i].proto, want->v[i].from, want->v[i].to, want->v[i].src);
	int total = have.n + add.n - del.n;
	if (have.n + add.n > p->lim.rules_per_group) {
		rc = change_rules(p, region, sg, false, &del, total, err);
		if (rc == 0)
			rc = change_rules(p, region, sg, true, &add, total, err);
	} else {
		rc = change_rules(p, region, sg, true, &add, total, err);
		if (rc == 0)
			rc = change_rules(p, region, sg, false, &del, total, err);
	}
	free(have.v);
	free(add.v);
	free(del.v);
	return rc;
}

static int network_rules(const struct cg_resource *desired, const char *sg, struct rules *want,
			 struct cg_err *err)
{
	self_rules(want, sg);
	if (cg_res_get(desired, "monitoring_port"))
		scrape_rules(want, sg);
	char **cidrs;
	int n = split_list(cg_res_get(desired, "allowed_cidrs"), &cidrs);
	const char *mon = cg_res_get(desired, "monitoring_port");
	int monp = mon ? atoi(mon) : 0;
	if (n == 0) {
		free_list(cidrs, n);
		return cg_error(err, CG_EXIT_ERROR,
				"%s: no allowed CIDRs: set allowed_cidrs in the config or "
				"CASSANDGO_ALLOWED_CIDRS (SSH and CQL would be closed to everyone)",
				desired->addr);
	}
	for (int i = 0; i < n; i++) {
		if (!valid_cidr4(cidrs[i])) {
			cg_error(err, CG_EXIT_CONFIG, "%s: '%s' is not an IPv4 CIDR such as 203.0.113.7/32",
				 desired->addr, cidrs[i]);
			free_list(cidrs, n);
			return -1;
		}
		rules_add(want, "tcp", 22, 22, cidrs[i]);
		rules_add(want, "tcp", 9042, 9042, cidrs[i]);
		if (monp > 0)
			rules_add(want, "tcp", monp, monp, cidrs[i]);
	}
	free_list(cidrs, n);
	return 0;
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
				rules_add(&now, x->proto, x->from, x->to, x->src);
		}
		del[g].n = keep;
		count[g] -= now.n;
		*moved |= now.n > 0;
		int rc = change_rules(p, region, ids[g], false, &now, count[g], err);
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
				rules_add(&now, add[g].v[i].proto, add[g].v[i].from, add[g].v[i].to,
					  add[g].v[i].src);
			memmove(add[g].v, add[g].v + k, (size_t)(add[g].n - k) * sizeof(*add[g].v));
			add[g].n -= k;
			count[g] += k;
			moved = true;
			int rc = change_rules(p, region, ids[g], true, &now, count[g], err);
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
static int peers_layout(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
			const char *region, char **cidrs, int n, const char *mon, int fixed_net,
			int nplan, struct cg_err *err)
{
	struct sgset s;
	if (sgset_find(p, region, &s, err) < 0)
		return -1;
	if (!s.id[0]) {
		sgset_free(&s);
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
			fixed_net += !is_peer_rule(&s.rules[0].v[k]);
	}
	int fixed = fixed_net + (mon ? 2 : 0);
	int ng = cg_ec2_rules_groups(&p->lim, fixed, nplan > n ? nplan : n, addr, err);
	if (ng < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		cur[i] = -1;
		for (int g = 0; g < CG_EC2_GROUPS_MAX && cur[i] < 0; g++)
			for (int k = 0; s.id[g] && k < s.rules[g].n; k++)
				if (is_storage_rule(&s.rules[g].v[k]) && !strcmp(s.rules[g].v[k].src, cidrs[i])) {
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
		if (!s.id[g] && sg_create(p, ctx, addr, region, s.vpc, g, &s.id[g], err) < 0)
			goto out;
	sgs_publish(p, region, &s, ng);
	if (sgs_attach(p, ctx, addr, region, s.id, ng, NULL, 0, err) < 0)
		goto out;

	for (int i = 0; i < n; i++)
		rules_add(&want[out[i]], "tcp", 7000, 7000, cidrs[i]);
	if (mon)
		scrape_rules(&want[0], mon);
	progress(ctx, addr, ng > 1 ? "reconciling cross-region rules over several groups"
				   : "reconciling cross-region rules");
	int count[CG_EC2_GROUPS_MAX];
	for (int g = 0; g < ng; g++) {
		const struct rules *h = &s.rules[g];
		struct rules gone = { 0 };
		for (int k = 0; k < h->n; k++) {
			const struct rule *x = &h->v[k];
			if ((g == 0 && !is_peer_rule(x)) || rules_has(&want[g], x))
				continue;
			/* an address wanted nowhere goes at once (room for the
			 * others); one that moves or changes form goes after its
			 * new rule is in */
			bool wanted = sorted_has(cidrs, n, x->src) || (mon && !strcmp(mon, x->src));
			rules_add(wanted ? &del[g] : &gone, x->proto, x->from, x->to, x->src);
		}
		for (int k = 0; k < want[g].n; k++)
			if (!rules_has(h, &want[g].v[k]))
				rules_add(&add[g], want[g].v[k].proto, want[g].v[k].from, want[g].v[k].to,
					  want[g].v[k].src);
		count[g] = h->n - gone.n;
		int crc = change_rules(p, region, s.id[g], false, &gone, count[g], err);
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
		if (sgs_attach(p, ctx, addr, region, s.id, ng, s.id + ng, CG_EC2_GROUPS_MAX - ng, err) < 0)
			goto out;
		progress(ctx, addr, "deleting overflow security groups no longer needed");
		for (int g = ng; g < CG_EC2_GROUPS_MAX; g++)
			if (s.id[g] && sg_delete(p, region, s.id[g], err) < 0)
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
	sgset_free(&s);
	return rc;
}

static int network_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
			 const struct cg_resource *desired, const struct cg_resource *current,
			 struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	struct sgset s;
	if (op == CG_OP_DELETE) {
		if (sgset_find(p, region, &s, err) < 0)
			return -1;
		if (!s.id[0] && current && current->id)
			s.id[0] = cg_xstrdup(current->id);
		int rc = 0;
		progress(ctx, r->addr, "deleting security groups");
		for (int g = CG_EC2_GROUPS_MAX - 1; g >= 0 && rc == 0; g--)
			if (s.id[g])
				rc = sg_delete(p, region, s.id[g], err);
		sgset_free(&s);
		return rc;
	}

	const char *vpc;
	if (default_vpc(p, region, &vpc, err) < 0)
		return -1;
	if (sgset_find(p, region, &s, err) < 0)
		return -1;
	struct rules want = { 0 };
	int rc = -1;
	if (!s.id[0]) {
		free(s.vpc);
		s.vpc = cg_xstrdup(vpc);
		if (sg_create(p, ctx, r->addr, region, vpc, 0, &s.id[0], err) < 0)
			goto out;
	}
	if (network_rules(desired, s.id[0], &want, err) < 0)
		goto out;
	/* Overflow groups exist before the region's instances launch (they
	 * launch with every group): as many as the configured remote nodes
	 * need. Fewer are deleted by peers.<region>, which knows the addresses. */
	int nremote = remote_nodes(p->c, region);
	int ng = cg_ec2_rules_groups(&p->lim, want.n + (monitor_remote(p->c, region) ? 2 : 0),
				     nremote, r->addr, err);
	if (ng < 0)
		goto out;
	bool created = false;
	for (int g = 1; g < ng; g++)
		if (!s.id[g]) {
			if (sg_create(p, ctx, r->addr, region, s.vpc ? s.vpc : vpc, g, &s.id[g], err) < 0)
				goto out;
			created = true;
		}
	sgs_publish(p, region, &s, CG_EC2_GROUPS_MAX);
	if (created && sgs_attach(p, ctx, r->addr, region, s.id, CG_EC2_GROUPS_MAX, NULL, 0, err) < 0)
		goto out;
	/* More own rules than the main group has room for beside its remote
	 * addresses (an allowed CIDR added): move addresses out first. */
	int npeer = 0;
	for (int k = 0; k < s.rules[0].n; k++)
		npeer += is_peer_rule(&s.rules[0].v[k]);
	if (want.n + npeer > p->lim.rules_per_group) {
		char **obs = NULL;
		int nobs = 0;
		char *mon = NULL;
		for (int g = 0; g < CG_EC2_GROUPS_MAX; g++)
			for (int k = 0; s.id[g] && k < s.rules[g].n; k++) {
				const struct rule *x = &s.rules[g].v[k];
				if (reaches_storage(x))
					list_add_unique(&obs, &nobs, x->src);
				else if (g == 0 && is_scrape_rule(x) && strncmp(x->src, "sg-", 3) && !mon)
					mon = cg_xstrdup(x->src);
			}
		if (nobs > 1)
			qsort(obs, (size_t)nobs, sizeof(char *), cmp_str);
		int lrc = peers_layout(p, ctx, r->addr, region, obs, nobs, mon, want.n, nremote, err);
		free_list(obs, nobs);
		free(mon);
		if (lrc < 0)
			goto out;
	}
	progress(ctx, r->addr, "reconciling ingress rules");
	if (reconcile(p, region, s.id[0], &want, err) < 0)
		goto out;
	cg_res_copy(result, desired);
	cg_res_set_id(result, s.id[0]);
	cg_res_set(result, "vpc_id", vpc, CG_ATTR_INFO);
	rc = 0;
out:
	free(want.v);
	sgset_free(&s);
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
	free_list(v, n);
	return cg_buf_detach(&b);
}

static int peers_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		       const struct cg_resource *desired, const struct cg_resource *current,
		       struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	bool del = op == CG_OP_DELETE;
	char *cidrs = del ? cg_xstrdup("") : peer_cidrs(p, ctx, region);
	char **v;
	int n = split_list(cidrs, &v), u = 0;
	for (int i = 0; i < n; i++) {	/* sorted: duplicates are adjacent */
		if (u && !strcmp(v[i], v[u - 1])) {
			free(v[i]);
			continue;
		}
		v[u++] = v[i];
	}
	char *mon = del ? NULL : monitor_cidr(p, ctx, region);
	if (del)
		progress(ctx, r->addr, "revoking cross-region rules");
	/* deleted: every address goes, and with them the overflow groups */
	int rc = peers_layout(p, ctx, r->addr, region, v, u, mon, -1,
			      del ? 0 : remote_nodes(p->c, region), err);
	free_list(v, u);
	free(mon);
	if (rc == 1) {
		rc = del ? 0 : cg_error(err, CG_EXIT_ERROR, "%s: the security group of %s does not exist",
					r->addr, region);
	} else if (rc == 0 && !del) {
		char *sg = NULL;
		const char *pub = sgs_published(p, region);
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

/* ---- key pairs ---- */

static int keypair_describe(struct cg_provider *p, const char *region, const char *name,
			    xmlDocPtr *doc, xmlNodePtr *item, struct cg_err *err)
{
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	add_filter1(&pa, &nf, "key-name", name);
	cg_ec2_params_add(&pa, "IncludePublicKey", "true");
	int rc = call(p, region, "DescribeKeyPairs", &pa, 0, doc, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	*item = cg_xml_path(root_of(*doc), "keySet/item");
	return 0;
}

static int keypair_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
			 const struct cg_resource *desired, const struct cg_resource *current,
			 struct cg_resource *result, struct cg_err *err)
{
	const struct cg_resource *r = desired ? desired : current;
	const char *region = r->region;
	char *defname = sg_name(p, region);
	const char *name = cg_res_get(r, "name") ? cg_res_get(r, "name") : defname;
	char *path = key_path(p, region);
	int rc = -1;
	char *pub = NULL, *kid = NULL, *fp = NULL;
	xmlDocPtr d = NULL;
	xmlNodePtr it = NULL;

	if (op == CG_OP_DELETE) {
		progress(ctx, r->addr, "deleting key pair");
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "KeyName", name);
		struct cg_ec2_error e;
		rc = call(p, region, "DeleteKeyPair", &pa, 0, NULL, &e, err);
		cg_ec2_params_free(&pa);
		if (rc < 0 && cg_ec2_error_notfound(&e))
			rc = 0;
		if (rc == 0) {
			/* Its instances are gone: the private key has no use left. */
			char *pubp = cg_xasprintf("%s.pub", path);
			unlink(path);
			unlink(pubp);
			free(pubp);
		}
		goto out;
	}

	char *kd = keys_dir(p);
	rc = cg_mkdir_p(kd, 0700, err);
	free(kd);
	if (rc < 0)
		goto out;
	rc = -1;
	if (cg_ssh_keygen(path, &pub, err) < 0)
		goto out;
	progress(ctx, r->addr, "importing key pair");
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "KeyName", name);
	char *mat = b64(pub);
	cg_ec2_params_add(&pa, "PublicKeyMaterial", mat);
	free(mat);
	const char *tags[] = { TAG_CLUSTER, p->c->name, "Name", name };
	add_tags(&pa, 1, "key-pair", tags, 2);
	struct cg_ec2_error e;
	int crc = call(p, region, "ImportKeyPair", &pa, 0, &d, &e, err);
	cg_ec2_params_free(&pa);
	if (crc == 0) {
		kid = cg_xml_text(root_of(d), "keyPairId");
		fp = cg_xml_text(root_of(d), "keyFingerprint");
		xmlFreeDoc(d);
		d = NULL;
	} else if (cg_ec2_error_duplicate(&e)) {
		if (keypair_describe(p, region, name, &d, &it, err) < 0)
			goto out;
		char *remote = cg_xml_text(it, "publicKey");
		bool same = remote && cg_ssh_key_equal(remote, pub);
		free(remote);
		if (!same) {
			cg_error(err, CG_EXIT_ERROR,
				 "%s: key pair %s already exists in %s with another public key than "
				 "%s; delete it (aws ec2 delete-key-pair --region %s --key-name %s) or "
				 "restore the matching private key file", r->addr, name, region, path,
				 region, name);
			goto out;
		}
		kid = cg_xml_text(it, "keyPairId");
		fp = cg_xml_text(it, "keyFingerprint");
	} else {
		goto out;
	}
	cg_res_copy(result, desired);
	cg_res_set_id(result, kid && *kid ? kid : name);
	cg_res_set(result, "fingerprint", fp, CG_ATTR_INFO);
	cg_res_set(result, "key_file", path, CG_ATTR_INFO);
	rc = 0;
out:
	if (d)
		xmlFreeDoc(d);
	free(pub);
	free(kid);
	free(fp);
	free(path);
	free(defname);
	return rc;
}

/* ---- instances: shared polling ---- */

static struct poller *poller_get(struct cg_provider *p, const char *region)
{
	pthread_mutex_lock(&p->mu);
	struct poller *q;
	for (q = p->pollers; q; q = q->next)
		if (!strcmp(q->region, region))
			break;
	if (!q) {
		q = cg_xcalloc(1, sizeof(*q));
		q->region = cg_xstrdup(region);
		pthread_mutex_init(&q->mu, NULL);
		pthread_cond_init(&q->cv, NULL);
		q->next = p->pollers;
		p->pollers = q;
	}
	pthread_mutex_unlock(&p->mu);
	return q;
}

static void obs_clear(struct obs *o)
{
	free(o->id);
	free(o->state);
	free(o->priv_ip);
	free(o->pub_ip);
	free(o->image);
	free(o->launch);
	free(o->reason);
	memset(o, 0, sizeof(*o));
}

static void obs_copy(struct obs *dst, const struct obs *src)
{
	dst->id = cg_xstrdup(src->id);
	dst->state = cg_xstrdup(src->state);
	dst->priv_ip = cg_xstrdup(src->priv_ip);
	dst->pub_ip = cg_xstrdup(src->pub_ip);
	dst->image = cg_xstrdup(src->image);
	dst->launch = cg_xstrdup(src->launch);
	dst->reason = cg_xstrdup(src->reason);
	dst->seq = src->seq;
}

static struct obs *obs_find(struct poller *q, const char *id)
{
	for (int i = 0; i < q->nobs; i++)
		if (!strcmp(q->obs[i].id, id))
			return &q->obs[i];
	return NULL;
}

/* Record an observation (q->mu held); takes ownership of o's strings. */
static void obs_put(struct poller *q, struct obs *o)
{
	struct obs *x = obs_find(q, o->id);
	if (!x) {
		if (q->nobs == q->cobs) {
			q->cobs = q->cobs ? 2 * q->cobs : 32;
			q->obs = cg_xrealloc(q->obs, (size_t)q->cobs * sizeof(*q->obs));
		}
		x = &q->obs[q->nobs++];
		memset(x, 0, sizeof(*x));
	}
	obs_clear(x);
	*x = *o;
	memset(o, 0, sizeof(*o));
}

static void obs_from_item(xmlNodePtr it, struct obs *o)
{
	memset(o, 0, sizeof(*o));
	o->id = cg_xml_text(it, "instanceId");
	o->state = cg_xml_text(it, "instanceState/name");
	o->priv_ip = cg_xml_text(it, "privateIpAddress");
	o->pub_ip = cg_xml_text(it, "ipAddress");
	o->image = cg_xml_text(it, "imageId");
	o->launch = cg_xml_text(it, "launchTime");
	o->reason = cg_xml_text(it, "stateReason/message");
}

/* One poll for the ids in `ids` (q->mu not held). */
static void poll_once(struct cg_provider *p, struct poller *q, char **ids, int n, long seq)
{
	for (int off = 0; off < n; off += 200) {
		struct cg_ec2_params pa = { 0 };
		int nf = 0;
		int m = n - off < 200 ? n - off : 200;
		/* a filter, not InstanceId.N: an id not yet visible must not
		 * fail the whole call */
		add_filter(&pa, &nf, "instance-id", (const char *const *)ids + off, m);
		xmlDocPtr d = NULL;
		struct cg_err err = { 0 };
		int rc = call(p, q->region, "DescribeInstances", &pa, 0, &d, NULL, &err);
		cg_ec2_params_free(&pa);
		if (rc < 0)
			continue;	/* the waiters' deadlines bound this */
		pthread_mutex_lock(&q->mu);
		for (xmlNodePtr res = cg_xml_path(root_of(d), "reservationSet/item"); res;
		     res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
			     it = cg_xml_next(it, "item")) {
				struct obs o;
				obs_from_item(it, &o);
				o.seq = seq;
				if (o.id)
					obs_put(q, &o);
				else
					obs_clear(&o);
			}
		for (int i = off; i < off + m; i++) {
			struct obs *x = obs_find(q, ids[i]);
			if (!x || x->seq != seq) {
				struct obs o = { .id = cg_xstrdup(ids[i]), .state = cg_xstrdup("absent"),
						 .seq = seq };
				obs_put(q, &o);
			}
		}
		pthread_mutex_unlock(&q->mu);
		xmlFreeDoc(d);
	}
}

static void want_remove(struct poller *q, const char *id)
{
	for (int i = 0; i < q->nwant; i++)
		if (!strcmp(q->want[i], id)) {
			free(q->want[i]);
			q->want[i] = q->want[--q->nwant];
			return;
		}
}

/*
 * Wait until instance id in region is `target` ("running" or
 * "terminated"; an instance no longer listed counts as terminated).
 * *out (may be NULL) gets the observation that satisfied it.
 */
static int wait_instance(struct cg_provider *p, const char *region, const char *id,
			 const char *target, struct obs *out, struct cg_err *err)
{
	struct poller *q = poller_get(p, region);
	bool want_term = !strcmp(target, "terminated");
	int64_t deadline = cg_now_ms() + 1000 * p->wait_s;
	pthread_mutex_lock(&q->mu);
	if (q->nwant == q->cwant) {
		q->cwant = q->cwant ? 2 * q->cwant : 32;
		q->want = cg_xrealloc(q->want, (size_t)q->cwant * sizeof(char *));
	}
	q->want[q->nwant++] = cg_xstrdup(id);
	long since = q->seq;
	int rc = 0;
	for (;;) {
		struct obs *o = obs_find(q, id);
		if (o && o->seq > since) {
			bool gone = !strcmp(o->state, "terminated") || !strcmp(o->state, "absent");
			if ((want_term && gone) || (!want_term && !strcmp(o->state, target))) {
				if (out)
					obs_copy(out, o);
				break;
			}
			if (!want_term && (!strcmp(o->state, "terminated") ||
					   !strcmp(o->state, "shutting-down") ||
					   !strcmp(o->state, "stopped"))) {
				rc = cg_error(err, CG_EXIT_ERROR,
					      "instance %s in %s is %s instead of running%s%s",
					      id, region, o->state, o->reason ? ": " : "",
					      o->reason ? o->reason : "");
				break;
			}
		}
		int64_t now = cg_now_ms();
		if (now > deadline || interrupted_hard(p)) {
			rc = cg_error(err, CG_EXIT_ERROR,
				      "instance %s in %s not %s after %ld s (last state: %s)", id,
				      region, target, p->wait_s, o ? o->state : "unknown");
			break;
		}
		if (!q->busy && now - q->last_ms >= p->poll_ms) {
			q->busy = true;
			long seq = ++q->seq;
			int n = q->nwant;
			char **ids = cg_xcalloc((size_t)n, sizeof(char *));
			for (int i = 0; i < n; i++)
				ids[i] = cg_xstrdup(q->want[i]);
			pthread_mutex_unlock(&q->mu);
			poll_once(p, q, ids, n, seq);
			free_list(ids, n);
			pthread_mutex_lock(&q->mu);
			q->busy = false;
			q->last_ms = cg_now_ms();
			pthread_cond_broadcast(&q->cv);
			continue;
		}
		int64_t wake = q->busy ? now + p->poll_ms : q->last_ms + p->poll_ms;
		if (wake > deadline)
			wake = deadline;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t delta = wake - now;
		if (delta < 1)
			delta = 1;
		ts.tv_sec += delta / 1000;
		ts.tv_nsec += (delta % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
	want_remove(q, id);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* ---- instances ---- */

static const char *arch_guess(const char *type)
{
	/* Graviton families carry a 'g' after the generation digit: m7g, c6gn, t4g. */
	const char *d = type;
	while (*d && !isdigit((unsigned char)*d))
		d++;
	while (isdigit((unsigned char)*d))
		d++;
	return (*d == 'g' || !strncmp(type, "a1.", 3)) ? "arm64" : "x86_64";
}

static int type_arch(struct cg_provider *p, const char *region, const char *type, char *out,
		     size_t n, struct cg_err *err)
{
	char key[160];
	snprintf(key, sizeof(key), "arch:%s:%s", region, type);
	const char *v = cache_get(p, key);
	if (v) {
		snprintf(out, n, "%s", v);
		return 0;
	}
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "InstanceType.1", type);
	xmlDocPtr d = NULL;
	struct cg_ec2_error e;
	struct cg_err ignored = { 0 };
	int rc = call(p, region, "DescribeInstanceTypes", &pa, 0, &d, &e, &ignored);
	cg_ec2_params_free(&pa);
	if (rc == 0) {
		char *a = cg_xml_text(root_of(d),
				      "instanceTypeSet/item/processorInfo/supportedArchitectures/item");
		xmlFreeDoc(d);
		if (!a)
			return cg_error(err, CG_EXIT_CONFIG,
					"instance type %s is not offered in %s: change node_type",
					type, region);
		/* x86_64_mac and i386 never apply to the Ubuntu server images */
		snprintf(out, n, "%s", !strcmp(a, "arm64") ? "arm64" : "x86_64");
		free(a);
	} else if (!strcmp(e.code, "InvalidInstanceType")) {
		return cg_error(err, CG_EXIT_CONFIG, "instance type %s is unknown in %s: change node_type",
				type, region);
	} else {
		snprintf(out, n, "%s", arch_guess(type));	/* API not allowed: guess */
	}
	cache_put(p, key, out);
	return 0;
}

static int resolve_ubuntu(struct cg_provider *p, const char *region, const char *type,
			  char **out, struct cg_err *err);

/* Resolve the ami attribute: ami-... as is, ubuntu-24.04 = newest Canonical image. */
static int resolve_ami(struct cg_provider *p, const char *region, const char *ami,
		       const char *type, char **out, struct cg_err *err)
{
	if (!strncmp(ami, "ami-", 4)) {
		*out = cg_xstrdup(ami);
		return 0;
	}
	if (strcmp(ami, "ubuntu-24.04"))
		return cg_error(err, CG_EXIT_CONFIG, "ami '%s': expected ami-... or ubuntu-24.04", ami);
	pthread_mutex_lock(&p->resolve_mu);
	int rc = resolve_ubuntu(p, region, type, out, err);
	pthread_mutex_unlock(&p->resolve_mu);
	return rc;
}

static int resolve_ubuntu(struct cg_provider *p, const char *region, const char *type,
			  char **out, struct cg_err *err)
{
	char arch[16];
	if (type_arch(p, region, type, arch, sizeof(arch), err) < 0)
		return -1;
	char key[160];
	snprintf(key, sizeof(key), "ami:%s:%s", region, arch);
	const char *v = cache_get(p, key);
	if (v) {
		*out = cg_xstrdup(v);
		return 0;
	}
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	cg_ec2_params_add(&pa, "Owner.1", CANONICAL_OWNER);
	add_filter1(&pa, &nf, "name", UBUNTU_2404_NAME);
	add_filter1(&pa, &nf, "architecture", arch);
	add_filter1(&pa, &nf, "state", "available");
	xmlDocPtr d = NULL;
	int rc = call(p, region, "DescribeImages", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char best_date[64] = "", best[64] = "", date[64], id[64];
	for (xmlNodePtr it = cg_xml_path(root_of(d), "imagesSet/item"); it;
	     it = cg_xml_next(it, "item")) {
		cg_xml_textb(it, "creationDate", date, sizeof(date));
		cg_xml_textb(it, "imageId", id, sizeof(id));
		/* ISO-8601 UTC strings order like the times they denote */
		if (id[0] && strcmp(date, best_date) >= 0) {
			snprintf(best_date, sizeof(best_date), "%s", date);
			snprintf(best, sizeof(best), "%s", id);
		}
	}
	xmlFreeDoc(d);
	if (!best[0])
		return cg_error(err, CG_EXIT_ERROR,
				"no Ubuntu 24.04 image (owner %s, %s) found in %s: set `ami:` for "
				"this DC", CANONICAL_OWNER, arch, region);
	cache_put(p, key, best);
	*out = cg_xstrdup(best);
	return 0;
}

/* The cluster's live instances for one node (or all, dc NULL), by tag. */
static int describe_cluster(struct cg_provider *p, const char *region, const char *dc, int node,
			    bool include_stopped, xmlDocPtr **docs, int *ndocs, struct cg_err *err)
{
	*docs = NULL;
	*ndocs = 0;
	char *token = NULL;
	do {
		struct cg_ec2_params pa = { 0 };
		int nf = 0;
		add_filter1(&pa, &nf, "tag:" TAG_CLUSTER, p->c->name);
		if (dc) {
			add_filter1(&pa, &nf, "tag:" TAG_DC, dc);
			char nb[16];
			snprintf(nb, sizeof(nb), "%d", node);
			add_filter1(&pa, &nf, "tag:" TAG_NODE, nb);
		}
		const char *states[] = { "pending", "running", "stopping", "stopped" };
		add_filter(&pa, &nf, "instance-state-name", states, include_stopped ? 4 : 2);
		cg_ec2_params_addf(&pa, "MaxResults", "%ld", p->page_size);
		if (token)
			cg_ec2_params_add(&pa, "NextToken", token);
		free(token);
		token = NULL;
		xmlDocPtr d = NULL;
		int rc = call(p, region, "DescribeInstances", &pa, 0, &d, NULL, err);
		cg_ec2_params_free(&pa);
		if (rc < 0) {
			for (int i = 0; i < *ndocs; i++)
				xmlFreeDoc((*docs)[i]);
			free(*docs);
			*docs = NULL;
			*ndocs = 0;
			return -1;
		}
		*docs = cg_xrealloc(*docs, (size_t)(*ndocs + 1) * sizeof(xmlDocPtr));
		(*docs)[(*ndocs)++] = d;
		token = cg_xml_text(root_of(d), "nextToken");
		if (token && !*token) {
			free(token);
			token = NULL;
		}
	} while (token);
	return 0;
}

static void free_docs(xmlDocPtr *docs, int n)
{
	for (int i = 0; i < n; i++)
		xmlFreeDoc(docs[i]);
	free(docs);
}

/* Fill the machine attributes a created/adopted instance records. */
static void machine_result(struct cg_provider *p, const struct cg_resource *desired,
			   const struct obs *o, const char *host_key, const char *zone,
			   struct cg_resource *result)
{
	cg_res_copy(result, desired);
	cg_res_set_id(result, o->id);
	if (zone)
		cg_res_set(result, "zone", zone, cg_res_attr(desired, "zone")
					       ? cg_res_attr(desired, "zone")->flags & ~CG_ATTR_COMPUTED
					       : CG_ATTR_FORCENEW);
	cg_res_set(result, "private_ip", o->priv_ip, CG_ATTR_COMPUTED);
	cg_res_set(result, "public_ip", o->pub_ip, CG_ATTR_COMPUTED);
	cg_res_set(result, "host_key", host_key, CG_ATTR_COMPUTED);
	cg_res_set(result, "image_id", o->image, CG_ATTR_INFO);
	cg_res_set(result, "state", o->state, CG_ATTR_INFO);
	cg_res_set(result, "launch_time", o->launch, CG_ATTR_INFO);
	cg_res_set(result, "health", "ok", CG_ATTR_COMPUTED);
	cg_res_set(result, "ssh_port", "22", CG_ATTR_INFO);
	cg_res_set(result, "base_dir", AWS_BASE_DIR, CG_ATTR_INFO);
	const char *inst = cg_res_get(desired, "install");
	cg_res_set(result, "lib_dir", inst && !strncmp(inst, "dir:", 4) ? inst + 4 : AWS_LIB_DIR,
		   CG_ATTR_INFO);
	(void)p;
}

/* The first live instance tagged for this node, or none (*id NULL). */
static int find_node_instance(struct cg_provider *p, const char *region, const char *dc, int node,
			      char **id, char **host_key, char **zone, struct cg_err *err)
{
	xmlDocPtr *docs;
	int nd;
	*id = *host_key = *zone = NULL;
	if (describe_cluster(p, region, dc, node, false, &docs, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && !*id; i++)
		for (xmlNodePtr res = cg_xml_path(root_of(docs[i]), "reservationSet/item");
		     res && !*id; res = cg_xml_next(res, "item")) {
			xmlNodePtr it = cg_xml_path(res, "instancesSet/item");
			if (it) {
				*id = cg_xml_text(it, "instanceId");
				*host_key = tag_value(it, TAG_HOSTKEY);
				*zone = cg_xml_text(it, "placement/availabilityZone");
			}
		}
	free_docs(docs, nd);
	return 0;
}

static int machine_create(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *desired, struct cg_resource *result,
			  struct cg_err *err)
{
	const char *region = desired->region, *dc = desired->dc;
	int node = desired->node;
	const char *zone = cg_res_get(desired, "zone");
	const char *type = cg_res_get(desired, "node_type");
	const char *ami = cg_res_get(desired, "ami");
	const char *seed = cg_res_get(desired, "seed");
	const char *name = cg_res_get(desired, "name");
	if (!region || !dc || node < 1 || !type || !ami)
		return cg_error(err, CG_EXIT_ERROR, "%s: region, dc, node, node_type and ami are needed",
				desired->addr);
	char *id = NULL, *host_pub = NULL, *host_priv = NULL, *found_zone = NULL, *image = NULL;
	char *sg = NULL, *ud = NULL, *ud64 = NULL, *keyname = NULL;
	int rc = -1;
	struct obs o = { 0 };

	bool refreshed;
	pthread_mutex_lock(&p->mu);
	refreshed = p->refreshed;
	pthread_mutex_unlock(&p->mu);
	if (!refreshed) {
		/* no refresh this run: an instance of a crashed run may exist */
		if (find_node_instance(p, region, dc, node, &id, &host_pub, &found_zone, err) < 0)
			goto out;
		if (id)
			progress(ctx, desired->addr, "adopting tagged instance");
	}

	if (!id) {
		char *kpa = cg_addr_region(CG_KIND_KEYPAIR, region);
		struct cg_resource r;
		bool f;
		lookup_res(ctx, kpa, &r, &f);
		if (f) {
			keyname = cg_xstrdup(cg_res_get(&r, "name"));
			cg_res_clear(&r);
		}
		free(kpa);
		/* every group of the region (main + overflow), comma-separated */
		if (sgs_for_launch(p, region, false, &sg, err) < 0) {
			cg_error_wrap(err, "%s", desired->addr);
			goto out;
		}
		if (!keyname)
			keyname = sg_name(p, region);
		if (resolve_ami(p, region, ami, type, &image, err) < 0)
			goto out;
		if (cg_ssh_keygen_mem(&host_priv, &host_pub, err) < 0)
			goto out;
		/* the public line without its comment: what is pinned and tagged */
		char *sp = strchr(host_pub, ' ');
		if (sp && (sp = strchr(sp + 1, ' ')))
			*sp = 0;
		char *label = cg_xasprintf("%s %s n%d", p->c->name, dc, node);
		struct cg_ec2_userdata u = {
			.host_priv = host_priv, .host_pub = host_pub,
			.install = cg_res_get(desired, "install"),
			.cassandra_version = cg_res_get(desired, "cassandra_version")
				? cg_res_get(desired, "cassandra_version") : p->c->cassandra_version,
			.base_dir = AWS_BASE_DIR, .label = label, .owner = p->c->ssh_user,
		};
		ud = cg_ec2_userdata_render(&u, err);
		free(label);
		if (!ud)
			goto out;
		ud64 = b64(ud);
		/* ClientToken makes real EC2 retries idempotent (moto ignores it:
		 * the tag look-up below covers that). */
		unsigned char rnd[6];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			memset(rnd, 0, sizeof(rnd));
		char token[64];
		snprintf(token, sizeof(token), "cg-%.20s-%.8s-n%d-%02x%02x%02x%02x%02x%02x",
			 p->c->name, dc, node, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		char nodes[16];
		snprintf(nodes, sizeof(nodes), "%d", node);
		const char *tags[] = {
			TAG_CLUSTER, p->c->name, TAG_DC, dc, TAG_NODE, nodes,
			TAG_ROLE, seed && !strcmp(seed, "true") ? "seed" : "node",
			"Name", name ? name : desired->addr, TAG_HOSTKEY, host_pub, TAG_AMI, ami,
			/* what the bootstrap needs (lib_dir) even when the state is lost */
			TAG_INSTALL, u.install ? u.install : "apt",
			TAG_VERSION, u.cassandra_version ? u.cassandra_version : "",
		};
		for (int attempt = 1;; attempt++) {
			struct cg_ec2_params pa = { 0 };
			cg_ec2_params_add(&pa, "ImageId", image);
			cg_ec2_params_add(&pa, "InstanceType", type);
			cg_ec2_params_add(&pa, "MinCount", "1");
			cg_ec2_params_add(&pa, "MaxCount", "1");
			cg_ec2_params_add(&pa, "KeyName", keyname);
			char **gids;
			int ngids = split_list(sg, &gids);
			for (int k = 0; k < ngids; k++) {
				char key[40];
				snprintf(key, sizeof(key), "SecurityGroupId.%d", k + 1);
				cg_ec2_params_add(&pa, key, gids[k]);
			}
			free_list(gids, ngids);
			if (zone)
				cg_ec2_params_add(&pa, "Placement.AvailabilityZone", zone);
			cg_ec2_params_add(&pa, "UserData", ud64);
			cg_ec2_params_add(&pa, "ClientToken", token);
			cg_ec2_params_add(&pa, "MetadataOptions.HttpTokens", "required");
			add_tags(&pa, 1, "instance", tags, (int)(sizeof(tags) / sizeof(tags[0]) / 2));
			xmlDocPtr d = NULL;
			struct cg_ec2_error e;
			progress(ctx, desired->addr, attempt == 1 ? "launching instance"
								  : "launching instance (again)");
			int crc = call(p, region, "RunInstances", &pa, CG_EC2_NO_AMBIGUOUS, &d, &e, err);
			cg_ec2_params_free(&pa);
			if (crc == 0) {
				id = cg_xml_text(root_of(d), "instancesSet/item/instanceId");
				found_zone = cg_xml_text(root_of(d), "instancesSet/item/placement/availabilityZone");
				xmlFreeDoc(d);
				break;
			}
			if (!strcmp(e.code, "InvalidGroup.NotFound") && attempt < 3) {
				/* an overflow group deleted meanwhile (peers shrank): look again */
				free(sg);
				sg = NULL;
				if (sgs_for_launch(p, region, true, &sg, err) < 0)
					goto out;
				continue;
			}
			if (!strcmp(e.code, "InsufficientInstanceCapacity") ||
			    !strcmp(e.code, "Unsupported")) {
				cg_error(err, CG_EXIT_ERROR,
					 "%s: EC2 has no %s capacity in zone %s (%s): %s. Change "
					 "node_type of DC %s, list other zones for it (zones:), or "
					 "retry later", desired->addr, type, zone ? zone : "(any)",
					 region, e.message, dc);
				goto out;
			}
			if (!e.ambiguous || attempt >= 8)
				goto out;
			/* The call may have launched it: look before launching again. */
			char *hk = NULL;
			sleep_ms(200 * attempt);
			if (find_node_instance(p, region, dc, node, &id, &hk, &found_zone, err) < 0)
				goto out;
			free(hk);
			if (id)
				break;
		}
		if (!id) {
			cg_error(err, CG_EXIT_ERROR, "%s: RunInstances answered without an instance id",
				 desired->addr);
			goto out;
		}
	}
	progress(ctx, desired->addr, "waiting for instance to run");
	if (wait_instance(p, region, id, "running", &o, err) < 0)
		goto out;
	if (sg) {
		/* peers.<region> may have added or removed a group while this
		 * instance launched: it attaches groups to the instances it sees
		 * after publishing them, this one compares after its launch, so
		 * one of the two covers the instance */
		const char *now = sgs_published(p, region);
		if (now && *now && strcmp(now, sg)) {
			char **gids;
			int ngids = split_list(now, &gids);
			progress(ctx, desired->addr, "updating the instance's security groups");
			int src = set_instance_groups(p, region, id, gids, ngids, err);
			free_list(gids, ngids);
			if (src < 0)
				goto out;
		}
	}
	if (!host_pub) {
		cg_error(err, CG_EXIT_ERROR,
			 "%s: adopted instance %s carries no %s tag: its SSH host key is unknown; "
			 "terminate it and apply again", desired->addr, id, TAG_HOSTKEY);
		goto out;
	}
	machine_result(p, desired, &o, host_pub, found_zone, result);
	rc = 0;
out:
	obs_clear(&o);
	if (host_priv) {
		OPENSSL_cleanse(host_priv, strlen(host_priv));
		free(host_priv);
	}
	if (ud) {
		OPENSSL_cleanse(ud, strlen(ud));
		free(ud);
	}
	if (ud64) {
		OPENSSL_cleanse(ud64, strlen(ud64));
		free(ud64);
	}
	free(id);
	free(host_pub);
	free(found_zone);
	free(image);
	free(sg);
	free(keyname);
	return rc;
}

static void term_done_add(struct poller *q, const char *id, int rc, const char *msg)
{
	if (q->ndone == q->cdone) {
		q->cdone = q->cdone ? 2 * q->cdone : 32;
		q->done = cg_xrealloc(q->done, (size_t)q->cdone * sizeof(*q->done));
	}
	q->done[q->ndone].id = cg_xstrdup(id);
	q->done[q->ndone].rc = rc;
	q->done[q->ndone].msg = cg_xstrdup(msg);
	q->ndone++;
}

/* Terminate ids (q->mu not held); outcomes go to q->done. */
static void terminate_ids(struct cg_provider *p, struct poller *q, char **ids, int n)
{
	for (int off = 0; off < n; off += 500) {
		int m = n - off < 500 ? n - off : 500;
		struct cg_ec2_params pa = { 0 };
		char k[32];
		for (int i = 0; i < m; i++) {
			snprintf(k, sizeof(k), "InstanceId.%d", i + 1);
			cg_ec2_params_add(&pa, k, ids[off + i]);
		}
		struct cg_ec2_error e;
		struct cg_err err = { 0 };
		int rc = call(p, q->region, "TerminateInstances", &pa, 0, NULL, &e, &err);
		cg_ec2_params_free(&pa);
		if (rc < 0 && m > 1 && cg_ec2_error_notfound(&e)) {
			/* one unknown id fails the whole call: one by one */
			for (int i = 0; i < m; i++)
				terminate_ids(p, q, ids + off + i, 1);
			continue;
		}
		int outcome = rc == 0 ? 0 : cg_ec2_error_notfound(&e) ? 1 : -1;
		pthread_mutex_lock(&q->mu);
		for (int i = 0; i < m; i++)
			term_done_add(q, ids[off + i], outcome, err.msg);
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
	}
}

/*
 * TerminateInstances for id, batched with the other deletions of the region
 * that arrive within a short window (one call for many instances). Returns
 * 0 (terminating), 1 (gone already) or -1.
 */
static int terminate_batched(struct cg_provider *p, const char *region, const char *id,
			     struct cg_err *err)
{
	struct poller *q = poller_get(p, region);
	pthread_mutex_lock(&q->mu);
	if (q->nterm == q->cterm) {
		q->cterm = q->cterm ? 2 * q->cterm : 32;
		q->term = cg_xrealloc(q->term, (size_t)q->cterm * sizeof(char *));
	}
	q->term[q->nterm++] = cg_xstrdup(id);
	if (!q->term_leader) {
		q->term_leader = true;
		pthread_mutex_unlock(&q->mu);
		sleep_ms(p->poll_ms < 200 ? p->poll_ms : 200);	/* gather the others */
		pthread_mutex_lock(&q->mu);
		char **ids = q->term;
		int n = q->nterm;
		q->term = NULL;
		q->nterm = q->cterm = 0;
		q->term_leader = false;
		pthread_mutex_unlock(&q->mu);
		terminate_ids(p, q, ids, n);
		free_list(ids, n);
		pthread_mutex_lock(&q->mu);
	}
	int rc;
	for (;;) {
		int i;
		for (i = 0; i < q->ndone; i++)
			if (!strcmp(q->done[i].id, id))
				break;
		if (i < q->ndone) {
			rc = q->done[i].rc;
			if (rc < 0)
				cg_error(err, CG_EXIT_ERROR, "%s", q->done[i].msg);
			free(q->done[i].id);
			free(q->done[i].msg);
			q->done[i] = q->done[--q->ndone];
			break;
		}
		pthread_cond_wait(&q->cv, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

static int machine_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
			 const struct cg_resource *desired, const struct cg_resource *current,
			 struct cg_resource *result, struct cg_err *err)
{
	if (op == CG_OP_CREATE)
		return machine_create(p, ctx, desired, result, err);
	if (op == CG_OP_UPDATE) {
		if (!current || !current->id)
			return machine_create(p, ctx, desired, result, err);
		const char *seed = cg_res_get(desired, "seed");
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "ResourceId.1", current->id);
		cg_ec2_params_add(&pa, "Tag.1.Key", "Name");
		cg_ec2_params_add(&pa, "Tag.1.Value", cg_res_get(desired, "name"));
		cg_ec2_params_add(&pa, "Tag.2.Key", TAG_ROLE);
		cg_ec2_params_add(&pa, "Tag.2.Value", seed && !strcmp(seed, "true") ? "seed" : "node");
		progress(ctx, desired->addr, "updating tags");
		int rc = call(p, desired->region, "CreateTags", &pa, CG_EC2_RETRY_NOTFOUND, NULL, NULL, err);
		cg_ec2_params_free(&pa);
		if (rc < 0)
			return -1;
		struct obs o = { 0 };
		const char *st = cg_res_get(current, "state");
		if (st && (!strcmp(st, "stopped") || !strcmp(st, "stopping"))) {
			/* stopped behind our back: start it again (its public
			 * address changes; peers follow on the next plan) */
			if (!strcmp(st, "stopping")) {
				progress(ctx, desired->addr, "waiting for the instance to stop");
				if (wait_instance(p, desired->region, current->id, "stopped", NULL, err) < 0)
					return -1;
			}
			progress(ctx, desired->addr, "starting stopped instance");
			struct cg_ec2_params sp = { 0 };
			cg_ec2_params_add(&sp, "InstanceId.1", current->id);
			rc = call(p, desired->region, "StartInstances", &sp, 0, NULL, NULL, err);
			cg_ec2_params_free(&sp);
			if (rc < 0 || wait_instance(p, desired->region, current->id, "running", &o, err) < 0) {
				obs_clear(&o);
				return -1;
			}
		}
		cg_res_copy(result, desired);
		cg_res_set_id(result, current->id);
		/* what the instance already has and the desired side leaves computed */
		for (int i = 0; i < current->nattrs; i++) {
			const struct cg_attr *a = &current->attrs[i];
			const struct cg_attr *da = cg_res_attr(desired, a->key);
			if (!da || !da->value)
				cg_res_set(result, a->key, a->value, da ? da->flags : a->flags);
		}
		if (o.id) {
			cg_res_set(result, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
			cg_res_set(result, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
			cg_res_set(result, "state", o.state, CG_ATTR_INFO);
		}
		cg_res_set(result, "health", "ok", CG_ATTR_COMPUTED);
		obs_clear(&o);
		return 0;
	}
	/* DELETE */
	const char *id = current ? current->id : NULL;
	const char *region = current ? current->region : NULL;
	if (!id || !region)
		return 0;
	progress(ctx, current->addr, "terminating instance");
	int rc = terminate_batched(p, region, id, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;	/* already gone */
	progress(ctx, current->addr, "waiting for termination");
	return wait_instance(p, region, id, "terminated", NULL, err);
}

/* ---- provider ops ---- */

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
	for (int i = 0; i < p->ncache; i++) {
		free(p->cache[i].key);
		free(p->cache[i].value);
	}
	free(p->cache);
	struct poller *q = p->pollers;
	while (q) {
		struct poller *next = q->next;
		for (int i = 0; i < q->nobs; i++)
			obs_clear(&q->obs[i]);
		free(q->obs);
		free_list(q->want, q->nwant);
		free_list(q->term, q->nterm);
		for (int i = 0; i < q->ndone; i++) {
			free(q->done[i].id);
			free(q->done[i].msg);
		}
		free(q->done);
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q->region);
		free(q);
		q = next;
	}
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->resolve_mu);
	free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ec2_zones(struct cg_provider *p, const char *region, char ***zones, int *n,
		     struct cg_err *err)
{
	*zones = NULL;
	*n = 0;
	xmlDocPtr d = NULL;
	if (call(p, region, "DescribeAvailabilityZones", NULL, 0, &d, NULL, err) < 0)
		return -1;
	char st[32], ty[48], nm[64];
	for (xmlNodePtr it = cg_xml_path(root_of(d), "availabilityZoneInfo/item"); it;
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
		qsort(*zones, (size_t)*n, sizeof(char *), cmp_str);
	if (*n == 0)
		return cg_error(err, CG_EXIT_ERROR, "region %s reports no available zone", region);
	return 0;
}

/* ---- refresh ---- */

struct region_job {
	struct cg_provider *p;
	const char *region;
	const struct cg_rset *known;
	struct cg_rset live;
	int ninstances;
	struct sgset sgs;		/* the region's groups (refresh_sg) */
	struct inst_sgs {		/* each node instance's groups */
		char **groups;
		int n;
	} *inst;
	int ninst;
	int rc;
	struct cg_err err;
};

static const struct cg_resource *known_by_id(const struct cg_rset *known, const char *id)
{
	for (int i = 0; known && i < known->n; i++)
		if (known->v[i].id && !strcmp(known->v[i].id, id))
			return &known->v[i];
	return NULL;
}

static void refresh_instances(struct region_job *j, xmlDocPtr *docs, int nd)
{
	struct cg_provider *p = j->p;
	for (int i = 0; i < nd; i++)
		for (xmlNodePtr res = cg_xml_path(root_of(docs[i]), "reservationSet/item"); res;
		     res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
			     it = cg_xml_next(it, "item")) {
				char *dc = tag_value(it, TAG_DC), *node = tag_value(it, TAG_NODE);
				int n = node ? atoi(node) : 0;
				if (!dc || n < 1) {
					free(dc);
					free(node);
					continue;	/* tagged for the cluster but not a node */
				}
				j->ninstances++;
				j->inst = cg_xrealloc(j->inst, (size_t)(j->ninst + 1) * sizeof(*j->inst));
				struct inst_sgs *is = &j->inst[j->ninst++];
				memset(is, 0, sizeof(*is));
				for (xmlNodePtr g = cg_xml_path(it, "groupSet/item"); g;
				     g = cg_xml_next(g, "item")) {
					is->groups = cg_xrealloc(is->groups, (size_t)(is->n + 1) * sizeof(char *));
					is->groups[is->n++] = cg_xml_text(g, "groupId");
				}
				struct obs o;
				obs_from_item(it, &o);
				char *addr = cg_addr_node(CG_KIND_MACHINE, dc, n);
				struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_MACHINE, addr);
				free(addr);
				r->region = cg_xstrdup(j->region);
				r->dc = cg_xstrdup(dc);
				r->node = n;
				cg_res_set_id(r, o.id);
				const struct cg_resource *k = known_by_id(j->known, o.id);
				char *role = tag_value(it, TAG_ROLE), *name = tag_value(it, "Name");
				char *hk = tag_value(it, TAG_HOSTKEY), *ami = tag_value(it, TAG_AMI);
				char *zone = cg_xml_text(it, "placement/availabilityZone");
				char *type = cg_xml_text(it, "instanceType");
				cg_res_set(r, "cluster", p->c->name, CG_ATTR_INFO);
				cg_res_set(r, "dc", dc, CG_ATTR_INFO);
				cg_res_set(r, "node", node, CG_ATTR_INFO);
				cg_res_set(r, "zone", zone, CG_ATTR_FORCENEW);
				cg_res_set(r, "node_type", type, CG_ATTR_FORCENEW);
				const char *kami = k ? cg_res_get(k, "ami") : NULL;
				cg_res_set(r, "ami", kami ? kami : ami ? ami : o.image, CG_ATTR_FORCENEW);
				char *tinst = tag_value(it, TAG_INSTALL), *tver = tag_value(it, TAG_VERSION);
				const char *kinst = k ? cg_res_get(k, "install") : NULL;
				const char *kver = k ? cg_res_get(k, "cassandra_version") : NULL;
				if (kinst || tinst)
					cg_res_set(r, "install", kinst ? kinst : tinst, CG_ATTR_INFO);
				if ((kver || tver) && (kver || *tver))
					cg_res_set(r, "cassandra_version", kver ? kver : tver, CG_ATTR_INFO);
				free(tinst);
				free(tver);
				cg_res_set(r, "seed", role && !strcmp(role, "seed") ? "true" : "false", 0);
				cg_res_set(r, "name", name, 0);
				cg_res_set(r, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
				cg_res_set(r, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
				const char *khk = k ? cg_res_get(k, "host_key") : NULL;
				cg_res_set(r, "host_key", khk ? khk : hk, CG_ATTR_COMPUTED);
				cg_res_set(r, "image_id", o.image, CG_ATTR_INFO);
				cg_res_set(r, "state", o.state, CG_ATTR_INFO);
				/* the planner updates (here: starts) a machine whose
				 * health is not "ok" */
				if (o.state && (!strcmp(o.state, "stopped") || !strcmp(o.state, "stopping")))
					cg_res_setf(r, "health", CG_ATTR_COMPUTED,
						    "instance %s is %s", o.id, o.state);
				else
					cg_res_set(r, "health", "ok", CG_ATTR_COMPUTED);
				cg_res_set(r, "launch_time", o.launch, CG_ATTR_INFO);
				cg_res_set(r, "ssh_port", "22", CG_ATTR_INFO);
				cg_res_set(r, "base_dir", AWS_BASE_DIR, CG_ATTR_INFO);
				const char *inst = cg_res_get(r, "install");
				cg_res_set(r, "lib_dir",
					   inst && !strncmp(inst, "dir:", 4) ? inst + 4 : AWS_LIB_DIR,
					   CG_ATTR_INFO);
				free(role);
				free(name);
				free(hk);
				free(ami);
				free(zone);
				free(type);
				free(dc);
				free(node);
				obs_clear(&o);
			}
}

/* allowed_cidrs as the state wrote it when the set is the same (order kept),
 * else the observed set sorted. */
static char *same_set_or(const char *known, char **v, int n)
{
	char **kv;
	int kn = split_list(known, &kv);
	bool same = kn == n;
	for (int i = 0; same && i < n; i++) {
		bool f = false;
		for (int k = 0; k < kn; k++)
			f |= !strcmp(kv[k], v[i]);
		same = f;
	}
	free_list(kv, kn);
	if (same && known)
		return cg_xstrdup(known);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(char *), cmp_str);
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; i < n; i++)
		cg_buf_addf(&b, "%s%s", i ? "," : "", v[i]);
	return cg_buf_detach(&b);
}

static void list_add_unique(char ***v, int *n, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = cg_xrealloc(*v, (size_t)(*n + 1) * sizeof(char *));
	(*v)[(*n)++] = cg_xstrdup(s);
}

static int refresh_sg(struct region_job *j)
{
	struct cg_provider *p = j->p;
	struct sgset *s = &j->sgs;
	if (sgset_find(p, j->region, s, &j->err) < 0)
		return -1;
	sgs_publish(p, j->region, s, CG_EC2_GROUPS_MAX);
	const char *sg = s->id[0];
	if (!sg)
		return 0;
	const struct rules *have = &s->rules[0];
	char **cidrs = NULL;
	int nc = 0, mon = 0;
	/* rules from groups: exactly the group itself on the internode ports */
	struct rules self = { 0 }, extra = { 0 }, missing = { 0 };
	self_rules(&self, sg);
	if (cg_monitoring_dc(p->c) >= 0)
		scrape_rules(&self, sg);
	for (int i = 0; i < have->n; i++) {
		const struct rule *x = &have->v[i];
		if (!strncmp(x->src, "sg-", 3)) {
			if (!rules_has(&self, x))
				rules_add(&extra, x->proto, x->from, x->to, x->src);
			continue;
		}
		if (is_peer_rule(x))
			continue;
		list_add_unique(&cidrs, &nc, x->src);
		if (!strcmp(x->proto, "tcp") && x->from == x->to && x->from != 22 && x->from != 9042)
			mon = x->from;
	}
	for (int i = 0; i < self.n; i++)
		if (!rules_has(have, &self.v[i]))
			rules_add(&missing, self.v[i].proto, self.v[i].from, self.v[i].to, self.v[i].src);

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
	cg_res_set(r, "vpc_id", s->vpc, CG_ATTR_INFO);
	/* what the diff shows when only group-sourced rules differ (the 2014
	 * layout's 7001 and 7199 among them) */
	if (extra.n || missing.n) {
		struct cg_buf h = { 0 }, b = { 0 };
		if (extra.n) {
			rules_summary(&extra, &b);
			cg_buf_addf(&h, "rules to revoke: %s from security groups", b.data);
			cg_buf_free(&b);
		}
		if (missing.n) {
			rules_summary(&missing, &b);
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
	free_list(cidrs, nc);
	return 0;
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
 * differs from the layout peers_layout makes (rules of the 2014 layout,
 * a group missing on instances, a group over the quota, scrape rules).
 */
static void peers_observe(struct cg_provider *p, struct region_job *jobs, int nr, int me)
{
	struct region_job *j = &jobs[me];
	struct sgset *s = &j->sgs;
	if (!s->id[0])
		return;
	bool any = false;
	for (int g = 1; g < CG_EC2_GROUPS_MAX; g++)
		any |= s->id[g] != NULL;
	for (int k = 0; k < s->rules[0].n; k++)
		any |= is_peer_rule(&s->rules[0].v[k]);
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
			on += in_list(j->inst[i].groups, j->inst[i].n, s->id[g]);
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
			if (g == 0 && !is_peer_rule(x))
				continue;
			if (reaches_storage(x) && on == j->ninst)
				list_add_unique(&peers, &np, x->src);
			if (is_storage_rule(x))
				continue;
			if (g == 0 && mon && is_scrape_rule(x) && !strcmp(x->src, mon)) {
				mon_seen[x->from == CG_MON_NODE_EXPORTER_PORT] = true;
				continue;
			}
			rules_add(&extra, x->proto, x->from, x->to, x->src);
		}
	}
	if (extra.n) {
		struct cg_buf b = { 0 };
		rules_summary(&extra, &b);
		cg_buf_addf(&h, "%srules to revoke: %s from other regions' addresses (each node needs "
			    "tcp 7000 only)", h.len ? "; " : "", b.data);
		cg_buf_free(&b);
	}
	if (mon && (!mon_seen[0] || !mon_seen[1]))
		cg_buf_addf(&h, "%sscrape rules from the monitoring node %s missing", h.len ? "; " : "",
			    mon);
	/* groups beyond what peers_layout would keep (a raised limit, fewer
	 * nodes, a killed run): the same arithmetic as there */
	int fixed = mon ? 2 : 0, nplan = remote_nodes(p->c, j->region);
	for (int k = 0; k < s->rules[0].n; k++)
		fixed += !is_peer_rule(&s->rules[0].v[k]);
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
	if (np > 1)
		qsort(peers, (size_t)np, sizeof(char *), cmp_str);
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; i < np; i++)
		cg_buf_addf(&b, "%s%s", i ? "," : "", peers[i]);
	cg_res_set(r, "cidrs", b.data, 0);
	cg_buf_free(&b);
	if (h.len)
		cg_res_set(r, "health", h.data, CG_ATTR_COMPUTED);
	cg_buf_free(&h);
	free(extra.v);
	free_list(peers, np);
	free(mon);
}

static int refresh_keypair(struct region_job *j)
{
	struct cg_provider *p = j->p;
	char *name = sg_name(p, j->region);
	xmlDocPtr d = NULL;
	xmlNodePtr it = NULL;
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	add_filter1(&pa, &nf, "key-name", name);
	cg_ec2_params_add(&pa, "IncludePublicKey", "true");
	int rc = call(p, j->region, "DescribeKeyPairs", &pa, 0, &d, NULL, &j->err);
	cg_ec2_params_free(&pa);
	it = rc == 0 ? cg_xml_path(root_of(d), "keySet/item") : NULL;
	char *path = key_path(p, j->region);
	if (it) {
		/* Only a key pair holding our local key counts as ours: any other
		 * (or one whose private half is lost) is left out, so the plan
		 * creates it and ImportKeyPair explains the conflict instead of
		 * instances being launched with a key nobody here holds. */
		char *remote = cg_xml_text(it, "publicKey");
		char *local = NULL;
		struct cg_err ignored = { 0 };
		bool ours = remote && access(path, R_OK) == 0 &&
			    cg_ssh_keygen(path, &local, &ignored) == 0 && cg_ssh_key_equal(remote, local);
		if (!remote && access(path, R_OK) == 0)
			ours = true;	/* an endpoint without IncludePublicKey */
		free(remote);
		free(local);
		if (!ours)
			it = NULL;
	}
	if (it) {
		char *addr = cg_addr_region(CG_KIND_KEYPAIR, j->region);
		struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_KEYPAIR, addr);
		free(addr);
		r->region = cg_xstrdup(j->region);
		char *kid = cg_xml_text(it, "keyPairId");
		cg_res_set_id(r, kid && *kid ? kid : name);
		free(kid);
		cg_res_set(r, "name", name, CG_ATTR_FORCENEW);
		char *fp = cg_xml_text(it, "keyFingerprint");
		cg_res_set(r, "fingerprint", fp, CG_ATTR_INFO);
		free(fp);
		cg_res_set(r, "key_file", path, CG_ATTR_INFO);
	}
	free(path);
	if (d)
		xmlFreeDoc(d);
	free(name);
	return rc;
}

static void *refresh_region(void *arg)
{
	struct region_job *j = arg;
	xmlDocPtr *docs = NULL;
	int nd = 0;
	j->rc = describe_cluster(j->p, j->region, NULL, 0, true, &docs, &nd, &j->err);
	if (j->rc == 0) {
		refresh_instances(j, docs, nd);
		free_docs(docs, nd);
		j->rc = refresh_sg(j);
	}
	if (j->rc == 0)
		j->rc = refresh_keypair(j);
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
		int nremote = remote_nodes(p->c, region);
		if (!nremote)
			continue;
		int fixed = cg_ec2_rules_fixed(p->c->nallowed_cidrs, cg_monitoring_dc(p->c) >= 0,
					       monitor_remote(p->c, region));
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
			    k != CG_KIND_PEERS)
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
			peers_observe(p, jobs, nr, i);
		}
	if (rc == 0)
		for (int i = 0; i < nr; i++)
			for (int k = 0; k < jobs[i].live.n; k++)
				cg_rset_add(live, &jobs[i].live.v[k]);
	for (int i = 0; i < nr; i++) {
		cg_rset_free(&jobs[i].live);
		sgset_free(&jobs[i].sgs);
		for (int k = 0; k < jobs[i].ninst; k++)
			free_list(jobs[i].inst[k].groups, jobs[i].inst[k].n);
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
		return network_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_PEERS:
		return peers_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_KEYPAIR:
		return keypair_apply(p, ctx, op, desired, current, result, err);
	case CG_KIND_MACHINE:
		return machine_apply(p, ctx, op, desired, current, result, err);
	default:
		return cg_error(err, CG_EXIT_ERROR, "ec2: %s is not a kind this provider manages",
				r->addr);
	}
}

const struct cg_provider_ops cg_provider_ec2 = {
	.name = "ec2",
	.kinds = CG_KIND_BIT(CG_KIND_NETWORK) | CG_KIND_BIT(CG_KIND_PEERS) |
		 CG_KIND_BIT(CG_KIND_KEYPAIR) | CG_KIND_BIT(CG_KIND_MACHINE),
	.open = ec2_open,
	.close = ec2_close,
	.zones = ec2_zones,
	.refresh = ec2_refresh,
	.apply = ec2_apply,
};

/* ---- operator's public address ---- */

static size_t ip_sink(char *ptr, size_t sz, size_t n, void *ud)
{
	struct cg_buf *b = ud;
	if (b->len + sz * n > 256)
		return 0;
	cg_buf_add(b, ptr, sz * n);
	return sz * n;
}

int cg_ec2_detect_public_ip(char *out, size_t n, struct cg_err *err)
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
