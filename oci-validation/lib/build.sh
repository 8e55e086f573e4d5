#!/bin/bash
# Builds the runtime-tools validation suite into $1/bin: a static
# runtimetest, one <name>.t per validation/<name>/<name>.go, and
# rootfs-amd64.tar.gz. Go 1.19 in GOPATH mode against Debian's packaged Go
# libraries; the extracted source comes first in GOPATH so it shadows the
# older packaged copy of runtime-tools, and tap-go is this harness's own.
# Skips the work when a build with the same inputs is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$1
bin=$build/bin
stamp_want=$(cat "$here/lib/build.sh" "$here/lib/make-rootfs.sh" "$here/tap-go/tap.go" | sha256sum | cut -d' ' -f1)
if [ -f "$bin/.stamp" ] && [ "$(cat "$bin/.stamp")" = "$stamp_want" ]; then
	exit 0
fi

"$here/lib/install-deps.sh"
"$here/lib/fetch-source.sh" "$build/src"

gopath=$build/gopath
rt=$gopath/src/github.com/opencontainers/runtime-tools
rm -rf "$gopath" "$bin"
mkdir -p "$rt" "$gopath/src/github.com/mndrix/tap-go" "$bin"
tar -C "$rt" --strip-components=1 -xJf "$build"/src/*.orig.tar.xz
cp "$here/tap-go/tap.go" "$gopath/src/github.com/mndrix/tap-go/tap.go"

export GO111MODULE=off CGO_ENABLED=0 GOFLAGS=
export GOPATH=$gopath:/usr/share/gocode
export GOCACHE=$build/gocache
cd "$rt"
version=$(cat VERSION)
go build -tags "netgo osusergo" -ldflags "-X main.version=$version" -o "$bin/runtimetest" ./cmd/runtimetest
n=0
for src in validation/*/*.go; do
	name=$(basename "$src" .go)
	[ "$(basename "$(dirname "$src")")" = "$name" ] || continue
	go build -o "$bin/$name.t" "$src"
	n=$((n + 1))
done
"$here/lib/make-rootfs.sh" "$bin/rootfs-amd64.tar.gz"
echo "built runtimetest and $n validation programs in $bin" >&2
echo "$stamp_want" >"$bin/.stamp"
