//! `remora check`: what the host must have for the config: hook
//! programs, namespace files to join, cgroup controllers, subordinate ids
//! for a rootless container.

use std::collections::BTreeSet;
use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, LinuxResources, Spec};

use super::{executable_mode, hint_for, Problem};

/// Hook programs: absolute, existing, executable.
pub(super) fn hooks(spec: &Spec, out: &mut Vec<Problem>) {
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

/// linux.namespaces[i].path: the namespace file to join exists.
pub(super) fn namespace_paths(spec: &Spec, out: &mut Vec<Problem>) {
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
pub(super) fn cgroups(spec: &Spec, systemd: bool, out: &mut Vec<Problem>) {
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
pub(super) fn rootless_ids(spec: &Spec, out: &mut Vec<Problem>) {
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
