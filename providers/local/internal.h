/*
 * internal.h - private to the local provider (local.c and the files it is
 * split into by what they manage): its handle, a node's names, and what the
 * files share. Nothing outside providers/local/ includes it.
 *
 *   local.c    the provider ops: open, close, zones, apply (by kind), key pairs
 *   host.c     the host's primitives: spawning programs (argv, never a shell,
 *              optionally inside a namespace), names and addresses, files,
 *              namespaces and the processes in them, sshd probes
 *   net.c      network.<region>: the cluster's bridge; the client namespaces
 *              of `cassandgo stress`
 *   machine.c  machine.<dc>.n<i>: the login user, the namespace, its veth and
 *              sshd, the meta file that lets a lost state adopt it
 *   refresh.c  refresh: what exists, every namespace probed in parallel
 *   park.c     cassandgo stop/start of a node (parking)
 */
#ifndef CG_LOCAL_INTERNAL_H
#define CG_LOCAL_INTERNAL_H

#include "local.h"
#include "../ssh/ssh.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <ifaddrs.h>
#include <sched.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#define NETNS_DIR	"/run/netns"
#define RUN_ROOT	"/run/cassandgo"
#define NSFS_MAGIC_	0x6e736673
#define SSH_PORT	22
#define DEFAULT_RANGE	"10.77.0.0/16"
#define DEFAULT_USER	"cassandgo"
/* The system account Cassandra runs as on every lab node (cgnode makes it:
 * no login shell, no sudo); not "cassandra", which a packaged Cassandra on
 * the same host may own. */
#define RUN_USER	"cassandgo-db"
/* The comment (GECOS) of the login accounts this provider creates: how it
 * tells them from accounts it must not take over (root, daemon, a person). */
#define USER_MARK	"cassandgo local provider"
#define CMD_TIMEOUT_MS	30000
#define SSHD_WAIT_MS	15000

struct cg_provider {
	pthread_mutex_t mu;		/* bridge, user, gone[] */
	const struct cg_cluster *c;	/* borrowed: outlives the provider */
	volatile sig_atomic_t *interrupted;	/* env's (may be NULL) */
	char *state_dir;		/* absolute */
	char *cname;			/* cluster name, sanitised for paths */
	char tag[13];
	char bridge[16];		/* "cgb" + tag */
	char prefix[32];		/* netns name prefix "cg-" + tag + "-" */
	uint32_t net;			/* range, host byte order */
	int plen;
	uint32_t gw;			/* first address: the bridge's */
	char *user;			/* login user on the nodes */
	char *root;			/* base_dir root */
	char *lib_dir;
	char ip[64], sshd[64], useradd[64], usermod[64];
	char **gone;			/* network addrs this instance deleted */
	int ngone;
};

/* Names and paths of one node. */
struct node {
	const char *dc;
	int n;
	char ns[128];
	char veth[16];
	char run[192];			/* RUN_ROOT/<ns> */
	char *base_dir;			/* heap */
	int dc_index;			/* -1 when the DC is not in the config */
	char addr[INET_ADDRSTRLEN];	/* "" when unknown */
};

/* local.c (park.c uses these) */
int node_names(struct cg_provider *p, const char *dc, int n, struct node *nd, struct cg_err *err);
void node_free(struct node *nd);
int parse_machine_addr(const char *addr, char **dc, int *n);
int ns_kill_all(const struct cg_provider *p, const char *ns, struct cg_err *err);
void machine_attrs(struct cg_provider *p, const struct node *nd, const char *ip,
		   const char *host_key, bool up, struct cg_resource *r);

/* park.c: cassandgo stop on a local node: every process of its namespace
 * ended (Cassandra was drained and stopped before), sshd included; the
 * namespace, its address and the node's files stay. <run>/parked says so
 * until machine_ensure starts it again. */
int cg_local_power_off(struct cg_provider *p, struct cg_ctx *ctx, const struct cg_resource *cur,
		       struct cg_resource *result, struct cg_err *err);
/* Is the node parked (the marker of cg_local_power_off)? */
bool cg_local_parked(const struct node *nd);
/* Forget the marker: the node runs again. */
void cg_local_unpark(const struct node *nd);

enum account { ACCOUNT_NONE, ACCOUNT_OURS, ACCOUNT_LEGACY, ACCOUNT_FOREIGN };

#define RUN(err, out, ...) local_run_in(-1, (out), (err), (const char *const[]){ __VA_ARGS__, NULL })
#define PROBE(...) local_probe((const char *const[]){ __VA_ARGS__, NULL })

/* host.c */
void __attribute__((noreturn))
local_child_exec(int nsfd, const char *dir, int in, int out, int errfd, char *const argv[],
		 char *const envp[]);
char *local_abs_path(const char *path);
int local_dc_index(const struct cg_provider *p, const char *dc);
int local_dir_make(const char *path, mode_t mode, struct cg_err *err);
int local_dirs_searchable(struct cg_provider *p, const char *path, uid_t uid, gid_t gid,
			  struct cg_err *err);
void local_find_prog(char *dst, size_t n, const char *name);
void local_ip4_str(uint32_t a, char out[INET_ADDRSTRLEN]);
int local_keygen(const char *path, char **pub_line, struct cg_err *err);
bool local_link_exists(const char *name);
uint32_t local_mask_of(int plen);
void local_ns_addr(struct cg_provider *p, const char *ns, char out[INET_ADDRSTRLEN]);
int local_ns_open(const char *ns);
int local_parse_cidr(const char *s, uint32_t *net, int *plen);
bool local_path_exists(const char *path);
bool local_pid_in_ns(pid_t pid, const char *ns);
int local_probe(const char *const argv[]);
char *local_pub_strip(const char *line);
pid_t local_read_pid(const char *path);
char *local_read_trim(const char *path);
int local_rm_rf(const char *path, struct cg_err *err);
char *local_rtrim(char *s);
int local_run_in(int nsfd, struct cg_buf *out, struct cg_err *err, const char *const argv[]);
int local_run_status(const char *const argv[], int nsfd, struct cg_buf *out,
		     struct cg_buf *errb, int *status, struct cg_err *err);
char *local_sanitise(const char *s);
bool local_ssh_banner(const char *addr, int timeout_ms);
bool local_sshd_up(const struct node *nd);
bool local_stop_now(const struct cg_provider *p);
bool local_valid_label(const char *s);

/* net.c */
int local_bridge_ensure(struct cg_provider *p, struct cg_err *err);
int local_bridge_release(struct cg_provider *p, struct cg_ctx *ctx, const char *addr,
			 struct cg_err *err);

/* machine.c */
enum account local_account_of(const char *user, struct passwd *pw, char *buf, size_t n);
int local_machine_destroy(struct cg_provider *p, struct cg_ctx *ctx,
			  const struct cg_resource *cur, struct cg_err *err);
int local_machine_ensure(struct cg_provider *p, struct cg_ctx *ctx,
			 const struct cg_resource *desired, struct cg_resource *result,
			 struct cg_err *err);
int local_netns_ensure(struct cg_provider *p, const struct node *nd, struct cg_err *err);
void local_read_meta(const struct node *nd, struct cg_resource *r);
int local_user_check(const struct cg_cluster *c, const char *user, enum account a,
		     struct cg_err *err);

/* refresh.c */
int local_refresh(struct cg_provider *p, const struct cg_rset *known,
		  struct cg_rset *live, struct cg_err *err);

/* local.c */
void local_free_strv(char **v, int n);
void local_regions_of(struct cg_provider *p, const struct cg_rset *known, enum cg_kind kind,
		      char ***out, int *n);

#endif
