/* ops.c - what the operator's commands share (see ops.h): opening a
 * recorded cluster, how to connect, the ring and the latencies as the nodes
 * see them, and the report at the end of apply. */
#include "ops.h"
#include "../providers/registry.h"
#include "../providers/ssh/bootstrap.h"
#include "../providers/ssh/node.h"
#include "../providers/tls/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int ops_expected_nodes(const struct cg_cluster *c)
{
	int n = 0;
	for (int i = 0; i < c->ndcs; i++)
		n += c->dcs[i].nodes;
	return n;
}

char *ops_abs_path(const char *path)
{
	char cwd[4096];
	if (!path || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return cg_xstrdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!strcmp(path, ".") || !*path)
		return cg_xstrdup(cwd);
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
	o->known_hosts = ops_abs_path(kh);
	free(kh);
	if (cg_state_load(st, c->name, &o->known, err) < 0 ||
	    cg_state_parked(st, c->name, &o->parked, err) < 0)
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
	free(o->parked);
	memset(o, 0, sizeof(*o));
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

/* ---- naming nodes and groups ---- */

/* "DC1.n1, DC1.n2, ..." (groups false), or the DCs then the zones of the
 * recorded machines, each once in record order. Caller frees. */
static char *names_of(const struct ops *o, bool groups)
{
	struct cg_buf b = {0};
	for (int pass = 0; pass < (groups ? 2 : 1); pass++)
		for (int i = 0; i < o->known.n; i++) {
			const struct cg_resource *m = &o->known.v[i];
			if (m->kind != CG_KIND_MACHINE || !m->dc)
				continue;
			const char *g = pass == 0 ? m->dc : cg_res_get(m, "zone");
			char *name = groups ? cg_xstrdup(g ? g : "") : cg_xasprintf("%s.n%d", m->dc, m->node);
			/* ", NAME," in ", " + b + "," tells whether it is listed */
			char *in = cg_xasprintf(", %s,", b.data ? b.data : "");
			char *key = cg_xasprintf(", %s,", name);
			if (*name && !strstr(in, key))
				cg_buf_addf(&b, "%s%s", b.len ? ", " : "", name);
			free(in), free(key), free(name);
		}
	return b.data ? cg_buf_detach(&b) : cg_xstrdup("none");
}

const struct cg_resource *ops_node(const struct ops *o, const char *name, struct cg_err *err)
{
	char *dc = NULL;
	int node;
	const struct cg_resource *m = NULL;
	if (cg_node_parse_name(name, &dc, &node, err) == 0 &&
	    !(m = cg_node_machine(&o->known, dc, node))) {
		char *valid = names_of(o, false);
		cg_error(err, CG_EXIT_USAGE, "cluster %s has no node %s.n%d: its nodes are %s",
			 o->c->name, dc, node, valid);
		free(valid);
	}
	free(dc);
	return m;
}

int ops_group(const struct ops *o, const char *group, const struct cg_resource ***v,
	      struct cg_err *err)
{
	int n = 0;
	*v = cg_xcalloc((size_t)o->known.n + 1, sizeof(**v));
	for (int i = 0; i < o->known.n; i++) {
		const struct cg_resource *m = &o->known.v[i];
		const char *zone = cg_res_get(m, "zone");
		if (m->kind == CG_KIND_MACHINE &&
		    ((m->dc && !strcmp(m->dc, group)) || (zone && !strcmp(zone, group))))
			(*v)[n++] = m;
	}
	if (n)
		return n;
	char *valid = names_of(o, true);
	cg_error(err, CG_EXIT_USAGE, "cluster %s has no datacenter or zone %s: it has %s",
		 o->c->name, group, valid);
	free(valid);
	free(*v);
	*v = NULL;
	return -1;
}

/* ---- how to connect ---- */

/* The address a client reaches a node's CQL port at from this machine. */
static const char *client_addr(const struct cg_cluster *c, const struct cg_resource *m)
{
	return c->provider == CG_PROVIDER_LOCAL ? cg_res_get(m, "private_ip")
						: cg_node_ssh_addr(c, m);
}

void ops_cost(const struct ops *o, struct cg_cost *out)
{
	struct cg_providers pv = cg_registry_providers(o->c);
	memset(out, 0, sizeof(*out));
	if (!pv.infra || !pv.infra->hourly)
		return;
	char *src = pv.infra->price_source ? pv.infra->price_source() : NULL;
	cg_cost_of(&o->known, pv.infra->hourly, src, out);
	cg_cost_spent(out, &o->known, pv.infra->hourly, time(NULL));
	free(src);
}

void ops_conn(const struct ops *o, struct cg_conn *out)
{
	const struct cg_cluster *c = o->c;
	memset(out, 0, sizeof(*out));
	out->cluster = cg_xstrdup(c->name);
	ops_cost(o, &out->cost);
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
			char *kf = ops_abs_path(cg_node_key_file(&o->known, m));
			n->ssh = cg_boot_ssh_cmdline(c, o->known_hosts, m, kf);
			free(kf);
			const char *rpc = cg_res_get(m, "private_ip");
			if (!c->security_off && client_addr(c, m)) {
				/* TLS checks the address dialled against the node's
				 * certificate: this machine dials it directly (9042 is
				 * open to allowed_cidrs on aws) */
				char *q = cg_ssh_quote(client_addr(c, m));
				char *rc = cg_tls_cqlshrc_path(o->cli->cluster_dir);
				char *arc = ops_abs_path(rc), *qrc = cg_ssh_quote(arc);
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
		out->ca_file = ops_abs_path(ca);
		out->password_file = ops_abs_path(pw);
		out->cqlshrc = ops_abs_path(rc);
		out->user = cg_xstrdup(CG_SUPERUSER);
		free(ca), free(pw), free(rc);
	}
}

/* ---- the ring ---- */

int ops_ring(const struct ops *o, struct cg_ring *ring, char **seen_from, struct cg_err *err)
{
	const struct cg_cluster *c = o->c;
	memset(ring, 0, sizeof(*ring));
	*seen_from = NULL;
	if (cg_registry_bootstrap() != &cg_provider_bootstrap_ssh)
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

/* ---- latencies ---- */

#define SAMPLES 5

/*
 * Run on a node with the targets as arguments. ICMP when ping works (one
 * probe to the first target); else the time of a TCP connect to the storage
 * port (one round trip: SYN, SYN-ACK), which security groups let through
 * between nodes. Timed inside the child bash ($EPOCHREALTIME, no fork in the
 * timed part), after one connect not counted (neighbour discovery). One line per target: "T <addr> icmp <ms>..." or
 * "T <addr> tcp:7000 <us>...", -1 for a sample with no answer.
 */
static const char probe_script[] =
	"n=" "5" "; m=tcp:7000\n"
	"if command -v ping >/dev/null 2>&1 && ping -c 1 -W 1 -q \"$1\" >/dev/null 2>&1; then m=icmp; fi\n"
	"for t in \"$@\"; do\n"
	"  s=\n"
	"  if [ $m = icmp ]; then\n"
	"    s=$(ping -c $n -i 0.2 -W 2 \"$t\" 2>/dev/null | sed -n 's/.*time=\\([0-9.]*\\) *ms.*/\\1/p' | tr '\\n' ' ')\n"
	"  else\n"
	"    timeout 3 bash -c 'exec 3<>\"/dev/tcp/$0/7000\"' \"$t\" 2>/dev/null\n"
	"    for i in $(seq $n); do\n"
	"      v=$(timeout 3 bash -c 'a=$EPOCHREALTIME; exec 3<>\"/dev/tcp/$0/7000\" || exit 1; "
	"b=$EPOCHREALTIME; echo $(( 10#${b/[.,]/} - 10#${a/[.,]/} ))' \"$t\" 2>/dev/null) || v=-1\n"
	"      s=\"$s ${v:--1}\"; sleep 0.2\n"
	"    done\n"
	"  fi\n"
	"  echo \"T $t $m $s\"\n"
	"done\n";

/* The address node (dc_index, node) gossips on: broadcast, else listen. */
static char *talk_addr(const struct cg_cluster *c, int dci, int node, const struct cg_rset *known)
{
	struct cg_node_spec s;
	struct cg_err e = {0};
	char *a = NULL;
	memset(&s, 0, sizeof(s));
	if (cg_cassconf_spec(c, dci, node, known, false, &s, &e) == 1)
		a = cg_xstrdup(s.broadcast && *s.broadcast ? s.broadcast : s.address);
	cg_cassconf_spec_clear(&s);
	if (!a) {
		const struct cg_resource *m = cg_node_machine(known, c->dcs[dci].name, node);
		a = m ? cg_xstrdup(cg_res_get(m, "private_ip")) : NULL;
	}
	return a;
}

/* One source node and the pairs measured from it. */
struct job {
	const struct ops *o;
	const struct cg_resource *m;
	struct cg_latency *l;
	int *pairs, n;
	pthread_t th;
};

static void job_fail(struct job *j, const char *msg)
{
	for (int k = 0; k < j->n; k++) {
		struct cg_lat_pair *p = &j->l->v[j->pairs[k]];
		free(p->error);
		p->error = cg_xstrdup(msg);
	}
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct cg_err e = {0};
	struct cg_ssh *s = NULL;
	struct cg_buf cmd = {0};
	char *out = NULL;
	char *q = cg_ssh_quote(probe_script);
	cg_buf_addf(&cmd, "bash -c %s cgprobe", q);
	free(q);
	for (int k = 0; k < j->n; k++) {
		q = cg_ssh_quote(j->l->v[j->pairs[k]].to_ip);
		cg_buf_addf(&cmd, " %s", q);
		free(q);
	}
	if (cg_node_open(j->o->c, &j->o->known, j->o->known_hosts, j->m, 10000, &s, &e) ||
	    cg_ssh_run(s, cmd.data, NULL, 0, 30000 + j->n * SAMPLES * 4000, &out, &e)) {
		job_fail(j, e.msg);
		goto out;
	}
	for (int k = 0; k < j->n; k++) {
		struct cg_lat_pair *p = &j->l->v[j->pairs[k]];
		/* the line of this target */
		char *line = NULL;
		for (char *l = out; l && *l;) {
			char *eol = strchr(l, '\n');
			size_t len = eol ? (size_t)(eol - l) : strlen(l);
			size_t tl = strlen(p->to_ip);
			if (len > tl + 2 && !strncmp(l, "T ", 2) && !strncmp(l + 2, p->to_ip, tl) &&
			    l[2 + tl] == ' ') {
				line = cg_xstrndup(l + 3 + tl, len - 3 - tl);
				break;
			}
			l = eol ? eol + 1 : NULL;
		}
		if (!line) {
			free(p->error);
			p->error = cg_xstrdup("no answer from the probe");
			continue;
		}
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		free(p->method);
		p->method = cg_xstrdup(tok ? tok : "?");
		bool icmp = tok && !strcmp(tok, "icmp");
		long us[64];
		int n = 0;
		while ((tok = strtok_r(NULL, " ", &save)) && n < 64)
			us[n++] = icmp ? (long)(strtod(tok, NULL) * 1000.0 + 0.5) : strtol(tok, NULL, 10);
		free(line);
		if (cg_latency_summarise(p, us, n) == 0) {
			free(p->error);
			p->error = cg_xasprintf("%s: no answer from %s", p->method, p->to_ip);
		}
	}
out:
	free(out);
	cg_buf_free(&cmd);
	cg_ssh_close(s);
	return NULL;
}

/* Recorded nodes of DC d in order, their zones. */
static void add_pair(struct cg_latency *l, enum cg_lat_scope sc, const struct cg_cluster *c,
		     const struct cg_rset *known, int da, int na, int db, int nb,
		     const char *a, const char *b)
{
	struct cg_lat_pair *p = cg_latency_add(l, sc, sc == CG_LAT_ZONE ? c->dcs[da].name : NULL,
					       a, b);
	p->from = cg_xasprintf("%s.n%d", c->dcs[da].name, na);
	p->to = cg_xasprintf("%s.n%d", c->dcs[db].name, nb);
	p->from_ip = talk_addr(c, da, na, known);
	p->to_ip = talk_addr(c, db, nb, known);
}

static int first_node(const struct cg_rset *known, const struct cg_dc *dc)
{
	for (int i = 1; i <= dc->nodes; i++)
		if (cg_node_machine(known, dc->name, i))
			return i;
	return 0;
}

int ops_latency(const struct ops *o, struct cg_latency *l, struct cg_err *err)
{
	const struct cg_cluster *c = o->c;
	memset(l, 0, sizeof(*l));
	l->cluster = cg_xstrdup(c->name);
	if (cg_registry_bootstrap() != &cg_provider_bootstrap_ssh)
		return cg_error(err, CG_EXIT_ERROR, "this build cannot reach nodes over SSH");
	l->dcs = cg_xcalloc((size_t)(c->ndcs ? c->ndcs : 1), sizeof(*l->dcs));
	l->ndcs = c->ndcs;
	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		l->dcs[d].name = cg_xstrdup(dc->name);
		l->dcs[d].region = cg_xstrdup(dc->region);
		/* first node of each zone, zones in order of their first node */
		const char *zones[64];
		int zn[64], nz = 0;
		for (int i = 1; i <= dc->nodes; i++) {
			const struct cg_resource *m = cg_node_machine(&o->known, dc->name, i);
			const char *z = m ? cg_res_get(m, "zone") : NULL;
			bool seen = false;
			for (int k = 0; z && k < nz && !seen; k++)
				seen = !strcmp(zones[k], z);
			if (z && !seen && nz < 64)
				zones[nz] = z, zn[nz++] = i;
		}
		for (int a = 0; a < nz; a++)
			for (int b = a + 1; b < nz; b++)
				add_pair(l, CG_LAT_ZONE, c, &o->known, d, zn[a], d, zn[b], zones[a],
					 zones[b]);
	}
	for (int a = 0; a < c->ndcs; a++)
		for (int b = a + 1; b < c->ndcs; b++) {
			int na = first_node(&o->known, &c->dcs[a]), nb = first_node(&o->known, &c->dcs[b]);
			if (na && nb)
				add_pair(l, CG_LAT_DC, c, &o->known, a, na, b, nb, c->dcs[a].name,
					 c->dcs[b].name);
		}
	/* one job per source node, all at once */
	struct job *jobs = cg_xcalloc((size_t)(l->n ? l->n : 1), sizeof(*jobs));
	int nj = 0;
	for (int i = 0; i < l->n; i++) {
		struct cg_lat_pair *p = &l->v[i];
		if (!p->to_ip || !p->from_ip) {
			p->error = cg_xstrdup("address not recorded");
			continue;
		}
		int k = 0;
		while (k < nj && strcmp(l->v[jobs[k].pairs[0]].from, p->from))
			k++;
		if (k == nj) {
			char dc[128];
			int node = 0;
			snprintf(dc, sizeof(dc), "%s", p->from);
			char *dot = strrchr(dc, '.');
			if (dot) {
				*dot = 0;
				node = atoi(dot + 2);
			}
			jobs[nj].o = o;
			jobs[nj].l = l;
			jobs[nj].m = cg_node_machine(&o->known, dc, node);
			jobs[nj].pairs = cg_xcalloc((size_t)l->n, sizeof(int));
			nj++;
		}
		jobs[k].pairs[jobs[k].n++] = i;
	}
	int started = 0;
	for (int k = 0; k < nj; k++)
		if (pthread_create(&jobs[k].th, NULL, job_run, &jobs[k]) == 0)
			started = k + 1;
		else
			break;
	/* a thread that could not start: run the rest here */
	for (int k = started; k < nj; k++)
		job_run(&jobs[k]);
	for (int k = 0; k < started; k++)
		pthread_join(jobs[k].th, NULL);
	for (int k = 0; k < nj; k++)
		free(jobs[k].pairs);
	free(jobs);
	return 0;
}

/* ---- the report at the end of apply ---- */

void ops_after_apply(struct cg_cli *cli, const struct cg_cluster *c, struct cg_state *st)
{
	/* Only nodes the SSH bootstrap provider made can be reached over SSH
	 * (the test build links a fake one whose addresses are not real). */
	if (cg_registry_bootstrap() != &cg_provider_bootstrap_ssh)
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
