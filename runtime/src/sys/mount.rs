//! The new mount API (fsopen, fsconfig, fsmount, open_tree, move_mount,
//! mount_setattr) plus pivot_root and umount2: every mount remora makes in
//! a container goes through an fd, never a re-resolved path.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{check, cstr, owned};

pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x200000;
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;

/// fsopen(2): a new filesystem context of type `fstype`.
pub fn fsopen(fstype: &str) -> io::Result<OwnedFd> {
    let t = cstr(fstype)?;
    // SAFETY: NUL-terminated name; returns a new fd.
    let fd = check(unsafe {
        libc::syscall(libc::SYS_fsopen, t.as_ptr(), 1u32 /* CLOEXEC */)
    })?;
    // SAFETY: the syscall just returned this new fd.
    unsafe { owned(fd) }
}

/// fsconfig(2) FSCONFIG_SET_STRING: `key=value` (the value byte for
/// byte: a source path need not be UTF-8).
pub fn fsconfig(fs: BorrowedFd<'_>, key: &str, value: impl AsRef<OsStr>) -> io::Result<()> {
    set_param(fs, FSCONFIG_SET_STRING, key, Some(&cstr(value)?))
}

/// fsconfig(2) FSCONFIG_SET_FLAG: `key` alone (e.g. "ro").
pub fn fsconfig_flag(fs: BorrowedFd<'_>, key: &str) -> io::Result<()> {
    set_param(fs, FSCONFIG_SET_FLAG, key, None)
}

/// The one fsconfig(2) call of both wrappers above.
fn set_param(fs: BorrowedFd<'_>, cmd: u32, key: &str, value: Option<&CString>) -> io::Result<()> {
    let k = cstr(key)?;
    let vptr = value.map_or(std::ptr::null(), |v| v.as_ptr());
    // SAFETY: NUL-terminated key/value (or null for a flag) that outlive
    // the call; aux is 0.
    check(unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, k.as_ptr(), vptr, 0) })?;
    Ok(())
}

/// fsconfig(FSCONFIG_CMD_CREATE) then fsmount(2): a detached mount.
pub fn fsmount(fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd> {
    // SAFETY: no pointers.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })?;
    // SAFETY: no pointers; returns a new fd.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            1u32, /* CLOEXEC */
            attrs,
        )
    })?;
    // SAFETY: the syscall just returned this new fd.
    unsafe { owned(fd) }
}

/// open_tree(2) on `fd` itself (AT_EMPTY_PATH), cloning it (and, with
/// `recursive`, the mounts below it) into a detached tree.
pub fn open_tree_clone(fd: BorrowedFd<'_>, recursive: bool) -> io::Result<OwnedFd> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32 | libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: empty NUL-terminated path relative to a valid fd.
    let fd =
        check(unsafe { libc::syscall(libc::SYS_open_tree, fd.as_raw_fd(), c"".as_ptr(), flags) })?;
    // SAFETY: the syscall just returned this new fd.
    unsafe { owned(fd) }
}

/// open_tree(2) of a host path (the source of a bind mount).
pub fn open_tree_path(path: impl AsRef<OsStr>, recursive: bool) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: NUL-terminated path.
    let fd =
        check(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, p.as_ptr(), flags) })?;
    // SAFETY: the syscall just returned this new fd.
    unsafe { owned(fd) }
}

/// move_mount(2) of the detached mount `from` onto the file `to`.
pub fn move_mount(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: empty NUL-terminated paths relative to valid fds.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })?;
    Ok(())
}

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2) on the mount at `fd`.
pub fn mount_setattr(
    fd: BorrowedFd<'_>,
    recursive: bool,
    set: u64,
    clear: u64,
    propagation: u64,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation,
        userns_fd: 0,
    };
    setattr(fd, recursive, &attr)
}

/// mount_setattr(2) with MOUNT_ATTR_IDMAP: the detached mount at `fd`
/// (and its submounts when `recursive`) shows file owners through the
/// id mappings of the user namespace `userns`.
pub fn mount_setattr_idmap(
    fd: BorrowedFd<'_>,
    recursive: bool,
    userns: BorrowedFd<'_>,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        // A borrowed fd is never negative.
        userns_fd: userns.as_raw_fd().unsigned_abs().into(),
    };
    setattr(fd, recursive, &attr)
}

/// The one mount_setattr(2) call of both wrappers above.
fn setattr(fd: BorrowedFd<'_>, recursive: bool, attr: &MountAttr) -> io::Result<()> {
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: `attr` is a valid mount_attr whose size we pass; empty path;
    // the fds it names (the mount's, a userns one) are valid for the
    // callers' borrows.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(())
}

/// mount(2) with no source and no data: propagation changes on a path
/// that is not inside the container's rootfs ("/" of the new mount ns).
pub fn set_propagation(target: impl AsRef<OsStr>, flags: libc::c_ulong) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: NUL-terminated target; null source/fstype/data are allowed.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            t.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    } as libc::c_long)?;
    Ok(())
}

/// mount(2) MS_MOVE of the cwd onto "/" (the --no-pivot path).
pub fn move_cwd_to_root() -> io::Result<()> {
    // SAFETY: NUL-terminated literals; MS_MOVE takes no fstype/data.
    check(unsafe {
        libc::mount(
            c".".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_MOVE,
            std::ptr::null(),
        )
    } as libc::c_long)?;
    Ok(())
}

/// pivot_root(".", "."), as used after fchdir into the new root.
pub fn pivot_root_dot() -> io::Result<()> {
    // SAFETY: NUL-terminated literals.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) })?;
    Ok(())
}

/// umount2(path, flags).
pub fn umount2(path: impl AsRef<OsStr>, flags: i32) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::umount2(p.as_ptr(), flags) } as libc::c_long)?;
    Ok(())
}

/// chroot(path).
pub fn chroot(path: impl AsRef<OsStr>) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::chroot(p.as_ptr()) } as libc::c_long)?;
    Ok(())
}
