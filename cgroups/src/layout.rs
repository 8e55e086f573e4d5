//! The host's cgroup layout: which hierarchies are mounted where.

use std::fs;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{CgroupError, Result};

pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How cgroups are mounted on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// cgroup v1 controllers only.
    V1,
    /// cgroup v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified.
    Hybrid,
    /// Pure cgroup v2 at /sys/fs/cgroup.
    V2,
}

/// Detects the layout from the filesystem at /sys/fs/cgroup (libcgroups'
/// detection); a host without /sys/fs/cgroup reads as V1 with no controllers.
pub fn layout() -> Layout {
    use libcgroups::common::{get_cgroup_setup, CgroupSetup};
    match get_cgroup_setup() {
        Ok(CgroupSetup::Unified) => Layout::V2,
        Ok(CgroupSetup::Hybrid) => Layout::Hybrid,
        Ok(CgroupSetup::Legacy) | Err(_) => Layout::V1,
    }
}

/// What the `features` command reports under `linux.cgroup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    pub v1: bool,
    pub v2: bool,
    pub systemd: bool,
    pub systemd_user: bool,
    pub rdma: bool,
}

/// The cgroup features remora implements and this host can use: v1 and
/// v2 when such hierarchies are mounted, the systemd driver when systemd
/// runs (systemdUser too: the rootless driver talks to the user's
/// manager), rdma when the controller is there (v1 hierarchy, or listed
/// by the cgroup2 root).
pub fn features() -> Features {
    let hs = hierarchies().unwrap_or_default();
    let v2 = hs.iter().find(|h| h.key == "unified");
    let v2_controllers = v2
        .and_then(|h| fs::read_to_string(h.mount_point.join("cgroup.controllers")).ok())
        .unwrap_or_default();
    let v1_has = |c: &str| {
        hs.iter()
            .any(|h| h.key != "unified" && h.key.split(',').any(|k| k == c))
    };
    Features {
        v1: hs
            .iter()
            .any(|h| h.key != "unified" && !h.key.starts_with("name=")),
        v2: v2.is_some(),
        systemd: libcgroups::systemd::booted(),
        systemd_user: libcgroups::systemd::booted(),
        rdma: v1_has("rdma") || v2_controllers.split_whitespace().any(|c| c == "rdma"),
    }
}

/// One mounted hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    /// "unified" for cgroup2, otherwise the v1 super options naming the
    /// controllers ("cpu", "cpu,cpuacct", "name=systemd").
    pub key: String,
    pub mount_point: PathBuf,
    /// The mount's root within the hierarchy (mountinfo field 4).
    pub mount_root: String,
}

/// Every cgroup hierarchy mounted in this mount namespace, first mount of
/// each wins. On a pure v2 host that is the single unified mount; on hybrid
/// hosts the v1 ones plus the unified mount under /sys/fs/cgroup.
pub(crate) fn hierarchies() -> Result<Vec<Hierarchy>> {
    let mi = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| CgroupError::io("/proc/self/mountinfo", e))?;
    Ok(parse_mountinfo(&mi))
}

pub(crate) fn parse_mountinfo(mi: &str) -> Vec<Hierarchy> {
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in mi.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 {
            continue;
        }
        let mount_root = unescape(pre[3]);
        let mount_point = PathBuf::from(unescape(pre[4]));
        let key = match post[0] {
            "cgroup2" => {
                if !mount_point.starts_with(CGROUP_ROOT) {
                    continue;
                }
                "unified".to_string()
            }
            "cgroup" => {
                const KNOWN: &[&str] = &[
                    "cpu",
                    "cpuacct",
                    "cpuset",
                    "memory",
                    "devices",
                    "freezer",
                    "blkio",
                    "pids",
                    "hugetlb",
                    "net_cls",
                    "net_prio",
                    "perf_event",
                    "rdma",
                    "misc",
                ];
                let ctrls: Vec<&str> = post[2]
                    .split(',')
                    .filter(|o| KNOWN.contains(o) || o.starts_with("name="))
                    .collect();
                if ctrls.is_empty() {
                    continue;
                }
                ctrls.join(",")
            }
            _ => continue,
        };
        if out.iter().any(|h| h.key == key) {
            continue;
        }
        out.push(Hierarchy {
            key,
            mount_point,
            mount_root,
        });
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\134", "\\")
}

/// This process's cgroup in the hierarchy `key` (from /proc/self/cgroup).
pub(crate) fn own_cgroup(key: &str) -> Result<String> {
    let s = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| CgroupError::io("/proc/self/cgroup", e))?;
    Ok(own_cgroup_in(&s, key).unwrap_or_else(|| "/".to_string()))
}

pub(crate) fn own_cgroup_in(proc_cgroup: &str, key: &str) -> Option<String> {
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = if key == "unified" {
            ctrls.is_empty()
        } else {
            let want: Vec<&str> = key.split(',').collect();
            let have: Vec<&str> = ctrls.split(',').collect();
            want.iter().all(|w| have.contains(w))
        };
        if matches {
            return Some(path.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
34 30 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct";

    #[test]
    fn parses_hybrid_mounts() {
        let h = parse_mountinfo(HYBRID);
        let keys: Vec<&str> = h.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            keys,
            ["cpu", "memory", "name=systemd", "unified", "cpu,cpuacct"]
        );
    }

    #[test]
    fn own_cgroup_lookup() {
        let pc = "4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/u\n";
        assert_eq!(own_cgroup_in(pc, "memory").as_deref(), Some("/a/b"));
        assert_eq!(own_cgroup_in(pc, "cpu,cpuacct").as_deref(), Some("/c"));
        assert_eq!(own_cgroup_in(pc, "unified").as_deref(), Some("/u"));
        assert_eq!(own_cgroup_in(pc, "pids"), None);
    }
}
