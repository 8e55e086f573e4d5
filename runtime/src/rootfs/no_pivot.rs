//! --no-pivot: the rootfs is moved onto "/" and chrooted into, so the
//! host's mounts stay in the container's mount namespace beneath it. The
//! kernel lets a process in a new user namespace mount a procfs or sysfs
//! only if one is already fully visible in its mount namespace
//! (mount_too_revealing); a host /proc left there would let a container
//! mount an unmasked /proc (`unshare -mrpf mount -t proc none /proc`).
//! So, before the move, every mount outside the rootfs is detached (as
//! runc does for procfs and sysfs, here all of them). Mounts that cannot
//! be detached (locked: inherited into a user namespace) and are a whole
//! procfs or sysfs get an empty read-only tmpfs on top (a child mount
//! hiding their content, so not fully visible to the kernel's check), as
//! runc does.
//!
//! All of this happens in the container's own mount namespace, which is
//! a slave or private copy: the host's mounts are not touched.

use std::collections::{HashMap, HashSet};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::mountinfo::{self, mount_id_of, MountEntry};
use super::resolve::Root;
use crate::sys::mount::*;

/// Detaches every mount that is neither the rootfs, below it, nor one of
/// the mounts the rootfs sits on.
pub fn hide_host_mounts(root: &Root) -> std::io::Result<()> {
    let rootfs_id = mount_id_of(root.fd())?;
    let all = mountinfo::read()?;
    let Some(rootfs) = all
        .iter()
        .find(|m| m.id == rootfs_id)
        .map(|m| &m.mount_point)
    else {
        return Err(std::io::Error::from_raw_os_error(libc::ENOENT));
    };
    let parent_of: HashMap<u64, u64> = all.iter().map(|m| (m.id, m.parent)).collect();
    let mut keep = HashSet::from([rootfs_id]);
    let mut cur = rootfs_id;
    while let Some(&p) = parent_of.get(&cur) {
        if !keep.insert(p) {
            break;
        }
        cur = p;
    }
    // Mounts stacked on or below another come after it: the reverse order
    // unmounts the top of each stack first, by its path.
    for m in all.iter().rev() {
        if keep.contains(&m.id) || m.mount_point.starts_with(rootfs) {
            continue;
        }
        hide(m)?;
    }
    Ok(())
}

fn hide(m: &MountEntry) -> std::io::Result<()> {
    match umount2(&m.mount_point, libc::MNT_DETACH) {
        Ok(()) => Ok(()),
        // Gone already (with a mount it was on).
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        // Locked into the user namespace, or not a mount point any more.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => cover(m),
        Err(e) => Err(e),
    }
}

fn cover(m: &MountEntry) -> std::io::Result<()> {
    // Only procfs and sysfs are subject to the kernel's check.
    if !matches!(m.fstype.as_str(), "proc" | "sysfs") || m.root != Path::new("/") {
        return Ok(());
    }
    // Opened, the mount point is the root of the mount on top: the tmpfs
    // becomes its child and covers all of it.
    let target = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(&m.mount_point)?;
    let fs = fsopen("tmpfs")?;
    let t = fsmount(fs.as_fd(), 0)?;
    mount_setattr(t.as_fd(), false, MOUNT_ATTR_RDONLY, 0, 0)?;
    move_mount(t.as_fd(), target.as_fd())
}
