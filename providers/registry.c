/*
 * registry.c - which provider serves which cluster. A new provider adds its
 * ops here. (The test build links tests/fake/registry.c instead.)
 *
 * Weak references while the providers land one by one: a provider not
 * linked in reports "not built into this cassandgo".
 */
#include "provider.h"

extern const struct cg_provider_ops cg_provider_ec2 __attribute__((weak));
extern const struct cg_provider_ops cg_provider_local __attribute__((weak));
extern const struct cg_provider_ops cg_provider_bootstrap_ssh __attribute__((weak));

const struct cg_provider_ops *cg_provider_infra(enum cg_provider_kind kind)
{
	switch (kind) {
	case CG_PROVIDER_AWS: return &cg_provider_ec2 ? &cg_provider_ec2 : NULL;
	case CG_PROVIDER_LOCAL: return &cg_provider_local ? &cg_provider_local : NULL;
	}
	return NULL;
}

const struct cg_provider_ops *cg_provider_bootstrap(void)
{
	return &cg_provider_bootstrap_ssh ? &cg_provider_bootstrap_ssh : NULL;
}
