//! Loading and validating a bundle's config.json. Every error names the
//! config field and the path involved.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Error, Result};

/// A bundle's config, with the absolute bundle and rootfs paths.
pub struct Bundle {
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    pub spec: Spec,
}

/// Reads `<bundle>/config.json`.
pub fn load(bundle: &Path) -> Result<Bundle> {
    let dir = std::path::absolute(bundle)
        .map_err(|e| Error::io(format!("bundle {}", bundle.display()), e))?;
    let path = dir.join("config.json");
    let data = std::fs::read(&path).map_err(|e| {
        Error::config(format!(
            "bundle {}: reading config.json: {}",
            dir.display(),
            e
        ))
    })?;
    let raw: serde_json::Value = serde_json::from_slice(&data)
        .map_err(|e| Error::config(format!("{}: invalid config: {e}", path.display())))?;
    // The seccomp section first: its errors name the rule, where plain
    // deserialisation would only say "unknown variant".
    if let Some(s) = raw.pointer("/linux/seccomp").filter(|s| !s.is_null()) {
        remora_seccomp::parse_profile(s)?;
    }
    let spec: Spec = serde_json::from_value(raw)
        .map_err(|e| Error::config(format!("{}: invalid config: {e}", path.display())))?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::config("root: missing from config.json"))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        dir.join(root.path())
    };
    match std::fs::metadata(&rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::config(format!(
                "root.path {:?}: {} is not a directory",
                root.path(),
                rootfs.display()
            )))
        }
        Err(e) => {
            return Err(Error::config(format!(
                "root.path {:?}: {}: {}",
                root.path(),
                rootfs.display(),
                e
            )))
        }
    }
    Ok(Bundle { dir, rootfs, spec })
}

fn has_ns(spec: &Spec, t: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == t))
}

fn new_ns(spec: &Spec, t: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == t && n.path().is_none()))
}

/// Checks what must hold before anything is created.
pub fn validate(spec: &Spec) -> Result<()> {
    let process = spec.process().as_ref().ok_or_else(|| {
        Error::config("process: missing from config.json (required to create a container)")
    })?;
    match process.args() {
        Some(a) if !a.is_empty() && !a[0].is_empty() => {}
        _ => return Err(Error::config("process.args: must not be empty")),
    }
    for entry in process.env().iter().flatten() {
        crate::process::env::check_entry(entry).map_err(Error::config)?;
    }
    if !process.cwd().is_absolute() {
        return Err(Error::config(format!(
            "process.cwd {:?}: Cwd must be an absolute path",
            process.cwd()
        )));
    }
    if process.terminal().unwrap_or(false) {
        // Terminals need --console-socket; checked by the CLI.
    }
    let Some(linux) = spec.linux() else {
        return Err(Error::config("linux: missing from config.json"));
    };
    if let Some(ns) = linux.namespaces() {
        remora_namespaces::NamespacePlan::from_spec(ns)?;
    }
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty())
        && !has_ns(spec, LinuxNamespaceType::Uts)
    {
        return Err(Error::config(
            "hostname: unable to set hostname without a private UTS namespace",
        ));
    }
    if spec.domainname().as_ref().is_some_and(|h| !h.is_empty())
        && !has_ns(spec, LinuxNamespaceType::Uts)
    {
        return Err(Error::config(
            "domainname: unable to set domainname without a private UTS namespace",
        ));
    }
    let restricts = linux.masked_paths().as_ref().is_some_and(|m| !m.is_empty())
        || linux
            .readonly_paths()
            .as_ref()
            .is_some_and(|m| !m.is_empty());
    if restricts && !has_ns(spec, LinuxNamespaceType::Mount) {
        // Masks mounted in the caller's mount namespace would be the
        // host's (runc's check and wording).
        return Err(Error::config(
            "linux.maskedPaths, linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace",
        ));
    }
    let userns = new_ns(spec, LinuxNamespaceType::User);
    let has_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if userns && !has_maps {
        return Err(Error::config(
            "linux.uidMappings: a new user namespace needs uidMappings and gidMappings",
        ));
    }
    if has_maps && !has_ns(spec, LinuxNamespaceType::User) {
        return Err(Error::config(
            "linux.uidMappings: mappings given without a user namespace",
        ));
    }
    for key in linux.sysctl().iter().flat_map(|s| s.keys()) {
        validate_sysctl(spec, key)?;
    }
    if let Some(r) = linux.rootfs_propagation() {
        if !matches!(
            r.as_str(),
            "private"
                | "rprivate"
                | "shared"
                | "rshared"
                | "slave"
                | "rslave"
                | "unbindable"
                | "runbindable"
        ) {
            return Err(Error::config(format!(
                "linux.rootfsPropagation {r:?}: unknown propagation type"
            )));
        }
    }
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if !m.destination().is_absolute() {
            return Err(Error::config(format!(
                "mounts[{i}].destination {:?}: must be an absolute path",
                m.destination()
            )));
        }
        if m.typ().is_none() && !crate::rootfs::mounts::is_bind(m) {
            return Err(Error::config(format!(
                "mounts[{i}] {:?}: type is missing",
                m.destination()
            )));
        }
        crate::rootfs::mounts::check_id_mappings(i, m).map_err(Error::config)?;
    }
    check_sysctl_conflicts(spec)?;
    crate::net_devices::check(linux)?;
    if let Some(rdt) = linux.intel_rdt() {
        // The group name is the container ID's; only the form matters here.
        crate::resctrl::check(rdt, "container", Path::new(crate::resctrl::ROOT))?;
    }
    check_lsm(process)
}

/// kernel.hostname or kernel.domainname in linux.sysctl together with the
/// hostname or domainname field: which one wins would be arbitrary
/// (runc and crun refuse it).
fn check_sysctl_conflicts(spec: &Spec) -> Result<()> {
    let sysctl = spec
        .linux()
        .as_ref()
        .and_then(|l| l.sysctl().clone())
        .unwrap_or_default();
    for (key, field, value) in [
        ("kernel.hostname", "hostname", spec.hostname()),
        ("kernel.domainname", "domainname", spec.domainname()),
    ] {
        if sysctl.contains_key(key) && value.as_ref().is_some_and(|v| !v.is_empty()) {
            return Err(Error::config(format!(
                "linux.sysctl {key:?}: conflicts with the {field} field; set one of them"
            )));
        }
    }
    Ok(())
}

/// A label or profile the host cannot apply is an error, never silently
/// dropped (runc's rule): the process would run unconfined.
pub fn check_lsm(process: &oci_spec::runtime::Process) -> Result<()> {
    use crate::process::lsm;
    let (apparmor, selinux) = lsm::requested(process);
    if apparmor.is_some() && !lsm::apparmor_enabled() {
        return Err(Error::config(
            "process.apparmorProfile: apparmor profile specified but AppArmor is not enabled on this system",
        ));
    }
    if selinux.is_some() && !lsm::selinux_enabled() {
        return Err(Error::config(
            "process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported",
        ));
    }
    Ok(())
}

/// linux.seccomp compiled (in the parent, before anything exists).
pub fn compile_seccomp(linux: &oci_spec::runtime::Linux) -> Result<Option<remora_seccomp::Filter>> {
    Ok(linux
        .seccomp()
        .as_ref()
        .map(remora_seccomp::compile)
        .transpose()?)
}

/// Only namespaced sysctls, and only when the container has the namespace.
fn validate_sysctl(spec: &Spec, key: &str) -> Result<()> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let ok = if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        has_ns(spec, LinuxNamespaceType::Ipc)
    } else if key.starts_with("net.") {
        has_ns(spec, LinuxNamespaceType::Network)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        has_ns(spec, LinuxNamespaceType::Uts)
    } else {
        return Err(Error::config(format!(
            "linux.sysctl {key:?}: not allowed: it is not namespaced"
        )));
    };
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "linux.sysctl {key:?}: requires a separate namespace of its kind"
        )))
    }
}
