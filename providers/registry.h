/*
 * registry.h - which providers serve a cluster: the one place that names the
 * concrete providers. The command layer asks it and hands the result to the
 * engine, so planner/ knows only the interface (provider.h).
 * providers/registry.c serves the real binary; the test build links
 * tests/fake/registry.c (the test provider for every cluster) instead.
 */
#ifndef CG_REGISTRY_H
#define CG_REGISTRY_H

#include "provider.h"

/* The providers of cluster c (infra NULL: its provider is not built in). */
struct cg_providers cg_registry_providers(const struct cg_cluster *c);
/* The bootstrap provider every cluster uses. */
const struct cg_provider_ops *cg_registry_bootstrap(void);

#endif
