"""System calls per create, counted with `strace -f -c` (every thread and
child: the runtime, its helpers and the container init up to the point
where it waits for `start`). strace is stopped with SIGINT once the create
command itself has exited: it then detaches from the waiting init and
prints its summary. `-w` makes the time column wall-clock time spent in
each call, which shows where a create's time goes."""

import os
import signal
import time

STRACE = "/usr/bin/strace"


def parse_summary(path):
    """strace -c output -> (total calls, [(syscall, calls, seconds)])."""
    rows, total = [], 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5 or not parts[0].replace(".", "", 1).isdigit():
                continue
            name = parts[-1]
            seconds, calls = float(parts[1]), int(parts[3])
            if name == "total":
                total = calls
            else:
                rows.append((name, calls, seconds))
    return total, rows


def _traced(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1]) != 0
    return False


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def count_create(sp, rt, bundle, cid, out):
    """Counts one create; starts and deletes the container afterwards. The
    create command is our child, stopped before its execve, so we know when
    it exits; strace attaches to it with -p."""
    pidfile = out + ".pid"
    create = sp.spawn_stopped(rt.create(bundle, cid, pidfile))
    strace = sp.spawn([STRACE, "-f", "-c", "-w", "-o", out, "-p", str(create)])
    deadline = time.monotonic() + 20
    while not _traced(create):
        if time.monotonic() > deadline:
            raise TimeoutError("strace did not attach")
        time.sleep(0.0005)
    os.kill(create, signal.SIGCONT)
    outcome = sp.wait(create)
    # strace detaches from the waiting init and prints the summary on
    # SIGINT: sent to strace itself (`strace` is the runstat wrapper's
    # PID), which also works where SIGINT is ignored in the wrapper (a
    # background job of a script inherits that).
    for pid in _children(strace) or [strace]:
        os.kill(pid, signal.SIGINT)
    sp.wait(strace)
    try:
        with open(pidfile) as f:
            pid = int(f.read())
    except (FileNotFoundError, ValueError):
        pid = None
    sp.run(rt.start(cid))
    if pid:
        sp.wait_pid_exit(pid)
    sp.run(rt.delete(cid, force=True))
    sp.drain()
    if not outcome.ok:
        raise RuntimeError(f"{rt.name} create under strace failed (see {sp.errlog})")
    return parse_summary(out)


def count_run(sp, argv, out):
    """Counts a whole command (a `run`, or the floor)."""
    sp.run([STRACE, "-f", "-c", "-w", "-o", out, "--", *argv])
    sp.drain()
    return parse_summary(out)
