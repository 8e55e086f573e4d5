//! Waiting for a foreground container process (run, exec): signals to
//! remora are forwarded to it, and with a terminal but no console socket
//! remora proxies the pty (stdin to the master, the master to stdout) and
//! passes window-size changes through.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
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
    // SAFETY: winsize is plain data; the ioctls read/write one struct.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Puts our stdin terminal (if it is one) in raw mode until dropped.
struct RawStdin(Option<libc::termios>);

impl RawStdin {
    fn new() -> Self {
        // SAFETY: termios is plain data; tcgetattr/tcsetattr on fd 0.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return RawStdin(None);
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            RawStdin(Some(saved))
        }
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if let Some(t) = self.0 {
            // SAFETY: restores the saved termios of fd 0.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        }
    }
}

fn rw(fd: i32, buf: &mut [u8], write_to: i32) -> bool {
    // SAFETY: read/write on fds we hold, into/from a live buffer.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return false;
    }
    let mut off = 0;
    while off < n as usize {
        // SAFETY: as above.
        let w = unsafe { libc::write(write_to, buf[off..].as_ptr().cast(), n as usize - off) };
        if w <= 0 {
            return false;
        }
        off += w as usize;
    }
    true
}

/// Waits for our child `pid`; returns its exit status (128+N for a signal).
pub fn wait_child(pid: i32, sfd: SignalFd, master: Option<OwnedFd>) -> Result<i32> {
    let pidfd = pidfd_open(pid).ctx(|| format!("pidfd_open({pid})"))?;
    let stdin = std::io::stdin();
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
                let sig = info.ssi_signo as i32;
                match (&master, sig) {
                    (Some(m), libc::SIGWINCH) => copy_winsize(stdin.as_fd(), m.as_fd()),
                    _ => {
                        let _ = pidfd_send_signal(pidfd.as_fd(), sig);
                    }
                }
            }
        }
        if let Some(m) = &master {
            if from_master && !rw(m.as_raw_fd(), &mut buf, 1) {
                master_open = false;
            }
            if from_stdin && !rw(0, &mut buf, m.as_raw_fd()) {
                stdin_open = false;
            }
        }
        if exited {
            // Drain what the process wrote before it exited.
            if let Some(m) = master.as_ref().filter(|_| master_open) {
                let mut p = [PollFd::new(m.as_fd(), PollFlags::POLLIN)];
                while poll(&mut p, PollTimeout::from(50u8)).unwrap_or(0) > 0
                    && rw(m.as_raw_fd(), &mut buf, 1)
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
