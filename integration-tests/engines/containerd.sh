#!/bin/bash
# containerd 1.6 driven with ctr; the runc shim v2 calls the runtime under
# test (--runc-binary, and a PATH whose `runc` is that runtime for the ctr
# paths that drop --runc-binary). Private root/state/sockets under $WORK.
. "$(dirname "$0")/lib.sh"
B=$WORK
NS=remora-ctr-test
IMG=docker.io/library/rmr-busybox:latest
CPID=

C() { timeout -k 5 "${CTR_TIMEOUT:-60}" ctr --address "$B/containerd.sock" -n "$NS" "$@"; }
# R: `ctr run` with the runtime under test and a private runtime root.
R() { C run --runc-binary "$RUNTIME" --runc-root "$B/runc" "$@"; }

setup() {
	mkdir -p "$B/bin" "$B/runc" "$B/share"
	ln -sf "$RUNTIME" "$B/bin/runc"
	cat >"$B/config.toml" <<CONF
version = 2
root = "$B/root"
state = "$B/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$B/containerd.sock"

[ttrpc]
  address = "$B/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$B/opt"
CONF
	PATH=$B/bin:$PATH containerd --config "$B/config.toml" >"$B/containerd.log" 2>&1 &
	CPID=$!
	echo "$CPID" >"$B/containerd.pid"
	wait_for 30 C version || { cat "$B/containerd.log"; return 1; }
	C images import --base-name docker.io/library/rmr-busybox "$IMAGES/busybox-oci.tar"
}

teardown() {
	local t CTR_TIMEOUT=8
	if [ -S "$B/containerd.sock" ]; then
		for t in $(C task ls -q 2>/dev/null); do
			C task kill -a -s KILL "$t" >/dev/null 2>&1
			C task delete -f "$t" >/dev/null 2>&1
		done
		for t in $(C containers ls -q 2>/dev/null); do
			C containers delete "$t" >/dev/null 2>&1
		done
		C images rm "$IMG" >/dev/null 2>&1
	fi
	[ -n "$CPID" ] && stop_pid "$CPID"
	# shims outlive containerd by design; they exit once their task is gone
	local p
	for p in $(pgrep -f "containerd-shim-runc-v2 .*$B" 2>/dev/null); do
		kill_tree "$p"
	done
	umount_under "$B"
	run_entries_cleanup
	cgroup_rmtree "$NS"
	rm -rf "$B/root" "$B/state" "$B/opt" "$B/runc"
}
trap teardown EXIT

on_fail() {
	echo "--- containerd log (errors), last lines:"
	grep -E 'level=error' "$B/containerd.log" | tail -n 8 | cut -c1-400
}

# task_status ID: RUNNING / PAUSED / STOPPED ...
task_status() { C task ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { C task ls | awk -v id="$1" '$1 == id { print $2 }'; }

cleanup_task() {
	C task kill -a -s KILL "$1" >/dev/null 2>&1 || true
	sleep 0.2
	C task delete -f "$1" >/dev/null 2>&1 || true
	C containers delete "$1" >/dev/null 2>&1 || true
}

t_run() {
	expect_eq "output of ctr run" "hello-42" "$(R --rm "$IMG" run1 sh -c 'echo hello-$((6*7))')"
	# the container is gone afterwards
	expect_eq "containers left" "" "$(C containers ls -q)"
}

t_exit_code() {
	expect_rc "ctr run sh -c 'exit 3'" 3 R --rm "$IMG" exit1 sh -c 'exit 3'
}

t_tty() {
	local out
	out=$(in_script "ctr --address $B/containerd.sock -n $NS run --runc-binary $RUNTIME --runc-root $B/runc -t --rm $IMG tty1 tty" </dev/null 2>&1 | tr -d '\r\000') || true
	expect_match "ctr run -t: tty" '/dev/pts/[0-9]+$' "$out"
}

t_detached_lifecycle() {
	R -d "$IMG" det sh -c 'trap "exit 0" TERM; echo started; while :; do sleep 0.1; done' >/dev/null
	wait_for 10 sh -c "[ \"\$(ctr --address $B/containerd.sock -n $NS task ls | awk '\$1==\"det\"{print \$3}')\" = RUNNING ]" ||
		fail "task not RUNNING: $(C task ls)"
	# exec: output and exit code
	expect_eq "ctr task exec output" "in-exec" "$(C task exec --exec-id e1 det echo in-exec)"
	expect_rc "ctr task exec exit code" 4 C task exec --exec-id e2 det sh -c 'exit 4'
	expect_eq "exec -u via --user" "1000" "$(C task exec --user 1000 --exec-id e3 det id -u)"
	# ps: the init's host PID is listed
	local pid
	pid=$(task_pid det)
	expect_match "ctr task ps lists the init" "(^|[[:space:]])$pid([[:space:]]|\$)" "$(C task ps det)"
	# pause / resume
	C task pause det
	expect_eq "status after pause" PAUSED "$(task_status det)"
	expect_match "init frozen on the host" 'State:[[:space:]]+[SD]' "$(grep State /proc/$pid/status)"
	C task resume det
	expect_eq "status after resume" RUNNING "$(task_status det)"
	# metrics
	local m
	m=$(C task metrics det)
	expect_match "metrics: memory usage" 'memory\.usage_in_bytes[[:space:]]+[1-9][0-9]*' "$m"
	expect_match "metrics: pids" 'pids\.current[[:space:]]+[1-9]' "$m"
	# kill (SIGTERM, trapped -> exit 0), then delete
	C task kill det
	wait_for 10 sh -c "[ \"\$(ctr --address $B/containerd.sock -n $NS task ls | awk '\$1==\"det\"{print \$3}')\" = STOPPED ]" ||
		fail "task not STOPPED after SIGTERM: $(C task ls)"
	C task delete det >/dev/null
	C containers delete det
	expect_eq "tasks left" "" "$(C task ls -q)"
	[ ! -e "/proc/$pid" ] || fail "init $pid still exists"
}

t_kill_all() {
	R -d "$IMG" kall sh -c 'trap "echo init >>/tmp/usr1" USR1; while :; do sleep 0.1; done' >/dev/null
	wait_for 10 sh -c "ctr --address $B/containerd.sock -n $NS task ls | grep -q 'kall.*RUNNING'"
	C task exec -d --exec-id side kall sh -c 'trap "echo side >>/tmp/usr1" USR1; touch /tmp/side-ready; while :; do sleep 0.1; done'
	# the exec'd shell has set its trap once it made /tmp/side-ready
	local i
	for i in $(seq 50); do
		C task exec --exec-id "rdy$i" kall test -e /tmp/side-ready && break
		sleep 0.2
	done
	C task kill -a -s SIGUSR1 kall
	sleep 0.5
	local got
	got=$(C task exec --exec-id rd kall sh -c 'sort /tmp/usr1 | tr "\n" " "')
	expect_eq "processes that got SIGUSR1 from kill --all" "init side " "$got"
	C task kill -a -s SIGKILL kall || fail "ctr task kill -a -s SIGKILL failed; task: $(C task ls | grep kall)"
	wait_for 10 sh -c "ctr --address $B/containerd.sock -n $NS task ls | grep -q 'kall.*STOPPED'" || fail "not stopped: $(C task ls)"
	expect_eq "processes left in the cgroup" "" "$(cat /sys/fs/cgroup/pids/$NS/kall/cgroup.procs 2>/dev/null)"
	cleanup_task kall
}

t_limits() {
	R -d --memory-limit 67108864 --cpu-quota 50000 --cpu-period 100000 "$IMG" lim sleep 1000 >/dev/null
	local m
	m=$(C task metrics lim)
	expect_match "metrics: memory limit" 'memory\.limit_in_bytes[[:space:]]+67108864' "$m"
	expect_eq "host cgroup memory.limit_in_bytes" 67108864 "$(cat /sys/fs/cgroup/memory/$NS/lim/memory.limit_in_bytes)"
	expect_eq "host cgroup cpu.cfs_quota_us" 50000 "$(cat /sys/fs/cgroup/cpu/$NS/lim/cpu.cfs_quota_us)"
	expect_eq "host cgroup cpu.cfs_period_us" 100000 "$(cat /sys/fs/cgroup/cpu/$NS/lim/cpu.cfs_period_us)"
	expect_match "init in that cgroup" "^[0-9]+:memory:/$NS/lim\$" "$(grep ':memory:' /proc/$(task_pid lim)/cgroup)"
	cleanup_task lim
}

t_oom() {
	timeout 60 ctr --address "$B/containerd.sock" -n "$NS" events >"$B/events.log" 2>&1 &
	local ev=$!
	sleep 0.5
	expect_rc "ctr run of a container over its memory limit" 137 R --rm --memory-limit 33554432 "$IMG" oom1 sh -c 'tail /dev/zero'
	wait_for 5 grep -q '/tasks/oom' "$B/events.log" || true
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null || true
	expect_match "containerd event /tasks/oom" '/tasks/oom .*oom1' "$(cat "$B/events.log")"
}

t_uidmap() {
	# `ctr run --uidmap` drops --runc-binary: the daemon's PATH runc is the runtime under test
	C run -d --uidmap 0:300000:65536 --gidmap 0:300000:65536 "$IMG" um sleep 1000 >/dev/null
	expect_match "uid_map inside" '^ *0 +300000 +65536' "$(C task exec --exec-id m um cat /proc/self/uid_map)"
	expect_eq "uid of the init on the host" 300000 "$(stat -c %u /proc/$(task_pid um))"
	expect_eq "rootfs owner seen inside" 0 "$(C task exec --exec-id o um stat -c %u /bin/busybox)"
	cleanup_task um
}

t_seccomp_ro_bind() {
	echo from-host >"$B/share/in"
	local out
	out=$(R --rm --seccomp --read-only --mount "type=bind,src=$B/share,dst=/data,options=rbind:rw" "$IMG" sro sh -c '
		grep -E "^Seccomp:" /proc/self/status
		touch /rootfile 2>&1 || true
		cat /data/in
		echo from-container >/data/out')
	expect_match "seccomp filter mode" 'Seccomp:[[:space:]]+2' "$out"
	expect_match "read-only rootfs" 'Read-only file system' "$out"
	expect_match "bind mount readable" 'from-host' "$out"
	expect_eq "bind mount written from inside" from-container "$(cat "$B/share/out")"
}

if ! setup >"$WORK/setup.log" 2>&1; then
	record setup FAIL "containerd setup failed: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
	exit 0
fi
scenario run t_run
scenario exit-code t_exit_code
scenario tty t_tty
scenario detached-exec-ps-pause-kill t_detached_lifecycle
scenario kill-all t_kill_all
scenario limits-metrics-cgroup t_limits
scenario oom t_oom
scenario uidmap t_uidmap
scenario seccomp-readonly-bind t_seccomp_ro_bind
