/*
 * exec.h - the executor: walks a plan's action graph through the providers,
 * recording every step in the state.
 *
 * An action runs when every action it depends on is done, up to
 * `parallelism` at once. Each is journaled as pending before it touches the
 * world and as done/failed after; its result is written to the state at
 * once, so a crash loses at most the actions in flight (which the next
 * refresh reconciles). A failed action stops only what depends on it:
 * independent branches go on. When *env->interrupted becomes non-zero no new
 * action starts; running ones finish and are recorded.
 */
#ifndef CG_EXEC_H
#define CG_EXEC_H

#include "plan.h"
#include "../providers/provider.h"
#include "../state/state.h"

struct cg_exec_provider {
	const struct cg_provider_ops *ops;
	struct cg_provider *p;
};

enum cg_exec_event { CG_EXEC_START, CG_EXEC_DONE, CG_EXEC_FAIL, CG_EXEC_SKIP, CG_EXEC_PROGRESS };

struct cg_exec {
	struct cg_plan *plan;
	struct cg_state *state;
	const struct cg_cluster *cluster;
	const struct cg_env *env;
	struct cg_exec_provider by_kind[CG_KIND__COUNT];
	const struct cg_rset *world;	/* what exists now (refreshed + recorded) */
	int parallelism;
	/* Called (serialised) for each event; msg is the progress text or error. */
	void (*event)(void *ui, enum cg_exec_event ev, const struct cg_action *a,
		      const char *msg);
	void *ui;
};

struct cg_exec_result {
	int added, changed, destroyed;
	int failed, skipped;
};

/* Returns 0 when every action succeeded; -1 otherwise with err naming the
 * failed actions (the state holds everything that did succeed). */
int cg_exec_run(struct cg_exec *ex, struct cg_exec_result *res, struct cg_err *err);

#endif
