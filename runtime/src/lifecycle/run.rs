//! `remora run`: create + start; in the foreground forward signals to the
//! init, wait for it, delete, and exit with its status (128+N for a
//! signal).

use std::os::fd::AsFd;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::create::{create, CreateOptions};
use super::delete::destroy;
use super::start::release_init;
use super::Global;
use crate::error::{Error, Result};
use crate::state::ContainerDir;
use crate::sys::process::pidfd_send_signal;

/// Runs a container; returns the exit code for remora to exit with.
pub fn run(g: &Global, o: &CreateOptions, detach: bool, keep: bool) -> Result<i32> {
    let created = create(g, o)?;
    if detach {
        if let Err(e) = release_init(&created.dir, created.pid) {
            let _ = destroy(created.dir, &created.state);
            return Err(e);
        }
        return Ok(0);
    }
    // Every signal we may forward is blocked and read from a signalfd
    // (the init was cloned before, with the default mask).
    let mut set = SigSet::all();
    for s in [
        Signal::SIGKILL,
        Signal::SIGSTOP,
        Signal::SIGCHLD,
        Signal::SIGSEGV,
        Signal::SIGBUS,
        Signal::SIGILL,
        Signal::SIGFPE,
    ] {
        set.remove(s);
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| Error::io("blocking signals", e.into()))?;
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("signalfd", e.into()))?;
    if let Err(e) = release_init(&created.dir, created.pid) {
        super::delete::kill_and_wait(&created.state);
        let _ = waitpid(Pid::from_raw(created.pid), None);
        let _ = destroy(created.dir, &created.state);
        return Err(e);
    }
    // Other commands (state, kill, delete) may act on the container while
    // it runs: do not hold its lock while waiting.
    drop(created.dir);
    let code = loop {
        let mut fds = [
            PollFd::new(created.pidfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::io("waiting for the container", e.into())),
        }
        if fds[1]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            if let Ok(Some(info)) = sfd.read_signal() {
                let _ = pidfd_send_signal(created.pidfd.as_fd(), info.ssi_signo as i32);
            }
        }
        if fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            match waitpid(Pid::from_raw(created.pid), None) {
                Ok(WaitStatus::Exited(_, c)) => break c,
                Ok(WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
                Ok(_) => continue,
                Err(e) => return Err(Error::io("waiting for the container", e.into())),
            }
        }
    };
    if !keep {
        match ContainerDir::open(&g.root, &o.id) {
            Ok(dir) => {
                let cg = remora_cgroups::Cgroup::from_saved(created.state.cgroup.clone());
                let _ = cg.signal_all(Signal::SIGKILL);
                destroy(dir, &created.state)?;
            }
            // Deleted by someone else meanwhile.
            Err(Error::NotExist) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(code)
}
