/* stress.c - see stress.h. */
#include "stress.h"
#include "../util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char cg_stress_tls_note[] =
	"latte encrypts its connections (TLS) but does not verify the nodes' certificates: it "
	"loads the cluster's CA and never checks the server against it, nor the address it "
	"dialled. Run stress only over networks you trust (the local provider's bridge, a "
	"VPC); cqlsh and drivers configured as 'cassandgo output' says do check.";

int cg_stress_workload_parse(const char *s, enum cg_stress_workload *out)
{
	static const char *const names[] = { "write", "read", "mixed" };
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, names[i])) {
			*out = (enum cg_stress_workload)i;
			return 0;
		}
	return -1;
}

const char *cg_stress_workload_name(enum cg_stress_workload w)
{
	return w == CG_STRESS_READ ? "read" : w == CG_STRESS_MIXED ? "mixed" : "write";
}

const char *cg_stress_functions(enum cg_stress_workload w)
{
	return w == CG_STRESS_READ ? "read" : w == CG_STRESS_MIXED ? "write:1,read:1" : "write";
}

const char *cg_stress_consistency(const char *s)
{
	static const char *const levels[] = { "ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL",
					      "LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM" };
	for (size_t i = 0; s && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(s, levels[i]))
			return levels[i];
	return NULL;
}

char *cg_stress_script(const struct cg_cluster *c)
{
	struct cg_buf repl = {0}, b = {0};
	cg_buf_adds(&repl, "{'class': 'NetworkTopologyStrategy'");
	for (int i = 0; i < c->ndcs; i++)
		cg_buf_addf(&repl, ", '%s': %d", c->dcs[i].name,
			    c->dcs[i].nodes < 3 ? c->dcs[i].nodes : 3);
	cg_buf_adds(&repl, "}");
	cg_buf_addf(&b,
		"//! cassandgo stress workload (written by cassandgo for latte %s).\n"
		"//! One cycle is one request: write = INSERT, read = SELECT by key; keys\n"
		"//! repeat over ROWS partitions, so reads after writes find rows.\n"
		"\n"
		"const KEYSPACE = \"%s\";\n"
		"const TABLE = \"kv\";\n"
		"// every DC of the cluster, RF min(3, nodes in the DC)\n"
		"const REPLICATION = \"%s\";\n"
		"const ROWS = 100000;\n"
		"const WRITE = \"write\";\n"
		"const READ = \"read\";\n"
		"\n"
		"// ALTER too: a keyspace made before a DC was added gains it.\n"
		"pub async fn schema(ctx) {\n"
		"    ctx.execute(`CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = ${REPLICATION}`).await?;\n"
		"    ctx.execute(`ALTER KEYSPACE ${KEYSPACE} WITH replication = ${REPLICATION}`).await?;\n"
		"    ctx.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.${TABLE} (id bigint PRIMARY KEY, value blob)`).await?;\n"
		"}\n"
		"\n"
		"// Preparing fails when the table is missing: latte's `schema` reports\n"
		"// success for statements Cassandra refused, `run` then stops here.\n"
		"pub async fn prepare(ctx) {\n"
		"    ctx.prepare(WRITE, `INSERT INTO ${KEYSPACE}.${TABLE} (id, value) VALUES (:id, :value)`).await?;\n"
		"    ctx.prepare(READ, `SELECT id, value FROM ${KEYSPACE}.${TABLE} WHERE id = :id`).await?;\n"
		"}\n"
		"\n"
		"pub async fn write(ctx, i) {\n"
		"    ctx.execute_prepared(WRITE, [latte::hash(i) %% ROWS, latte::blob(i, 100)]).await?\n"
		"}\n"
		"\n"
		"pub async fn read(ctx, i) {\n"
		"    ctx.execute_prepared(READ, [latte::hash(i) %% ROWS]).await?\n"
		"}\n",
		CG_STRESS_LATTE_VERSION, CG_STRESS_KEYSPACE, repl.data);
	cg_buf_free(&repl);
	return cg_buf_detach(&b);
}

void cg_stress_result_clear(struct cg_stress_result *r)
{
	free(r->dc);
	free(r->first_error);
	free(r->samples);
	memset(r, 0, sizeof(*r));
}

/* --- latte's report ------------------------------------------------------- */

/* Index of percentile p in the report's top-level list (-1 when absent). The
 * list holds f32 values: 99.9 reads back as 99.90000152. */
static int pct_index(const struct cg_json *pcts, double p)
{
	for (int i = 0; pcts && pcts->type == CG_JSON_ARR && i < pcts->n; i++) {
		double v;
		if (cg_json_num(&pcts->v[i], &v) && fabs(v - p) < 1e-3)
			return i;
	}
	return -1;
}

/* The value of percentile index i of a latency distribution
 * ({"percentiles": [{"value": ms}, ...]}). */
static bool pct_value(const struct cg_json *dist, int i, double *out)
{
	const struct cg_json *p = cg_json_get(dist, "percentiles");
	if (i < 0 || !p || p->type != CG_JSON_ARR || i >= p->n)
		return false;
	return cg_json_num(cg_json_get(&p->v[i], "value"), out) && *out >= 0;
}

/* A count: a non-negative integer below 2^53 (exact in a double). */
static bool count(const struct cg_json *j, uint64_t *out)
{
	double v;
	if (!cg_json_num(j, &v) || v < 0 || v > 9007199254740992.0 || v != floor(v))
		return false;
	*out = (uint64_t)v;
	return true;
}

/* RFC 3339 UTC as latte writes it ("2026-12-06T06:50:58.677100591Z"):
 * seconds since the epoch, 0 when it is something else. */
static double rfc3339_utc(const char *s)
{
	struct tm tm = {0};
	int used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
		return 0;
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	double frac = 0, scale = 0.1;
	const char *p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (strcmp(p, "Z"))
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t < 0 ? 0 : (double)t + frac;
}

/* Most samples kept per DC (one per second: a day). */
#define MAX_SAMPLES 86400

int cg_stress_report_parse(const char *text, size_t len, struct cg_stress_result *out,
			   struct cg_err *err)
{
	memset(out, 0, sizeof(*out));
	struct cg_json *j;
	if (cg_json_parse(text, len, &j, err) < 0)
		return cg_error_wrap(err, "latte report");
	const struct cg_json *res = cg_json_get(j, "result");
	const struct cg_json *pcts = cg_json_get(j, "percentiles");
	const struct cg_json *lat = cg_json_get(res, "cycle_latency");
	int i50 = pct_index(pcts, 50), i95 = pct_index(pcts, 95), i99 = pct_index(pcts, 99);
	int i999 = pct_index(pcts, 99.9), imax = pct_index(pcts, 100);
	const char *why = NULL;
	if (!res || res->type != CG_JSON_OBJ)
		why = "no \"result\" object";
	else if (!cg_json_num(cg_json_path(res, "cycle_throughput.value"), &out->ops_per_s) ||
		 out->ops_per_s < 0)
		why = "no result.cycle_throughput.value";
	else if (!pct_value(lat, i50, &out->p50_ms) || !pct_value(lat, i95, &out->p95_ms) ||
		 !pct_value(lat, i99, &out->p99_ms) || !pct_value(lat, i999, &out->p999_ms) ||
		 !pct_value(lat, imax, &out->max_ms))
		why = "no latency percentiles (50, 95, 99, 99.9, 100) in result.cycle_latency";
	else if (!count(cg_json_get(res, "cycle_count"), &out->ops))
		why = "no result.cycle_count";
	if (why) {
		cg_json_free(j);
		return cg_error(err, CG_EXIT_ERROR, "latte report: %s", why);
	}
	uint64_t n = 0;
	count(cg_json_get(res, "request_count"), &out->requests);
	double d;
	if (cg_json_num(cg_json_get(res, "elapsed_time_s"), &d) && d >= 0)
		out->duration_s = d;
	if (cg_json_num(cg_json_path(j, "conf.rate"), &d) && d > 0)
		out->target_rate = d;
	const struct cg_json *st = cg_json_get(res, "start_time");
	if (st && st->type == CG_JSON_STR)
		out->start_wall = rfc3339_utc(st->str);
	/* latte's own count misses failed requests (FACTS.md): add up the
	 * samples' request and cycle errors and keep the largest figure */
	uint64_t errs = 0, req_errs = 0, cyc_errs = 0;
	count(cg_json_get(res, "error_count"), &errs);
	const struct cg_json *errors = cg_json_get(res, "errors");
	if (errors && errors->type == CG_JSON_ARR && errors->n > 0 &&
	    errors->v[0].type == CG_JSON_STR)
		out->first_error = cg_xstrdup(errors->v[0].str);
	const struct cg_json *log = cg_json_get(res, "log");
	for (int i = 0; log && log->type == CG_JSON_ARR && i < log->n; i++) {
		const struct cg_json *s = &log->v[i];
		uint64_t re = 0, ce = 0;
		count(cg_json_get(s, "req_error_count"), &re);
		count(cg_json_get(s, "cycle_error_count"), &ce);
		req_errs += re;
		cyc_errs += ce;
		if (!out->first_error) {
			const struct cg_json *m = cg_json_get(s, "req_errors");
			if (m && m->type == CG_JSON_ARR && m->n > 0 && m->v[0].type == CG_JSON_STR)
				out->first_error = cg_xstrdup(m->v[0].str);
		}
		struct cg_stress_sample sm = {0};
		double t = 0, dur = 0, thr;
		const struct cg_json *sl = cg_json_get(s, "cycle_latency");
		if (n >= MAX_SAMPLES || !cg_json_num(cg_json_get(s, "time_s"), &t) ||
		    !cg_json_num(cg_json_get(s, "cycle_throughput"), &thr) || thr < 0)
			continue;	/* a sample without figures: skip it, keep the rest */
		cg_json_num(cg_json_get(s, "duration_s"), &dur);
		sm.t_s = t + (dur > 0 ? dur : 0);
		sm.ops_per_s = thr;
		if (!pct_value(sl, i50, &sm.p50_ms))
			sm.p50_ms = NAN;
		if (!pct_value(sl, i99, &sm.p99_ms))
			sm.p99_ms = NAN;
		sm.errors = re > ce ? re : ce;
		out->samples = cg_xrealloc(out->samples, (size_t)(n + 1) * sizeof(sm));
		out->samples[n++] = sm;
	}
	out->nsamples = (int)n;
	out->errors = errs;
	if (req_errs > out->errors)
		out->errors = req_errs;
	if (cyc_errs > out->errors)
		out->errors = cyc_errs;
	cg_json_free(j);
	return 0;
}

bool cg_stress_live_parse(const char *line, struct cg_stress_sample *s)
{
	/* time cycles errors thrpt min p25 p50 p75 p90 p99 p99.9 max: twelve
	 * numbers and nothing else (headers and the summary have words) */
	double v[12];
	const char *p = line;
	int n = 0;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (n == 12)
			return false;
		char *end;
		v[n] = strtod(p, &end);
		if (end == p || !isfinite(v[n]) || v[n] < 0 ||
		    (*end && *end != ' ' && *end != '\t' && *end != '\r' && *end != '\n'))
			return false;
		n++;
		p = end;
	}
	if (n != 12 || v[2] > 9007199254740992.0)
		return false;
	s->t_s = v[0];
	s->ops_per_s = v[3];
	s->p50_ms = v[6];
	s->p99_ms = v[9];
	s->errors = (uint64_t)v[2];
	return true;
}

int cg_stress_scrub(char **text, size_t *len, const char *secret)
{
	static const char mark[] = "<redacted>";
	size_t sl = secret ? strlen(secret) : 0;
	if (!sl || !*text)
		return 0;
	struct cg_buf b = {0};
	int hits = 0;
	size_t i = 0;
	while (i < *len) {
		const char *at = *len - i >= sl ? memmem(*text + i, *len - i, secret, sl) : NULL;
		if (!at) {
			cg_buf_add(&b, *text + i, *len - i);
			break;
		}
		cg_buf_add(&b, *text + i, (size_t)(at - (*text + i)));
		cg_buf_adds(&b, mark);
		i = (size_t)(at - *text) + sl;
		hits++;
	}
	if (!hits) {
		cg_buf_free(&b);
		return 0;
	}
	free(*text);
	*len = b.len;
	*text = b.data ? cg_buf_detach(&b) : cg_xstrdup("");
	return hits;
}

/* --- renderings ------------------------------------------------------------ */

void cg_stress_totals(const struct cg_stress_run *run, double *ops_per_s, uint64_t *errors,
		      double *worst_p99_ms)
{
	*ops_per_s = 0;
	*errors = 0;
	*worst_p99_ms = 0;
	for (int i = 0; i < run->n; i++) {
		*ops_per_s += run->v[i].ops_per_s;
		*errors += run->v[i].errors;
		if (run->v[i].p99_ms > *worst_p99_ms)
			*worst_p99_ms = run->v[i].p99_ms;
	}
}

char *cg_stress_below_rate(const struct cg_stress_run *run)
{
	struct cg_buf b = {0};
	for (int i = 0; run->rate > 0 && i < run->n; i++)
		if (run->v[i].ops_per_s < 0.9 * run->rate)
			cg_buf_addf(&b, "%s%s (%.0f op/s)", b.len ? ", " : "", run->v[i].dc,
				    run->v[i].ops_per_s);
	return b.data ? cg_buf_detach(&b) : NULL;
}

double cg_stress_mark_time(const struct cg_stress_run *run, const struct cg_stress_result *r,
			   const struct cg_stress_mark *m)
{
	if (m->wall > 0 && r->start_wall > 0)
		return m->wall - r->start_wall;
	if (m->wall > 0 && run->start_wall > 0)
		return m->wall - run->start_wall;
	return m->at_s;
}

int cg_stress_phases(const struct cg_stress_run *run, const struct cg_stress_result *r,
		     struct cg_stress_phase **out)
{
	struct cg_stress_phase *v = cg_xcalloc((size_t)run->nmarks + 1, sizeof(*v));
	int n = 0;
	double end = r->nsamples ? r->samples[r->nsamples - 1].t_s : 0;
	v[n++] = (struct cg_stress_phase){ .from_s = 0, .to_s = end, .after = -1 };
	for (int i = 0; i < run->nmarks; i++) {
		if (!(run->marks[i].wall > 0))
			continue;	/* never fired: no phase of its own */
		double t = cg_stress_mark_time(run, r, &run->marks[i]);
		if (t < v[n - 1].from_s)
			t = v[n - 1].from_s;
		v[n - 1].to_s = t;
		v[n++] = (struct cg_stress_phase){ .from_s = t, .to_s = end > t ? end : t, .after = i };
	}
	for (int p = 0; p < n; p++) {
		double sum = 0;
		for (int i = 0; i < r->nsamples; i++) {
			const struct cg_stress_sample *sm = &r->samples[i];
			/* the first phase takes the samples at 0 too; the last those
			 * past its end */
			bool in = (sm->t_s > v[p].from_s || (p == 0 && sm->t_s >= 0)) &&
				  (sm->t_s <= v[p].to_s || p == n - 1);
			if (!in)
				continue;
			v[p].samples++;
			sum += sm->ops_per_s;
			v[p].errors += sm->errors;
			if (isfinite(sm->p99_ms) && sm->p99_ms > v[p].p99_ms)
				v[p].p99_ms = sm->p99_ms;
		}
		v[p].ops_per_s = v[p].samples ? sum / v[p].samples : 0;
	}
	*out = v;
	return n;
}

/* "the start" or "kill DC1.n2" for phase p. */
static const char *phase_name(const struct cg_stress_run *run, const struct cg_stress_phase *p)
{
	return p->after < 0 ? "the start" : run->marks[p->after].label;
}

void cg_stress_faults_text(const struct cg_stress_run *run, struct cg_buf *b)
{
	if (!run->nmarks)
		return;
	cg_buf_addf(b, "\nFaults:\n%8s %8s %7s  %-28s %s\n", "at s", "fired s", "took s", "fault",
		    "result");
	for (int i = 0; i < run->nmarks; i++) {
		const struct cg_stress_mark *m = &run->marks[i];
		char fired[32] = "-", took[32] = "-";
		if (m->wall > 0) {
			snprintf(fired, sizeof(fired), "%.1f", m->wall - run->start_wall);
			snprintf(took, sizeof(took), "%.1f", m->took_s);
		}
		cg_buf_addf(b, "%8.0f %8s %7s  %-28s %s\n", m->at_s, fired, took, m->label,
			    m->error ? m->error : m->wall > 0 ? "ok" : "not fired");
	}
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		struct cg_stress_phase *ph;
		int n = cg_stress_phases(run, r, &ph);
		cg_buf_addf(b, "\nPhases of %s (its clock, one sample a second):\n%-30s %7s %7s %10s "
			    "%9s %8s\n", r->dc, "after", "from s", "to s", "ops/s", "p99 ms", "errors");
		for (int p = 0; p < n; p++)
			cg_buf_addf(b, "%-30s %7.1f %7.1f %10.1f %9.2f %8llu\n", phase_name(run, &ph[p]),
				    ph[p].from_s, ph[p].to_s, ph[p].ops_per_s, ph[p].p99_ms,
				    (unsigned long long)ph[p].errors);
		free(ph);
	}
}

void cg_stress_table_text(const struct cg_stress_run *run, struct cg_buf *b)
{
	cg_buf_addf(b, "%-12s %12s %9s %9s %9s %9s %9s %10s\n", "DC", "ops/s", "p50 ms",
		    "p95 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		cg_buf_addf(b, "%-12s %12.1f %9.2f %9.2f %9.2f %9.2f %9.2f %10llu\n", r->dc,
			    r->ops_per_s, r->p50_ms, r->p95_ms, r->p99_ms, r->p999_ms, r->max_ms,
			    (unsigned long long)r->errors);
	}
	if (run->n > 1) {
		double ops, p99;
		uint64_t errs;
		cg_stress_totals(run, &ops, &errs, &p99);
		cg_buf_addf(b, "%-12s %12.1f %9s %9s %9.2f %9s %9s %10llu\n", "all", ops, "", "",
			    p99, "", "", (unsigned long long)errs);
	}
}

/* A number for JSON: finite, else null. */
static void jnum(struct cg_buf *b, double v)
{
	if (isfinite(v))
		cg_buf_addf(b, "%.3f", v);
	else
		cg_buf_adds(b, "null");
}

/* sep "key": "string" */
static void jks(struct cg_buf *b, const char *sep, const char *key, const char *v)
{
	cg_buf_addf(b, "%s\"%s\": ", sep, key);
	cg_buf_add_json(b, v);
}

/* sep "key": number */
static void jkv(struct cg_buf *b, const char *sep, const char *key, double v)
{
	cg_buf_addf(b, "%s\"%s\": ", sep, key);
	jnum(b, v);
}

void cg_stress_summary_json(const struct cg_stress_run *run, struct cg_buf *b)
{
	double ops, p99;
	uint64_t errs;
	cg_stress_totals(run, &ops, &errs, &p99);
	jks(b, "{\n  ", "cluster", run->cluster);
	jks(b, ",\n  ", "started", run->started);
	jks(b, ",\n  ", "tool", "latte " CG_STRESS_LATTE_VERSION);
	jks(b, ",\n  ", "workload", run->workload);
	jks(b, ",\n  ", "consistency", run->consistency);
	cg_buf_adds(b, ",\n  \"rate_per_dc\": ");
	if (run->rate > 0)
		jnum(b, run->rate);
	else
		cg_buf_adds(b, "null");
	cg_buf_addf(b, ",\n  \"duration_s\": %d", run->duration_s);
	jks(b, ",\n  ", "report", run->dir);
	if (run->description)
		jks(b, ",\n  ", "description", run->description);
	jks(b, ",\n  ", "tls_note", cg_stress_tls_note);
	jkv(b, ",\n  \"total\": {", "ops_per_s", ops);
	cg_buf_addf(b, ", \"errors\": %llu", (unsigned long long)errs);
	jkv(b, ", ", "worst_p99_ms", p99);
	cg_buf_adds(b, "},\n  \"dcs\": {");
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		cg_buf_adds(b, i ? ",\n    " : "\n    ");
		cg_buf_add_json(b, r->dc);
		jkv(b, ": {", "ops_per_s", r->ops_per_s);
		cg_buf_addf(b, ", \"ops\": %llu, \"requests\": %llu, \"errors\": %llu",
			    (unsigned long long)r->ops, (unsigned long long)r->requests,
			    (unsigned long long)r->errors);
		const double v[] = { r->duration_s, r->p50_ms, r->p95_ms, r->p99_ms, r->p999_ms, r->max_ms };
		const char *const k[] = { "duration_s", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms" };
		for (int x = 0; x < 6; x++)
			jkv(b, ", ", k[x], v[x]);
		cg_buf_adds(b, ", \"first_error\": ");
		if (r->first_error)
			cg_buf_add_json(b, r->first_error);
		else
			cg_buf_adds(b, "null");
		if (run->nmarks) {
			struct cg_stress_phase *ph;
			int n = cg_stress_phases(run, r, &ph);
			cg_buf_adds(b, ", \"phases\": [");
			for (int p = 0; p < n; p++) {
				cg_buf_adds(b, p ? ", {\"after\": " : "{\"after\": ");
				if (ph[p].after < 0)
					cg_buf_adds(b, "null");
				else
					cg_buf_add_json(b, run->marks[ph[p].after].label);
				jkv(b, ", ", "from_s", ph[p].from_s);
				jkv(b, ", ", "to_s", ph[p].to_s);
				cg_buf_addf(b, ", \"samples\": %d", ph[p].samples);
				jkv(b, ", ", "ops_per_s", ph[p].ops_per_s);
				jkv(b, ", ", "p99_ms", ph[p].p99_ms);
				cg_buf_addf(b, ", \"errors\": %llu}", (unsigned long long)ph[p].errors);
			}
			cg_buf_adds(b, "]");
			free(ph);
		}
		cg_buf_addf(b, ", \"raw\": \"%s.json\", \"samples\": [", r->dc);
		for (int s = 0; s < r->nsamples; s++) {
			const struct cg_stress_sample *sm = &r->samples[s];
			const double v[] = { sm->t_s, sm->ops_per_s, sm->p50_ms, sm->p99_ms };
			for (int x = 0; x < 4; x++) {
				cg_buf_adds(b, x ? ", " : s ? ", [" : "[");
				jnum(b, v[x]);
			}
			cg_buf_addf(b, ", %llu]", (unsigned long long)sm->errors);
		}
		cg_buf_adds(b, "]}");
	}
	cg_buf_adds(b, "\n  },\n  \"samples_columns\": [\"t_s\", \"ops_per_s\", \"p50_ms\", "
		       "\"p99_ms\", \"errors\"]");
	if (run->nmarks || run->description) {
		cg_buf_adds(b, ",\n  \"faults\": [");
		for (int i = 0; i < run->nmarks; i++) {
			const struct cg_stress_mark *m = &run->marks[i];
			jks(b, i ? ",\n    {" : "\n    {", "fault", m->label);
			jks(b, ", ", "kind", m->kind);
			jks(b, ", ", "target", m->target);
			jkv(b, ", ", "at_s", m->at_s);
			cg_buf_adds(b, ", \"fired_s\": ");
			if (m->wall > 0) {
				char iso[32];
				jnum(b, m->wall - run->start_wall);
				cg_iso8601((int64_t)m->wall, iso);
				jks(b, ", ", "fired_at", iso);
				jkv(b, ", ", "took_s", m->took_s);
			} else {
				cg_buf_adds(b, "null, \"fired_at\": null, \"took_s\": null");
			}
			cg_buf_addf(b, ", \"ok\": %s, \"error\": ", m->wall > 0 && !m->error ? "true" : "false");
			if (m->error)
				cg_buf_add_json(b, m->error);
			else
				cg_buf_adds(b, m->wall > 0 ? "null" : "\"not fired\"");
			cg_buf_adds(b, ", \"output\": ");
			if (m->output)
				cg_buf_add_json(b, m->output);
			else
				cg_buf_adds(b, "null");
			cg_buf_adds(b, "}");
		}
		cg_buf_adds(b, run->nmarks ? "\n  ]" : "]");
	}
	if (run->healed)
		jks(b, ",\n  ", "healed_at_end", run->healed);
	cg_buf_adds(b, "\n}\n");
}

void cg_stress_cli_json(const struct cg_stress_run *run, struct cg_buf *b)
{
	cg_buf_adds(b, "{\"report\": ");
	cg_buf_add_json(b, run->dir);
	cg_buf_adds(b, ", \"dcs\": {");
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		cg_buf_adds(b, i ? ", " : "");
		cg_buf_add_json(b, r->dc);
		jkv(b, ": {", "ops_per_s", r->ops_per_s);
		jkv(b, ", ", "p50_ms", r->p50_ms);
		jkv(b, ", ", "p99_ms", r->p99_ms);
		cg_buf_addf(b, ", \"errors\": %llu}", (unsigned long long)r->errors);
	}
	cg_buf_adds(b, "}}\n");
}

/* --- report.html ----------------------------------------------------------- */

static void html_esc(struct cg_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': cg_buf_adds(b, "&amp;"); break;
		case '<': cg_buf_adds(b, "&lt;"); break;
		case '>': cg_buf_adds(b, "&gt;"); break;
		case '"': cg_buf_adds(b, "&quot;"); break;
		case '\'': cg_buf_adds(b, "&#39;"); break;
		default: cg_buf_add(b, s, 1);
		}
	}
}

/* A round axis maximum at or above v (1, 2, 5 x 10^k). */
static double nice_max(double v)
{
	if (!(v > 0) || !isfinite(v))
		return 1;
	double e = pow(10, floor(log10(v)));
	for (int i = 0; i < 3; i++) {
		double m = (i == 0 ? 1 : i == 1 ? 2 : 5) * e;
		if (m >= v)
			return m;
	}
	return 10 * e;
}

struct series {
	const char *name, *color;
	int field;		/* 0 ops/s, 1 p50, 2 p99 */
};

static double field_of(const struct cg_stress_sample *s, int f)
{
	return f == 0 ? s->ops_per_s : f == 1 ? s->p50_ms : s->p99_ms;
}

/* One line chart of a DC's samples: x = time (s), one polyline per series. */
static void svg_chart(struct cg_buf *b, const struct cg_stress_run *run,
		      const struct cg_stress_result *r, const char *title, const char *unit,
		      const struct series *sv, int ns)
{
	const double W = 640, H = 240, L = 60, R = 20, T = 30, B = 40;
	double xmax = 1, ymax = 0;
	for (int i = 0; i < r->nsamples; i++) {
		if (r->samples[i].t_s > xmax)
			xmax = r->samples[i].t_s;
		for (int s = 0; s < ns; s++) {
			double v = field_of(&r->samples[i], sv[s].field);
			if (isfinite(v) && v > ymax)
				ymax = v;
		}
	}
	/* samples end a few ms past the whole second (10.002 s): a 10 s run
	 * gets a 0-10 s axis, its last point a hair past the frame */
	for (int i = 0; i < run->nmarks; i++) {	/* a fault past the last sample */
		double t = cg_stress_mark_time(run, r, &run->marks[i]);
		if (run->marks[i].wall > 0 && t > xmax)
			xmax = t;
	}
	xmax = nice_max(xmax * 0.995);
	ymax = nice_max(ymax);
	double pw = W - L - R, ph = H - T - B;
	cg_buf_addf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", W, H, W, H);
	html_esc(b, title);
	cg_buf_adds(b, "\">\n<text x=\"10\" y=\"18\" class=\"t\">");
	html_esc(b, title);
	cg_buf_addf(b, "</text>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		    "fill=\"none\" stroke=\"#999\"/>\n", L, T, pw, ph);
	for (int g = 0; g <= 4; g++) {
		double y = T + ph - ph * g / 4, x = L + pw * g / 4;
		cg_buf_addf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			    "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"a\">%g</text>"
			    "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" class=\"a\">%g</text>\n",
			    L, y, L + pw, y, L - 4, y + 4, ymax * g / 4, x, T + ph + 16, xmax * g / 4);
	}
	cg_buf_addf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" class=\"a\">time (s)</text>"
		    "<text x=\"12\" y=\"%.0f\" class=\"a\" transform=\"rotate(-90 12 %.0f)\" "
		    "text-anchor=\"middle\">", L + pw / 2, H - 6, T + ph / 2, T + ph / 2);
	html_esc(b, unit);
	cg_buf_adds(b, "</text>\n");
	for (int s = 0; s < ns; s++) {
		cg_buf_addf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			    sv[s].color);
		for (int i = 0; i < r->nsamples; i++) {
			double v = field_of(&r->samples[i], sv[s].field);
			if (!isfinite(v))
				continue;
			cg_buf_addf(b, "%.1f,%.1f ", L + pw * r->samples[i].t_s / xmax,
				    T + ph - ph * v / ymax);
		}
		cg_buf_addf(b, "\"/><text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" class=\"a\">", L + 8 + 90 * s,
			    T + 14, sv[s].color);
		html_esc(b, sv[s].name);
		cg_buf_adds(b, "</text>\n");
	}
	/* each fault fired: a dashed line at its time and its label along it */
	for (int i = 0; i < run->nmarks; i++) {
		const struct cg_stress_mark *m = &run->marks[i];
		double t = cg_stress_mark_time(run, r, m);
		if (!(m->wall > 0) || t < 0 || t > xmax)
			continue;
		double x = L + pw * t / xmax;
		cg_buf_addf(b, "<g class=\"fault\" data-t=\"%.1f\"><line x1=\"%.1f\" y1=\"%.0f\" "
			    "x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>"
			    "<text x=\"%.1f\" y=\"%.0f\" transform=\"rotate(-90 %.1f %.0f)\" "
			    "text-anchor=\"end\" class=\"f\">", t, x, T, x, T + ph,
			    m->error ? "#999" : "#9467bd", x - 3, T + 4, x - 3, T + 4);
		html_esc(b, m->label);
		cg_buf_addf(b, " (%.0f s)%s</text></g>\n", t, m->error ? " failed" : "");
	}
	cg_buf_adds(b, "</svg>\n");
}

void cg_stress_html(const struct cg_stress_run *run, struct cg_buf *b)
{
	cg_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
	html_esc(b, run->cluster);
	cg_buf_adds(b, " stress ");
	html_esc(b, run->started);
	cg_buf_adds(b, "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}"
		       "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;"
		       "text-align:right}th:first-child,td:first-child{text-align:left}"
		       ".t{font:bold 14px sans-serif}.a{font:11px sans-serif;fill:#555}"
		       ".note{background:#fff6dd;padding:8px;border:1px solid #e5c76b}"
		       ".f{font:10px sans-serif;fill:#6b4c9a}</style>\n"
		       "</head><body>\n<h1>");
	cg_buf_adds(b, run->nmarks || run->description ? "Scenario on " : "Stress on ");
	html_esc(b, run->cluster);
	if (run->description) {
		cg_buf_adds(b, ": ");
		html_esc(b, run->description);
	}
	/* text, value, text, value...: each value escaped */
	const char *const intro[] = { "</h1>\n<p>Started ", run->started, "; workload <b>",
				      run->workload, "</b> at consistency <b>", run->consistency };
	for (int i = 0; i < 6; i++) {
		if (i % 2)
			html_esc(b, intro[i]);
		else
			cg_buf_adds(b, intro[i]);
	}
	cg_buf_adds(b, "</b>, ");
	if (run->rate > 0)
		cg_buf_addf(b, "%.0f op/s per DC", run->rate);
	else
		cg_buf_adds(b, "unbounded rate");
	cg_buf_addf(b, " for %d s; one latte %s client per DC against its own DC.</p>\n",
		    run->duration_s, CG_STRESS_LATTE_VERSION);
	cg_buf_adds(b, "<table><tr><th>DC</th><th>ops/s</th><th>p50 ms</th><th>p95 ms</th>"
		       "<th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>errors</th></tr>\n");
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		cg_buf_adds(b, "<tr><td>");
		html_esc(b, r->dc);
		cg_buf_addf(b, "</td><td>%.1f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>"
			    "<td>%.2f</td><td>%llu</td></tr>\n", r->ops_per_s, r->p50_ms, r->p95_ms,
			    r->p99_ms, r->p999_ms, r->max_ms, (unsigned long long)r->errors);
	}
	cg_buf_adds(b, "</table>\n");
	if (run->nmarks) {
		cg_buf_adds(b, "<h2>Faults</h2>\n<table class=\"faults\"><tr><th>fault</th>"
			       "<th>planned s</th><th>fired s</th><th>took s</th><th>result</th></tr>\n");
		for (int i = 0; i < run->nmarks; i++) {
			const struct cg_stress_mark *m = &run->marks[i];
			cg_buf_adds(b, "<tr><td>");
			html_esc(b, m->label);
			cg_buf_addf(b, "</td><td>%.0f</td>", m->at_s);
			if (m->wall > 0)
				cg_buf_addf(b, "<td>%.1f</td><td>%.1f</td>", m->wall - run->start_wall,
					    m->took_s);
			else
				cg_buf_adds(b, "<td>-</td><td>-</td>");
			cg_buf_adds(b, "<td>");
			html_esc(b, m->error ? m->error : m->wall > 0 ? "ok" : "not fired");
			cg_buf_adds(b, "</td></tr>\n");
		}
		cg_buf_adds(b, "</table>\n");
	}
	if (run->healed) {
		cg_buf_adds(b, "<p>At the end, whatever the scenario said: ");
		html_esc(b, run->healed);
		cg_buf_adds(b, "</p>\n");
	}
	for (int i = 0; i < run->n; i++) {
		const struct cg_stress_result *r = &run->v[i];
		cg_buf_adds(b, "<h2>");
		html_esc(b, r->dc);
		cg_buf_adds(b, "</h2>\n");
		if (run->nmarks) {
			struct cg_stress_phase *ph;
			int n = cg_stress_phases(run, r, &ph);
			cg_buf_adds(b, "<table class=\"phases\"><tr><th>after</th><th>from s</th>"
				       "<th>to s</th><th>ops/s</th><th>worst p99 ms</th><th>errors</th>"
				       "</tr>\n");
			for (int p = 0; p < n; p++) {
				cg_buf_adds(b, "<tr><td>");
				html_esc(b, phase_name(run, &ph[p]));
				cg_buf_addf(b, "</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.2f</td>"
					    "<td>%llu</td></tr>\n", ph[p].from_s, ph[p].to_s,
					    ph[p].ops_per_s, ph[p].p99_ms, (unsigned long long)ph[p].errors);
			}
			cg_buf_adds(b, "</table>\n");
			free(ph);
		}
		if (r->first_error) {
			cg_buf_adds(b, "<p>First error latte kept: <code>");
			html_esc(b, r->first_error);
			cg_buf_adds(b, "</code></p>\n");
		}
		char *t1 = cg_xasprintf("%s: throughput", r->dc);
		char *t2 = cg_xasprintf("%s: latency", r->dc);
		const struct series thr[] = { { "ops/s", "#1f77b4", 0 } };
		const struct series lat[] = { { "p50", "#2ca02c", 1 }, { "p99", "#d62728", 2 } };
		svg_chart(b, run, r, t1, "op/s", thr, 1);
		svg_chart(b, run, r, t2, "ms", lat, 2);
		free(t1);
		free(t2);
	}
	cg_buf_adds(b, "<p class=\"note\">");
	html_esc(b, cg_stress_tls_note);
	cg_buf_adds(b, "</p>\n<p>Raw results: one latte report per DC (<code>DC.json</code>, the "
		       "password removed), its output (<code>DC.log</code>), the workload "
		       "(<code>workload.rn</code>), and <code>summary.json</code>.</p>\n"
		       "</body></html>\n");
}
