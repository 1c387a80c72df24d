/*
 * userdata_dump.c - the user-data cassandgo would hand a new EC2 node, for
 * tests/cloudinit/run.sh to feed to the real cloud-init.
 *
 *   userdata_dump OUTDIR [INSTALL [VERSION [OWNER [LABEL]]]]
 *
 * writes OUTDIR/user-data (the #cloud-config) and OUTDIR/host_key.pub (the
 * public line cassandgo pins and tags), both made the way the EC2 provider
 * makes them on launch: a fresh ed25519 key from cg_ssh_keygen_mem, its
 * comment cut, rendered by cg_ec2_userdata_render. Defaults: apt, 5.0.6,
 * ubuntu (the provider's default login user), "CloudInit DC1 n1".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/util.h"
#include "../../providers/ec2/ec2.h"
#include "../../providers/ssh/ssh.h"

static int write_out(const char *dir, const char *name, const char *text)
{
	char *path = cg_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	int rc = f && fputs(text, f) >= 0 ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "userdata_dump: cannot write %s\n", path);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 6) {
		fprintf(stderr, "usage: userdata_dump OUTDIR [INSTALL [VERSION [OWNER [LABEL]]]]\n");
		return 2;
	}
	struct cg_err err = { 0 };
	char *priv = NULL, *pub = NULL;
	if (cg_ssh_keygen_mem(&priv, &pub, &err) < 0) {
		fprintf(stderr, "userdata_dump: %s\n", err.msg);
		return 1;
	}
	/* as the provider does: the public line without its comment is what is
	 * pinned and tagged */
	char *sp = strchr(pub, ' ');
	if (sp && (sp = strchr(sp + 1, ' ')))
		*sp = 0;
	struct cg_ec2_userdata u = {
		.host_priv = priv, .host_pub = pub,
		.install = argc > 2 ? argv[2] : "apt",
		.cassandra_version = argc > 3 ? argv[3] : "5.0.6",
		.base_dir = "/var/lib/cassandgo",
		.owner = argc > 4 ? argv[4] : "ubuntu",
		.label = argc > 5 ? argv[5] : "CloudInit DC1 n1",
	};
	char *ud = cg_ec2_userdata_render(&u, &err);
	int rc = 1;
	if (!ud)
		fprintf(stderr, "userdata_dump: %s\n", err.msg);
	else if (write_out(argv[1], "user-data", ud) == 0) {
		char *line = cg_xasprintf("%s\n", pub);
		rc = write_out(argv[1], "host_key.pub", line) == 0 ? 0 : 1;
		free(line);
	}
	free(ud);
	free(priv);
	free(pub);
	return rc;
}
