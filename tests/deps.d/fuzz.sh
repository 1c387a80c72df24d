#!/usr/bin/env bash
# deps for make fuzz (Debian 12, root, idempotent): clang and its libFuzzer
# runtime (libclang-rt-N-dev, N = clang's major version; Debian 12's clang
# pulls it in, named here so that a slimmer install fails loudly), then a
# probe: a fuzzer built and run, which is what `make fuzz` needs.
set -euo pipefail
command -v clang >/dev/null || {
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang
}
major=$(clang -dumpversion | cut -d. -f1)
. "$(dirname "$0")/../deps.lib.sh"
deps_apt clang "libclang-rt-$major-dev"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$probe/p.c"
clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" &&
	"$probe/p" -runs=10 >/dev/null 2>&1 ||
	{ echo "deps fuzz: clang cannot build or run a libFuzzer target" >&2; exit 1; }
