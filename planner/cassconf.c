/*
 * cassconf.c - what runs on a node: cassandra.yaml, rackdc, cgnode.env,
 * logback.xml, balanced initial tokens, and the `nodetool status` parser.
 *
 * Everything here is pure and deterministic: the same spec renders the same
 * bytes, so the xxHash of the files tells whether a node must be touched.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cassconf.h"
#include "monitoring.h"

/* Cassandra's Murmur3 ring: -2^63 .. 2^63-1. */
#define RING_MIN INT64_MIN

/* Ports of a node (every node has its own address, so fixed ports). */
#define STORAGE_PORT 7000
#define CQL_PORT 9042
#define JMX_PORT 7199

/* Milliseconds a node waits for the ring: a few seconds, not 0 (FACTS). */
#define RING_DELAY_MS 5000

/* jamm is the same in every 5.0.x (cassandra-all pom and Apache's .deb). */
#define JAMM_JAR "jamm-0.4.0.jar"

/* ---- tokens ------------------------------------------------------------ */

char *cg_tokens_initial(int dc_index, int nodes, int node, int num_tokens)
{
	struct cg_buf b = {0};
	unsigned __int128 m, step;
	int k;

	if (nodes < 1 || node < 1 || node > nodes || num_tokens < 1 || dc_index < 0)
		return NULL;
	m = (unsigned __int128)nodes * (unsigned)num_tokens;
	step = ((unsigned __int128)1 << 64) / m;
	for (k = 0; k < num_tokens; k++) {
		/* Interleave: token k of node j sits at slot k*N + j, so every
		 * node owns num_tokens ranges of exactly `step` (the last range
		 * also takes the < m remainder). The DC offset keeps tokens of
		 * different DCs distinct. */
		unsigned __int128 slot = (unsigned __int128)k * (unsigned)nodes + (unsigned)(node - 1);
		uint64_t off = (uint64_t)(slot * step) + (uint64_t)dc_index * 100u;
		int64_t tok = (int64_t)((uint64_t)RING_MIN + off);

		cg_buf_addf(&b, "%s%lld", k ? "," : "", (long long)tok);
	}
	return cg_buf_detach(&b);
}

/* ---- seeds and spec ---------------------------------------------------- */

bool cg_cassconf_is_seed(const struct cg_dc *dc, int node)
{
	int seeds = dc->seeds < 1 ? 1 : dc->seeds;

	return node >= 1 && node <= dc->nodes && node <= seeds;
}

static int nonempty(const char *s)
{
	return s && *s;
}

/* Do nodes gossip over their public addresses? As configured; by default
 * when the DCs span more than one region (regions do not share a private
 * network unless peered, and peering is the user's business: then
 * `broadcast_address: private`). */
static bool broadcast_public(const struct cg_cluster *c)
{
	int i;

	if (c->broadcast != CG_BROADCAST_AUTO)
		return c->broadcast == CG_BROADCAST_PUBLIC;
	for (i = 1; i < c->ndcs; i++)
		if (strcmp(c->dcs[i].region, c->dcs[0].region))
			return true;
	return false;
}

/* The address other nodes reach machine m at (NULL when not known yet). */
static const char *broadcast_of(const struct cg_resource *m, bool public)
{
	const char *priv = cg_res_get(m, "private_ip");
	const char *pub = cg_res_get(m, "public_ip");

	if (public && nonempty(pub))
		return pub;
	return nonempty(priv) ? priv : NULL;
}

/* Distinct zones (racks) among the DC's known machines. A machine not
 * known (gone behind our back, new) counts in the zone the config places it
 * in, when the DC lists its zones: the count, and so a joining node's
 * config and hash, stay what they were while a machine is replaced. */
static int dc_racks(const struct cg_cluster *c, const struct cg_dc *dc,
		    const struct cg_rset *known)
{
	const char *seen[64];
	int n = 0, i, k;

	(void)c;
	for (i = 1; known && i <= dc->nodes; i++) {
		char *addr = cg_addr_node(CG_KIND_MACHINE, dc->name, i);
		const struct cg_resource *m = cg_rset_find(known, addr);
		const char *z = m ? cg_res_get(m, "zone") : NULL;

		if (!nonempty(z) && dc->nzones > 0)
			z = dc->zones[(i - 1) % dc->nzones];
		free(addr);
		if (!nonempty(z))
			continue;
		for (k = 0; k < n && strcmp(seen[k], z); k++)
			;
		if (k == n && n < (int)(sizeof(seen) / sizeof(seen[0])))
			seen[n++] = z;
	}
	return n;
}

/* The token allocator's replication factor for a joining node: 3, but
 * Cassandra refuses one above the DC's rack count unless the DC has a
 * single rack ("the number of racks 2 in datacenter DC1 is lower than its
 * replication factor 3"), so at most the racks the DC's nodes sit in. */
static int alloc_rf(const struct cg_node_spec *s)
{
	const struct cg_dc *dc = &s->cluster->dcs[s->dc_index];
	int racks = s->racks;

	if (racks < 1)
		racks = dc->nzones > 0 ? dc->nzones : 1;
	if (racks > dc->nodes)
		racks = dc->nodes;
	return racks < 1 ? 1 : racks > 3 ? 3 : racks;
}

void cg_cassconf_spec_clear(struct cg_node_spec *s)
{
	int i;

	/* Every string is owned by the spec (see cg_cassconf_spec). */
	free((char *)s->address);
	free((char *)s->broadcast);
	free((char *)s->rack);
	free((char *)s->base_dir);
	free((char *)s->lib_dir);
	free((char *)s->run_user);
	for (i = 0; i < s->nseeds; i++)
		free(s->seeds[i]);
	free(s->seeds);
	memset(s, 0, sizeof(*s));
}

static void add_seed(struct cg_node_spec *s, const char *b)
{
	s->seeds = cg_xrealloc(s->seeds, (size_t)(s->nseeds + 1) * sizeof(*s->seeds));
	s->seeds[s->nseeds++] = cg_xstrdup(b);
}

static const char *const security_names[] = { "off", "accept", "send", "on" };

const char *cg_cassconf_security_name(enum cg_security s)
{
	return (unsigned)s < 4 ? security_names[s] : "on";
}

int cg_cassconf_security_parse(const char *name)
{
	for (int i = 0; name && i < 4; i++)
		if (!strcmp(name, security_names[i]))
			return i;
	return -1;
}

int cg_cassconf_spec(const struct cg_cluster *c, int dc_index, int node,
		     const struct cg_rset *known, bool new_cluster,
		     struct cg_node_spec *s, struct cg_err *err)
{
	const struct cg_dc *dc;
	const struct cg_resource *m;
	bool pub = broadcast_public(c);
	int complete = 1, d, i;
	char *addr;

	memset(s, 0, sizeof(*s));
	s->security = c->security_off ? CG_SEC_OFF : CG_SEC_ON;
	if (dc_index < 0 || dc_index >= c->ndcs)
		return cg_error(err, CG_EXIT_ERROR, "cluster %s has no datacenter #%d",
				c->name, dc_index);
	dc = &c->dcs[dc_index];
	if (node < 1 || node > dc->nodes)
		return cg_error(err, CG_EXIT_ERROR, "datacenter %s has no node %d (it has %d)",
				dc->name, node, dc->nodes);
	s->cluster = c;
	s->dc_index = dc_index;
	s->node = node;
	s->new_cluster = new_cluster;

	addr = cg_addr_node(CG_KIND_MACHINE, dc->name, node);
	m = known ? cg_rset_find(known, addr) : NULL;
	free(addr);
	if (m) {
		const char *priv = cg_res_get(m, "private_ip");
		const char *b = broadcast_of(m, pub);

		s->address = nonempty(priv) ? cg_xstrdup(priv) : NULL;
		/* Only set when it differs: NULL means "same as address". */
		if (s->address && b && strcmp(b, s->address))
			s->broadcast = cg_xstrdup(b);
		if (nonempty(cg_res_get(m, "zone")))
			s->rack = cg_xstrdup(cg_res_get(m, "zone"));
		if (nonempty(cg_res_get(m, "base_dir")))
			s->base_dir = cg_xstrdup(cg_res_get(m, "base_dir"));
		if (nonempty(cg_res_get(m, "lib_dir")))
			s->lib_dir = cg_xstrdup(cg_res_get(m, "lib_dir"));
		if (nonempty(cg_res_get(m, "run_user")))
			s->run_user = cg_xstrdup(cg_res_get(m, "run_user"));
	}
	if (!s->address || !s->rack || !s->base_dir || !s->lib_dir)
		complete = 0;
	/* only a joining node renders what depends on it: skip the scan otherwise */
	s->racks = new_cluster ? 0 : dc_racks(c, dc, known);

	/* Seeds: the first nb_seeds_per_dc nodes of every DC, by broadcast
	 * address, in config order (so the rendering is stable). */
	for (d = 0; d < c->ndcs; d++) {
		const struct cg_dc *sd = &c->dcs[d];

		for (i = 1; i <= sd->nodes && cg_cassconf_is_seed(sd, i); i++) {
			const struct cg_resource *sm;
			const char *b;

			addr = cg_addr_node(CG_KIND_MACHINE, sd->name, i);
			sm = known ? cg_rset_find(known, addr) : NULL;
			free(addr);
			b = sm ? broadcast_of(sm, pub) : NULL;
			if (!b) {
				complete = 0;
				continue;
			}
			/* A joining node must not be its own seed: Cassandra never
			 * bootstraps a seed (it would join with no data), and a
			 * replacement refuses to start as one. */
			if (!new_cluster && d == dc_index && i == node)
				continue;
			add_seed(s, b);
		}
	}
	/* A replaced sole seed: any other node of the cluster can introduce it. */
	for (d = 0; !new_cluster && !s->nseeds && complete && d < c->ndcs; d++)
		for (i = 1; i <= c->dcs[d].nodes && s->nseeds < 3; i++) {
			const struct cg_resource *om;
			const char *b;

			if (d == dc_index && i == node)
				continue;
			addr = cg_addr_node(CG_KIND_MACHINE, c->dcs[d].name, i);
			om = known ? cg_rset_find(known, addr) : NULL;
			free(addr);
			if ((b = om ? broadcast_of(om, pub) : NULL))
				add_seed(s, b);
		}
	return complete;
}

bool cg_cassconf_mode_new(const char *mode)
{
	return !mode || (strcmp(mode, CG_MODE_JOIN) && strcmp(mode, CG_MODE_REBUILD));
}

void cg_cassconf_mode_set(struct cg_node_spec *s, const char *mode)
{
	s->new_cluster = cg_cassconf_mode_new(mode);
	s->rebuild = mode && !strcmp(mode, CG_MODE_REBUILD);
}

/* ---- rendering --------------------------------------------------------- */

static bool valid_account(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > 32 || !(islower((unsigned char)u[0]) || u[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!islower((unsigned char)u[i]) && !isdigit((unsigned char)u[i]) &&
		    u[i] != '_' && u[i] != '-')
			return false;
	return true;
}

/*
 * Strings that end up in YAML, XML, a shell file and JVM flags: rather than
 * quote for four languages, accept only what paths, addresses and names
 * need. Anything else is refused with a clear message.
 */
static int safe_word(const char *s, const char *extra)
{
	if (!nonempty(s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-/:", *s) &&
		    !(extra && strchr(extra, *s)))
			return 0;
	return 1;
}

static int check_spec(const struct cg_node_spec *s, bool need_seeds, struct cg_err *err)
{
	const struct cg_cluster *c = s->cluster;
	int i;

	if (!c || s->dc_index < 0 || s->dc_index >= c->ndcs)
		return cg_error(err, CG_EXIT_ERROR, "node spec: no cluster or bad datacenter index");
	if (s->node < 1 || s->node > c->dcs[s->dc_index].nodes)
		return cg_error(err, CG_EXIT_ERROR, "node spec: bad node index %d", s->node);
	if (!safe_word(s->address, NULL) || (s->broadcast && !safe_word(s->broadcast, NULL)))
		return cg_error(err, CG_EXIT_ERROR, "node %s.n%d: missing or invalid address",
				c->dcs[s->dc_index].name, s->node);
	if (!safe_word(s->rack, NULL))
		return cg_error(err, CG_EXIT_ERROR, "node %s.n%d: missing or invalid rack (zone)",
				c->dcs[s->dc_index].name, s->node);
	if (!safe_word(c->dcs[s->dc_index].name, NULL))
		return cg_error(err, CG_EXIT_ERROR, "datacenter name '%s' is not a plain word",
				c->dcs[s->dc_index].name);
	if (!safe_word(s->base_dir, NULL) || s->base_dir[0] != '/')
		return cg_error(err, CG_EXIT_ERROR,
				"node base_dir '%s' must be an absolute path of letters, digits and ._-/",
				s->base_dir ? s->base_dir : "");
	if (s->run_user && !valid_account(s->run_user))
		return cg_error(err, CG_EXIT_ERROR,
				"node run_user '%s' must be a system account name ([a-z_][a-z0-9_-]*, "
				"at most 32 characters)", s->run_user);
	if (!safe_word(s->lib_dir, NULL) || s->lib_dir[0] != '/')
		return cg_error(err, CG_EXIT_ERROR,
				"node lib_dir '%s' must be an absolute path of letters, digits and ._-/",
				s->lib_dir ? s->lib_dir : "");
	if (!safe_word(c->heap, NULL))
		return cg_error(err, CG_EXIT_ERROR, "heap '%s' is not a JVM size such as 512M",
				c->heap ? c->heap : "");
	if (!nonempty(c->name) || strpbrk(c->name, "'\n\r"))
		return cg_error(err, CG_EXIT_ERROR, "cluster name is empty or holds a quote");
	if (c->num_tokens < 1)
		return cg_error(err, CG_EXIT_ERROR, "num_tokens must be at least 1");
	if (need_seeds && s->nseeds < 1)
		return cg_error(err, CG_EXIT_ERROR, "node %s.n%d: no seed address known",
				c->dcs[s->dc_index].name, s->node);
	for (i = 0; i < s->nseeds; i++)
		if (!safe_word(s->seeds[i], NULL))
			return cg_error(err, CG_EXIT_ERROR, "invalid seed address '%s'", s->seeds[i]);
	return 0;
}

/* One top-level cassandra.yaml setting; value is the text after "key:"
 * (" scalar" or "\n  - nested..."). */
struct yset {
	const char *key;
	char *value;
};

static void yset_add(struct yset **v, int *n, const char *key, char *value)
{
	*v = cg_xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	(*v)[*n].key = key;
	(*v)[*n].value = value;
	(*n)++;
}

/* A user's extra value: plain when it reads back as the same scalar,
 * single-quoted otherwise ('' escapes a quote in YAML). */
static char *yaml_scalar(const char *v)
{
	struct cg_buf b = {0};
	const char *p;
	int plain = nonempty(v);

	for (p = v; plain && *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-+/", *p))
			plain = 0;
	if (plain)
		return cg_xasprintf(" %s", v);
	cg_buf_adds(&b, " '");
	for (p = v ? v : ""; *p; p++) {
		if (*p == '\'')
			cg_buf_adds(&b, "''");
		else
			cg_buf_add(&b, p, 1);
	}
	cg_buf_adds(&b, "'");
	return cg_buf_detach(&b);
}

char *cg_cassconf_seed_list(const struct cg_node_spec *s)
{
	struct cg_buf b = {0};

	for (int i = 0; i < s->nseeds; i++)
		cg_buf_addf(&b, "%s%s:%d", i ? "," : "", s->seeds[i], STORAGE_PORT);
	return b.data ? cg_buf_detach(&b) : cg_xstrdup("");
}

/* cassandra.yaml; *seeds_at: where the seed list starts in it (its length
 * is that of cg_cassconf_seed_list), for the hash to leave it out. */
static char *render_yaml(const struct cg_node_spec *s, size_t *seeds_at)
{
	const struct cg_cluster *c = s->cluster;
	const struct cg_dc *dc = &c->dcs[s->dc_index];
	const char *bd = s->base_dir;
	struct cg_buf b = {0};
	struct yset *v = NULL;
	int n = 0, i, j;
	char *seeds = cg_cassconf_seed_list(s);

	yset_add(&v, &n, "cluster_name", cg_xasprintf(" '%s'", c->name));
	yset_add(&v, &n, "num_tokens", cg_xasprintf(" %d", c->num_tokens));
	if (s->new_cluster) {
		char *t = cg_tokens_initial(s->dc_index, dc->nodes, s->node, c->num_tokens);

		/* Nothing to stream in a new cluster, and precomputed tokens
		 * let every non-seed start at once. */
		yset_add(&v, &n, "initial_token", cg_xasprintf(" %s", t));
		yset_add(&v, &n, "auto_bootstrap", cg_xstrdup(" false"));
		free(t);
	} else {
		/* Joining a cluster with data: let the allocator balance. */
		yset_add(&v, &n, "allocate_tokens_for_local_replication_factor",
			 cg_xasprintf(" %d", alloc_rf(s)));
		/* A new DC's node: nothing to bootstrap from its own DC (no
		 * keyspace replicates there yet); nodetool rebuild brings its
		 * data once the keyspaces name the DC. */
		if (s->rebuild)
			yset_add(&v, &n, "auto_bootstrap", cg_xstrdup(" false"));
	}
	yset_add(&v, &n, "partitioner", cg_xstrdup(" org.apache.cassandra.dht.Murmur3Partitioner"));
	yset_add(&v, &n, "endpoint_snitch", cg_xstrdup(" GossipingPropertyFileSnitch"));
	yset_add(&v, &n, "seed_provider", cg_xasprintf(
		"\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider"
		"\n    parameters:"
		"\n      - seeds: \"%s\"", seeds));
	yset_add(&v, &n, "listen_address", cg_xasprintf(" %s", s->address));
	yset_add(&v, &n, "rpc_address", cg_xasprintf(" %s", s->address));
	if (s->broadcast) {
		yset_add(&v, &n, "broadcast_address", cg_xasprintf(" %s", s->broadcast));
		yset_add(&v, &n, "broadcast_rpc_address", cg_xasprintf(" %s", s->broadcast));
	}
	yset_add(&v, &n, "storage_port", cg_xasprintf(" %d", STORAGE_PORT));
	yset_add(&v, &n, "native_transport_port", cg_xasprintf(" %d", CQL_PORT));
	yset_add(&v, &n, "start_native_transport", cg_xstrdup(" true"));
	yset_add(&v, &n, "data_file_directories", cg_xasprintf("\n  - %s/data/data", bd));
	yset_add(&v, &n, "commitlog_directory", cg_xasprintf(" %s/data/commitlog", bd));
	yset_add(&v, &n, "saved_caches_directory", cg_xasprintf(" %s/data/saved_caches", bd));
	yset_add(&v, &n, "hints_directory", cg_xasprintf(" %s/data/hints", bd));
	yset_add(&v, &n, "cdc_raw_directory", cg_xasprintf(" %s/data/cdc_raw", bd));
	yset_add(&v, &n, "commitlog_sync", cg_xstrdup(" periodic"));
	yset_add(&v, &n, "commitlog_sync_period", cg_xstrdup(" 10000ms"));
	/* Small-node settings: a lab node has a 512M heap and shares a
	 * machine; none of these hurt a real node. */
	yset_add(&v, &n, "concurrent_compactors", cg_xstrdup(" 1"));
	yset_add(&v, &n, "commitlog_segment_size", cg_xstrdup(" 32MiB"));
	yset_add(&v, &n, "commitlog_total_space", cg_xstrdup(" 1024MiB"));
	yset_add(&v, &n, "trickle_fsync", cg_xstrdup(" false"));
	if (s->security == CG_SEC_ON) {
		/* Secure by default (FACTS.md, verified on 5.0.9): passwords and
		 * roles. */
		yset_add(&v, &n, "authenticator", cg_xstrdup(" PasswordAuthenticator"));
		yset_add(&v, &n, "authorizer", cg_xstrdup(" CassandraAuthorizer"));
		yset_add(&v, &n, "role_manager", cg_xstrdup(" CassandraRoleManager"));
		/* Logins read roles at LOCAL_QUORUM by default: with two nodes
		 * in a DC (RF 2) one node down would stop every login there.
		 * Role changes are written at EACH_QUORUM, so one replica is
		 * enough to read them back. */
		yset_add(&v, &n, "auth_read_consistency_level", cg_xstrdup(" LOCAL_ONE"));
	}
	if (s->security != CG_SEC_OFF) {
		/* Mutual TLS on all internode traffic with endpoint verification
		 * (IP SANs), TLS on 9042; PEM files, no keystores. `optional`
		 * must be written out: a keystore alone makes encryption
		 * optional. Before ON it is optional on both ports (plaintext
		 * peers and clients still served), and nodes send TLS from SEND. */
		const char *tls = "\n  ssl_context_factory:"
				  "\n    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory";
		const char *opt = s->security == CG_SEC_ON ? "false" : "true";
		yset_add(&v, &n, "server_encryption_options", cg_xasprintf(
			"\n  internode_encryption: %s"
			"\n  optional: %s"
			"\n  legacy_ssl_storage_port_enabled: false"
			"\n  require_client_auth: true"
			"\n  require_endpoint_verification: true%s"
			"\n  keystore: %s/" CG_TLS_NODE_PEM
			"\n  truststore: %s/" CG_TLS_CA_PEM,
			s->security >= CG_SEC_SEND ? "all" : "none", opt, tls, bd, bd));
		yset_add(&v, &n, "client_encryption_options", cg_xasprintf(
			"\n  enabled: true"
			"\n  optional: %s%s"
			"\n  keystore: %s/" CG_TLS_NODE_PEM, opt, tls, bd));
	}

	/* The cluster's extra settings override ours or are appended, in
	 * config order. */
	for (i = 0; i < c->ncassandra; i++) {
		const struct cg_kv *kv = &c->cassandra[i];

		for (j = 0; j < n; j++)
			if (!strcmp(v[j].key, kv->key))
				break;
		if (j < n) {
			free(v[j].value);
			v[j].value = yaml_scalar(kv->value);
		} else {
			yset_add(&v, &n, kv->key, yaml_scalar(kv->value));
		}
	}

	cg_buf_addf(&b, "# cassandra.yaml of %s node %d (cluster %s), rendered by cassandgo:\n"
		    "# edits are overwritten; put settings under `cassandra:` in cassandgo.yaml.\n",
		    dc->name, s->node, c->name);
	*seeds_at = 0;
	for (i = 0; i < n; i++) {
		/* seed_provider is ours alone (config.c refuses it under
		 * `cassandra:`): its value ends with the list and a quote */
		if (!strcmp(v[i].key, "seed_provider"))
			*seeds_at = b.len + strlen(v[i].key) + 1 + strlen(v[i].value) - 1 -
				    strlen(seeds);
		cg_buf_addf(&b, "%s:%s\n", v[i].key, v[i].value);
		free(v[i].value);
	}
	free(v);
	free(seeds);
	return cg_buf_detach(&b);
}

static char *render_rackdc(const struct cg_node_spec *s)
{
	/* prefer_local: with a public broadcast address, nodes of one DC
	 * still talk over the private network. */
	return cg_xasprintf("# cassandra-rackdc.properties, rendered by cassandgo\n"
			    "dc=%s\nrack=%s\nprefer_local=true\n",
			    s->cluster->dcs[s->dc_index].name, s->rack);
}

/* JDK 17 flags of Cassandra 5.0's jvm17-server.options and jvm-server.options
 * (FACTS.md), minus AlwaysPreTouch (slow start) and the JDK-only modules a
 * JRE lacks. */
static const char *const jvm_flags[] = {
	"-XX:+UseG1GC",
	"-XX:+ParallelRefProcEnabled",
	"-XX:MaxTenuringThreshold=1",
	"-XX:G1RSetUpdatingPauseTimePercent=5",
	"-XX:MaxGCPauseMillis=300",
	"-XX:InitiatingHeapOccupancyPercent=70",
	"-Djdk.attach.allowAttachSelf=true",
	"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
	"--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
	"--add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED",
	"--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
	"--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
	"--add-exports=java.sql/java.sql=ALL-UNNAMED",
	"--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
	"--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
	"--add-opens=java.base/java.lang.module=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
	"--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
	"--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
	"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-opens=java.base/java.io=ALL-UNNAMED",
	"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
	"--add-opens=java.base/java.lang=ALL-UNNAMED",
	"--add-opens=java.base/java.util=ALL-UNNAMED",
	"--add-opens=java.base/java.nio=ALL-UNNAMED",
	"-Dio.netty.tryReflectionSetAccessible=true",
	"-Dio.netty.allocator.useCacheForAllThreads=true",
	"-Dio.netty.allocator.maxOrder=11",
	"-Xss256k",
	"-XX:+UseThreadPriorities",
	"-XX:+HeapDumpOnOutOfMemoryError",
	"-XX:+ExitOnOutOfMemoryError",
	"-XX:+PerfDisableSharedMem",
	"-Djava.net.preferIPv4Stack=true",
	"-Dchronicle.analytics.disable=true",
	"-Dcassandra-foreground=yes",
	"-Dcassandra.skip_wait_for_gossip_to_settle=0",
};

static char *render_env(const struct cg_node_spec *s)
{
	const char *bd = s->base_dir, *lib = s->lib_dir, *heap = s->cluster->heap;
	struct cg_buf b = {0};
	size_t i;

	cg_buf_adds(&b, "# cgnode.env, rendered by cassandgo; sourced by bin/cgnode\n");
	cg_buf_addf(&b, "CASSANDRA_LIB='%s'\n", lib);
	cg_buf_addf(&b, "CASSANDRA_CONF='%s/conf'\n", bd);
	cg_buf_addf(&b, "HEAP='%s'\n", heap);
	cg_buf_addf(&b, "JMX_PORT=%d\n", JMX_PORT);
	cg_buf_addf(&b, "CQL_ADDRESS='%s'\n", s->address);
	cg_buf_addf(&b, "CQL_PORT=%d\n", CQL_PORT);
	/* the tool's CQL client uses TLS as soon as the node accepts it */
	if (s->security != CG_SEC_OFF)
		cg_buf_adds(&b, "CQL_TLS=1\n");
	cg_buf_addf(&b, "SECURITY=%s\n", cg_cassconf_security_name(s->security));
	/* the account Cassandra runs as: never root, never the login user */
	cg_buf_addf(&b, "RUN_USER='%s'\n", s->run_user ? s->run_user : "cassandra");
	cg_buf_adds(&b, "JVM_OPTS='");
	cg_buf_addf(&b, "-Xms%s -Xmx%s", heap, heap);
	for (i = 0; i < sizeof(jvm_flags) / sizeof(jvm_flags[0]); i++)
		cg_buf_addf(&b, " %s", jvm_flags[i]);
	/* Lab nodes (local provider) share the host's CPUs and start all at
	 * once. The C1-only JIT halves the CPU a start costs (measured 12 ->
	 * 6.7 CPU-seconds to CQL ready) for slower steady-state code, and a
	 * short memtable row-overhead estimate (100 rows, not 100000) saves
	 * another ~1.2 s; a lab needs neither the speed nor the precision. */
	if (s->cluster->provider == CG_PROVIDER_LOCAL)
		cg_buf_adds(&b, " -XX:TieredStopAtLevel=1"
			    " -Dcassandra.memtable_row_overhead_computation_step=100");
	cg_buf_addf(&b, " -Dcassandra.ring_delay_ms=%d", RING_DELAY_MS);
	/* Cassandra turns the node's PEM key into an in-memory PKCS12 key
	 * store for every TLS context it makes (6-9 per start: server,
	 * client, CQL, each outbound connection pool), and the JDK encrypts
	 * the key in it with 10000 PBKDF2 rounds, then decrypts it again:
	 * ~50 ms of CPU each, ~0.5 CPU-s a start. The store is never written
	 * anywhere; the key is the 0600 PEM file beside it. */
	if (s->security != CG_SEC_OFF)
		cg_buf_adds(&b, " -Dkeystore.pkcs12.keyPbeIterationCount=1");
	/* The default role appears 1 s after start, not 10: the auth step
	 * waits for it to replace it. */
	if (s->security == CG_SEC_ON)
		cg_buf_adds(&b, " -Dcassandra.superuser_setup_delay_ms=1000");
	cg_buf_addf(&b, " -Dcassandra.jmx.local.port=%d", JMX_PORT);
	cg_buf_addf(&b, " -XX:HeapDumpPath=%s/logs", bd);
	/* GC log next to system.log, bounded (5 x 10 MB), as Cassandra's own
	 * jvm17-server.options does. */
	cg_buf_addf(&b, " -Xlog:gc=info,safepoint=info:file=%s/logs/gc.log"
		    ":time,uptime,level,tags:filecount=5,filesize=10m", bd);
	cg_buf_addf(&b, " -Djna.tmpdir=%s/tmp -Djava.io.tmpdir=%s/tmp", bd, bd);
	cg_buf_addf(&b, " -javaagent:%s/%s", lib, JAMM_JAR);
	cg_buf_addf(&b, " -Dcassandra.config=file://%s/conf/cassandra.yaml", bd);
	cg_buf_addf(&b, " -Dcassandra-rackdc.properties=file://%s/conf/cassandra-rackdc.properties",
		    bd);
	cg_buf_addf(&b, " -Dcassandra.storagedir=%s/data", bd);
	cg_buf_addf(&b, " -Dcassandra.logdir=%s/logs", bd);
	cg_buf_addf(&b, " -Dlogback.configurationFile=file://%s/conf/logback.xml", bd);
	bool mon = cg_monitoring_dc(s->cluster) >= 0;
	/* Monitoring: the JMX exporter agent serves this node's metrics on its
	 * own address; cgnode writes its config and fetches the jar. */
	if (mon)
		cg_buf_addf(&b, " -javaagent:%s/lib/jmx_prometheus_javaagent-%s.jar=%s:%d:%s/conf/jmx_exporter.yaml",
			    bd, CG_MON_JMX_EXPORTER_VERSION, s->address, CG_MON_JMX_EXPORTER_PORT, bd);
	cg_buf_adds(&b, "'\n");
	if (mon) {
		cg_buf_addf(&b, "JMX_EXPORTER_VERSION='%s'\n", CG_MON_JMX_EXPORTER_VERSION);
		cg_buf_addf(&b, "JMX_EXPORTER_JAR='%s/lib/jmx_prometheus_javaagent-%s.jar'\n", bd,
			    CG_MON_JMX_EXPORTER_VERSION);
		cg_buf_addf(&b, "JMX_EXPORTER_CONFIG='%s'\n", cg_monitoring_jmx_config());
		cg_buf_addf(&b, "MONITORING_ADDRESS='%s'\n", s->address);
	}
	return cg_buf_detach(&b);
}

static char *render_logback(const struct cg_node_spec *s)
{
	const char *bd = s->base_dir;

	return cg_xasprintf(
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<!-- logback.xml, rendered by cassandgo: system.log at INFO, WARN to stdout -->\n"
"<configuration scan=\"false\" debug=\"false\">\n"
"  <shutdownHook class=\"ch.qos.logback.core.hook.DefaultShutdownHook\"/>\n"
"  <appender name=\"SYSTEMLOG\" class=\"ch.qos.logback.core.rolling.RollingFileAppender\">\n"
"    <file>%s/logs/system.log</file>\n"
"    <filter class=\"ch.qos.logback.classic.filter.ThresholdFilter\">\n"
"      <level>INFO</level>\n"
"    </filter>\n"
"    <rollingPolicy class=\"ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy\">\n"
"      <fileNamePattern>%s/logs/system.log.%%d{yyyy-MM-dd}.%%i.zip</fileNamePattern>\n"
"      <maxFileSize>50MB</maxFileSize>\n"
"      <maxHistory>7</maxHistory>\n"
"      <totalSizeCap>1GB</totalSizeCap>\n"
"    </rollingPolicy>\n"
"    <encoder>\n"
"      <pattern>%%-5level [%%thread] %%date{ISO8601} %%F:%%L - %%msg%%n</pattern>\n"
"    </encoder>\n"
"  </appender>\n"
"  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">\n"
"    <filter class=\"ch.qos.logback.classic.filter.ThresholdFilter\">\n"
"      <level>WARN</level>\n"
"    </filter>\n"
"    <encoder>\n"
"      <pattern>%%-5level [%%thread] %%date{ISO8601} %%F:%%L - %%msg%%n</pattern>\n"
"    </encoder>\n"
"  </appender>\n"
"  <root level=\"INFO\">\n"
"    <appender-ref ref=\"SYSTEMLOG\"/>\n"
"    <appender-ref ref=\"STDOUT\"/>\n"
"  </root>\n"
"</configuration>\n", bd, bd);
}

static int render_all(const struct cg_node_spec *s, bool need_seeds, struct cg_node_files *out,
		      struct cg_err *err)
{
	struct cg_buf all = {0};
	size_t at;

	memset(out, 0, sizeof(*out));
	if (check_spec(s, need_seeds, err) < 0)
		return -1;
	out->cassandra_yaml = render_yaml(s, &at);
	out->seeds = cg_cassconf_seed_list(s);
	out->rackdc = render_rackdc(s);
	out->env = render_env(s);
	out->logback = render_logback(s);
	/* NUL separators: moving bytes from one file to the next changes
	 * the hash. The seed list is left out (a reload, not a restart). */
	cg_buf_add(&all, out->cassandra_yaml, at);
	cg_buf_add(&all, out->cassandra_yaml + at + strlen(out->seeds),
		   strlen(out->cassandra_yaml + at + strlen(out->seeds)) + 1);
	cg_buf_add(&all, out->rackdc, strlen(out->rackdc) + 1);
	cg_buf_add(&all, out->env, strlen(out->env) + 1);
	cg_buf_add(&all, out->logback, strlen(out->logback) + 1);
	out->hash = cg_hash64(all.data, all.len);
	cg_buf_free(&all);
	return 0;
}

int cg_cassconf_render(const struct cg_node_spec *s, struct cg_node_files *out,
		       struct cg_err *err)
{
	return render_all(s, true, out, err);
}

int cg_cassconf_hash(const struct cg_node_spec *s, uint64_t *hash, struct cg_err *err)
{
	struct cg_node_files f;

	if (render_all(s, false, &f, err) < 0)
		return -1;
	*hash = f.hash;
	cg_node_files_free(&f);
	return 0;
}

void cg_node_files_free(struct cg_node_files *f)
{
	if (!f)
		return;
	free(f->cassandra_yaml);
	free(f->rackdc);
	free(f->env);
	free(f->logback);
	free(f->seeds);
	memset(f, 0, sizeof(*f));
}

/* ---- nodetool status ---------------------------------------------------- */

void cg_ring_free(struct cg_ring *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].dc);
		free(r->v[i].address);
		free(r->v[i].load);
		free(r->v[i].host_id);
		free(r->v[i].rack);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static char *group(const char *line, const regmatch_t *m)
{
	return cg_xstrndup(line + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

/*
 * The node line of FACTS.md in POSIX ERE: status+state, address, load
 * ("104.35 KiB" or "?"), tokens, owns ("12.5%" or "?"), host id, rack.
 */
#define NODE_RE "^([UD?])([NLJM])[[:space:]]+([^[:space:]]+)[[:space:]]+" \
	"(\\?|[^[:space:]]+ [^[:space:]]+)[[:space:]]+([0-9]+)[[:space:]]+" \
	"(\\?|[0-9.]+%)[[:space:]]+([^[:space:]]+)[[:space:]]+(.+)$"

int cg_nodetool_status_parse(const char *text, struct cg_ring *out, struct cg_err *err)
{
	regex_t re;
	regmatch_t m[9];
	const char *p = text ? text : "";
	char *dc = NULL;
	int cap = 0, lineno = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = regcomp(&re, NODE_RE, REG_EXTENDED)) != 0)
		return cg_error(err, CG_EXIT_ERROR, "nodetool status: regex error %d", rc);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = cg_xstrndup(p, len);
		size_t l = len;

		lineno++;
		p += len + (eol ? 1 : 0);
		while (l && isspace((unsigned char)line[l - 1]))
			line[--l] = '\0';
		if (!strncmp(line, "Datacenter: ", 12)) {
			free(dc);
			dc = cg_xstrdup(line + 12);
		} else if (regexec(&re, line, 9, m, 0) == 0) {
			struct cg_ring_node *nd;
			char *owns;

			if (!dc) {
				free(line);
				free(dc);
				regfree(&re);
				cg_ring_free(out);
				return cg_error(err, CG_EXIT_ERROR,
						"nodetool status: line %d: node before any Datacenter line",
						lineno);
			}
			if (out->n == cap) {
				cap = cap ? cap * 2 : 8;
				out->v = cg_xrealloc(out->v, (size_t)cap * sizeof(*out->v));
			}
			nd = &out->v[out->n++];
			nd->status = line[0];
			nd->state = line[1];
			nd->dc = cg_xstrdup(dc);
			nd->address = group(line, &m[3]);
			nd->load = group(line, &m[4]);
			nd->tokens = atoi(line + m[5].rm_so);
			owns = group(line, &m[6]);
			nd->owns = owns[0] == '?' ? -1 : strtod(owns, NULL);
			free(owns);
			nd->host_id = group(line, &m[7]);
			nd->rack = group(line, &m[8]);
			/* What another node says may end up in a command (replace,
			 * removenode): an address must be an address, a host id a
			 * UUID, or the whole output is refused. */
			unsigned char bin[16];
			const char *bad = NULL;
			if (inet_pton(AF_INET, nd->address, bin) != 1 &&
			    inet_pton(AF_INET6, nd->address, bin) != 1)
				bad = "address";
			else if (strcmp(nd->host_id, "?") &&
				 (strlen(nd->host_id) != 36 ||
				  strspn(nd->host_id, "0123456789abcdef-") != 36))
				bad = "host id";
			if (bad) {
				int rc2 = cg_error(err, CG_EXIT_ERROR, "nodetool status: line %d: %s '%.64s' "
						   "is not valid: output refused", lineno, bad,
						   !strcmp(bad, "address") ? nd->address : nd->host_id);
				free(line);
				free(dc);
				regfree(&re);
				cg_ring_free(out);
				return rc2;
			}
		}
		/* Anything else (headers, "Status=Up/Down", "Note: ...") is
		 * decoration. */
		free(line);
	}
	free(dc);
	regfree(&re);
	if (out->n == 0)
		return cg_error(err, CG_EXIT_ERROR,
				"nodetool status: no node in the output (%.200s)",
				text ? text : "");
	return 0;
}

int cg_nodetool_schema_parse(const char *text, int *unreachable)
{
	/* nodetool 5.0 prints each entry followed by an empty line:
	 *	Schema versions:
	 *		86afa796-d883-3932-aa73-6b017cef0d19: [10.0.1.1, 10.0.1.2]
	 *
	 *		UNREACHABLE: [10.0.1.3]
	 *
	 * Stats for all nodes:
	 * The section holds the lines indented deeper than its title. */
	const char *s = text ? strstr(text, "Schema versions:") : NULL;
	int versions = 0;
	*unreachable = 0;
	if (!s)
		return -1;
	size_t title = 0;
	while (s - title > text && (s[-(long)title - 1] == '\t' || s[-(long)title - 1] == ' '))
		title++;
	s = strchr(s, '\n');
	while (s && *s == '\n') {
		const char *l = s + 1, *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		size_t sp = strspn(l, " \t");
		if (sp > len)
			sp = len;
		s = eol;
		if (sp == len)
			continue;	/* the empty line after each entry */
		const char *colon = memchr(l, ':', len);
		if (sp <= title || !colon)
			break;
		if ((size_t)(colon - l) - sp == 11 && !strncmp(l + sp, "UNREACHABLE", 11)) {
			/* one address per comma, inside the brackets */
			for (const char *c = colon; c < l + len; c++)
				*unreachable += *c == ',' || (*c == '[' && c + 1 < l + len && c[1] != ']');
		} else {
			versions++;
		}
	}
	return versions;
}

/*
 * How many tokens of src (read first, in token order) are missing from dst
 * (read after): all of src when dst ended before the limit, else those up
 * to dst's last (rows written in between only add to dst).
 */
int cg_cassconf_tokens_missing(const long long *src, int ns, const long long *dst, int nd, int limit)
{
	int missing = 0, j = 0;
	long long last = nd ? dst[nd - 1] : 0;
	for (int i = 0; i < ns; i++) {
		if (nd >= limit && src[i] > last)
			break;
		while (j < nd && dst[j] < src[i])
			j++;
		if (j >= nd || dst[j] != src[i])
			missing++;
	}
	return missing;
}

/* Does list (between its '[' and lim) hold the range r..r+len exactly, as
 * one of its ", "-separated items? */
static bool range_listed(const char *list, const char *lim, const char *r, size_t len)
{
	for (const char *q = list; q && q < lim; q++) {
		q = strstr(q, "(");
		if (!q || q + len > lim)
			return false;
		if (!strncmp(q, r, len) && (q[-1] == '[' || q[-1] == ' ') &&
		    (q[len] == ',' || q[len] == ']'))
			return true;
	}
	return false;
}

int cg_nodetool_rebuild_done(const char *text)
{
	const char *found, *avail, *end;
	if (!text || !strstr(text, "Discovered existing bootstrap data") ||
	    !(found = strstr(text, "Found: [")) || !(avail = strstr(found, "Fully available: [")))
		return -1;
	avail += strlen("Fully available: [") - 1;
	end = strchr(avail, '\n');
	if (!end)
		end = avail + strlen(avail);
	int ranges = 0;
	for (const char *f = strstr(found, "local=Full("); f && f < avail;
	     f = strstr(f + 1, "local=Full(")) {
		/* local=Full(/10.0.0.3:7000,(-8,100]) -> "(-8,100]" */
		const char *r = strstr(f, ",(");
		if (!r || r > avail)
			return -1;
		r++;
		size_t len = strcspn(r, "]");
		if (!r[len] || r + len > avail)
			return -1;
		len++;
		if (!range_listed(avail, end, r, len))
			return 0;
		ranges++;
	}
	return ranges ? 1 : -1;
}

/* The text lit at *p, then a count (digits, no sign, fits in long long)
 * into *v; *p moves past both. -1 (nothing moved) when either is not there. */
static int take_count(const char **p, const char *lit, long long *v)
{
	size_t n = strlen(lit);
	const char *s = *p + n;
	char *end;
	if (strncmp(*p, lit, n) || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno)
		return -1;
	*v = x;
	*p = end;
	return 0;
}

int cg_nodetool_receiving_parse(const char *text, struct cg_receiving *r)
{
	int found = 0;
	memset(r, 0, sizeof(*r));
	for (const char *l = text ? strstr(text, "Receiving ") : NULL; l; l = strstr(l + 1, "Receiving ")) {
		long long nf, sz, df, dz;
		/* "Receiving 3 files, 1234 bytes total. Already received 1 files
		 * (33.33%), 567 bytes total (45.95%)"; a count too long for long
		 * long makes the line unreadable, not a saturated number */
		const char *p = l, *q = strstr(l, "), ");
		if (take_count(&p, "Receiving ", &nf) || take_count(&p, " files, ", &sz) ||
		    take_count(&p, " bytes total. Already received ", &df) ||
		    strncmp(p, " files", 6) || !q || q > l + strcspn(l, "\n") ||
		    take_count(&q, "), ", &dz) || strncmp(q, " bytes total", 12))
			continue;
		/* the sums never overflow: a line that would is not taken */
		if (nf > LLONG_MAX - r->files || sz > LLONG_MAX - r->bytes ||
		    df > LLONG_MAX - r->files_done || dz > LLONG_MAX - r->bytes_done)
			continue;
		r->files += nf;
		r->bytes += sz;
		r->files_done += df;
		r->bytes_done += dz;
		found = 1;
	}
	return found ? 0 : -1;
}

