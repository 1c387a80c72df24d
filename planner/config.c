/*
 * config.c - cassandgo.yaml loader (see config.h and docs/CONFIG.md).
 *
 * Two stages: libyaml's event stream is turned into a small tree of our own
 * (so that every node keeps its 1-based position, anchors and aliases are
 * refused and duplicate keys are caught where they appear), then the tree is
 * checked key by key and converted into struct cg_config. The first error
 * wins; every message has the shape
 *
 *     FILE:LINE:COL: KEY: WHAT IS WRONG; expected WHAT WOULD BE RIGHT
 *
 * where KEY is the path of the offending key, e.g. MultiDC[1].nodes or
 * Lab.datacenters[0].zones[1] (list indexes are 0-based).
 */
#include "config.h"
#include "cassandra_keys.h"

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
#define CG_MAX_DEPTH 32
#define CG_MAX_ENTRIES 10000

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
	"cassandra", "datacenters", "security",
};
static const char *const dc_keys[] = {
	"datacenter", "region", "zone", "zones", "nodes", "nb_seeds_per_dc",
	"seeds", "node_type", "opscenter", "monitoring", "ami",
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

/* ---- the tree ---------------------------------------------------------- */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype type;
	struct cg_pos pos;
	char *value;		/* scalar text */
	bool quoted;		/* scalar written with quotes or block style */
	struct ynode **kids;	/* seq: items; map: key, value, key, value... */
	int nkids;
};

struct ld {
	const char *file;
	struct cg_err *err;
	const char *version;	/* the cluster's cassandra_version as written */
};

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static void ynode_push(struct ynode *p, struct ynode *k)
{
	p->kids = cg_xrealloc(p->kids, (size_t)(p->nkids + 1) * sizeof(*p->kids));
	p->kids[p->nkids++] = k;
}

static struct cg_pos mark_pos(yaml_mark_t m)
{
	struct cg_pos p = { (int)m.line + 1, (int)m.column + 1 };
	return p;
}

static int fail(struct ld *ld, struct cg_pos pos, const char *key,
		const char *expected, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct ld *ld, struct cg_pos pos, const char *key,
		const char *expected, const char *fmt, ...)
{
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cg_error(ld->err, CG_EXIT_CONFIG, "%s:%d:%d: %s: %s; expected %s",
		 ld->file, pos.line, pos.col, key, what, expected);
	/* keys and values may hold control characters: keep the message one line */
	for (char *c = ld->err ? ld->err->msg : NULL; c && *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	return -1;
}

/* Line/column of a byte offset (reader errors carry only the offset). */
static struct cg_pos offset_pos(const char *text, size_t len, size_t off)
{
	struct cg_pos p = { 1, 1 };
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			p.line++;
			p.col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			p.col++;
		}
	}
	return p;
}

struct yparse {
	yaml_parser_t parser;
	const char *text;
	size_t len;
};

static int next_event(struct ld *ld, struct yparse *yp, yaml_event_t *ev)
{
	if (yaml_parser_parse(&yp->parser, ev))
		return 0;
	yaml_parser_t *p = &yp->parser;
	struct cg_pos pos = p->error == YAML_READER_ERROR
		? offset_pos(yp->text, yp->len, p->problem_offset)
		: mark_pos(p->problem_mark);
	if (p->context)
		return cg_error(ld->err, CG_EXIT_CONFIG,
				"%s:%d:%d: YAML syntax error: %s (%s started at line %d); "
				"expected valid YAML", ld->file, pos.line, pos.col,
				p->problem ? p->problem : "?", p->context,
				(int)p->context_mark.line + 1);
	return cg_error(ld->err, CG_EXIT_CONFIG,
			"%s:%d:%d: YAML syntax error: %s; expected valid YAML",
			ld->file, pos.line, pos.col, p->problem ? p->problem : "unknown problem");
}

static int scalar_is_null(const struct ynode *n)
{
	if (n->type != Y_SCALAR || n->quoted)
		return 0;
	const char *v = n->value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* Anchors, aliases and tags would make a value mean something other than
 * what is written where it is used: refused, each at its own position. */
static int anchor_fail(struct ld *ld, yaml_mark_t m, const char *anchor, bool alias)
{
	return cg_error(ld->err, CG_EXIT_CONFIG,
			"%s:%d:%d: %s%s: anchors and aliases are not supported; "
			"expected every value written out in full",
			ld->file, (int)m.line + 1, (int)m.column + 1, alias ? "*" : "&",
			anchor ? anchor : "");
}

static int tag_fail(struct ld *ld, yaml_mark_t m, const char *tag)
{
	static const char yaml_org[] = "tag:yaml.org,2002:";
	bool core = !strncmp(tag, yaml_org, sizeof(yaml_org) - 1);
	if (core)
		tag += sizeof(yaml_org) - 1;
	return cg_error(ld->err, CG_EXIT_CONFIG,
			"%s:%d:%d: %s%s: YAML tags are not supported; expected a plain value",
			ld->file, (int)m.line + 1, (int)m.column + 1, core ? "!!" : "", tag);
}

/*
 * Build the node that starts with *ev (consumed). Mapping keys must be
 * scalars and unique. Returns NULL with ld->err filled on error.
 */
static struct ynode *build(struct ld *ld, struct yparse *yp, yaml_event_t *ev,
			   const char *path, int depth)
{
	struct ynode *n = cg_xcalloc(1, sizeof(*n));
	n->pos = mark_pos(ev->start_mark);
	if (depth > CG_MAX_DEPTH) {	/* the recursion must not eat the stack */
		fail(ld, n->pos, path, "at most 32 levels", "nesting too deep");
		goto bad;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		anchor_fail(ld, ev->start_mark, (char *)ev->data.alias.anchor, true);
		goto bad;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor) {
			anchor_fail(ld, ev->start_mark, (char *)ev->data.scalar.anchor, false);
			goto bad;
		}
		if (ev->data.scalar.tag) {
			tag_fail(ld, ev->start_mark, (char *)ev->data.scalar.tag);
			goto bad;
		}
		n->type = Y_SCALAR;
		n->value = cg_xstrndup((char *)ev->data.scalar.value, ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		yaml_event_delete(ev);
		return n;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		cg_error(ld->err, CG_EXIT_CONFIG, "%s:%d:%d: %s: unexpected YAML event; expected a value",
			 ld->file, n->pos.line, n->pos.col, path);
		goto bad;
	}

	bool map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
					: ev->data.sequence_start.anchor;
	const yaml_char_t *tag = map ? ev->data.mapping_start.tag
				     : ev->data.sequence_start.tag;
	if (anchor) {
		anchor_fail(ld, ev->start_mark, (const char *)anchor, false);
		goto bad;
	}
	if (tag) {
		tag_fail(ld, ev->start_mark, (const char *)tag);
		goto bad;
	}
	n->type = map ? Y_MAP : Y_SEQ;
	yaml_event_delete(ev);
	for (int i = 0;; i++) {
		yaml_event_t kev;
		if (next_event(ld, yp, &kev) < 0)
			goto bad_noev;
		if (kev.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
			yaml_event_delete(&kev);
			return n;
		}
		if (i >= CG_MAX_ENTRIES) {	/* keeps the duplicate check cheap */
			fail(ld, mark_pos(kev.start_mark), path, "at most 10000 entries",
			     "too many entries");
			yaml_event_delete(&kev);
			goto bad_noev;
		}
		char *sub;
		if (!map) {
			sub = cg_xasprintf("%s[%d]", path, i);
		} else if (kev.type == YAML_SCALAR_EVENT) {
			const char *k = (const char *)kev.data.scalar.value;
			sub = *path ? cg_xasprintf("%s.%s", path, k) : cg_xstrdup(k);
		} else {
			sub = NULL;
		}
		if (map && !sub) {
			if (kev.type == YAML_ALIAS_EVENT) {
				anchor_fail(ld, kev.start_mark, (char *)kev.data.alias.anchor, true);
			} else {
				struct cg_pos p = mark_pos(kev.start_mark);
				fail(ld, p, *path ? path : "(top level)", "a plain string as key",
				     "a %s used as a mapping key",
				     kev.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping");
			}
			yaml_event_delete(&kev);
			goto bad_noev;
		}
		struct ynode *k = build(ld, yp, &kev, sub, depth + 1);
		if (!k) {
			free(sub);
			goto bad_noev;
		}
		if (map) {
			for (int j = 0; j < n->nkids; j += 2) {
				if (!strcmp(n->kids[j]->value, k->value)) {
					fail(ld, k->pos, sub, "each key at most once in a mapping",
					     "duplicate key (first at line %d)", n->kids[j]->pos.line);
					free(sub);
					ynode_free(k);
					goto bad_noev;
				}
			}
			ynode_push(n, k);
			yaml_event_t vev;
			if (next_event(ld, yp, &vev) < 0) {
				free(sub);
				goto bad_noev;
			}
			k = build(ld, yp, &vev, sub, depth + 1);
			if (!k) {
				free(sub);
				goto bad_noev;
			}
		}
		free(sub);
		ynode_push(n, k);
	}
bad:
	yaml_event_delete(ev);
bad_noev:
	ynode_free(n);
	return NULL;
}

/* Parse text into a tree; *root NULL for an empty document. */
static int parse_tree(struct ld *ld, const char *text, size_t len, struct ynode **root)
{
	struct yparse yp = { .text = text, .len = len };
	yaml_event_t ev;
	int rc = -1;
	*root = NULL;
	if (!yaml_parser_initialize(&yp.parser))
		return cg_error(ld->err, CG_EXIT_ERROR, "libyaml: out of memory");
	yaml_parser_set_input_string(&yp.parser, (const unsigned char *)text, len);
	int docs = 0;
	for (;;) {
		if (next_event(ld, &yp, &ev) < 0)
			goto out;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT) {
			if (++docs > 1) {
				fail(ld, mark_pos(ev.start_mark), "---",
				     "a single YAML document", "a second YAML document");
				yaml_event_delete(&ev);
				goto out;
			}
			yaml_event_delete(&ev);
			continue;
		}
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		*root = build(ld, &yp, &ev, "", 0);
		if (!*root)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		ynode_free(*root);
		*root = NULL;
	}
	yaml_parser_delete(&yp.parser);
	return rc;
}

/* ---- value helpers ----------------------------------------------------- */

/* A short description of what a node is, for "got ..." messages. */
static const char *describe(const struct ynode *n, char *buf, size_t sz)
{
	if (n->type == Y_SEQ)
		return "a list";
	if (n->type == Y_MAP)
		return "a mapping";
	if (scalar_is_null(n))
		return "no value";
	int len = (int)strlen(n->value);
	int show = len > 40 ? 40 : len;
	char shown[41];
	for (int i = 0; i < show; i++)	/* one line, whatever the value holds */
		shown[i] = (unsigned char)n->value[i] < 0x20 ? '?' : n->value[i];
	shown[show] = '\0';
	snprintf(buf, sz, "%s%s%s%s", n->quoted ? "\"" : "'", shown,
		 show < len ? "..." : "", n->quoted ? "\" (a quoted string)" : "'");
	return buf;
}

static int want_string(struct ld *ld, const struct ynode *v, const char *key,
		       const char *expected, const char **out)
{
	char b[128];
	if (v->type != Y_SCALAR || scalar_is_null(v))
		return fail(ld, v->pos, key, expected, "got %s", describe(v, b, sizeof(b)));
	*out = v->value;
	return 0;
}

static bool is_decimal(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	if (s[0] == '0' && s[1])
		return false;	/* YAML 1.1 reads 010 as octal 8: refuse the doubt */
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int want_int(struct ld *ld, const struct ynode *v, const char *key,
		    long min, long max, int *out)
{
	char exp[96], b[128];
	snprintf(exp, sizeof(exp), "an integer from %ld to %ld", min, max);
	if (v->type != Y_SCALAR || v->quoted || !is_decimal(v->value))
		return fail(ld, v->pos, key, exp, "got %s", describe(v, b, sizeof(b)));
	errno = 0;
	long x = strtol(v->value, NULL, 10);
	if (errno == ERANGE || x > max)
		return fail(ld, v->pos, key, exp, "%s is too large", v->value);
	if (x < min)
		return fail(ld, v->pos, key, exp, "%s is too small", v->value);
	*out = (int)x;
	return 0;
}

static int want_bool(struct ld *ld, const struct ynode *v, const char *key, bool *out)
{
	static const char *const t[] = { "yes", "true", "on" }, *const f[] = { "no", "false", "off" };
	const char *exp = "yes/no, true/false or on/off";
	char b[128];
	if (v->type == Y_SCALAR && !v->quoted) {
		for (int i = 0; i < 3; i++) {
			if (!strcasecmp(v->value, t[i])) {
				*out = true;
				return 0;
			}
			if (!strcasecmp(v->value, f[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return fail(ld, v->pos, key, exp, "got %s", describe(v, b, sizeof(b)));
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Best "did you mean" among cands (NULL when nothing is close). */
static const char *closest(const char *s, const char *const *cands, int n)
{
	const char *best = NULL;
	int bd = INT_MAX;
	for (int i = 0; i < n; i++) {
		int d = cg_edit_distance(s, cands[i]);
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	int limit = (int)strlen(s) / 3 + 1;
	if (limit < 2)
		limit = 2;
	return bd <= limit ? best : NULL;
}

static int unknown_key(struct ld *ld, const struct ynode *k, const char *path,
		       const char *const *keys, int nkeys, const char *hint)
{
	struct cg_buf exp = {0};
	cg_buf_adds(&exp, "one of ");
	for (int i = 0; i < nkeys; i++)
		cg_buf_addf(&exp, "%s%s", i ? ", " : "", keys[i]);
	const char *dym = closest(k->value, keys, nkeys);
	if (hint)
		fail(ld, k->pos, path, exp.data, "unknown key (%s)", hint);
	else if (dym)
		fail(ld, k->pos, path, exp.data, "unknown key (did you mean '%s'?)", dym);
	else
		fail(ld, k->pos, path, exp.data, "unknown key");
	cg_buf_free(&exp);
	return -1;
}

static bool in_list(const char *s, const char *const *l, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
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
	if (want_string(ld, v, key, exp, &s) < 0)
		return -1;
	if (!parse_cidr(s, net, prefix))
		return fail(ld, v->pos, key, exp, "'%s' is not an IPv4 CIDR", s);
	if (*net & ~prefix_mask(*prefix)) {
		char *fix = cidr_str(*net & prefix_mask(*prefix), *prefix);
		fail(ld, v->pos, key, fix, "'%s' has host bits set", s);
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
	const char *best = closest(r, ptr, NREGIONS);
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
	return in_list(k, cluster_keys, NELEM(cluster_keys));
}

static int resolve_region(struct ld *ld, const struct cg_cluster *c, struct cg_dc *dc,
			  const struct dcsrc *s, int zone, const char *path)
{
	char *key = cg_xasprintf("%s.region", path);
	char *zkey = cg_xasprintf("%s.zone", path);
	const char *r = s->region->value;
	int rc = -1;
	if (c->provider == CG_PROVIDER_LOCAL) {
		if (!name_ok(r, CG_NAME_MAX)) {
			fail(ld, s->region->pos, key, "a label of letters, digits, '-' or '_' (local provider)",
			     "'%s' is not a valid region label", r);
			goto out;
		}
		dc->region = s->zone ? cg_xasprintf("%s-%d", r, zone) : cg_xstrdup(r);
		rc = 0;
		goto out;
	}
	for (const char *p = r; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
			fail(ld, s->region->pos, key, "an AWS region name in lowercase such as eu-west-1",
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
			fail(ld, s->zone->pos, zkey, exp, "zone %d contradicts region %s", zone, r);
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
				fail(ld, s->zone->pos, zkey, exp, "%s is not an AWS region", name);
				free(exp);
			} else {
				char dym[32];
				if (closest_prefix(r, dym, sizeof(dym)))
					fail(ld, s->region->pos, key, "an AWS region such as eu-west (with zone: 1) or eu-west-1",
					     "unknown AWS region '%s' (did you mean '%s'?)", r, dym);
				else
					fail(ld, s->region->pos, key, "an AWS region such as eu-west (with zone: 1) or eu-west-1",
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
			fail(ld, s->region->pos, key, exp,
			     "unknown AWS region '%s' (did you mean '%s' with a zone: N, e.g. %s-1?)",
			     r, dym, dym);
		else
			fail(ld, s->region->pos, key, exp,
			     "'%s' is not a full region name and no zone is given", r);
		free(exp);
		free(list);
		goto out;
	} else {
		name = cg_xstrdup(r);
	}
	if (!cg_config_aws_region_known(name)) {
		const char *dym = closest(name, aws_regions, NREGIONS);
		if (dym)
			fail(ld, s->region->pos, key, "a known AWS region such as eu-west-1",
			     "unknown AWS region '%s' (did you mean '%s'?)", name, dym);
		else
			fail(ld, s->region->pos, key, "a known AWS region such as eu-west-1",
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
		fail(ld, zs->pos, key, "a non-empty list of zones such as [a, b]", "got %s",
		     zs->type == Y_SEQ ? "an empty list" : describe(zs, b, sizeof(b)));
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
			if (want_string(ld, z, key, exp, &v) < 0)
				goto next;
			if (!name_ok(v, CG_NAME_MAX)) {
				fail(ld, z->pos, key, exp, "'%s' is not a valid zone label", v);
				goto next;
			}
			full = !strncmp(v, dc->region, rl) && v[rl] == '-'
				? cg_xstrdup(v) : cg_xasprintf("%s-%s", dc->region, v);
		} else {
			char *e = cg_xasprintf("a zone letter such as a, or a zone of %s such as %sa",
					       dc->region, dc->region);
			exp = e;
			if (want_string(ld, z, key, exp, &v) < 0) {
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
				fail(ld, z->pos, key, exp, "'%s' is not a zone of region %s", v, dc->region);
			else
				full = letter ? cg_xasprintf("%s%s", dc->region, v) : cg_xstrdup(v);
			free(e);
			if (!ok)
				goto next;
		}
		for (int j = 0; j < dc->nzones; j++) {
			if (!strcmp(dc->zones[j], full)) {
				fail(ld, z->pos, key, "each zone at most once",
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
		return fail(ld, m->pos, path,
			    "a mapping with datacenter, region, nodes, ...", "got %s",
			    describe(m, b, sizeof(b)));
	for (int i = 0; i < m->nkids; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		const char *kn = k->value, *str;
		free(key);
		key = cg_xasprintf("%s.%s", path, kn);
		if (!in_list(kn, dc_keys, NELEM(dc_keys))) {
			if (is_cluster_key(kn))
				unknown_key(ld, k, key, dc_keys, NELEM(dc_keys), seed_form
					    ? "a cluster-wide setting: use the mapping form with a datacenters: list"
					    : "a cluster-wide setting: move it next to datacenters:");
			else
				unknown_key(ld, k, key, dc_keys, NELEM(dc_keys), NULL);
			goto bad;
		}
		if (!strcmp(kn, "datacenter")) {
			const char *exp = "a name of letters, digits, '-' or '_' (at most 48)";
			if (want_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!name_ok(str, CG_NAME_MAX)) {
				fail(ld, v->pos, key, exp, "'%s' is not a valid datacenter name", str);
				goto bad;
			}
			dc->name = cg_xstrdup(str);
			s.name = v;
		} else if (!strcmp(kn, "region")) {
			if (want_string(ld, v, key, "a region name such as eu-west-1", &str) < 0)
				goto bad;
			s.region = v;
		} else if (!strcmp(kn, "zone")) {
			/* the seed's zone is the region's number; an availability
			 * zone here is a likely mix-up: say where it goes */
			if (v->type == Y_SCALAR && !v->quoted && isalpha((unsigned char)v->value[0]) &&
			    !scalar_is_null(v)) {
				fail(ld, v->pos, key, "the region's number (region: eu-west + zone: 1 = eu-west-1)",
				     "got '%s' (availability zones go under zones:)", v->value);
				goto bad;
			}
			if (want_int(ld, v, key, 1, 99, &zone) < 0)
				goto bad;
			s.zone = v;
		} else if (!strcmp(kn, "zones")) {
			s.zones = v;	/* normalised once the region is known */
		} else if (!strcmp(kn, "nodes")) {
			if (want_int(ld, v, key, 1, CG_MAX_NODES_PER_DC, &dc->nodes) < 0)
				goto bad;
			s.nodes = v;
		} else if (!strcmp(kn, "nb_seeds_per_dc") || !strcmp(kn, "seeds")) {
			if (s.seeds) {
				fail(ld, k->pos, key, "only one of nb_seeds_per_dc and seeds",
				     "same setting as %s, given twice", s.seeds_key);
				goto bad;
			}
			if (want_int(ld, v, key, 1, CG_MAX_NODES_PER_DC, &dc->seeds) < 0)
				goto bad;
			s.seeds = v;
			s.seeds_key = kn;
		} else if (!strcmp(kn, "node_type")) {
			const char *exp = "an EC2 instance type such as m5.large";
			if (want_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!node_type_ok(str)) {
				fail(ld, v->pos, key, exp, "'%s' is not an instance type", str);
				goto bad;
			}
			dc->node_type = cg_xstrdup(str);
		} else if (!strcmp(kn, "opscenter") || !strcmp(kn, "monitoring")) {
			if (s.mon) {
				fail(ld, k->pos, key, "only one of opscenter and monitoring",
				     "same setting as %s, given twice",
				     !strcmp(kn, "opscenter") ? "monitoring" : "opscenter");
				goto bad;
			}
			if (want_bool(ld, v, key, &dc->monitoring) < 0)
				goto bad;
			s.mon = v;
		} else if (!strcmp(kn, "ami")) {
			const char *exp = "an AMI id such as ami-0123456789abcdef0";
			if (c->provider != CG_PROVIDER_AWS) {
				fail(ld, k->pos, key, "no ami key with provider local",
				     "an AMI applies only to provider aws");
				goto bad;
			}
			if (want_string(ld, v, key, exp, &str) < 0)
				goto bad;
			if (!ami_ok(str)) {
				fail(ld, v->pos, key, exp, "'%s' is not an AMI id", str);
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
			fail(ld, m->pos, key, "datacenter, region and nodes in every datacenter",
			     "missing required key");
			goto bad;
		}
	}
	if (dc->seeds > dc->nodes) {
		free(key);
		key = cg_xasprintf("%s.%s", path, s.seeds_key);
		char *exp = cg_xasprintf("at most nodes (%d) seeds", dc->nodes);
		fail(ld, s.seeds->pos, key, exp, "%d seeds for %d nodes", dc->seeds, dc->nodes);
		free(exp);
		goto bad;
	}
	if (resolve_region(ld, c, dc, &s, zone, path) < 0)
		goto bad;
	if (s.zones && resolve_zones(ld, c, dc, s.zones, path) < 0)
		goto bad;
	if (!dc->node_type)
		dc->node_type = cg_xstrdup(c->provider == CG_PROVIDER_AWS ? "m5.large" : "local");
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
}

/* The datacenters list v of cluster c (path names it). */
static int load_dcs(struct ld *ld, struct cg_cluster *c, const struct ynode *v,
		    const char *path, bool seed_form)
{
	char b[128];
	if (v->type != Y_SEQ)
		return fail(ld, v->pos, path, "a list of datacenters", "got %s",
			    describe(v, b, sizeof(b)));
	if (!v->nkids)
		return fail(ld, v->pos, path, "at least one datacenter", "empty list");
	if (v->nkids > CG_MAX_DCS)
		return fail(ld, v->kids[CG_MAX_DCS]->pos, path, "at most 64 datacenters",
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
				rc = fail(ld, pos, key, "a unique name per datacenter in a cluster",
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
				rc = fail(ld, pos, key, "at most one monitoring datacenter per cluster",
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

/* ---- clusters ---------------------------------------------------------- */

static int want_heap(struct ld *ld, const struct ynode *v, const char *key, char **out)
{
	const char *s, *exp = "a JVM heap size from 256M to 64G, such as 512M or 4G";
	if (want_string(ld, v, key, exp, &s) < 0)
		return -1;
	size_t n = strlen(s);
	char u = n ? (char)toupper((unsigned char)s[n - 1]) : 0;
	bool ok = n >= 2 && n <= 8 && (u == 'M' || u == 'G') && s[0] != '0';
	for (size_t i = 0; ok && i + 1 < n; i++)
		ok = isdigit((unsigned char)s[i]);
	if (!ok)
		return fail(ld, v->pos, key, exp, "'%s' is not a heap size", s);
	long mb = atol(s) * (u == 'G' ? 1024 : 1);
	if (mb < 256 || mb > 65536)
		return fail(ld, v->pos, key, exp, "%s is out of range", s);
	*out = cg_xasprintf("%.*s%c", (int)(n - 1), s, u);
	return 0;
}

static int want_version(struct ld *ld, const struct ynode *v, const char *key, char **out)
{
	const char *s, *exp = "a Cassandra release X.Y.Z, 4.0.0 or later, such as 5.0.9";
	char b[128];
	if (v->type != Y_SCALAR || scalar_is_null(v))
		return fail(ld, v->pos, key, exp, "got %s", describe(v, b, sizeof(b)));
	s = v->value;
	unsigned x, y, z;
	int used = 0;
	if (sscanf(s, "%3u.%3u.%3u%n", &x, &y, &z, &used) != 3 || s[used] ||
	    !isdigit((unsigned char)s[0]))
		return fail(ld, v->pos, key, exp, "'%s' is not a release number", s);
	if (x < 4)
		return fail(ld, v->pos, key, exp, "%s is too old", s);
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
		return fail(ld, k->pos, key, "a setting that takes a single value",
			    "takes a list or mapping, which cassandra: cannot hold");
	const char *dym = closest(name, cassandra_scalar_keys, NELEM(cassandra_scalar_keys));
	char *exp = cg_xasprintf("a cassandra.yaml setting of Cassandra %s", CG_CASSANDRA_KEYS_SERIES);
	if (dym)
		fail(ld, k->pos, key, exp, "unknown setting (did you mean '%s'?)", dym);
	else
		fail(ld, k->pos, key, exp, "unknown setting");
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
	if (!strcmp(kn, "provider")) {
		return 0;	/* read first, see load_cluster */
	} else if (!strcmp(kn, "cassandra_version")) {
		free(c->cassandra_version);
		c->cassandra_version = NULL;
		return want_version(ld, v, key, &c->cassandra_version);
	} else if (!strcmp(kn, "num_tokens")) {
		return want_int(ld, v, key, 1, 256, &c->num_tokens);
	} else if (!strcmp(kn, "heap")) {
		char *h = NULL;
		if (want_heap(ld, v, key, &h) < 0)
			return -1;
		free(c->heap);
		c->heap = h;
	} else if (!strcmp(kn, "ssh_user")) {
		const char *exp = "a user name such as ubuntu (lowercase letters, digits, _ or -)";
		if (want_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!user_ok(s))
			return fail(ld, v->pos, key, exp, "'%s' is not a valid user name", s);
		free(c->ssh_user);
		c->ssh_user = cg_xstrdup(s);
	} else if (!strcmp(kn, "ssh_address")) {
		const char *exp = local ? "private (local nodes have only a private address)"
					: "public or private";
		if (want_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!strcmp(s, "private"))
			c->ssh_address = CG_SSH_PRIVATE;
		else if (!strcmp(s, "public") && !local)
			c->ssh_address = CG_SSH_PUBLIC;
		else
			return fail(ld, v->pos, key, exp, "'%s' is not allowed", s);
	} else if (!strcmp(kn, "broadcast_address")) {
		const char *exp = local ? "private (local nodes have only a private address)"
					: "public or private";
		if (want_string(ld, v, key, exp, &s) < 0)
			return -1;
		if (!strcmp(s, "private"))
			c->broadcast = CG_BROADCAST_PRIVATE;
		else if (!strcmp(s, "public") && !local)
			c->broadcast = CG_BROADCAST_PUBLIC;
		else
			return fail(ld, v->pos, key, exp, "'%s' is not allowed", s);
	} else if (!strcmp(kn, "allowed_cidrs")) {
		if (local)
			return fail(ld, k->pos, key, "no allowed_cidrs with provider local",
				    "security group rules apply only to provider aws");
		if (v->type != Y_SEQ || !v->nkids)
			return fail(ld, v->pos, key, "a non-empty list of IPv4 CIDRs such as [203.0.113.0/24]",
				    "got %s", v->type == Y_SEQ ? "an empty list" : describe(v, b, sizeof(b)));
		c->allowed_cidrs = cg_xcalloc((size_t)v->nkids, sizeof(char *));
		for (int i = 0; i < v->nkids; i++) {
			char *ik = cg_xasprintf("%s[%d]", key, i);
			uint32_t net;
			int p;
			int rc = want_cidr(ld, v->kids[i], ik, &net, &p);
			char *str = rc == 0 ? cidr_str(net, p) : NULL;
			for (int j = 0; rc == 0 && j < c->nallowed_cidrs; j++)
				if (!strcmp(c->allowed_cidrs[j], str))
					rc = fail(ld, v->kids[i]->pos, ik, "each CIDR at most once",
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
		if (want_bool(ld, v, key, &on) < 0)
			return -1;
		c->security_off = !on;
		c->security_pos = v->pos;
	} else if (!strcmp(kn, "install")) {
		const char *exp = local ? "dir:/ABSOLUTE/PATH (a directory of Cassandra jars; "
					  "letters, digits and /._+-)"
					: "apt, or dir:/ABSOLUTE/PATH (letters, digits and /._+-)";
		if (want_string(ld, v, key, exp, &s) < 0)
			return -1;
		bool ok = (!strcmp(s, "apt") && !local) || dir_ok(s);
		if (!ok)
			return fail(ld, v->pos, key, exp, "'%s' is not an install method%s", s,
				    local && !strcmp(s, "apt") ? " for provider local" : "");
		c->install = cg_xstrdup(s);
	} else if (!strcmp(kn, "network")) {
		const char *exp = "a private IPv4 range from /8 to /28 such as 10.77.0.0/16";
		uint32_t net;
		int p;
		if (!local)
			return fail(ld, k->pos, key, "no network with provider aws",
				    "the address range applies only to provider local");
		if (want_cidr(ld, v, key, &net, &p) < 0)
			return -1;
		if (p < 8 || p > 28 || !private_range(net, p))
			return fail(ld, v->pos, key, exp, "%s is not allowed", v->value);
		free(c->network);
		c->network = cidr_str(net, p);
	} else if (!strcmp(kn, "cassandra")) {
		if (v->type != Y_MAP)
			return fail(ld, v->pos, key, "a mapping of cassandra.yaml settings",
				    "got %s", describe(v, b, sizeof(b)));
		c->cassandra = cg_xcalloc((size_t)v->nkids / 2 + 1, sizeof(struct cg_kv));
		for (int i = 0; i < v->nkids; i += 2) {
			const struct ynode *ck = v->kids[i], *cv = v->kids[i + 1];
			char *ik = cg_xasprintf("%s.%s", key, ck->value);
			int rc = 0;
			bool name = islower((unsigned char)ck->value[0]);
			for (const char *q = ck->value; *q && name; q++)
				name = islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_';
			if (!name)
				rc = fail(ld, ck->pos, ik, "a cassandra.yaml setting name (lowercase, digits, _)",
					  "not a setting name");
			else if (in_list(ck->value, cassandra_reserved, NELEM(cassandra_reserved)))
				rc = fail(ld, ck->pos, ik, "no such key (cassandgo derives it from the topology)",
					  "set by cassandgo itself");
			else if (cv->type != Y_SCALAR || scalar_is_null(cv))
				rc = fail(ld, cv->pos, ik, "a single value (string, number or boolean)",
					  "got %s", describe(cv, b, sizeof(b)));
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
	free(c->network);
	for (int i = 0; i < c->ncassandra; i++) {
		free(c->cassandra[i].key);
		free(c->cassandra[i].value);
	}
	free(c->cassandra);
	for (int i = 0; i < c->ndcs; i++)
		dc_clear(&c->dcs[i]);
	free(c->dcs);
}

static int load_cluster(struct ld *ld, const struct ynode *k, const struct ynode *v,
			struct cg_cluster *c)
{
	const char *name = k->value;
	char b[128];
	c->pos = k->pos;
	c->name = cg_xstrdup(name);
	if (!isalpha((unsigned char)name[0]) || !name_ok(name, CG_NAME_MAX))
		return fail(ld, k->pos, name,
			    "a cluster name: a letter, then letters, digits, '-' or '_' (at most 48)",
			    "not a valid cluster name");
	if (v->type == Y_SEQ) {
		cluster_defaults(c);
		return load_dcs(ld, c, v, name, true);
	}
	if (v->type != Y_MAP)
		return fail(ld, v->pos, name,
			    "a list of datacenters, or a mapping with a datacenters: list",
			    "got %s", describe(v, b, sizeof(b)));

	ld->version = CG_CASSANDRA_DEFAULT;
	/* provider first: it decides the defaults and what other keys may say */
	const struct ynode *dcs = NULL;
	struct cg_pos netpos = k->pos;
	for (int i = 0; i < v->nkids; i += 2) {
		const struct ynode *ck = v->kids[i], *cv = v->kids[i + 1];
		char *key = cg_xasprintf("%s.%s", name, ck->value);
		int rc = 0;
		if (!strcmp(ck->value, "provider")) {
			const char *s;
			rc = want_string(ld, cv, key, "aws or local", &s);
			if (rc == 0 && !strcmp(s, "local"))
				c->provider = CG_PROVIDER_LOCAL;
			else if (rc == 0 && strcmp(s, "aws"))
				rc = fail(ld, cv->pos, key, "aws or local", "unknown provider '%s'", s);
		} else if (!strcmp(ck->value, "datacenters")) {
			dcs = cv;
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
			rc = unknown_key(ld, ck, key, cluster_keys, NELEM(cluster_keys),
					 in_list(ck->value, dc_keys, NELEM(dc_keys))
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
		if (in_list(c->cassandra[i].key, cassandra_security, NELEM(cassandra_security))) {
			char *ik = cg_xasprintf("%s.cassandra.%s", name, c->cassandra[i].key);
			fail(ld, c->cassandra[i].pos, ik,
			     "no such setting while security is on (cassandgo sets authentication "
			     "and TLS itself), or `security: off` to manage them yourself",
			     "managed by cassandgo's security");
			free(ik);
			return -1;
		}
	if (!dcs)
		return fail(ld, k->pos, name, "a datacenters: list in every cluster",
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
			rc = fail(ld, netpos, nk, exp, "%s holds only %ld node addresses",
				  c->network, room);
			free(exp);
			free(nk);
			return -1;
		}
	}
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
		fail(&ld, top, "(file)", "a file under 4 MiB", "%zu bytes", len);
		goto out;
	}
	if (memchr(text, '\0', len)) {
		fail(&ld, offset_pos(text, len, (size_t)((char *)memchr(text, '\0', len) - text)),
		     "(file)", "a text file", "NUL byte");
		goto out;
	}
	if (parse_tree(&ld, text, len, &root) < 0)
		goto out;
	if (!root || scalar_is_null(root)) {
		fail(&ld, top, "(file)",
		     "a mapping of cluster names to clusters (see docs/CONFIG.md)", "no clusters (empty file)");
		goto out;
	}
	if (root->type != Y_MAP) {
		fail(&ld, root->pos, "(top level)", "a mapping of cluster names to clusters",
		     "got %s", describe(root, b, sizeof(b)));
		goto out;
	}
	if (!root->nkids) {
		/* `{}` names no cluster, like an empty file: nothing valid to plan */
		fail(&ld, root->pos, "(top level)", "a mapping of cluster names to clusters",
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
	ynode_free(root);
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
	const char *dym = closest(name, names, cfg->nclusters);
	char hint[128] = "";
	if (dym)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", dym);
	cg_error(err, CG_EXIT_USAGE, "%s: no cluster named '%s'%s; known clusters: %s",
		 cfg->path, name, hint, known.len ? known.data : "(none)");
	cg_buf_free(&known);
	free(names);
	return NULL;
}
