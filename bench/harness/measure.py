"""Spawning runtime commands and measuring them through runstat.c: wall
time around its fork..wait4, CPU time and peak RSS from the rusage wait4
returns (the ru_maxrss GNU time prints as %M: the process and the children
it reaped). The harness is a child subreaper, as containerd's shim is, so the
container processes that runtimes leave behind are reaped here."""

import ctypes
import os
import signal
import statistics
import time

PR_SET_CHILD_SUBREAPER = 36
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


class Outcome:
    """One finished command."""

    __slots__ = ("argv", "wall_ms", "cpu_ms", "maxrss_kb", "status")

    def __init__(self, argv, wall_ms, cpu_ms, maxrss_kb, status):
        self.argv = argv
        self.wall_ms = wall_ms
        self.cpu_ms = cpu_ms
        self.maxrss_kb = maxrss_kb
        self.status = status

    @property
    def ok(self):
        return os.WIFEXITED(self.status) and os.WEXITSTATUS(self.status) == 0


class Spawner:
    """Runs commands through the runstat helper (posix_spawn, vfork-cheap),
    stdin and stdout on /dev/null, stderr appended to a log file. One
    wait4(-1) loop keeps the outcome of tracked pids and drops the orphans
    it reaps (container inits)."""

    def __init__(self, errlog, runstat):
        self.null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        self.err = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.errlog = errlog
        self.runstat = runstat
        self.pending = {}  # pid -> (argv, start_ns, result pipe or None)
        self.done = {}  # pid -> Outcome

    def spawn(self, argv, stdout=None, stderr=None, env=None):
        out = self.null if stdout is None else stdout
        r, w = os.pipe2(os.O_CLOEXEC)
        actions = [
            (os.POSIX_SPAWN_DUP2, self.null, 0),
            (os.POSIX_SPAWN_DUP2, out, 1),
            (os.POSIX_SPAWN_DUP2, self.err if stderr is None else stderr, 2),
            (os.POSIX_SPAWN_DUP2, w, 3),
        ]
        start = time.perf_counter_ns()
        pid = os.posix_spawn(self.runstat, [self.runstat, "3", *argv], {**ENV, **(env or {})},
                             file_actions=actions)
        os.close(w)
        self.pending[pid] = (argv, start, r)
        return pid

    def spawn_stopped(self, argv):
        """fork + SIGSTOP + execve: a child a tracer can attach to before it
        runs argv. Returns once the child is stopped; SIGCONT lets it go."""
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(self.null, 0)
                os.dup2(self.null, 1)
                os.dup2(self.err, 2)
                os.kill(os.getpid(), signal.SIGSTOP)
                os.execve(argv[0], argv, ENV)
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            raise RuntimeError(f"{argv[0]}: child did not stop ({status})")
        self.pending[pid] = (argv, time.perf_counter_ns(), None)
        return pid

    def _reap_one(self, flags=0):
        pid, status, ru = os.wait4(-1, flags)
        if pid == 0:
            return False
        end = time.perf_counter_ns()
        if pid in self.pending:
            argv, start, pipe = self.pending.pop(pid)
            self.done[pid] = self._outcome(argv, end - start, status, ru, pipe)
        return True

    @staticmethod
    def _outcome(argv, wall_ns, status, ru, pipe):
        if pipe is None:  # a direct child: its own rusage
            return Outcome(argv, wall_ns / 1e6, (ru.ru_utime + ru.ru_stime) * 1000.0, ru.ru_maxrss, status)
        with os.fdopen(pipe) as f:
            line = f.read().split()
        if len(line) != 5:  # runstat itself failed
            return Outcome(argv, wall_ns / 1e6, float("nan"), 0, 1 << 8)
        w, ut, st, rss, status = map(int, line)
        return Outcome(argv, w / 1e6, (ut + st) / 1000.0, rss, status)

    def wait(self, pid):
        while pid not in self.done:
            self._reap_one()
        return self.done.pop(pid)

    def run(self, argv, stdout=None, stderr=None, env=None):
        return self.wait(self.spawn(argv, stdout, stderr, env))

    def wait_pid_exit(self, pid, timeout=10.0):
        """Waits until the (orphaned, reparented to us) process pid is gone."""
        deadline = time.monotonic() + timeout
        while os.path.exists(f"/proc/{pid}"):
            try:
                if not self._reap_one(os.WNOHANG):
                    time.sleep(0.0002)
            except ChildProcessError:
                time.sleep(0.0002)
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {pid} did not exit")

    def drain(self):
        """Reaps every exited orphan (non-blocking)."""
        while True:
            try:
                if not self._reap_one(os.WNOHANG):
                    return
            except ChildProcessError:
                return


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def quartiles(xs):
    if len(xs) < 4:
        return (min(xs), max(xs)) if xs else (float("nan"), float("nan"))
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]
