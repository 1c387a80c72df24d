/*
 * config.h - cassandgo.yaml: loading and complete validation.
 *
 * Two shapes are accepted for each top-level cluster:
 *   - the 2014 seed's list of datacenters (Name: [ {datacenter: ..}, ..]);
 *   - a mapping with cluster-wide settings and a `datacenters:` list.
 * Everything is validated before anything touches the world; every error
 * names FILE:LINE:COL, the key, what is wrong and what is expected, and maps
 * to exit code 65 (CG_EXIT_CONFIG).
 *
 * Ownership: cg_config_load allocates the whole tree; cg_config_free frees it.
 */
#ifndef CG_CONFIG_H
#define CG_CONFIG_H

#include <stdbool.h>
#include <time.h>
#include "../util/util.h"

enum cg_provider_kind { CG_PROVIDER_AWS, CG_PROVIDER_LOCAL };
/* Load nodes: at most this many per DC (stress runs one client per DC),
 * of this type unless told. */
#define CG_MAX_STRESS_NODES 1
#define CG_STRESS_NODE_TYPE "c5.xlarge"
/* Which node address cassandgo connects to over SSH. */
enum cg_ssh_address { CG_SSH_PUBLIC, CG_SSH_PRIVATE };
/* Which address nodes gossip over (cassandra.yaml broadcast_address). AUTO
 * (0, the default) = public when an aws cluster spans regions (no VPC
 * peering assumed), private otherwise. */
enum cg_broadcast { CG_BROADCAST_AUTO, CG_BROADCAST_PUBLIC, CG_BROADCAST_PRIVATE };

struct cg_pos {
	int line, col;		/* 1-based; 0 when unknown */
};

struct cg_kv {
	char *key, *value;
	struct cg_pos pos;
};

struct cg_dc {
	char *name;		/* `datacenter` */
	char *region;		/* full region name, e.g. eu-west-1 (a label for local) */
	int nodes;
	int seeds;		/* `nb_seeds_per_dc` */
	char *node_type;	/* instance type (aws); informational for local */
	bool monitoring;	/* `opscenter` / `monitoring`: Prometheus on node 1 */
	char **zones;		/* zone names (full, e.g. eu-west-1a); NULL = provider's */
	int nzones;
	char *ami;		/* NULL = newest Ubuntu 24.04 LTS */
	char *capacity;		/* aws: on-demand (default), spot, spot-or-on-demand */
	int stress_nodes;	/* aws: load nodes of this DC (`cassandgo stress` runs
				 * its client there), 0 = none */
	char *stress_node_type;	/* their instance type (default CG_STRESS_NODE_TYPE) */
	struct cg_pos pos;	/* position of this DC's entry */
};

/* A keyspace declared in `keyspaces:` (mapping form): created with
 * NetworkTopologyStrategy, its replication converged, never dropped. */
struct cg_keyspace {
	char *name;		/* an unquoted CQL name, lowercase, not system* */
	int *rf;		/* replicas per DC, in the order of the cluster's dcs;
				 * 0 = none there. Default: min(3, nodes) in every DC */
	bool durable_writes;	/* default true */
	struct cg_pos pos;	/* of its entry */
};

struct cg_cluster {
	char *name;
	enum cg_provider_kind provider;
	char *cassandra_version;	/* e.g. "5.0.6" */
	int num_tokens;
	char *heap;			/* JVM heap, e.g. "512M" */
	char *ssh_user;
	enum cg_ssh_address ssh_address;
	enum cg_broadcast broadcast;	/* `broadcast_address` */
	char **allowed_cidrs;		/* NULL = CASSANDGO_ALLOWED_CIDRS or own /32 */
	int nallowed_cidrs;
	char *install;			/* "maven", "apt" or "dir:/abs/path"; NULL = provider's default */
	char *maven_mirror;		/* `maven_mirror`: http(s) URL; NULL = Maven Central */
	struct cg_pos maven_mirror_pos;
	char *network;			/* local provider address range, CIDR */
	bool security_off;		/* `security: off`: no TLS, no authentication */
	char *expires;			/* aws: "8h", "3d", "30m", "2026-12-31[THH:MM[:SS]Z]"; NULL: never */
	struct cg_pos security_pos;	/* of `security:`, when given */
	struct cg_kv *cassandra;	/* extra cassandra.yaml settings */
	int ncassandra;
	struct cg_dc *dcs;
	int ndcs;
	struct cg_keyspace *keyspaces;	/* `keyspaces:`, in file order */
	int nkeyspaces;
	struct cg_pos pos;
};

struct cg_config {
	char *path;
	struct cg_cluster *clusters;
	int nclusters;
	uint64_t hash;			/* xxHash of the file's bytes */
};

/*
 * Load and validate path. On error fills err (code CG_EXIT_CONFIG, message
 * "FILE:LINE:COL: ...") and returns -1 with *out untouched.
 */
int cg_config_load(const char *path, struct cg_config **out, struct cg_err *err);
void cg_config_free(struct cg_config *cfg);

/* The cluster called name, or NULL with err filled (listing known names). */
const struct cg_cluster *cg_config_cluster(const struct cg_config *cfg,
					   const char *name, struct cg_err *err);

/*
 * When a cluster whose `expires:` is spec ends, for machines tagged at now:
 * now + the duration ("30m", "8h", "3d"), or the date itself (UTC). Returns
 * 0 with *at (seconds since the epoch), -1 when spec is neither.
 */
int cg_config_expiry(const char *spec, time_t now, time_t *at);

/* Is name a known AWS region (e.g. "eu-west-1")? */
bool cg_config_aws_region_known(const char *name);

#endif
