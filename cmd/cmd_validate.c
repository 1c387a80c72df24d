/* cmd_validate.c - `cassandgo validate [CLUSTER]`: offline config check. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_validate(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct cg_err err = {0};
	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage("validate", "unknown option");
	if (argc - optind > 1)
		return cli_usage("validate", "expected at most one CLUSTER");
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	for (int i = 0; i < cli->cfg->nclusters; i++) {
		const struct cg_cluster *c = &cli->cfg->clusters[i];
		if (optind < argc && strcmp(argv[optind], c->name))
			continue;
		int nodes = 0;
		for (int d = 0; d < c->ndcs; d++)
			nodes += c->dcs[d].nodes;
		printf("%s: %s, %d DC%s, %d nodes (", c->name,
		       c->provider == CG_PROVIDER_AWS ? "aws" : "local", c->ndcs,
		       c->ndcs == 1 ? "" : "s", nodes);
		for (int d = 0; d < c->ndcs; d++)
			printf("%s%s %s x%d", d ? ", " : "", c->dcs[d].name, c->dcs[d].region,
			       c->dcs[d].nodes);
		printf(")\n");
	}
	if (optind < argc && !cg_config_cluster(cli->cfg, argv[optind], &err))
		return cli_fail(&err);
	printf("%s is valid.\n", cli->config_path);
	return CG_EXIT_OK;
}
