/* faults.c - the active chaos faults as plan and status see them (faults.h). */
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool cg_fault_active(const struct cg_fault *f, int64_t now)
{
	return f->until <= 0 || now < f->until;
}

static bool node_fault(const struct cg_fault *f)
{
	return !strcmp(f->kind, "kill") || !strcmp(f->kind, "stop") || !strcmp(f->kind, "pause");
}

bool cg_fault_hits(const struct cg_fault *f, const struct cg_resource *m)
{
	if (m->kind != CG_KIND_MACHINE || !m->dc)
		return false;
	if (node_fault(f)) {
		char name[160];
		snprintf(name, sizeof(name), "%s.n%d", m->dc, m->node);
		return !strcmp(name, f->target);
	}
	const char *zone = cg_res_get(m, "zone");
	return !strcmp(m->dc, f->target) || (zone && !strcmp(zone, f->target));
}

static void hhmm(int64_t t, char out[8])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 8, "%02d:%02d", tm.tm_hour % 100, tm.tm_min % 100);
}

char *cg_fault_what(const struct cg_fault *f)
{
	char at[8], until[8];
	hhmm(f->since, at);
	hhmm(f->until, until);
	if (!strcmp(f->kind, "kill"))
		return cg_xasprintf("killed at %s", at);
	if (!strcmp(f->kind, "stop"))
		return cg_xasprintf("stopped at %s", at);
	if (!strcmp(f->kind, "pause"))
		return cg_xasprintf("paused at %s until %s", at, until);
	if (!strcmp(f->kind, "partition"))
		return cg_xasprintf("partitioned (%s) at %s", f->target, at);
	if (!strcmp(f->kind, "delay"))
		return cg_xasprintf("delayed %s (%s) at %s", f->detail, f->target, at);
	return cg_xasprintf("%s (%s) at %s", f->kind, f->target, at);
}

void cg_faults_mark(const struct cg_fault *v, int n, int64_t now, struct cg_rset *set)
{
	for (int i = 0; i < set->n; i++) {
		const struct cg_resource *m = &set->v[i];
		struct cg_buf b = {0};
		for (int k = 0; k < n; k++)
			if (cg_fault_active(&v[k], now) && cg_fault_hits(&v[k], m)) {
				char *w = cg_fault_what(&v[k]);
				cg_buf_addf(&b, "%s%s", b.len ? "; " : "", w);
				free(w);
			}
		if (!b.len)
			continue;
		char *sa = cg_addr_node(CG_KIND_SERVICE, m->dc, m->node);
		struct cg_resource *s = cg_rset_find(set, sa);
		if (s)
			cg_res_set(s, "chaos", b.data, CG_ATTR_INFO);
		free(sa);
		cg_buf_free(&b);
	}
}

void cg_faults_render_text(const struct cg_fault *v, int n, int64_t now, struct cg_buf *out)
{
	int active = 0;
	for (int k = 0; k < n; k++) {
		if (!cg_fault_active(&v[k], now))
			continue;
		if (!active++)
			cg_buf_adds(out, "\nActive faults (cassandgo chaos; 'chaos heal' or 'apply' undoes "
				    "them):\n");
		char *w = cg_fault_what(&v[k]);
		cg_buf_addf(out, "  %-10s %-12s %s\n", v[k].kind, v[k].target, w);
		free(w);
	}
}

void cg_faults_render_json(const struct cg_fault *v, int n, int64_t now, struct cg_buf *out)
{
	int active = 0;
	cg_buf_adds(out, "[");
	for (int k = 0; k < n; k++) {
		if (!cg_fault_active(&v[k], now))
			continue;
		char since[32], until[32];
		cg_iso8601(v[k].since, since);
		cg_iso8601(v[k].until, until);
		cg_buf_adds(out, active++ ? ", {\"kind\": " : "{\"kind\": ");
		cg_buf_add_json(out, v[k].kind);
		cg_buf_adds(out, ", \"target\": ");
		cg_buf_add_json(out, v[k].target);
		cg_buf_adds(out, ", \"detail\": ");
		cg_buf_add_json(out, v[k].detail);
		cg_buf_addf(out, ", \"since\": \"%s\", \"until\": ", since);
		if (v[k].until > 0)
			cg_buf_addf(out, "\"%s\"}", until);
		else
			cg_buf_adds(out, "null}");
	}
	cg_buf_adds(out, "]");
}
