/*
 * registry.c - which provider serves which cluster. A new provider adds its
 * ops here. (The test build links tests/fake/registry.c instead.)
 */
#include "provider.h"
#include "ec2/ec2.h"
#include "local/local.h"
#include "ssh/bootstrap.h"

const struct cg_provider_ops *cg_provider_infra(enum cg_provider_kind kind)
{
	switch (kind) {
	case CG_PROVIDER_AWS: return &cg_provider_ec2;
	case CG_PROVIDER_LOCAL: return &cg_provider_local;
	}
	return NULL;
}

const struct cg_provider_ops *cg_provider_bootstrap(void)
{
	return &cg_provider_bootstrap_ssh;
}
