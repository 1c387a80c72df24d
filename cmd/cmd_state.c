/* cmd_state.c - `cassandgo state show|list|rm|unlock`. */
#include "cli.h"
#include "../planner/engine.h"
#include "../providers/registry.h"
#include "../providers/ssh/ssh.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_existing(struct cg_cli *cli, struct cg_state **st, struct cg_err *err)
{
	/* the config only tells where the state is; it need not be valid here */
	if (!cli->state_opt && !cli->state_path) {
		char *dir = cg_dirname(cli->config_path);
		cli->state_path = cg_xasprintf("%s/.cassandgo/state.db", dir);
		cli->state_dir = cg_dirname(cli->state_path);
		free(dir);
	}
	if (cli_open_state(cli, false, st, err) < 0)
		return -1;
	return 0;
}

static int state_show(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage("state", "unknown option");
		json = true;
	}
	if (argc - optind > 1)
		return cli_usage("state", "state show takes at most one CLUSTER");
	struct cg_err err = {0};
	struct cg_state *st;
	if (open_existing(cli, &st, &err) < 0)
		return cli_fail(&err);
	if (!st) {
		if (json)
			printf("{\"clusters\":[]}\n");
		else
			printf("No state at %s: nothing has been applied yet.\n", cli->state_path);
		return CG_EXIT_OK;
	}
	char **names = NULL;
	int n = 0, rc = CG_EXIT_OK;
	if (optind < argc) {
		names = cg_xcalloc(1, sizeof(char *));
		names[0] = cg_xstrdup(argv[optind]);
		n = 1;
	} else if (cg_state_clusters(st, &names, &n, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	struct cg_state_meta meta;
	struct cg_lock_info holder;
	if (cg_state_meta(st, &meta, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	int locked = cg_state_lock_holder(st, &holder, &err);
	struct cg_buf b = {0};
	if (json)
		cg_buf_addf(&b, "{\"lineage\":\"%s\",\"serial\":%lld,\"locked\":%s,\"clusters\":[",
			    meta.lineage, (long long)meta.serial, locked == 1 ? "true" : "false");
	else
		cg_buf_addf(&b, "State %s (lineage %s, serial %lld)%s\n", cli->state_path,
			    meta.lineage, (long long)meta.serial,
			    locked == 1 ? " - LOCKED" : "");
	if (!json && locked == 1)
		cg_buf_addf(&b, "Locked by pid %ld on %s (%s) since %s; lock ID %s\n", holder.pid,
			    holder.host, holder.command, holder.since, holder.id);
	for (int i = 0; i < n; i++) {
		struct cg_rset s;
		cg_rset_init(&s);
		if (cg_state_load(st, names[i], &s, &err) < 0) {
			cg_rset_free(&s);
			cg_buf_free(&b);
			rc = cli_fail(&err);
			goto out;
		}
		if (json) {
			if (i)
				cg_buf_adds(&b, ",");
			cg_rset_render_json(names[i], &s, &b);
		} else {
			cg_buf_adds(&b, "\n");
			cg_rset_render_text(names[i], &s, &b);
		}
		cg_rset_free(&s);
	}
	if (json)
		cg_buf_adds(&b, "]}\n");
	else if (!n)
		cg_buf_adds(&b, "No resources recorded.\n");
	cli_print(b.data);
	cg_buf_free(&b);
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	cg_state_close(st);
	return rc;
}

static int state_list(struct cg_cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage("state", "state list takes no argument");
	struct cg_err err = {0};
	struct cg_state *st;
	if (open_existing(cli, &st, &err) < 0)
		return cli_fail(&err);
	if (!st)
		return CG_EXIT_OK;
	char **names = NULL;
	int n = 0, rc = CG_EXIT_OK;
	if (cg_state_clusters(st, &names, &n, &err) < 0)
		rc = cli_fail(&err);
	for (int i = 0; i < n; i++) {
		struct cg_rset s;
		cg_rset_init(&s);
		if (rc == CG_EXIT_OK && cg_state_load(st, names[i], &s, &err) < 0)
			rc = cli_fail(&err);
		for (int k = 0; k < s.n; k++)
			printf("%s\t%s\t%s\n", names[i], s.v[k].addr, s.v[k].id ? s.v[k].id : "-");
		cg_rset_free(&s);
		free(names[i]);
	}
	free(names);
	cg_state_close(st);
	return rc;
}

static int state_rm(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"cluster", required_argument, NULL, 'C'},
					     {NULL, 0, NULL, 0}};
	const char *cluster = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'C')
			return cli_usage("state", "unknown option");
		cluster = optarg;
	}
	if (optind >= argc)
		return cli_usage("state", "state rm needs at least one ADDRESS");
	struct cg_err err = {0};
	struct cg_state *st;
	struct cg_lock_info lock;
	char **names = NULL;
	int n = 0, rc = CG_EXIT_OK;
	if (open_existing(cli, &st, &err) < 0)
		return cli_fail(&err);
	if (!st) {
		fprintf(stderr, "Error: no state at %s\n", cli->state_path);
		return CG_EXIT_ERROR;
	}
	if (!cluster) {
		if (cg_state_clusters(st, &names, &n, &err) < 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (n != 1) {
			fprintf(stderr, "Error: the state holds %d clusters: say which with "
				"--cluster NAME\n", n);
			rc = CG_EXIT_USAGE;
			goto out;
		}
		cluster = names[0];
	}
	if (cg_state_lock(st, "state rm", &lock, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		int removed = 0;
		if (cg_state_remove(st, cluster, argv[i], NULL, &removed, &err) < 0) {
			rc = cli_fail(&err);
			break;
		}
		if (!removed) {
			fprintf(stderr, "Error: %s is not in the state of cluster %s\n", argv[i], cluster);
			rc = CG_EXIT_ERROR;
			break;
		}
		printf("Forgot %s (%d record%s); it was not destroyed.\n", argv[i], removed,
		       removed == 1 ? "" : "s");
	}
	cg_state_unlock(st, lock.id, &err);
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	cg_state_close(st);
	return rc;
}

static int state_unlock(struct cg_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage("state", "state unlock takes the lock ID");
	struct cg_err err = {0};
	struct cg_state *st;
	if (open_existing(cli, &st, &err) < 0)
		return cli_fail(&err);
	if (!st) {
		fprintf(stderr, "Error: no state at %s\n", cli->state_path);
		return CG_EXIT_ERROR;
	}
	int rc = CG_EXIT_OK;
	if (cg_state_unlock(st, argv[1], &err) < 0)
		rc = cli_fail(&err);
	else
		printf("Unlocked %s.\n", cli->state_path);
	cg_state_close(st);
	return rc;
}

/*
 * state import CLUSTER [--pin-host-keys]: rebuild a lost or damaged state
 * from what the infrastructure provider's tags show (security groups, key
 * pairs, instances), so that destroy (and apply, with the key files) works
 * again. Host keys come from the instances' tags: they are pinned into
 * known_hosts only when asked (--pin-host-keys) or confirmed on a terminal,
 * since they were not seen by this machine when it made them.
 */
static int state_import(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin-host-keys", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	bool pin = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return cli_usage("state", "state import CLUSTER [--pin-host-keys]");
		pin = true;
	}
	if (optind + 1 != argc)
		return cli_usage("state", "state import takes exactly one CLUSTER");
	const char *name = argv[optind];
	struct cg_err err = {0};
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);
	const struct cg_cluster *cl = cg_config_cluster(cli->cfg, name, &err);
	if (!cl)
		return cli_fail(&err);
	struct cg_state *st = NULL;
	if (cli_open_state(cli, true, &st, &err) < 0)
		return cli_fail(&err);
	struct cg_lock_info lock;
	if (cg_state_lock(st, "state import", &lock, &err) < 0) {
		cg_state_close(st);
		return cli_fail(&err);
	}
	struct cg_env env;
	cli_env(cli, name, true, &env);
	env.importing = true;
	struct cg_providers pv = cg_registry_providers(cl);
	struct cg_engine eng;
	int rc = CG_EXIT_OK;
	/* the refresh adopts what the tags say and the state lacks */
	if (cg_engine_open(&eng, cl, &pv, st, &env, CG_KINDS_INFRA, &err) < 0) {
		rc = cli_fail(&err);
		goto unlock;
	}
	if (cg_engine_plan(&eng, true, false, &err) < 0 || cg_engine_record_refresh(&eng, &err) < 0) {
		rc = cli_fail(&err);
		goto close;
	}
	int machines = 0, others = 0, pinned = 0;
	for (int i = 0; i < eng.known.n; i++)
		if (eng.known.v[i].id)
			cg_kind_instance(eng.known.v[i].kind) ? machines++ : others++;
	printf("Imported %s: %d machine%s and %d other resource%s found by their tags.\n", name,
	       machines, machines == 1 ? "" : "s", others, others == 1 ? "" : "s");
	if (machines && !pin && cli->stdin_tty)
		pin = cli_confirm(cli, "Pin the SSH host keys the instances' tags name (this machine "
				  "did not see them made)?");
	char *kh = cg_xasprintf("%s/known_hosts", cli->cluster_dir);
	for (int i = 0; pin && i < eng.known.n; i++) {
		const struct cg_resource *m = &eng.known.v[i];
		const char *hk = cg_kind_instance(m->kind) ? cg_res_get(m, "host_key") : NULL;
		if (!hk || !m->id)
			continue;
		if (cg_mkdir_p(cli->cluster_dir, 0700, &err) < 0 ||
		    cg_ssh_knownhosts_pin(kh, m->id, hk, &err) < 0) {
			rc = cli_fail(&err);
			break;
		}
		pinned++;
	}
	free(kh);
	if (rc == CG_EXIT_OK && pinned)
		printf("Pinned %d host key%s in %s/known_hosts.\n", pinned, pinned == 1 ? "" : "s",
		       cli->cluster_dir);
	else if (rc == CG_EXIT_OK && machines)
		printf("Host keys not pinned (state import --pin-host-keys pins them).\n");
	if (rc == CG_EXIT_OK && others)
		printf("Without this cluster's key files, 'cassandgo destroy %s --refresh=false' "
		       "removes all of it (a refresh sees only key pairs whose private key is here).\n",
		       name);
close:
	cg_engine_close(&eng);
unlock:;
	struct cg_err uerr = {0};
	cg_state_unlock(st, lock.id, &uerr);
	cg_state_close(st);
	return rc;
}

int cmd_state(struct cg_cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("state", "expected a subcommand: show, list, rm, unlock, import");
	const char *sub = argv[1];
	optind = 0;
	if (!strcmp(sub, "show"))
		return state_show(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return state_list(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "rm"))
		return state_rm(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "unlock"))
		return state_unlock(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "import"))
		return state_import(cli, argc - 1, argv + 1);
	return cli_usage("state", "unknown subcommand '%s' (show, list, rm, unlock, import)", sub);
}
