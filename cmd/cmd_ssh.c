/* cmd_ssh.c - `ssh CLUSTER NODE [CMD...]` and `cqlsh CLUSTER [NODE]`: run the
 * very commands `output` prints (the system's ssh with the cluster's key and
 * pinned known_hosts), replacing this process. */
#include "ops.h"
#include "../providers/ssh/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The connection info of NODE (NULL = the first recorded node). */
static const struct cg_conn_node *find_node(const struct cg_conn *conn, const char *spec,
					    struct cg_err *err)
{
	if (!spec) {
		if (!conn->n)
			cg_error(err, CG_EXIT_ERROR, "no node of %s is recorded", conn->cluster);
		return conn->n ? &conn->v[0] : NULL;
	}
	char *dc = NULL;
	int node = 0;
	if (cg_node_parse_name(spec, &dc, &node, err) < 0)
		return NULL;
	const struct cg_conn_node *hit = NULL;
	for (int i = 0; i < conn->n && !hit; i++)
		if (!strcmp(conn->v[i].dc, dc) && conn->v[i].node == node)
			hit = &conn->v[i];
	if (!hit)
		cg_error(err, CG_EXIT_USAGE, "%s has no node %s.n%d recorded (see 'cassandgo "
			 "output %s')", conn->cluster, dc, node, conn->cluster);
	free(dc);
	return hit;
}

/* Replace this process by sh -c cmd; returns only on failure. */
static int exec_shell(const char *cmd)
{
	fflush(stdout);
	fflush(stderr);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	fprintf(stderr, "Error: cannot run /bin/sh: %s\n", strerror(errno));
	return CG_EXIT_ERROR;
}

static int run(struct cg_cli *cli, const char *what, const char *cluster, const char *node,
	       int nargs, char **args)
{
	struct cg_err err = {0};
	struct ops o;
	if (ops_open(&o, cli, cluster, &err) < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	struct cg_conn conn;
	ops_conn(&o, &conn);
	ops_close(&o);
	const struct cg_conn_node *n = find_node(&conn, node, &err);
	const char *base = !n ? NULL : !strcmp(what, "ssh") ? n->ssh : n->cqlsh;
	if (n && !base)
		cg_error(&err, CG_EXIT_ERROR, "%s has no address recorded", n->name);
	if (!base) {
		cg_conn_free(&conn);
		return cli_fail(&err);
	}
	struct cg_buf b = {0};
	cg_buf_adds(&b, base);
	for (int i = 0; i < nargs; i++) {
		/* quoted here, joined by ssh and read by the node's shell: what
		 * `ssh HOST ARGS...` typed in a shell does */
		char *q = cg_ssh_quote(args[i]);
		cg_buf_addf(&b, " %s", q);
		free(q);
	}
	cg_conn_free(&conn);
	int rc = exec_shell(b.data);
	cg_buf_free(&b);
	return rc;
}

int cmd_ssh(struct cg_cli *cli, int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--"))
		first++;
	if (argc - first < 2)
		return cli_usage("ssh", "expected CLUSTER NODE [COMMAND...]");
	int rest = first + 2;
	if (rest < argc && !strcmp(argv[rest], "--"))
		rest++;
	return run(cli, "ssh", argv[first], argv[first + 1], argc - rest, argv + rest);
}

int cmd_cqlsh(struct cg_cli *cli, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return cli_usage("cqlsh", "expected CLUSTER [NODE]");
	return run(cli, "cqlsh", argv[1], argc == 3 ? argv[2] : NULL, 0, NULL);
}
