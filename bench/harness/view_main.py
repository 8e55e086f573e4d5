"""Runs every workload in one view (the mount namespace this process is
in) and writes the raw figures as JSON. Called by bench.py, once as is
(host view) and once inside view-cgroup2.sh (cgroup2 view)."""

import argparse
import json
import os
import shutil
import sys
import time

from . import measure, phases, runtimes, syscalls, where, workloads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--view", required=True, choices=["host", "cgroup2"])
    ap.add_argument("--remora", required=True)
    ap.add_argument("--baseline", help="a second remora binary, measured as remora-base")
    ap.add_argument("--bundles", required=True, help="JSON {variant: dir}")
    ap.add_argument("--work", required=True)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--par-reps", type=int, default=3)
    ap.add_argument("--perf-runs", type=int, default=10)
    ap.add_argument("--runstat", required=True, help="the compiled runstat.c")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    measure.become_subreaper()
    with open(a.bundles) as f:
        b = json.load(f)
    work = os.path.join(a.work, a.view)
    os.makedirs(work, exist_ok=True)
    state_dir = os.path.join(a.work, "state")
    rts = runtimes.for_view(a.view, a.remora, state_dir, a.baseline)
    sp = measure.Spawner(os.path.join(work, "stderr.log"), a.runstat)
    res = {"view": a.view, "runtimes": [rt.name for rt in rts], "load_before": os.getloadavg(),
           "started": time.time(), "workloads": {}, "syscalls": {}}
    W = res["workloads"]

    def step(name, fn):
        t = time.monotonic()
        W[name] = fn()
        print(f"  [{a.view}] {name}: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)

    try:
        step("run", lambda: workloads.run(sp, rts, b["true"], a.reps, "run", b["rootfs"]))
        step("lifecycle", lambda: workloads.lifecycle(sp, rts, b["true"], a.reps, work))
        step("exec", lambda: workloads.exec_true(sp, rts, b, a.reps, work))
        step("run-seccomp", lambda: workloads.run(sp, rts, b["seccomp"], a.reps, "runsc"))
        for variant, tag in (("true", "par"), ("seccomp", "parsc")):
            # small waves are short and noisy: three of 10 per one of 50
            t = time.monotonic()
            waves = workloads.parallel(sp, rts, b[variant], [(10, 3), (50, 1)], a.par_reps, tag)
            for n, r in waves.items():
                W[f"{tag}-{n}"] = r
            print(f"  [{a.view}] {tag} 10+50: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)
        t = time.monotonic()
        for rt in rts:
            creates = [syscalls.count_create(sp, rt, b["true"], f"b-sys-{rt.name}-{k}",
                                             os.path.join(work, f"strace-create-{rt.name}-{k}.txt"))
                       for k in range(3)]
            creates.sort(key=lambda c: c[0])
            run_ = syscalls.count_run(sp, rt.run(b["true"], f"b-sysrun-{rt.name}"),
                                      os.path.join(work, f"strace-run-{rt.name}.txt"))
            res["syscalls"][rt.name] = {"create": creates[1], "create_all": [c[0] for c in creates],
                                        "run": run_}
        res["syscalls"]["floor"] = {"run": syscalls.count_run(
            sp, runtimes.floor_argv(b["rootfs"]), os.path.join(work, "strace-run-floor.txt"))}
        print(f"  [{a.view}] syscalls: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)
        t = time.monotonic()
        res["where"] = {}
        if where.available():
            for rt in rts:
                res["where"][rt.name] = where.profile(
                    sp, lambda i, rt=rt: rt.run(b["true"], f"b-perf-{rt.name}-{i}"), a.perf_runs, work, rt.name)
        print(f"  [{a.view}] perf trace: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)
        res["debug_trace"] = debug_trace(sp, rts[0], b["true"], work)
        res["phases"] = phases.collect(sp, rts[0], b["true"], 20, work)
    finally:
        cleanup(sp, rts)
    res["load_after"] = os.getloadavg()
    res["finished"] = time.time()
    res["stderr_lines"] = error_lines(sp.errlog)
    with open(a.out, "w") as f:
        json.dump(res, f)


def debug_trace(sp, remora, bundle, work):
    """One create with --debug: remora's phase timings, when it logs them."""
    log = os.path.join(work, "debug.log")
    cid = "b-debug"
    pidfile = os.path.join(work, "debug.pid")
    sp.run(remora.cmd("--debug", "--log", log, "create", "--bundle", bundle, "--pid-file", pidfile, cid))
    sp.run(remora.start(cid))
    try:
        sp.wait_pid_exit(int(open(pidfile).read()))
    except (FileNotFoundError, ValueError):
        pass
    sp.run(remora.delete(cid, force=True))
    sp.drain()
    return tail(log, 200)


def cleanup(sp, rts):
    """Force-deletes whatever a failure left behind in the bench state roots."""
    for rt in rts:
        if not os.path.isdir(rt.root):
            continue
        for cid in os.listdir(rt.root):
            sp.run(rt.delete(cid, force=True))
        sp.drain()
        left = os.listdir(rt.root)
        if left:
            print(f"  {rt.name}: could not delete {left}", file=sys.stderr)
        else:
            shutil.rmtree(rt.root, ignore_errors=True)


def error_lines(path, n=15):
    """The runtimes' stderr over the whole view (strace's own chatter left
    out): [(count, line)], most frequent first."""
    counts = {}
    for line in tail(path, 100000):
        if line.strip() and not line.startswith("/usr/bin/strace: Process"):
            counts[line] = counts.get(line, 0) + 1
    return sorted(((c, l) for l, c in counts.items()), reverse=True)[:n]


def tail(path, n):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-n:]
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    main()
