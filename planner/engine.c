/* engine.c - one run on one cluster (see engine.h). */
#include "engine.h"
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int resolve_cidrs(struct cg_engine *e, const struct cg_provider_ops *infra,
			 struct cg_err *err)
{
	struct cg_cluster *c = &e->cluster;
	const char *envv = getenv("CASSANDGO_ALLOWED_CIDRS");
	(void)err;
	if (c->provider != CG_PROVIDER_AWS || c->nallowed_cidrs)
		return 0;
	if (envv && *envv) {
		char *copy = cg_xstrdup(envv), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			e->owned_cidrs = cg_xrealloc(e->owned_cidrs,
						     (size_t)(c->nallowed_cidrs + 1) * sizeof(char *));
			e->owned_cidrs[c->nallowed_cidrs++] = cg_xstrdup(t);
		}
		free(copy);
		c->allowed_cidrs = e->owned_cidrs;
		return 0;
	}
	char ip[64];
	struct cg_err derr = {0};
	if (infra->public_ip && infra->public_ip(ip, sizeof(ip), &derr) == 0) {
		e->owned_cidrs = cg_xcalloc(1, sizeof(char *));
		e->owned_cidrs[0] = cg_xasprintf("%s/32", ip);
		c->allowed_cidrs = e->owned_cidrs;
		c->nallowed_cidrs = 1;
		return 0;
	}
	e->cidrs_unknown = true;
	return 0;
}

int cg_engine_open(struct cg_engine *e, const struct cg_cluster *c,
		   const struct cg_providers *pv, struct cg_state *st,
		   const struct cg_env *env, unsigned kinds, struct cg_err *err)
{
	memset(e, 0, sizeof(*e));
	e->cluster = *c;
	e->state = st;
	e->env = *env;
	e->kinds = kinds;
	cg_rset_init(&e->recorded);
	cg_rset_init(&e->live);
	cg_rset_init(&e->known);
	cg_rset_init(&e->desired);
	/* the local provider's jar cache may be moved (as providers/local does) */
	const char *cache = getenv("CASSANDGO_CASSANDRA_CACHE");
	if (!c->install && c->provider == CG_PROVIDER_LOCAL && cache && *cache) {
		e->owned_install = cg_xasprintf("dir:%s/cassandra-%s/lib", cache, c->cassandra_version);
		e->cluster.install = e->owned_install;
	}
	if (!pv->infra)
		return cg_error(err, CG_EXIT_ERROR, "provider %s is not built into this cassandgo",
				c->provider == CG_PROVIDER_AWS ? "aws" : "local");
	if (resolve_cidrs(e, pv->infra, err) < 0)
		return -1;
	if (pv->infra->open(&e->infra.p, &e->cluster, &e->env, err) < 0)
		return cg_error_wrap(err, "provider %s", pv->infra->name);
	e->infra.ops = pv->infra;
	const struct cg_provider_ops *b = pv->boot;
	if (b && b != e->infra.ops && (kinds & ~CG_KINDS_INFRA)) {
		if (b->open(&e->boot.p, &e->cluster, &e->env, err) < 0)
			return cg_error_wrap(err, "provider %s", b->name);
		e->boot.ops = b;
	}
	return 0;
}

void cg_engine_close(struct cg_engine *e)
{
	if (e->boot.ops)
		e->boot.ops->close(e->boot.p);
	if (e->infra.ops)
		e->infra.ops->close(e->infra.p);
	for (int i = 0; e->owned_cidrs && i < e->cluster.nallowed_cidrs; i++)
		free(e->owned_cidrs[i]);
	free(e->owned_cidrs);
	free(e->owned_install);
	free(e->parked);
	cg_rset_free(&e->recorded);
	cg_rset_free(&e->live);
	cg_rset_free(&e->known);
	cg_rset_free(&e->desired);
	cg_plan_free(&e->plan);
	memset(e, 0, sizeof(*e));
}

/* Live resources, completed with what only the state knows (key file,
 * host key, config mode) when they are the same object. Kinds nobody
 * refreshed keep their records. */
static void merge_known(const struct cg_rset *recorded, const struct cg_rset *live,
			unsigned refreshed_kinds, struct cg_rset *out)
{
	for (int i = 0; i < live->n; i++) {
		struct cg_resource *k = cg_rset_add(out, &live->v[i]);
		for (int j = 0; j < recorded->n; j++) {
			const struct cg_resource *r = &recorded->v[j];
			if (strcmp(r->addr, k->addr))
				continue;
			if (r->id && k->id && strcmp(r->id, k->id))
				continue;
			for (int a = 0; a < r->nattrs; a++)
				if (!cg_res_attr(k, r->attrs[a].key))
					cg_res_set(k, r->attrs[a].key, r->attrs[a].value,
						   r->attrs[a].flags);
			break;
		}
	}
	for (int j = 0; j < recorded->n; j++)
		if (!(refreshed_kinds & CG_KIND_BIT(recorded->v[j].kind)))
			cg_rset_add(out, &recorded->v[j]);
}

/* Has anything ever been done on this machine's node (install, config,
 * service recorded)? Only those are worth probing over SSH. */
static bool node_touched(const struct cg_rset *recorded, const struct cg_resource *m)
{
	const char *key = strchr(m->addr, '.');
	for (int i = 0; key && i < recorded->n; i++) {
		const struct cg_resource *r = &recorded->v[i];
		const char *rk = strchr(r->addr, '.');
		if ((r->kind == CG_KIND_INSTALL || r->kind == CG_KIND_CONFIG ||
		     r->kind == CG_KIND_SERVICE) && rk && !strcmp(rk, key))
			return true;
	}
	return false;
}

/*
 * A powered-off machine (parked, or stopped behind our back) cannot be
 * asked: what was recorded of its node stays as it was, with Cassandra not
 * running, and so do the ring and auth records when no node could show
 * them. Monitoring is not carried: its processes stopped with the machine,
 * so the plan starts it again.
 */
static void carry_powered_off(struct cg_engine *e)
{
	bool any = false;
	for (int i = 0; i < e->live.n; i++) {
		const struct cg_resource *m = &e->live.v[i];
		/* one on its way out (removed while down) is not asked either:
		 * its node goes with it, nothing is decommissioned through it */
		if (m->kind != CG_KIND_MACHINE || !m->dc || !cg_park_machine_off(m) ||
		    !cg_model_wants_machine(&e->cluster, m))
			continue;
		any = true;
		char *key = cg_xasprintf("%s.n%d", m->dc, m->node);
		for (int j = 0; j < e->recorded.n; j++) {
			const struct cg_resource *r = &e->recorded.v[j];
			const char *rk = strchr(r->addr, '.');
			if ((r->kind != CG_KIND_INSTALL && r->kind != CG_KIND_CONFIG &&
			     r->kind != CG_KIND_SERVICE) || !rk || strcmp(rk + 1, key) ||
			    cg_rset_find(&e->live, r->addr))
				continue;
			struct cg_resource *c = cg_rset_add(&e->live, r);
			if (c->kind == CG_KIND_SERVICE)
				cg_res_set(c, "running", "false", 0);
		}
		free(key);
	}
	for (int j = 0; any && j < e->recorded.n; j++) {
		const struct cg_resource *r = &e->recorded.v[j];
		if ((r->kind == CG_KIND_RING || r->kind == CG_KIND_AUTH) &&
		    !cg_rset_find(&e->live, r->addr))
			cg_rset_add(&e->live, r);
	}
}

static int refresh(struct cg_engine *e, bool destroy, struct cg_err *err)
{
	unsigned done = 0;
	struct cg_rset step;
	cg_rset_init(&step);
	if (e->infra.ops->refresh(e->infra.p, &e->recorded, &e->live, err) < 0)
		return cg_error_wrap(err, "refresh (%s)", e->infra.ops->name);
	done |= e->infra.ops->kinds;
	/* A destroy needs no node's view: what runs on a machine goes with it.
	 * Otherwise probe only machines something was done on: a machine that
	 * was never bootstrapped has nothing to tell, and its address may not
	 * be reachable yet (or ever, from here). */
	if (e->boot.ops && !destroy) {
		merge_known(&e->recorded, &e->live, done, &step);
		for (int i = step.n - 1; i >= 0; i--)
			if (step.v[i].kind == CG_KIND_MACHINE &&
			    (!node_touched(&e->recorded, &step.v[i]) || cg_park_machine_off(&step.v[i])))
				cg_rset_remove_at(&step, i);
		int rc = e->boot.ops->refresh(e->boot.p, &step, &e->live, err);
		cg_rset_free(&step);
		if (rc < 0)
			return cg_error_wrap(err, "refresh (%s)", e->boot.ops->name);
		done |= e->boot.ops->kinds;
		carry_powered_off(e);
	}
	merge_known(&e->recorded, &e->live, done, &e->known);
	e->refreshed = true;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Zones per region: the provider's (refresh) or those recorded on the
 * region's network resource (--refresh=false). */
static int resolve_zones(struct cg_engine *e, bool live, struct cg_zonemap *zm,
			 struct cg_err *err)
{
	const struct cg_cluster *c = &e->cluster;
	for (int d = 0; d < c->ndcs; d++) {
		const struct cg_dc *dc = &c->dcs[d];
		int n;
		if (dc->nzones || cg_zonemap_get(zm, dc->region, &n))
			continue;
		char **z = NULL;
		int nz = 0;
		if (live && e->infra.ops->zones) {
			if (e->infra.ops->zones(e->infra.p, dc->region, &z, &nz, err) < 0)
				return cg_error_wrap(err, "zones of %s", dc->region);
			cg_zonemap_add(zm, dc->region, z, nz);
			for (int i = 0; i < nz; i++)
				free(z[i]);
			free(z);
		} else {
			char *na = cg_addr_region(CG_KIND_NETWORK, dc->region);
			const struct cg_resource *net = cg_rset_find(&e->known, na);
			const char *zs = net ? cg_res_get(net, "zones") : NULL;
			free(na);
			if (!zs) {
				/* older records: the zones the region's machines are in */
				struct cg_buf b = {0};
				for (int i = 0; i < e->known.n; i++) {
					const struct cg_resource *m = &e->known.v[i];
					const char *mz = cg_res_get(m, "zone");
					if (m->kind != CG_KIND_MACHINE || !mz || !m->region ||
					    strcmp(m->region, dc->region))
						continue;
					char *pat = cg_xasprintf(",%s,", mz);
					char *have = cg_xasprintf(",%s,", b.data ? b.data : "");
					if (!strstr(have, pat))
						cg_buf_addf(&b, "%s%s", b.len ? "," : "", mz);
					free(pat);
					free(have);
				}
				if (b.len) {
					char *copy = cg_xstrdup(b.data), *save = NULL;
					for (char *t = strtok_r(copy, ",", &save); t;
					     t = strtok_r(NULL, ",", &save)) {
						z = cg_xrealloc(z, (size_t)(nz + 1) * sizeof(char *));
						z[nz++] = t;
					}
					qsort(z, (size_t)nz, sizeof(char *), cmp_str);
					cg_zonemap_add(zm, dc->region, z, nz);
					free(z);
					z = NULL;
					nz = 0;
					free(copy);
				}
				cg_buf_free(&b);
			} else {
				char *copy = cg_xstrdup(zs), *save = NULL;
				for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					z = cg_xrealloc(z, (size_t)(nz + 1) * sizeof(char *));
					z[nz++] = t;
				}
				cg_zonemap_add(zm, dc->region, z, nz);
				free(z);
				free(copy);
			}
		}
	}
	return 0;
}

int cg_engine_plan(struct cg_engine *e, bool do_refresh, bool destroy, struct cg_err *err)
{
	struct cg_zonemap zm = {0};
	int rc = -1;

	e->env.destroying = destroy;
	if (e->state && cg_state_load(e->state, e->cluster.name, &e->recorded, err) < 0)
		return -1;
	free(e->parked);
	e->parked = NULL;
	if (e->state && cg_state_parked(e->state, e->cluster.name, &e->parked, err) < 0)
		return -1;
	if (do_refresh) {
		if (refresh(e, destroy, err) < 0)
			return -1;
	} else {
		for (int i = 0; i < e->recorded.n; i++) {
			cg_rset_add(&e->live, &e->recorded.v[i]);
			cg_rset_add(&e->known, &e->recorded.v[i]);
		}
	}
	/* the faults of cassandgo chaos: each hit node's service is healed */
	if (e->state) {
		struct cg_fault *fv = NULL;
		int fn = 0;
		if (cg_state_faults(e->state, e->cluster.name, &fv, &fn, err) < 0)
			return -1;
		cg_faults_mark(fv, fn, cg_wall_s(), &e->known);
		free(fv);
	}
	/* a parked cluster: plan and apply leave it alone (not drift), stop
	 * parks what still runs, start plans the cluster as usual */
	bool has_machines = false;
	for (int i = 0; i < e->known.n; i++)
		has_machines |= e->known.v[i].kind == CG_KIND_MACHINE;
	bool gated = !destroy && e->park == CG_PARK_NONE && e->parked && has_machines &&
		     (e->kinds & CG_KIND_BIT(CG_KIND_MACHINE));
	if (!destroy && (gated || e->park == CG_PARK_STOP)) {
		if (e->park == CG_PARK_STOP) {
			if (cg_park_plan(e->cluster.name, &e->known, &e->recorded, &e->plan, err) < 0)
				goto out;
		} else {
			memset(&e->plan, 0, sizeof(e->plan));
			e->plan.cluster = cg_xstrdup(e->cluster.name);
			cg_park_note(&e->plan, e->parked, &e->known);
		}
		/* what it costs as it is: stopped machines their disks only */
		if (e->infra.ops && e->infra.ops->hourly) {
			char *src = e->infra.ops->price_source ? e->infra.ops->price_source() : NULL;
			cg_cost_of(&e->known, e->infra.ops->hourly, src, &e->plan.cost);
			free(src);
		}
		rc = 0;
		goto out;
	}
	if (!destroy) {
		if (resolve_zones(e, do_refresh, &zm, err) < 0)
			goto out;
		if (cg_model_build(&e->cluster, &zm, &e->known, e->kinds, &e->desired, err) < 0)
			goto out;
		/* record each region's zones so that --refresh=false plans alike */
		for (int i = 0; i < e->desired.n; i++) {
			struct cg_resource *r = &e->desired.v[i];
			int nz;
			const char *const *z;
			if (r->kind != CG_KIND_NETWORK || !(z = cg_zonemap_get(&zm, r->region, &nz)))
				continue;
			struct cg_buf b = {0};
			for (int k = 0; k < nz; k++)
				cg_buf_addf(&b, "%s%s", k ? "," : "", z[k]);
			cg_res_set(r, "zones", b.data ? b.data : "", CG_ATTR_INFO);
			cg_buf_free(&b);
		}
	}
	if (cg_plan_diff(e->cluster.name, &e->desired, &e->known, &e->recorded,
			 destroy ? ~0u : e->kinds, &e->plan, err) < 0)
		goto out;
	if (destroy && e->refreshed)
		cg_plan_forget_missing(&e->plan, &e->recorded, &e->known);
	/* what the cluster will cost while it runs, as planned */
	if (!destroy && e->infra.ops && e->infra.ops->hourly) {
		char *src = e->infra.ops->price_source ? e->infra.ops->price_source() : NULL;
		cg_cost_of(&e->desired, e->infra.ops->hourly, src, &e->plan.cost);
		free(src);
	}
	if (e->cidrs_unknown && !destroy)
		cg_plan_add_note(&e->plan, "cannot detect your public address for the security "
				 "groups: set allowed_cidrs in the config or CASSANDGO_ALLOWED_CIDRS; "
				 "apply refuses until then");
	if (e->state) {
		struct cg_journal_entry *j = NULL;
		int nj = 0;
		if (cg_state_journal_pending(e->state, e->cluster.name, &j, &nj, err) < 0)
			goto out;
		/* one note per interrupted run, listing what was in flight */
		for (int i = 0; i < nj; i++) {
			if (i && j[i].pid == j[i - 1].pid)
				continue;
			struct cg_buf what = {0};
			int count = 0;
			for (int k = i; k < nj && j[k].pid == j[i].pid; k++, count++)
				cg_buf_addf(&what, "%s%s %s", count ? ", " : "", j[k].op, j[k].addr);
			cg_plan_add_note(&e->plan, "an earlier run (pid %ld, %s) was interrupted "
					 "with %d action%s in flight: %s; %s", j[i].pid, j[i].started,
					 count, count == 1 ? "" : "s", what.data,
					 do_refresh ? "the refresh has reconciled them with what exists"
					 : "run without --refresh=false to reconcile them");
			cg_buf_free(&what);
		}
		cg_state_journal_free(j, nj);
	}
	rc = 0;
out:
	cg_zonemap_free(&zm);
	return rc;
}

int cg_engine_record_refresh(struct cg_engine *e, struct cg_err *err)
{
	if (!e->refreshed)
		return 0;
	/* adopt what the refresh found that the state lacks (crash between a
	 * create and its record) */
	struct cg_rset adopt;
	cg_rset_init(&adopt);
	for (int i = 0; i < e->known.n; i++) {
		const struct cg_resource *k = &e->known.v[i];
		const struct cg_resource *r = cg_rset_find(&e->recorded, k->addr);
		if (!k->id || (r && r->id && !strcmp(r->id, k->id)))
			continue;
		bool dup = false;
		for (int j = 0; j < e->plan.n; j++)
			if (e->plan.v[j].op == CG_OP_DELETE && e->plan.v[j].has_current &&
			    e->plan.v[j].current.id && !strcmp(e->plan.v[j].current.id, k->id))
				dup = true;
		if (!dup) {
			/* the chaos mark is this plan's, never a record */
			struct cg_resource *r2 = cg_rset_add(&adopt, k);
			for (int a = r2->nattrs - 1; a >= 0; a--)
				if (!strcmp(r2->attrs[a].key, "chaos")) {
					free(r2->attrs[a].key);
					free(r2->attrs[a].value);
					r2->attrs[a] = r2->attrs[--r2->nattrs];
				}
		}
	}
	int rc = 0;
	for (int i = 0; i < adopt.n && rc == 0; i++) {
		/* the adopted object supersedes records at its address whose
		 * object is gone (a crash after a replacement's create) */
		const struct cg_resource *r = cg_rset_find(&e->recorded, adopt.v[i].addr);
		rc = r ? cg_state_replace(e->state, e->cluster.name, &adopt.v[i], err)
		       : cg_state_put(e->state, e->cluster.name, &adopt.v[i], err);
	}
	cg_rset_free(&adopt);
	if (rc < 0)
		return -1;
	return cg_state_journal_settle(e->state, e->cluster.name, err);
}

/*
 * After a successful apply, record next to each config the digest of the
 * inputs it was rendered from (model.c), so that later plans need not render
 * every node again to know nothing changed. Bookkeeping only: the hash
 * itself was recorded by the action.
 */
static int record_inputs(struct cg_engine *e, struct cg_err *err)
{
	struct cg_rset now, desired, changed;
	struct cg_zonemap zm = {0};
	int rc = -1;

	if (!(e->kinds & CG_KIND_BIT(CG_KIND_CONFIG)) || !e->desired.n)
		return 0;
	cg_rset_init(&now);
	cg_rset_init(&desired);
	cg_rset_init(&changed);
	if (cg_state_load(e->state, e->cluster.name, &now, err) < 0)
		goto out;
	for (int i = 0; i < e->desired.n; i++) {
		const struct cg_resource *r = &e->desired.v[i];
		const char *zs = r->kind == CG_KIND_NETWORK ? cg_res_get(r, "zones") : NULL;
		if (!zs)
			continue;
		char *copy = cg_xstrdup(zs), *save = NULL, **z = NULL;
		int nz = 0;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			z = cg_xrealloc(z, (size_t)(nz + 1) * sizeof(char *));
			z[nz++] = t;
		}
		cg_zonemap_add(&zm, r->region, z, nz);
		free(z);
		free(copy);
	}
	if (cg_model_build(&e->cluster, &zm, &now, CG_KIND_BIT(CG_KIND_CONFIG), &desired, err) < 0)
		goto out;
	for (int i = 0; i < desired.n; i++) {
		const struct cg_resource *d = &desired.v[i];
		const char *in = cg_res_get(d, "inputs"), *h = cg_res_get(d, "hash");
		for (int j = 0; in && h && j < now.n; j++) {
			struct cg_resource *r = &now.v[j];
			const char *rh = cg_res_get(r, "hash"), *ri = cg_res_get(r, "inputs");
			if (strcmp(r->addr, d->addr) || !rh || strcmp(rh, h) || (ri && !strcmp(ri, in)))
				continue;
			cg_res_set(r, "inputs", in, CG_ATTR_INFO);
			cg_rset_add(&changed, r);
		}
	}
	rc = changed.n ? cg_state_put_all(e->state, e->cluster.name, &changed, NULL, err) : 0;
out:
	cg_zonemap_free(&zm);
	cg_rset_free(&now);
	cg_rset_free(&desired);
	cg_rset_free(&changed);
	return rc;
}

/*
 * The faults of cassandgo chaos this run undid: a fault goes from the state
 * once the service of every node it hit was healed (its action done); a
 * destroy that succeeded leaves none. What still hits a node stays.
 */
static int settle_faults(struct cg_engine *e, bool all_done, struct cg_err *err)
{
	if (!e->state)
		return 0;
	if (e->env.destroying)
		return all_done ? cg_state_fault_clear(e->state, e->cluster.name, NULL, NULL, NULL,
						       err) : 0;
	struct cg_fault *fv = NULL;
	int fn = 0, rc = 0;
	if (cg_state_faults(e->state, e->cluster.name, &fv, &fn, err) < 0)
		return -1;
	int64_t now = cg_wall_s();
	for (int k = 0; k < fn && rc == 0; k++) {
		bool healed = true;
		for (int i = 0; i < e->known.n && healed; i++) {
			const struct cg_resource *m = &e->known.v[i];
			if (!cg_fault_active(&fv[k], now) || !cg_fault_hits(&fv[k], m))
				continue;
			char *sa = cg_addr_node(CG_KIND_SERVICE, m->dc, m->node);
			bool done = false;
			for (int j = 0; j < e->plan.n; j++) {
				const struct cg_action *a = &e->plan.v[j];
				if (!strcmp(a->addr, sa) && a->has_current &&
				    cg_res_get(&a->current, "chaos"))
					done = a->status == CG_ACT_DONE;
			}
			/* a node without a service has nothing left to heal */
			healed = done || !cg_rset_find(&e->known, sa);
			free(sa);
		}
		if (healed)
			rc = cg_state_fault_clear(e->state, e->cluster.name, fv[k].kind, fv[k].target,
						  NULL, err);
	}
	free(fv);
	return rc;
}

int cg_engine_apply(struct cg_engine *e, int parallelism,
		    void (*event)(void *, enum cg_exec_event, const struct cg_action *, const char *),
		    void *ui, struct cg_exec_result *res, struct cg_err *err)
{
	struct cg_exec ex = {
		.plan = &e->plan, .state = e->state, .cluster = &e->cluster, .env = &e->env,
		.world = &e->known, .parallelism = parallelism, .event = event, .ui = ui,
	};
	if (e->cidrs_unknown && e->plan.n)
		return cg_error(err, CG_EXIT_ERROR, "refusing to apply: no allowed CIDR for SSH and "
				"CQL (set allowed_cidrs or CASSANDGO_ALLOWED_CIDRS; your public "
				"address could not be detected)");
	for (int k = 0; k < CG_KIND__COUNT; k++) {
		if (e->infra.ops && (e->infra.ops->kinds & CG_KIND_BIT(k)))
			ex.by_kind[k] = e->infra;
		else if (e->boot.ops && (e->boot.ops->kinds & CG_KIND_BIT(k)))
			ex.by_kind[k] = e->boot;
	}
	int rc = cg_exec_run(&ex, res, err);
	struct cg_err ferr = {0};
	if (settle_faults(e, rc == 0, rc < 0 ? &ferr : err) < 0 && rc == 0)
		return -1;
	if (rc < 0)
		return -1;
	return record_inputs(e, err);
}
