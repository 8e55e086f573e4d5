//! No wait on the init is unbounded: a parent waiting for the init (the
//! create and exec conversations, `start` waiting for the exec fifo) wakes
//! every [`TICK`] and asks [`InitWatch::check`] whether the init can still
//! get on: its cgroup frozen, or the init in uninterruptible sleep for
//! [`STUCK_AFTER`], is an error rather than a hang. Reaping a killed
//! process is bounded the same way ([`reap`]).

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::init_gone::InitGone;
use crate::error::Result;

/// How often a waiting parent looks at the init.
pub const TICK: Duration = Duration::from_secs(1);

/// How long the init may stay in uninterruptible sleep (D) before the
/// wait gives up on it.
pub const STUCK_AFTER: Duration = Duration::from_secs(10);

/// Watches a process the caller waits for.
pub struct InitWatch {
    pid: i32,
    cgroup: Option<remora_cgroups::Cgroup>,
    in_d_since: Option<Instant>,
    /// exec --ignore-paused: a frozen cgroup is waited out.
    frozen_ok: bool,
}

impl InitWatch {
    pub fn new(pid: i32, cgroup: Option<remora_cgroups::Cgroup>) -> Self {
        InitWatch {
            pid,
            cgroup,
            in_d_since: None,
            frozen_ok: false,
        }
    }

    /// Waits as long as the cgroup is frozen (exec --ignore-paused: the
    /// process runs once the container is resumed).
    pub fn patient_while_frozen(mut self) -> Self {
        self.frozen_ok = true;
        self
    }

    /// The process watched from now on (the init, once its forker says).
    pub fn set_pid(&mut self, pid: i32) {
        self.pid = pid;
        self.in_d_since = None;
    }

    /// Called at every tick of a wait: an error when the init cannot get
    /// on by itself.
    pub fn check(&mut self) -> Result<()> {
        if let Some(cg) = &self.cgroup {
            // Either freezer (a hybrid host has both), or a frozen parent.
            if cg.check_not_frozen().is_err() {
                if self.frozen_ok {
                    self.in_d_since = None;
                    return Ok(());
                }
                return Err(InitGone::Frozen { pid: self.pid }.into());
            }
        }
        match super::proc_stat(self.pid) {
            Some(('D', _)) => {
                let since = *self.in_d_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= STUCK_AFTER {
                    return Err(InitGone::Stuck {
                        pid: self.pid,
                        wchan: wchan(self.pid),
                        secs: STUCK_AFTER.as_secs(),
                    }
                    .into());
                }
            }
            _ => self.in_d_since = None,
        }
        Ok(())
    }
}

/// The kernel function a process sleeps in.
fn wchan(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/wchan"))
        .ok()
        .filter(|w| !w.is_empty() && w != "0")
        .unwrap_or_else(|| "an unknown kernel function".into())
}

/// Waits up to `timeout` for our child `pid` (SIGKILLed by the caller) to
/// exit, and reaps it. A process that does not exit in time (stuck in
/// uninterruptible sleep) is reported on the log and left: the caller
/// returns instead of hanging. Returns how it ended, if it did.
pub fn reap(pid: i32, timeout: Duration) -> Option<WaitStatus> {
    let p = Pid::from_raw(pid);
    if let Ok(fd) = crate::sys::process::pidfd_open(pid) {
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let deadline = Instant::now() + timeout;
        loop {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Err(nix::errno::Errno::EINTR) if Instant::now() < deadline => continue,
                _ => break,
            }
        }
    }
    match waitpid(p, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => {
            crate::logging::warn(&format!(
                "process {pid} did not exit within {} s of SIGKILL (state {}, in {}): not waited for",
                timeout.as_secs(),
                super::proc_stat(pid).map_or('?', |(s, _)| s),
                wchan(pid)
            ));
            None
        }
        Ok(s) => Some(s),
        Err(_) => None,
    }
}

/// How a reaped process ended, in words ("exited with status 1",
/// "killed by SIGKILL").
pub fn describe(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, c) => format!("exited with status {c}"),
        WaitStatus::Signaled(_, s, _) => format!("killed by {s}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process in uninterruptible sleep (a v1 freezer's refrigerator)
    /// is reported once it has been there STUCK_AFTER.
    #[test]
    fn an_init_stuck_in_d_state_is_reported() {
        let base = std::path::Path::new("/sys/fs/cgroup/freezer");
        if !base.is_dir() || !nix::unistd::geteuid().is_root() {
            println!("SKIP an_init_stuck_in_d_state_is_reported: needs root and a v1 freezer");
            return;
        }
        let dir = base.join(format!("remora-watch-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("100")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
        std::fs::write(dir.join("freezer.state"), "FROZEN").unwrap();
        // No cgroup given: only the process's state is watched.
        let mut watch = InitWatch::new(pid, None);
        let deadline = Instant::now() + STUCK_AFTER * 2;
        let err = loop {
            if let Err(e) = watch.check() {
                break Some(e.to_string());
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        std::fs::write(dir.join("freezer.state"), "THAWED").unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        std::fs::remove_dir(&dir).unwrap();
        let err = err.expect("a process frozen for twice STUCK_AFTER is reported");
        assert!(
            err.contains(&format!(
                "container init (pid {pid}) stuck in uninterruptible sleep (state D"
            )),
            "{err}"
        );
    }
}
