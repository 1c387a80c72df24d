/*
 * yaml_tree.c - cassandgo.yaml as a tree with positions, and the value checks the
 * config loader shares (see yaml_tree.h). Split from config.c, which keeps what
 * each key means.
 */
#include "yaml_tree.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- the tree ---------------------------------------------------------- */

void cg_yaml_free(struct ynode *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nkids; i++)
		cg_yaml_free(n->kids[i]);
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

int cg_yaml_fail(struct ld *ld, struct cg_pos pos, const char *key,
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
struct cg_pos cg_yaml_offset_pos(const char *text, size_t len, size_t off)
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
		? cg_yaml_offset_pos(yp->text, yp->len, p->problem_offset)
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

int cg_yaml_is_null(const struct ynode *n)
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
	if (depth > CG_YAML_MAX_DEPTH) {	/* the recursion must not eat the stack */
		cg_yaml_fail(ld, n->pos, path, "at most 32 levels", "nesting too deep");
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
		if (i >= CG_YAML_MAX_ENTRIES) {	/* keeps the duplicate check cheap */
			cg_yaml_fail(ld, mark_pos(kev.start_mark), path, "at most 10000 entries",
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
				cg_yaml_fail(ld, p, *path ? path : "(top level)", "a plain string as key",
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
					cg_yaml_fail(ld, k->pos, sub, "each key at most once in a mapping",
					     "duplicate key (first at line %d)", n->kids[j]->pos.line);
					free(sub);
					cg_yaml_free(k);
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
	cg_yaml_free(n);
	return NULL;
}

/* Parse text into a tree; *root NULL for an empty document. */
int cg_yaml_parse(struct ld *ld, const char *text, size_t len, struct ynode **root)
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
				cg_yaml_fail(ld, mark_pos(ev.start_mark), "---",
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
		cg_yaml_free(*root);
		*root = NULL;
	}
	yaml_parser_delete(&yp.parser);
	return rc;
}

/* ---- value helpers ----------------------------------------------------- */

/* A short description of what a node is, for "got ..." messages. */
const char *cg_yaml_describe(const struct ynode *n, char *buf, size_t sz)
{
	if (n->type == Y_SEQ)
		return "a list";
	if (n->type == Y_MAP)
		return "a mapping";
	if (cg_yaml_is_null(n))
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

int cg_yaml_string(struct ld *ld, const struct ynode *v, const char *key,
		       const char *expected, const char **out)
{
	char b[128];
	if (v->type != Y_SCALAR || cg_yaml_is_null(v))
		return cg_yaml_fail(ld, v->pos, key, expected, "got %s", cg_yaml_describe(v, b, sizeof(b)));
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

int cg_yaml_int(struct ld *ld, const struct ynode *v, const char *key,
		    long min, long max, int *out)
{
	char exp[96], b[128];
	snprintf(exp, sizeof(exp), "an integer from %ld to %ld", min, max);
	if (v->type != Y_SCALAR || v->quoted || !is_decimal(v->value))
		return cg_yaml_fail(ld, v->pos, key, exp, "got %s", cg_yaml_describe(v, b, sizeof(b)));
	errno = 0;
	long x = strtol(v->value, NULL, 10);
	if (errno == ERANGE || x > max)
		return cg_yaml_fail(ld, v->pos, key, exp, "%s is too large", v->value);
	if (x < min)
		return cg_yaml_fail(ld, v->pos, key, exp, "%s is too small", v->value);
	*out = (int)x;
	return 0;
}

int cg_yaml_bool(struct ld *ld, const struct ynode *v, const char *key, bool *out)
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
	return cg_yaml_fail(ld, v->pos, key, exp, "got %s", cg_yaml_describe(v, b, sizeof(b)));
}

bool cg_yaml_name_ok(const char *s, size_t max)
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
const char *cg_yaml_closest(const char *s, const char *const *cands, int n)
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

int cg_yaml_unknown_key(struct ld *ld, const struct ynode *k, const char *path,
		       const char *const *keys, int nkeys, const char *hint)
{
	struct cg_buf exp = {0};
	cg_buf_adds(&exp, "one of ");
	for (int i = 0; i < nkeys; i++)
		cg_buf_addf(&exp, "%s%s", i ? ", " : "", keys[i]);
	const char *dym = cg_yaml_closest(k->value, keys, nkeys);
	if (hint)
		cg_yaml_fail(ld, k->pos, path, exp.data, "unknown key (%s)", hint);
	else if (dym)
		cg_yaml_fail(ld, k->pos, path, exp.data, "unknown key (did you mean '%s'?)", dym);
	else
		cg_yaml_fail(ld, k->pos, path, exp.data, "unknown key");
	cg_buf_free(&exp);
	return -1;
}

bool cg_yaml_in_list(const char *s, const char *const *l, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
			return true;
	return false;
}
