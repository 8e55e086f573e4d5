"""The benchmark: builds the bundles, runs every workload in both views
(view_main.py), writes docs/benchmarks.md and prints it."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from . import bundles, report
from .measure import median, quartiles

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    return r.stdout.strip()


def first_line(*argv):
    out = sh(*argv)
    return out.splitlines()[0] if out else "?"


def lib_sizes(binary):
    total = os.path.getsize(binary)
    for line in sh("ldd", binary).splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and os.path.exists(parts[2]):
            lib = os.path.basename(parts[2])
            if not lib.startswith(("libc.so", "libm.so", "libgcc_s.so", "ld-linux", "libpthread", "libdl")):
                total += os.path.getsize(os.path.realpath(parts[2]))
    return os.path.getsize(binary), total


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    osr = sh("sh", "-c", ". /etc/os-release; echo $PRETTY_NAME")
    return {"kernel": platform.release(), "os": osr, "cpu": f"{os.cpu_count()} x {cpu}",
            "memory": f"{mem} MiB",
            "cgroups": "hybrid: v1 controllers at /sys/fs/cgroup/<ctrl>, cgroup2 (hugetlb only) at "
                       "/sys/fs/cgroup/unified"}


def versions(repo, remora, baseline=None):
    commit = sh("git", "-C", repo, "rev-parse", "--short", "HEAD")
    dirty = sh("git", "-C", repo, "status", "--porcelain", "--", "runtime", "namespaces", "cgroups", "seccomp")
    out = {
        "remora": f"{first_line(remora, '--version')} (commit {commit}{', runtime tree modified' if dirty else ''}; "
                  "cargo build --release)",
    }
    if baseline:
        v = subprocess.run([baseline, "--version"], capture_output=True, text=True).stdout.splitlines()
        commit_b = next((l.split(": ", 1)[1][:7] for l in v if l.startswith("commit: ")), "?")
        off = any(l.startswith("protection: OFF") for l in v)
        out["remora-base"] = (f"{v[0] if v else baseline} (commit {commit_b}"
                              + ("; built with REMORA_UNPROTECTED=bench-only: the runtime binary's "
                                 "protection off, nothing else different" if off else "") + ")")
    return out | {
        "runc": first_line("/usr/sbin/runc", "--version") + " (Debian)",
        "crun": first_line("/usr/bin/crun", "--version") + " (Debian)",
        "strace": first_line("strace", "-V"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--remora", required=True)
    ap.add_argument("--baseline", help="another remora binary (e.g. an earlier commit's) measured "
                    "beside it as remora-base: the ratio remora/remora-base is a change's cost")
    ap.add_argument("--runstat", required=True)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--par-reps", type=int, default=5)
    ap.add_argument("--perf-runs", type=int, default=10)
    ap.add_argument("--views", default="cgroup2,host")
    ap.add_argument("--out", help="markdown file to write (docs/benchmarks.md)")
    a = ap.parse_args()

    t0 = time.time()
    work = tempfile.mkdtemp(prefix="remora-bench-")
    try:
        b = bundles.make(a.repo, a.remora, os.path.join(work, "bundles"))
        bpath = os.path.join(work, "bundles.json")
        with open(bpath, "w") as f:
            json.dump(b, f)
        views = {}
        for view in a.views.split(","):
            print(f"== {view} view", file=sys.stderr, flush=True)
            out = os.path.join(work, f"{view}.json")
            cmd = [sys.executable, "-m", "harness.view_main", "--view", view, "--remora", a.remora,
                   "--bundles", bpath, "--work", work, "--reps", str(a.reps),
                   "--par-reps", str(a.par_reps), "--perf-runs", str(a.perf_runs), "--runstat", a.runstat, "--out", out]
            if a.baseline:
                cmd += ["--baseline", a.baseline]
            if view == "cgroup2":
                cmd = ["unshare", "--mount", "--propagation", "private",
                       os.path.join(HERE, "view-cgroup2.sh"), *cmd]
            subprocess.run(cmd, check=True, cwd=os.path.dirname(HERE))
            with open(out) as f:
                views[view] = json.load(f)
        profile = json.load(open(os.path.join(b["seccomp"], "config.json")))["linux"]["seccomp"]
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "duration_s": time.time() - t0,
            "machine": machine(),
            "versions": versions(a.repo, a.remora, a.baseline),
            "sizes": {"remora": lib_sizes(a.remora), "runc": lib_sizes("/usr/sbin/runc"),
                      "crun": lib_sizes("/usr/bin/crun")},
            "debug_trace": views.get("cgroup2", views.get("host", {})).get("debug_trace"),
            "method": method(a, profile),
            "noise": noise(views),
        }
        notes = ""
        if a.out and os.path.exists(a.out):
            text = open(a.out).read()
            if report.NOTES in text:
                notes = text.split(report.NOTES, 1)[1].lstrip("\n")
        md = report.render(meta, views, notes)
        print(md)
        if a.out:
            with open(a.out, "w") as f:
                f.write(md)
            print(f"written to {a.out}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def method(a, profile):
    rules = sum(len(r["names"]) for r in profile["syscalls"])
    return [
        "- One busybox bundle (`scripts/make-bundle.sh`: busybox-static, `remora spec` config with "
        "new pid, network, ipc, uts and mount namespaces, no cgroupsPath so each runtime uses its "
        "default cgroup), process `/bin/true`; the same config.json for every runtime "
        "(ociVersion 1.0.2: crun 1.8.1 refuses 1.2.0 with \"unknown version specified\").",
        "- Two views, each comparison within one view: **host** (the machine's hybrid cgroups: "
        "remora and runc make v1 cgroups; crun cannot run here) and **cgroup2** (`unshare -m`, "
        "cgroup2 mounted at /sys/fs/cgroup: remora and runc make a cgroup2 cgroup; crun runs with "
        "`--cgroup-manager=disabled`, so it makes no cgroup at all).",
        f"- Interleaved runs: A B C A B C ..., the order rotated every round; {a.reps} timed runs "
        "per runtime and workload after one warm-up each; parallel: "
        f"{a.par_reps} rounds, each with three waves of 10 and one of 50 per runtime, back to back. Figures are medians; IQR = 25th-75th percentile.",
        "- Each command is started by a tiny static helper (bench/harness/runstat.c: fork, execv, "
        "wait4) that reports wall time (fork to reaped), CPU time (user+system of the command and "
        "every child it reaped) and peak RSS (ru_maxrss, as GNU time's %M). The harness is a "
        "child subreaper, as containerd's shim is, and reaps the container processes.",
        "- `run`: the container runs /bin/true and the runtime deletes it. Lifecycle: `create "
        "--pid-file`, `start`, `state`, then the harness waits until the container's process has "
        "exited (not counted), then `delete`. exec: `exec ID /bin/true` into a running "
        "`busybox sleep`; remora is skipped while `remora exec --help` fails.",
        f"- Seccomp: Docker's default profile ({profile and len(profile['syscalls'])} rules, {rules} "
        "syscall names, from golang-github-docker-docker-dev) resolved for Docker's default "
        "capabilities on amd64, as the engine hands it to the runtime.",
        "- Floor: `unshare --pid --fork --net --ipc --uts --mount chroot ROOTFS /bin/true`: the "
        "same five new namespaces, no runtime.",
        "- System calls: `strace -f -c -w` attached (`-p`) to the create command, stopped before "
        "its execve; detached once the create command has exited (the init then waits for "
        "start). strace is not running during the timed workloads.",
        f"- Where the time goes: `perf trace -s` around {a.perf_runs} `run`s per runtime (after "
        "the timed workloads).",
    ]


def noise(views):
    lines = ["- The machine has 2 cores and is shared with other engineers' test suites running at "
             "the same time; the load average is given per view. Interleaving makes drift hit "
             "every runtime alike; the IQR column shows the spread."]
    for name, v in views.items():
        for key in ("run", "lifecycle"):
            for rt, slot in v["workloads"].get(key, {}).items():
                if "wall" in slot and slot["wall"]:
                    lo, hi = quartiles(slot["wall"])
                    m = median(slot["wall"])
                    if m and (hi - lo) / m > 0.5:
                        lines.append(f"- {name}/{key}/{rt}: wide spread (IQR {lo:.1f}-{hi:.1f} ms "
                                     f"around {m:.1f} ms).")
    return lines


if __name__ == "__main__":
    main()
