//! `remora delete`: kills what is left (created and half-made containers
//! always; running ones with --force), then removes the cgroup and the
//! state, and runs the poststop hooks.
//!
//! Idempotent and crash-safe: every step can be cut short by a SIGKILL and
//! done again; concurrent deletes of one container queue on its lock, and
//! the ones that find it gone succeed with --force. With --force a
//! directory whose record is missing or corrupt is cleaned from what is
//! left (docs/design.md, "Crash-safe create").

use std::os::fd::AsFd;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::kill::init_pidfd;
use super::{status_of, Global, Status};
use crate::error::{Error, Result};
use crate::state::{ContainerDir, State};
use crate::sys::process::pidfd_send_signal;
use crate::trace::Trace;

pub fn delete(g: &Global, id: &str, force: bool) -> Result<()> {
    let mut trace = Trace::start("delete");
    crate::state::sweep_unfinished(&g.root, id);
    let dir = match ContainerDir::open(&g.root, id) {
        Ok(d) => d,
        Err(Error::NotExist) if force => return Ok(()),
        Err(e) => return Err(e),
    };
    let st = match dir.load() {
        Ok(st) => st,
        Err(e @ (Error::NoState(_) | Error::CorruptState { .. })) if force => {
            return delete_unreadable(g, id, dir, &e)
        }
        Err(e) => return Err(e),
    };
    match status_of(&st, &dir) {
        Status::Stopped => {}
        // The init of a half-made container is killed as a created one's.
        Status::Created | Status::Creating => {
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
    trace.phase("kill");
    destroy_traced(dir, &st, &mut trace)?;
    trace.finish();
    Ok(())
}

/// `delete --force` of a directory whose record cannot be read: none
/// (not made by this remora, which renames the directory into place with
/// its first record; an older one left such directories with an exec
/// fifo and cgroups), or corrupt (someone else wrote it: remora replaces
/// it atomically). The cgroup is the one the record names if that much
/// parses, else the ID's default one: its processes are killed and it is
/// removed, then the directory.
fn delete_unreadable(g: &Global, id: &str, dir: ContainerDir, why: &Error) -> Result<()> {
    let cg = match dir.salvage_cgroup() {
        Some(saved) => remora_cgroups::Cgroup::from_saved(saved),
        None => {
            if matches!(why, Error::CorruptState { .. }) {
                crate::logging::warn(&format!(
                    "{why}; removing the default cgroup of {id} and the state directory"
                ));
            }
            remora_cgroups::Cgroup::new(None, id, g.systemd_cgroup)?
        }
    };
    cg.destroy()?;
    dir.remove()
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
    destroy_traced(dir, st, &mut Trace::start("destroy"))
}

/// `destroy`, its steps ending the phases `cgroup`, `state`, `poststop`
/// of `trace`.
fn destroy_traced(dir: ContainerDir, st: &State, trace: &mut Trace) -> Result<()> {
    // A joined network namespace outlives the init (`run`, a stopped
    // container); a no-op once delete moved the devices back.
    return_net_devices(&dir, None);
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    if st.cgroup_shared {
        for d in cg.release()? {
            crate::logging::warn(&format!(
                "{} holds processes that were there before the container: left as it was",
                d.display()
            ));
        }
    } else {
        cg.destroy()?;
    }
    trace.phase("cgroup");
    let mut mounts = st.host_mounts.clone();
    if let Some(before) = st.host_mounts_before.as_ref().filter(|_| st.creating) {
        // A killed create: the mounts made since its snapshot.
        mounts.extend(super::host_mounts::Snapshot::from_record(before).new_mounts());
    }
    let failed = super::host_mounts::remove(&mounts);
    if !failed.is_empty() {
        return Err(Error::HostMounts(failed.join("; ")));
    }
    remove_intel_rdt(&dir);
    dir.remove()?;
    trace.phase("state");
    // A half-made container had poststop hooks only once its init existed
    // (as create's own undo).
    let existed = !st.creating || st.pid > 0;
    if let Some(hooks) = st.hooks.as_ref().and_then(|h| h.poststop().clone()) {
        if existed {
            let json = super::state_json(&st.id, "stopped", 0, &st.bundle, Some(&st.annotations));
            crate::hooks::run_all_warning("poststop", &hooks, &json, &st.bundle);
        }
    }
    trace.phase("poststop");
    Ok(())
}
