/*
 * cmd_park.c - `stop` and `start`: parking a cluster (planner/park.h).
 *
 * stop: the state's parked mark first (before anything is touched), then
 * the plan of cg_park_plan through the executor: every node drained and
 * stopped, then every machine powered off. start: the cluster's ordinary
 * plan (powered-off machines started, what depends on their addresses
 * rendered again, Cassandra started seeds first, the ring verified), and
 * the mark removed only when all of it succeeded. Both are journaled like
 * apply, so a run killed half-way is finished by the next stop or start,
 * and plan/apply leave the cluster alone while it is marked.
 */
#include "cli.h"
#include "ops.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct park_opts {
	const char *cmd;
	bool auto_approve;
	int parallelism;
	unsigned kinds;			/* start --stage infra: the machines only */
};

static int park_args(const char *cmd, int argc, char **argv, struct park_opts *o,
		     const char **cluster)
{
	static const struct option opts[] = {
		{"auto-approve", no_argument, NULL, 'y'},
		{"parallelism", required_argument, NULL, 'p'},
		{"stage", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;
	o->cmd = cmd;
	o->parallelism = 10;
	o->kinds = ~0u;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'y': o->auto_approve = true; break;
		case 'p':
			if (cli_parallelism(cmd, optarg, &o->parallelism))
				return CG_EXIT_USAGE;
			break;
		case 's':
			/* a cluster applied with --stage infra has nothing to drain
			 * or start but its machines */
			if (strcmp(cmd, "start"))
				return cli_usage(cmd, "--stage applies to start only");
			if (!strcmp(optarg, "infra")) o->kinds = CG_KINDS_INFRA;
			else if (!strcmp(optarg, "all")) o->kinds = ~0u;
			else return cli_usage(cmd, "--stage takes infra or all, not '%s'", optarg);
			break;
		default: return cli_usage(cmd, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cmd, "expected exactly one CLUSTER");
	*cluster = argv[optind];
	return 0;
}

static int park_run(struct cg_cli *cli, const char *name, struct park_opts *o, bool stop)
{
	struct cg_err err = {0};
	struct cg_state *st = NULL;
	struct cg_engine eng;
	struct cg_env env;
	struct cg_lock_info lock;
	bool locked = false;
	int rc = CG_EXIT_OK;

	memset(&eng, 0, sizeof(eng));
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	const struct cg_cluster *cl = cg_config_cluster(cli->cfg, name, &err);
	if (!cl)
		return cli_fail(&err);
	if (!o->auto_approve && !cli->stdin_tty)
		return cli_usage(o->cmd, "stdin is not a terminal, so cassandgo cannot ask for "
				 "confirmation: pass --auto-approve");
	if (cli_open_state(cli, false, &st, &err) < 0)
		return cli_fail(&err);
	if (!st) {
		fprintf(stderr, "Error: nothing is recorded for cluster %s (no state at %s): "
			"run 'cassandgo apply %s' first\n", name, cli->state_path, name);
		return CG_EXIT_ERROR;
	}
	char what[256];
	snprintf(what, sizeof(what), "%s %s", o->cmd, name);
	if (cg_state_lock(st, what, &lock, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	locked = true;
	cli_env(cli, name, o->auto_approve, &env);
	struct cg_providers pv = cg_registry_providers(cl);
	if (cg_engine_open(&eng, cl, &pv, st, &env, o->kinds, &err) < 0)
		goto fail;
	eng.park = stop ? CG_PARK_STOP : CG_PARK_START;
	if (cg_engine_plan(&eng, true, false, &err) < 0)
		goto fail;
	bool machines = false;
	for (int i = 0; i < eng.recorded.n; i++)
		machines |= eng.recorded.v[i].kind == CG_KIND_MACHINE;
	if (!machines) {
		cg_error(&err, CG_EXIT_ERROR, "cluster %s has no machine recorded: nothing to %s "
			 "(run 'cassandgo apply %s')", name, o->cmd, name);
		goto fail;
	}
	if (cg_engine_record_refresh(&eng, &err) < 0)
		goto fail;
	if (!eng.plan.n) {
		if (stop) {
			char since[32];
			cg_iso8601(cg_wall_s(), since);
			if (!eng.parked && cg_state_set_parked(st, name, since, &err) < 0)
				goto fail;
			printf("Cluster %s is parked%s%s: every node is stopped, every machine "
			       "powered off.\n", name, eng.parked ? " since " : "",
			       eng.parked ? eng.parked : "");
		} else {
			if (eng.parked && cg_state_set_parked(st, name, NULL, &err) < 0)
				goto fail;
			printf("Cluster %s runs: nothing to start.\n", name);
		}
		struct cg_buf b = {0};
		cg_cost_render_text(&eng.plan.cost, &b);
		if (b.data)
			cli_print(b.data);
		cg_buf_free(&b);
		goto out;
	}
	struct cg_buf b = {0};
	cg_plan_render_text(&eng.plan, cli->color, &b);
	cli_print(b.data);
	cg_buf_free(&b);
	if (!o->auto_approve) {
		char q[300];
		snprintf(q, sizeof(q), stop ? "\nDo you want to park cluster %s (drain and stop every "
			 "node, then power its machines off)?" : "\nDo you want to start cluster %s?", name);
		if (!cli_confirm(cli, q)) {
			printf("%s cancelled.\n", stop ? "Stop" : "Start");
			rc = CG_EXIT_ERROR;
			goto out;
		}
	}
	/* the intent before the world changes: a stop killed half-way leaves
	 * the cluster parked, and plan/apply leave it alone */
	if (stop && !eng.parked) {
		char since[32];
		cg_iso8601(cg_wall_s(), since);
		if (cg_state_set_parked(st, name, since, &err) < 0)
			goto fail;
	}
	struct cg_exec_result res;
	double secs;
	if (cli_apply_plan(cli, st, &eng, o->parallelism, &res, &secs, &err) < 0) {
		if (secs < 0)
			goto fail;
		fprintf(stderr, "\nError: %s failed after %.1fs: %s\n", o->cmd, secs, err.msg);
		fprintf(stderr, "The state records what was done, and cluster %s stays parked. "
			"Run 'cassandgo %s %s' again to go on from there.\n", name, o->cmd, name);
		rc = err.code ? err.code : CG_EXIT_ERROR;
		goto out;
	}
	if (stop) {
		int drained = 0, off = 0;
		for (int i = 0; i < eng.plan.n; i++) {
			drained += eng.plan.v[i].kind == CG_KIND_SERVICE;
			off += cg_kind_instance(eng.plan.v[i].kind);
		}
		printf("\nStop complete! Cluster %s is parked: %d node%s drained and stopped, %d "
		       "machine%s powered off (their disks keep the data).\n"
		       "'cassandgo start %s' starts it again.\n", name, drained,
		       drained == 1 ? "" : "s", off, off == 1 ? "" : "s", name);
		goto out;
	}
	if (cg_state_set_parked(st, name, NULL, &err) < 0)
		goto fail;
	printf("\nStart complete! Cluster %s runs: %d added, %d changed, %d destroyed.\n", name,
	       res.added, res.changed, res.destroyed);
	if (o->kinds == ~0u)
		ops_after_apply(cli, cl, st);
	goto out;
fail:
	rc = cli_fail(&err);
out:
	cg_engine_close(&eng);
	if (locked) {
		struct cg_err uerr = {0};
		if (cg_state_unlock(st, lock.id, &uerr) < 0)
			fprintf(stderr, "Warning: %s\n", uerr.msg);
	}
	if (st)
		cg_state_close(st);
	return rc;
}

int cmd_stop(struct cg_cli *cli, int argc, char **argv)
{
	struct park_opts o = {0};
	const char *cluster = NULL;
	int rc = park_args("stop", argc, argv, &o, &cluster);
	return rc ? rc : park_run(cli, cluster, &o, true);
}

int cmd_start(struct cg_cli *cli, int argc, char **argv)
{
	struct park_opts o = {0};
	const char *cluster = NULL;
	int rc = park_args("start", argc, argv, &o, &cluster);
	return rc ? rc : park_run(cli, cluster, &o, false);
}
