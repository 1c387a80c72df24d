#!/usr/bin/env bash
# make deps: install everything cassandgo and its tests need on Debian 12
# (root). Idempotent. Module-specific steps live in tests/deps.d/*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(build-essential clang pkg-config libcurl4-openssl-dev libssl-dev libssh2-1-dev
      libyaml-dev libsqlite3-dev sqlite3 libxxhash-dev libxml2-dev libcmocka-dev
      valgrind iproute2 openssh-server openssh-client procps psmisc python3 python3-pip)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
for f in tests/deps.d/*.sh; do
	[ -e "$f" ] || continue
	echo "== deps: $f"
	bash "$f"
done
