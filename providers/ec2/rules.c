/* rules.c - security group arithmetic; see rules.h. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_ec2_rules_fixed(int nallowed, bool monitoring, bool monitor_remote)
{
	int self = 2 + (monitoring ? 2 : 0);		/* 7000, ICMP [, scrape ports] */
	int per_cidr = 2 + (monitoring ? 1 : 0);	/* 22, 9042 [, Prometheus] */
	return self + nallowed * per_cidr + (monitor_remote ? 2 : 0);
}

int cg_ec2_rules_room(const struct cg_ec2_sg_limits *l, int fixed, int i)
{
	int room = l->rules_per_group - (i == 0 ? fixed : 0);
	return room > 0 ? room : 0;
}

int cg_ec2_rules_groups(const struct cg_ec2_sg_limits *l, int fixed, int nremote,
			const char *where, struct cg_err *err)
{
	int have = 0;
	for (int g = 0; g < l->groups_per_eni; g++) {
		have += cg_ec2_rules_room(l, fixed, g);
		if (fixed <= l->rules_per_group && have >= nremote)
			return g + 1;
	}
	return cg_error(err, CG_EXIT_ERROR,
			"%s: %d inbound rules needed (%d of the region's own: SSH, CQL, the "
			"group itself, monitoring; plus one tcp 7000 rule per node of the other "
			"regions: %d), but %d security groups per instance of %d rules hold %d. "
			"Raise the AWS quota 'Inbound or outbound rules per security group' "
			"(Service Quotas L-0EA8095F, default 60) or 'Security groups per network "
			"interface' (L-2AFB9258, default 5; their product may not exceed 1000), "
			"then tell cassandgo with CASSANDGO_EC2_RULES_PER_GROUP or "
			"CASSANDGO_EC2_GROUPS_PER_ENI; or use fewer nodes",
			where, fixed + nremote, fixed, nremote, l->groups_per_eni,
			l->rules_per_group, l->groups_per_eni * l->rules_per_group);
}

int cg_ec2_rules_place(const struct cg_ec2_sg_limits *l, int fixed, int ngroups, int n,
		       const int *cur, int *out)
{
	int used[CG_EC2_GROUPS_MAX] = { 0 };
	if (ngroups < 1 || ngroups > CG_EC2_GROUPS_MAX)
		return -1;
	/* first those already in a group that stays, while it has room */
	for (int i = 0; i < n; i++) {
		int g = cur ? cur[i] : -1;
		out[i] = -1;
		if (g >= 0 && g < ngroups && used[g] < cg_ec2_rules_room(l, fixed, g)) {
			out[i] = g;
			used[g]++;
		}
	}
	/* then the others, first fit: the main group fills before overflow ones */
	int g = 0;
	for (int i = 0; i < n; i++) {
		if (out[i] >= 0)
			continue;
		while (g < ngroups && used[g] >= cg_ec2_rules_room(l, fixed, g))
			g++;
		if (g == ngroups)
			return -1;
		out[i] = g;
		used[g]++;
	}
	return 0;
}

char *cg_ec2_sg_name(const char *cluster, const char *region, int i)
{
	if (i == 0)
		return cg_xasprintf("cassandgo-%s-%s", cluster, region);
	return cg_xasprintf("cassandgo-%s-%s-peers-%d", cluster, region, i + 1);
}

int cg_ec2_sg_index(const char *cluster, const char *region, const char *name)
{
	char *base = cg_ec2_sg_name(cluster, region, 0);
	size_t n = strlen(base);
	int idx = -1;
	if (!strncmp(name, base, n)) {
		const char *rest = name + n;
		if (!*rest) {
			idx = 0;
		} else if (!strncmp(rest, "-peers-", 7) && rest[7] >= '1' && rest[7] <= '9') {
			char *end;	/* digits only, no leading zero: one spelling per index */
			long k = strtol(rest + 7, &end, 10);
			if (!*end && k >= 2 && k <= CG_EC2_GROUPS_MAX)
				idx = (int)k - 1;
		}
	}
	free(base);
	return idx;
}
