# tests/cloudinit/lib.sh - what tests/deps.d/cloudinit.sh builds and
# tests/cloudinit/run.sh uses: one definition, so the test can tell a stale
# or missing root from a good one.

# The Debian suites whose cloud-init boots the user-data: bookworm's 22.4
# (the brief's reference) and trixie's 25.1 (near what Ubuntu's LTS images
# run today: Ubuntu updates cloud-init in place). One cached root each.
CG_CI_SUITES=${CASSANDGO_CLOUDINIT_SUITES:-bookworm trixie}
CG_CI_STAMP=.cassandgo-cloudinit-root
# cloud-init and what an Ubuntu cloud image has that the user-data relies
# on: sshd (host keys), nftables (default on 24.04) and iptables (the
# fallback, as on 22.04), sudo (the default user's rule).
CG_CI_PACKAGES=(cloud-init openssh-server nftables iptables sudo)

cg_ci_root() {	# SUITE
	echo "${CASSANDGO_CLOUDINIT_CACHE:-/var/cache/cassandgo}/cloudinit-root-$1"
}

# The recipe a root was built from; a different one means rebuild.
cg_ci_recipe() {	# SUITE
	printf 'suite=%s\npackages=%s\nrecipe=1\n' "$1" "${CG_CI_PACKAGES[*]}"
}
