//! The container's directory in each mounted hierarchy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Hierarchy key ("memory", "cpu,cpuacct", "name=systemd", "unified") to
/// the container's cgroup directory in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dirs(pub BTreeMap<String, PathBuf>);

impl Dirs {
    /// The v1 directory of controller `ctrl`.
    pub fn v1(&self, ctrl: &str) -> Option<&Path> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() != "unified" && k.split(',').any(|c| c == ctrl))
            .map(|(_, d)| d.as_path())
    }

    pub fn unified(&self) -> Option<&Path> {
        self.0.get("unified").map(|d| d.as_path())
    }

    /// Pure cgroup v2: the unified hierarchy is the only one.
    pub fn is_v2(&self) -> bool {
        self.0.len() == 1 && self.unified().is_some()
    }

    /// The unified directory when it carries `ctrl` (v2, or hybrid with
    /// that controller enabled on the cgroup2 mount).
    pub fn unified_with(&self, ctrl: &str) -> Option<&Path> {
        let u = self.unified()?;
        let ctrls = std::fs::read_to_string(u.join("cgroup.controllers")).ok()?;
        ctrls.split_whitespace().any(|c| c == ctrl).then_some(u)
    }

    /// Where the process list is read from: the unified dir on v2, else a
    /// v1 hierarchy that every container process is in.
    pub fn procs_dir(&self) -> Option<&Path> {
        if self.is_v2() {
            return self.unified();
        }
        ["freezer", "pids", "memory", "devices", "cpu"]
            .iter()
            .find_map(|c| self.v1(c))
            .or_else(|| self.0.values().next().map(|p| p.as_path()))
    }
}
