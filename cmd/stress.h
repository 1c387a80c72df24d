/*
 * stress.h - the load run shared by `stress` and `run` (cmd_stress.c):
 * latte clients per DC, their live lines, the results folder. `run`
 * (cmd_run.c) adds its timeline through the hooks.
 */
#ifndef CG_CMD_STRESS_H
#define CG_CMD_STRESS_H

#include <sys/types.h>
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

/*
 * AWS: a DC's client on its load node (loader.<dc>.n1), stress_aws.c.
 * prepare: latte sent when the node's copy differs (by SHA-256), a private
 * run directory with the script and the CA (ca NULL: security off); an
 * error names the config change when the DC has no load node.
 * spawn: argv (the load node's paths) run there in the run directory, the
 * password on the remote shell's stdin into latte's environment (user
 * NULL: none); stdout and stderr on *fd; a local child in a process group
 * of its own carries the session, its exit code latte's (255: SSH failed).
 * fetch: names[0..n) of the run directory into local_dir (0600; absent
 * ones skipped). cleanup: the run directory removed.
 */
struct stress_loader {
	const struct cg_resource *m;	/* the load node's record (ops->known's) */
	char *latte;			/* latte's path on it */
	char *dir;			/* the run directory on it */
	bool prepared;			/* the run directory exists */
};
int stress_loader_prepare(const struct ops *ops, const char *dc, const char *latte,
			  const char *script, const char *ca, const char *stamp,
			  struct stress_loader *out, struct cg_err *err);
pid_t stress_loader_spawn(const struct ops *ops, const struct stress_loader *l,
			  char *const argv[], const char *user, const char *password, int *fd,
			  struct cg_err *err);
int stress_loader_fetch(const struct ops *ops, const struct stress_loader *l,
			const char *const names[], int n, const char *local_dir, struct cg_err *err);
int stress_loader_cleanup(const struct ops *ops, struct stress_loader *l, struct cg_err *err);
void stress_loader_free(struct stress_loader *l);

/* The whole load run with o (o->dcs checked against the config here). */
int stress_main(struct cg_cli *cli, struct stress_opts *o, const struct stress_hooks *h);

/* Seconds since the epoch, with the fraction. */
double stress_wall_now(void);

#endif
