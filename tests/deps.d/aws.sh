#!/usr/bin/env bash
# deps for make e2e-aws (Debian 12, root, idempotent): moto/boto3 come from
# ec2.sh, Java and the jars from cassandra.sh, python3-cassandra from e2e.sh,
# sshd from local.sh; here what only this test uses: unshare/mount
# (util-linux, mount) for the per-host mount namespace, sqlite3 for the
# state's integrity_check.
set -euo pipefail
. "$(dirname "$0")/../deps.lib.sh"
deps_apt util-linux mount sqlite3 iproute2 openssh-server openssh-client python3-cassandra
