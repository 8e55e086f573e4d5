#!/usr/bin/env python3
"""pty_run.py SECONDS COMMAND: run COMMAND (through sh -c) with a new
pseudo-terminal as its controlling terminal, stdin, stdout and stderr, the way
a user at a terminal runs `ctr run -t`, `docker run -it` or `podman run -t`.

Our stdin is copied to the terminal until it ends; its end is NOT turned into
an EOF character (util-linux `script` does that, and a ^D typed into a
terminal in raw mode becomes input of the container). What the terminal
prints is copied to our stdout. Exit status: COMMAND's; 124 when it is still
running after SECONDS (it is then killed, and what it printed so far is
followed by a line saying so, so that a hang can be told from a failure).
"""
import errno
import os
import pty
import select
import signal
import sys
import time


def main():
    limit = float(sys.argv[1])
    cmd = sys.argv[2]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", cmd])
    deadline = time.monotonic() + limit
    stdin_open = True
    status = None
    out = sys.stdout.buffer
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            # pty.fork made the child a session (and group) leader
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            out.write(b"\npty_run: still running after %gs, killed\n" % limit)
            out.flush()
            return 124
        fds = [master] + ([0] if stdin_open else [])
        ready, _, _ = select.select(fds, [], [], min(left, 0.2))
        if 0 in ready:
            data = os.read(0, 4096)
            if data:
                os.write(master, data)
            else:
                stdin_open = False
        if master in ready:
            try:
                data = os.read(master, 4096)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if data:
                out.write(data)
                out.flush()
                continue
            # EIO/EOF: every holder of the terminal's other end closed it
            if status is None:
                _, status = os.waitpid(pid, 0)
            break
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        # the child has exited but something in the background (a process it
        # left) still holds the terminal: drain until that closes or time out
    os.close(master)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
