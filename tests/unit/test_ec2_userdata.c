/*
 * test_ec2_userdata.c - rendered cloud-init user-data: content, size, and
 * validity per Debian's `cloud-init schema --config-file` (required: the
 * test fails when cloud-init is not installed; tests/deps.d/ec2.sh
 * installs it). What the real cloud-init does with it: tests/cloudinit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../providers/ec2/ec2.h"
#include "../../providers/ssh/ssh.h"

static void schema_ok(const char *ud)
{
	char path[] = "/tmp/cg-userdata-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, ud, strlen(ud)), (ssize_t)strlen(ud));
	close(fd);
	char *cmd = cg_xasprintf("cloud-init schema --config-file %s >/tmp/cg-userdata-out.txt 2>&1",
				 path);
	int rc = system(cmd);
	free(cmd);
	unlink(path);
	if (rc != 0) {
		char *out = NULL;
		size_t len;
		struct cg_err err = { 0 };
		if (cg_file_read("/tmp/cg-userdata-out.txt", &out, &len, &err) == 0)
			print_error("cloud-init schema failed:\n%s\n--- user-data:\n%s\n", out, ud);
		free(out);
	}
	unlink("/tmp/cg-userdata-out.txt");
	assert_int_equal(rc, 0);
}

static void test_apt(void **state)
{
	(void)state;
	char *priv = NULL, *pub = NULL;
	struct cg_err err = { 0 };
	assert_int_equal(cg_ssh_keygen_mem(&priv, &pub, &err), 0);
	struct cg_ec2_userdata u = {
		.host_priv = priv, .host_pub = pub, .install = "apt",
		.cassandra_version = "5.0.6", .base_dir = "/var/lib/cassandgo",
		.label = "MultiDC DC1 n3", .owner = "ubuntu",
	};
	char *ud = cg_ec2_userdata_render(&u, &err);
	assert_non_null(ud);
	assert_true(strlen(ud) < 16384);
	assert_int_equal(strncmp(ud, "#cloud-config\n", 14), 0);
	assert_non_null(strstr(ud, "ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n"));
	char *want = cg_xasprintf("ed25519_public: %s\n", pub);
	assert_non_null(strstr(ud, want));
	free(want);
	assert_non_null(strstr(ud, "ssh_deletekeys: true"));
	assert_non_null(strstr(ud, "openjdk-17-jre-headless"));
	assert_non_null(strstr(ud, "https://debian.cassandra.apache.org 50x main"));
	assert_non_null(strstr(ud, "cassandra=5.0.6"));
	/* The metadata service (which serves this user-data, private key
	 * included) answers root only, from every boot's bootcmd on: nft, else
	 * iptables/ip6tables; tests/cloudinit runs it for real. */
	assert_non_null(strstr(ud, "bootcmd:\n  - |\n"));
	assert_non_null(strstr(ud, "    ip daddr 169.254.169.254 meta skuid != 0 reject\n"));
	assert_non_null(strstr(ud, "    ip6 daddr fd00:ec2::254 meta skuid != 0 reject\n"));
	assert_non_null(strstr(ud, "-m owner ! --uid-owner 0 -j REJECT"));
	assert_non_null(strstr(ud, "'iptables 169.254.169.254' 'ip6tables fd00:ec2::254'"));
	/* cloud-init's plain copies go at the end of every boot, not once */
	assert_non_null(strstr(ud, "  - path: /var/lib/cloud/scripts/per-boot/"));
	assert_non_null(strstr(ud, "rm -f user-data.txt user-data.txt.i cloud-config.txt\n"));
	assert_non_null(strstr(ud, "rm -f /run/cloud-init/combined-cloud-config.json\n"));
	assert_null(strstr(ud, "rm -f /var/lib/cloud/instance/user-data.txt"));
	assert_non_null(strstr(ud, "  - [chown, 'ubuntu:', /var/lib/cassandgo]\n"));
	schema_ok(ud);
	free(ud);

	/* dir: install: Java only */
	u.install = "dir:/var/cache/cassandgo/cassandra-5.0.6/lib";
	ud = cg_ec2_userdata_render(&u, &err);
	assert_non_null(ud);
	assert_null(strstr(ud, "debian.cassandra.apache.org"));
	assert_non_null(strstr(ud, "openjdk-17-jre-headless"));
	schema_ok(ud);
	free(ud);

	/* maven install (the default): Java and curl at boot, the jars later
	 * through cgnode, nothing from Apache's repository */
	u.install = "maven";
	ud = cg_ec2_userdata_render(&u, &err);
	assert_non_null(ud);
	assert_null(strstr(ud, "debian.cassandra.apache.org"));
	assert_non_null(strstr(ud, "openjdk-17-jre-headless"));
	assert_non_null(strstr(ud, "  - curl\n"));
	schema_ok(ud);
	free(ud);

	/* a load node (none): no Java, no curl, no Cassandra; the host key,
	 * the metadata firewall and the base directory as on every node */
	u.install = "none";
	u.cassandra_version = NULL;
	ud = cg_ec2_userdata_render(&u, &err);
	assert_non_null(ud);
	assert_null(strstr(ud, "openjdk"));
	assert_null(strstr(ud, "packages:"));
	assert_null(strstr(ud, "debian.cassandra.apache.org"));
	assert_non_null(strstr(ud, "ed25519_private: |\n"));
	assert_non_null(strstr(ud, "    ip daddr 169.254.169.254 meta skuid != 0 reject\n"));
	assert_non_null(strstr(ud, "  - [chown, 'ubuntu:', /var/lib/cassandgo]\n"));
	schema_ok(ud);
	free(ud);

	/* refused inputs */
	u.install = "apt";
	u.cassandra_version = "5.0.6; rm -rf /";
	assert_null(cg_ec2_userdata_render(&u, &err));
	u.cassandra_version = "5.0.6";
	u.install = "tarball";
	assert_null(cg_ec2_userdata_render(&u, &err));
	assert_non_null(strstr(err.msg, "install must be"));
	u.install = "apt";
	u.host_pub = "ssh-rsa AAAA";
	assert_null(cg_ec2_userdata_render(&u, &err));
	free(priv);
	free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
