//! process.terminal: the init makes a pty in the container's devpts, binds
//! its peer on /dev/console through an fd (docs/security.md, "/dev/console race": the peer
//! comes from TIOCGPTPEER, never a /dev/pts/N path), makes it the
//! controlling terminal and stdio, and hands the master to `remora`, which
//! sends it to --console-socket.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::rootfs::Root;
use crate::sys::fs::fstat;
use crate::sys::mount::{move_mount, open_tree_clone};
use crate::sys::tty::{open_peer, set_controlling, set_winsize, unlock_pt};

/// In the init, after pivot_root: returns the master for the parent.
pub fn setup_pty(
    root: &Root,
    bind_console: bool,
    size: Option<(u16, u16)>,
) -> Result<OwnedFd, String> {
    let ptmx = root
        .open(Path::new("/dev/pts/ptmx"), libc::O_RDWR | libc::O_NOCTTY)
        .map_err(|e| format!("process.terminal: opening /dev/pts/ptmx: {e}"))?;
    let st = fstat(ptmx.as_fd()).map_err(|e| format!("process.terminal: {e}"))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(5, 2) {
        return Err("process.terminal: /dev/pts/ptmx is not the pty multiplexer (5:2)".into());
    }
    unlock_pt(ptmx.as_fd()).map_err(|e| format!("unlockpt: {e}"))?;
    let peer = open_peer(
        ptmx.as_fd(),
        libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
    .map_err(|e| format!("TIOCGPTPEER: {e}"))?;
    if let Some((rows, cols)) = size {
        set_winsize(ptmx.as_fd(), rows, cols).map_err(|e| format!("process.consoleSize: {e}"))?;
    }
    if bind_console {
        // A symlink there would carry the bind elsewhere (CVE-2025-52565).
        if root.lstat_mode(Path::new("/dev/console")).ok() == Some(libc::S_IFLNK) {
            return Err("process.terminal: /dev/console in the rootfs is a symlink".into());
        }
        let console = root
            .create_file(Path::new("/dev/console"))
            .map_err(|e| format!("creating /dev/console: {e}"))?;
        let tree = open_tree_clone(peer.as_fd(), false)
            .map_err(|e| format!("binding the pty on /dev/console: {e}"))?;
        move_mount(tree.as_fd(), console.as_fd())
            .map_err(|e| format!("binding the pty on /dev/console: {e}"))?;
    }
    make_controlling_stdio(peer)?;
    Ok(ptmx)
}

/// The pty peer as fds 0-2 and the controlling terminal of the process's
/// session (a new one: the init's `new_session` step).
fn make_controlling_stdio(peer: OwnedFd) -> Result<(), String> {
    for target in 0..=2 {
        nix::unistd::dup2(peer.as_raw_fd(), target).map_err(|e| format!("dup2 pty: {e}"))?;
    }
    set_controlling(peer.as_fd()).map_err(|e| format!("TIOCSCTTY: {e}"))?;
    Ok(())
}

/// In the parent: sends the master to the console socket, runc-style
/// (payload: the master's name).
pub fn send_to_console_socket(path: &Path, master: BorrowedFd<'_>) -> Result<(), String> {
    let sock = UnixStream::connect(path)
        .map_err(|e| format!("--console-socket {}: {e}", path.display()))?;
    crate::channel::send_with_fd(sock.as_fd(), b"/dev/ptmx", master)
        .map_err(|e| format!("--console-socket {}: sending the pty: {e}", path.display()))
}

/// In the parent: the pty master from the init goes to the console socket
/// when there is one; otherwise remora keeps it to proxy the terminal.
pub fn relay_master(
    master: Option<OwnedFd>,
    console_socket: Option<&Path>,
) -> Result<Option<OwnedFd>, String> {
    let master = master.ok_or("process.terminal: no pty master received")?;
    match console_socket {
        Some(sock) => send_to_console_socket(sock, master.as_fd()).map(|()| None),
        None => Ok(Some(master)),
    }
}
