/*
 * bootstrap.h - the SSH bootstrap provider: turns machines into Cassandra
 * nodes and the nodes into one ring (kinds install, config, service, ring).
 *
 * Every action opens its own SSH session to its node (the executor runs
 * several at once); refresh probes all machines with a bounded pool of
 * threads. The node control script providers/ssh/cgnode is compiled into
 * the library and uploaded to <base_dir>/bin/cgnode when its hash differs.
 *
 * Environment knobs (seconds): CASSANDGO_SSH_TIMEOUT (connect while a
 * machine boots, 300), CASSANDGO_START_TIMEOUT (Cassandra serving CQL, 180),
 * CASSANDGO_RING_TIMEOUT (ring healthy, 300), CASSANDGO_INSTALL_TIMEOUT
 * (1200), CASSANDGO_REFRESH_TIMEOUT (connect during refresh, 10),
 * CASSANDGO_DECOMMISSION_TIMEOUT (3600); CASSANDGO_DECOMMISSION_FORCE=1
 * passes --force when fewer nodes than a keyspace's RF would remain.
 */
#ifndef CG_BOOTSTRAP_H
#define CG_BOOTSTRAP_H

#include <stddef.h>
#include "../provider.h"

extern const struct cg_provider_ops cg_provider_bootstrap_ssh;

/* The embedded node control script (generated at build time). */
extern const unsigned char cg_cgnode_script[];
extern const size_t cg_cgnode_script_len;
/* The node-side CQL client cgnode runs (providers/ssh/CgCql.java). */
extern const unsigned char cg_cgcql_source[];
extern const size_t cg_cgcql_source_len;

/*
 * The OpenSSH command that logs into machine m the way cassandgo does: the
 * cluster's key, the cluster's known_hosts with the machine's alias
 * (HostKeyAlias), strict checking, nothing read from or written to ~/.ssh.
 * key_file is keypair.<region>'s; known_hosts is <cluster_dir>/known_hosts.
 * Every variable part is shell-quoted. Caller frees; NULL when m has no
 * address.
 */
char *cg_boot_ssh_cmdline(const struct cg_cluster *c, const char *known_hosts,
			  const struct cg_resource *m, const char *key_file);

/* --- pure helpers, exposed for the unit tests ------------------------------ */

/* `'<cgnode_path>' 'ARG' ...`: the one builder of commands run on a node;
 * every argument is single-quoted. args ends with NULL. Caller frees. */
char *cg_boot_cgnode_cmdline(const char *cgnode_path, const char *const *args);

/* Value of key in `cgnode status` output ("key=value" lines); NULL when
 * absent. Caller frees. */
char *cg_boot_status_get(const char *status, const char *key);

/*
 * Per-node share of its DC's token ring from `nodetool ring` output: for
 * every node, the sum of the ranges ending at its tokens, where ranges are
 * taken between consecutive tokens of the same DC (what a keyspace with one
 * replica in that DC gives each node). addrs[n] in, shares[n] out (0..1;
 * -1 when the address has no token). Returns the number of tokens parsed.
 */
int cg_boot_ring_shares(const char *ring_text, const char *const *addrs, int n,
			double *shares);

#endif
