/*
 * chaos.h - the faults of `cassandgo chaos`, one call each, for any command
 * that breaks things on purpose (chaos, a scenario's timeline). Each acts on
 * the recorded nodes of o over their pinned SSH sessions (cgnode chaos-*),
 * appends what every node answered to log ("DC1.n2: killed 4242\n"; log may
 * be NULL) and returns 0, or -1 with err naming what failed. Nodes are named
 * as `ssh` takes them (DC1.n2), groups by DC or zone; an unknown one is a
 * usage error that lists the valid names.
 */
#ifndef CG_CHAOS_H
#define CG_CHAOS_H

#include "ops.h"

int chaos_kill(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err);
int chaos_stop(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err);
/* SIGSTOP now, SIGCONT after seconds (1..3600, sent by the node itself). */
int chaos_pause(const struct ops *o, const char *node, int seconds, struct cg_buf *log,
		struct cg_err *err);
/* The DC's or zone's nodes lose all traffic with every other node. */
int chaos_partition(const struct ops *o, const char *group, struct cg_buf *log,
		    struct cg_err *err);
/* netem delay of ms (1..10000) on the DC's or zone's nodes. */
int chaos_delay(const struct ops *o, const char *group, int ms, struct cg_buf *log,
		struct cg_err *err);
/* Undo every fault on node (NULL or "all": every node; one that fails does
 * not stop the others); Cassandra is started where it is down. */
int chaos_heal(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err);

#endif
