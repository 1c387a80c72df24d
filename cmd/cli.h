/*
 * cli.h - what every command shares: global options, config and state
 * loading, the confirmation prompt, output helpers. Commands parse their own
 * arguments, call the library, print, and return an exit code (enum
 * cg_exit); only main() exits.
 */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <signal.h>
#include <stdbool.h>
#include "../planner/engine.h"
#include "../providers/registry.h"

struct cg_cli {
	const char *config_path;	/* -c / --config / CASSANDGO_CONFIG */
	const char *state_opt;		/* --state / CASSANDGO_STATE, NULL = default */
	char *state_path;		/* resolved */
	char *state_dir;		/* its directory */
	char *cluster_dir;		/* state_dir/<cluster>, set by cli_env */
	char *config_dir;
	bool color;			/* stdout is a terminal and NO_COLOR unset */
	bool stdin_tty;
	bool stdout_tty;
	volatile sig_atomic_t *interrupted;
	struct cg_config *cfg;
};

struct cg_command {
	const char *name;
	int (*run)(struct cg_cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;		/* full help text */
};

/* Print "Error: msg" once, return err->code. */
int cli_fail(const struct cg_err *err);
/* Usage error for a command: message + hint, returns CG_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_load_config(struct cg_cli *cli, struct cg_err *err);
/* Open the state; create=false and no file yet: *st = NULL, returns 0. */
int cli_open_state(struct cg_cli *cli, bool create, struct cg_state **st, struct cg_err *err);
void cli_env(struct cg_cli *cli, const char *cluster, bool auto_approve, struct cg_env *env);
/* Ask for "yes" on the terminal. */
bool cli_confirm(struct cg_cli *cli, const char *question);
/* --parallelism N (1-1000) into *out; a usage error printed, non-zero, otherwise. */
int cli_parallelism(const char *cmd, const char *arg, int *out);
/* Run an approved plan: back the state up, then apply with live progress
 * on stdout. -1 with err set on failure; *secs is how long the apply ran,
 * -1 when it failed before starting (the backup). */
int cli_apply_plan(struct cg_cli *cli, struct cg_state *st, struct cg_engine *eng,
		   int parallelism, struct cg_exec_result *res, double *secs, struct cg_err *err);
/* Wants --help? Prints the command's usage. */
bool cli_wants_help(const struct cg_command *cmd, int argc, char **argv);
void cli_print(const char *s);
/* Arguments "CLUSTER [--json]" of the read-only commands: 0, or the exit
 * code of a usage error (printed). */
int cli_cluster_json_args(const char *cmd, int argc, char **argv, const char **cluster,
			  bool *json);

extern const struct cg_command cg_commands[];

int cmd_plan(struct cg_cli *cli, int argc, char **argv);
int cmd_apply(struct cg_cli *cli, int argc, char **argv);
int cmd_create(struct cg_cli *cli, int argc, char **argv);
int cmd_destroy(struct cg_cli *cli, int argc, char **argv);
int cmd_gc(struct cg_cli *cli, int argc, char **argv);
int cmd_init_sg(struct cg_cli *cli, int argc, char **argv);
int cmd_init_kp(struct cg_cli *cli, int argc, char **argv);
int cmd_validate(struct cg_cli *cli, int argc, char **argv);
int cmd_state(struct cg_cli *cli, int argc, char **argv);
int cmd_stop(struct cg_cli *cli, int argc, char **argv);
int cmd_start(struct cg_cli *cli, int argc, char **argv);

#endif
