//! config.json, read once (bounded in size), checked (checks.rs: a list
//! of small named checks) and turned into [`Config`], the typed config
//! that create, the init, exec and delete use: the process and the linux
//! section are there for sure, mounts come with their options parsed,
//! the namespaces as a plan, the seccomp profile compiled. What exec
//! needs of it is saved in the state directory at create (saved.rs), so
//! that exec never reads the bundle again. Every error names the config
//! field and the path involved.

pub mod checks;
pub mod saved;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Hooks, Linux, Mount, Process, Spec};
use remora_namespaces::NamespacePlan;

use crate::error::{Error, Result};
use crate::rootfs::options::{MountOptions, MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE};

/// A container's validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The bundle directory, absolute.
    pub bundle: PathBuf,
    /// root.path, absolute (checked to be a directory, not a symlink).
    pub rootfs: PathBuf,
    /// root.readonly.
    pub readonly_root: bool,
    /// hostname and domainname, when given and not empty.
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub process: Process,
    /// mounts, in order, with their options parsed.
    pub mounts: Vec<MountEntry>,
    /// linux.namespaces: which are new, which joined by path.
    pub namespaces: NamespacePlan,
    /// The linux section, for the parts consumed as the spec has them
    /// (id maps, cgroupsPath and resources by the cgroups crate, devices,
    /// sysctl, paths, personality, ...).
    pub linux: Linux,
    /// linux.rootfsPropagation as (type, recursive).
    pub propagation: Option<(u64, bool)>,
    pub hooks: Hooks,
    pub annotations: HashMap<String, String>,
    /// linux.seccomp, compiled.
    pub seccomp: Option<remora_seccomp::Filter>,
    /// linux.seccomp.listenerPath and listenerMetadata, for a NOTIFY
    /// profile's listener fd.
    pub seccomp_listener: Option<SeccompListener>,
}

/// Where the seccomp listener fd goes, and the metadata sent with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeccompListener {
    pub path: PathBuf,
    pub metadata: String,
}

impl SeccompListener {
    fn of(linux: &Linux) -> Option<SeccompListener> {
        let s = linux.seccomp().as_ref()?;
        Some(SeccompListener {
            path: s.listener_path().clone()?,
            metadata: s.listener_metadata().clone().unwrap_or_default(),
        })
    }
}

/// One of config.json's mounts, its options sorted (rootfs/options.rs).
#[derive(Debug, Clone)]
pub struct MountEntry {
    /// Its index in config.json's mounts (errors name it).
    pub index: usize,
    pub mount: Mount,
    pub options: MountOptions,
    /// A bind mount (type "bind", or the bind/rbind option).
    pub bind: bool,
}

impl MountEntry {
    /// Checks mounts[index] and parses its options.
    pub fn new(index: usize, m: Mount) -> Result<MountEntry> {
        let options = Self::check(index, &m)?;
        let bind = crate::rootfs::mounts::is_bind(&m);
        Ok(MountEntry {
            index,
            mount: m,
            options,
            bind,
        })
    }

    /// What must hold of mounts[index]; its options, parsed.
    pub fn check(index: usize, m: &Mount) -> Result<MountOptions> {
        if !m.destination().is_absolute() {
            return Err(Error::config(format!(
                "mounts[{index}].destination {:?}: must be an absolute path",
                m.destination()
            )));
        }
        let bind = crate::rootfs::mounts::is_bind(m);
        if m.typ().is_none() && !bind {
            return Err(Error::config(format!(
                "mounts[{index}] {:?}: type is missing",
                m.destination()
            )));
        }
        crate::rootfs::mounts::check_id_mappings(index, m)?;
        MountOptions::parse(m.options().as_deref().unwrap_or(&[]))
            .map_err(|e| Error::config(format!("mounts[{index}] {:?}: {e}", m.destination())))
    }

    pub fn destination(&self) -> &Path {
        self.mount.destination()
    }

    /// The type ("" for a bind mount that gives none).
    pub fn typ(&self) -> &str {
        self.mount.typ().as_deref().unwrap_or_default()
    }
}

/// linux.rootfsPropagation as (type, recursive).
pub fn propagation(linux: &Linux) -> Result<Option<(u64, bool)>> {
    let Some(p) = linux.rootfs_propagation() else {
        return Ok(None);
    };
    Ok(Some(match p.as_str() {
        "private" => (MS_PRIVATE, false),
        "rprivate" => (MS_PRIVATE, true),
        "shared" => (MS_SHARED, false),
        "rshared" => (MS_SHARED, true),
        "slave" => (MS_SLAVE, false),
        "rslave" => (MS_SLAVE, true),
        "unbindable" => (MS_UNBINDABLE, false),
        "runbindable" => (MS_UNBINDABLE, true),
        other => {
            return Err(Error::config(format!(
                "linux.rootfsPropagation {other:?}: unknown propagation type"
            )))
        }
    }))
}

/// Reads `<bundle>/config.json` (bounded in size), checks it and makes
/// the container's [`Config`]: the entry point of create and `check`.
pub fn load(bundle: &Path) -> Result<Config> {
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
    let rootfs = rootfs_of(&spec, &dir)?;
    validate(&spec)?;
    Config::build(spec, dir, rootfs)
}

/// Runs every check of checks.rs (and says its warnings).
pub fn validate(spec: &Spec) -> Result<()> {
    checks::run(spec)
}

impl Config {
    /// The typed config of a checked spec (taken apart, not copied: a
    /// seccomp profile can be large).
    pub fn build(mut spec: Spec, bundle: PathBuf, rootfs: PathBuf) -> Result<Config> {
        let readonly_root = spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false);
        let mounts = spec
            .mounts_mut()
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, m)| MountEntry::new(i, m))
            .collect::<Result<Vec<_>>>()?;
        let non_empty = |s: &mut Option<String>| s.take().filter(|s| !s.is_empty());
        let hostname = non_empty(spec.hostname_mut());
        let domainname = non_empty(spec.domainname_mut());
        let annotations = spec.annotations_mut().take().unwrap_or_default();
        let hooks = spec.hooks_mut().take().unwrap_or_default();
        let (Some(process), Some(linux)) = (spec.process_mut().take(), spec.linux_mut().take())
        else {
            // checks::process_present and linux_present refuse it first.
            return Err(Error::config("process, linux: missing from config.json"));
        };
        let seccomp = compile_seccomp(&linux)?;
        let seccomp_listener = SeccompListener::of(&linux);
        let parts = Parts {
            process,
            linux,
            mounts,
            hooks,
            annotations,
            seccomp,
            seccomp_listener,
        };
        Config::of_parts(bundle, rootfs, parts).map(|c| Config {
            readonly_root,
            hostname,
            domainname,
            ..c
        })
    }

    /// A config of its parts (create's, or exec's from the saved one).
    fn of_parts(bundle: PathBuf, rootfs: PathBuf, p: Parts) -> Result<Config> {
        let namespaces = NamespacePlan::from_spec(p.linux.namespaces().as_deref().unwrap_or(&[]))?;
        let propagation = propagation(&p.linux)?;
        Ok(Config {
            bundle,
            rootfs,
            readonly_root: false,
            hostname: None,
            domainname: None,
            process: p.process,
            mounts: p.mounts,
            namespaces,
            linux: p.linux,
            propagation,
            hooks: p.hooks,
            annotations: p.annotations,
            seccomp: p.seccomp,
            seccomp_listener: p.seccomp_listener,
        })
    }

    /// The config as a runtime-spec document again, for the code that
    /// hands parts of it to other tools as the spec has them (CRIU's
    /// checkpoint and restore); a copy, off the create path.
    pub fn to_spec(&self) -> Result<Spec> {
        let root: oci_spec::runtime::Root = serde_json::from_value(serde_json::json!({
            "path": self.rootfs,
            "readonly": self.readonly_root,
        }))
        .map_err(|e| Error::config(format!("root: {e}")))?;
        let mut spec: Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": crate::OCI_VERSION,
        }))
        .map_err(|e| Error::config(format!("config: {e}")))?;
        spec.set_root(Some(root));
        spec.set_process(Some(self.process.clone()));
        spec.set_hostname(self.hostname.clone());
        spec.set_domainname(self.domainname.clone());
        spec.set_mounts(Some(self.mounts.iter().map(|m| m.mount.clone()).collect()));
        spec.set_hooks(Some(self.hooks.clone()));
        spec.set_annotations(Some(self.annotations.clone()));
        spec.set_linux(Some(self.linux.clone()));
        Ok(spec)
    }

    /// Adds a mount (the runtime's own, e.g. the notify socket's).
    pub fn push_mount(&mut self, m: Mount) -> Result<()> {
        let entry = MountEntry::new(self.mounts.len(), m)?;
        self.mounts.push(entry);
        Ok(())
    }

    /// Whether any hook of a kind is given.
    pub fn has_hooks(&self, pick: fn(&Hooks) -> Option<&Vec<oci_spec::runtime::Hook>>) -> bool {
        pick(&self.hooks).is_some_and(|h| !h.is_empty())
    }
}

/// What a [`Config`] is made of besides its paths.
struct Parts {
    process: Process,
    linux: Linux,
    mounts: Vec<MountEntry>,
    hooks: Hooks,
    annotations: HashMap<String, String>,
    seccomp: Option<remora_seccomp::Filter>,
    seccomp_listener: Option<SeccompListener>,
}

/// root.path made absolute (from the bundle), checked to be a directory
/// and not a symlink.
fn rootfs_of(spec: &Spec, dir: &Path) -> Result<PathBuf> {
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::config("root: missing from config.json"))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        dir.join(root.path())
    };
    check_no_symlink(root.path(), dir, &rootfs)?;
    match std::fs::metadata(&rootfs) {
        Ok(m) if m.is_dir() => Ok(rootfs),
        Ok(_) => Err(Error::config(format!(
            "root.path {:?}: {} is not a directory",
            root.path(),
            rootfs.display()
        ))),
        Err(e) => Err(Error::config(format!(
            "root.path {:?}: {}: {}",
            root.path(),
            rootfs.display(),
            e
        ))),
    }
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
    crate::runc_compat::config(&mut raw)?;
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
                    crate::process::affinity::cpus(name, list)?;
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
        crate::process::sched::attr_of(s)?;
    }
    if let Some(p) = process.io_priority() {
        crate::process::ioprio::value_of(p)?;
    }
    if let Some(a) = process.exec_cpu_affinity() {
        crate::process::affinity::check(a)?;
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

    /// to_spec gives back what checkpoint and restore read of the spec.
    #[test]
    fn to_spec_gives_back_the_config() {
        let mut v = crate::spec::default_spec(false);
        v["hooks"] = serde_json::json!({"poststop": [{"path": "/bin/true"}]});
        v["annotations"] = serde_json::json!({"a": "b"});
        v["linux"]["devices"] =
            serde_json::json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]);
        let spec: Spec = serde_json::from_value(v).unwrap();
        let c = Config::build(spec.clone(), "/b".into(), "/b/rootfs".into()).unwrap();
        let back = c.to_spec().unwrap();
        assert_eq!(back.mounts(), spec.mounts());
        assert_eq!(back.linux(), spec.linux());
        assert_eq!(back.process(), spec.process());
        assert_eq!(back.hooks(), spec.hooks());
        assert_eq!(back.annotations(), spec.annotations());
        assert_eq!(back.hostname(), spec.hostname());
        let root = back.root().as_ref().unwrap();
        assert_eq!(
            (root.path().to_str(), root.readonly()),
            (Some("/b/rootfs"), Some(true))
        );
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
