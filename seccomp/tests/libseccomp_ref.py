#!/usr/bin/python3
"""Reference compiler for the differential tests: builds, for each OCI
`linux.seccomp` JSON file given, the program runc 1.x loads: libseccomp's
filter (python3-seccomp) set up the way runc's InitSeccomp sets it up, with
runc's -ENOSYS stub (patchbpf) in front.

    libseccomp_ref.py DIR     # DIR/*.json -> DIR/*.bpf, or DIR/*.err

A profile libseccomp or runc refuses gets a .err file with the message.
Run it with Debian's /usr/bin/python3 (python3-seccomp).
"""
import glob
import json
import os
import struct
import sys
import tempfile

import seccomp
from seccomp import Arch, Arg, SyscallFilter

ARCH = {
    "SCMP_ARCH_NATIVE": Arch.NATIVE, "SCMP_ARCH_X86": Arch.X86,
    "SCMP_ARCH_X86_64": Arch.X86_64, "SCMP_ARCH_X32": Arch.X32,
    "SCMP_ARCH_ARM": Arch.ARM, "SCMP_ARCH_AARCH64": Arch.AARCH64,
}
AUDIT = {Arch.X86: 0x40000003, Arch.X86_64: 0xC000003E, Arch.X32: 0xC000003E,
         Arch.ARM: 0x40000028, Arch.AARCH64: 0xC00000B7}
OP = {"SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
      "SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT,
      "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
ENOSYS_RET = 0x00050000 | 38


def action(name, errno):
    """runc's getAction(); returns (python action, seccomp return value)."""
    data = 1 if errno is None else errno & 0xFFFF
    table = {
        "SCMP_ACT_KILL": (seccomp.KILL, 0), "SCMP_ACT_KILL_THREAD": (seccomp.KILL, 0),
        "SCMP_ACT_KILL_PROCESS": (seccomp.KILL_PROCESS, 0x80000000),
        "SCMP_ACT_TRAP": (seccomp.TRAP, 0x30000),
        "SCMP_ACT_ERRNO": (seccomp.ERRNO(data), 0x50000 | data),
        "SCMP_ACT_TRACE": (seccomp.TRACE(data), 0x7FF00000 | data),
        "SCMP_ACT_LOG": (seccomp.LOG, 0x7FFC0000),
        "SCMP_ACT_NOTIFY": (seccomp.NOTIFY, 0x7FC00000),
        "SCMP_ACT_ALLOW": (seccomp.ALLOW, 0x7FFF0000),
    }
    return table[name]


def resolve(arch, name):
    try:
        nr = seccomp.resolve_syscall(arch, name)
    except (ValueError, OSError, RuntimeError):
        return None
    # __NR_SCMP_ERROR: libseccomp-golang reports it as an error.
    return None if nr == -1 else nr


class ExportError(Exception):
    """libseccomp accepted every rule but could not generate the program."""


def libseccomp_program(p):
    default, default_val = action(p["defaultAction"], p.get("defaultErrnoRet"))
    if p["defaultAction"] == "SCMP_ACT_NOTIFY":
        raise ValueError("SCMP_ACT_NOTIFY cannot be used as default action")
    f = SyscallFilter(default)
    native = seccomp.system_arch()
    for a in p.get("architectures") or []:
        arch = ARCH[a]
        if arch == Arch.NATIVE or (arch & 0xFFFFFFFF) == native or f.exist_arch(arch):
            continue
        f.add_arch(arch)
    # runc's config has one rule per name.
    calls = [(r, n) for r in p.get("syscalls") or [] for n in r["names"]]
    if len(calls) > 32:
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for rule, name in calls:
        act, val = action(rule["action"], rule.get("errnoRet"))
        if rule["action"] == "SCMP_ACT_NOTIFY" and name == "write":
            raise ValueError("SCMP_ACT_NOTIFY cannot be used for the write syscall")
        if val == default_val:
            continue
        if resolve(Arch.NATIVE, name) is None:
            continue
        args = rule.get("args") or []
        conds = [Arg(a["index"], OP[a["op"]], a["value"], a.get("valueTwo", 0) or 0) for a in args]
        counts = {}
        for a in args:
            counts[a["index"]] = counts.get(a["index"], 0) + 1
        if not conds:
            f.add_rule(act, name)
        elif any(c > 1 for c in counts.values()):
            for c in conds:
                f.add_rule(act, name, c)
        else:
            f.add_rule(act, name, *conds)
    with tempfile.TemporaryFile() as t:
        try:
            f.export_bpf(t)
        except Exception as e:
            raise ExportError(str(e))
        t.seek(0)
        data = t.read()
    return [struct.unpack("=HBBI", data[i:i + 8]) for i in range(0, len(data), 8)]


def enosys_stub(p):
    """runc's patchbpf stub, as a list of (code, jt, jf, k) whose jumps to
    "filter" are resolved against the stub's own length."""
    if p["defaultAction"] in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"):
        return []
    names = [n for r in p.get("syscalls") or [] for n in r["names"]]
    last = {}  # audit -> {arch: max}
    for a in p.get("architectures") or []:
        arch = ARCH[a]
        if arch == Arch.NATIVE:
            arch = {v & 0xFFFFFFFF: v for v in ARCH.values()}.get(seccomp.system_arch(), Arch.X86_64)
        audit = AUDIT[arch]
        m = 0
        for n in names:
            nr = resolve(arch, n)
            if nr is not None and nr > m:
                m = nr
        if m:
            last.setdefault(audit, {})[arch] = m
    # Symbolic program: ("op", k, jt_label, jf_label); None = next insn.
    prog = [("ld", 4, None, None)]
    for audit in last:
        prog.append(("jeq", audit, "sec%x" % audit, None))
    prog.append(("ja", 0, "filter", None))
    for audit, m in last.items():
        prog.append(("label", "sec%x" % audit))
        prog.append(("ld", 0, None, None))
        if audit == 0xC000003E:
            m64, m32 = m.get(Arch.X86_64), m.get(Arch.X32)
            if m64 and m32:
                prog += [("jset", 1 << 30, "x32", None), ("jgt", m64, "enosys", None),
                         ("ja", 0, "filter", None), ("label", "x32"),
                         ("jgt", m32, "enosys", None), ("ja", 0, "filter", None)]
            elif m64:
                prog += [("jset", 1 << 30, "filter", None), ("jgt", m64, "enosys", None),
                         ("ja", 0, "filter", None)]
            else:
                prog += [("jset", 1 << 30, None, "filter"), ("jgt", m32, "enosys", None),
                         ("ja", 0, "filter", None)]
        else:
            (mx,) = m.values()
            prog += [("jgt", mx, "enosys", None), ("ja", 0, "filter", None)]
    prog.append(("label", "enosys"))
    prog.append(("ret", ENOSYS_RET, None, None))
    labels, out = {}, []
    for ins in prog:
        if ins[0] == "label":
            labels[ins[1]] = len(out)
        else:
            out.append(ins)
    labels["filter"] = len(out)
    codes = {"ld": 0x20, "jeq": 0x15, "jgt": 0x25, "jset": 0x45, "ja": 0x05, "ret": 0x06}
    res = []
    for pc, (op, k, t, f) in enumerate(out):
        rel = lambda l: 0 if l is None else labels[l] - pc - 1
        if op == "ja":
            res.append((0x05, 0, 0, rel(t)))
        elif op in ("ld", "ret"):
            res.append((codes[op], 0, 0, k))
        else:
            jt, jf = rel(t), rel(f)
            assert 0 <= jt < 256 and 0 <= jf < 256
            res.append((codes[op], jt, jf, k))
    return res


def main():
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        base = path[:-5]
        with open(path) as f:
            p = json.load(f)
        try:
            prog = enosys_stub(p) + libseccomp_program(p)
        except Exception as e:  # libseccomp's or runc's refusal
            with open(base + ".err", "w") as f:
                f.write("%s: %s\n" % (type(e).__name__, e))
            continue
        with open(base + ".bpf", "wb") as f:
            for ins in prog:
                f.write(struct.pack("=HBBI", *ins))


if __name__ == "__main__":
    main()
