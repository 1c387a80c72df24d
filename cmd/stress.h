/*
 * stress.h - the load run shared by `stress` and `run` (cmd_stress.c):
 * latte clients per DC, their live lines, the results folder. `run`
 * (cmd_run.c) adds its timeline through the hooks.
 */
#ifndef CG_CMD_STRESS_H
#define CG_CMD_STRESS_H

#include "ops.h"
#include "../planner/stress.h"

struct stress_opts {
	const char *cluster;
	char **dcs;		/* NULL = every DC; freed by stress_main */
	int ndcs;
	enum cg_stress_workload workload;
	double rate;
	int duration;
	const char *consistency;
	bool json;
};

/* What `run` does around the load; every hook may be NULL. */
struct stress_hooks {
	void *arg;
	/* the clients are running (ops: the cluster as recorded) */
	int (*started)(void *arg, const struct ops *ops, struct cg_err *err);
	/* about twice a second while they run: load_start is when the load
	 * began (seconds since the epoch, from the clients' first samples; 0
	 * until one came); lines added to `above` are printed above the live
	 * lines */
	void (*tick)(void *arg, double load_start, struct cg_buf *above);
	/* the clients have ended (or were stopped): called whatever happened
	 * once started was; fills the faults and the end of the run in *sr */
	void (*finished)(void *arg, const struct ops *ops, bool interrupted,
			 struct cg_stress_run *sr);
};

/* The whole load run with o (o->dcs checked against the config here). */
int stress_main(struct cg_cli *cli, struct stress_opts *o, const struct stress_hooks *h);

/* Seconds since the epoch, with the fraction. */
double stress_wall_now(void);

#endif
