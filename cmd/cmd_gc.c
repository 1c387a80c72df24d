/*
 * cmd_gc.c - `cassandgo gc [--destroy-expired] [--json]`: every cluster
 * cassandgo made on AWS in the regions of the config, found by the tags on
 * its instances (not by the state file, which may be gone), with its age,
 * expiry and cost; with --destroy-expired, the ones past their expiry are
 * destroyed (instances, then security groups and key pairs) and forgotten
 * by the state.
 */
#include "cli.h"
#include "../planner/cost.h"
#include "../providers/registry.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One cluster found by its tags. */
struct found {
	char *name;
	struct cg_rset ms;		/* its instances */
	char **regions;
	int nregions;
	char *first_launch;		/* earliest launch_time */
	char *expires_at;		/* earliest expires_at tag; NULL: none */
	bool expired, recorded;
	struct cg_cost cost;
};

static int time_of(const char *iso, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}

static struct found *found_get(struct found **v, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return &(*v)[i];
	*v = cg_xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	struct found *f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->name = cg_xstrdup(name);
	cg_rset_init(&f->ms);
	return f;
}

static void found_free(struct found *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].name);
		cg_rset_free(&v[i].ms);
		for (int k = 0; k < v[i].nregions; k++)
			free(v[i].regions[k]);
		free(v[i].regions);
		free(v[i].first_launch);
		free(v[i].expires_at);
		cg_cost_free(&v[i].cost);
	}
	free(v);
}

/* "3h12m", "4d" */
static void age_str(time_t secs, char *buf, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, n, "%ldd%ldh", (long)(secs / 86400), (long)(secs % 86400 / 3600));
	else
		snprintf(buf, n, "%ldh%02ldm", (long)(secs / 3600), (long)(secs % 3600 / 60));
}

static void render_text(const struct found *v, int n, time_t now, struct cg_buf *b)
{
	if (!n) {
		cg_buf_adds(b, "No cluster of cassandgo's found in these regions.\n");
		return;
	}
	cg_buf_addf(b, "%-20s %5s %-9s %-21s %-8s %10s %10s  %s\n", "CLUSTER", "NODES", "AGE",
		    "EXPIRES (UTC)", "STATE", "USD/HOUR", "USD SO FAR", "REGIONS");
	for (int i = 0; i < n; i++) {
		const struct found *f = &v[i];
		time_t t;
		char age[32] = "?", regions[256] = "";
		if (time_of(f->first_launch, &t) == 0)
			age_str(now - t, age, sizeof(age));
		for (int k = 0; k < f->nregions; k++)
			snprintf(regions + strlen(regions), sizeof(regions) - strlen(regions), "%s%s",
				 k ? "," : "", f->regions[k]);
		cg_buf_addf(b, "%-20s %5d %-9s %-21s %-8s %10.4f %10.2f  %s\n", f->name, f->ms.n, age,
			    f->expires_at ? f->expires_at : "never", f->expired ? "EXPIRED" :
			    f->recorded ? "recorded" : "no state", f->cost.per_hour, f->cost.spent,
			    regions);
	}
}

static void render_json(const struct found *v, int n, struct cg_buf *b)
{
	cg_buf_adds(b, "{\"clusters\":[");
	for (int i = 0; i < n; i++) {
		const struct found *f = &v[i];
		cg_buf_adds(b, i ? ",{\"cluster\":" : "{\"cluster\":");
		cg_buf_add_json(b, f->name);
		cg_buf_addf(b, ",\"nodes\":%d,\"regions\":[", f->ms.n);
		for (int k = 0; k < f->nregions; k++) {
			if (k)
				cg_buf_adds(b, ",");
			cg_buf_add_json(b, f->regions[k]);
		}
		cg_buf_adds(b, "],\"launched\":");
		cg_buf_add_json(b, f->first_launch);
		cg_buf_adds(b, ",\"expires_at\":");
		cg_buf_add_json(b, f->expires_at);
		cg_buf_addf(b, ",\"expired\":%s,\"in_state\":%s,\"cost\":", f->expired ? "true" : "false",
			    f->recorded ? "true" : "false");
		cg_cost_render_json(&f->cost, b);
		cg_buf_adds(b, "}");
	}
	cg_buf_adds(b, "]}\n");
}

/* Forget every record of cluster name in the state (its world is gone). */
static int forget(struct cg_cli *cli, const char *name, struct cg_err *err)
{
	struct cg_state *st = NULL;
	struct cg_lock_info lock;
	struct cg_rset rs;
	cg_rset_init(&rs);
	if (cli_open_state(cli, false, &st, err) < 0)
		return -1;
	if (!st)
		return 0;
	char what[160];
	snprintf(what, sizeof(what), "gc %s", name);
	int rc = cg_state_lock(st, what, &lock, err);
	if (rc == 0) {
		rc = cg_state_load(st, name, &rs, err);
		for (int i = 0; rc == 0 && i < rs.n; i++)
			rc = cg_state_remove(st, name, rs.v[i].addr, NULL, NULL, err);
		struct cg_err uerr = {0};
		cg_state_unlock(st, lock.id, &uerr);
	}
	cg_rset_free(&rs);
	cg_state_close(st);
	return rc;
}

int cmd_gc(struct cg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"destroy-expired", no_argument, NULL, 'd'},
		{"auto-approve", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	bool destroy = false, yes = false, json = false;
	struct cg_err err = {0};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': destroy = true; break;
		case 'y': yes = true; break;
		case 'j': json = true; break;
		default: return cli_usage("gc", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("gc", "takes no CLUSTER: it looks at every region of the config");
	if (destroy && !yes && !cli->stdin_tty)
		return cli_usage("gc", "stdin is not a terminal, so cassandgo cannot ask for "
				 "confirmation: pass --auto-approve");
	if (cli_load_config(cli, &err) < 0)
		return cli_fail(&err);

	/* the regions of every AWS cluster of the config */
	const struct cg_cluster *aws = NULL;
	char **regions = NULL;
	int nregions = 0;
	for (int i = 0; i < cli->cfg->nclusters; i++) {
		const struct cg_cluster *cl = &cli->cfg->clusters[i];
		if (cl->provider != CG_PROVIDER_AWS)
			continue;
		aws = aws ? aws : cl;
		for (int d = 0; d < cl->ndcs; d++) {
			bool have = false;
			for (int k = 0; k < nregions && !have; k++)
				have = !strcmp(regions[k], cl->dcs[d].region);
			if (!have) {
				regions = cg_xrealloc(regions, (size_t)(nregions + 1) * sizeof(char *));
				regions[nregions++] = cl->dcs[d].region;
			}
		}
	}
	if (!aws) {
		free(regions);
		cg_error(&err, CG_EXIT_USAGE, "%s has no cluster with provider aws: gc looks in the "
			 "regions of those", cli->config_path);
		return cli_fail(&err);
	}
	struct cg_providers pv = cg_registry_providers(aws);
	if (!pv.infra || !pv.infra->inventory || !pv.infra->purge) {
		free(regions);
		cg_error(&err, CG_EXIT_ERROR, "this build has no provider that can list clusters");
		return cli_fail(&err);
	}
	struct cg_env env;
	cli_env(cli, aws->name, yes, &env);
	struct cg_provider *p = NULL;
	struct cg_rset all;
	cg_rset_init(&all);
	int rc = CG_EXIT_OK;
	if (pv.infra->open(&p, aws, &env, &err) < 0 ||
	    pv.infra->inventory(p, (const char *const *)regions, nregions, &all, &err) < 0) {
		if (p)
			pv.infra->close(p);
		cg_rset_free(&all);
		free(regions);
		return cli_fail(&err);
	}
	pv.infra->close(p);

	/* group by cluster; the state says which it still records */
	time_t now = time(NULL);
	struct found *fs = NULL;
	int nf = 0;
	for (int i = 0; i < all.n; i++) {
		const struct cg_resource *m = &all.v[i];
		struct found *f = found_get(&fs, &nf, cg_res_get(m, "cluster"));
		cg_rset_add(&f->ms, m);
		bool have = false;
		for (int k = 0; k < f->nregions && !have; k++)
			have = !strcmp(f->regions[k], m->region);
		if (!have) {
			f->regions = cg_xrealloc(f->regions, (size_t)(f->nregions + 1) * sizeof(char *));
			f->regions[f->nregions++] = cg_xstrdup(m->region);
		}
		const char *lt = cg_res_get(m, "launch_time"), *ex = cg_res_get(m, "expires_at");
		if (lt && (!f->first_launch || strcmp(lt, f->first_launch) < 0)) {
			free(f->first_launch);
			f->first_launch = cg_xstrdup(lt);
		}
		if (ex && (!f->expires_at || strcmp(ex, f->expires_at) < 0)) {
			free(f->expires_at);
			f->expires_at = cg_xstrdup(ex);
		}
	}
	struct cg_state *st = NULL;
	char **names = NULL;
	int nnames = 0;
	if (cli_open_state(cli, false, &st, &err) == 0 && st) {
		cg_state_clusters(st, &names, &nnames, &err);
		cg_state_close(st);
	}
	char *src = pv.infra->price_source ? pv.infra->price_source() : NULL;
	for (int i = 0; i < nf; i++) {
		struct found *f = &fs[i];
		time_t t;
		f->expired = f->expires_at && time_of(f->expires_at, &t) == 0 && t <= now;
		for (int k = 0; k < nnames; k++)
			f->recorded |= !strcmp(names[k], f->name);
		/* what runs costs; stopped instances cost their volumes only */
		struct cg_rset running;
		cg_rset_init(&running);
		for (int k = 0; k < f->ms.n; k++) {
			const char *s = cg_res_get(&f->ms.v[k], "state");
			if (s && (!strcmp(s, "running") || !strcmp(s, "pending")))
				cg_rset_add(&running, &f->ms.v[k]);
		}
		cg_cost_of(&running, pv.infra->hourly, src, &f->cost);
		cg_cost_spent(&f->cost, &running, pv.infra->hourly, now);
		cg_rset_free(&running);
	}
	free(src);
	for (int k = 0; k < nnames; k++)
		free(names[k]);
	free(names);

	struct cg_buf b = {0};
	if (json)
		render_json(fs, nf, &b);
	else
		render_text(fs, nf, now, &b);
	cli_print(b.data);
	cg_buf_free(&b);

	int nexp = 0;
	for (int i = 0; i < nf; i++)
		nexp += fs[i].expired;
	if (destroy && nexp && !yes) {
		char q[160];
		snprintf(q, sizeof(q), "\nDestroy the %d expired cluster%s above, whatever the state "
			 "says?", nexp, nexp == 1 ? "" : "s");
		if (!cli_confirm(cli, q)) {
			printf("gc cancelled.\n");
			destroy = false;
			rc = CG_EXIT_ERROR;
		}
	}
	for (int i = 0; destroy && i < nf && rc == CG_EXIT_OK; i++) {
		struct found *f = &fs[i];
		if (!f->expired)
			continue;
		/* the provider, opened as that cluster: its names and tags */
		struct cg_cluster target = *aws;
		target.name = f->name;
		p = NULL;
		if (pv.infra->open(&p, &target, &env, &err) < 0) {
			rc = cli_fail(&err);
			break;
		}
		fprintf(stderr, "gc: destroying expired cluster %s (%d instances)\n", f->name, f->ms.n);
		/* every region of the config: groups and key pairs outlive instances */
		for (int r = 0; r < nregions && rc == CG_EXIT_OK; r++)
			if (pv.infra->purge(p, regions[r], &err) < 0) {
				cg_error_wrap(&err, "gc %s in %s", f->name, regions[r]);
				rc = cli_fail(&err);
			}
		pv.infra->close(p);
		if (rc == CG_EXIT_OK && f->recorded && forget(cli, f->name, &err) < 0)
			rc = cli_fail(&err);
		if (rc == CG_EXIT_OK)
			printf("Destroyed expired cluster %s.\n", f->name);
	}
	found_free(fs, nf);
	cg_rset_free(&all);
	free(regions);
	return rc;
}
