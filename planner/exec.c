/* exec.c - the executor (see exec.h). */
#include "exec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct cg_exec *ex;
	pthread_mutex_t mu;		/* guards everything below and world */
	pthread_cond_t cv;
	int *remaining;			/* unfinished deps per action */
	int **rdeps;
	int *nrdeps;
	int *ready;			/* queue of runnable action indices */
	int rhead, rtail;
	int running, finished;
	struct cg_rset world;
	struct cg_exec_result res;
	struct cg_buf failures;
};

struct actx {
	struct cg_ctx ctx;
	struct run *run;
	const struct cg_action *a;
};

static int ctx_lookup(struct cg_ctx *c, const char *addr, struct cg_resource *out)
{
	struct run *r = ((struct actx *)c)->run;
	int rc = -1;
	pthread_mutex_lock(&r->mu);
	const struct cg_resource *x = cg_rset_find(&r->world, addr);
	if (x) {
		cg_res_copy(out, x);
		rc = 0;
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void ctx_list(struct cg_ctx *c, enum cg_kind kind, struct cg_rset *out)
{
	struct run *r = ((struct actx *)c)->run;
	pthread_mutex_lock(&r->mu);
	for (int i = 0; i < r->world.n; i++)
		if (r->world.v[i].kind == kind)
			cg_rset_add(out, &r->world.v[i]);
	pthread_mutex_unlock(&r->mu);
}

static void ctx_progress(struct cg_ctx *c, const char *addr, const char *fmt, ...)
{
	struct actx *ax = (struct actx *)c;
	struct cg_exec *ex = ax->run->ex;
	struct cg_buf b = {0};
	va_list ap;
	(void)addr;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (ex->event) {
		pthread_mutex_lock(&ax->run->mu);
		ex->event(ex->ui, CG_EXEC_PROGRESS, ax->a, b.data);
		pthread_mutex_unlock(&ax->run->mu);
	}
	cg_buf_free(&b);
}

/* What the state records after a create/update: the provider's result, with
 * identity and desired inputs filled in where the provider left them out. */
static void complete_result(struct cg_resource *res, const struct cg_action *a)
{
	const struct cg_resource *d = &a->desired;
	if (!res->addr) {
		char *id = res->id;
		res->id = NULL;
		cg_res_clear(res);
		cg_res_copy(res, d);
		free(res->id);
		res->id = id;
	} else {
		res->kind = d->kind;
		if (!res->region)
			res->region = cg_xstrdup(d->region);
		if (!res->dc)
			res->dc = cg_xstrdup(d->dc);
		if (!res->node)
			res->node = d->node;
		for (int i = 0; i < d->nattrs; i++)
			if (!cg_res_attr(res, d->attrs[i].key) && d->attrs[i].value)
				cg_res_set(res, d->attrs[i].key, d->attrs[i].value, d->attrs[i].flags);
	}
	if (!res->id && a->op == CG_OP_UPDATE && a->has_current)
		res->id = cg_xstrdup(a->current.id);
	/* deps are a planning notion, not recorded */
	for (int i = 0; i < res->ndeps; i++)
		free(res->deps[i]);
	free(res->deps);
	res->deps = NULL;
	res->ndeps = 0;
}

static void world_put(struct run *r, const struct cg_resource *res)
{
	for (int i = r->world.n - 1; i >= 0; i--)
		if (!strcmp(r->world.v[i].addr, res->addr))
			cg_rset_remove_at(&r->world, i);
	cg_rset_add(&r->world, res);
}

static void world_remove(struct run *r, const struct cg_resource *cur)
{
	for (int i = r->world.n - 1; i >= 0; i--) {
		const struct cg_resource *w = &r->world.v[i];
		if (!strcmp(w->addr, cur->addr) &&
		    (!cur->id || !w->id || !strcmp(w->id, cur->id)))
			cg_rset_remove_at(&r->world, i);
	}
}

static int provider_call(struct run *r, struct actx *ax, enum cg_op op,
			 const struct cg_resource *desired, const struct cg_resource *current,
			 struct cg_resource *result, struct cg_err *err)
{
	const struct cg_exec_provider *pv = &r->ex->by_kind[ax->a->kind];
	if (!pv->ops)
		return cg_error(err, CG_EXIT_ERROR, "no provider manages %s resources",
				cg_kind_name(ax->a->kind));
	return pv->ops->apply(pv->p, &ax->ctx, op, desired, current, result, err);
}

/* Run one action; returns 0 or -1 with err. Records its outcome. */
static int run_action(struct run *r, const struct cg_action *a, struct cg_err *err)
{
	struct cg_exec *ex = r->ex;
	const char *cl = ex->plan->cluster;
	struct actx ax = {
		.ctx = {.env = ex->env, .cluster = ex->cluster, .lookup = ctx_lookup,
			.list = ctx_list, .progress = ctx_progress},
		.run = r, .a = a,
	};
	struct cg_resource result;
	int64_t jid = 0;
	int rc = 0;

	memset(&result, 0, sizeof(result));
	if (cg_state_journal_begin(ex->state, cl, a->addr, cg_op_name(a->op), &jid, err) < 0)
		return -1;

	if (a->op == CG_OP_DELETE || a->op == CG_OP_REPLACE) {
		if (a->has_current && !a->forget) {
			struct cg_resource scratch;
			memset(&scratch, 0, sizeof(scratch));
			rc = provider_call(r, &ax, CG_OP_DELETE, NULL, &a->current, &scratch, err);
			cg_res_clear(&scratch);
		}
		if (rc == 0 && a->has_current) {
			rc = cg_state_remove(ex->state, cl, a->addr, a->current.id, NULL, err);
			pthread_mutex_lock(&r->mu);
			world_remove(r, &a->current);
			pthread_mutex_unlock(&r->mu);
		}
	}
	if (rc == 0 && a->op != CG_OP_DELETE) {
		enum cg_op op = a->op == CG_OP_UPDATE ? CG_OP_UPDATE : CG_OP_CREATE;
		const struct cg_resource *cur = op == CG_OP_UPDATE ? &a->current : NULL;
		rc = provider_call(r, &ax, op, &a->desired, cur, &result, err);
		if (rc == 0) {
			complete_result(&result, a);
			/* records superseded at this address (a recreated machine,
			 * a node step redone on a new machine) go, atomically */
			rc = cg_state_replace(ex->state, cl, &result, err);
			if (rc == 0) {
				pthread_mutex_lock(&r->mu);
				world_put(r, &result);
				pthread_mutex_unlock(&r->mu);
			}
		}
	}
	cg_res_clear(&result);
	struct cg_err jerr = {0};
	cg_state_journal_end(ex->state, jid, rc == 0 ? CG_J_DONE : CG_J_FAILED,
			     rc == 0 ? NULL : err->msg, &jerr);
	return rc;
}

static void skip_dependents(struct run *r, int i, const char *why)
{
	struct cg_plan *p = r->ex->plan;
	for (int k = 0; k < r->nrdeps[i]; k++) {
		int j = r->rdeps[i][k];
		if (p->v[j].status != CG_ACT_WAITING)
			continue;
		p->v[j].status = CG_ACT_SKIPPED;
		free(p->v[j].error);
		p->v[j].error = cg_xasprintf("not run: %s %s", p->v[i].addr, why);
		r->res.skipped++;
		r->finished++;
		if (r->ex->event)
			r->ex->event(r->ex->ui, CG_EXEC_SKIP, &p->v[j], p->v[j].error);
		skip_dependents(r, j, "was not run");
	}
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct cg_exec *ex = r->ex;
	struct cg_plan *p = ex->plan;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->rhead == r->rtail && r->finished < p->n &&
		       !(ex->env->interrupted && *ex->env->interrupted && r->running == 0))
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->finished >= p->n)
			break;
		if (ex->env->interrupted && *ex->env->interrupted) {
			/* no new action starts; the last worker out marks the rest */
			if (r->running == 0) {
				for (int i = 0; i < p->n; i++)
					if (p->v[i].status == CG_ACT_WAITING) {
						p->v[i].status = CG_ACT_SKIPPED;
						p->v[i].error = cg_xstrdup("not run: interrupted");
						r->res.skipped++;
						r->finished++;
					}
				pthread_cond_broadcast(&r->cv);
				break;
			}
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		int i = r->ready[r->rhead++];
		struct cg_action *a = &p->v[i];
		a->status = CG_ACT_RUNNING;
		r->running++;
		if (ex->event)
			ex->event(ex->ui, CG_EXEC_START, a, NULL);
		pthread_mutex_unlock(&r->mu);

		struct cg_err err = {0};
		int64_t t0 = cg_now_ms();
		int rc = run_action(r, a, &err);

		pthread_mutex_lock(&r->mu);
		a->elapsed_ms = cg_now_ms() - t0;
		r->running--;
		r->finished++;
		if (rc == 0) {
			a->status = CG_ACT_DONE;
			switch (a->op) {
			case CG_OP_CREATE: r->res.added++; break;
			case CG_OP_UPDATE: r->res.changed++; break;
			case CG_OP_REPLACE: r->res.added++; r->res.destroyed++; break;
			case CG_OP_DELETE: r->res.destroyed++; break;
			case CG_OP_NOOP: break;
			}
			if (ex->event)
				ex->event(ex->ui, CG_EXEC_DONE, a, NULL);
			for (int k = 0; k < r->nrdeps[i]; k++) {
				int j = r->rdeps[i][k];
				if (--r->remaining[j] == 0 && p->v[j].status == CG_ACT_WAITING)
					r->ready[r->rtail++] = j;
			}
		} else {
			a->status = CG_ACT_FAILED;
			a->error = cg_xstrdup(err.msg);
			r->res.failed++;
			cg_buf_addf(&r->failures, "\n  %s (%s): %s", a->addr, cg_op_name(a->op), err.msg);
			if (ex->event)
				ex->event(ex->ui, CG_EXEC_FAIL, a, err.msg);
			skip_dependents(r, i, "failed");
		}
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int cg_exec_run(struct cg_exec *ex, struct cg_exec_result *res, struct cg_err *err)
{
	struct cg_plan *p = ex->plan;
	struct run r;
	int nthreads = ex->parallelism > 0 ? ex->parallelism : 10;

	memset(&r, 0, sizeof(r));
	r.ex = ex;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	cg_rset_init(&r.world);
	if (ex->world)
		for (int i = 0; i < ex->world->n; i++)
			cg_rset_add(&r.world, &ex->world->v[i]);
	r.remaining = cg_xcalloc((size_t)p->n + 1, sizeof(int));
	r.rdeps = cg_xcalloc((size_t)p->n + 1, sizeof(int *));
	r.nrdeps = cg_xcalloc((size_t)p->n + 1, sizeof(int));
	r.ready = cg_xcalloc((size_t)p->n + 1, sizeof(int));
	for (int i = 0; i < p->n; i++) {
		p->v[i].status = CG_ACT_WAITING;
		r.remaining[i] = p->v[i].ndeps;
		for (int k = 0; k < p->v[i].ndeps; k++) {
			int j = p->v[i].deps[k];
			r.rdeps[j] = cg_xrealloc(r.rdeps[j], (size_t)(r.nrdeps[j] + 1) * sizeof(int));
			r.rdeps[j][r.nrdeps[j]++] = i;
		}
	}
	for (int i = 0; i < p->n; i++)
		if (!r.remaining[i])
			r.ready[r.rtail++] = i;

	if (nthreads > p->n)
		nthreads = p->n ? p->n : 1;
	pthread_t *th = cg_xcalloc((size_t)nthreads, sizeof(pthread_t));
	int started = 0;
	for (int t = 0; t < nthreads; t++) {
		/* small stacks would do, but providers (curl, libssh2) nest deeply */
		if (pthread_create(&th[t], NULL, worker, &r) == 0)
			started++;
	}
	if (!started)
		worker(&r);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	free(th);

	*res = r.res;
	int rc = 0;
	if (r.res.failed) {
		rc = cg_error(err, CG_EXIT_ERROR, "%d action%s failed:%s", r.res.failed,
			      r.res.failed == 1 ? "" : "s", r.failures.data);
	} else if (r.res.skipped) {
		rc = cg_error(err, CG_EXIT_ERROR, "interrupted: %d action%s not run",
			      r.res.skipped, r.res.skipped == 1 ? "" : "s");
	}
	for (int i = 0; i < p->n; i++)
		free(r.rdeps[i]);
	free(r.rdeps);
	free(r.nrdeps);
	free(r.remaining);
	free(r.ready);
	cg_buf_free(&r.failures);
	cg_rset_free(&r.world);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return rc;
}
