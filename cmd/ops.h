/*
 * ops.h - the operator's commands on a running cluster: status, output,
 * latency, ssh, cqlsh, and the report printed at the end of apply. They
 * read the state (never lock it: they change nothing) and reach the nodes
 * over SSH the way the bootstrap provider does (providers/ssh/node.h).
 * What they share is in ops.c; each command is its own cmd_<name>.c.
 */
#ifndef CG_OPS_H
#define CG_OPS_H

#include "cli.h"
#include "../planner/cassconf.h"
#include "../planner/report.h"

/* path made absolute against the working directory (a leading ./ dropped):
 * printed commands and the processes we start must work from anywhere.
 * Caller frees. */
char *ops_abs_path(const char *path);

/* A cluster as recorded: its config, what the state holds, the pinned
 * known_hosts. ops_open fills it; ops_close frees. */
struct ops {
	struct cg_cli *cli;
	const struct cg_cluster *c;
	struct cg_rset known;
	char *known_hosts;
	char *parked;		/* parked (cassandgo stop) since; NULL: not */
};
/* Load config, state records of name. A cluster with no recorded machine is
 * an error telling to run apply. */
int ops_open(struct ops *o, struct cg_cli *cli, const char *name, struct cg_err *err);
/* The same from an already open state (end of apply). */
int ops_open_state(struct ops *o, struct cg_cli *cli, const struct cg_cluster *c,
		   struct cg_state *st, struct cg_err *err);
void ops_close(struct ops *o);
/* "CLUSTER [--json]" then ops_open: 0, or the exit code of what failed
 * (printed; o is then closed). */
int ops_begin(const char *cmd, struct cg_cli *cli, int argc, char **argv, struct ops *o,
	      bool *json);

/* The recorded machine of node NAME (DC1.n2, DC1/2), or NULL with a usage
 * error that lists the recorded nodes. */
const struct cg_resource *ops_node(const struct ops *o, const char *name, struct cg_err *err);
/* The recorded machines of DC or zone `group` in *v (caller frees): their
 * count, or -1 with a usage error that lists the DCs and zones. */
int ops_group(const struct ops *o, const char *group, const struct cg_resource ***v,
	      struct cg_err *err);

/* How to connect: ssh and cqlsh per node, monitoring URL. */
void ops_conn(const struct ops *o, struct cg_conn *out);
/* What the recorded machines cost while they run and have cost since they
 * started (the infrastructure provider's prices; !known when it has none). */
void ops_cost(const struct ops *o, struct cg_cost *out);
/* nodetool status from the first node that answers; *seen_from gets its
 * name (caller frees). */
int ops_ring(const struct ops *o, struct cg_ring *ring, char **seen_from, struct cg_err *err);
/* Nodes the config wants (sum over DCs). */
int ops_expected_nodes(const struct cg_cluster *c);
/* Zone-to-zone and DC-to-DC latencies, measured from the nodes. */
int ops_latency(const struct ops *o, struct cg_latency *out, struct cg_err *err);

/* After a successful apply of the whole cluster: latencies, how to connect,
 * monitoring URL, ring status. Problems are printed as warnings: the apply
 * has succeeded whatever they say. */
void ops_after_apply(struct cg_cli *cli, const struct cg_cluster *c, struct cg_state *st);

int cmd_status(struct cg_cli *cli, int argc, char **argv);
int cmd_output(struct cg_cli *cli, int argc, char **argv);
int cmd_latency(struct cg_cli *cli, int argc, char **argv);
int cmd_ssh(struct cg_cli *cli, int argc, char **argv);
int cmd_cqlsh(struct cg_cli *cli, int argc, char **argv);
int cmd_chaos(struct cg_cli *cli, int argc, char **argv);
int cmd_nodetool(struct cg_cli *cli, int argc, char **argv);
int cmd_stress(struct cg_cli *cli, int argc, char **argv);
int cmd_run(struct cg_cli *cli, int argc, char **argv);

#endif
