# tests/deps.lib.sh - sourced by tests/deps.d/*.sh (Debian 12, root).
# shellcheck shell=bash

# deps_apt PKG...: install those of the Debian packages that are missing.
deps_apt() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	fi
}
