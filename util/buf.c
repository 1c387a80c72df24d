/* buf.c - allocation, strings and growable buffers (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "cassandgo: out of memory (%zu bytes)\n", n);
	abort();
}

void *cg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *cg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *cg_xstrdup(const char *s)
{
	return s ? cg_xstrndup(s, strlen(s)) : NULL;
}

char *cg_xstrndup(const char *s, size_t n)
{
	char *p = cg_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *cg_xasprintf(const char *fmt, ...)
{
	struct cg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return cg_buf_detach(&b);
}

static void buf_grow(struct cg_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = cg_xrealloc(b->data, cap);
	b->cap = cap;
}

void cg_buf_add(struct cg_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cg_buf_adds(struct cg_buf *b, const char *s)
{
	cg_buf_add(b, s, strlen(s));
}

void cg_buf_vaddf(struct cg_buf *b, const char *fmt, va_list ap)
{
	/* one formatting pass when it fits (the common case), two otherwise */
	va_list cp;
	buf_grow(b, 64);
	va_copy(cp, ap);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->data + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void cg_buf_addf(struct cg_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (!strchr(fmt, '%')) {	/* literal text: no formatting pass */
		cg_buf_adds(b, fmt);
		return;
	}
	va_start(ap, fmt);
	cg_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void cg_buf_add_json(struct cg_buf *b, const char *s)
{
	if (!s) {
		cg_buf_adds(b, "null");
		return;
	}
	cg_buf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': cg_buf_adds(b, "\\\""); break;
		case '\\': cg_buf_adds(b, "\\\\"); break;
		case '\n': cg_buf_adds(b, "\\n"); break;
		case '\r': cg_buf_adds(b, "\\r"); break;
		case '\t': cg_buf_adds(b, "\\t"); break;
		default:
			if (*p < 0x20)
				cg_buf_addf(b, "\\u%04x", *p);
			else
				cg_buf_add(b, p, 1);
		}
	}
	cg_buf_add(b, "\"", 1);
}

void cg_buf_reset(struct cg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *cg_buf_detach(struct cg_buf *b)
{
	char *p = b->data ? b->data : cg_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void cg_buf_free(struct cg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int cg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *row = cg_xcalloc(lb + 1, sizeof(int));
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = prev + cost;
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			prev = cur;
		}
	}
	int d = row[lb];
	free(row);
	return d;
}
