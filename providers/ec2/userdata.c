/*
 * userdata.c - cloud-init user-data for a node; see ec2.h.
 *
 * The host key is the point: the tool generated it, records its public half
 * and pins it, so the first SSH connection already trusts exactly this key.
 * Cassandra is installed at boot so the install overlaps the boot; cgnode
 * install later waits for `cloud-init status --wait` (cloud-init holds the
 * dpkg lock during first boot) and is a no-op when this already ran.
 *
 * The private host key travels in the user-data, and the instance metadata
 * service (169.254.169.254, IPv6 fd00:ec2::254) serves the user-data to any
 * local process for the instance's whole life; IMDSv2 tokens do not change
 * that. So, on every boot, bootcmd (cloud-init's network stage: before sshd
 * and user logins) installs a firewall rule that rejects traffic to the
 * metadata service from every uid but root: nftables where `nft` exists
 * (Ubuntu 24.04 ships it), else iptables/ip6tables with the owner match
 * (Ubuntu 22.04). Root keeps it: cloud-init itself, at the next boots. No
 * tool, no rule: bootcmd fails and cloud-init reports an error, loudly.
 * cloud-init rewrites its plain copies of the user-data from its cache at
 * every boot, so a per-boot script removes them at the end of each boot
 * (tests/cloudinit/ runs the real cloud-init on this and lists every file
 * that still holds the key).
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

/*
 * bootcmd's script. The nft table is replaced in one transaction (add,
 * delete, add), so a second run in one boot leaves one copy; iptables
 * checks (-C) before it inserts. A packet without a socket (the kernel's
 * own) has no uid: `meta skuid != 0` does not match it. Forwarded traffic
 * (containers) is refused whatever its uid claims.
 */
static const char imds_firewall[] =
	"# cassandgo: the metadata service serves this user-data (the host's\n"
	"# private key): from now on it answers root only.\n"
	"set -e\n"
	"if command -v nft >/dev/null 2>&1; then\n"
	"nft -f - <<'EOF'\n"
	"table inet cassandgo_imds\n"
	"delete table inet cassandgo_imds\n"
	"table inet cassandgo_imds {\n"
	"  chain output {\n"
	"    type filter hook output priority 0; policy accept;\n"
	"    ip daddr 169.254.169.254 meta skuid != 0 reject\n"
	"    ip6 daddr fd00:ec2::254 meta skuid != 0 reject\n"
	"  }\n"
	"  chain forward {\n"
	"    type filter hook forward priority 0; policy accept;\n"
	"    ip daddr 169.254.169.254 reject\n"
	"    ip6 daddr fd00:ec2::254 reject\n"
	"  }\n"
	"}\n"
	"EOF\n"
	"else\n"
	"command -v iptables >/dev/null 2>&1 || {\n"
	"  echo 'cassandgo: no nft, no iptables: the metadata service stays open' >&2\n"
	"  exit 1\n"
	"}\n"
	"for t in 'iptables 169.254.169.254' 'ip6tables fd00:ec2::254'; do\n"
	"  set -- $t\n"
	"  # no IPv6 in this kernel: nothing reaches fd00:ec2::254 either\n"
	"  [ \"$1\" = iptables ] || [ -e /proc/net/if_inet6 ] || continue\n"
	"  $1 -w -C OUTPUT -d $2 -m owner ! --uid-owner 0 -j REJECT 2>/dev/null ||\n"
	"    $1 -w -I OUTPUT 1 -d $2 -m owner ! --uid-owner 0 -j REJECT\n"
	"  $1 -w -C FORWARD -d $2 -j REJECT 2>/dev/null ||\n"
	"    $1 -w -I FORWARD 1 -d $2 -j REJECT\n"
	"done\n"
	"fi\n";

/*
 * Run at the end of every boot (scripts-per-boot, in the final stage).
 * cloud-init writes these from its cache (obj.pkl, root 0400, which it
 * needs to recognise the instance) in every boot's network stage; they are
 * root-only, but nothing needs them once the boot's modules have read them
 * (only `cloud-init query/single/schema --system` would look, later).
 */
static const char scrub_script[] =
	"#!/bin/sh\n"
	"# cassandgo: cloud-init's plain copies of the user-data hold the host's\n"
	"# private key; this boot's modules have read them.\n"
	"rm -f /run/cloud-init/combined-cloud-config.json\n"
	"cd /var/lib/cloud/instance &&\n"
	"  rm -f user-data.txt user-data.txt.i cloud-config.txt\n";

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
	/* none: a load node (latte is one static binary, sent over SSH) */
	bool none = !strcmp(install, "none");
	/* maven, upload: cgnode downloads (or receives) and verifies the jars
	 * over SSH later; the boot brings Java and curl (the packages below;
	 * without internet access, from the image or an apt proxy) */
	if (!apt && !none && strcmp(install, "maven") && strcmp(install, "upload") &&
	    strncmp(install, "dir:/", 5)) {
		cg_error(err, CG_EXIT_ERROR, "user-data: install must be maven, upload, apt, none or "
			 "dir:/ABS/PATH, got '%s'", install);
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
	cg_buf_adds(&b, "bootcmd:\n  - |\n");
	add_block(&b, imds_firewall, "    ");
	cg_buf_adds(&b, "write_files:\n"
			"  - path: /var/lib/cloud/scripts/per-boot/cassandgo-scrub-user-data\n"
			"    owner: root:root\n    permissions: '0700'\n    content: |\n");
	add_block(&b, scrub_script, "      ");
	if (!none)
		cg_buf_adds(&b, "package_update: true\npackages:\n"
				"  - openjdk-17-jre-headless\n  - curl\n  - ca-certificates\n"
				"  - python3\n");
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
	cg_buf_addf(&b, "  - [sh, -c, 'touch %s/.cloud-init-done']\n", base);
	if (b.len >= USERDATA_MAX) {
		cg_error(err, CG_EXIT_ERROR, "user-data is %zu bytes; EC2 accepts at most %d",
			 b.len, USERDATA_MAX);
		cg_buf_free(&b);
		return NULL;
	}
	return cg_buf_detach(&b);
}
