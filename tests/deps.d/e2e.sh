#!/usr/bin/env bash
# deps for make e2e / bench-lab (Debian 12, root, idempotent): the Python
# driver for Cassandra (Debian's python3-cassandra 3.25 speaks protocol v5 to
# Cassandra 5.0; the tests run it with /usr/bin/python3), and ssh for
# reaching the nodes as the cluster's login user; GNU time for the benches'
# peak RSS. Java, the Cassandra jars,
# sshd and iproute2 come from cassandra.sh and local.sh.
set -euo pipefail
. "$(dirname "$0")/../deps.lib.sh"
deps_apt python3 python3-cassandra openssh-client iproute2 procps coreutils openssl sqlite3 time
/usr/bin/python3 -c 'import cassandra.cluster' || { echo "deps e2e: python3-cassandra does not import" >&2; exit 1; }
