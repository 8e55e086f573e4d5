//! process.terminal: the init makes a pty in the container's devpts, binds
//! its peer on /dev/console through an fd (docs/security.md, "/dev/console race": the peer
//! comes from TIOCGPTPEER, never a /dev/pts/N path), makes it the
//! controlling terminal and stdio, and hands the master to `remora`, which
//! sends it to --console-socket.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use crate::rootfs::Root;
use crate::sys::fs::fstat;
use crate::sys::mount::{move_mount, open_tree_clone};
use crate::sys::tty::{open_peer, set_controlling, set_winsize, unlock_pt};

/// What went wrong with the container's terminal.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// A system call; `what` names the field or the call.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Errno {
        what: &'static str,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("process.terminal: /dev/pts/ptmx is not the pty multiplexer (5:2)")]
    NotPtmx,
    #[error("process.terminal: /dev/console in the rootfs is a symlink")]
    ConsoleSymlink,
    /// No pty master came with the message that should carry it; `from`
    /// names what sent it.
    #[error("{from}: no pty master received")]
    NoMaster { from: &'static str },
    /// --console-socket: connecting to it.
    #[error("--console-socket {}", path.display())]
    ConsoleSocket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--console-socket {}: sending the pty", path.display())]
    SendPty {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TerminalError {
    let what = what.into();
    move |source| TerminalError::Io { what, source }
}

/// In the init, after pivot_root: returns the master for the parent.
pub fn setup_pty(
    root: &Root,
    bind_console: bool,
    size: Option<(u16, u16)>,
) -> Result<OwnedFd, TerminalError> {
    let ptmx = root
        .open(Path::new("/dev/pts/ptmx"), libc::O_RDWR | libc::O_NOCTTY)
        .map_err(io("process.terminal: opening /dev/pts/ptmx"))?;
    let st = fstat(ptmx.as_fd()).map_err(io("process.terminal"))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(5, 2) {
        return Err(TerminalError::NotPtmx);
    }
    unlock_pt(ptmx.as_fd()).map_err(io("unlockpt"))?;
    let peer = open_peer(
        ptmx.as_fd(),
        libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
    .map_err(io("TIOCGPTPEER"))?;
    if let Some((rows, cols)) = size {
        set_winsize(ptmx.as_fd(), rows, cols).map_err(io("process.consoleSize"))?;
    }
    if bind_console {
        // A symlink there would carry the bind elsewhere (CVE-2025-52565).
        if root.lstat_mode(Path::new("/dev/console")).ok() == Some(libc::S_IFLNK) {
            return Err(TerminalError::ConsoleSymlink);
        }
        let console = root
            .create_file(Path::new("/dev/console"))
            .map_err(io("creating /dev/console"))?;
        let tree =
            open_tree_clone(peer.as_fd(), false).map_err(io("binding the pty on /dev/console"))?;
        move_mount(tree.as_fd(), console.as_fd()).map_err(io("binding the pty on /dev/console"))?;
    }
    make_controlling_stdio(peer)?;
    Ok(ptmx)
}

/// The pty peer as fds 0-2 and the controlling terminal of the process's
/// session (a new one: the init's `new_session` step).
fn make_controlling_stdio(peer: OwnedFd) -> Result<(), TerminalError> {
    for target in 0..=2 {
        nix::unistd::dup2(peer.as_raw_fd(), target).map_err(|source| TerminalError::Errno {
            what: "dup2 pty",
            source,
        })?;
    }
    set_controlling(peer.as_fd()).map_err(io("TIOCSCTTY"))?;
    Ok(())
}

/// In the parent: sends the master to the console socket, runc-style
/// (payload: the master's name).
pub fn send_to_console_socket(path: &Path, master: BorrowedFd<'_>) -> Result<(), TerminalError> {
    let path = path.to_path_buf();
    let sock = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(source) => return Err(TerminalError::ConsoleSocket { path, source }),
    };
    crate::channel::send_with_fd(sock.as_fd(), b"/dev/ptmx", master)
        .map_err(|source| TerminalError::SendPty { path, source })
}

/// In the parent: the pty master from the init goes to the console socket
/// when there is one; otherwise remora keeps it to proxy the terminal.
pub fn relay_master(
    master: Option<OwnedFd>,
    console_socket: Option<&Path>,
) -> Result<Option<OwnedFd>, TerminalError> {
    let master = master.ok_or(TerminalError::NoMaster {
        from: "process.terminal",
    })?;
    match console_socket {
        Some(sock) => send_to_console_socket(sock, master.as_fd()).map(|()| None),
        None => Ok(Some(master)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_socket_errors_name_the_socket_then_the_cause() {
        let e = relay_master(None, None).unwrap_err();
        assert_eq!(e.to_string(), "process.terminal: no pty master received");
        let null = std::fs::File::open("/dev/null").unwrap();
        let e = send_to_console_socket(Path::new("/nonexistent/sock"), null.as_fd()).unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "--console-socket /nonexistent/sock: No such file or directory (os error 2)"
        );
    }
}
