#!/bin/bash
# OCI runtime-tools conformance suite against remora: builds
# remora (release) and the suite (from Debian's packages), runs all 58
# validation programs isolated with a per-test timeout, and checks the
# results against oci-validation/expected-failures.txt: the step fails when
# a test outside the list fails, a listed one passes (unless marked flaky),
# or a listed one fails without its listed signature. Details and status:
# docs/conformance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
oci-validation/lib/install-deps.sh
cargo build --release -p remora
target=${CARGO_TARGET_DIR:-target}
exec oci-validation/run.sh --runtime "$(scripts/remora-bin.sh release)" --out "$target/conformance" \
	--timeout 40 --budget 240 --check
