#!/bin/bash
# Real container engines (podman, containerd/ctr, containerd's CRI plugin,
# Docker + compose + swarm) driving remora: integration-tests/engines/.
# Every scenario runs with remora and with runc (the reference), so the table
# at the end tells a remora bug from a machine problem. ENGINES_RUNTIMES
# (space-separated; "remora" = this build) overrides that list.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(podman conmon busybox-static slirp4netns netavark aardvark-dns
	containernetworking-plugins catatonit iptables uidmap curl containerd
	docker.io docker-compose umoci skopeo jq python3-venv util-linux)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
cargo build --release -p remora || exit 1
runtimes=()
for r in ${ENGINES_RUNTIMES:-remora /usr/sbin/runc}; do
	[ "$r" = remora ] && r=$(scripts/remora-bin.sh release)
	runtimes+=(--runtime "$r")
done
VERBOSE=1 exec integration-tests/engines/run.sh "${runtimes[@]}" --engine all
