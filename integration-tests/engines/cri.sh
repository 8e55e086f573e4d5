#!/bin/bash
# Kubernetes' path: containerd 1.6's CRI plugin with a runtime handler
# "remora" (runc shim v2, BinaryName = the runtime under test), driven by
# cri_client.py over the CRI v1 gRPC API, CNI bridge on a private subnet.
. "$(dirname "$0")/lib.sh"
B=$WORK
NS=k8s.io
IMG=docker.io/library/rmr-busybox:latest
PAUSE=docker.io/library/rmr-pause:latest
BRIDGE=rmrcri0
SUBNET=10.213.2.0/24
CGPARENT=/remora-cri-test
CPID=
ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
VENV=${ENGINES_CACHE:-$B}/venv

K() { timeout -k 5 "${K_TIMEOUT:-90}" "$VENV/bin/python" "$ENGINES_DIR/cri_client.py" --sock "$B/containerd.sock" "$@"; }
C() { timeout -k 5 60 ctr --address "$B/containerd.sock" -n "$NS" "$@"; }

setup() {
	if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import cri_api.v1.api_pb2, grpc' 2>/dev/null; then
		rm -rf "$VENV"
		/usr/bin/python3 -m venv "$VENV" && "$VENV/bin/pip" install -q container-runtime-interface-api || return 1
	fi
	mkdir -p "$B/cni" "$B/runc" "$B/pods"
	cat >"$B/cni/10-rmr.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "rmr-cri", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$SUBNET"}]],
            "dataDir": "$B/cni-ipam"}}]}
CNI
	cat >"$B/config.toml" <<CONF
version = 2
root = "$B/root"
state = "$B/state"

[grpc]
  address = "$B/containerd.sock"

[ttrpc]
  address = "$B/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$B/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  disable_apparmor = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "remora"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.remora]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.remora.options]
        BinaryName = "$RUNTIME"
        Root = "$B/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$B/cni"
CONF
	containerd --config "$B/config.toml" >"$B/containerd.log" 2>&1 &
	CPID=$!
	wait_for 30 K version || { tail -n 20 "$B/containerd.log"; return 1; }
	C images import --base-name docker.io/library/rmr-busybox "$IMAGES/busybox-oci.tar" &&
		C images import --base-name docker.io/library/rmr-pause "$IMAGES/pause-oci.tar"
}

teardown() {
	local id K_TIMEOUT=15
	if [ -n "$CPID" ] && [ -S "$B/containerd.sock" ]; then
		for id in $(K ps 2>/dev/null | awk '{print $1}'); do
			K stop "$id" 0 >/dev/null 2>&1
			K rm "$id" >/dev/null 2>&1
		done
		for id in $(K pods 2>/dev/null | awk '{print $1}'); do
			K stopp "$id" >/dev/null 2>&1
			K rmp "$id" >/dev/null 2>&1
		done
		C images rm "$IMG" "$PAUSE" >/dev/null 2>&1
	fi
	[ -n "$CPID" ] && stop_pid "$CPID"
	local p
	for p in $(pgrep -f "containerd-shim-runc-v2 .*$B" 2>/dev/null); do
		kill_tree "$p"
	done
	umount_under "$B"
	run_entries_cleanup
	cgroup_rmtree "${CGPARENT#/}"
	ip link del "$BRIDGE" 2>/dev/null
	echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
	rm -rf "$B/root" "$B/state" "$B/opt" "$B/runc" "$B/cni-ipam"
}
trap teardown EXIT

# On a failure: what containerd saw end (task exits, OOM) and its errors.
on_fail() {
	echo "--- containerd log (exits, errors), last lines:"
	grep -E 'TaskExit|TaskOOM|level=error' "$B/containerd.log" | tail -n 8 | cut -c1-400
	echo "--- tasks as containerd sees them (sandboxes included):"
	C task ls 2>&1 | head -n 20
}

# pod_json NAME [EXTRA-JQ]: write a PodSandboxConfig, print its path.
pod_json() {
	local f=$B/pods/$1.json
	jq -n --arg n "$1" --arg uid "uid-$1-$$" --arg cg "$CGPARENT/pod-$1" --arg logdir "$B/pods/$1-logs" '{
		metadata: {name: $n, uid: $uid, namespace: "default", attempt: 0},
		hostname: $n, log_directory: $logdir,
		linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}
	}' | jq "${2:-.}" >"$f"
	mkdir -p "$B/pods/$1-logs"
	echo "$f"
}

# ctr_json POD NAME EXTRA-JQ ARGS...: a ContainerConfig running ARGS.
ctr_json() {
	local pod=$1 name=$2 extra=$3 f=$B/pods/$1-$2.json
	shift 3
	# the command goes through python: jq would take "-c" as its own option
	jq -n --arg n "$name" --arg img "$IMG" --arg log "$name.log" \
		--argjson cmd "$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")" '{
		metadata: {name: $n, attempt: 0}, image: {image: $img}, log_path: $log,
		command: $cmd, linux: {resources: {}, security_context: {}}
	}' | jq "$extra" >"$f"
	echo "$f"
}

# run_pod NAME [EXTRA-JQ]: RunPodSandbox, print the sandbox id.
run_pod() {
	local f
	f=$(pod_json "$@")
	K runp "$f"
}

# run_ctr POD_ID POD_NAME NAME EXTRA-JQ ARGS...: create + start, print id.
run_ctr() {
	local pid=$1 pod=$2 name=$3 extra=$4 f id
	shift 4
	f=$(ctr_json "$pod" "$name" "$extra" "$@")
	id=$(K create "$pid" "$f" "$B/pods/$pod.json")
	K start "$id"
	echo "$id"
}

state_of() { K status "$1" | jq -r .state; }

# expect_running POD_NAME NAME ID: the container is (still) running; if not,
# fail with what the CRI says about its end and the tail of its log.
expect_running() {
	local st
	st=$(K status "$3")
	[ "$(echo "$st" | jq -r .state)" = CONTAINER_RUNNING ] && return 0
	fail "container $2 is not running: $(echo "$st" | jq -c '{state, exit_code, reason, message}'); log: $(tail -n 3 "$B/pods/$1-logs/$2.log" 2>/dev/null | tr '\n' ' ')"
}

remove_pod() {
	local id
	for id in $(K ps | awk -v p="$1" '$4 == p {print $1}'); do
		K stop "$id" 0 >/dev/null 2>&1 || true
		K rm "$id" >/dev/null 2>&1 || true
	done
	K stopp "$1"
	K rmp "$1"
}

t_sandbox() {
	local pod st ip
	pod=$(run_pod sbx)
	st=$(K inspectp "$pod")
	expect_eq "sandbox state" SANDBOX_READY "$(echo "$st" | jq -r .state)"
	ip=$(echo "$st" | jq -r .network.ip)
	expect_match "pod IP on the CNI bridge" '^10\.213\.2\.[0-9]+$' "$ip"
	wait_for 5 busybox ping -c1 -W1 "$ip" || fail "pod IP $ip does not answer ping from the host"
	remove_pod "$pod"
}

# What a pod with `runtimeClassName: remora` sends (docs/engines/containerd.md):
# RunPodSandbox with runtime_handler "remora", the handler configured in
# config.toml (runc shim, BinaryName = the runtime under test). The sandbox
# and its container are the runtime's: it answers `state` for them under
# the handler's Root. A handler that is not configured is refused.
t_runtime_handler() {
	local f pod id st
	f=$(pod_json rtc)
	pod=$(K runp "$f" remora)
	expect_eq "pod's runtime handler" remora "$(K inspectp "$pod" | jq -r '.runtime_handler // empty')"
	id=$(run_ctr "$pod" rtc c1 . sleep 1000)
	expect_running rtc c1 "$id"
	st=$("$RUNTIME" --root "$B/runc/$NS" state "$id")
	expect_eq "the container's state, from the runtime under test" running "$(echo "$st" | jq -r .status)"
	st=$("$RUNTIME" --root "$B/runc/$NS" state "$pod")
	expect_eq "the sandbox's state, from the runtime under test" running "$(echo "$st" | jq -r .status)"
	remove_pod "$pod"
	f=$(pod_json rtc-bad)
	local out rc=0
	out=$(K runp "$f" no-such-handler 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "a pod with an unconfigured runtime handler started: $out"
	expect_match "unconfigured handler refused" 'no-such-handler' "$out"
}

t_create_start_logs() {
	local pod id
	pod=$(run_pod logs)
	id=$(run_ctr "$pod" logs c1 . sh -c 'echo hello-cri; echo to-stderr >&2; sleep 1000')
	expect_eq "container state" CONTAINER_RUNNING "$(state_of "$id")"
	wait_for 5 grep -q hello-cri "$B/pods/logs-logs/c1.log" || fail "no log line in $B/pods/logs-logs/c1.log"
	expect_match "CRI log line (stdout)" '^[0-9T:.+Z-]+ stdout F hello-cri$' "$(cat "$B/pods/logs-logs/c1.log")"
	expect_match "CRI log line (stderr)" ' stderr F to-stderr$' "$(cat "$B/pods/logs-logs/c1.log")"
	remove_pod "$pod"
}

t_exec_sync() {
	local pod id
	pod=$(run_pod exs)
	id=$(run_ctr "$pod" exs c1 . sleep 1000)
	expect_running exs c1 "$id"
	expect_eq "ExecSync stdout" "in-exec 1000" "$(K exec "$id" -- sh -c 'echo in-exec $((999+1))')"
	expect_rc "ExecSync exit code" 3 K exec "$id" -- sh -c 'exit 3'
	remove_pod "$pod"
}

t_update_resources() {
	local pod id cg
	pod=$(run_pod upd)
	id=$(run_ctr "$pod" upd c1 '.linux.resources = {memory_limit_in_bytes: 67108864, cpu_period: 100000, cpu_quota: 20000}' sleep 1000)
	expect_eq "memory limit at create" 67108864 "$(K exec "$id" -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
	echo '{"memory_limit_in_bytes": 134217728, "cpu_period": 100000, "cpu_quota": 50000, "cpu_shares": 512}' >"$B/upd.json"
	K update "$id" "$B/upd.json"
	expect_eq "memory limit after update (inside)" 134217728 "$(K exec "$id" -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
	cg=/sys/fs/cgroup/cpu$CGPARENT/pod-upd/$id
	expect_eq "cpu quota after update (host cgroup)" 50000 "$(cat "$cg/cpu.cfs_quota_us")"
	expect_eq "cpu shares after update (host cgroup)" 512 "$(cat "$cg/cpu.shares")"
	expect_eq "ContainerStatus resources" 134217728 "$(K status "$id" | jq -r '.resources.linux.memory_limit_in_bytes // empty')"
	remove_pod "$pod"
}

t_stats() {
	local pod id s
	pod=$(run_pod sts)
	id=$(run_ctr "$pod" sts c1 . sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 1000')
	sleep 1
	s=$(K stats "$id")
	expect_match "stats: cpu usage" '"usage_core_nano_seconds": *\{ *"value": *"[1-9]' "$(echo "$s" | jq -c .cpu)"
	expect_match "stats: memory working set" '"working_set_bytes": *\{ *"value": *"[1-9]' "$(echo "$s" | jq -c .memory)"
	expect_eq "stats: container id" "$id" "$(echo "$s" | jq -r .attributes.id)"
	remove_pod "$pod"
}

t_oom() {
	local pod id st
	pod=$(run_pod oom)
	id=$(run_ctr "$pod" oom c1 '.linux.resources = {memory_limit_in_bytes: 33554432}' sh -c 'sleep 0.5; tail /dev/zero')
	wait_for 30 sh -c "[ \"\$(timeout 20 $VENV/bin/python $ENGINES_DIR/cri_client.py --sock $B/containerd.sock status $id | jq -r .state)\" = CONTAINER_EXITED ]" ||
		fail "container did not exit: $(K status "$id" | jq -c '{state, reason}')"
	# the OOM event and the exit event reach the CRI plugin separately
	wait_for 5 sh -c "timeout 20 $VENV/bin/python $ENGINES_DIR/cri_client.py --sock $B/containerd.sock status $id | grep -q OOMKilled" || true
	st=$(K status "$id")
	expect_eq "reason" OOMKilled "$(echo "$st" | jq -r .reason)"
	expect_eq "exit code" 137 "$(echo "$st" | jq -r .exit_code)"
	remove_pod "$pod"
}

t_security_context() {
	local pod id out
	pod=$(run_pod sec)
	id=$(run_ctr "$pod" sec c1 '.linux.security_context = {run_as_user: {value: 1000}, readonly_rootfs: true, capabilities: {drop_capabilities: ["ALL"]}}' sleep 1000)
	sleep 0.5
	expect_running sec c1 "$id"
	out=$(K exec "$id" -- sh -c 'id -u; touch /x 2>&1 || true; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status') || true
	expect_match "runAsUser" '^1000$' "$(echo "$out" | head -n1)"
	expect_match "readOnlyRootFilesystem" 'Read-only file system' "$out"
	expect_match "CapEff after drop ALL" 'CapEff:[[:space:]]+0000000000000000' "$out"
	expect_match "CapBnd after drop ALL" 'CapBnd:[[:space:]]+0000000000000000' "$out"
	expect_match "uid of the container's process" 'Uid:[[:space:]]+1000[[:space:]]+1000' "$(K exec "$id" -- sh -c 'grep Uid: /proc/$(pidof sleep)/status')"
	remove_pod "$pod"
}

t_shared_netns() {
	local pod web cli out
	pod=$(run_pod net)
	web=$(run_ctr "$pod" net web . httpd -f -p 8080 -h /var/www)
	cli=$(run_ctr "$pod" net cli . sleep 1000)
	expect_running net web "$web"
	expect_running net cli "$cli"
	wait_for 10 K exec "$cli" -- sh -c 'timeout 2 wget -qO- http://127.0.0.1:8080/' || true
	out=$(K exec "$cli" -- sh -c 'timeout 5 wget -qO- http://127.0.0.1:8080/' 2>&1) || true
	expect_eq "web page over the pod's loopback" "hello from remora engines test" "$out"
	expect_eq "same network namespace" "$(K exec "$web" -- readlink /proc/self/ns/net)" "$(K exec "$cli" -- readlink /proc/self/ns/net)"
	expect_eq "hostname is the pod's" net "$(K exec "$cli" -- hostname)"
	remove_pod "$pod"
}

t_hostnet_sharedpid() {
	local pod id out
	pod=$(run_pod hnp '.linux.security_context.namespace_options = {network: "NODE", pid: "POD", ipc: "POD"} | del(.hostname)')
	id=$(run_ctr "$pod" hnp c1 . sleep 1000)
	expect_running hnp c1 "$id"
	expect_eq "host network namespace" "$(readlink /proc/self/ns/net)" "$(K exec "$id" -- readlink /proc/self/ns/net)"
	out=$(K exec "$id" -- ps -o pid,args)
	expect_match "pause process visible (shared pid ns)" '/pause' "$out"
	expect_match "pause is PID 1" '^ *1 +/pause' "$out"
	expect_match "own process visible" 'sleep 1000' "$out"
	remove_pod "$pod"
}

t_stop_remove() {
	local pod id cpid pause_netns
	pod=$(run_pod stp)
	id=$(run_ctr "$pod" stp c1 . sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
	wait_for 5 sh -c "pgrep -f 'while :; do sleep 0.1' >/dev/null"
	local t0=$SECONDS
	K stop "$id" 20
	[ $((SECONDS - t0)) -lt 10 ] || fail "StopContainer took $((SECONDS - t0))s: SIGTERM not delivered"
	expect_eq "state after StopContainer" CONTAINER_EXITED "$(state_of "$id")"
	expect_eq "exit code after SIGTERM" 0 "$(K status "$id" | jq -r '.exit_code')"
	K rm "$id"
	expect_eq "containers of the pod" "" "$(K ps | awk -v p="$pod" '$4 == p')"
	pause_netns=$(K inspectp "$pod" | jq -r '.linux.namespaces.options.network // empty')
	K stopp "$pod"
	expect_match "sandbox state after StopPodSandbox" NOTREADY "$(K inspectp "$pod" | jq -r .state)"
	K rmp "$pod"
	expect_eq "pods left" "" "$(K pods | grep " stp$" || true)"
	[ ! -d "/sys/fs/cgroup/memory$CGPARENT/pod-stp/$id" ] || fail "container cgroup still exists"
}

if ! setup >"$WORK/setup.log" 2>&1; then
	record setup FAIL "CRI setup failed: $(tail -n 3 "$WORK/setup.log" | tr '\n' ' ')"
	exit 0
fi
scenario runtime-class-handler t_runtime_handler
scenario sandbox-pause-cni t_sandbox
scenario create-start-logs t_create_start_logs
scenario exec-sync t_exec_sync
scenario update-resources t_update_resources
scenario stats t_stats
scenario oomkilled-reason t_oom
scenario security-context t_security_context
scenario pod-shared-netns t_shared_netns
scenario hostnet-shared-pid t_hostnet_sharedpid
scenario stop-remove t_stop_remove
