#!/usr/bin/env bash
# deps: Java 17 + Maven, then the Cassandra runtime (cassandra-all 5.0.x and
# its runtime dependencies from Maven Central) into the cache. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
# jdk-headless: the tests run Cql.java as a single-file program (javac inside).
pkgs=(openjdk-17-jre-headless openjdk-17-jdk-headless maven ca-certificates-java)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
tests/cassandra/fetch.sh
