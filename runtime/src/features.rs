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
    let rdt = crate::resctrl::available(std::path::Path::new(crate::resctrl::ROOT));
    json!({
        // ociVersion of major 1 is taken (config/checks.rs).
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        // rootfs/options.rs's own table (with the "r" forms).
        "mountOptions": crate::rootfs::options::known(),
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
            "intelRdt": {
                "enabled": rdt,
                // linux.intelRdt.schemata is written as given (resctrl.rs).
                "schemata": rdt
            },
            // Applied (process::mempolicy) where the kernel has NUMA.
            "memoryPolicy": memory_policy(),
            // Idmapped bind mounts (rootfs/idmap.rs; mount_setattr, kernel 5.12+).
            "mountExtensions": {"idmap": {"enabled": idmap_mounts()}},
            // Moved into the container's network namespace over netlink
            // (net_devices.rs): every Linux with network namespaces.
            "netDevices": {"enabled": std::path::Path::new("/proc/self/ns/net").exists()}
        },
        "annotations": {
            "io.github.remora.version": env!("CARGO_PKG_VERSION"),
            "org.opencontainers.runtime-spec.features": crate::OCI_VERSION
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

/// Idmapped mounts (mount_setattr with MOUNT_ATTR_IDMAP): Linux 5.12 on.
fn idmap_mounts() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut n = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (n.next().unwrap_or(0), n.next().unwrap_or(0)) >= (5, 12)
}
