/*
 * cassconf.h - what runs on a node, rendered by the tool (pure functions):
 * cassandra.yaml, cassandra-rackdc.properties, the node control script's
 * environment (JVM flags, heap, lib dir), balanced initial tokens, and the
 * parser of `nodetool status`.
 *
 * Node layout (every provider): <base_dir>/bin/cgnode (node control script),
 * <base_dir>/conf/{cassandra.yaml,cassandra-rackdc.properties,cgnode.env,
 * logback.xml}, <base_dir>/data, <base_dir>/logs.
 *
 * With security on (the default) the node's TLS files live in conf/tls/:
 * node.pem (its key then its certificate, 0600) and ca.crt (the cluster's
 * CA certificate); the bootstrap provider issues and uploads them.
 *
 * Ownership: render fills *out with heap strings; cg_node_files_free frees.
 */
#ifndef CG_CASSCONF_H
#define CG_CASSCONF_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "model.h"

#define CG_TLS_NODE_PEM "conf/tls/node.pem"
#define CG_TLS_CA_PEM   "conf/tls/ca.crt"

/*
 * How far a node's security is on. A running cluster changes it one step at
 * a time, every node restarted at one step before any moves to the next, so
 * that any two nodes of the ring always understand each other: TLS is
 * accepted beside plaintext before anyone sends it, and required only once
 * everyone sends it (FACTS.md: `optional`).
 *   OFF     no TLS, no authentication
 *   ACCEPT  certificates in place; 7000 and 9042 accept TLS and plaintext;
 *           nodes still send plaintext; no authentication
 *   SEND    as ACCEPT, but nodes send TLS to each other
 *   ON      TLS required everywhere, passwords and roles (the default)
 */
enum cg_security { CG_SEC_OFF, CG_SEC_ACCEPT, CG_SEC_SEND, CG_SEC_ON };

/* "off", "accept", "send", "on"; cg_cassconf_security_parse: -1 if none. */
const char *cg_cassconf_security_name(enum cg_security s);
int cg_cassconf_security_parse(const char *name);

struct cg_node_spec {
	const struct cg_cluster *cluster;
	int dc_index;			/* 0-based index of the DC in cluster->dcs */
	int node;			/* 1-based node index in its DC */
	const char *address;		/* listen / rpc address */
	const char *broadcast;		/* broadcast address; NULL = address */
	const char *rack;		/* zone */
	const char *base_dir;		/* node directory on the machine */
	const char *lib_dir;		/* Cassandra jars on the machine */
	const char *run_user;		/* account Cassandra runs as; NULL = "cassandra" */
	enum cg_security security;	/* cg_cassconf_spec: ON, or OFF with `security: off` */
	char **seeds;			/* seed addresses, every DC */
	int nseeds;
	bool new_cluster;		/* initial_token + auto_bootstrap: false */
	bool rebuild;			/* a DC added to a running ring: the
					 * allocator's tokens, auto_bootstrap:
					 * false (its data comes from nodetool
					 * rebuild once keyspaces name the DC) */
	int racks;			/* distinct zones of the DC's known machines; 0 = unknown */
};

/*
 * The seed list is kept apart from the hash: a running node takes a new
 * one without a restart (`nodetool reloadseeds` re-reads cassandra.yaml),
 * so a change of the seeds alone must not change the hash that decides
 * restarts. `hash` covers the four files with the value of seed_provider's
 * `seeds` left out; `seeds` is that value ("10.0.0.1:7000,10.0.1.1:7000").
 */
struct cg_node_files {
	char *cassandra_yaml;
	char *rackdc;
	char *env;			/* cgnode.env: shell variables */
	char *logback;
	char *seeds;			/* the seed list as written in cassandra.yaml */
	uint64_t hash;			/* xxHash of all of the above but the seeds */
};

int cg_cassconf_render(const struct cg_node_spec *s, struct cg_node_files *out,
		       struct cg_err *err);
void cg_node_files_free(struct cg_node_files *f);

/* The hash cg_cassconf_render would give, when the node's own inputs are
 * known but some seed's address is not yet (the hash does not depend on
 * them): the seed list may be partial or empty. */
int cg_cassconf_hash(const struct cg_node_spec *s, uint64_t *hash, struct cg_err *err);

/* The seed list as cassandra.yaml holds it (s->seeds with the storage
 * port), the `seeds` attribute of a config resource. Caller frees. */
char *cg_cassconf_seed_list(const struct cg_node_spec *s);

/*
 * Fill *s for node (dc_index, node) from the known resources (machine.*
 * attributes private_ip, public_ip, zone, base_dir, lib_dir, run_user). Returns 1 when
 * every address is known (the config can be rendered), 0 when some is known
 * only after apply, -1 on error. Strings in *s point into known or are owned
 * by *s: release with cg_cassconf_spec_clear.
 */
int cg_cassconf_spec(const struct cg_cluster *c, int dc_index, int node,
		     const struct cg_rset *known, bool new_cluster,
		     struct cg_node_spec *s, struct cg_err *err);
void cg_cassconf_spec_clear(struct cg_node_spec *s);

/*
 * A config's `mode` (planner/model.c): "initial" (a new ring: precomputed
 * tokens, nothing to stream), "join" (bootstraps its share from the ring),
 * "rebuild" (a node of a DC added to a running ring: starts empty, its data
 * streamed by nodetool rebuild later). Sets s->new_cluster and s->rebuild;
 * cg_cassconf_mode_new tells the new_cluster argument of cg_cassconf_spec.
 */
#define CG_MODE_INITIAL "initial"
#define CG_MODE_JOIN "join"
#define CG_MODE_REBUILD "rebuild"
bool cg_cassconf_mode_new(const char *mode);
void cg_cassconf_mode_set(struct cg_node_spec *s, const char *mode);

/* Is node (1-based) a seed of its DC? (the first nb_seeds_per_dc nodes, which
 * the round-robin placement spreads over zones) */
bool cg_cassconf_is_seed(const struct cg_dc *dc, int node);

/* Balanced initial tokens for node (1-based) of a DC of `nodes` nodes:
 * comma-separated, num_tokens of them (FACTS.md formula). Caller frees. */
char *cg_tokens_initial(int dc_index, int nodes, int node, int num_tokens);

/* nodetool status */
struct cg_ring_node {
	char status;			/* U, D, ? */
	char state;			/* N, L, J, M */
	char *dc, *address, *load, *host_id, *rack;
	int tokens;
	double owns;			/* percent; -1 when "?" */
};
struct cg_ring {
	struct cg_ring_node *v;
	int n;
};
int cg_nodetool_status_parse(const char *text, struct cg_ring *out, struct cg_err *err);
/* `nodetool describecluster`: how many schema versions its "Schema
 * versions:" section lists (1: the cluster agrees) and how many nodes of
 * them are UNREACHABLE; -1 when there is no such section. */
int cg_nodetool_schema_parse(const char *text, int *unreachable);
void cg_ring_free(struct cg_ring *r);

/* `nodetool netstats`: what a node receives (a rebuild's progress), summed
 * over its stream sessions; 0 when it lists any, -1 otherwise. */
struct cg_receiving {
	long long files, files_done, bytes, bytes_done;
};
int cg_nodetool_receiving_parse(const char *text, struct cg_receiving *r);

/* `nodetool rebuild` refused because an earlier one left its progress
 * ("Discovered existing bootstrap data ... Found: [FetchReplica{local=
 * Full(/IP:PORT,(A,B]), ...}, ...]. Fully available: [(A,B], ...]"): 1 when
 * every range it would fetch is fully available (the earlier rebuild, left
 * running by a stopped apply, finished), 0 when some is not, -1 when text
 * is not that refusal. */
int cg_nodetool_rebuild_done(const char *text);

/* A DC's check (datacenter.<dc>): how many tokens of src (read first,
 * ascending, through an old DC) dst (read after, through the new DC, up to
 * limit rows) lacks. Rows written in between only add to dst; a dst that
 * hit its limit is compared up to its last token. */
int cg_cassconf_tokens_missing(const long long *src, int ns, const long long *dst, int nd,
			       int limit);

#endif
