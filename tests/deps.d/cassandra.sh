#!/usr/bin/env bash
# deps: Java 17 + Maven, then the Cassandra runtime (cassandra-all 5.0.x and
# its runtime dependencies from Maven Central) into the cache. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
# jdk-headless: the tests run Cql.java as a single-file program (javac inside).
. tests/deps.lib.sh
deps_apt openjdk-17-jre-headless openjdk-17-jdk-headless maven ca-certificates-java
tests/cassandra/fetch.sh
