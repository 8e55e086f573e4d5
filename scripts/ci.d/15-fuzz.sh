#!/bin/bash
# libFuzzer on config.json and process.json parsing and validation, a
# bounded time (FUZZ_SECONDS per target, default 30): scripts/fuzz.sh
# prints each target's executions and findings; any finding fails.
set -u
cd "$(dirname "$0")/../.."
# g++: libfuzzer-sys builds libFuzzer (C++).
dpkg -s g++ >/dev/null 2>&1 ||
	apt-get -o DPkg::Lock::Timeout=600 install -y -q g++ >/dev/null || exit 1
scripts/fuzz.sh
