//! `remora start`: lets the waiting init exec the container's program.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::init_gone::InitGone;
use super::{status_of, Global, Status};
use crate::error::{Error, Result};
use crate::state::ContainerDir;
use crate::sys::process::pidfd_open;

pub fn start(g: &Global, id: &str) -> Result<()> {
    let dir = ContainerDir::open(&g.root, id)?;
    let st = dir.load()?;
    match status_of(&st, &dir) {
        // Paused while created (`pause` takes created containers): the
        // init could not go on.
        Status::Created
            if remora_cgroups::Cgroup::from_saved(st.cgroup.clone())
                .check_not_frozen()
                .is_err() =>
        {
            return Err(Error::StartState("paused".into()))
        }
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
/// (a failure stops the container and fails). `start` and `run` share it.
pub fn start_created(dir: &ContainerDir, st: &crate::state::State) -> Result<()> {
    let mut trace = crate::trace::Trace::start("start");
    let notify = match crate::notify::host_socket() {
        Some(host) => crate::notify::listen(&dir.path)?.map(|s| (s, host)),
        None => None,
    };
    if let Err(e) = release_init(dir, st) {
        stop_after_failed_start(st);
        return Err(e);
    }
    if let Some((sock, host)) = notify {
        crate::notify::relay_ready(sock, &host, st.pid)?;
    }
    trace.phase("release+exec");
    if let Some(hooks) = st.hooks.as_ref().and_then(|h| h.poststart().clone()) {
        let json = super::state_json(&st.id, "running", st.pid, &st.bundle, Some(&st.annotations));
        if let Err(e) = crate::hooks::run_all("poststart", &hooks, &json, &st.bundle) {
            // A failing poststart hook is an error (runtime-spec 1.3, as
            // runc): the container is stopped; `delete` removes it.
            super::delete::kill_and_wait(st);
            return Err(e.into());
        }
    }
    trace.phase("poststart");
    trace.finish();
    Ok(())
}

/// The program did not start (a startContainer hook failed, execve failed,
/// or the init is stuck): the container ends stopped with nothing left
/// running and no cgroup; its state stays for `delete` (which runs the
/// poststop hooks), as any stopped container's.
fn stop_after_failed_start(st: &crate::state::State) {
    if let Some(fd) = super::kill::init_pidfd(st) {
        let _ = crate::sys::process::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
        let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut p, PollTimeout::from(10_000u16));
    }
    let cg = remora_cgroups::Cgroup::from_saved(st.cgroup.clone());
    if let Err(e) = cg.destroy() {
        crate::logging::warn(&format!(
            "removing the cgroup after a failed start: {}",
            crate::error::chain(&e)
        ));
    }
}

/// Opens the exec fifo for reading (which unblocks the init's open for
/// writing) and waits for its byte, or for the init to die. The wait is
/// watched: a frozen cgroup or an init stuck in uninterruptible sleep is
/// an error, not a hang.
pub fn release_init(dir: &ContainerDir, st: &crate::state::State) -> Result<()> {
    let pid = st.pid;
    let mut watch = super::watch::InitWatch::new(
        pid,
        Some(remora_cgroups::Cgroup::from_saved(st.cgroup.clone())),
    );
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
        let tick =
            PollTimeout::from(u16::try_from(super::watch::TICK.as_millis()).unwrap_or(u16::MAX));
        match poll(&mut fds, tick) {
            Ok(0) => {
                watch.check()?;
                continue;
            }
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
                    return Err(InitGone::BeforeStart.into());
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
