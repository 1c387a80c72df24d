/*
 * internal.h - private to the EC2 provider (ec2.c and the files it is split
 * into by what they manage): the provider's handle, the tags, and what the
 * files share. Nothing outside providers/ec2/ includes it.
 *
 *   ec2.c      the provider ops: open, close, zones, refresh (one thread per
 *              region), apply (by kind), the operator's public address
 *   common.c   calls, filters, tags, the look-up cache, DescribeInstances
 *              by tag, small list helpers
 *   sg.c       security groups and their rules: find, create, delete,
 *              authorize/revoke, attach to instances
 *   network.c  network.<region>: the main group and its own rules
 *   peers.c    peers.<region>: cross-region rules over the overflow groups
 *   keypair.c  keypair.<region>
 *   machine.c  machine.<dc>.n<i>: instances, their shared state polling,
 *              batched termination
 *
 * Concurrency: apply() runs on several executor threads at once. Shared
 * data (the look-up cache, the per-region instance pollers) sits behind
 * mutexes; the client is thread-safe.
 */
#ifndef CG_EC2_INTERNAL_H
#define CG_EC2_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ec2.h"
#include "client.h"
#include "rules.h"

#define TAG_CLUSTER "cassandgo:cluster"
#define TAG_DC "cassandgo:dc"
#define TAG_NODE "cassandgo:node"
#define TAG_LOADER "cassandgo:loader"	/* a load node's number (instead of TAG_NODE) */
#define TAG_ROLE "cassandgo:role"
#define TAG_HOSTKEY "cassandgo:host_key"
#define TAG_AMI "cassandgo:ami"
#define TAG_INSTALL "cassandgo:install"
#define TAG_VERSION "cassandgo:cassandra_version"
#define TAG_CAPACITY "cassandgo:capacity"	/* what the config asked */
#define TAG_EXPIRES "cassandgo:expires"		/* the config's expires: (8h, a date) */
#define TAG_EXPIRES_AT "cassandgo:expires_at"	/* when that ends, UTC (cassandgo gc) */

/* The time `expires: spec` given now ends, as EC2 tags it (UTC, ISO 8601);
 * NULL when spec is not one. Caller frees. */
char *ec2_expires_at(const char *spec, time_t now);

struct cache_ent;		/* common.c */
struct poller;			/* machine.c */

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

/* A region's groups, found by name: [0] the main group, [i] overflow group i. */
struct sgset {
	char *id[CG_EC2_GROUPS_MAX];
	struct rules rules[CG_EC2_GROUPS_MAX];
	char *vpc;			/* the main group's */
};

/* One region's refresh (ec2.c runs one per thread; the kinds' files fill it). */
struct region_job {
	struct cg_provider *p;
	const char *region;
	const struct cg_rset *known;
	struct cg_rset live;
	int ninstances;
	struct sgset sgs;		/* the region's groups (ec2_network_refresh) */
	struct inst_sgs {		/* each node instance's groups */
		char **groups;
		int n;
	} *inst;
	int ninst;
	int rc;
	struct cg_err err;
};

/* ---- common.c ---- */

/* The look-up cache (VPCs, AMIs, architectures, published groups): entries
 * live until the provider closes. */
const char *ec2_cache_get(struct cg_provider *p, const char *key);
void ec2_cache_put(struct cg_provider *p, const char *key, const char *value);
void ec2_cache_free(struct cg_provider *p);
void ec2_sleep_ms(long ms);
/* The second Ctrl-C: stop waiting. */
bool ec2_interrupted_hard(struct cg_provider *p);
/* Base64 of s (caller frees). */
char *ec2_b64(const char *s);
/* Filter.<n> with nvals values (*nf counts the filters). */
void ec2_add_filter(struct cg_ec2_params *pa, int *nf, const char *name, const char *const *vals,
		    int nvals);
void ec2_add_filter1(struct cg_ec2_params *pa, int *nf, const char *name, const char *val);
/* TagSpecification.<spec> with n key/value pairs. */
void ec2_add_tags(struct cg_ec2_params *pa, int spec, const char *type,
		  const char *const *kv, int n);
/* One API call (e may be NULL); see cg_ec2_call. */
int ec2_call(struct cg_provider *p, const char *region, const char *action,
	     struct cg_ec2_params *pa, unsigned flags, xmlDocPtr *doc,
	     struct cg_ec2_error *e, struct cg_err *err);
xmlNodePtr ec2_root(xmlDocPtr d);
/* Value of tag key in a tagSet node (caller frees; NULL: none). */
char *ec2_tag_value(xmlNodePtr it, const char *key);
/* The main group's name, which the key pair shares (caller frees). */
char *ec2_sg_name(struct cg_provider *p, const char *region);
/* One progress line for the action on addr. */
void ec2_progress(struct cg_ctx *ctx, const char *addr, const char *what);
/* Comma list -> array of trimmed items (caller frees with ec2_free_list). */
int ec2_split_list(const char *s, char ***out);
void ec2_free_list(char **v, int n);
bool ec2_in_list(char *const *v, int n, const char *s);
void ec2_list_add_unique(char ***v, int *n, const char *s);
/* qsort comparator of char *. */
int ec2_cmp_str(const void *a, const void *b);
/* v sorted (in place) and joined with commas: "" when n is 0 (caller frees). */
char *ec2_join_sorted(char **v, int n);
/* The cluster's live instances for one node (or all, dc NULL), by tag:
 * the pages of DescribeInstances (free with ec2_free_docs). node < 0: load
 * node -node of the DC. */
int ec2_describe_cluster(struct cg_provider *p, const char *region, const char *dc, int node,
			 bool include_stopped, xmlDocPtr **docs, int *ndocs, struct cg_err *err);
void ec2_free_docs(xmlDocPtr *docs, int n);
/* The same for cluster (NULL: every cluster cassandgo tagged). */
int ec2_describe_tagged(struct cg_provider *p, const char *region, const char *cluster,
			const char *dc, int node, bool include_stopped, xmlDocPtr **docs,
			int *ndocs, struct cg_err *err);

/* ---- gc.c: what outlives a state file ---- */

/* Every instance cassandgo tagged in regions, as machine resources (addr =
 * instance id; attributes cluster, dc, node_type, market, launch_time,
 * expires_at, state). */
int cg_ec2_inventory(struct cg_provider *p, const char *const *regions, int nregions,
		     struct cg_rset *out, struct cg_err *err);
/* Everything of p's cluster in region, whatever any state says: its
 * instances (terminated, waited for), then its security groups and key pair. */
int cg_ec2_purge(struct cg_provider *p, const char *region, struct cg_err *err);

/* ---- sg.c ---- */

int ec2_default_vpc(struct cg_provider *p, const char *region, const char **out,
		    struct cg_err *err);
void ec2_rules_add(struct rules *r, const char *proto, int from, int to, const char *src);
bool ec2_rules_has(const struct rules *r, const struct rule *x);
/* What a rule is for: a cross-region one (peers.<region>'s), the storage
 * rule of one remote node, any rule reaching 7000, a scrape rule. */
bool ec2_is_peer_rule(const struct rule *x);
bool ec2_is_storage_rule(const struct rule *x);
bool ec2_reaches_storage(const struct rule *x);
bool ec2_is_scrape_rule(const struct rule *x);
/* Add the scrape rules from src; the group's rules from itself. */
void ec2_scrape_rules(struct rules *r, const char *src);
void ec2_self_rules(struct rules *r, const char *sg, bool upload, bool load);
/* Does a DC of the region have load nodes (a self rule on 9042)? */
bool ec2_region_loads(const struct cg_cluster *c, const char *region);
/* Does the cluster install with install: upload (a self rule on the share port)? */
bool ec2_upload(const struct cg_cluster *c);
/* Nodes the configuration puts in other regions than region; is the
 * monitoring node in another region? */
int ec2_remote_nodes(const struct cg_cluster *c, const char *region);
bool ec2_monitor_remote(const struct cg_cluster *c, const char *region);
/* "icmp x3, tcp 7199 x3" (sorts r). */
void ec2_rules_summary(struct rules *r, struct cg_buf *b);
/* Rules of a group item (ipPermissions), flattened. */
void ec2_parse_rules(xmlNodePtr sg, struct rules *out);
void ec2_sgset_free(struct sgset *s);
int ec2_sgset_find(struct cg_provider *p, const char *region, struct sgset *s,
		   struct cg_err *err);
/* The group ids new instances of region launch with (see sg.c). */
void ec2_sgs_publish(struct cg_provider *p, const char *region, const struct sgset *s, int upto);
const char *ec2_sgs_published(struct cg_provider *p, const char *region);
int ec2_sgs_for_launch(struct cg_provider *p, const char *region, bool fresh, char **out,
		       struct cg_err *err);
int ec2_set_instance_groups(struct cg_provider *p, const char *region, const char *id,
			    char *const *groups, int n, struct cg_err *err);
int ec2_sgs_attach(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		   const char *region, char *const *add, int nadd, char *const *drop, int ndrop,
		   struct cg_err *err);
int ec2_sg_create(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		  const char *region, const char *vpc, int index, char **id, struct cg_err *err);
int ec2_sg_delete(struct cg_provider *p, const char *region, const char *id, struct cg_err *err);
/* Authorize (add) or revoke rs on group sg; count_hint: the rules it will hold. */
int ec2_change_rules(struct cg_provider *p, const char *region, const char *sg, bool add,
		     struct rules *rs, int count_hint, struct cg_err *err);

/* ---- the kinds: apply one resource (the provider's apply() for that kind),
 * observe a region ---- */

typedef int ec2_apply_fn(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
			 const struct cg_resource *desired, const struct cg_resource *current,
			 struct cg_resource *result, struct cg_err *err);
ec2_apply_fn ec2_network_apply, ec2_peers_apply, ec2_keypair_apply, ec2_machine_apply;

int ec2_network_refresh(struct region_job *j);
/* Lay a region's cross-region rules out over its groups (see peers.c). */
int ec2_peers_layout(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
		     const char *region, char **cidrs, int n, const char *mon, int fixed_net,
		     int nplan, struct cg_err *err);
/* peers.<region> of jobs[me] as observed, once every region is refreshed. */
void ec2_peers_observe(struct cg_provider *p, struct region_job *jobs, int nr, int me);
int ec2_keypair_refresh(struct region_job *j);
void ec2_machine_refresh(struct region_job *j, xmlDocPtr *docs, int nd);
void ec2_pollers_free(struct cg_provider *p);

#endif
