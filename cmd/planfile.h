/*
 * planfile.h - saved plans (plan --out FILE, apply CLUSTER FILE).
 *
 * A saved plan pins what it was made from: the config's hash, the state's
 * lineage and serial, and a digest of the actions. apply re-plans and runs
 * only if all four still match; otherwise the plan is stale and refused.
 */
#ifndef CG_PLANFILE_H
#define CG_PLANFILE_H

#include "cli.h"

struct cg_planfile {
	char cluster[256];
	char lineage[64];
	long long serial;
	char config_hash[17];
	char digest[17];
	unsigned kinds;
	bool destroy;
};

int cg_planfile_write(const char *path, const struct cg_config *cfg, struct cg_state *st,
		      const struct cg_plan *plan, unsigned kinds, bool destroy,
		      struct cg_err *err);
int cg_planfile_read(const char *path, struct cg_planfile *pf, struct cg_err *err);

#endif
