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
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
build_remora || exit 1
rc=0
run_it_files exec terminal hooks features || rc=1
finish $rc
