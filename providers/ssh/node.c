/* node.c - reach a recorded node over SSH (see node.h). The same rules as
 * the bootstrap provider's node_connect (which could call these). */
#include "node.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int cg_node_parse_name(const char *s, char **dc, int *node, struct cg_err *err)
{
	if (!strncmp(s, "machine.", 8))
		s += 8;
	const char *sep = strrchr(s, '/');
	if (!sep)
		sep = strrchr(s, '.');
	const char *num = sep ? sep + 1 : NULL;
	if (num && *num == 'n')
		num++;
	char *end = NULL;
	long n = num && isdigit((unsigned char)*num) ? strtol(num, &end, 10) : 0;
	if (!sep || sep == s || n < 1 || n > 100000 || *end)
		return cg_error(err, CG_EXIT_USAGE, "'%s' is not a node: write DC.nN or DC/N "
				"(e.g. DC1.n2)", s);
	*dc = cg_xstrndup(s, (size_t)(sep - s));
	*node = (int)n;
	return 0;
}

const struct cg_resource *cg_node_machine(const struct cg_rset *known, const char *dc, int node)
{
	char *a = cg_addr_node(CG_KIND_MACHINE, dc, node);
	const struct cg_resource *m = cg_rset_find(known, a);
	free(a);
	return m;
}

const char *cg_node_key_file(const struct cg_rset *known, const struct cg_resource *m)
{
	if (!m->region)
		return NULL;
	char *a = cg_addr_region(CG_KIND_KEYPAIR, m->region);
	const struct cg_resource *kp = cg_rset_find(known, a);
	free(a);
	const char *kf = kp ? cg_res_get(kp, "key_file") : NULL;
	return kf && *kf ? kf : NULL;
}

const char *cg_node_ssh_addr(const struct cg_cluster *c, const struct cg_resource *m)
{
	const char *a = c->ssh_address == CG_SSH_PUBLIC ? cg_res_get(m, "public_ip")
							: cg_res_get(m, "private_ip");
	if (!a || !*a)
		a = cg_res_get(m, "private_ip");
	return a && *a ? a : NULL;
}

int cg_node_open(const struct cg_cluster *c, const struct cg_rset *known,
		 const char *known_hosts, const struct cg_resource *m, int connect_ms,
		 struct cg_ssh **out, struct cg_err *err)
{
	const char *addr = cg_node_ssh_addr(c, m), *kf = cg_node_key_file(known, m);
	const char *port = cg_res_get(m, "ssh_port");
	if (!addr)
		return cg_error(err, CG_EXIT_ERROR, "%s: no address recorded (run 'cassandgo "
				"apply %s')", m->addr, c->name);
	if (!kf)
		return cg_error(err, CG_EXIT_ERROR, "%s: no SSH key file (keypair.%s.key_file)",
				m->addr, m->region ? m->region : "?");
	struct cg_ssh_target t = {
		.name = m->addr,
		.alias = m->id && *m->id ? m->id : m->addr,
		.host = addr,
		.port = port && *port ? atoi(port) : 22,
		.user = c->ssh_user && *c->ssh_user ? c->ssh_user : "cassandgo",
		.key_file = kf,
		.host_key = cg_res_get(m, "host_key"),
		.known_hosts = known_hosts,
		.connect_timeout_ms = connect_ms > 0 ? connect_ms : 10000,
		.io_timeout_ms = 30000,
	};
	return cg_ssh_connect(&t, out, err);
}

int cg_node_cgnode(struct cg_ssh *s, const struct cg_resource *m, const char *args,
		   int timeout_ms, char **out, struct cg_err *err)
{
	const char *base = cg_res_get(m, "base_dir");
	if (!base || !*base)
		return cg_error(err, CG_EXIT_ERROR, "%s: no base_dir recorded", m->addr);
	char *bin = cg_xasprintf("%s/bin/cgnode", base);
	char *q = cg_ssh_quote(bin);
	char *cmd = cg_xasprintf("%s %s", q, args);
	int rc = cg_ssh_run(s, cmd, NULL, 0, timeout_ms, out, err);
	free(cmd);
	free(q);
	free(bin);
	return rc;
}
