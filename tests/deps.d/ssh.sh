#!/usr/bin/env bash
# deps for providers/ssh and its tests (Debian 12, root, idempotent):
# libssh2 + OpenSSL headers, OpenSSH server/client for the throwaway sshds,
# iproute2 for network namespaces, CMocka, and the test login user.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/deps.lib.sh
deps_apt libssh2-1-dev libssl-dev libcmocka-dev openssh-server openssh-client iproute2 \
	procps coreutils passwd sudo util-linux
# The packaged sshd must not hold port 22 of the host for nothing; the tests
# start their own sshds inside namespaces. /run/sshd is needed by every sshd.
mkdir -p /run/sshd
. tests/ssh/lib.sh
cg_test_user cgssh
