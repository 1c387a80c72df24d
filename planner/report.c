/* report.c - pure renderers of the operator's reports (see report.h). */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE "--------------------------------------------------------------------------------"

void cg_report_section(struct cg_buf *b, const char *title)
{
	cg_buf_addf(b, "\n%s\n%s\n", title, RULE);
}

/* --- latency -------------------------------------------------------------- */

static void pair_clear(struct cg_lat_pair *p)
{
	free(p->dc), free(p->a), free(p->b), free(p->from), free(p->to);
	free(p->from_ip), free(p->to_ip), free(p->method), free(p->error);
}

void cg_latency_free(struct cg_latency *l)
{
	for (int i = 0; i < l->n; i++)
		pair_clear(&l->v[i]);
	for (int i = 0; i < l->ndcs; i++)
		free(l->dcs[i].name), free(l->dcs[i].region);
	free(l->v);
	free(l->dcs);
	free(l->cluster);
	memset(l, 0, sizeof(*l));
}

struct cg_lat_pair *cg_latency_add(struct cg_latency *l, enum cg_lat_scope scope,
				   const char *dc, const char *a, const char *b)
{
	l->v = cg_xrealloc(l->v, (size_t)(l->n + 1) * sizeof(*l->v));
	struct cg_lat_pair *p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->scope = scope;
	p->dc = cg_xstrdup(dc);
	p->a = cg_xstrdup(a);
	p->b = cg_xstrdup(b);
	return p;
}

int cg_latency_summarise(struct cg_lat_pair *p, const long *us, int n)
{
	int k = 0;
	double sum = 0;
	for (int i = 0; i < n; i++) {
		if (us[i] < 0)
			continue;
		double ms = (double)us[i] / 1000.0;
		if (!k || ms < p->min)
			p->min = ms;
		if (!k || ms > p->max)
			p->max = ms;
		sum += ms;
		k++;
	}
	p->samples = k;
	p->avg = k ? sum / k : 0;
	return k;
}

static size_t umax(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Drop trailing blanks of the line being built at b[start..]. */
static void rtrim_from(struct cg_buf *b, size_t start)
{
	while (b->len > start && b->data[b->len - 1] == ' ')
		b->data[--b->len] = 0;
}

static void pad(struct cg_buf *b, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cg_buf_add(b, &c, 1);
}

static void center(struct cg_buf *b, const char *s, size_t w)
{
	size_t l = strlen(s), left = l < w ? (w - l) / 2 : 0;
	pad(b, ' ', left);
	cg_buf_adds(b, s);
	if (l < w)
		pad(b, ' ', w - l - left);
}

static void ms_text(const struct cg_lat_pair *p, char *out, size_t n)
{
	if (p->samples > 0)
		snprintf(out, n, "%.2f ms", p->avg);
	else
		snprintf(out, n, "n/a");
}

void cg_report_latency_table(const struct cg_latency *l, struct cg_buf *b)
{
	size_t wf = 4, wt = 2, wn = 7, wm = 6;
	char from[256], to[256], nodes[256];
	for (int i = 0; i < l->n; i++) {
		const struct cg_lat_pair *p = &l->v[i];
		if (p->scope == CG_LAT_ZONE) {
			wf = umax(wf, strlen(p->dc) + 1 + strlen(p->a));
			wt = umax(wt, strlen(p->dc) + 1 + strlen(p->b));
		} else {
			wf = umax(wf, strlen(p->a));
			wt = umax(wt, strlen(p->b));
		}
		snprintf(nodes, sizeof(nodes), "%s -> %s", p->from ? p->from : "?",
			 p->to ? p->to : "?");
		wn = umax(wn, strlen(nodes));
		wm = umax(wm, strlen(p->method ? p->method : "-"));
	}
	size_t start = b->len;
	cg_buf_addf(b, "%-5s  %-*s  %-*s  %7s  %7s  %7s  %7s  %-*s  %s", "SCOPE", (int)wf, "FROM",
		    (int)wt, "TO", "MIN ms", "AVG ms", "MAX ms", "SAMPLES", (int)wm, "METHOD",
		    "BETWEEN");
	rtrim_from(b, start);
	cg_buf_adds(b, "\n");
	for (int i = 0; i < l->n; i++) {
		const struct cg_lat_pair *p = &l->v[i];
		if (p->scope == CG_LAT_ZONE) {
			snprintf(from, sizeof(from), "%s %s", p->dc, p->a);
			snprintf(to, sizeof(to), "%s %s", p->dc, p->b);
		} else {
			snprintf(from, sizeof(from), "%s", p->a);
			snprintf(to, sizeof(to), "%s", p->b);
		}
		snprintf(nodes, sizeof(nodes), "%s -> %s", p->from ? p->from : "?",
			 p->to ? p->to : "?");
		start = b->len;
		cg_buf_addf(b, "%-5s  %-*s  %-*s  ", p->scope == CG_LAT_ZONE ? "zone" : "dc",
			    (int)wf, from, (int)wt, to);
		if (p->samples > 0)
			cg_buf_addf(b, "%7.2f  %7.2f  %7.2f  %7d  ", p->min, p->avg, p->max,
				    p->samples);
		else
			cg_buf_addf(b, "%7s  %7s  %7s  %7d  ", "-", "-", "-", 0);
		cg_buf_addf(b, "%-*s  %s", (int)wm, p->method ? p->method : "-", nodes);
		if (p->error)
			cg_buf_addf(b, "  (%s)", p->error);
		rtrim_from(b, start);
		cg_buf_adds(b, "\n");
	}
	if (!l->n)
		cg_buf_adds(b, "(nothing to measure)\n");
}

/* Inner width of a DC's box. */
static size_t box_inner(const struct cg_lat_dc *d)
{
	return umax(11, umax(strlen(d->name), strlen(d->region ? d->region : "")) + 2);
}

static const struct cg_lat_pair *dc_pair(const struct cg_latency *l, const char *a, const char *b)
{
	for (int i = 0; i < l->n; i++) {
		const struct cg_lat_pair *p = &l->v[i];
		if (p->scope == CG_LAT_DC && ((!strcmp(p->a, a) && !strcmp(p->b, b)) ||
					      (!strcmp(p->a, b) && !strcmp(p->b, a))))
			return p;
	}
	return NULL;
}

/* One row of boxes: DCs idx[0..n), box i starting at column x[i], the gap
 * after box i (to box i+1) labelled lab[i]. Five lines. */
static void box_row(const struct cg_latency *l, const int *idx, const size_t *x, int n,
		    char lab[][32], struct cg_buf *b)
{
	for (int line = 0; line < 5; line++) {
		size_t start = b->len;
		for (int k = 0; k < n; k++) {
			const struct cg_lat_dc *d = &l->dcs[idx[k]];
			size_t w = box_inner(d), col = b->len - start;
			if (col < x[k])
				pad(b, ' ', x[k] - col);
			switch (line) {
			case 0: case 4: cg_buf_adds(b, " "); pad(b, '-', w); cg_buf_adds(b, " "); break;
			case 1: cg_buf_adds(b, "|"); center(b, d->name, w); cg_buf_adds(b, "|"); break;
			case 2: cg_buf_adds(b, "|"); pad(b, '=', w); cg_buf_adds(b, "|"); break;
			default: cg_buf_adds(b, "|"); center(b, d->region ? d->region : "", w);
				 cg_buf_adds(b, "|"); break;
			}
			if (k + 1 < n) {
				size_t gap = x[k + 1] - (x[k] + w + 2);
				if (line == 2) {
					cg_buf_adds(b, " <");
					pad(b, '-', gap - 4);
					cg_buf_adds(b, "> ");
				} else if (line == 3) {
					center(b, lab[k], gap);
				}
			}
		}
		rtrim_from(b, start);
		cg_buf_adds(b, "\n");
	}
}

void cg_report_latency_boxes(const struct cg_latency *l, struct cg_buf *b)
{
	cg_report_section(b, "Intra-Cluster latencies...");
	for (int i = 0; i < l->ndcs; i++) {
		const struct cg_lat_dc *d = &l->dcs[i];
		size_t w = box_inner(d);
		const struct cg_lat_pair *ps[64];
		int np = 0;
		for (int k = 0; k < l->n && np < 64; k++)
			if (l->v[k].scope == CG_LAT_ZONE && !strcmp(l->v[k].dc, d->name))
				ps[np++] = &l->v[k];
		int rows = np > 3 ? np : 3, first = (rows - (np ? np : 1)) / 2;
		cg_buf_adds(b, " "), pad(b, '-', w), cg_buf_adds(b, "\n");
		for (int r = 0; r < rows; r++) {
			size_t start = b->len;
			cg_buf_adds(b, "|");
			if (r == 0)
				center(b, d->name, w);
			else if (r == 1)
				pad(b, '=', w);
			else if (r == 2)
				center(b, d->region ? d->region : "", w);
			else
				pad(b, ' ', w);
			cg_buf_adds(b, "| ");
			int k = r - first;
			if (!np && r == first) {
				cg_buf_adds(b, "one zone: nothing to measure");
			} else if (k >= 0 && k < np) {
				char t[32];
				ms_text(ps[k], t, sizeof(t));
				cg_buf_addf(b, "%s <----> %s : %s", ps[k]->a, ps[k]->b, t);
				if (ps[k]->samples > 0)
					cg_buf_addf(b, " (min %.2f, max %.2f)", ps[k]->min, ps[k]->max);
				else if (ps[k]->error)
					cg_buf_addf(b, " (%s)", ps[k]->error);
			}
			rtrim_from(b, start);
			cg_buf_adds(b, "\n");
		}
		cg_buf_adds(b, " "), pad(b, '-', w), cg_buf_adds(b, "\n");
	}
	if (l->ndcs < 2)
		return;
	cg_report_section(b, "Inter-Cluster latencies...");
	/* First every DC in a chain (neighbours' latencies between them), then
	 * each farther pair on its own row, its boxes under the chain's. */
	int n = l->ndcs;
	int *idx = cg_xcalloc((size_t)n, sizeof(int));
	size_t *x = cg_xcalloc((size_t)n, sizeof(size_t));
	char (*lab)[32] = cg_xcalloc((size_t)n, sizeof(*lab));
	for (int i = 0; i < n; i++) {
		idx[i] = i;
		if (i + 1 < n) {
			const struct cg_lat_pair *p = dc_pair(l, l->dcs[i].name, l->dcs[i + 1].name);
			if (p)
				ms_text(p, lab[i], sizeof(lab[i]));
			else
				snprintf(lab[i], sizeof(lab[i]), "n/a");
		}
		if (i > 0)
			x[i] = x[i - 1] + box_inner(&l->dcs[i - 1]) + 2 +
			       umax(16, strlen(lab[i - 1]) + 4);
	}
	box_row(l, idx, x, n, lab, b);
	for (int i = 0; i < n; i++)
		for (int j = i + 2; j < n; j++) {
			const struct cg_lat_pair *p = dc_pair(l, l->dcs[i].name, l->dcs[j].name);
			int two[2] = {i, j};
			size_t xs[2] = {x[i], x[j]};
			char l2[2][32] = {"n/a", ""};
			if (p)
				ms_text(p, l2[0], sizeof(l2[0]));
			cg_buf_adds(b, "\n");
			box_row(l, two, xs, 2, l2, b);
		}
	free(idx);
	free(x);
	free(lab);
}

static void json_num(struct cg_buf *b, const char *key, double v, bool ok)
{
	if (ok)
		cg_buf_addf(b, ",\"%s\":%.3f", key, v);
	else
		cg_buf_addf(b, ",\"%s\":null", key);
}

static void json_kv(struct cg_buf *b, const char *sep, const char *key, const char *v)
{
	cg_buf_addf(b, "%s\"%s\":", sep, key);
	if (v)
		cg_buf_add_json(b, v);
	else
		cg_buf_adds(b, "null");
}

static void pair_json(const struct cg_lat_pair *p, struct cg_buf *b)
{
	cg_buf_adds(b, "{");
	if (p->scope == CG_LAT_ZONE) {
		json_kv(b, "", "dc", p->dc);
		json_kv(b, ",", "zone_a", p->a);
		json_kv(b, ",", "zone_b", p->b);
	} else {
		json_kv(b, "", "dc_a", p->a);
		json_kv(b, ",", "dc_b", p->b);
	}
	json_kv(b, ",", "from", p->from);
	json_kv(b, ",", "to", p->to);
	json_kv(b, ",", "from_address", p->from_ip);
	json_kv(b, ",", "to_address", p->to_ip);
	json_kv(b, ",", "method", p->method);
	cg_buf_addf(b, ",\"samples\":%d", p->samples);
	json_num(b, "min_ms", p->min, p->samples > 0);
	json_num(b, "avg_ms", p->avg, p->samples > 0);
	json_num(b, "max_ms", p->max, p->samples > 0);
	json_kv(b, ",", "error", p->error);
	cg_buf_adds(b, "}");
}

void cg_report_latency_json(const struct cg_latency *l, struct cg_buf *b)
{
	cg_buf_adds(b, "{");
	json_kv(b, "", "cluster", l->cluster);
	cg_buf_adds(b, ",\"datacenters\":[");
	for (int i = 0; i < l->ndcs; i++) {
		cg_buf_adds(b, i ? ",{" : "{");
		json_kv(b, "", "name", l->dcs[i].name);
		json_kv(b, ",", "region", l->dcs[i].region);
		cg_buf_adds(b, "}");
	}
	for (int s = 0; s < 2; s++) {
		cg_buf_adds(b, s ? "],\"dc_pairs\":[" : "],\"zone_pairs\":[");
		int k = 0;
		for (int i = 0; i < l->n; i++)
			if ((int)l->v[i].scope == (s ? CG_LAT_DC : CG_LAT_ZONE)) {
				if (k++)
					cg_buf_adds(b, ",");
				pair_json(&l->v[i], b);
			}
	}
	cg_buf_adds(b, "]}\n");
}

/* --- status ---------------------------------------------------------------- */

static bool node_ok(const struct cg_ring_node *n)
{
	return n->status == 'U' && n->state == 'N';
}

int cg_report_ring_problems(const struct cg_ring *r, int expected)
{
	int bad = 0;
	for (int i = 0; i < r->n; i++)
		bad += !node_ok(&r->v[i]);
	if (expected >= 0 && r->n < expected)
		bad += expected - r->n;
	return bad;
}

static const char *status_word(char s)
{
	return s == 'U' ? "up" : s == 'D' ? "down" : "unknown";
}

static const char *state_word(char s)
{
	switch (s) {
	case 'N': return "normal";
	case 'L': return "leaving";
	case 'J': return "joining";
	case 'M': return "moving";
	default: return "unknown";
	}
}

/* Node order for display: DCs in order of first appearance, racks by name,
 * then nodetool's order (stable), whatever order nodetool listed them in. */
struct ord {
	const struct cg_ring *r;
	int i, dc;
};

static int ord_cmp(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;
	if (x->dc != y->dc)
		return x->dc < y->dc ? -1 : 1;
	int c = strcmp(x->r->v[x->i].rack, y->r->v[y->i].rack);
	return c ? c : x->i - y->i;
}

static int *ring_order(const struct cg_ring *r)
{
	struct ord *v = cg_xcalloc((size_t)(r->n ? r->n : 1), sizeof(*v));
	int *o = cg_xcalloc((size_t)(r->n ? r->n : 1), sizeof(int));
	for (int i = 0; i < r->n; i++) {
		v[i].r = r;
		v[i].i = i;
		v[i].dc = i;
		for (int j = 0; j < i; j++)
			if (!strcmp(r->v[j].dc, r->v[i].dc)) {
				v[i].dc = j;
				break;
			}
	}
	qsort(v, (size_t)r->n, sizeof(*v), ord_cmp);
	for (int i = 0; i < r->n; i++)
		o[i] = v[i].i;
	free(v);
	return o;
}

void cg_report_status_text(const char *cluster, const char *seen_from, const struct cg_ring *r,
			   int expected, bool color, struct cg_buf *b)
{
	size_t wa = 7, wr = 4, wl = 4;
	for (int i = 0; i < r->n; i++) {
		wa = umax(wa, strlen(r->v[i].address));
		wr = umax(wr, strlen(r->v[i].rack));
		wl = umax(wl, strlen(r->v[i].load));
	}
	int *o = ring_order(r);
	cg_buf_addf(b, "Ring of %s as seen from %s\n", cluster, seen_from);
	const char *dc = NULL;
	for (int k = 0; k < r->n; k++) {
		const struct cg_ring_node *n = &r->v[o[k]];
		if (!dc || strcmp(dc, n->dc)) {
			dc = n->dc;
			int up = 0, all = 0;
			for (int i = 0; i < r->n; i++)
				if (!strcmp(r->v[i].dc, dc))
					all++, up += node_ok(&r->v[i]);
			cg_buf_addf(b, "\nDatacenter: %s (%d of %d up and normal)\n", dc, up, all);
			size_t start = b->len;
			cg_buf_addf(b, "  %-2s  %-*s  %-*s  %-*s  %6s  %7s  %s", "ST", (int)wa,
				    "ADDRESS", (int)wr, "RACK", (int)wl, "LOAD", "TOKENS", "OWNS",
				    "HOST ID");
			rtrim_from(b, start);
			cg_buf_adds(b, "\n");
		}
		char owns[16];
		if (n->owns < 0)
			snprintf(owns, sizeof(owns), "?");
		else
			snprintf(owns, sizeof(owns), "%.1f%%", n->owns);
		size_t start = b->len;
		cg_buf_addf(b, "  %c%c  %-*s  %-*s  %-*s  %6d  %7s  %s", n->status, n->state,
			    (int)wa, n->address, (int)wr, n->rack, (int)wl, n->load, n->tokens,
			    owns, n->host_id ? n->host_id : "");
		if (!node_ok(n)) {
			char m[64];
			if (n->status != 'U')
				snprintf(m, sizeof(m), "<-- %s", n->status == 'D' ? "DOWN" : "UNKNOWN");
			else
				snprintf(m, sizeof(m), "<-- %s", n->state == 'L' ? "LEAVING" :
					 n->state == 'J' ? "JOINING" : n->state == 'M' ? "MOVING" :
					 "NOT NORMAL");
			cg_buf_addf(b, "  %s%s%s", color ? "\033[1;31m" : "", m, color ? "\033[0m" : "");
		}
		rtrim_from(b, start);
		cg_buf_adds(b, "\n");
	}
	free(o);
	int bad = cg_report_ring_problems(r, expected);
	int ok = 0;
	for (int i = 0; i < r->n; i++)
		ok += node_ok(&r->v[i]);
	if (!bad)
		cg_buf_addf(b, "\nHealthy: %d node%s, all up and normal.\n", r->n, r->n == 1 ? "" : "s");
	else if (expected >= 0 && r->n < expected)
		cg_buf_addf(b, "\n%sNOT HEALTHY%s: %d of %d nodes up and normal; %d expected, %d in "
			    "the ring.\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "", ok,
			    r->n, expected, r->n);
	else
		cg_buf_addf(b, "\n%sNOT HEALTHY%s: %d of %d nodes up and normal.\n",
			    color ? "\033[1;31m" : "", color ? "\033[0m" : "", ok, r->n);
}

void cg_report_status_json(const char *cluster, const char *seen_from, const struct cg_ring *r,
			   int expected, const struct cg_cost *cost, struct cg_buf *b)
{
	int *o = ring_order(r);
	int ok = 0;
	for (int i = 0; i < r->n; i++)
		ok += node_ok(&r->v[i]);
	cg_buf_adds(b, "{");
	json_kv(b, "", "cluster", cluster);
	json_kv(b, ",", "seen_from", seen_from);
	cg_buf_addf(b, ",\"healthy\":%s,\"nodes_total\":%d,\"nodes_up_normal\":%d",
		    cg_report_ring_problems(r, expected) ? "false" : "true", r->n, ok);
	if (expected >= 0)
		cg_buf_addf(b, ",\"nodes_expected\":%d", expected);
	if (cost) {
		cg_buf_adds(b, ",\"cost\":");
		cg_cost_render_json(cost, b);
	}
	cg_buf_adds(b, ",\"nodes\":[");
	for (int k = 0; k < r->n; k++) {
		const struct cg_ring_node *n = &r->v[o[k]];
		char st[3] = {n->status, n->state, 0};
		cg_buf_adds(b, k ? ",{" : "{");
		json_kv(b, "", "dc", n->dc);
		json_kv(b, ",", "rack", n->rack);
		json_kv(b, ",", "address", n->address);
		json_kv(b, ",", "status", st);
		json_kv(b, ",", "up", status_word(n->status));
		json_kv(b, ",", "state", state_word(n->state));
		json_kv(b, ",", "load", n->load);
		cg_buf_addf(b, ",\"tokens\":%d", n->tokens);
		json_num(b, "owns_percent", n->owns, n->owns >= 0);
		json_kv(b, ",", "host_id", n->host_id);
		cg_buf_addf(b, ",\"ok\":%s}", node_ok(n) ? "true" : "false");
	}
	cg_buf_adds(b, "]}\n");
	free(o);
}

/* --- how to connect -------------------------------------------------------- */

void cg_conn_free(struct cg_conn *c)
{
	for (int i = 0; i < c->n; i++) {
		struct cg_conn_node *n = &c->v[i];
		free(n->dc), free(n->region), free(n->zone), free(n->name);
		free(n->private_ip), free(n->public_ip), free(n->ssh), free(n->cqlsh);
	}
	free(c->v);
	free(c->cluster);
	free(c->monitoring_url);
	free(c->ca_file), free(c->user), free(c->password_file), free(c->cqlshrc);
	cg_cost_free(&c->cost);
	memset(c, 0, sizeof(*c));
}

struct cg_conn_node *cg_conn_add(struct cg_conn *c)
{
	c->v = cg_xrealloc(c->v, (size_t)(c->n + 1) * sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(*c->v));
	return &c->v[c->n++];
}

void cg_report_output_text(const struct cg_conn *c, struct cg_buf *b)
{
	char t[300];
	snprintf(t, sizeof(t), "How to connect to %s's nodes...", c->cluster);
	cg_report_section(b, t);
	const char *dc = NULL;
	for (int i = 0; i < c->n; i++) {
		const struct cg_conn_node *n = &c->v[i];
		if (!dc || strcmp(dc, n->dc)) {
			if (dc)
				cg_buf_adds(b, "\n");
			dc = n->dc;
			cg_buf_addf(b, "[%s] %s\n%s\n", n->dc, n->region ? n->region : "", RULE);
		}
		cg_buf_addf(b, "Node %d (%s, %s) : %s\n", n->node, n->zone ? n->zone : "?",
			    n->private_ip ? n->private_ip : "?", n->ssh ? n->ssh : "(no address yet)");
	}
	if (!c->n)
		cg_buf_adds(b, "(no node recorded: run 'cassandgo apply' first)\n");
	for (int i = 0; i < c->n; i++)
		if (c->v[i].cqlsh) {
			cg_report_section(b, "CQL shell");
			cg_buf_addf(b, "%s\n", c->v[i].cqlsh);
			cg_buf_adds(b, "On every node (cassandgo ssh CLUSTER NODE), the login user has "
				    "nodetool and cqlsh with the cluster's TLS and credentials\n");
			break;
		}
	cg_report_section(b, "Security");
	if (c->tls && c->auth) {
		cg_buf_addf(b, "TLS is required on 9042 and between nodes; clients log in with a password.\n"
			    "  CA certificate : %s\n"
			    "  user           : %s\n"
			    "  password       : in %s (0600, the password alone on one line)\n",
			    c->ca_file ? c->ca_file : "?", c->user ? c->user : "?",
			    c->password_file ? c->password_file : "?");
		if (c->cqlshrc)
			cg_buf_addf(b, "  cqlsh          : --cqlshrc=%s (TLS checked against the CA, "
				    "credentials from a 0600 file)\n", c->cqlshrc);
		cg_buf_adds(b, "  drivers        : TLS with the CA above as the only trust anchor and "
			    "hostname checking on (nodes' certificates name their IP addresses), plain-text "
			    "authentication with the user and password above\n");
	} else {
		cg_buf_adds(b, "Off (`security: off`): no TLS, no authentication. Do not keep data here.\n");
	}
	if (c->monitoring_url) {
		cg_report_section(b, "Monitoring (Prometheus)");
		cg_buf_addf(b, "%s\n", c->monitoring_url);
	}
	if (c->cost.known) {
		cg_report_section(b, "Cost");
		cg_cost_render_running(&c->cost, b);
	}
}

void cg_report_output_json(const struct cg_conn *c, struct cg_buf *b)
{
	cg_buf_adds(b, "{");
	json_kv(b, "", "cluster", c->cluster);
	json_kv(b, ",", "monitoring_url", c->monitoring_url);
	cg_buf_adds(b, ",\"cost\":");
	cg_cost_render_json(&c->cost, b);
	cg_buf_addf(b, ",\"security\":{\"tls\":%s,\"auth\":%s", c->tls ? "true" : "false",
		    c->auth ? "true" : "false");
	json_kv(b, ",", "ca_file", c->ca_file);
	json_kv(b, ",", "user", c->user);
	json_kv(b, ",", "password_file", c->password_file);
	json_kv(b, ",", "cqlshrc", c->cqlshrc);
	cg_buf_adds(b, "}");
	cg_buf_adds(b, ",\"nodes\":[");
	for (int i = 0; i < c->n; i++) {
		const struct cg_conn_node *n = &c->v[i];
		cg_buf_adds(b, i ? ",{" : "{");
		json_kv(b, "", "name", n->name);
		json_kv(b, ",", "dc", n->dc);
		cg_buf_addf(b, ",\"node\":%d", n->node);
		json_kv(b, ",", "region", n->region);
		json_kv(b, ",", "zone", n->zone);
		json_kv(b, ",", "private_ip", n->private_ip);
		json_kv(b, ",", "public_ip", n->public_ip);
		json_kv(b, ",", "ssh", n->ssh);
		json_kv(b, ",", "cqlsh", n->cqlsh);
		cg_buf_adds(b, "}");
	}
	cg_buf_adds(b, "]}\n");
}
