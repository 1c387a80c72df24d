/*
 * upgrade.h - rolling upgrades of Cassandra, pure: which release changes
 * are allowed, and whether the on-disk format changes with them.
 *
 * A node's release is an attribute (install.version, service.version); a
 * change is planned as one upgrade per node, one node at a time, DC by DC
 * (planner/plan.c chains the steps). Releases are "X.Y.Z" (config.c checks
 * the config's; what nodes report is checked here before it is used).
 */
#ifndef CG_UPGRADE_H
#define CG_UPGRADE_H

#include <stdbool.h>
#include "../util/util.h"

struct cg_release {
	unsigned major, minor, patch;
};

/* Parse "X.Y.Z" (each part 0-999); false when it is not one. */
bool cg_upgrade_parse(const char *s, struct cg_release *out);
/* <0, 0, >0 as a is older than, the same as, newer than b. */
int cg_upgrade_cmp(const struct cg_release *a, const struct cg_release *b);
/* May a node go from release from to release to? 0, or -1 with err saying
 * why not (a downgrade; a jump over a major version; what is not a
 * release) and what would be right. what names the node ("install.DC1.n1"). */
int cg_upgrade_check(const char *what, const char *from, const char *to, struct cg_err *err);
/* Does the on-disk format (SSTables) change from from to to? A major or
 * minor release does; a patch release does not. False when either is not
 * a release. */
bool cg_upgrade_format_changes(const char *from, const char *to);

#endif
