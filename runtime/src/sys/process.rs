//! Process-level syscalls: pidfds, close_range, prctl, personality bits.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{check, owned};

/// pidfd_open(2).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain integer arguments; the result is a new fd we own.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the fd was just created and is owned by nobody else.
    unsafe { owned(fd) }
}

/// pidfd_send_signal(2).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: null siginfo is allowed; the fd is valid for the borrow.
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })?;
    Ok(())
}

/// close_range(first, u32::MAX, CLOSE_RANGE_CLOEXEC): every fd from
/// `first` on is closed at execve.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: only changes fd flags of this process.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) })?;
    Ok(())
}

/// Clears FD_CLOEXEC on `fd` so that it survives execve.
pub fn clear_cloexec(fd: u32) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
    Ok(())
}

/// setsid(2): a new session and process group, led by this process.
pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid takes no arguments.
    check(unsafe { libc::setsid() } as libc::c_long)?;
    Ok(())
}

/// Stdio fd `n` (0, 1 or 2) of this process.
pub fn stdio(n: i32) -> BorrowedFd<'static> {
    assert!((0..=2).contains(&n), "not a stdio fd: {n}");
    // SAFETY: fds 0-2 are always open in a Rust program (the runtime
    // opens /dev/null on any that were closed at startup), and remora
    // only ever dup2()s onto them, never closes them.
    unsafe { BorrowedFd::borrow_raw(n) }
}

/// prctl with integer arguments.
pub fn prctl(option: i32, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the options remora uses take integer arguments only.
    check(unsafe { libc::prctl(option, arg2, 0, 0, 0) } as libc::c_long)?;
    Ok(())
}

/// prctl(PR_SET_NAME): the process's comm (at most 15 bytes kept).
pub fn set_name(name: &str) -> io::Result<()> {
    let name = std::ffi::CString::new(name).map_err(io::Error::other)?;
    // SAFETY: PR_SET_NAME reads a NUL-terminated string that outlives
    // the call.
    check(unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) } as libc::c_long)?;
    Ok(())
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring.
pub fn join_session_keyring(name: &str) -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_int = 1;
    let n = std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: NUL-terminated name; the kernel only reads it.
    check(unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, n.as_ptr()) })?;
    Ok(())
}

/// sethostname / setdomainname.
pub fn set_hostname(name: &str, domain: bool) -> io::Result<()> {
    let p = name.as_ptr() as *const libc::c_char;
    // SAFETY: the kernel reads exactly `len` bytes from `p`.
    let r = unsafe {
        if domain {
            libc::setdomainname(p, name.len())
        } else {
            libc::sethostname(p, name.len())
        }
    };
    check(r as libc::c_long)?;
    Ok(())
}

/// setgroups(2) on the raw syscall: affects only this (single-threaded)
/// process, which is what the container init wants.
pub fn setgroups(gids: &[u32]) -> io::Result<()> {
    // SAFETY: the kernel reads `len` gid_t values from the slice.
    check(unsafe { libc::syscall(libc::SYS_setgroups, gids.len(), gids.as_ptr()) })?;
    Ok(())
}

/// setresuid / setresgid on the raw syscalls (single-threaded init).
pub fn setresid(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) })?;
    // SAFETY: integer arguments only.
    check(unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) })?;
    Ok(())
}

/// capset(2) of all three sets at once (64-bit masks, version 3), so the
/// kernel checks the new sets together rather than one at a time.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let lo = |m: u64| (m & 0xffff_ffff) as u32;
    let hi = |m: u64| (m >> 32) as u32;
    let data = [
        Data {
            effective: lo(effective),
            permitted: lo(permitted),
            inheritable: lo(inheritable),
        },
        Data {
            effective: hi(effective),
            permitted: hi(permitted),
            inheritable: hi(inheritable),
        },
    ];
    // SAFETY: header and a two-element data array of the v3 layout, both
    // live for the call; the kernel only reads them.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) })?;
    Ok(())
}

/// personality(2): sets the execution domain and its flags; returns the
/// previous persona.
pub fn set_personality(persona: libc::c_ulong) -> io::Result<i32> {
    // SAFETY: an integer argument; only changes this process's persona.
    let prev = unsafe { libc::personality(persona) };
    check(prev.into())?;
    Ok(prev)
}

/// SIGPIPE back to its default disposition (the Rust runtime ignores it,
/// and an ignored disposition survives execve).
pub fn default_sigpipe() {
    // SAFETY: SIG_DFL installs no handler, so no code of ours can run in
    // a signal context; signal(2) cannot fail for SIGPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// A close-on-exec duplicate of fd number `fd` (one the caller was given,
/// e.g. --status-fd), owned.
pub fn dup_cloexec(fd: i32) -> io::Result<OwnedFd> {
    use nix::fcntl::{fcntl, FcntlArg};
    let new = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(3))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new fd that nothing else owns.
    unsafe { owned(new.into()) }
}
