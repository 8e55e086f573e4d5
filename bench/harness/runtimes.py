"""The runtimes under test and the command lines each gets."""

import os
import subprocess


class Runtime:
    """A runtime binary with its global flags (own state root per view)."""

    def __init__(self, name, binary, root, extra=()):
        self.name = name
        self.binary = binary
        self.root = root
        self.base = [binary, "--root", root, *extra]

    def cmd(self, *args):
        return [*self.base, *args]

    def run(self, bundle, cid):
        return self.cmd("run", "--bundle", bundle, cid)

    def create(self, bundle, cid, pidfile):
        return self.cmd("create", "--bundle", bundle, "--pid-file", pidfile, cid)

    def start(self, cid):
        return self.cmd("start", cid)

    def state(self, cid):
        return self.cmd("state", cid)

    def delete(self, cid, force=False):
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def exec(self, cid, *argv):
        return self.cmd("exec", cid, *argv)

    def supports_exec(self):
        r = subprocess.run([self.binary, "exec", "--help"], capture_output=True)
        return r.returncode == 0

    def version(self):
        r = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return r.stdout.splitlines()[0].strip() if r.stdout else "?"


def for_view(view, remora, state_dir, baseline=None):
    """remora and runc in both views; crun only in the cgroup2 view, with
    its cgroup manager disabled (it cannot load its eBPF device filter
    here: RLIMIT_MEMLOCK cannot be raised without CAP_SYS_RESOURCE). With
    a baseline, that remora binary too, as remora-base."""
    root = lambda n: os.path.join(state_dir, view, n)
    rts = [Runtime("remora", remora, root("remora")), Runtime("runc", "/usr/sbin/runc", root("runc"))]
    if baseline:
        rts.append(Runtime("remora-base", baseline, root("remora-base")))
    if view == "cgroup2":
        rts.append(Runtime("crun", "/usr/bin/crun", root("crun"), ["--cgroup-manager=disabled"]))
    return rts


def floor_argv(rootfs):
    """What the kernel needs: the same five new namespaces as the bundle
    (pid, net, ipc, uts, mount), chroot into the same rootfs, exec /bin/true."""
    return ["/usr/bin/unshare", "--pid", "--fork", "--net", "--ipc", "--uts", "--mount",
            "/usr/sbin/chroot", rootfs, "/bin/true"]
