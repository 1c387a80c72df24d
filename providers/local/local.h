/*
 * local.h - the local provider (local.c and the files internal.h lists):
 * every node is a Linux network namespace on this host, with its own address
 * and its own sshd, so that the SSH bootstrap
 * provider runs against it exactly as against EC2 instances. Needs root.
 *
 * What it creates for a cluster (TAG = 12 hex digits of the xxHash of the
 * cluster name and the absolute state directory, so that two state
 * directories never collide):
 *   network.<region>   one bridge per cluster, "cgb" TAG, holding the first
 *                      address of the cluster's range (default 10.77.0.0/16);
 *                      every region of the cluster shares it, the last
 *                      network deleted removes it.
 *   keypair.<region>   <state_dir>/keys/<cluster>-<region> (ed25519, 0600).
 *   machine.<dc>.n<i>  netns "cg-" TAG "-<dc>-n<i>", veth "cgv"+hash into the
 *                      bridge; address = range base + (dc_index+1)*256 + i
 *                      (DC1 n1 of 10.77.0.0/16 is 10.77.1.1); stable across
 *                      re-creation as long as the DC order in the config is;
 *                      sshd on <addr>:22 with a tool-generated host key; the
 *                      login user is the cluster's ssh_user (default
 *                      "cassandgo"), created as a system user when missing.
 *                      Per-node files: base_dir = ROOT/<cluster>-TAG/<dc>-n<i>
 *                      (ROOT = $CASSANDGO_LOCAL_ROOT or /var/lib/cassandgo),
 *                      sshd files in /run/cassandgo/<netns> (gone on reboot,
 *                      like the namespaces themselves).
 *                      Result attributes: the desired ones plus private_ip
 *                      = public_ip, host_key ("ssh-ed25519 AAAA..."), ssh_port
 *                      22, base_dir, lib_dir, sshd (up|down) and health ("ok",
 *                      else why: the planner then updates in place, which
 *                      restarts sshd and re-plugs what is missing).
 *   refresh            reads what exists: the bridge, the key files, every
 *                      namespace named with the prefix (probed in parallel);
 *                      the desired labels of a machine are kept beside it in
 *                      /run/cassandgo/<netns>/meta so a lost state adopts it.
 *   zones(region)      the zones the config lists for DCs of that region,
 *                      else "<region>a", "<region>b".
 *   lib_dir            $CASSANDGO_CASSANDRA_CACHE (default /var/cache/cassandgo)
 *                      + /cassandra-<version>/lib.
 */
#ifndef CG_LOCAL_H
#define CG_LOCAL_H

#include <netinet/in.h>
#include <sys/types.h>
#include "../provider.h"

extern const struct cg_provider_ops cg_provider_local;

/*
 * Names the provider derives (exposed for tests and cleanup scripts).
 * cg_local_tag: 12 hex digits + NUL for (cluster, state_dir); state_dir may be
 * relative (made absolute against the working directory).
 */
void cg_local_tag(const char *cluster, const char *state_dir, char tag[13]);

/*
 * Client namespaces, for load generators (cassandgo stress): one per DC,
 * "cg-" TAG "-<dc>-client", plugged into the cluster's bridge at the DC's
 * block + 254 (DC1 of 10.77.0.0/16: 10.77.1.254), so that a client of DC1
 * reaches the nodes as a machine of that DC would. p is an open local
 * provider (cg_provider_local.open). Not resources of the plan: a stress
 * run makes and removes them; the bridge's removal (destroy) removes any
 * left by a killed run.
 *
 * cg_local_client_up: make it (idempotent); addr gets its address.
 * cg_local_client_spawn: start argv[0] (absolute) in it, in directory dir,
 * with environment envp, stdin /dev/null, stdout and stderr on one pipe
 * (*fd, the caller's), in a process group of its own. The pid, or -1.
 * cg_local_client_down: kill its processes, remove its link and namespace.
 */
int cg_local_client_up(struct cg_provider *p, const char *dc, char addr[INET_ADDRSTRLEN],
		       struct cg_err *err);
pid_t cg_local_client_spawn(struct cg_provider *p, const char *dc, const char *dir,
			    char *const argv[], char *const envp[], int *fd, struct cg_err *err);
int cg_local_client_down(struct cg_provider *p, const char *dc, struct cg_err *err);

#endif
