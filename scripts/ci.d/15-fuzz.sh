#!/bin/bash
# libFuzzer on config.json and process.json parsing and validation, a
# bounded time (FUZZ_SECONDS per target, default 30): scripts/fuzz.sh
# prints each target's executions and findings; any finding fails.
set -u
cd "$(dirname "$0")/../.."
# g++: libfuzzer-sys builds libFuzzer (C++).
. scripts/ci-lib.sh
need_packages g++ || exit 1
scripts/fuzz.sh
