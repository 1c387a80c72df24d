/* cmd_output.c - `output`: how to connect to a cluster's nodes. */
#include "ops.h"

int cmd_output(struct cg_cli *cli, int argc, char **argv)
{
	bool json;
	struct ops o;
	int rc = ops_begin("output", cli, argc, argv, &o, &json);
	if (rc)
		return rc;
	struct cg_conn conn;
	struct cg_buf b = {0};
	ops_conn(&o, &conn);
	if (json)
		cg_report_output_json(&conn, &b);
	else
		cg_report_output_text(&conn, &b);
	cli_print(b.data);
	cg_buf_free(&b);
	cg_conn_free(&conn);
	ops_close(&o);
	return CG_EXIT_OK;
}
