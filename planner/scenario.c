/* scenario.c - see scenario.h. */
#include "scenario.h"
#include "yaml_tree.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FILE (1 << 20)

static const char *const top_keys[] = { "description", "load", "faults" };
static const char *const load_keys[] = { "workload", "rate", "duration", "consistency", "dcs" };
static const char *const fault_names[] = { "kill", "stop", "pause", "partition", "delay", "heal" };
static const char *const fault_keys[] = { "at", "kill", "stop", "pause", "partition", "delay",
					  "heal", "seconds", "ms" };

const char *cg_fault_name(enum cg_fault_kind k)
{
	return (unsigned)k < NELEM(fault_names) ? fault_names[k] : "?";
}

void cg_fault_label(const struct cg_scenario_fault *f, struct cg_buf *b)
{
	cg_buf_addf(b, "%s %s", cg_fault_name(f->kind), f->target);
	if (f->kind == CG_FAULT_PAUSE)
		cg_buf_addf(b, " for %d s", f->arg);
	else if (f->kind == CG_FAULT_DELAY)
		cg_buf_addf(b, " by %d ms", f->arg);
}

void cg_scenario_free(struct cg_scenario *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfaults; i++)
		free(s->faults[i].target);
	free(s->faults);
	for (int i = 0; i < s->ndcs; i++)
		free(s->dcs[i]);
	free(s->dcs);
	free(s->description);
	free(s->path);
	free(s);
}

/* A time in whole seconds: 90, "90s", "2m", "1m30s". -1 when it is none. */
static long parse_time(const struct ynode *v)
{
	if (v->type != Y_SCALAR || cg_yaml_is_null(v))
		return -1;
	const char *p = v->value;
	long total = 0;
	bool unit_seen = false, last_unit_m = false;
	if (!*p)
		return -1;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		long n = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 6)
				return -1;
			n = n * 10 + (*p++ - '0');
		}
		if (!*p) {	/* a bare number: seconds, and only alone */
			if (unit_seen)
				return -1;
			return v->quoted ? -1 : n;
		}
		if (*p == 'm' && !unit_seen) {
			total += n * 60;
			last_unit_m = true;
		} else if (*p == 's' && (!unit_seen || last_unit_m)) {
			total += n;
			last_unit_m = false;
			if (p[1])
				return -1;
		} else {
			return -1;
		}
		unit_seen = true;
		p++;
	}
	return total;
}

static int want_time(struct ld *ld, const struct ynode *v, const char *key, long min, long max,
		     long *out)
{
	char b[128], exp[160];
	snprintf(exp, sizeof(exp), "a time in seconds from %ld to %ld, such as 30, 30s, 2m or "
		 "1m30s", min, max);
	long t = parse_time(v);
	if (t < 0)
		return cg_yaml_fail(ld, v->pos, key, exp, "got %s", cg_yaml_describe(v, b, sizeof(b)));
	if (t < min || t > max)
		return cg_yaml_fail(ld, v->pos, key, exp, "%ld s is out of range", t);
	*out = t;
	return 0;
}

/* "DC1, DC2" */
static char *dc_list(const struct cg_cluster *c)
{
	struct cg_buf b = {0};
	for (int d = 0; d < c->ndcs; d++)
		cg_buf_addf(&b, "%s%s", d ? ", " : "", c->dcs[d].name);
	return cg_buf_detach(&b);
}

static int dc_index(const struct cg_cluster *c, const char *name)
{
	for (int d = 0; d < c->ndcs; d++)
		if (!strcmp(c->dcs[d].name, name))
			return d;
	return -1;
}

/* The error for an unknown DC s at v: the valid names, maybe a did-you-mean. */
static int unknown_dc(struct ld *ld, const struct cg_cluster *c, const struct ynode *v,
		      const char *key, const char *what, const char *extra)
{
	const char **names = cg_xcalloc((size_t)c->ndcs, sizeof(char *));
	for (int d = 0; d < c->ndcs; d++)
		names[d] = c->dcs[d].name;
	char *list = dc_list(c);
	char *exp = cg_xasprintf("one of the datacenters of %s: %s%s", c->name, list,
				 extra ? extra : "");
	const char *dym = cg_yaml_closest(v->value, names, c->ndcs);
	int rc = dym ? cg_yaml_fail(ld, v->pos, key, exp, "unknown %s '%s' (did you mean '%s'?)",
				    what, v->value, dym)
		     : cg_yaml_fail(ld, v->pos, key, exp, "unknown %s '%s'", what, v->value);
	free(exp);
	free(list);
	free(names);
	return rc;
}

static int load_load(struct ld *ld, const struct cg_cluster *c, const struct ynode *m,
		     struct cg_scenario *s)
{
	char b[128];
	if (m->type != Y_MAP)
		return cg_yaml_fail(ld, m->pos, "load", "a mapping with duration and optionally "
				    "workload, rate, consistency and dcs", "got %s",
				    cg_yaml_describe(m, b, sizeof(b)));
	bool have_duration = false;
	for (int i = 0; i < m->nkids; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		char *key = cg_xasprintf("load.%s", k->value);
		const char *str;
		int rc = 0;
		if (!cg_yaml_in_list(k->value, load_keys, NELEM(load_keys))) {
			rc = cg_yaml_unknown_key(ld, k, key, load_keys, NELEM(load_keys), NULL);
		} else if (!strcmp(k->value, "workload")) {
			rc = cg_yaml_string(ld, v, key, "write, read or mixed", &str);
			if (rc == 0 && cg_stress_workload_parse(str, &s->workload) < 0)
				rc = cg_yaml_fail(ld, v->pos, key, "write, read or mixed",
						  "unknown workload '%s'", str);
		} else if (!strcmp(k->value, "rate")) {
			int r = 0;
			rc = cg_yaml_int(ld, v, key, 1, 10000000, &r);
			s->rate = r;
		} else if (!strcmp(k->value, "duration")) {
			long t = 0;
			rc = want_time(ld, v, key, 1, 86400, &t);
			s->duration_s = (int)t;
			have_duration = true;
		} else if (!strcmp(k->value, "consistency")) {
			const char *exp = "ONE, TWO, THREE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
					  "EACH_QUORUM or ANY";
			rc = cg_yaml_string(ld, v, key, exp, &str);
			if (rc == 0 && !(s->consistency = cg_stress_consistency(str)))
				rc = cg_yaml_fail(ld, v->pos, key, exp, "unknown consistency level "
						  "'%s'", str);
		} else {	/* dcs */
			if (v->type != Y_SEQ || !v->nkids) {
				char *list = dc_list(c);
				char *exp = cg_xasprintf("a non-empty list of datacenters such as [%s]",
							 list);
				rc = cg_yaml_fail(ld, v->pos, key, exp, "got %s", v->type == Y_SEQ ?
						  "an empty list" : cg_yaml_describe(v, b, sizeof(b)));
				free(exp);
				free(list);
			}
			for (int j = 0; rc == 0 && j < v->nkids; j++) {
				const struct ynode *e = v->kids[j];
				char *ek = cg_xasprintf("%s[%d]", key, j);
				rc = cg_yaml_string(ld, e, ek, "a datacenter name", &str);
				if (rc == 0 && dc_index(c, str) < 0)
					rc = unknown_dc(ld, c, e, ek, "datacenter", NULL);
				for (int x = 0; rc == 0 && x < s->ndcs; x++)
					if (!strcmp(s->dcs[x], str))
						rc = cg_yaml_fail(ld, e->pos, ek, "each datacenter once",
								  "%s is listed twice", str);
				if (rc == 0) {
					s->dcs = cg_xrealloc(s->dcs, (size_t)(s->ndcs + 1) * sizeof(char *));
					s->dcs[s->ndcs++] = cg_xstrdup(str);
				}
				free(ek);
			}
		}
		free(key);
		if (rc < 0)
			return -1;
	}
	if (!have_duration)
		return cg_yaml_fail(ld, m->pos, "load", "duration: in load (seconds, such as 120)",
				    "missing required key duration");
	return 0;
}

/* "DC1.n1 to DC1.n3, DC2.n1 to DC2.n2" */
static char *node_list(const struct cg_cluster *c)
{
	struct cg_buf b = {0};
	for (int d = 0; d < c->ndcs; d++) {
		cg_buf_addf(&b, "%s%s.n1", d ? ", " : "", c->dcs[d].name);
		if (c->dcs[d].nodes > 1)
			cg_buf_addf(&b, " to %s.n%d", c->dcs[d].name, c->dcs[d].nodes);
	}
	return cg_buf_detach(&b);
}

/* DC.nK of the cluster's config: a DC of it, 1 <= K <= its nodes. */
static int want_node(struct ld *ld, const struct cg_cluster *c, const struct ynode *v,
		     const char *key)
{
	char *list = node_list(c);
	char *exp = cg_xasprintf("a node of %s: %s", c->name, list);
	int rc = 0;
	const char *s, *dot;
	if (cg_yaml_string(ld, v, key, exp, &s) < 0) {
		rc = -1;
	} else if (!(dot = strrchr(s, '.')) || dot[1] != 'n' || !isdigit((unsigned char)dot[2])) {
		rc = cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a node name (DC.nN)", s);
	} else {
		char *dc = cg_xstrndup(s, (size_t)(dot - s));
		char *end;
		long k = strtol(dot + 2, &end, 10);
		int d = dc_index(c, dc);
		if (d < 0) {
			const char **names = cg_xcalloc((size_t)c->ndcs, sizeof(char *));
			for (int i = 0; i < c->ndcs; i++)
				names[i] = c->dcs[i].name;
			const char *dym = cg_yaml_closest(dc, names, c->ndcs);
			rc = dym ? cg_yaml_fail(ld, v->pos, key, exp, "no datacenter '%s' (did you "
						"mean '%s'?)", dc, dym)
				 : cg_yaml_fail(ld, v->pos, key, exp, "no datacenter '%s'", dc);
			free(names);
		} else if (*end || dot[2] == '0' || k < 1 || k > c->dcs[d].nodes) {
			rc = cg_yaml_fail(ld, v->pos, key, exp, "%s has no node %s (it has %d)", dc,
					  dot + 1, c->dcs[d].nodes);
		}
		free(dc);
	}
	free(exp);
	free(list);
	return rc;
}

/* A DC, or a zone of one: listed in the config, or, where the provider
 * picks the zones (none listed), its region and a letter (eu-west-1a). */
static int want_group(struct ld *ld, const struct cg_cluster *c, const struct ynode *v,
		      const char *key)
{
	const char *s;
	if (cg_yaml_string(ld, v, key, "a datacenter or zone name", &s) < 0)
		return -1;
	struct cg_buf zones = {0};
	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		if (!strcmp(dc->name, s))
			goto ok;
		for (int z = 0; z < dc->nzones; z++) {
			if (!strcmp(dc->zones[z], s))
				goto ok;
			cg_buf_addf(&zones, ", %s", dc->zones[z]);
		}
		size_t rl = strlen(dc->region);
		if (!dc->nzones) {
			if (!strncmp(s, dc->region, rl) && islower((unsigned char)s[rl]) && !s[rl + 1])
				goto ok;
			cg_buf_addf(&zones, ", %sa, %sb...", dc->region, dc->region);
		}
	}
	int rc = unknown_dc(ld, c, v, key, "datacenter or zone", zones.data ? " or a zone: " : NULL);
	if (zones.data) {	/* the zones follow the message's "expected" part */
		size_t l = strlen(ld->err->msg);
		snprintf(ld->err->msg + l, sizeof(ld->err->msg) - l, "%s", zones.data + 2);
	}
	cg_buf_free(&zones);
	return rc;
ok:
	cg_buf_free(&zones);
	return 0;
}

static int load_fault(struct ld *ld, const struct cg_cluster *c, const struct ynode *m,
		      const char *path, int duration, struct cg_scenario_fault *f)
{
	char b[128];
	const char *what_exp = "one of kill, stop, pause, partition, delay or heal with its target, "
			       "such as {at: 30, kill: DC1.n2}";
	f->pos = m->pos;
	if (m->type != Y_MAP)
		return cg_yaml_fail(ld, m->pos, path, "a mapping such as {at: 30, kill: DC1.n2}",
				    "got %s", cg_yaml_describe(m, b, sizeof(b)));
	const struct ynode *at = NULL, *kind = NULL, *secs = NULL, *ms = NULL;
	int kind_i = -1;
	for (int i = 0; i < m->nkids; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		char *key = cg_xasprintf("%s.%s", path, k->value);
		int rc = 0;
		if (!cg_yaml_in_list(k->value, fault_keys, NELEM(fault_keys))) {
			rc = cg_yaml_unknown_key(ld, k, key, fault_keys, NELEM(fault_keys),
						 cg_yaml_closest(k->value, fault_keys, NELEM(fault_keys))
						 ? NULL : "faults are kill, stop, pause, partition, "
						 "delay and heal");
		} else if (!strcmp(k->value, "at")) {
			at = v;
		} else if (!strcmp(k->value, "seconds")) {
			secs = k;
		} else if (!strcmp(k->value, "ms")) {
			ms = k;
		} else if (kind) {
			rc = cg_yaml_fail(ld, k->pos, key, "one fault per entry",
					  "a second fault '%s' beside '%s' (line %d)", k->value,
					  kind->value, kind->pos.line);
		} else {
			kind = k;
			for (int x = 0; x < (int)NELEM(fault_names); x++)
				if (!strcmp(fault_names[x], k->value))
					kind_i = x;
		}
		free(key);
		if (rc < 0)
			return -1;
	}
	if (!kind)
		return cg_yaml_fail(ld, m->pos, path, what_exp, "no fault in this entry");
	f->kind = (enum cg_fault_kind)kind_i;
	const struct ynode *tv = m->kids[0];
	for (int i = 0; i < m->nkids; i += 2)
		if (m->kids[i] == kind)
			tv = m->kids[i + 1];
	char *key = cg_xasprintf("%s.%s", path, kind->value);
	int rc;
	if (f->kind == CG_FAULT_KILL || f->kind == CG_FAULT_STOP || f->kind == CG_FAULT_PAUSE) {
		rc = want_node(ld, c, tv, key);
	} else if (f->kind == CG_FAULT_HEAL) {
		rc = tv->type == Y_SCALAR && !tv->quoted && !strcmp(tv->value, "all")
			? 0 : want_node(ld, c, tv, key);
		if (rc < 0) {	/* say that all is right too */
			size_t l = strlen(ld->err->msg);
			snprintf(ld->err->msg + l, sizeof(ld->err->msg) - l, ", or all");
		}
	} else {
		rc = want_group(ld, c, tv, key);
	}
	free(key);
	if (rc < 0)
		return -1;
	f->target = cg_xstrdup(tv->value);
	/* seconds with pause only, ms with delay only, each required there */
	const struct ynode *extra[2] = { secs, ms };
	const char *ename[2] = { "seconds", "ms" };
	enum cg_fault_kind owner[2] = { CG_FAULT_PAUSE, CG_FAULT_DELAY };
	for (int e = 0; e < 2; e++) {
		char *ek = cg_xasprintf("%s.%s", path, ename[e]);
		rc = 0;
		if (extra[e] && f->kind != owner[e]) {
			char *exp = cg_xasprintf("%s only beside %s", ename[e], cg_fault_name(owner[e]));
			rc = cg_yaml_fail(ld, extra[e]->pos, ek, exp, "'%s' takes no %s",
					  cg_fault_name(f->kind), ename[e]);
			free(exp);
		} else if (!extra[e] && f->kind == owner[e]) {
			rc = cg_yaml_fail(ld, kind->pos, path, e ? "ms: 1 to 10000 beside delay"
					  : "seconds: 1 to 3600 beside pause", "missing %s",
					  ename[e]);
		} else if (extra[e]) {
			const struct ynode *v = NULL;
			for (int i = 0; i < m->nkids; i += 2)
				if (m->kids[i] == extra[e])
					v = m->kids[i + 1];
			rc = cg_yaml_int(ld, v, ek, 1, e ? 10000 : 3600, &f->arg);
		}
		free(ek);
		if (rc < 0)
			return -1;
	}
	if (!at)
		return cg_yaml_fail(ld, m->pos, path, "at: the time of the fault in seconds after "
				    "the load starts, such as at: 30", "missing at");
	char *ak = cg_xasprintf("%s.at", path);
	long t = parse_time(at);
	if (t < 0) {
		rc = want_time(ld, at, ak, 0, duration - 1, &t);
	} else if (t >= duration) {
		char *exp = cg_xasprintf("a time within the load, 0 to %d s (load.duration is "
					 "%d s)", duration - 1, duration);
		rc = cg_yaml_fail(ld, at->pos, ak, exp, "%ld s is beyond the load's end", t);
		free(exp);
	} else if (f->kind == CG_FAULT_PAUSE && t + f->arg > duration) {
		char *exp = cg_xasprintf("a pause that ends within the load (by %d s)", duration);
		rc = cg_yaml_fail(ld, at->pos, ak, exp, "the pause of %d s from %ld s ends at %ld s",
				  f->arg, t, t + f->arg);
		free(exp);
	}
	free(ak);
	f->at_s = (double)t;
	return rc;
}

static int cmp_fault(const void *a, const void *b)
{
	const struct cg_scenario_fault *x = a, *y = b;
	if (x->at_s != y->at_s)
		return x->at_s < y->at_s ? -1 : 1;
	/* file order within one time (qsort is not stable) */
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	return x->pos.col < y->pos.col ? -1 : x->pos.col > y->pos.col;
}

static int load_root(struct ld *ld, const struct cg_cluster *c, const struct ynode *root,
		     struct cg_scenario *s)
{
	char b[128];
	struct cg_pos top = { 1, 1 };
	const char *exp = "a mapping with load: and faults: (see examples/scenario-node-loss.yaml)";
	if (!root || cg_yaml_is_null(root))
		return cg_yaml_fail(ld, top, "(file)", exp, "empty file");
	if (root->type != Y_MAP)
		return cg_yaml_fail(ld, root->pos, "(top level)", exp, "got %s",
				    cg_yaml_describe(root, b, sizeof(b)));
	const struct ynode *load = NULL, *faults = NULL;
	for (int i = 0; i < root->nkids; i += 2) {
		const struct ynode *k = root->kids[i], *v = root->kids[i + 1];
		const char *str;
		if (!cg_yaml_in_list(k->value, top_keys, NELEM(top_keys)))
			return cg_yaml_unknown_key(ld, k, k->value, top_keys, NELEM(top_keys), NULL);
		if (!strcmp(k->value, "load")) {
			load = v;
		} else if (!strcmp(k->value, "faults")) {
			faults = v;
		} else {
			if (cg_yaml_string(ld, v, "description", "one line of text", &str) < 0)
				return -1;
			s->description = cg_xstrdup(str);
		}
	}
	if (!load)
		return cg_yaml_fail(ld, root->pos, "(top level)", "load: with at least its duration",
				    "missing required key load");
	if (load_load(ld, c, load, s) < 0)
		return -1;
	if (!s->ndcs)
		for (int d = 0; d < c->ndcs; d++) {
			s->dcs = cg_xrealloc(s->dcs, (size_t)(s->ndcs + 1) * sizeof(char *));
			s->dcs[s->ndcs++] = cg_xstrdup(c->dcs[d].name);
		}
	if (!faults || cg_yaml_is_null(faults))
		return 0;
	if (faults->type != Y_SEQ)
		return cg_yaml_fail(ld, faults->pos, "faults", "a list such as [{at: 30, kill: "
				    "DC1.n2}, {at: 60, heal: all}]", "got %s",
				    cg_yaml_describe(faults, b, sizeof(b)));
	if (faults->nkids > CG_SCENARIO_MAX_FAULTS)
		return cg_yaml_fail(ld, faults->pos, "faults", "at most 1000 faults", "%d faults",
				    faults->nkids);
	s->faults = cg_xcalloc((size_t)faults->nkids + 1, sizeof(*s->faults));
	for (int i = 0; i < faults->nkids; i++) {
		char *p = cg_xasprintf("faults[%d]", i);
		int rc = load_fault(ld, c, faults->kids[i], p, s->duration_s, &s->faults[s->nfaults]);
		free(p);
		s->nfaults++;	/* its target (if any) is freed with the rest */
		if (rc < 0)
			return -1;
	}
	qsort(s->faults, (size_t)s->nfaults, sizeof(*s->faults), cmp_fault);
	return 0;
}

int cg_scenario_load(const char *path, const struct cg_cluster *c, struct cg_scenario **out,
		     struct cg_err *err)
{
	struct cg_err local = {0};
	if (!err)
		err = &local;	/* the checks below read the message back */
	struct ld ld = { path, err, NULL };
	char *text = NULL;
	size_t len = 0;
	struct ynode *root = NULL;
	struct cg_pos top = { 1, 1 };
	int rc = -1;
	if (cg_file_read(path, &text, &len, err) < 0) {
		err->code = CG_EXIT_CONFIG;
		return -1;
	}
	struct cg_scenario *s = cg_xcalloc(1, sizeof(*s));
	s->path = cg_xstrdup(path);
	s->rate = 1000;
	s->consistency = "LOCAL_QUORUM";
	if (len > MAX_FILE) {
		cg_yaml_fail(&ld, top, "(file)", "a file under 1 MiB", "%zu bytes", len);
		goto out;
	}
	if (memchr(text, '\0', len)) {
		cg_yaml_fail(&ld, cg_yaml_offset_pos(text, len, (size_t)((char *)memchr(text, '\0', len) - text)),
			     "(file)", "a text file", "NUL byte");
		goto out;
	}
	if (cg_yaml_parse(&ld, text, len, &root) < 0 || load_root(&ld, c, root, s) < 0)
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	cg_scenario_free(s);
	cg_yaml_free(root);
	free(text);
	return rc;
}
