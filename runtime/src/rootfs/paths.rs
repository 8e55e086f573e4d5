//! maskedPaths and readonlyPaths, done after pivot_root. Files are masked
//! by binding a /dev/null that was verified to be the 1:3 character device
//! (CVE-2025-31133); directories by an empty read-only tmpfs.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::resolve::Root;
use super::RootfsError;
use crate::sys::fs::fstat;
use crate::sys::mount::*;

/// Checks that `fd` is the real /dev/null.
pub fn verify_dev_null(fd: BorrowedFd<'_>) -> Result<(), RootfsError> {
    let st = fstat(fd).map_err(|e| RootfsError::Device {
        path: "/dev/null".into(),
        what: "stat".into(),
        source: e,
    })?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(1, 3) {
        return Err(RootfsError::Invalid(
            "/dev/null is not the null device (1:3); refusing to mask with it".into(),
        ));
    }
    Ok(())
}

fn not_found(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR))
}

/// An error about `path` of the config list `field`.
fn path_err(field: &'static str, path: &Path, what: &str, source: std::io::Error) -> RootfsError {
    RootfsError::Path {
        field,
        path: path.into(),
        what: what.into(),
        source,
    }
}

/// Opens an entry of maskedPaths/readonlyPaths (O_PATH, inside the root);
/// None when it does not exist: skipped, as runc does.
fn open_entry(
    root: &Root,
    path: &Path,
    field: &'static str,
) -> Result<Option<OwnedFd>, RootfsError> {
    match root.open(path, libc::O_PATH) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(path_err(field, path, "opening", e)),
    }
}

pub fn mask(root: &Root, path: &Path, dev_null: BorrowedFd<'_>) -> Result<(), RootfsError> {
    const FIELD: &str = "linux.maskedPaths";
    let err = |what: &str, source| path_err(FIELD, path, what, source);
    let Some(target) = open_entry(root, path, FIELD)? else {
        return Ok(());
    };
    let st = fstat(target.as_fd()).map_err(|e| err("stat", e))?;
    let tree = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let fs = fsopen("tmpfs").map_err(|e| err("tmpfs", e))?;
        // Named "tmpfs" in mountinfo, as runc's.
        fsconfig(fs.as_fd(), "source", "tmpfs").map_err(|e| err("tmpfs", e))?;
        // Read-only in its superblock too, as runc's (MS_RDONLY).
        fsconfig_flag(fs.as_fd(), "ro").map_err(|e| err("tmpfs", e))?;
        let t = fsmount(fs.as_fd(), 0).map_err(|e| err("tmpfs", e))?;
        mount_setattr(t.as_fd(), false, MOUNT_ATTR_RDONLY, 0, 0).map_err(|e| err("ro", e))?;
        t
    } else {
        open_tree_clone(dev_null, false).map_err(|e| err("cloning /dev/null", e))?
    };
    move_mount(tree.as_fd(), target.as_fd()).map_err(|e| err("mounting over", e))
}

pub fn make_readonly(root: &Root, path: &Path) -> Result<(), RootfsError> {
    const FIELD: &str = "linux.readonlyPaths";
    let err = |what: &str, source| path_err(FIELD, path, what, source);
    let Some(target) = open_entry(root, path, FIELD)? else {
        return Ok(());
    };
    let tree = open_tree_clone(target.as_fd(), true).map_err(|e| err("cloning", e))?;
    mount_setattr(tree.as_fd(), true, MOUNT_ATTR_RDONLY, 0, 0).map_err(|e| err("ro", e))?;
    move_mount(tree.as_fd(), target.as_fd()).map_err(|e| err("mounting over", e))
}
