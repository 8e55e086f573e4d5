#!/bin/bash
# remora-bin.sh [release|debug]: prints the path of the built remora binary.
# .cargo/config.toml builds for the host's triple explicitly (so that the
# binary can be linked statically), so cargo puts it in
# ${CARGO_TARGET_DIR:-target}/<host triple>/<profile>/remora.
set -eu
profile=${1:-release}
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$repo/$target ;; esac
host=$(rustc -vV | sed -n 's/^host: //p')
echo "$target/$host/$profile/remora"
