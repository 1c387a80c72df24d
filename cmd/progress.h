/*
 * progress.h - what the operator sees while apply/destroy runs: one line per
 * action when it starts and when it ends, with its elapsed time, labelled
 * the way people think of a node ("DC1 n2  eu-west-1b  Cassandra started
 * [41s]"), grouped by stage; on a terminal a live view of what is running
 * (redrawn every second), plain lines otherwise; a summary of the time spent
 * per stage at the end.
 */
#ifndef CG_PROGRESS_H
#define CG_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include "../planner/engine.h"

struct cg_progress;

/* plan and known must outlive the progress. live: redraw in place (tty). */
struct cg_progress *cg_progress_start(const struct cg_plan *plan, const struct cg_rset *known,
				      FILE *out, bool live, bool color);
/* The executor's event callback (ui = the progress). */
void cg_progress_event(void *ui, enum cg_exec_event ev, const struct cg_action *a,
		       const char *msg);
/* Stop the live view and print the per-stage summary. */
void cg_progress_finish(struct cg_progress *p);

/* Label of an action ("DC1 n2  eu-west-1b", "eu-west-1", "cluster") and its
 * stage name; exposed for the golden tests. label is written into buf. */
const char *cg_progress_label(const struct cg_action *a, const struct cg_rset *known,
			      const struct cg_plan *plan, char *buf, size_t n);
const char *cg_progress_stage(enum cg_kind k);
/* "instance created", "Cassandra started", ... for a finished action. */
const char *cg_progress_done_text(const struct cg_action *a);

#endif
