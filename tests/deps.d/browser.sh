#!/usr/bin/env bash
# deps for check-stress's look at report.html (Debian 12, root, idempotent):
# a real headless browser, Debian's chromium. The test loads the page with
# --headless --dump-dom (and a screenshot) and checks what the browser built.
set -euo pipefail
. "$(dirname "$0")/../deps.lib.sh"
deps_apt chromium fonts-dejavu-core
chromium --version
