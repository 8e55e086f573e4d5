//! The rootless cgroup manager (runc's, for `--rootless` or an
//! unprivileged caller): the container gets a cgroup only where the
//! caller may make one.
//!
//! - Without a cgroupsPath the cgroup goes where runc puts it: beside the
//!   caller's own cgroup on cgroup2 (`<parent of own>/<id>`: the own one
//!   holds processes, so controllers cannot be enabled below it), under
//!   it on v1 (`<own>/<id>`). A delegated subtree (systemd's user@
//!   delegation, or a directory chowned to the user) is used so.
//! - A hierarchy where the caller may not make the directory, or may not
//!   move a process in (the common ancestor's cgroup.procs), is left out:
//!   with a warning when the config asks for no limit it carries, with an
//!   error naming the first such limit otherwise.
//! - Device rules are not applied (the v1 devices controller and the v2
//!   eBPF program need privileges the caller lacks; the container's
//!   devices are bind mounts of the host's nodes anyway).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use crate::cgroup::{Cgroup, SavedCgroup};
use crate::error::{CgroupError, Result};
use crate::layout::{self, Hierarchy, Layout};
use crate::path;

/// A rootless container's cgroup, and the warnings to print for the
/// hierarchies it does not get.
pub struct RootlessCgroup {
    pub cgroup: Cgroup,
    pub warnings: Vec<String>,
}

impl Cgroup {
    /// The rootless manager's `new`: resolves the directories and keeps
    /// those the caller may use (see the module doc). With `systemd` the
    /// scope goes to the user's manager (systemd --user).
    pub fn new_rootless(
        cgroups_path: Option<&str>,
        container_id: &str,
        systemd: bool,
        resources: Option<&LinuxResources>,
    ) -> Result<RootlessCgroup> {
        if systemd {
            let path = match cgroups_path {
                Some(p) if !p.is_empty() => p.to_string(),
                _ => format!("user.slice:remora:{container_id}"),
            };
            let cgroup = crate::systemd::user_cgroup(&path, container_id)?;
            return Ok(RootlessCgroup {
                cgroup,
                warnings: Vec::new(),
            });
        }
        let given = cgroups_path.filter(|p| !p.is_empty());
        if let Some(p) = given {
            path::validate_fs_path(p)?;
        }
        let settings = limits_asked(resources);
        let mut dirs = BTreeMap::new();
        let mut skipped: Vec<(String, String)> = Vec::new();
        for h in layout::hierarchies()? {
            let own = own_dir(&h)?;
            let dir = match given {
                Some(p) => path::fs_dir(&h, p)?,
                None if h.key == "unified" && own != h.mount_point => {
                    own.parent().unwrap_or(&h.mount_point).join(container_id)
                }
                None => own.join(container_id),
            };
            if let Some(why) = unusable(&own, &dir) {
                let carried = carries(&h);
                if let Some((field, _)) = settings
                    .iter()
                    .find(|(_, ctrls)| ctrls.iter().any(|c| carried.contains(&c.to_string())))
                {
                    return Err(CgroupError::unsupported(
                        field.clone(),
                        format!(
                            "rootless: the container cannot have a cgroup at {}: {why} (cgroups are not delegated to this user)",
                            dir.display()
                        ),
                    ));
                }
                skipped.push((h.key.clone(), why));
                continue;
            }
            dirs.insert(h.key.clone(), dir);
        }
        let warnings = match skipped.first() {
            None => Vec::new(),
            Some((_, why)) => vec![format!(
                "rootless: the container gets no cgroup in {} (cgroups are not delegated to this user: {why}{}); it runs without limits, and pause needs a cgroup",
                skipped.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(" "),
                if skipped.len() > 1 { ", ..." } else { "" }
            )],
        };
        let cgroup = Cgroup::from_saved(SavedCgroup {
            path: given.map(String::from).unwrap_or_default(),
            systemd: false,
            id: container_id.to_string(),
            dirs,
            rootless: true,
        });
        Ok(RootlessCgroup { cgroup, warnings })
    }
}

impl Cgroup {
    /// For a rootless container's `exec`: the directories of `dirs` this
    /// process may move a process into, and a warning naming the others
    /// (the exec'd process stays out of them: runc ignores a rootless
    /// exec's failure to join). Unchanged for other containers.
    pub fn joinable_by_caller(
        &self,
        dirs: BTreeMap<String, PathBuf>,
    ) -> (BTreeMap<String, PathBuf>, Option<String>) {
        if !self.to_saved().rootless {
            return (dirs, None);
        }
        let hierarchies = layout::hierarchies().unwrap_or_default();
        let mut left = Vec::new();
        let mut keep = BTreeMap::new();
        for (key, dir) in dirs {
            let own = hierarchies
                .iter()
                .find(|h| h.key == key)
                .and_then(|h| own_dir(h).ok());
            match own.and_then(|o| unusable(&o, &dir)) {
                Some(why) => left.push(format!("{} ({why})", dir.display())),
                None => {
                    keep.insert(key, dir);
                }
            }
        }
        let warning = (!left.is_empty()).then(|| {
            format!(
                "rootless exec: the process stays out of the container's cgroup {}",
                left.join(", ")
            )
        });
        (keep, warning)
    }
}

/// A rootless container whose cgroup lacks what `what` needs (v1
/// controller `ctrl`, or any hierarchy at all): the error that says so.
pub(crate) fn check_has_cgroup(saved: &SavedCgroup, what: &str, ctrl: Option<&str>) -> Result<()> {
    if !saved.rootless || saved.systemd {
        return Ok(());
    }
    let dirs = crate::dirs::Dirs(saved.dirs.clone());
    let has = match ctrl {
        None => !saved.dirs.is_empty(),
        Some(c) => dirs.v1(c).is_some() || dirs.is_v2(),
    };
    if has {
        return Ok(());
    }
    Err(CgroupError::unsupported(
        what,
        "the rootless container has no cgroup (cgroups are not delegated to this user)",
    ))
}

/// The caller's own cgroup directory in hierarchy `h`.
fn own_dir(h: &Hierarchy) -> Result<PathBuf> {
    let own = layout::own_cgroup(&h.key)?;
    let own = own
        .strip_prefix(h.mount_root.trim_end_matches('/'))
        .unwrap_or(&own)
        .to_string();
    let mut dir = h.mount_point.clone();
    dir.extend(own.split('/').filter(|c| !c.is_empty() && *c != ".."));
    Ok(dir)
}

/// Why the caller cannot use `dir` as its container's cgroup (None: it
/// can): it must be able to make the directory (write access to its
/// nearest existing ancestor) and to move a process from its own cgroup
/// `own` into it (write access to cgroup.procs of their common ancestor).
fn unusable(own: &Path, dir: &Path) -> Option<String> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    if !dir.exists() && !may_write(existing) {
        return Some(format!("no write access to {}", existing.display()));
    }
    let common = dir.ancestors().find(|a| own.starts_with(a))?;
    let procs = common.join("cgroup.procs");
    if !may_write(&procs) {
        return Some(format!("no write access to {}", procs.display()));
    }
    None
}

fn may_write(p: &Path) -> bool {
    use nix::fcntl::AtFlags;
    use nix::unistd::{faccessat, AccessFlags};
    faccessat(None, p, AccessFlags::W_OK, AtFlags::AT_EACCESS).is_ok()
}

/// The controllers hierarchy `h` carries: its v1 ones, or those listed in
/// the cgroup2 root's cgroup.controllers (plus "unified" for
/// linux.resources.unified).
fn carries(h: &Hierarchy) -> Vec<String> {
    if h.key != "unified" {
        return h.key.split(',').map(String::from).collect();
    }
    let mut c: Vec<String> = std::fs::read_to_string(h.mount_point.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    c.push("unified".into());
    if layout::layout() == Layout::V2 {
        // A limit of a controller the host lacks fails later by its name.
        c.extend(
            [
                "memory", "cpu", "cpuset", "io", "pids", "hugetlb", "rdma", "misc",
            ]
            .map(String::from),
        );
    }
    c
}

/// Every limit `r` sets (devices aside: rootless ignores them), as
/// (field, controllers that carry it): ("linux.resources.memory.limit",
/// ["memory"]).
pub(crate) fn limits_asked(r: Option<&LinuxResources>) -> Vec<(String, &'static [&'static str])> {
    let Some(r) = r else { return Vec::new() };
    let Ok(serde_json::Value::Object(top)) = serde_json::to_value(r) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in top {
        let mut leaves = Vec::new();
        set_leaves(&format!("linux.resources.{key}"), &v, &mut leaves);
        for field in leaves {
            let ctrls: &'static [&'static str] = match key.as_str() {
                "devices" => continue,
                "memory" => &["memory"],
                "cpu" if field.ends_with(".cpus") || field.ends_with(".mems") => &["cpuset"],
                "cpu" => &["cpu"],
                "pids" => &["pids"],
                "blockIO" => &["blkio", "io"],
                "hugepageLimits" => &["hugetlb"],
                "network" => &["net_cls", "net_prio"],
                "rdma" => &["rdma"],
                "unified" => &["unified"],
                _ => &["unified"],
            };
            out.push((field, ctrls));
        }
    }
    out
}

/// The paths of the set (non-null, non-empty) values under `v`.
fn set_leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, v) in m {
                set_leaves(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Array(a) if a.is_empty() => {}
        Value::String(s) if s.is_empty() => {}
        _ => out.push(prefix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn no_limits_in_the_rootless_spec_or_devices_alone() {
        assert!(limits_asked(None).is_empty());
        assert!(limits_asked(Some(&res(serde_json::json!({})))).is_empty());
        let devices = res(serde_json::json!({"devices": [{"allow": false, "access": "rwm"}]}));
        assert!(limits_asked(Some(&devices)).is_empty());
    }

    #[test]
    fn limits_name_their_field_and_controller() {
        let r = res(
            serde_json::json!({"memory": {"limit": 1048576}, "cpu": {"cpus": "0"},
            "pids": {"limit": 10}}),
        );
        let got = limits_asked(Some(&r));
        assert!(got.contains(&("linux.resources.memory.limit".into(), &["memory"][..])));
        assert!(got.contains(&("linux.resources.cpu.cpus".into(), &["cpuset"][..])));
        assert!(got.contains(&("linux.resources.pids.limit".into(), &["pids"][..])));
    }
}
