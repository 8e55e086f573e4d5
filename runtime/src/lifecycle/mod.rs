//! The container lifecycle: create, start, state, kill, delete, run.
//!
//! Status is derived, never stored (runc's rules): the init gone, a
//! zombie, or a different process behind its PID (start time differs):
//! stopped; the cgroup frozen: paused; the exec fifo still there:
//! created; else running. The one stored fact is `creating`: a record
//! create has not finished (it runs, or was killed) is "creating".

pub mod cgroup_cmds;
pub mod check;
pub mod checkpoint;
pub mod create;
pub mod delete;
pub mod exec;
pub(crate) mod host_mounts;
pub mod init_gone;
pub mod kill;
pub mod list;
pub mod restore;
pub mod run;
pub mod start;
pub mod update_args;
pub(crate) mod wait;
pub(crate) mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::state::{ContainerDir, State};

/// The options every command shares.
#[derive(Debug, Clone)]
pub struct Global {
    pub root: PathBuf,
    pub systemd_cgroup: bool,
    /// The rootless cgroup manager (--rootless, or auto: rootless.rs).
    pub rootless: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// (state char, start time) from /proc/PID/stat.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let data = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let rest = &data[data.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Whether the init recorded in `state` is still that process, alive.
pub fn init_alive(state: &State) -> bool {
    if state.pid <= 0 {
        return false;
    }
    matches!(proc_stat(state.pid), Some((s, t)) if s != 'Z' && s != 'X' && t == state.init_start_time)
}

pub fn status_of(state: &State, dir: &ContainerDir) -> Status {
    if state.creating {
        return Status::Creating;
    }
    if !init_alive(state) {
        return Status::Stopped;
    }
    // Frozen first (as runc): a created container that was paused is
    // paused.
    let cg = remora_cgroups::Cgroup::from_saved(state.cgroup.clone());
    if cg.is_frozen().unwrap_or(false) {
        return Status::Paused;
    }
    if dir.fifo().exists() {
        return Status::Created;
    }
    Status::Running
}

/// The OCI state as hooks get it on stdin.
pub fn state_json(
    id: &str,
    status: &str,
    pid: i32,
    bundle: &Path,
    annotations: Option<&HashMap<String, String>>,
) -> String {
    let mut v = serde_json::json!({
        "ociVersion": crate::OCI_VERSION,
        "id": id,
        "status": status,
        "bundle": bundle,
    });
    if pid > 0 {
        v["pid"] = pid.into();
    }
    if let Some(a) = annotations.filter(|a| !a.is_empty()) {
        v["annotations"] = serde_json::json!(a);
    }
    v.to_string()
}

/// What `remora state` prints (runc's shape).
pub fn state_output(state: &State, status: Status) -> serde_json::Value {
    let pid = match status {
        Status::Stopped => 0,
        Status::Creating if !init_alive(state) => 0,
        _ => state.pid,
    };
    let mut v = serde_json::json!({
        "ociVersion": crate::OCI_VERSION,
        "id": state.id,
        "pid": pid,
        "status": status.as_str(),
        "bundle": state.bundle,
        "rootfs": state.rootfs,
        "created": state.created,
        "owner": state.owner,
    });
    if !state.annotations.is_empty() {
        v["annotations"] = serde_json::json!(state.annotations);
    }
    v
}

/// A [`state_output`] value serialised with its keys in runc's order
/// (ociVersion, id, pid, status, bundle, rootfs, created, annotations,
/// owner): `state` and `list --format json` print it so; scripts match it.
pub struct RuncOrder<'a>(pub &'a serde_json::Value);

impl serde::Serialize for RuncOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const KEYS: [&str; 9] = [
            "ociVersion",
            "id",
            "pid",
            "status",
            "bundle",
            "rootfs",
            "created",
            "annotations",
            "owner",
        ];
        let mut m = s.serialize_map(None)?;
        for k in KEYS {
            if let Some(v) = self.0.get(k).filter(|v| !v.is_null()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// `remora state ID`: never waits for another command's lock (a create
/// under way shows as "creating").
pub fn state(g: &Global, id: &str) -> crate::error::Result<String> {
    let dir = ContainerDir::peek(&g.root, id)?;
    let st = dir.load()?;
    let status = status_of(&st, &dir);
    Ok(serde_json::to_string_pretty(&RuncOrder(&state_output(&st, status))).expect("json"))
}
