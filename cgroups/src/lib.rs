//! remora-cgroups: cgroup placement and resources for remora containers.
//!
//! This is the contract the runtime relies on. The cgroups issue (#3) fills
//! it in on top of libcgroups; the foundation only needs placement, kill-all,
//! and removal.
//!
//! Lifecycle as the runtime uses it:
//! - `create`: `Cgroup::new(..)` (pure: computes the path, touches nothing),
//!   then `cg.create(pid, resources)` right after the init is cloned and before
//!   `remora create` returns; on any later failure of create, `cg.destroy()`.
//! - The runtime stores `cg.to_saved()` in the container's state.json and
//!   rebuilds the handle with `Cgroup::from_saved` for later commands.

use std::path::PathBuf;

use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

/// Errors name the config field and the cgroup path involved.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("linux.cgroupsPath {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    #[error("cgroup {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cgroup {path}: {msg}")]
    Manager { path: String, msg: String },
}

pub type Result<T> = std::result::Result<T, CgroupError>;

/// What the state store keeps so that later commands find the cgroup again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedCgroup {
    /// The resolved cgroup path (absolute within the hierarchy, or the
    /// systemd `slice:prefix:name` form).
    pub path: String,
    pub systemd: bool,
}

/// A container's cgroup.
#[derive(Debug, Clone)]
pub struct Cgroup {
    saved: SavedCgroup,
}

impl Cgroup {
    /// Computes where the container's cgroup goes, as runc does: an absolute
    /// `cgroups_path` is used as is, a relative one goes under the caller's
    /// cgroup, an empty one defaults to `/remora/<id>` (cgroupfs) or
    /// `system.slice:remora:<id>` (systemd). Touches nothing on the host.
    pub fn new(cgroups_path: Option<&str>, container_id: &str, systemd: bool) -> Result<Self> {
        let path = match cgroups_path {
            Some(p) if !p.is_empty() => p.to_string(),
            _ if systemd => format!("system.slice:remora:{container_id}"),
            _ => format!("/remora/{container_id}"),
        };
        if !systemd && path.split('/').any(|c| c == "..") {
            return Err(CgroupError::InvalidPath {
                path,
                reason: "must not contain \"..\"".into(),
            });
        }
        Ok(Self {
            saved: SavedCgroup { path, systemd },
        })
    }

    pub fn from_saved(saved: SavedCgroup) -> Self {
        Self { saved }
    }

    pub fn to_saved(&self) -> SavedCgroup {
        self.saved.clone()
    }

    /// Creates the cgroup, applies `resources`, and moves `pid` into it.
    pub fn create(&self, _pid: Pid, _resources: Option<&LinuxResources>) -> Result<()> {
        Ok(())
    }

    /// Every process in the cgroup (host PIDs).
    pub fn pids(&self) -> Result<Vec<Pid>> {
        Ok(Vec::new())
    }

    /// Freezes (`true`) or thaws (`false`) the cgroup.
    pub fn set_frozen(&self, _frozen: bool) -> Result<()> {
        Ok(())
    }

    /// Whether the cgroup is frozen.
    pub fn is_frozen(&self) -> Result<bool> {
        Ok(false)
    }

    /// Removes the cgroup, killing whatever is left in it first.
    pub fn destroy(&self) -> Result<()> {
        Ok(())
    }
}
