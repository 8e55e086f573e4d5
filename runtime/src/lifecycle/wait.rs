//! Waiting for a foreground container process (run, exec): signals to
//! remora are forwarded to it, and with a terminal but no console socket
//! remora proxies the pty (stdin to the master, the master to stdout) and
//! passes window-size changes through.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, IoContext, Result};
use crate::sys::process::{pidfd_open, pidfd_send_signal};

/// Blocks the signals remora forwards; returns a signalfd for them. Call
/// before the container's process can run, so no signal is lost.
pub fn forwarded_signals() -> Result<SignalFd> {
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
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).map_err(|e| Error::io("signalfd", e.into()))
}

pub fn copy_winsize(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    if let Ok((rows, cols)) = crate::sys::tty::winsize(from) {
        let _ = crate::sys::tty::set_winsize(to, rows, cols);
    }
}

/// Puts our stdin terminal (if it is one) in raw mode until dropped.
struct RawStdin(Option<Termios>);

impl RawStdin {
    fn new() -> Self {
        let stdin = std::io::stdin();
        let Ok(saved) = tcgetattr(stdin.as_fd()) else {
            return RawStdin(None);
        };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        RawStdin(Some(saved))
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}

/// Copies what `from` has to read (one read) to `to`; false at EOF or on
/// an error.
fn rw(from: BorrowedFd<'_>, buf: &mut [u8], to: BorrowedFd<'_>) -> bool {
    let n = match nix::unistd::read(from.as_raw_fd(), buf) {
        Ok(n) if n > 0 => n,
        _ => return false,
    };
    let mut off = 0;
    while off < n {
        match nix::unistd::write(to, &buf[off..n]) {
            Ok(w) if w > 0 => off += w,
            _ => return false,
        }
    }
    true
}

/// Waits for our child `pid`; returns its exit status (128+N for a signal).
pub fn wait_child(pid: i32, sfd: SignalFd, master: Option<OwnedFd>) -> Result<i32> {
    let pidfd = pidfd_open(pid).ctx(|| format!("pidfd_open({pid})"))?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let _raw = master.as_ref().map(|_| RawStdin::new());
    if let Some(m) = &master {
        copy_winsize(stdin.as_fd(), m.as_fd());
    }
    let mut stdin_open = master.is_some();
    let mut master_open = master.is_some();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut fds = vec![
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(m) = master.as_ref().filter(|_| master_open) {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::io("waiting for the container", e.into())),
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
        };
        let (exited, signalled) = (ready(0), ready(1));
        let (from_master, from_stdin) = (ready(2), ready(3));
        drop(fds);
        if signalled {
            if let Ok(Some(info)) = sfd.read_signal() {
                let sig = i32::try_from(info.ssi_signo).expect("signal numbers are below 65");
                match (&master, sig) {
                    (Some(m), libc::SIGWINCH) => copy_winsize(stdin.as_fd(), m.as_fd()),
                    _ => {
                        let _ = pidfd_send_signal(pidfd.as_fd(), sig);
                    }
                }
            }
        }
        if let Some(m) = &master {
            if from_master && !rw(m.as_fd(), &mut buf, stdout.as_fd()) {
                master_open = false;
            }
            if from_stdin && !rw(stdin.as_fd(), &mut buf, m.as_fd()) {
                stdin_open = false;
            }
        }
        if exited {
            // Drain what the process wrote before it exited.
            if let Some(m) = master.as_ref().filter(|_| master_open) {
                let mut p = [PollFd::new(m.as_fd(), PollFlags::POLLIN)];
                while poll(&mut p, PollTimeout::from(50u8)).unwrap_or(0) > 0
                    && rw(m.as_fd(), &mut buf, stdout.as_fd())
                {}
            }
            match waitpid(Pid::from_raw(pid), None) {
                Ok(WaitStatus::Exited(_, c)) => return Ok(c),
                Ok(WaitStatus::Signaled(_, s, _)) => return Ok(128 + s as i32),
                Ok(_) => continue,
                Err(e) => return Err(Error::io("waiting for the container", e.into())),
            }
        }
    }
}
