/* fake.h - the test provider (tests only; see fake.c). */
#ifndef CG_FAKE_H
#define CG_FAKE_H
#include "../../providers/provider.h"
extern const struct cg_provider_ops cg_provider_fake;
#endif
