/*
 * mkstate.c - benchmark fixture: record a converged cluster in a state
 * file, as if it had been applied (no provider involved).
 * usage: mkstate CONFIG CLUSTER STATE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../planner/model.h"
#include "../../state/state.h"

int main(int argc, char **argv)
{
	struct cg_config *cfg;
	struct cg_err err = {0};
	struct cg_state *st;
	struct cg_zonemap zm = {0};
	struct cg_rset d0, world, d1;

	if (argc != 4) {
		fprintf(stderr, "usage: mkstate CONFIG CLUSTER STATE\n");
		return 64;
	}
	if (cg_config_load(argv[1], &cfg, &err) < 0 || !cg_config_cluster(cfg, argv[2], &err) ||
	    cg_state_open(&st, argv[3], 1, &err) < 0) {
		fprintf(stderr, "mkstate: %s\n", err.msg);
		return 1;
	}
	const struct cg_cluster *c = cg_config_cluster(cfg, argv[2], &err);
	for (int d = 0; d < c->ndcs; d++) {
		char *z[3];
		for (int k = 0; k < 3; k++)
			z[k] = cg_xasprintf("%s%c", c->dcs[d].region, 'a' + k);
		cg_zonemap_add(&zm, c->dcs[d].region, z, 3);
		for (int k = 0; k < 3; k++)
			free(z[k]);
	}
	cg_rset_init(&d0);
	cg_rset_init(&world);
	cg_rset_init(&d1);
	if (cg_model_build(c, &zm, NULL, ~0u, &d0, &err) < 0)
		goto fail;
	for (int i = 0; i < d0.n; i++) {
		struct cg_resource *r = cg_rset_add(&world, &d0.v[i]);
		if (r->kind == CG_KIND_MACHINE) {
			cg_res_setf(r, "private_ip", 0, "10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256, i % 256);
			cg_res_setf(r, "public_ip", 0, "198.51.%d.%d", (i / 256) % 256, i % 256);
			cg_res_set(r, "host_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBENCH", 0);
			cg_res_set(r, "base_dir", "/var/lib/cassandgo", 0);
			cg_res_set(r, "lib_dir", "/usr/share/cassandra/lib", 0);
		}
		if (r->kind == CG_KIND_MACHINE || r->kind == CG_KIND_NETWORK || r->kind == CG_KIND_KEYPAIR) {
			char id[32];
			snprintf(id, sizeof(id), "id-%08d", i);
			cg_res_set_id(r, id);
		}
	}
	/* with the addresses known, the rendered configs' hashes */
	if (cg_model_build(c, &zm, &world, ~0u, &d1, &err) < 0)
		goto fail;
	for (int i = 0; i < d1.n; i++) {
		struct cg_resource *w = cg_rset_find(&world, d1.v[i].addr);
		for (int k = 0; k < d1.v[i].nattrs; k++)
			if (d1.v[i].attrs[k].value)
				cg_res_set(w, d1.v[i].attrs[k].key, d1.v[i].attrs[k].value,
					   d1.v[i].attrs[k].flags);
		for (int k = 0; k < w->ndeps; k++)
			free(w->deps[k]);
		free(w->deps);
		w->deps = NULL;
		w->ndeps = 0;
	}
	if (cg_state_put_all(st, c->name, &world, NULL, &err) < 0)
		goto fail;
	printf("recorded %d resources of %s\n", world.n, c->name);
	cg_state_close(st);
	cg_rset_free(&d0);
	cg_rset_free(&d1);
	cg_rset_free(&world);
	cg_zonemap_free(&zm);
	cg_config_free(cfg);
	return 0;
fail:
	fprintf(stderr, "mkstate: %s\n", err.msg);
	return 1;
}
