/*
 * rules.h - the arithmetic of a region's security groups, pure (no I/O, no
 * environment): how many inbound rules the main group keeps for itself, how
 * many groups the other regions' nodes need at one tcp 7000 rule per public
 * /32, which group each address goes to, and the groups' names.
 *
 * A region's instances all carry the same groups: index 0 is the main
 * group cassandgo-<cluster>-<region> (SSH/CQL from allowed_cidrs, the
 * group itself, monitoring, then remote /32s while room lasts), indexes
 * 1.. are overflow groups cassandgo-<cluster>-<region>-peers-<index+1>
 * holding only remote /32s.
 */
#ifndef CG_EC2_RULES_H
#define CG_EC2_RULES_H

#include <stdbool.h>
#include "../../util/util.h"

#define CG_EC2_RULES_PER_GROUP 60	/* AWS default of quota L-0EA8095F (inbound) */
#define CG_EC2_GROUPS_PER_ENI 5		/* AWS default of quota L-2AFB9258 */
#define CG_EC2_GROUPS_MAX 16		/* AWS's ceiling for groups per interface */

struct cg_ec2_sg_limits {
	int rules_per_group;		/* inbound rules one group may hold */
	int groups_per_eni;		/* groups one instance may carry, 1..CG_EC2_GROUPS_MAX */
};

/*
 * Rules of the main group that do not depend on the remote nodes: tcp 7000
 * and ICMP from the group itself (+ the two scrape ports with monitoring),
 * 22 and 9042 (+ the monitoring port) per allowed CIDR, and the two scrape
 * ports from the monitoring node when it is in another region.
 */
int cg_ec2_rules_fixed(int nallowed, bool monitoring, bool monitor_remote);

/* Room for remote /32s in group i (0 = main group, which holds `fixed` too). */
int cg_ec2_rules_room(const struct cg_ec2_sg_limits *l, int fixed, int i);

/*
 * Groups needed for nremote remote addresses (one rule each) beside `fixed`
 * rules: 1..groups_per_eni. When even groups_per_eni groups cannot hold
 * them, -1 with err saying how many rules are needed and which quotas to
 * raise; `where` (e.g. "peers.eu-west-1") starts the message.
 */
int cg_ec2_rules_groups(const struct cg_ec2_sg_limits *l, int fixed, int nremote,
			const char *where, struct cg_err *err);

/*
 * Place n addresses into ngroups groups: cur[i] is the group holding
 * address i now (-1 none; >= ngroups: a group that goes away), out[i] gets
 * its group. An address stays where it is while that group has room (in
 * input order), so an unchanged world moves nothing; the others fill the
 * groups in order. Returns 0, or -1 when they do not fit.
 */
int cg_ec2_rules_place(const struct cg_ec2_sg_limits *l, int fixed, int ngroups, int n,
		       const int *cur, int *out);

/* Name of group i of a region; caller frees. */
char *cg_ec2_sg_name(const char *cluster, const char *region, int i);

/* Index of a group name among the region's (0..CG_EC2_GROUPS_MAX-1), or -1. */
int cg_ec2_sg_index(const char *cluster, const char *region, const char *name);

#endif
