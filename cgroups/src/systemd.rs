//! The systemd driver: a transient scope over D-Bus (libcgroups' systemd
//! manager), on cgroup v2 hosts booted with systemd.

use std::path::PathBuf;

use libcgroups::common::{CgroupManager, ControllerOpt, FreezerState};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use crate::error::{CgroupError, Result};
use crate::layout::{layout, Layout, CGROUP_ROOT};

fn err(path: &str, e: impl std::fmt::Display) -> CgroupError {
    CgroupError::Manager {
        path: path.to_string(),
        msg: format!("systemd: {e}"),
    }
}

fn manager(path: &str, id: &str) -> Result<libcgroups::systemd::manager::Manager> {
    if layout() != Layout::V2 {
        return Err(CgroupError::unsupported(
            "--systemd-cgroup",
            "the systemd driver needs a pure cgroup v2 host",
        ));
    }
    if !libcgroups::systemd::booted() {
        return Err(CgroupError::unsupported(
            "--systemd-cgroup",
            "systemd is not running (no /run/systemd/system)",
        ));
    }
    libcgroups::systemd::manager::Manager::new(
        PathBuf::from(CGROUP_ROOT),
        PathBuf::from(path),
        id.to_string(),
        true,
        libcgroups::systemd::manager::PROCESS_IN_CGROUP_TIMEOUT_DURATION,
    )
    .map_err(|e| err(path, e))
}

/// Fails early (before the clone) when the driver cannot work here.
pub(crate) fn check(path: &str, id: &str) -> Result<()> {
    manager(path, id).map(|_| ())
}

/// Starts the scope holding `pid` and applies the resources.
pub(crate) fn start(path: &str, id: &str, pid: Pid, r: &LinuxResources) -> Result<()> {
    let m = manager(path, id)?;
    m.add_task(pid).map_err(|e| err(path, e))?;
    apply(&m, path, r)
}

pub(crate) fn update(path: &str, id: &str, r: &LinuxResources) -> Result<()> {
    let m = manager(path, id)?;
    apply(&m, path, r)
}

fn apply(m: &libcgroups::systemd::manager::Manager, path: &str, r: &LinuxResources) -> Result<()> {
    let opt = ControllerOpt {
        resources: r,
        disable_oom_killer: r
            .memory()
            .as_ref()
            .and_then(|m| m.disable_oom_killer())
            .unwrap_or(false),
        oom_score_adj: None,
        freezer_state: None,
    };
    m.apply(&opt).map_err(|e| err(path, e))
}

pub(crate) fn freeze(path: &str, id: &str, frozen: bool) -> Result<()> {
    let m = manager(path, id)?;
    let st = if frozen {
        FreezerState::Frozen
    } else {
        FreezerState::Thawed
    };
    m.freeze(st).map_err(|e| err(path, e))
}

/// Stops the scope (systemd kills what is left).
pub(crate) fn stop(path: &str, id: &str) -> Result<()> {
    let m = manager(path, id)?;
    m.remove().map_err(|e| err(path, e))
}
