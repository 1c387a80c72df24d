"""Checks of `cassandgo stress` output for tests/stress/run.sh.

  check.py json RATE DC1,DC2 < stress--json-output
      per DC: latte ran at RATE (its report's conf.rate), 0 < ops_per_s <=
      110% of RATE (a loaded machine may fall below a rate, never above it),
      errors 0, 0 < p50 <= p99; exactly the DCs given; report an absolute
      directory
  check.py folder DIR JSONFILE RESULTS_ROOT
      DIR under RESULTS_ROOT; summary.json agrees with --json; DC.json are
      latte reports; report.html self-contained with two charts per DC
  check.py scenario DIR
      the run of tests/stress/run.sh step 6 (kill DC1.n2 at 10 s, heal it at
      20 s, 40 s of LOCAL_QUORUM load): both faults fired ok within 3 s of
      their time; 3 phases per DC; no error anywhere before the kill nor in
      DC2; DC1's errors (its 2 replicas at LOCAL_QUORUM: one down fails it)
      counted after the kill and equal to its total; healed at the end with
      every node UN; two markers on each of the four charts of report.html
Prints a one-line summary, exits 1 with the reason on failure.
"""
import json
import os
import re
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def check_json(rate, dcs):
    doc = json.load(sys.stdin)
    if set(doc) != {"report", "dcs"}:
        fail(f"keys {sorted(doc)}")
    if not os.path.isabs(doc["report"]) or not os.path.isdir(doc["report"]):
        fail(f"report {doc['report']!r} is not an absolute directory")
    if sorted(doc["dcs"]) != sorted(dcs):
        fail(f"dcs {sorted(doc['dcs'])}, expected {sorted(dcs)}")
    out = []
    for dc, f in sorted(doc["dcs"].items()):
        if set(f) != {"ops_per_s", "p50_ms", "p99_ms", "errors"}:
            fail(f"{dc}: keys {sorted(f)}")
        conf_rate = json.load(open(os.path.join(doc["report"], f"{dc}.json")))["conf"].get("rate")
        if conf_rate != rate:
            fail(f"{dc}: latte ran at rate {conf_rate!r}, asked {rate}")
        if not 0 < f["ops_per_s"] <= 1.1 * rate:
            fail(f"{dc}: {f['ops_per_s']} op/s for a rate of {rate}")
        if f["errors"] != 0:
            fail(f"{dc}: {f['errors']} errors")
        if not 0 < f["p50_ms"] <= f["p99_ms"]:
            fail(f"{dc}: p50 {f['p50_ms']} p99 {f['p99_ms']}")
        out.append(f"{dc} {f['ops_per_s']:.1f} op/s p50 {f['p50_ms']:.2f} ms "
                   f"p99 {f['p99_ms']:.2f} ms errors {f['errors']}")
    print("; ".join(out))


def check_folder(d, jsonfile, root):
    if os.path.dirname(d) != os.path.realpath(root):
        fail(f"{d} is not in {root}")
    cli = json.load(open(jsonfile))
    summ = json.load(open(os.path.join(d, "summary.json")))
    if summ["report"] != d or sorted(summ["dcs"]) != sorted(cli["dcs"]):
        fail("summary.json names another folder or other DCs")
    for dc, f in cli["dcs"].items():
        s = summ["dcs"][dc]
        for k in ("ops_per_s", "p50_ms", "p99_ms", "errors"):
            if abs(s[k] - f[k]) > 1e-6:
                fail(f"{dc} {k}: summary {s[k]} vs --json {f[k]}")
        if len(s["samples"]) < 5:
            fail(f"{dc}: {len(s['samples'])} samples in summary.json")
        raw = json.load(open(os.path.join(d, f"{dc}.json")))
        if raw["conf"]["connection"]["datacenter"] != dc:
            fail(f"{dc}.json is latte's report for {raw['conf']['connection']['datacenter']}")
        if "cycle_throughput" not in raw["result"]:
            fail(f"{dc}.json: no result.cycle_throughput")
    html = open(os.path.join(d, "report.html")).read()
    if re.search(r"<script|<link|<img|<iframe|src=|href=", html, re.I):
        fail("report.html loads something (script, link, src or href)")
    nsvg = html.count("<svg")
    if nsvg != 2 * len(cli["dcs"]) or html.count("<polyline") < 3 * len(cli["dcs"]):
        fail(f"report.html has {nsvg} charts for {len(cli['dcs'])} DCs")
    for dc in cli["dcs"]:
        if f"<h2>{dc}</h2>" not in html:
            fail(f"report.html has no section for {dc}")
    print(f"{os.path.basename(d)}: {' '.join(sorted(os.listdir(d)))}; summary.json = --json; "
          f"report.html {len(html)} bytes, {nsvg} inline SVG charts, nothing external")


def check_scenario(d):
    summ = json.load(open(os.path.join(d, "summary.json")))
    faults = summ.get("faults", [])
    if [f["fault"] for f in faults] != ["kill DC1.n2", "heal DC1.n2"]:
        fail(f"faults {[f.get('fault') for f in faults]}")
    for f in faults:
        if not f["ok"] or f["fired_s"] is None or abs(f["fired_s"] - f["at_s"]) > 3:
            fail(f"{f['fault']}: ok {f['ok']}, planned {f['at_s']} s, fired {f['fired_s']} s, "
                 f"error {f['error']}")
    if not summ.get("healed_at_end", "").startswith("every node healed; 4 of 4 nodes UN"):
        fail(f"healed_at_end: {summ.get('healed_at_end')!r}")
    out = []
    for dc, f in sorted(summ["dcs"].items()):
        ph = f.get("phases", [])
        if [p["after"] for p in ph] != [None, "kill DC1.n2", "heal DC1.n2"]:
            fail(f"{dc}: phases {[p['after'] for p in ph]}")
        if ph[0]["errors"] != 0 or ph[0]["samples"] < 5 or ph[0]["ops_per_s"] <= 0:
            fail(f"{dc}: before the kill {ph[0]}")
        if sum(p["errors"] for p in ph) != f["errors"]:
            fail(f"{dc}: phases add up to {sum(p['errors'] for p in ph)} errors, the DC to {f['errors']}")
        out.append(f"{dc} errors " + "/".join(str(p["errors"]) for p in ph) + " op/s " +
                   "/".join(f"{p['ops_per_s']:.0f}" for p in ph))
    if summ["dcs"]["DC2"]["errors"] != 0:
        fail(f"DC2 (nothing killed there) counted {summ['dcs']['DC2']['errors']} errors")
    if summ["dcs"]["DC1"]["errors"] == 0:
        fail("DC1 counted no error with one of its two replicas killed at LOCAL_QUORUM")
    html = open(os.path.join(d, "report.html")).read()
    marks = html.count('<g class="fault"')
    if marks != 8:
        fail(f"report.html has {marks} fault markers, expected 8")
    print(f"faults fired at {', '.join(str(f['fired_s']) for f in faults)} s; phases "
          f"(before kill/after kill/after heal): {'; '.join(out)}; {summ['healed_at_end']}")


if __name__ == "__main__":
    if sys.argv[1] == "scenario":
        check_scenario(sys.argv[2])
    elif sys.argv[1] == "json":
        check_json(float(sys.argv[2]), sys.argv[3].split(","))
    else:
        check_folder(sys.argv[2], sys.argv[3], sys.argv[4])
