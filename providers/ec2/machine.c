/*
 * machine.c - machine.<dc>.n<i>: instances (tagged at creation, adopted by
 * tag), the AMI and architecture look-ups, launch with cloud-init
 * user-data, batched termination, and the refresh of a region's instances
 * (see internal.h).
 *
 * Threads waiting for instances of one region share their
 * DescribeInstances calls (one poll serves every waiter), so waiting for
 * 100 instances costs a handful of calls.
 */
#include "internal.h"
#include "../ssh/ssh.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define CANONICAL_OWNER "099720109477"
#define UBUNTU_2404_NAME "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-*"
#define AWS_BASE_DIR "/var/lib/cassandgo"
#define AWS_LIB_DIR "/usr/share/cassandra/lib"

struct obs {
	char *id, *state, *priv_ip, *pub_ip, *image, *launch, *reason;
	long seq;		/* poll that saw it */
};

struct poller {
	char *region;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy;
	int64_t last_ms;
	long seq;
	char **want;
	int nwant, cwant;
	struct obs *obs;
	int nobs, cobs;
	/* TerminateInstances batching: ids waiting for the next call, and
	 * the outcome of those already sent (rc 0 = terminating, 1 = was
	 * gone already, -1 = failed with msg) */
	char **term;
	int nterm, cterm;
	bool term_leader;
	struct term_done {
		char *id;
		int rc;
		char *msg;
	} *done;
	int ndone, cdone;
	struct poller *next;
};

static struct poller *poller_get(struct cg_provider *p, const char *region)
{
	pthread_mutex_lock(&p->mu);
	struct poller *q;
	for (q = p->pollers; q; q = q->next)
		if (!strcmp(q->region, region))
			break;
	if (!q) {
		q = cg_xcalloc(1, sizeof(*q));
		q->region = cg_xstrdup(region);
		pthread_mutex_init(&q->mu, NULL);
		pthread_cond_init(&q->cv, NULL);
		q->next = p->pollers;
		p->pollers = q;
	}
	pthread_mutex_unlock(&p->mu);
	return q;
}

static void obs_clear(struct obs *o)
{
	free(o->id);
	free(o->state);
	free(o->priv_ip);
	free(o->pub_ip);
	free(o->image);
	free(o->launch);
	free(o->reason);
	memset(o, 0, sizeof(*o));
}

static void obs_copy(struct obs *dst, const struct obs *src)
{
	dst->id = cg_xstrdup(src->id);
	dst->state = cg_xstrdup(src->state);
	dst->priv_ip = cg_xstrdup(src->priv_ip);
	dst->pub_ip = cg_xstrdup(src->pub_ip);
	dst->image = cg_xstrdup(src->image);
	dst->launch = cg_xstrdup(src->launch);
	dst->reason = cg_xstrdup(src->reason);
	dst->seq = src->seq;
}

static struct obs *obs_find(struct poller *q, const char *id)
{
	for (int i = 0; i < q->nobs; i++)
		if (!strcmp(q->obs[i].id, id))
			return &q->obs[i];
	return NULL;
}

/* Record an observation (q->mu held); takes ownership of o's strings. */
static void obs_put(struct poller *q, struct obs *o)
{
	struct obs *x = obs_find(q, o->id);
	if (!x) {
		if (q->nobs == q->cobs) {
			q->cobs = q->cobs ? 2 * q->cobs : 32;
			q->obs = cg_xrealloc(q->obs, (size_t)q->cobs * sizeof(*q->obs));
		}
		x = &q->obs[q->nobs++];
		memset(x, 0, sizeof(*x));
	}
	obs_clear(x);
	*x = *o;
	memset(o, 0, sizeof(*o));
}

static void obs_from_item(xmlNodePtr it, struct obs *o)
{
	memset(o, 0, sizeof(*o));
	o->id = cg_xml_text(it, "instanceId");
	o->state = cg_xml_text(it, "instanceState/name");
	o->priv_ip = cg_xml_text(it, "privateIpAddress");
	o->pub_ip = cg_xml_text(it, "ipAddress");
	o->image = cg_xml_text(it, "imageId");
	o->launch = cg_xml_text(it, "launchTime");
	o->reason = cg_xml_text(it, "stateReason/message");
}

/* One poll for the ids in `ids` (q->mu not held). */
static void poll_once(struct cg_provider *p, struct poller *q, char **ids, int n, long seq)
{
	for (int off = 0; off < n; off += 200) {
		struct cg_ec2_params pa = { 0 };
		int nf = 0;
		int m = n - off < 200 ? n - off : 200;
		/* a filter, not InstanceId.N: an id not yet visible must not
		 * fail the whole call */
		ec2_add_filter(&pa, &nf, "instance-id", (const char *const *)ids + off, m);
		xmlDocPtr d = NULL;
		struct cg_err err = { 0 };
		int rc = ec2_call(p, q->region, "DescribeInstances", &pa, 0, &d, NULL, &err);
		cg_ec2_params_free(&pa);
		if (rc < 0)
			continue;	/* the waiters' deadlines bound this */
		pthread_mutex_lock(&q->mu);
		for (xmlNodePtr res = cg_xml_path(ec2_root(d), "reservationSet/item"); res;
		     res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
			     it = cg_xml_next(it, "item")) {
				struct obs o;
				obs_from_item(it, &o);
				o.seq = seq;
				if (o.id)
					obs_put(q, &o);
				else
					obs_clear(&o);
			}
		for (int i = off; i < off + m; i++) {
			struct obs *x = obs_find(q, ids[i]);
			if (!x || x->seq != seq) {
				struct obs o = { .id = cg_xstrdup(ids[i]), .state = cg_xstrdup("absent"),
						 .seq = seq };
				obs_put(q, &o);
			}
		}
		pthread_mutex_unlock(&q->mu);
		xmlFreeDoc(d);
	}
}

static void want_remove(struct poller *q, const char *id)
{
	for (int i = 0; i < q->nwant; i++)
		if (!strcmp(q->want[i], id)) {
			free(q->want[i]);
			q->want[i] = q->want[--q->nwant];
			return;
		}
}

/*
 * Wait until instance id in region is `target` ("running" or
 * "terminated"; an instance no longer listed counts as terminated).
 * *out (may be NULL) gets the observation that satisfied it.
 */
static int wait_instance(struct cg_provider *p, const char *region, const char *id,
			 const char *target, struct obs *out, struct cg_err *err)
{
	struct poller *q = poller_get(p, region);
	bool want_term = !strcmp(target, "terminated");
	int64_t deadline = cg_now_ms() + 1000 * p->wait_s;
	pthread_mutex_lock(&q->mu);
	if (q->nwant == q->cwant) {
		q->cwant = q->cwant ? 2 * q->cwant : 32;
		q->want = cg_xrealloc(q->want, (size_t)q->cwant * sizeof(char *));
	}
	q->want[q->nwant++] = cg_xstrdup(id);
	long since = q->seq;
	int rc = 0;
	for (;;) {
		struct obs *o = obs_find(q, id);
		if (o && o->seq > since) {
			bool gone = !strcmp(o->state, "terminated") || !strcmp(o->state, "absent");
			if ((want_term && gone) || (!want_term && !strcmp(o->state, target))) {
				if (out)
					obs_copy(out, o);
				break;
			}
			if (!want_term && (!strcmp(o->state, "terminated") ||
					   !strcmp(o->state, "shutting-down") ||
					   !strcmp(o->state, "stopped"))) {
				rc = cg_error(err, CG_EXIT_ERROR,
					      "instance %s in %s is %s instead of running%s%s",
					      id, region, o->state, o->reason ? ": " : "",
					      o->reason ? o->reason : "");
				break;
			}
		}
		int64_t now = cg_now_ms();
		if (now > deadline || ec2_interrupted_hard(p)) {
			rc = cg_error(err, CG_EXIT_ERROR,
				      "instance %s in %s not %s after %ld s (last state: %s)", id,
				      region, target, p->wait_s, o ? o->state : "unknown");
			break;
		}
		if (!q->busy && now - q->last_ms >= p->poll_ms) {
			q->busy = true;
			long seq = ++q->seq;
			int n = q->nwant;
			char **ids = cg_xcalloc((size_t)n, sizeof(char *));
			for (int i = 0; i < n; i++)
				ids[i] = cg_xstrdup(q->want[i]);
			pthread_mutex_unlock(&q->mu);
			poll_once(p, q, ids, n, seq);
			ec2_free_list(ids, n);
			pthread_mutex_lock(&q->mu);
			q->busy = false;
			q->last_ms = cg_now_ms();
			pthread_cond_broadcast(&q->cv);
			continue;
		}
		int64_t wake = q->busy ? now + p->poll_ms : q->last_ms + p->poll_ms;
		if (wake > deadline)
			wake = deadline;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t delta = wake - now;
		if (delta < 1)
			delta = 1;
		ts.tv_sec += delta / 1000;
		ts.tv_nsec += (delta % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
	want_remove(q, id);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

static const char *arch_guess(const char *type)
{
	/* Graviton families carry a 'g' after the generation digit: m7g, c6gn, t4g. */
	const char *d = type;
	while (*d && !isdigit((unsigned char)*d))
		d++;
	while (isdigit((unsigned char)*d))
		d++;
	return (*d == 'g' || !strncmp(type, "a1.", 3)) ? "arm64" : "x86_64";
}

static int type_arch(struct cg_provider *p, const char *region, const char *type, char *out,
		     size_t n, struct cg_err *err)
{
	char key[160];
	snprintf(key, sizeof(key), "arch:%s:%s", region, type);
	const char *v = ec2_cache_get(p, key);
	if (v) {
		snprintf(out, n, "%s", v);
		return 0;
	}
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "InstanceType.1", type);
	xmlDocPtr d = NULL;
	struct cg_ec2_error e;
	struct cg_err ignored = { 0 };
	int rc = ec2_call(p, region, "DescribeInstanceTypes", &pa, 0, &d, &e, &ignored);
	cg_ec2_params_free(&pa);
	if (rc == 0) {
		char *a = cg_xml_text(ec2_root(d),
				      "instanceTypeSet/item/processorInfo/supportedArchitectures/item");
		xmlFreeDoc(d);
		if (!a)
			return cg_error(err, CG_EXIT_CONFIG,
					"instance type %s is not offered in %s: change node_type",
					type, region);
		/* x86_64_mac and i386 never apply to the Ubuntu server images */
		snprintf(out, n, "%s", !strcmp(a, "arm64") ? "arm64" : "x86_64");
		free(a);
	} else if (!strcmp(e.code, "InvalidInstanceType")) {
		return cg_error(err, CG_EXIT_CONFIG, "instance type %s is unknown in %s: change node_type",
				type, region);
	} else {
		snprintf(out, n, "%s", arch_guess(type));	/* API not allowed: guess */
	}
	ec2_cache_put(p, key, out);
	return 0;
}

static int resolve_ubuntu(struct cg_provider *p, const char *region, const char *type,
			  char **out, struct cg_err *err);

/* Resolve the ami attribute: ami-... as is, ubuntu-24.04 = newest Canonical image. */
static int resolve_ami(struct cg_provider *p, const char *region, const char *ami,
		       const char *type, char **out, struct cg_err *err)
{
	if (!strncmp(ami, "ami-", 4)) {
		*out = cg_xstrdup(ami);
		return 0;
	}
	if (strcmp(ami, "ubuntu-24.04"))
		return cg_error(err, CG_EXIT_CONFIG, "ami '%s': expected ami-... or ubuntu-24.04", ami);
	pthread_mutex_lock(&p->resolve_mu);
	int rc = resolve_ubuntu(p, region, type, out, err);
	pthread_mutex_unlock(&p->resolve_mu);
	return rc;
}

static int resolve_ubuntu(struct cg_provider *p, const char *region, const char *type,
			  char **out, struct cg_err *err)
{
	char arch[16];
	if (type_arch(p, region, type, arch, sizeof(arch), err) < 0)
		return -1;
	char key[160];
	snprintf(key, sizeof(key), "ami:%s:%s", region, arch);
	const char *v = ec2_cache_get(p, key);
	if (v) {
		*out = cg_xstrdup(v);
		return 0;
	}
	struct cg_ec2_params pa = { 0 };
	int nf = 0;
	cg_ec2_params_add(&pa, "Owner.1", CANONICAL_OWNER);
	ec2_add_filter1(&pa, &nf, "name", UBUNTU_2404_NAME);
	ec2_add_filter1(&pa, &nf, "architecture", arch);
	ec2_add_filter1(&pa, &nf, "state", "available");
	xmlDocPtr d = NULL;
	int rc = ec2_call(p, region, "DescribeImages", &pa, 0, &d, NULL, err);
	cg_ec2_params_free(&pa);
	if (rc < 0)
		return -1;
	char best_date[64] = "", best[64] = "", date[64], id[64];
	for (xmlNodePtr it = cg_xml_path(ec2_root(d), "imagesSet/item"); it;
	     it = cg_xml_next(it, "item")) {
		cg_xml_textb(it, "creationDate", date, sizeof(date));
		cg_xml_textb(it, "imageId", id, sizeof(id));
		/* ISO-8601 UTC strings order like the times they denote */
		if (id[0] && strcmp(date, best_date) >= 0) {
			snprintf(best_date, sizeof(best_date), "%s", date);
			snprintf(best, sizeof(best), "%s", id);
		}
	}
	xmlFreeDoc(d);
	if (!best[0])
		return cg_error(err, CG_EXIT_ERROR,
				"no Ubuntu 24.04 image (owner %s, %s) found in %s: set `ami:` for "
				"this DC", CANONICAL_OWNER, arch, region);
	ec2_cache_put(p, key, best);
	*out = cg_xstrdup(best);
	return 0;
}


char *ec2_expires_at(const char *spec, time_t now)
{
	time_t at;
	if (cg_config_expiry(spec, now, &at) < 0)
		return NULL;
	struct tm tm;
	gmtime_r(&at, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cg_xstrdup(buf);
}

/* Where the node's jars are: dir:PATH as given; install: maven (and upload) puts the
 * release under base_dir as the local cache lays it out (cgnode
 * cmd_install), so another release is another directory; apt's package. */
static void set_lib_dir(struct cg_resource *r, const char *inst, const char *version,
			const char *dflt_version)
{
	if (inst && !strncmp(inst, "dir:", 4))
		cg_res_set(r, "lib_dir", inst + 4, CG_ATTR_INFO);
	else if (inst && (!strcmp(inst, "maven") || !strcmp(inst, "upload")))
		cg_res_setf(r, "lib_dir", CG_ATTR_INFO, AWS_BASE_DIR "/cassandra-%s/lib",
			    version && *version ? version : dflt_version);
	else
		cg_res_set(r, "lib_dir", AWS_LIB_DIR, CG_ATTR_INFO);
}
/* Fill the machine attributes a created/adopted instance records. */
static void machine_result(struct cg_provider *p, const struct cg_resource *desired,
			   const struct obs *o, const char *host_key, const char *zone,
			   struct cg_resource *result)
{
	cg_res_copy(result, desired);
	cg_res_set_id(result, o->id);
	if (zone)
		cg_res_set(result, "zone", zone, cg_res_attr(desired, "zone")
					       ? cg_res_attr(desired, "zone")->flags & ~CG_ATTR_COMPUTED
					       : CG_ATTR_FORCENEW);
	cg_res_set(result, "private_ip", o->priv_ip, CG_ATTR_COMPUTED);
	cg_res_set(result, "public_ip", o->pub_ip, CG_ATTR_COMPUTED);
	cg_res_set(result, "host_key", host_key, CG_ATTR_COMPUTED);
	cg_res_set(result, "image_id", o->image, CG_ATTR_INFO);
	cg_res_set(result, "state", o->state, CG_ATTR_INFO);
	cg_res_set(result, "power", "on", CG_ATTR_INFO);
	cg_res_set(result, "launch_time", o->launch, CG_ATTR_INFO);
	cg_res_set(result, "health", "ok", CG_ATTR_COMPUTED);
	cg_res_set(result, "ssh_port", "22", CG_ATTR_INFO);
	cg_res_set(result, "base_dir", AWS_BASE_DIR, CG_ATTR_INFO);
	if (desired->kind != CG_KIND_LOADER)
		set_lib_dir(result, cg_res_get(desired, "install"),
			    cg_res_get(desired, "cassandra_version"), p->c->cassandra_version);
}

static void lookup_res(struct cg_ctx *ctx, const char *addr, struct cg_resource *out, bool *found)
{
	memset(out, 0, sizeof(*out));
	*found = ctx && ctx->lookup && ctx->lookup(ctx, addr, out) == 0;
}

/* The first live instance tagged for this node (loader: this load node),
 * or none (*id NULL). */
static int find_node_instance(struct cg_provider *p, const char *region, const char *dc, int node,
			      bool loader, char **id, char **host_key, char **zone, struct cg_err *err)
{
	xmlDocPtr *docs;
	int nd;
	*id = *host_key = *zone = NULL;
	if (ec2_describe_cluster(p, region, dc, loader ? -node : node, false, &docs, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && !*id; i++)
		for (xmlNodePtr res = cg_xml_path(ec2_root(docs[i]), "reservationSet/item");
		     res && !*id; res = cg_xml_next(res, "item")) {
			xmlNodePtr it = cg_xml_path(res, "instancesSet/item");
			if (it) {
				*id = cg_xml_text(it, "instanceId");
				*host_key = ec2_tag_value(it, TAG_HOSTKEY);
				*zone = cg_xml_text(it, "placement/availabilityZone");
			}
		}
	ec2_free_docs(docs, nd);
	return 0;
}

static int machine_create(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *desired, struct cg_resource *result,
			  struct cg_err *err)
{
	const char *region = desired->region, *dc = desired->dc;
	int node = desired->node;
	/* a load node: tagged as one (never seen as a Cassandra node), no
	 * Cassandra or Java at boot */
	bool loader = desired->kind == CG_KIND_LOADER;
	const char *zone = cg_res_get(desired, "zone");
	const char *type = cg_res_get(desired, "node_type");
	const char *ami = cg_res_get(desired, "ami");
	const char *seed = cg_res_get(desired, "seed");
	const char *name = cg_res_get(desired, "name");
	const char *capacity = cg_res_get(desired, "capacity");
	if (!capacity)
		capacity = "on-demand";
	/* spot: one-time, terminated when reclaimed (the next apply replaces
	 * the node); spot-or-on-demand falls back when spot is refused */
	bool spot = strncmp(capacity, "spot", 4) == 0;
	bool fallback = !strcmp(capacity, "spot-or-on-demand");
	if (!region || !dc || node < 1 || !type || !ami)
		return cg_error(err, CG_EXIT_ERROR, "%s: region, dc, node, node_type and ami are needed",
				desired->addr);
	char *id = NULL, *host_pub = NULL, *host_priv = NULL, *found_zone = NULL, *image = NULL;
	char *sg = NULL, *ud = NULL, *ud64 = NULL, *keyname = NULL;
	int rc = -1;
	struct obs o = { 0 };
	const char *market = NULL;	/* what RunInstances launched */
	const char *expires = cg_res_get(desired, "expires");
	char *expires_at = expires ? ec2_expires_at(expires, time(NULL)) : NULL;

	bool refreshed;
	pthread_mutex_lock(&p->mu);
	refreshed = p->refreshed;
	pthread_mutex_unlock(&p->mu);
	if (!refreshed) {
		/* no refresh this run: an instance of a crashed run may exist */
		if (find_node_instance(p, region, dc, node, loader, &id, &host_pub, &found_zone,
				       err) < 0)
			goto out;
		if (id)
			ec2_progress(ctx, desired->addr, "adopting tagged instance");
	}

	if (!id) {
		char *kpa = cg_addr_region(CG_KIND_KEYPAIR, region);
		struct cg_resource r;
		bool f;
		lookup_res(ctx, kpa, &r, &f);
		if (f) {
			keyname = cg_xstrdup(cg_res_get(&r, "name"));
			cg_res_clear(&r);
		}
		free(kpa);
		/* every group of the region (main + overflow), comma-separated */
		if (ec2_sgs_for_launch(p, region, false, &sg, err) < 0) {
			cg_error_wrap(err, "%s", desired->addr);
			goto out;
		}
		if (!keyname)
			keyname = ec2_sg_name(p, region);
		if (resolve_ami(p, region, ami, type, &image, err) < 0)
			goto out;
		if (cg_ssh_keygen_mem(&host_priv, &host_pub, err) < 0)
			goto out;
		/* the public line without its comment: what is pinned and tagged */
		char *sp = strchr(host_pub, ' ');
		if (sp && (sp = strchr(sp + 1, ' ')))
			*sp = 0;
		char *label = cg_xasprintf("%s %s %sn%d", p->c->name, dc, loader ? "load " : "", node);
		struct cg_ec2_userdata u = {
			.host_priv = host_priv, .host_pub = host_pub,
			.install = loader ? "none" : cg_res_get(desired, "install"),
			.cassandra_version = loader ? NULL : cg_res_get(desired, "cassandra_version")
				? cg_res_get(desired, "cassandra_version") : p->c->cassandra_version,
			.base_dir = AWS_BASE_DIR, .label = label, .owner = p->c->ssh_user,
		};
		ud = cg_ec2_userdata_render(&u, err);
		free(label);
		if (!ud)
			goto out;
		ud64 = ec2_b64(ud);
		/* ClientToken makes real EC2 retries idempotent (moto ignores it:
		 * the tag look-up below covers that). */
		unsigned char rnd[6];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			memset(rnd, 0, sizeof(rnd));
		char token[64];
		snprintf(token, sizeof(token), "cg-%.20s-%.8s-n%d-%02x%02x%02x%02x%02x%02x",
			 p->c->name, dc, node, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		char nodes[16];
		snprintf(nodes, sizeof(nodes), "%d", node);
		const char *tags[] = {
			TAG_CLUSTER, p->c->name, TAG_DC, dc, loader ? TAG_LOADER : TAG_NODE, nodes,
			TAG_ROLE, loader ? "loader" : seed && !strcmp(seed, "true") ? "seed" : "node",
			"Name", name ? name : desired->addr, TAG_HOSTKEY, host_pub, TAG_AMI, ami,
			/* what the bootstrap needs (lib_dir) even when the state is lost */
			TAG_INSTALL, u.install ? u.install : "apt",
			TAG_VERSION, u.cassandra_version ? u.cassandra_version : "",
			TAG_CAPACITY, capacity,
			/* [last two]: only with expires: */
			TAG_EXPIRES, expires, TAG_EXPIRES_AT, expires_at,
		};
		const int ntags = (int)(sizeof(tags) / sizeof(tags[0]) / 2) - (expires_at ? 0 : 2);
		for (int attempt = 1;; attempt++) {
			struct cg_ec2_params pa = { 0 };
			cg_ec2_params_add(&pa, "ImageId", image);
			cg_ec2_params_add(&pa, "InstanceType", type);
			cg_ec2_params_add(&pa, "MinCount", "1");
			cg_ec2_params_add(&pa, "MaxCount", "1");
			cg_ec2_params_add(&pa, "KeyName", keyname);
			char **gids;
			int ngids = ec2_split_list(sg, &gids);
			for (int k = 0; k < ngids; k++) {
				char key[40];
				snprintf(key, sizeof(key), "SecurityGroupId.%d", k + 1);
				cg_ec2_params_add(&pa, key, gids[k]);
			}
			ec2_free_list(gids, ngids);
			if (zone)
				cg_ec2_params_add(&pa, "Placement.AvailabilityZone", zone);
			if (spot) {
				cg_ec2_params_add(&pa, "InstanceMarketOptions.MarketType", "spot");
				cg_ec2_params_add(&pa, "InstanceMarketOptions.SpotOptions.SpotInstanceType",
						  "one-time");
				cg_ec2_params_add(&pa, "InstanceMarketOptions.SpotOptions."
						  "InstanceInterruptionBehavior", "terminate");
			}
			cg_ec2_params_add(&pa, "UserData", ud64);
			cg_ec2_params_add(&pa, "ClientToken", token);
			cg_ec2_params_add(&pa, "MetadataOptions.HttpTokens", "required");
			ec2_add_tags(&pa, 1, "instance", tags, ntags);
			xmlDocPtr d = NULL;
			struct cg_ec2_error e;
			ec2_progress(ctx, desired->addr, spot ? "launching spot instance"
							      : "launching instance");
			int crc = ec2_call(p, region, "RunInstances", &pa, CG_EC2_NO_AMBIGUOUS, &d, &e, err);
			cg_ec2_params_free(&pa);
			if (crc == 0) {
				market = spot ? "spot" : "on-demand";
				id = cg_xml_text(ec2_root(d), "instancesSet/item/instanceId");
				found_zone = cg_xml_text(ec2_root(d), "instancesSet/item/placement/availabilityZone");
				xmlFreeDoc(d);
				break;
			}
			if (!strcmp(e.code, "InvalidGroup.NotFound") && attempt < 3) {
				/* an overflow group deleted meanwhile (peers shrank): look again */
				free(sg);
				sg = NULL;
				if (ec2_sgs_for_launch(p, region, true, &sg, err) < 0)
					goto out;
				continue;
			}
			bool no_capacity = !strcmp(e.code, "InsufficientInstanceCapacity") ||
					   !strcmp(e.code, "Unsupported");
			if (spot && fallback && (no_capacity || !strcmp(e.code, "MaxSpotInstanceCountExceeded") ||
						 !strcmp(e.code, "SpotMaxPriceTooLow"))) {
				char why[160];
				snprintf(why, sizeof(why), "no spot capacity in %s (%s): on-demand instead",
					 zone ? zone : region, e.code);
				ec2_progress(ctx, desired->addr, why);
				spot = false;
				continue;
			}
			if (no_capacity) {
				cg_error(err, CG_EXIT_ERROR,
					 "%s: EC2 has no %s%s capacity in zone %s (%s): %s. Change "
					 "node_type of DC %s, list other zones for it (zones:), %s"
					 "or retry later", desired->addr, spot ? "spot " : "", type,
					 zone ? zone : "(any)", region, e.message, dc,
					 spot ? "set capacity: spot-or-on-demand, " : "");
				goto out;
			}
			if (!e.ambiguous || attempt >= 8)
				goto out;
			/* The call may have launched it: look before launching again. */
			char *hk = NULL;
			ec2_sleep_ms(200 * attempt);
			if (find_node_instance(p, region, dc, node, loader, &id, &hk, &found_zone, err) < 0)
				goto out;
			free(hk);
			if (id)
				break;
		}
		if (!id) {
			cg_error(err, CG_EXIT_ERROR, "%s: RunInstances answered without an instance id",
				 desired->addr);
			goto out;
		}
	}
	ec2_progress(ctx, desired->addr, "waiting for instance to run");
	if (wait_instance(p, region, id, "running", &o, err) < 0)
		goto out;
	if (sg) {
		/* peers.<region> may have added or removed a group while this
		 * instance launched: it attaches groups to the instances it sees
		 * after publishing them, this one compares after its launch, so
		 * one of the two covers the instance */
		const char *now = ec2_sgs_published(p, region);
		if (now && *now && strcmp(now, sg)) {
			char **gids;
			int ngids = ec2_split_list(now, &gids);
			ec2_progress(ctx, desired->addr, "updating the instance's security groups");
			int src = ec2_set_instance_groups(p, region, id, gids, ngids, err);
			ec2_free_list(gids, ngids);
			if (src < 0)
				goto out;
		}
	}
	if (!host_pub) {
		cg_error(err, CG_EXIT_ERROR,
			 "%s: adopted instance %s carries no %s tag: its SSH host key is unknown; "
			 "terminate it and apply again", desired->addr, id, TAG_HOSTKEY);
		goto out;
	}
	machine_result(p, desired, &o, host_pub, found_zone, result);
	/* what it got (an adopted instance of spot-or-on-demand: the refresh
	 * reads its tag) */
	if (!market && strcmp(capacity, "spot-or-on-demand"))
		market = capacity;
	if (expires_at)
		cg_res_set(result, "expires_at", expires_at, CG_ATTR_INFO);
	if (market) {
		cg_res_set(result, "market", market, CG_ATTR_INFO);
		char got[96];
		snprintf(got, sizeof(got), "%s instance %s", market, o.id ? o.id : "");
		ec2_progress(ctx, desired->addr, got);
	}
	rc = 0;
out:
	obs_clear(&o);
	if (host_priv) {
		OPENSSL_cleanse(host_priv, strlen(host_priv));
		free(host_priv);
	}
	if (ud) {
		OPENSSL_cleanse(ud, strlen(ud));
		free(ud);
	}
	if (ud64) {
		OPENSSL_cleanse(ud64, strlen(ud64));
		free(ud64);
	}
	free(id);
	free(host_pub);
	free(found_zone);
	free(image);
	free(sg);
	free(keyname);
	free(expires_at);
	return rc;
}

static void term_done_add(struct poller *q, const char *id, int rc, const char *msg)
{
	if (q->ndone == q->cdone) {
		q->cdone = q->cdone ? 2 * q->cdone : 32;
		q->done = cg_xrealloc(q->done, (size_t)q->cdone * sizeof(*q->done));
	}
	q->done[q->ndone].id = cg_xstrdup(id);
	q->done[q->ndone].rc = rc;
	q->done[q->ndone].msg = cg_xstrdup(msg);
	q->ndone++;
}

/* Terminate ids (q->mu not held); outcomes go to q->done. */
static void terminate_ids(struct cg_provider *p, struct poller *q, char **ids, int n)
{
	for (int off = 0; off < n; off += 500) {
		int m = n - off < 500 ? n - off : 500;
		struct cg_ec2_params pa = { 0 };
		char k[32];
		for (int i = 0; i < m; i++) {
			snprintf(k, sizeof(k), "InstanceId.%d", i + 1);
			cg_ec2_params_add(&pa, k, ids[off + i]);
		}
		struct cg_ec2_error e;
		struct cg_err err = { 0 };
		int rc = ec2_call(p, q->region, "TerminateInstances", &pa, 0, NULL, &e, &err);
		cg_ec2_params_free(&pa);
		if (rc < 0 && m > 1 && cg_ec2_error_notfound(&e)) {
			/* one unknown id fails the whole call: one by one */
			for (int i = 0; i < m; i++)
				terminate_ids(p, q, ids + off + i, 1);
			continue;
		}
		int outcome = rc == 0 ? 0 : cg_ec2_error_notfound(&e) ? 1 : -1;
		pthread_mutex_lock(&q->mu);
		for (int i = 0; i < m; i++)
			term_done_add(q, ids[off + i], outcome, err.msg);
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
	}
}

/*
 * TerminateInstances for id, batched with the other deletions of the region
 * that arrive within a short window (one call for many instances). Returns
 * 0 (terminating), 1 (gone already) or -1.
 */
static int terminate_batched(struct cg_provider *p, const char *region, const char *id,
			     struct cg_err *err)
{
	struct poller *q = poller_get(p, region);
	pthread_mutex_lock(&q->mu);
	if (q->nterm == q->cterm) {
		q->cterm = q->cterm ? 2 * q->cterm : 32;
		q->term = cg_xrealloc(q->term, (size_t)q->cterm * sizeof(char *));
	}
	q->term[q->nterm++] = cg_xstrdup(id);
	if (!q->term_leader) {
		q->term_leader = true;
		pthread_mutex_unlock(&q->mu);
		ec2_sleep_ms(p->poll_ms < 200 ? p->poll_ms : 200);	/* gather the others */
		pthread_mutex_lock(&q->mu);
		char **ids = q->term;
		int n = q->nterm;
		q->term = NULL;
		q->nterm = q->cterm = 0;
		q->term_leader = false;
		pthread_mutex_unlock(&q->mu);
		terminate_ids(p, q, ids, n);
		ec2_free_list(ids, n);
		pthread_mutex_lock(&q->mu);
	}
	int rc;
	for (;;) {
		int i;
		for (i = 0; i < q->ndone; i++)
			if (!strcmp(q->done[i].id, id))
				break;
		if (i < q->ndone) {
			rc = q->done[i].rc;
			if (rc < 0)
				cg_error(err, CG_EXIT_ERROR, "%s", q->done[i].msg);
			free(q->done[i].id);
			free(q->done[i].msg);
			q->done[i] = q->done[--q->ndone];
			break;
		}
		pthread_cond_wait(&q->cv, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/*
 * Parking (cassandgo stop): StopInstances, then wait until it is stopped.
 * The EBS volume stays, with the node's data; the public address goes
 * (StartInstances gives another; the private one stays). The record keeps
 * what the instance had, power off.
 */
static int machine_power_off(struct cg_provider *p, struct cg_ctx *ctx,
			     const struct cg_resource *desired, const struct cg_resource *current,
			     struct cg_resource *result, struct cg_err *err)
{
	const char *st = cg_res_get(current, "state");
	struct obs o = { 0 };
	if (!st || (strcmp(st, "stopped") && strcmp(st, "stopping"))) {
		ec2_progress(ctx, desired->addr, "stopping instance");
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "InstanceId.1", current->id);
		int rc = ec2_call(p, desired->region, "StopInstances", &pa, 0, NULL, NULL, err);
		cg_ec2_params_free(&pa);
		if (rc < 0)
			return cg_error_wrap(err, "%s: StopInstances %s", desired->addr, current->id);
	}
	ec2_progress(ctx, desired->addr, "waiting for the instance to stop");
	if (wait_instance(p, desired->region, current->id, "stopped", &o, err) < 0) {
		obs_clear(&o);
		return -1;
	}
	cg_res_copy(result, current);
	cg_res_set(result, "power", "off", CG_ATTR_INFO);
	cg_res_set(result, "state", o.state, CG_ATTR_INFO);
	cg_res_set(result, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
	cg_res_set(result, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
	cg_res_setf(result, "health", CG_ATTR_COMPUTED, "instance %s is stopped", current->id);
	obs_clear(&o);
	return 0;
}

int ec2_machine_apply(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		      const struct cg_resource *desired, const struct cg_resource *current,
		      struct cg_resource *result, struct cg_err *err)
{
	if (op == CG_OP_CREATE)
		return machine_create(p, ctx, desired, result, err);
	const char *power = desired ? cg_res_get(desired, "power") : NULL;
	if (op == CG_OP_UPDATE && power && !strcmp(power, "off") && current && current->id)
		return machine_power_off(p, ctx, desired, current, result, err);
	if (op == CG_OP_UPDATE) {
		if (!current || !current->id)
			return machine_create(p, ctx, desired, result, err);
		const char *seed = cg_res_get(desired, "seed");
		struct cg_ec2_params pa = { 0 };
		cg_ec2_params_add(&pa, "ResourceId.1", current->id);
		cg_ec2_params_add(&pa, "Tag.1.Key", "Name");
		cg_ec2_params_add(&pa, "Tag.1.Value", cg_res_get(desired, "name"));
		cg_ec2_params_add(&pa, "Tag.2.Key", TAG_ROLE);
		cg_ec2_params_add(&pa, "Tag.2.Value", desired->kind == CG_KIND_LOADER ? "loader"
						      : seed && !strcmp(seed, "true") ? "seed" : "node");
		/* a new expires: ends that long from now */
		const char *exp = cg_res_get(desired, "expires"), *had = cg_res_get(current, "expires");
		char *at = exp && (!had || strcmp(exp, had)) ? ec2_expires_at(exp, time(NULL)) : NULL;
		if (at) {
			cg_ec2_params_add(&pa, "Tag.3.Key", TAG_EXPIRES);
			cg_ec2_params_add(&pa, "Tag.3.Value", exp);
			cg_ec2_params_add(&pa, "Tag.4.Key", TAG_EXPIRES_AT);
			cg_ec2_params_add(&pa, "Tag.4.Value", at);
		}
		ec2_progress(ctx, desired->addr, "updating tags");
		int rc = ec2_call(p, desired->region, "CreateTags", &pa, CG_EC2_RETRY_NOTFOUND, NULL, NULL, err);
		cg_ec2_params_free(&pa);
		if (rc < 0) {
			free(at);
			return -1;
		}
		struct obs o = { 0 };
		const char *st = cg_res_get(current, "state");
		if (st && (!strcmp(st, "stopped") || !strcmp(st, "stopping"))) {
			/* stopped behind our back: start it again (its public
			 * address changes; peers follow on the next plan) */
			if (!strcmp(st, "stopping")) {
				ec2_progress(ctx, desired->addr, "waiting for the instance to stop");
				if (wait_instance(p, desired->region, current->id, "stopped", NULL, err) < 0) {
					free(at);
					return -1;
				}
			}
			ec2_progress(ctx, desired->addr, "starting stopped instance");
			struct cg_ec2_params sp = { 0 };
			cg_ec2_params_add(&sp, "InstanceId.1", current->id);
			rc = ec2_call(p, desired->region, "StartInstances", &sp, 0, NULL, NULL, err);
			cg_ec2_params_free(&sp);
			if (rc < 0 || wait_instance(p, desired->region, current->id, "running", &o, err) < 0) {
				obs_clear(&o);
				free(at);
				return -1;
			}
		}
		cg_res_copy(result, desired);
		cg_res_set_id(result, current->id);
		/* what the instance already has and the desired side leaves computed */
		for (int i = 0; i < current->nattrs; i++) {
			const struct cg_attr *a = &current->attrs[i];
			const struct cg_attr *da = cg_res_attr(desired, a->key);
			if (!da || !da->value)
				cg_res_set(result, a->key, a->value, da ? da->flags : a->flags);
		}
		if (at)
			cg_res_set(result, "expires_at", at, CG_ATTR_INFO);
		free(at);
		if (o.id) {
			cg_res_set(result, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
			cg_res_set(result, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
			cg_res_set(result, "state", o.state, CG_ATTR_INFO);
		}
		cg_res_set(result, "power", "on", CG_ATTR_INFO);
		cg_res_set(result, "health", "ok", CG_ATTR_COMPUTED);
		obs_clear(&o);
		return 0;
	}
	/* DELETE */
	const char *id = current ? current->id : NULL;
	const char *region = current ? current->region : NULL;
	if (!id || !region)
		return 0;
	ec2_progress(ctx, current->addr, "terminating instance");
	int rc = terminate_batched(p, region, id, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;	/* already gone */
	ec2_progress(ctx, current->addr, "waiting for termination");
	return wait_instance(p, region, id, "terminated", NULL, err);
}

static const struct cg_resource *known_by_id(const struct cg_rset *known, const char *id)
{
	for (int i = 0; known && i < known->n; i++)
		if (known->v[i].id && !strcmp(known->v[i].id, id))
			return &known->v[i];
	return NULL;
}

/* An instance tagged as load node of dc (no node tag): loader.<dc>.n<i>
 * with what the model sets, read back from the instance and its tags. */
static void loader_refresh(struct region_job *j, xmlNodePtr it, const char *dc)
{
	char *num = ec2_tag_value(it, TAG_LOADER);
	int n = num ? atoi(num) : 0;
	if (n < 1) {
		free(num);
		return;		/* tagged for the cluster but neither node nor loader */
	}
	j->ninstances++;
	j->inst = cg_xrealloc(j->inst, (size_t)(j->ninst + 1) * sizeof(*j->inst));
	struct inst_sgs *is = &j->inst[j->ninst++];
	memset(is, 0, sizeof(*is));
	for (xmlNodePtr g = cg_xml_path(it, "groupSet/item"); g; g = cg_xml_next(g, "item")) {
		is->groups = cg_xrealloc(is->groups, (size_t)(is->n + 1) * sizeof(char *));
		is->groups[is->n++] = cg_xml_text(g, "groupId");
	}
	struct obs o;
	obs_from_item(it, &o);
	char *addr = cg_addr_node(CG_KIND_LOADER, dc, n);
	struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_LOADER, addr);
	free(addr);
	r->region = cg_xstrdup(j->region);
	r->dc = cg_xstrdup(dc);
	r->node = n;
	cg_res_set_id(r, o.id);
	const struct cg_resource *k = known_by_id(j->known, o.id);
	char *v[] = {
		ec2_tag_value(it, "Name"), ec2_tag_value(it, TAG_HOSTKEY), ec2_tag_value(it, TAG_AMI),
		cg_xml_text(it, "placement/availabilityZone"), cg_xml_text(it, "instanceType"),
		ec2_tag_value(it, TAG_EXPIRES), ec2_tag_value(it, TAG_EXPIRES_AT),
	};
	cg_res_set(r, "cluster", j->p->c->name, CG_ATTR_INFO);
	cg_res_set(r, "dc", dc, CG_ATTR_INFO);
	cg_res_set(r, "node", num, CG_ATTR_INFO);
	cg_res_set(r, "zone", v[3], CG_ATTR_FORCENEW);
	cg_res_set(r, "node_type", v[4], CG_ATTR_FORCENEW);
	const char *kami = k ? cg_res_get(k, "ami") : NULL;
	cg_res_set(r, "ami", kami ? kami : v[2] ? v[2] : o.image, CG_ATTR_FORCENEW);
	cg_res_set(r, "capacity", "on-demand", CG_ATTR_FORCENEW);
	if (v[5] && *v[5])
		cg_res_set(r, "expires", v[5], 0);
	if (v[6] && *v[6])
		cg_res_set(r, "expires_at", v[6], CG_ATTR_INFO);
	cg_res_set(r, "name", v[0], 0);
	cg_res_set(r, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
	cg_res_set(r, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
	const char *khk = k ? cg_res_get(k, "host_key") : NULL;
	cg_res_set(r, "host_key", khk ? khk : v[1], CG_ATTR_COMPUTED);
	cg_res_set(r, "image_id", o.image, CG_ATTR_INFO);
	cg_res_set(r, "state", o.state, CG_ATTR_INFO);
	bool off = o.state && (!strcmp(o.state, "stopped") || !strcmp(o.state, "stopping"));
	cg_res_set(r, "power", off ? "off" : "on", CG_ATTR_INFO);
	if (off)	/* stopped behind our back: the next apply starts it */
		cg_res_setf(r, "health", CG_ATTR_COMPUTED, "instance %s is %s", o.id, o.state);
	else
		cg_res_set(r, "health", "ok", CG_ATTR_COMPUTED);
	cg_res_set(r, "launch_time", o.launch, CG_ATTR_INFO);
	cg_res_set(r, "ssh_port", "22", CG_ATTR_INFO);
	cg_res_set(r, "base_dir", AWS_BASE_DIR, CG_ATTR_INFO);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		free(v[i]);
	free(num);
	obs_clear(&o);
}

void ec2_machine_refresh(struct region_job *j, xmlDocPtr *docs, int nd)
{
	struct cg_provider *p = j->p;
	for (int i = 0; i < nd; i++)
		for (xmlNodePtr res = cg_xml_path(ec2_root(docs[i]), "reservationSet/item"); res;
		     res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
			     it = cg_xml_next(it, "item")) {
				char *dc = ec2_tag_value(it, TAG_DC), *node = ec2_tag_value(it, TAG_NODE);
				int n = node ? atoi(node) : 0;
				if (dc && !node) {
					loader_refresh(j, it, dc);
					free(dc);
					continue;
				}
				if (!dc || n < 1) {
					free(dc);
					free(node);
					continue;	/* tagged for the cluster but not a node */
				}
				j->ninstances++;
				j->inst = cg_xrealloc(j->inst, (size_t)(j->ninst + 1) * sizeof(*j->inst));
				struct inst_sgs *is = &j->inst[j->ninst++];
				memset(is, 0, sizeof(*is));
				for (xmlNodePtr g = cg_xml_path(it, "groupSet/item"); g;
				     g = cg_xml_next(g, "item")) {
					is->groups = cg_xrealloc(is->groups, (size_t)(is->n + 1) * sizeof(char *));
					is->groups[is->n++] = cg_xml_text(g, "groupId");
				}
				struct obs o;
				obs_from_item(it, &o);
				char *addr = cg_addr_node(CG_KIND_MACHINE, dc, n);
				struct cg_resource *r = cg_rset_new(&j->live, CG_KIND_MACHINE, addr);
				free(addr);
				r->region = cg_xstrdup(j->region);
				r->dc = cg_xstrdup(dc);
				r->node = n;
				cg_res_set_id(r, o.id);
				const struct cg_resource *k = known_by_id(j->known, o.id);
				char *role = ec2_tag_value(it, TAG_ROLE), *name = ec2_tag_value(it, "Name");
				char *hk = ec2_tag_value(it, TAG_HOSTKEY), *ami = ec2_tag_value(it, TAG_AMI);
				char *zone = cg_xml_text(it, "placement/availabilityZone");
				char *type = cg_xml_text(it, "instanceType");
				cg_res_set(r, "cluster", p->c->name, CG_ATTR_INFO);
				cg_res_set(r, "dc", dc, CG_ATTR_INFO);
				cg_res_set(r, "node", node, CG_ATTR_INFO);
				cg_res_set(r, "zone", zone, CG_ATTR_FORCENEW);
				cg_res_set(r, "node_type", type, CG_ATTR_FORCENEW);
				const char *kami = k ? cg_res_get(k, "ami") : NULL;
				cg_res_set(r, "ami", kami ? kami : ami ? ami : o.image, CG_ATTR_FORCENEW);
				char *tinst = ec2_tag_value(it, TAG_INSTALL), *tver = ec2_tag_value(it, TAG_VERSION);
				const char *kinst = k ? cg_res_get(k, "install") : NULL;
				const char *kver = k ? cg_res_get(k, "cassandra_version") : NULL;
				if (kinst || tinst)
					cg_res_set(r, "install", kinst ? kinst : tinst, CG_ATTR_INFO);
				if ((kver || tver) && (kver || *tver))
					cg_res_set(r, "cassandra_version", kver ? kver : tver, CG_ATTR_INFO);
				free(tinst);
				free(tver);
				/* an instance from before capacity existed is on-demand */
				char *texp = ec2_tag_value(it, TAG_EXPIRES), *tat = ec2_tag_value(it, TAG_EXPIRES_AT);
				if (texp && *texp)
					cg_res_set(r, "expires", texp, 0);
				if (tat && *tat)
					cg_res_set(r, "expires_at", tat, CG_ATTR_INFO);
				free(texp);
				free(tat);
				char *tcap = ec2_tag_value(it, TAG_CAPACITY);
				char *life = cg_xml_text(it, "instanceLifecycle");
				cg_res_set(r, "capacity", tcap && *tcap ? tcap : "on-demand", CG_ATTR_FORCENEW);
				/* what it got: EC2 marks spot instances */
				cg_res_set(r, "market", life && !strcmp(life, "spot") ? "spot" : "on-demand",
					   CG_ATTR_INFO);
				free(tcap);
				free(life);
				cg_res_set(r, "seed", role && !strcmp(role, "seed") ? "true" : "false", 0);
				cg_res_set(r, "name", name, 0);
				cg_res_set(r, "private_ip", o.priv_ip, CG_ATTR_COMPUTED);
				cg_res_set(r, "public_ip", o.pub_ip, CG_ATTR_COMPUTED);
				const char *khk = k ? cg_res_get(k, "host_key") : NULL;
				cg_res_set(r, "host_key", khk ? khk : hk, CG_ATTR_COMPUTED);
				cg_res_set(r, "image_id", o.image, CG_ATTR_INFO);
				cg_res_set(r, "state", o.state, CG_ATTR_INFO);
				/* parked (cassandgo stop) or stopped behind our back */
				cg_res_set(r, "power", o.state && (!strcmp(o.state, "stopped") ||
								   !strcmp(o.state, "stopping"))
						       ? "off" : "on", CG_ATTR_INFO);
				/* the planner updates (here: starts) a machine whose
				 * health is not "ok" */
				if (o.state && (!strcmp(o.state, "stopped") || !strcmp(o.state, "stopping")))
					cg_res_setf(r, "health", CG_ATTR_COMPUTED,
						    "instance %s is %s", o.id, o.state);
				else
					cg_res_set(r, "health", "ok", CG_ATTR_COMPUTED);
				cg_res_set(r, "launch_time", o.launch, CG_ATTR_INFO);
				cg_res_set(r, "ssh_port", "22", CG_ATTR_INFO);
				cg_res_set(r, "base_dir", AWS_BASE_DIR, CG_ATTR_INFO);
				/* the release the config asks for: a node being
				 * upgraded renders its files for the new one */
				set_lib_dir(r, cg_res_get(r, "install"), p->c->cassandra_version,
					    p->c->cassandra_version);
				free(role);
				free(name);
				free(hk);
				free(ami);
				free(zone);
				free(type);
				free(dc);
				free(node);
				obs_clear(&o);
			}
}

void ec2_pollers_free(struct cg_provider *p)
{
	struct poller *q = p->pollers;
	while (q) {
		struct poller *next = q->next;
		for (int i = 0; i < q->nobs; i++)
			obs_clear(&q->obs[i]);
		free(q->obs);
		ec2_free_list(q->want, q->nwant);
		ec2_free_list(q->term, q->nterm);
		for (int i = 0; i < q->ndone; i++) {
			free(q->done[i].id);
			free(q->done[i].msg);
		}
		free(q->done);
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q->region);
		free(q);
		q = next;
	}
	p->pollers = NULL;
}
