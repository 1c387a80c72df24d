#!/usr/bin/env bash
# tests/stress/browser.sh REPORT.html DCS FAULTS OUTDIR: load a report page in
# a real headless browser (Debian's chromium, tests/deps.d/browser.sh) and
# check what it built, not the file: the DOM it dumps after rendering
# (--dump-dom) and a screenshot (OUTDIR/report.png). Asserts: chromium
# exits 0 and logs no console or script error; per DC a section with two
# charts (throughput, latency), each an <svg> with its frame and polylines;
# FAULTS markers (<g class="fault"> with a dashed line and a label) on each
# chart; a screenshot that is a non-trivial PNG. Prints one line; exit 1 on
# failure.
set -uo pipefail
html=$(realpath "$1") dcs=$2 faults=$3 out=$4
mkdir -p "$out"
B=$(command -v chromium || command -v chromium-browser) ||
	{ echo "no chromium (make deps: tests/deps.d/browser.sh)"; exit 1; }
# A profile of our own (nothing of the user's), no sandbox (root), no GPU;
# console messages go to stderr with --enable-logging=stderr.
flags=(--headless --no-sandbox --disable-gpu --user-data-dir="$out/profile"
	--enable-logging=stderr --v=0 --no-first-run --disable-extensions
	--window-size=1000,2400 --virtual-time-budget=3000)
timeout 120 "$B" "${flags[@]}" --dump-dom "file://$html" >"$out/dom.html" 2>"$out/dom.err"
rc=$?
[ $rc = 0 ] || { echo "chromium --dump-dom exited $rc: $(tail -n 3 "$out/dom.err")"; exit 1; }
timeout 120 "$B" "${flags[@]}" --screenshot="$out/report.png" "file://$html" >/dev/null 2>"$out/shot.err"
rc=$?
[ $rc = 0 ] || { echo "chromium --screenshot exited $rc: $(tail -n 3 "$out/shot.err")"; exit 1; }
if grep -E 'CONSOLE|Uncaught|SyntaxError|TypeError|ReferenceError' "$out/dom.err" "$out/shot.err"; then
	echo "the browser logged a console or script error (above)"
	exit 1
fi
/usr/bin/python3 - "$out/dom.html" "$dcs" "$faults" "$out/report.png" <<'PY'
import sys
from html.parser import HTMLParser

dom, dcs, faults, png = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4]


class Walk(HTMLParser):
    """Charts per <h2> section, and what each chart holds."""

    def __init__(self):
        super().__init__()
        self.section, self.in_h2, self.charts, self.cur, self.gfault = None, False, {}, None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.in_h2 = True
        elif tag == "svg":
            self.cur = {"rect": 0, "polyline": 0, "fault": 0, "fault_line": 0, "fault_text": 0}
            self.charts.setdefault(self.section, []).append(self.cur)
        elif self.cur is not None:
            if tag == "g" and "fault" in (a.get("class") or "").split():
                self.cur["fault"] += 1
                self.gfault = 1
            elif tag == "line" and self.gfault and a.get("stroke-dasharray"):
                self.cur["fault_line"] += 1
            elif tag == "text" and self.gfault:
                self.cur["fault_text"] += 1
            elif tag in ("rect", "polyline"):
                self.cur[tag] += 1

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_h2 = False
        elif tag == "svg":
            self.cur = None
        elif tag == "g":
            self.gfault = 0

    def handle_data(self, data):
        if self.in_h2:
            self.section = data.strip()


w = Walk()
w.feed(open(dom, encoding="utf-8").read())
for dc in dcs:
    ch = w.charts.get(dc, [])
    if len(ch) != 2:
        sys.exit(f"{dc}: {len(ch)} charts in the rendered page, expected 2")
    for c in ch:
        if c["rect"] < 1 or c["polyline"] < 1:
            sys.exit(f"{dc}: a chart without its frame or lines: {c}")
        if c["fault"] != faults or c["fault_line"] != faults or c["fault_text"] != faults:
            sys.exit(f"{dc}: {c['fault']} fault markers on a chart, expected {faults}: {c}")
extra = [s for s in w.charts if s not in dcs]
if extra:
    sys.exit(f"charts outside the DC sections: {extra}")
head = open(png, "rb").read(24)
if head[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("the screenshot is not a PNG")
wd, ht = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
size = len(open(png, "rb").read())
if wd < 800 or ht < 1000 or size < 20000:
    sys.exit(f"the screenshot is {wd}x{ht}, {size} bytes: nothing drawn?")
print(f"chromium rendered {sum(len(v) for v in w.charts.values())} charts for {','.join(dcs)}, "
      f"{faults} fault marker(s) on each, no console error; screenshot {wd}x{ht} ({size} bytes)")
PY
