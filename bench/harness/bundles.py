"""The benchmark's bundles: one busybox rootfs (scripts/make-bundle.sh),
several config.json variants that point at it by absolute path."""

import json
import os
import subprocess

from . import seccomp_profile


def make(repo, remora, work):
    """Returns {variant: bundle dir}: true (/bin/true), sleep (a long-running
    container for exec), seccomp (/bin/true under Docker's default profile)."""
    base = os.path.join(work, "base")
    subprocess.run([os.path.join(repo, "scripts/make-bundle.sh"), base, remora], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(base, "config.json")) as f:
        cfg = json.load(f)
    # crun 1.8.1 refuses "1.2.0" ("unknown version specified"); every
    # runtime gets the same config, so all get a version crun knows.
    cfg["ociVersion"] = "1.0.2"
    cfg["root"]["path"] = os.path.join(base, "rootfs")
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    variants = {
        "true": cfg,
        "sleep": _with(cfg, ["process", "args"], ["/bin/sleep", "100000"]),
        "seccomp": _with(cfg, ["linux", "seccomp"], seccomp_profile.oci_profile()),
    }
    out = {}
    for name, c in variants.items():
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=1)
        out[name] = d
    out["rootfs"] = os.path.join(base, "rootfs")
    return out


def _with(cfg, path, value):
    c = json.loads(json.dumps(cfg))
    node = c
    for k in path[:-1]:
        node = node.setdefault(k, {})
    node[path[-1]] = value
    return c
