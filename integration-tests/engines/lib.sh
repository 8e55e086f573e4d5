#!/bin/bash
# Shared helpers for the engine tests. Sourced by run.sh and every engine
# script. Each scenario is a shell function run in a subshell with `set -e`;
# its outcome is one line in $RESULTS: ENGINE<TAB>SCENARIO<TAB>STATUS<TAB>NOTE.

: "${RESULTS:?RESULTS must name the results file}"
: "${RUNTIME:?RUNTIME must name the runtime binary}"
: "${WORK:?WORK must name the private temp dir}"
: "${ENGINE:?ENGINE must be set}"
ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-60}
# An engine whose scenarios keep hanging must not eat the CI budget: once
# ENGINE_BUDGET seconds have passed, the remaining scenarios are not run and
# are reported as FAIL.
ENGINE_BUDGET=${ENGINE_BUDGET:-240}
# ...and after MAX_TIMEOUTS scenarios in a row hit their timeout (a runtime
# that hangs), the rest are reported as FAIL without running.
MAX_TIMEOUTS=${MAX_TIMEOUTS:-2}
TIMEOUTS_IN_A_ROW=0
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "[$ENGINE] $*" >&2; }

# fail MSG: end the current scenario as FAIL with MSG.
fail() {
	echo "FAIL: $*" >&2
	printf '%s\n' "$*" >"$SCEN_NOTE"
	exit 1
}

# skip MSG: end the current scenario as SKIP with MSG (the reason).
skip() {
	echo "SKIP: $*" >&2
	printf '%s\n' "$*" >"$SCEN_NOTE"
	exit 77
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
	fi
	echo "ok: $1 = '$3'" >&2
}

# expect_match WHAT REGEX ACTUAL (extended regex, multi-line ACTUAL)
expect_match() {
	if ! printf '%s' "$3" | grep -Eq -- "$2"; then
		fail "$1: expected to match /$2/, got '$(printf '%s' "$3" | head -c 400)'"
	fi
	echo "ok: $1 ~ /$2/" >&2
}

# expect_nomatch WHAT REGEX ACTUAL
expect_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		fail "$1: expected not to match /$2/, got '$(printf '%s' "$3" | head -c 400)'"
	fi
	echo "ok: $1 !~ /$2/" >&2
}

# expect_rc WHAT EXPECTED_RC CMD...: run CMD, compare its exit status.
expect_rc() {
	local what=$1 want=$2 got=0
	shift 2
	"$@" || got=$?
	expect_eq "$what (exit status)" "$want" "$got"
}

# wait_for SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# descendants PID: every descendant PID of PID, deepest first.
descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}

# kill_tree PID: SIGKILL PID, then everything it had started.
kill_tree() {
	local p all
	all=$(descendants "$1")
	kill -KILL "$1" 2>/dev/null || true
	for p in $all; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# scenario NAME FUNCTION: run FUNCTION in a subshell with set -e and a
# watchdog, record PASS/FAIL/SKIP. Must be called at the top level of a
# script (not inside if/&&/||) so that set -e takes effect.
scenario() {
	local name=$1 fn=$2 rc start note
	SCEN_LOG="$WORK/logs/$ENGINE.$name.log"
	SCEN_NOTE="$WORK/logs/$ENGINE.$name.note"
	mkdir -p "$WORK/logs"
	: >"$SCEN_NOTE"
	if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
		return 0
	fi
	if [ $SECONDS -ge "$ENGINE_BUDGET" ]; then
		record "$name" FAIL "not run: the engine's ${ENGINE_BUDGET}s budget was used up by earlier scenarios"
		return 0
	fi
	if [ "$TIMEOUTS_IN_A_ROW" -ge "$MAX_TIMEOUTS" ]; then
		record "$name" FAIL "not run: $TIMEOUTS_IN_A_ROW scenarios in a row timed out (the runtime hangs)"
		return 0
	fi
	start=$SECONDS
	(
		set -eo pipefail
		"$fn"
	) >"$SCEN_LOG" 2>&1 </dev/null &
	local pid=$!
	(
		sleep "$SCENARIO_TIMEOUT"
		echo "timed out after ${SCENARIO_TIMEOUT}s" >"$SCEN_NOTE"
		kill_tree "$pid"
	) >/dev/null 2>&1 &
	local dog=$!
	rc=0
	wait "$pid" || rc=$?
	kill_tree "$dog"
	wait "$dog" 2>/dev/null || true
	note=$(head -c 300 "$SCEN_NOTE" | tr '\t\n' '  ')
	if [ $((SECONDS - start)) -ge "$SCENARIO_TIMEOUT" ] || [[ $note == "timed out after"* ]]; then
		TIMEOUTS_IN_A_ROW=$((TIMEOUTS_IN_A_ROW + 1))
		rc=1
		note="timed out after ${SCENARIO_TIMEOUT}s; ${note#timed out after "${SCENARIO_TIMEOUT}"s}"
	else
		TIMEOUTS_IN_A_ROW=0
	fi
	case $rc in
	0) status=PASS ;;
	77) status=SKIP ;;
	*)
		status=FAIL
		[ -n "$note" ] || note="exit status $rc: $(tail -n 3 "$SCEN_LOG" | tr '\t\n' '  ' | head -c 300)"
		;;
	esac
	printf '%s\t%s\t%s\t%s\n' "$ENGINE" "$name" "$status" "$note" >>"$RESULTS"
	printf '%-4s %-11s %-28s %3ss %s\n' "$status" "$ENGINE" "$name" "$((SECONDS - start))" "$note"
	# an engine may add what its daemon logged about the failure
	if [ "$status" = FAIL ] && declare -F on_fail >/dev/null; then
		on_fail >>"$SCEN_LOG" 2>&1 || true
	fi
	if [ "$status" = FAIL ] && [ -n "${VERBOSE:-}" ]; then
		sed 's/^/    | /' "$SCEN_LOG" | tail -n 40
	fi
	return 0
}

# record NAME STATUS NOTE: a result that is not a scenario function
# (engine start-up failures, leftover checks).
record() {
	printf '%s\t%s\t%s\t%s\n' "$ENGINE" "$1" "$2" "$3" >>"$RESULTS"
	printf '%-4s %-11s %-28s      %s\n' "$2" "$ENGINE" "$1" "$3"
}

# stop_pid PID [SECONDS]: SIGTERM PID, wait, then SIGKILL its tree.
stop_pid() {
	local pid=$1 t=${2:-20}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + t))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop on SIGTERM, killing its tree"
		kill_tree "$pid"
	fi
	wait "$pid" 2>/dev/null || true
}

# umount_under DIR: lazily unmount every mount point below DIR, deepest first.
umount_under() {
	local m
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}

# cgroup_rmtree NAME: remove the cgroup NAME (relative) under every v1
# hierarchy and the unified one, leaves first.
cgroup_rmtree() {
	local root d
	for root in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
		[ -d "$root$1" ] || continue
		find "$root$1" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# Engines drop state in fixed places whatever their config says (ctr's
# default fifo dir and the shims' sockets under /run/containerd, dockerd's
# /run/docker/plugins). run_entries lists them; an engine's teardown removes
# the entries that were not there when it started.
RUN_DIRS="/run/containerd /run/docker"
run_entries() {
	local d
	for d in $RUN_DIRS; do
		[ -e "$d" ] && find "$d" -maxdepth 3
	done | sort
}
RUN_ENTRIES_BEFORE=$(run_entries)
# Another engine run may share these dirs (two suites on one machine), so
# only what nobody uses goes: sockets nobody listens on, fifos nobody holds
# open, then directories left empty.
run_entries_cleanup() {
	local e listening held
	listening=$(ss -xl 2>/dev/null | awk '{ print $5 }')
	held=$(find /proc/[0-9]*/fd -maxdepth 1 -type l -printf '%l\n' 2>/dev/null | grep '^/run/' | sort -u)
	run_entries | sort -r | while read -r e; do
		grep -qxF -- "$e" <<<"$RUN_ENTRIES_BEFORE" && continue
		if [ -S "$e" ]; then
			grep -qxF -- "$e" <<<"$listening" || rm -f -- "$e"
		elif [ -p "$e" ]; then
			grep -qxF -- "$e" <<<"$held" || rm -f -- "$e"
		elif [ -d "$e" ]; then
			rmdir -- "$e" 2>/dev/null
		else
			rm -f -- "$e"
		fi
	done
	return 0
}

# host_snapshot FILE: what must be identical before and after an engine.
host_snapshot() {
	{
		echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
		echo "links:"
		ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -Ev '^(veth|veth)' | sort || true
		echo "veths: $(ip -o link show type veth 2>/dev/null | grep -c . || true)"
		echo "netns: $(ls /run/netns 2>/dev/null | tr '\n' ' ')"
		echo "engine run dirs:"
		run_entries
		echo "iptables filter:"
		iptables -S 2>/dev/null | grep -E '^-N' | sort || true
		echo "iptables nat:"
		iptables -t nat -S 2>/dev/null | grep -E '^-N' | sort || true
	} >"$1"
}

# iptables_drop_chains TABLE REGEX: delete every rule jumping to a chain
# whose name matches REGEX, then flush and delete those chains.
iptables_drop_chains() {
	local t=$1 re=$2 rule c
	iptables -t "$t" -S 2>/dev/null | grep -E '^-A' | grep -E -- "-j ($re)( |\$)" |
		while read -r rule; do
			eval "iptables -t $t -D ${rule#-A }" 2>/dev/null || true
		done
	for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep -E "^($re)\$"); do
		iptables -t "$t" -F "$c" 2>/dev/null || true
	done
	for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep -E "^($re)\$"); do
		iptables -t "$t" -X "$c" 2>/dev/null || true
	done
}

# in_script CMD: run CMD with a pseudo-terminal on its stdin/stdout (for
# -t / -it), passing our stdin through (its end is not typed as ^D); returns
# CMD's exit status, 124 (and a line saying so) if it still runs after 40s.
in_script() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/pty_run.py" 40 "$*"
}
