//! One config mount, done through fds: the destination is resolved (and
//! made) inside the rootfs, the filesystem or bind source becomes a
//! detached mount, gets its attributes, and is moved onto the destination
//! fd. No path is resolved twice.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::Mount;

use super::cgroupfs;
use super::options::MountOptions;
use super::resolve::{clean, Root};
use super::RootfsError;
use crate::config::MountEntry;
use crate::sys::mount::{
    fsconfig, fsconfig_flag, fsmount, fsopen, mount_setattr, move_mount, open_tree_path,
    MOUNT_ATTR_RDONLY,
};

/// What a mount needs to know about the container.
pub struct MountContext<'a> {
    pub root: &'a Root,
    pub bundle: &'a Path,
    /// In a new user namespace (some filesystems must then be bound).
    pub userns: bool,
    /// Has its own cgroup namespace.
    pub cgroupns: bool,
    /// The container's cgroup paths per v1 hierarchy / v2 ("" key),
    /// read from /proc/self/cgroup before the cgroup namespace.
    pub cgroup_paths: &'a [(String, String)],
    /// linux.mountLabel, when SELinux can apply it (process::lsm).
    pub mount_label: Option<&'a str>,
    /// Bind sources opened before the init became root of its user
    /// namespace ([`open_bind_sources`]), by mount index.
    pub bind_sources: &'a [Option<BindSource>],
}

/// A bind mount's source, cloned into a detached tree.
pub struct BindSource {
    tree: OwnedFd,
    is_dir: bool,
}

/// In a new user namespace the init's file access checks use the mapped
/// root's host uid once it is root there, so a source only the host's
/// root may reach (a 0700 directory, as podman's storage and runc's tests
/// use) would be refused. The init clones every bind source first, while
/// it still holds the host's uid 0 (as runc opens them on the host
/// side); the mounts use these trees. A source that fails here is left to
/// the mount step, which reports it.
pub fn open_bind_sources(bundle: &Path, mounts: &[MountEntry]) -> Vec<Option<BindSource>> {
    mounts
        .iter()
        .map(|e| {
            if !e.bind {
                return None;
            }
            let source = bind_source(bundle, &e.mount);
            let tree = open_tree_path(&source, e.options.recursive_bind).ok()?;
            let st = crate::sys::fs::fstat(tree.as_fd()).ok()?;
            Some(BindSource {
                tree,
                is_dir: st.st_mode & libc::S_IFMT == libc::S_IFDIR,
            })
        })
        .collect()
}

/// The idmapped trees create prepared (idmap.rs) take the place of the
/// plain bind sources of their mounts.
pub fn with_idmapped(
    mut sources: Vec<Option<BindSource>>,
    idmapped: &[Option<OwnedFd>],
) -> Vec<Option<BindSource>> {
    for (i, tree) in idmapped.iter().enumerate() {
        let Some(tree) = tree else { continue };
        let Ok(tree) = tree.try_clone() else { continue };
        let Ok(st) = crate::sys::fs::fstat(tree.as_fd()) else {
            continue;
        };
        if sources.len() <= i {
            sources.resize_with(i + 1, || None);
        }
        sources[i] = Some(BindSource {
            tree,
            is_dir: st.st_mode & libc::S_IFMT == libc::S_IFDIR,
        });
    }
    sources
}

/// /proc files that may be bind-mounted over (lxcfs and friends); anything
/// else under /proc is refused (CVE-2019-16884).
const PROC_BIND_ALLOWED: &[&str] = &[
    "proc/cpuinfo",
    "proc/diskstats",
    "proc/meminfo",
    "proc/stat",
    "proc/swaps",
    "proc/uptime",
    "proc/loadavg",
    "proc/slabinfo",
    "proc/net/dev",
    "proc/sys/kernel/ns_last_pid",
];

/// Whether a config mount is a bind mount.
pub fn is_bind(m: &Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || m.options()
            .iter()
            .flatten()
            .any(|o| o == "bind" || o == "rbind")
}

/// A mount's uidMappings/gidMappings only mean something with the
/// "idmap" or "ridmap" option (an idmapped mount); without it they would
/// be dropped, and the files seen with the caller's ids. Refused, naming
/// the mount and the field. (idmap itself is refused by
/// [`MountOptions::parse`] until idmapped mounts are implemented.)
pub fn check_id_mappings(index: usize, m: &Mount) -> crate::error::Result<()> {
    let idmap = m
        .options()
        .iter()
        .flatten()
        .any(|o| o == "idmap" || o == "ridmap");
    for (field, given) in [
        ("uidMappings", m.uid_mappings().is_some()),
        ("gidMappings", m.gid_mappings().is_some()),
    ] {
        if given && !idmap {
            return Err(crate::error::Error::config(format!(
                "mounts[{index}] {:?}: {field} given without the \"idmap\" or \"ridmap\" option",
                m.destination()
            )));
        }
    }
    Ok(())
}

/// A mount whose "ro" waits until the rootfs is filled (see
/// [`readonly_later`]).
pub struct ReadonlyLater {
    pub index: usize,
    pub destination: PathBuf,
    pub mount: OwnedFd,
}

/// A tmpfs, or whatever is mounted at /dev, is made read-only only once
/// everything below it exists (devices, /dev/pts, /dev/console, the
/// symlinks, later mount points), as runc does.
fn readonly_later(typ: &str, rel: &Path, opts: &MountOptions) -> bool {
    opts.set & MOUNT_ATTR_RDONLY != 0 && (typ == "tmpfs" || rel == Path::new("dev"))
}

/// Mounts one config mount; returns it when its "ro" is to be applied
/// later.
pub fn mount_one(
    ctx: &MountContext<'_>,
    entry: &MountEntry,
) -> Result<Option<ReadonlyLater>, RootfsError> {
    let (index, m) = (entry.index, &entry.mount);
    let dest = m.destination();
    let err = |what: &str, source: std::io::Error| RootfsError::Mount {
        index,
        destination: dest.clone(),
        what: what.to_string(),
        source,
    };
    let mut opts = entry.options.clone();
    let rel = clean(dest);
    let typ = entry.typ().to_string();
    let ro_later = readonly_later(&typ, &rel, &opts);
    if ro_later {
        opts.set &= !MOUNT_ATTR_RDONLY;
    }
    let bind = entry.bind;
    check_destination(ctx.root, index, dest, &rel, &typ, bind)?;
    if opts.copy_up && (bind || typ != "tmpfs") {
        return Err(RootfsError::Invalid(format!(
            "mounts[{index}] {}: mount option \"tmpcopyup\" is only for tmpfs",
            dest.display()
        )));
    }

    if typ == "cgroup" || typ == "cgroup2" {
        let target = ctx
            .root
            .mkdir_all(dest, 0o755)
            .map_err(|e| err("creating mount point", e))?;
        return cgroupfs::mount_cgroups(ctx, &opts, target.as_fd())
            .map(|()| None)
            .map_err(|e| err("mounting cgroup filesystem", e));
    }

    let opened = ctx.bind_sources.get(index).and_then(Option::as_ref);
    if opts.idmap.is_some() && opened.is_none() {
        // Never a plain bind in place of an idmapped one.
        return Err(RootfsError::Invalid(format!(
            "mounts[{index}] {}: the idmapped source was not prepared",
            dest.display()
        )));
    }
    let (tree, is_dir) = if let Some(src) = opened.filter(|_| bind) {
        let tree = src
            .tree
            .try_clone()
            .map_err(|e| err("the opened bind source", e))?;
        (tree, src.is_dir)
    } else if bind {
        let source = bind_source(ctx.bundle, m);
        let meta = std::fs::metadata(&source).map_err(|e| {
            RootfsError::Invalid(format!(
                "mounts[{index}] {}: source {:?}: {}",
                dest.display(),
                source,
                e
            ))
        })?;
        let tree = open_tree_path(&source, opts.recursive_bind)
            .map_err(|e| err(&format!("cloning bind source {source:?}"), e))?;
        (tree, meta.is_dir())
    } else {
        let label = ctx
            .mount_label
            .filter(|_| crate::process::lsm::takes_mount_label(&typ));
        let tree = match new_filesystem(m, &typ, &opts, label) {
            Ok(t) => t,
            // sysfs cannot be mounted from a user namespace that does not
            // own the network namespace: bind the host's instead, as runc.
            Err(e) if typ == "sysfs" && ctx.userns && e.raw_os_error() == Some(libc::EPERM) => {
                open_tree_path("/sys", true).map_err(|e| err("binding /sys", e))?
            }
            Err(e) => return Err(err(&format!("mounting {typ}"), e)),
        };
        if let Some(label) = ctx.mount_label {
            crate::process::lsm::label_mount_root(&typ, tree.as_fd(), label)
                .map_err(|e| err(&format!("linux.mountLabel {label:?} on {typ}"), e))?;
        }
        if opts.copy_up {
            copy_up(ctx.root, dest, tree.as_fd()).map_err(|e| err("tmpcopyup", e))?;
        }
        (tree, true)
    };
    if bind && rel == Path::new("proc") {
        let magic =
            crate::sys::fs::fs_magic(tree.as_fd()).map_err(|e| err("checking the source", e))?;
        if magic != libc::PROC_SUPER_MAGIC {
            return Err(RootfsError::Invalid(format!(
                "mounts[{index}] /proc: the bind source is not a procfs"
            )));
        }
    }
    // Attributes: per mount first, then recursive ones.
    if opts.set | opts.clear != 0 {
        mount_setattr(tree.as_fd(), false, opts.set, opts.clear, 0)
            .map_err(|e| err("setting mount attributes", e))?;
    }
    if opts.rset | opts.rclear != 0 {
        mount_setattr(tree.as_fd(), true, opts.rset, opts.rclear, 0)
            .map_err(|e| err("setting recursive mount attributes", e))?;
    }
    let target = if is_dir {
        ctx.root.mkdir_all(dest, 0o755)
    } else {
        ctx.root.create_file(dest)
    }
    .map_err(|e| err("creating mount point", e))?;
    move_mount(tree.as_fd(), target.as_fd()).map_err(|e| err("attaching mount", e))?;
    if let Some((prop, recursive)) = opts.propagation {
        mount_setattr(tree.as_fd(), recursive, 0, 0, prop)
            .map_err(|e| err("setting propagation", e))?;
    }
    Ok(ro_later.then(|| ReadonlyLater {
        index,
        destination: dest.clone(),
        mount: tree,
    }))
}

/// tmpcopyup: the image's files at `dest` (if it is a directory) onto
/// the detached tmpfs, before it is attached over them.
fn copy_up(root: &Root, dest: &Path, tmpfs: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
    let src = match root.open(dest, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    super::copyup::copy_dir_contents(src.as_fd(), tmpfs)
}

/// A bind source: absolute, or relative to the bundle (as runc).
pub(crate) fn bind_source(bundle: &Path, m: &Mount) -> PathBuf {
    let src = m.source().clone().unwrap_or_default();
    if src.is_absolute() {
        src
    } else {
        bundle.join(src)
    }
}

/// A fresh filesystem as a detached mount: fsopen, fsconfig, fsmount.
fn new_filesystem(
    m: &Mount,
    typ: &str,
    opts: &MountOptions,
    label: Option<&str>,
) -> std::io::Result<OwnedFd> {
    let fs = fsopen(typ)?;
    if let Some(src) = m.source().as_ref() {
        if !src.as_os_str().is_empty() {
            fsconfig(fs.as_fd(), "source", src)?;
        }
    }
    for (k, v) in &opts.data {
        match v {
            Some(v) => fsconfig(fs.as_fd(), k, v)?,
            None => fsconfig_flag(fs.as_fd(), k)?,
        }
    }
    for flag in &opts.sb_flags {
        fsconfig_flag(fs.as_fd(), flag)?;
    }
    // A read-only sysfs is read-only in its superblock too, as mount(2)
    // with MS_RDONLY makes it (runc). Only a new superblock takes the
    // flag: sharing the host's network namespace reuses the host's
    // sysfs superblock, which is left as it is.
    if typ == "sysfs" && opts.set & MOUNT_ATTR_RDONLY != 0 {
        fsconfig_flag(fs.as_fd(), "ro")?;
    }
    // linux.mountLabel (fsconfig takes the label as is: no quoting).
    if let Some(label) = label {
        fsconfig(fs.as_fd(), "context", label)?;
    }
    // Attributes are set on the mount afterwards (one place for both
    // kinds of mount); the superblock stays rw unless asked.
    fsmount(fs.as_fd(), 0)
}

/// Refuses destinations that are symlinks at /proc, /sys, /dev (CVE-2019-19921,
/// CVE-2023-27561) and mounts over procfs files other than a known list
/// (CVE-2019-16884).
fn check_destination(
    root: &Root,
    index: usize,
    dest: &Path,
    rel: &Path,
    typ: &str,
    bind: bool,
) -> Result<(), RootfsError> {
    let top = rel
        .iter()
        .next()
        .and_then(|c| c.to_str())
        .unwrap_or_default();
    if matches!(top, "proc" | "sys" | "dev") {
        if let Ok(mode) = root.lstat_mode(Path::new(top)) {
            if mode == libc::S_IFLNK {
                return Err(RootfsError::Invalid(format!(
                    "mounts[{index}] {}: /{top} in the rootfs is a symlink: must be mounted on ordinary directory",
                    dest.display()
                )));
            }
        }
    }
    if top == "proc" {
        let fresh_proc = rel == Path::new("proc") && typ == "proc" && !bind;
        // A bind of a procfs onto /proc itself (runc's start_hello): the
        // source is checked to be a procfs once opened (mount_one).
        let proc_bind = rel == Path::new("proc") && bind;
        let allowed_bind = bind && PROC_BIND_ALLOWED.iter().any(|a| rel == Path::new(a));
        if !(fresh_proc || proc_bind || allowed_bind) {
            return Err(RootfsError::Invalid(format!(
                "mounts[{index}] {}: mounting on or under /proc is not allowed (only a procfs at /proc)",
                dest.display()
            )));
        }
    }
    Ok(())
}
