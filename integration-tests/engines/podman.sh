#!/bin/bash
# podman 4.3 (conmon, netavark, slirp4netns) with the runtime under test:
# `podman --runtime $RUNTIME`, cgroupfs manager, private state under $WORK.
. "$(dirname "$0")/lib.sh"
B=$WORK
IMG=localhost/rmr-busybox:latest
SUBNET_DEFAULT=10.213.0.0/24
SUBNET_BRIDGE=10.213.1.0/24
BRIDGE=rmrpod1
PORT_BRIDGE=18931
PORT_SLIRP=18932
ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)

P() {
	# conmon drops an "oom" marker file in its cwd: keep that inside $B.
	(cd "$B" && CONTAINERS_CONF=$B/containers.conf timeout --foreground -k 5 "${P_TIMEOUT:-60}" podman --root "$B/root" --runroot "$B/runroot" \
		--tmpdir "$B/tmp" --storage-driver overlay --cgroup-manager cgroupfs \
		--events-backend file --runtime "$RUNTIME" "$@")
}

setup() {
	mkdir -p "$B/root" "$B/runroot" "$B/tmp" "$B/networks"
	# podman runs conmon and the runtime with RLIMIT_NPROC 32768 (seen here),
	# and without CAP_SYS_RESOURCE nothing may ask for more.
	local nproc
	nproc=$(ulimit -Hu)
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
	cat >"$B/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
network_config_dir = "$B/networks"
default_subnet = "$SUBNET_DEFAULT"
CONF
	P import --change 'CMD ["/bin/sh"]' "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}

teardown() {
	local P_TIMEOUT=20
	P rm -af -t 0 >/dev/null 2>&1
	P network rm -f rmrnet >/dev/null 2>&1
	P rmi -af >/dev/null 2>&1
	umount_under "$B"
	cgroup_rmtree libpod_parent
	iptables_drop_chains filter 'NETAVARK[A-Za-z0-9_-]*'
	iptables_drop_chains nat 'NETAVARK[A-Za-z0-9_-]*'
	ip link del podman0 2>/dev/null
	ip link del "$BRIDGE" 2>/dev/null
	echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
	rm -rf "$B/root" "$B/runroot" "$B/tmp"
}
trap teardown EXIT

# A long-running container that reports signals and exits 42 on SIGTERM.
start_sleeper() {
	P run -d --name "$1" "${@:2}" "$IMG" sh -c \
		'trap "echo got TERM; exit 42" TERM; trap "echo got USR1" USR1; echo started; while :; do sleep 0.1; done' >/dev/null
	local i
	for i in $(seq 50); do
		[ "$(P inspect -f '{{.State.Status}}' "$1")" = running ] && return 0
		sleep 0.1
	done
	fail "container $1 is not running: $(P inspect -f '{{.State.Status}} {{.State.Error}}' "$1")"
}

t_run_output() {
	local out
	out=$(P run --rm "$IMG" sh -c 'echo hello-$((6*7)); cat /etc/hostname >/dev/null; echo err >&2')
	expect_eq "stdout of podman run" "hello-42" "$out"
}

t_exit_code() {
	expect_rc "podman run sh -c 'exit 3'" 3 P run --rm "$IMG" sh -c 'exit 3'
	expect_rc "podman run missing binary" 127 P run --rm "$IMG" /nonexistent
}

t_stdin() {
	local out
	out=$(printf 'line1\nline2\n' | P run --rm -i "$IMG" sh -c 'wc -l')
	expect_eq "lines read from stdin by podman run -i" "2" "$(echo $out)"
}

t_tty() {
	local out
	out=$(in_script "$(declare -f P); B=$B RUNTIME=$RUNTIME P run --rm -t $IMG tty" </dev/null 2>&1 | tr -d '\r') || true
	expect_match "podman run -t: tty" '^/dev/pts/[0-9]+' "$out"
}

t_tty_interactive() {
	local out rc=0
	out=$(printf 'echo hi-$((1+2))\nexit 5\n' | in_script "$(declare -f P); B=$B RUNTIME=$RUNTIME P run --rm -it $IMG sh" | tr -d '\r') || rc=$?
	expect_match "podman run -it: shell output" 'hi-3' "$out"
	expect_eq "podman run -it exit status" 5 "$rc"
}

t_detached_ps_logs() {
	start_sleeper det
	expect_match "podman ps" 'det' "$(P ps --format '{{.Names}} {{.Status}}')"
	wait_for 5 sh -c "$(declare -f P); B=$B RUNTIME=$RUNTIME P logs det | grep -q started"
	expect_match "podman logs" '^started' "$(P logs det)"
	P rm -f -t 0 det >/dev/null
}

t_exec() {
	start_sleeper ex
	expect_rc "podman exec exit code" 7 P exec ex sh -c 'exit 7'
	expect_eq "podman exec output" "in-exec" "$(P exec ex echo in-exec)"
	expect_eq "podman exec -u 1000" "1000:1000" "$(P exec -u 1000:1000 ex sh -c 'echo $(id -u):$(id -g)')"
	expect_eq "podman exec -u user (by name)" "1000" "$(P exec -u user ex id -u)"
	expect_eq "podman exec -e" "bar" "$(P exec -e FOO=bar ex sh -c 'echo $FOO')"
	expect_eq "podman exec -w" "/var/www" "$(P exec -w /var/www ex pwd)"
	local out
	out=$(in_script "$(declare -f P); B=$B RUNTIME=$RUNTIME P exec -t ex tty" </dev/null 2>&1 | tr -d '\r') || true
	expect_match "podman exec -t" '^/dev/pts/[0-9]+' "$out"
	expect_rc "podman exec missing binary" 127 P exec ex /nonexistent
	P rm -f -t 0 ex >/dev/null
}

t_top() {
	P run -d --name top "$IMG" sleep 1000 >/dev/null
	local out
	out=$(P top top)
	expect_match "podman top" 'sleep 1000' "$out"
	P rm -f -t 0 top >/dev/null
}

t_stats() {
	P run -d --name st --memory 64m "$IMG" sleep 1000 >/dev/null
	local out
	out=$(P stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st)
	expect_match "podman stats" '^st [0-9.]+[kKMG]?i?B / 67\.1[0-9]*MB 1$' "$out"
	P rm -f -t 0 st >/dev/null
}

t_pause_unpause() {
	P run -d --name pa "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.1; done' >/dev/null
	sleep 0.5
	P pause pa >/dev/null
	expect_eq "state after pause" paused "$(P inspect -f '{{.State.Status}}' pa)"
	local a b
	a=$(cat "$(P inspect -f '{{.GraphDriver.Data.MergedDir}}' pa)/tmp/count")
	sleep 0.6
	b=$(cat "$(P inspect -f '{{.GraphDriver.Data.MergedDir}}' pa)/tmp/count")
	expect_eq "counter while paused" "$a" "$b"
	P unpause pa >/dev/null
	expect_eq "state after unpause" running "$(P inspect -f '{{.State.Status}}' pa)"
	sleep 0.6
	b=$(P exec pa cat /tmp/count)
	[ "$b" -gt "$a" ] || fail "counter did not advance after unpause ($a -> $b)"
	P rm -f -t 0 pa >/dev/null
}

t_stop_sigterm() {
	start_sleeper sto
	local t0=$SECONDS
	P stop -t 20 sto >/dev/null
	[ $((SECONDS - t0)) -lt 10 ] || fail "podman stop took $((SECONDS - t0))s: SIGTERM not delivered"
	expect_eq "exit code after SIGTERM trap" 42 "$(P inspect -f '{{.State.ExitCode}}' sto)"
	expect_match "logs" 'got TERM' "$(P logs sto)"
	P rm -f -t 0 sto >/dev/null
}

t_kill_signal() {
	start_sleeper ki
	P kill -s USR1 ki >/dev/null
	wait_for 5 sh -c "$(declare -f P); B=$B RUNTIME=$RUNTIME P logs ki | grep -q 'got USR1'" || fail "USR1 not seen in logs: $(P logs ki)"
	expect_eq "still running after USR1" running "$(P inspect -f '{{.State.Status}}' ki)"
	P kill -s KILL ki >/dev/null
	P wait ki >/dev/null || true
	expect_eq "exit code after SIGKILL" 137 "$(P inspect -f '{{.State.ExitCode}}' ki)"
	P rm -f -t 0 ki >/dev/null
}

t_restart() {
	start_sleeper re
	local pid1 pid2
	pid1=$(P inspect -f '{{.State.Pid}}' re)
	P restart -t 10 re >/dev/null
	expect_eq "state after restart" running "$(P inspect -f '{{.State.Status}}' re)"
	pid2=$(P inspect -f '{{.State.Pid}}' re)
	[ "$pid1" != "$pid2" ] || fail "same PID $pid1 after restart"
	wait_for 5 sh -c "$(declare -f P); B=$B RUNTIME=$RUNTIME P logs re | grep -c started | grep -q 2" ||
		fail "expected two 'started' lines in logs: $(P logs re)"
	P rm -f -t 0 re >/dev/null
}

t_oom() {
	local rc=0
	P run --rm --memory 32m --memory-swap 32m "$IMG" sh -c 'tail /dev/zero' >/dev/null 2>&1 || rc=$?
	expect_eq "exit status of an OOM-killed container" 137 "$rc"
}

t_oom_flag() {
	P run --name oom --memory 32m --memory-swap 32m "$IMG" sh -c 'sleep 0.5; tail /dev/zero' >/dev/null 2>&1 || true
	local flag
	flag=$(P inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' oom)
	P rm -f oom >/dev/null
	# OOMKilled comes from conmon watching the v1 memory cgroup, not from the
	# runtime: conmon 2.1.6 creates "oom" in its cwd and podman 4.3 does not
	# read it there, so the flag stays false with runc as well.
	[ "$flag" != "137 false" ] || skip "exit 137 seen, but State.OOMKilled=false: conmon 2.1 writes its OOM marker to its own cwd, where podman 4.3 does not look (same with runc)"
	expect_eq "exit code and State.OOMKilled" "137 true" "$flag"
}

t_pids_limit() {
	local out
	out=$(P run --rm --pids-limit 10 "$IMG" sh -c 'cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 20); do sleep 3 & done 2>&1; wait' 2>&1 || true)
	expect_match "pids.max inside" '^10$' "$(echo "$out" | head -n1)"
	expect_match "fork refused past the limit" "can't fork|Resource temporarily unavailable" "$out"
}

t_cpus() {
	local out
	out=$(P run --rm --cpus 0.1 "$IMG" sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us; timeout 2 sh -c "while :; do :; done"; grep nr_throttled /sys/fs/cgroup/cpu/cpu.stat')
	expect_eq "cfs period/quota" "100000 10000" "$(echo "$out" | head -n2 | tr '\n' ' ' | sed 's/ $//')"
	local thr
	thr=$(echo "$out" | awk '/nr_throttled/ { print $2 }')
	[ "${thr:-0}" -gt 0 ] || fail "a busy loop was never throttled (nr_throttled=$thr)"
}

t_readonly_capdrop() {
	local out
	out=$(P run --rm --read-only --cap-drop all "$IMG" sh -c '
		touch /rootfile 2>&1 && echo rootfs-writable
		touch /tmp/ok && echo tmp-writable
		grep CapEff /proc/self/status
		chown 1000 /tmp/ok 2>&1 || echo chown-denied')
	expect_match "rootfs read-only" 'Read-only file system' "$out"
	expect_nomatch "rootfs not writable" 'rootfs-writable' "$out"
	expect_match "/tmp stays writable" 'tmp-writable' "$out"
	expect_match "no effective capabilities" 'CapEff:[[:space:]]+0000000000000000' "$out"
	expect_match "chown denied without CAP_CHOWN" 'chown-denied' "$out"
}

t_init() {
	local out
	out=$(P run --rm --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$')
	expect_match "PID 1 is podman's init" 'init' "$(echo "$out" | head -n1)"
	[ "$(echo "$out" | tail -n1)" != 1 ] || fail "the command is PID 1 despite --init"
	P run -d --name ini --init "$IMG" sleep 1000 >/dev/null
	local t0=$SECONDS
	P stop -t 20 ini >/dev/null
	[ $((SECONDS - t0)) -lt 10 ] || fail "stop took $((SECONDS - t0))s: init did not forward SIGTERM"
	P rm -f -t 0 ini >/dev/null
}

t_uidmap() {
	P run -d --name um --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$IMG" sleep 1000 >/dev/null
	expect_match "uid_map inside" '^ *0 +200000 +65536' "$(P exec um cat /proc/self/uid_map)"
	expect_eq "uid inside" 0 "$(P exec um id -u)"
	local pid
	pid=$(P inspect -f '{{.State.Pid}}' um)
	expect_eq "uid of the process on the host" 200000 "$(stat -c %u /proc/$pid)"
	expect_eq "file owner seen inside" "1000" "$(P exec um stat -c %u /home/user)"
	P stop -t 0 um >/dev/null
	# podman 4.3 races its own exit cleanup (conmon's `podman container
	# cleanup`) when removing a user-namespaced container: about 1 `rm` in 10
	# fails with "unlinkat .../userdata/shm: device or resource busy", with
	# runc as often as with remora. The second `rm` finds the cleanup done.
	# Sometimes that failed `rm` has removed the container after all.
	local err id
	id=$(P inspect -f '{{.Id}}' um)
	if ! err=$(P rm um 2>&1 >/dev/null); then
		[[ $err == *"userdata/shm: device or resource busy"* ]] || fail "podman rm: $err"
		sleep 1
		P rm --ignore um >/dev/null
	fi
	expect_eq "container after rm" "" "$(P ps -aq --filter name=um)"
	[ ! -e "$B/root/overlay-containers/$id" ] || fail "userdata of $id left after rm"
}

# The runtime named in containers.conf (docs/engines/podman.md):
# [engine.runtimes] remora = [PATH] and [engine] runtime = "remora", no
# --runtime on the command line; then `--runtime remora` by name. conmon
# is started with that path (-r), and podman records the name.
t_containers_conf_runtime() {
	sed "s|^\[engine\]|[engine]\nruntime = \"remora\"|" "$B/containers.conf" >"$B/containers-named.conf"
	printf '\n[engine.runtimes]\nremora = ["%s"]\n' "$RUNTIME" >>"$B/containers-named.conf"
	PN() {
		(cd "$B" && CONTAINERS_CONF=$B/containers-named.conf timeout --foreground -k 5 60 podman --root "$B/root" \
			--runroot "$B/runroot" --tmpdir "$B/tmp" --storage-driver overlay --cgroup-manager cgroupfs \
			--events-backend file "$@")
	}
	expect_eq "podman run with the containers.conf runtime" named-ok "$(PN run --rm "$IMG" echo named-ok)"
	PN run -d --name cfrt "$IMG" sleep 1000 >/dev/null
	expect_eq "OCIRuntime recorded" remora "$(PN inspect -f '{{.OCIRuntime}}' cfrt)"
	local conmon id
	id=$(PN inspect -f '{{.Id}}' cfrt)
	conmon=$(pgrep -af "conmon .*$id" | head -n 1)
	expect_match "conmon runs the configured path" "-r $RUNTIME " "$conmon"
	PN rm -f -t 0 cfrt >/dev/null
	expect_eq "podman --runtime remora (by name)" by-name "$(PN --runtime remora run --rm "$IMG" echo by-name)"
}

t_import_run() {
	P import --change 'CMD ["/bin/sh", "-c", "echo imported-ok"]' "$IMAGES/rootfs.tar" localhost/rmr-imported >/dev/null
	expect_eq "run of the imported image" imported-ok "$(P run --rm localhost/rmr-imported)"
	P rmi localhost/rmr-imported >/dev/null
}

t_bridge_port() {
	P network create --subnet "$SUBNET_BRIDGE" rmrnet >/dev/null
	# podman 4.3 cannot name the bridge on the command line; netavark reads
	# it from the network's file, so give it a name private to this test.
	local f=$B/networks/rmrnet.json
	jq --arg b "$BRIDGE" '.network_interface = $b' "$f" >"$f.new" && mv "$f.new" "$f"
	P run -d --name web --network rmrnet -p "127.0.0.1:$PORT_BRIDGE:8080" "$IMG" httpd -f -p 8080 -h /var/www >/dev/null
	expect_match "container address on the bridge" 'inet 10\.213\.1\.' "$(P exec web ip -4 addr show eth0)"
	local out
	wait_for 10 curl -sf "http://127.0.0.1:$PORT_BRIDGE/" || true
	out=$(curl -s --max-time 5 "http://127.0.0.1:$PORT_BRIDGE/")
	expect_eq "page through the published port" "hello from remora engines test" "$out"
	P rm -f -t 0 web >/dev/null
	P network rm rmrnet >/dev/null
}

t_slirp4netns() {
	P run -d --name sl --network slirp4netns -p "127.0.0.1:$PORT_SLIRP:8080" "$IMG" httpd -f -p 8080 -h /var/www >/dev/null
	expect_match "slirp tap device" 'tap0' "$(P exec sl ip -o link)"
	expect_match "slirp address" 'inet 10\.0\.2\.100' "$(P exec sl ip -4 addr)"
	local out
	wait_for 10 curl -sf "http://127.0.0.1:$PORT_SLIRP/" || true
	out=$(curl -s --max-time 5 "http://127.0.0.1:$PORT_SLIRP/")
	expect_eq "page through slirp4netns port forwarding" "hello from remora engines test" "$out"
	P rm -f -t 0 sl >/dev/null
}

# podman container checkpoint / restore (CRIU through the runtime). Where
# `criu check` fails (Debian's CRIU 3.17 on this development host's kernel)
# the checkpoint fails, the container runs on, and remora's error names
# CRIU's check; where it passes (the qemu VM: integration-tests/tests/
# checkpoint.rs) the container is checkpointed and restored.
t_checkpoint() {
	command -v criu >/dev/null || skip "no criu installed (scripts/ci.d/50-criu.sh installs it)"
	start_sleeper ck
	local out
	if criu check >/dev/null 2>&1; then
		P container checkpoint ck >/dev/null || fail "podman container checkpoint failed"
		expect_eq "status after checkpoint" exited "$(P inspect -f '{{.State.Status}}' ck)"
		P container restore ck >/dev/null || fail "podman container restore failed"
		expect_eq "status after restore" running "$(P inspect -f '{{.State.Status}}' ck)"
	else
		if out=$(P container checkpoint ck 2>&1); then
			fail "podman container checkpoint succeeded although criu check fails"
		fi
		echo "podman container checkpoint: $out"
		case ${RUNTIME##*/} in
		remora) expect_match "podman's error" 'criu check failed' "$out" ;;
		esac
		expect_eq "status after the failed checkpoint" running "$(P inspect -f '{{.State.Status}}' ck)"
	fi
	P rm -f -t 0 ck >/dev/null
}

if ! setup >"$WORK/setup.log" 2>&1; then
	record setup FAIL "podman setup failed: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
	exit 0
fi
scenario run-output t_run_output
scenario exit-code t_exit_code
scenario stdin t_stdin
scenario tty t_tty
scenario tty-interactive t_tty_interactive
scenario detached-ps-logs t_detached_ps_logs
scenario exec t_exec
scenario top t_top
scenario stats t_stats
scenario pause-unpause t_pause_unpause
scenario stop-sigterm t_stop_sigterm
scenario kill-signal t_kill_signal
scenario restart t_restart
scenario oom-137 t_oom
scenario oom-killed-flag t_oom_flag
scenario pids-limit t_pids_limit
scenario cpus t_cpus
scenario readonly-capdrop t_readonly_capdrop
scenario init t_init
scenario uidmap t_uidmap
scenario containers-conf-runtime t_containers_conf_runtime
scenario import-run t_import_run
scenario bridge-port t_bridge_port
scenario slirp4netns t_slirp4netns
scenario checkpoint t_checkpoint
