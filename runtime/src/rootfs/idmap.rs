//! Idmapped bind mounts ("idmap", or "ridmap" for the submounts too):
//! the mount shows the files of its source through the mount's
//! uidMappings/gidMappings (a file owned by hostID appears owned by
//! containerID), or, when the mount gives none, through the container's
//! own linux.uidMappings/gidMappings.
//!
//! Prepared by `create` before the init is cloned, as the host's root:
//! MOUNT_ATTR_IDMAP needs privilege over the source's filesystem, which
//! an init already in its user namespace lacks. A user namespace holding
//! the mappings is made by a short-lived child (its maps written like the
//! container's), the source is cloned into a detached tree, and the tree
//! gets the namespace's mappings; the init inherits the tree fds and
//! attaches them where the mount goes (mounts.rs).

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, Mount};

use super::mounts::bind_source;
use crate::config::MountEntry;
use crate::error::{Error, IoContext, Result};
use crate::sys::clone::{clone3, CloneOptions, Forked};
use crate::sys::mount::{mount_setattr_idmap, open_tree_path};

/// The idmapped source trees by mount index (None: not an idmap mount).
pub type Prepared = Vec<Option<OwnedFd>>;

fn field(index: usize, m: &Mount) -> String {
    format!("mounts[{index}] {:?}", m.destination())
}

/// The mappings an idmap mount uses: its own, else the container's.
fn mappings<'a>(
    index: usize,
    m: &'a Mount,
    container: (&'a [LinuxIdMapping], &'a [LinuxIdMapping]),
) -> Result<(&'a [LinuxIdMapping], &'a [LinuxIdMapping])> {
    let uid = m.uid_mappings().as_deref().unwrap_or(container.0);
    let gid = m.gid_mappings().as_deref().unwrap_or(container.1);
    if uid.is_empty() || gid.is_empty() {
        return Err(Error::config(format!(
            "{}: \"idmap\" needs uidMappings and gidMappings (on the mount, or the container's)",
            field(index, m)
        )));
    }
    Ok((uid, gid))
}

/// A user namespace with these mappings, as an fd: a child is cloned into
/// a new one, its maps are written, its namespace opened, and it is
/// killed.
pub fn userns_with(uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> Result<OwnedFd> {
    // SAFETY: single-threaded here: remora's threads (sys/netlink.rs's
    // scoped ones, NetworkAhead's) are joined before any clone3.
    let forked = unsafe {
        clone3(&CloneOptions {
            flags: libc::CLONE_NEWUSER,
            want_pidfd: false,
            parent: false,
            cgroup: None,
        })
    }
    .ctx(|| "idmap: cloning a child into a new user namespace".into())?;
    let pid = match forked {
        Forked::Child => {
            // Dies with remora if it never gets killed.
            let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
            loop {
                nix::unistd::pause();
            }
        }
        Forked::Parent { pid, .. } => pid,
    };
    let r = remora_namespaces::write_id_maps(pid, uid, gid, false)
        .map_err(Error::from)
        .and_then(|()| {
            let p = format!("/proc/{pid}/ns/user");
            std::fs::File::open(&p)
                .map(OwnedFd::from)
                .ctx(|| format!("idmap: opening {p}"))
        });
    let child = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(child, None);
    r
}

/// Clones and idmaps the source of every idmap mount.
pub fn prepare(
    bundle: &Path,
    mounts: &[MountEntry],
    container: (&[LinuxIdMapping], &[LinuxIdMapping]),
) -> Result<Prepared> {
    let mut out = Vec::with_capacity(mounts.len());
    for e in mounts {
        let (index, m, opts) = (e.index, &e.mount, &e.options);
        let Some(recursive) = opts.idmap else {
            out.push(None);
            continue;
        };
        if !e.bind {
            return Err(Error::config(format!(
                "{}: \"idmap\" is supported on bind mounts only",
                field(index, m)
            )));
        }
        let (uid, gid) = mappings(index, m, container)?;
        let source = bind_source(bundle, m);
        let src = &source;
        let rootless = crate::rootless::euid_rootless();
        let tree = open_tree_path(src, opts.recursive_bind).ctx(|| {
            format!(
                "{}: cloning bind source {src:?}{}",
                field(index, m),
                if rootless {
                    " (\"idmap\" needs privilege over the source's filesystem: root)"
                } else {
                    ""
                }
            )
        })?;
        let userns = userns_with(uid, gid)?;
        mount_setattr_idmap(tree.as_fd(), recursive, userns.as_fd()).ctx(|| {
            format!(
                "{}: idmapping {src:?} (the filesystem may not support idmapped mounts)",
                field(index, m)
            )
        })?;
        out.push(Some(tree));
    }
    Ok(out)
}
