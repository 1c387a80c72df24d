/*
 * registry.c - which provider serves which cluster (see registry.h). A new
 * provider adds its ops here.
 */
#include "registry.h"
#include "ec2/ec2.h"
#include "local/local.h"
#include "ssh/bootstrap.h"

struct cg_providers cg_registry_providers(const struct cg_cluster *c)
{
	struct cg_providers pv = { NULL, cg_registry_bootstrap() };
	switch (c->provider) {
	case CG_PROVIDER_AWS: pv.infra = &cg_provider_ec2; break;
	case CG_PROVIDER_LOCAL: pv.infra = &cg_provider_local; break;
	}
	return pv;
}

const struct cg_provider_ops *cg_registry_bootstrap(void)
{
	return &cg_provider_bootstrap_ssh;
}
