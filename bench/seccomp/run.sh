#!/bin/bash
# Seccomp benchmark (not a test): compile time and per-syscall overhead of
# remora's filter beside libseccomp's for Docker's and podman's default
# profiles. Run as root from anywhere: bench/seccomp/run.sh
set -eu
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q python3-seccomp golang-github-containers-common golang-github-docker-docker-dev >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The OCI profiles as the engines hand them over (converted by the test helper).
REMORA_SECCOMP_EXPORT_DIR="$work" cargo test -q --release -p remora-seccomp --test differential -- --ignored export_engine_profiles >/dev/null
/usr/bin/python3 seccomp/tests/libseccomp_ref.py "$work"
for p in docker-default podman-default; do
	echo "== $p"
	/usr/bin/python3 - "$work/$p.json" <<'PY'
import json, sys, time, importlib.util
spec = importlib.util.spec_from_file_location("ref", "seccomp/tests/libseccomp_ref.py")
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
p = json.load(open(sys.argv[1]))
n = 200
t = time.perf_counter()
for _ in range(n):
    ref.enosys_stub(p) + ref.libseccomp_program(p)
print("libseccomp compile (python3-seccomp, as runc drives it, incl. export): %.1f us per profile" % ((time.perf_counter() - t) * 1e6 / n))
PY
	cargo run -q --release -p remora-seccomp --example bench -- "$work/$p.json" "$work/$p.bpf"
done
