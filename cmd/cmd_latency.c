/* cmd_latency.c - `latency`: zone-to-zone and DC-to-DC round trips,
 * measured from the nodes themselves over the addresses they gossip on. */
#include "ops.h"

#include <string.h>

int cmd_latency(struct cg_cli *cli, int argc, char **argv)
{
	bool json;
	struct cg_err err = {0};
	struct ops o;
	struct cg_latency l;
	memset(&l, 0, sizeof(l));
	int urc = ops_begin("latency", cli, argc, argv, &o, &json);
	if (urc)
		return urc;
	if (ops_latency(&o, &l, &err) < 0) {
		cg_latency_free(&l);
		ops_close(&o);
		return cli_fail(&err);
	}
	struct cg_buf b = {0};
	if (json) {
		cg_report_latency_json(&l, &b);
	} else {
		cg_buf_addf(&b, "Round trips between the nodes of %s (milliseconds):\n\n", l.cluster);
		cg_report_latency_table(&l, &b);
		cg_report_latency_boxes(&l, &b);
	}
	cli_print(b.data);
	/* a pair that could not be measured is a failure: the reason is shown */
	int rc = CG_EXIT_OK;
	for (int i = 0; i < l.n; i++)
		if (l.v[i].samples == 0)
			rc = CG_EXIT_ERROR;
	cg_buf_free(&b);
	cg_latency_free(&l);
	ops_close(&o);
	return rc;
}
