"""The engine-level benchmark (bench/engines.sh runs it in the cgroup v1
view, under the CRI client's venv python).

Per engine: start its daemon with private state under --work, register
every runtime (remora, runc, crun, and remora-trace: remora through a
wrapper that turns its phase trace on), then
  - latency: N rounds; each round runs one container per runtime, the
    order rotated each round (interleaved); wall time of the client
    command (`docker run --rm`, `podman run --rm`, `ctr run --rm`) or, for
    the CRI, of RunPodSandbox + CreateContainer + StartContainer;
  - throughput: bursts of B containers started at once per runtime
    (interleaved), containers per second until the last is done;
  - remora's share: T containers with remora-trace; the sum of the
    `total=` of every traced remora operation (create, start, delete) per
    container, against remora's median latency; and how many times the
    engine called the runtime per container.
Then the daemon is stopped by PID and its leftovers removed.
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

BEGIN = "<!-- engines:begin (bench/engines.sh replaces this section) -->"
END = "<!-- engines:end -->"
KEEP = "<!-- everything below this line is kept when bench/run.sh rewrites the file -->"
IMG_DOCKER = "rmr-busybox:latest"
IMG_PODMAN = "localhost/rmr-busybox:latest"
IMG_CTR = "docker.io/library/rmr-busybox:latest"
IMG_PAUSE = "docker.io/library/rmr-pause:latest"
TRACE = re.compile(r"(\w+) phases:((?: [\w+.-]+=\d+µs)+)")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(argv, timeout=120, env=None, check=True, cwd=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env, cwd=cwd)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv[:6]), r.returncode, r.stderr[-600:]))
    return r


def timed(argv, env=None, cwd=None):
    t = time.perf_counter()
    run(argv, env=env, cwd=cwd)
    return (time.perf_counter() - t) * 1000


def wait_for(fn, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            if fn():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for the daemon")


def descendants(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                for c in f.read().split():
                    out += descendants(int(c)) + [int(c)]
    except OSError:
        pass
    return out


def kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop(proc, secs=30):
    """SIGTERM the daemon, wait, then SIGKILL it and what it started."""
    if proc is None or proc.poll() is not None:
        return
    kids = descendants(proc.pid)
    proc.terminate()
    try:
        proc.wait(secs)
    except subprocess.TimeoutExpired:
        kill_pid(proc.pid, signal.SIGKILL)
        proc.wait()
    for k in kids:
        kill_pid(k, signal.SIGKILL)


def processes_naming(text):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def umount_under(d):
    with open("/proc/self/mountinfo") as f:
        points = [l.split()[4] for l in f if l.split()[4].startswith(d)]
    for m in sorted(points, reverse=True):
        subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)


def rm_cgroup(rel):
    """The cgroup `rel` in every hierarchy mounted here, leaves first
    (empty ones only: rmdir)."""
    with open("/proc/self/mountinfo") as f:
        roots = [l.split()[4] for l in f if " - cgroup" in l]
    for r in roots:
        base = os.path.join(r, rel.strip("/"))
        for root, dirs, _ in os.walk(base, topdown=False):
            for d in dirs:
                try:
                    os.rmdir(os.path.join(root, d))
                except OSError:
                    pass
        try:
            os.rmdir(base)
        except OSError:
            pass


RUN_DIRS = ["/run/containerd", "/run/docker", "/run/containers", "/run/libpod"]


def run_entries():
    out = set()
    for d in RUN_DIRS:
        for root, dirs, files in os.walk(d):
            if root.count("/") - d.count("/") >= 3:
                continue
            out.update(os.path.join(root, x) for x in dirs + files)
        if os.path.exists(d):
            out.add(d)
    return out


def run_entries_cleanup(before):
    """What the engines left under /run that was not there before and
    nobody uses (another engine run may share these dirs)."""
    listening = run(["ss", "-xl"], check=False).stdout
    for e in sorted(run_entries() - before, reverse=True):
        try:
            if os.path.islink(e) or not os.path.isdir(e):
                if e in listening:
                    continue
                os.unlink(e)
            else:
                os.rmdir(e)
        except OSError:
            pass


def pcts(v):
    v = sorted(v)
    if len(v) < 2:
        return v[0], v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], statistics.median(v), q[2]


class Engine:
    name = "?"
    cgroup_parent = None

    def __init__(self, a, runtimes):
        self.a = a
        self.rt = runtimes
        self.dir = os.path.join(a.work, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.seq = itertools.count(1)  # next() is atomic: bursts run in threads

    def uid(self, rt):
        return "b%s%d" % (rt.replace("-", ""), next(self.seq))

    def teardown(self):
        stop(self.proc)
        for p in processes_naming(self.dir):
            kill_pid(p, signal.SIGKILL)
        umount_under(self.dir)
        if self.cgroup_parent:
            rm_cgroup(self.cgroup_parent)


class Docker(Engine):
    name = "docker"
    cgroup_parent = "/remora-bench-docker"

    def D(self, *args):
        return ["/usr/bin/docker", "-H", "unix://%s/docker.sock" % self.dir] + list(args)

    def setup(self):
        d = self.dir
        cfg = {"runtimes": {n: {"path": p} for n, p in self.rt.items() if n != "runc"}}
        # "runc" is Docker's own name (PATH's runc): Debian's runc 1.1.5 as runc-deb
        cfg["runtimes"]["runc-deb"] = {"path": self.rt["runc"]}
        with open(d + "/daemon.json", "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen(
            ["dockerd", "--config-file", d + "/daemon.json", "--data-root", d + "/data",
             "--exec-root", d + "/exec", "--pidfile", d + "/dockerd.pid", "-H", "unix://%s/docker.sock" % d,
             "--bridge", "none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
             "--userland-proxy=false", "--storage-driver", "overlay2",
             "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", self.cgroup_parent],
            stdout=open(d + "/dockerd.log", "w"), stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE="1"))
        wait_for(lambda: run(self.D("version"), check=False).returncode == 0)
        run(self.D("import", "--change", 'CMD ["/bin/sh"]', self.a.images + "/rootfs.tar", IMG_DOCKER))

    def start_one(self, rt):
        name = "runc-deb" if rt == "runc" else rt
        return timed(self.D("run", "--rm", "--runtime", name, "--network", "none", IMG_DOCKER, "true"))

    def teardown(self):
        if self.proc and self.proc.poll() is None:
            ids = run(self.D("ps", "-aq"), check=False).stdout.split()
            if ids:
                run(self.D("rm", "-f", *ids), check=False)
        super().teardown()
        shutil.rmtree(self.dir + "/data", ignore_errors=True)


class Podman(Engine):
    name = "podman"
    cgroup_parent = "/libpod_parent"

    def P(self, rt, *args):
        d = self.dir
        return ["podman", "--root", d + "/root", "--runroot", d + "/runroot", "--tmpdir", d + "/tmp",
                "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--runtime", self.rt[rt]] + list(args)

    def env(self):
        return dict(os.environ, CONTAINERS_CONF=self.dir + "/containers.conf")

    def setup(self):
        hard_n = run(["bash", "-c", "ulimit -Hn"]).stdout.strip()
        hard_u = run(["bash", "-c", "ulimit -Hu"]).stdout.strip()
        nproc = "32768" if hard_u == "unlimited" or int(hard_u) > 32768 else hard_u
        with open(self.dir + "/containers.conf", "w") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n'
                    'log_driver = "k8s-file"\n\n[engine]\ncgroup_manager = "cgroupfs"\n'
                    'events_logger = "file"\n' % (hard_n, hard_n, nproc, nproc))
        run(self.P("remora", "import", "--change", 'CMD ["/bin/sh"]', self.a.images + "/rootfs.tar",
                   IMG_PODMAN), env=self.env(), cwd=self.dir)

    def start_one(self, rt):
        return timed(self.P(rt, "run", "--rm", "--network", "none", IMG_PODMAN, "true"),
                     env=self.env(), cwd=self.dir)

    def teardown(self):
        run(self.P("remora", "rm", "-af", "-t", "0"), env=self.env(), cwd=self.dir, check=False)
        run(self.P("remora", "rmi", "-af"), env=self.env(), cwd=self.dir, check=False)
        super().teardown()
        shutil.rmtree(self.dir + "/root", ignore_errors=True)


CONTAINERD_BASE = """version = 2
root = "{d}/root"
state = "{d}/state"
{disabled}
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"""


class Containerd(Engine):
    def C(self, *args):
        return ["ctr", "--address", self.dir + "/containerd.sock", "-n", self.ns] + list(args)

    def start_daemon(self, config):
        with open(self.dir + "/config.toml", "w") as f:
            f.write(config)
        self.proc = subprocess.Popen(["containerd", "--config", self.dir + "/config.toml"],
                                     stdout=open(self.dir + "/containerd.log", "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: run(self.C("version"), check=False).returncode == 0)
        run(self.C("images", "import", "--base-name", "docker.io/library/rmr-busybox",
                   self.a.images + "/busybox-oci.tar"))

    def teardown(self):
        if self.proc and self.proc.poll() is None:
            for t in run(self.C("task", "ls", "-q"), check=False).stdout.split():
                run(self.C("task", "kill", "-a", "-s", "KILL", t), check=False)
                run(self.C("task", "delete", "-f", t), check=False)
            for c in run(self.C("containers", "ls", "-q"), check=False).stdout.split():
                run(self.C("containers", "delete", c), check=False)
        super().teardown()
        shutil.rmtree(self.dir + "/root", ignore_errors=True)


class Ctr(Containerd):
    name = "ctr"
    ns = "remora-bench"
    cgroup_parent = "/remora-bench"

    def setup(self):
        self.start_daemon(CONTAINERD_BASE.format(
            d=self.dir, disabled='disabled_plugins = ["io.containerd.grpc.v1.cri"]'))

    def start_one(self, rt):
        return timed(self.C("run", "--rm", "--runc-binary", self.rt[rt], "--runc-root",
                            "%s/runc-%s" % (self.dir, rt), IMG_CTR, self.uid(rt), "true"))


class Cri(Containerd):
    """containerd's CRI plugin, one runtime handler per runtime (the runc
    shim with BinaryName), a pod (its own network namespace on a CNI
    bridge, as integration-tests/engines/cri.sh) and one container per
    sample."""
    name = "cri"
    ns = "k8s.io"
    cgroup_parent = "/remora-bench-cri"
    bridge = "rmrbench0"

    def setup(self):
        d = self.dir
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            self.ip_forward = f.read().strip()
        os.makedirs(d + "/cni", exist_ok=True)
        with open(d + "/cni/10-rmr-bench.conflist", "w") as f:
            json.dump({"cniVersion": "0.4.0", "name": "rmr-bench", "plugins": [
                {"type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.213.9.0/24"}]],
                          "dataDir": d + "/cni-ipam"}}]}, f)
        cfg = CONTAINERD_BASE.format(d=d, disabled="")
        cfg += """[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  disable_apparmor = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "remora"
    snapshotter = "overlayfs"
""".format(pause=IMG_PAUSE, d=d)
        for n, p in self.rt.items():
            cfg += """    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{n}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{n}.options]
        BinaryName = "{p}"
        Root = "{d}/runc-{n}"
""".format(n=n, p=p, d=d)
        self.start_daemon(cfg)
        run(self.C("images", "import", "--base-name", "docker.io/library/rmr-pause",
                   self.a.images + "/pause-oci.tar"))
        import grpc
        from cri_api.v1 import api_pb2 as pb
        from cri_api.v1 import api_pb2_grpc as pbg
        self.pb = pb
        self.stub = pbg.RuntimeServiceStub(grpc.insecure_channel("unix://%s/containerd.sock" % d))

    def start_one(self, rt):
        pb = self.pb
        name = self.uid(rt)
        os.makedirs(self.dir + "/logs/" + name, exist_ok=True)
        pod = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid="uid-" + name, namespace="bench"),
            hostname=name, log_directory=self.dir + "/logs/" + name,
            linux=pb.LinuxPodSandboxConfig(cgroup_parent="%s/%s" % (self.cgroup_parent, name)))
        ctr = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="c"),
                                 image=pb.ImageSpec(image=IMG_CTR), command=["true"], log_path="c.log")
        t = time.perf_counter()
        pid = self.stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod, runtime_handler=rt),
                                      timeout=60).pod_sandbox_id
        cid = self.stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=ctr, sandbox_config=pod), timeout=60).container_id
        self.stub.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=60)
        ms = (time.perf_counter() - t) * 1000
        # Untimed. containerd 1.6 sometimes fails to stop a container that
        # has just exited ("ttrpc: closed", with every runtime): once more.
        for attempt in (1, 2):
            try:
                self.stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=60)
                self.stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=60)
                break
            except Exception as ex:
                if attempt == 2:
                    raise
                log("cri/%s: removing the pod, again: %s" % (rt, str(ex).splitlines()[0]))
                time.sleep(0.5)
        return ms

    def teardown(self):
        try:
            pb = self.pb
            for p in self.stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=20).items:
                self.stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=p.id), timeout=20)
                self.stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=p.id), timeout=20)
        except Exception as e:
            log("cri teardown:", e)
        super().teardown()
        subprocess.run(["ip", "link", "del", self.bridge], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir + "/cni-ipam", ignore_errors=True)
        if hasattr(self, "ip_forward"):
            with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
                f.write(self.ip_forward)


ENGINES = {"docker": Docker, "podman": Podman, "ctr": Ctr, "cri": Cri}
TITLES = {"docker": "`docker run --rm busybox true`", "podman": "`podman run --rm busybox true`",
          "ctr": "`ctr run --rm busybox true`", "cri": "CRI pod + container start"}


def wrappers(a):
    """The runtimes, and remora with its phase trace on (a wrapper: each
    invocation's argv and, through REMORA_TRACE=FILE, its trace lines go to
    trace.log; its stderr stays the engine's)."""
    d = os.path.join(a.work, "bin")
    os.makedirs(d, exist_ok=True)
    trace = os.path.join(d, "remora-trace")
    tlog = os.path.join(a.work, "trace.log")
    with open(trace, "w") as f:
        f.write('#!/bin/sh\necho "CALL $*" >>%s\nREMORA_TRACE=%s exec %s "$@"\n' % (tlog, tlog, a.remora))
    os.chmod(trace, 0o755)
    return {"remora": a.remora, "runc": "/usr/sbin/runc", "crun": "/usr/bin/crun", "remora-trace": trace}, tlog


def trace_share(tlog, n):
    """(ms of traced remora operations per container, runtime calls per
    container, {operation: (ms per container, operations per container,
    median ms, its longest phase, median ms)})."""
    calls, ops = 0, {}
    with open(tlog, errors="replace") as f:
        for line in f:
            if line.startswith("CALL "):
                calls += 1
            m = TRACE.search(line)
            if not m:
                continue
            phases = {k: int(v) / 1000 for k, v in re.findall(r"([\w+.-]+)=(\d+)µs", m.group(2))}
            op = ops.setdefault(m.group(1), {})
            for k, v in phases.items():
                op.setdefault(k, []).append(v)
    out = {}
    for name, phases in ops.items():
        med = {k: statistics.median(v) for k, v in phases.items()}
        top = max((k for k in med if k != "total"), key=lambda k: med[k], default="-")
        # (per container: summed total ms, operations; median total ms, longest phase, its ms)
        out[name] = (sum(phases.get("total", [])) / n, len(phases.get("total", [])) / n,
                     med.get("total", 0), top, med.get(top, 0))
    return calls / n, out


def bench_engine(e, rts, a, tlog):
    res = {"lat": {r: [] for r in rts}, "tput": {r: [] for r in rts}, "fail": {r: 0 for r in rts}}
    for r in rts:  # warm-up: caches, image unpacked, first shim
        e.start_one(r)
    for i in range(a.n):
        order = rts[i % len(rts):] + rts[:i % len(rts)]
        for r in order:
            try:
                res["lat"][r].append(e.start_one(r))
            except Exception as ex:
                res["fail"][r] += 1
                log("%s/%s: %s" % (e.name, r, ex))
    for i in range(a.bursts):
        order = rts[i % len(rts):] + rts[:i % len(rts)]
        for r in order:
            t = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(a.burst_size) as pool:
                futs = [pool.submit(e.start_one, r) for _ in range(a.burst_size)]
                ok = 0
                for f in futs:
                    try:
                        f.result()
                        ok += 1
                    except Exception as ex:
                        res["fail"][r] += 1
                        log("%s/%s burst: %s" % (e.name, r, ex))
            res["tput"][r].append(ok / (time.perf_counter() - t))
    if "remora" in rts and a.trace:
        open(tlog, "w").close()
        done = 0
        for _ in range(a.trace):
            try:
                e.start_one("remora-trace")
                done += 1
            except Exception as ex:
                log("%s/remora-trace: %s" % (e.name, ex))
        if done:
            res["trace"] = trace_share(tlog, done)
    return res


def table(results, rts, a, info):
    out = [BEGIN, "", "## Engine level (bench/engines.sh)", ""]
    out.append("Run %s; %s. One command: `sudo bench/engines.sh` (%s). Each engine runs with "
               "private state (Debian's packages, configured as integration-tests/engines/ does; "
               "`--network none` for docker and podman, a CNI bridge for the CRI pod), in the cgroup "
               "v1 view: a private mount namespace without this hybrid host's cgroup2 mount, so that "
               "crun 1.8 runs, with its cgroup manager, beside remora and runc (all three make v1 "
               "cgroups; bench/harness/view-cgroup1.sh). The runtimes are "
               "interleaved: each round starts one container per runtime, the order rotated. "
               "Latency: wall time of the client command, or for the CRI of RunPodSandbox + "
               "CreateContainer + StartContainer (stop and removal not timed); %d rounds after "
               "one warm-up each. Throughput: %d bursts of %d containers started at once per "
               "runtime, containers per second until the last is done. The machine is shared "
               "(2 cores, other work running: %s): small samples, read the IQRs."
               % (info["when"], info["versions"], info["args"], a.n, a.bursts, a.burst_size, info["load"]))
    out += ["", "| engine | runtime | median ms | IQR ms | n | failed | throughput /s (median) | remora/runtime latency |",
            "|---|---|---|---|---|---|---|---|"]
    for eng, res in results.items():
        if "error" in res:
            out.append("| %s | all | - | - | 0 | - | - | engine failed: %s |" % (TITLES[eng], res["error"][:120]))
            continue
        rem = statistics.median(res["lat"]["remora"]) if res["lat"].get("remora") else None
        for r in rts:
            v = res["lat"][r]
            if not v:
                out.append("| %s | %s | - | - | 0 | %d | - | - |" % (TITLES[eng], r, res["fail"][r]))
                continue
            q1, med, q3 = pcts(v)
            tp = "%.1f" % statistics.median(res["tput"][r]) if res["tput"][r] else "-"
            ratio = "%.2f" % (rem / med) if rem and r != "remora" else ""
            out.append("| %s | %s | %.0f | %.0f-%.0f | %d | %d | %s | %s |"
                       % (TITLES[eng], r, med, q1, q3, len(v), res["fail"][r], tp, ratio))
    out += ["", "remora's share of the end-to-end time, from its phase trace (%d containers per "
            "engine with remora-trace: the same binary run by a wrapper that sets "
            "REMORA_TRACE=FILE). Traced ms: the `total` of every traced remora operation inside "
            "the timed window, summed per container (create, start and delete; for the CRI "
            "create and start of the pause and the app container, its stop and removal are not "
            "timed); the process start of each remora and the untraced commands (state, kill, "
            "features) are not in it. Calls: every runtime invocation per container, the "
            "untimed ones included." % a.trace, "",
            "| engine | remora ms per container (traced, mean) | share of remora's median latency | runtime calls per container | per operation: count per container, median ms (longest phase) |",
            "|---|---|---|---|---|"]
    for eng, res in results.items():
        if "trace" not in res or not res["lat"].get("remora"):
            continue
        calls, ops = res["trace"]
        timed = ("create", "start") if eng == "cri" else ("create", "start", "delete")
        ms = sum(v[0] for k, v in ops.items() if k in timed)
        med = statistics.median(res["lat"]["remora"])
        out.append("| %s | %.1f | %.1f%% | %.1f | %s |" % (
            TITLES[eng], ms, 100 * ms / med, calls,
            "; ".join("%s x%.0f, %.1f (%s %.1f)" % (k, c, t, p, pv)
                      for k, (_, c, t, p, pv) in sorted(ops.items()))))
    out += ["", END]
    return "\n".join(out) + "\n"


def write_doc(path, section):
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        if KEEP not in text:
            text += "\n" + KEEP + "\n"
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


def versions(a):
    def first(argv):
        r = run(argv, check=False)
        return (r.stdout or r.stderr).splitlines()[0].strip() if (r.stdout or r.stderr) else "?"
    rev = run(["git", "-C", a.repo, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    return ("remora %s (commit %s), %s, %s; %s, %s, %s, containerd %s" % (
        first([a.remora, "--version"]).split()[-1], rev, first(["/usr/sbin/runc", "--version"]),
        first(["/usr/bin/crun", "--version"]), first(["/usr/bin/docker", "--version"]),
        first(["podman", "--version"]), first(["ctr", "--version"]),
        first(["containerd", "--version"]).split()[2]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--remora", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--bursts", type=int, default=2)
    ap.add_argument("--burst-size", type=int, default=4)
    ap.add_argument("--trace", type=int, default=5)
    ap.add_argument("--engines", default="docker,podman,ctr,cri")
    ap.add_argument("--runtimes", default="remora,runc,crun")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args()
    # TERM/INT: unwind, so that every daemon is stopped (finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    load_before = os.getloadavg()
    paths, tlog = wrappers(a)
    rts = a.runtimes.split(",")
    before = run_entries()
    results = {}
    try:
        for name in a.engines.split(","):
            e = ENGINES[name](a, paths)
            log("=== %s" % name)
            t = time.time()
            try:
                e.setup()
                results[name] = bench_engine(e, rts, a, tlog)
            except Exception as ex:
                log("%s failed: %s" % (name, ex))
                results[name] = {"error": str(ex).replace("\n", " ").replace("|", "/")}
            finally:
                e.teardown()
                run_entries_cleanup(before)
            log("--- %s: %.0f s" % (name, time.time() - t))
    finally:
        for p in processes_naming(a.work):
            kill_pid(p, signal.SIGKILL)
    info = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "versions": versions(a),
            "load": "load average %.1f before, %.1f after" % (load_before[0], os.getloadavg()[0]),
            "args": "--n %d --bursts %d --burst-size %d --trace %d" % (a.n, a.bursts, a.burst_size, a.trace)}
    section = table(results, rts, a, info)
    print(section)
    if not a.no_doc:
        write_doc(a.out, section)
        log("wrote %s" % a.out)


if __name__ == "__main__":
    main()
