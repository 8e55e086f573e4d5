#!/bin/bash
# Format, lint (clippy -D warnings on every crate and target), build, and
# the unit tests of the runtime and namespaces crates, the spec coverage
# table's test, and the check that every test target is run by a step
# (scripts/ci-coverage.sh).
set -u
cd "$(dirname "$0")/../.."
# libc6-dev: glibc's static libraries (remora is linked statically)
pkgs=(busybox-static libc6-dev)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
rc=0
cargo fmt --all -- --check || { echo "cargo fmt: run cargo fmt --all"; rc=1; }
cargo clippy --workspace --all-targets -- -D warnings 2>&1 | tail -40
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
cargo build --workspace 2>&1 | tail -5
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
run_tests "unit: remora, remora-namespaces" 900 -p remora -p remora-namespaces || rc=1
# docs/spec-coverage.md against the vendored schema and oci-spec (no root)
cargo test -p remora-integration-tests --test spec_coverage -- --nocapture 2>&1 |
	grep -E '^(test |test result)|panicked|^error|^(pending|untested|ignored)|lacks|line [0-9]+'
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
# Every test file and test target is run by some step.
scripts/ci-coverage.sh || rc=1
print_summary
exit $rc
