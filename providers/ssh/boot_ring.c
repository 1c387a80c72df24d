/*
 * boot_ring.c - Cassandra running on a node (service: start, replace,
 * decommission) and the nodes as one ring (ring: checks, ghosts).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "boot.h"

/* --- service ---------------------------------------------------------------- */

/* Addresses under which a machine may show up in nodetool. */
static int is_machine_addr(const struct cg_resource *m, const char *a)
{
	const char *pr = cg_res_get(m, "private_ip"), *pu = cg_res_get(m, "public_ip");
	return a && ((pr && !strcmp(pr, a)) || (pu && !strcmp(pu, a)));
}


/* The machines the configuration wants: one on its way out (the node count
 * went down) is not a member to keep, whether or not it is deleted yet. */
void boot_list_configured(struct cg_provider *p, struct cg_ctx *ctx, struct cg_rset *ms)
{
	ctx->list(ctx, CG_KIND_MACHINE, ms);
	for (int i = ms->n - 1; i >= 0; i--)
		if (!cg_model_wants_machine(p->c, &ms->v[i]))
			cg_rset_remove_at(ms, i);
}

/* Is a the address of a machine of the cluster? */
static int cluster_addr(const struct cg_rset *ms, const char *a)
{
	for (int i = 0; i < ms->n; i++)
		if (is_machine_addr(&ms->v[i], a))
			return 1;
	return 0;
}

/* A ghost: a down ring member that no configured machine answers to (its
 * instance was terminated, by hand or replaced, or its node was removed
 * from the configuration while down). */
static int is_ghost(const struct cg_ring_node *rn, const struct cg_rset *ms)
{
	return rn->status == 'D' && !cluster_addr(ms, rn->address);
}

/*
 * The ring as seen by the first machine of ms (other than skip) whose
 * Cassandra answers. On success *n stays open for more commands.
 */
static int peer_ring(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_rset *ms,
		     const char *skip, struct node *n, struct cg_ring *ring, struct cg_err *err)
{
	char last[512] = "no other machine";
	for (int i = 0; i < ms->n; i++) {
		const struct cg_resource *m = &ms->v[i];
		struct cg_err e = {0};
		if (skip && !strcmp(m->addr, skip))
			continue;
		if (boot_node_of_machine(p, ctx, m, 10000, n, &e) == 0) {
			if (boot_node_ring(n, ring, &e) == 0)
				return 0;
			cg_ring_free(ring);
			boot_node_clear(n);
		}
		snprintf(last, sizeof(last), "%s: %.450s", m->addr, e.msg);
	}
	return cg_error(err, CG_EXIT_ERROR, "no other node shows the ring (%s)", last);
}

/*
 * The dead node a joining node takes over (Cassandra's replace_address): a
 * member of its DC's ring that no machine of the cluster has any more (its
 * instance is gone), in its rack when one is. Taking its tokens streams its
 * data once and keeps ownership as it was; joining beside it would leave it
 * in the ring as DN. A gone machine may still look Up until gossip convicts
 * it: wait for that, bounded. NULL: nothing to replace (a plain join, or
 * the node is up in the ring already).
 */
static char *find_replaced(struct cg_provider *p, struct cg_ctx *ctx, struct node *self,
			   const char *dc)
{
	struct cg_rset ms;
	struct node peer;
	struct cg_err e = {0};
	char *ip = NULL;
	const char *zone = cg_res_get(&self->m, "zone");
	int64_t deadline = cg_now_ms() + boot_env_secs("CASSANDGO_DEAD_WAIT", 120) * 1000LL;

	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	struct cg_ring ring = {0};
	if (peer_ring(p, ctx, &ms, self->m.addr, &peer, &ring, &e)) {
		if (ctx->progress)
			ctx->progress(ctx, self->label, "joining without a look at the ring: %s", e.msg);
		cg_rset_free(&ms);
		return NULL;
	}
	for (;;) {
		const struct cg_ring_node *pick = NULL, *me = NULL;
		for (int i = 0; i < ring.n; i++) {
			const struct cg_ring_node *rn = &ring.v[i];
			if (is_machine_addr(&self->m, rn->address))
				me = rn;
			if (cluster_addr(&ms, rn->address) || strcmp(rn->dc, dc))
				continue;
			if (!pick || (zone && !strcmp(rn->rack, zone) && strcmp(pick->rack, zone)))
				pick = rn;
		}
		/* The ring knows this address: up, nothing to take over; down, a
		 * new machine at a dead one's address (Cassandra refuses to join
		 * it under a new identity). A bootstrapped node ignores the flag. */
		if (me)
			pick = me->status == 'D' ? me : NULL;
		if (pick && pick->status == 'D') {
			ip = cg_xstrdup(pick->address);
			if (ctx->progress)
				ctx->progress(ctx, self->label, "replacing dead node %s (host %s, rack %s)",
					      pick->address, pick->host_id ? pick->host_id : "?",
					      pick->rack);
			break;
		}
		if (!pick)
			break;
		if (cg_now_ms() >= deadline) {
			if (ctx->progress)
				ctx->progress(ctx, self->label, "%s has no machine but is still seen up: "
					      "joining beside it", pick->address);
			break;
		}
		if (ctx->progress)
			ctx->progress(ctx, self->label, "waiting until %s (no machine) is seen down",
				      pick->address);
		sleep(3);
		cg_ring_free(&ring);
		if (boot_node_ring(&peer, &ring, &e))
			break;
	}
	boot_node_clear(&peer);
	cg_ring_free(&ring);
	cg_rset_free(&ms);
	return ip;
}

/* Every node this node sees is Up/Normal (and it sees itself). Ghosts do
 * not count: no restart brings them back; the ring action removes them. */
int boot_wait_ring(struct cg_provider *p, struct node *n, struct cg_ctx *ctx,
		   const char *addr, int secs, struct cg_err *err)
{
	int64_t deadline = cg_now_ms() + (int64_t)secs * 1000;
	char last[512] = "";
	struct cg_rset ms;
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	for (;;) {
		struct cg_err e = {0};
		struct cg_ring ring = {0};
		if (boot_node_ring(n, &ring, &e) == 0) {
			int bad = 0, self = 0;
			for (int i = 0; i < ring.n; i++) {
				if (is_ghost(&ring.v[i], &ms))
					continue;
				if (ring.v[i].status != 'U' || ring.v[i].state != 'N') {
					bad++;
					snprintf(last, sizeof(last), "%s is %c%c", ring.v[i].address,
						 ring.v[i].status, ring.v[i].state);
				}
				self |= is_machine_addr(&n->m, ring.v[i].address);
			}
			if (!self)
				snprintf(last, sizeof(last), "this node is not in its own ring");
			if (!bad && self) {
				cg_ring_free(&ring);
				cg_rset_free(&ms);
				return 0;
			}
		} else {
			snprintf(last, sizeof(last), "%.500s", e.msg);
		}
		cg_ring_free(&ring);
		if (cg_now_ms() >= deadline)
			break;
		if (ctx && ctx->progress)
			ctx->progress(ctx, addr, "waiting for the ring (%s)", last);
		sleep(2);
		if (cg_now_ms() >= deadline)
			break;
	}
	cg_rset_free(&ms);
	return cg_error(err, CG_EXIT_ERROR, "%s: ring not healthy after %d s: %s", addr, secs, last);
}

/*
 * After a restart, every other node whose Cassandra answers sees n Up and
 * Normal. n seeing a healthy ring is not enough: a coordinator that still
 * holds n down (gossip tells it a round or more later) counts one replica
 * too few as soon as the next node of a rolling change goes down, and its
 * clients get Unavailable or a timeout. A node that does not answer
 * coordinates nothing: skipped. One thread per peer (each nodetool is a
 * JVM start: asked one after the other, 5 peers would add ~10 s per node).
 */
struct seen {
	struct cg_provider *p;
	struct cg_ctx *ctx;
	const struct cg_resource *peer, *target;
	const char *addr;
	int64_t deadline;
	int secs;
	struct cg_err err;
	int rc;
};

static void *seen_up(void *arg)
{
	struct seen *s = arg;
	struct node peer;
	struct cg_err e = {0};
	if (boot_node_of_machine(s->p, s->ctx, s->peer, 10000, &peer, &e))
		return NULL;
	for (;;) {
		struct cg_ring ring = {0};
		char seen[8] = "absent";
		if (boot_node_ring(&peer, &ring, &e)) {
			cg_ring_free(&ring);
			break;
		}
		for (int j = 0; j < ring.n; j++)
			if (is_machine_addr(s->target, ring.v[j].address))
				snprintf(seen, sizeof(seen), "%c%c", ring.v[j].status, ring.v[j].state);
		cg_ring_free(&ring);
		if (!strcmp(seen, "UN"))
			break;
		if (cg_now_ms() >= s->deadline) {
			s->rc = cg_error(&s->err, CG_EXIT_ERROR, "%s: %s still sees it %s after %d s",
					 s->addr, peer.label, seen, s->secs);
			break;
		}
		if (s->ctx->progress)
			s->ctx->progress(s->ctx, s->addr, "waiting until %s sees it up (%s)", peer.label,
					 seen);
		sleep(1);
	}
	boot_node_clear(&peer);
	return NULL;
}

int boot_wait_seen_up(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		      const char *addr, int secs, struct cg_err *err)
{
	struct cg_rset ms;
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	struct seen *v = cg_xcalloc((size_t)ms.n + 1, sizeof(*v));
	pthread_t *th = cg_xcalloc((size_t)ms.n + 1, sizeof(*th));
	bool *started = cg_xcalloc((size_t)ms.n + 1, sizeof(*started));
	int64_t deadline = cg_now_ms() + (int64_t)secs * 1000;
	for (int i = 0; i < ms.n; i++) {
		if (!strcmp(ms.v[i].addr, n->m.addr))
			continue;
		v[i] = (struct seen){.p = p, .ctx = ctx, .peer = &ms.v[i], .target = &n->m,
				     .addr = addr, .deadline = deadline, .secs = secs};
		started[i] = pthread_create(&th[i], NULL, seen_up, &v[i]) == 0;
		if (!started[i])
			seen_up(&v[i]);
	}
	int rc = 0;
	for (int i = 0; i < ms.n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		if (v[i].rc && !rc)
			rc = cg_error(err, CG_EXIT_ERROR, "%s", v[i].err.msg);
	}
	free(started);
	free(th);
	free(v);
	cg_rset_free(&ms);
	return rc;
}

/* The mode the node's config was rendered with ("join": to join an
 * existing ring; "initial": a node of a brand-new ring), or NULL. Caller
 * frees. */
static char *config_mode(struct cg_ctx *ctx, const struct cg_resource *d)
{
	char *a = cg_addr_node(CG_KIND_CONFIG, d->dc, d->node), *mode = NULL;
	struct cg_resource cf;
	memset(&cf, 0, sizeof(cf));
	if (ctx->lookup(ctx, a, &cf) == 0 && cg_res_get(&cf, "mode"))
		mode = cg_xstrdup(cg_res_get(&cf, "mode"));
	cg_res_clear(&cf);
	free(a);
	return mode;
}

int boot_apply_service(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		       const struct cg_resource *d, const struct cg_resource *cur,
		       struct cg_resource *res, struct cg_err *err)
{
	/* an upgrade: the node comes back on another release than it ran */
	const char *was = cur ? cg_res_get(cur, "version") : NULL, *want = cg_res_get(d, "version");
	bool upgrade = op == CG_OP_UPDATE && was && want && strcmp(was, want);
	struct node n;
	if (boot_node_for(p, ctx, d, false, &n, err))
		return -1;
	int start_s = boot_env_secs("CASSANDGO_START_TIMEOUT", 180);
	char *st = NULL, *run_hash = NULL, *conf_hash = NULL;
	int rc = boot_cgnode(&n, 30000, &st, err, "status");
	if (rc)
		goto out;
	int running = boot_status_is(st, "running", "1");
	run_hash = cg_boot_status_get(st, "running_hash");
	conf_hash = cg_boot_status_get(st, "config_hash");
	if (!conf_hash || !*conf_hash) {
		rc = cg_error(err, CG_EXIT_ERROR, "%s: no config on the node (config.%s.n%d first)",
			      d->addr, d->dc, d->node);
		goto out;
	}
	int restart = running && (!run_hash || strcmp(run_hash, conf_hash) != 0);
	if (restart) {
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "restarting Cassandra (config %s)", conf_hash);
		if ((rc = boot_cgnode(&n, 180000, NULL, err, "stop")))
			goto out;
	}
	if (!running || restart) {
		char *mode = running ? NULL : config_mode(ctx, d);
		char *replace = mode && !strcmp(mode, "join") ? find_replaced(p, ctx, &n, d->dc) : NULL;
		/* a brand-new ring has no role but the default one yet (the
		 * auth step logs in as it first) */
		if (op == CG_OP_CREATE && mode && !strcmp(mode, "initial")) {
			pthread_mutex_lock(&p->mu);
			p->ring_made = true;
			pthread_mutex_unlock(&p->mu);
		}
		free(mode);
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "starting Cassandra");
		/* a start may first make the release's class-data archive, or
		 * wait while another node of the machine makes it (cgnode) */
		int launch_ms = (start_s + 300) * 1000;
		rc = replace ? boot_cgnode(&n, launch_ms, NULL, err, "start", "--replace", replace)
			     : boot_cgnode(&n, launch_ms, NULL, err, "start");
		free(replace);
		if (rc)
			goto out;
		/* wait-ready prints the log tail itself when it gives up: when the
		 * node's log has not moved for start_s, or after 3 x start_s in
		 * all (a start slowed by shared cores or a long replay goes on) */
		int max_s = 3 * start_s;
		char idle[16], max[16];
		snprintf(idle, sizeof(idle), "%d", start_s);
		snprintf(max, sizeof(max), "%d", max_s);
		if ((rc = boot_cgnode(&n, (max_s + 30) * 1000, NULL, err, "wait-ready", idle, max)))
			goto out;
		/* a restart waits for the ring before the next one; a node that
		 * was down (a parked cluster starting) is checked by the ring step */
		if (op == CG_OP_UPDATE && restart && !upgrade &&
		    ((rc = boot_wait_ring(p, &n, ctx, d->addr, boot_env_secs("CASSANDGO_RING_TIMEOUT", 300), err)) ||
		     (rc = boot_wait_seen_up(p, ctx, &n, d->addr, boot_env_secs("CASSANDGO_RING_TIMEOUT", 300), err))))
			goto out;
	}
	/* the next node's upgrade waits until this one is back in full */
	if (upgrade && (rc = boot_upgrade_settle(p, ctx, &n, d->addr, err)))
		goto out;
	cg_res_copy(res, d);
	cg_res_set_id(res, n.m.id ? n.m.id : n.m.addr);
	cg_res_set(res, "running", "true", 0);
	cg_res_set(res, "config_hash", conf_hash, 0);
	{
		char *rv = cg_boot_status_get(st, "running_version");
		/* what it runs now: the version the status saw only if it ran
		 * before and was not restarted */
		if (!running || restart || !rv || !*rv) {
			free(rv);
			rv = NULL;
		}
		cg_res_set(res, "version", rv ? rv : want, 0);
		free(rv);
	}
out:
	free(st);
	free(run_hash);
	free(conf_hash);
	boot_node_clear(&n);
	return rc;
}

/* The node's operation mode (NORMAL, LEAVING, DECOMMISSIONED, ...) from
 * `nodetool netstats`; NULL when it cannot tell. Caller frees. */
static char *node_mode(struct node *n)
{
	char *out = NULL, *mode = NULL, *p;
	struct cg_err e = {0};
	if (boot_cgnode(n, 60000, &out, &e, "nodetool", "netstats") == 0 && (p = strstr(out, "Mode: "))) {
		p += 6;
		mode = cg_xstrndup(p, strcspn(p, " \r\n"));
	}
	free(out);
	return mode;
}

/* nodetool removenode of ring member rn, from peer (its ranges are copied
 * from the other replicas). A removal already under way (an apply killed
 * during it) refuses a second one: the caller looks at the ring again. */
static int remove_member(struct node *peer, struct cg_ctx *ctx, const struct cg_ring_node *rn,
			 const char *addr, const char *why, struct cg_err *err)
{
	const char *h = rn->host_id;
	if (!h || !*h || strspn(h, "0123456789abcdef-") != strlen(h))
		return cg_error(err, CG_EXIT_ERROR, "dead node %s has no usable host id", rn->address);
	if (ctx->progress)
		ctx->progress(ctx, addr, "removing dead node %s (host %s): %s", rn->address, h, why);
	return boot_cgnode(peer, boot_env_secs("CASSANDGO_DECOMMISSION_TIMEOUT", 3600) * 1000, NULL,
			   err, "nodetool", "removenode", h);
}

/*
 * The node of service cur as the ring's live members see it, through a
 * configured node (peer, left open on success): *rn points into *ring (NULL:
 * not a member). Waits up to wait_s for it to be seen down (0: one look).
 */
static int member_view(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *m,
		       int wait_s, struct node *peer, struct cg_ring *ring,
		       const struct cg_ring_node **rn, struct cg_err *err)
{
	struct cg_rset ms;
	cg_rset_init(&ms);
	boot_list_configured(p, ctx, &ms);
	int rc = peer_ring(p, ctx, &ms, m->addr, peer, ring, err);
	cg_rset_free(&ms);
	int64_t until = cg_now_ms() + (int64_t)wait_s * 1000;
	for (bool said = false; rc == 0;) {
		*rn = NULL;
		for (int i = 0; i < ring->n && !*rn; i++)
			if (is_machine_addr(m, ring->v[i].address))
				*rn = &ring->v[i];
		if (!*rn || (*rn)->status == 'D' || cg_now_ms() >= until)
			break;
		if (!said && ctx->progress)
			ctx->progress(ctx, m->addr, "waiting until the ring sees it down");
		said = true;
		sleep(3);
		cg_ring_free(ring);
		rc = boot_node_ring(peer, ring, err);
	}
	if (rc)
		*rn = NULL;
	return rc;
}

/*
 * A node being removed that is down (its machine, its sshd or its Cassandra,
 * before or during its decommission): once the live members see it DN, it
 * is removed from a live one with nodetool removenode (what the ring step
 * does to ghosts), in this apply; no decommission, no wait for its SSH.
 * Returns 1 when removed (or no longer a member), 0 when it is not seen
 * down within wait_s (or no live member answers), -1 when removenode failed.
 */
static int remove_if_down(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *cur,
			  const struct cg_resource *m, int wait_s, const char *why, struct cg_err *err)
{
	struct node peer;
	struct cg_ring ring = {0};
	const struct cg_ring_node *rn = NULL;
	memset(&peer, 0, sizeof(peer));
	struct cg_err e = {0};
	int rc = member_view(p, ctx, m, wait_s, &peer, &ring, &rn, &e);
	if (rc)
		rc = 0;		/* no live member answers: cannot tell */
	else if (!rn)
		rc = 1;		/* not (or no longer) a member: nothing to take away */
	else if (rn->status == 'D')
		rc = remove_member(&peer, ctx, rn, cur->addr, why, err) ? -1 : 1;
	cg_ring_free(&ring);
	boot_node_clear(&peer);
	return rc;
}

int boot_delete_service(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *cur,
			  struct cg_err *err)
{
	struct cg_resource m;
	memset(&m, 0, sizeof(m));
	char *maddr = cg_addr_node(CG_KIND_MACHINE, cur->dc, cur->node);
	int have = ctx->lookup(ctx, maddr, &m) == 0;
	free(maddr);
	/* the ring as the others see it: a node already down is removed from a
	 * live one at once (its machine may not answer SSH for minutes) */
	int dead_s = boot_env_secs("CASSANDGO_DEAD_WAIT", 120);
	struct cg_err pe = {0};
	int down = have ? remove_if_down(p, ctx, cur, &m, 0, "it is down; the machine goes next", &pe)
			: 0;
	if (down != 0) {
		cg_res_clear(&m);
		if (down < 0)
			return cg_error(err, pe.code, "%s", pe.msg);
		return 0;
	}
	struct node n;
	memset(&n, 0, sizeof(n));
	int rc = have ? boot_node_of_machine(p, ctx, &m, boot_env_secs("CASSANDGO_LEAVE_SSH_TIMEOUT", 30) * 1000,
					     &n, err)
		      : boot_node_for(p, ctx, cur, false, &n, err);
	if (rc) {
		/* no answer over SSH: gone down meanwhile? */
		struct cg_err e2 = {0};
		down = have ? remove_if_down(p, ctx, cur, &m, dead_s, "it does not answer over SSH", &e2)
			    : 0;
		cg_res_clear(&m);
		if (down > 0)
			return 0;
		return -1;
	}
	char *st = NULL;
	rc = boot_cgnode(&n, 30000, &st, err, "status");
	if (rc == 0 && !boot_status_is(st, "running", "1") && have) {
		/* Cassandra is down here (killed, stopped): the others see it DN
		 * soon; remove it from them rather than leave a ghost */
		boot_node_clear(&n);
		free(st);
		down = remove_if_down(p, ctx, cur, &m, dead_s, "its Cassandra does not run", err);
		cg_res_clear(&m);
		return down > 0 ? 0 : down < 0 ? -1 :
			cg_error(err, CG_EXIT_ERROR, "%s: Cassandra does not run there but the ring "
				 "still sees it up after %d s", cur->addr, dead_s);
	}
	if (rc == 0 && boot_status_is(st, "running", "1")) {
		/* Decommission streams this node's data away; alone, there is no one
		 * to stream to. */
		struct cg_ring ring = {0};
		int others = 0;
		if ((rc = boot_node_ring(&n, &ring, err)) == 0)
			for (int i = 0; i < ring.n; i++)
				others += ring.v[i].status == 'U' &&
					  !is_machine_addr(&n.m, ring.v[i].address);
		cg_ring_free(&ring);
		/* An apply killed during the decommission left it running in
		 * Cassandra (or done): wait for it rather than start another. */
		char *mode = rc == 0 && others ? node_mode(&n) : NULL;
		if (mode && !strcmp(mode, "LEAVING")) {
			if (ctx->progress)
				ctx->progress(ctx, cur->addr, "waiting for the decommission under way");
			int64_t deadline = cg_now_ms() +
					   boot_env_secs("CASSANDGO_DECOMMISSION_TIMEOUT", 3600) * 1000LL;
			while (mode && !strcmp(mode, "LEAVING") && cg_now_ms() < deadline) {
				sleep(2);
				free(mode);
				mode = node_mode(&n);
			}
		}
		if (mode && !strcmp(mode, "DECOMMISSIONED")) {
			others = 0;
		} else if (mode && !strcmp(mode, "LEAVING")) {
			rc = cg_error(err, CG_EXIT_ERROR, "%s: the decommission under way did not end",
				      cur->addr);
		}
		free(mode);
		if (rc == 0 && others) {
			if (ctx->progress)
				ctx->progress(ctx, cur->addr, "decommissioning");
			/* Cassandra refuses when fewer nodes than a keyspace's RF would
			 * remain; --force only on the operator's explicit say-so. */
			const char *force = getenv("CASSANDGO_DECOMMISSION_FORCE");
			rc = force && !strcmp(force, "1")
				? boot_cgnode(&n, boot_env_secs("CASSANDGO_DECOMMISSION_TIMEOUT", 3600) * 1000, NULL,
					 err, "nodetool", "decommission", "--force")
				: boot_cgnode(&n, boot_env_secs("CASSANDGO_DECOMMISSION_TIMEOUT", 3600) * 1000, NULL,
					 err, "nodetool", "decommission");
			/* The last nodes of a DC the configuration drops: Cassandra
			 * refuses to take the DC off system_auth while it has live
			 * nodes, and to decommission them while system_auth keeps
			 * replicas there. Every other keyspace left the DC first (the
			 * plan's order; checked here again, never forced past one);
			 * system_auth's rows live in every other DC. */
			if (rc && strstr(err->msg, "keyspace system_auth") && cur->dc &&
			    boot_dc_index(p->c, cur->dc) < 0) {
				char *others = NULL;
				struct cg_err e2 = {0};
				if (boot_keyspaces_in_dc(p, &n, boot_status_requires_auth(st), cur->dc,
							 &others, &e2) < 0) {
					rc = cg_error(err, CG_EXIT_ERROR, "%s", e2.msg);
				} else if (others) {
					rc = cg_error(err, CG_EXIT_ERROR,
						      "%s: keyspace %s still replicates to %s: alter its "
						      "replication (or declare it) before the DC leaves; "
						      "cassandgo never drops data", cur->addr, others,
						      cur->dc);
				} else {
					if (ctx->progress)
						ctx->progress(ctx, cur->addr, "%s leaves: no keyspace but "
							      "system_auth replicates there, which Cassandra "
							      "keeps until the DC is empty: decommission --force",
							      cur->dc);
					memset(err, 0, sizeof(*err));
					rc = boot_cgnode(&n, boot_env_secs("CASSANDGO_DECOMMISSION_TIMEOUT", 3600) * 1000,
							 NULL, err, "nodetool", "decommission", "--force");
				}
				free(others);
			}
			/* the node went down during its decommission: the others
			 * remove it */
			if (rc && have) {
				struct cg_err e2 = {0};
				if (remove_if_down(p, ctx, cur, &m, dead_s, "it went down during its "
						   "decommission", &e2) > 0) {
					rc = 0;
					cg_res_clear(&m);
					free(st);
					boot_node_clear(&n);
					return 0;
				}
			}
		}
	}
	if (rc == 0)
		rc = boot_cgnode(&n, 180000, NULL, err, "stop");
	free(st);
	cg_res_clear(&m);
	boot_node_clear(&n);
	return rc;
}

/* --- ring ------------------------------------------------------------------- */

struct expect {
	const char *dc;
	const struct cg_resource *m;
	const char *zone;
};

#define RING_SEP "\n@@cassandgo-ring@@\n"

/*
 * `nodetool status` and `nodetool ring` of node n in one round trip, the two
 * JVMs side by side (each takes seconds to start). *status and *ring are
 * split from one output; the exit status is status's.
 */
static int ring_views(struct node *n, char **status, char **ring, struct cg_err *err)
{
	char *cmd = cg_xasprintf("t=$(mktemp) || exit 1; %s nodetool ring >\"$t\" 2>&1 & "
				 "%s nodetool status; rc=$?; wait; printf '" RING_SEP "'; "
				 "cat \"$t\"; rm -f \"$t\"; exit $rc", n->cgnode, n->cgnode);
	char *out = NULL;
	int rc = cg_ssh_run(n->s, cmd, NULL, 0, 90000, &out, err);
	free(cmd);
	if (rc)
		return -1;
	char *sep = strstr(out, RING_SEP);
	*ring = cg_xstrdup(sep ? sep + strlen(RING_SEP) : "");
	if (sep)
		*sep = 0;
	*status = out;
	return 0;
}

/* One look at the ring: 1 healthy, 2 healthy but unevenly owned (*why),
 * 0 not yet (*why). *seen gets the parsed `nodetool status` (caller frees);
 * *ghosts is set when every node is up and dead members remain. */
static int ring_check(struct cg_provider *p, struct node *n, struct expect *ex, int nex,
		      const struct cg_rset *ms, struct cg_ring *seen, int *ghosts,
		      int strict_balance, char *why, size_t whylen, struct cg_err *err)
{
	char *out = NULL, *ring_text = NULL;
	struct cg_ring ring = {0};
	if (ring_views(n, &out, &ring_text, err)) {
		/* Not up yet, or the session broke: the caller tells them apart. */
		snprintf(why, whylen, "%.400s", err->msg);
		return 0;
	}
	int rc = 1;
	if (cg_nodetool_status_parse(out, &ring, err)) {
		snprintf(why, whylen, "%.400s", err->msg);
		free(out);
		free(ring_text);
		return 0;
	}
	free(out);
	out = ring_text;
	for (int i = 0; i < nex && rc == 1; i++) {
		const struct cg_ring_node *rn = NULL;
		for (int j = 0; j < ring.n && !rn; j++)
			if (is_machine_addr(ex[i].m, ring.v[j].address))
				rn = &ring.v[j];
		if (!rn) {
			snprintf(why, whylen, "%s (%s) is not in the ring", ex[i].m->addr,
				 cg_res_get(ex[i].m, "private_ip"));
			rc = 0;
		} else if (rn->status != 'U' || rn->state != 'N') {
			snprintf(why, whylen, "%s is %c%c", ex[i].m->addr, rn->status, rn->state);
			rc = 0;
		} else if (strcmp(rn->dc, ex[i].dc) != 0 ||
			   (ex[i].zone && strcmp(rn->rack, ex[i].zone) != 0)) {
			snprintf(why, whylen, "%s is in %s/%s, expected %s/%s", ex[i].m->addr, rn->dc,
				 rn->rack, ex[i].dc, ex[i].zone ? ex[i].zone : "?");
			rc = 0;
		}
	}
	/* Dead members are removed only once every node is up and normal: a
	 * replacement under way (its node not listed yet) still needs its. */
	for (int j = 0; j < ring.n && rc == 1; j++)
		if (is_ghost(&ring.v[j], ms))
			*ghosts = 1;
	if (rc == 1 && ring.n != nex) {
		snprintf(why, whylen, "the ring has %d nodes, the configuration %d", ring.n, nex);
		rc = 0;
	}
	*seen = ring;	/* the caller's (remove_ghosts): freed there */
	if (rc != 1) {
		free(out);
		return rc;
	}

	/* Balance per DC, from the tokens. */
	const char **addrs = cg_xcalloc((size_t)nex, sizeof(*addrs));
	double *sh = cg_xcalloc((size_t)nex, sizeof(*sh));
	for (int i = 0; i < nex; i++) {
		const char *pu = cg_res_get(ex[i].m, "public_ip"), *pr = cg_res_get(ex[i].m, "private_ip");
		/* nodetool shows the broadcast address: public when it differs and is used. */
		addrs[i] = pr;
		if (pu && pr && strcmp(pu, pr) && strstr(out, pu) && !strstr(out, pr))
			addrs[i] = pu;
	}
	cg_boot_ring_shares(out, addrs, nex, sh);
	free(out);
	double tol = strict_balance ? 0.01 : 0.25;
	for (int d = 0; d < p->c->ndcs && rc == 1; d++) {
		int nd = 0;
		for (int i = 0; i < nex; i++)
			nd += !strcmp(ex[i].dc, p->c->dcs[d].name);
		for (int i = 0; i < nex && rc == 1; i++) {
			if (strcmp(ex[i].dc, p->c->dcs[d].name))
				continue;
			double even = 1.0 / nd;
			if (sh[i] < 0 || sh[i] < even - tol || sh[i] > even + tol) {
				snprintf(why, whylen, "%s owns %.2f%% of %s, even is %.2f%%", ex[i].m->addr,
					 sh[i] * 100, ex[i].dc, even * 100);
				/* Precomputed tokens must be exact. Allocated ones (joins,
				 * a dead node removed) can be skewed with few tokens per
				 * node: healthy, but the operator is told. */
				rc = strict_balance ? 0 : 2;
			}
		}
	}
	free(addrs);
	free(sh);
	return rc;
}

/*
 * Remove the ghosts of ring, as n sees it (nodetool removenode: their
 * ranges are copied from the other replicas): members no configured machine
 * has and no replacement took over (the node count went down meanwhile).
 * Never an error: *why says what happened, the caller looks again.
 */
static void remove_ghosts(struct node *n, struct cg_ctx *ctx, const struct cg_ring *ring,
			 const struct cg_rset *ms, const char *addr, char *why, size_t whylen)
{
	for (int i = 0; i < ring->n; i++) {
		const struct cg_ring_node *rn = &ring->v[i];
		struct cg_err e = {0};
		if (!is_ghost(rn, ms))
			continue;
		if (remove_member(n, ctx, rn, addr, "no machine has it", &e))
			snprintf(why, whylen, "removing dead node %s: %.400s", rn->address, e.msg);
		else
			snprintf(why, whylen, "dead node %s removed", rn->address);
	}
}

int boot_apply_ring(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		    const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err)
{
	struct cg_rset ms, cfgs;
	cg_rset_init(&ms);
	cg_rset_init(&cfgs);
	boot_list_configured(p, ctx, &ms);
	ctx->list(ctx, CG_KIND_CONFIG, &cfgs);
	int total = 0;
	for (int di = 0; di < p->c->ndcs; di++)
		total += p->c->dcs[di].nodes;
	struct expect *ex = cg_xcalloc((size_t)(total ? total : 1), sizeof(*ex));
	int nex = 0, rc = -1, strict = 1;
	for (int di = 0; di < p->c->ndcs; di++)
		for (int i = 1; i <= p->c->dcs[di].nodes; i++) {
			char *a = cg_addr_node(CG_KIND_MACHINE, p->c->dcs[di].name, i);
			const struct cg_resource *m = cg_rset_find(&ms, a);
			free(a);
			a = cg_addr_node(CG_KIND_CONFIG, p->c->dcs[di].name, i);
			const struct cg_resource *cf = cg_rset_find(&cfgs, a);
			free(a);
			/* Balance is exact only when every token was precomputed. */
			if (!cf || !cg_res_get(cf, "mode") || strcmp(cg_res_get(cf, "mode"), "initial"))
				strict = 0;
			if (!m) {
				cg_error(err, CG_EXIT_ERROR, "ring: machine.%s.n%d is not recorded",
					 p->c->dcs[di].name, i);
				goto out;
			}
			ex[nex].dc = p->c->dcs[di].name;
			ex[nex].m = m;
			ex[nex].zone = cg_res_get(m, "zone");
			nex++;
		}
	if (!nex) {
		cg_error(err, CG_EXIT_ERROR, "ring: the cluster has no nodes");
		goto out;
	}
	int secs = boot_env_secs("CASSANDGO_RING_TIMEOUT", 300);
	int64_t deadline = cg_now_ms() + (int64_t)secs * 1000;
	char why[512] = "no node reachable";
	int k = 0;
	struct node n;
	memset(&n, 0, sizeof(n));
	for (;;) {
		if (!n.s) {
			/* Ask the nodes in turn: one down node must not blind the check. */
			struct cg_err e = {0};
			if (boot_node_of_machine(p, ctx, ex[k++ % nex].m, 10000, &n, &e))
				snprintf(why, sizeof(why), "%.500s", e.msg);
		}
		if (n.s) {
			struct cg_err e = {0};
			struct cg_ring seen = {0};
			int ghosts = 0;
			int r = ring_check(p, &n, ex, nex, &ms, &seen, &ghosts, strict, why,
					   sizeof(why), &e);
			if (ghosts)
				remove_ghosts(&n, ctx, &seen, &ms, d->addr, why, sizeof(why));
			cg_ring_free(&seen);
			if (r == 2 && ctx->progress)
				ctx->progress(ctx, d->addr, "warning: ownership is uneven: %s", why);
			if (r == 1 || r == 2)
				break;
			if (!cg_ssh_alive(n.s, 10000))
				boot_node_clear(&n);	/* reconnect, maybe to another node */
		}
		if (cg_now_ms() >= deadline) {
			boot_node_clear(&n);
			cg_error(err, CG_EXIT_ERROR, "ring not healthy after %d s: %s", secs, why);
			goto out;
		}
		if (ctx->progress)
			ctx->progress(ctx, d->addr, "waiting: %s", why);
		/* a look costs two nodetool JVMs (~1.4 s): a new ring's gossip
		 * settles within a look or two of the last node's start */
		sleep(1);
	}
	boot_node_clear(&n);
	/* every node runs the new release: rewrite SSTables of the old format */
	if (boot_upgrade_sstables(p, ctx, d, cur, err))
		goto out;
	struct cg_buf dcs = {0};
	for (int di = 0; di < p->c->ndcs; di++)
		cg_buf_addf(&dcs, "%s%s:%d", di ? "," : "", p->c->dcs[di].name, p->c->dcs[di].nodes);
	cg_res_copy(res, d);
	cg_res_set_id(res, p->c->name);
	cg_res_setf(res, "nodes", 0, "%d", nex);
	cg_res_set(res, "dcs", dcs.data, 0);
	cg_buf_free(&dcs);
	rc = 0;
out:
	free(ex);
	cg_rset_free(&ms);
	cg_rset_free(&cfgs);
	return rc;
}
