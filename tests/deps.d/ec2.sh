#!/usr/bin/env bash
# deps for the EC2 provider's tests (make check-ec2 / bench-ec2 and
# test_ec2_userdata): moto's server and boto3 from PyPI where missing,
# Debian's cloud-init (for `cloud-init schema`), curl. Idempotent; Debian 12, root.
set -euo pipefail
pkgs=(cloud-init curl python3 python3-pip openssh-client)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! python3 -c 'import moto, boto3, flask, flask_cors' 2>/dev/null; then
	# Debian 12's python is externally managed: PEP 668 needs the flag.
	pip3 install -q 'moto[server]>=5.0,<6' boto3 2>/dev/null ||
		pip3 install -q --break-system-packages 'moto[server]>=5.0,<6' boto3
fi
python3 -c 'import moto, boto3' || { echo "ec2 deps: moto/boto3 still missing" >&2; exit 1; }
