#!/usr/bin/env bash
# deps for the local provider (providers/local) and check-local: the kernel
# tools for bridges/netns/veth, OpenSSH (sshd per node, ssh for the test),
# useradd. Idempotent; Debian 12, root.
set -euo pipefail
. "$(dirname "$0")/../deps.lib.sh"
deps_apt iproute2 openssh-server openssh-client passwd procps sudo util-linux nftables
# sshd's privilege separation directory (the provider creates it too)
mkdir -p /run/sshd
