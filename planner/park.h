/*
 * park.h - parking a cluster (cassandgo stop / start): which machines are
 * powered off, and the plan of a stop. Pure: no I/O.
 *
 * A stop drains every running node and stops its Cassandra (service.*
 * updated to running = "false"), then powers every machine off (machine.*
 * updated to power = "off": an EC2 instance stopped with its EBS volume, a
 * local node's processes ended with its namespace and files kept). The
 * state's parked mark (cg_state_set_parked) says the operator wants it so;
 * a start is the ordinary plan of the cluster, in which a powered-off
 * machine is started and what depends on its addresses is known only after
 * (plan.c).
 */
#ifndef CG_PARK_H
#define CG_PARK_H

#include <stdbool.h>
#include "plan.h"

/* Is machine m powered off: its power attribute says "off", or (an instance
 * stopped behind our back) its state is stopped or stopping? */
bool cg_park_machine_off(const struct cg_resource *m);

/*
 * The plan of `cassandgo stop` from what exists (known: the refresh merged
 * with the records; recorded: the state's records, for nodes the refresh
 * could not ask). Every running service is drained and stopped, then every
 * machine not yet off is powered off (after every service). A node whose
 * machine runs but which did not answer the refresh is drained too (its
 * recorded service), so an unreachable node fails the stop instead of being
 * powered off undrained. Nothing to do: an empty plan.
 */
int cg_park_plan(const char *cluster, const struct cg_rset *known, const struct cg_rset *recorded,
		 struct cg_plan *plan, struct cg_err *err);

/* The note of a plan on a parked cluster (since: when it was parked): how
 * many machines are off, and which command goes on. */
void cg_park_note(struct cg_plan *plan, const char *since, const struct cg_rset *known);

#endif
