//! The `cgroup` mount: the container's view of its cgroups at
//! /sys/fs/cgroup. cgroup v2: a fresh cgroup2 in the container's cgroup
//! namespace, or a bind of its own cgroup. v1: a tmpfs holding one mount
//! per hierarchy, fresh when the cgroup namespace allows, else a bind of
//! the container's own cgroup directory.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::mounts::MountContext;
use super::options::MountOptions;
use super::resolve::Root;
use crate::sys::fs::{openat2, RESOLVE_IN_ROOT};
use crate::sys::mount::*;

/// A cgroup hierarchy as mounted on the host.
struct Hierarchy {
    mount_point: String,
    v2: bool,
    /// Super options such as "cpu" or "name=systemd".
    options: Vec<String>,
}

fn host_hierarchies() -> io::Result<Vec<Hierarchy>> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    let mut out = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split(' ');
        let fstype = post.next().unwrap_or("");
        let _source = post.next();
        let sopts = post.next().unwrap_or("");
        let mount_point = pre.split(' ').nth(4).unwrap_or("").to_string();
        // Only the host's own hierarchies: a container without a mount
        // namespace of its own leaves its cgroup mounts in ours too.
        let at_host_place =
            mount_point == "/sys/fs/cgroup" || mount_point.starts_with("/sys/fs/cgroup/");
        if (fstype == "cgroup" || fstype == "cgroup2") && at_host_place {
            out.push(Hierarchy {
                mount_point,
                v2: fstype == "cgroup2",
                options: sopts
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro" | "xattr"))
                    .map(String::from)
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// The container's path in a hierarchy, from the /proc/self/cgroup lines.
fn own_path<'a>(ctx: &'a MountContext<'_>, h: &Hierarchy) -> &'a str {
    let key = if h.v2 {
        String::new()
    } else {
        h.options.join(",")
    };
    ctx.cgroup_paths
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, p)| p.as_str())
        .unwrap_or("/")
}

fn fresh(fstype: &str, options: &[String]) -> io::Result<OwnedFd> {
    let fs = fsopen(fstype)?;
    for o in options {
        match o.split_once('=') {
            Some((k, v)) => fsconfig(fs.as_fd(), k, v)?,
            None => fsconfig_flag(fs.as_fd(), o)?,
        }
    }
    fsmount(fs.as_fd(), 0)
}

fn bind(h: &Hierarchy, path: &str) -> io::Result<OwnedFd> {
    let src = format!("{}/{}", h.mount_point, path.trim_start_matches('/'));
    open_tree_path(&src, false)
}

fn attach(tree: &OwnedFd, target: BorrowedFd<'_>, opts: &MountOptions) -> io::Result<()> {
    let set = (opts.set | opts.rset) & !MOUNT_ATTR__ATIME;
    if set != 0 {
        mount_setattr(tree.as_fd(), true, set, 0, 0)?;
    }
    move_mount(tree.as_fd(), target)
}

pub fn mount_cgroups(
    ctx: &MountContext<'_>,
    opts: &MountOptions,
    target: BorrowedFd<'_>,
) -> io::Result<()> {
    let hier = host_hierarchies()?;
    let fresh_ok = ctx.cgroupns && !ctx.userns;
    if let Some(h) = hier
        .iter()
        .find(|h| h.v2 && h.mount_point == "/sys/fs/cgroup")
    {
        // Pure cgroup v2.
        let tree = if ctx.cgroupns {
            fresh("cgroup2", &[])?
        } else {
            bind(h, own_path(ctx, h))?
        };
        return attach(&tree, target, opts);
    }
    // v1 or hybrid: a tmpfs with one directory per v1 hierarchy (with
    // linux.mountLabel, as runc).
    let tmpfs = {
        let fs = fsopen("tmpfs")?;
        fsconfig(fs.as_fd(), "source", "tmpfs")?;
        fsconfig(fs.as_fd(), "mode", "755")?;
        if let Some(label) = ctx.mount_label {
            fsconfig(fs.as_fd(), "context", label)?;
        }
        fsmount(fs.as_fd(), 0)?
    };
    mount_setattr(
        tmpfs.as_fd(),
        false,
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        0,
        0,
    )?;
    move_mount(tmpfs.as_fd(), target)?;
    let dir = Root::new(tmpfs);
    for h in hier.iter().filter(|h| !h.v2) {
        let Some(name) = Path::new(&h.mount_point)
            .file_name()
            .and_then(|n| n.to_str())
        else {
            continue;
        };
        let sub = dir.mkdir_all(Path::new(name), 0o755)?;
        let tree = if fresh_ok {
            fresh("cgroup", &h.options)?
        } else {
            bind(h, own_path(ctx, h))?
        };
        attach(&tree, sub.as_fd(), opts)?;
    }
    if opts.readonly() {
        let top = openat2(dir.fd(), ".", libc::O_PATH, 0, RESOLVE_IN_ROOT)?;
        mount_setattr(top.as_fd(), false, MOUNT_ATTR_RDONLY, 0, 0)?;
    }
    Ok(())
}
