/* chaos.c - the faults (see chaos.h): cgnode chaos-* on the recorded nodes. */
#include "chaos.h"
#include "../planner/faults.h"
#include "../providers/ssh/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run `cgnode ARGS` (each quoted) on machine m; logs "NODE: output". */
static int on_node(const struct ops *o, const struct cg_resource *m, const char *const *args,
		   int nargs, struct cg_buf *log, struct cg_err *err)
{
	struct cg_buf cmd = {0};
	for (int i = 0; i < nargs; i++) {
		char *q = cg_ssh_quote(args[i]);
		cg_buf_addf(&cmd, "%s%s", i ? " " : "", q);
		free(q);
	}
	struct cg_ssh *s = NULL;
	char *out = NULL;
	int rc = cg_node_open(o->c, &o->known, o->known_hosts, m, 0, &s, err);
	if (rc == 0)
		rc = cg_node_cgnode(s, m, cmd.data, 240000, &out, err);
	cg_ssh_close(s);
	cg_buf_free(&cmd);
	const char *name = m->addr + strlen("machine.");
	if (rc == 0 && log)
		cg_buf_addf(log, "%s: %s", name, out && *out ? out : "done\n");
	else if (rc)
		cg_error_wrap(err, "%s", name);
	free(out);
	return rc;
}

/*
 * The state's side of a fault: journaled (pending before the node is
 * touched, done or failed after), recorded once it took (kind non-NULL), so
 * that status shows it and the next plan heals it.
 */
struct rec {
	const struct ops *o;
	struct cg_state *st;
	int64_t jid;
};

static int rec_begin(struct rec *r, const struct ops *o, const char *target, const char *op,
		     struct cg_err *err)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	if (cli_open_state(o->cli, false, &r->st, err) < 0)
		return -1;
	if (!r->st)
		return cg_error(err, CG_EXIT_ERROR, "no state for cluster %s", o->c->name);
	char *addr = cg_xasprintf("chaos.%s", target);
	int rc = cg_state_journal_begin(r->st, o->c->name, addr, op, &r->jid, err);
	free(addr);
	if (rc < 0) {
		cg_state_close(r->st);
		r->st = NULL;
	}
	return rc;
}

/* rc: the act's; f (may be NULL): the fault to record when it took. */
static int rec_end(struct rec *r, int rc, const struct cg_fault *f, struct cg_err *err)
{
	struct cg_err e = {0};
	if (!r->st)
		return rc;
	if (rc == 0 && f && cg_state_fault_put(r->st, r->o->c->name, f, &e) < 0)
		rc = -1, *err = e;
	cg_state_journal_end(r->st, r->jid, rc == 0 ? CG_J_DONE : CG_J_FAILED,
			     rc == 0 ? NULL : err->msg, &e);
	cg_state_close(r->st);
	r->st = NULL;
	return rc;
}

static void fault_of(struct cg_fault *f, const char *kind, const char *target, int secs,
		     const char *detail)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	snprintf(f->target, sizeof(f->target), "%s", target);
	snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
	f->since = cg_wall_s();
	f->until = secs > 0 ? f->since + secs : 0;
}

/* A node fault: kind (recorded) through `cgnode args`. */
static int one(const struct ops *o, const char *node, const char *kind, const char *const *args,
	       int nargs, int secs, struct cg_buf *log, struct cg_err *err)
{
	const struct cg_resource *m = ops_node(o, node, err);
	struct rec r;
	if (!m || rec_begin(&r, o, m->addr + strlen("machine."), args[0], err) < 0)
		return -1;
	int rc = on_node(o, m, args, nargs, log, err);
	struct cg_fault f;
	fault_of(&f, kind, m->addr + strlen("machine."), secs, nargs > 1 ? args[1] : NULL);
	if (secs > 0)
		snprintf(f.detail, sizeof(f.detail), "%ds", secs);
	return rec_end(&r, rc, &f, err);
}

int chaos_kill(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err)
{
	const char *args[] = { "chaos-kill" };
	return one(o, node, "kill", args, 1, 0, log, err);
}

int chaos_stop(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err)
{
	const char *args[] = { "stop" };
	return one(o, node, "stop", args, 1, 0, log, err);
}

int chaos_pause(const struct ops *o, const char *node, int seconds, struct cg_buf *log,
		struct cg_err *err)
{
	if (seconds < 1 || seconds > 3600)
		return cg_error(err, CG_EXIT_USAGE, "a pause lasts 1 to 3600 seconds, not %d",
				seconds);
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", seconds);
	const char *args[] = { "chaos-pause", secs };
	return one(o, node, "pause", args, 2, seconds, log, err);
}

int chaos_partition(const struct ops *o, const char *group, struct cg_buf *log,
		    struct cg_err *err)
{
	const struct cg_resource **in = NULL;
	int n = ops_group(o, group, &in, err);
	if (n < 0)
		return -1;
	/* every address of every other node, private and public */
	const char **args = cg_xcalloc((size_t)o->known.n * 2 + 2, sizeof(char *));
	int na = 0;
	args[na++] = "chaos-block";
	for (int i = 0; i < o->known.n; i++) {
		const struct cg_resource *m = &o->known.v[i];
		bool mine = false;
		for (int k = 0; k < n; k++)
			mine |= in[k] == m;
		if (m->kind != CG_KIND_MACHINE || mine)
			continue;
		const char *a[2] = { cg_res_get(m, "private_ip"), cg_res_get(m, "public_ip") };
		for (int k = 0; k < 2; k++) {
			bool dup = !a[k] || !*a[k];
			for (int j = 1; j < na && !dup; j++)
				dup = !strcmp(args[j], a[k]);
			if (!dup)
				args[na++] = a[k];
		}
	}
	int rc = 0;
	struct rec r;
	if (na == 1)
		rc = cg_error(err, CG_EXIT_USAGE, "%s holds every node of cluster %s: nothing to "
			      "partition it from", group, o->c->name);
	else
		rc = rec_begin(&r, o, group, "chaos-block", err);
	if (rc == 0) {
		for (int k = 0; k < n && rc == 0; k++)
			rc = on_node(o, in[k], args, na, log, err);
		/* recorded even when a node failed: those blocked stay so */
		struct cg_fault f;
		fault_of(&f, "partition", group, 0, NULL);
		struct cg_err e = {0};
		if (cg_state_fault_put(r.st, o->c->name, &f, &e) < 0 && rc == 0)
			rc = -1, *err = e;
		rc = rec_end(&r, rc, NULL, err);
	}
	free(args);
	free(in);
	return rc;
}

int chaos_delay(const struct ops *o, const char *group, int ms, struct cg_buf *log,
		struct cg_err *err)
{
	if (ms < 1 || ms > 10000)
		return cg_error(err, CG_EXIT_USAGE, "a delay is 1 to 10000 ms, not %d", ms);
	const struct cg_resource **in = NULL;
	int n = ops_group(o, group, &in, err), rc = n < 0 ? -1 : 0;
	char v[16];
	snprintf(v, sizeof(v), "%d", ms);
	const char *args[] = { "chaos-delay", v };
	struct rec r;
	if (rc == 0 && (rc = rec_begin(&r, o, group, "chaos-delay", err)) == 0) {
		for (int k = 0; k < n && rc == 0; k++)
			rc = on_node(o, in[k], args, 2, log, err);
		struct cg_fault f;
		char ms_s[24];
		snprintf(ms_s, sizeof(ms_s), "%dms", ms);
		fault_of(&f, "delay", group, 0, ms_s);
		/* a refused delay (no netem) is recorded only where it took:
		 * the first node refuses before any other is touched */
		struct cg_err e = {0};
		if (rec_end(&r, rc, rc == 0 ? &f : NULL, rc == 0 ? err : &e) < 0 && rc == 0)
			rc = -1;
	}
	free(in);
	return rc;
}

int chaos_heal(const struct ops *o, const char *node, struct cg_buf *log, struct cg_err *err)
{
	const char *args[] = { "chaos-heal" };
	const struct cg_resource *only = NULL;
	if (node && strcmp(node, "all") && !(only = ops_node(o, node, err)))
		return -1;
	struct rec r;
	if (rec_begin(&r, o, only ? only->addr + strlen("machine.") : "all", "chaos-heal", err) < 0)
		return -1;
	/* every node asked, even when one fails: the others still heal */
	struct cg_buf why = {0};
	int failed = 0, nm = 0;
	const struct cg_resource **bad = cg_xcalloc((size_t)o->known.n + 1, sizeof(*bad));
	for (int i = 0; i < o->known.n; i++) {
		const struct cg_resource *m = &o->known.v[i];
		if (m->kind != CG_KIND_MACHINE || (only && m != only))
			continue;
		nm++;
		struct cg_err e = {0};
		if (on_node(o, m, args, 1, log, &e) < 0) {
			cg_buf_addf(&why, "%s%s", failed ? "; " : "", e.msg);
			bad[failed++] = m;
		}
	}
	/* a fault goes from the state once no node it hits is left unhealed
	 * (a partition healed on one node of its DC stays for the others) */
	struct cg_fault *fv = NULL;
	int fn = 0, rc = 0;
	if (cg_state_faults(r.st, o->c->name, &fv, &fn, err) < 0)
		rc = -1;
	for (int k = 0; k < fn && rc == 0; k++) {
		bool left = false;
		for (int i = 0; i < o->known.n && !left; i++) {
			const struct cg_resource *m = &o->known.v[i];
			if (!cg_fault_hits(&fv[k], m))
				continue;
			bool failed_here = false;
			for (int j = 0; j < failed; j++)
				failed_here |= bad[j] == m;
			left = failed_here || (only && m != only);
		}
		if (!left)
			rc = cg_state_fault_clear(r.st, o->c->name, fv[k].kind, fv[k].target, NULL, err);
	}
	free(fv);
	free(bad);
	if (rc == 0 && failed)
		rc = cg_error(err, CG_EXIT_ERROR, "%d of %d node%s could not be healed: %s", failed,
			      nm, nm == 1 ? "" : "s", why.data);
	cg_buf_free(&why);
	return rec_end(&r, rc, NULL, err);
}
