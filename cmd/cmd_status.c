/* cmd_status.c - `status`: the ring as the nodes see it (nodetool status). */
#include "ops.h"
#include "../providers/ssh/bootstrap.h"
#include "../providers/ssh/node.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_ring(const struct ops *o, struct cg_ring *ring, char **seen_from, struct cg_err *err)
{
	const struct cg_cluster *c = o->c;
	memset(ring, 0, sizeof(*ring));
	*seen_from = NULL;
	if (cg_provider_bootstrap() != &cg_provider_bootstrap_ssh)
		return cg_error(err, CG_EXIT_ERROR, "this build cannot reach nodes over SSH");
	/* Ask the nodes in config order; the first that answers tells. Every
	 * failure is kept so that an all-down cluster says why. */
	struct cg_buf why = {0};
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].nodes; i++) {
			const struct cg_resource *m = cg_node_machine(&o->known, c->dcs[d].name, i);
			if (!m)
				continue;
			struct cg_err e = {0};
			struct cg_ssh *s = NULL;
			char *out = NULL;
			int rc = cg_node_open(c, &o->known, o->known_hosts, m, 10000, &s, &e);
			if (rc == 0)
				rc = cg_node_cgnode(s, m, "nodetool status", 90000, &out, &e);
			cg_ssh_close(s);
			if (rc == 0)
				rc = cg_nodetool_status_parse(out, ring, &e);
			free(out);
			if (rc == 0) {
				const char *ip = cg_res_get(m, "private_ip");
				*seen_from = cg_xasprintf("%s.n%d (%s)", c->dcs[d].name, i, ip ? ip : "?");
				cg_buf_free(&why);
				return 0;
			}
			cg_buf_addf(&why, "%s%s.n%d: %s", why.len ? "; " : "", c->dcs[d].name, i,
				    e.msg);
		}
	cg_error(err, CG_EXIT_ERROR, "no node answered nodetool status: %s",
		 why.data ? why.data : "no machine recorded");
	cg_buf_free(&why);
	return -1;
}

int cmd_status(struct cg_cli *cli, int argc, char **argv)
{
	bool json;
	struct ops o;
	struct cg_err err = {0};
	int urc = ops_begin("status", cli, argc, argv, &o, &json);
	if (urc)
		return urc;
	struct cg_ring ring;
	char *from = NULL;
	if (ops_ring(&o, &ring, &from, &err) < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	int expected = ops_expected_nodes(o.c);
	struct cg_buf b = {0};
	if (json)
		cg_report_status_json(o.c->name, from, &ring, expected, &b);
	else
		cg_report_status_text(o.c->name, from, &ring, expected, cli->color, &b);
	cli_print(b.data);
	/* Scripts and monitors get the health in the exit code too. */
	int rc = cg_report_ring_problems(&ring, expected) ? CG_EXIT_ERROR : CG_EXIT_OK;
	cg_buf_free(&b);
	cg_ring_free(&ring);
	free(from);
	ops_close(&o);
	return rc;
}
