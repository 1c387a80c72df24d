/* json.c - see json.h. A recursive-descent reader over a byte range. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	const char *s;
	size_t len, pos;
	struct cg_err *err;
};

static int fail(struct rd *r, const char *what)
{
	return cg_error(r->err, CG_EXIT_ERROR, "JSON: %s at byte %zu", what, r->pos);
}

static void ws(struct rd *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
				   r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
		r->pos++;
}

static bool lit(struct rd *r, const char *word)
{
	size_t n = strlen(word);
	if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n))
		return false;
	r->pos += n;
	return true;
}

static int hex4(struct rd *r, unsigned *out)
{
	if (r->len - r->pos < 4)
		return fail(r, "short \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = r->s[r->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(r, "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

static void utf8(struct cg_buf *b, unsigned cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12)), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18)), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	cg_buf_add(b, o, n);
}

/* At the opening quote; *out is the decoded string (heap). */
static int string(struct rd *r, char **out)
{
	struct cg_buf b = {0};
	r->pos++;
	for (;;) {
		if (r->pos >= r->len) {
			cg_buf_free(&b);
			return fail(r, "unterminated string");
		}
		unsigned char c = (unsigned char)r->s[r->pos];
		if (c == '"') {
			r->pos++;
			break;
		}
		if (c < 0x20) {
			cg_buf_free(&b);
			return fail(r, "control character in string");
		}
		if (c != '\\') {
			cg_buf_add(&b, &r->s[r->pos++], 1);
			continue;
		}
		r->pos++;
		if (r->pos >= r->len) {
			cg_buf_free(&b);
			return fail(r, "unterminated escape");
		}
		char e = r->s[r->pos++];
		char d = e == '"' || e == '\\' || e == '/' ? e : e == 'b' ? '\b' : e == 'f' ? '\f'
		       : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
		if (d) {
			cg_buf_add(&b, &d, 1);
			continue;
		}
		if (e != 'u') {
			cg_buf_free(&b);
			return fail(r, "unknown escape");
		}
		unsigned cp, lo;
		if (hex4(r, &cp) < 0) {
			cg_buf_free(&b);
			return -1;
		}
		if (cp >= 0xd800 && cp < 0xdc00) {	/* a high surrogate needs its low half */
			if (!lit(r, "\\u") || hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
				cg_buf_free(&b);
				return fail(r, "unpaired surrogate");
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cg_buf_free(&b);
			return fail(r, "unpaired surrogate");
		}
		if (cp == 0) {	/* every string is a C string */
			cg_buf_free(&b);
			return fail(r, "\\u0000 in string");
		}
		utf8(&b, cp);
	}
	*out = b.data ? cg_buf_detach(&b) : cg_xstrdup("");
	return 0;
}

static bool digit(struct rd *r)
{
	return r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9';
}

static int number(struct rd *r, double *out)
{
	size_t start = r->pos;
	if (r->pos < r->len && r->s[r->pos] == '-')
		r->pos++;
	if (!digit(r))
		return fail(r, "bad number");
	if (r->s[r->pos] == '0')
		r->pos++;
	else
		while (digit(r))
			r->pos++;
	if (r->pos < r->len && r->s[r->pos] == '.') {
		r->pos++;
		if (!digit(r))
			return fail(r, "bad fraction");
		while (digit(r))
			r->pos++;
	}
	if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
			r->pos++;
		if (!digit(r))
			return fail(r, "bad exponent");
		while (digit(r))
			r->pos++;
	}
	/* strtod needs a terminated copy: the text is not ours to touch */
	char *tmp = cg_xstrndup(r->s + start, r->pos - start);
	*out = strtod(tmp, NULL);
	free(tmp);
	return 0;
}

static int value(struct rd *r, struct cg_json *j, int depth);

/* Append a zeroed child to j (array or object). */
static struct cg_json *child(struct cg_json *j, int *cap)
{
	if (j->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		j->v = cg_xrealloc(j->v, (size_t)*cap * sizeof(*j->v));
		if (j->type == CG_JSON_OBJ)
			j->keys = cg_xrealloc(j->keys, (size_t)*cap * sizeof(*j->keys));
	}
	memset(&j->v[j->n], 0, sizeof(j->v[0]));
	if (j->type == CG_JSON_OBJ)
		j->keys[j->n] = NULL;
	return &j->v[j->n++];
}

static int container(struct rd *r, struct cg_json *j, int depth)
{
	bool obj = r->s[r->pos] == '{';
	char close = obj ? '}' : ']';
	j->type = obj ? CG_JSON_OBJ : CG_JSON_ARR;
	if (depth >= CG_JSON_MAX_DEPTH)
		return fail(r, "nested too deep");
	r->pos++;
	ws(r);
	if (r->pos < r->len && r->s[r->pos] == close) {
		r->pos++;
		return 0;
	}
	int cap = 0;
	for (;;) {
		ws(r);
		char *key = NULL;
		if (obj) {
			if (r->pos >= r->len || r->s[r->pos] != '"')
				return fail(r, "expected a key");
			if (string(r, &key) < 0)
				return -1;
			ws(r);
			if (r->pos >= r->len || r->s[r->pos] != ':') {
				free(key);
				return fail(r, "expected ':'");
			}
			r->pos++;
		}
		struct cg_json *c = child(j, &cap);
		if (obj)
			j->keys[j->n - 1] = key;
		if (value(r, c, depth + 1) < 0)
			return -1;
		ws(r);
		if (r->pos < r->len && r->s[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos < r->len && r->s[r->pos] == close) {
			r->pos++;
			return 0;
		}
		return fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int value(struct rd *r, struct cg_json *j, int depth)
{
	ws(r);
	if (r->pos >= r->len)
		return fail(r, "unexpected end");
	char c = r->s[r->pos];
	if (c == '{' || c == '[')
		return container(r, j, depth);
	if (c == '"') {
		j->type = CG_JSON_STR;
		return string(r, &j->str);
	}
	if (lit(r, "true") || lit(r, "false")) {
		j->type = CG_JSON_BOOL;
		j->b = c == 't';
		return 0;
	}
	if (lit(r, "null")) {
		j->type = CG_JSON_NULL;
		return 0;
	}
	j->type = CG_JSON_NUM;
	return number(r, &j->num);
}

static void clear(struct cg_json *j)
{
	for (int i = 0; i < j->n; i++) {
		clear(&j->v[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->v);
	free(j->keys);
	free(j->str);
}

void cg_json_free(struct cg_json *j)
{
	if (!j)
		return;
	clear(j);
	free(j);
}

int cg_json_parse(const char *text, size_t len, struct cg_json **out, struct cg_err *err)
{
	struct rd r = { text, len, 0, err };
	struct cg_json *j = cg_xcalloc(1, sizeof(*j));
	*out = NULL;
	int rc = value(&r, j, 0);
	if (rc == 0) {
		ws(&r);
		if (r.pos != r.len)
			rc = fail(&r, "trailing characters after the value");
	}
	if (rc < 0) {
		cg_json_free(j);
		return -1;
	}
	*out = j;
	return 0;
}

const struct cg_json *cg_json_get(const struct cg_json *j, const char *key)
{
	if (!j || j->type != CG_JSON_OBJ)
		return NULL;
	for (int i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return &j->v[i];
	return NULL;
}

const struct cg_json *cg_json_path(const struct cg_json *j, const char *path)
{
	char key[128];
	while (j && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = cg_json_get(j, key);
		path += n + (path[n] == '.');
	}
	return j;
}

bool cg_json_num(const struct cg_json *j, double *out)
{
	if (!j || j->type != CG_JSON_NUM || !isfinite(j->num))
		return false;
	*out = j->num;
	return true;
}
