//! Thin wrappers around seccomp(2) and prctl(2).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use libc::{sock_filter, sock_fprog};

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// Installs `prog` with seccomp(2) flags `flags` (prctl(2) when there are
/// none, as runc does); returns the listener fd for NEW_LISTENER.
pub(crate) fn set_filter(prog: &[sock_filter], flags: u32) -> io::Result<Option<OwnedFd>> {
    let len = libc::c_ushort::try_from(prog.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let fprog = sock_fprog {
        len,
        filter: prog.as_ptr() as *mut sock_filter,
    };
    if flags == 0 {
        // SAFETY: fprog points at `prog`, which outlives the call; the
        // kernel copies the program and keeps no pointer to it.
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                &fprog as *const sock_fprog,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        return if rc == 0 {
            Ok(None)
        } else {
            Err(io::Error::last_os_error())
        };
    }
    // SAFETY: as above; seccomp(2) returns a new fd (owned by us) when
    // NEW_LISTENER is set, 0 otherwise.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags as libc::c_ulong,
            &fprog as *const sock_fprog,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & crate::action::FLAG_NEW_LISTENER != 0 {
        let fd = i32::try_from(rc).expect("seccomp(2) returns an fd");
        // SAFETY: the kernel just returned this fd to us and nobody else owns it.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
    } else {
        Ok(None)
    }
}

/// Whether the kernel knows the filter flag `bit` (None: cannot tell).
/// Probes like libseccomp: with a NULL program a known flag set fails with
/// EFAULT, an unknown one with EINVAL; nothing is installed either way.
pub(crate) fn flag_supported(bit: u32) -> Option<bool> {
    use crate::action::{FLAG_NEW_LISTENER, FLAG_WAIT_KILLABLE_RECV};
    let flags = if bit == FLAG_WAIT_KILLABLE_RECV {
        bit | FLAG_NEW_LISTENER
    } else {
        bit
    };
    // SAFETY: a NULL program pointer makes the kernel fail before it
    // installs anything; no memory of ours is read or written.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags as libc::c_ulong,
            std::ptr::null::<sock_fprog>(),
        )
    };
    if rc >= 0 {
        return None;
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EFAULT) => Some(true),
        Some(libc::EINVAL) => Some(false),
        _ => None,
    }
}
