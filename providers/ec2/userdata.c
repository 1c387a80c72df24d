/*
 * userdata.c - cloud-init user-data for a node; see ec2.h.
 *
 * The host key is the point: the tool generated it, records its public half
 * and pins it, so the first SSH connection already trusts exactly this key.
 * Cassandra is installed at boot so the install overlaps the boot; cgnode
 * install later waits for `cloud-init status --wait` (cloud-init holds the
 * dpkg lock during first boot) and is a no-op when this already ran.
 */
#include "ec2.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERDATA_MAX 16384

/* YAML block scalar lines, indented. */
static void add_block(struct cg_buf *b, const char *text, const char *indent)
{
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len)
			cg_buf_addf(b, "%s%.*s\n", indent, (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
}

static bool safe_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-+~:/", *s))
			return false;
	return true;
}

char *cg_ec2_userdata_render(const struct cg_ec2_userdata *u, struct cg_err *err)
{
	const char *install = u->install ? u->install : "apt";
	const char *base = u->base_dir ? u->base_dir : "/var/lib/cassandgo";
	if (!u->host_priv || !strstr(u->host_priv, "BEGIN OPENSSH PRIVATE KEY") ||
	    !u->host_pub || strncmp(u->host_pub, "ssh-ed25519 ", 12) || strchr(u->host_pub, '\n')) {
		cg_error(err, CG_EXIT_ERROR, "user-data: the host key must be an OpenSSH ed25519 key");
		return NULL;
	}
	bool apt = !strcmp(install, "apt");
	if (!apt && strncmp(install, "dir:/", 5)) {
		cg_error(err, CG_EXIT_ERROR, "user-data: install must be apt or dir:/ABS/PATH, got '%s'",
			 install);
		return NULL;
	}
	/* Values end up in shell commands: accept plain tokens only. */
	if ((apt && !safe_token(u->cassandra_version)) || !safe_token(base) ||
	    (u->owner && !safe_token(u->owner))) {
		cg_error(err, CG_EXIT_ERROR, "user-data: bad Cassandra version or base directory");
		return NULL;
	}
	struct cg_buf b = { 0 };
	cg_buf_adds(&b, "#cloud-config\n");
	if (u->label)
		cg_buf_addf(&b, "# cassandgo node: %s\n", u->label);
	/* Only the key the tool generated: with ssh_keys given, cloud-init
	 * writes those and generates no other type. */
	cg_buf_adds(&b, "ssh_deletekeys: true\nssh_keys:\n"
			"  ed25519_private: |\n");
	add_block(&b, u->host_priv, "    ");
	cg_buf_addf(&b, "  ed25519_public: %s\n", u->host_pub);
	cg_buf_adds(&b, "package_update: true\npackages:\n"
			"  - openjdk-17-jre-headless\n  - curl\n  - ca-certificates\n  - python3\n");
	cg_buf_addf(&b, "runcmd:\n  - [mkdir, -p, %s]\n", base);
	/* cgnode and the uploads run as the login user */
	if (u->owner)
		cg_buf_addf(&b, "  - [chown, '%s:', %s]\n", u->owner, base);
	if (apt) {
		/* Apache's repository is named after major+minor: 5.0.x -> 50x. */
		int maj = 0, min = 0;
		sscanf(u->cassandra_version, "%d.%d", &maj, &min);
		cg_buf_adds(&b,
			    "  - [mkdir, -p, /etc/apt/keyrings]\n"
			    "  - [sh, -c, 'curl -fsSL --retry 5 https://downloads.apache.org/cassandra/KEYS"
			    " -o /etc/apt/keyrings/apache-cassandra.asc']\n");
		cg_buf_addf(&b,
			    "  - [sh, -c, 'echo \"deb [signed-by=/etc/apt/keyrings/apache-cassandra.asc]"
			    " https://debian.cassandra.apache.org %d%dx main\""
			    " > /etc/apt/sources.list.d/cassandra.list']\n", maj, min);
		cg_buf_adds(&b, "  - [sh, -c, 'apt-get update -q']\n");
		cg_buf_addf(&b, "  - [sh, -c, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q"
				" cassandra=%s']\n", u->cassandra_version);
		/* cgnode runs Cassandra with the tool's config, not the package's unit. */
		cg_buf_adds(&b, "  - [sh, -c, 'systemctl disable --now cassandra || true']\n");
	}
	/* the host's private key needs no second copy on disk: drop
	 * cloud-init's cached user-data (root-only, but still) */
	cg_buf_adds(&b, "  - [sh, -c, 'rm -f /var/lib/cloud/instance/user-data.txt"
			" /var/lib/cloud/instance/user-data.txt.i']\n");
	cg_buf_addf(&b, "  - [sh, -c, 'touch %s/.cloud-init-done']\n", base);
	if (b.len >= USERDATA_MAX) {
		cg_error(err, CG_EXIT_ERROR, "user-data is %zu bytes; EC2 accepts at most %d",
			 b.len, USERDATA_MAX);
		cg_buf_free(&b);
		return NULL;
	}
	return cg_buf_detach(&b);
}
