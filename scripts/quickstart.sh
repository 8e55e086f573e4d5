#!/bin/bash
# The newcomer's first command, as root on a fresh Debian 12 machine:
# installs what is needed, builds remora, makes a busybox bundle in
# ./bundle and runs a container that prints a line from inside it.
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# libc6-dev: glibc's static libraries (remora is linked statically)
if ! dpkg -s busybox-static libc6-dev >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q busybox-static libc6-dev >/dev/null
fi
cargo build --release -p remora
rm -rf bundle
remora=$(scripts/remora-bin.sh release)
scripts/make-bundle.sh bundle "$remora"
# Print from inside: the hostname and pid namespace are the container's.
sed -i 's|"sh"$|"sh", "-c", "echo \\"hello from $(hostname), I am pid $$ in my own pid namespace\\""|' bundle/config.json
"$remora" run -b bundle quickstart-$$
