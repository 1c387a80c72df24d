/* park.c - the plan of a stop, and what a parked cluster looks like (see
 * park.h). */
#include "park.h"

#include <stdlib.h>
#include <string.h>

bool cg_park_machine_off(const struct cg_resource *m)
{
	const char *pw = cg_res_get(m, "power"), *st = cg_res_get(m, "state");
	if (pw)
		return !strcmp(pw, "off");
	return st && (!strcmp(st, "stopped") || !strcmp(st, "stopping"));
}

static struct cg_action *add(struct cg_plan *plan, int *cap, const struct cg_resource *cur,
			     const char *key, const char *value, const char *reason)
{
	if (plan->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		plan->v = cg_xrealloc(plan->v, (size_t)*cap * sizeof(*plan->v));
	}
	struct cg_action *a = &plan->v[plan->n++];
	memset(a, 0, sizeof(*a));
	a->op = CG_OP_UPDATE;
	a->kind = cur->kind;
	a->addr = cg_xstrdup(cur->addr);
	a->has_current = a->has_desired = true;
	cg_res_copy(&a->current, cur);
	cg_res_copy(&a->desired, cur);
	for (int i = 0; i < a->desired.ndeps; i++)
		free(a->desired.deps[i]);
	free(a->desired.deps);
	a->desired.deps = NULL;
	a->desired.ndeps = 0;
	cg_res_set(&a->desired, key, value, 0);
	a->reason = cg_xstrdup(reason);
	plan->change++;
	return a;
}

int cg_park_plan(const char *cluster, const struct cg_rset *known, const struct cg_rset *recorded,
		 struct cg_plan *plan, struct cg_err *err)
{
	int cap = 0;
	memset(plan, 0, sizeof(*plan));
	plan->cluster = cg_xstrdup(cluster);
	/* 1. drain and stop Cassandra on every node whose machine runs */
	for (int i = 0; i < known->n; i++) {
		const struct cg_resource *m = &known->v[i];
		if (m->kind != CG_KIND_MACHINE || !m->dc || cg_park_machine_off(m))
			continue;
		char *sa = cg_addr_node(CG_KIND_SERVICE, m->dc, m->node);
		const struct cg_resource *s = cg_rset_find(known, sa);
		const char *run = s ? cg_res_get(s, "running") : NULL;
		if (s && run && !strcmp(run, "true"))
			add(plan, &cap, s, "running", "false",
			    "drain (flush every table, stop taking writes), then stop Cassandra");
		else if (!s && recorded && (s = cg_rset_find(recorded, sa)) &&
			 (run = cg_res_get(s, "running")) && !strcmp(run, "true"))
			add(plan, &cap, s, "running", "false",
			    "its node did not answer the refresh: drain, then stop Cassandra");
		free(sa);
	}
	int services = plan->n;
	/* 2. then power every machine off: the disk and its data stay */
	for (int i = 0; i < known->n; i++) {
		const struct cg_resource *m = &known->v[i];
		if (!cg_kind_instance(m->kind) || cg_park_machine_off(m))
			continue;
		bool dup = false;	/* two objects claiming a node: one action */
		for (int j = services; j < plan->n; j++)
			dup |= !strcmp(plan->v[j].addr, m->addr);
		if (dup)
			continue;
		struct cg_action *a = add(plan, &cap, m, "power", "off",
					  "power off after every node is drained: its disk keeps "
					  "the data, no compute is billed");
		for (int k = 0; k < services; k++) {
			a->deps = cg_xrealloc(a->deps, (size_t)(a->ndeps + 1) * sizeof(int));
			a->deps[a->ndeps++] = k;
		}
	}
	return cg_plan_check_acyclic(plan, err);
}

void cg_park_note(struct cg_plan *plan, const char *since, const struct cg_rset *known)
{
	int total = 0, off = 0;
	for (int i = 0; known && i < known->n; i++)
		if (cg_kind_instance(known->v[i].kind)) {
			total++;
			off += cg_park_machine_off(&known->v[i]);
		}
	free(plan->parked);
	plan->parked = cg_xstrdup(since && *since ? since : "?");
	if (off < total)
		cg_plan_add_note(plan, "cluster %s is parked (cassandgo stop, %s), but %d of its %d "
				 "machines run: a stop or a start did not finish. `cassandgo stop %s` "
				 "finishes parking it, `cassandgo start %s` starts it", plan->cluster,
				 plan->parked, total - off, total, plan->cluster, plan->cluster);
	else
		cg_plan_add_note(plan, "cluster %s is parked (cassandgo stop, %s): its %d machine%s "
				 "%s powered off, nothing is planned. `cassandgo start %s` starts it",
				 plan->cluster, plan->parked, total, total == 1 ? "" : "s",
				 total == 1 ? "is" : "are", plan->cluster);
}
