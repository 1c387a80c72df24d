/* plan.c - diff and action graph (see plan.h). */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_plan_add_note(struct cg_plan *plan, const char *fmt, ...)
{
	struct cg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	plan->notes = cg_xrealloc(plan->notes, (size_t)(plan->nnotes + 1) * sizeof(char *));
	plan->notes[plan->nnotes++] = cg_buf_detach(&b);
}

static void action_clear(struct cg_action *a)
{
	free(a->addr);
	if (a->has_desired)
		cg_res_clear(&a->desired);
	if (a->has_current)
		cg_res_clear(&a->current);
	free(a->reason);
	free(a->deps);
	free(a->error);
}

void cg_plan_free(struct cg_plan *plan)
{
	for (int i = 0; i < plan->n; i++)
		action_clear(&plan->v[i]);
	free(plan->v);
	for (int i = 0; i < plan->nnotes; i++)
		free(plan->notes[i]);
	free(plan->notes);
	free(plan->cluster);
	memset(plan, 0, sizeof(*plan));
}

/* --- building --------------------------------------------------------- */

struct builder {
	struct cg_plan *plan;
	int cap;
	/* address -> action index (first non-delete, else any) */
	int *index;
	int index_cap;
};

static struct cg_action *new_action(struct builder *b, enum cg_op op, const char *addr,
				    enum cg_kind kind)
{
	struct cg_plan *p = b->plan;
	if (p->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		p->v = cg_xrealloc(p->v, (size_t)b->cap * sizeof(*p->v));
	}
	struct cg_action *a = &p->v[p->n++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->kind = kind;
	a->addr = cg_xstrdup(addr);
	return a;
}

static void add_dep(struct cg_action *a, int idx)
{
	for (int i = 0; i < a->ndeps; i++)
		if (a->deps[i] == idx)
			return;
	a->deps = cg_xrealloc(a->deps, (size_t)(a->ndeps + 1) * sizeof(int));
	a->deps[a->ndeps++] = idx;
}

/* Sorted view of a set by address, for ranges of duplicates. */
struct sorted {
	const struct cg_rset *s;
	int *idx;
	int n;
};

static int cmp_idx(const void *x, const void *y, void *ctx)
{
	const struct cg_rset *s = ctx;
	const struct cg_resource *a = &s->v[*(const int *)x];
	const struct cg_resource *b = &s->v[*(const int *)y];
	int c = strcmp(a->addr, b->addr);
	return c ? c : *(const int *)x - *(const int *)y;
}

static void sorted_init(struct sorted *so, const struct cg_rset *s)
{
	so->s = s;
	so->n = s ? s->n : 0;
	so->idx = cg_xcalloc((size_t)so->n + 1, sizeof(int));
	for (int i = 0; i < so->n; i++)
		so->idx[i] = i;
	if (so->n)
		qsort_r(so->idx, (size_t)so->n, sizeof(int), cmp_idx, (void *)s);
}

/* First position in so->idx of addr, and count of entries with it. */
static int sorted_range(const struct sorted *so, const char *addr, int *count)
{
	int lo = 0, hi = so->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (strcmp(so->s->v[so->idx[mid]].addr, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int k = lo;
	while (k < so->n && !strcmp(so->s->v[so->idx[k]].addr, addr))
		k++;
	*count = k - lo;
	return lo;
}

static bool node_level(enum cg_kind k)
{
	return k == CG_KIND_INSTALL || k == CG_KIND_CONFIG || k == CG_KIND_SERVICE;
}

/* "DC1.n3" part of a node-level address: after the first dot. */
static const char *node_key(const char *addr)
{
	const char *dot = strchr(addr, '.');
	return dot ? dot + 1 : addr;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/* Compare desired with current; returns op and fills reason. */
static enum cg_op compare(const struct cg_resource *d, const struct cg_resource *c,
			  struct cg_buf *reason)
{
	enum cg_op op = CG_OP_NOOP;
	for (int i = 0; i < d->nattrs; i++) {
		const struct cg_attr *a = &d->attrs[i];
		if (a->flags & (CG_ATTR_INFO | CG_ATTR_COMPUTED))
			continue;
		const char *cv = cg_res_get(c, a->key);
		if (a->value && str_eq(a->value, cv))
			continue;
		if (reason->len)
			cg_buf_adds(reason, "; ");
		if (!a->value)
			cg_buf_addf(reason, "%s depends on values known after apply", a->key);
		else if (!cv)
			cg_buf_addf(reason, "%s is not set", a->key);
		else
			cg_buf_addf(reason, "%s: \"%s\" -> \"%s\"", a->key, cv, a->value);
		if ((a->flags & CG_ATTR_FORCENEW) && a->value) {
			cg_buf_adds(reason, " forces replacement");
			op = CG_OP_REPLACE;
		} else if (op == CG_OP_NOOP) {
			op = CG_OP_UPDATE;
		}
	}
	const char *health = cg_res_get(c, "health");
	if (health && strcmp(health, "ok")) {
		if (reason->len)
			cg_buf_adds(reason, "; ");
		cg_buf_adds(reason, health);
		if (op == CG_OP_NOOP)
			op = CG_OP_UPDATE;
	}
	return op;
}

/* Which of several current resources claiming one address to keep: the one
 * the state knows, else the oldest. */
static int pick_keeper(const struct sorted *cur, int first, int count,
		       const struct cg_resource *rec)
{
	int best = first;
	for (int k = first; k < first + count; k++) {
		const struct cg_resource *c = &cur->s->v[cur->idx[k]];
		if (rec && rec->id && c->id && !strcmp(rec->id, c->id))
			return k;
		const char *lt = cg_res_get(c, "launch_time");
		const char *bt = cg_res_get(&cur->s->v[cur->idx[best]], "launch_time");
		if (lt && bt && strcmp(lt, bt) < 0)
			best = k;
	}
	return best;
}

struct strset {
	char **v;
	int n;
};
static void strset_add(struct strset *s, const char *x)
{
	s->v = cg_xrealloc(s->v, (size_t)(s->n + 1) * sizeof(char *));
	s->v[s->n++] = cg_xstrdup(x);
}
static bool strset_has(const struct strset *s, const char *x)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return true;
	return false;
}
static void strset_free(struct strset *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Address -> index of the action on it (non-delete preferred). */
static void index_build(struct builder *b)
{
	int cap = 64;
	while (cap < b->plan->n * 2 + 2)
		cap *= 2;
	b->index = cg_xmalloc((size_t)cap * sizeof(int));
	b->index_cap = cap;
	for (int i = 0; i < cap; i++)
		b->index[i] = -1;
	for (int i = 0; i < b->plan->n; i++) {
		const char *addr = b->plan->v[i].addr;
		uint64_t h = cg_hash64(addr, strlen(addr));
		int p = (int)(h & (uint64_t)(cap - 1));
		while (b->index[p] >= 0) {
			struct cg_action *o = &b->plan->v[b->index[p]];
			if (!strcmp(o->addr, addr)) {
				if (o->op == CG_OP_DELETE && b->plan->v[i].op != CG_OP_DELETE)
					b->index[p] = i;
				goto next;
			}
			p = (p + 1) & (cap - 1);
		}
		b->index[p] = i;
next:;
	}
}

/* Does "DC1:3,DC2:2" -> to lower some DC's replication (or drop a DC)? */
static bool rf_lowered(const char *from, const char *to)
{
	for (const char *p = from; p && *p;) {
		size_t dl = strcspn(p, ":,");
		if (p[dl] != ':')
			return false;
		int was = atoi(p + dl + 1), now = 0;
		for (const char *q = to; q && *q;) {
			size_t ql = strcspn(q, ":,");
			if (q[ql] == ':' && ql == dl && !strncmp(q, p, dl))
				now = atoi(q + ql + 1);
			q += strcspn(q, ",");
			q += *q == ',';
		}
		if (now < was)
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return false;
}

static int index_find(const struct builder *b, const char *addr)
{
	uint64_t h = cg_hash64(addr, strlen(addr));
	int p = (int)(h & (uint64_t)(b->index_cap - 1));
	while (b->index[p] >= 0) {
		if (!strcmp(b->plan->v[b->index[p]].addr, addr))
			return b->index[p];
		p = (p + 1) & (b->index_cap - 1);
	}
	return -1;
}


/*
 * Values derived from machines' addresses (a config's hash, the peers'
 * CIDRs) cannot be known before apply when one of those machines is new,
 * whatever the model computed from the old addresses: make them unknown in
 * a copy (*out). A service follows its config's hash.
 */
static bool depends_on_fresh(const struct cg_resource *d, const struct strset *fresh,
			     const struct cg_plan *plan, struct cg_resource *out)
{
	const char *key = d->kind == CG_KIND_CONFIG ? "hash" :
			  d->kind == CG_KIND_PEERS ? "cidrs" :
			  d->kind == CG_KIND_SERVICE ? "config_hash" : NULL;
	if (!key || !cg_res_get(d, key))
		return false;
	bool unknown = d->kind != CG_KIND_PEERS && strset_has(fresh, node_key(d->addr));
	for (int k = 0; k < d->ndeps && !unknown; k++) {
		const char *dep = d->deps[k];
		if (!strncmp(dep, "machine.", 8) && strset_has(fresh, node_key(dep)))
			unknown = true;
		if (d->kind == CG_KIND_SERVICE && !strncmp(dep, "config.", 7))
			for (int j = 0; j < plan->n; j++)
				if (!strcmp(plan->v[j].addr, dep) && plan->v[j].has_desired &&
				    !cg_res_get(&plan->v[j].desired, "hash"))
					unknown = true;
	}
	if (!unknown)
		return false;
	cg_res_copy(out, d);
	cg_res_set(out, key, NULL, cg_res_attr(d, key)->flags);
	if (cg_res_attr(out, "inputs"))
		cg_res_set(out, "inputs", NULL, CG_ATTR_INFO);
	return true;
}

int cg_plan_diff(const char *cluster, const struct cg_rset *desired,
		 const struct cg_rset *current, const struct cg_rset *recorded,
		 unsigned stage_kinds, struct cg_plan *plan, struct cg_err *err)
{
	struct builder b = {.plan = plan};
	struct sorted cur;
	struct strset fresh = {0};	/* node keys whose machine is new */
	bool *claimed;

	memset(plan, 0, sizeof(*plan));
	plan->cluster = cg_xstrdup(cluster);
	sorted_init(&cur, current);
	claimed = cg_xcalloc((size_t)cur.n + 1, sizeof(bool));

	/* 1. desired resources: create, update, replace (+ duplicates).
	 * Region-level resources and machines first: what is new among them
	 * decides what else can be known before apply. */
	for (int pass = 0; pass < 2; pass++)
	for (int i = 0; i < desired->n; i++) {
		const struct cg_resource *dd = &desired->v[i];
		bool early = dd->kind == CG_KIND_MACHINE || dd->kind == CG_KIND_NETWORK ||
			     dd->kind == CG_KIND_KEYPAIR;
		if (early != (pass == 0))
			continue;
		struct cg_resource derived;
		const struct cg_resource *d = dd;
		if (depends_on_fresh(dd, &fresh, plan, &derived))
			d = &derived;
		/* a new machine in a ring that exists joins it (bootstraps its
		 * share of the data), whatever its predecessor was rendered as */
		if (dd->kind == CG_KIND_CONFIG && strset_has(&fresh, node_key(dd->addr)) &&
		    cg_model_ring_exists(current, node_key(dd->addr))) {
			const char *mode = cg_res_get(d, "mode");
			if (!mode || strcmp(mode, "join")) {
				if (d != &derived) {
					cg_res_copy(&derived, dd);
					d = &derived;
				}
				cg_res_set(&derived, "mode", "join", CG_ATTR_INFO);
			}
		}
		const struct cg_resource *rec = recorded ? cg_rset_find(recorded, d->addr) : NULL;
		int count, first = sorted_range(&cur, d->addr, &count);
		struct cg_buf reason = {0};
		enum cg_op op;
		const struct cg_resource *c = NULL;

		if (count) {
			int keep = pick_keeper(&cur, first, count, rec);
			c = &cur.s->v[cur.idx[keep]];
			for (int k = first; k < first + count; k++) {
				claimed[cur.idx[k]] = true;
				if (k == keep)
					continue;
				const struct cg_resource *dup = &cur.s->v[cur.idx[k]];
				struct cg_action *a = new_action(&b, CG_OP_DELETE, d->addr, d->kind);
				a->has_current = true;
				cg_res_copy(&a->current, dup);
				a->reason = cg_xasprintf("duplicate of %s: keeping %s", d->addr,
							 c->id ? c->id : "the recorded one");
			}
		}
		if (!c) {
			op = CG_OP_CREATE;
			if (node_level(d->kind) && strset_has(&fresh, node_key(d->addr)))
				cg_buf_adds(&reason, "its machine is new");
			else if (rec && rec->id)
				cg_buf_addf(&reason, "recorded as %s, which no longer exists", rec->id);
			else if (rec)
				cg_buf_adds(&reason, "recorded, but not found by the refresh");
		} else if (node_level(d->kind) && strset_has(&fresh, node_key(d->addr))) {
			op = CG_OP_CREATE;
			cg_buf_adds(&reason, "its machine is new");
		} else {
			op = compare(d, c, &reason);
		}
		if (d->kind == CG_KIND_MACHINE && (op == CG_OP_CREATE || op == CG_OP_REPLACE))
			strset_add(&fresh, node_key(d->addr));
		if (op != CG_OP_NOOP) {
			struct cg_action *a = new_action(&b, op, d->addr, d->kind);
			a->has_desired = true;
			cg_res_copy(&a->desired, d);
			if (c && op != CG_OP_CREATE) {
				a->has_current = true;
				cg_res_copy(&a->current, c);
			} else if (c && op == CG_OP_CREATE) {
				/* the old node-level record is superseded */
				a->has_current = true;
				cg_res_copy(&a->current, c);
			}
			a->reason = reason.len ? cg_buf_detach(&reason) : NULL;
		}
		cg_buf_free(&reason);
		if (d == &derived)
			cg_res_clear(&derived);
	}

	/* 2. what exists but is not desired: delete */
	int first_delete = plan->n;
	for (int k = 0; k < cur.n; k++) {
		const struct cg_resource *c = &cur.s->v[cur.idx[k]];
		if (claimed[cur.idx[k]] || !(stage_kinds & CG_KIND_BIT(c->kind)))
			continue;
		struct cg_action *a = new_action(&b, CG_OP_DELETE, c->addr, c->kind);
		a->has_current = true;
		cg_res_copy(&a->current, c);
		a->reason = cg_xstrdup("not in the configuration");
	}

	/* forget-only deletes: what goes away with its machine or network */
	int services_left = 0;
	for (int i = 0; i < desired->n; i++)
		if (desired->v[i].kind == CG_KIND_SERVICE)
			services_left++;
	for (int i = first_delete; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		char *owner = NULL;
		if (a->kind == CG_KIND_INSTALL || a->kind == CG_KIND_CONFIG)
			owner = cg_xasprintf("machine.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_SERVICE && !services_left)
			owner = cg_xasprintf("machine.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_PEERS)
			owner = cg_xasprintf("network.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_RING || a->kind == CG_KIND_AUTH)
			a->forget = !services_left;
		if (owner) {
			int cnt;
			sorted_range(&cur, owner, &cnt);
			a->forget = cnt == 0;	/* what it ran on is already gone */
			for (int j = first_delete; j < plan->n; j++)
				if (plan->v[j].op == CG_OP_DELETE && !strcmp(plan->v[j].addr, owner))
					a->forget = true;
			free(owner);
		}
		if (a->forget) {
			free(a->reason);
			a->reason = cg_xstrdup(a->kind == CG_KIND_RING || a->kind == CG_KIND_AUTH
					       ? "the cluster goes away"
					       : "goes away with what it runs on");
		}
	}

	/* the ring is verified again whenever a node changes */
	{
		bool node_changes = false;
		for (int i = 0; i < plan->n; i++)
			if (plan->v[i].kind == CG_KIND_SERVICE && !plan->v[i].forget)
				node_changes = true;
		const struct cg_resource *dr = cg_rset_find(desired, "ring");
		bool have = false;
		for (int i = 0; i < plan->n; i++)
			if (!strcmp(plan->v[i].addr, "ring") && plan->v[i].op != CG_OP_DELETE)
				have = true;
		int cnt;
		int pos = sorted_range(&cur, "ring", &cnt);
		if (node_changes && dr && !have && cnt) {
			struct cg_action *a = new_action(&b, CG_OP_UPDATE, "ring", CG_KIND_RING);
			a->has_desired = true;
			cg_res_copy(&a->desired, dr);
			a->has_current = true;
			cg_res_copy(&a->current, &cur.s->v[cur.idx[pos]]);
			a->reason = cg_xstrdup("nodes change: verify the ring again");
		}
	}

	/* 3. dependencies */
	index_build(&b);
	int prev_restart = -1, prev_join = -1;
	for (int i = 0; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		if (a->op != CG_OP_DELETE) {
			for (int k = 0; k < a->desired.ndeps; k++) {
				int j = index_find(&b, a->desired.deps[k]);
				/* "seeds start first" is about a first start; restarts
				 * follow the rolling chain below instead */
				if (j >= 0 && a->kind == CG_KIND_SERVICE && a->op == CG_OP_UPDATE &&
				    plan->v[j].kind == CG_KIND_SERVICE)
					continue;
				if (j >= 0 && j != i && plan->v[j].op != CG_OP_DELETE)
					add_dep(a, j);
			}
			/* a ring check waits for every node-level action */
			if (a->kind == CG_KIND_RING)
				for (int j = 0; j < plan->n; j++)
					if (node_level(plan->v[j].kind) && !plan->v[j].forget)
						add_dep(a, j);
			/* joining nodes one at a time */
			if (a->kind == CG_KIND_SERVICE && a->op == CG_OP_CREATE) {
				char *caddr = cg_xasprintf("config.%s", node_key(a->addr));
				int ci = index_find(&b, caddr);
				const struct cg_resource *cfg = ci >= 0 && plan->v[ci].has_desired ?
					&plan->v[ci].desired : cg_rset_find(desired, caddr);
				const char *mode = cfg ? cg_res_get(cfg, "mode") : NULL;
				if (mode && !strcmp(mode, "join")) {
					if (prev_join >= 0)
						add_dep(a, prev_join);
					prev_join = i;
				}
				free(caddr);
			}
		} else {
			/* reverse order: what runs on a thing goes before the thing */
			for (int j = first_delete; j < plan->n; j++) {
				struct cg_action *o = &plan->v[j];
				if (j == i || o->op != CG_OP_DELETE)
					continue;
				bool before = false;
				if (a->kind == CG_KIND_MACHINE && node_level(o->kind))
					before = !strcmp(node_key(o->addr), node_key(a->addr));
				else if ((a->kind == CG_KIND_NETWORK || a->kind == CG_KIND_KEYPAIR) &&
					 (o->kind == CG_KIND_MACHINE || o->kind == CG_KIND_PEERS))
					before = str_eq(o->current.region, a->current.region);
				else if (a->kind == CG_KIND_MACHINE && o->kind == CG_KIND_RING)
					before = true;
				if (before)
					add_dep(a, j);
			}
			/* a decommission waits until new nodes have joined */
			if (a->kind == CG_KIND_SERVICE && !a->forget)
				for (int j = 0; j < first_delete; j++)
					if (plan->v[j].kind == CG_KIND_SERVICE)
						add_dep(a, j);
		}
	}

	/* system_auth's RF lowered (a node or DC removed) comes before the
	 * decommissions: Cassandra refuses one while a keyspace's RF in the
	 * DC exceeds the nodes left. It then cannot wait for the ring check,
	 * which waits for them. */
	{
		int ai = index_find(&b, "auth");
		struct cg_action *au = ai >= 0 ? &plan->v[ai] : NULL;
		if (au && au->op == CG_OP_UPDATE && au->has_current &&
		    rf_lowered(cg_res_get(&au->current, "system_auth"),
			       cg_res_get(&au->desired, "system_auth"))) {
			for (int k = au->ndeps - 1; k >= 0; k--)
				if (plan->v[au->deps[k]].kind == CG_KIND_RING)
					au->deps[k] = au->deps[--au->ndeps];
			for (int j = 0; j < plan->n; j++)
				if (plan->v[j].kind == CG_KIND_SERVICE && plan->v[j].op == CG_OP_DELETE &&
				    !plan->v[j].forget)
					add_dep(&plan->v[j], ai);
			free(au->reason);
			au->reason = cg_xstrdup("system_auth's replication goes down before the "
						"decommissions");
		}
	}

	/* one restart at a time, seeds first, so the ring stays available */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < plan->n; i++) {
			struct cg_action *a = &plan->v[i];
			if (a->kind != CG_KIND_SERVICE || a->op != CG_OP_UPDATE)
				continue;
			const char *seed = NULL;
			char *maddr = cg_xasprintf("machine.%s", node_key(a->addr));
			const struct cg_resource *m = cg_rset_find(desired, maddr);
			free(maddr);
			seed = m ? cg_res_get(m, "seed") : NULL;
			bool is_seed = seed && !strcmp(seed, "true");
			if (is_seed != (pass == 0))
				continue;
			if (prev_restart >= 0)
				add_dep(a, prev_restart);
			prev_restart = i;
		}

	for (int i = 0; i < plan->n; i++) {
		switch (plan->v[i].op) {
		case CG_OP_CREATE: plan->add++; break;
		case CG_OP_UPDATE: plan->change++; break;
		case CG_OP_REPLACE: plan->add++; plan->destroy++; break;
		case CG_OP_DELETE: plan->destroy++; break;
		case CG_OP_NOOP: break;
		}
	}
	free(b.index);
	free(claimed);
	free(cur.idx);
	strset_free(&fresh);
	return cg_plan_check_acyclic(plan, err);
}

int cg_plan_check_acyclic(const struct cg_plan *plan, struct cg_err *err)
{
	/* Kahn's algorithm over the dependency edges. */
	int n = plan->n, done = 0;
	int *indeg = cg_xcalloc((size_t)n + 1, sizeof(int));
	int *queue = cg_xcalloc((size_t)n + 1, sizeof(int));
	int *rcount = cg_xcalloc((size_t)n + 1, sizeof(int));
	int **rdeps = cg_xcalloc((size_t)n + 1, sizeof(int *));
	for (int i = 0; i < n; i++) {
		indeg[i] = plan->v[i].ndeps;
		for (int k = 0; k < plan->v[i].ndeps; k++) {
			int j = plan->v[i].deps[k];
			rdeps[j] = cg_xrealloc(rdeps[j], (size_t)(rcount[j] + 1) * sizeof(int));
			rdeps[j][rcount[j]++] = i;
		}
	}
	int head = 0, tail = 0;
	for (int i = 0; i < n; i++)
		if (!indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		int i = queue[head++];
		done++;
		for (int k = 0; k < rcount[i]; k++)
			if (--indeg[rdeps[i][k]] == 0)
				queue[tail++] = rdeps[i][k];
	}
	int rc = 0;
	if (done != n) {
		for (int i = 0; i < n; i++)
			if (indeg[i]) {
				rc = cg_error(err, CG_EXIT_ERROR,
					      "internal error: dependency cycle through %s",
					      plan->v[i].addr);
				break;
			}
	}
	for (int i = 0; i < n; i++)
		free(rdeps[i]);
	free(rdeps);
	free(rcount);
	free(queue);
	free(indeg);
	return rc;
}

void cg_plan_keep_creates(struct cg_plan *plan)
{
	int *map = cg_xcalloc((size_t)plan->n + 1, sizeof(int));
	int k = 0;
	for (int i = 0; i < plan->n; i++)
		map[i] = plan->v[i].op == CG_OP_CREATE ? k++ : -1;
	k = 0;
	for (int i = 0; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		if (map[i] < 0) {
			cg_plan_add_note(plan, "left alone (initSG/initKP never %s): %s",
					 a->op == CG_OP_UPDATE ? "change" : "delete", a->addr);
			action_clear(a);
			continue;
		}
		int nd = 0;
		for (int d = 0; d < a->ndeps; d++)
			if (map[a->deps[d]] >= 0)
				a->deps[nd++] = map[a->deps[d]];
		a->ndeps = nd;
		plan->v[k++] = *a;
	}
	plan->n = k;
	plan->add = k;
	plan->change = plan->destroy = 0;
	free(map);
}

void cg_plan_forget_missing(struct cg_plan *plan, const struct cg_rset *recorded,
			    const struct cg_rset *current)
{
	int cap = plan->n;
	for (int i = 0; i < recorded->n; i++) {
		const struct cg_resource *r = &recorded->v[i];
		bool found = false;
		for (int j = 0; j < current->n && !found; j++)
			found = !strcmp(current->v[j].addr, r->addr) &&
				(!r->id || !current->v[j].id || !strcmp(current->v[j].id, r->id));
		for (int j = 0; j < plan->n && !found; j++)
			found = plan->v[j].has_current && !strcmp(plan->v[j].addr, r->addr) &&
				(!r->id || !plan->v[j].current.id ||
				 !strcmp(plan->v[j].current.id, r->id));
		if (found)
			continue;
		if (plan->n == cap) {
			cap = cap ? cap * 2 : 16;
			plan->v = cg_xrealloc(plan->v, (size_t)cap * sizeof(*plan->v));
		}
		struct cg_action *a = &plan->v[plan->n++];
		memset(a, 0, sizeof(*a));
		a->op = CG_OP_DELETE;
		a->kind = r->kind;
		a->addr = cg_xstrdup(r->addr);
		a->has_current = true;
		cg_res_copy(&a->current, r);
		a->forget = true;
		a->reason = cg_xstrdup("recorded, but no longer exists: forget it");
		plan->destroy++;
	}
}
