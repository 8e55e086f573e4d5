//! `remora check [-b BUNDLE]`: what `create` would refuse in a bundle, all
//! of it at once, without creating anything (no namespace, mount, cgroup,
//! state directory or process: it only reads the bundle, /proc and /sys).
//!
//! Each problem names the config field, says what is wrong and gives a
//! hint. Errors are what create would fail on; warnings are what it
//! accepts but is likely not what was meant (a mount destination through
//! a symlink that climbs out of the rootfs). Exit 0 without errors.
//!
//! The config's own validation is config.rs's (parse, load, validate: it
//! stops at the first error); the checks here go on past one problem and
//! add what create only finds later, on the host: a missing cgroup
//! controller, resctrl, an LSM, subordinate ids for a rootless config, a
//! bind source, process.args[0] in the rootfs, a hook's program.
//!
//! Files: this one (the problems, their hints, the order of the checks),
//! `caps.rs` (capability names), `host.rs` (what the host must have:
//! cgroup controllers, subordinate ids, hook programs, namespace files),
//! `rootfs.rs` (bind sources, the program and paths inside the rootfs).

mod caps;
mod host;
mod rootfs;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde_json::Value;

use super::Global;
use crate::config;
use crate::error::{Error, Result};

/// One thing create would refuse (or, as a warning, accept with a likely
/// surprise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub warning: bool,
    /// The config field, e.g. `process.capabilities.bounding[2]`.
    pub field: String,
    pub message: String,
    pub hint: String,
}

impl Problem {
    fn error(
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Problem {
            warning: false,
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn warning(
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Problem {
            warning: true,
            ..Problem::error(field, message, hint)
        }
    }

    /// A problem from one of config.rs's (or a crate's) error messages,
    /// which start with the field: `linux.sysctl "x": not allowed ...`.
    fn from_error(e: &Error) -> Self {
        // The whole chain: a cause is the error's source, not its text.
        let text = crate::error::chain(e);
        let (field, message) = split_field(&text);
        let hint = hint_for(&field).to_string();
        Problem::error(field, message, hint)
    }
}

/// The field an error message starts with, and the rest.
fn split_field(text: &str) -> (String, String) {
    let head = text.split(':').next().unwrap_or("");
    let first = head.split_whitespace().next().unwrap_or("");
    let looks_like_field = !first.is_empty()
        && first.starts_with(|c: char| c.is_ascii_lowercase())
        && first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._[]\"-".contains(c));
    if looks_like_field && text.len() > first.len() {
        let rest = text[first.len()..].trim_start_matches([':', ' ']);
        (first.trim_end_matches(',').to_string(), rest.to_string())
    } else {
        ("config.json".to_string(), text.to_string())
    }
}

/// A hint for a field, by its prefix.
fn hint_for(field: &str) -> &'static str {
    const HINTS: &[(&str, &str)] = &[
        ("process.args", "the program must exist in the rootfs and be executable; a bare name is looked up in process.env's PATH"),
        ("process.cwd", "an absolute path inside the container"),
        ("process.env", "each entry is KEY=VALUE, KEY not empty and without '='"),
        ("process.apparmorProfile", "AppArmor must be enabled on the host (or drop the field); `remora features` shows linux.apparmor"),
        ("process.selinuxLabel", "SELinux must be enabled on the host (or drop the field); `remora features` shows linux.selinux"),
        ("process.scheduler", "see sched(7) for the policies and their priority ranges"),
        ("process.ioPriority", "class IOPRIO_CLASS_RT, _BE or _IDLE, priority 0-7"),
        ("process", "process is required to create a container"),
        ("root.path", "the bundle's root filesystem directory (relative paths are from the bundle), not a symlink to it"),
        ("hostname", "a hostname needs a uts namespace in linux.namespaces"),
        ("domainname", "a domainname needs a uts namespace in linux.namespaces"),
        ("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings, and mappings need a user namespace"),
        ("linux.gidMappings", "a new user namespace needs uidMappings and gidMappings, and mappings need a user namespace"),
        ("linux.namespaces", "each type at most once; a path is absolute and names a namespace file (/proc/PID/ns/TYPE or a bind mount of one)"),
        ("linux.sysctl", "only namespaced sysctls, with their namespace: net.* (network); kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* (ipc); kernel.hostname, kernel.domainname (uts)"),
        ("linux.resources", "the controller must be mounted on the host (v1: /sys/fs/cgroup/<controller>; v2: listed in cgroup.controllers), or drop the setting"),
        ("linux.intelRdt", "needs resctrl mounted at /sys/fs/resctrl (a CPU with RDT or AMD QoS), or drop linux.intelRdt"),
        ("linux.seccomp", "see docs/spec-coverage.md for the actions, operators, architectures and flags remora takes"),
        ("linux.maskedPaths", "masking needs a mount namespace in linux.namespaces"),
        ("linux.readonlyPaths", "read-only paths need a mount namespace in linux.namespaces"),
        ("linux.cgroupsPath", "a path (/a/b or a/b); with --systemd-cgroup slice:prefix:name"),
        ("linux", "linux is required: remora runs Linux containers"),
        ("mounts", "a bind source is a host path (relative: from the bundle); a destination is an absolute path in the container"),
        ("hooks", "an absolute path to an executable program on the host"),
    ];
    HINTS
        .iter()
        .find(|(prefix, _)| {
            field == *prefix
                || field
                    .strip_prefix(prefix)
                    .is_some_and(|r| r.starts_with(['.', '[', ' ', '"']))
        })
        .map_or(
            "see docs/spec-coverage.md for what remora supports",
            |(_, h)| h,
        )
}

/// The command: prints every problem on stdout; Ok(0) without errors,
/// else an error that counts them (exit 1, as any failed command).
pub fn check(g: &Global, bundle: &Path, rootless: Option<&str>) -> Result<i32> {
    let rootless = match rootless {
        Some("true") => true,
        Some("false") => false,
        // auto (and no flag): rootless when not root
        _ => !nix::unistd::geteuid().is_root(),
    };
    let found = problems(bundle, rootless, g.systemd_cgroup);
    let dir = std::path::absolute(bundle).unwrap_or_else(|_| bundle.to_path_buf());
    print!("{}", render(&found));
    let errors = found.iter().filter(|p| !p.warning).count();
    let warnings = found.len() - errors;
    if errors > 0 {
        return Err(Error::config(format!(
            "bundle {}: {errors} error(s), {warnings} warning(s): create would fail",
            dir.display()
        )));
    }
    println!(
        "bundle {}: ok, {warnings} warning(s): create would pass validation",
        dir.display()
    );
    Ok(0)
}

/// The problems as text: `error: FIELD: MESSAGE` and an indented hint.
pub fn render(found: &[Problem]) -> String {
    let mut out = String::new();
    for p in found {
        let level = if p.warning { "warning" } else { "error" };
        out.push_str(&format!("{level}: {}: {}\n", p.field, p.message));
        out.push_str(&format!("  hint: {}\n", p.hint));
    }
    out
}

/// Every problem in the bundle, errors first.
pub fn problems(bundle: &Path, rootless: bool, systemd_cgroup: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    let dir = match std::path::absolute(bundle) {
        Ok(d) => d,
        Err(e) => {
            out.push(Problem::error(
                "bundle",
                format!("{}: {e}", bundle.display()),
                "give the bundle directory with -b",
            ));
            return out;
        }
    };
    let path = dir.join("config.json");
    let data = match crate::bounded::read_capped(&path, crate::bounded::JSON_CAP) {
        Ok(d) => d,
        Err(e) => {
            out.push(Problem::error(
                "config.json",
                format!("reading {}: {e}", path.display()),
                "a bundle is a directory with config.json and the rootfs; `remora spec` writes a default config.json",
            ));
            return out;
        }
    };
    let mut raw: Value = match serde_json::from_slice(&data) {
        Ok(v) => v,
        Err(e) => {
            out.push(Problem::error(
                "config.json",
                format!("invalid JSON: {e}"),
                "fix the JSON syntax (e.g. `jq . config.json` shows where it breaks)",
            ));
            return out;
        }
    };
    // Unknown capabilities, each of them, then dropped so that the rest
    // of the config can be checked past them.
    let caps_ok = caps::unknown_capabilities(&mut raw, &mut out);
    let sanitized = serde_json::to_vec(&raw).expect("a Value serialises");
    let spec = match config::parse(&sanitized, &path) {
        Ok(s) => s,
        Err(e) => {
            out.push(Problem::from_error(&e));
            return finish(out);
        }
    };
    // The rootfs as create loads it (root.path, not a symlink, a
    // directory): config::load reads config.json again, so only when
    // nothing was dropped above (else it would stop at the same names).
    let rootfs = if caps_ok {
        match config::load(&dir) {
            Ok(b) => Some(b.rootfs),
            Err(e) => {
                out.push(Problem::from_error(&e));
                None
            }
        }
    } else {
        rootfs_of(&dir, &spec, &mut out)
    };
    // Every named check of the config's validation, not only the first
    // that fails (create stops there), and its warnings.
    let (failed, warned) = config::checks::report(&spec);
    for (_, e) in &failed {
        out.push(Problem::from_error(e));
    }
    for (_, text) in warned {
        let (field, message) = split_field(&text);
        let hint = hint_for(&field).to_string();
        out.push(Problem::warning(field, message, hint));
    }
    if let Some(process) = spec.process() {
        if let Err(e) = config::check_process_attrs(process) {
            out.push(Problem::from_error(&e));
        }
        if let Err(e) = config::check_lsm(process) {
            out.push(Problem::from_error(&e));
        }
    }
    host::hooks(&spec, &mut out);
    if let Some(linux) = spec.linux() {
        if let Err(e) = config::compile_seccomp(linux) {
            out.push(Problem::from_error(&e));
        }
        host::namespace_paths(&spec, &mut out);
        host::cgroups(&spec, systemd_cgroup, &mut out);
        if let Some(rdt) = linux.intel_rdt() {
            if let Err(e) = crate::resctrl::check(rdt, "check", Path::new(crate::resctrl::ROOT)) {
                out.push(Problem::from_error(&e));
            }
        }
        if rootless {
            host::rootless_ids(&spec, &mut out);
        }
    }
    rootfs::mounts(&dir, rootfs.as_deref(), &spec, &mut out);
    if let Some(root) = &rootfs {
        rootfs::in_rootfs(root, &spec, &mut out);
    }
    finish(out)
}

/// Errors first, each problem once (validate and the checks after it may
/// find the same one).
fn finish(found: Vec<Problem>) -> Vec<Problem> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<Problem> = found
        .into_iter()
        .filter(|p| seen.insert((p.field.clone(), p.message.clone())))
        .collect();
    out.sort_by_key(|p| p.warning);
    out
}

/// The rootfs named by root.path (config::load's rule, when load cannot
/// be used): an existing directory.
fn rootfs_of(dir: &Path, spec: &Spec, out: &mut Vec<Problem>) -> Option<PathBuf> {
    let Some(root) = spec.root() else {
        out.push(Problem::error(
            "root",
            "missing from config.json",
            hint_for("root.path"),
        ));
        return None;
    };
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        dir.join(root.path())
    };
    if rootfs.is_dir() {
        Some(rootfs)
    } else {
        out.push(Problem::error(
            "root.path",
            format!("{:?}: {} is not a directory", root.path(), rootfs.display()),
            hint_for("root.path"),
        ));
        None
    }
}

/// Whether a file mode has an execute bit.
fn executable_mode(p: std::fs::Permissions) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.mode() & 0o111 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_split_from_messages() {
        assert_eq!(
            split_field("linux.sysctl \"x\": not allowed: it is not namespaced"),
            (
                "linux.sysctl".into(),
                "\"x\": not allowed: it is not namespaced".into()
            )
        );
        assert_eq!(
            split_field("hostname: unable to set hostname"),
            ("hostname".into(), "unable to set hostname".into())
        );
        assert_eq!(split_field("Something odd").0, "config.json");
        assert!(hint_for("linux.sysctl \"x\"").contains("namespaced"));
        assert!(hint_for("process.args[0]").contains("executable"));
        assert!(hint_for("linux.resources.memory").contains("controller"));
        assert!(hint_for("linuxfoo").contains("spec-coverage"));
    }
}
