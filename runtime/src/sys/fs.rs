//! File syscalls: openat2 with RESOLVE_IN_ROOT, mknodat, fstatfs.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::check;

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// AT_FDCWD as a fd: paths relative to the cwd (or absolute).
pub fn cwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is a valid "fd" for the *at syscalls forever.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

/// openat2(2).
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let path = cstr(path)?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u32 as u64,
        mode: mode as u64,
        resolve,
    };
    loop {
        // SAFETY: `path` is NUL-terminated and `how` is a valid open_how
        // whose size we pass; both outlive the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        match check(r) {
            // SAFETY: a new fd, owned by nobody else.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
            // openat2 asks for a retry when a rename raced the lookup.
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// mkdirat(2).
pub fn mkdirat(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: NUL-terminated name, valid dir fd.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) } as libc::c_long)?;
    Ok(())
}

/// mknodat(2).
pub fn mknodat(dir: BorrowedFd<'_>, name: &str, mode: u32, dev: u64) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: NUL-terminated name, valid dir fd.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, dev) } as libc::c_long)?;
    Ok(())
}

/// symlinkat(2).
pub fn symlinkat(target: &str, dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let target = cstr(target)?;
    let name = cstr(name)?;
    // SAFETY: NUL-terminated strings, valid dir fd.
    check(
        unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) } as libc::c_long,
    )?;
    Ok(())
}

/// fchownat(fd, "", AT_EMPTY_PATH).
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: empty NUL-terminated path with AT_EMPTY_PATH acts on `fd`.
    check(
        unsafe { libc::fchownat(fd.as_raw_fd(), c"".as_ptr(), uid, gid, libc::AT_EMPTY_PATH) }
            as libc::c_long,
    )?;
    Ok(())
}

/// fsetxattr(2): sets the extended attribute `name` of `fd`.
pub fn fsetxattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: `name` is NUL-terminated and `value` is valid for its
    // length; both outlive the call.
    check(unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    } as libc::c_long)?;
    Ok(())
}

fn fstatfs(fd: BorrowedFd<'_>) -> io::Result<libc::statfs> {
    // SAFETY: statfs is plain data; zeroed is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer for the call.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } as libc::c_long)?;
    Ok(st)
}

/// fstatfs(2): the filesystem magic of `fd`.
pub fn fs_magic(fd: BorrowedFd<'_>) -> io::Result<i64> {
    Ok(fstatfs(fd)?.f_type as i64)
}

/// fstatvfs(3): whether the mount `fd` is on is read-only (ST_RDONLY:
/// the mount's flag or its superblock's).
pub fn on_read_only_mount(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: statvfs is plain data; zeroed is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer for the call.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut st) } as libc::c_long)?;
    Ok(st.f_flag & libc::ST_RDONLY != 0)
}

/// fstat(2).
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data; zeroed is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer; empty path with AT_EMPTY_PATH.
    check(
        unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) }
            as libc::c_long,
    )?;
    Ok(st)
}

/// fchdir(2).
pub fn fchdir(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: valid fd for the borrow.
    check(unsafe { libc::fchdir(fd.as_raw_fd()) } as libc::c_long)?;
    Ok(())
}

/// mkfifo at an absolute host path.
pub fn mkfifo(path: &std::path::Path, mode: u32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let p = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::mkfifo(p.as_ptr(), mode) } as libc::c_long)?;
    // mkfifo honours the umask; set the mode we asked for.
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::chmod(p.as_ptr(), mode) } as libc::c_long)?;
    Ok(())
}

/// readlinkat(2) of `name` in `dir`.
pub fn readlinkat(dir: BorrowedFd<'_>, name: &str) -> io::Result<String> {
    let name = cstr(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = check(unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    } as libc::c_long)?;
    buf.truncate(n as usize);
    String::from_utf8(buf).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// flock(LOCK_EX) on `fd`: waits for the lock with `wait`, else returns
/// false at once when another open file holds it.
pub fn flock_exclusive(fd: BorrowedFd<'_>, wait: bool) -> io::Result<bool> {
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on a valid fd for the borrow.
        match check(unsafe { libc::flock(fd.as_raw_fd(), op) } as libc::c_long) {
            Ok(_) => return Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) && !wait => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

/// Closes this process's copy of `fd` in a forked child whose owner of it
/// is never dropped (the child only execs or exits): the open file, and a
/// lock on it, stay with the parent's copy.
pub fn close_fd_copy(fd: BorrowedFd<'_>) {
    // SAFETY: the caller's owner of the fd is never used or dropped in
    // this process again, so closing it here cannot close a reused number.
    unsafe { libc::close(fd.as_raw_fd()) };
}
