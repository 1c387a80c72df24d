/*
 * faults.h - the active faults of `cassandgo chaos` (recorded in the state,
 * struct cg_fault) as the rest of the tool sees them: which nodes each one
 * hits, how status says it, and the `chaos` attribute that turns a faulted
 * node's service into a heal in the plan ("chaos: killed at 16:20"): the
 * plan shows an update in place (a restart, never a replacement) and the
 * bootstrap provider undoes the fault before the service step. Pure.
 */
#ifndef CG_FAULTS_H
#define CG_FAULTS_H

#include "../state/state.h"

/* Still in force at now (a pause ends by itself at f->until)? */
bool cg_fault_active(const struct cg_fault *f, int64_t now);
/* Does f hit machine m (a node fault on it, or a group fault on its DC or
 * zone)? */
bool cg_fault_hits(const struct cg_fault *f, const struct cg_resource *m);
/* "killed at 16:20", "paused at 16:20 until 16:21", "partitioned (DC2) at
 * 16:20", "delayed 50ms (DC1) at 16:20" (local time). Caller frees. */
char *cg_fault_what(const struct cg_fault *f);
/* Mark the service of every machine of set hit by an active fault with the
 * info attribute `chaos` (what cg_fault_what says; several joined by "; "). */
void cg_faults_mark(const struct cg_fault *v, int n, int64_t now, struct cg_rset *set);
/* status: "Active faults" lines (nothing when none is active) / a JSON array
 * of {"kind","target","detail","since","until"} (ISO 8601, until null). */
void cg_faults_render_text(const struct cg_fault *v, int n, int64_t now, struct cg_buf *out);
void cg_faults_render_json(const struct cg_fault *v, int n, int64_t now, struct cg_buf *out);

#endif
