/*
 * cmd_run.c - `run CLUSTER SCENARIO.yaml [--check] [--json]`: load and
 * faults on one timeline. The scenario (planner/scenario.c) is read and
 * validated against the config before anything runs; then the load of
 * `stress` (cmd_stress.c: latte per DC, the results folder) runs, and a
 * thread fires each fault through chaos.h at its time after the load
 * began (the clients' first samples tell when). Faults fire one after the
 * other: one that is late because the one before took long says so in the
 * report (planned and fired times). At the end, whatever happened (the last
 * fault, an error, Ctrl-C), every node is healed and the ring is waited for
 * (every node UN, at most 5 minutes); then the report, with each fault
 * marked on the charts.
 */
#include "chaos.h"
#include "stress.h"
#include "../planner/scenario.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long the end waits for every node to be UN again after the heal. */
#define RING_WAIT_S 300

struct timeline {
	const struct cg_scenario *sc;
	const struct ops *ops;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool running;
	bool stop;
	double start;			/* the load's start (epoch s), 0 = not yet */
	struct cg_stress_mark *marks;	/* one per fault */
	char **labels, **errors, **outputs;
	int fired, shown;		/* faults done; of those, printed */
	char *healed;
	volatile sig_atomic_t *interrupted;	/* after a Ctrl-C the ring is not waited for */
};

/* Wait on tl->cv until wall time `until` (0: one 200 ms step). Locked. */
static void wait_until(struct timeline *tl, double until)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	double to = until > 0 ? until : now + 0.2;
	if (to > now + 1)
		to = now + 1;	/* wake each second: stop is checked too */
	ts.tv_sec = (time_t)to;
	ts.tv_nsec = (long)((to - (double)ts.tv_sec) * 1e9);
	pthread_cond_timedwait(&tl->cv, &tl->mu, &ts);
}

/* One fault of the scenario through the code of `chaos`. */
static int fire(const struct ops *o, const struct cg_scenario_fault *f, struct cg_buf *log,
		struct cg_err *err)
{
	switch (f->kind) {
	case CG_FAULT_KILL: return chaos_kill(o, f->target, log, err);
	case CG_FAULT_STOP: return chaos_stop(o, f->target, log, err);
	case CG_FAULT_PAUSE: return chaos_pause(o, f->target, f->arg, log, err);
	case CG_FAULT_PARTITION: return chaos_partition(o, f->target, log, err);
	case CG_FAULT_DELAY: return chaos_delay(o, f->target, f->arg, log, err);
	case CG_FAULT_HEAL: return chaos_heal(o, f->target, log, err);
	}
	return cg_error(err, CG_EXIT_ERROR, "unknown fault kind %d", (int)f->kind);
}

static void *fire_all(void *arg)
{
	struct timeline *tl = arg;
	pthread_mutex_lock(&tl->mu);
	for (int i = 0; i < tl->sc->nfaults; i++) {
		const struct cg_scenario_fault *f = &tl->sc->faults[i];
		while (!tl->stop && (!tl->start || stress_wall_now() < tl->start + f->at_s))
			wait_until(tl, tl->start ? tl->start + f->at_s : 0);
		if (tl->stop)
			break;
		pthread_mutex_unlock(&tl->mu);
		struct cg_buf out = {0};
		struct cg_err err = {0};
		double t0 = stress_wall_now();
		int rc = fire(tl->ops, f, &out, &err);
		double t1 = stress_wall_now();
		pthread_mutex_lock(&tl->mu);
		struct cg_stress_mark *m = &tl->marks[i];
		m->wall = t0;
		m->took_s = t1 - t0;
		if (rc < 0)
			m->error = tl->errors[i] = cg_xstrdup(err.msg);
		if (out.data) {	/* one line: "DC1.n2: killed 123; ..." */
			while (out.len && out.data[out.len - 1] == '\n')
				out.data[--out.len] = '\0';
			for (char *c = out.data; *c; c++)
				if (*c == '\n')
					*c = ';';
			m->output = tl->outputs[i] = cg_buf_detach(&out);
		}
		tl->fired = i + 1;
	}
	pthread_mutex_unlock(&tl->mu);
	return NULL;
}

static int tl_started(void *arg, const struct ops *ops, struct cg_err *err)
{
	struct timeline *tl = arg;
	tl->ops = ops;
	if (!tl->sc->nfaults)
		return 0;
	int e = pthread_create(&tl->th, NULL, fire_all, tl);
	if (e)
		return cg_error(err, CG_EXIT_ERROR, "cannot start the fault timeline: %s", strerror(e));
	tl->running = true;
	return 0;
}

static void tl_tick(void *arg, double load_start, struct cg_buf *above)
{
	struct timeline *tl = arg;
	pthread_mutex_lock(&tl->mu);
	if (!tl->start && load_start > 0) {
		tl->start = load_start;
		pthread_cond_broadcast(&tl->cv);
	}
	for (; tl->shown < tl->fired; tl->shown++) {
		const struct cg_stress_mark *m = &tl->marks[tl->shown];
		cg_buf_addf(above, "%6.1fs  %s: %s\n", m->wall - tl->start, m->label,
			    m->error ? m->error : m->output ? m->output : "done");
	}
	pthread_mutex_unlock(&tl->mu);
}

/* Every node UN in the ring, as the first node that answers sees it. */
static bool ring_all_un(const struct ops *ops, char *why, size_t sz)
{
	struct cg_ring ring;
	char *from = NULL;
	struct cg_err err = {0};
	if (ops_ring(ops, &ring, &from, &err) < 0) {
		snprintf(why, sz, "%.400s", err.msg);
		return false;
	}
	int un = 0;
	for (int i = 0; i < ring.n; i++)
		un += ring.v[i].status == 'U' && ring.v[i].state == 'N';
	int want = ops_expected_nodes(ops->c);
	snprintf(why, sz, "%d of %d nodes UN as %s sees them", un, want, from);
	cg_ring_free(&ring);
	free(from);
	return un == want;
}

static void tl_finished(void *arg, const struct ops *ops, bool interrupted,
			struct cg_stress_run *sr)
{
	struct timeline *tl = arg;
	pthread_mutex_lock(&tl->mu);
	tl->stop = true;
	pthread_cond_broadcast(&tl->cv);
	pthread_mutex_unlock(&tl->mu);
	if (tl->running) {
		if (tl->fired < tl->sc->nfaults && !interrupted)
			fprintf(stderr, "The load ended before every fault was fired: %d of %d.\n",
				tl->fired, tl->sc->nfaults);
		pthread_join(tl->th, NULL);
		tl->running = false;
	}
	struct cg_buf ignore = {0};
	tl_tick(tl, 0, &ignore);	/* the faults fired since the last tick */
	if (ignore.data)
		fputs(ignore.data, stderr);
	cg_buf_free(&ignore);
	/* heal every node, whatever the scenario or the run did */
	fprintf(stderr, "Healing every node of %s...\n", ops->c->name);
	struct cg_buf out = {0};
	struct cg_err err = {0};
	double t0 = stress_wall_now();
	int rc = chaos_heal(ops, NULL, &out, &err);
	char why[512] = "";
	bool un = false;
	int waited = 0;
	for (; rc == 0 && waited <= RING_WAIT_S; waited += 3) {
		if ((un = ring_all_un(ops, why, sizeof(why))))
			break;
		if (waited && tl->interrupted && *tl->interrupted)
			break;	/* Ctrl-C: healed, but no 5 minutes of waiting */
		sleep(3);
	}
	if (rc < 0)
		tl->healed = cg_xasprintf("the heal failed: %s (%s)", err.msg, out.data ? out.data : "");
	else if (!un)
		tl->healed = cg_xasprintf("every node healed, but after %d s %s", waited, why);
	else
		tl->healed = cg_xasprintf("every node healed; %s %.0f s later", why,
					  stress_wall_now() - t0);
	fprintf(stderr, "%s\n", tl->healed);
	cg_buf_free(&out);
	sr->healed = tl->healed;
	sr->description = tl->sc->description;
	sr->marks = tl->marks;
	sr->nmarks = tl->sc->nfaults;
	sr->start_wall = tl->start;
}

static void timeline_print(const struct cg_scenario *sc, const char *cluster, struct cg_buf *b)
{
	cg_buf_addf(b, "Scenario %s on %s%s%s\n  load: %s at %s, %.0f op/s per DC for %d s in", sc->path,
		    cluster, sc->description ? ": " : "", sc->description ? sc->description : "",
		    cg_stress_workload_name(sc->workload), sc->consistency, sc->rate, sc->duration_s);
	for (int i = 0; i < sc->ndcs; i++)
		cg_buf_addf(b, " %s", sc->dcs[i]);
	cg_buf_adds(b, "\n");
	for (int i = 0; i < sc->nfaults; i++) {
		cg_buf_addf(b, "  at %4.0f s: ", sc->faults[i].at_s);
		cg_fault_label(&sc->faults[i], b);
		cg_buf_adds(b, "\n");
	}
	cg_buf_addf(b, "  at the end: heal every node\n");
}

int cmd_run(struct cg_cli *cli, int argc, char **argv)
{
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	bool check = false, json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage("run", "unknown option %s", argv[i]);
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			return cli_usage("run", "expected CLUSTER SCENARIO.yaml, got a third argument "
					 "'%s'", argv[i]);
	}
	if (npos != 2)
		return cli_usage("run", "expected CLUSTER SCENARIO.yaml");
	struct cg_err err = {0};
	const struct cg_cluster *c;
	struct cg_scenario *sc = NULL;
	if (cli_load_config(cli, &err) < 0 || !(c = cg_config_cluster(cli->cfg, pos[0], &err)) ||
	    cg_scenario_load(pos[1], c, &sc, &err) < 0)
		return cli_fail(&err);
	struct cg_buf b = {0};
	timeline_print(sc, c->name, &b);
	if (check) {
		cg_buf_adds(&b, "The scenario is valid.\n");
		cli_print(b.data);
		cg_buf_free(&b);
		cg_scenario_free(sc);
		return CG_EXIT_OK;
	}
	if (!json)
		cli_print(b.data);
	cg_buf_free(&b);

	struct timeline tl = { .sc = sc, .interrupted = cli->interrupted };
	pthread_mutex_init(&tl.mu, NULL);
	pthread_cond_init(&tl.cv, NULL);
	tl.marks = cg_xcalloc((size_t)sc->nfaults + 1, sizeof(*tl.marks));
	tl.labels = cg_xcalloc((size_t)sc->nfaults + 1, sizeof(char *));
	tl.errors = cg_xcalloc((size_t)sc->nfaults + 1, sizeof(char *));
	tl.outputs = cg_xcalloc((size_t)sc->nfaults + 1, sizeof(char *));
	for (int i = 0; i < sc->nfaults; i++) {
		struct cg_buf l = {0};
		cg_fault_label(&sc->faults[i], &l);
		tl.labels[i] = cg_buf_detach(&l);
		tl.marks[i] = (struct cg_stress_mark){ .at_s = sc->faults[i].at_s, .label = tl.labels[i],
						      .kind = cg_fault_name(sc->faults[i].kind),
						      .target = sc->faults[i].target };
	}
	struct stress_opts o = {
		.cluster = c->name, .workload = sc->workload, .rate = sc->rate,
		.duration = sc->duration_s, .consistency = sc->consistency, .json = json,
	};
	o.dcs = cg_xcalloc((size_t)sc->ndcs, sizeof(char *));
	for (int i = 0; i < sc->ndcs; i++)
		o.dcs[o.ndcs++] = sc->dcs[i];
	const struct stress_hooks h = { &tl, tl_started, tl_tick, tl_finished };
	int rc = stress_main(cli, &o, &h);
	for (int i = 0; i < sc->nfaults; i++) {
		free(tl.labels[i]);
		free(tl.errors[i]);
		free(tl.outputs[i]);
	}
	free(tl.labels);
	free(tl.errors);
	free(tl.outputs);
	free(tl.marks);
	free(tl.healed);
	pthread_cond_destroy(&tl.cv);
	pthread_mutex_destroy(&tl.mu);
	cg_scenario_free(sc);
	return rc;
}
