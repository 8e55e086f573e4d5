//! The systemd driver: a transient scope over D-Bus (libcgroups' systemd
//! manager), on cgroup v2 hosts booted with systemd.

use std::path::PathBuf;

use libcgroups::common::{CgroupManager, ControllerOpt, FreezerState};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use crate::cgroup::{Cgroup, SavedCgroup};
use crate::error::{CgroupError, Result};
use crate::layout::{layout, Layout, CGROUP_ROOT};

fn err(path: &str, e: impl std::fmt::Display) -> CgroupError {
    CgroupError::Manager {
        path: path.to_string(),
        msg: format!("systemd: {e}"),
    }
}

/// The scope's manager: the system's, or the user's (systemd --user,
/// over $DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus) for a rootless
/// container.
fn manager(saved: &SavedCgroup) -> Result<libcgroups::systemd::manager::Manager> {
    let (path, id) = (saved.path.as_str(), saved.id.as_str());
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
        !saved.rootless,
        libcgroups::systemd::manager::PROCESS_IN_CGROUP_TIMEOUT_DURATION,
    )
    .map_err(|e| err(path, e))
}

/// Fails early (before the clone) when the driver cannot work here.
pub(crate) fn check(saved: &SavedCgroup) -> Result<()> {
    manager(saved).map(|_| ())
}

/// Starts the scope holding `pid` and applies the resources.
pub(crate) fn start(saved: &SavedCgroup, pid: Pid, r: &LinuxResources) -> Result<()> {
    let path = saved.path.as_str();
    let m = manager(saved)?;
    m.add_task(pid).map_err(|e| err(path, e))?;
    apply(&m, path, r)
}

pub(crate) fn update(saved: &SavedCgroup, r: &LinuxResources) -> Result<()> {
    let path = saved.path.as_str();
    let m = manager(saved)?;
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

pub(crate) fn freeze(saved: &SavedCgroup, frozen: bool) -> Result<()> {
    let path = saved.path.as_str();
    let m = manager(saved)?;
    let st = if frozen {
        FreezerState::Frozen
    } else {
        FreezerState::Thawed
    };
    m.freeze(st).map_err(|e| err(path, e))
}

/// Stops the scope (systemd kills what is left).
pub(crate) fn stop(saved: &SavedCgroup) -> Result<()> {
    let path = saved.path.as_str();
    let m = manager(saved)?;
    m.remove().map_err(|e| err(path, e))
}

/// A rootless container's scope under the user's manager: its directory
/// is under the manager's own cgroup, /user.slice/user-UID.slice/
/// user@UID.service (where systemd puts every user's manager).
pub(crate) fn user_cgroup(path: &str, id: &str) -> Result<Cgroup> {
    let sp = crate::path::parse_systemd(path)?;
    let uid = nix::unistd::geteuid().as_raw();
    let rel = format!(
        "/user.slice/user-{uid}.slice/user@{uid}.service{}/{}",
        crate::path::expand_slice(&sp.slice)?,
        sp.unit
    );
    let mut dirs = std::collections::BTreeMap::new();
    for h in crate::layout::hierarchies()? {
        if h.key == "unified" {
            let mut d = h.mount_point.clone();
            d.extend(rel.split('/').filter(|c| !c.is_empty()));
            dirs.insert(h.key, d);
        }
    }
    Ok(Cgroup::from_saved(SavedCgroup {
        path: path.to_string(),
        systemd: true,
        id: id.to_string(),
        dirs,
        rootless: true,
    }))
}
