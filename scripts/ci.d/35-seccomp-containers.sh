#!/bin/bash
# Seccomp in real containers (integration-tests/tests/seccomp.rs): podman's
# default profile (Debian's containers-common), a MASKED_EQ rule, a NOTIFY
# rule answered through linux.seccomp.listenerPath.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
dpkg -s golang-github-containers-common >/dev/null 2>&1 ||
	apt-get -o DPkg::Lock::Timeout=600 install -y -q golang-github-containers-common >/dev/null || exit 1
. scripts/ci-lib.sh
build_remora || exit 1
rc=0
run_tests seccomp.rs 600 -p remora-integration-tests --test seccomp || rc=1
print_summary
exit $rc
