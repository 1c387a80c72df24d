/*
 * model.h - resources: what the plan is made of, what providers create and
 * what the state records.
 *
 * A resource has an address unique within its cluster:
 *   network.<region>   security group / bridge        (region level)
 *   peers.<region>     cross-region ingress rules      (region level, aws)
 *   keypair.<region>   SSH key pair                    (region level)
 *   machine.<dc>.n<i>  instance / namespace host       (node level)
 *   install.<dc>.n<i>  Cassandra installed             (node level)
 *   config.<dc>.n<i>   rendered config (xxHash)        (node level)
 *   service.<dc>.n<i>  Cassandra running               (node level)
 *   ring               every node UN in its DC/rack    (cluster level)
 *   monitoring         Prometheus on the monitoring DC (cluster level)
 *   auth               the superuser, no default role, system_auth in
 *                      every DC (cluster level; security on only)
 *   keyspace.<name>    a keyspace declared in the config: replication
 *                      "DC1:3,DC2:2", durable_writes, repair (cluster
 *                      level; never dropped: removed = forgotten)
 *   system_keyspaces   system_distributed, system_traces (and system_auth
 *                      when security is off) replicated in every DC
 *                      (cluster level)
 *   rebuild.<dc>.n<i>  a node of a DC added to a running ring streamed its
 *                      data from an existing DC (nodetool rebuild; node
 *                      level, after every keyspace gained the DC)
 *   datacenter.<dc>    a DC added to a running ring: rows read back from it
 *                      at LOCAL_QUORUM after its rebuilds (cluster level)
 *   loader.<dc>.n<i>   a load node of the DC (aws `stress_nodes`): an
 *                      instance where `cassandgo stress` runs the DC's
 *                      client, never Cassandra (node level)
 * and string attributes. Desired attributes flagged CG_ATTR_FORCENEW force a
 * replacement when they differ; CG_ATTR_COMPUTED ones are outputs of the
 * provider (addresses, host key: value NULL on the desired side, never
 * diffed); CG_ATTR_INFO ones are never diffed. A desired input whose value
 * is NULL without CG_ATTR_COMPUTED is known only after apply (e.g. a config
 * hash that needs addresses of machines not yet created): it counts as a
 * change. A current resource whose `health` attribute is not "ok" (e.g.
 * "sshd is not running") is planned for an update in place.
 *
 * Ownership: a cg_rset owns its resources and their strings.
 */
#ifndef CG_MODEL_H
#define CG_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "../util/util.h"
#include "config.h"

enum cg_kind {
	CG_KIND_NETWORK,
	CG_KIND_PEERS,
	CG_KIND_KEYPAIR,
	CG_KIND_MACHINE,
	CG_KIND_INSTALL,
	CG_KIND_CONFIG,
	CG_KIND_SERVICE,
	CG_KIND_RING,
	CG_KIND_MONITORING,
	CG_KIND_AUTH,
	CG_KIND_KEYSPACE,
	CG_KIND_SYSTEM,
	CG_KIND_REBUILD,
	CG_KIND_DATACENTER,
	CG_KIND_LOADER,
	CG_KIND__COUNT
};
#define CG_KIND_BIT(k) (1u << (k))
/* The role cassandgo creates (security on) and uses for its own CQL. */
#define CG_SUPERUSER "cassandgo"
/* Kinds of the cloud stage (apply --stage infra stops after these). */
#define CG_KINDS_INFRA (CG_KIND_BIT(CG_KIND_NETWORK) | CG_KIND_BIT(CG_KIND_PEERS) | \
			CG_KIND_BIT(CG_KIND_KEYPAIR) | CG_KIND_BIT(CG_KIND_MACHINE) | \
			CG_KIND_BIT(CG_KIND_LOADER))
/* --stage install: the machines with Cassandra installed, nothing started */
#define CG_KINDS_INSTALL (CG_KINDS_INFRA | CG_KIND_BIT(CG_KIND_INSTALL))

/* What an action does to a resource. Providers see CREATE, UPDATE, DELETE;
 * the executor turns REPLACE into DELETE then CREATE. */
enum cg_op { CG_OP_NOOP, CG_OP_CREATE, CG_OP_UPDATE, CG_OP_REPLACE, CG_OP_DELETE };
const char *cg_op_name(enum cg_op op);

const char *cg_kind_name(enum cg_kind k);
/* A kind that is a cloud instance: a machine or a load node (billed while
 * it runs, powered off when the cluster is parked). */
static inline bool cg_kind_instance(enum cg_kind k)
{
	return k == CG_KIND_MACHINE || k == CG_KIND_LOADER;
}
int cg_kind_parse(const char *s);		/* -1 when unknown */

#define CG_ATTR_FORCENEW 1u
#define CG_ATTR_COMPUTED 2u
#define CG_ATTR_INFO     4u

struct cg_attr {
	char *key;
	char *value;		/* NULL = known after apply */
	unsigned flags;
};

struct cg_resource {
	char *addr;
	enum cg_kind kind;
	char *region;		/* NULL for cluster level */
	char *dc;		/* NULL unless node level */
	int node;		/* 1-based node index in its DC; 0 otherwise */
	char *id;		/* provider's id; NULL until it exists */
	struct cg_attr *attrs;
	int nattrs, cattrs;
	char **deps;		/* addresses this one depends on (desired side) */
	int ndeps;
};

void cg_res_init(struct cg_resource *r, enum cg_kind kind, const char *addr);
void cg_res_clear(struct cg_resource *r);	/* frees contents, not r */
void cg_res_copy(struct cg_resource *dst, const struct cg_resource *src);
void cg_res_set_id(struct cg_resource *r, const char *id);
/* Set (or replace) an attribute; value may be NULL (computed). */
void cg_res_set(struct cg_resource *r, const char *key, const char *value, unsigned flags);
void cg_res_setf(struct cg_resource *r, const char *key, unsigned flags, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *cg_res_get(const struct cg_resource *r, const char *key);
const struct cg_attr *cg_res_attr(const struct cg_resource *r, const char *key);
void cg_res_add_dep(struct cg_resource *r, const char *addr);
/* Address helpers: "machine.DC1.n3" -> kind, dc, node (any may be NULL). */
char *cg_addr_node(enum cg_kind kind, const char *dc, int node);
char *cg_addr_region(enum cg_kind kind, const char *region);

/* A set of resources, indexed by address. Duplicates are allowed (a refresh
 * may find two instances claiming one node); find returns the first. */
struct cg_rset {
	struct cg_resource *v;
	int n, cap;
	int *index;		/* open addressing over v, -1 = empty */
	int index_cap;
};
void cg_rset_init(struct cg_rset *s);
void cg_rset_free(struct cg_rset *s);
/* Append a copy of r / a fresh resource; returned pointer valid until the
 * next add. */
struct cg_resource *cg_rset_add(struct cg_rset *s, const struct cg_resource *r);
struct cg_resource *cg_rset_new(struct cg_rset *s, enum cg_kind kind, const char *addr);
struct cg_resource *cg_rset_find(const struct cg_rset *s, const char *addr);
/* Remove the element at index i (order not kept). */
void cg_rset_remove_at(struct cg_rset *s, int i);

/* Zones available per region, as resolved by the provider (or the config). */
struct cg_zonemap {
	struct {
		char *region;
		char **zones;
		int n;
	} *v;
	int n;
};
void cg_zonemap_add(struct cg_zonemap *m, const char *region, char *const *zones, int n);
const char *const *cg_zonemap_get(const struct cg_zonemap *m, const char *region, int *n);
void cg_zonemap_free(struct cg_zonemap *m);

/* Does the configuration want machine m (machine.<dc>.n<k> with k within
 * its DC's node count)? A machine on its way out does not count. */
bool cg_model_wants_machine(const struct cg_cluster *c, const struct cg_resource *m);

/*
 * Is there a ring a new node must join (bootstrap into) rather than start
 * with precomputed tokens? Yes when known holds the ring, or a running
 * service of a node other than `except` ("DC1.n2"; may be NULL).
 */
bool cg_model_ring_exists(const struct cg_rset *known, const char *except);

/*
 * Is DC dc new to a running ring (being added)? Yes when no config of its
 * nodes is known, or one says "rebuild" and the DC's check
 * (datacenter.<dc>) is not recorded yet: its nodes start empty and are
 * rebuilt from another DC. Only meaningful when a ring exists.
 */
bool cg_model_dc_new(const struct cg_rset *known, const char *dc);
/* The mode ("initial", "join", "rebuild": cassconf.h) a node of DC dc
 * ("DC1.n2" node_key) gets when no config of it is recorded. */
const char *cg_model_node_mode(const struct cg_rset *known, const char *dc,
			       const char *node_key);

/*
 * The security step (enum cg_security) every node of c is rendered at in
 * this run: the configured one for a new cluster; for a running one the
 * next step towards it from where its nodes are (one step per apply).
 */
int cg_model_security(const struct cg_cluster *c, const struct cg_rset *known);

/*
 * Build the desired resources of cluster c. zones gives each region's zones
 * when the config does not list them. known (may be NULL) holds what exists
 * (state or refresh) so that values that depend on other resources' computed
 * attributes (addresses -> rendered config hash) are filled in when known.
 * stage_kinds masks which kinds are wanted (CG_KINDS_INFRA, CG_KINDS_INSTALL
 * or ~0u).
 */
int cg_model_build(const struct cg_cluster *c, const struct cg_zonemap *zones,
		   const struct cg_rset *known, unsigned stage_kinds,
		   struct cg_rset *desired, struct cg_err *err);

/* A keyspace's replication as its resource carries it: "DC1:3,DC2:2", the
 * DCs with replicas in the config's DC order. Caller frees. */
char *cg_model_keyspace_replication(const struct cg_cluster *c, const struct cg_keyspace *ks);
/* The keyspace's `repair` attribute when no repair is owed; otherwise
 * "pending:DC2,DC3" (a raised RF whose repair did not finish). */
#define CG_KEYSPACE_REPAIRED "done"
#define CG_KEYSPACE_PENDING "pending:"
/* The RF of DC dc (dl bytes) in a replication "DC1:3,DC2:2"; 0 if absent. */
int cg_model_rf_of(const char *replication, const char *dc, size_t dl);
/* The DCs of replication `to` whose RF is higher than in `from`, where
 * `from` has one ("DC1,DC3"; NULL: none; caller frees). A node that joined
 * while the RF was lower holds only its share until a full repair; a DC new
 * to the map is not among them (its nodes are rebuilt, or empty). */
char *cg_model_rf_raised(const char *from, const char *to);
/* Is DC dc (dl bytes) one of the comma list names ("DC2,DC3")? */
bool cg_model_dc_listed(const char *names, const char *dc, size_t dl);

/* Cassandra's replicated keyspaces the system_keyspaces resource keeps in
 * every DC (with system_auth first when security is off). */
#define CG_SYSTEM_KEYSPACES "system_distributed,system_traces"
/* Their replication: "DC1:3,DC2:1", RF = min(3, nodes in the DC). */
char *cg_model_system_replication(const struct cg_cluster *c);

/* Install method for the cluster: config `install`, else "maven" (aws) or
 * the Maven cache directory (local). Caller frees. */
char *cg_model_install_method(const struct cg_cluster *c);

/* install: upload: the operator sends the release over SSH to the first
 * node of each region (node 1 of the region's first DC in the config); the
 * region's other nodes fetch it from that node, which serves it on this
 * port of its private address (tcp from the region's own group only). */
#define CG_MODEL_SHARE_PORT 7080
/* Where install: maven downloads from without a maven_mirror. */
#define CG_MODEL_MAVEN_CENTRAL "https://repo1.maven.org/maven2"
/* The machine address ("machine.DC1.n1") node i of DC d gets an upload
 * install from, or NULL when it is the region's first node (the operator
 * sends it). Caller frees. */
char *cg_model_upload_source(const struct cg_cluster *c, int d, int i);

#endif
