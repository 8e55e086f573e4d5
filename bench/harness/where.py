"""Where a runtime's time goes: `perf trace -s` (kernel tracepoints, far
lighter than strace's ptrace) around whole `run`s; per syscall, the time
spent inside it summed over every process of the run, median over runs.
Calls that only wait for the other side (the parent waiting for the init
and back) show up as recvfrom/poll/read and overlap the work they wait for."""

import collections
import os
import re
import statistics
import subprocess

PERF = "/usr/bin/perf"


def available():
    try:
        r = subprocess.run([PERF, "trace", "-s", "--", "/bin/true"], capture_output=True, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def parse(path):
    """perf trace -s output -> {syscall: [calls, total_ms]} over all processes."""
    tot = collections.defaultdict(lambda: [0, 0.0])
    row = re.compile(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+")
    with open(path) as f:
        for line in f:
            m = row.match(line)
            if m and m.group(1) != "syscall":
                tot[m.group(1)][0] += int(m.group(2))
                tot[m.group(1)][1] += float(m.group(4))
    return tot


def profile(sp, argv_for, runs, work, name):
    """argv_for(i) -> the command of run i. Returns [(syscall, calls/run,
    median ms/run, max ms)] sorted by median time, or None without perf."""
    per = collections.defaultdict(list)
    calls = collections.defaultdict(list)
    done = 0
    for i in range(runs):
        out = os.path.join(work, f"perf-{name}-{i}.txt")
        o = sp.run([PERF, "trace", "-s", "-o", out, "--", *argv_for(i)])
        sp.drain()
        if not o.ok:
            continue
        done += 1
        for sc, (n, ms) in parse(out).items():
            per[sc].append(ms)
            calls[sc].append(n)
    if not done:
        return None
    rows = []
    for sc, v in per.items():
        v = v + [0.0] * (done - len(v))
        rows.append((sc, sum(calls[sc]) / done, statistics.median(v), max(v)))
    rows.sort(key=lambda r: -r[2])
    return rows
