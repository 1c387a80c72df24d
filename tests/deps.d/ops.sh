#!/usr/bin/env bash
# deps for make check-ops (Debian 12, root, idempotent): cqlsh 6.2 (the
# Cassandra 5.0 cqlsh, from PyPI) in its own venv under /opt, linked as
# /usr/local/bin/cqlsh, so that the printed cqlsh command runs as given; ssh
# for the printed ssh command; python3 for the JSON checks.
set -euo pipefail
pkgs=(python3 python3-venv openssh-client iproute2)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
V=/opt/cassandgo-cqlsh
if ! "$V/bin/cqlsh" --version 2>/dev/null | grep -q '^cqlsh 6\.2'; then
	rm -rf "$V"
	/usr/bin/python3 -m venv "$V"
	"$V/bin/pip" install -q 'cqlsh==6.2.2'
fi
ln -sf "$V/bin/cqlsh" /usr/local/bin/cqlsh
cqlsh --version
