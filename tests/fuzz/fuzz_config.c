/*
 * fuzz_config.c - libFuzzer target: the config loader (planner/config.c) on
 * arbitrary cassandgo.yaml bytes, then the desired model of every cluster
 * it accepts (validation promises that an accepted config cannot break what
 * is built from it).
 */
#include "fuzz.h"

#include "../../planner/config.h"
#include "../../planner/model.h"

/* Model building renders every node's files; beyond this many nodes a run
 * costs milliseconds and says nothing new. */
#define MODEL_MAX_NODES 64

static void build_model(const struct cg_cluster *c)
{
	int total = 0;
	for (int d = 0; d < c->ndcs; d++)
		total += c->dcs[d].nodes;
	if (total > MODEL_MAX_NODES)
		return;
	/* zones as a provider would give them, for DCs that list none */
	struct cg_zonemap zm = {0};
	for (int d = 0; d < c->ndcs; d++) {
		char *z[2] = {cg_xasprintf("%sa", c->dcs[d].region),
			      cg_xasprintf("%sb", c->dcs[d].region)};
		cg_zonemap_add(&zm, c->dcs[d].region, z, 2);
		free(z[0]);
		free(z[1]);
	}
	struct cg_rset desired;
	struct cg_err err = {0};
	cg_rset_init(&desired);
	(void)cg_model_build(c, &zm, NULL, ~0u, &desired, &err);
	cg_rset_free(&desired);
	cg_zonemap_free(&zm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(data, size);
	struct cg_config *cfg = NULL;
	struct cg_err err = {0};
	if (cg_config_load(path, &cfg, &err) < 0) {
		/* config.h: code 65, "FILE:..." message, *out untouched */
		FUZZ_ASSERT(!cfg);
		FUZZ_ASSERT(err.code == CG_EXIT_CONFIG);
		FUZZ_ASSERT(!strncmp(err.msg, path, strlen(path)));
		return 0;
	}
	FUZZ_ASSERT(cfg && cfg->nclusters > 0);
	for (int i = 0; i < cfg->nclusters; i++) {
		const struct cg_cluster *c = cg_config_cluster(cfg, cfg->clusters[i].name, &err);
		FUZZ_ASSERT(c == &cfg->clusters[i]);
		FUZZ_ASSERT(c->ndcs > 0);
		build_model(c);
	}
	FUZZ_ASSERT(!cg_config_cluster(cfg, "", &err));
	cg_config_free(cfg);
	return 0;
}
