//! `remora delete`: kills what is left (created containers always; running
//! ones with --force), then removes the cgroup and the state, and runs
//! the poststop hooks.

use std::os::fd::AsFd;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::kill::init_pidfd;
use super::{status_of, Global, Status};
use crate::error::{Error, Result};
use crate::state::{ContainerDir, State};
use crate::sys::process::pidfd_send_signal;

pub fn delete(g: &Global, id: &str, force: bool) -> Result<()> {
    let dir = match ContainerDir::open(&g.root, id) {
        Ok(d) => d,
        Err(Error::NotExist) if force => return Ok(()),
        Err(e) => return Err(e),
    };
    let st = dir.load()?;
    match status_of(&st, &dir) {
        Status::Stopped => {}
        Status::Created => {
            return_net_devices(&dir, Some(st.pid));
            kill_and_wait(&st)
        }
        status @ (Status::Running | Status::Paused) => {
            if !force {
                return Err(Error::DeleteNotStopped {
                    id: id.to_string(),
                    status: status.as_str().to_string(),
                });
            }
            return_net_devices(&dir, Some(st.pid));
            kill_and_wait(&st);
        }
    }
    destroy(dir, &st)
}

/// linux.netDevices back to the host under their host names, while the
/// container's network namespace still exists (the init alive, or a
/// joined namespace); see net_devices.rs for what the kernel does once it
/// is gone.
fn return_net_devices(dir: &ContainerDir, pid: Option<i32>) {
    for f in crate::net_devices::move_back(&dir.path, pid) {
        crate::logging::warn(&f);
    }
}

/// linux.intelRdt: the monitoring group, and the group if remora made it.
fn remove_intel_rdt(dir: &ContainerDir) {
    if let Some(a) = crate::resctrl::load_record(&dir.path) {
        crate::resctrl::remove(std::path::Path::new(crate::resctrl::ROOT), &a);
    }
}

/// SIGKILL to the init (thawing it if frozen) and wait until it is gone.
pub fn kill_and_wait(st: &State) {
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    if let Some(fd) = init_pidfd(st) {
        let _ = pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
        let _ = cg.set_frozen(false);
        let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut p, PollTimeout::from(10_000u16));
    }
    // Without its own pid namespace, other container processes outlive
    // the init: the cgroup destroy kills them.
}

/// Removes the cgroup, what the container mounted in the caller's mount
/// namespace (none when it has its own) and the state directory, then
/// runs poststop hooks.
pub fn destroy(dir: ContainerDir, st: &State) -> Result<()> {
    // A joined network namespace outlives the init (`run`, a stopped
    // container); a no-op once delete moved the devices back.
    return_net_devices(&dir, None);
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    cg.destroy()?;
    let failed = super::host_mounts::remove(&st.host_mounts);
    if !failed.is_empty() {
        return Err(Error::HostMounts(failed.join("; ")));
    }
    remove_intel_rdt(&dir);
    dir.remove()?;
    if let Some(hooks) = st.hooks.as_ref().and_then(|h| h.poststop().clone()) {
        let json = super::state_json(&st.id, "stopped", 0, &st.bundle, Some(&st.annotations));
        crate::hooks::run_all_warning("poststop", &hooks, &json, &st.bundle);
    }
    Ok(())
}
