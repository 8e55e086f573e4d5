//! Thin wrappers over the syscalls remora needs that take `unsafe`: each
//! one does one syscall, documents why it is sound, and returns io::Result.

pub mod clone;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub mod early_entry;
pub mod fs;
pub mod mount;
pub mod netlink;
pub mod numa;
pub mod process;
pub mod protected_exe;
pub mod sched;

use std::io;

/// Turns a -1 return into the errno as io::Error.
pub(crate) fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
