#!/bin/bash
# Docker Engine 20.10 (Debian docker.io) with the runtime under test added
# as "remora" and made the default runtime in daemon.json (so docker-compose
# and swarm tasks use it too). Private data/exec roots and socket under $WORK; dockerd runs
# its own containerd and is stopped by its PID.
. "$(dirname "$0")/lib.sh"
B=$WORK
IMG=rmr-busybox:latest
CGPARENT=/remora-docker-test
NET_BRIDGE=rmrdkr1
NET_COMPOSE=rmrcmp0
NET_GW=rmrgw0
DPID=
ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT_DOCKER:-60}

# Debian's 20.10 client (the newer /usr/local/bin/docker is first in PATH)
D() { DOCKER_HOST=unix://$B/docker.sock timeout -k 5 "${D_TIMEOUT:-120}" /usr/bin/docker "$@"; }
DC() { DOCKER_HOST=unix://$B/docker.sock timeout -k 5 120 docker-compose "$@"; }
# DR: docker run with the runtime under test named explicitly
DR() { D run --runtime remora "$@"; }

setup() {
	mkdir -p "$B/data" "$B/exec" "$B/compose"
	# the configuration docs/engines/docker.md gives: remora added in
	# daemon.json's "runtimes" and made the "default-runtime" there
	jq -n --arg p "$RUNTIME" '{runtimes: {remora: {path: $p}}, "default-runtime": "remora"}' >"$B/daemon.json"
	DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd --config-file "$B/daemon.json" \
		--data-root "$B/data" --exec-root "$B/exec" --pidfile "$B/dockerd.pid" \
		-H "unix://$B/docker.sock" --bridge none --iptables=false \
		--ip-forward=false --ip-masq=false --userland-proxy=false \
		--storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "$CGPARENT" \
		>"$B/dockerd.log" 2>&1 &
	DPID=$!
	wait_for 60 D version || { tail -n 20 "$B/dockerd.log"; return 1; }
	D import --change 'CMD ["/bin/sh"]' "$IMAGES/rootfs.tar" "$IMG" >/dev/null
}

teardown() {
	local D_TIMEOUT=20
	if [ -n "$DPID" ] && [ -S "$B/docker.sock" ]; then
		D service rm rmrsvc >/dev/null 2>&1
		D swarm leave --force >/dev/null 2>&1
		DC -p rmrcmp -f "$B/compose/docker-compose.yml" down -t 1 >/dev/null 2>&1
		local ids
		ids=$(D ps -aq 2>/dev/null)
		[ -z "$ids" ] || D rm -f $ids >/dev/null 2>&1
		D network rm rmrnet docker_gwbridge >/dev/null 2>&1
	fi
	[ -n "$DPID" ] && stop_pid "$DPID" 30
	local p
	for p in $(pgrep -f "containerd.*$B" 2>/dev/null); do
		kill_tree "$p"
	done
	umount_under "$B"
	run_entries_cleanup
	cgroup_rmtree "${CGPARENT#/}"
	ip link del "$NET_BRIDGE" 2>/dev/null
	ip link del "$NET_COMPOSE" 2>/dev/null
	ip link del "$NET_GW" 2>/dev/null
	echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
	rm -rf "$B/data" "$B/exec"
}
trap teardown EXIT

on_fail() {
	echo "--- dockerd log (errors), last lines:"
	grep -E 'level=error' "$B/dockerd.log" | tail -n 8 | cut -c1-400
}

start_sleeper() {
	DR -d --name "$1" "${@:2}" "$IMG" sh -c \
		'trap "echo got TERM; exit 42" TERM; trap "echo got USR1" USR1; echo started; while :; do sleep 0.1; done' >/dev/null
	wait_for 10 sh -c "[ \"\$(DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker inspect -f '{{.State.Status}}' $1)\" = running ]" ||
		fail "container $1 not running: $(D inspect -f '{{.State.Status}} {{.State.Error}}' "$1")"
}
logs_have() { wait_for "${3:-5}" sh -c "DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker logs $1 2>&1 | grep -q '$2'"; }

t_run() {
	expect_eq "stdout of docker run" "hello-42" "$(DR --name r1 "$IMG" sh -c 'echo hello-$((6*7))')"
	expect_eq "runtime recorded by docker" remora "$(D inspect -f '{{.HostConfig.Runtime}}' r1)"
	D rm r1 >/dev/null
}

# "default-runtime": "remora" in daemon.json: a plain `docker run` (no
# --runtime) runs on the runtime under test, which answers `state` for the
# container under dockerd's runtime root.
t_default_runtime() {
	D run -d --name dflt "$IMG" sleep 1000 >/dev/null
	expect_eq "runtime recorded for a plain docker run" remora "$(D inspect -f '{{.HostConfig.Runtime}}' dflt)"
	local id st
	id=$(D inspect -f '{{.Id}}' dflt)
	st=$("$RUNTIME" --root "$B/exec/runtime-runc/moby" state "$id")
	expect_eq "state from the runtime under test" running "$(echo "$st" | jq -r .status)"
	D rm -f dflt >/dev/null
}

t_exit_code() {
	expect_rc "docker run sh -c 'exit 3'" 3 DR --rm "$IMG" sh -c 'exit 3'
	expect_rc "docker run missing binary" 127 DR --rm "$IMG" /nonexistent
}

t_interactive_tty() {
	local out rc=0
	out=$(printf 'tty\necho hi-$((1+2))\nexit 5\n' | in_script "DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker run --runtime remora --rm -it $IMG sh" | tr -d '\r') || rc=$?
	expect_match "docker run -it: a tty" '/dev/pts/[0-9]+' "$out"
	expect_match "docker run -it: shell output" 'hi-3' "$out"
	expect_eq "docker run -it exit status" 5 "$rc"
}

t_exec() {
	start_sleeper ex
	expect_rc "docker exec exit code" 4 D exec ex sh -c 'exit 4'
	expect_eq "docker exec -u" "1000" "$(D exec -u 1000 ex id -u)"
	expect_eq "docker exec -e" "bar" "$(D exec -e FOO=bar ex sh -c 'echo $FOO')"
	expect_eq "docker exec -w" "/var/www" "$(D exec -w /var/www ex pwd)"
	local out
	out=$(in_script "DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker exec -it ex tty" </dev/null 2>&1 | tr -d '\r') || true
	expect_match "docker exec -it" '/dev/pts/[0-9]+' "$out"
	D rm -f ex >/dev/null
}

t_top() {
	DR -d --name top "$IMG" sleep 1000 >/dev/null
	expect_match "docker top" 'sleep 1000' "$(D top top)"
	D rm -f top >/dev/null
}

t_stats() {
	DR -d --name st --memory 64m "$IMG" sleep 1000 >/dev/null
	local out
	out=$(D stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st)
	expect_match "docker stats" '^st [0-9.]+[kKMG]?i?B / 64MiB 1$' "$out"
	D rm -f st >/dev/null
}

t_pause() {
	DR -d --name pa "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.1; done' >/dev/null
	sleep 0.5
	D pause pa >/dev/null
	expect_eq "state after pause" "paused true" "$(D inspect -f '{{.State.Status}} {{.State.Paused}}' pa)"
	local a b
	a=$(D cp pa:/tmp/count - | tar -xO)
	sleep 0.6
	b=$(D cp pa:/tmp/count - | tar -xO)
	expect_eq "counter while paused" "$a" "$b"
	D unpause pa >/dev/null
	sleep 0.6
	b=$(D exec pa cat /tmp/count)
	[ "$b" -gt "$a" ] || fail "counter did not advance after unpause ($a -> $b)"
	D rm -f pa >/dev/null
}

t_update() {
	DR -d --name up --memory 64m --memory-swap 64m "$IMG" sleep 1000 >/dev/null
	D update --memory 128m --memory-swap 128m --cpu-quota 50000 --cpu-period 100000 --pids-limit 30 up >/dev/null
	expect_eq "memory limit inside after update" 134217728 "$(D exec up cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
	expect_eq "cpu quota inside after update" 50000 "$(D exec up cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
	expect_eq "pids.max inside after update" 30 "$(D exec up cat /sys/fs/cgroup/pids/pids.max)"
	expect_eq "docker inspect after update" "134217728 50000" "$(D inspect -f '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}}' up)"
	D rm -f up >/dev/null
}

t_stop() {
	start_sleeper sto
	local t0=$SECONDS
	D stop -t 20 sto >/dev/null
	[ $((SECONDS - t0)) -lt 10 ] || fail "docker stop took $((SECONDS - t0))s: SIGTERM not delivered"
	expect_eq "exit code after SIGTERM trap" 42 "$(D inspect -f '{{.State.ExitCode}}' sto)"
	expect_match "logs" 'got TERM' "$(D logs sto)"
	D rm -f sto >/dev/null
}

t_kill() {
	start_sleeper ki
	D kill -s USR1 ki >/dev/null
	logs_have ki 'got USR1' || fail "USR1 not seen: $(D logs ki)"
	expect_eq "running after USR1" running "$(D inspect -f '{{.State.Status}}' ki)"
	D kill ki >/dev/null
	D wait ki >/dev/null || true
	expect_eq "exit code after docker kill" 137 "$(D inspect -f '{{.State.ExitCode}}' ki)"
	D rm -f ki >/dev/null
}

t_restart() {
	start_sleeper re
	local pid1 pid2
	pid1=$(D inspect -f '{{.State.Pid}}' re)
	D restart -t 10 re >/dev/null
	expect_eq "state after restart" running "$(D inspect -f '{{.State.Status}}' re)"
	pid2=$(D inspect -f '{{.State.Pid}}' re)
	[ "$pid1" != "$pid2" ] || fail "same PID after restart"
	wait_for 5 sh -c "DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker logs re | grep -c started | grep -q 2" ||
		fail "expected two 'started' lines: $(D logs re)"
	D rm -f re >/dev/null
}

t_oom() {
	local rc=0
	DR --name oom --memory 32m --memory-swap 32m "$IMG" sh -c 'tail /dev/zero' >/dev/null 2>&1 || rc=$?
	expect_eq "exit status of an OOM-killed container" 137 "$rc"
	expect_eq "State.OOMKilled" true "$(D inspect -f '{{.State.OOMKilled}}' oom)"
	D rm -f oom >/dev/null
}

t_pids_limit() {
	local out
	out=$(DR --rm --pids-limit 10 "$IMG" sh -c 'echo max=$(cat /sys/fs/cgroup/pids/pids.max); for i in $(seq 20); do sleep 3 & done 2>&1; wait' 2>&1 || true)
	expect_match "pids.max inside" '^max=10$' "$out"
	expect_match "fork refused past the limit" "can't fork|Resource temporarily unavailable" "$out"
}

t_seccomp_default() {
	local out
	out=$(DR --rm "$IMG" sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1 && echo unshare-allowed || echo unshare-denied')
	expect_match "seccomp filter on" 'Seccomp:[[:space:]]+2' "$out"
	expect_match "docker's default profile refuses unshare(CLONE_NEWUSER)" 'unshare-denied' "$out"
	out=$(DR --rm --security-opt seccomp=unconfined "$IMG" sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1 && echo unshare-allowed || echo unshare-denied')
	expect_match "no filter with seccomp=unconfined" 'Seccomp:[[:space:]]+0' "$out"
	expect_match "unshare allowed without the profile" 'unshare-allowed' "$out"
}

t_init() {
	local out
	out=$(DR --rm --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$')
	expect_match "PID 1 is docker-init" 'docker-init' "$(echo "$out" | head -n1)"
	[ "$(echo "$out" | tail -n1)" != 1 ] || fail "the command is PID 1 despite --init"
	DR -d --name ini --init "$IMG" sleep 1000 >/dev/null
	local t0=$SECONDS
	D stop -t 20 ini >/dev/null
	[ $((SECONDS - t0)) -lt 10 ] || fail "stop took $((SECONDS - t0))s: init did not forward SIGTERM"
	D rm -f ini >/dev/null
}

t_host_network() {
	expect_eq "host network namespace" "$(readlink /proc/self/ns/net)" "$(DR --rm --network host "$IMG" readlink /proc/self/ns/net)"
}

t_bridge_network() {
	D network create --subnet 10.213.3.0/24 -o "com.docker.network.bridge.name=$NET_BRIDGE" rmrnet >/dev/null
	DR -d --name web --network rmrnet --init "$IMG" httpd -f -p 8080 -h /var/www >/dev/null
	local out
	out=$(DR --rm --network rmrnet "$IMG" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do timeout 5 wget -qO- http://web:8080/ && exit 0; sleep 0.5; done; exit 1')
	expect_eq "page fetched by name over the user-defined bridge" "hello from remora engines test" "$out"
	D rm -f web >/dev/null
	D network rm rmrnet >/dev/null
}

t_import_run() {
	D import --change 'CMD ["/bin/sh", "-c", "echo imported-ok"]' "$IMAGES/rootfs.tar" rmr-imported >/dev/null
	expect_eq "run of the imported image" imported-ok "$(DR --rm rmr-imported)"
	D rmi rmr-imported >/dev/null
}

t_compose() {
	cat >"$B/compose/docker-compose.yml" <<YML
version: "2.4"
services:
  web:
    image: $IMG
    command: httpd -f -p 8080 -h /var/www
    init: true
  client:
    image: $IMG
    depends_on: [web]
    command: sh -c 'for i in \$\$(seq 20); do timeout 5 wget -qO- http://web:8080/ && exit 0; sleep 0.5; done; exit 1'
networks:
  default:
    driver_opts:
      com.docker.network.bridge.name: $NET_COMPOSE
    ipam:
      config:
        - subnet: 10.213.4.0/24
YML
	DC -p rmrcmp -f "$B/compose/docker-compose.yml" up -d
	expect_eq "client exit status" 0 "$(D wait rmrcmp_client_1)"
	expect_eq "client output" "hello from remora engines test" "$(D logs rmrcmp_client_1)"
	expect_eq "web runs on the default runtime (remora)" remora "$(D inspect -f '{{.HostConfig.Runtime}}' rmrcmp_web_1)"
	expect_eq "client ran on the default runtime (remora)" remora "$(D inspect -f '{{.HostConfig.Runtime}}' rmrcmp_client_1)"
	DC -p rmrcmp -f "$B/compose/docker-compose.yml" down -t 5
	expect_eq "containers left by compose" "" "$(D ps -aq --filter name=rmrcmp)"
}

t_swarm() {
	D network create --subnet 10.213.5.0/24 -o "com.docker.network.bridge.name=$NET_GW" \
		-o com.docker.network.bridge.enable_icc=false \
		-o com.docker.network.bridge.enable_ip_masquerade=false docker_gwbridge >/dev/null
	D swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 --data-path-addr 127.0.0.1 >/dev/null
	# the ingress network opens UDP 0.0.0.0:4789; no IPVS here for its load balancer anyway
	echo y | D network rm ingress >/dev/null
	D service create -d --no-resolve-image --name rmrsvc --restart-condition none "$IMG" \
		sh -c 'trap "exit 0" TERM; echo svc-ok; while :; do sleep 0.1; done' >/dev/null
	wait_for 60 sh -c "DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker service ps --format '{{.CurrentState}}' rmrsvc | grep -q Running" ||
		fail "service task not running: $(D service ps --no-trunc rmrsvc)"
	local task cid
	task=$(D service ps -q rmrsvc | head -n1)
	cid=$(D inspect --type task -f '{{.Status.ContainerStatus.ContainerID}}' "$task")
	[ -n "$cid" ] || fail "no container for task $task"
	expect_eq "the task's container runs on remora" remora "$(D inspect -f '{{.HostConfig.Runtime}}' "$cid")"
	logs_have "$cid" svc-ok 10 || fail "no output from the task: $(D logs "$cid" 2>&1)"
	# the runtime under test knows the task's container (the shim gives
	# every runtime --root <exec-root>/runtime-runc/moby)
	local st
	st=$("$RUNTIME" --root "$B/exec/runtime-runc/moby" state "$cid" 2>&1) || fail "$RUNTIME state $cid: $st"
	expect_eq "status reported by the runtime" running "$(echo "$st" | jq -r .status)"
	D service rm rmrsvc >/dev/null
	wait_for 30 sh -c "! DOCKER_HOST=unix://$B/docker.sock /usr/bin/docker ps -aq --no-trunc | grep -q $cid" || fail "task container not removed"
	D swarm leave --force >/dev/null
	D network rm docker_gwbridge >/dev/null
}

if ! setup >"$WORK/setup.log" 2>&1; then
	record setup FAIL "dockerd setup failed: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
	exit 0
fi
scenario run t_run
scenario default-runtime t_default_runtime
scenario exit-code t_exit_code
scenario interactive-tty t_interactive_tty
scenario exec t_exec
scenario top t_top
scenario stats t_stats
scenario pause-unpause t_pause
scenario update t_update
scenario stop-sigterm t_stop
scenario kill t_kill
scenario restart t_restart
scenario oom t_oom
scenario pids-limit t_pids_limit
scenario seccomp-default t_seccomp_default
scenario init t_init
scenario host-network t_host_network
scenario bridge-network-dns t_bridge_network
scenario import-run t_import_run
scenario compose-two-services t_compose
scenario swarm-service t_swarm
