"""remora's own phase trace (REMORA_TRACE=1: one line per operation on
stderr, `create phases: config=85µs cgroup=410µs ... total=2940µs; init:
mounts=300µs ...`, the part after `init:` measured by the init itself),
collected over a series of create + start + delete and reduced to medians."""

import os
import re
import statistics

LINE = re.compile(r"(\w+) phases:((?: [\w+.-]+=\d+µs)+)(?:; init:((?: [\w+.-]+=\d+µs)+))?")


def collect(sp, remora, bundle, n, work):
    """{operation: {phase: median µs}} over n lifecycles, in trace order;
    empty when this remora build prints no phase lines."""
    path = os.path.join(work, "phases.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    env = {"REMORA_TRACE": "1"}
    try:
        for i in range(n):
            cid = f"b-phase-{i}"
            pidfile = os.path.join(work, f"{cid}.pid")
            ok = sp.run(remora.create(bundle, cid, pidfile), stderr=fd, env=env).ok
            sp.run(remora.start(cid), stderr=fd, env=env)
            if ok:
                try:
                    sp.wait_pid_exit(int(open(pidfile).read()))
                except (OSError, ValueError):
                    pass
            sp.run(remora.delete(cid, force=True), stderr=fd, env=env)
            sp.drain()
    finally:
        os.close(fd)
    seen = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            parts = [(m.group(1), m.group(2))]
            if m.group(3):
                # the init's own steps, measured by the init
                parts.append((f"{m.group(1)}, the init's steps", m.group(3)))
            for opname, text in parts:
                op = seen.setdefault(opname, {})
                for name, us in re.findall(r"([\w+.-]+)=(\d+)µs", text):
                    op.setdefault(name, []).append(int(us))
    return {op: {p: statistics.median(v) for p, v in ph.items()} for op, ph in seen.items()}
