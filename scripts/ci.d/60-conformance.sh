#!/bin/bash
# OCI runtime-tools conformance suite against remora (issue #6): builds
# remora (release) and the suite (from Debian's packages), runs all 58
# validation programs isolated with a per-test timeout, and checks the
# results against oci-validation/expected-failures.txt (host and test
# reasons). Bring-up mode: tests in oci-validation/remora-baseline.txt must
# keep passing and listed expected failures must keep failing; remora's
# other failures are reported as "not yet passing". Details and status:
# docs/conformance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
oci-validation/lib/install-deps.sh
cargo build --release -p remora
target=${CARGO_TARGET_DIR:-target}
exec oci-validation/run.sh --runtime "$target/release/remora" --out "$target/conformance" \
	--timeout 40 --budget 240 --check --baseline oci-validation/remora-baseline.txt
