/* cmd_latency.c - `latency`: zone-to-zone and DC-to-DC round trips,
 * measured from the nodes themselves over the addresses they gossip on. */
#include "ops.h"
#include "../providers/ssh/bootstrap.h"
#include "../providers/ssh/node.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (cg_provider_bootstrap() != &cg_provider_bootstrap_ssh)
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
