/*
 * node.h - reach a node of a cluster from what the state recorded: its
 * machine (address, ssh port, host key, base_dir) and its region's keypair
 * (key file), the host key pinned in <cluster_dir>/known_hosts under the
 * machine's alias, exactly as the bootstrap provider logs in. Used by the
 * operator's commands (status, latency, ssh, cqlsh).
 *
 * Ownership: *out sessions are closed with cg_ssh_close; strings are freed
 * by the caller.
 */
#ifndef CG_NODE_H
#define CG_NODE_H

#include "../../planner/model.h"
#include "ssh.h"

/* "DC1.n2", "DC1/2", "DC1.2", "machine.DC1.n2" -> DC name (caller frees)
 * and 1-based node. Returns -1 (err) for anything else. */
int cg_node_parse_name(const char *s, char **dc, int *node, struct cg_err *err);

/* machine.<dc>.n<node> in known, or NULL. */
const struct cg_resource *cg_node_machine(const struct cg_rset *known, const char *dc, int node);
/* key_file of the keypair of m's region, or NULL. */
const char *cg_node_key_file(const struct cg_rset *known, const struct cg_resource *m);
/* Address cassandgo logs into (public or private as c->ssh_address says). */
const char *cg_node_ssh_addr(const struct cg_cluster *c, const struct cg_resource *m);

/*
 * Open a session to machine m (a record of known). connect_ms bounds the
 * retries (0 = 10 s: the node is expected to be up). A host key that differs
 * from the pinned one fails at once.
 */
int cg_node_open(const struct cg_cluster *c, const struct cg_rset *known,
		 const char *known_hosts, const struct cg_resource *m, int connect_ms,
		 struct cg_ssh **out, struct cg_err *err);

/* Run `<base_dir>/bin/cgnode ARGS` (args already shell-safe) on an open
 * session; *out gets stdout. Fails when it does not exit 0. */
int cg_node_cgnode(struct cg_ssh *s, const struct cg_resource *m, const char *args,
		   int timeout_ms, char **out, struct cg_err *err);

#endif
