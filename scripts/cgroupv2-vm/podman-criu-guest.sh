#!/bin/sh
# Inside run-criu.sh's VM (busybox sh, run as a /tests/ entry, its libtest
# arguments ignored): `podman container checkpoint` / `restore` of a
# counter container with remora as podman's runtime (and with runc when
# the VM has /bin/runc). Prints libtest-like lines ("test NAME ... ok" /
# "... FAILED") for report's table; exits non-zero when a scenario failed.
IMG=localhost/rmr-busybox:latest
B=/tmp/podman
rc=0
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp" "$B/root" "$B/runroot" "$B/tmp"
cat >"$B/containers.conf" <<CONF
[containers]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
P() {
	(cd "$B" && CONTAINERS_CONF=$B/containers.conf timeout -k 5 120 podman --root "$B/root" \
		--runroot "$B/runroot" --tmpdir "$B/tmp" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend file --runtime "$RUNTIME" "$@")
}
# The highest count the container logged.
last_count() {
	P logs "$1" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1
}
fail() {
	echo "podman-criu: $RUNTIME: $*"
	return 1
}
scenario() {
	c=counter
	# shellcheck disable=SC2016 # expanded by the container's shell
	P run -d --name $c --network none "$IMG" sh -c \
		'echo start; i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done' >/dev/null ||
		{ fail "podman run -d failed"; return 1; }
	n=0
	while [ "$(last_count $c)" = "" ] || [ "$(last_count $c)" -lt 5 ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || { fail "no count reached 5: $(P logs $c 2>&1 | tail -3)"; return 1; }
		sleep 0.1
	done
	P container checkpoint $c || { fail "podman container checkpoint failed"; return 1; }
	st=$(P inspect -f '{{.State.Status}}' $c)
	[ "$st" = exited ] || { fail "after checkpoint: status $st, want exited"; return 1; }
	before=$(last_count $c)
	sleep 1
	[ "$(last_count $c)" = "$before" ] || { fail "the count moved while checkpointed"; return 1; }
	P container restore $c || { fail "podman container restore failed"; return 1; }
	P ps --format '{{.Names}} {{.Status}}' | grep -q "^$c Up" ||
		{ fail "not running after restore: $(P ps -a --format '{{.Names}} {{.Status}}')"; return 1; }
	n=0
	while [ "$(last_count $c)" -le $((before + 3)) ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || { fail "the count did not continue after $before: $(P logs $c 2>&1 | tail -3)"; return 1; }
		sleep 0.1
	done
	starts=$(P logs $c | grep -c '^start$')
	zeros=$(P logs $c | grep -c '^0$')
	if [ "$starts" != 1 ] || [ "$zeros" != 1 ]; then
		fail "the container restarted instead of continuing ($starts starts, $zeros zeros)"
		return 1
	fi
	echo "podman-criu: $RUNTIME: counted to $before, checkpointed, restored, counted on to $(last_count $c)"
	P rm -f -t 0 $c >/dev/null || { fail "podman rm -f failed"; return 1; }
	[ -z "$(P ps -aq)" ] || { fail "containers left: $(P ps -a)"; return 1; }
}
cp /bin/busybox "$B/rootfs/bin/busybox"
for a in sh echo sleep cat; do ln -s busybox "$B/rootfs/bin/$a"; done
tar -C "$B/rootfs" -cf "$B/rootfs.tar" .
for RUNTIME in /bin/remora /bin/runc; do
	[ -x "$RUNTIME" ] || continue
	name=podman::$(basename $RUNTIME)::checkpoint_restore_counter
	case "$name" in *"${CRIU_VM_FILTER:-}"*) ;; *) continue ;; esac
	P import -q --change 'CMD ["/bin/sh"]' "$B/rootfs.tar" "$IMG" >/dev/null ||
		{ echo "podman-criu: podman import failed"; }
	if scenario; then
		echo "test $name ... ok"
	else
		for l in "$B"/root/overlay-containers/*/userdata/*.log; do
			[ -f "$l" ] || continue
			echo "podman-criu: $l:"
			grep -E 'Error|Warn' "$l" | tail -20
		done
		P rm -af -t 0 >/dev/null 2>&1
		echo "test $name ... FAILED"
		rc=1
	fi
	# Nothing left: no container process, no libpod cgroup.
	P rmi -af >/dev/null 2>&1
	left=$(pidof conmon sleep)
	[ -z "$left" ] || { echo "podman-criu: left running: $left"; rc=1; }
done
exit $rc
