#!/bin/bash
# Rootless remora (integration-tests/tests/rootless.rs): run by a real
# unprivileged user each test makes (useradd, /etc/subuid and /etc/subgid
# ranges; removed after), multi-range maps through newuidmap/newgidmap
# (uidmap), each scenario beside runc 1.1.5 (the remora/runc table:
# "TABLE |" lines); idmapped bind mounts. Then cgroup ownership and a
# rootless container in a delegated cgroup v2 subtree
# (integration-tests/tests/cgroup_delegation.rs) here (the v2 parts say
# SKIP on this hybrid host), in the pure cgroup v2 qemu VM, and rootless
# --systemd-cgroup in a systemd-booted VM with a lingering user. Rootless
# podman is an engine of 70-engines.sh (podman-rootless.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
. scripts/ci-lib.sh
need_packages busybox-static uidmap passwd util-linux runc || exit 1
build_remora || exit 1
rc=0
echo "--- integration-tests/tests/rootless.rs"
CI_SHOW='^TABLE' run_tests rootless.rs 600 -p remora-integration-tests --test rootless || rc=1
echo "--- integration-tests/tests/cgroup_delegation.rs (this host)"
run_tests "cgroup_delegation.rs (host)" 600 -p remora-integration-tests --test cgroup_delegation || rc=1
echo "--- integration-tests/tests/cgroup_delegation.rs (pure cgroup v2, qemu): scripts/cgroupv2-vm/run.sh"
exe=$(cargo test -p remora-integration-tests --test cgroup_delegation --no-run --message-format=json 2>/dev/null |
	grep '"test":true' | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
CGV2_TESTS="$exe" scripts/cgroupv2-vm/run.sh || rc=1
echo "--- rootless --systemd-cgroup through the user's manager (qemu, systemd): scripts/cgroupv2-vm/run-systemd-user.sh"
CGV2_TESTS="$exe" scripts/cgroupv2-vm/run-systemd-user.sh || rc=1
finish $rc
