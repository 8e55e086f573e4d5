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
    let data = crate::bounded::read_capped(&path, crate::bounded::JSON_CAP).map_err(|e| {
        Error::config(format!(
            "bundle {}: reading config.json: {}",
            dir.display(),
            e
        ))
    })?;
    let spec = parse(&data, &path)?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::config("root: missing from config.json"))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        dir.join(root.path())
    };
    check_no_symlink(root.path(), &dir, &rootfs)?;
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

/// Parses config.json's bytes (`path` names it in errors). The seccomp
/// section first: its errors name the rule, where plain deserialisation
/// would only say "unknown variant".
pub fn parse(data: &[u8], path: &Path) -> Result<Spec> {
    let mut raw: serde_json::Value = serde_json::from_slice(data)
        .map_err(|e| Error::config(format!("{}: invalid config: {e}", path.display())))?;
    check_no_other_platform(&raw)?;
    if let Some(s) = raw.pointer("/linux/seccomp").filter(|s| !s.is_null()) {
        remora_seccomp::parse_profile(s)?;
    }
    if let Some(p) = raw.get_mut("process") {
        spec_process_fields(p, "process")?;
    }
    if let Some(l) = raw.get("linux") {
        spec_linux_fields(l)?;
    }
    crate::runc_compat::config(&mut raw).map_err(Error::config)?;
    serde_json::from_value(raw)
        .map_err(|e| Error::config(format!("{}: invalid config: {e}", path.display())))
}

/// The spec's sections for other platforms than Linux.
const OTHER_PLATFORMS: [(&str, &str); 5] = [
    ("windows", "Windows"),
    ("solaris", "Solaris"),
    ("vm", "virtual-machine-based containers"),
    ("zos", "z/OS"),
    ("freebsd", "FreeBSD"),
];

/// A section for another platform is refused rather than silently ignored
/// (the container would not be what was asked for). Checked on the raw
/// JSON: oci-spec drops `freebsd` while parsing.
fn check_no_other_platform(raw: &serde_json::Value) -> Result<()> {
    for (key, platform) in OTHER_PLATFORMS {
        if raw.get(key).is_some_and(|v| !v.is_null()) {
            return Err(Error::config(format!(
                "{key}: configuration for {platform} is not supported: remora runs Linux containers only"
            )));
        }
    }
    Ok(())
}

/// root.path must name the root itself, not a symlink to it (runc's
/// rule): a relative path is checked from the bundle on, an absolute one
/// whole.
fn check_no_symlink(given: &Path, bundle: &Path, rootfs: &Path) -> Result<()> {
    let (base, rest) = if given.is_absolute() {
        (
            PathBuf::from("/"),
            rootfs.strip_prefix("/").unwrap_or(rootfs),
        )
    } else {
        (bundle.to_path_buf(), given)
    };
    let mut at = base;
    for c in rest.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            let target = std::fs::read_link(&at).unwrap_or_default();
            return Err(Error::config(format!(
                "root.path {:?}: {} is a symlink (to {}): give the path of the root itself",
                given,
                at.display(),
                target.display()
            )));
        }
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

/// The most supplementary groups a process may have (linux NGROUPS_MAX).
const NGROUPS_MAX: usize = 65536;

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
    let gids = process
        .user()
        .additional_gids()
        .as_ref()
        .map_or(0, |g| g.len());
    if gids > NGROUPS_MAX {
        return Err(Error::config(format!(
            "process.user.additionalGids: {gids} groups, more than the kernel's limit of {NGROUPS_MAX}"
        )));
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
    check_process_attrs(process)?;
    check_personality(linux)?;
    check_memory_policy(linux)?;
    crate::net_devices::check(linux)?;
    if let Some(rdt) = linux.intel_rdt() {
        // The group name is the container ID's; only the form matters here.
        crate::resctrl::check(rdt, "container", Path::new(crate::resctrl::ROOT))?;
    }
    check_lsm(process)
}

/// One of `allowed` at `pointer` (when present), else an error naming
/// the field: serde's "unknown variant" would name neither field nor place.
fn one_of(v: &serde_json::Value, pointer: &str, field: &str, allowed: &[&str]) -> Result<()> {
    let values: Vec<&serde_json::Value> = match v.pointer(pointer) {
        None | Some(serde_json::Value::Null) => return Ok(()),
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(one) => vec![one],
    };
    for x in values {
        if !x.as_str().is_some_and(|s| allowed.contains(&s)) {
            return Err(Error::config(format!(
                "{field} {x}: unknown value (one of {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// The enumerations of process.scheduler and process.ioPriority checked
/// by name, and the scheduler flags mapped (spec_scheduler_flags), in a
/// process's raw JSON (config.json's, or exec's process.json).
pub fn spec_process_fields(process: &mut serde_json::Value, field: &str) -> Result<()> {
    one_of(
        process,
        "/scheduler/policy",
        &format!("{field}.scheduler.policy"),
        crate::process::sched::POLICY_NAMES,
    )?;
    one_of(
        process,
        "/ioPriority/class",
        &format!("{field}.ioPriority.class"),
        crate::process::ioprio::CLASS_NAMES,
    )?;
    // execCPUAffinity lists: checked naming the field; an empty one is
    // as if omitted (the spec), which oci-spec 0.10 would refuse.
    if let Some(a) = process
        .get_mut("execCPUAffinity")
        .and_then(|a| a.as_object_mut())
    {
        for name in ["initial", "final"] {
            match a.get(name).and_then(|v| v.as_str()) {
                Some("") => {
                    a.remove(name);
                }
                Some(list) => {
                    crate::process::affinity::cpus(name, list).map_err(Error::config)?;
                }
                None => {}
            }
        }
    }
    spec_scheduler_flags(process, field)
}

/// linux.personality.domain and linux.memoryPolicy's mode and flags
/// checked by name in config.json's raw JSON.
fn spec_linux_fields(linux: &serde_json::Value) -> Result<()> {
    one_of(
        linux,
        "/personality/domain",
        "linux.personality.domain",
        crate::process::personality::DOMAIN_NAMES,
    )?;
    one_of(
        linux,
        "/memoryPolicy/mode",
        "linux.memoryPolicy.mode",
        crate::process::mempolicy::MODE_NAMES,
    )?;
    one_of(
        linux,
        "/memoryPolicy/flags",
        "linux.memoryPolicy.flags",
        crate::process::mempolicy::FLAG_NAMES,
    )
}

/// The scheduler flags as the runtime-spec names them, in oci-spec
/// 0.10's spelling (which differs for two of them: it would refuse a
/// spec-valid config and accept misspelt ones). Applied to the raw JSON
/// of a process (config.json's, or exec's process.json) before it is
/// deserialised: the one place that knows. Anything else is refused,
/// naming the flag.
pub fn spec_scheduler_flags(process: &mut serde_json::Value, field: &str) -> Result<()> {
    const SPEC_TO_OCI_SPEC: &[(&str, &str)] = &[
        ("SCHED_FLAG_RESET_ON_FORK", "SCHED_RESET_ON_FORK"),
        ("SCHED_FLAG_RECLAIM", "SCHED_FLAG_RECLAIM"),
        ("SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_D_L_OVERRUN"),
        ("SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_POLICY"),
        ("SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_KEEP_PARAMS"),
        ("SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MIN"),
        ("SCHED_FLAG_UTIL_CLAMP_MAX", "SCHED_FLAG_UTIL_CLAMP_MAX"),
    ];
    let Some(flags) = process
        .pointer_mut("/scheduler/flags")
        .and_then(|f| f.as_array_mut())
    else {
        return Ok(());
    };
    for (i, f) in flags.iter_mut().enumerate() {
        let name = f.as_str().unwrap_or_default();
        let Some((_, theirs)) = SPEC_TO_OCI_SPEC.iter().find(|(spec, _)| *spec == name) else {
            return Err(Error::config(format!(
                "{field}.scheduler.flags[{i}] {f}: unknown scheduler flag"
            )));
        };
        *f = serde_json::Value::from(*theirs);
    }
    Ok(())
}

/// process.scheduler, process.ioPriority, process.execCPUAffinity: values
/// the kernel would refuse, or that Linux lacks, refused before anything
/// exists (for `create` and for exec's process).
pub fn check_process_attrs(process: &oci_spec::runtime::Process) -> Result<()> {
    if let Some(s) = process.scheduler() {
        crate::process::sched::attr_of(s).map_err(Error::config)?;
    }
    if let Some(p) = process.io_priority() {
        crate::process::ioprio::value_of(p).map_err(Error::config)?;
    }
    if let Some(a) = process.exec_cpu_affinity() {
        crate::process::affinity::check(a).map_err(Error::config)?;
    }
    Ok(())
}

/// linux.personality: a known domain (else config.json does not parse,
/// naming the field) and known flags.
fn check_personality(linux: &oci_spec::runtime::Linux) -> Result<()> {
    match linux.personality() {
        Some(p) => crate::process::personality::persona_of(p)
            .map(drop)
            .map_err(Error::config),
        None => Ok(()),
    }
}

/// linux.memoryPolicy: mode, flags and nodes that fit together and
/// nodes this host has.
fn check_memory_policy(linux: &oci_spec::runtime::Linux) -> Result<()> {
    match linux.memory_policy() {
        Some(p) => crate::process::mempolicy::check(p).map_err(Error::config),
        None => Ok(()),
    }
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
    } else if key.starts_with("user.") {
        // The user namespace's own limits (runc 1.4).
        has_ns(spec, LinuxNamespaceType::User)
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

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSchedulerFlag, Process};
    use serde_json::json;

    fn process(flags: serde_json::Value) -> Result<Process> {
        let mut v = json!({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0},
            "scheduler": {"policy": "SCHED_OTHER", "flags": flags}});
        spec_scheduler_flags(&mut v, "process")?;
        Ok(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn scheduler_flags_take_the_specs_names() {
        let all = json!([
            "SCHED_FLAG_RESET_ON_FORK",
            "SCHED_FLAG_RECLAIM",
            "SCHED_FLAG_DL_OVERRUN",
            "SCHED_FLAG_KEEP_POLICY",
            "SCHED_FLAG_KEEP_PARAMS",
            "SCHED_FLAG_UTIL_CLAMP_MIN",
            "SCHED_FLAG_UTIL_CLAMP_MAX"
        ]);
        let p = process(all).unwrap();
        use LinuxSchedulerFlag::*;
        assert_eq!(
            p.scheduler().as_ref().unwrap().flags().as_deref().unwrap(),
            &[
                SchedResetOnFork,
                SchedFlagReclaim,
                SchedFlagDLOverrun,
                SchedFlagKeepPolicy,
                SchedFlagKeepParams,
                SchedFlagUtilClampMin,
                SchedFlagUtilClampMax
            ]
        );
    }

    #[test]
    fn unknown_scheduler_flags_are_refused_by_name() {
        for bad in ["SCHED_RESET_ON_FORK", "SCHED_FLAG_NOPE"] {
            let e = process(json!([bad])).err().unwrap().to_string();
            assert!(
                e.contains("process.scheduler.flags[0]") && e.contains(bad),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_enumeration_values_name_the_field() {
        let mut p = json!({"scheduler": {"policy": "SCHED_FAST"}});
        let e = spec_process_fields(&mut p, "process")
            .unwrap_err()
            .to_string();
        assert!(e.contains("process.scheduler.policy \"SCHED_FAST\""), "{e}");
        let mut p = json!({"ioPriority": {"class": "IOPRIO_CLASS_NONE"}});
        let e = spec_process_fields(&mut p, "process")
            .unwrap_err()
            .to_string();
        assert!(e.contains("process.ioPriority.class"), "{e}");
        let mut p = json!({"execCPUAffinity": {"initial": "", "final": "1"}});
        spec_process_fields(&mut p, "process").unwrap();
        assert_eq!(
            p,
            json!({"execCPUAffinity": {"final": "1"}}),
            "empty: omitted"
        );
        let mut p = json!({"execCPUAffinity": {"initial": "0", "final": "0-x"}});
        let e = spec_process_fields(&mut p, "process")
            .unwrap_err()
            .to_string();
        assert!(e.contains("process.execCPUAffinity.final \"0-x\""), "{e}");
        let l = json!({"personality": {"domain": "SVR4"}});
        let e = spec_linux_fields(&l).unwrap_err().to_string();
        assert!(e.contains("linux.personality.domain \"SVR4\""), "{e}");
        let l = json!({"memoryPolicy": {"mode": "MPOL_BIND", "flags": ["MPOL_F_X"]}});
        let e = spec_linux_fields(&l).unwrap_err().to_string();
        assert!(e.contains("linux.memoryPolicy.flags \"MPOL_F_X\""), "{e}");
        let ok =
            json!({"personality": {"domain": "LINUX32"}, "memoryPolicy": {"mode": "MPOL_LOCAL"}});
        spec_linux_fields(&ok).unwrap();
    }

    #[test]
    fn process_attrs_are_checked() {
        let p: Process = serde_json::from_value(
            json!({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0},
            "scheduler": {"policy": "SCHED_ISO"}}),
        )
        .unwrap();
        assert!(check_process_attrs(&p)
            .unwrap_err()
            .to_string()
            .contains("SCHED_ISO"));
        let p: Process = serde_json::from_value(
            json!({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0},
            "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 9}}),
        )
        .unwrap();
        assert!(check_process_attrs(&p)
            .unwrap_err()
            .to_string()
            .contains("process.ioPriority"));
        let p: Process = serde_json::from_value(
            json!({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0},
            "execCPUAffinity": {"final": "1"}}),
        )
        .unwrap();
        assert!(check_process_attrs(&p).is_ok());
    }

    #[test]
    fn personality_flags_are_checked() {
        let linux: oci_spec::runtime::Linux = serde_json::from_value(
            json!({"personality": {"domain": "LINUX32", "flags": ["BOGUS"]}}),
        )
        .unwrap();
        let e = check_personality(&linux).unwrap_err().to_string();
        assert!(e.contains("linux.personality.flags[0]"), "{e}");
        let bad = serde_json::from_value::<oci_spec::runtime::Linux>(
            json!({"personality": {"domain": "SVR4"}}),
        );
        assert!(bad.is_err());
    }

    /// The fuzzer's seeds (fuzz/seeds/) are real configs: every one parses,
    /// so that fuzzing starts past the parser.
    #[test]
    fn the_fuzz_seeds_parse() {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
        let mut n = 0;
        for (kind, dir) in [("config", "config_json"), ("process", "process_json")] {
            for e in std::fs::read_dir(seeds.join(dir)).unwrap() {
                let p = e.unwrap().path();
                let data = std::fs::read(&p).unwrap();
                let r = match kind {
                    "config" => parse(&data, &p).map(drop),
                    _ => crate::lifecycle::exec::parse_process(&data, &p).map(drop),
                };
                r.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                n += 1;
            }
        }
        assert!(n >= 10, "{n} seeds");
    }

    #[test]
    fn other_platforms_sections_are_refused_by_name() {
        for (key, _) in OTHER_PLATFORMS {
            let config = format!(r#"{{"ociVersion":"1.3.0","{key}":{{}}}}"#);
            let err = parse(config.as_bytes(), Path::new("config.json"))
                .err()
                .unwrap_or_else(|| panic!("{key} accepted"))
                .to_string();
            assert!(err.starts_with(&format!("{key}: ")), "{err}");
            assert!(err.contains("Linux containers only"), "{err}");
        }
        let null = br#"{"ociVersion":"1.3.0","windows":null}"#;
        assert!(parse(null, Path::new("config.json")).is_ok());
        let linux = br#"{"ociVersion":"1.3.0","linux":{}}"#;
        assert!(parse(linux, Path::new("config.json")).is_ok());
    }
}
