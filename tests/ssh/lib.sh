# tests/ssh/lib.sh - shared by the SSH test scripts (sourced).
# A clean login user for the test sshds: root's .bashrc may run slow tools,
# and a real deployment logs in as a normal user too. Password field `*`
# (not `!`): with UsePAM no, sshd refuses locked accounts.
cg_test_user() {
	local u=$1
	if ! id "$u" >/dev/null 2>&1; then
		useradd --system --create-home --home-dir "/var/lib/$u" --shell /bin/bash "$u"
	fi
	usermod -p '*' "$u"
	# cgnode runs through sudo, as the default user of a cloud image may
	printf '%s ALL=(root) NOPASSWD: ALL\n' "$u" >"/etc/sudoers.d/cg-test-$u"
	chmod 0440 "/etc/sudoers.d/cg-test-$u"
}
