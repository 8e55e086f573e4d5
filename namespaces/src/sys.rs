//! Thin wrappers over the namespace syscalls that need `unsafe`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `ioctl(NS_GET_NSTYPE)`: the CLONE_NEW* type of a namespace fd.
pub fn ns_get_nstype(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // _IO(0xb7, 0x3)
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: the ioctl takes no argument and only reads the fd, which is
    // valid for the duration of the borrow.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `setns(fd, nstype)`.
pub fn setns(fd: BorrowedFd<'_>, nstype: i32) -> io::Result<()> {
    // SAFETY: setns only reads the fd, valid for the borrow.
    if unsafe { libc::setns(fd.as_raw_fd(), nstype) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `unshare(flags)`.
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: unshare takes plain flags and touches no memory of ours.
    if unsafe { libc::unshare(flags) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
