/*
 * test_stress.c - the pure half of `cassandgo stress` (planner/stress.h)
 * and the JSON reader under it (util/json.h): latte's report read
 * (errors counted from the samples, as latte's own count misses failed
 * requests), its live lines, the password scrubbed, the figures summed, and
 * the renderings (table, --json, summary.json read back, report.html).
 * tests/stress/latte-report.json is a real report of latte 0.29 against the
 * Lab (check-stress), password already scrubbed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/json.h"
#include "../../planner/stress.h"

static struct cg_json *parse_ok(const char *s)
{
	struct cg_json *j = NULL;
	struct cg_err err = {0};
	if (cg_json_parse(s, strlen(s), &j, &err) != 0)
		fail_msg("%s: %s", s, err.msg);
	return j;
}

static void parse_bad(const char *s, const char *why)
{
	struct cg_json *j = (struct cg_json *)1;
	struct cg_err err = {0};
	assert_int_equal(cg_json_parse(s, strlen(s), &j, &err), -1);
	assert_null(j);
	if (!strstr(err.msg, why))
		fail_msg("%s: '%s' lacks '%s'", s, err.msg, why);
}

static void test_json(void **state)
{
	(void)state;
	struct cg_json *j = parse_ok(" {\"a\": {\"b\": [1, -2.5e3, true, null, \"x\\u00e9\\ud83d\\ude00\\n\"]},"
				     " \"a\": 7, \"e\": {}, \"f\": []} ");
	const struct cg_json *b = cg_json_path(j, "a.b");
	assert_non_null(b);
	assert_int_equal(b->type, CG_JSON_ARR);
	assert_int_equal(b->n, 5);
	double v;
	assert_true(cg_json_num(&b->v[1], &v));
	assert_true(v == -2500);
	assert_int_equal(b->v[2].type, CG_JSON_BOOL);
	assert_true(b->v[2].b);
	assert_int_equal(b->v[3].type, CG_JSON_NULL);
	assert_string_equal(b->v[4].str, "x\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_false(cg_json_num(&b->v[4], &v));
	assert_null(cg_json_path(j, "a.c"));
	assert_null(cg_json_path(j, "a.b.c"));
	assert_int_equal(cg_json_get(j, "e")->n, 0);
	cg_json_free(j);

	parse_bad("", "unexpected end");
	parse_bad("{\"a\": 1,}", "expected a key");
	parse_bad("[1, 2", "expected ',' or ']'");
	parse_bad("01", "trailing");
	parse_bad("1.", "bad fraction");
	parse_bad("-", "bad number");
	parse_bad("\"a\\u0000b\"", "\\u0000");
	parse_bad("\"\\ud800x\"", "surrogate");
	parse_bad("\"\\q\"", "unknown escape");
	parse_bad("\"tab\there\"", "control character");
	parse_bad("\"open", "unterminated");
	parse_bad("{\"a\" 1}", "expected ':'");
	parse_bad("tru", "bad number");
	parse_bad("[] []", "trailing");
	char deep[2 * CG_JSON_MAX_DEPTH + 8];
	memset(deep, '[', CG_JSON_MAX_DEPTH + 1);
	memset(deep + CG_JSON_MAX_DEPTH + 1, ']', CG_JSON_MAX_DEPTH + 1);
	deep[2 * CG_JSON_MAX_DEPTH + 2] = '\0';
	parse_bad(deep, "nested too deep");
	deep[0] = ' ';	/* one level less: accepted */
	deep[2 * CG_JSON_MAX_DEPTH + 1] = '\0';
	j = parse_ok(deep);
	cg_json_free(j);
}

/* A latte 0.29 report in miniature: the shapes the reader relies on. */
static const char *report_pcts =
	"\"percentiles\": [0.0, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 98.0, 99.0,"
	" 99.90000152587891, 99.98999786376953, 100.0]";

/* a latency distribution whose percentile i is base * (i + 1) ms */
static char *dist(double base)
{
	struct cg_buf b = {0};
	cg_buf_adds(&b, "{\"mean\": {\"n\": 1, \"value\": 1.0, \"std_err\": null}, \"percentiles\": [");
	for (int i = 0; i < 15; i++)
		cg_buf_addf(&b, "%s{\"n\": 100, \"value\": %g, \"std_err\": null}", i ? ", " : "",
			    base * (i + 1));
	cg_buf_adds(&b, "], \"histogram\": \"HISTFAAAA\"}");
	return cg_buf_detach(&b);
}

static char *report(uint64_t error_count, const uint64_t req_err[3], const uint64_t cyc_err[3])
{
	struct cg_buf b = {0};
	char *d = dist(0.5), *ds = dist(0.25);
	cg_buf_addf(&b, "{\"conf\": {\"rate\": 200.0, \"connection\": {\"user\": \"cassandgo\", "
		    "\"password\": \"s3cret-Pa55word-0123456789\", \"datacenter\": \"DC1\"}}, %s, "
		    "\"result\": {\"elapsed_time_s\": 10.02, \"cycle_count\": 2000, "
		    "\"request_count\": 2001, \"errors\": [], \"error_count\": %llu, "
		    "\"cycle_throughput\": {\"n\": 10, \"value\": 199.6, \"std_err\": 0.3}, "
		    "\"cycle_latency\": %s, \"request_latency\": null, \"log\": [",
		    report_pcts, (unsigned long long)error_count, d);
	for (int i = 0; i < 3; i++)
		cg_buf_addf(&b, "%s{\"time_s\": %d.0, \"duration_s\": 1.0, \"cycle_count\": 200, "
			    "\"cycle_error_count\": %llu, \"req_errors\": [%s], \"req_error_count\": %llu, "
			    "\"cycle_throughput\": %d.5, \"cycle_latency\": %s}", i ? ", " : "", i,
			    (unsigned long long)cyc_err[i],
			    req_err[i] ? "\"Timeout: no answer from 10.85.1.1\"" : "",
			    (unsigned long long)req_err[i], 199 + i, ds);
	cg_buf_adds(&b, "]}}");
	free(d);
	free(ds);
	return cg_buf_detach(&b);
}

static void test_report_parse(void **state)
{
	(void)state;
	static const uint64_t none[3] = { 0, 0, 0 };
	char *text = report(0, none, none);
	struct cg_stress_result r;
	struct cg_err err = {0};
	assert_int_equal(cg_stress_report_parse(text, strlen(text), &r, &err), 0);
	assert_null(r.dc);
	assert_true(fabs(r.ops_per_s - 199.6) < 1e-9);
	assert_true(fabs(r.target_rate - 200) < 1e-9);
	assert_true(fabs(r.duration_s - 10.02) < 1e-9);
	/* indexes 6 (50), 9 (95), 11 (99), 12 (99.9 as f32), 14 (100) */
	assert_true(fabs(r.p50_ms - 3.5) < 1e-9);
	assert_true(fabs(r.p95_ms - 5.0) < 1e-9);
	assert_true(fabs(r.p99_ms - 6.0) < 1e-9);
	assert_true(fabs(r.p999_ms - 6.5) < 1e-9);
	assert_true(fabs(r.max_ms - 7.5) < 1e-9);
	assert_int_equal(r.ops, 2000);
	assert_int_equal(r.requests, 2001);
	assert_int_equal(r.errors, 0);
	assert_null(r.first_error);
	assert_int_equal(r.nsamples, 3);
	assert_true(r.samples[2].t_s == 3.0);	/* end of the sample */
	assert_true(r.samples[1].ops_per_s == 200.5);
	assert_true(r.samples[0].p50_ms == 1.75 && r.samples[0].p99_ms == 3.0);
	cg_stress_result_clear(&r);
	free(text);

	/* latte's trap: error_count 0 while requests failed */
	static const uint64_t req[3] = { 0, 40, 2 }, cyc[3] = { 1, 0, 0 };
	text = report(0, req, cyc);
	assert_int_equal(cg_stress_report_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r.errors, 42);
	assert_int_equal(r.samples[1].errors, 40);
	assert_int_equal(r.samples[0].errors, 1);
	assert_string_equal(r.first_error, "Timeout: no answer from 10.85.1.1");
	cg_stress_result_clear(&r);
	free(text);
	/* ... and latte's figure when it is the larger */
	text = report(50, req, cyc);
	assert_int_equal(cg_stress_report_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r.errors, 50);
	cg_stress_result_clear(&r);
	free(text);
}

static void report_bad(const char *text, const char *why)
{
	struct cg_stress_result r;
	struct cg_err err = {0};
	assert_int_equal(cg_stress_report_parse(text, strlen(text), &r, &err), -1);
	if (!strstr(err.msg, why))
		fail_msg("'%s' lacks '%s'", err.msg, why);
	assert_int_equal(r.nsamples, 0);
	assert_null(r.samples);
}

static void test_report_bad(void **state)
{
	(void)state;
	report_bad("", "latte report: JSON: unexpected end");
	report_bad("[]", "no \"result\" object");
	report_bad("{\"result\": {}}", "no result.cycle_throughput.value");
	report_bad("{\"result\": {\"cycle_throughput\": {\"value\": -1}}}", "cycle_throughput");
	char *d = dist(1);
	char *t = cg_xasprintf("{\"percentiles\": [50, 95, 99, 99.9], \"result\": {\"cycle_throughput\": "
			       "{\"value\": 5}, \"cycle_latency\": %s, \"cycle_count\": 5}}", d);
	report_bad(t, "no latency percentiles");	/* no 100 */
	free(t);
	t = cg_xasprintf("{%s, \"result\": {\"cycle_throughput\": {\"value\": 5}, \"cycle_latency\": %s, "
			 "\"cycle_count\": 1.5}}", report_pcts, d);
	report_bad(t, "no result.cycle_count");
	free(t);
	free(d);
}

/* The real report (check-stress, Lab, 200 op/s for 10 s). */
static void test_report_real(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	struct cg_err err = {0};
	if (cg_file_read("stress/latte-report.json", &text, &len, &err) != 0)
		fail_msg("%s", err.msg);
	struct cg_stress_result r;
	assert_int_equal(cg_stress_report_parse(text, len, &r, &err), 0);
	assert_true(r.ops_per_s > 150 && r.ops_per_s < 250);
	assert_true(r.p50_ms > 0 && r.p50_ms <= r.p95_ms && r.p95_ms <= r.p99_ms &&
		    r.p99_ms <= r.p999_ms && r.p999_ms <= r.max_ms);
	assert_int_equal(r.errors, 0);
	assert_true(r.nsamples >= 8);
	assert_non_null(strstr(text, "<redacted>"));
	cg_stress_result_clear(&r);
	free(text);
}

/* A run with faults (cassandgo run): markers where each fault fell on
 * each DC's clock, the phases between them (errors per phase adding up to
 * the DC's), the faults in summary.json. */
static void test_marks(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	struct cg_err err = {0};
	if (cg_file_read("stress/latte-report.json", &text, &len, &err) != 0)
		fail_msg("%s", err.msg);
	struct cg_stress_result r[2];
	assert_int_equal(cg_stress_report_parse(text, len, &r[0], &err), 0);
	assert_int_equal(cg_stress_report_parse(text, len, &r[1], &err), 0);
	free(text);
	/* 2026-12-06T06:50:58.677100591Z */
	assert_true(fabs(r[0].start_wall - (1796539858 + 0.677100591)) < 1e-3);
	r[0].dc = cg_xstrdup("DC1");
	r[1].dc = cg_xstrdup("DC2");
	r[1].start_wall += 0.5;		/* DC2's clock started half a second later */
	for (int i = 0; i < r[0].nsamples; i++)	/* errors in DC1 from 4 s to 6 s */
		r[0].samples[i].errors = r[0].samples[i].t_s > 4 && r[0].samples[i].t_s <= 6 ? 7 : 0;
	r[0].errors = 14;
	const double t0 = r[0].start_wall;
	struct cg_stress_mark m[3] = {
		{ .at_s = 3, .wall = t0 + 3.2, .took_s = 0.4, .label = "kill DC1.n2", .kind = "kill",
		  .target = "DC1.n2", .output = "DC1.n2: killed 12" },
		{ .at_s = 6, .wall = t0 + 6.1, .took_s = 0.3, .label = "heal DC1.n2", .kind = "heal",
		  .target = "DC1.n2" },
		{ .at_s = 8, .label = "partition DC2", .kind = "partition", .target = "DC2" },
	};
	m[1].error = "DC1.n2: \"refused\"";
	struct cg_stress_run run = {
		.cluster = "Lab", .started = "2026-12-06T06:50:57Z", .workload = "mixed",
		.consistency = "LOCAL_QUORUM", .rate = 200, .duration_s = 10, .dir = "/r", .v = r,
		.n = 2, .description = "kill <and> heal", .marks = m, .nmarks = 3,
		.start_wall = t0 - 0.1, .healed = "every node healed; 4 of 4 nodes UN",
	};
	assert_true(fabs(cg_stress_mark_time(&run, &r[0], &m[0]) - 3.2) < 1e-6);
	assert_true(fabs(cg_stress_mark_time(&run, &r[1], &m[0]) - 2.7) < 1e-6);
	assert_true(cg_stress_mark_time(&run, &r[0], &m[2]) == 8);	/* never fired */
	struct cg_stress_phase *ph;
	int n = cg_stress_phases(&run, &r[0], &ph);
	assert_int_equal(n, 3);		/* the unfired fault opens no phase */
	assert_int_equal(ph[0].after, -1);
	assert_int_equal(ph[1].after, 0);
	assert_int_equal(ph[2].after, 1);
	assert_true(fabs(ph[1].from_s - 3.2) < 1e-6 && fabs(ph[1].to_s - 6.1) < 1e-6);
	assert_int_equal(ph[0].errors, 0);
	assert_int_equal(ph[1].errors, 14);
	assert_int_equal(ph[2].errors, 0);
	assert_int_equal(ph[0].samples + ph[1].samples + ph[2].samples, r[0].nsamples);
	assert_true(ph[1].ops_per_s > 0 && ph[1].p99_ms > 0);
	free(ph);

	struct cg_buf b = {0};
	cg_stress_summary_json(&run, &b);
	struct cg_json *j = parse_ok(b.data);
	assert_string_equal(cg_json_get(j, "description")->str, "kill <and> heal");
	assert_string_equal(cg_json_get(j, "healed_at_end")->str, run.healed);
	const struct cg_json *f = cg_json_get(j, "faults");
	assert_int_equal(f->n, 3);
	double v;
	assert_true(cg_json_num(cg_json_get(&f->v[0], "fired_s"), &v) && fabs(v - 3.3) < 1e-3);
	assert_true(cg_json_get(&f->v[0], "ok")->b);
	assert_false(cg_json_get(&f->v[1], "ok")->b);
	assert_string_equal(cg_json_get(&f->v[1], "error")->str, m[1].error);
	assert_int_equal(cg_json_get(&f->v[2], "fired_s")->type, CG_JSON_NULL);
	assert_string_equal(cg_json_get(&f->v[2], "error")->str, "not fired");
	const struct cg_json *p1 = cg_json_path(j, "dcs.DC1.phases");
	assert_int_equal(p1->n, 3);
	assert_int_equal(cg_json_get(&p1->v[0], "after")->type, CG_JSON_NULL);
	assert_string_equal(cg_json_get(&p1->v[1], "after")->str, "kill DC1.n2");
	assert_true(cg_json_num(cg_json_get(&p1->v[1], "errors"), &v) && v == 14);
	cg_json_free(j);
	cg_buf_free(&b);

	cg_stress_html(&run, &b);
	int marks = 0;
	for (const char *p = b.data; (p = strstr(p, "<g class=\"fault\"")); p++)
		marks++;
	assert_int_equal(marks, 2 * 2 * 2);	/* 2 fired faults x 2 charts x 2 DCs */
	assert_non_null(strstr(b.data, "kill &lt;and&gt; heal"));
	assert_non_null(strstr(b.data, "heal DC1.n2 (6 s) failed"));
	assert_null(strstr(b.data, "<script"));
	cg_buf_free(&b);

	cg_stress_faults_text(&run, &b);
	assert_non_null(strstr(b.data, "kill DC1.n2"));
	assert_non_null(strstr(b.data, "not fired"));
	assert_non_null(strstr(b.data, "Phases of DC2"));
	cg_buf_free(&b);
	cg_stress_result_clear(&r[0]);
	cg_stress_result_clear(&r[1]);
}

static void test_live(void **state)
{
	(void)state;
	struct cg_stress_sample s;
	assert_true(cg_stress_live_parse("   3.001       200         0       200             0.4"
					 "       0.6       0.8       1.1       1.5       3.2       4.0"
					 "       4.1", &s));
	assert_true(s.t_s == 3.001 && s.ops_per_s == 200 && s.p50_ms == 0.8 && s.p99_ms == 3.2);
	assert_int_equal(s.errors, 0);
	assert_false(cg_stress_live_parse("     [s]      [op]      [op]    [op/s]             Min"
					  "        25        50        75        90        99      99.9"
					  "       Max", &s));
	assert_false(cg_stress_live_parse("1 2 3 4 5 6 7 8 9 10 11", &s));	/* 11 numbers */
	assert_false(cg_stress_live_parse("1 2 3 4 5 6 7 8 9 10 11 12 13", &s));
	assert_false(cg_stress_live_parse("1 2 3 4 5 6 7 8 9 10 11 -12", &s));
	assert_false(cg_stress_live_parse("1 2 3 4 5 6 7 8 9 10 11 12x", &s));
	assert_false(cg_stress_live_parse("info: Running benchmark...", &s));
	assert_false(cg_stress_live_parse("", &s));
}

static void test_scrub(void **state)
{
	(void)state;
	char *t = cg_xstrdup("{\"password\": \"pw-123\", \"x\": \"pw-123pw-123\"}pw-12");
	size_t len = strlen(t);
	assert_int_equal(cg_stress_scrub(&t, &len, "pw-123"), 3);
	assert_string_equal(t, "{\"password\": \"<redacted>\", \"x\": \"<redacted><redacted>\"}pw-12");
	assert_int_equal(len, strlen(t));
	assert_int_equal(cg_stress_scrub(&t, &len, "absent"), 0);
	assert_int_equal(cg_stress_scrub(&t, &len, ""), 0);
	assert_int_equal(cg_stress_scrub(&t, &len, NULL), 0);
	free(t);
	/* the whole text is the secret; a secret longer than the text */
	t = cg_xstrdup("pw");
	len = 2;
	assert_int_equal(cg_stress_scrub(&t, &len, "pw-long"), 0);
	assert_int_equal(cg_stress_scrub(&t, &len, "pw"), 1);
	assert_string_equal(t, "<redacted>");
	free(t);
}

static struct cg_stress_sample samples[] = {
	{ 1, 195, 0.8, 3.1, 0 }, { 2, 205, 0.9, NAN, 2 }, { 3, 200, 0.7, 2.5, 0 },
};

static void two_dcs(struct cg_stress_result r[2], struct cg_stress_run *run)
{
	memset(r, 0, 2 * sizeof(*r));
	r[0] = (struct cg_stress_result){ .dc = "DC1", .ops_per_s = 199.5, .p50_ms = 0.8,
					  .p95_ms = 1.5, .p99_ms = 3.25, .p999_ms = 9, .max_ms = 20,
					  .ops = 1995, .requests = 1995, .errors = 2,
					  .samples = samples, .nsamples = 3 };
	r[1] = (struct cg_stress_result){ .dc = "<DC2>", .ops_per_s = 150, .p50_ms = 1,
					  .p95_ms = 2, .p99_ms = 4.5, .p999_ms = 10, .max_ms = 30,
					  .ops = 1500, .requests = 1500, .first_error = "a \"b\" <c>",
					  .samples = samples, .nsamples = 3 };
	*run = (struct cg_stress_run){ .cluster = "Lab", .started = "2026-12-06T06:30:00Z",
				       .workload = "write", .consistency = "LOCAL_QUORUM", .rate = 200,
				       .duration_s = 10, .dir = "/tmp/results/Lab/20261206T063000Z",
				       .v = r, .n = 2 };
}

static void test_summary(void **state)
{
	(void)state;
	struct cg_stress_result r[2];
	struct cg_stress_run run;
	two_dcs(r, &run);
	double ops, p99;
	uint64_t errs;
	cg_stress_totals(&run, &ops, &errs, &p99);
	assert_true(ops == 349.5 && p99 == 4.5);
	assert_int_equal(errs, 2);
	char *below = cg_stress_below_rate(&run);
	assert_string_equal(below, "<DC2> (150 op/s)");	/* 199.5 >= 90% of 200 */
	free(below);
	run.rate = 0;	/* unbounded: nothing is below */
	assert_null(cg_stress_below_rate(&run));
	run.rate = 200;

	struct cg_buf b = {0};
	cg_stress_cli_json(&run, &b);
	assert_string_equal(b.data,
		"{\"report\": \"/tmp/results/Lab/20261206T063000Z\", \"dcs\": {"
		"\"DC1\": {\"ops_per_s\": 199.500, \"p50_ms\": 0.800, \"p99_ms\": 3.250, \"errors\": 2}, "
		"\"<DC2>\": {\"ops_per_s\": 150.000, \"p50_ms\": 1.000, \"p99_ms\": 4.500, \"errors\": 0}}}\n");
	cg_buf_free(&b);

	cg_stress_table_text(&run, &b);
	assert_string_equal(b.data,
		"DC                  ops/s    p50 ms    p95 ms    p99 ms  p99.9 ms    max ms     errors\n"
		"DC1                 199.5      0.80      1.50      3.25      9.00     20.00          2\n"
		"<DC2>               150.0      1.00      2.00      4.50     10.00     30.00          0\n"
		"all                 349.5                          4.50                              2\n");
	cg_buf_free(&b);

	/* summary.json reads back with the same figures */
	cg_stress_summary_json(&run, &b);
	struct cg_json *j = parse_ok(b.data);
	double v;
	assert_true(cg_json_num(cg_json_path(j, "total.ops_per_s"), &v) && v == 349.5);
	assert_true(cg_json_num(cg_json_path(j, "dcs.DC1.p99_ms"), &v) && v == 3.25);
	assert_true(cg_json_num(cg_json_path(j, "dcs.DC1.errors"), &v) && v == 2);
	assert_true(cg_json_num(cg_json_path(j, "rate_per_dc"), &v) && v == 200);
	const struct cg_json *d2 = cg_json_get(cg_json_get(j, "dcs"), "<DC2>");
	assert_string_equal(cg_json_get(d2, "first_error")->str, "a \"b\" <c>");
	const struct cg_json *sm = cg_json_get(d2, "samples");
	assert_int_equal(sm->n, 3);
	assert_int_equal(sm->v[1].v[3].type, CG_JSON_NULL);	/* a NaN p99: null */
	assert_string_equal(cg_json_get(j, "report")->str, run.dir);
	assert_non_null(strstr(cg_json_get(j, "tls_note")->str, "does not verify"));
	cg_json_free(j);
	cg_buf_free(&b);
}

static void test_html(void **state)
{
	(void)state;
	struct cg_stress_result r[2];
	struct cg_stress_run run;
	two_dcs(r, &run);
	struct cg_buf b = {0};
	cg_stress_html(&run, &b);
	const char *h = b.data;
	int svg = 0, poly = 0;
	for (const char *p = h; (p = strstr(p, "<svg")); p++)
		svg++;
	for (const char *p = h; (p = strstr(p, "<polyline")); p++)
		poly++;
	assert_int_equal(svg, 4);	/* throughput and latency per DC */
	assert_int_equal(poly, 6);	/* ops/s; p50 and p99 */
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "href="));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "<DC2>"));	/* escaped */
	assert_non_null(strstr(h, "<h2>&lt;DC2&gt;</h2>"));
	assert_non_null(strstr(h, "a &quot;b&quot; &lt;c&gt;"));
	assert_non_null(strstr(h, "does not verify"));
	assert_non_null(strstr(h, "<td>DC1</td><td>199.5</td>"));
	cg_buf_free(&b);
}

static void test_script_and_args(void **state)
{
	(void)state;
	struct cg_dc dcs[2] = { { .name = "DC1", .nodes = 2 }, { .name = "DC2", .nodes = 5 } };
	struct cg_cluster c = { .name = "Lab", .dcs = dcs, .ndcs = 2 };
	char *s = cg_stress_script(&c);
	assert_non_null(strstr(s, "const REPLICATION = \"{'class': 'NetworkTopologyStrategy', "
				  "'DC1': 2, 'DC2': 3}\";"));
	assert_non_null(strstr(s, "const KEYSPACE = \"" CG_STRESS_KEYSPACE "\";"));
	assert_non_null(strstr(s, "pub async fn write(ctx, i)"));
	assert_non_null(strstr(s, "pub async fn read(ctx, i)"));
	assert_non_null(strstr(s, "latte::hash(i) % ROWS"));
	free(s);
	enum cg_stress_workload w;
	assert_int_equal(cg_stress_workload_parse("mixed", &w), 0);
	assert_string_equal(cg_stress_functions(w), "write:1,read:1");
	assert_int_equal(cg_stress_workload_parse("Write", &w), -1);
	assert_int_equal(cg_stress_workload_parse(NULL, &w), -1);
	assert_string_equal(cg_stress_consistency("local_quorum"), "LOCAL_QUORUM");
	assert_string_equal(cg_stress_consistency("EACH_QUORUM"), "EACH_QUORUM");
	assert_null(cg_stress_consistency("LOCAL_SERIAL"));
	assert_null(cg_stress_consistency(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_report_parse),
		cmocka_unit_test(test_report_bad),
		cmocka_unit_test(test_report_real),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_script_and_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
