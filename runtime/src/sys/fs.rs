//! File syscalls: openat2 with RESOLVE_IN_ROOT, mknodat, fstatfs.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::{FchmodatFlags, Mode, SFlag};

use super::{check, cstr, owned};

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// AT_FDCWD as a fd: paths relative to the cwd (or absolute).
pub fn cwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is a valid "fd" for the *at syscalls forever.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

/// openat2(2).
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: impl AsRef<OsStr>,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let path = cstr(path.as_ref())?;
    let how = OpenHow {
        flags: u64::from(u32::from_ne_bytes((flags | libc::O_CLOEXEC).to_ne_bytes())),
        mode: u64::from(mode),
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
            Ok(fd) => return unsafe { owned(fd) },
            // openat2 asks for a retry when a rename raced the lookup.
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// openat(2) of `path` relative to `dir` (close-on-exec), without
/// openat2's resolve flags.
pub fn openat(dir: BorrowedFd<'_>, path: impl AsRef<OsStr>, flags: i32) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        path.as_ref(),
        OFlag::from_bits_retain(flags) | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: openat just returned this fd; nothing else owns it.
    unsafe { owned(fd.into()) }
}

/// mkdirat(2).
pub fn mkdirat(dir: BorrowedFd<'_>, name: impl AsRef<OsStr>, mode: u32) -> io::Result<()> {
    nix::sys::stat::mkdirat(
        Some(dir.as_raw_fd()),
        name.as_ref(),
        Mode::from_bits_retain(mode),
    )?;
    Ok(())
}

/// mknodat(2); `mode` carries the file type (S_IFCHR, ...).
pub fn mknodat(
    dir: BorrowedFd<'_>,
    name: impl AsRef<OsStr>,
    mode: u32,
    dev: u64,
) -> io::Result<()> {
    nix::sys::stat::mknodat(
        Some(dir.as_raw_fd()),
        name.as_ref(),
        SFlag::from_bits_truncate(mode & libc::S_IFMT),
        Mode::from_bits_retain(mode & !libc::S_IFMT),
        dev,
    )?;
    Ok(())
}

/// symlinkat(2).
pub fn symlinkat(
    target: impl AsRef<OsStr>,
    dir: BorrowedFd<'_>,
    name: impl AsRef<OsStr>,
) -> io::Result<()> {
    nix::unistd::symlinkat(target.as_ref(), Some(dir.as_raw_fd()), name.as_ref())?;
    Ok(())
}

/// fchownat(fd, "", AT_EMPTY_PATH).
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: empty NUL-terminated path with AT_EMPTY_PATH acts on `fd`.
    let r = unsafe { libc::fchownat(fd.as_raw_fd(), c"".as_ptr(), uid, gid, libc::AT_EMPTY_PATH) };
    check(r.into())?;
    Ok(())
}

/// fsetxattr(2): sets the extended attribute `name` of `fd`.
pub fn fsetxattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let name = cstr(name)?;
    // SAFETY: `name` is NUL-terminated and `value` is valid for its
    // length; both outlive the call.
    let r = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    check(r.into())?;
    Ok(())
}

/// fstatfs(2): the filesystem magic of `fd`.
pub fn fs_magic(fd: BorrowedFd<'_>) -> io::Result<i64> {
    Ok(nix::sys::statfs::fstatfs(fd)?.filesystem_type().0)
}

/// fstatvfs(3): whether the mount `fd` is on is read-only (ST_RDONLY:
/// the mount's flag or its superblock's).
pub fn on_read_only_mount(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let st = nix::sys::statvfs::fstatvfs(fd)?;
    Ok(st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// fstat(2).
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    Ok(nix::sys::stat::fstat(fd.as_raw_fd())?)
}

/// fchdir(2).
pub fn fchdir(fd: BorrowedFd<'_>) -> io::Result<()> {
    nix::unistd::fchdir(fd.as_raw_fd())?;
    Ok(())
}

/// mkfifo at an absolute host path, with exactly `mode` (not umasked).
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let mode = Mode::from_bits_retain(mode);
    nix::unistd::mkfifo(path, mode)?;
    // mkfifo honours the umask; set the mode we asked for.
    nix::sys::stat::fchmodat(None, path, mode, FchmodatFlags::FollowSymlink)?;
    Ok(())
}

/// readlinkat(2) of `name` in `dir`.
pub fn readlinkat(dir: BorrowedFd<'_>, name: impl AsRef<OsStr>) -> io::Result<OsString> {
    Ok(nix::fcntl::readlinkat(
        Some(dir.as_raw_fd()),
        name.as_ref(),
    )?)
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
        let r = unsafe { libc::flock(fd.as_raw_fd(), op) };
        match check(r.into()) {
            Ok(_) => return Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) && !wait => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}
