/*
 * park.c - cassandgo stop on the local provider (see internal.h): a node's
 * processes ended, its namespace and files kept, a marker saying it is
 * parked. Starting it again is machine_ensure (local.c): sshd comes back,
 * the marker goes; the bootstrap provider then starts Cassandra.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void marker_path(const struct node *nd, char *out, size_t n)
{
	snprintf(out, n, "%s/parked", nd->run);
}

bool cg_local_parked(const struct node *nd)
{
	char path[256];
	marker_path(nd, path, sizeof(path));
	return access(path, F_OK) == 0;
}

void cg_local_unpark(const struct node *nd)
{
	char path[256];
	marker_path(nd, path, sizeof(path));
	unlink(path);
}

int cg_local_power_off(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *cur,
		       struct cg_resource *result, struct cg_err *err)
{
	char *dcname = NULL;
	int n = 0;
	if (parse_machine_addr(cur->addr, &dcname, &n) != 0)
		return cg_error(err, CG_EXIT_ERROR, "local: bad machine address %s", cur->addr);
	struct node nd;
	int rc = -1;
	if (node_names(p, dcname, n, &nd, err) != 0)
		goto out;
	/* the marker first: a stop killed half-way still reads as parked */
	char path[256];
	marker_path(&nd, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		cg_error(err, CG_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	close(fd);
	if (ctx && ctx->progress)
		ctx->progress(ctx, cur->addr, "ending every process of namespace %s", nd.ns);
	if (ns_kill_all(p, nd.ns, err) != 0)
		goto out;
	cg_res_copy(result, cur);
	machine_attrs(p, &nd, nd.addr, cg_res_get(cur, "host_key"), false, result);
	rc = 0;
out:
	if (rc != 0)
		cg_error_wrap(err, "%s", cur->addr);
	node_free(&nd);
	free(dcname);
	return rc;
}
