#!/bin/bash
# The engine-level benchmark (not a test): end-to-end start latency and
# throughput of `docker run --rm`, `podman run --rm`, `ctr run --rm` and a
# CRI pod + container start through containerd, each with remora, runc and
# crun, interleaved, plus remora's share of the total from its phase trace.
# Run as root from anywhere:
#
#   bench/engines.sh [--n N] [--bursts N] [--burst-size N] [--trace N]
#                    [--engines docker,podman,ctr,cri] [--runtimes remora,runc,crun]
#                    [--no-doc]
#
# Installs the engines (Debian's, as integration-tests/engines does) and
# crun, builds remora (release), builds the busybox images, then runs
# bench/harness/engines.py in the cgroup v1 view (a private mount namespace
# without the host's cgroup2 mount, bench/harness/view-cgroup1.sh: crun
# refuses this host's hybrid layout, and in the cgroup2 view, which
# bench/run.sh uses, the engines' default cpu shares cannot be set: that
# cgroup2 carries only hugetlb), every daemon with private state under a
# temp dir, stopped by PID at the end. Writes its table into
# docs/benchmarks.md (the section between the engines markers) unless
# --no-doc.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/engines.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
pkgs=(runc crun podman conmon containerd docker.io umoci catatonit busybox-static
	containernetworking-plugins iptables jq python3-venv util-linux)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null
fi
cargo build --release -p remora
remora=$("$repo/scripts/remora-bin.sh" release)
work=$(mktemp -d /tmp/remora-bench-engines.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cache=${ENGINES_CACHE:-$repo/integration-tests/engines/.cache}
mkdir -p "$cache"
integration-tests/engines/image.sh "$work/image" >"$work/image.log" 2>&1 ||
	{ cat "$work/image.log"; exit 1; }
# the CRI client's gRPC stubs (PyPI), in the engine tests' venv
venv=$cache/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cri_api.v1.api_pb2, grpc' 2>/dev/null; then
	rm -rf "$venv"
	/usr/bin/python3 -m venv "$venv"
	"$venv/bin/pip" install -q container-runtime-interface-api
fi
cd bench
# In the background so that a TERM or INT reaches the harness, which then
# stops its daemons (by PID) before the temp dir goes.
unshare -m --propagation private "$repo/bench/harness/view-cgroup1.sh" \
	"$venv/bin/python" -m harness.engines --repo "$repo" --remora "$remora" \
	--work "$work" --images "$work/image" --out "$repo/docs/benchmarks.md" "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; rm -rf "$work"; exit 143' TERM INT
wait $child
