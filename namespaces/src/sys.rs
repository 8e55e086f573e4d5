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

/// Sets IFF_UP on the loopback device of the calling thread's network
/// namespace (SIOCGIFFLAGS, then SIOCSIFFLAGS on an AF_INET socket).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: socket takes plain arguments; the fd is ours to own.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd nobody else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo") {
        *dst = libc::c_char::from_ne_bytes([*src]);
    }
    // SAFETY: SIOCGIFFLAGS fills the flags of the valid ifreq we pass.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the union's flags member was just set by the kernel.
    let flags = unsafe { ifr.ifr_ifru.ifru_flags };
    // IFF_UP is 0x1: it fits the short the kernel keeps the flags in.
    let up = libc::c_short::try_from(libc::IFF_UP).expect("IFF_UP is 1");
    ifr.ifr_ifru.ifru_flags = flags | up;
    // SAFETY: SIOCSIFFLAGS reads the valid ifreq we pass.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
