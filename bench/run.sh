#!/bin/bash
# The benchmark (not a test): remora beside runc 1.1.5 and crun 1.8.1 from
# Debian. Run as root from anywhere:   bench/run.sh [--reps N] [--par-reps N]
# Installs what it needs, builds remora (release), measures in two views
# (host and cgroup2, see docs/benchmarks.md), prints the tables and writes
# docs/benchmarks.md. About 5 minutes on the 2-core test machine.
# --baseline BIN adds another remora binary (an earlier commit's build) as
# remora-base, so that remora/remora-base is what a change costs.
# --baseline unprotected builds this commit without the runtime binary's
# protection (REMORA_UNPROTECTED=bench-only, runtime/build.rs) as
# remora-base: remora/remora-base is then what the protection costs.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
pkgs="runc crun busybox-static strace linux-perf util-linux jq gcc libc6-dev python3 golang-github-docker-docker-dev"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q $pkgs >/dev/null
fi
cargo build --release -p remora
args=()
while [ $# -gt 0 ]; do
	if [ "$1" = --baseline ] && [ "${2:-}" = unprotected ]; then
		REMORA_UNPROTECTED=bench-only CARGO_TARGET_DIR="$repo/target/unprotected" \
			cargo build --release -p remora
		base=$(CARGO_TARGET_DIR="$repo/target/unprotected" scripts/remora-bin.sh release)
		"$base" --version | grep -q '^protection: OFF' || { echo "bench/run.sh: $base is protected" >&2; exit 1; }
		args+=(--baseline "$base")
		shift 2
	else
		args+=("$1")
		shift
	fi
done
set -- "${args[@]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -static -Wall -o "$work/runstat" bench/harness/runstat.c
cd bench
/usr/bin/python3 -m harness.bench --repo "$repo" --remora "$("$repo/scripts/remora-bin.sh" release)" \
	--runstat "$work/runstat" --out "$repo/docs/benchmarks.md" "$@"
