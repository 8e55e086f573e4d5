#!/bin/bash
# Rootless podman 4.3 with the runtime under test: a user made for the run
# (useradd; /etc/subuid and /etc/subgid ranges from useradd, newuidmap from
# uidmap), `podman --runtime $RUNTIME` as that user, private storage under
# $WORK, its XDG_RUNTIME_DIR there too. Podman runs the runtime as uid 0
# of its own user namespace (partial maps): remora's state then goes under
# $XDG_RUNTIME_DIR/remora (runc: .../runc), device nodes are bind mounts,
# and there is no cgroup on a host whose cgroups are not delegated.
# Containers get --network none: slirp4netns cannot open /dev/net/tun as
# a user on this machine (for runc alike).
# Everything goes at the end: containers, podman's pause process, the
# storage, the user and its subordinate ranges.
. "$(dirname "$0")/lib.sh"
B=$WORK
IMG=localhost/rmr-busybox:latest
U=rmrpod$$
rtname=$(basename "$RUNTIME")

# The runtime must be reachable by the user: a copy under $B.
RT=$B/bin/$rtname
# podman wants a runroot path of at most 50 characters.
R=/tmp/rmrpod.$$

P() {
	(cd "$B/u" && timeout --foreground -k 5 "${P_TIMEOUT:-60}" setpriv --reuid "$U" --regid "$U" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$B/u/home" \
		XDG_RUNTIME_DIR="$B/u/xdg" CONTAINERS_CONF="$B/u/containers.conf" \
		podman --root "$B/u/root" --runroot "$R" --tmpdir "$B/u/tmp" \
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
		--runtime "$RT" "$@")
}

setup() {
	useradd --no-create-home --shell /bin/sh "$U"
	grep -q "^$U:" /etc/subuid || usermod --add-subuids 500000-565535 --add-subgids 500000-565535 "$U"
	mkdir -p "$B/bin" "$B/u/home" "$B/u/xdg" "$B/u/root" "$R" "$B/u/tmp"
	cp "$RUNTIME" "$RT"
	chmod 755 "$B/bin" "$RT"
	chmod 700 "$B/u/xdg"
	cat >"$B/u/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
	chown -R "$U:$U" "$B/u" "$R"
	P import --change 'CMD ["/bin/sh"]' "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}

teardown() {
	local P_TIMEOUT=20 pid
	P rm -af -t 0 >/dev/null 2>&1
	P rmi -af >/dev/null 2>&1
	# podman's pause process holds its user namespace; by PID, then
	# anything else left running as the user.
	pid=$(cat "$B/u/xdg/libpod/tmp/pause.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	for p in /proc/[0-9]*; do
		[ "$(stat -c %u "$p" 2>/dev/null)" = "$(id -u "$U" 2>/dev/null)" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	umount_under "$B"
	umount_under "$R"
	rm -rf "${B:?}/u" "${B:?}/bin" "${R:?}"
	userdel "$U" 2>/dev/null
	if grep -q "^$U:" /etc/subuid /etc/subgid 2>/dev/null; then
		sed -i "/^$U:/d" /etc/subuid /etc/subgid
	fi
}
trap teardown EXIT

t_run_output() {
	local out
	out=$(P run --rm --network none "$IMG" sh -c 'echo hello-$((6*7)); id -u')
	expect_eq "stdout of rootless podman run" "hello-42
0" "$out"
	expect_match "runtime state under the user's XDG_RUNTIME_DIR" "." "$(ls -d "$B/u/xdg/$rtname" 2>/dev/null)"
}

t_exec_stop_rm() {
	P run -d --name ex --network none "$IMG" sh -c 'trap "exit 42" TERM; echo started; while :; do sleep 0.1; done' >/dev/null
	expect_eq "podman exec output" "in-exec" "$(P exec ex echo in-exec)"
	expect_rc "podman exec exit code" 7 P exec ex sh -c 'exit 7'
	expect_eq "podman exec -u 1000" "1000" "$(P exec -u 1000:1000 ex id -u)"
	P stop -t 20 ex >/dev/null
	expect_eq "exit code after SIGTERM" 42 "$(P inspect -f '{{.State.ExitCode}}' ex)"
	P rm ex >/dev/null
	expect_eq "no container left" "" "$(P ps -aq)"
	expect_eq "no runtime state left" "" "$(ls -A "$B/u/xdg/$rtname" 2>/dev/null)"
}

t_keep_id() {
	local uid out
	uid=$(id -u "$U")
	out=$(P run --rm --network none --userns=keep-id "$IMG" sh -c 'id -u; id -g; touch /tmp/x; stat -c %u /tmp/x')
	expect_eq "--userns=keep-id: the user's own uid inside" "$uid
$uid
$uid" "$out"
}

t_uidmap_file_owner() {
	# A volume the user owns; a file made by container uid 1000 lands on
	# the subordinate id podman maps it to.
	local vol=$B/u/vol sub
	mkdir -p "$vol" && chown "$U:$U" "$vol"
	P run --rm --network none -v "$vol:/vol" "$IMG" sh -c 'touch /vol/f && chown 1000:1000 /vol/f'
	sub=$(awk -F: -v u="$U" '$1 == u { print $2 }' /etc/subuid)
	expect_eq "host owner of a file chowned to 1000 inside" "$((sub + 999))" "$(stat -c %u "$vol/f")"
}

t_pause() {
	P run -d --name pa --network none "$IMG" sleep 1000 >/dev/null
	local rc=0 out
	out=$(P pause pa 2>&1) || rc=$?
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		[ $rc -eq 0 ] || fail "podman pause on cgroup v2: $out"
		P unpause pa >/dev/null
	else
		# Not delegated here: the engine or the runtime must say so.
		[ $rc -ne 0 ] || fail "podman pause worked without a cgroup"
		expect_match "pause refused clearly" 'cgroup' "$out"
	fi
	P rm -f -t 0 pa >/dev/null
}

if ! setup >"$WORK/setup.log" 2>&1; then
	record setup FAIL "rootless podman setup failed: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
	exit 0
fi
scenario run-output t_run_output
scenario exec-stop-rm t_exec_stop_rm
scenario keep-id t_keep_id
scenario uidmap-file-owner t_uidmap_file_owner
scenario pause t_pause
