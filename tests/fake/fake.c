/*
 * fake.c - the test provider: a world kept in a file (CG_FAKE_WORLD), so
 * that successive cassandgo processes see the same "cloud". Test code only:
 * linked into build/cassandgo-test and the unit tests, never into cassandgo.
 *
 * Knobs (environment):
 *   CG_FAKE_WORLD=FILE        the world (required)
 *   CG_FAKE_FAIL=a,b          apply on these addresses fails
 *   CG_FAKE_CRASH_AFTER=N     SIGKILL ourselves right after the N-th world
 *                             write of this process (a crash between the
 *                             cloud call and the state write)
 *   CG_FAKE_SLEEP_MS=N        each apply takes N ms
 *   CG_FAKE_EMPTY_REFRESH=1   refresh finds nothing
 */
#include "fake.h"
#include "../../planner/cassconf.h"
#include "../../planner/monitoring.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct cg_provider {
	char *world;
	char *cluster;
	const struct cg_cluster *c;
	pthread_mutex_t mu;
	int writes;
	int crash_after;
	int sleep_ms;
	char *fail;
};

/* world file: first line "counter N", then one resource per line:
 * cluster \t addr \t kind \t id \t region \t dc \t node {\t key=value} */
static int world_load(struct cg_provider *p, long *counter, struct cg_rset *all,
		      char ***clusters, struct cg_err *err)
{
	FILE *f = fopen(p->world, "r");
	*counter = 0;
	if (!f)
		return errno == ENOENT ? 0 : cg_error(err, 1, "fake world %s: %s", p->world,
						      strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "counter ", 8)) {
			*counter = atol(line + 8);
			continue;
		}
		char *save = NULL;
		char *f0 = strtok_r(line, "\t", &save);
		char *addr = strtok_r(NULL, "\t", &save);
		char *kind = strtok_r(NULL, "\t", &save);
		char *id = strtok_r(NULL, "\t", &save);
		char *region = strtok_r(NULL, "\t", &save);
		char *dc = strtok_r(NULL, "\t", &save);
		char *node = strtok_r(NULL, "\t", &save);
		if (!node)
			continue;
		struct cg_resource *r = cg_rset_new(all, cg_kind_parse(kind), addr);
		if (strcmp(id, "-"))
			r->id = cg_xstrdup(id);
		if (strcmp(region, "-"))
			r->region = cg_xstrdup(region);
		if (strcmp(dc, "-"))
			r->dc = cg_xstrdup(dc);
		r->node = atoi(node);
		for (char *kv; (kv = strtok_r(NULL, "\t", &save));) {
			char *eq = strchr(kv, '=');
			if (!eq)
				continue;
			*eq = '\0';
			cg_res_set(r, kv, eq + 1, 0);
		}
		*clusters = cg_xrealloc(*clusters, (size_t)(n + 1) * sizeof(char *));
		(*clusters)[n++] = cg_xstrdup(f0);
	}
	free(line);
	fclose(f);
	return 0;
}

static int world_save(struct cg_provider *p, long counter, const struct cg_rset *all,
		      char **clusters, struct cg_err *err)
{
	struct cg_buf b = {0};
	cg_buf_addf(&b, "counter %ld\n", counter);
	for (int i = 0; i < all->n; i++) {
		const struct cg_resource *r = &all->v[i];
		cg_buf_addf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%d", clusters[i], r->addr,
			    cg_kind_name(r->kind), r->id ? r->id : "-", r->region ? r->region : "-",
			    r->dc ? r->dc : "-", r->node);
		for (int k = 0; k < r->nattrs; k++)
			if (r->attrs[k].value)
				cg_buf_addf(&b, "\t%s=%s", r->attrs[k].key, r->attrs[k].value);
		cg_buf_adds(&b, "\n");
	}
	int rc = cg_file_write_atomic(p->world, b.data, b.len, 0600, err);
	cg_buf_free(&b);
	return rc;
}

struct world {
	long counter;
	struct cg_rset all;
	char **clusters;
	int lockfd;
};

static int world_open(struct cg_provider *p, struct world *w, struct cg_err *err)
{
	char *lk = cg_xasprintf("%s.lock", p->world);
	memset(w, 0, sizeof(*w));
	cg_rset_init(&w->all);
	pthread_mutex_lock(&p->mu);
	w->lockfd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lk);
	if (w->lockfd < 0 || flock(w->lockfd, LOCK_EX) < 0) {
		pthread_mutex_unlock(&p->mu);
		return cg_error(err, 1, "fake world lock: %s", strerror(errno));
	}
	return world_load(p, &w->counter, &w->all, &w->clusters, err);
}

static void world_close(struct cg_provider *p, struct world *w)
{
	for (int i = 0; i < w->all.n; i++)
		free(w->clusters[i]);
	free(w->clusters);
	cg_rset_free(&w->all);
	if (w->lockfd >= 0)
		close(w->lockfd);
	pthread_mutex_unlock(&p->mu);
}

static int world_commit(struct cg_provider *p, struct world *w, struct cg_err *err)
{
	if (world_save(p, w->counter, &w->all, w->clusters, err) < 0)
		return -1;
	p->writes++;
	if (p->crash_after && p->writes >= p->crash_after)
		kill(getpid(), SIGKILL);
	return 0;
}

static void drop_at(struct world *w, int i)
{
	free(w->clusters[i]);
	w->clusters[i] = w->clusters[w->all.n - 1];
	cg_rset_remove_at(&w->all, i);
}

static int fake_open(struct cg_provider **out, const struct cg_cluster *c,
		     const struct cg_env *env, struct cg_err *err)
{
	(void)env;
	const char *w = getenv("CG_FAKE_WORLD");
	if (!w || !*w)
		return cg_error(err, 1, "test provider: CG_FAKE_WORLD is not set");
	struct cg_provider *p = cg_xcalloc(1, sizeof(*p));
	p->world = cg_xstrdup(w);
	p->cluster = cg_xstrdup(c->name);
	p->c = c;
	pthread_mutex_init(&p->mu, NULL);
	p->crash_after = getenv("CG_FAKE_CRASH_AFTER") ? atoi(getenv("CG_FAKE_CRASH_AFTER")) : 0;
	p->sleep_ms = getenv("CG_FAKE_SLEEP_MS") ? atoi(getenv("CG_FAKE_SLEEP_MS")) : 0;
	p->fail = cg_xstrdup(getenv("CG_FAKE_FAIL"));
	*out = p;
	return 0;
}

static void fake_close(struct cg_provider *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->world);
	free(p->cluster);
	free(p->fail);
	free(p);
}

static int fake_zones(struct cg_provider *p, const char *region, char ***zones, int *n,
		      struct cg_err *err)
{
	(void)p;
	(void)err;
	*zones = cg_xcalloc(3, sizeof(char *));
	for (int i = 0; i < 3; i++)
		(*zones)[i] = cg_xasprintf("%s%c", region, 'a' + i);
	*n = 3;
	return 0;
}

/* Like the real refresh: keyspaces are read for those recorded or
 * declared only (one forgotten stays in Cassandra, unseen). */
static bool keyspace_seen(const struct cg_provider *p, const struct cg_rset *known,
			  const struct cg_resource *r)
{
	if (cg_rset_find(known, r->addr))
		return true;
	for (int k = 0; k < p->c->nkeyspaces; k++)
		if (!strcmp(r->addr + strlen("keyspace."), p->c->keyspaces[k].name))
			return true;
	return false;
}

static int fake_refresh(struct cg_provider *p, const struct cg_rset *known, struct cg_rset *live,
			struct cg_err *err)
{
	struct world w;
	if (getenv("CG_FAKE_EMPTY_REFRESH"))
		return 0;
	if (world_open(p, &w, err) < 0) {
		world_close(p, &w);
		return -1;
	}
	for (int i = 0; i < w.all.n; i++)
		if (!strcmp(w.clusters[i], p->cluster) &&
		    (w.all.v[i].kind != CG_KIND_KEYSPACE || keyspace_seen(p, known, &w.all.v[i])) &&
		    /* a DC's check: what the state records (as the bootstrap
		     * provider carries it) */
		    (w.all.v[i].kind != CG_KIND_DATACENTER || cg_rset_find(known, w.all.v[i].addr)))
			cg_rset_add(live, &w.all.v[i]);
	world_close(p, &w);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool listed(const char *list, const char *addr)
{
	if (!list)
		return false;
	size_t n = strlen(addr);
	for (const char *s = list; (s = strstr(s, addr)); s += n)
		if ((s == list || s[-1] == ',') && (s[n] == ',' || s[n] == '\0'))
			return true;
	return false;
}

/* The config hash as the real bootstrap computes it: render from what
 * exists now. */
static void config_hash(struct cg_ctx *ctx, const struct cg_resource *d, struct cg_resource *r)
{
	const struct cg_cluster *c = ctx->cluster;
	struct cg_rset machines;
	struct cg_node_spec spec;
	struct cg_err e = {0};
	int dci = -1;
	cg_rset_init(&machines);
	ctx->list(ctx, CG_KIND_MACHINE, &machines);
	for (int i = 0; i < c->ndcs; i++)
		if (d->dc && !strcmp(c->dcs[i].name, d->dc))
			dci = i;
	const char *mode = cg_res_get(d, "mode");
	if (dci >= 0 && cg_cassconf_spec(c, dci, d->node, &machines,
					 cg_cassconf_mode_new(mode), &spec, &e) == 1) {
		struct cg_node_files f;
		cg_cassconf_mode_set(&spec, mode);
		if (cg_cassconf_render(&spec, &f, &e) == 0) {
			char hex[17];
			cg_hash_hex(f.hash, hex);
			cg_res_set(r, "hash", hex, 0);
			cg_res_set(r, "seeds", f.seeds, 0);
			cg_node_files_free(&f);
		}
	}
	cg_cassconf_spec_clear(&spec);
	cg_rset_free(&machines);
}

/* The monitoring targets' hash as the real bootstrap computes it. */
static void monitoring_targets(struct cg_ctx *ctx, struct cg_resource *r)
{
	struct cg_rset machines;
	char **t;
	cg_rset_init(&machines);
	ctx->list(ctx, CG_KIND_MACHINE, &machines);
	int n = cg_monitoring_targets(ctx->cluster, &machines, &t);
	if (n >= 0) {
		char *yml = cg_monitoring_prometheus_yml(ctx->cluster->name, t, n);
		char hex[17];
		cg_hash_hex(cg_hash64(yml, strlen(yml)), hex);
		cg_res_set(r, "targets", hex, 0);
		free(yml);
		cg_monitoring_targets_free(t, n);
	}
	cg_rset_free(&machines);
}

static int fake_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		      const struct cg_resource *desired, const struct cg_resource *current,
		      struct cg_resource *result, struct cg_err *err)
{
	const char *addr = desired ? desired->addr : current->addr;
	struct world w;
	int rc = 0;

	if (p->sleep_ms) {
		struct timespec ts = {p->sleep_ms / 1000, (long)(p->sleep_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (listed(p->fail, addr))
		return cg_error(err, 1, "injected failure on %s", addr);
	if (world_open(p, &w, err) < 0) {
		world_close(p, &w);
		return -1;
	}
	int at = -1;
	for (int i = 0; i < w.all.n; i++)
		if (!strcmp(w.clusters[i], p->cluster) && !strcmp(w.all.v[i].addr, addr) &&
		    (op != CG_OP_DELETE || !current->id || !w.all.v[i].id ||
		     !strcmp(current->id, w.all.v[i].id)))
			at = i;
	if (op == CG_OP_DELETE) {
		if (at >= 0) {
			/* like a terminated instance: what ran on it goes too */
			const struct cg_resource *x = &w.all.v[at];
			char *node = x->kind == CG_KIND_MACHINE ? cg_xstrdup(strchr(x->addr, '.')) : NULL;
			char *region = x->kind == CG_KIND_NETWORK ? cg_xstrdup(x->region) : NULL;
			drop_at(&w, at);
			for (int i = w.all.n - 1; i >= 0; i--) {
				const struct cg_resource *y = &w.all.v[i];
				const char *dot = strchr(y->addr, '.');
				if (strcmp(w.clusters[i], p->cluster))
					continue;
				if ((node && dot && !strcmp(dot, node) && y->kind != CG_KIND_MACHINE) ||
				    (region && y->kind == CG_KIND_PEERS && y->region &&
				     !strcmp(y->region, region)))
					drop_at(&w, i);
			}
			int machines = 0;
			for (int i = 0; i < w.all.n; i++)
				if (!strcmp(w.clusters[i], p->cluster) && w.all.v[i].kind == CG_KIND_MACHINE)
					machines++;
			for (int i = w.all.n - 1; node && !machines && i >= 0; i--)
				if (!strcmp(w.clusters[i], p->cluster) &&
				    (w.all.v[i].kind == CG_KIND_RING || w.all.v[i].kind == CG_KIND_AUTH ||
				     w.all.v[i].kind == CG_KIND_SYSTEM || w.all.v[i].kind == CG_KIND_DATACENTER))
					drop_at(&w, i);
			free(node);
			free(region);
			rc = world_commit(p, &w, err);
		}
		world_close(p, &w);
		return rc;
	}
	if (at >= 0 && op == CG_OP_CREATE && cg_kind_instance(desired->kind)) {
		/* found by its tags: adopt, do not duplicate */
		cg_res_copy(result, &w.all.v[at]);
		world_close(p, &w);
		return 0;
	}
	struct cg_resource r;
	cg_res_copy(&r, desired);
	if (at >= 0 && w.all.v[at].id)
		cg_res_set_id(&r, w.all.v[at].id);
	if (!r.id && (cg_kind_instance(desired->kind) || desired->kind == CG_KIND_NETWORK ||
		      desired->kind == CG_KIND_KEYPAIR)) {
		char id[32];
		snprintf(id, sizeof(id), "fake-%ld", ++w.counter);
		cg_res_set_id(&r, id);
	}
	if (cg_kind_instance(desired->kind)) {
		const char *old = at >= 0 ? cg_res_get(&w.all.v[at], "private_ip") : NULL;
		long n = w.counter;
		if (old) {
			cg_res_set(&r, "private_ip", old, 0);
		} else {
			cg_res_setf(&r, "private_ip", 0, "10.%ld.%ld.%ld", 10 + n / 65536,
				    (n / 256) % 256, n % 256);
		}
		cg_res_setf(&r, "public_ip", 0, "198.51.%ld.%ld", (n / 256) % 256, n % 256);
		cg_res_setf(&r, "host_key", 0, "ssh-ed25519 FAKEHOSTKEY%ld", n);
		cg_res_set(&r, "base_dir", "/var/lib/cassandgo", 0);
		cg_res_set(&r, "lib_dir", "/usr/share/cassandra/lib", 0);
	}
	if (desired->kind == CG_KIND_KEYPAIR)
		cg_res_set(&r, "key_file", "/nonexistent/fake-key", 0);
	if (desired->kind == CG_KIND_CONFIG)
		config_hash(ctx, desired, &r);
	if (desired->kind == CG_KIND_MONITORING)
		monitoring_targets(ctx, &r);
	if (desired->kind == CG_KIND_SERVICE) {
		char *caddr = cg_xasprintf("config.%s.n%d", desired->dc, desired->node);
		struct cg_resource cfg;
		if (ctx->lookup(ctx, caddr, &cfg) == 0) {
			cg_res_set(&r, "config_hash", cg_res_get(&cfg, "hash"), 0);
			cg_res_clear(&cfg);
		}
		free(caddr);
		cg_res_set(&r, "running", "true", 0);
	}
	if (desired->kind == CG_KIND_PEERS) {
		/* like the real one: computed from the machines at apply time */
		const char *cidrs = cg_res_get(desired, "cidrs");
		if (!cidrs) {
			struct cg_rset ms;
			struct cg_buf b = {0};
			cg_rset_init(&ms);
			ctx->list(ctx, CG_KIND_MACHINE, &ms);
			char **ips = cg_xcalloc((size_t)ms.n + 1, sizeof(char *));
			int n = 0;
			for (int i = 0; i < ms.n; i++)
				if (ms.v[i].region && strcmp(ms.v[i].region, desired->region) &&
				    cg_res_get(&ms.v[i], "public_ip"))
					ips[n++] = cg_xasprintf("%s/32", cg_res_get(&ms.v[i], "public_ip"));
			qsort(ips, (size_t)n, sizeof(char *), cmp_str);
			for (int i = 0; i < n; i++) {
				cg_buf_addf(&b, "%s%s", b.len ? "," : "", ips[i]);
				free(ips[i]);
			}
			free(ips);
			cg_res_set(&r, "cidrs", b.data ? b.data : "", 0);
			cg_buf_free(&b);
			cg_rset_free(&ms);
		}
	}
	for (int i = r.ndeps - 1; i >= 0; i--)
		free(r.deps[i]);
	free(r.deps);
	r.deps = NULL;
	r.ndeps = 0;
	ctx->progress(ctx, addr, "%s %s", cg_op_name(op), r.id ? r.id : "");
	if (at >= 0) {
		cg_res_clear(&w.all.v[at]);
		cg_res_copy(&w.all.v[at], &r);
	} else {
		cg_rset_add(&w.all, &r);
		w.clusters = cg_xrealloc(w.clusters, (size_t)w.all.n * sizeof(char *));
		w.clusters[w.all.n - 1] = cg_xstrdup(p->cluster);
	}
	rc = world_commit(p, &w, err);
	world_close(p, &w);
	if (rc == 0)
		*result = r;
	else
		cg_res_clear(&r);
	(void)current;
	return rc;
}

const struct cg_provider_ops cg_provider_fake = {
	.name = "test",
	.kinds = ~0u,
	.open = fake_open,
	.close = fake_close,
	.zones = fake_zones,
	.refresh = fake_refresh,
	.apply = fake_apply,
};
