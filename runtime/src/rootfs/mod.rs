//! The container's root filesystem, in the order the steps happen:
//!
//! 1. [`prepare_propagation`]: "/" of the new mount namespace becomes
//!    rslave (or linux.rootfsPropagation) so nothing leaks to the host.
//! 2. [`bind_rootfs`]: root.path bound onto itself: a mount we can pivot to.
//! 3. [`mount_all`]: every config mount, through fds.
//! 4. [`create_devices`]: default devices, linux.devices, /dev symlinks.
//! 5. [`pivot`]: pivot_root (or, with --no-pivot, the host's mounts
//!    detached, MS_MOVE + chroot; without a mount namespace, chroot).
//! 6. [`make_mounts_readonly`]: read-only tmpfs and /dev mounts, once filled.
//! 7. [`mask_and_readonly`]: maskedPaths, readonlyPaths.
//! 8. [`finish`]: readonly root, rootfsPropagation.
//!
//! Without a mount namespace of its own the container's mounts land in
//! its caller's: the rootfs is bound onto itself only for a read-only
//! root (so that only that bind becomes read-only), propagation is never
//! changed, and delete removes what was mounted (lifecycle::host_mounts).

pub(crate) mod cgroupfs;
pub(crate) mod copyup;
pub(crate) mod devices;
pub(crate) mod devnull;
pub(crate) mod idmap;
pub(crate) mod mountinfo;
pub(crate) mod mounts;
pub(crate) mod no_pivot;
pub mod options;
pub(crate) mod paths;
pub(crate) mod resolve;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::Linux;

pub use mounts::{open_bind_sources, with_idmapped, BindSource, MountContext, ReadonlyLater};
use options::{MS_PRIVATE, MS_SHARED, MS_UNBINDABLE};
pub use resolve::Root;

use crate::sys::fs::{fchdir, openat2};
use crate::sys::mount::*;

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{0}")]
    Invalid(String),
    #[error("mounts[{index}] {destination:?}: {what}")]
    Mount {
        index: usize,
        destination: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("linux.devices {path:?}: {what}")]
    Device {
        path: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{field} {path:?}: {what}")]
    Path {
        field: &'static str,
        path: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("root.path {path:?}: {what}")]
    Root {
        path: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Step 1: detach "/" from the host's propagation. A shared rootfs
/// propagation is applied only after pivot_root (which refuses shared
/// parents); until then the tree is private.
pub fn prepare_propagation(prop: Option<(u64, bool)>) -> Result<(), RootfsError> {
    let flags = match prop {
        Some((MS_SHARED, _)) | Some((MS_PRIVATE, _)) => libc::MS_PRIVATE,
        Some((MS_UNBINDABLE, _)) => libc::MS_PRIVATE,
        _ => libc::MS_SLAVE,
    } | libc::MS_REC;
    set_propagation("/", flags).map_err(|e| RootfsError::Root {
        path: "/".into(),
        what: "making / non-shared".into(),
        source: e,
    })
}

/// Step 2: binds root.path onto itself; returns the new mount as Root.
pub fn bind_rootfs(rootfs: &Path) -> Result<Root, RootfsError> {
    let err = |what: &str, source| RootfsError::Root {
        path: rootfs.into(),
        what: what.into(),
        source,
    };
    let path = rootfs;
    let tree = open_tree_path(path, true).map_err(|e| err("cloning", e))?;
    let dir = openat2(cwd_fd(), path, libc::O_PATH | libc::O_DIRECTORY, 0, 0)
        .map_err(|e| err("opening", e))?;
    move_mount(tree.as_fd(), dir.as_fd()).map_err(|e| err("binding onto itself", e))?;
    Ok(Root::new(tree))
}

fn cwd_fd() -> BorrowedFd<'static> {
    crate::sys::fs::cwd()
}

/// Step 3: every mount of the config, in order. Returns the mounts whose
/// "ro" waits for [`make_mounts_readonly`].
pub fn mount_all(
    ctx: &MountContext<'_>,
    entries: &[crate::config::MountEntry],
) -> Result<Vec<ReadonlyLater>, RootfsError> {
    let mut later = Vec::new();
    for e in entries {
        later.extend(mounts::mount_one(ctx, e)?);
    }
    Ok(later)
}

/// Step 6: the read-only tmpfs and /dev mounts become read-only, now
/// that /dev is filled and /dev/console bound (runc's order).
pub fn make_mounts_readonly(later: &[ReadonlyLater]) -> Result<(), RootfsError> {
    for m in later {
        mount_setattr(m.mount.as_fd(), false, MOUNT_ATTR_RDONLY, 0, 0).map_err(|e| {
            RootfsError::Mount {
                index: m.index,
                destination: m.destination.clone(),
                what: "making read-only".into(),
                source: e,
            }
        })?;
    }
    Ok(())
}

/// Step 4: devices and /dev symlinks. Skipped (except linux.devices) when
/// the config binds the host's /dev.
pub fn create_devices(
    root: &Root,
    config: &crate::config::Config,
    userns: bool,
) -> Result<(), RootfsError> {
    devices::check_dev(root)?;
    let dev_bound = config
        .mounts
        .iter()
        .any(|m| resolve::clean(m.destination()) == Path::new("dev") && m.bind);
    let mut all = if dev_bound {
        Vec::new()
    } else {
        devices::default_devices()
    };
    if let Some(list) = config.linux.devices().clone() {
        // A config device replaces a default one at the same path.
        all.retain(|d| !list.iter().any(|c| c.path() == d.path()));
        all.extend(list);
    }
    for d in &all {
        devices::create_device(root, d, userns)?;
    }
    if !dev_bound {
        devices::create_symlinks(root)?;
    }
    Ok(())
}

/// Step 5: makes the rootfs "/" and drops the host's tree. Without a
/// mount namespace of its own, only chroot (the caller's namespace must
/// keep its root).
pub fn pivot(root: &Root, no_pivot: bool, own_mount_ns: bool) -> Result<(), RootfsError> {
    let err = |what: &str, source| RootfsError::Root {
        path: "/".into(),
        what: what.into(),
        source,
    };
    // The old root, to make a slave and detach once pivoted (runc's way):
    // "." after pivot_root is the new root, whose mounts keep the
    // propagation their options gave them ("shared" ones stay shared).
    let old_root = if own_mount_ns && !no_pivot {
        Some(
            openat2(cwd_fd(), "/", libc::O_PATH | libc::O_DIRECTORY, 0, 0)
                .map_err(|e| err("opening the old root", e))?,
        )
    } else {
        None
    };
    fchdir(root.fd()).map_err(|e| err("chdir into rootfs", e))?;
    if !own_mount_ns {
        chroot(".").map_err(|e| err("chroot", e))?;
    } else if no_pivot {
        no_pivot::hide_host_mounts(root)
            .map_err(|e| err("--no-pivot: detaching the host's mounts", e))?;
        move_cwd_to_root().map_err(|e| err("moving rootfs to /", e))?;
        chroot(".").map_err(|e| err("chroot", e))?;
    } else {
        pivot_root_dot().map_err(|e| err("pivot_root", e))?;
        // The old root is stacked on the new one at "/": from it, make it
        // a slave so the detach does not propagate, then detach it.
        if let Some(old) = &old_root {
            fchdir(old.as_fd()).map_err(|e| err("chdir into the old root", e))?;
        }
        set_propagation(".", libc::MS_SLAVE | libc::MS_REC)
            .map_err(|e| err("making old root a slave", e))?;
        umount2(".", libc::MNT_DETACH).map_err(|e| err("detaching old root", e))?;
    }
    std::env::set_current_dir("/").map_err(|e| err("chdir /", e))
}

/// Step 7: masked and read-only paths.
pub fn mask_and_readonly(root: &Root, linux: &Linux) -> Result<(), RootfsError> {
    if let Some(masked) = linux.masked_paths().as_ref().filter(|m| !m.is_empty()) {
        // The container's own /dev/null, opened without following a
        // symlink and checked to be the 1:3 device before any use.
        let dev_null = root
            .open(Path::new("/dev/null"), libc::O_PATH | libc::O_NOFOLLOW)
            .map_err(|e| RootfsError::Device {
                path: "/dev/null".into(),
                what: "opening (needed to mask paths)".into(),
                source: e,
            })?;
        paths::verify_dev_null(dev_null.as_fd())?;
        for p in masked {
            paths::mask(root, Path::new(p), dev_null.as_fd())?;
        }
    }
    for p in linux.readonly_paths().iter().flatten() {
        paths::make_readonly(root, Path::new(p))?;
    }
    Ok(())
}

/// Step 8: root.readonly and rootfsPropagation on the new "/".
pub fn finish(readonly_root: bool, prop: Option<(u64, bool)>) -> Result<(), RootfsError> {
    let err = |what: &str, source| RootfsError::Root {
        path: "/".into(),
        what: what.into(),
        source,
    };
    let root: OwnedFd = std::fs::File::open("/")
        .map_err(|e| err("opening /", e))?
        .into();
    if readonly_root {
        mount_setattr(root.as_fd(), false, MOUNT_ATTR_RDONLY, 0, 0)
            .map_err(|e| err("making root read-only", e))?;
    }
    if let Some((p, recursive)) = prop {
        let flags = p | if recursive { libc::MS_REC } else { 0 };
        set_propagation("/", flags).map_err(|e| err("linux.rootfsPropagation", e))?;
    }
    Ok(())
}
