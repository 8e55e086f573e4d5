//! After pivot_root: stdio that are the host's /dev/null become the
//! container's (runc's reOpenDevNull). The container then holds nothing
//! of a mount outside it through its stdio: CRIU can checkpoint it (a
//! detached container whose caller gave it /dev/null), and
//! /proc/1/fd/0 names a file the container sees.

use std::io;
use std::os::fd::AsFd;

use crate::sys::fs::fstat;
use crate::sys::process::stdio;

/// Replaces each of fds 0-2 that is a /dev/null node with the
/// container's /dev/null; nothing when the container has none.
pub fn reopen_stdio() -> io::Result<()> {
    let null = match std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let ns = fstat(null.as_fd())?;
    if ns.st_mode & libc::S_IFMT != libc::S_IFCHR {
        return Ok(());
    }
    for n in 0..3 {
        let Ok(s) = fstat(stdio(n)) else { continue };
        let same_node = s.st_mode & libc::S_IFMT == libc::S_IFCHR && s.st_rdev == ns.st_rdev;
        let same_file = s.st_dev == ns.st_dev && s.st_ino == ns.st_ino;
        if same_node && !same_file {
            nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), n)
                .map_err(io::Error::from)?;
        }
    }
    Ok(())
}
