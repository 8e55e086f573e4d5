//! `remora features`: what this build and host support, in runc's shape.

use serde_json::{json, Value};

pub fn features() -> Value {
    let seccomp_enabled = true;
    let caps: Vec<String> = caps::all()
        .into_iter()
        .map(|c| c.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let cg = remora_cgroups::features();
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": [
            "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
            "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
            "noiversion", "nolazytime", "nomand", "nosuid",
            "nosymfollow", "private", "rbind", "relatime", "ro", "rprivate", "rro",
            "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "ratime",
            "rrelatime", "rstrictatime", "rnodiratime", "rdiratime", "rnosymfollow", "rsymfollow",
            "rshared", "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime",
            "suid", "symfollow", "sync", "unbindable", "idmap", "ridmap", "tmpcopyup"
        ],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": caps,
            "cgroup": {
                "v1": cg.v1,
                "v2": cg.v2,
                "systemd": cg.systemd,
                "systemdUser": cg.systemd_user,
                "rdma": cg.rdma
            },
            "seccomp": {
                "enabled": seccomp_enabled,
                "actions": remora_seccomp::actions(),
                "operators": remora_seccomp::operators(),
                "archs": remora_seccomp::archs(),
                "knownFlags": remora_seccomp::known_flags(),
                "supportedFlags": remora_seccomp::supported_flags()
            },
            // Both are applied (process::lsm): enabled when the host has them.
            "apparmor": {"enabled": crate::process::lsm::apparmor_enabled()},
            "selinux": {"enabled": crate::process::lsm::selinux_enabled()},
            // resctrl mounted (runtime/src/resctrl.rs).
            "intelRdt": {"enabled": crate::resctrl::available(std::path::Path::new(crate::resctrl::ROOT))},
            // Applied (process::mempolicy) where the kernel has NUMA.
            "memoryPolicy": memory_policy(),
            // Idmapped bind mounts (rootfs/idmap.rs; mount_setattr, kernel 5.12+).
            "mountExtensions": {"idmap": {"enabled": true}}
        },
        "annotations": {
            "io.github.remora.version": env!("CARGO_PKG_VERSION"),
            "org.opencontainers.runtime-spec.features": "1.2.0"
        },
        "potentiallyUnsafeConfigAnnotations": []
    })
}

/// linux.memoryPolicy: the modes and flags remora applies, when the host
/// can apply any (else omitted: unknown, as runc without NUMA support).
fn memory_policy() -> Value {
    use crate::process::mempolicy;
    if !mempolicy::supported() {
        return Value::Null;
    }
    json!({"modes": mempolicy::MODE_NAMES, "flags": mempolicy::FLAG_NAMES})
}
