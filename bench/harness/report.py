"""Turns the raw figures of both views into the markdown of
docs/benchmarks.md (also printed). Everything below the NOTES marker of an
existing docs/benchmarks.md is kept: hand-written analysis survives a rerun."""

import math

from .measure import median, quartiles

NOTES = "<!-- everything below this line is kept when bench/run.sh rewrites the file -->"

VIEW_TITLE = {
    "host": "host view (the machine as it is: hybrid cgroups, v1 controllers)",
    "cgroup2": "cgroup2 view (private mount namespace, the cgroup2 mount at /sys/fs/cgroup; "
               "crun with --cgroup-manager=disabled)",
}
WORKLOADS = [
    ("run", "`run` /bin/true (create+start+wait+delete)"),
    ("lifecycle", "create + start + state + delete (4 commands)"),
    ("exec", "`exec` /bin/true into a running container"),
    ("run-seccomp", "`run` /bin/true, Docker's default seccomp profile"),
]


def f1(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def f2(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def med(slot, key):
    if not slot or "skipped" in slot or not slot.get(key):
        return None
    return median(slot[key])


def peers(view):
    return [p for p in view["runtimes"] if p != "remora"]


def per_container_table(view, out):
    out.append(f"| workload | runtime | wall ms (median) | IQR | CPU ms | peak RSS MiB | errors | n |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for key, title in WORKLOADS:
        w = view["workloads"].get(key, {})
        for rt, slot in w.items():
            if "skipped" in slot:
                out.append(f"| {title} | {rt} | {slot['skipped']} | | | | | |")
                continue
            lo, hi = quartiles(slot["wall"])
            out.append(f"| {title} | {rt} | {f1(median(slot['wall']))} | {f1(lo)}-{f1(hi)} | "
                       f"{f1(median(slot['cpu']))} | {f1(median(slot['rss']) / 1024)} | "
                       f"{slot['errors']} | {len(slot['wall'])} |")


def ratio_table(view, out):
    ps = peers(view)
    out.append("| workload | " + " | ".join(f"remora/{p} wall" for p in ps) + " | "
               + " | ".join(f"remora/{p} CPU" for p in ps) + " | remora/floor wall |")
    out.append("|---|" + "---:|" * (2 * len(ps) + 1))
    for key, title in WORKLOADS:
        w = view["workloads"].get(key, {})
        r = w.get("remora")
        walls = [f2(ratio(med(r, "wall"), med(w.get(p), "wall"))) for p in ps]
        cpus = [f2(ratio(med(r, "cpu"), med(w.get(p), "cpu"))) for p in ps]
        fl = f2(ratio(med(r, "wall"), med(w.get("floor"), "wall"))) if "floor" in w else "-"
        out.append(f"| {title} | " + " | ".join(walls) + " | " + " | ".join(cpus) + f" | {fl} |")


def lifecycle_table(view, out):
    w = view["workloads"].get("lifecycle", {})
    out.append("| runtime | create | start | state | delete |")
    out.append("|---|---:|---:|---:|---:|")
    for rt, slot in w.items():
        sub = slot.get("sub", {})
        out.append(f"| {rt} | " + " | ".join(f1(median(sub.get(c, []))) for c in
                                             ("create", "start", "state", "delete")) + " |")


def parallel_table(view, out):
    out.append("| profile | runtime | create wave, 10 (ms) | create wave, 50 (ms) | growth 10->50 "
               "(5.0 = linear) | per container at 50 (ms) | delete wave, 50 (ms) | CPU per create (ms) "
               "| peak RSS MiB | failed commands / containers | left over |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tag, prof in (("par", "none"), ("parsc", "Docker default")):
        p10, p50 = view["workloads"].get(f"{tag}-10", {}), view["workloads"].get(f"{tag}-50", {})
        for rt in view["runtimes"]:
            a, b = p10.get(rt), p50.get(rt)
            if not a or not b:
                continue
            c10, c50 = median(a["create"]), median(b["create"])
            total = 10 * len(a["create"]) + 50 * len(b["create"])
            out.append(f"| {prof} | {rt} | {f1(c10)} | {f1(c50)} | {f2(ratio(c50, c10))} | "
                       f"{f2(c50 / 50)} | {f1(median(b['delete']))} | {f2(median(b['cpu']))} | "
                       f"{f1(max(b['rss']) / 1024)} | {a['errors'] + b['errors']} / {total} | "
                       f"{a['left'] + b['left']} |")


def syscall_table(view, out):
    s = view["syscalls"]
    out.append("| runtime | syscalls per create (median of 3) | the 3 creates | syscalls per `run` |")
    out.append("|---|---:|---|---:|")
    for rt in view["runtimes"] + ["floor"]:
        x = s.get(rt)
        if not x:
            continue
        c = x.get("create")
        out.append(f"| {rt} | {c[0] if c else '-'} | {', '.join(map(str, x.get('create_all', []))) or '-'} "
                   f"| {x['run'][0]} |")


def top_syscalls(view, rt, out, n=12):
    x = view["syscalls"].get(rt)
    if not x or not x.get("create"):
        return
    rows = x["create"][1]
    by_count = sorted(rows, key=lambda r: -r[1])[:n]
    by_time = sorted(rows, key=lambda r: -r[2])[:n]
    out.append(f"| {rt}: most frequent | calls | longest in total (wall, all processes) | ms |")
    out.append("|---|---:|---|---:|")
    for i in range(max(len(by_count), len(by_time))):
        a = by_count[i] if i < len(by_count) else ("", "", 0)
        b = by_time[i] if i < len(by_time) else ("", 0, 0)
        out.append(f"| {a[0]} | {a[1]} | {b[0]} | {b[2] * 1000:.2f} |")


def where_table(view, out, n=10):
    cols = [rt for rt in view["runtimes"] if view["where"].get(rt)]
    out.append("| | " + " | ".join(f"{rt}: syscall | calls | ms" for rt in cols) + " |")
    out.append("|---|" + "---|---:|---:|" * len(cols))
    for i in range(n):
        cells = []
        for rt in cols:
            rows = view["where"][rt]
            if i < len(rows):
                sc, calls, ms, _ = rows[i]
                cells.append(f"{sc} | {calls:.0f} | {ms:.2f}")
            else:
                cells.append(" | | ")
        out.append(f"| {i + 1} | " + " | ".join(cells) + " |")


def targets(views, out):
    h, c = views.get("host"), views.get("cgroup2")
    rows = []

    def wall(v, w, rt):
        return med(v["workloads"].get(w, {}).get(rt), "wall") if v else None

    def rss(v, w, rt):
        return med(v["workloads"].get(w, {}).get(rt), "rss") if v else None

    def check(name, value, limit, fmt=f2):
        ok = value is not None and value <= limit
        rows.append(f"| {name} | {fmt(value)} | <= {fmt(limit)} | {'met' if ok else 'NOT met'} |")

    check("run: remora/crun wall, cgroup2 view", ratio(wall(c, "run", "remora"), wall(c, "run", "crun")), 0.7)
    check("run: remora/runc wall, host view", ratio(wall(h, "run", "remora"), wall(h, "run", "runc")), 0.3)
    # With --baseline: what the changes since that build cost (the
    # binary's protection may cost at most 5% of a `run`).
    for v, name in ((c, "cgroup2"), (h, "host")):
        if v and "remora-base" in v["runtimes"]:
            check(f"run: remora/remora-base wall, {name} view",
                  ratio(wall(v, "run", "remora"), wall(v, "run", "remora-base")), 1.05)
    ex = c["workloads"].get("exec", {}).get("remora", {}) if c else {}
    if "skipped" in ex:
        rows.append(f"| exec: remora/crun wall, cgroup2 view | {ex['skipped']} | <= 0.70 | NOT met |")
    else:
        check("exec: remora/crun wall, cgroup2 view", ratio(wall(c, "exec", "remora"), wall(c, "exec", "crun")), 0.7)
    check("peak RSS of `run`: remora/crun, cgroup2 view",
          ratio(rss(c, "run", "remora"), rss(c, "run", "crun")), 1.0)
    errors = 0
    growth = []
    for v in (h, c):
        if not v:
            continue
        for tag in ("par", "parsc"):
            for n in (10, 50):
                s = v["workloads"].get(f"{tag}-{n}", {}).get("remora")
                if s:
                    errors += s["errors"] + s["left"]
            a = v["workloads"].get(f"{tag}-10", {}).get("remora")
            b = v["workloads"].get(f"{tag}-50", {}).get("remora")
            if a and b:
                growth.append((f"{v['view']}/{'seccomp' if tag == 'parsc' else 'plain'}",
                               ratio(median(b["create"]), median(a["create"]))))
    rows.append(f"| 50 parallel: remora errors (all views, with and without seccomp) | {errors} | 0 | "
                f"{'met' if errors == 0 else 'NOT met'} |")
    for name, g in growth:
        check(f"50 parallel: remora create wave 50 / 10 ({name})", g, 5.0)
    out.append("| target | measured | limit | |")
    out.append("|---|---:|---:|---|")
    out.extend(rows)


def render(meta, views, notes):
    out = ["# Benchmarks: remora beside runc and crun", ""]
    out.append(f"Generated by `bench/run.sh` on {meta['date']} (one run, {meta['duration_s']:.0f} s). "
               "Not a timed test: figures from a shared, noisy machine (see Noise). Rerun: "
               "`sudo bench/run.sh` (bench/README.md).")
    out.append("")
    out.append("## Machine and versions")
    out.append("")
    for k, v in meta["machine"].items():
        out.append(f"- {k}: {v}")
    for k, v in meta["versions"].items():
        out.append(f"- {k}: {v}")
    out.append("")
    out.append("## Targets (remora-base: the build given with --baseline)")
    out.append("")
    targets(views, out)
    out.append("")
    out.append("## Method")
    out.append("")
    out.extend(meta["method"])
    for name in ("cgroup2", "host"):
        v = views.get(name)
        if not v:
            continue
        out += ["", f"## {VIEW_TITLE[name]}", ""]
        out.append(f"Load average before / after: {v['load_before'][0]:.2f} / {v['load_after'][0]:.2f}; "
                   f"{v['finished'] - v['started']:.0f} s.")
        out += ["", "Per container (wall and CPU time in ms, medians over interleaved runs):", ""]
        per_container_table(v, out)
        out += ["", "Ratios of medians (below 1: remora is faster / smaller):", ""]
        ratio_table(v, out)
        out += ["", "The lifecycle command by command (median wall ms):", ""]
        lifecycle_table(v, out)
        out += ["", "Parallel: N creates spawned at once, then N deletes at once "
                "(wall time of a wave: first spawn to last exit):", ""]
        parallel_table(v, out)
        out += ["", "System calls (strace -f -c: every thread and child, the init until it waits "
                "for `start`; `run` includes the container's /bin/true):", ""]
        syscall_table(v, out)
        out += ["", "Where a remora create spends its calls and its time (strace -f -c -w, one "
                "create, under strace, so slower than untraced; blocking calls such as a wait for "
                "the child count their whole wait):", ""]
        top_syscalls(v, "remora", out)
        if v.get("where"):
            out += ["", "Where the time of a `run` goes (perf trace -s, summed over every process of "
                    "the run; median ms per run over the runs; recvfrom/poll/read/epoll/wait calls "
                    "are mostly one process waiting for the other):", ""]
            where_table(v, out)
        if v.get("phases"):
            out += ["", "remora's own phase trace (REMORA_TRACE=1, median µs over 20 create + start "
                    "+ delete; untimed runs):", ""]
            for op, ph in v["phases"].items():
                out.append(f"- {op}: " + ", ".join(f"{p} {us:.0f}" for p, us in ph.items()))
        if v.get("stderr_lines"):
            out += ["", "What the runtimes printed on stderr in this view (count, line; the errors "
                    "column counts failed commands):", "", "```"]
            out += [f"{c:5d} {l[:300]}" for c, l in v["stderr_lines"]] + ["```"]
    out += ["", "## Binary size", "", "| runtime | file | with its non-glibc shared libraries |",
            "|---|---:|---:|"]
    for rt, (size, total) in meta["sizes"].items():
        out.append(f"| {rt} | {size / 1e6:.2f} MB | {total / 1e6:.2f} MB |")
    out += ["", "## remora --debug log of one create (cgroup2 view)", ""]
    trace = meta.get("debug_trace") or []
    if trace:
        out += ["```"] + trace[:80] + ["```"]
    else:
        out.append("remora --debug --log FILE create logged nothing in this build (no phase timings yet).")
    out += ["", "## Noise", ""]
    out.extend(meta["noise"])
    out += ["", NOTES]
    if notes:
        out.append(notes.rstrip("\n"))
    return "\n".join(out) + "\n"
