/* cmd_output.c - `output`: how to connect to a cluster's nodes; the shared
 * opening of a recorded cluster (ops.h) and the report at the end of apply. */
#include "ops.h"
#include "../providers/ssh/bootstrap.h"
#include "../providers/ssh/node.h"
#include "../providers/tls/tls.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ops_expected_nodes(const struct cg_cluster *c)
{
	int n = 0;
	for (int i = 0; i < c->ndcs; i++)
		n += c->dcs[i].nodes;
	return n;
}

/* path made absolute against the working directory: the printed commands
 * must work from anywhere. Caller frees. */
static char *abs_path(const char *path)
{
	char cwd[4096];
	if (!path || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return cg_xstrdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return cg_xasprintf("%s/%s", cwd, path);
}

int ops_open_state(struct ops *o, struct cg_cli *cli, const struct cg_cluster *c,
		   struct cg_state *st, struct cg_err *err)
{
	memset(o, 0, sizeof(*o));
	o->cli = cli;
	o->c = c;
	cg_rset_init(&o->known);
	struct cg_env env;
	cli_env(cli, c->name, false, &env);
	char *kh = cg_xasprintf("%s/known_hosts", cli->cluster_dir);
	o->known_hosts = abs_path(kh);
	free(kh);
	if (cg_state_load(st, c->name, &o->known, err) < 0)
		return -1;
	for (int i = 0; i < o->known.n; i++)
		if (o->known.v[i].kind == CG_KIND_MACHINE)
			return 0;
	return cg_error(err, CG_EXIT_ERROR, "cluster %s has no machine recorded: run "
			"'cassandgo apply %s' first", c->name, c->name);
}

int ops_open(struct ops *o, struct cg_cli *cli, const char *name, struct cg_err *err)
{
	struct cg_state *st = NULL;
	memset(o, 0, sizeof(*o));
	cg_rset_init(&o->known);
	if (cli_load_config(cli, err) < 0)
		return -1;
	const struct cg_cluster *c = cg_config_cluster(cli->cfg, name, err);
	if (!c)
		return -1;
	if (cli_open_state(cli, false, &st, err) < 0)
		return -1;
	if (!st)
		return cg_error(err, CG_EXIT_ERROR, "no state at %s: run 'cassandgo apply %s' first",
				cli->state_path, name);
	int rc = ops_open_state(o, cli, c, st, err);
	cg_state_close(st);
	return rc;
}

void ops_close(struct ops *o)
{
	cg_rset_free(&o->known);
	free(o->known_hosts);
	memset(o, 0, sizeof(*o));
}

/* The address a client reaches a node's CQL port at from this machine. */
static const char *client_addr(const struct cg_cluster *c, const struct cg_resource *m)
{
	return c->provider == CG_PROVIDER_LOCAL ? cg_res_get(m, "private_ip")
						: cg_node_ssh_addr(c, m);
}

void ops_conn(const struct ops *o, struct cg_conn *out)
{
	const struct cg_cluster *c = o->c;
	memset(out, 0, sizeof(*out));
	out->cluster = cg_xstrdup(c->name);
	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		for (int i = 1; i <= dc->nodes; i++) {
			const struct cg_resource *m = cg_node_machine(&o->known, dc->name, i);
			if (!m)
				continue;
			struct cg_conn_node *n = cg_conn_add(out);
			n->dc = cg_xstrdup(dc->name);
			n->region = cg_xstrdup(dc->region);
			n->zone = cg_xstrdup(cg_res_get(m, "zone"));
			n->node = i;
			n->name = cg_xasprintf("%s.n%d", dc->name, i);
			n->private_ip = cg_xstrdup(cg_res_get(m, "private_ip"));
			n->public_ip = cg_xstrdup(cg_res_get(m, "public_ip"));
			char *kf = abs_path(cg_node_key_file(&o->known, m));
			n->ssh = cg_boot_ssh_cmdline(c, o->known_hosts, m, kf);
			free(kf);
			const char *rpc = cg_res_get(m, "private_ip");
			if (!c->security_off && client_addr(c, m)) {
				/* TLS checks the address dialled against the node's
				 * certificate: this machine dials it directly (9042 is
				 * open to allowed_cidrs on aws) */
				char *q = cg_ssh_quote(client_addr(c, m));
				char *rc = cg_tls_cqlshrc_path(o->cli->cluster_dir);
				char *arc = abs_path(rc), *qrc = cg_ssh_quote(arc);
				n->cqlsh = cg_xasprintf("cqlsh --cqlshrc=%s %s 9042", qrc, q);
				free(q), free(rc), free(arc), free(qrc);
			} else if (c->provider == CG_PROVIDER_LOCAL && rpc) {
				/* the namespaces are reachable from this machine */
				char *q = cg_ssh_quote(rpc);
				n->cqlsh = cg_xasprintf("cqlsh %s 9042", q);
				free(q);
			} else if (n->ssh && rpc) {
				/* CQL listens on the private address: run cqlsh there.
				 * Quoted twice: the node's shell reads the inner
				 * command, ours the outer argument to ssh. */
				char *qa = cg_ssh_quote(rpc);
				char *in = cg_xasprintf("cqlsh %s 9042", qa);
				char *q = cg_ssh_quote(in);
				n->cqlsh = cg_xasprintf("%s -t %s", n->ssh, q);
				free(q);
				free(in);
				free(qa);
			}
			if (dc->monitoring && i == 1 && !out->monitoring_url && client_addr(c, m))
				out->monitoring_url = cg_xasprintf("http://%s:9090", client_addr(c, m));
		}
	}
	out->tls = out->auth = !c->security_off;
	if (!c->security_off) {
		const char *dir = o->cli->cluster_dir;
		char *ca = cg_tls_ca_cert_path(dir), *pw = cg_tls_password_path(dir);
		char *rc = cg_tls_cqlshrc_path(dir);
		out->ca_file = abs_path(ca);
		out->password_file = abs_path(pw);
		out->cqlshrc = abs_path(rc);
		out->user = cg_xstrdup(CG_SUPERUSER);
		free(ca), free(pw), free(rc);
	}
}


int ops_begin(const char *cmd, struct cg_cli *cli, int argc, char **argv, struct ops *o,
	      bool *json)
{
	const char *cluster;
	struct cg_err err = {0};
	int urc = cli_cluster_json_args(cmd, argc, argv, &cluster, json);
	if (urc)
		return urc;
	if (ops_open(o, cli, cluster, &err) < 0) {
		ops_close(o);
		return cli_fail(&err);
	}
	return 0;
}

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

void ops_after_apply(struct cg_cli *cli, const struct cg_cluster *c, struct cg_state *st)
{
	/* Only nodes the SSH bootstrap provider made can be reached over SSH
	 * (the test build links a fake one whose addresses are not real). */
	if (cg_provider_bootstrap() != &cg_provider_bootstrap_ssh)
		return;
	struct cg_err err = {0};
	struct ops o;
	struct cg_buf b = {0};
	if (ops_open_state(&o, cli, c, st, &err) < 0) {
		fprintf(stderr, "Warning: cannot report on %s: %s\n", c->name, err.msg);
		ops_close(&o);
		return;
	}
	struct cg_latency lat;
	if (ops_latency(&o, &lat, &err) == 0)
		cg_report_latency_boxes(&lat, &b);
	else
		cg_buf_addf(&b, "\nLatencies could not be measured: %s\n", err.msg);
	cg_latency_free(&lat);
	cli_print(b.data);
	cg_buf_reset(&b);

	struct cg_conn conn;
	ops_conn(&o, &conn);
	cg_report_output_text(&conn, &b);
	cg_conn_free(&conn);

	struct cg_ring ring = {0};
	char *from = NULL;
	cg_report_section(&b, "Cluster status...");
	memset(&err, 0, sizeof(err));
	if (ops_ring(&o, &ring, &from, &err) == 0)
		cg_report_status_text(c->name, from, &ring, ops_expected_nodes(c), cli->color, &b);
	else
		cg_buf_addf(&b, "The ring could not be read: %s\n", err.msg);
	cli_print(b.data);
	cg_buf_free(&b);
	cg_ring_free(&ring);
	free(from);
	ops_close(&o);
}
