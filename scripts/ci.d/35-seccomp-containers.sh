#!/bin/bash
# Seccomp in real containers (integration-tests/tests/seccomp.rs): podman's
# default profile (Debian's containers-common), a MASKED_EQ rule, a NOTIFY
# rule answered through linux.seccomp.listenerPath.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
dpkg -s golang-github-containers-common >/dev/null 2>&1 ||
	apt-get -o DPkg::Lock::Timeout=600 install -y -q golang-github-containers-common >/dev/null || exit 1
cargo build -p remora >/dev/null 2>&1 || { echo "cargo build -p remora failed"; exit 1; }
out=$(timeout 600 cargo test -p remora-integration-tests --test seccomp 2>&1)
rc=$?
echo "$out" | grep -E '^(test |test result)|panicked|^error'
[ $rc -eq 0 ] || echo "$out" | grep -A20 -- '---- ' | head -60
exit $rc
