/* progress.c - apply/destroy progress (see progress.h). */
#include "progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { STAGES = 5 };
static const char *const stage_names[STAGES] = {"cloud", "install", "config", "start", "verify"};

static int stage_of(enum cg_kind k)
{
	switch (k) {
	case CG_KIND_NETWORK: case CG_KIND_PEERS: case CG_KIND_KEYPAIR: case CG_KIND_MACHINE:
	case CG_KIND_LOADER:
		return 0;
	case CG_KIND_INSTALL: return 1;
	case CG_KIND_CONFIG: return 2;
	case CG_KIND_SERVICE: return 3;
	case CG_KIND_RING: case CG_KIND_MONITORING: case CG_KIND_AUTH: case CG_KIND_KEYSPACE:
	case CG_KIND_SYSTEM: case CG_KIND_REBUILD: case CG_KIND_DATACENTER:
	case CG_KIND__COUNT: break;
	}
	return 4;
}

const char *cg_progress_stage(enum cg_kind k)
{
	return stage_names[stage_of(k)];
}

struct running {
	const struct cg_action *a;
	int64_t t0;
};

struct cg_progress {
	const struct cg_plan *plan;
	const struct cg_rset *known;
	FILE *out;
	bool live, color;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t ticker;
	bool ticking, stop;
	struct running *run;		/* actions running now */
	int nrun;
	int drawn;			/* lines of the live block on screen */
	int64_t t0;
	int64_t stage_first[STAGES], stage_last[STAGES];
	int stage_count[STAGES];
	int failed;
};

static const struct cg_resource *res_of(const struct cg_action *a)
{
	return a->has_desired ? &a->desired : &a->current;
}

/* zone of a node: its machine in the plan, else in what exists */
static const char *zone_of(const struct cg_resource *r, const struct cg_rset *known,
			   const struct cg_plan *plan)
{
	char addr[300];
	if (!r->dc)
		return NULL;
	snprintf(addr, sizeof(addr), "machine.%s.n%d", r->dc, r->node);
	for (int i = 0; plan && i < plan->n; i++)
		if (!strcmp(plan->v[i].addr, addr)) {
			const char *z = cg_res_get(res_of(&plan->v[i]), "zone");
			if (z)
				return z;
		}
	const struct cg_resource *m = known ? cg_rset_find(known, addr) : NULL;
	return m ? cg_res_get(m, "zone") : NULL;
}

const char *cg_progress_label(const struct cg_action *a, const struct cg_rset *known,
			      const struct cg_plan *plan, char *buf, size_t n)
{
	const struct cg_resource *r = res_of(a);
	if (r->dc) {
		const char *z = zone_of(r, known, plan);
		char node[64];
		snprintf(node, sizeof(node), "%s n%d", r->dc, r->node);
		snprintf(buf, n, "%-9s %-12s", node, z ? z : "");
	} else if (r->region) {
		snprintf(buf, n, "%-22s", r->region);
	} else if (r->kind == CG_KIND_KEYSPACE || r->kind == CG_KIND_DATACENTER ||
		   r->kind == CG_KIND_SYSTEM) {
		snprintf(buf, n, "%-22s", r->addr);
	} else {
		snprintf(buf, n, "%-22s", "cluster");
	}
	return buf;
}

static const char *noun(enum cg_kind k)
{
	switch (k) {
	case CG_KIND_NETWORK: return "network access";
	case CG_KIND_PEERS: return "cross-region rules";
	case CG_KIND_KEYPAIR: return "key pair";
	case CG_KIND_MACHINE: return "machine";
	case CG_KIND_INSTALL: return "Cassandra install";
	case CG_KIND_CONFIG: return "config";
	case CG_KIND_SERVICE: return "Cassandra";
	case CG_KIND_RING: return "ring";
	case CG_KIND_MONITORING: return "monitoring";
	case CG_KIND_AUTH: return "authentication";
	case CG_KIND_KEYSPACE: return "keyspace";
	case CG_KIND_SYSTEM: return "system keyspaces";
	case CG_KIND_REBUILD: return "rebuild";
	case CG_KIND_DATACENTER: return "datacenter check";
	case CG_KIND_LOADER: return "load node";
	case CG_KIND__COUNT: break;
	}
	return "resource";
}

/* Parking (cassandgo stop/start): the desired key is value; with key NULL,
 * a machine powered off before (its start). */
static bool parking(const struct cg_action *a, const char *key, const char *value)
{
	if (!key) {
		const char *pw = a->has_current ? cg_res_get(&a->current, "power") : NULL;
		return pw && !strcmp(pw, "off");
	}
	const char *v = a->op == CG_OP_UPDATE && a->has_desired ? cg_res_get(&a->desired, key) : NULL;
	return v && !strcmp(v, value);
}

const char *cg_progress_done_text(const struct cg_action *a)
{
	if (a->forget && a->kind == CG_KIND_KEYSPACE)
		return "forgotten (the keyspace and its data stay)";
	if (a->forget)
		return "forgotten (went with its machine)";
	switch (a->kind) {
	case CG_KIND_MACHINE:
		if (parking(a, "power", "off"))
			return "machine powered off, disk kept";
		if (a->op == CG_OP_UPDATE && a->has_current && parking(a, NULL, NULL))
			return "machine started";
		return a->op == CG_OP_DELETE ? "machine destroyed" :
		       a->op == CG_OP_UPDATE ? "machine repaired" :
		       a->op == CG_OP_REPLACE ? "machine replaced, running" : "machine running";
	case CG_KIND_INSTALL: return a->op == CG_OP_DELETE ? "Cassandra removed" : "Cassandra installed";
	case CG_KIND_CONFIG: return a->op == CG_OP_DELETE ? "config removed" : "config rendered";
	case CG_KIND_SERVICE:
		if (parking(a, "running", "false"))
			return "drained, Cassandra stopped";
		if (a->op == CG_OP_UPDATE && a->has_current && cg_res_get(&a->current, "running") &&
		    !strcmp(cg_res_get(&a->current, "running"), "false"))
			return "Cassandra started";
		return a->op == CG_OP_DELETE ? "decommissioned, stopped" :
		       a->op == CG_OP_UPDATE ? "Cassandra restarted" : "Cassandra started";
	case CG_KIND_RING: return a->op == CG_OP_DELETE ? "ring forgotten" : "ring verified";
	case CG_KIND_NETWORK:
		return a->op == CG_OP_DELETE ? "network access removed" :
		       a->op == CG_OP_UPDATE ? "network access rules updated" : "network access created";
	case CG_KIND_PEERS:
		return a->op == CG_OP_DELETE ? "cross-region rules removed" : "cross-region rules set";
	case CG_KIND_KEYPAIR:
		return a->op == CG_OP_DELETE ? "key pair removed" : "key pair created";
	case CG_KIND_MONITORING:
		return a->op == CG_OP_DELETE ? "monitoring stopped" : "monitoring running, every target up";
	case CG_KIND_AUTH:
		return a->op == CG_OP_DELETE ? "authentication forgotten" :
		       "superuser set, default role gone, system_auth in every DC";
	case CG_KIND_SYSTEM:
		return a->op == CG_OP_DELETE ? "forgotten" : "system keyspaces replicated in every DC";
	case CG_KIND_REBUILD:
		return a->op == CG_OP_DELETE ? "forgotten" : "rebuilt (nodetool rebuild finished)";
	case CG_KIND_DATACENTER:
		return a->op == CG_OP_DELETE ? "forgotten" :
		       "rows written before read back from it at LOCAL_QUORUM";
	case CG_KIND_KEYSPACE:
		return a->op == CG_OP_CREATE ? "keyspace created, replication as declared" :
		       a->reason && strstr(a->reason, "full repair") ? "replication converged, repaired"
								     : "replication converged";
	default:
		break;
	}
	switch (a->op) {
	case CG_OP_CREATE: return "created";
	case CG_OP_UPDATE: return "updated";
	case CG_OP_REPLACE: return "replaced";
	case CG_OP_DELETE: return "destroyed";
	case CG_OP_NOOP: break;
	}
	return "done";
}

static const char *doing_text(const struct cg_action *a)
{
	switch (a->op) {
	case CG_OP_CREATE: return a->kind == CG_KIND_SERVICE ? "starting" :
				  a->kind == CG_KIND_RING ? "verifying" : "creating";
	case CG_OP_UPDATE:
		if (parking(a, "running", "false"))
			return "draining";
		if (parking(a, "power", "off"))
			return "powering off";
		if (parking(a, NULL, NULL))
			return "starting";
		if (a->kind == CG_KIND_SERVICE && a->has_current && cg_res_get(&a->current, "running") &&
		    !strcmp(cg_res_get(&a->current, "running"), "false"))
			return "starting";
		return a->kind == CG_KIND_SERVICE ? "restarting" : "updating";
	case CG_OP_REPLACE: return "replacing";
	case CG_OP_DELETE: return a->forget ? "forgetting" : "destroying";
	case CG_OP_NOOP: break;
	}
	return "working on";
}

static void clear_live(struct cg_progress *p)
{
	for (int i = 0; i < p->drawn; i++)
		fputs("\033[1A\033[2K", p->out);
	p->drawn = 0;
}

static void draw_live(struct cg_progress *p)
{
	int64_t now = cg_now_ms();
	char lab[128];
	int shown = 0;
	for (int i = 0; i < p->nrun && shown < 12; i++, shown++) {
		const struct cg_action *a = p->run[i].a;
		fprintf(p->out, "  %s... %s  %s %s  [%llds]\n", p->color ? "\033[2m" : "",
			cg_progress_label(a, p->known, p->plan, lab, sizeof(lab)), doing_text(a),
			noun(a->kind), (long long)((now - p->run[i].t0) / 1000));
		if (p->color)
			fputs("\033[0m", p->out);
	}
	if (p->nrun > shown) {
		fprintf(p->out, "  ... and %d more running\n", p->nrun - shown);
		shown++;
	}
	p->drawn = shown;
	fflush(p->out);
}

static void *tick(void *arg)
{
	struct cg_progress *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		if (p->stop)
			break;
		clear_live(p);
		draw_live(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct cg_progress *cg_progress_start(const struct cg_plan *plan, const struct cg_rset *known,
				      FILE *out, bool live, bool color)
{
	struct cg_progress *p = cg_xcalloc(1, sizeof(*p));
	p->plan = plan;
	p->known = known;
	p->out = out;
	p->live = live;
	p->color = color;
	p->t0 = cg_now_ms();
	p->run = cg_xcalloc((size_t)plan->n + 1, sizeof(*p->run));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (live && pthread_create(&p->ticker, NULL, tick, p) == 0)
		p->ticking = true;
	return p;
}

static void elapsed(char *buf, size_t n, int64_t ms)
{
	if (ms < 10000)
		snprintf(buf, n, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(buf, n, "%llds", (long long)(ms / 1000));
}

void cg_progress_event(void *ui, enum cg_exec_event ev, const struct cg_action *a,
		       const char *msg)
{
	struct cg_progress *p = ui;
	char lab[128], el[32];
	int64_t now = cg_now_ms();
	int st = stage_of(a->kind);

	pthread_mutex_lock(&p->mu);
	if (p->live)
		clear_live(p);
	switch (ev) {
	case CG_EXEC_START:
		p->run[p->nrun].a = a;
		p->run[p->nrun++].t0 = now;
		if (!p->stage_count[st]++)
			p->stage_first[st] = now;
		if (!p->live)
			fprintf(p->out, "%-7s %s  %s %s...\n", stage_names[st],
				cg_progress_label(a, p->known, p->plan, lab, sizeof(lab)),
				doing_text(a), noun(a->kind));
		break;
	case CG_EXEC_DONE:
	case CG_EXEC_FAIL:
		for (int i = 0; i < p->nrun; i++)
			if (p->run[i].a == a) {
				p->run[i] = p->run[--p->nrun];
				break;
			}
		p->stage_last[st] = now;
		elapsed(el, sizeof(el), a->elapsed_ms);
		cg_progress_label(a, p->known, p->plan, lab, sizeof(lab));
		if (ev == CG_EXEC_DONE) {
			fprintf(p->out, "%-7s %s  %s%s%s  [%s]\n", stage_names[st], lab,
				p->color ? "\033[32m" : "", cg_progress_done_text(a),
				p->color ? "\033[0m" : "", el);
		} else {
			p->failed++;
			fprintf(p->out, "%-7s %s  %sFAILED%s %s %s after %s: %s\n", stage_names[st], lab,
				p->color ? "\033[31m" : "", p->color ? "\033[0m" : "", doing_text(a),
				noun(a->kind), el, msg ? msg : "");
		}
		break;
	case CG_EXEC_SKIP:
		fprintf(p->out, "%-7s %s  skipped %s (%s)\n", stage_names[st],
			cg_progress_label(a, p->known, p->plan, lab, sizeof(lab)), noun(a->kind),
			msg ? msg : "");
		break;
	case CG_EXEC_PROGRESS:
		if (!p->live)
			fprintf(p->out, "%-7s %s  %s\n", stage_names[st],
				cg_progress_label(a, p->known, p->plan, lab, sizeof(lab)), msg ? msg : "");
		break;
	}
	if (p->live)
		draw_live(p);
	fflush(p->out);
	pthread_mutex_unlock(&p->mu);
}

void cg_progress_finish(struct cg_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->ticking)
		pthread_join(p->ticker, NULL);
	if (p->live)
		clear_live(p);
	struct cg_buf b = {0};
	char el[32];
	for (int s = 0; s < STAGES; s++) {
		if (!p->stage_count[s])
			continue;
		elapsed(el, sizeof(el), p->stage_last[s] - p->stage_first[s]);
		cg_buf_addf(&b, "%s%s %s (%d)", b.len ? ", " : "", stage_names[s], el,
			    p->stage_count[s]);
	}
	elapsed(el, sizeof(el), cg_now_ms() - p->t0);
	if (b.len)
		fprintf(p->out, "\nTime per stage: %s; total %s.\n", b.data, el);
	fflush(p->out);
	cg_buf_free(&b);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->run);
	free(p);
}
