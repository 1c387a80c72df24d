# Load (issue 13), on a live Lab of its own (10.85.0.0/16):
#   make check-stress   apply; a bad --dc refused with nothing changed; a
#                       10 s stress at 200 op/s per DC through real latte in
#                       client namespaces (figures, --json vs summary.json,
#                       report.html, the password in no result and no `ps`
#                       line); a killed stress's namespace removed by destroy;
#                       results kept after destroy; report.html in headless
#                       chromium; a scenario (run: a node killed and healed
#                       under load, markers, phases, all UN after). About 5
#                       minutes.
.PHONY: check-stress
CHECKS += check-stress
LAB_CHECKS += check-stress

check-stress: cassandgo cassandra
	@tests/stress/run.sh ./cassandgo
