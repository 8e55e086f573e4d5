//! `remora kill`: signals through a pidfd checked against the init's start
//! time, so a recycled PID is never signalled.

use std::os::fd::{AsFd, OwnedFd};

use super::{proc_stat, status_of, Global, Status};
use crate::error::{Error, Result};
use crate::signal::parse_signal;
use crate::state::{ContainerDir, State};
use crate::sys::process::{pidfd_open, pidfd_send_signal};

/// A pidfd for the init, only if it is still the process we started.
pub fn init_pidfd(st: &State) -> Option<OwnedFd> {
    let fd = pidfd_open(st.pid).ok()?;
    // Checked after the pidfd exists: from now on the PID cannot be reused
    // under us.
    match proc_stat(st.pid) {
        Some((s, t)) if t == st.init_start_time && s != 'Z' => Some(fd),
        _ => None,
    }
}

/// `kill [--all] ID [SIGNAL]`. Signal 0 only checks that the init is
/// alive (runc's `kill ID 0`); `--all` on a stopped container has nothing
/// to signal and succeeds, as runc's does.
pub fn kill(g: &Global, id: &str, signal: &str, all: bool) -> Result<()> {
    let sig = match signal.parse::<i32>() {
        Ok(0) => 0,
        _ => parse_signal(signal)?,
    };
    let dir = ContainerDir::open(&g.root, id)?;
    let st = dir.load()?;
    let status = status_of(&st, &dir);
    if status == Status::Stopped {
        return if all { Ok(()) } else { Err(Error::NotRunning) };
    }
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    if all && sig != 0 {
        // Every process of the cgroup (thawed for SIGKILL); the init may
        // be among the first to go, which is success, not "not running".
        let signal = nix::sys::signal::Signal::try_from(sig)
            .map_err(|_| Error::UnknownSignal(signal.to_string()))?;
        cg.signal_all(signal)?;
        return Ok(());
    }
    let fd = init_pidfd(&st).ok_or(Error::NotRunning)?;
    match pidfd_send_signal(fd.as_fd(), sig) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(Error::NotRunning),
        Err(e) => return Err(Error::io(format!("sending signal {sig} to {}", st.pid), e)),
    }
    if status == Status::Paused && sig == libc::SIGKILL {
        // A frozen process cannot die until thawed.
        let _ = cg.set_frozen(false);
    }
    Ok(())
}
