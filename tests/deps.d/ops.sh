#!/usr/bin/env bash
# deps for make check-ops (Debian 12, root, idempotent): cqlsh 6.2 (the
# Cassandra 5.0 cqlsh, from PyPI) in its own venv under /opt, linked as
# /usr/local/bin/cqlsh, so that the printed cqlsh command runs as given; ssh
# for the printed ssh command; python3 for the JSON checks.
set -euo pipefail
. "$(dirname "$0")/../deps.lib.sh"
deps_apt python3 python3-venv openssh-client iproute2
V=/opt/cassandgo-cqlsh
if ! "$V/bin/cqlsh" --version 2>/dev/null | grep -q '^cqlsh 6\.2'; then
	rm -rf "$V"
	/usr/bin/python3 -m venv "$V"
	"$V/bin/pip" install -q 'cqlsh==6.2.2'
fi
# cqlsh 6.2 needs cassandra-driver >= 3.29, whose 3.29.0-3.30.1 never check
# the server's certificate (`rv.options = int(cert_reqs)` where verify_mode
# is meant, in _build_ssl_context_from_options; FACTS.md). Fix that line
# and drop the compiled module beside it, so `validate = true` means it.
conn=$("$V/bin/python" -c 'import os, cassandra; print(os.path.dirname(cassandra.__file__))')/connection.py
if grep -q 'rv.options = int(cert_reqs)' "$conn"; then
	sed -i 's/rv\.options = int(cert_reqs)/rv.verify_mode = int(cert_reqs)/' "$conn"
	rm -f "$(dirname "$conn")"/connection.cpython-*.so
fi
grep -q 'rv.verify_mode = int(cert_reqs)' "$conn" ||
	{ echo "deps ops: cannot fix certificate checking in $conn" >&2; exit 1; }
ln -sf "$V/bin/cqlsh" /usr/local/bin/cqlsh
cqlsh --version
