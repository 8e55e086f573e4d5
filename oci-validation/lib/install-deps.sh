#!/bin/bash
# Installs the Debian packages the harness needs (idempotent): Go 1.19 and
# the packaged Go libraries for a GOPATH-mode build, busybox-static for the
# test rootfs, and util-linux/coreutils for unshare and timeout.
set -euo pipefail
pkgs=(golang-go
	golang-github-opencontainers-runtime-tools-dev golang-github-google-uuid-dev
	golang-gopkg-yaml.v2-dev golang-github-mrunalp-fileutils-dev
	golang-github-hashicorp-go-multierror-dev golang-github-opencontainers-specs-dev
	golang-github-opencontainers-selinux-dev golang-github-sirupsen-logrus-dev
	golang-github-urfave-cli-dev golang-github-xeipuuv-gojsonschema-dev
	golang-gocapability-dev golang-golang-x-sys-dev golang-github-blang-semver-dev
	busybox-static xz-utils util-linux coreutils ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
