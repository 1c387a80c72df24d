/* cli.c - helpers shared by the commands (see cli.h). */
#include "cli.h"
#include "progress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail(const struct cg_err *err)
{
	fprintf(stderr, "Error: %s\n", err->msg[0] ? err->msg : "failed");
	return err->code ? err->code : CG_EXIT_ERROR;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "Error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'cassandgo %s --help' for usage.\n", cmd);
	return CG_EXIT_USAGE;
}

void cli_print(const char *s)
{
	fputs(s, stdout);
	fflush(stdout);
}

int cli_load_config(struct cg_cli *cli, struct cg_err *err)
{
	if (cli->cfg)
		return 0;
	if (cg_config_load(cli->config_path, &cli->cfg, err) < 0)
		return -1;
	if (!cli->state_path) {
		if (cli->state_opt) {
			cli->state_path = cg_xstrdup(cli->state_opt);
		} else {
			char *dir = cg_dirname(cli->config_path);
			cli->state_path = cg_xasprintf("%s/.cassandgo/state.db", dir);
			free(dir);
		}
		cli->state_dir = cg_dirname(cli->state_path);
	}
	return 0;
}

int cli_open_state(struct cg_cli *cli, bool create, struct cg_state **st, struct cg_err *err)
{
	*st = NULL;
	if (!cli->state_path) {
		/* state commands work without a config when --state is given */
		cli->state_path = cg_xstrdup(cli->state_opt ? cli->state_opt : ".cassandgo/state.db");
		cli->state_dir = cg_dirname(cli->state_path);
	}
	if (!create && !cg_state_exists(cli->state_path))
		return 0;
	return cg_state_open(st, cli->state_path, create, err);
}

static bool confirm_cb(void *ui, const char *question)
{
	return cli_confirm(ui, question);
}

void cli_env(struct cg_cli *cli, const char *cluster, bool auto_approve, struct cg_env *env)
{
	free(cli->cluster_dir);
	cli->cluster_dir = cg_xasprintf("%s/%s", cli->state_dir, cluster);
	memset(env, 0, sizeof(*env));
	if (!cli->config_dir)
		cli->config_dir = cg_dirname(cli->config_path);
	env->config_dir = cli->config_dir;
	env->state_dir = cli->state_dir;
	env->cluster_dir = cli->cluster_dir;
	env->interactive = cli->stdin_tty;
	env->auto_approve = auto_approve;
	env->confirm = confirm_cb;
	env->ui = cli;
	env->interrupted = cli->interrupted;
}

bool cli_confirm(struct cg_cli *cli, const char *question)
{
	if (!cli->stdin_tty)
		return false;
	printf("%s\n  Only 'yes' will be accepted: ", question);
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return !strcmp(line, "yes");
}

bool cli_wants_help(const struct cg_command *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(cmd->usage, stdout);
			return true;
		}
	}
	return false;
}

int cli_cluster_json_args(const char *cmd, int argc, char **argv, const char **cluster,
			  bool *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	*json = false;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return cli_usage(cmd, "unknown option");
		*json = true;
	}
	if (optind + 1 != argc)
		return cli_usage(cmd, "expected CLUSTER [--json]");
	*cluster = argv[optind];
	return 0;
}

int cli_apply_plan(struct cg_cli *cli, struct cg_state *st, struct cg_engine *eng,
		   int parallelism, struct cg_exec_result *res, double *secs, struct cg_err *err)
{
	*secs = -1;
	char *backup = NULL;
	if (cg_state_backup(st, &backup, err) < 0)
		return -1;
	free(backup);
	printf("\n");
	int64_t t0 = cg_now_ms();
	struct cg_progress *prog = cg_progress_start(&eng->plan, &eng->known, stdout,
						     cli->stdout_tty, cli->color);
	int rc = cg_engine_apply(eng, parallelism, cg_progress_event, prog, res, err);
	cg_progress_finish(prog);
	*secs = (double)(cg_now_ms() - t0) / 1000.0;
	return rc < 0 ? -1 : 0;
}

int cli_parallelism(const char *cmd, const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 1 || v > 1000)
		return cli_usage(cmd, "--parallelism takes a number from 1 to 1000, not '%s'", arg);
	*out = (int)v;
	return 0;
}
