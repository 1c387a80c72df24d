/*
 * config.c - cassandgo.yaml loader (see config.h; the reference is README.md, "Configuration").
 *
 * Two stages: libyaml's event stream is turned into a small tree of our own
 * (yaml_tree.c: every node keeps its 1-based position, anchors and aliases
 * are refused and duplicate keys are caught where they appear), then the
 * tree is checked key by key here and converted into struct cg_config. The first error
 * wins; every message has the shape
 *
 *     FILE:LINE:COL: KEY: WHAT IS WRONG; expected WHAT WOULD BE RIGHT
 *
 * where KEY is the path of the offending key, e.g. MultiDC[1].nodes or
 * Lab.datacenters[0].zones[1] (list indexes are 0-based).
 */
#include "config.h"
#include "cassandra_keys.h"
#include "yaml_tree.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CG_MAX_NODES_PER_DC 1000
#define CG_MAX_DCS 64
#define CG_MAX_FILE (4 << 20)
#define CG_NAME_MAX 48
#define CG_CASSANDRA_DEFAULT "5.0.9"

static const char *const aws_regions[] = {
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
};
#define NREGIONS (sizeof(aws_regions) / sizeof(aws_regions[0]))

/* cassandra.yaml settings that cassandgo itself derives from the topology. */
static const char *const cassandra_reserved[] = {
	"cluster_name", "num_tokens", "initial_token", "seed_provider",
	"listen_address", "listen_interface", "rpc_address", "rpc_interface",
	"broadcast_address", "broadcast_rpc_address", "endpoint_snitch",
	"partitioner", "auto_bootstrap", "data_file_directories",
	"commitlog_directory", "saved_caches_directory", "hints_directory",
	"cdc_raw_directory",
};

/* Settings the cluster's security owns (authentication, TLS): with
 * `security: on` cassandgo renders them; `security: off` hands them back. */
static const char *const cassandra_security[] = {
	"authenticator", "authorizer", "role_manager", "network_authorizer",
	"cidr_authorizer", "server_encryption_options", "client_encryption_options",
};

static const char *const cluster_keys[] = {
	"provider", "cassandra_version", "num_tokens", "heap", "ssh_user",
	"ssh_address", "broadcast_address", "allowed_cidrs", "install", "network",
	"cassandra", "datacenters", "security", "expires", "maven_mirror", "keyspaces",
};
static const char *const dc_keys[] = {
	"datacenter", "region", "zone", "zones", "nodes", "nb_seeds_per_dc",
	"seeds", "node_type", "opscenter", "monitoring", "ami", "capacity",
	"stress_nodes", "stress_node_type",
};
static const char *const keyspace_keys[] = { "name", "replication", "durable_writes" };
/* CQL's reserved keywords (Cassandra 5.0's cql3/reserved_keywords.txt):
 * none can be an unquoted name, and cassandgo's CQL quotes no name. */
static const char *const cql_reserved[] = {
	"add", "allow", "alter", "and", "apply", "asc", "authorize", "batch", "begin", "by",
	"columnfamily", "create", "delete", "desc", "describe", "drop", "entries", "execute",
	"from", "full", "grant", "if", "in", "index", "infinity", "insert", "into", "is",
	"keyspace", "limit", "materialized", "modify", "nan", "norecursive", "not", "null", "of",
	"on", "or", "order", "primary", "rename", "revoke", "schema", "select", "set", "table",
	"to", "token", "truncate", "unlogged", "update", "use", "using", "view", "where", "with",
};
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

bool cg_config_aws_region_known(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < NREGIONS; i++)
		if (!strcmp(aws_regions[i], name))
			return true;
	return false;
}

/* Parse a.b.c.d/n; *net and *prefix out. */
static bool parse_cidr(const char *s, uint32_t *net, int *prefix)
{
	unsigned a[4];
	int p, used = 0;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c) && *c != '.' && *c != '/')
			return false;
	if (sscanf(s, "%3u.%3u.%3u.%3u/%2d%n", &a[0], &a[1], &a[2], &a[3], &p, &used) != 5 ||
	    s[used] || p < 0 || p > 32)
		return false;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255)
			return false;
	/* no leading zeros: "010.0.0.0" is octal to some parsers */
	for (const char *c = s; *c; c++)
		if (*c == '0' && (c == s || c[-1] == '.' || c[-1] == '/') && isdigit((unsigned char)c[1]))
			return false;
	*net = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	*prefix = p;
	return true;
}

static uint32_t prefix_mask(int p)
{
	return p ? 0xffffffffu << (32 - p) : 0;
}

static char *cidr_str(uint32_t net, int p)
{
	return cg_xasprintf("%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255,
			    (net >> 8) & 255, net & 255, p);
}

/* A validated IPv4 CIDR with no host bits set. */
static int want_cidr(struct ld *ld, const struct ynode *v, const char *key, uint32_t *net,
		     int *prefix)
{
	const char *s;
	const char *exp = "an IPv4 CIDR such as 203.0.113.0/24";
	if (cg_yaml_string(ld, v, key, exp, &s) < 0)
		return -1;
	if (!parse_cidr(s, net, prefix))
		return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an IPv4 CIDR", s);
	if (*net & ~prefix_mask(*prefix)) {
		char *fix = cidr_str(*net & prefix_mask(*prefix), *prefix);
		cg_yaml_fail(ld, v->pos, key, fix, "'%s' has host bits set", s);
		free(fix);
		return -1;
	}
	return 0;
}

/* Split a full region name into prefix and number: "eu-west-1" -> 7, 1. */
static bool region_number(const char *r, size_t *plen, int *num)
{
	const char *d = strrchr(r, '-');
	if (!d || d == r || !d[1])
		return false;
	for (const char *c = d + 1; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	*plen = (size_t)(d - r);
	*num = atoi(d + 1);
	return true;
}

/* "one of eu-west-1, eu-west-2" for the regions starting with prefix- */
static char *regions_with_prefix(const char *prefix)
{
	struct cg_buf b = {0};
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < NREGIONS; i++)
		if (!strncmp(aws_regions[i], prefix, pl) && aws_regions[i][pl] == '-' &&
		    isdigit((unsigned char)aws_regions[i][pl + 1]))
			cg_buf_addf(&b, "%s%s", b.len ? ", " : "", aws_regions[i]);
	return cg_buf_detach(&b);
}

/* The region prefix (eu-west of eu-west-1) closest to r, into out. */
static bool closest_prefix(const char *r, char *out, size_t n)
{
	char pfx[NREGIONS][32];
	const char *ptr[NREGIONS];
	for (size_t i = 0; i < NREGIONS; i++) {
		size_t pl;
		int num;
		region_number(aws_regions[i], &pl, &num);
		snprintf(pfx[i], sizeof(pfx[i]), "%.*s", (int)pl, aws_regions[i]);
		ptr[i] = pfx[i];
	}
	const char *best = cg_yaml_closest(r, ptr, NREGIONS);
	if (best)
		snprintf(out, n, "%s", best);
	return best != NULL;
}

/* ---- datacenters ------------------------------------------------------- */

struct dcsrc {
	const struct ynode *region, *zone, *zones, *seeds, *nodes, *name, *mon;
	const char *seeds_key;
};

static bool is_cluster_key(const char *k)
{
	return cg_yaml_in_list(k, cluster_keys, NELEM(cluster_keys));
}

static int resolve_region(struct ld *ld, const struct cg_cluster *c, struct cg_dc *dc,
			  const struct dcsrc *s, int zone, const char *path)
{
	char *key = cg_xasprintf("%s.region", path);
	char *zkey = cg_xasprintf("%s.zone", path);
	const char *r = s->region->value;
	int rc = -1;
	if (c->provider == CG_PROVIDER_LOCAL) {
		if (!cg_yaml_name_ok(r, CG_NAME_MAX)) {
			cg_yaml_fail(ld, s->region->pos, key, "a label of letters, digits, '-' or '_' (local provider)",
			     "'%s' is not a valid region label", r);
			goto out;
		}
		dc->region = s->zone ? cg_xasprintf("%s-%d", r, zone) : cg_xstrdup(r);
		rc = 0;
		goto out;
	}
	for (const char *p = r; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
			cg_yaml_fail(ld, s->region->pos, key, "an AWS region name in lowercase such as eu-west-1",
			     "'%s' is not an AWS region name", r);
			goto out;
		}
	}
	size_t plen;
	int num;
	bool full = region_number(r, &plen, &num);
	char *name;
	if (s->zone && full) {
		if (num != zone) {
			char *exp = cg_xasprintf("zone: %d or no zone with region %s", num, r);
			cg_yaml_fail(ld, s->zone->pos, zkey, exp, "zone %d contradicts region %s", zone, r);
			free(exp);
			goto out;
		}
		name = cg_xstrdup(r);
	} else if (s->zone) {
		name = cg_xasprintf("%s-%d", r, zone);
		if (!cg_config_aws_region_known(name)) {
			char *list = regions_with_prefix(r);
			if (*list) {
				char *exp = cg_xasprintf("a zone number giving one of %s", list);
				cg_yaml_fail(ld, s->zone->pos, zkey, exp, "%s is not an AWS region", name);
				free(exp);
			} else {
				char dym[32];
				if (closest_prefix(r, dym, sizeof(dym)))
					cg_yaml_fail(ld, s->region->pos, key, "an AWS region such as eu-west (with zone: 1) or eu-west-1",
					     "unknown AWS region '%s' (did you mean '%s'?)", r, dym);
				else
					cg_yaml_fail(ld, s->region->pos, key, "an AWS region such as eu-west (with zone: 1) or eu-west-1",
					     "unknown AWS region '%s'", r);
			}
			free(list);
			free(name);
			goto out;
		}
	} else if (!full) {
		char *list = regions_with_prefix(r);
		char *exp = *list ? cg_xasprintf("a full region name (%s) or a zone: N key", list)
				  : cg_xstrdup("a full AWS region name such as eu-west-1");
		char dym[32];
		if (!*list && closest_prefix(r, dym, sizeof(dym)))
			cg_yaml_fail(ld, s->region->pos, key, exp,
			     "unknown AWS region '%s' (did you mean '%s' with a zone: N, e.g. %s-1?)",
			     r, dym, dym);
		else
			cg_yaml_fail(ld, s->region->pos, key, exp,
			     "'%s' is not a full region name and no zone is given", r);
		free(exp);
		free(list);
		goto out;
	} else {
		name = cg_xstrdup(r);
	}
	if (!cg_config_aws_region_known(name)) {
		const char *dym = cg_yaml_closest(name, aws_regions, NREGIONS);
		if (dym)
			cg_yaml_fail(ld, s->region->pos, key, "a known AWS region such as eu-west-1",
			     "unknown AWS region '%s' (did you mean '%s'?)", name, dym);
		else
			cg_yaml_fail(ld, s->region->pos, key, "a known AWS region such as eu-west-1",
			     "unknown AWS region '%s'", name);
		free(name);
		goto out;
	}
	dc->region = name;
	rc = 0;
out:
	free(key);
	free(zkey);
	return rc;
}

static int resolve_zones(struct ld *ld, const struct cg_cluster *c, struct cg_dc *dc,
			 const struct ynode *zs, const char *path)
{
	if (zs->type != Y_SEQ || !zs->nkids) {
		char b[128], *key = cg_xasprintf("%s.zones", path);
		cg_yaml_fail(ld, zs->pos, key, "a non-empty list of zones such as [a, b]", "got %s",
		     zs->type == Y_SEQ ? "an empty list" : cg_yaml_describe(zs, b, sizeof(b)));
		free(key);
		return -1;
	}
	dc->zones = cg_xcalloc((size_t)zs->nkids, sizeof(char *));
	size_t rl = strlen(dc->region);
	for (int i = 0; i < zs->nkids; i++) {
		const struct ynode *z = zs->kids[i];
		char *key = cg_xasprintf("%s.zones[%d]", path, i);
		const char *v, *exp;
		char *full = NULL;
		int rc = -1;
		if (c->provider == CG_PROVIDER_LOCAL) {
			exp = "a zone label of letters, digits, '-' or '_'";
			if (cg_yaml_string(ld, z, key, exp, &v) < 0)
				goto next;
			if (!cg_yaml_name_ok(v, CG_NAME_MAX)) {
				cg_yaml_fail(ld, z->pos, key, exp, "'%s' is not a valid zone label", v);
				goto next;
			}
			full = !strncmp(v, dc->region, rl) && v[rl] == '-'
				? cg_xstrdup(v) : cg_xasprintf("%s-%s", dc->region, v);
		} else {
			char *e = cg_xasprintf("a zone letter such as a, or a zone of %s such as %sa",
					       dc->region, dc->region);
			exp = e;
			if (cg_yaml_string(ld, z, key, exp, &v) < 0) {
				free(e);
				goto next;
			}
			size_t vl = strlen(v);
			bool letter = vl == 1 && islower((unsigned char)v[0]);
			bool ok = letter;
			if (!letter && vl > rl && !strncmp(v, dc->region, rl)) {
				/* eu-west-1a, or a Local Zone such as us-west-2-lax-1a */
				const char *t = v + rl;
				ok = islower((unsigned char)v[vl - 1]);
				if (t[1] || !islower((unsigned char)t[0])) {
					ok = ok && t[0] == '-';
					for (const char *q = t; *q && ok; q++)
						ok = islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '-';
				}
			}
			if (!ok)
				cg_yaml_fail(ld, z->pos, key, exp, "'%s' is not a zone of region %s", v, dc->region);
			else
				full = letter ? cg_xasprintf("%s%s", dc->region, v) : cg_xstrdup(v);
			free(e);
			if (!ok)
				goto next;
		}
		for (int j = 0; j < dc->nzones; j++) {
			if (!strcmp(dc->zones[j], full)) {
				cg_yaml_fail(ld, z->pos, key, "each zone at most once",
				     "zone %s is listed twice", full);
				free(full);
				goto next;
			}
		}
		dc->zones[dc->nzones++] = full;
		rc = 0;
next:
		free(key);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static bool ami_ok(const char *s)
{
	if (strncmp(s, "ami-", 4))
		return false;
	size_t n = strlen(s + 4);
	if (n != 8 && n != 17)
		return false;
	for (const char *c = s + 4; *c; c++)
		if (!isdigit((unsigned char)*c) && !(*c >= 'a' && *c <= 'f'))
			return false;
	return true;
}

static bool node_type_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	if (!dot || dot == s || !dot[1] || strchr(dot + 1, '.') || strlen(s) > 40)
		return false;
	if (!islower((unsigned char)s[0]))
		return false;
	for (const char *c = s; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-' && *c != '.')
			return false;
	return true;
}

/*
 * One datacenter entry (a mapping) at path into dc. seed_form: the 2014 list
 * form (cluster keys there get a pointed message).
 */
static int load_dc(struct ld *ld, struct cg_cluster *c, const struct ynode *m,
		   const char *path, bool seed_form, struct cg_dc *dc)
{
	struct dcsrc s = {0};
	int zone = 0;
	char *key = NULL;
	char b[128];
	dc->pos = m->pos;
	dc->seeds = 1;
	if (m->type != Y_MAP)
		return cg_yaml_fail(ld, m->pos, path,
			    "a mapping with datacenter, region, nodes, ...", "got %s",
			    cg_yaml_describe(m, b, sizeof(b)));
	for (int i = 0; i < m->nkids; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		const char *kn = k->value, *str;
		free(key);
		key = cg_xasprintf("%s.%s", path, kn);
		if (!cg_yaml_in_list(kn, dc_keys, NELEM(dc_keys))) {
			if (is_cluster_key(kn))
				cg_yaml_unknown_key(ld, k, key, dc_keys, NELEM(dc_keys), seed_form
					    ? "a cluster-wide setting: use the mapping form with a datacenters: list"
					    : "a cluster-wide setting: move it next to datacenters:");
			else
				cg_yaml_unknown_key(ld, k, key, dc_keys, NELEM(dc_keys), NULL);
			goto bad;
		}
		if (!strcmp(kn, "datacenter")) {
			const char *exp = "a name of letters, digits, '-' or '_' (at most 48)";
			if (cg_yaml_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!cg_yaml_name_ok(str, CG_NAME_MAX)) {
				cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a valid datacenter name", str);
				goto bad;
			}
			dc->name = cg_xstrdup(str);
			s.name = v;
		} else if (!strcmp(kn, "region")) {
			if (cg_yaml_string(ld, v, key, "a region name such as eu-west-1", &str) < 0)
				goto bad;
			s.region = v;
		} else if (!strcmp(kn, "zone")) {
			/* the seed's zone is the region's number; an availability
			 * zone here is a likely mix-up: say where it goes */
			if (v->type == Y_SCALAR && !v->quoted && isalpha((unsigned char)v->value[0]) &&
			    !cg_yaml_is_null(v)) {
				cg_yaml_fail(ld, v->pos, key, "the region's number (region: eu-west + zone: 1 = eu-west-1)",
				     "got '%s' (availability zones go under zones:)", v->value);
				goto bad;
			}
			if (cg_yaml_int(ld, v, key, 1, 99, &zone) < 0)
				goto bad;
			s.zone = v;
		} else if (!strcmp(kn, "zones")) {
			s.zones = v;	/* normalised once the region is known */
		} else if (!strcmp(kn, "nodes")) {
			if (cg_yaml_int(ld, v, key, 1, CG_MAX_NODES_PER_DC, &dc->nodes) < 0)
				goto bad;
			s.nodes = v;
		} else if (!strcmp(kn, "nb_seeds_per_dc") || !strcmp(kn, "seeds")) {
			if (s.seeds) {
				cg_yaml_fail(ld, k->pos, key, "only one of nb_seeds_per_dc and seeds",
				     "same setting as %s, given twice", s.seeds_key);
				goto bad;
			}
			if (cg_yaml_int(ld, v, key, 1, CG_MAX_NODES_PER_DC, &dc->seeds) < 0)
				goto bad;
			s.seeds = v;
			s.seeds_key = kn;
		} else if (!strcmp(kn, "node_type")) {
			const char *exp = "an EC2 instance type such as m5.large";
			if (cg_yaml_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!node_type_ok(str)) {
				cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an instance type", str);
				goto bad;
			}
			dc->node_type = cg_xstrdup(str);
		} else if (!strcmp(kn, "opscenter") || !strcmp(kn, "monitoring")) {
			if (s.mon) {
				cg_yaml_fail(ld, k->pos, key, "only one of opscenter and monitoring",
				     "same setting as %s, given twice",
				     !strcmp(kn, "opscenter") ? "monitoring" : "opscenter");
				goto bad;
			}
			if (cg_yaml_bool(ld, v, key, &dc->monitoring) < 0)
				goto bad;
			s.mon = v;
		} else if (!strcmp(kn, "capacity")) {
			const char *exp = "on-demand, spot or spot-or-on-demand";
			if (c->provider != CG_PROVIDER_AWS) {
				cg_yaml_fail(ld, k->pos, key, "no capacity key with provider local",
				     "capacity (spot or on-demand) applies only to provider aws");
				goto bad;
			}
			if (cg_yaml_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (strcmp(str, "on-demand") && strcmp(str, "spot") &&
			    strcmp(str, "spot-or-on-demand")) {
				cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a capacity", str);
				goto bad;
			}
			free(dc->capacity);
			dc->capacity = cg_xstrdup(str);
		} else if (!strcmp(kn, "stress_nodes") || !strcmp(kn, "stress_node_type")) {
			/* the local provider runs stress clients in a namespace per DC */
			if (c->provider != CG_PROVIDER_AWS) {
				char *what = cg_xasprintf("no %s key with provider local", kn);
				cg_yaml_fail(ld, k->pos, key, what, "load nodes apply only to provider "
					     "aws (local stress clients run in a namespace per DC)");
				free(what);
				goto bad;
			}
			if (!strcmp(kn, "stress_nodes")) {
				if (cg_yaml_int(ld, v, key, 0, CG_MAX_STRESS_NODES, &dc->stress_nodes) < 0)
					goto bad;
			} else {
				const char *exp = "an EC2 instance type such as c5.xlarge";
				if (cg_yaml_string(ld, v, key, exp, &str) < 0)
					goto bad;
				if (!node_type_ok(str)) {
					cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an instance type", str);
					goto bad;
				}
				free(dc->stress_node_type);
				dc->stress_node_type = cg_xstrdup(str);
			}
		} else if (!strcmp(kn, "ami")) {
			const char *exp = "an AMI id such as ami-0123456789abcdef0";
			if (c->provider != CG_PROVIDER_AWS) {
				cg_yaml_fail(ld, k->pos, key, "no ami key with provider local",
				     "an AMI applies only to provider aws");
				goto bad;
			}
			if (cg_yaml_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!ami_ok(str)) {
				cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an AMI id", str);
				goto bad;
			}
			dc->ami = cg_xstrdup(str);
		}
	}
	static const char *const req[] = { "datacenter", "region", "nodes" };
	const struct ynode *have[] = { s.name, s.region, s.nodes };
	for (int i = 0; i < 3; i++) {
		if (!have[i]) {
			free(key);
			key = cg_xasprintf("%s.%s", path, req[i]);
			cg_yaml_fail(ld, m->pos, key, "datacenter, region and nodes in every datacenter",
			     "missing required key");
			goto bad;
		}
	}
	if (dc->seeds > dc->nodes) {
		free(key);
		key = cg_xasprintf("%s.%s", path, s.seeds_key);
		char *exp = cg_xasprintf("at most nodes (%d) seeds", dc->nodes);
		cg_yaml_fail(ld, s.seeds->pos, key, exp, "%d seeds for %d nodes", dc->seeds, dc->nodes);
		free(exp);
		goto bad;
	}
	if (resolve_region(ld, c, dc, &s, zone, path) < 0)
		goto bad;
	if (s.zones && resolve_zones(ld, c, dc, s.zones, path) < 0)
		goto bad;
	if (!dc->node_type)
		dc->node_type = cg_xstrdup(c->provider == CG_PROVIDER_AWS ? "m5.large" : "local");
	if (!dc->capacity && c->provider == CG_PROVIDER_AWS)
		dc->capacity = cg_xstrdup("on-demand");
	if (!dc->stress_node_type && c->provider == CG_PROVIDER_AWS)
		dc->stress_node_type = cg_xstrdup(CG_STRESS_NODE_TYPE);
	free(key);
	return 0;
bad:
	free(key);
	return -1;
}

static void dc_clear(struct cg_dc *dc)
{
	free(dc->name);
	free(dc->region);
	free(dc->node_type);
	for (int i = 0; i < dc->nzones; i++)
		free(dc->zones[i]);
	free(dc->zones);
	free(dc->ami);
	free(dc->capacity);
	free(dc->stress_node_type);
}

/* The datacenters list v of cluster c (path names it). */
static int load_dcs(struct ld *ld, struct cg_cluster *c, const struct ynode *v,
		    const char *path, bool seed_form)
{
	char b[128];
	if (v->type != Y_SEQ)
		return cg_yaml_fail(ld, v->pos, path, "a list of datacenters", "got %s",
			    cg_yaml_describe(v, b, sizeof(b)));
	if (!v->nkids)
		return cg_yaml_fail(ld, v->pos, path, "at least one datacenter", "empty list");
	if (v->nkids > CG_MAX_DCS)
		return cg_yaml_fail(ld, v->kids[CG_MAX_DCS]->pos, path, "at most 64 datacenters",
			    "%d datacenters", v->nkids);
	c->dcs = cg_xcalloc((size_t)v->nkids, sizeof(struct cg_dc));
	int mon = -1;
	for (int i = 0; i < v->nkids; i++) {
		char *p = cg_xasprintf("%s[%d]", path, i);
		struct cg_dc *dc = &c->dcs[c->ndcs++];
		int rc = load_dc(ld, c, v->kids[i], p, seed_form, dc);
		for (int j = 0; rc == 0 && j < i; j++) {
			if (!strcmp(c->dcs[j].name, dc->name)) {
				/* point at the second datacenter: value */
				const struct ynode *m = v->kids[i];
				struct cg_pos pos = m->pos;
				for (int k = 0; k < m->nkids; k += 2)
					if (!strcmp(m->kids[k]->value, "datacenter"))
						pos = m->kids[k + 1]->pos;
				char *key = cg_xasprintf("%s.datacenter", p);
				rc = cg_yaml_fail(ld, pos, key, "a unique name per datacenter in a cluster",
					  "duplicate datacenter name '%s' (first at line %d)",
					  dc->name, c->dcs[j].pos.line);
				free(key);
			}
		}
		if (rc == 0 && dc->monitoring) {
			if (mon >= 0) {
				const struct ynode *m = v->kids[i];
				struct cg_pos pos = m->pos;
				const char *kn = "monitoring";
				for (int k = 0; k < m->nkids; k += 2)
					if (!strcmp(m->kids[k]->value, "monitoring") ||
					    !strcmp(m->kids[k]->value, "opscenter")) {
						pos = m->kids[k + 1]->pos;
						kn = m->kids[k]->value;
					}
				char *key = cg_xasprintf("%s.%s", p, kn);
				rc = cg_yaml_fail(ld, pos, key, "at most one monitoring datacenter per cluster",
					  "%s also asks for monitoring, %s (line %d) already has it",
					  dc->name, c->dcs[mon].name, c->dcs[mon].pos.line);
				free(key);
			}
			mon = i;
		}
		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- keyspaces --------------------------------------------------------- */

/*
 * A keyspace name cassandgo can put in CQL as it is: an unquoted CQL name
 * (Cassandra folds those to lowercase, so only lowercase is accepted: what
 * system_schema shows is then what was written), none of Cassandra's own
 * (system*), no reserved keyword. 0 or the error.
 */
static int check_keyspace_name(struct ld *ld, const struct ynode *v, const char *key,
			       const char *s)
{
	const char *exp = "a keyspace name: a lowercase letter, then lowercase letters, digits "
			  "or _ (at most 48)";
	size_t n = strlen(s);
	bool lower = islower((unsigned char)s[0]), ident = isalpha((unsigned char)s[0]);
	for (const char *q = s; *q; q++) {
		lower = lower && (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_');
		ident = ident && (isalnum((unsigned char)*q) || *q == '_');
	}
	if (ident && !lower && n <= CG_NAME_MAX) {
		char *low = cg_xstrdup(s);
		for (char *q = low; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		cg_yaml_fail(ld, v->pos, key, exp, "'%s' has uppercase letters (CQL folds unquoted "
			     "names to lowercase: write '%s')", s, low);
		free(low);
		return -1;
	}
	if (!lower || n > CG_NAME_MAX)
		return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an unquoted CQL name", s);
	if (!strncmp(s, "system", 6))
		return cg_yaml_fail(ld, v->pos, key, "a keyspace of your own (not starting with system)",
				    "'%s' is a name of Cassandra's own keyspaces", s);
	if (cg_yaml_in_list(s, cql_reserved, NELEM(cql_reserved)))
		return cg_yaml_fail(ld, v->pos, key, "a name that is not a reserved CQL keyword",
				    "'%s' is a reserved CQL keyword", s);
	return 0;
}

/* replication: {DC: RF, ...} over the cluster's DCs, 1 <= RF <= its nodes. */
static int load_replication(struct ld *ld, const struct cg_cluster *c, const struct ynode *v,
			    const char *key, int *rf)
{
	char b[128];
	if (v->type != Y_MAP || !v->nkids)
		return cg_yaml_fail(ld, v->pos, key, "a mapping of datacenters to replication "
				    "factors such as {DC1: 3, DC2: 2}", "got %s",
				    v->type == Y_MAP ? "an empty mapping" : cg_yaml_describe(v, b, sizeof(b)));
	const char **names = cg_xcalloc((size_t)c->ndcs, sizeof(char *));
	struct cg_buf known = {0};
	for (int d = 0; d < c->ndcs; d++) {
		names[d] = c->dcs[d].name;
		cg_buf_addf(&known, "%s%s", d ? ", " : "", c->dcs[d].name);
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < v->nkids; i += 2) {
		const struct ynode *dk = v->kids[i], *dv = v->kids[i + 1];
		char *ik = cg_xasprintf("%s.%s", key, dk->value);
		int d = 0, n = 0;
		while (d < c->ndcs && strcmp(c->dcs[d].name, dk->value))
			d++;
		if (d == c->ndcs) {
			char *exp = cg_xasprintf("one of the cluster's datacenters: %s", known.data);
			const char *dym = cg_yaml_closest(dk->value, names, c->ndcs);
			if (dym)
				rc = cg_yaml_fail(ld, dk->pos, ik, exp, "unknown datacenter '%s' (did you "
						  "mean '%s'?)", dk->value, dym);
			else
				rc = cg_yaml_fail(ld, dk->pos, ik, exp, "unknown datacenter '%s'", dk->value);
			free(exp);
		} else if ((rc = cg_yaml_int(ld, dv, ik, 1, CG_MAX_NODES_PER_DC, &n)) == 0 &&
			   n > c->dcs[d].nodes) {
			char *exp = cg_xasprintf("an integer from 1 to %d (the nodes of %s)",
						 c->dcs[d].nodes, dk->value);
			rc = cg_yaml_fail(ld, dv->pos, ik, exp, "%d replicas, but %s has %d node%s", n,
					  dk->value, c->dcs[d].nodes, c->dcs[d].nodes == 1 ? "" : "s");
			free(exp);
		} else if (rc == 0) {
			rf[d] = n;
		}
		free(ik);
	}
	cg_buf_free(&known);
	free(names);
	return rc;
}

static int load_keyspace(struct ld *ld, struct cg_cluster *c, const struct ynode *m,
			 const char *path, struct cg_keyspace *ks)
{
	char b[128];
	const struct ynode *repl = NULL;
	ks->pos = m->pos;
	ks->durable_writes = true;
	if (m->type != Y_MAP)
		return cg_yaml_fail(ld, m->pos, path, "a mapping with name and optionally "
				    "replication and durable_writes", "got %s",
				    cg_yaml_describe(m, b, sizeof(b)));
	ks->rf = cg_xcalloc((size_t)c->ndcs, sizeof(int));
	for (int i = 0; i < m->nkids; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		char *key = cg_xasprintf("%s.%s", path, k->value);
		const char *s;
		int rc = 0;
		if (!cg_yaml_in_list(k->value, keyspace_keys, NELEM(keyspace_keys)))
			rc = cg_yaml_unknown_key(ld, k, key, keyspace_keys, NELEM(keyspace_keys), NULL);
		else if (!strcmp(k->value, "name")) {
			rc = cg_yaml_string(ld, v, key, "a keyspace name such as app", &s);
			if (rc == 0)
				rc = check_keyspace_name(ld, v, key, s);
			if (rc == 0)
				ks->name = cg_xstrdup(s);
			for (int j = 0; rc == 0 && ks != c->keyspaces && j < ks - c->keyspaces; j++)
				if (!strcmp(c->keyspaces[j].name, s))
					rc = cg_yaml_fail(ld, v->pos, key, "each keyspace declared once",
							  "duplicate keyspace '%s' (first at line %d)", s,
							  c->keyspaces[j].pos.line);
		} else if (!strcmp(k->value, "replication")) {
			repl = v;
			rc = load_replication(ld, c, v, key, ks->rf);
		} else {
			rc = cg_yaml_bool(ld, v, key, &ks->durable_writes);
		}
		free(key);
		if (rc < 0)
			return -1;
	}
	if (!ks->name)
		return cg_yaml_fail(ld, m->pos, path, "a name: in every keyspace", "missing required "
				    "key name");
	for (int d = 0; !repl && d < c->ndcs; d++)	/* default: every DC, up to 3 */
		ks->rf[d] = c->dcs[d].nodes < 3 ? c->dcs[d].nodes : 3;
	return 0;
}

/* keyspaces: once the DCs are known (replication names them). */
static int load_keyspaces(struct ld *ld, struct cg_cluster *c, const struct ynode *v,
			  const char *path)
{
	char b[128];
	if (v->type != Y_SEQ)
		return cg_yaml_fail(ld, v->pos, path, "a list of keyspaces such as [{name: app}]",
				    "got %s", cg_yaml_describe(v, b, sizeof(b)));
	c->keyspaces = cg_xcalloc((size_t)v->nkids + 1, sizeof(struct cg_keyspace));
	for (int i = 0; i < v->nkids; i++) {
		char *p = cg_xasprintf("%s[%d]", path, i);
		int rc = load_keyspace(ld, c, v->kids[i], p, &c->keyspaces[c->nkeyspaces++]);
		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- clusters ---------------------------------------------------------- */

static int want_heap(struct ld *ld, const struct ynode *v, const char *key, char **out)
{
	const char *s, *exp = "a JVM heap size from 256M to 64G, such as 512M or 4G";
	if (cg_yaml_string(ld, v, key, exp, &s) < 0)
		return -1;
	size_t n = strlen(s);
	char u = n ? (char)toupper((unsigned char)s[n - 1]) : 0;
	bool ok = n >= 2 && n <= 8 && (u == 'M' || u == 'G') && s[0] != '0';
	for (size_t i = 0; ok && i + 1 < n; i++)
		ok = isdigit((unsigned char)s[i]);
	if (!ok)
		return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a heap size", s);
	long mb = atol(s) * (u == 'G' ? 1024 : 1);
	if (mb < 256 || mb > 65536)
		return cg_yaml_fail(ld, v->pos, key, exp, "%s is out of range", s);
	*out = cg_xasprintf("%.*s%c", (int)(n - 1), s, u);
	return 0;
}

static int want_version(struct ld *ld, const struct ynode *v, const char *key, char **out)
{
	const char *s, *exp = "a Cassandra release X.Y.Z, 4.0.0 or later, such as 5.0.9";
	char b[128];
	if (v->type != Y_SCALAR || cg_yaml_is_null(v))
		return cg_yaml_fail(ld, v->pos, key, exp, "got %s", cg_yaml_describe(v, b, sizeof(b)));
	s = v->value;
	unsigned x, y, z;
	int used = 0;
	if (sscanf(s, "%3u.%3u.%3u%n", &x, &y, &z, &used) != 3 || s[used] ||
	    !isdigit((unsigned char)s[0]))
		return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a release number", s);
	if (x < 4)
		return cg_yaml_fail(ld, v->pos, key, exp, "%s is too old", s);
	*out = cg_xstrdup(s);
	return 0;
}

static bool user_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* dir:/ABS/PATH: absolute, no "..", and only characters that need no
 * quoting in the scripts that receive it. */
static bool dir_ok(const char *s)
{
	if (strncmp(s, "dir:/", 5) || strlen(s) > 4 + 255)
		return false;
	s += 4;
	if (strstr(s, "/../") || !strcmp(s + strlen(s) - 3, "/.."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/._+-", *s))
			return false;
	return true;
}

/* maven_mirror: http(s)://HOST[:PORT][/PATH], only characters that need no
 * quoting, no credentials (a URL with user:password@ would end up in the
 * state and in process lists), no query or fragment (artifact paths are
 * appended to it). */
static bool mirror_ok(const char *s)
{
	const char *h = !strncmp(s, "https://", 8) ? s + 8 : !strncmp(s, "http://", 7) ? s + 7 : NULL;
	if (!h || !*h || *h == '/' || *h == ':' || strlen(s) > 255 || strstr(s, "/../") ||
	    (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")))
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/._~+-:", *p))
			return false;
	return true;
}

static bool private_range(uint32_t net, int p)
{
	static const struct { uint32_t net; int p; } r[] = {
		{ 0x0a000000u, 8 }, { 0xac100000u, 12 }, { 0xc0a80000u, 16 },
	};
	for (int i = 0; i < 3; i++)
		if (p >= r[i].p && (net & prefix_mask(r[i].p)) == r[i].net)
			return true;
	return false;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A cassandra.yaml setting Cassandra knows (it refuses to start on an unknown
 * one): checked for the release series the key table was generated from.
 */
static int check_cassandra_key(struct ld *ld, const struct ynode *k, const char *key)
{
	size_t sl = strlen(CG_CASSANDRA_KEYS_SERIES);
	const char *v = ld->version;
	if (strncmp(v, CG_CASSANDRA_KEYS_SERIES, sl) || v[sl] != '.')
		return 0;	/* another series: its own list would be needed */
	const char *name = k->value;
	if (bsearch(&name, cassandra_scalar_keys, NELEM(cassandra_scalar_keys),
		    sizeof(char *), cmp_key))
		return 0;
	if (bsearch(&name, cassandra_multi_keys, NELEM(cassandra_multi_keys),
		    sizeof(char *), cmp_key))
		return cg_yaml_fail(ld, k->pos, key, "a setting that takes a single value",
			    "takes a list or mapping, which cassandra: cannot hold");
	const char *dym = cg_yaml_closest(name, cassandra_scalar_keys, NELEM(cassandra_scalar_keys));
	char *exp = cg_xasprintf("a cassandra.yaml setting of Cassandra %s", CG_CASSANDRA_KEYS_SERIES);
	if (dym)
		cg_yaml_fail(ld, k->pos, key, exp, "unknown setting (did you mean '%s'?)", dym);
	else
		cg_yaml_fail(ld, k->pos, key, exp, "unknown setting");
	free(exp);
	return -1;
}

/* Cluster-wide keys of the mapping form (everything but datacenters). */
static int load_setting(struct ld *ld, struct cg_cluster *c, const struct ynode *k,
			const struct ynode *v, const char *key)
{
	const char *kn = k->value, *s;
	char b[128];
	bool local = c->provider == CG_PROVIDER_LOCAL;
	if (!strcmp(kn, "provider") || !strcmp(kn, "keyspaces")) {
		return 0;	/* provider read first, keyspaces once the DCs are: see load_cluster */
	} else if (!strcmp(kn, "cassandra_version")) {
		free(c->cassandra_version);
		c->cassandra_version = NULL;
		return want_version(ld, v, key, &c->cassandra_version);
	} else if (!strcmp(kn, "num_tokens")) {
		return cg_yaml_int(ld, v, key, 1, 256, &c->num_tokens);
	} else if (!strcmp(kn, "heap")) {
		char *h = NULL;
		if (want_heap(ld, v, key, &h) < 0)
			return -1;
		free(c->heap);
		c->heap = h;
	} else if (!strcmp(kn, "ssh_user")) {
		const char *exp = "a user name such as ubuntu (lowercase letters, digits, _ or -)";
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!user_ok(s))
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a valid user name", s);
		free(c->ssh_user);
		c->ssh_user = cg_xstrdup(s);
	} else if (!strcmp(kn, "ssh_address")) {
		const char *exp = local ? "private (local nodes have only a private address)"
					: "public or private";
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!strcmp(s, "private"))
			c->ssh_address = CG_SSH_PRIVATE;
		else if (!strcmp(s, "public") && !local)
			c->ssh_address = CG_SSH_PUBLIC;
		else
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not allowed", s);
	} else if (!strcmp(kn, "broadcast_address")) {
		const char *exp = local ? "private (local nodes have only a private address)"
					: "public or private";
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!strcmp(s, "private"))
			c->broadcast = CG_BROADCAST_PRIVATE;
		else if (!strcmp(s, "public") && !local)
			c->broadcast = CG_BROADCAST_PUBLIC;
		else
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not allowed", s);
	} else if (!strcmp(kn, "allowed_cidrs")) {
		if (local)
			return cg_yaml_fail(ld, k->pos, key, "no allowed_cidrs with provider local",
				    "security group rules apply only to provider aws");
		if (v->type != Y_SEQ || !v->nkids)
			return cg_yaml_fail(ld, v->pos, key, "a non-empty list of IPv4 CIDRs such as [203.0.113.0/24]",
				    "got %s", v->type == Y_SEQ ? "an empty list" : cg_yaml_describe(v, b, sizeof(b)));
		c->allowed_cidrs = cg_xcalloc((size_t)v->nkids, sizeof(char *));
		for (int i = 0; i < v->nkids; i++) {
			char *ik = cg_xasprintf("%s[%d]", key, i);
			uint32_t net;
			int p;
			int rc = want_cidr(ld, v->kids[i], ik, &net, &p);
			char *str = rc == 0 ? cidr_str(net, p) : NULL;
			for (int j = 0; rc == 0 && j < c->nallowed_cidrs; j++)
				if (!strcmp(c->allowed_cidrs[j], str))
					rc = cg_yaml_fail(ld, v->kids[i]->pos, ik, "each CIDR at most once",
						  "%s is listed twice", str);
			free(ik);
			if (rc < 0) {
				free(str);
				return -1;
			}
			c->allowed_cidrs[c->nallowed_cidrs++] = str;
		}
	} else if (!strcmp(kn, "security")) {
		bool on;
		if (cg_yaml_bool(ld, v, key, &on) < 0)
			return -1;
		c->security_off = !on;
		c->security_pos = v->pos;
	} else if (!strcmp(kn, "expires")) {
		const char *exp = "a lifetime such as 30m, 8h or 3d, or a UTC date such as 2026-12-31 "
				  "or 2026-12-31T18:00Z";
		time_t at;
		if (local)
			return cg_yaml_fail(ld, k->pos, key, "no expires with provider local",
					    "expiry (cassandgo gc) applies only to provider aws");
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (cg_config_expiry(s, 0, &at) < 0)
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a lifetime or a date", s);
		free(c->expires);
		c->expires = cg_xstrdup(s);
	} else if (!strcmp(kn, "install")) {
		const char *exp = local ? "maven, upload, or dir:/ABSOLUTE/PATH (a directory of "
					  "Cassandra jars; letters, digits and /._+-)"
					: "maven, upload, apt, or dir:/ABSOLUTE/PATH (letters, digits "
					  "and /._+-)";
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		bool ok = !strcmp(s, "maven") || !strcmp(s, "upload") ||
			  (!strcmp(s, "apt") && !local) || dir_ok(s);
		if (!ok)
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not an install method%s", s,
				    local && !strcmp(s, "apt") ? " for provider local" : "");
		c->install = cg_xstrdup(s);
	} else if (!strcmp(kn, "maven_mirror")) {
		const char *exp = "an http:// or https:// URL of a Maven repository, such as "
				  "https://repo.example.com/maven2 (letters, digits and /._~+-:)";
		if (cg_yaml_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!mirror_ok(s))
			return cg_yaml_fail(ld, v->pos, key, exp, "'%s' is not a repository URL", s);
		c->maven_mirror = cg_xstrdup(s);
		c->maven_mirror_pos = v->pos;
	} else if (!strcmp(kn, "network")) {
		const char *exp = "a private IPv4 range from /8 to /28 such as 10.77.0.0/16";
		uint32_t net;
		int p;
		if (!local)
			return cg_yaml_fail(ld, k->pos, key, "no network with provider aws",
				    "the address range applies only to provider local");
		if (want_cidr(ld, v, key, &net, &p) < 0)
			return -1;
		if (p < 8 || p > 28 || !private_range(net, p))
			return cg_yaml_fail(ld, v->pos, key, exp, "%s is not allowed", v->value);
		free(c->network);
		c->network = cidr_str(net, p);
	} else if (!strcmp(kn, "cassandra")) {
		if (v->type != Y_MAP)
			return cg_yaml_fail(ld, v->pos, key, "a mapping of cassandra.yaml settings",
				    "got %s", cg_yaml_describe(v, b, sizeof(b)));
		c->cassandra = cg_xcalloc((size_t)v->nkids / 2 + 1, sizeof(struct cg_kv));
		for (int i = 0; i < v->nkids; i += 2) {
			const struct ynode *ck = v->kids[i], *cv = v->kids[i + 1];
			char *ik = cg_xasprintf("%s.%s", key, ck->value);
			int rc = 0;
			bool name = islower((unsigned char)ck->value[0]);
			for (const char *q = ck->value; *q && name; q++)
				name = islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_';
			if (!name)
				rc = cg_yaml_fail(ld, ck->pos, ik, "a cassandra.yaml setting name (lowercase, digits, _)",
					  "not a setting name");
			else if (cg_yaml_in_list(ck->value, cassandra_reserved, NELEM(cassandra_reserved)))
				rc = cg_yaml_fail(ld, ck->pos, ik, "no such key (cassandgo derives it from the topology)",
					  "set by cassandgo itself");
			else if (cv->type != Y_SCALAR || cg_yaml_is_null(cv))
				rc = cg_yaml_fail(ld, cv->pos, ik, "a single value (string, number or boolean)",
					  "got %s", cg_yaml_describe(cv, b, sizeof(b)));
			else
				rc = check_cassandra_key(ld, ck, ik);
			free(ik);
			if (rc < 0)
				return -1;
			struct cg_kv *kv = &c->cassandra[c->ncassandra++];
			kv->key = cg_xstrdup(ck->value);
			kv->value = cg_xstrdup(cv->value);
			kv->pos = cv->pos;
		}
	}
	return 0;
}

static void cluster_defaults(struct cg_cluster *c)
{
	bool local = c->provider == CG_PROVIDER_LOCAL;
	/* the release tests/cassandra/VERSION pins (the local jar cache holds
	 * that one); test_config checks the two agree */
	c->cassandra_version = cg_xstrdup(CG_CASSANDRA_DEFAULT);
	c->num_tokens = 16;
	c->heap = cg_xstrdup(local ? "512M" : "2G");
	c->ssh_user = cg_xstrdup(local ? "cassandgo" : "ubuntu");
	c->ssh_address = local ? CG_SSH_PRIVATE : CG_SSH_PUBLIC;
	c->network = local ? cg_xstrdup("10.77.0.0/16") : NULL;
}

static void cluster_clear(struct cg_cluster *c)
{
	free(c->name);
	free(c->cassandra_version);
	free(c->heap);
	free(c->ssh_user);
	for (int i = 0; i < c->nallowed_cidrs; i++)
		free(c->allowed_cidrs[i]);
	free(c->allowed_cidrs);
	free(c->install);
	free(c->maven_mirror);
	free(c->network);
	free(c->expires);
	for (int i = 0; i < c->ncassandra; i++) {
		free(c->cassandra[i].key);
		free(c->cassandra[i].value);
	}
	free(c->cassandra);
	for (int i = 0; i < c->ndcs; i++)
		dc_clear(&c->dcs[i]);
	free(c->dcs);
	for (int i = 0; i < c->nkeyspaces; i++) {
		free(c->keyspaces[i].name);
		free(c->keyspaces[i].rf);
	}
	free(c->keyspaces);
}

static int load_cluster(struct ld *ld, const struct ynode *k, const struct ynode *v,
			struct cg_cluster *c)
{
	const char *name = k->value;
	char b[128];
	c->pos = k->pos;
	c->name = cg_xstrdup(name);
	if (!isalpha((unsigned char)name[0]) || !cg_yaml_name_ok(name, CG_NAME_MAX))
		return cg_yaml_fail(ld, k->pos, name,
			    "a cluster name: a letter, then letters, digits, '-' or '_' (at most 48)",
			    "not a valid cluster name");
	if (v->type == Y_SEQ) {
		cluster_defaults(c);
		return load_dcs(ld, c, v, name, true);
	}
	if (v->type != Y_MAP)
		return cg_yaml_fail(ld, v->pos, name,
			    "a list of datacenters, or a mapping with a datacenters: list",
			    "got %s", cg_yaml_describe(v, b, sizeof(b)));

	ld->version = CG_CASSANDRA_DEFAULT;
	/* provider first: it decides the defaults and what other keys may say */
	const struct ynode *dcs = NULL, *kss = NULL;
	struct cg_pos netpos = k->pos;
	for (int i = 0; i < v->nkids; i += 2) {
		const struct ynode *ck = v->kids[i], *cv = v->kids[i + 1];
		char *key = cg_xasprintf("%s.%s", name, ck->value);
		int rc = 0;
		if (!strcmp(ck->value, "provider")) {
			const char *s;
			rc = cg_yaml_string(ld, cv, key, "aws or local", &s);
			if (rc == 0 && !strcmp(s, "local"))
				c->provider = CG_PROVIDER_LOCAL;
			else if (rc == 0 && strcmp(s, "aws"))
				rc = cg_yaml_fail(ld, cv->pos, key, "aws or local", "unknown provider '%s'", s);
		} else if (!strcmp(ck->value, "datacenters")) {
			dcs = cv;
		} else if (!strcmp(ck->value, "keyspaces")) {
			kss = cv;
		} else if (!strcmp(ck->value, "network")) {
			netpos = cv->pos;
		} else if (!strcmp(ck->value, "cassandra_version") && cv->type == Y_SCALAR) {
			ld->version = cv->value;	/* checked in file order below */
		}
		free(key);
		if (rc < 0)
			return -1;
	}
	/* then the rest in file order, so the first error is the first one seen */
	cluster_defaults(c);
	for (int i = 0; i < v->nkids; i += 2) {
		const struct ynode *ck = v->kids[i];
		char *key = cg_xasprintf("%s.%s", name, ck->value);
		int rc;
		if (!is_cluster_key(ck->value))
			rc = cg_yaml_unknown_key(ld, ck, key, cluster_keys, NELEM(cluster_keys),
					 cg_yaml_in_list(ck->value, dc_keys, NELEM(dc_keys))
					 ? "a datacenter setting: put it in each entry of datacenters:" : NULL);
		else
			rc = load_setting(ld, c, ck, v->kids[i + 1], key);
		free(key);
		if (rc < 0)
			return -1;
	}
	/* Security on: cassandgo renders authentication and TLS itself, and a
	 * user's setting would silently weaken or break them. */
	for (int i = 0; !c->security_off && i < c->ncassandra; i++)
		if (cg_yaml_in_list(c->cassandra[i].key, cassandra_security, NELEM(cassandra_security))) {
			char *ik = cg_xasprintf("%s.cassandra.%s", name, c->cassandra[i].key);
			cg_yaml_fail(ld, c->cassandra[i].pos, ik,
			     "no such setting while security is on (cassandgo sets authentication "
			     "and TLS itself), or `security: off` to manage them yourself",
			     "managed by cassandgo's security");
			free(ik);
			return -1;
		}
	/* A mirror that nothing reads would look like it was used. */
	if (c->maven_mirror && (c->install ? strcmp(c->install, "maven") != 0
					   : c->provider == CG_PROVIDER_LOCAL)) {
		char *mk = cg_xasprintf("%s.maven_mirror", name);
		cg_yaml_fail(ld, c->maven_mirror_pos, mk, "install: maven with a mirror",
		     "the mirror is read only by install: maven, and this cluster installs with %s",
		     c->install ? c->install : "the local jar cache");
		free(mk);
		return -1;
	}
	if (!dcs)
		return cg_yaml_fail(ld, k->pos, name, "a datacenters: list in every cluster",
			    "missing required key datacenters");
	int total = 0;
	char *key = cg_xasprintf("%s.datacenters", name);
	int rc = load_dcs(ld, c, dcs, key, false);
	free(key);
	if (rc < 0)
		return -1;
	for (int i = 0; i < c->ndcs; i++)
		total += c->dcs[i].nodes;
	if (c->provider == CG_PROVIDER_LOCAL) {
		uint32_t net;
		int p;
		parse_cidr(c->network, &net, &p);
		/* minus network, broadcast and the bridge's own address */
		long room = (1L << (32 - p)) - 3;
		if (total > room) {
			char *nk = cg_xasprintf("%s.network", name);
			char *exp = cg_xasprintf("a range with room for %d nodes", total);
			rc = cg_yaml_fail(ld, netpos, nk, exp, "%s holds only %ld node addresses",
				  c->network, room);
			free(exp);
			free(nk);
			return -1;
		}
	}
	if (kss) {
		key = cg_xasprintf("%s.keyspaces", name);
		rc = load_keyspaces(ld, c, kss, key);
		free(key);
	}
	return rc;
}

int cg_config_expiry(const char *spec, time_t now, time_t *at)
{
	if (!spec || !*spec)
		return -1;
	size_t n = strlen(spec);
	char unit = spec[n - 1];
	if (n >= 2 && n <= 6 && (unit == 'm' || unit == 'h' || unit == 'd') &&
	    strspn(spec, "0123456789") == n - 1 && spec[0] != '0') {
		long v = strtol(spec, NULL, 10);
		long secs = v * (unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
		if (secs > 366L * 86400)	/* a year at most: it is about forgetting */
			return -1;
		*at = now + secs;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int len = 0;
	if (sscanf(spec, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &len) != 3 ||
	    len != 10)
		return -1;
	const char *rest = spec + 10;
	if (*rest) {
		int l2 = 0;
		if (sscanf(rest, "T%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &l2) != 2 || l2 != 6)
			return -1;
		rest += l2;
		if (*rest == ':') {
			int l3 = 0;
			if (sscanf(rest, ":%2d%n", &tm.tm_sec, &l3) != 1 || l3 != 3)
				return -1;
			rest += l3;
		}
		if (strcmp(rest, "Z"))
			return -1;
	}
	if (tm.tm_year < 2000 || tm.tm_year > 2200 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	int y = tm.tm_year, mo = tm.tm_mon, d = tm.tm_mday;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: refuse what is not a date */
	struct tm back;
	gmtime_r(&t, &back);
	if (back.tm_year + 1900 != y || back.tm_mon + 1 != mo || back.tm_mday != d)
		return -1;
	*at = t;
	return 0;
}

/* ---- API ---------------------------------------------------------------- */

void cg_config_free(struct cg_config *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->nclusters; i++)
		cluster_clear(&cfg->clusters[i]);
	free(cfg->clusters);
	free(cfg->path);
	free(cfg);
}

int cg_config_load(const char *path, struct cg_config **out, struct cg_err *err)
{
	struct ld ld = { path, err, CG_CASSANDRA_DEFAULT };
	char *text;
	size_t len;
	struct ynode *root = NULL;
	struct cg_config *cfg = NULL;
	char b[128];
	int rc = -1;

	if (cg_file_read(path, &text, &len, err) < 0) {
		if (err)
			err->code = CG_EXIT_CONFIG;
		return -1;
	}
	struct cg_pos top = { 1, 1 };
	if (len > CG_MAX_FILE) {
		cg_yaml_fail(&ld, top, "(file)", "a file under 4 MiB", "%zu bytes", len);
		goto out;
	}
	if (memchr(text, '\0', len)) {
		cg_yaml_fail(&ld, cg_yaml_offset_pos(text, len, (size_t)((char *)memchr(text, '\0', len) - text)),
		     "(file)", "a text file", "NUL byte");
		goto out;
	}
	if (cg_yaml_parse(&ld, text, len, &root) < 0)
		goto out;
	if (!root || cg_yaml_is_null(root)) {
		cg_yaml_fail(&ld, top, "(file)",
		     "a mapping of cluster names to clusters (see README.md, Configuration)", "no clusters (empty file)");
		goto out;
	}
	if (root->type != Y_MAP) {
		cg_yaml_fail(&ld, root->pos, "(top level)", "a mapping of cluster names to clusters",
		     "got %s", cg_yaml_describe(root, b, sizeof(b)));
		goto out;
	}
	if (!root->nkids) {
		/* `{}` names no cluster, like an empty file: nothing valid to plan */
		cg_yaml_fail(&ld, root->pos, "(top level)", "a mapping of cluster names to clusters",
		     "no clusters (empty mapping)");
		goto out;
	}
	cfg = cg_xcalloc(1, sizeof(*cfg));
	cfg->path = cg_xstrdup(path);
	cfg->hash = cg_hash64(text, len);
	cfg->clusters = cg_xcalloc((size_t)root->nkids / 2 + 1, sizeof(struct cg_cluster));
	for (int i = 0; i < root->nkids; i += 2) {
		struct cg_cluster *c = &cfg->clusters[cfg->nclusters++];
		if (load_cluster(&ld, root->kids[i], root->kids[i + 1], c) < 0)
			goto out;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	cg_config_free(cfg);
	cg_yaml_free(root);
	free(text);
	return rc;
}

const struct cg_cluster *cg_config_cluster(const struct cg_config *cfg,
					   const char *name, struct cg_err *err)
{
	for (int i = 0; i < cfg->nclusters; i++)
		if (!strcmp(cfg->clusters[i].name, name))
			return &cfg->clusters[i];

	struct cg_buf known = {0};
	const char **names = cg_xcalloc((size_t)cfg->nclusters + 1, sizeof(char *));
	for (int i = 0; i < cfg->nclusters; i++) {
		names[i] = cfg->clusters[i].name;
		cg_buf_addf(&known, "%s%s", i ? ", " : "", cfg->clusters[i].name);
	}
	const char *dym = cg_yaml_closest(name, names, cfg->nclusters);
	char hint[128] = "";
	if (dym)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", dym);
	cg_error(err, CG_EXIT_USAGE, "%s: no cluster named '%s'%s; known clusters: %s",
		 cfg->path, name, hint, known.len ? known.data : "(none)");
	cg_buf_free(&known);
	free(names);
	return NULL;
}
