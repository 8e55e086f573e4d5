#!/bin/bash
# remora-seccomp: unit tests, the differential test against libseccomp
# (python3-seccomp, as runc drives it), bad-input tests and the in-kernel
# tests (Docker's default profile, NOTIFY through listenerPath). Needs root.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
# python3-seccomp: the reference compiler; containers-common ships podman's
# default profile, golang-github-docker-docker-dev Docker's.
apt-get install -y -q python3-seccomp golang-github-containers-common golang-github-docker-docker-dev >/dev/null || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Release build: the differential test runs ~50 million filter inputs.
cargo test --release -p remora-seccomp -- --nocapture --test-threads=1 >"$log" 2>&1
rc=$?
grep -E '^(test |[0-9]+ profiles|DISAGREEMENT|test result|error)|panicked' "$log"
[ $rc -eq 0 ] || tail -50 "$log"
exit $rc
