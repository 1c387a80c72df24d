/*
 * cmd_nodetool.c - `cassandgo nodetool CLUSTER NODE|DC|ZONE|all ARGS...`:
 * nodetool (cgnode nodetool: the node's own jars over its local JMX) on one
 * node or many at once, at most PARALLEL at a time, each line of output
 * prefixed by its node's name ("DC1.n2: "), the nodes in record order. Exit
 * 1 when any node failed, naming each.
 */
#include "ops.h"
#include "../providers/ssh/node.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARALLEL 8

struct job {
	const struct ops *o;
	const struct cg_resource *m;
	const char *args;
	char *out;
	struct cg_err err;
	int rc;
};

struct pool {
	struct job *v;
	int n, next;
	pthread_mutex_t mu;
};

static void run_job(struct job *j)
{
	struct cg_ssh *s = NULL;
	j->rc = cg_node_open(j->o->c, &j->o->known, j->o->known_hosts, j->m, 0, &s, &j->err);
	if (j->rc == 0)
		j->rc = cg_node_cgnode(s, j->m, j->args, 600000, &j->out, &j->err);
	cg_ssh_close(s);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		int i = p->next < p->n ? p->next++ : -1;
		pthread_mutex_unlock(&p->mu);
		if (i < 0)
			return NULL;
		run_job(&p->v[i]);
	}
}

/* Each line of text prefixed by "name: ". */
static void prefixed(struct cg_buf *b, const char *name, const char *text)
{
	for (const char *l = text; l && *l;) {
		size_t len = strcspn(l, "\n");
		cg_buf_addf(b, "%s: %.*s\n", name, (int)len, l);
		l += len + (l[len] == '\n');
	}
}

int cmd_nodetool(struct cg_cli *cli, int argc, char **argv)
{
	if (argc < 4)
		return cli_usage("nodetool", "expected CLUSTER NODE|DC|ZONE|all ARGS... (e.g. "
				 "'cassandgo nodetool Lab all status')");
	/* what reaches the node's shell is quoted; what nodetool reads must
	 * still be one plain argument each */
	for (int i = 3; i < argc; i++)
		for (const char *c = argv[i]; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return cli_usage("nodetool", "argument %d holds a control character",
						 i - 2);
	struct ops o;
	struct cg_err err = {0};
	if (ops_open(&o, cli, argv[1], &err) < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	const char *target = argv[2];
	const struct cg_resource **ms = NULL;
	int n = 0;
	if (!strcmp(target, "all")) {
		ms = cg_xcalloc((size_t)o.known.n + 1, sizeof(*ms));
		for (int i = 0; i < o.known.n; i++)
			if (o.known.v[i].kind == CG_KIND_MACHINE)
				ms[n++] = &o.known.v[i];
	} else if (strchr(target, '.') || strchr(target, '/')) {
		const struct cg_resource *m = ops_node(&o, target, &err);
		if (m) {
			ms = cg_xcalloc(1, sizeof(*ms));
			ms[n++] = m;
		} else {
			n = -1;
		}
	} else {
		n = ops_group(&o, target, &ms, &err);
	}
	if (n < 0) {
		ops_close(&o);
		return cli_fail(&err);
	}
	struct cg_buf args = {0};
	cg_buf_adds(&args, "nodetool");
	for (int i = 3; i < argc; i++) {
		char *q = cg_ssh_quote(argv[i]);
		cg_buf_addf(&args, " %s", q);
		free(q);
	}
	struct pool p = {.v = cg_xcalloc((size_t)n + 1, sizeof(struct job)), .n = n};
	pthread_mutex_init(&p.mu, NULL);
	for (int i = 0; i < n; i++) {
		p.v[i].o = &o;
		p.v[i].m = ms[i];
		p.v[i].args = args.data;
	}
	pthread_t th[PARALLEL];
	int started = 0;
	for (int i = 0; i < PARALLEL && i < n; i++)
		if (pthread_create(&th[i], NULL, worker, &p) == 0)
			started++;
	if (!started)
		worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);

	struct cg_buf out = {0}, failed = {0};
	int nf = 0;
	for (int i = 0; i < n; i++) {
		const char *name = ms[i]->addr + strlen("machine.");
		prefixed(&out, name, p.v[i].out);
		if (p.v[i].rc) {
			prefixed(&out, name, p.v[i].err.msg);
			cg_buf_addf(&failed, "%s%s", nf++ ? ", " : "", name);
		}
		free(p.v[i].out);
	}
	if (out.data)
		cli_print(out.data);
	if (nf)
		cg_error(&err, CG_EXIT_ERROR, "nodetool failed on %d of %d node%s: %s", nf, n,
			 n == 1 ? "" : "s", failed.data);
	cg_buf_free(&out);
	cg_buf_free(&failed);
	cg_buf_free(&args);
	pthread_mutex_destroy(&p.mu);
	free(p.v);
	free(ms);
	ops_close(&o);
	return nf ? cli_fail(&err) : CG_EXIT_OK;
}
