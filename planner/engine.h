/*
 * engine.h - one run of cassandgo on one cluster: the glue that follows
 * the data flow
 *   config -> desired model --+
 *   state  -> recorded -------+--> diff -> plan -> executor -> providers
 *   providers' refresh -> live+                          \-> state (journal)
 * Commands (cmd/) drive it and print; it prints nothing.
 */
#ifndef CG_ENGINE_H
#define CG_ENGINE_H

#include "exec.h"
#include "park.h"

/* What a run makes of parking (cassandgo stop/start). */
enum cg_engine_park {
	CG_PARK_NONE,		/* plan/apply: a parked cluster is left alone (an
				 * empty plan, e->plan.parked set) */
	CG_PARK_STOP,		/* stop: drain, stop, power off (cg_park_plan) */
	CG_PARK_START,		/* start: the cluster's plan, parked or not */
};

struct cg_engine {
	struct cg_cluster cluster;	/* shallow copy with resolved settings */
	char **owned_cidrs;		/* resolved allowed CIDRs we allocated */
	char *owned_install;		/* resolved install method we allocated */
	struct cg_state *state;		/* NULL: no state file yet */
	struct cg_env env;
	struct cg_exec_provider infra, boot;
	unsigned kinds;			/* kinds in scope (stage) */
	bool refreshed;
	bool cidrs_unknown;		/* aws, no CIDR given or detected */
	enum cg_engine_park park;	/* set before cg_engine_plan */
	char *parked;			/* the state's parked mark (NULL: none) */
	struct cg_rset recorded;	/* the state's records */
	struct cg_rset live;		/* what the refresh found */
	struct cg_rset known;		/* live merged with recorded details */
	struct cg_rset desired;
	struct cg_plan plan;
};

/* Open the providers pv (the command layer's choice for cluster c). st may
 * be NULL (nothing recorded yet). env must outlive the engine. */
int cg_engine_open(struct cg_engine *e, const struct cg_cluster *c,
		   const struct cg_providers *pv, struct cg_state *st,
		   const struct cg_env *env, unsigned kinds, struct cg_err *err);
/* Load, refresh (unless refresh=false), build the desired model (empty when
 * destroying) and diff. The result is in e->plan. */
int cg_engine_plan(struct cg_engine *e, bool refresh, bool destroy, struct cg_err *err);
/* Record what the refresh found (adopted objects) and settle the journal:
 * called by apply under the lock, before executing. */
int cg_engine_record_refresh(struct cg_engine *e, struct cg_err *err);
/* Execute e->plan. */
int cg_engine_apply(struct cg_engine *e, int parallelism,
		    void (*event)(void *, enum cg_exec_event, const struct cg_action *, const char *),
		    void *ui, struct cg_exec_result *res, struct cg_err *err);
void cg_engine_close(struct cg_engine *e);

#endif
