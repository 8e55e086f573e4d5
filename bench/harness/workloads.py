"""The workloads. Each one interleaves the runtimes (A B C A B C ..., the
order rotated every round so no runtime always follows the same one) and
returns, per runtime, lists of per-container figures."""

import os
import time

from .runtimes import floor_argv


def _rounds(reps, runtimes):
    if not runtimes:
        return
    for i in range(reps):
        k = i % len(runtimes)
        yield i, runtimes[k:] + runtimes[:k]


def _slot():
    return {"wall": [], "cpu": [], "rss": [], "errors": 0, "sub": {}}


def _record(slot, outs, wall=None):
    slot["wall"].append(sum(o.wall_ms for o in outs) if wall is None else wall)
    slot["cpu"].append(sum(o.cpu_ms for o in outs))
    slot["rss"].append(max(o.maxrss_kb for o in outs))
    slot["errors"] += sum(not o.ok for o in outs)


class Floor:
    """Stands in the runtime list for the `run` workloads."""

    name = "floor"

    def __init__(self, rootfs):
        self.argv = floor_argv(rootfs)


def run(sp, runtimes, bundle, reps, tag, rootfs=None):
    """`run` of /bin/true: create + start + wait + delete in one command."""
    entries = list(runtimes) + ([Floor(rootfs)] if rootfs else [])
    res = {e.name: _slot() for e in entries}
    for e in entries:  # warm-up: page cache, first cgroup/state dirs
        sp.run(e.argv if isinstance(e, Floor) else e.run(bundle, f"b-{tag}-{e.name}-warm"))
    for i, order in _rounds(reps, entries):
        for e in order:
            argv = e.argv if isinstance(e, Floor) else e.run(bundle, f"b-{tag}-{e.name}-{i}")
            _record(res[e.name], [sp.run(argv)])
        sp.drain()
    return res


def lifecycle(sp, runtimes, bundle, reps, work):
    """create, start, state, delete as containerd issues them (the wait for
    the container's exit between state and delete is not counted)."""
    res = {rt.name: _slot() for rt in runtimes}
    for i, order in _rounds(reps + 1, runtimes):
        for rt in order:
            cid = f"b-lc-{rt.name}-{i}"
            pidfile = os.path.join(work, f"{cid}.pid")
            outs = {"create": sp.run(rt.create(bundle, cid, pidfile))}
            pid = _read_pid(pidfile) if outs["create"].ok else None
            outs["start"] = sp.run(rt.start(cid))
            outs["state"] = sp.run(rt.state(cid))
            if pid:
                sp.wait_pid_exit(pid)
            outs["delete"] = sp.run(rt.delete(cid))
            if not outs["delete"].ok:
                sp.run(rt.delete(cid, force=True))
            sp.drain()
            if i == 0:
                continue  # warm-up round
            slot = res[rt.name]
            _record(slot, list(outs.values()))
            for k, o in outs.items():
                slot["sub"].setdefault(k, []).append(o.wall_ms)
    return res


def exec_true(sp, runtimes, bundles, reps, work):
    """`exec` of /bin/true into a running container (busybox sleep)."""
    able = [rt for rt in runtimes if rt.supports_exec()]
    res = {rt.name: _slot() for rt in able}
    res.update({rt.name: {"skipped": "not implemented (`exec --help` fails)"}
                for rt in runtimes if rt not in able})
    cids = {}
    try:
        for rt in list(able):
            cid = f"b-exec-{rt.name}"
            pidfile = os.path.join(work, f"{cid}.pid")
            if not sp.run(rt.create(bundles["sleep"], cid, pidfile)).ok:
                res[rt.name] = {"skipped": "the running container to exec into could not be created"}
                able.remove(rt)
                continue
            cids[rt.name] = (cid, _read_pid(pidfile))
            if not sp.run(rt.start(cid)).ok:
                res[rt.name] = {"skipped": "the container to exec into could not be started"}
                able.remove(rt)
                continue
            sp.run(rt.exec(cid, "/bin/true"))  # warm-up
        for _, order in _rounds(reps, able):
            for rt in order:
                _record(res[rt.name], [sp.run(rt.exec(cids[rt.name][0], "/bin/true"))])
            sp.drain()
    finally:
        for rt in runtimes:
            if rt.name in cids:
                cid, pid = cids[rt.name]
                sp.run(rt.cmd("kill", cid, "KILL"))
                if pid:
                    sp.wait_pid_exit(pid)
                sp.run(rt.delete(cid, force=True))
        sp.drain()
    return res


def parallel(sp, runtimes, bundle, plan, rounds, tag):
    """Waves of n creates spawned at once, waited for, then n deletes at
    once; the wall time of a wave is first spawn to last exit. plan is
    [(n, waves per round)]: every round runs each size's waves for each
    runtime back to back, so the sizes see the same machine and their
    ratio (the growth) does not drift. Returns {n: {runtime: figures}}."""
    res = {n: {rt.name: {"create": [], "delete": [], "cpu": [], "rss": [], "errors": 0, "left": 0}
               for rt in runtimes} for n, _ in plan}
    for r, order in _rounds(rounds, runtimes):
        for rt in order:
            for n, waves in plan:
                for w in range(waves):
                    _one_wave(sp, rt, bundle, [f"b-{tag}{n}-{rt.name}-{r}-{w}-{k}" for k in range(n)],
                              res[n][rt.name])
    return res


def _one_wave(sp, rt, bundle, ids, slot):
    n = len(ids)
    creates = _wave(sp, [rt.cmd("create", "--bundle", bundle, c) for c in ids])
    deletes = _wave(sp, [rt.delete(c) for c in ids])
    slot["create"].append(creates[0])
    slot["delete"].append(deletes[0])
    slot["cpu"].append(sum(o.cpu_ms for o in creates[1]) / n)
    slot["rss"].append(max(o.maxrss_kb for o in creates[1]))
    slot["errors"] += sum(not o.ok for o in creates[1] + deletes[1])
    for c in ids:  # a failed delete must not leave anything behind
        if os.path.exists(os.path.join(rt.root, c)):
            slot["left"] += 1
            sp.run(rt.delete(c, force=True))
    sp.drain()


def _wave(sp, argvs):
    t0 = time.perf_counter_ns()
    pids = [sp.spawn(a) for a in argvs]
    outs = [sp.wait(p) for p in pids]
    return (time.perf_counter_ns() - t0) / 1e6, outs


def _read_pid(path):
    with open(path) as f:
        return int(f.read().strip())
