#!/usr/bin/env bash
# make check-ops-cli: the operator's commands through the test provider (no
# network: the fake cloud's addresses are never contacted). What `output`
# prints is checked against the state it reads; the commands that need SSH
# refuse in a build whose nodes are not reachable; usage errors are 64.
# usage: tests/ops/cli.sh BINARY (build/cassandgo-test)
set -u
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/cg-opscli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; printf '%s\n' "${out:-}" | tail -5 | sed 's/^/    | /'; }
cg() { "$BIN" "$@" </dev/null; }
cd "$WORK" || exit 1
cp "$ROOT/cassandgo.yaml" .
export CG_FAKE_WORLD=$WORK/world CASSANDGO_ALLOWED_CIDRS=203.0.113.0/24
unset CG_FAKE_FAIL CG_FAKE_CRASH_AFTER CG_FAKE_SLEEP_MS CG_FAKE_EMPTY_REFRESH

out=$(cg output MonoDC 2>&1); rc=$?
[ $rc = 1 ] && grep -q "run 'cassandgo apply MonoDC' first" <<<"$out" &&
	ok "output before any apply: exit 1, says to apply" || bad "output before apply (rc $rc)"
out=$(cg output Nope 2>&1); rc=$?
[ $rc = 64 ] && grep -q "known clusters: MonoDC, MultiDC" <<<"$out" && ok "output of an unknown cluster: 64, names the known ones" || bad "output Nope (rc $rc)"

out=$(cg apply --auto-approve MultiDC 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^Apply complete!' <<<"$out" && ! grep -q 'Intra-Cluster' <<<"$out"; then
	ok "apply through the test provider: no report (its nodes are not reachable)"
else
	bad "apply MultiDC (rc $rc)"
fi

cg output MultiDC --json >out.json 2>err; rc=$?
cg state show MultiDC --json >state.json
if [ $rc = 0 ] && r=$(python3 - <<'PY'
import json, os, shlex
out = json.load(open("out.json"))
res = [r for c in json.load(open("state.json"))["clusters"] for r in c["resources"]]
m = {r["address"]: r for r in res if r["kind"] == "machine"}
keys = {r["region"]: r["resource"]["attributes"]["key_file"] for r in res if r["kind"] == "keypair"}
nodes = out["nodes"]
assert [n["name"] for n in nodes] == [f"DC{d}.n{i}" for d in (1, 2, 3) for i in range(1, 6)], [n["name"] for n in nodes]
for n in nodes:
    r = m["machine." + n["name"]]
    a = r["resource"]["attributes"]
    argv = shlex.split(n["ssh"])
    # absolute paths: the command works from any directory
    want = ["ssh", "-i", keys[r["region"]], "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=" + os.getcwd() + "/.cassandgo/MultiDC/known_hosts",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlias=" + r["resource"]["id"],
            "-o", "StrictHostKeyChecking=yes", "-p", "22", "ubuntu@" + a["public_ip"]]
    assert argv == want, (argv, want)
    assert (n["private_ip"], n["public_ip"], n["zone"]) == (a["private_ip"], a["public_ip"], a["zone"]), n
    # security on (the default): cqlsh here, TLS to the address the node's
    # certificate names, with the cluster's cqlshrc (CA + credentials file)
    sec = out["security"]
    assert sec["tls"] and sec["auth"] and sec["user"] == "cassandgo", sec
    for k in ("ca_file", "password_file", "cqlshrc"):
        assert sec[k].startswith(os.getcwd() + "/.cassandgo/MultiDC/"), (k, sec[k])
    assert shlex.split(n["cqlsh"]) == ["cqlsh", "--cqlshrc=" + sec["cqlshrc"], a["public_ip"], "9042"], n["cqlsh"]
dc1 = m["machine.DC1.n1"]["resource"]["attributes"]
assert out["monitoring_url"] == f"http://{dc1['public_ip']}:9090", out["monitoring_url"]
print(f"{len(nodes)} nodes: ssh argv pinned to the recorded id/key/address, cqlsh over TLS with the cluster's cqlshrc, monitoring {out['monitoring_url']}")
PY
); then ok "output --json matches the state: $r"; else out=$(cat err); bad "output --json (rc $rc)"; fi

out=$(cg output MultiDC 2>&1); rc=$?
[ $rc = 0 ] && grep -q "^How to connect to MultiDC's nodes..." <<<"$out" && grep -q '^\[DC3\] us-west-1' <<<"$out" &&
	grep -q '^Node 5 (' <<<"$out" && grep -q '^Monitoring (Prometheus)' <<<"$out" &&
	ok "output (text): per DC, per node, monitoring" || bad "output text (rc $rc)"

for c in status latency; do
	out=$(cg $c MultiDC 2>&1); rc=$?
	[ $rc = 1 ] && grep -q "cannot reach nodes over SSH" <<<"$out" &&
		ok "$c in the test build: exit 1, says why (nothing contacted)" || bad "$c (rc $rc)"
done
out=$(cg ssh MultiDC 2>&1); rc=$?
[ $rc = 64 ] && ok "ssh without NODE: 64" || bad "ssh without node (rc $rc)"
out=$(cg ssh MultiDC DC1-n1 2>&1); rc=$?
[ $rc = 64 ] && grep -q "not a node" <<<"$out" && ok "ssh with a malformed NODE: 64" || bad "ssh DC1-n1 (rc $rc)"
out=$(cg ssh MultiDC DC9/1 2>&1); rc=$?
[ $rc = 64 ] && grep -q "has no node DC9.n1" <<<"$out" && ok "ssh to a node not recorded: 64" || bad "ssh DC9/1 (rc $rc)"
out=$(cg cqlsh MultiDC DC1.n6 2>&1); rc=$?
[ $rc = 64 ] && ok "cqlsh to a node not recorded: 64" || bad "cqlsh DC1.n6 (rc $rc)"
out=$(cg status --help 2>&1); rc=$?
[ $rc = 0 ] && grep -q "Exit 0 when every configured node" <<<"$out" && ok "status --help documents the exit code" || bad "status --help"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
