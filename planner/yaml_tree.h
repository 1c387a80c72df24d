/*
 * yaml_tree.h - private to the loaders of YAML files (config.c, scenario.c,
 * yaml_tree.c): cassandgo.yaml or a scenario as a small tree of our own, and
 * the value checks every key shares.
 *
 * libyaml's event stream becomes a tree in which every node keeps its
 * 1-based position; anchors, aliases and tags are refused and duplicate keys
 * caught where they appear (cg_yaml_parse). The checks (cg_yaml_string,
 * cg_yaml_int, ...) fill ld->err with "FILE:LINE:COL: KEY: WHAT; expected
 * ..." (exit code 65) and return -1 on a bad value. Nothing outside
 * planner/config.c, planner/scenario.c and planner/yaml_tree.c includes it.
 */
#ifndef CG_YAML_TREE_H
#define CG_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CG_YAML_MAX_DEPTH 32		/* levels of nesting */
#define CG_YAML_MAX_ENTRIES 10000	/* per list or mapping */

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


/* Parse text into a tree; *root NULL for an empty document. */
int cg_yaml_parse(struct ld *ld, const char *text, size_t len, struct ynode **root);
void cg_yaml_free(struct ynode *n);
/* Line/column of a byte offset (reader errors carry only the offset). */
struct cg_pos cg_yaml_offset_pos(const char *text, size_t len, size_t off);

/* The config error at pos: "FILE:LINE:COL: KEY: WHAT; expected EXPECTED";
 * returns -1. */
int cg_yaml_fail(struct ld *ld, struct cg_pos pos, const char *key, const char *expected,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* `key:` with nothing, ~ or null (unquoted). */
int cg_yaml_is_null(const struct ynode *n);
/* What a node is, for "got ..." messages (buf holds it when needed). */
const char *cg_yaml_describe(const struct ynode *n, char *buf, size_t sz);
/* A scalar string / a plain decimal in [min, max] / an unquoted boolean. */
int cg_yaml_string(struct ld *ld, const struct ynode *v, const char *key,
		   const char *expected, const char **out);
int cg_yaml_int(struct ld *ld, const struct ynode *v, const char *key, long min, long max,
		int *out);
int cg_yaml_bool(struct ld *ld, const struct ynode *v, const char *key, bool *out);
/* 1..max characters of letters, digits, '-' or '_'. */
bool cg_yaml_name_ok(const char *s, size_t max);
/* The best "did you mean" among cands, NULL when nothing is close. */
const char *cg_yaml_closest(const char *s, const char *const *cands, int n);
/* The error for an unknown key k at path: the keys expected, a hint or a
 * did-you-mean; returns -1. */
int cg_yaml_unknown_key(struct ld *ld, const struct ynode *k, const char *path,
			const char *const *keys, int nkeys, const char *hint);
bool cg_yaml_in_list(const char *s, const char *const *l, int n);

#endif
