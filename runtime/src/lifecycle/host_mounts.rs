//! A container without a mount namespace of its own mounts into its
//! caller's (its config mounts, the bind of a read-only rootfs onto
//! itself, /dev/console): create records those mounts in the state and
//! delete (or a failed create) removes exactly them, so that the host's
//! mount table is as it was (docs/design.md, "No mount namespace in the
//! config").
//!
//! A mount is identified by its mount ID and mount point. Removal opens
//! the mount point without following any symlink (the container may have
//! changed the paths inside its rootfs) and unmounts only if the fd is on
//! the recorded mount.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::rootfs::mountinfo::{self, mount_id_of};
use crate::sys::fs::openat2;

/// RESOLVE_NO_SYMLINKS: no symlink anywhere in the path.
const RESOLVE_NO_SYMLINKS: u64 = 0x04;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMount {
    pub id: u64,
    pub mount_point: PathBuf,
}

/// What create records before the init exists, so that a delete after a
/// killed create finds the mounts it made: the rootfs and the mounts at
/// or under it then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Before {
    pub rootfs: PathBuf,
    pub mounts: Vec<HostMount>,
}

/// The caller's mount table before the init is made.
pub struct Snapshot {
    rootfs: PathBuf,
    before: HashSet<(u64, PathBuf)>,
}

impl Snapshot {
    pub fn take(rootfs: &Path) -> Result<Self> {
        let rootfs = std::fs::canonicalize(rootfs)
            .ctx(|| format!("root.path: resolving {}", rootfs.display()))?;
        let before = mountinfo::read()
            .ctx(|| "reading /proc/self/mountinfo".into())?
            .into_iter()
            .map(|m| (m.id, m.mount_point))
            .collect();
        Ok(Snapshot { rootfs, before })
    }

    /// The record of it for the state (what is at or under the rootfs).
    pub fn record(&self) -> Before {
        Before {
            rootfs: self.rootfs.clone(),
            mounts: self
                .before
                .iter()
                .filter(|(_, p)| p.starts_with(&self.rootfs))
                .map(|(id, p)| HostMount {
                    id: *id,
                    mount_point: p.clone(),
                })
                .collect(),
        }
    }

    /// The snapshot a record describes.
    pub fn from_record(b: &Before) -> Self {
        Snapshot {
            rootfs: b.rootfs.clone(),
            before: b
                .mounts
                .iter()
                .map(|m| (m.id, m.mount_point.clone()))
                .collect(),
        }
    }

    /// The mounts made since, at or under the rootfs, in mount order.
    pub fn new_mounts(&self) -> Vec<HostMount> {
        mountinfo::read()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.mount_point.starts_with(&self.rootfs))
            .filter(|m| !self.before.contains(&(m.id, m.mount_point.clone())))
            .map(|m| HostMount {
                id: m.id,
                mount_point: m.mount_point,
            })
            .collect()
    }
}

/// Unmounts the recorded mounts that are still there, first ones first
/// (a lazy unmount takes the mounts below with it). Returns the mount
/// points that could not be removed.
pub fn remove(mounts: &[HostMount]) -> Vec<String> {
    let mut failed = Vec::new();
    for m in mounts {
        if let Err(e) = remove_one(m) {
            failed.push(format!("{}: {e}", m.mount_point.display()));
        }
    }
    failed
}

fn remove_one(m: &HostMount) -> std::io::Result<()> {
    let fd = match openat2(
        crate::sys::fs::cwd(),
        &m.mount_point,
        libc::O_PATH | libc::O_NOFOLLOW,
        0,
        RESOLVE_NO_SYMLINKS,
    ) {
        Ok(fd) => fd,
        // Gone with a mount above it, or the path now holds a symlink:
        // nothing of ours is reachable there.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ELOOP)) => {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    use std::os::fd::{AsFd, AsRawFd};
    if mount_id_of(fd.as_fd())? != m.id {
        // Already unmounted (with its parent), or something else is there.
        return Ok(());
    }
    let via_fd = format!("/proc/self/fd/{}", fd.as_raw_fd());
    match crate::sys::mount::umount2(&via_fd, libc::MNT_DETACH) {
        Err(e) if e.raw_os_error() != Some(libc::EINVAL) => Err(e),
        _ => Ok(()),
    }
}
