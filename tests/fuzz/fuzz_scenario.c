/*
 * fuzz_scenario.c - libFuzzer target: the scenario loader (planner/scenario.c,
 * over the YAML tree of planner/yaml_tree.c) on arbitrary bytes, validated
 * against a Lab like examples/lab.yaml (2 DCs of 2 nodes, zones listed) and
 * a DC whose zones the provider picks. Checks the contract: an error is code
 * 65 with "FILE:..." and *out untouched; an accepted scenario has its load,
 * at least one DC, and faults sorted by time within the load, each with a
 * target and the argument its kind needs.
 */
#include "fuzz.h"

#include "../../planner/scenario.h"

static const char cluster_yaml[] =
	"Lab:\n"
	"  provider: local\n"
	"  network: 10.77.0.0/16\n"
	"  datacenters:\n"
	"    - {datacenter: DC1, region: lab-east, zones: [a, b], nodes: 2, seeds: 1}\n"
	"    - {datacenter: DC2, region: lab-west, zones: [a, b], nodes: 2, seeds: 1}\n"
	"Cloud:\n"
	"  - {datacenter: eu, region: eu-west-1, nodes: 3}\n";

static struct cg_config *cfg;

static void load_clusters(void)
{
	int fd = memfd_create("cassandgo-fuzz-config", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, cluster_yaml, sizeof(cluster_yaml) - 1) ==
		    (ssize_t)(sizeof(cluster_yaml) - 1));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct cg_err err = {0};
	if (cg_config_load(path, &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg)
		load_clusters();
	const char *path = fuzz_path(data, size);
	for (int c = 0; c < cfg->nclusters; c++) {
		const struct cg_cluster *cl = &cfg->clusters[c];
		struct cg_scenario *s = NULL;
		struct cg_err err = {0};
		if (cg_scenario_load(path, cl, &s, &err) < 0) {
			FUZZ_ASSERT(!s);
			FUZZ_ASSERT(err.code == CG_EXIT_CONFIG);
			FUZZ_ASSERT(!strncmp(err.msg, path, strlen(path)));
			FUZZ_ASSERT(strstr(err.msg, "; expected "));
			continue;
		}
		FUZZ_ASSERT(s && s->duration_s >= 1 && s->rate > 0 && s->consistency);
		FUZZ_ASSERT(s->ndcs >= 1 && s->ndcs <= cl->ndcs);
		struct cg_buf b = {0};
		for (int i = 0; i < s->nfaults; i++) {
			const struct cg_scenario_fault *f = &s->faults[i];
			FUZZ_ASSERT(f->at_s >= 0 && f->at_s < s->duration_s && f->target && *f->target);
			FUZZ_ASSERT(i == 0 || s->faults[i - 1].at_s <= f->at_s);
			bool needs = f->kind == CG_FAULT_PAUSE || f->kind == CG_FAULT_DELAY;
			FUZZ_ASSERT(needs ? f->arg >= 1 : f->arg == 0);
			cg_fault_label(f, &b);
		}
		cg_buf_free(&b);
		cg_scenario_free(s);
	}
	return 0;
}
