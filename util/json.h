/*
 * json.h - a small, strict JSON reader (RFC 8259) for what other programs
 * write and cassandgo reads (latte's report). Outside input: every byte is
 * checked, nesting is bounded, nothing is trusted to be the shape expected.
 * No library on the design card reads JSON, and the documents are small
 * (a report is a few hundred KB), so a tree is simplest.
 *
 * Strings are decoded to UTF-8 (\uXXXX and surrogate pairs); a string
 * holding U+0000 is refused, so every string is a C string. Numbers are
 * doubles. Duplicate keys are kept; lookups return the first.
 * Ownership: cg_json_parse's tree is the caller's (cg_json_free).
 */
#ifndef CG_UTIL_JSON_H
#define CG_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "buf.h"

enum cg_json_type { CG_JSON_NULL, CG_JSON_BOOL, CG_JSON_NUM, CG_JSON_STR, CG_JSON_ARR, CG_JSON_OBJ };

struct cg_json {
	enum cg_json_type type;
	bool b;			/* BOOL */
	double num;		/* NUM */
	char *str;		/* STR */
	struct cg_json *v;	/* ARR, OBJ: n children */
	char **keys;		/* OBJ: keys[i] names v[i] */
	int n;
};

/* Deepest nesting accepted (a report is 6 deep). */
#define CG_JSON_MAX_DEPTH 64

/* Parse text[0..len) (one value, whitespace around it). 0, or -1 with err
 * naming the byte offset and what was wrong. */
int cg_json_parse(const char *text, size_t len, struct cg_json **out, struct cg_err *err);
void cg_json_free(struct cg_json *j);

/* Member key of an object (NULL when j is not an object or has no such key). */
const struct cg_json *cg_json_get(const struct cg_json *j, const char *key);
/* Members along a dotted path of keys ("result.cycle_throughput.value"). */
const struct cg_json *cg_json_path(const struct cg_json *j, const char *path);
/* The number at j: true and *out when j is a finite number. */
bool cg_json_num(const struct cg_json *j, double *out);

#endif
