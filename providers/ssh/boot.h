/*
 * boot.h - private to the bootstrap provider (bootstrap.c, boot_*.c): the
 * provider's handle, a session to one node, and the steps the files share.
 * Nothing outside providers/ssh/ includes it.
 */
#ifndef CG_BOOT_H
#define CG_BOOT_H

#include <pthread.h>
#include <stdbool.h>

#include "bootstrap.h"
#include "ssh.h"
#include "../tls/tls.h"
#include "../../planner/cassconf.h"
#include "../../planner/monitoring.h"

struct cg_provider {
	const struct cg_cluster *c;
	const struct cg_env *env;
	char *known_hosts;
	char cgnode_hash[17];
	pthread_mutex_t mu;
	char **fresh;		/* "<alias>\n<base_dir>" where cgnode is current */
	int nfresh;
	struct cg_tls_ca *ca;	/* the cluster's CA once loaded (under mu) */
	bool pw_made;		/* this run made the password file (under mu) */
	bool ring_made;		/* this run started a node of a new ring (under mu) */
	struct boot_idle *idle;	/* sessions between two actions (under mu) */
	int nidle;
};

/* An open session no action uses, kept for the next one on its machine. */
struct boot_idle {
	char *key;		/* boot_node_connect's identity of the target */
	struct cg_ssh *s;
};

/* A node to talk to: its machine, key file and where its files live. */
struct node {
	struct cg_resource m;		/* machine (copy) */
	char *key_file;
	const char *base;		/* base_dir (in m) */
	char *qbase;			/* shell-quoted base_dir */
	char *cgnode;			/* shell-quoted <base_dir>/bin/cgnode */
	const char *label;		/* for messages */
	bool repin;			/* new machine: replace a stale pin */
	struct cg_ssh *s;
	struct cg_provider *p;		/* whose idle list takes s back */
	char *skey;			/* s's identity there */
};

/* --- boot_node.c: sessions to nodes ----------------------------------------- */

/* Seconds from environment variable name when it holds 1..86399, else dflt. */
int boot_env_secs(const char *name, int dflt);
/* Does `cgnode status` output say key=want? */
int boot_status_is(const char *status, const char *key, const char *want);
/* Does `cgnode status` output say the node requires passwords: it runs
 * (not only renders) a config at security step "on"? */
bool boot_status_requires_auth(const char *status);
/* Index of DC dc in c (-1: none). */
int boot_dc_index(const struct cg_cluster *c, const char *dc);
/* Fill n from machine m and keypair kp (kp NULL: error); no session yet. */
int boot_node_init(struct node *n, const struct cg_resource *m, const struct cg_resource *kp,
		   struct cg_err *err);
/* Open n's pinned SSH session. */
int boot_node_connect(struct cg_provider *p, struct node *n, int connect_ms,
		      struct cg_err *err);
/* Close the session and free n. */
void boot_node_clear(struct node *n);
/* A connected node with a current cgnode: for resource r's machine, or
 * for machine m itself (boot_node_of_machine). */
int boot_node_for(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *r,
		  bool repin, struct node *n, struct cg_err *err);
int boot_node_of_machine(struct cg_provider *p, struct cg_ctx *ctx,
			 const struct cg_resource *m, int connect_ms, struct node *n,
			 struct cg_err *err);
/* Run `cgnode ARG...` (NULL-terminated; every argument quoted by
 * cg_boot_cgnode_cmdline) with stdin in (may be NULL); *out (may be NULL)
 * gets stdout. boot_cgnode() is the same without stdin. */
int boot_cgnode_in(struct node *n, int timeout_ms, const char *in, size_t inlen, char **out,
		   struct cg_err *err, ...) __attribute__((sentinel));
#define boot_cgnode(n, t, out, err, ...) \
	boot_cgnode_in(n, t, NULL, 0, out, err, __VA_ARGS__, (char *)NULL)
/* Like boot_cgnode, but *out gets stdout whatever the exit status (an
 * error message keeps only its tail). */
int boot_cgnode_all(struct node *n, int timeout_ms, char **out, struct cg_err *err, ...)
	__attribute__((sentinel));
/* A file for boot_put_files: NAME (no '/') in the directory given there. */
struct boot_file {
	const char *name;
	const void *data;
	size_t len;
	int mode;
};
/* Write files f[0..nf) to DIR on n as root (sudo -n unless the login is
 * root), DIR made 0755 root's when missing, in one command: each through a
 * temp file and rename, renamed in order (a file written last to claim
 * the others complete is renamed last). */
int boot_put_files(struct node *n, const char *dir, const struct boot_file *f, int nf,
		   int timeout_ms, struct cg_err *err);
/* `nodetool status` on n, parsed (caller frees: cg_ring_free). */
int boot_node_ring(struct node *n, struct cg_ring *ring, struct cg_err *err);

/* --- boot_schema.c ------------------------------------------------------------ */

/* A replication map as CgCql prints it ("{class=...NetworkTopologyStrategy,
 * DC1=3, DC9=1}") as "DC1:3,DC9:1" appended to b: the configuration's DCs
 * in its order, then the others as listed. */
void boot_map_rf(const struct cg_cluster *c, const char *map, struct cg_buf *b);
/* The keyspaces but system_auth that replicate to dc, as n's CQL shows
 * them (as the superuser when auth; *names: "a, b", NULL when none;
 * caller frees). */
int boot_keyspaces_in_dc(struct cg_provider *p, struct node *n, bool auth, const char *dc,
			 char **names, struct cg_err *err);

/* --- boot_sec.c: CA, certificates, CQL, the auth resource ------------------- */

const char *boot_cluster_dir(const struct cg_provider *p);
/* Load (or make, when no node holds a certificate yet) the cluster's CA. */
int boot_cluster_ca(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err);
/* The errors for a missing CA / password file, naming the file. */
int boot_ca_missing(const struct cg_provider *p, struct cg_err *err);
int boot_password_missing(const char *path, struct cg_err *err);
/* The superuser's password file, made when missing and no auth is recorded
 * (a cluster set up before needs its own: boot_password_missing). */
int boot_password_ready(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err);
/* nodetool and cqlsh for the login user on n (`cgnode tools`), with the
 * superuser's credentials (on stdin) when secure. */
int boot_tools(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
	       const struct cg_resource *d, bool secure, struct cg_err *err);
/* Identity of m's certificate under ca (what .id on the node holds). */
char *boot_tls_id(const struct cg_tls_ca *ca, const struct cg_resource *m);
/* Issue and send n's certificate unless `have` says it is current. */
int boot_ensure_cert(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		     const struct cg_resource *d, const char *have, struct cg_err *err);
/*
 * Run CQL statements (one per line) through the node's client (cgnode cql)
 * as user (NULL: none). Credentials and statements go on stdin, never on a
 * command line. Returns 0 with *out (may be NULL) holding the rows, the
 * client's exit status (3: authentication refused, 4: no node reachable,
 * 5: a statement failed) with err filled, or -1 when SSH failed.
 */
int boot_node_cql(struct node *n, const char *user, const char *pass, const char *stmts,
		  char **out, struct cg_err *err);
/* A configured node (of DC dc; NULL: any) whose Cassandra runs,
 * connected into n. auth NULL: one that requires passwords (the auth
 * step); else any, and *auth says whether it requires them. */
int boot_any_node(struct cg_provider *p, struct cg_ctx *ctx, const char *dc, bool *auth,
		  struct node *n, struct cg_err *err);
/* The CQL replication map {'class': 'NetworkTopologyStrategy', 'DC1': 3,
 * ...} of "DC1:3,DC2:2"; NULL when rf is not of that form (DC names of
 * letters, digits, _ . -; decimal RFs). Caller frees. */
char *boot_replication_cql(const char *rf);
int boot_apply_auth(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		    const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err);
/* Refresh: the auth resource as the nodes show it, into live (recorded:
 * the state's, or NULL). A raise of system_auth's RF the state does not
 * record (an apply stopped during its repair) shows as the recorded RF, so
 * that the plan runs the step, and its repair, again. */
int boot_auth_of(struct cg_provider *p, struct node *n, const struct cg_resource *recorded,
		 struct cg_rset *live, struct cg_err *err);

/* --- boot_ring.c: service and ring ------------------------------------------ */

int boot_apply_service(struct cg_provider *p, struct cg_ctx *ctx, enum cg_op op,
		       const struct cg_resource *d, const struct cg_resource *cur,
		       struct cg_resource *res, struct cg_err *err);
int boot_delete_service(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *cur,
			struct cg_err *err);
int boot_apply_ring(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		    const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err);
/* The machines the configuration wants (not those on their way out). */
void boot_list_configured(struct cg_provider *p, struct cg_ctx *ctx, struct cg_rset *ms);
/* Every other node whose Cassandra answers sees n UN (after a restart,
 * before the next node of a rolling change goes down). */
int boot_wait_seen_up(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		      const char *addr, int secs, struct cg_err *err);

/* Every node n sees is UN, and n sees itself (ghosts aside), within secs. */
int boot_wait_ring(struct cg_provider *p, struct node *n, struct cg_ctx *ctx, const char *addr,
		   int secs, struct cg_err *err);
/* --- boot_dc.c: a DC added to a running ring, a node removed while down ------ */

/* rebuild.<dc>.n<i>: nodetool rebuild -- <from> on that node (one under way,
 * an apply killed during it, is waited for and run again). */
int boot_apply_rebuild(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		       struct cg_resource *res, struct cg_err *err);
/* datacenter.<dc>: rows of the declared keyspaces that replicate to dc,
 * read at LOCAL_QUORUM through a node of `from`, then through a node of dc:
 * every one read from `from` reads back from dc. */
int boot_apply_datacenter(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			  struct cg_resource *res, struct cg_err *err);

/* --- boot_upgrade.c: a node's rolling upgrade --------------------------------- */
/* Before an upgrade's install: nodetool drain, then stop (when it runs). */
int boot_upgrade_stop(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
		      const struct cg_resource *d, const char *from, struct cg_err *err);
/* After an upgraded node's start: UN in its ring, and one schema version. */
int boot_upgrade_settle(struct cg_provider *p, struct cg_ctx *ctx, struct node *n,
			const char *addr, struct cg_err *err);
/* The ring step: upgradesstables on every node, one at a time, when the
 * release cur recorded and d's are of different series (major.minor). */
int boot_upgrade_sstables(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *d, const struct cg_resource *cur,
			  struct cg_err *err);
/* --- boot_park.c: cassandgo stop ------------------------------------------- */

/* service d with running = "false": drain, then stop Cassandra. */
int boot_park_service(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		      struct cg_resource *res, struct cg_err *err);

/* --- boot_schema.c: keyspaces declared in the config -------------------------- */

/* Credentials for cassandgo's own CQL on a node: the superuser's password
 * when auth (the node requires passwords; *pw allocated: release with
 * boot_cleanse_free), else none. */
int boot_cql_login(struct cg_provider *p, bool auth, char **pw, struct cg_err *err);
void boot_cleanse_free(char *s);

/* `nodetool repair -full name` on each configured node of DC dc (dl
 * bytes), one at a time, with progress under d's address. */
int boot_repair_dc(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		   const char *name, const char *dc, size_t dl, struct cg_err *err);

int boot_apply_keyspace(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			const struct cg_resource *cur, struct cg_resource *res, struct cg_err *err);
/* system_keyspaces: ALTER each keyspace it lists to its replication, read
 * back (no repair: a DC new to them is rebuilt, boot_dc.c). */
int boot_apply_system(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
		      struct cg_resource *res, struct cg_err *err);
/* Refresh: the recorded and declared keyspaces as system_schema shows them
 * from n (as the superuser when auth: n requires passwords), and
 * system_keyspaces, into live; with undeclared, the other user keyspaces
 * too ("ks1,ks2"; NULL: none; caller frees). -1 when the query failed
 * (nothing added). */
int boot_keyspaces_of(struct cg_provider *p, struct node *n, bool auth,
		      const struct cg_rset *known, struct cg_rset *live, char **undeclared);

/* --- boot_monitoring.c ------------------------------------------------------ */

int boot_apply_monitoring(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *d,
			  struct cg_resource *res, struct cg_err *err);
int boot_delete_monitoring(struct cg_provider *p, struct cg_ctx *ctx, struct cg_err *err);

#endif
