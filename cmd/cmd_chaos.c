/*
 * cmd_chaos.c - `cassandgo chaos CLUSTER ...`: the arguments of the faults
 * in chaos.h, one per call:
 *   kill NODE | stop NODE        SIGKILL / clean stop of Cassandra
 *   pause NODE SECONDS           SIGSTOP, SIGCONT after SECONDS
 *   partition DC|ZONE            the group loses all traffic with every other
 *                                node (nft rules on the group's nodes: inside
 *                                their namespaces on the local provider)
 *   delay DC MS                  netem delay on the DC's nodes (needs netem)
 *   heal [NODE|all]              undo all of it, start Cassandra where it is down
 */
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A count given on the command line: digits only, within int. */
static bool parse_count(const char *s, int *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return false;
	*out = atoi(s);
	return true;
}

int cmd_chaos(struct cg_cli *cli, int argc, char **argv)
{
	if (argc < 3)
		return cli_usage("chaos", "expected CLUSTER kill|stop|pause|partition|delay|heal ...");
	const char *what = argv[2];
	int nargs = argc - 3, v = 0;
	char **a = argv + 3;
	bool known = ((!strcmp(what, "kill") || !strcmp(what, "stop") ||
		       !strcmp(what, "partition")) && nargs == 1) ||
		     ((!strcmp(what, "pause") || !strcmp(what, "delay")) && nargs == 2) ||
		     (!strcmp(what, "heal") && nargs <= 1);
	if (!known)
		return cli_usage("chaos", "'%s' with %d argument%s: expected kill|stop NODE, pause "
				 "NODE SECONDS, partition DC|ZONE, delay DC MS, heal [NODE|all]", what,
				 nargs, nargs == 1 ? "" : "s");
	if (nargs == 2 && !parse_count(a[1], &v))
		return cli_usage("chaos", "%s: '%s' is not a whole number of %s", what, a[1],
				 !strcmp(what, "pause") ? "seconds" : "milliseconds");
	struct ops o;
	struct cg_err err = {0};
	if (ops_open(&o, cli, argv[1], &err) < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	struct cg_buf log = {0};
	int rc;
	if (!strcmp(what, "kill"))
		rc = chaos_kill(&o, a[0], &log, &err);
	else if (!strcmp(what, "stop"))
		rc = chaos_stop(&o, a[0], &log, &err);
	else if (!strcmp(what, "pause"))
		rc = chaos_pause(&o, a[0], v, &log, &err);
	else if (!strcmp(what, "partition"))
		rc = chaos_partition(&o, a[0], &log, &err);
	else if (!strcmp(what, "delay"))
		rc = chaos_delay(&o, a[0], v, &log, &err);
	else
		rc = chaos_heal(&o, nargs ? a[0] : NULL, &log, &err);
	if (log.data)
		cli_print(log.data);
	cg_buf_free(&log);
	ops_close(&o);
	return rc < 0 ? cli_fail(&err) : CG_EXIT_OK;
}
