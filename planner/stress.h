/*
 * stress.h - the pure half of `cassandgo stress`: the workload script given
 * to latte, the reading of latte's report (outside input: latte's JSON) and
 * of its live sample lines, and what the operator reads (the table per DC,
 * summary.json, the --json answer, report.html). No I/O: cmd/cmd_stress.c
 * runs latte and writes the files.
 *
 * latte's traps (FACTS.md) handled here: its error count stays 0 when every
 * request fails (errors are counted from the report's per-sample request
 * errors), and its report holds the password in plain text
 * (cg_stress_scrub).
 */
#ifndef CG_PLANNER_STRESS_H
#define CG_PLANNER_STRESS_H

#include <stdbool.h>
#include <stdint.h>
#include "../util/util.h"
#include "config.h"

/* latte, the load generator cassandgo drives (built by tests/deps.d/stress.sh). */
#define CG_STRESS_LATTE_VERSION "0.29.0"
/* The keyspace the workload writes (NetworkTopologyStrategy over every DC). */
#define CG_STRESS_KEYSPACE "cassandgo_stress"

enum cg_stress_workload { CG_STRESS_WRITE, CG_STRESS_READ, CG_STRESS_MIXED };

/* "write" | "read" | "mixed": 0, else -1. */
int cg_stress_workload_parse(const char *s, enum cg_stress_workload *out);
const char *cg_stress_workload_name(enum cg_stress_workload w);
/* latte's -f argument for it ("write", "read", "write:1,read:1"). */
const char *cg_stress_functions(enum cg_stress_workload w);
/* A consistency level latte knows, upper case (LOCAL_QUORUM): the canonical
 * name, or NULL. */
const char *cg_stress_consistency(const char *s);

/* The Rune script: schema (keyspace over every DC of c with RF min(3,
 * nodes), table), prepare, write, read. Caller frees. */
char *cg_stress_script(const struct cg_cluster *c);

/* One point of a DC's run over time. */
struct cg_stress_sample {
	double t_s;		/* seconds since the start of the run (end of the sample) */
	double ops_per_s;
	double p50_ms, p99_ms;
	uint64_t errors;	/* failed requests (or cycles) in the sample */
};

/* What one DC's client measured. Latencies are per operation (a cycle of
 * the workload: one request), in ms. */
struct cg_stress_result {
	char *dc;
	double ops_per_s;
	double target_rate;	/* the rate asked for, 0 = unbounded */
	double duration_s;
	double p50_ms, p95_ms, p99_ms, p999_ms, max_ms;
	uint64_t ops, requests, errors;
	char *first_error;	/* one message latte kept, or NULL */
	double start_wall;	/* when latte's clock started (result.start_time, seconds
				 * since the epoch); 0 when the report has none */
	struct cg_stress_sample *samples;
	int nsamples;
};
void cg_stress_result_clear(struct cg_stress_result *r);

/* Read latte's JSON report (text[0..len)) into *out (dc stays NULL: the
 * caller names it). Errors = the largest of latte's error count, the sum of
 * the samples' request errors and the sum of their cycle errors. A report
 * without throughput or latency percentiles is an error. */
int cg_stress_report_parse(const char *text, size_t len, struct cg_stress_result *out,
			   struct cg_err *err);

/* One line of latte's live log ("  12.001   2000   0   1999   0.4 ... "):
 * true and *s (time, ops/s, p50, p99, failed cycles) for a sample line. */
bool cg_stress_live_parse(const char *line, struct cg_stress_sample *s);

/* Replace every occurrence of secret in *text (len *len) with
 * "<redacted>"; returns how many. *text stays NUL-terminated. */
int cg_stress_scrub(char **text, size_t *len, const char *secret);

/* A fault on the run's timeline (cassandgo run): marked on the charts. */
struct cg_stress_mark {
	double at_s;		/* planned: seconds after the load started */
	double wall;		/* when it was fired (seconds since the epoch); 0 = never */
	double took_s;		/* how long the action took */
	const char *label;	/* "kill DC1.n2" */
	const char *kind, *target;
	const char *error;	/* why it failed, NULL when it worked */
	const char *output;	/* what the nodes answered, or NULL */
};

/* Figures of one DC between two faults: samples (one per second) that end
 * in (from_s, to_s] of the DC's clock. */
struct cg_stress_phase {
	double from_s, to_s;
	int after;		/* index of the mark that opened it, -1 = the start */
	int samples;
	double ops_per_s;	/* mean of the samples */
	double p99_ms;		/* the worst sample's p99 */
	uint64_t errors;
};

/* The whole run, for the renderers. */
struct cg_stress_run {
	const char *cluster;
	const char *started;	/* ISO-8601 UTC */
	const char *workload;	/* write | read | mixed */
	const char *consistency;
	double rate;		/* per DC; 0 = unbounded */
	int duration_s;
	const char *dir;	/* absolute results directory */
	const struct cg_stress_result *v;
	int n;
	/* cassandgo run: the scenario's description (or NULL), the faults fired
	 * (in time order), and when its clock started (seconds since the epoch;
	 * the faults' times are from there). nmarks 0 = a plain stress. */
	const char *description;
	const struct cg_stress_mark *marks;
	int nmarks;
	double start_wall;
	const char *healed;	/* how the heal of every node at the end went */
};

/* Where mark m falls on DC result r's clock (seconds): from the wall times
 * when both are known, else its planned time. */
double cg_stress_mark_time(const struct cg_stress_run *run, const struct cg_stress_result *r,
			   const struct cg_stress_mark *m);
/* The phases of r: from the start to the first fault fired, between
 * faults, to the end. *out (caller frees) gets nmarks + 1 at most. */
int cg_stress_phases(const struct cg_stress_run *run, const struct cg_stress_result *r,
		     struct cg_stress_phase **out);
/* The faults (planned and fired times, how each went) and the phases per
 * DC, as text tables. Nothing for a plain stress. */
void cg_stress_faults_text(const struct cg_stress_run *run, struct cg_buf *b);
/* Sum of throughput and errors, worst p99 over the DCs. */
void cg_stress_totals(const struct cg_stress_run *run, double *ops_per_s, uint64_t *errors,
		      double *worst_p99_ms);
/* DCs whose throughput stayed below 90% of the rate asked (a rate the
 * client or the cluster could not reach): a comma-separated list, or NULL. */
char *cg_stress_below_rate(const struct cg_stress_run *run);
/* The table per DC: throughput, p50, p95, p99, p99.9, max, errors. */
void cg_stress_table_text(const struct cg_stress_run *run, struct cg_buf *b);
/* summary.json: the run's parameters and every figure per DC; with faults,
 * "faults" (each with its planned and fired time, "ok", error, output) and
 * "phases" per DC. */
void cg_stress_summary_json(const struct cg_stress_run *run, struct cg_buf *b);
/* --json: {"report": DIR, "dcs": {"DC1": {"ops_per_s", "p50_ms", "p99_ms",
 * "errors"}, ...}}. */
void cg_stress_cli_json(const struct cg_stress_run *run, struct cg_buf *b);
/* report.html: one self-contained page (no script, no external file): the
 * table, then throughput and latency over time per DC as inline SVG; a run
 * with faults marks each on every chart (a dashed line and its label, class
 * "fault"), lists them and the phases per DC. */
void cg_stress_html(const struct cg_stress_run *run, struct cg_buf *b);

/* What latte's TLS does not check, said to the user (FACTS.md). */
extern const char cg_stress_tls_note[];

#endif
