//! Thin wrappers over the syscalls remora needs that take `unsafe`: each
//! one does one syscall, documents why it is sound, and returns io::Result.

pub(crate) mod clone;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub mod early_entry;
pub(crate) mod fs;
pub(crate) mod mount;
pub(crate) mod netlink;
pub(crate) mod numa;
pub(crate) mod process;
pub mod protected_exe;
pub(crate) mod sched;
pub(crate) mod socket;
pub(crate) mod tty;

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// Turns a -1 return into the errno as io::Error.
pub(crate) fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A string or path as a C string, byte for byte (a path need not be
/// UTF-8); an interior NUL is EINVAL.
pub(crate) fn cstr(s: impl AsRef<OsStr>) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Takes ownership of a fd a syscall just returned (after [`check`]).
///
/// # Safety
///
/// `fd` must be a new fd of this process that nothing else owns.
pub(crate) unsafe fn owned(fd: libc::c_long) -> io::Result<OwnedFd> {
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the caller guarantees the fd is new and unowned.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
