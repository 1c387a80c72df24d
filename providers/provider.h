/*
 * provider.h - the one interface through which cassandgo touches the world.
 *
 * A provider manages some resource kinds (a bitmask): the infrastructure
 * providers (ec2, local) own network, peers, keypair and machine; the SSH
 * bootstrap provider owns install, config, service, ring and monitoring.
 * A new provider is a struct cg_provider_ops in providers/<name>/ plus one
 * line in providers/registry.c. The planner knows providers only through
 * this header: the command layer looks them up (providers/registry.h) and
 * hands them to the engine.
 *
 * Contract:
 *  - refresh() reports what exists now (with ids and observed attributes),
 *    appending to *live; API calls should grow with regions, not nodes.
 *  - apply() performs one CREATE, UPDATE or DELETE and fills *result with
 *    what the state should record (id and attributes). It must be idempotent:
 *    after a crash the executor may call it again for the same resource, and
 *    an object found by its tags must be adopted, not duplicated.
 *  - apply() is called from several executor threads at once on the same
 *    provider instance: the provider protects its own shared data.
 *  - Errors fill err and return -1; the message names what failed and why.
 */
#ifndef CG_PROVIDER_H
#define CG_PROVIDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "../planner/model.h"

struct cg_provider;		/* a provider's own instance data */

struct cg_env {
	const char *config_dir;		/* directory holding cassandgo.yaml */
	const char *state_dir;		/* .cassandgo (keys/, <cluster>/known_hosts) */
	const char *cluster_dir;	/* <state_dir>/<cluster>: per-cluster files */
	bool interactive;		/* a terminal is attached (may ask) */
	bool auto_approve;		/* --auto-approve: questions answer yes */
	bool destroying;		/* the run is a destroy: what is gone is what
					 * is wanted (no "everything vanished" guard) */
	bool importing;			/* state import: report what the cloud's tags
					 * and names say is the cluster's, even a key
					 * pair whose private key this machine lacks */
	/* Ask the operator a yes/no question; NULL or non-interactive = no. */
	bool (*confirm)(void *ui, const char *question);
	void *ui;
	volatile sig_atomic_t *interrupted;	/* 1 = finish running, 2 = stop now */
};

/* Given to apply(): read access to the rest of the world as recorded. */
struct cg_ctx {
	const struct cg_env *env;
	const struct cg_cluster *cluster;
	/* Copy the current recorded resource at addr into *out (caller clears);
	 * returns 0, or -1 when none. Thread-safe. */
	int (*lookup)(struct cg_ctx *ctx, const char *addr, struct cg_resource *out);
	/* Copy every current resource of a kind (e.g. all machines). */
	void (*list)(struct cg_ctx *ctx, enum cg_kind kind, struct cg_rset *out);
	/* One progress line for the action on addr ("instance running"). */
	void (*progress)(struct cg_ctx *ctx, const char *addr, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *priv;			/* executor's */
};

struct cg_provider_ops {
	const char *name;
	unsigned kinds;			/* CG_KIND_BIT()s it manages */
	int (*open)(struct cg_provider **out, const struct cg_cluster *c,
		    const struct cg_env *env, struct cg_err *err);
	void (*close)(struct cg_provider *p);
	/* The operator's public IPv4 address, asked before open() for the
	 * default allowed CIDR of a cluster that lists none. NULL op = none. */
	int (*public_ip)(char *out, size_t n, struct cg_err *err);
	/* Zones of region (caller frees each string and the array). NULL op =
	 * the config must list zones. */
	int (*zones)(struct cg_provider *p, const char *region, char ***zones,
		     int *n, struct cg_err *err);
	/* known: what the state records, with the infrastructure provider's
	 * refresh already merged in when the bootstrap provider refreshes. */
	int (*refresh)(struct cg_provider *p, const struct cg_rset *known,
		       struct cg_rset *live, struct cg_err *err);
	int (*apply)(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		     const struct cg_resource *desired,
		     const struct cg_resource *current,
		     struct cg_resource *result, struct cg_err *err);
	/* What a machine costs while it runs, USD per hour (the instance and
	 * its root volume): 0 with *usd_h, or 1 with err saying what has no
	 * price. NULL op: nothing to pay (local). price_source: where and when
	 * the prices come from (caller frees). */
	int (*hourly)(const struct cg_resource *machine, double *usd_h, struct cg_err *err);
	char *(*price_source)(void);
	/* cassandgo gc: every machine the provider's tags say cassandgo made in
	 * regions, whatever any state records (machine resources, addr = their
	 * id; attributes cluster, node_type, market, launch_time, expires_at,
	 * state); and everything of p's cluster in one region (instances, then
	 * groups and key pair). NULL ops: nothing outlives its host. */
	int (*inventory)(struct cg_provider *p, const char *const *regions, int nregions,
			 struct cg_rset *out, struct cg_err *err);
	int (*purge)(struct cg_provider *p, const char *region, struct cg_err *err);
};

/* The providers serving one cluster (providers/registry.h finds them). */
struct cg_providers {
	/* network, peers, keypair, machine; NULL: not built into this binary */
	const struct cg_provider_ops *infra;
	/* install, config, service, ring, auth, monitoring (may be infra) */
	const struct cg_provider_ops *boot;
};

#endif
