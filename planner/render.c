/* render.c - plan and state renderings (text and JSON). Deterministic. */
#include "plan.h"

#include <string.h>

static const char *sym(enum cg_op op)
{
	switch (op) {
	case CG_OP_CREATE: return "+";
	case CG_OP_UPDATE: return "~";
	case CG_OP_REPLACE: return "-/+";
	case CG_OP_DELETE: return "-";
	case CG_OP_NOOP: break;
	}
	return " ";
}

static const char *color_of(enum cg_op op)
{
	switch (op) {
	case CG_OP_CREATE: return "\033[32m";
	case CG_OP_UPDATE: return "\033[33m";
	case CG_OP_REPLACE: return "\033[35m";
	case CG_OP_DELETE: return "\033[31m";
	case CG_OP_NOOP: break;
	}
	return "";
}

static int key_width(const struct cg_resource *r)
{
	int w = 0;
	for (int i = 0; i < r->nattrs; i++) {
		if ((r->attrs[i].flags & CG_ATTR_INFO) && !r->attrs[i].value)
			continue;
		int l = (int)strlen(r->attrs[i].key);
		if (l > w)
			w = l;
	}
	return w;
}

static void quoted(struct cg_buf *out, const char *v)
{
	if (v)
		cg_buf_add_json(out, v);
	else
		cg_buf_adds(out, "(known after apply)");
}

static void render_attrs(const struct cg_action *a, struct cg_buf *out)
{
	const struct cg_resource *d = a->has_desired ? &a->desired : NULL;
	const struct cg_resource *c = a->has_current ? &a->current : NULL;

	if (a->op == CG_OP_DELETE) {
		if (c && c->id)
			cg_buf_addf(out, "      id = \"%s\"\n", c->id);
		return;
	}
	int w = key_width(d);
	if (a->op == CG_OP_CREATE || (a->op == CG_OP_REPLACE && !c)) {
		for (int i = 0; i < d->nattrs; i++) {
			if ((d->attrs[i].flags & CG_ATTR_INFO) && !d->attrs[i].value)
				continue;
			cg_buf_addf(out, "      %-*s = ", w, d->attrs[i].key);
			quoted(out, d->attrs[i].value);
			cg_buf_adds(out, "\n");
		}
		return;
	}
	if (c && c->id)
		cg_buf_addf(out, "      %-*s = \"%s\"\n", w, "id", c->id);
	for (int i = 0; i < d->nattrs; i++) {
		const struct cg_attr *at = &d->attrs[i];
		const char *cv = c ? cg_res_get(c, at->key) : NULL;
		if (at->flags & CG_ATTR_INFO)
			continue;
		if (at->flags & CG_ATTR_COMPUTED) {
			if (a->op == CG_OP_REPLACE) {
				cg_buf_addf(out, "      %-*s = ", w, at->key);
				quoted(out, cv);
				cg_buf_adds(out, " -> (known after apply)\n");
			}
			continue;
		}
		if (at->value && cv && !strcmp(at->value, cv))
			continue;
		cg_buf_addf(out, "      %-*s = ", w, at->key);
		if (cv) {
			quoted(out, cv);
			cg_buf_adds(out, " -> ");
		}
		quoted(out, at->value);
		if ((at->flags & CG_ATTR_FORCENEW) && a->op == CG_OP_REPLACE && at->value)
			cg_buf_adds(out, "  # forces replacement");
		cg_buf_adds(out, "\n");
	}
}

void cg_plan_render_text(const struct cg_plan *plan, bool color, struct cg_buf *out)
{
	for (int i = 0; i < plan->nnotes; i++)
		cg_buf_addf(out, "Note: %s\n", plan->notes[i]);
	if (plan->nnotes)
		cg_buf_adds(out, "\n");
	if (!plan->n && plan->parked) {
		cg_buf_addf(out, "No changes: cluster %s is parked. `cassandgo start %s` starts it.\n",
			    plan->cluster, plan->cluster);
		cg_cost_render_text(&plan->cost, out);
		return;
	}
	if (!plan->n) {
		cg_buf_addf(out, "No changes. Cluster %s matches the configuration.\n", plan->cluster);
		cg_cost_render_text(&plan->cost, out);
		return;
	}
	cg_buf_addf(out, "cassandgo will perform these actions on cluster %s:\n"
		    "  (+ create, ~ update in place, -/+ replace, - destroy)\n\n", plan->cluster);
	for (int i = 0; i < plan->n; i++) {
		const struct cg_action *a = &plan->v[i];
		cg_buf_addf(out, "  %s%s %s%s", color ? color_of(a->op) : "", sym(a->op), a->addr,
			    color ? "\033[0m" : "");
		if (a->reason)
			cg_buf_addf(out, "  (%s)", a->reason);
		cg_buf_adds(out, "\n");
		render_attrs(a, out);
	}
	cg_buf_addf(out, "\nPlan: %d to add, %d to change, %d to destroy.\n",
		    plan->add, plan->change, plan->destroy);
	cg_cost_render_text(&plan->cost, out);
}

static void json_res(struct cg_buf *out, const struct cg_resource *r)
{
	cg_buf_adds(out, "{\"id\":");
	cg_buf_add_json(out, r->id);
	cg_buf_adds(out, ",\"attributes\":{");
	for (int i = 0; i < r->nattrs; i++) {
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_add_json(out, r->attrs[i].key);
		cg_buf_adds(out, ":");
		cg_buf_add_json(out, r->attrs[i].value);
	}
	cg_buf_adds(out, "}}");
}

void cg_plan_render_json(const struct cg_plan *plan, struct cg_buf *out)
{
	cg_buf_adds(out, "{\"format_version\":1,\"cluster\":");
	cg_buf_add_json(out, plan->cluster);
	cg_buf_addf(out, ",\"summary\":{\"add\":%d,\"change\":%d,\"destroy\":%d},\"notes\":[",
		    plan->add, plan->change, plan->destroy);
	for (int i = 0; i < plan->nnotes; i++) {
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_add_json(out, plan->notes[i]);
	}
	cg_buf_adds(out, "],\"cost\":");
	cg_cost_render_json(&plan->cost, out);
	if (plan->parked) {	/* only then: plans of running clusters keep their form */
		cg_buf_adds(out, ",\"parked\":");
		cg_buf_add_json(out, plan->parked);
	}
	cg_buf_adds(out, ",\"actions\":[");
	for (int i = 0; i < plan->n; i++) {
		const struct cg_action *a = &plan->v[i];
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_adds(out, "\n{\"address\":");
		cg_buf_add_json(out, a->addr);
		cg_buf_addf(out, ",\"kind\":\"%s\",\"action\":\"%s\",\"reason\":", cg_kind_name(a->kind),
			    cg_op_name(a->op));
		cg_buf_add_json(out, a->reason);
		cg_buf_addf(out, ",\"forget\":%s,\"depends_on\":[", a->forget ? "true" : "false");
		for (int k = 0; k < a->ndeps; k++) {
			if (k)
				cg_buf_adds(out, ",");
			cg_buf_add_json(out, plan->v[a->deps[k]].addr);
		}
		cg_buf_adds(out, "],\"before\":");
		if (a->has_current)
			json_res(out, &a->current);
		else
			cg_buf_adds(out, "null");
		cg_buf_adds(out, ",\"after\":");
		if (a->has_desired)
			json_res(out, &a->desired);
		else
			cg_buf_adds(out, "null");
		cg_buf_adds(out, "}");
	}
	cg_buf_adds(out, "\n]}\n");
}

uint64_t cg_plan_digest(const struct cg_plan *plan)
{
	struct cg_buf b = {0};
	cg_plan_render_json(plan, &b);
	uint64_t h = cg_hash64(b.data, b.len);
	cg_buf_free(&b);
	return h;
}

void cg_rset_render_text(const char *cluster, const struct cg_rset *s, struct cg_buf *out)
{
	cg_buf_addf(out, "cluster %s: %d resources\n", cluster, s->n);
	for (int i = 0; i < s->n; i++) {
		const struct cg_resource *r = &s->v[i];
		cg_buf_addf(out, "\n%s", r->addr);
		if (r->id)
			cg_buf_addf(out, "  [%s]", r->id);
		cg_buf_adds(out, "\n");
		int w = key_width(r);
		for (int k = 0; k < r->nattrs; k++) {
			cg_buf_addf(out, "    %-*s = ", w, r->attrs[k].key);
			quoted(out, r->attrs[k].value);
			cg_buf_adds(out, "\n");
		}
	}
}

void cg_rset_render_json(const char *cluster, const struct cg_rset *s, struct cg_buf *out)
{
	cg_buf_adds(out, "{\"cluster\":");
	cg_buf_add_json(out, cluster);
	cg_buf_adds(out, ",\"resources\":[");
	for (int i = 0; i < s->n; i++) {
		const struct cg_resource *r = &s->v[i];
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_adds(out, "\n{\"address\":");
		cg_buf_add_json(out, r->addr);
		cg_buf_addf(out, ",\"kind\":\"%s\",\"region\":", cg_kind_name(r->kind));
		cg_buf_add_json(out, r->region);
		cg_buf_adds(out, ",\"dc\":");
		cg_buf_add_json(out, r->dc);
		cg_buf_addf(out, ",\"node\":%d,\"resource\":", r->node);
		json_res(out, r);
		cg_buf_adds(out, "}");
	}
	cg_buf_adds(out, "\n]}\n");
}
