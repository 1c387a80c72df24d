/*
 * common.c - what every part of the EC2 provider uses (see internal.h): the
 * API call, filters and tags, the look-up cache, DescribeInstances by the
 * cluster's tags, small list helpers.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

struct cache_ent {
	char *key, *value;
};

const char *ec2_cache_get(struct cg_provider *p, const char *key)
{
	const char *v = NULL;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->ncache; i++)
		if (!strcmp(p->cache[i].key, key))
			v = p->cache[i].value;	/* entries are never freed before close */
	pthread_mutex_unlock(&p->mu);
	return v;
}

void ec2_cache_put(struct cg_provider *p, const char *key, const char *value)
{
	pthread_mutex_lock(&p->mu);
	if (p->ncache == p->ccache) {
		p->ccache = p->ccache ? 2 * p->ccache : 16;
		p->cache = cg_xrealloc(p->cache, (size_t)p->ccache * sizeof(*p->cache));
	}
	p->cache[p->ncache].key = cg_xstrdup(key);
	p->cache[p->ncache].value = cg_xstrdup(value);
	p->ncache++;
	pthread_mutex_unlock(&p->mu);
}

void ec2_cache_free(struct cg_provider *p)
{
	for (int i = 0; i < p->ncache; i++) {
		free(p->cache[i].key);
		free(p->cache[i].value);
	}
	free(p->cache);
	p->cache = NULL;
	p->ncache = p->ccache = 0;
}

void ec2_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool ec2_interrupted_hard(struct cg_provider *p)
{
	return p->env && p->env->interrupted && *p->env->interrupted >= 2;
}

char *ec2_b64(const char *s)
{
	size_t n = strlen(s);
	char *out = cg_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

void ec2_add_filter(struct cg_ec2_params *pa, int *nf, const char *name, const char *const *vals,
		    int nvals)
{
	char k[64];
	(*nf)++;
	snprintf(k, sizeof(k), "Filter.%d.Name", *nf);
	cg_ec2_params_add(pa, k, name);
	for (int i = 0; i < nvals; i++) {
		snprintf(k, sizeof(k), "Filter.%d.Value.%d", *nf, i + 1);
		cg_ec2_params_add(pa, k, vals[i]);
	}
}

void ec2_add_filter1(struct cg_ec2_params *pa, int *nf, const char *name, const char *val)
{
	ec2_add_filter(pa, nf, name, &val, 1);
}

/* TagSpecification.<spec> with n key/value pairs. */
void ec2_add_tags(struct cg_ec2_params *pa, int spec, const char *type,
		  const char *const *kv, int n)
{
	char k[80];
	snprintf(k, sizeof(k), "TagSpecification.%d.ResourceType", spec);
	cg_ec2_params_add(pa, k, type);
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%d.Key", spec, i + 1);
		cg_ec2_params_add(pa, k, kv[2 * i]);
		snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%d.Value", spec, i + 1);
		cg_ec2_params_add(pa, k, kv[2 * i + 1]);
	}
}

int ec2_call(struct cg_provider *p, const char *region, const char *action,
	     struct cg_ec2_params *pa, unsigned flags, xmlDocPtr *doc,
	     struct cg_ec2_error *e, struct cg_err *err)
{
	struct cg_ec2_error local;
	return cg_ec2_call(p->cli, region, action, pa, flags, doc, e ? e : &local, err);
}

xmlNodePtr ec2_root(xmlDocPtr d)
{
	return d ? xmlDocGetRootElement(d) : NULL;
}

/* Value of tag key in a tagSet node. */
char *ec2_tag_value(xmlNodePtr it, const char *key)
{
	char kb[128];
	for (xmlNodePtr t = cg_xml_path(it, "tagSet/item"); t; t = cg_xml_next(t, "item"))
		if (!strcmp(cg_xml_textb(t, "key", kb, sizeof(kb)), key))
			return cg_xml_text(t, "value");
	return NULL;
}

char *ec2_sg_name(struct cg_provider *p, const char *region)
{
	return cg_ec2_sg_name(p->c->name, region, 0);
}

void ec2_progress(struct cg_ctx *ctx, const char *addr, const char *what)
{
	if (ctx && ctx->progress)
		ctx->progress(ctx, addr, "%s", what);
}

/* Comma list -> array of trimmed items (caller frees each and the array). */
int ec2_split_list(const char *s, char ***out)
{
	*out = NULL;
	int n = 0;
	if (!s)
		return 0;
	const char *q = s;
	while (*q) {
		const char *e = strchr(q, ',');
		size_t len = e ? (size_t)(e - q) : strlen(q);
		while (len && isspace((unsigned char)*q))
			q++, len--;
		while (len && isspace((unsigned char)q[len - 1]))
			len--;
		if (len) {
			*out = cg_xrealloc(*out, (size_t)(n + 1) * sizeof(char *));
			(*out)[n++] = cg_xstrndup(q, len);
		}
		q = e ? e + 1 : q + strlen(q);
	}
	return n;
}

void ec2_free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool ec2_in_list(char *const *v, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (v[i] && !strcmp(v[i], s))
			return true;
	return false;
}

int ec2_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *ec2_join_sorted(char **v, int n)
{
	if (n > 1)
		qsort(v, (size_t)n, sizeof(char *), ec2_cmp_str);
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "");
	for (int i = 0; i < n; i++)
		cg_buf_addf(&b, "%s%s", i ? "," : "", v[i]);
	return cg_buf_detach(&b);
}

void ec2_list_add_unique(char ***v, int *n, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = cg_xrealloc(*v, (size_t)(*n + 1) * sizeof(char *));
	(*v)[(*n)++] = cg_xstrdup(s);
}

/* The cluster's live instances for one node (or all, dc NULL), by tag. */
int ec2_describe_cluster(struct cg_provider *p, const char *region, const char *dc, int node,
			 bool include_stopped, xmlDocPtr **docs, int *ndocs, struct cg_err *err)
{
	return ec2_describe_tagged(p, region, p->c->name, dc, node, include_stopped, docs, ndocs,
				   err);
}

int ec2_describe_tagged(struct cg_provider *p, const char *region, const char *cluster,
			const char *dc, int node, bool include_stopped, xmlDocPtr **docs,
			int *ndocs, struct cg_err *err)
{
	*docs = NULL;
	*ndocs = 0;
	char *token = NULL;
	do {
		struct cg_ec2_params pa = { 0 };
		int nf = 0;
		if (cluster)
			ec2_add_filter1(&pa, &nf, "tag:" TAG_CLUSTER, cluster);
		else
			ec2_add_filter1(&pa, &nf, "tag-key", TAG_CLUSTER);
		if (dc) {
			ec2_add_filter1(&pa, &nf, "tag:" TAG_DC, dc);
			char nb[16];
			snprintf(nb, sizeof(nb), "%d", node < 0 ? -node : node);
			ec2_add_filter1(&pa, &nf, node < 0 ? "tag:" TAG_LOADER : "tag:" TAG_NODE, nb);
		}
		const char *states[] = { "pending", "running", "stopping", "stopped" };
		ec2_add_filter(&pa, &nf, "instance-state-name", states, include_stopped ? 4 : 2);
		cg_ec2_params_addf(&pa, "MaxResults", "%ld", p->page_size);
		if (token)
			cg_ec2_params_add(&pa, "NextToken", token);
		free(token);
		token = NULL;
		xmlDocPtr d = NULL;
		int rc = ec2_call(p, region, "DescribeInstances", &pa, 0, &d, NULL, err);
		cg_ec2_params_free(&pa);
		if (rc < 0) {
			for (int i = 0; i < *ndocs; i++)
				xmlFreeDoc((*docs)[i]);
			free(*docs);
			*docs = NULL;
			*ndocs = 0;
			return -1;
		}
		*docs = cg_xrealloc(*docs, (size_t)(*ndocs + 1) * sizeof(xmlDocPtr));
		(*docs)[(*ndocs)++] = d;
		token = cg_xml_text(ec2_root(d), "nextToken");
		if (token && !*token) {
			free(token);
			token = NULL;
		}
	} while (token);
	return 0;
}

void ec2_free_docs(xmlDocPtr *docs, int n)
{
	for (int i = 0; i < n; i++)
		xmlFreeDoc(docs[i]);
	free(docs);
}
