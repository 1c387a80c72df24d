/*
 * scenario.h - `cassandgo run CLUSTER FILE`: load and faults on one
 * timeline. The pure half: the scenario file read (libyaml through
 * yaml_tree.h, every node with its position) and validated completely
 * against the cluster's config before anything runs. Every error is
 * "FILE:LINE:COL: KEY: WHAT; expected ..." (exit code 65), like the
 * config's. cmd/cmd_run.c runs it.
 *
 *   description: a node lost under load     # optional, shown in the report
 *   load:
 *     workload: mixed                       # write | read | mixed (write)
 *     rate: 2000                            # op/s per DC (1000)
 *     duration: 120                         # seconds: 120, 120s or 2m (required)
 *     consistency: LOCAL_QUORUM             # (LOCAL_QUORUM)
 *     dcs: [DC1, DC2]                       # the clients (every DC)
 *   faults:                                 # in any order; fired by time
 *     - {at: 30, kill: DC1.n2}              # kill | stop NODE
 *     - {at: 40, pause: DC2.n1, seconds: 5} # SIGSTOP for 1-3600 s
 *     - {at: 60, heal: DC1.n2}              # heal NODE | all
 *     - {at: 80, partition: DC2}            # partition DC | ZONE
 *     - {at: 90, delay: DC1, ms: 100}       # netem (a kernel with sch_netem)
 *     - {at: 100, heal: all}
 * Every time lies within the load (0 <= at < duration; a pause ends by the
 * end). Whatever the file says, the runner heals every node at the end.
 */
#ifndef CG_PLANNER_SCENARIO_H
#define CG_PLANNER_SCENARIO_H

#include "config.h"
#include "stress.h"

#define CG_SCENARIO_MAX_FAULTS 1000

enum cg_fault_kind { CG_FAULT_KILL, CG_FAULT_STOP, CG_FAULT_PAUSE, CG_FAULT_PARTITION,
		     CG_FAULT_DELAY, CG_FAULT_HEAL };

struct cg_scenario_fault {
	double at_s;		/* seconds after the load started */
	enum cg_fault_kind kind;
	char *target;		/* DC1.n2, a DC or zone, or "all" (heal) */
	int arg;		/* pause: seconds; delay: ms; else 0 */
	struct cg_pos pos;	/* of its entry */
};

struct cg_scenario {
	char *path;
	char *description;	/* NULL when none */
	enum cg_stress_workload workload;
	double rate;		/* op/s per DC */
	int duration_s;
	const char *consistency;	/* canonical (static) */
	char **dcs;		/* the DCs with a client, in the cluster's order */
	int ndcs;
	struct cg_scenario_fault *faults;	/* sorted by time (file order within a second) */
	int nfaults;
};

/* Load and validate path against cluster c. 0, or -1 with err (code 65,
 * "FILE:LINE:COL: ...") and *out untouched. */
int cg_scenario_load(const char *path, const struct cg_cluster *c, struct cg_scenario **out,
		     struct cg_err *err);
void cg_scenario_free(struct cg_scenario *s);

/* "kill", "partition", ... */
const char *cg_fault_name(enum cg_fault_kind k);
/* One line: "kill DC1.n2", "pause DC2.n1 for 5 s", "delay DC1 by 100 ms". */
void cg_fault_label(const struct cg_scenario_fault *f, struct cg_buf *b);

#endif
