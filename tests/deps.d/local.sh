#!/usr/bin/env bash
# deps for the local provider (providers/local) and check-local: the kernel
# tools for bridges/netns/veth, OpenSSH (sshd per node, ssh for the test),
# useradd. Idempotent; Debian 12, root.
set -euo pipefail
pkgs=(iproute2 openssh-server openssh-client passwd procps)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# sshd's privilege separation directory (the provider creates it too)
mkdir -p /run/sshd
