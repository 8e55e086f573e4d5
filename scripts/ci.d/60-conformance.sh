#!/bin/bash
# OCI runtime-tools conformance suite against remora (issue #6): builds
# remora (release) and the suite (from Debian's packages), runs all 58
# validation programs with a per-test timeout, and compares the results with
# oci-validation/expected-failures.txt (fails on a new failure or on a listed
# test that now passes). Details: docs/conformance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
oci-validation/lib/install-deps.sh
cargo build --release -p remora
exec oci-validation/run.sh --runtime target/release/remora --out target/conformance \
	--timeout 40 --budget 240 --check
