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
        Status::Created => kill_and_wait(&st),
        status @ (Status::Running | Status::Paused) => {
            if !force {
                return Err(Error::DeleteNotStopped {
                    id: id.to_string(),
                    status: status.as_str().to_string(),
                });
            }
            kill_and_wait(&st);
        }
    }
    destroy(dir, &st)
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

/// Removes the cgroup and the state directory, then runs poststop hooks.
pub fn destroy(dir: ContainerDir, st: &State) -> Result<()> {
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    cg.destroy()?;
    dir.remove()?;
    if let Some(hooks) = st.hooks.as_ref().and_then(|h| h.poststop().clone()) {
        let json = super::state_json(&st.id, "stopped", 0, &st.bundle, Some(&st.annotations));
        crate::hooks::run_all_warning("poststop", &hooks, &json, &st.bundle);
    }
    Ok(())
}
