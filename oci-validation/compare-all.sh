#!/bin/bash
# Regenerates the remora / runc / crun comparison of docs/conformance.md:
# runs the suite against each (crun without the cgroup2 mount, as it needs
# on this host) into oci-validation/.out/{remora,runc,crun} and prints the
# markdown table with the totals (the runs' output: .out/<runtime>.log).
#   oci-validation/compare-all.sh [REMORA_BINARY]   (default: the release build, scripts/remora-bin.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
remora=${1:-$("$here/../scripts/remora-bin.sh" release)}
out=$here/.out
mkdir -p "$out"
"$here/run.sh" --runtime "$remora" --out "$out/remora" >"$out/remora.log" 2>&1 || true
"$here/run.sh" --runtime /usr/sbin/runc --out "$out/runc" >"$out/runc.log" 2>&1 || true
"$here/run.sh" --runtime /usr/bin/crun --hide-cgroup2 --out "$out/crun" >"$out/crun.log" 2>&1 || true
"$here/compare.sh" remora="$out/remora" runc="$out/runc" crun="$out/crun"
