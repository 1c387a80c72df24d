/*
 * ec2.h - the AWS EC2 infrastructure provider (kinds network, peers,
 * keypair, machine) and the helpers the command layer uses.
 *
 * Resources (attributes as produced by planner/model.c):
 *   network.<region>  security group cassandgo-<cluster>-<region> in the
 *                     default VPC: 7000/tcp + ICMP from the group itself;
 *                     22, 9042 (and monitoring_port) from allowed_cidrs;
 *                     nothing else (JMX listens on loopback). id = sg-...
 *   peers.<region>    one 7000/tcp rule per other region's machine
 *                     (public_ip/32), spread over overflow groups
 *                     cassandgo-<cluster>-<region>-peers-N when one group's
 *                     quota is not enough (providers/ec2/rules.h).
 *   keypair.<region>  ed25519 key <state_dir>/keys/<cluster>-<region> (0600,
 *                     OpenSSH format), imported as cassandgo-<cluster>-<region>.
 *                     Deleting the key pair also deletes the local file (the
 *                     instances that used it are gone by then).
 *   machine.<dc>.n<i> one instance, tagged cassandgo:cluster/dc/node/role,
 *                     Name, and cassandgo:host_key (the PUBLIC host key the
 *                     tool generated and handed over in user-data, so a
 *                     refresh can recover it even when the state lost it).
 * Refresh costs per region: one paginated DescribeInstances (tag filter),
 * one DescribeSecurityGroups, one DescribeKeyPairs.
 */
#ifndef CG_EC2_H
#define CG_EC2_H

#include <stddef.h>
#include "../provider.h"

extern const struct cg_provider_ops cg_provider_ec2;

/* What a node's cloud-init user-data needs. */
struct cg_ec2_userdata {
	const char *host_priv;		/* OpenSSH ed25519 private host key */
	const char *host_pub;		/* "ssh-ed25519 AAAA..." */
	const char *install;		/* "maven", "upload", "apt", "dir:/abs/lib" (NULL = apt)
					 * or "none" (a load node: no Java, no Cassandra) */
	const char *cassandra_version;	/* "5.0.6" */
	const char *base_dir;		/* "/var/lib/cassandgo" */
	const char *label;		/* e.g. "MultiDC DC1 n3", a comment only */
	const char *owner;		/* login user that owns base_dir (NULL = root) */
};

/*
 * Render the #cloud-config (< 16 KB): the given host key (and no other),
 * Java 17 and curl, Apache Cassandra from Apache's Debian repository when
 * install is apt (the packaged service stopped and disabled: cgnode runs
 * Cassandra); with maven the jars come later, through cgnode install.
 * Caller frees the result.
 */
char *cg_ec2_userdata_render(const struct cg_ec2_userdata *u, struct cg_err *err);

#endif
