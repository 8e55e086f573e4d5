//! `remora start`: lets the waiting init exec the container's program.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::{status_of, Global, Status};
use crate::error::{Error, Result};
use crate::state::ContainerDir;
use crate::sys::process::pidfd_open;

pub fn start(g: &Global, id: &str) -> Result<()> {
    let dir = ContainerDir::open(&g.root, id)?;
    let st = dir.load()?;
    match status_of(&st, &dir) {
        Status::Created => {}
        Status::Stopped => return Err(Error::StartStopped),
        Status::Running => return Err(Error::StartRunning),
        Status::Paused => return Err(Error::StartState("paused".into())),
        Status::Creating => return Err(Error::StartState("creating".into())),
    }
    start_created(&dir, &st)
}

/// Starts a created container: the notify socket (if the caller has one),
/// the init released to exec, READY relayed, then the poststart hooks
/// (failures warn). `start` and `run` share it.
pub fn start_created(dir: &ContainerDir, st: &crate::state::State) -> Result<()> {
    let mut trace = crate::trace::Trace::start("start");
    let notify = match crate::notify::host_socket() {
        Some(host) => crate::notify::listen(&dir.path)?.map(|s| (s, host)),
        None => None,
    };
    release_init(dir, st.pid)?;
    if let Some((sock, host)) = notify {
        crate::notify::relay_ready(sock, &host, st.pid)?;
    }
    trace.phase("release+exec");
    if let Some(hooks) = st.hooks.as_ref().and_then(|h| h.poststart().clone()) {
        let json = super::state_json(&st.id, "running", st.pid, &st.bundle, Some(&st.annotations));
        for (i, h) in hooks.iter().enumerate() {
            if let Err(e) = crate::hooks::run(h, &json) {
                crate::logging::warn(&format!("hooks.poststart[{i}] {:?}: {e}", h.path()));
            }
        }
    }
    trace.phase("poststart");
    trace.finish();
    Ok(())
}

/// Opens the exec fifo for reading (which unblocks the init's open for
/// writing) and waits for its byte, or for the init to die.
pub fn release_init(dir: &ContainerDir, pid: i32) -> Result<()> {
    // The pidfd first: once the fifo is open the init may exec, exit and
    // be reaped (by a subreaper) before we look.
    let pidfd = pidfd_open(pid).map_err(|e| Error::io("opening init pidfd", e))?;
    let path = dir.fifo();
    let mut fifo = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| Error::io(format!("opening exec fifo {}", path.display()), e))?;
    loop {
        let mut fds = [
            PollFd::new(fifo.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::io("waiting for the init", e.into())),
        }
        let died = fds[1]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN));
        let mut b = [0u8; 1];
        match fifo.read(&mut b) {
            Ok(1) => break,
            Ok(_) | Err(_) => {
                if died {
                    return Err(Error::Init(
                        "container init exited before it was started".into(),
                    ));
                }
                // Woken with no data yet (the writer has opened but not
                // written): poll again.
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
    std::fs::remove_file(&path)
        .map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
    let said = wait_for_exec(&mut fifo);
    match said.strip_prefix('E') {
        Some(msg) => Err(Error::Init(msg.to_string())),
        None => Ok(()),
    }
}

/// The init's end of the fifo is close-on-exec: EOF means the container's
/// program has been executed (or the init died). Poststart hooks run only
/// after that.
fn wait_for_exec(fifo: &mut std::fs::File) -> String {
    let mut b = [0u8; 4096];
    let mut said = Vec::new();
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    loop {
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(10_000u16)) {
            Ok(0) => return text(&said), // do not hang start on a stuck init
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return text(&said),
        }
        match fifo.read(&mut b) {
            Ok(0) => return text(&said),
            Ok(n) => said.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return text(&said),
        }
    }
}
