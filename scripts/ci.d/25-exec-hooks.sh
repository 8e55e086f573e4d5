#!/bin/bash
# exec, terminals/stdio, hooks and features: the integration tests
# integration-tests/tests/{exec,terminal,hooks,features}.rs against the
# built remora (the debug build, or $REMORA_BIN), then a sweep that
# nothing is left on the host. A failing test fails the step, and the
# failing tests are listed with their panic messages; a test that skips
# is counted apart (scripts/ci-lib.sh).
set -u
cd "$(dirname "$0")/../.."
pkgs=(busybox-static util-linux libc-bin)
dpkg -s "${pkgs[@]}" >/dev/null 2>&1 ||
	apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null || exit 1
cargo build -p remora >/dev/null 2>&1 || { echo "cargo build -p remora failed"; exit 1; }
. scripts/ci-lib.sh
rc=0
run_it_files exec terminal hooks features || rc=1
finish $rc
