#!/bin/bash
# Coverage-guided fuzzing (libFuzzer) of config.json and process.json
# parsing and validation: fuzz/fuzz_targets/{config_json,process_json}.rs.
# Built on stable Rust with the instrumentation cargo-fuzz uses (sancov
# through -Cpasses/-Cllvm-args, no sanitizer: -Zsanitizer needs nightly),
# so no other toolchain is needed. Each target runs FUZZ_SECONDS (default
# 30) from the seed corpus fuzz/seeds/<target> (configs as remora spec,
# Docker, containerd, CRI-O/CRI, podman and runtime-tools make them) plus,
# when installed, podman's and Docker's default seccomp profiles put into
# a config. Prints the executions and the findings of each target; a
# finding (a crash, a panic, an error message past remora's cap) is saved
# under fuzz/artifacts/<target>/ and fails the run.
set -u
cd "$(dirname "$0")/../fuzz"
secs=${FUZZ_SECONDS:-30}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --bins >build.log 2>&1 || { tail -30 build.log; exit 1; }
rm -f build.log
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Real seccomp profiles (from the seccomp CI step's packages), as configs.
extra="$work/extra"
mkdir -p "$extra"
n=0
for prof in /usr/share/gocode/src/github.com/containers/common/pkg/seccomp/seccomp.json \
	/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json; do
	[ -f "$prof" ] || continue
	n=$((n + 1))
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["linux"]["seccomp"]=json.load(open(sys.argv[2])); json.dump(c,open(sys.argv[3],"w"))' \
		seeds/config_json/remora-spec.json "$prof" "$extra/profile-$n.json"
done
rc=0
for t in config_json process_json; do
	mkdir -p "$work/$t" "artifacts/$t"
	seeds=(seeds/$t)
	[ "$t" = config_json ] && seeds+=("$extra")
	"$bin/$t" "$work/$t" "${seeds[@]}" -max_total_time="$secs" -max_len=262144 \
		-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="artifacts/$t/" >"$work/$t.log" 2>&1
	code=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$work/$t.log" | tail -1)
	found=$(find "artifacts/$t" -type f | wc -l)
	echo "fuzz $t: ${runs:-0} executions in ${secs} s, ${cov:-cov: ?} edges, corpus $(ls "$work/$t" | wc -l) new inputs, $found findings (exit $code)"
	if [ "$code" -ne 0 ] || [ "$found" -ne 0 ]; then
		rc=1
		grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$work/$t.log" | head -20
		find "artifacts/$t" -type f | head
	fi
done
exit $rc
