/* resource.c - resources and resource sets (see model.h). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[CG_KIND__COUNT] = {
	"network", "peers", "keypair", "machine", "install",
	"config", "service", "ring", "monitoring", "auth", "keyspace",
	"system_keyspaces", "rebuild", "datacenter", "loader",
};

const char *cg_kind_name(enum cg_kind k)
{
	return (unsigned)k < CG_KIND__COUNT ? kind_names[k] : "?";
}

int cg_kind_parse(const char *s)
{
	for (int i = 0; i < CG_KIND__COUNT; i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	return -1;
}

const char *cg_op_name(enum cg_op op)
{
	switch (op) {
	case CG_OP_NOOP: return "no-op";
	case CG_OP_CREATE: return "create";
	case CG_OP_UPDATE: return "update";
	case CG_OP_REPLACE: return "replace";
	case CG_OP_DELETE: return "delete";
	}
	return "?";
}

void cg_res_init(struct cg_resource *r, enum cg_kind kind, const char *addr)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->addr = cg_xstrdup(addr);
}

void cg_res_clear(struct cg_resource *r)
{
	free(r->addr);
	free(r->region);
	free(r->dc);
	free(r->id);
	for (int i = 0; i < r->nattrs; i++) {
		free(r->attrs[i].key);
		free(r->attrs[i].value);
	}
	free(r->attrs);
	for (int i = 0; i < r->ndeps; i++)
		free(r->deps[i]);
	free(r->deps);
	memset(r, 0, sizeof(*r));
}

void cg_res_copy(struct cg_resource *dst, const struct cg_resource *src)
{
	cg_res_init(dst, src->kind, src->addr);
	dst->region = cg_xstrdup(src->region);
	dst->dc = cg_xstrdup(src->dc);
	dst->node = src->node;
	dst->id = cg_xstrdup(src->id);
	if (src->nattrs) {
		dst->attrs = cg_xcalloc((size_t)src->nattrs, sizeof(*dst->attrs));
		dst->cattrs = dst->nattrs = src->nattrs;
		for (int i = 0; i < src->nattrs; i++) {
			dst->attrs[i].key = cg_xstrdup(src->attrs[i].key);
			dst->attrs[i].value = cg_xstrdup(src->attrs[i].value);
			dst->attrs[i].flags = src->attrs[i].flags;
		}
	}
	for (int i = 0; i < src->ndeps; i++)
		cg_res_add_dep(dst, src->deps[i]);
}

void cg_res_set_id(struct cg_resource *r, const char *id)
{
	char *v = cg_xstrdup(id);
	free(r->id);
	r->id = v;
}

const struct cg_attr *cg_res_attr(const struct cg_resource *r, const char *key)
{
	for (int i = 0; i < r->nattrs; i++)
		if (!strcmp(r->attrs[i].key, key))
			return &r->attrs[i];
	return NULL;
}

const char *cg_res_get(const struct cg_resource *r, const char *key)
{
	const struct cg_attr *a = cg_res_attr(r, key);
	return a ? a->value : NULL;
}

void cg_res_set(struct cg_resource *r, const char *key, const char *value, unsigned flags)
{
	char *v = cg_xstrdup(value);
	for (int i = 0; i < r->nattrs; i++) {
		if (!strcmp(r->attrs[i].key, key)) {
			free(r->attrs[i].value);
			r->attrs[i].value = v;
			r->attrs[i].flags = flags;
			return;
		}
	}
	if (r->nattrs == r->cattrs) {
		r->cattrs = r->cattrs ? r->cattrs * 2 : 8;
		r->attrs = cg_xrealloc(r->attrs, (size_t)r->cattrs * sizeof(*r->attrs));
	}
	r->attrs[r->nattrs].key = cg_xstrdup(key);
	r->attrs[r->nattrs].value = v;
	r->attrs[r->nattrs].flags = flags;
	r->nattrs++;
}

void cg_res_setf(struct cg_resource *r, const char *key, unsigned flags, const char *fmt, ...)
{
	struct cg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	cg_res_set(r, key, b.data ? b.data : "", flags);
	cg_buf_free(&b);
}

void cg_res_add_dep(struct cg_resource *r, const char *addr)
{
	for (int i = 0; i < r->ndeps; i++)
		if (!strcmp(r->deps[i], addr))
			return;
	r->deps = cg_xrealloc(r->deps, (size_t)(r->ndeps + 1) * sizeof(char *));
	r->deps[r->ndeps++] = cg_xstrdup(addr);
}

char *cg_addr_node(enum cg_kind kind, const char *dc, int node)
{
	return cg_xasprintf("%s.%s.n%d", cg_kind_name(kind), dc, node);
}

char *cg_addr_region(enum cg_kind kind, const char *region)
{
	return cg_xasprintf("%s.%s", cg_kind_name(kind), region);
}

/* --- sets ------------------------------------------------------------- */

void cg_rset_init(struct cg_rset *s)
{
	memset(s, 0, sizeof(*s));
}

void cg_rset_free(struct cg_rset *s)
{
	for (int i = 0; i < s->n; i++)
		cg_res_clear(&s->v[i]);
	free(s->v);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

static void index_insert(struct cg_rset *s, int i)
{
	uint64_t h = cg_hash64(s->v[i].addr, strlen(s->v[i].addr));
	int mask = s->index_cap - 1;
	for (int p = (int)(h & (uint64_t)mask);; p = (p + 1) & mask) {
		if (s->index[p] < 0) {
			s->index[p] = i;
			return;
		}
		/* keep the first of duplicates: later ones are found by scanning */
		if (!strcmp(s->v[s->index[p]].addr, s->v[i].addr))
			return;
	}
}

static void index_rebuild(struct cg_rset *s)
{
	int cap = 64;
	while (cap < s->n * 2 + 2)
		cap *= 2;
	free(s->index);
	s->index = cg_xmalloc((size_t)cap * sizeof(int));
	s->index_cap = cap;
	for (int i = 0; i < cap; i++)
		s->index[i] = -1;
	for (int i = 0; i < s->n; i++)
		index_insert(s, i);
}

static struct cg_resource *rset_slot(struct cg_rset *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = cg_xrealloc(s->v, (size_t)s->cap * sizeof(*s->v));
	}
	return &s->v[s->n++];
}

static void rset_added(struct cg_rset *s)
{
	if (s->index_cap < s->n * 2 + 2)
		index_rebuild(s);
	else
		index_insert(s, s->n - 1);
}

struct cg_resource *cg_rset_add(struct cg_rset *s, const struct cg_resource *r)
{
	struct cg_resource *dst = rset_slot(s);
	cg_res_copy(dst, r);
	rset_added(s);
	return &s->v[s->n - 1];
}

struct cg_resource *cg_rset_new(struct cg_rset *s, enum cg_kind kind, const char *addr)
{
	struct cg_resource *dst = rset_slot(s);
	cg_res_init(dst, kind, addr);
	rset_added(s);
	return &s->v[s->n - 1];
}

struct cg_resource *cg_rset_find(const struct cg_rset *s, const char *addr)
{
	if (!s || !s->n || !s->index)
		return NULL;
	uint64_t h = cg_hash64(addr, strlen(addr));
	int mask = s->index_cap - 1;
	for (int p = (int)(h & (uint64_t)mask);; p = (p + 1) & mask) {
		int i = s->index[p];
		if (i < 0)
			return NULL;
		if (!strcmp(s->v[i].addr, addr))
			return &s->v[i];
	}
}

void cg_rset_remove_at(struct cg_rset *s, int i)
{
	cg_res_clear(&s->v[i]);
	if (i != s->n - 1)
		s->v[i] = s->v[s->n - 1];
	s->n--;
	index_rebuild(s);
}

/* --- zones ------------------------------------------------------------ */

void cg_zonemap_add(struct cg_zonemap *m, const char *region, char *const *zones, int n)
{
	m->v = cg_xrealloc(m->v, (size_t)(m->n + 1) * sizeof(*m->v));
	m->v[m->n].region = cg_xstrdup(region);
	m->v[m->n].zones = cg_xcalloc((size_t)(n ? n : 1), sizeof(char *));
	for (int i = 0; i < n; i++)
		m->v[m->n].zones[i] = cg_xstrdup(zones[i]);
	m->v[m->n].n = n;
	m->n++;
}

const char *const *cg_zonemap_get(const struct cg_zonemap *m, const char *region, int *n)
{
	for (int i = 0; m && i < m->n; i++) {
		if (!strcmp(m->v[i].region, region)) {
			*n = m->v[i].n;
			return (const char *const *)m->v[i].zones;
		}
	}
	*n = 0;
	return NULL;
}

void cg_zonemap_free(struct cg_zonemap *m)
{
	for (int i = 0; i < m->n; i++) {
		for (int j = 0; j < m->v[i].n; j++)
			free(m->v[i].zones[j]);
		free(m->v[i].zones);
		free(m->v[i].region);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
