/* plan.c - diff and action graph (see plan.h). */
#include "plan.h"
#include "cassconf.h"
#include "park.h"
#include "upgrade.h"

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
	free(plan->parked);
	cg_cost_free(&plan->cost);
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

/* A service update that restarts a running Cassandra (rolling: one node at
 * a time). One whose Cassandra is down is a start: nothing of the ring
 * goes away meanwhile, so it starts beside the others, after the seeds (a
 * parked cluster comes back the way a new one starts). */
static bool is_restart(const struct cg_action *a)
{
	const char *run = a->has_current ? cg_res_get(&a->current, "running") : NULL;
	return a->op == CG_OP_UPDATE && (!run || !strcmp(run, "true"));
}

/* Compare desired with current; returns op and fills reason. */
static enum cg_op compare(const struct cg_resource *d, const struct cg_resource *c,
			  struct cg_buf *reason)
{
	enum cg_op op = CG_OP_NOOP;
	/* a fault of cassandgo chaos on the node (faults.h): healed in place;
	 * it says why the service is down, the fault is the reason */
	const char *chaos = cg_res_get(c, "chaos");
	for (int i = 0; i < d->nattrs; i++) {
		const struct cg_attr *a = &d->attrs[i];
		if (a->flags & (CG_ATTR_INFO | CG_ATTR_COMPUTED))
			continue;
		const char *cv = cg_res_get(c, a->key);
		if (a->value && str_eq(a->value, cv))
			continue;
		if (chaos && !strcmp(a->key, "running"))
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
	if (chaos) {
		cg_buf_addf(reason, "%schaos: %s", reason->len ? "; " : "", chaos);
		if (op == CG_OP_NOOP)
			op = CG_OP_UPDATE;
	}
	return op;
}

/* The entries of list `of` ("a:7000,b:7000") that `in` lacks, each as
 * "<sign>entry", appended to *out after ", ". */
static void seeds_delta(struct cg_buf *out, const char *of, const char *in, char sign)
{
	size_t inl = strlen(in);
	for (const char *p = of; *p;) {
		size_t l = strcspn(p, ",");
		bool found = false;
		for (const char *q = in; q < in + inl && !found;) {
			size_t ql = strcspn(q, ",");
			found = ql == l && !strncmp(p, q, l);
			q += ql + (q[ql] == ',');
		}
		if (!found && l)
			cg_buf_addf(out, "%s%c%.*s", out->len ? ", " : "", sign, (int)l, p);
		p += l + (p[l] == ',');
	}
}

/* A config update that changes the seed list and nothing else: the node
 * gets the new cassandra.yaml and reloads its seeds from it (`nodetool
 * reloadseeds`); its hash, and so its service, stay as they are. The
 * reason says so instead of what compare() wrote. */
static char *seeds_only(const struct cg_resource *d, const struct cg_resource *c)
{
	if (d->kind != CG_KIND_CONFIG || cg_res_get(c, "chaos"))
		return NULL;
	const char *health = cg_res_get(c, "health");
	if (health && strcmp(health, "ok"))
		return NULL;
	for (int i = 0; i < d->nattrs; i++) {
		const struct cg_attr *a = &d->attrs[i];
		if ((a->flags & (CG_ATTR_INFO | CG_ATTR_COMPUTED)) || !strcmp(a->key, "seeds"))
			continue;
		if (!a->value || !str_eq(a->value, cg_res_get(c, a->key)))
			return NULL;
	}
	const char *to = cg_res_get(d, "seeds"), *from = cg_res_get(c, "seeds");
	if (to && str_eq(to, from))
		return NULL;
	const char *how = "written to cassandra.yaml, reloaded without restart "
			  "(nodetool reloadseeds)";
	if (!to)
		return cg_xasprintf("seeds change with a new seed machine: %s", how);
	if (!from)
		return cg_xasprintf("seeds: (none recorded) -> \"%s\": %s", to, how);
	/* the lists are long; the attribute lines below show them whole */
	struct cg_buf delta = {0};
	seeds_delta(&delta, to, from, '+');
	seeds_delta(&delta, from, to, '-');
	char *why = cg_xasprintf("seeds %s: %s", delta.len ? delta.data : "reordered", how);
	cg_buf_free(&delta);
	return why;
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
		if (cg_model_rf_of(to, p, dl) < atoi(p + dl + 1))
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return false;
}

/* Does "DC1:3,DC2:2" -> to drop some DC altogether? */
static bool rf_dropped(const char *from, const char *to)
{
	for (const char *p = from; p && *p;) {
		size_t dl = strcspn(p, ":,");
		if (p[dl] != ':')
			return false;
		if (atoi(p + dl + 1) > 0 && cg_model_rf_of(to, p, dl) == 0)
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return false;
}

/* Each DC named in list, in order: fn(name, length, ctx). */
static void each_dc(const char *list, void (*fn)(const char *, size_t, void *), void *ctx)
{
	for (const char *q = list; q && *q;) {
		size_t ql = strcspn(q, ":,");
		if (q[ql] == ':')
			fn(q, ql, ctx);
		q += strcspn(q, ",");
		q += *q == ',';
	}
}

struct ks_diff {
	const char *from, *to;		/* replications, current and desired */
	const char *pending;		/* DCs whose repair did not finish */
	const char *rebuilt;		/* DCs whose new replicas a rebuild fills */
	bool second;			/* pass over the DCs only in `from` */
	struct cg_buf changes, repair;	/* "DC2 1 -> 2; ...", "DC2, DC3" */
};

static void ks_dc(const char *dc, size_t dl, void *ctx)
{
	struct ks_diff *k = ctx;
	int was = cg_model_rf_of(k->from, dc, dl), now = cg_model_rf_of(k->to, dc, dl);
	if (k->second && now)
		return;		/* seen in the first pass */
	bool by_rebuild = !was && now && cg_model_dc_listed(k->rebuilt, dc, dl);
	if (was != now)
		cg_buf_addf(&k->changes, "%s%.*s %d -> %d%s", k->changes.len ? "; " : "", (int)dl, dc,
			    was, now, by_rebuild ? " (a new DC: its nodes are rebuilt after this)" : "");
	if (by_rebuild)
		return;
	/* new replicas hold nothing until repaired: a raised RF owes a full
	 * repair there, and so does one whose repair an interrupted apply
	 * left unfinished */
	if (now > 0 && (now > was || cg_model_dc_listed(k->pending, dc, dl)))
		cg_buf_addf(&k->repair, "%s%.*s", k->repair.len ? ", " : "", (int)dl, dc);
}

/* The reason of an update of keyspace d (name after "keyspace."): what
 * changes per DC, and the repair that follows. */
static char *keyspace_reason(const struct cg_resource *d, const struct cg_resource *c)
{
	if (d->kind == CG_KIND_SYSTEM) {	/* no repair: rebuilds fill new DCs */
		struct ks_diff k = {.from = cg_res_get(c, "replication"),
				    .to = cg_res_get(d, "replication"),
				    .rebuilt = cg_res_get(d, "rebuilt_dcs")};
		const char *ks = cg_res_get(d, "keyspaces");
		bool simple = k.from && !strchr(k.from, ':');
		if (simple)
			cg_buf_addf(&k.changes, "%s: %s -> NetworkTopologyStrategy %s", ks, k.from,
				    k.to);
		each_dc(simple ? NULL : k.to, ks_dc, &k);
		k.second = true;
		each_dc(simple ? NULL : k.from, ks_dc, &k);
		cg_buf_free(&k.repair);
		if (!simple && k.changes.len) {
			char *r = cg_xasprintf("%s: %s", ks, k.changes.data);
			cg_buf_free(&k.changes);
			return r;
		}
		if (!k.changes.len)
			cg_buf_addf(&k.changes, "%s: keyspaces %s -> %s", ks,
				    c && cg_res_get(c, "keyspaces") ? cg_res_get(c, "keyspaces") : "?", ks);
		return cg_buf_detach(&k.changes);
	}
	const char *name = strchr(d->addr, '.') + 1;
	const char *rep = cg_res_get(c, "repair");
	size_t pl = strlen(CG_KEYSPACE_PENDING);
	struct ks_diff k = {.from = cg_res_get(c, "replication"),
			    .to = cg_res_get(d, "replication"),
			    .pending = rep && !strncmp(rep, CG_KEYSPACE_PENDING, pl) ? rep + pl : NULL,
			    .rebuilt = cg_res_get(d, "rebuilt_dcs")};
	each_dc(k.to, ks_dc, &k);
	k.second = true;
	each_dc(k.from, ks_dc, &k);
	const char *dw = cg_res_get(d, "durable_writes"), *cdw = cg_res_get(c, "durable_writes");
	if (dw && cdw && strcmp(dw, cdw))
		cg_buf_addf(&k.changes, "%sdurable_writes %s -> %s", k.changes.len ? "; " : "", cdw, dw);
	if (k.pending && !k.changes.len)
		cg_buf_addf(&k.changes, "the full repair after the last RF raise did not finish "
			    "(an interrupted apply)");
	if (k.repair.len)
		cg_buf_addf(&k.changes, "; then a full repair of %s in %s (nodetool repair -full %s "
			    "on each of its nodes, one at a time)", name, k.repair.data, name);
	cg_buf_free(&k.repair);
	return cg_buf_detach(&k.changes);
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


/* What each step of turning security on or off does (cg_security), for the
 * plan's note: the operator moves clients between the steps. */
static const char *const security_step_text[2][3] = {
	{ "nodes accept TLS beside plaintext on 7000 and 9042, with certificates from "
	  "the cluster's CA; the superuser's password file is made (see `cassandgo output`)",
	  "nodes send TLS to each other; plaintext is still accepted. Move every client to "
	  "TLS (the cluster's CA) with the superuser's password before the next apply: it "
	  "requires both",
	  "TLS and passwords are required; the superuser is set up right after the first "
	  "node restarts, before the next one" },
	{ "passwords are no longer required; TLS is still sent and accepted",
	  "nodes send plaintext to each other; TLS is still accepted. Move every client to "
	  "plaintext before the next apply: it stops TLS",
	  "no TLS left (the certificates stay on the nodes, unused)" },
};

/*
 * A running cluster's security changes one step per apply (model.c,
 * cg_model_security): say which step this plan is and what comes next. In
 * the last step on, the superuser is set up right after the first node
 * requires passwords, so that clients already sending them are refused by
 * no node for longer than that (the other restarts wait for it).
 */
static void security_steps(struct cg_plan *plan, const struct builder *b, int first_restart,
			   int second_restart)
{
	int from = -1, to = -1;
	for (int i = 0; i < plan->n && to < 0; i++) {
		const struct cg_action *a = &plan->v[i];
		if (a->kind != CG_KIND_CONFIG || a->op != CG_OP_UPDATE || !a->has_current)
			continue;
		int f = cg_cassconf_security_parse(cg_res_get(&a->current, "security"));
		int t = cg_cassconf_security_parse(cg_res_get(&a->desired, "security"));
		if (f >= 0 && t >= 0 && f != t)
			from = f, to = t;
	}
	if (to < 0)
		return;
	bool on = to > from;
	int step = on ? to : CG_SEC_ON - to;	/* 1..3 */
	cg_plan_add_note(plan, "security turns %s in 3 steps, one per apply, each restarting "
			 "the nodes one at a time: this is step %d of 3: %s.%s", on ? "on" : "off",
			 step, security_step_text[on ? 0 : 1][step - 1],
			 step < 3 ? " Run apply again for the next step." : "");
	int ai = index_find(b, "auth");
	if (ai < 0)
		return;
	struct cg_action *au = &plan->v[ai];
	free(au->reason);
	if (au->op == CG_OP_DELETE) {
		au->reason = cg_xstrdup("security turns off: cassandgo stops managing the "
					"superuser (its role stays in system_auth)");
		return;
	}
	au->reason = cg_xstrdup("passwords are now required: the superuser right after the "
				"first node restarts");
	if (!on || first_restart < 0)
		return;
	for (int k = au->ndeps - 1; k >= 0; k--)
		if (plan->v[au->deps[k]].kind == CG_KIND_RING)
			au->deps[k] = au->deps[--au->ndeps];
	add_dep(au, first_restart);
	if (second_restart >= 0)
		add_dep(&plan->v[second_restart], ai);
}

/* The DCs of `of` ("DC1:2,DC3:1") that `in` lacks, as "DC3, DC4". */
static char *dcs_missing(const char *of, const char *in)
{
	struct cg_buf b = {0};
	for (const char *q = of; q && *q;) {
		size_t dl = strcspn(q, ":,");
		if (q[dl] == ':' && cg_model_rf_of(in, q, dl) == 0)
			cg_buf_addf(&b, "%s%.*s", b.len ? ", " : "", (int)dl, q);
		q += strcspn(q, ",");
		q += *q == ',';
	}
	return b.data ? cg_buf_detach(&b) : NULL;
}

/*
 * A DC added or removed: the user keyspaces the config does not declare
 * (the refresh lists them on the ring) are not carried along. Say so for
 * each, so the operator can declare them or alter them by hand.
 */
static void undeclared_notes(struct cg_plan *plan, const struct builder *b)
{
	int ri = index_find(b, "ring");
	const struct cg_action *a = ri >= 0 ? &plan->v[ri] : NULL;
	const char *list = a && a->has_current ? cg_res_get(&a->current, "undeclared_keyspaces") : NULL;
	if (!list || !*list || !a->has_desired)
		return;
	const char *from = cg_res_get(&a->current, "dcs"), *to = cg_res_get(&a->desired, "dcs");
	char *added = dcs_missing(to, from), *removed = dcs_missing(from, to);
	for (const char *q = list; *q && (added || removed);) {
		int kl = (int)strcspn(q, ",");
		if (added)
			cg_plan_add_note(plan, "keyspace %.*s is not declared: it will not be replicated "
					 "to %s (declare it under keyspaces: for cassandgo to)", kl, q, added);
		if (removed)
			cg_plan_add_note(plan, "keyspace %.*s is not declared: cassandgo leaves its "
					 "replication in %s as it is (alter it, or declare it, before "
					 "those nodes leave)", kl, q, removed);
		q += kl;
		q += *q == ',';
	}
	free(added);
	free(removed);
}

/* --- datacenters added and removed -------------------------------------- */

/*
 * A DC added to a running ring: each node's rebuild (at most
 * CG_PLAN_REBUILD_WIDTH at once, so the source DC streams to a bounded
 * number of nodes) and the DC's check say what they do; a note tells the
 * order. A DC removed: a note tells its order (keyspaces first, then the
 * decommissions, then the machines; plan.c's RF-lowered edges make it so).
 */
static void datacenter_steps(struct cg_plan *plan, const struct cg_rset *desired,
			     const struct sorted *cur)
{
	int *prev = cg_xcalloc(CG_PLAN_REBUILD_WIDTH, sizeof(int));
	for (int w = 0; w < CG_PLAN_REBUILD_WIDTH; w++)
		prev[w] = -1;
	int count = 0;
	struct cg_buf dcs = {0};
	const char *from = NULL;
	for (int i = 0; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		if (a->op == CG_OP_DELETE || !a->has_desired)
			continue;
		const char *src = cg_res_get(&a->desired, "from");
		if (a->kind == CG_KIND_REBUILD) {
			free(a->reason);
			a->reason = cg_xasprintf("rebuild %s n%d from %s: nodetool rebuild -- %s, "
						 "once every keyspace replicates to %s (it started "
						 "empty, auto_bootstrap: false)%s", a->desired.dc,
						 a->desired.node, src, src, a->desired.dc,
						 a->reason && !strcmp(a->reason, "its machine is new")
						 ? " (its machine is new)" : "");
			int w = count++ % CG_PLAN_REBUILD_WIDTH;
			if (prev[w] >= 0)
				add_dep(a, prev[w]);
			prev[w] = i;
		} else if (a->kind == CG_KIND_SYSTEM && a->op == CG_OP_CREATE) {
			free(a->reason);
			a->reason = cg_xasprintf("%s replicated in every DC: NetworkTopologyStrategy %s",
						 cg_res_get(&a->desired, "keyspaces"),
						 cg_res_get(&a->desired, "replication"));
		} else if (a->kind == CG_KIND_DATACENTER) {
			const char *dc = strchr(a->addr, '.') + 1;
			free(a->reason);
			a->reason = cg_xasprintf("check %s: rows written before read back from it at "
						 "LOCAL_QUORUM, as %s shows them", dc, src);
			cg_buf_addf(&dcs, "%s%s", dcs.len ? ", " : "", dc);
			from = src;
		}
	}
	if (dcs.len)
		cg_plan_add_note(plan, "%s joins the running ring: its nodes start empty "
				 "(auto_bootstrap: false), one at a time; then system_auth, "
				 "system_distributed, system_traces and the declared keyspaces gain it; "
				 "then each of its nodes runs nodetool rebuild from %s (%d at a time; "
				 "a rebuild is recorded when it finished, so a stopped apply reruns "
				 "only the others); then rows written before are read back from it "
				 "at LOCAL_QUORUM", dcs.data, from, CG_PLAN_REBUILD_WIDTH);
	cg_buf_free(&dcs);
	free(prev);
	/* DCs the ring had and the configuration drops */
	int cnt, pos = sorted_range(cur, "ring", &cnt);
	const struct cg_resource *dr = cg_rset_find(desired, "ring");
	if (cnt && dr) {
		char *gone = dcs_missing(cg_res_get(&cur->s->v[cur->idx[pos]], "dcs"),
					 cg_res_get(dr, "dcs"));
		if (gone)
			cg_plan_add_note(plan, "%s leaves the ring: every keyspace stops replicating "
					 "to it first (system keyspaces, the declared ones), then its "
					 "nodes are decommissioned (a node already down is removed with "
					 "nodetool removenode from a live one), then system_auth leaves "
					 "it (Cassandra keeps it there while the DC has live nodes), "
					 "then its machines go", gone);
		free(gone);
	}
}

/*
 * Values derived from machines' addresses (a config's hash and seeds, the
 * peers' CIDRs) cannot be known before apply when one of those machines is
 * new, whatever the model computed from the old addresses: make them
 * unknown in a copy (*out). A config's hash derives from its own machine
 * only, its seeds from the seeds' machines (a new seed is reloaded, not
 * restarted). A service follows its config's hash.
 */
static bool depends_on_fresh(const struct cg_resource *d, const struct strset *fresh,
			     const struct strset *restarting, const struct cg_plan *plan,
			     struct cg_resource *out)
{
	const char *key = d->kind == CG_KIND_CONFIG ? "hash" :
			  d->kind == CG_KIND_PEERS ? "cidrs" :
			  d->kind == CG_KIND_SERVICE ? "config_hash" : NULL;
	if (!key)
		return false;
	bool own = d->kind != CG_KIND_PEERS && (strset_has(fresh, node_key(d->addr)) ||
						strset_has(restarting, node_key(d->addr)));
	bool unknown = own, seeds = own;
	for (int k = 0; k < d->ndeps && !unknown; k++) {
		const char *dep = d->deps[k];
		if (!strncmp(dep, "machine.", 8) && (strset_has(fresh, node_key(dep)) ||
						     strset_has(restarting, node_key(dep)))) {
			if (d->kind == CG_KIND_CONFIG)
				seeds = true;
			else
				unknown = true;
		}
		if (d->kind == CG_KIND_SERVICE && !strncmp(dep, "config.", 7))
			for (int j = 0; j < plan->n; j++)
				if (!strcmp(plan->v[j].addr, dep) && plan->v[j].has_desired &&
				    !cg_res_get(&plan->v[j].desired, "hash"))
					unknown = true;
	}
	unknown = unknown && cg_res_get(d, key);
	seeds = seeds && d->kind == CG_KIND_CONFIG && cg_res_get(d, "seeds");
	if (!unknown && !seeds)
		return false;
	cg_res_copy(out, d);
	if (unknown)
		cg_res_set(out, key, NULL, cg_res_attr(d, key)->flags);
	if (seeds)
		cg_res_set(out, "seeds", NULL, cg_res_attr(d, "seeds")->flags);
	if (unknown && cg_res_attr(out, "inputs"))
		cg_res_set(out, "inputs", NULL, CG_ATTR_INFO);
	return true;
}

/* --- rolling upgrade (a cassandra_version change) ---------------------- */

/* "from" -> "to" of an attribute the action changes; NULL when it does not
 * change or either side is unknown. */
static const char *changes(const struct cg_action *a, const char *key, const char **to)
{
	if (a->op != CG_OP_UPDATE || !a->has_current || !a->has_desired)
		return NULL;
	const char *f = cg_res_get(&a->current, key), *t = cg_res_get(&a->desired, key);
	if (!f || !t || !strcmp(f, t))
		return NULL;
	*to = t;
	return f;
}

/* An install that replaces the release of a node (drain, stop, install),
 * or a service that comes back on another release (start, wait). */
static const char *upgrade_from(const struct cg_action *a, const char **to)
{
	if (a->kind != CG_KIND_INSTALL && a->kind != CG_KIND_SERVICE)
		return NULL;
	return changes(a, "version", to);
}

/*
 * Every node's upgrade is allowed (no downgrade, no major version skipped);
 * says in each step and in a note what the upgrade does. Returns whether
 * the plan upgrades a node; -1 with err when it must not.
 */
static int upgrade_prepare(struct cg_plan *plan, unsigned stage_kinds, struct cg_err *err)
{
	int n = 0;
	const char *from = NULL, *to = NULL;
	bool format = false;
	for (int i = 0; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		const char *t, *f = upgrade_from(a, &t);
		if (!f)
			continue;
		if (cg_upgrade_check(a->addr, f, t, err) < 0)
			return -1;
		/* each node's install is one step of its upgrade, between its
		 * drain and its start: stopping after the installs would leave
		 * every node stopped */
		if (!(stage_kinds & CG_KIND_BIT(CG_KIND_SERVICE)))
			return cg_error(err, CG_EXIT_USAGE, "cassandra_version %s -> %s is a rolling "
					"upgrade: each node is drained, stopped, installed and started "
					"before the next, so it cannot stop after the installs; apply "
					"without --stage", f, t);
		format |= cg_upgrade_format_changes(f, t);
		from = f, to = t;
		free(a->reason);
		if (a->kind == CG_KIND_INSTALL) {
			a->reason = cg_xasprintf("upgrade %s -> %s: nodetool drain, stop Cassandra, "
						 "install %s", f, t, t);
		} else {
			const char *run = cg_res_get(&a->current, "running");
			a->reason = cg_xasprintf("upgrade %s -> %s: start %s on the same data, wait "
						 "until the node is UN, serves CQL and the schema "
						 "agrees; then the next node%s", f, t, t,
						 run && !strcmp(run, "false")
						 ? " (it is down: an upgrade was interrupted)" : "");
			n++;
		}
	}
	if (!n)
		return 0;
	for (int i = 0; format && i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		if (a->kind != CG_KIND_RING || a->op != CG_OP_UPDATE || !a->has_current)
			continue;
		/* the ring step runs upgradesstables when the release it recorded
		 * has another on-disk format (a ring recorded before releases
		 * were: the nodes' release says it) */
		if (!cg_res_get(&a->current, "release"))
			cg_res_set(&a->current, "release", from, CG_ATTR_INFO);
		free(a->reason);
		a->reason = cg_xasprintf("after the last node: nodetool upgradesstables on every "
					 "node, one at a time (the on-disk format changes %s -> %s); "
					 "verify the ring", cg_res_get(&a->current, "release"), to);
	}
	cg_plan_add_note(plan, "rolling upgrade to Cassandra %s (from %s): %d node%s, one at a "
			 "time, DC by DC; %s", to, from, n, n == 1 ? "" : "s",
			 format ? "then nodetool upgradesstables on every node, one at a time "
				  "(the on-disk format changes with a major or minor release)"
				: "no upgradesstables: a patch release keeps the on-disk format");
	return 1;
}

/* The ring records the release it last ran as a whole: an upgrade that
 * changed the on-disk format owes upgradesstables until the ring step has
 * run them (an apply killed before that). */
static void upgrade_ring(struct cg_plan *plan, struct builder *b, const struct cg_rset *desired,
			 const struct sorted *cur)
{
	const struct cg_resource *dr = cg_rset_find(desired, "ring");
	int cnt, pos = sorted_range(cur, "ring", &cnt);
	if (!dr || !cnt)
		return;
	const struct cg_resource *cr = &cur->s->v[cur->idx[pos]];
	const char *f = cg_res_get(cr, "release"), *t = cg_res_get(dr, "release");
	if (!f || !t || !cg_upgrade_format_changes(f, t))
		return;
	struct cg_action *a = NULL;
	for (int i = 0; i < plan->n && !a; i++)
		if (!strcmp(plan->v[i].addr, "ring") && plan->v[i].op != CG_OP_DELETE)
			a = &plan->v[i];
	if (!a) {
		a = new_action(b, CG_OP_UPDATE, "ring", CG_KIND_RING);
		a->has_desired = true;
		cg_res_copy(&a->desired, dr);
		a->has_current = true;
		cg_res_copy(&a->current, cr);
	}
	free(a->reason);
	a->reason = cg_xasprintf("the ring ran %s: after the last node runs %s, nodetool "
				 "upgradesstables on every node, one at a time (the on-disk format "
				 "changes)", f, t);
}

/* One node at a time, DC by DC in the config's order, node 1 first: a
 * node's upgrade (its install: drain, stop, install) waits for the previous
 * node's service (started, UN, CQL, schema agreed); a restart or a start
 * in the same plan takes its turn in that order. */
static void upgrade_chain(struct cg_plan *plan, const struct builder *b,
			  const struct cg_rset *desired, int *first, int *second)
{
	int prev = -1;
	for (int i = 0; i < desired->n; i++) {
		const struct cg_resource *ds = &desired->v[i];
		if (ds->kind != CG_KIND_SERVICE)
			continue;
		char *ia = cg_xasprintf("install.%s", node_key(ds->addr));
		int ii = index_find(b, ia), si = index_find(b, ds->addr);
		free(ia);
		const char *t;
		if (ii >= 0 && upgrade_from(&plan->v[ii], &t) && prev >= 0)
			add_dep(&plan->v[ii], prev);
		if (si < 0 || plan->v[si].op != CG_OP_UPDATE)
			continue;
		if (prev >= 0)
			add_dep(&plan->v[si], prev);
		if (*first < 0)
			*first = si;
		else if (*second < 0)
			*second = si;
		prev = si;
	}
}

int cg_plan_diff(const char *cluster, const struct cg_rset *desired,
		 const struct cg_rset *current, const struct cg_rset *recorded,
		 unsigned stage_kinds, struct cg_plan *plan, struct cg_err *err)
{
	struct builder b = {.plan = plan};
	struct sorted cur;
	struct strset fresh = {0};	/* node keys whose machine is new */
	/* node keys whose machine is powered off and starts again (parked, or
	 * stopped behind our back): its addresses are read again after, so what
	 * derives from them is known only then; its node steps stay */
	struct strset restarting = {0};
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
		bool early = cg_kind_instance(dd->kind) || dd->kind == CG_KIND_NETWORK ||
			     dd->kind == CG_KIND_KEYPAIR;
		if (early != (pass == 0))
			continue;
		struct cg_resource derived;
		const struct cg_resource *d = dd;
		if (depends_on_fresh(dd, &fresh, &restarting, plan, &derived))
			d = &derived;
		/* a new machine in a ring that exists joins it (bootstraps its
		 * share of the data), whatever its predecessor was rendered as */
		if (dd->kind == CG_KIND_CONFIG && strset_has(&fresh, node_key(dd->addr)) &&
		    cg_model_ring_exists(current, node_key(dd->addr))) {
			/* (or is rebuilt, in a DC being added to the ring) */
			const char *mode = cg_res_get(d, "mode");
			const char *want = cg_model_node_mode(current, dd->dc, node_key(dd->addr));
			if (!mode || strcmp(mode, want)) {
				if (d != &derived) {
					cg_res_copy(&derived, dd);
					d = &derived;
				}
				cg_res_set(&derived, "mode", want, CG_ATTR_INFO);
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
		} else if ((node_level(d->kind) || d->kind == CG_KIND_REBUILD) &&
			   strset_has(&fresh, node_key(d->addr))) {
			op = CG_OP_CREATE;
			cg_buf_adds(&reason, "its machine is new");
		} else {
			op = compare(d, c, &reason);
			char *why = op == CG_OP_UPDATE ? seeds_only(d, c) : NULL;
			if (why) {
				cg_buf_free(&reason);
				cg_buf_adds(&reason, why);
				free(why);
			}
			if (op == CG_OP_UPDATE && (d->kind == CG_KIND_KEYSPACE || d->kind == CG_KIND_SYSTEM)) {
				cg_buf_free(&reason);
				char *why = keyspace_reason(d, c);
				cg_buf_adds(&reason, why);
				free(why);
			}
		}
		if (d->kind == CG_KIND_MACHINE && (op == CG_OP_CREATE || op == CG_OP_REPLACE))
			strset_add(&fresh, node_key(d->addr));
		/* a machine powered off (parked, or stopped behind our back) is
		 * started: an update, whatever its health says */
		if (cg_kind_instance(d->kind) && op == CG_OP_NOOP && c && cg_park_machine_off(c)) {
			op = CG_OP_UPDATE;
			cg_buf_adds(&reason, "powered off: start it");
		}
		if (d->kind == CG_KIND_MACHINE && op == CG_OP_UPDATE && c && cg_park_machine_off(c))
			strset_add(&restarting, node_key(d->addr));
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
		if (a->kind == CG_KIND_INSTALL || a->kind == CG_KIND_CONFIG || a->kind == CG_KIND_REBUILD)
			owner = cg_xasprintf("machine.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_SERVICE && !services_left)
			owner = cg_xasprintf("machine.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_PEERS)
			owner = cg_xasprintf("network.%s", node_key(a->addr));
		else if (a->kind == CG_KIND_RING || a->kind == CG_KIND_AUTH || a->kind == CG_KIND_SYSTEM)
			a->forget = !services_left;
		else if (a->kind == CG_KIND_DATACENTER)
			a->forget = true;	/* a check: nothing to undo */
		else if (a->kind == CG_KIND_KEYSPACE)
			a->forget = true;	/* cassandgo never drops a keyspace */
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
			a->reason = cg_xstrdup(a->kind == CG_KIND_KEYSPACE && services_left
					       ? "removed from the configuration: cassandgo never drops "
						 "a keyspace; its data stays"
					       : a->kind == CG_KIND_DATACENTER && services_left
					       ? "the DC leaves the configuration: its check is forgotten"
					       : a->kind == CG_KIND_RING || a->kind == CG_KIND_AUTH ||
						 a->kind == CG_KIND_KEYSPACE || a->kind == CG_KIND_SYSTEM ||
						 a->kind == CG_KIND_DATACENTER
					       ? "the cluster goes away"
					       : "goes away with what it runs on");
			if (a->kind == CG_KIND_KEYSPACE && services_left)
				cg_plan_add_note(plan, "%s is no longer in the configuration: apply only "
						 "stops tracking it; cassandgo never drops a keyspace, "
						 "its data stays", a->addr);
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

	upgrade_ring(plan, &b, desired, &cur);
	int upgrading = upgrade_prepare(plan, stage_kinds, err);

	/* 3. dependencies */
	index_build(&b);
	int prev_restart = -1, prev_join = -1, first_restart = -1, second_restart = -1;
	for (int i = 0; i < plan->n; i++) {
		struct cg_action *a = &plan->v[i];
		if (a->op != CG_OP_DELETE) {
			for (int k = 0; k < a->desired.ndeps; k++) {
				int j = index_find(&b, a->desired.deps[k]);
				/* "seeds start first" is about a first start; restarts
				 * follow the rolling chain below instead */
				if (j >= 0 && a->kind == CG_KIND_SERVICE &&
				    (is_restart(a) || (upgrading > 0 && a->op == CG_OP_UPDATE)) &&
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
				if (mode && (!strcmp(mode, CG_MODE_JOIN) || !strcmp(mode, CG_MODE_REBUILD))) {
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
					 (cg_kind_instance(o->kind) || o->kind == CG_KIND_PEERS))
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

	/* system_auth's or a keyspace's RF lowered (a node or DC removed)
	 * comes before the decommissions: Cassandra refuses one while a keyspace's RF in the
	 * DC exceeds the nodes left. It then cannot wait for the ring check,
	 * which waits for them. */
	int auth_after = -1;
	for (int ai = 0; ai < plan->n; ai++) {
		struct cg_action *au = &plan->v[ai];
		const char *key = au->kind == CG_KIND_AUTH ? "system_auth" :
				  au->kind == CG_KIND_KEYSPACE || au->kind == CG_KIND_SYSTEM
				  ? "replication" : NULL;
		/* Cassandra refuses to take a DC that still has live nodes off
		 * system_auth: a DC dropped leaves it after its decommissions (the
		 * auth step waits for the ring, which waits for them; the
		 * bootstrap provider decommissions the DC's last nodes with
		 * --force once no other keyspace replicates there) */
		if (au->kind == CG_KIND_AUTH && au->op == CG_OP_UPDATE && au->has_current &&
		    rf_dropped(cg_res_get(&au->current, key), cg_res_get(&au->desired, key))) {
			free(au->reason);
			au->reason = cg_xstrdup("system_auth leaves the DCs removed once their nodes "
						"are gone (Cassandra refuses it while they run)");
			auth_after = ai;
			continue;
		}
		if (key && au->op == CG_OP_UPDATE && au->has_current &&
		    rf_lowered(cg_res_get(&au->current, key), cg_res_get(&au->desired, key))) {
			for (int k = au->ndeps - 1; k >= 0; k--)
				if (plan->v[au->deps[k]].kind == CG_KIND_RING)
					au->deps[k] = au->deps[--au->ndeps];
			for (int j = 0; j < plan->n; j++)
				if (plan->v[j].kind == CG_KIND_SERVICE && plan->v[j].op == CG_OP_DELETE &&
				    !plan->v[j].forget)
					add_dep(&plan->v[j], ai);
			if (au->kind == CG_KIND_AUTH) {
				free(au->reason);
				au->reason = cg_xstrdup("system_auth's replication goes down before "
							"the decommissions");
			} else if (au->reason && !strstr(au->reason, "before the decommissions")) {
				char *r = cg_xasprintf("%s; before the decommissions", au->reason);
				free(au->reason);
				au->reason = r;
			}
		}
	}

	/* system_auth going after the decommissions: the keyspaces going before
	 * them cannot wait for it (the superuser exists: it is an update) */
	for (int k = 0; auth_after >= 0 && k < plan->n; k++) {
		struct cg_action *ks = &plan->v[k];
		if (ks->kind != CG_KIND_KEYSPACE && ks->kind != CG_KIND_SYSTEM)
			continue;
		for (int j = ks->ndeps - 1; j >= 0; j--)
			if (ks->deps[j] == auth_after)
				ks->deps[j] = ks->deps[--ks->ndeps];
	}

	/* one restart at a time, seeds first, so the ring stays available; an
	 * upgrade goes DC by DC instead (restarts take their turn in it) */
	if (upgrading > 0)
		upgrade_chain(plan, &b, desired, &first_restart, &second_restart);
	for (int pass = 0; pass < 2 && upgrading <= 0; pass++)
		for (int i = 0; i < plan->n; i++) {
			struct cg_action *a = &plan->v[i];
			if (a->kind != CG_KIND_SERVICE || !is_restart(a))
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
			else
				first_restart = i;
			if (prev_restart == first_restart && prev_restart >= 0 && second_restart < 0)
				second_restart = i;
			prev_restart = i;
		}

	security_steps(plan, &b, first_restart, second_restart);
	undeclared_notes(plan, &b);
	datacenter_steps(plan, desired, &cur);

	for (int i = 0; i < plan->n; i++) {
		switch (plan->v[i].op) {
		case CG_OP_CREATE: plan->add++; break;
		case CG_OP_UPDATE: plan->change++; break;
		case CG_OP_REPLACE: plan->add++; plan->destroy++; break;
		case CG_OP_DELETE:
			/* a keyspace is only forgotten: nothing is destroyed */
			plan->destroy += plan->v[i].kind != CG_KIND_KEYSPACE;
			break;
		case CG_OP_NOOP: break;
		}
	}
	free(b.index);
	free(claimed);
	free(cur.idx);
	strset_free(&fresh);
	strset_free(&restarting);
	if (upgrading < 0)
		return -1;
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
