//! /dev: the default devices, linux.devices, and the standard symlinks.
//! /dev in the rootfs is opened safely first and refused if it is a
//! symlink (runc CVE-2026-41579, crun CVE-2026-47766).

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};

use super::resolve::{clean, split_parent, Root};
use super::RootfsError;
use crate::sys::fs::{fchown, mknodat, symlinkat};
use crate::sys::mount::{move_mount, open_tree_path};

fn dev(path: &str, major: i64, minor: i64) -> LinuxDevice {
    LinuxDeviceBuilder::default()
        .path(path)
        .typ(LinuxDeviceType::C)
        .major(major)
        .minor(minor)
        .file_mode(0o666u32)
        .uid(0u32)
        .gid(0u32)
        .build()
        .expect("static device")
}

/// The devices every container gets (runtime-spec "Default Devices").
pub fn default_devices() -> Vec<LinuxDevice> {
    vec![
        dev("/dev/null", 1, 3),
        dev("/dev/zero", 1, 5),
        dev("/dev/full", 1, 7),
        dev("/dev/random", 1, 8),
        dev("/dev/urandom", 1, 9),
        dev("/dev/tty", 5, 0),
    ]
}

/// Refuses a symlinked /dev in the rootfs.
pub fn check_dev(root: &Root) -> Result<(), RootfsError> {
    match root.lstat_mode(Path::new("/dev")) {
        Ok(libc::S_IFLNK) => Err(RootfsError::Invalid(
            "/dev in the rootfs is a symlink".to_string(),
        )),
        _ => Ok(()),
    }
}

/// Makes one device node (or, in a user namespace where mknod is not
/// allowed, binds the host's node onto an empty file).
pub fn create_device(root: &Root, d: &LinuxDevice, bind: bool) -> Result<(), RootfsError> {
    let path = d.path();
    let rel = clean(path);
    let err = |what: &str, source: std::io::Error| RootfsError::Device {
        path: path.clone(),
        what: what.into(),
        source,
    };
    // Anywhere in the rootfs (as runc and crun), never the root itself.
    if rel.as_os_str().is_empty() {
        return Err(RootfsError::Invalid(format!(
            "linux.devices {}: not a path for a device node",
            path.display()
        )));
    }
    if bind {
        let target = root
            .create_file(path)
            .map_err(|e| err("creating bind target", e))?;
        let host = PathBuf::from("/").join(&rel);
        let tree = open_tree_path(&host, false).map_err(|e| err("cloning host device", e))?;
        return move_mount(tree.as_fd(), target.as_fd()).map_err(|e| err("binding host device", e));
    }
    let kind = match d.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
        LinuxDeviceType::B => libc::S_IFBLK,
        LinuxDeviceType::P => libc::S_IFIFO,
        LinuxDeviceType::A => {
            return Err(RootfsError::Invalid(format!(
                "linux.devices {}: type \"a\" is not a device node",
                path.display()
            )))
        }
    };
    let (parent, name) = split_parent(&rel);
    let dir = root
        .mkdir_all(parent, 0o755)
        .map_err(|e| err("creating parent", e))?;
    let number = |what: &str, n: i64| {
        u32::try_from(n).map_err(|_| {
            RootfsError::Invalid(format!(
                "linux.devices {}: {what} {n} is not a device number",
                path.display()
            ))
        })
    };
    let devno = libc::makedev(number("major", d.major())?, number("minor", d.minor())?);
    let mode = d.file_mode().unwrap_or(0o666) & 0o7777;
    match mknodat(dir.as_fd(), name, kind | mode, devno) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            // Something is there already: replace nothing, but it must not
            // be a symlink we would chown through.
            if root.lstat_mode(path).ok() == Some(libc::S_IFLNK) {
                return Err(err("exists as a symlink", e));
            }
            return Ok(());
        }
        Err(e) => return Err(err("mknod", e)),
    }
    let fd = root
        .open(path, libc::O_PATH | libc::O_NOFOLLOW)
        .map_err(|e| err("opening new node", e))?;
    // mknod honours the umask: set the exact mode through the fd.
    let proc_path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
    std::fs::set_permissions(
        &proc_path,
        std::os::unix::fs::PermissionsExt::from_mode(mode),
    )
    .map_err(|e| err("chmod", e))?;
    fchown(fd.as_fd(), d.uid().unwrap_or(0), d.gid().unwrap_or(0)).map_err(|e| err("chown", e))
}

/// /dev/fd, /dev/std{in,out,err} and /dev/ptmx.
pub fn create_symlinks(root: &Root) -> Result<(), RootfsError> {
    let dev = root
        .open(Path::new("/dev"), libc::O_PATH | libc::O_DIRECTORY)
        .map_err(|e| RootfsError::Device {
            path: "/dev".into(),
            what: "opening".into(),
            source: e,
        })?;
    for (target, name) in [
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
        ("pts/ptmx", "ptmx"),
    ] {
        match symlinkat(target, dev.as_fd(), name) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => {
                return Err(RootfsError::Device {
                    path: PathBuf::from("/dev").join(name),
                    what: "symlink".into(),
                    source: e,
                })
            }
        }
    }
    Ok(())
}
