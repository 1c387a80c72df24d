/*
 * cost.h - what a cluster costs while it runs: per DC and in total, from
 * the machines of a model and the infrastructure provider's prices
 * (struct cg_provider_ops.hourly). Pure arithmetic and rendering.
 */
#ifndef CG_COST_H
#define CG_COST_H

#include <stdbool.h>
#include <time.h>
#include "model.h"

struct cg_cost_dc {
	char *dc, *region, *node_type;	/* node_type: the first machine's */
	char *capacity;			/* its capacity (on-demand, spot, ...) */
	int nodes;
	int loaders;			/* load nodes (aws stress_nodes), in per_hour */
	char *loader_type;		/* the first one's type */
	double per_hour;		/* USD, the priced machines only */
};

struct cg_cost {
	bool known;			/* the provider prices machines at all */
	struct cg_cost_dc *dcs;		/* in the order the machines come */
	int ndcs;
	double per_hour;		/* USD, total of the priced machines */
	int machines, parked;		/* machines priced; those powered off
					 * (parked: their disks only) */
	char **missing;			/* "m9.huge in xx-east-1": no price */
	int nmissing;
	char *source;			/* where the prices come from, dated */
	/* cg_cost_spent: since the earliest machine's launch */
	char *since;			/* its launch_time; NULL: not computed */
	double spent;			/* USD, every priced machine since its launch */
};

/* Price every machine and load node of ms (other kinds are skipped) with hourly, which
 * returns 0 with *usd_h, or non-zero with err saying what has no price.
 * source may be NULL. Fills *out (cg_cost_free). */
void cg_cost_of(const struct cg_rset *ms,
		int (*hourly)(const struct cg_resource *m, double *usd_h, struct cg_err *err),
		const char *source, struct cg_cost *out);
void cg_cost_free(struct cg_cost *c);

/* What the machines of ms (recorded, with their launch_time attribute) have
 * cost until now: into c->spent and c->since. Machines without a launch
 * time or a price are left out (c->missing already names the latter). */
void cg_cost_spent(struct cg_cost *c, const struct cg_rset *ms,
		   int (*hourly)(const struct cg_resource *m, double *usd_h, struct cg_err *err),
		   time_t now);
/* "Cost while it runs: ..." and "since ..." lines for status and output
 * (nothing when !known). */
void cg_cost_render_running(const struct cg_cost *c, struct cg_buf *out);

/* "Cost ..." lines for a plan (nothing when !known) and the JSON object
 * {"currency":"USD","per_hour":N,"per_day":N,"dcs":{...},"missing":[...],
 * "source":S[,"since":T,"spent":N]} (null when !known). */
void cg_cost_render_text(const struct cg_cost *c, struct cg_buf *out);
void cg_cost_render_json(const struct cg_cost *c, struct cg_buf *out);

#endif
