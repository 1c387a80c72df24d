/* cmd_plan.c - `cassandgo plan`. */
#include "cli.h"
#include "../providers/ssh/ssh.h"
#include "planfile.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_plan(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"detailed-exitcode", no_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'},
		{"refresh", required_argument, NULL, 'r'},
		{"destroy", no_argument, NULL, 'D'},
		{"stage", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, detailed = false, refresh = true, destroy = false;
	const char *out = NULL;
	unsigned kinds = ~0u;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'd': detailed = true; break;
		case 'o': out = optarg; break;
		case 'D': destroy = true; break;
		case 'r':
			if (!strcmp(optarg, "false")) refresh = false;
			else if (!strcmp(optarg, "true")) refresh = true;
			else return cli_usage("plan", "--refresh takes true or false, not '%s'", optarg);
			break;
		case 's':
			if (!strcmp(optarg, "infra")) kinds = CG_KINDS_INFRA;
			else if (!strcmp(optarg, "install")) kinds = CG_KINDS_INSTALL;
			else if (!strcmp(optarg, "all")) kinds = ~0u;
			else return cli_usage("plan", "--stage takes infra, install or all, not '%s'",
					      optarg);
			break;
		default: return cli_usage("plan", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("plan", "expected exactly one CLUSTER");
	const char *name = argv[optind];

	struct cg_err err = {0};
	struct cg_state *st = NULL;
	struct cg_engine eng;
	struct cg_env env;
	int rc;

	memset(&eng, 0, sizeof(eng));
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	const struct cg_cluster *cl = cg_config_cluster(cli->cfg, name, &err);
	if (!cl)
		return cli_fail(&err);
	if (cli_open_state(cli, false, &st, &err) < 0)
		return cli_fail(&err);
	cli_env(cli, name, false, &env);
	struct cg_providers pv = cg_registry_providers(cl);
	if (cg_engine_open(&eng, cl, &pv, st, &env, kinds, &err) < 0 ||
	    cg_engine_plan(&eng, refresh, destroy, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	struct cg_buf b = {0};
	if (json)
		cg_plan_render_json(&eng.plan, &b);
	else
		cg_plan_render_text(&eng.plan, cli->color, &b);
	cli_print(b.data);
	cg_buf_free(&b);
	if (out) {
		if (cg_planfile_write(out, cli->cfg, st, &eng.plan, kinds, destroy, &err) < 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (!json) {
			char *q = cg_ssh_quote(out);
			printf("\nSaved the plan to %s. To apply exactly it: cassandgo apply %s %s\n",
			       out, name, q);
			free(q);
		}
	}
	rc = detailed && eng.plan.n ? CG_EXIT_CHANGES : CG_EXIT_OK;
out:
	cg_engine_close(&eng);
	if (st)
		cg_state_close(st);
	return rc;
}
