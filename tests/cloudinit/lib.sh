# tests/cloudinit/lib.sh - what tests/deps.d/cloudinit.sh builds and
# tests/cloudinit/run.sh uses: one definition, so the test can tell a stale
# or missing root from a good one.

# Another Debian suite (its own cached root): CASSANDGO_CLOUDINIT_SUITE=trixie
# (cloud-init 25.1, near Ubuntu 24.04's) for a manual run.
CG_CI_SUITE=${CASSANDGO_CLOUDINIT_SUITE:-bookworm}
CG_CI_ROOT=${CASSANDGO_CLOUDINIT_ROOT:-/var/cache/cassandgo/cloudinit-root-$CG_CI_SUITE}
CG_CI_STAMP=.cassandgo-cloudinit-root
# cloud-init and what an Ubuntu 24.04 cloud image has that the user-data
# relies on: sshd (host keys), nftables (default there) and iptables (the
# fallback, as on 22.04), sudo (the default user's rule).
CG_CI_PACKAGES=(cloud-init openssh-server nftables iptables sudo)

# The recipe the root was built from; a different one means rebuild.
cg_ci_recipe() {
	printf 'suite=%s\npackages=%s\nrecipe=1\n' "$CG_CI_SUITE" "${CG_CI_PACKAGES[*]}"
}
