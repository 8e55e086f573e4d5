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

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, LinuxResources, Spec};
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
        let text = e.to_string();
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
    let caps_ok = unknown_capabilities(&mut raw, &mut out);
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
    if let Err(e) = config::validate(&spec) {
        out.push(Problem::from_error(&e));
    }
    if let Some(process) = spec.process() {
        // validate stops at its first error: these go on.
        if let Err(e) = config::check_process_attrs(process) {
            out.push(Problem::from_error(&e));
        }
        if let Err(e) = config::check_lsm(process) {
            out.push(Problem::from_error(&e));
        }
    }
    hooks(&spec, &mut out);
    if let Some(linux) = spec.linux() {
        if let Err(e) = config::compile_seccomp(linux) {
            out.push(Problem::from_error(&e));
        }
        namespace_paths(&spec, &mut out);
        cgroups(&spec, systemd_cgroup, &mut out);
        if let Some(rdt) = linux.intel_rdt() {
            if let Err(e) = crate::resctrl::check(rdt, "check", Path::new(crate::resctrl::ROOT)) {
                out.push(Problem::from_error(&e));
            }
        }
        if rootless {
            rootless_ids(&spec, &mut out);
        }
    }
    mounts(&dir, rootfs.as_deref(), &spec, &mut out);
    if let Some(root) = &rootfs {
        in_rootfs(root, &spec, &mut out);
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

const CAP_SETS: [&str; 5] = [
    "bounding",
    "effective",
    "inheritable",
    "permitted",
    "ambient",
];

fn known_capability(name: &str) -> bool {
    serde_json::from_value::<oci_spec::runtime::Capability>(Value::from(name)).is_ok()
}

/// Every unknown name in process.capabilities, with the closest known
/// one; the unknown names are removed from `raw`. False if any was found.
fn unknown_capabilities(raw: &mut Value, out: &mut Vec<Problem>) -> bool {
    let mut ok = true;
    let Some(caps) = raw
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    else {
        return true;
    };
    for set in CAP_SETS {
        let Some(list) = caps.get_mut(set).and_then(Value::as_array_mut) else {
            continue;
        };
        let mut i = 0;
        list.retain(|v| {
            let name = v.as_str().unwrap_or_default();
            let keep = known_capability(name);
            if !keep {
                ok = false;
                let hint = match closest_capability(name) {
                    Some(c) => format!("did you mean {c:?}? Names are capabilities(7)'s, with the CAP_ prefix; `remora features` lists them (linux.capabilities)"),
                    None => "names are capabilities(7)'s, with the CAP_ prefix; `remora features` lists them (linux.capabilities)".to_string(),
                };
                out.push(Problem::error(
                    format!("process.capabilities.{set}[{i}]"),
                    format!("{v}: unknown capability"),
                    hint,
                ));
            }
            i += 1;
            keep
        });
    }
    ok
}

/// The known capability nearest to `name` (edit distance at most 3).
fn closest_capability(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let wanted = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    caps::all()
        .into_iter()
        .map(|c| c.to_string())
        .filter(|c| known_capability(c))
        .map(|c| (edit_distance(&wanted, &c), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
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

/// Hook programs: absolute, existing, executable.
fn hooks(spec: &Spec, out: &mut Vec<Problem>) {
    let Some(h) = spec.hooks() else { return };
    #[allow(deprecated)]
    let kinds = [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
        ("poststart", h.poststart()),
        ("poststop", h.poststop()),
    ];
    for (kind, list) in kinds {
        for (i, hook) in list.iter().flatten().enumerate() {
            let field = format!("hooks.{kind}[{i}].path");
            // startContainer runs in the container: its path is the
            // container's, looked up later.
            if kind == "startContainer" {
                continue;
            }
            let p = hook.path();
            if !p.is_absolute() {
                out.push(Problem::error(
                    field,
                    format!("{p:?}: not an absolute path"),
                    hint_for("hooks"),
                ));
                continue;
            }
            match std::fs::metadata(p) {
                Ok(m) if m.is_file() && executable_mode(m.permissions()) => {}
                Ok(_) => out.push(Problem::error(
                    field,
                    format!("{}: not an executable file", p.display()),
                    hint_for("hooks"),
                )),
                Err(e) => out.push(Problem::error(
                    field,
                    format!("{}: {e}", p.display()),
                    hint_for("hooks"),
                )),
            }
        }
    }
}

fn executable_mode(p: std::fs::Permissions) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.mode() & 0o111 != 0
}

/// linux.namespaces[i].path: the namespace file to join exists.
fn namespace_paths(spec: &Spec, out: &mut Vec<Problem>) {
    let namespaces = spec.linux().as_ref().and_then(|l| l.namespaces().clone());
    for (i, ns) in namespaces.iter().flatten().enumerate() {
        let Some(p) = ns.path().as_ref().filter(|p| !p.as_os_str().is_empty()) else {
            continue;
        };
        if p.is_absolute() {
            if let Err(e) = std::fs::metadata(p) {
                out.push(Problem::error(
                    format!("linux.namespaces[{i}].path"),
                    format!("{}: {e}", p.display()),
                    hint_for("linux.namespaces"),
                ));
            }
        }
    }
}

/// The cgroup controllers this host has: v1 hierarchies' and the cgroup2
/// mount's (None if there is no cgroup2 mount).
fn host_controllers() -> (BTreeSet<String>, Option<BTreeSet<String>>) {
    let mut v1 = BTreeSet::new();
    let mut v2 = None;
    let Ok(mi) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return (v1, v2);
    };
    for line in mi.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split_whitespace();
        let fstype = post.next().unwrap_or("");
        let _source = post.next();
        let options = post.next().unwrap_or("");
        let mount_point = pre.split_whitespace().nth(4).unwrap_or("");
        match fstype {
            "cgroup" => v1.extend(options.split(',').map(String::from)),
            "cgroup2" if v2.is_none() => {
                let ctrls =
                    std::fs::read_to_string(Path::new(mount_point).join("cgroup.controllers"))
                        .unwrap_or_default();
                v2 = Some(ctrls.split_whitespace().map(String::from).collect());
            }
            _ => {}
        }
    }
    (v1, v2)
}

/// The controllers linux.resources needs: (field, v1 name, v2 name).
fn needed_controllers(r: &LinuxResources) -> Vec<(String, &'static str, &'static str)> {
    let f = "linux.resources";
    let mut need = Vec::new();
    if let Some(m) = r.memory() {
        #[allow(deprecated)]
        let set = m.limit().is_some()
            || m.reservation().is_some()
            || m.swap().is_some()
            || m.kernel().is_some()
            || m.kernel_tcp().is_some()
            || m.swappiness().is_some()
            || m.disable_oom_killer().is_some();
        if set {
            need.push((format!("{f}.memory"), "memory", "memory"));
        }
    }
    if let Some(c) = r.cpu() {
        if c.shares().is_some()
            || c.quota().is_some()
            || c.period().is_some()
            || c.realtime_period().is_some()
            || c.realtime_runtime().is_some()
            || c.idle().is_some()
            || c.burst().is_some()
        {
            need.push((format!("{f}.cpu"), "cpu", "cpu"));
        }
        if c.cpus().as_ref().is_some_and(|s| !s.is_empty())
            || c.mems().as_ref().is_some_and(|s| !s.is_empty())
        {
            need.push((format!("{f}.cpu.cpus"), "cpuset", "cpuset"));
        }
    }
    if r.pids().is_some() {
        need.push((format!("{f}.pids"), "pids", "pids"));
    }
    if r.block_io().is_some() {
        need.push((format!("{f}.blockIO"), "blkio", "io"));
    }
    if r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
        need.push((format!("{f}.hugepageLimits"), "hugetlb", "hugetlb"));
    }
    if let Some(n) = r.network() {
        if n.class_id().is_some() {
            need.push((format!("{f}.network.classID"), "net_cls", "-"));
        }
        if n.priorities().as_ref().is_some_and(|p| !p.is_empty()) {
            need.push((format!("{f}.network.priorities"), "net_prio", "-"));
        }
    }
    if r.rdma().as_ref().is_some_and(|m| !m.is_empty()) {
        need.push((format!("{f}.rdma"), "rdma", "rdma"));
    }
    need
}

/// linux.cgroupsPath parses, the values are in range, and every
/// controller a setting needs is on the host.
fn cgroups(spec: &Spec, systemd: bool, out: &mut Vec<Problem>) {
    let Some(linux) = spec.linux() else { return };
    let path = linux.cgroups_path().as_ref().and_then(|p| p.to_str());
    if let Err(e) = remora_cgroups::Cgroup::new(path, "check", systemd) {
        let mut p = Problem::from_error(&e.into());
        if p.field == "config.json" {
            p.field = "linux.cgroupsPath".into();
            p.hint = hint_for("linux.cgroupsPath").into();
        }
        out.push(p);
    }
    let Some(r) = linux.resources() else { return };
    if let Err(e) = remora_cgroups::validate(r) {
        out.push(Problem::from_error(&e.into()));
    }
    let (v1, v2) = host_controllers();
    for (field, c1, c2) in needed_controllers(r) {
        let in_v2 = v2.as_ref().is_some_and(|v| v.contains(c2));
        if !v1.contains(c1) && !in_v2 {
            out.push(Problem::error(
                field,
                format!("the {c1} cgroup controller is not available on this host (neither a v1 hierarchy nor in the cgroup2 mount's cgroup.controllers)"),
                hint_for("linux.resources"),
            ));
        }
    }
    if let Some(u) = r.unified().as_ref().filter(|u| !u.is_empty()) {
        match &v2 {
            None => out.push(Problem::error(
                "linux.resources.unified",
                "cgroup v2 is not mounted on this host",
                "linux.resources.unified writes cgroup2 files: drop it, or use the v1 fields",
            )),
            Some(ctrls) => {
                for key in u.keys() {
                    let ctrl = key.split('.').next().unwrap_or("");
                    if ctrl != "cgroup" && !ctrls.contains(ctrl) {
                        out.push(Problem::error(
                            format!("linux.resources.unified[{key:?}]"),
                            format!("the {ctrl} controller is not enabled in the cgroup2 mount"),
                            "on a hybrid host the v1 hierarchies hold the controllers: use the v1 fields",
                        ));
                    }
                }
            }
        }
    }
}

/// Subordinate ids for a rootless container: its mappings beyond the
/// caller's own id need newuidmap/newgidmap and /etc/subuid, /etc/subgid.
fn rootless_ids(spec: &Spec, out: &mut Vec<Problem>) {
    let linux = spec.linux().as_ref().expect("checked by the caller");
    let has_userns = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::User);
    if !has_userns {
        out.push(Problem::error(
            "linux.namespaces",
            "rootless: the container needs a user namespace",
            "add {\"type\": \"user\"} and uidMappings/gidMappings (`remora spec --rootless` writes such a config)",
        ));
        return;
    }
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid).ok().flatten();
    let name = user.as_ref().map_or(uid.to_string(), |u| u.name.clone());
    let gid = nix::unistd::getgid().as_raw();
    for (field, maps, own, file, helper) in [
        (
            "linux.uidMappings",
            linux.uid_mappings(),
            uid.as_raw(),
            "/etc/subuid",
            "newuidmap",
        ),
        (
            "linux.gidMappings",
            linux.gid_mappings(),
            gid,
            "/etc/subgid",
            "newgidmap",
        ),
    ] {
        let maps: &[LinuxIdMapping] = maps.as_deref().unwrap_or(&[]);
        // The caller's own id alone needs no helper.
        if maps.iter().all(|m| m.size() == 1 && m.host_id() == own) {
            continue;
        }
        if !["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
            .iter()
            .any(|d| Path::new(d).join(helper).is_file())
        {
            out.push(Problem::error(
                field,
                format!("rootless: mapping more than your own id needs {helper}, which is not installed"),
                "install the uidmap package (newuidmap, newgidmap), or map only your own id",
            ));
        }
        let ranges = subordinate_ranges(file, &name, uid.as_raw());
        for (i, m) in maps.iter().enumerate() {
            if m.size() == 1 && m.host_id() == own {
                continue;
            }
            let (start, end) = (
                u64::from(m.host_id()),
                u64::from(m.host_id()) + u64::from(m.size()),
            );
            if !ranges.iter().any(|(s, e)| *s <= start && end <= *e) {
                out.push(Problem::error(
                    format!("{field}[{i}]"),
                    format!(
                        "rootless: host ids {start}-{} are not subordinate ids of {name} in {file}",
                        end.saturating_sub(1)
                    ),
                    format!(
                        "add `{name}:{start}:{}` to {file} (usermod --add-sub{}ids {start}-{} {name}), or map only your own id",
                        m.size(),
                        if file.ends_with("uid") { "u" } else { "g" },
                        end.saturating_sub(1)
                    ),
                ));
            }
        }
    }
}

/// The [start, end) ranges /etc/subuid (or subgid) gives a user (by name
/// or uid).
fn subordinate_ranges(file: &str, name: &str, uid: u32) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            if who != name && who != uid.to_string() {
                return None;
            }
            let start: u64 = start.parse().ok()?;
            Some((start, start + count.parse::<u64>().ok()?))
        })
        .collect()
}

/// Mount options, bind sources, and destinations through symlinks that
/// leave the rootfs.
fn mounts(dir: &Path, rootfs: Option<&Path>, spec: &Spec, out: &mut Vec<Problem>) {
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if let Err(e) =
            crate::rootfs::options::MountOptions::parse(m.options().as_deref().unwrap_or(&[]))
        {
            out.push(Problem::error(
                format!("mounts[{i}].options"),
                e.to_string(),
                "see mount(8) and docs/spec-coverage.md for the options remora takes",
            ));
        }
        if crate::rootfs::mounts::is_bind(m) {
            let src = m.source().clone().unwrap_or_default();
            let host = if src.is_absolute() {
                src.clone()
            } else {
                dir.join(&src)
            };
            if let Err(e) = std::fs::metadata(&host) {
                out.push(Problem::error(
                    format!("mounts[{i}].source"),
                    format!("{:?}: {}: {e}", src, host.display()),
                    "a bind mount's source must exist on the host (a relative source is from the bundle)",
                ));
            }
        }
        if let Some(root) = rootfs {
            let r = resolve_in_root(root, m.destination());
            for s in r.leaving {
                out.push(Problem::warning(
                    format!("mounts[{i}].destination"),
                    format!("{:?}: {s}", m.destination()),
                    format!("remora resolves it inside the rootfs: the mount lands on {}; give that path as the destination, or fix the symlink", r.path.display()),
                ));
            }
        }
    }
}

/// Checks inside the rootfs: /dev not a symlink, process.args[0] found
/// and executable, process.cwd not through a symlink that leaves.
fn in_rootfs(root: &Path, spec: &Spec, out: &mut Vec<Problem>) {
    if std::fs::symlink_metadata(root.join("dev")).is_ok_and(|m| m.file_type().is_symlink()) {
        out.push(Problem::error(
            "root.path",
            format!("{}/dev is a symlink", root.display()),
            "/dev in the rootfs must be a directory (or absent): the runtime makes device nodes in it",
        ));
    }
    let Some(process) = spec.process() else {
        return;
    };
    let mount_dests: Vec<PathBuf> = spec
        .mounts()
        .iter()
        .flatten()
        .map(|m| m.destination().clone())
        .collect();
    if let Some(arg0) = process.args().as_ref().and_then(|a| a.first()) {
        program(
            root,
            arg0,
            process.env().as_deref().unwrap_or(&[]),
            &mount_dests,
            out,
        );
    }
    let cwd = resolve_in_root(root, process.cwd());
    for s in cwd.leaving {
        out.push(Problem::warning(
            "process.cwd",
            format!("{:?}: {s}", process.cwd()),
            format!(
                "remora resolves it inside the rootfs: the process starts in {}",
                cwd.path.display()
            ),
        ));
    }
}

/// process.args[0] in the rootfs (PATH from process.env for a bare
/// name), as create's lookup would find it; skipped when a mount covers
/// it (it is not in the rootfs then).
fn program(root: &Path, arg0: &str, env: &[String], mounts: &[PathBuf], out: &mut Vec<Problem>) {
    let candidates: Vec<PathBuf> = if arg0.contains('/') {
        vec![PathBuf::from("/").join(arg0)]
    } else {
        env.iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("")
            .split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join(arg0))
            .collect()
    };
    if candidates.iter().any(|c| {
        mounts
            .iter()
            .any(|m| m != Path::new("/") && c.starts_with(m))
    }) {
        return;
    }
    let mut denied = None;
    for c in &candidates {
        let r = resolve_in_root(root, c);
        if !r.exists {
            continue;
        }
        match std::fs::metadata(root.join(r.path.strip_prefix("/").unwrap_or(&r.path))) {
            Ok(m) if m.is_file() && executable_mode(m.permissions()) => return,
            Ok(_) => denied = Some(c.clone()),
            Err(_) => {}
        }
    }
    let (message, hint) = match denied {
        Some(c) => (
            format!("{arg0:?}: {} is not an executable file", c.display()),
            "give the program's mode an x bit (chmod +x) in the rootfs".to_string(),
        ),
        None if arg0.contains('/') => (
            format!("{arg0:?}: no such file in the container's rootfs"),
            hint_for("process.args").to_string(),
        ),
        None => (
            format!("{arg0:?}: executable file not found in $PATH (process.env's PATH)"),
            hint_for("process.args").to_string(),
        ),
    };
    out.push(Problem::error("process.args[0]", message, hint));
}

/// A path resolved inside the rootfs as the container sees it (symlinks
/// followed with the rootfs as `/`).
struct Resolved {
    /// The container path it names.
    path: PathBuf,
    /// Whether that path exists.
    exists: bool,
    /// The symlinks on the way that leave the rootfs, described: a
    /// relative target climbing above it, or an absolute target that
    /// exists on the host but not in the rootfs (a host path, likely).
    leaving: Vec<String>,
}

fn resolve_in_root(root: &Path, path: &Path) -> Resolved {
    let mut cur = PathBuf::from("/");
    let mut todo: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut leaving = Vec::new();
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&name);
        let host = root.join(next.strip_prefix("/").unwrap_or(&next));
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                let Ok(target) = std::fs::read_link(&host) else {
                    return Resolved {
                        path: next,
                        exists: false,
                        leaving,
                    };
                };
                if hops > 40 {
                    return Resolved {
                        path: next,
                        exists: false,
                        leaving,
                    };
                }
                if target.is_absolute() {
                    let inside = root.join(target.strip_prefix("/").unwrap_or(&target));
                    if std::fs::symlink_metadata(&inside).is_err() && target.exists() {
                        leaving.push(format!(
                            "{} in the rootfs is a symlink to {}, which exists on the host but not in the rootfs",
                            next.display(),
                            target.display()
                        ));
                    }
                    cur = PathBuf::from("/");
                } else {
                    // Depth of `cur` vs the `..`s the target climbs.
                    let mut depth = cur.components().count() - 1;
                    let mut climbs_out = false;
                    for c in target.components() {
                        match c {
                            Component::ParentDir if depth == 0 => climbs_out = true,
                            Component::ParentDir => depth -= 1,
                            Component::Normal(_) => depth += 1,
                            _ => {}
                        }
                    }
                    if climbs_out {
                        leaving.push(format!(
                            "{} in the rootfs is a symlink to {}, which climbs out of the rootfs",
                            next.display(),
                            target.display()
                        ));
                    }
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push(n.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            Ok(_) => cur = next,
            Err(_) => {
                // The rest does not exist (yet): create makes it.
                cur = next;
                while let Some(n) = todo.pop() {
                    if n == ".." {
                        cur.pop();
                    } else {
                        cur.push(n);
                    }
                }
                return Resolved {
                    path: cur,
                    exists: false,
                    leaving,
                };
            }
        }
    }
    Resolved {
        path: cur,
        exists: true,
        leaving,
    }
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

    #[test]
    fn closest_capability_names() {
        assert_eq!(
            closest_capability("CAP_NET_ADMN").as_deref(),
            Some("CAP_NET_ADMIN")
        );
        assert_eq!(closest_capability("chown").as_deref(), Some("CAP_CHOWN"));
        assert_eq!(closest_capability("CAP_TOTALLY_BOGUS"), None);
    }

    #[test]
    fn resolving_in_the_rootfs() {
        let root = std::env::temp_dir().join(format!("remora-check-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/a", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("a/up")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("hostdir")).unwrap();
        let r = resolve_in_root(&root, Path::new("/abs/b"));
        assert_eq!(r.path, PathBuf::from("/a/b"));
        assert!(r.exists && r.leaving.is_empty());
        let r = resolve_in_root(&root, Path::new("/a/up/x"));
        assert_eq!(r.path, PathBuf::from("/etc/x"));
        assert!(!r.exists);
        assert!(r.leaving[0].contains("climbs out"), "{:?}", r.leaving);
        let r = resolve_in_root(&root, Path::new("/hostdir"));
        assert!(
            r.leaving[0].contains("exists on the host"),
            "{:?}",
            r.leaving
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
