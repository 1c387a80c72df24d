/*
 * plan.h - the diff (desired vs what exists) and the action graph.
 *
 * cg_plan_diff compares the desired resources with the current ones (the
 * live refresh, or the recorded state with --refresh=false) and yields one
 * action per resource that must change, each with its reason and its
 * dependencies (indices of other actions):
 *   - create/update/replace wait for the actions on what the resource
 *     depends on (desired deps);
 *   - deletes run in reverse: a node's steps before its machine, machines
 *     before their region's network and key pair;
 *   - service restarts (updates) are chained one node at a time, so the
 *     ring stays available.
 * Pure: no I/O. The plan owns its copies of the resources.
 */
#ifndef CG_PLAN_H
#define CG_PLAN_H

#include <stdbool.h>
#include "model.h"
#include "cost.h"

enum cg_action_status {
	CG_ACT_WAITING, CG_ACT_RUNNING, CG_ACT_DONE, CG_ACT_FAILED, CG_ACT_SKIPPED,
};

struct cg_action {
	enum cg_op op;
	enum cg_kind kind;
	char *addr;
	bool has_desired, has_current;
	struct cg_resource desired;	/* valid when has_desired */
	struct cg_resource current;	/* valid when has_current */
	bool forget;			/* delete only from the state: the world
					 * object goes with its machine */
	char *reason;
	int *deps;			/* indices of actions that must finish first */
	int ndeps;
	/* filled by the executor */
	enum cg_action_status status;
	char *error;
	int64_t elapsed_ms;
};

struct cg_plan {
	char *cluster;
	struct cg_action *v;
	int n;
	int add, change, destroy;	/* Terraform's counting: replace = 1 add + 1 destroy */
	char **notes;			/* e.g. interrupted actions found in the journal */
	int nnotes;
	struct cg_cost cost;		/* of the cluster as planned (engine fills it) */
	char *parked;			/* the cluster is parked (cassandgo stop):
					 * since when; NULL: it is not */
};

/*
 * recorded (may be NULL): the state's records, used only for reasons
 * ("i-123 no longer exists"). stage_kinds: kinds in scope; current
 * resources of other kinds are left alone.
 */
/* A DC added to a running ring: rebuilds at once (the source DC streams
 * to this many nodes at a time). */
#define CG_PLAN_REBUILD_WIDTH 2

int cg_plan_diff(const char *cluster, const struct cg_rset *desired,
		 const struct cg_rset *current, const struct cg_rset *recorded,
		 unsigned stage_kinds, struct cg_plan *plan, struct cg_err *err);
void cg_plan_add_note(struct cg_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cg_plan_free(struct cg_plan *plan);
/* Keep only creates (initSG/initKP never change or delete); notes what was
 * left alone. */
void cg_plan_keep_creates(struct cg_plan *plan);
/* Destroy: records whose object the refresh no longer finds (a destroy
 * killed after its calls ran) are forgotten, so nothing of the cluster
 * stays in the state. */
void cg_plan_forget_missing(struct cg_plan *plan, const struct cg_rset *recorded,
			    const struct cg_rset *current);

/* Topological order check: returns -1 (with err) if the graph has a cycle. */
int cg_plan_check_acyclic(const struct cg_plan *plan, struct cg_err *err);

/* Rendering (render.c). text: Terraform-like, with the summary line; json: a
 * machine-readable document. Both deterministic (golden-file tested). */
void cg_plan_render_text(const struct cg_plan *plan, bool color, struct cg_buf *out);
void cg_plan_render_json(const struct cg_plan *plan, struct cg_buf *out);
/* Canonical digest of the actions (saved plans: stale detection). */
uint64_t cg_plan_digest(const struct cg_plan *plan);

/* State rendering (state show). */
void cg_rset_render_text(const char *cluster, const struct cg_rset *s, struct cg_buf *out);
void cg_rset_render_json(const char *cluster, const struct cg_rset *s, struct cg_buf *out);

#endif
