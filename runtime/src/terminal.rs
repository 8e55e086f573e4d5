//! process.terminal: the init makes a pty in the container's devpts, binds
//! its peer on /dev/console through an fd (docs/security.md, "/dev/console race": the peer
//! comes from TIOCGPTPEER, never a /dev/pts/N path), makes it the
//! controlling terminal and stdio, and hands the master to `remora`, which
//! sends it to --console-socket.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::rootfs::Root;
use crate::sys::fs::fstat;
use crate::sys::mount::{move_mount, open_tree_clone};

const TIOCGPTPEER: libc::c_ulong = 0x5441;
const TIOCSPTLCK: libc::c_ulong = 0x4004_5431;

fn ioctl_int(
    fd: BorrowedFd<'_>,
    req: libc::c_ulong,
    arg: libc::c_int,
) -> std::io::Result<libc::c_int> {
    // SAFETY: these tty ioctls take an int argument by value.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn ioctl_ptr(fd: BorrowedFd<'_>, req: libc::c_ulong, arg: &mut libc::c_int) -> std::io::Result<()> {
    // SAFETY: the ioctl reads/writes one int through the pointer.
    if unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg as *mut libc::c_int) } < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

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
    let mut unlock: libc::c_int = 0;
    ioctl_ptr(ptmx.as_fd(), TIOCSPTLCK, &mut unlock).map_err(|e| format!("unlockpt: {e}"))?;
    let peer = ioctl_int(
        ptmx.as_fd(),
        TIOCGPTPEER,
        libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
    .map_err(|e| format!("TIOCGPTPEER: {e}"))?;
    // SAFETY: a new fd from the kernel, owned here.
    let peer = unsafe { OwnedFd::from_raw_fd(peer) };
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize from a live struct.
        if unsafe { libc::ioctl(ptmx.as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
            return Err(format!(
                "process.consoleSize: {}",
                std::io::Error::last_os_error()
            ));
        }
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
        // SAFETY: dup2 onto stdio of fds we own.
        if unsafe { libc::dup2(peer.as_raw_fd(), target) } < 0 {
            return Err(format!("dup2 pty: {}", std::io::Error::last_os_error()));
        }
    }
    ioctl_int(peer.as_fd(), libc::TIOCSCTTY, 0).map_err(|e| format!("TIOCSCTTY: {e}"))?;
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
