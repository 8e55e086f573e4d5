"""Docker's default seccomp profile as an engine hands it to the runtime:
the x86_64 architectures from archMap, and the rules that apply to Docker's
default capability set on amd64 (includes/excludes resolved)."""

import json

DOCKER_PROFILE = "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"

DOCKER_CAPS = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}


def _applies(rule, caps):
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    arches = inc.get("arches") or []
    if arches and "amd64" not in arches:
        return False
    if "amd64" in (exc.get("arches") or []):
        return False
    if not all(c in caps for c in inc.get("caps") or []):
        return False
    if any(c in caps for c in exc.get("caps") or []):
        return False
    return True


def oci_profile(path=DOCKER_PROFILE, caps=DOCKER_CAPS):
    with open(path) as f:
        p = json.load(f)
    arches = []
    for m in p.get("archMap") or []:
        if m["architecture"] == "SCMP_ARCH_X86_64":
            arches = [m["architecture"], *(m.get("subArchitectures") or [])]
    rules = []
    for r in p.get("syscalls") or []:
        if not _applies(r, caps):
            continue
        names = list(r.get("names") or []) + ([r["name"]] if r.get("name") else [])
        rule = {"names": names, "action": r["action"]}
        if r.get("errnoRet") is not None:
            rule["errnoRet"] = r["errnoRet"]
        if r.get("args"):
            rule["args"] = r["args"]
        rules.append(rule)
    out = {"defaultAction": p["defaultAction"], "architectures": arches, "syscalls": rules}
    if p.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = p["defaultErrnoRet"]
    return out


def rule_count(profile):
    return sum(len(r["names"]) for r in profile["syscalls"])
