/*
 * cost.c - a cluster's running cost from its machines (see cost.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "park.h"

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

void cg_cost_of(const struct cg_rset *ms,
		int (*hourly)(const struct cg_resource *m, double *usd_h, struct cg_err *err),
		const char *source, struct cg_cost *out)
{
	memset(out, 0, sizeof(*out));
	if (!hourly)
		return;
	out->known = true;
	out->source = source ? cg_xstrdup(source) : NULL;
	for (int i = 0; ms && i < ms->n; i++) {
		const struct cg_resource *m = &ms->v[i];
		if (!cg_kind_instance(m->kind))
			continue;
		struct cg_cost_dc *d = NULL;
		for (int k = 0; k < out->ndcs && !d; k++)
			if (str_eq(out->dcs[k].dc, m->dc))
				d = &out->dcs[k];
		if (!d) {
			out->dcs = cg_xrealloc(out->dcs, (size_t)(out->ndcs + 1) * sizeof(*out->dcs));
			d = &out->dcs[out->ndcs++];
			memset(d, 0, sizeof(*d));
			d->dc = cg_xstrdup(m->dc ? m->dc : "?");
			d->region = cg_xstrdup(m->region ? m->region : "?");
		}
		const char *t = cg_res_get(m, "node_type"), *cap = cg_res_get(m, "capacity");
		if (m->kind == CG_KIND_LOADER) {
			d->loaders++;
			if (!d->loader_type)
				d->loader_type = cg_xstrdup(t ? t : "?");
		} else {
			d->nodes++;
			if (!d->node_type) {
				d->node_type = cg_xstrdup(t ? t : "?");
				d->capacity = cg_xstrdup(cap ? cap : "on-demand");
			}
		}
		out->machines++;
		out->parked += cg_park_machine_off(m);
		double h = 0;
		struct cg_err e = {0};
		if (hourly(m, &h, &e) != 0) {
			bool seen = false;	/* each missing price once */
			for (int k = 0; k < out->nmissing && !seen; k++)
				seen = !strcmp(out->missing[k], e.msg);
			if (!seen) {
				out->missing = cg_xrealloc(out->missing, (size_t)(out->nmissing + 1) *
							   sizeof(char *));
				out->missing[out->nmissing++] = cg_xstrdup(e.msg);
			}
			continue;
		}
		d->per_hour += h;
		out->per_hour += h;
	}
}

void cg_cost_free(struct cg_cost *c)
{
	for (int i = 0; i < c->ndcs; i++) {
		free(c->dcs[i].dc);
		free(c->dcs[i].region);
		free(c->dcs[i].node_type);
		free(c->dcs[i].capacity);
		free(c->dcs[i].loader_type);
	}
	free(c->dcs);
	for (int i = 0; i < c->nmissing; i++)
		free(c->missing[i]);
	free(c->missing);
	free(c->source);
	free(c->since);
	memset(c, 0, sizeof(*c));
}

void cg_cost_render_text(const struct cg_cost *c, struct cg_buf *out)
{
	if (!c->known || !c->ndcs)
		return;
	if (c->parked && c->parked == c->machines)
		cg_buf_addf(out, "\nCost while parked (USD, estimate%s%s): the EBS volumes only, no "
			    "compute is billed while the instances are stopped\n",
			    c->source ? "; prices: " : "", c->source ? c->source : "");
	else if (c->parked)
		cg_buf_addf(out, "\nCost as it is (USD, estimate%s%s): %d of %d machines stopped, "
			    "billed for their EBS volumes only\n", c->source ? "; prices: " : "",
			    c->source ? c->source : "", c->parked, c->machines);
	else
		cg_buf_addf(out, "\nCost while it runs (USD, estimate%s%s):\n",
			    c->source ? "; prices: " : "", c->source ? c->source : "");
	for (int i = 0; i < c->ndcs; i++) {
		const struct cg_cost_dc *d = &c->dcs[i];
		char what[160], load[80] = "";
		const char *cap = d->capacity ? d->capacity : "on-demand";
		if (d->loaders)
			snprintf(load, sizeof(load), "%s%d x %s load", d->nodes ? " + " : "", d->loaders,
				 d->loader_type);
		if (d->nodes)
			snprintf(what, sizeof(what), "%d x %s%s%s%s", d->nodes, d->node_type,
				 strcmp(cap, "on-demand") ? " " : "", strcmp(cap, "on-demand") ? cap : "",
				 load);
		else
			snprintf(what, sizeof(what), "%s", load);
		cg_buf_addf(out, "  %-10s %-16s %-22s %9.4f/h %10.2f/day\n", d->dc, d->region, what,
			    d->per_hour, d->per_hour * 24);
	}
	cg_buf_addf(out, "  %-10s %-16s %-22s %9.4f/h %10.2f/day\n", "total", "", "", c->per_hour,
		    c->per_hour * 24);
	for (int i = 0; i < c->nmissing; i++)
		cg_buf_addf(out, "  not counted: %s\n", c->missing[i]);
}

void cg_cost_render_json(const struct cg_cost *c, struct cg_buf *out)
{
	if (!c->known) {
		cg_buf_adds(out, "null");
		return;
	}
	cg_buf_addf(out, "{\"currency\":\"USD\",\"per_hour\":%.6f,\"per_day\":%.4f,",
		    c->per_hour, c->per_hour * 24);
	if (c->parked)	/* only then: the form of a running cluster's stays */
		cg_buf_addf(out, "\"parked_machines\":%d,\"ebs_only\":%s,", c->parked,
			    c->parked == c->machines ? "true" : "false");
	cg_buf_adds(out, "\"dcs\":{");
	for (int i = 0; i < c->ndcs; i++) {
		const struct cg_cost_dc *d = &c->dcs[i];
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_add_json(out, d->dc);
		cg_buf_adds(out, ":{\"region\":");
		cg_buf_add_json(out, d->region);
		cg_buf_adds(out, ",\"node_type\":");
		cg_buf_add_json(out, d->node_type);
		cg_buf_adds(out, ",\"capacity\":");
		cg_buf_add_json(out, d->capacity);
		cg_buf_addf(out, ",\"nodes\":%d", d->nodes);
		if (d->loaders) {	/* only then: the form without load nodes stays */
			cg_buf_addf(out, ",\"load_nodes\":%d,\"load_node_type\":", d->loaders);
			cg_buf_add_json(out, d->loader_type);
		}
		cg_buf_addf(out, ",\"per_hour\":%.6f,\"per_day\":%.4f}", d->per_hour,
			    d->per_hour * 24);
	}
	cg_buf_adds(out, "},\"missing\":[");
	for (int i = 0; i < c->nmissing; i++) {
		if (i)
			cg_buf_adds(out, ",");
		cg_buf_add_json(out, c->missing[i]);
	}
	cg_buf_adds(out, "],\"source\":");
	cg_buf_add_json(out, c->source);
	if (c->since) {
		cg_buf_adds(out, ",\"since\":");
		cg_buf_add_json(out, c->since);
		cg_buf_addf(out, ",\"spent\":%.4f", c->spent);
	}
	cg_buf_adds(out, "}");
}

/* launch_time as EC2 and moto write it (2026-12-06T06:00:00.000Z,
 * ...+00:00): seconds since the epoch, or -1. */
static time_t launch_epoch(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

void cg_cost_spent(struct cg_cost *c, const struct cg_rset *ms,
		   int (*hourly)(const struct cg_resource *m, double *usd_h, struct cg_err *err),
		   time_t now)
{
	time_t first = -1;
	const char *first_s = NULL;
	c->spent = 0;
	for (int i = 0; hourly && ms && i < ms->n; i++) {
		const struct cg_resource *m = &ms->v[i];
		if (!cg_kind_instance(m->kind))
			continue;
		const char *lt = cg_res_get(m, "launch_time");
		time_t t = launch_epoch(lt);
		double h;
		struct cg_err e = {0};
		if (t < 0 || t > now || hourly(m, &h, &e) != 0)
			continue;
		c->spent += h * (double)(now - t) / 3600.0;
		if (first < 0 || t < first) {
			first = t;
			first_s = lt;
		}
	}
	free(c->since);
	c->since = first_s ? cg_xstrdup(first_s) : NULL;
}

void cg_cost_render_running(const struct cg_cost *c, struct cg_buf *out)
{
	if (!c->known)
		return;
	if (c->parked)
		cg_buf_addf(out, "Cost while parked: %.4f USD per hour, %.2f per day (%d of %d machines "
			    "stopped: their EBS volumes only, no compute; estimate%s%s)\n", c->per_hour,
			    c->per_hour * 24, c->parked, c->machines, c->source ? "; prices: " : "",
			    c->source ? c->source : "");
	else
		cg_buf_addf(out, "Cost while it runs: %.4f USD per hour, %.2f per day (estimate%s%s)\n",
			    c->per_hour, c->per_hour * 24, c->source ? "; prices: " : "",
			    c->source ? c->source : "");
	if (c->since)
		cg_buf_addf(out, "Cost so far: %.2f USD since its first machine started (%s)\n",
			    c->spent, c->since);
	for (int i = 0; i < c->nmissing; i++)
		cg_buf_addf(out, "  not counted: %s\n", c->missing[i]);
}
