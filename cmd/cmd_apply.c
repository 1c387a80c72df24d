/* cmd_apply.c - `apply`, `destroy`, and the seed tool's `create`, `initSG`,
 * `initKP`: they share one run (lock, plan, confirm, backup, execute). */
#include "cli.h"
#include "ops.h"
#include "planfile.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run_opts {
	const char *cmd;		/* for messages and the lock */
	bool auto_approve;
	bool refresh;
	bool destroy;
	bool creates_only;		/* initSG / initKP */
	int parallelism;
	unsigned kinds;
	const char *planfile;
	double max_cost;		/* USD per hour; < 0: no limit */
};

/* --max-cost-per-hour: the cluster as planned must cost at most that while
 * it runs; a machine without a price cannot be checked, so it refuses too. */
static int check_budget(const struct run_opts *o, const struct cg_plan *plan, struct cg_err *err)
{
	const struct cg_cost *c = &plan->cost;
	if (o->max_cost < 0 || o->destroy || !c->known)
		return 0;	/* no limit, or nothing to pay (local) */
	if (c->nmissing)
		return cg_error(err, CG_EXIT_BUDGET, "cannot check --max-cost-per-hour %.4f: no price "
				"for %s; nothing was changed", o->max_cost, c->missing[0]);
	if (c->per_hour > o->max_cost + 1e-9)
		return cg_error(err, CG_EXIT_BUDGET, "the planned cluster costs %.4f USD per hour "
				"(%.2f per day) while it runs, more than --max-cost-per-hour %.4f; "
				"nothing was changed", c->per_hour, c->per_hour * 24, o->max_cost);
	return 0;
}

static int check_planfile(const struct run_opts *o, const char *name, const struct cg_cli *cli,
			  struct cg_state *st, const struct cg_planfile *pf, struct cg_err *err)
{
	struct cg_state_meta meta = {.serial = 0};
	char ch[17];
	if (strcmp(pf->cluster, name))
		return cg_error(err, CG_EXIT_USAGE, "%s is a plan for cluster %s, not %s",
				o->planfile, pf->cluster, name);
	if (st && cg_state_meta(st, &meta, err) < 0)
		return -1;
	/* a plan made before any state existed fits a state still empty */
	const char *lin = !strcmp(pf->lineage, "-") && meta.serial == 0 ? "-" :
			  (meta.lineage[0] ? meta.lineage : "-");
	if (strcmp(pf->lineage, lin) || pf->serial != meta.serial)
		return cg_error(err, CG_EXIT_ERROR, "saved plan %s is stale: the state changed since "
				"it was made (serial %lld, now %lld); run 'cassandgo plan %s' again",
				o->planfile, pf->serial, (long long)meta.serial, name);
	cg_hash_hex(cli->cfg->hash, ch);
	if (strcmp(pf->config_hash, ch))
		return cg_error(err, CG_EXIT_ERROR, "saved plan %s is stale: %s changed since it was "
				"made; run 'cassandgo plan %s' again", o->planfile, cli->config_path, name);
	return 0;
}

static int run_cluster(struct cg_cli *cli, const char *name, struct run_opts *o)
{
	struct cg_err err = {0};
	struct cg_state *st = NULL;
	struct cg_engine eng;
	struct cg_env env;
	struct cg_lock_info lock;
	struct cg_planfile pf;
	bool locked = false;
	int rc = CG_EXIT_OK;

	memset(&eng, 0, sizeof(eng));
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	const struct cg_cluster *cl = cg_config_cluster(cli->cfg, name, &err);
	if (!cl)
		return cli_fail(&err);
	if (o->planfile) {
		if (cg_planfile_read(o->planfile, &pf, &err) < 0)
			return cli_fail(&err);
		o->kinds = pf.kinds;
		o->destroy = pf.destroy;
		/* the plan was reviewed when it was saved */
		o->auto_approve = true;
	}
	if (!o->auto_approve && !cli->stdin_tty)
		return cli_usage(o->cmd, "stdin is not a terminal, so cassandgo cannot ask for "
				 "confirmation: pass --auto-approve");
	if (cli_open_state(cli, true, &st, &err) < 0)
		return cli_fail(&err);
	char what[256];
	snprintf(what, sizeof(what), "%s %s", o->cmd, name);
	if (cg_state_lock(st, what, &lock, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	locked = true;
	if (o->planfile && check_planfile(o, name, cli, st, &pf, &err) < 0)
		goto fail;
	cli_env(cli, name, o->auto_approve, &env);
	struct cg_providers pv = cg_registry_providers(cl);
	if (cg_engine_open(&eng, cl, &pv, st, &env, o->kinds, &err) < 0 ||
	    cg_engine_plan(&eng, o->refresh, o->destroy, &err) < 0)
		goto fail;
	if (o->creates_only)
		cg_plan_keep_creates(&eng.plan);
	if (o->planfile) {
		char dg[17];
		cg_hash_hex(cg_plan_digest(&eng.plan), dg);
		if (strcmp(dg, pf.digest)) {
			cg_error(&err, CG_EXIT_ERROR, "saved plan %s is stale: what exists changed "
				 "since it was made; run 'cassandgo plan %s' again", o->planfile, name);
			goto fail;
		}
	}

	struct cg_buf b = {0};
	cg_plan_render_text(&eng.plan, cli->color, &b);
	cli_print(b.data);
	cg_buf_free(&b);
	if (eng.plan.parked && !o->creates_only) {
		/* a parked cluster's stopped machines are not drift */
		cg_error(&err, CG_EXIT_ERROR, "cluster %s is parked (cassandgo stop, %s): %s changes "
			 "nothing until 'cassandgo start %s' has started it", name, eng.plan.parked,
			 o->cmd, name);
		goto fail;
	}
	if (check_budget(o, &eng.plan, &err) < 0 || cg_engine_record_refresh(&eng, &err) < 0)
		goto fail;
	if (!eng.plan.n) {
		/* "No changes." was printed by the renderer */
		if (o->destroy && cg_state_set_parked(st, name, NULL, &err) < 0)
			goto fail;
		goto out;
	}
	if (!o->auto_approve) {
		char q[300];
		snprintf(q, sizeof(q), "\nDo you want to %s cluster %s?",
			 o->destroy ? "DESTROY everything of" : "perform these actions on", name);
		if (!cli_confirm(cli, q)) {
			printf("%s cancelled.\n", o->destroy ? "Destroy" : "Apply");
			rc = CG_EXIT_ERROR;
			goto out;
		}
	}
	struct cg_exec_result res;
	double secs;
	if (cli_apply_plan(cli, st, &eng, o->parallelism, &res, &secs, &err) < 0) {
		if (secs < 0)
			goto fail;
		fprintf(stderr, "\nError: %s failed after %.1fs: %s\n", o->cmd, secs, err.msg);
		fprintf(stderr, "Done before the failure: %d added, %d changed, %d destroyed; "
			"the state records all of it (cassandgo state show %s). Run 'cassandgo %s %s' "
			"again to continue from there.\n", res.added, res.changed, res.destroyed,
			name, o->destroy ? "destroy" : "apply", name);
		rc = err.code ? err.code : CG_EXIT_ERROR;
		goto out;
	}
	/* nothing of the cluster is left to be parked */
	if (o->destroy && cg_state_set_parked(st, name, NULL, &err) < 0)
		goto fail;
	if (o->destroy)
		printf("\nDestroy complete! Resources: %d destroyed.\n", res.destroyed);
	else
		printf("\nApply complete! Resources: %d added, %d changed, %d destroyed.\n",
		       res.added, res.changed, res.destroyed);
	if (!o->destroy && !o->creates_only && o->kinds == ~0u)
		ops_after_apply(cli, cl, st);	/* latencies, how to connect, ring (cmd/ops.c) */
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

/* Options shared by apply, destroy, create, initSG, initKP. */
static int parse_run_opts(const char *cmd, int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{"auto-approve", no_argument, NULL, 'y'},
		{"parallelism", required_argument, NULL, 'p'},
		{"refresh", required_argument, NULL, 'r'},
		{"stage", required_argument, NULL, 's'},
		{"max-cost-per-hour", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	int c;
	o->cmd = cmd;
	o->refresh = true;
	o->parallelism = 10;
	o->max_cost = -1;
	if (!o->kinds)
		o->kinds = ~0u;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'y': o->auto_approve = true; break;
		case 'p':
			if (cli_parallelism(cmd, optarg, &o->parallelism))
				return CG_EXIT_USAGE;
			break;
		case 'r':
			if (!strcmp(optarg, "false")) o->refresh = false;
			else if (!strcmp(optarg, "true")) o->refresh = true;
			else return cli_usage(cmd, "--refresh takes true or false, not '%s'", optarg);
			break;
		case 'm': {
			char *end;
			double v = strtod(optarg, &end);
			if (o->destroy || o->creates_only)
				return cli_usage(cmd, "--max-cost-per-hour applies to apply only");
			if (end == optarg || *end || !(v >= 0 && v < 1e6))
				return cli_usage(cmd, "--max-cost-per-hour takes USD per hour such as 2.50, "
						 "not '%s'", optarg);
			o->max_cost = v;
			break;
		}
		case 's':
			if (o->destroy || o->creates_only)
				return cli_usage(cmd, "--stage applies to apply only");
			if (!strcmp(optarg, "infra")) o->kinds = CG_KINDS_INFRA;
			else if (!strcmp(optarg, "install")) o->kinds = CG_KINDS_INSTALL;
			else if (!strcmp(optarg, "all")) o->kinds = ~0u;
			else return cli_usage(cmd, "--stage takes infra, install or all, not '%s'",
					      optarg);
			break;
		default:
			return cli_usage(cmd, "unknown option");
		}
	}
	return 0;
}

int cmd_apply(struct cg_cli *cli, int argc, char **argv)
{
	struct run_opts o = {0};
	int rc = parse_run_opts("apply", argc, argv, &o);
	if (rc)
		return rc;
	if (optind + 1 != argc && optind + 2 != argc)
		return cli_usage("apply", "expected CLUSTER [PLANFILE]");
	if (optind + 2 == argc)
		o.planfile = argv[optind + 1];
	return run_cluster(cli, argv[optind], &o);
}

int cmd_create(struct cg_cli *cli, int argc, char **argv)
{
	struct run_opts o = {0};
	int rc = parse_run_opts("create", argc, argv, &o);
	if (rc)
		return rc;
	if (optind + 1 != argc)
		return cli_usage("create", "expected exactly one CLUSTER");
	o.auto_approve = true;
	return run_cluster(cli, argv[optind], &o);
}

int cmd_destroy(struct cg_cli *cli, int argc, char **argv)
{
	struct run_opts o = {.destroy = true};
	int rc = parse_run_opts("destroy", argc, argv, &o);
	if (rc)
		return rc;
	if (optind + 1 != argc)
		return cli_usage("destroy", "expected exactly one CLUSTER");
	return run_cluster(cli, argv[optind], &o);
}

static int init_kind(struct cg_cli *cli, const char *cmd, unsigned kinds, int argc, char **argv)
{
	struct run_opts base = {.creates_only = true, .kinds = kinds};
	int rc = parse_run_opts(cmd, argc, argv, &base);
	struct cg_err err = {0};
	if (rc)
		return rc;
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	for (int k = optind; k < argc; k++)
		if (!cg_config_cluster(cli->cfg, argv[k], &err))
			return cli_fail(&err);
	int worst = CG_EXIT_OK;
	for (int i = 0; i < cli->cfg->nclusters; i++) {
		const char *name = cli->cfg->clusters[i].name;
		bool wanted = optind == argc;
		for (int k = optind; k < argc; k++)
			if (!strcmp(argv[k], name))
				wanted = true;
		if (!wanted)
			continue;
		struct run_opts o = base;
		o.kinds = kinds;
		printf("== %s\n", name);
		rc = run_cluster(cli, name, &o);
		if (rc && !worst)
			worst = rc;
	}
	return worst;
}

int cmd_init_sg(struct cg_cli *cli, int argc, char **argv)
{
	return init_kind(cli, "initSG", CG_KIND_BIT(CG_KIND_NETWORK), argc, argv);
}

int cmd_init_kp(struct cg_cli *cli, int argc, char **argv)
{
	return init_kind(cli, "initKP", CG_KIND_BIT(CG_KIND_KEYPAIR), argc, argv);
}
