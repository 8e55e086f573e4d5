#!/bin/bash
# Checkpoint and restore where CRIU works: Debian's kernel under qemu (the
# busybox guest of run.sh, lib.sh, pure cgroup v2) with Debian's CRIU and
# what it runs (iproute2's ip, iptables-nft with its extensions and the
# netfilter modules for the network lock) copied in from this host, and
# with CRIU_VM_RUNC=1 runc beside remora. Runs integration-tests/tests/
# checkpoint.rs inside: every scenario with remora (and with runc, as
# RUNC_BIN), then podman-criu-guest.sh (podman 4.3 and conmon from this
# host: `podman container checkpoint` / `restore` with remora, and runc,
# as the runtime), and prints the pass/fail table. Exits non-zero when
# anything failed.
#
#   sudo scripts/cgroupv2-vm/run-criu.sh          # builds the test first
#   CRIU_VM_RUNC=1 run-criu.sh                     # runc 1.1.5 too (twice as long)
#   CRIU_VM_FILTER=counter run-criu.sh             # the tests whose name has it
. "$(dirname "$0")/lib.sh"

ensure_pkgs qemu-system-x86 busybox-static cpio criu iptables iproute2 podman conmon
[ -z "${CRIU_VM_RUNC:-}" ] || ensure_pkgs runc
fetch_kernel

need_remora
tests=$(executables -p remora-integration-tests --test checkpoint)
[ -n "$tests" ] || { echo "no test binary"; exit 1; }

stage=$CACHE/initramfs-criu
# shellcheck disable=SC2086 # a list of paths
stage_guest "$stage" "$remora" $tests
# CRIU runs ip (addresses, routes) and iptables-restore (the network lock)
# by name; iproute2's ip stands where busybox would put its own (which
# cannot `save`).
cp /usr/sbin/criu "$stage/sbin/criu"
copy_libs "$stage" /usr/sbin/criu
# GNU tar too: CRIU packs tmpfs contents with options busybox's lacks.
for b in /bin/ip /bin/tar; do
	cp "$b" "$stage$b"
	copy_libs "$stage" "$b"
done
cp /usr/sbin/xtables-nft-multi "$stage/sbin/"
copy_libs "$stage" /usr/sbin/xtables-nft-multi
for t in iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save; do
	ln -s xtables-nft-multi "$stage/sbin/$t"
done
xt=/usr/lib/x86_64-linux-gnu/xtables
mkdir -p "$stage$xt" && cp -a "$xt/." "$stage$xt/"
# The modules `criu check`, the dump and the network lock need, in load
# order: the socket diag modules (CRIU finds sockets through them), veth
# (CRIU probes link namespace ids with a pair), conntrack's netlink (CRIU
# dumps a network namespace's connections), nf_tables and iptables-nft's
# compat layer for the mark match.
nf="net/unix/unix_diag net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag net/ipv4/raw_diag
	net/packet/af_packet_diag net/netlink/netlink_diag
	drivers/net/veth crypto/crc32c_generic lib/libcrc32c net/netfilter/nfnetlink
	net/ipv4/netfilter/nf_defrag_ipv4 net/ipv6/netfilter/nf_defrag_ipv6 net/netfilter/nf_conntrack
	net/netfilter/nf_conntrack_netlink net/netfilter/nf_tables net/netfilter/x_tables
	net/netfilter/nft_compat net/netfilter/xt_mark"
for m in $nf; do
	cp "$mods/$m.ko" "$stage/modules/"
done
# podman 4.3 and conmon from this host for podman-criu-guest.sh (podman
# container checkpoint / restore with remora, and runc, as the runtime):
# their configuration, an empty resolv.conf and hosts (no network: the
# scenario runs with --network none).
cp /usr/bin/podman "$stage/bin/podman"
mkdir -p "$stage/usr/bin" "$stage/usr/share" "$stage/var/tmp"
cp /usr/bin/conmon "$stage/usr/bin/conmon"
for b in /usr/bin/podman /usr/bin/conmon; do
	copy_libs "$stage" "$b"
done
cp -a /etc/containers "$stage/etc/"
cp -a /usr/share/containers "$stage/usr/share/"
: >"$stage/etc/resolv.conf"
echo "127.0.0.1 localhost" >"$stage/etc/hosts"
cp scripts/cgroupv2-vm/podman-criu-guest.sh "$stage/tests/podman-criu"
[ -z "${CRIU_VM_FILTER:-}" ] || echo "export CRIU_VM_FILTER=$CRIU_VM_FILTER" >>"$stage/env"
if [ -n "${CRIU_VM_RUNC:-}" ] && [ -x /usr/sbin/runc ]; then
	cp /usr/sbin/runc "$stage/bin/runc"
	copy_libs "$stage" /usr/sbin/runc
	echo "export RUNC_BIN=/bin/runc" >>"$stage/env"
fi
cat >"$stage/setup.sh" <<SETUP
for m in $(for m in $nf; do printf '%s ' "$(basename "$m")"; done); do
	insmod /modules/\$m.ko || echo "REMORA-VM: insmod \$m failed"
done
echo "REMORA-VM: criu: \$(criu --version | head -1), check: \$(criu check 2>&1 | grep -E 'Error|Looks good' | tr '\\n' ' ')"
echo "REMORA-VM: runc: \$([ -x /bin/runc ] && runc --version | head -1 || echo none)"
SETUP
# Here the scenarios must run: a failing `criu check` fails them.
# Without runc its tests would pass as skipped: left out of the table.
skip=--skip=runc::
[ -z "${CRIU_VM_RUNC:-}" ] || skip=
echo "export REMORA_VM_TEST_ARGS=\"--show-output $skip ${CRIU_VM_FILTER:-}\" REMORA_CRIU_REQUIRED=1" >>"$stage/env"
initrd=$CACHE/initrd-criu.gz
pack "$stage" "$initrd"

log=$CACHE/console-criu.log
boot "$initrd" "$log" "${CGV2_TIMEOUT:-400}" "rdinit=/init cgroup_no_v1=all"
grep -E 'REMORA-VM: (criu|runc|insmod)|^checkpoint on' "$log.txt" | sed 's/.*REMORA-VM:/REMORA-VM:/' | sort | uniq -c || true
report "$log.txt"
