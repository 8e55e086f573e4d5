#!/bin/bash
# Downloads the runtime-tools source tarball (Debian source package, pinned
# version and sha256) into $1 using a private apt configuration: its own
# sources list, lists and cache, so the system's apt state is untouched.
# The archive URI is taken from the system's own apt configuration.
set -euo pipefail
dest=$1
pkg=golang-github-opencontainers-runtime-tools
ver=0.9.0.109.ge931285-1
orig=${pkg}_0.9.0.109.ge931285.orig.tar.xz
sha=203989a1ea98cf2aaced79155bbda09270b20db19b03376dde91ab12e5e6a0fe

mkdir -p "$dest"
if [ -f "$dest/$orig" ] && echo "$sha  $dest/$orig" | sha256sum -c --quiet - 2>/dev/null; then
	exit 0
fi

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
	awk -v c="$codename" '$2 == c { print $1; exit }')
if [ -z "$uri" ]; then
	echo "fetch-source: no apt repository for suite $codename in the system's apt configuration" >&2
	exit 1
fi

apt_dir=$(mktemp -d)
trap 'rm -rf "$apt_dir"' EXIT
mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,parts}
key=/usr/share/keyrings/debian-archive-keyring.gpg
for suite in trixie sid; do
	echo "deb-src [signed-by=$key] $uri $suite main"
done >"$apt_dir/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o "Dir::Etc::SourceParts=$apt_dir/parts"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o "APT::Sandbox::User=root")
apt-get "${opts[@]}" -qq update
# The .dsc of this version may 404; only the .orig.tar.xz is needed, so the
# exit status is judged by the checksum below.
(cd "$apt_dir" && apt-get "${opts[@]}" -qq source --download-only "$pkg=$ver" >/dev/null 2>&1) || true
if [ ! -f "$apt_dir/$orig" ]; then
	echo "fetch-source: $orig was not downloaded (source package $pkg=$ver)" >&2
	exit 1
fi
echo "$sha  $apt_dir/$orig" | sha256sum -c --quiet -
mv "$apt_dir/$orig" "$dest/$orig"
