# tests/cli/hostile.sh - sourced by run.sh (uses its setup, cg, check, ...):
# files the operator names and values that reach a printed shell command are
# handled as hostile: links are not followed, quotes and $( ) stay data.

# --- plan --out FILE: never through a link, never onto a non-file -------------
setup planout
echo precious >outside
ln -s "$T/outside" p.link
out=$(cg plan MonoDC --out p.link 2>&1); rc=$?
check_out "plan --out onto a symbolic link: refused (64), naming the file" $rc 64 \
	"refusing to write the plan to p.link: it is a symbolic link"
check "... the link's target is unchanged" [ "$(cat outside)" = precious ]
check "... the link is still a link to it" [ "$(readlink p.link)" = "$T/outside" ]
check "... no temporary file left beside it" bash -c "! compgen -G 'p.link.tmp*' >/dev/null"
mkfifo p.fifo
out=$(cg plan MonoDC --out p.fifo 2>&1); rc=$?
check_out "plan --out onto a FIFO (or a device): refused (64)" $rc 64 "not a regular file"
check "... the FIFO is still there" [ -p p.fifo ]
# a link planted at the temp name the writer once used (FILE.tmp.PID; exec
# keeps the pid of the shell that planted it): not followed
bash -c 'ln -s "$1/outside" "p2.tmp.$$" && exec "$2" plan MonoDC --out p2 </dev/null >/dev/null' \
	_ "$T" "$BIN"; rc=$?
check "plan --out with a link planted at a temp name: written (rc $rc)" grep -q '^cassandgo-plan 1' p2
check "... the planted link's target is unchanged" [ "$(cat outside)" = precious ]
check "... the saved plan is 0600" [ "$(stat -c %a p2)" = 600 ]
check "... and a plain file replaced by a new plan stays 0600" \
	bash -c "echo old >p3 && chmod 644 p3 && '$BIN' plan MonoDC --out p3 </dev/null >/dev/null && [ \$(stat -c %a p3) = 600 ] && grep -q '^cassandgo-plan 1' p3"

# --- printed ssh/cqlsh commands parse to the intended argv ---------------------
# A state directory with a space, a quote and $( ) in its path, and recorded
# addresses holding the same: each printed command, read by bash (ours, then
# the node's for what ssh runs there), gives back the values, runs nothing.
setup "it's a \$(touch pwned-path) dir"
cg apply --auto-approve MonoDC >/dev/null
BADIP="10.10.0.3 \$(touch pwned-remote) 'x\"y"
BADPUB="198.51.0.3 \$(touch pwned-local)'"
python3 - "$BADIP" "$BADPUB" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(".cassandgo/state.db")
(attrs,) = db.execute("select attrs from resources where addr='machine.DC1.n1'").fetchone()
a = json.loads(attrs)
for kv in a:
    if kv[0] == "private_ip": kv[1] = sys.argv[1]
    if kv[0] == "public_ip": kv[1] = sys.argv[2]
db.execute("update resources set attrs=? where addr='machine.DC1.n1'", (json.dumps(a),))
db.commit()
PY
cg output MonoDC --json >out.json; rc=$?
field() { python3 -c 'import json,sys; print(json.load(open("out.json"))["nodes"][0][sys.argv[1]])' "$1"; }
ssh_cmd=$(field ssh) cql_cmd=$(field cqlsh)
# bash parses the printed text exactly as a pasted command line would be
mapfile -t sargv < <(bash -c "printf '%s\n' $ssh_cmd")
mapfile -t cargv < <(bash -c "printf '%s\n' $cql_cmd")
check "output: the ssh command's known_hosts path is one argument, intact" \
	[ "${sargv[6]-}" = "UserKnownHostsFile=$T/.cassandgo/MonoDC/known_hosts" ]
check "output: the ssh command's destination is the recorded address, intact" \
	[ "${sargv[-1]-}" = "ubuntu@$BADPUB" ]
if [ "${cargv[0]-}" = ssh ]; then	# cqlsh run on the node, over ssh
	check "output: cqlsh = the ssh command + -t + one remote command" \
		bash -c '[ "$1" = "$2" ]' _ "$(printf '%s\n' "${cargv[@]:0:${#sargv[@]}}" -t)" \
		"$(printf '%s\n' "${sargv[@]}" "${cargv[${#sargv[@]}]-}")"
	check "... whose words on the node are: cqlsh, the address, 9042" \
		[ "$(bash -c "printf '%s\n' ${cargv[-1]-}")" = "$(printf '%s\n' cqlsh "$BADIP" 9042)" ]
else					# cqlsh run here, straight to the node
	check "output: cqlsh here, its last words the node's address and 9042" \
		bash -c '[ "$1" = cqlsh ] && { [ "$2" = "$4" ] || [ "$2" = "$5" ]; } && [ "$3" = 9042 ]' \
		_ "${cargv[0]-}" "${cargv[-2]-}" "${cargv[-1]-}" "$BADIP" "$BADPUB"
fi
check "... and nothing ran while parsing them" bash -c "! compgen -G 'pwned*' >/dev/null && ! compgen -G '../pwned*' >/dev/null"
