/* cmd_status.c - `status`: the ring as the nodes see it (nodetool status)
 * and the faults of cassandgo chaos still in force (the state's). */
#include "ops.h"
#include "../planner/faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_status(struct cg_cli *cli, int argc, char **argv)
{
	bool json;
	struct ops o;
	struct cg_err err = {0};
	int urc = ops_begin("status", cli, argc, argv, &o, &json);
	if (urc)
		return urc;
	if (o.parked) {
		/* its machines are off: no node to ask, and nothing is wrong */
		struct cg_buf b = {0};
		struct cg_cost cost;
		ops_cost(&o, &cost);
		if (json) {
			cg_buf_adds(&b, "{\"cluster\":");
			cg_buf_add_json(&b, o.c->name);
			cg_buf_adds(&b, ",\"parked\":true,\"parked_since\":");
			cg_buf_add_json(&b, o.parked);
			cg_buf_addf(&b, ",\"healthy\":false,\"nodes_expected\":%d,\"cost\":",
				    ops_expected_nodes(o.c));
			cg_cost_render_json(&cost, &b);
			cg_buf_adds(&b, "}\n");
		} else {
			cg_buf_addf(&b, "Cluster %s is parked (cassandgo stop, %s): its nodes are "
				    "stopped and its machines powered off. 'cassandgo start %s' starts "
				    "it.\n", o.c->name, o.parked, o.c->name);
			cg_cost_render_running(&cost, &b);
		}
		cli_print(b.data);
		cg_buf_free(&b);
		cg_cost_free(&cost);
		ops_close(&o);
		return CG_EXIT_ERROR;	/* not serving, as the help says of a ring not up */
	}
	struct cg_ring ring;
	char *from = NULL;
	if (ops_ring(&o, &ring, &from, &err) < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	int expected = ops_expected_nodes(o.c);
	struct cg_buf b = {0};
	struct cg_cost cost;
	ops_cost(&o, &cost);
	struct cg_state *st = NULL;
	struct cg_fault *fv = NULL;
	int fn = 0;
	if (cli_open_state(cli, false, &st, &err) < 0 ||
	    (st && cg_state_faults(st, o.c->name, &fv, &fn, &err) < 0))
		fprintf(stderr, "Warning: the faults cannot be read: %s\n", err.msg);
	cg_state_close(st);
	int64_t now = cg_wall_s();
	if (json) {
		cg_report_status_json(o.c->name, from, &ring, expected, &cost, &b);
		/* the faults join the document: {..., "faults": [...]} */
		if (b.len >= 2 && !strcmp(b.data + b.len - 2, "}\n")) {
			b.len -= 2;
			b.data[b.len] = 0;
			cg_buf_adds(&b, ", \"faults\": ");
			cg_faults_render_json(fv, fn, now, &b);
			cg_buf_adds(&b, "}\n");
		}
	} else {
		cg_report_status_text(o.c->name, from, &ring, expected, cli->color, &b);
		cg_faults_render_text(fv, fn, now, &b);
		cg_cost_render_running(&cost, &b);
	}
	free(fv);
	cg_cost_free(&cost);
	cli_print(b.data);
	/* Scripts and monitors get the health in the exit code too. */
	int rc = cg_report_ring_problems(&ring, expected) ? CG_EXIT_ERROR : CG_EXIT_OK;
	cg_buf_free(&b);
	cg_ring_free(&ring);
	free(from);
	ops_close(&o);
	return rc;
}
