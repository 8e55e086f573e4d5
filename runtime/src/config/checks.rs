//! What must hold of a config before anything is created: a list of
//! small named checks, run in order; the first that fails stops create
//! with an error naming the field (runc's specconv and configs/validate
//! are the model). Each takes the parsed spec and nothing else; those
//! that ask the host (NUMA nodes, network devices, resctrl, AppArmor and
//! SELinux) come last in [`CHECKS`]. Warnings are checks that never
//! fail: they say on stderr what is accepted but not applied. Unit tests
//! (below) need no root.

use std::path::Path;

use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::error::{Error, Result};

/// A check of the config: Ok, or the error that refuses it.
pub type Check = fn(&Spec) -> Result<()>;

/// Every check, in the order they run.
pub const CHECKS: &[(&str, Check)] = &[
    ("oci_version", oci_version),
    ("process_present", process_present),
    ("process_args", process_args),
    ("process_env", process_env),
    ("process_cwd", process_cwd),
    ("additional_gids", additional_gids),
    ("linux_present", linux_present),
    ("namespaces", namespaces),
    ("hostname_needs_uts", hostname_needs_uts),
    (
        "restricted_paths_need_mount_ns",
        restricted_paths_need_mount_ns,
    ),
    ("user_namespace_mappings", user_namespace_mappings),
    ("sysctls_namespaced", sysctls_namespaced),
    ("sysctl_conflicts", sysctl_conflicts),
    ("rootfs_propagation", rootfs_propagation),
    ("mounts", mounts),
    ("process_attrs", process_attrs),
    ("personality", personality),
    // The checks below ask the host.
    ("memory_policy", memory_policy),
    ("net_devices", net_devices),
    ("intel_rdt", intel_rdt),
    ("lsm", lsm),
];

/// A warning: Some(text) when the config asks for something remora
/// accepts without applying it (as runc warns).
pub type Warning = fn(&Spec) -> Option<String>;

pub const WARNINGS: &[(&str, Warning)] = &[
    ("newer_oci_version", newer_oci_version),
    ("kernel_memory", kernel_memory),
];

/// Runs every check, then says the warnings (logging::warn).
pub fn run(spec: &Spec) -> Result<()> {
    for (_, check) in CHECKS {
        check(spec)?;
    }
    for (_, warning) in WARNINGS {
        if let Some(w) = warning(spec) {
            crate::logging::warn(&w);
        }
    }
    Ok(())
}

/// [`report`]'s answer: (failed checks, warnings), each by name.
pub type Report = (Vec<(&'static str, Error)>, Vec<(&'static str, String)>);

/// Every check's outcome, not only the first failure's (for a command
/// that reports on a config, as `remora check`): the failing checks'
/// names and errors, then the warnings' names and texts.
pub fn report(spec: &Spec) -> Report {
    let failed = CHECKS
        .iter()
        .filter_map(|(name, check)| check(spec).err().map(|e| (*name, e)))
        .collect();
    let warned = WARNINGS
        .iter()
        .filter_map(|(name, w)| w(spec).map(|t| (*name, t)))
        .collect();
    (failed, warned)
}

/// The most supplementary groups a process may have (linux NGROUPS_MAX).
const NGROUPS_MAX: usize = 65536;

/// ociVersion as (major, minor, patch), else an error naming it.
fn semver(v: &str) -> Result<(u64, u64, u64)> {
    let bad = || {
        Error::config(format!(
            "ociVersion {}: not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH)",
            crate::bounded::quoted(v)
        ))
    };
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(|p| {
        if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
            None
        } else {
            p.parse::<u64>().ok()
        }
    });
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Some(a)), Some(Some(b)), Some(Some(c)), None) => Ok((a, b, c)),
        _ => Err(bad()),
    }
}

/// The spec's own version triple.
fn ours() -> (u64, u64, u64) {
    semver(crate::OCI_VERSION).unwrap_or((1, 0, 0))
}

/// ociVersion: required, SemVer, and of major version 1 (the spec keeps
/// compatibility within a major version only). runc checks none of it;
/// docs/design.md says why remora does.
fn oci_version(spec: &Spec) -> Result<()> {
    let v = spec.version();
    if v.is_empty() {
        return Err(Error::config(
            "ociVersion: missing from config.json (required by the runtime-spec)",
        ));
    }
    let (major, _, _) = semver(v)?;
    if major != ours().0 {
        return Err(Error::config(format!(
            "ociVersion {}: major version {major} is not supported: remora implements runtime-spec {} (1.0.0 to {})",
            crate::bounded::quoted(v),
            crate::OCI_VERSION,
            crate::OCI_VERSION
        )));
    }
    Ok(())
}

/// A config of a later minor version than remora's may hold fields remora
/// does not know (ignored, as the spec asks of unknown fields): said.
fn newer_oci_version(spec: &Spec) -> Option<String> {
    let (major, minor, _) = semver(spec.version()).ok()?;
    let (m, n, _) = ours();
    (major == m && minor > n).then(|| {
        format!(
            "ociVersion {}: newer than runtime-spec {} that remora implements: fields it does not know are ignored",
            crate::bounded::quoted(spec.version()),
            crate::OCI_VERSION
        )
    })
}

/// linux.resources.memory.kernel: kernel memory limits are deprecated by
/// the runtime-spec, absent on cgroup v2 and not enforced by Linux since
/// 5.16 (the v1 file takes the write and changes nothing). Accepted with
/// a warning, as runc 1.1.5 does ("Kernel memory settings are ignored
/// and will be removed").
fn kernel_memory(spec: &Spec) -> Option<String> {
    kernel_memory_of(spec.linux().as_ref()?.resources().as_ref()?)
}

/// The kernel memory warning for a set of resources (create's, or
/// update's).
pub fn kernel_memory_of(r: &oci_spec::runtime::LinuxResources) -> Option<String> {
    let kernel = r.memory().as_ref()?.kernel()?;
    Some(format!(
        "linux.resources.memory.kernel {kernel}: kernel memory settings are ignored (deprecated by the runtime-spec; Linux no longer enforces them)"
    ))
}

fn process(spec: &Spec) -> Result<&Process> {
    spec.process().as_ref().ok_or_else(|| {
        Error::config("process: missing from config.json (required to create a container)")
    })
}

fn process_present(spec: &Spec) -> Result<()> {
    process(spec).map(drop)
}

fn process_args(spec: &Spec) -> Result<()> {
    match process(spec)?.args() {
        Some(a) if !a.is_empty() && !a[0].is_empty() => Ok(()),
        _ => Err(Error::config("process.args: must not be empty")),
    }
}

fn process_env(spec: &Spec) -> Result<()> {
    for entry in process(spec)?.env().iter().flatten() {
        crate::process::env::check_entry(entry)?;
    }
    Ok(())
}

fn process_cwd(spec: &Spec) -> Result<()> {
    let cwd = process(spec)?.cwd();
    if cwd.is_absolute() {
        Ok(())
    } else {
        Err(Error::config(format!(
            "process.cwd {cwd:?}: Cwd must be an absolute path"
        )))
    }
}

fn additional_gids(spec: &Spec) -> Result<()> {
    let gids = process(spec)?
        .user()
        .additional_gids()
        .as_ref()
        .map_or(0, |g| g.len());
    if gids > NGROUPS_MAX {
        return Err(Error::config(format!(
            "process.user.additionalGids: {gids} groups, more than the kernel's limit of {NGROUPS_MAX}"
        )));
    }
    Ok(())
}

fn linux(spec: &Spec) -> Result<&oci_spec::runtime::Linux> {
    spec.linux()
        .as_ref()
        .ok_or_else(|| Error::config("linux: missing from config.json"))
}

fn linux_present(spec: &Spec) -> Result<()> {
    linux(spec).map(drop)
}

fn namespaces(spec: &Spec) -> Result<()> {
    if let Some(ns) = linux(spec)?.namespaces() {
        remora_namespaces::NamespacePlan::from_spec(ns)?;
    }
    Ok(())
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

/// hostname and domainname need a UTS namespace of the container's own.
fn hostname_needs_uts(spec: &Spec) -> Result<()> {
    for (field, value) in [
        ("hostname", spec.hostname()),
        ("domainname", spec.domainname()),
    ] {
        if value.as_ref().is_some_and(|h| !h.is_empty()) && !has_ns(spec, LinuxNamespaceType::Uts) {
            return Err(Error::config(format!(
                "{field}: unable to set {field} without a private UTS namespace"
            )));
        }
    }
    Ok(())
}

/// Masks mounted in the caller's mount namespace would be the host's
/// (runc's check and wording).
fn restricted_paths_need_mount_ns(spec: &Spec) -> Result<()> {
    let linux = linux(spec)?;
    let restricts = linux.masked_paths().as_ref().is_some_and(|m| !m.is_empty())
        || linux
            .readonly_paths()
            .as_ref()
            .is_some_and(|m| !m.is_empty());
    if restricts && !has_ns(spec, LinuxNamespaceType::Mount) {
        return Err(Error::config(
            "linux.maskedPaths, linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace",
        ));
    }
    Ok(())
}

/// A new user namespace needs its mappings; mappings need one.
fn user_namespace_mappings(spec: &Spec) -> Result<()> {
    let linux = linux(spec)?;
    let has_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if new_ns(spec, LinuxNamespaceType::User) && !has_maps {
        return Err(Error::config(
            "linux.uidMappings: a new user namespace needs uidMappings and gidMappings",
        ));
    }
    if has_maps && !has_ns(spec, LinuxNamespaceType::User) {
        return Err(Error::config(
            "linux.uidMappings: mappings given without a user namespace",
        ));
    }
    Ok(())
}

/// Only namespaced sysctls, and only when the container has the namespace.
fn sysctls_namespaced(spec: &Spec) -> Result<()> {
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
    for key in linux(spec)?.sysctl().iter().flat_map(|s| s.keys()) {
        let key = key.as_str();
        let ok = if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
            has_ns(spec, LinuxNamespaceType::Ipc)
        } else if key.starts_with("net.") {
            has_ns(spec, LinuxNamespaceType::Network)
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            has_ns(spec, LinuxNamespaceType::Uts)
        } else if key.starts_with("user.") {
            // The user namespace's own limits (runc 1.4).
            has_ns(spec, LinuxNamespaceType::User)
        } else {
            return Err(Error::config(format!(
                "linux.sysctl {key:?}: not allowed: it is not namespaced"
            )));
        };
        if !ok {
            return Err(Error::config(format!(
                "linux.sysctl {key:?}: requires a separate namespace of its kind"
            )));
        }
    }
    Ok(())
}

/// kernel.hostname or kernel.domainname in linux.sysctl together with the
/// hostname or domainname field: which one wins would be arbitrary
/// (runc and crun refuse it).
fn sysctl_conflicts(spec: &Spec) -> Result<()> {
    let sysctl = linux(spec)?.sysctl().clone().unwrap_or_default();
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

fn rootfs_propagation(spec: &Spec) -> Result<()> {
    super::propagation(linux(spec)?).map(drop)
}

/// Every mount: an absolute destination, a type (or a bind), options
/// remora knows how to apply, id mappings only with idmap.
fn mounts(spec: &Spec) -> Result<()> {
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        super::MountEntry::check(i, m)?;
    }
    Ok(())
}

fn process_attrs(spec: &Spec) -> Result<()> {
    super::check_process_attrs(process(spec)?)
}

/// linux.personality: a known domain (else config.json does not parse,
/// naming the field) and known flags.
fn personality(spec: &Spec) -> Result<()> {
    match linux(spec)?.personality() {
        Some(p) => Ok(crate::process::personality::persona_of(p).map(drop)?),
        None => Ok(()),
    }
}

/// linux.memoryPolicy: mode, flags and nodes that fit together and nodes
/// this host has.
fn memory_policy(spec: &Spec) -> Result<()> {
    match linux(spec)?.memory_policy() {
        Some(p) => Ok(crate::process::mempolicy::check(p)?),
        None => Ok(()),
    }
}

fn net_devices(spec: &Spec) -> Result<()> {
    crate::net_devices::check(linux(spec)?)
}

fn intel_rdt(spec: &Spec) -> Result<()> {
    if let Some(rdt) = linux(spec)?.intel_rdt() {
        // The group name is the container ID's; only the form matters here.
        crate::resctrl::check(rdt, "container", Path::new(crate::resctrl::ROOT))?;
    }
    Ok(())
}

fn lsm(spec: &Spec) -> Result<()> {
    super::check_lsm(process(spec)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// runc's default config (`remora spec`), edited by `edit`.
    fn spec_with(edit: impl FnOnce(&mut Value)) -> Spec {
        let mut v = crate::spec::default_spec(false);
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn fails(check: Check, edit: impl FnOnce(&mut Value), want: &str) {
        let e = check(&spec_with(edit))
            .err()
            .unwrap_or_else(|| panic!("accepted; wanted {want:?}"))
            .to_string();
        assert!(e.contains(want), "{e:?} lacks {want:?}");
    }

    #[test]
    fn the_default_config_passes_every_check() {
        let spec = spec_with(|_| {});
        for (name, check) in CHECKS {
            if let Err(e) = check(&spec) {
                panic!("{name}: {e}");
            }
        }
        for (name, w) in WARNINGS {
            assert_eq!(w(&spec), None, "{name}");
        }
    }

    #[test]
    fn report_names_every_failing_check_and_warning() {
        let s = spec_with(|v| {
            v["ociVersion"] = json!("1.9.0");
            v["process"]["cwd"] = json!("rel");
            v["linux"]["sysctl"] = json!({"vm.swappiness": "1"});
            v["linux"]["resources"]["memory"] = json!({"kernel": 1});
        });
        let (failed, warned) = report(&s);
        let names: Vec<_> = failed.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["process_cwd", "sysctls_namespaced"]);
        let names: Vec<_> = warned.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["newer_oci_version", "kernel_memory"]);
    }

    #[test]
    fn every_check_has_a_distinct_name() {
        let mut names: Vec<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
        names.extend(WARNINGS.iter().map(|(n, _)| *n));
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn oci_version_is_required_semver_of_major_1() {
        fails(
            oci_version,
            |v| v["ociVersion"] = json!(""),
            "ociVersion: missing",
        );
        fails(
            oci_version,
            |v| v["ociVersion"] = json!("1.2"),
            "not a SemVer",
        );
        fails(
            oci_version,
            |v| v["ociVersion"] = json!("latest"),
            "not a SemVer",
        );
        fails(
            oci_version,
            |v| v["ociVersion"] = json!("01.0.0"),
            "not a SemVer",
        );
        fails(
            oci_version,
            |v| v["ociVersion"] = json!("2.0.0"),
            "major version 2",
        );
        fails(
            oci_version,
            |v| v["ociVersion"] = json!("0.1.0"),
            "major version 0",
        );
        for ok in ["1.0.0", "1.0.2-dev", "1.2.1", "1.3.0", "1.9.0+build"] {
            oci_version(&spec_with(|v| v["ociVersion"] = json!(ok))).unwrap();
        }
        let newer = spec_with(|v| v["ociVersion"] = json!("1.9.0"));
        assert!(newer_oci_version(&newer)
            .unwrap()
            .contains("ociVersion \"1.9.0\""));
        assert_eq!(
            newer_oci_version(&spec_with(|v| v["ociVersion"] = json!("1.0.2"))),
            None
        );
    }

    #[test]
    fn kernel_memory_is_warned_about() {
        let s = spec_with(|v| v["linux"]["resources"]["memory"] = json!({"kernel": 1048576}));
        let w = kernel_memory(&s).unwrap();
        assert!(
            w.starts_with("linux.resources.memory.kernel 1048576: "),
            "{w}"
        );
        let s = spec_with(|v| v["linux"]["resources"]["memory"] = json!({"limit": 1048576}));
        assert_eq!(kernel_memory(&s), None);
    }

    #[test]
    fn process_checks() {
        fails(
            process_present,
            |v| v["process"] = Value::Null,
            "process: missing",
        );
        fails(
            process_args,
            |v| v["process"]["args"] = json!([]),
            "process.args",
        );
        fails(
            process_args,
            |v| v["process"]["args"] = json!([""]),
            "process.args",
        );
        fails(
            process_env,
            |v| v["process"]["env"] = json!(["X"]),
            "missing '='",
        );
        fails(
            process_cwd,
            |v| v["process"]["cwd"] = json!("rel"),
            "process.cwd \"rel\"",
        );
        fails(
            additional_gids,
            |v| v["process"]["user"]["additionalGids"] = json!(vec![1; NGROUPS_MAX + 1]),
            "process.user.additionalGids",
        );
    }

    #[test]
    fn namespace_checks() {
        fails(
            linux_present,
            |v| v["linux"] = Value::Null,
            "linux: missing",
        );
        fails(
            namespaces,
            |v| v["linux"]["namespaces"] = json!([{"type": "pid"}, {"type": "pid"}]),
            "pid",
        );
        let no_uts = |v: &mut Value| v["linux"]["namespaces"] = json!([{"type": "mount"}]);
        fails(hostname_needs_uts, no_uts, "hostname: unable");
        fails(
            hostname_needs_uts,
            |v| {
                no_uts(v);
                v["hostname"] = Value::Null;
                v["domainname"] = json!("d");
            },
            "domainname: unable",
        );
        fails(
            restricted_paths_need_mount_ns,
            |v| v["linux"]["namespaces"] = json!([{"type": "uts"}]),
            "without a private MNT namespace",
        );
        fails(
            user_namespace_mappings,
            |v| v["linux"]["namespaces"] = json!([{"type": "user"}]),
            "needs uidMappings",
        );
        fails(
            user_namespace_mappings,
            |v| v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]),
            "without a user namespace",
        );
    }

    #[test]
    fn sysctl_checks() {
        fails(
            sysctls_namespaced,
            |v| v["linux"]["sysctl"] = json!({"vm.swappiness": "1"}),
            "not namespaced",
        );
        fails(
            sysctls_namespaced,
            |v| {
                v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
                v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}]);
            },
            "requires a separate namespace",
        );
        fails(
            sysctls_namespaced,
            |v| v["linux"]["sysctl"] = json!({"user.max_user_namespaces": "10"}),
            "requires a separate namespace",
        );
        let userns = spec_with(|v| {
            v["linux"]["sysctl"] = json!({"user.max_user_namespaces": "10"});
            v["linux"]["namespaces"] = json!([{"type": "user"}, {"type": "mount"}]);
        });
        sysctls_namespaced(&userns).unwrap();
        fails(
            sysctl_conflicts,
            |v| v["linux"]["sysctl"] = json!({"kernel.hostname": "x"}),
            "conflicts with the hostname field",
        );
    }

    #[test]
    fn mount_and_propagation_checks() {
        fails(
            rootfs_propagation,
            |v| v["linux"]["rootfsPropagation"] = json!("sideways"),
            "linux.rootfsPropagation \"sideways\"",
        );
        let add = |m: Value| move |v: &mut Value| v["mounts"].as_array_mut().unwrap().push(m);
        fails(
            mounts,
            add(json!({"destination": "rel", "type": "tmpfs"})),
            "mounts[7].destination \"rel\"",
        );
        fails(
            mounts,
            add(json!({"destination": "/x", "source": "tmpfs"})),
            "type is missing",
        );
        fails(
            mounts,
            add(json!({"destination": "/x", "type": "tmpfs", "options": ["remount"]})),
            "mounts[7] \"/x\": mount option \"remount\"",
        );
        fails(
            mounts,
            add(
                json!({"destination": "/x", "type": "bind", "source": "/", "options": ["bind"],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}),
            ),
            "uidMappings given without the \"idmap\"",
        );
    }

    #[test]
    fn process_attribute_and_personality_checks() {
        fails(
            process_attrs,
            |v| v["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9}),
            "process.ioPriority",
        );
        fails(
            personality,
            |v| v["linux"]["personality"] = json!({"domain": "LINUX", "flags": ["NOPE"]}),
            "linux.personality.flags[0]",
        );
    }
}
