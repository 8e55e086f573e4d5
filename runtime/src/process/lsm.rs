//! Linux security module labels: process.apparmorProfile and
//! process.selinuxLabel become the exec label of the container's process
//! (the kernel applies it at execve), and linux.mountLabel becomes the
//! `context=` option of the filesystems that take one. As runc:
//! - AppArmor: "exec PROFILE" written to /proc/thread-self/attr/apparmor/exec
//!   (kernels before 5.8 have only /proc/thread-self/attr/exec);
//! - SELinux: the label written to /proc/thread-self/attr/exec, and to
//!   /proc/thread-self/attr/keycreate before the session keyring is made.
//!
//! The writes go through the init's private procfs handle (a mount in the
//! container cannot redirect them; docs/security.md, procfs writes).
//! Whether the host has the LSM is decided as runc does: AppArmor when
//! /sys/module/apparmor/parameters/enabled says "Y", SELinux when
//! selinuxfs is mounted.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};

use oci_spec::runtime::Process;

use super::procfs::ProcFs;
use super::ProcessError;

const SELINUX_MAGIC: i64 = 0xf97c_ff8c;

/// AppArmor is enabled on this host (runc's apparmor.IsEnabled).
pub fn apparmor_enabled() -> bool {
    std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|b| b.starts_with(b"Y"))
}

/// SELinux is enabled on this host: selinuxfs is mounted (at
/// /sys/fs/selinux, or elsewhere as the mount table says).
pub fn selinux_enabled() -> bool {
    let at_default = std::fs::File::open("/sys/fs/selinux")
        .and_then(|f| crate::sys::fs::fs_magic(f.as_fd()))
        .is_ok_and(|m| m == SELINUX_MAGIC);
    at_default
        || std::fs::read_to_string("/proc/self/mountinfo")
            .is_ok_and(|m| m.lines().any(|l| mountinfo_fstype(l) == Some("selinuxfs")))
}

/// The filesystem type of a mountinfo line (the field after " - ").
fn mountinfo_fstype(line: &str) -> Option<&str> {
    line.split_once(" - ")?.1.split(' ').next()
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The process's AppArmor profile and SELinux label, when set.
pub fn requested(process: &Process) -> (Option<&str>, Option<&str>) {
    (
        non_empty(process.apparmor_profile()),
        non_empty(process.selinux_label()),
    )
}

/// What is written for an AppArmor profile: a change at the next execve.
fn apparmor_exec_value(profile: &str) -> String {
    format!("exec {profile}")
}

/// Sets the exec labels the process asks for; the next execve applies
/// them. Nothing is written when none is asked for.
pub fn set_exec_labels(proc: &ProcFs, process: &Process) -> Result<(), ProcessError> {
    let (apparmor, selinux) = requested(process);
    if let Some(profile) = apparmor {
        write_apparmor(proc, profile)
            .map_err(|e| ProcessError::sys(format!("process.apparmorProfile {profile:?}"), e))?;
    }
    if let Some(label) = selinux {
        write_attr(proc, "thread-self/attr/exec", label)
            .map_err(|e| ProcessError::sys(format!("process.selinuxLabel {label:?}"), e))?;
    }
    Ok(())
}

/// SELinux: the label of the keys this thread creates from now on (the
/// container's session keyring), as runc. Nothing without a label.
pub fn set_key_label(proc: &ProcFs, process: &Process) -> Result<(), ProcessError> {
    match requested(process).1 {
        Some(label) => write_attr(proc, "thread-self/attr/keycreate", label)
            .map_err(|e| ProcessError::sys(format!("process.selinuxLabel {label:?}"), e)),
        None => Ok(()),
    }
}

fn write_apparmor(proc: &ProcFs, profile: &str) -> Result<(), AttrError> {
    let value = apparmor_exec_value(profile);
    match write_attr(proc, "thread-self/attr/apparmor/exec", &value) {
        Err(AttrError::Open(_, e)) if e.kind() == std::io::ErrorKind::NotFound => {
            write_attr(proc, "thread-self/attr/exec", &value)
        }
        // The kernel's answer to an unknown profile.
        Err(AttrError::Write(p, e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(AttrError::NoProfile(p, e))
        }
        r => r,
    }
}

/// A write of an LSM attribute in the private procfs that failed.
#[derive(Debug, thiserror::Error)]
pub enum AttrError {
    #[error("opening /proc/{0}")]
    Open(&'static str, #[source] std::io::Error),
    #[error("writing /proc/{0}")]
    Write(&'static str, #[source] std::io::Error),
    /// AppArmor's ENOENT for a profile it does not have: the kernel's
    /// error is said in parentheses, in this text (a leaf, no source).
    #[error("writing /proc/{0}: no such profile is loaded ({1})")]
    NoProfile(&'static str, std::io::Error),
}

/// One write of the whole value (the LSMs take an attribute in one go).
fn write_attr(proc: &ProcFs, rel: &'static str, value: &str) -> Result<(), AttrError> {
    let mut f = proc
        .open_file(rel, libc::O_WRONLY)
        .map_err(|e| AttrError::Open(rel, e))?;
    match f.write(value.as_bytes()) {
        Ok(n) if n == value.len() => Ok(()),
        Ok(n) => Err(AttrError::Write(
            rel,
            std::io::Error::other(format!("short write ({n} of {} bytes)", value.len())),
        )),
        Err(e) => Err(AttrError::Write(rel, e)),
    }
}

/// Filesystems that take linux.mountLabel as `context=`: every new
/// filesystem (tmpfs, devpts, ...) except procfs, sysfs and cgroupfs,
/// whose labels the policy fixes, and mqueue (see label_mount_root); runc
/// passes it to the same ones. Bind mounts carry their source's labels.
pub fn takes_mount_label(fstype: &str) -> bool {
    !matches!(
        fstype,
        "proc" | "sysfs" | "cgroup" | "cgroup2" | "bind" | "mqueue" | ""
    )
}

/// mqueue's superblock is the IPC namespace's, made by the kernel: it
/// refuses a `context=` of its own (EINVAL). As runc, its root gets the
/// label instead (`tree` is the detached mount); a kernel that cannot
/// label it (ENOTSUP) is tolerated.
pub fn label_mount_root(fstype: &str, tree: BorrowedFd<'_>, label: &str) -> std::io::Result<()> {
    if fstype != "mqueue" {
        return Ok(());
    }
    let root = crate::sys::fs::openat2(tree, ".", libc::O_RDONLY | libc::O_DIRECTORY, 0, 0)?;
    match crate::sys::fs::fsetxattr(root.as_fd(), "security.selinux", label.as_bytes()) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => Ok(()),
        r => r,
    }
}

/// linux.mountLabel when it applies on this host: only with SELinux
/// enabled (without it the kernel refuses `context=`; crun ignores the
/// label then, and so does remora: docs/design.md).
pub fn mount_label(linux: &oci_spec::runtime::Linux) -> Option<&str> {
    non_empty(linux.mount_label()).filter(|_| selinux_enabled())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_errors_say_the_cause_once() {
        let enoent = || std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = ProcessError::sys(
            "process.apparmorProfile \"x\"",
            AttrError::NoProfile("thread-self/attr/apparmor/exec", enoent()),
        );
        assert_eq!(
            crate::error::chain(&e),
            "process.apparmorProfile \"x\": writing /proc/thread-self/attr/apparmor/exec: \
             no such profile is loaded (No such file or directory (os error 2))"
        );
        let e = ProcessError::sys(
            "process.selinuxLabel \"l\"",
            AttrError::Open("thread-self/attr/exec", enoent()),
        );
        assert_eq!(
            crate::error::chain(&e),
            "process.selinuxLabel \"l\": opening /proc/thread-self/attr/exec: \
             No such file or directory (os error 2)"
        );
    }

    #[test]
    fn apparmor_profile_changes_at_exec() {
        assert_eq!(apparmor_exec_value("remora-test"), "exec remora-test");
    }

    #[test]
    fn mount_label_goes_to_new_filesystems_but_proc_sysfs_cgroup() {
        for t in ["tmpfs", "devpts", "shm", "ramfs"] {
            assert!(takes_mount_label(t), "{t}");
        }
        for t in ["proc", "sysfs", "cgroup", "cgroup2", "bind", "mqueue", ""] {
            assert!(!takes_mount_label(t), "{t}");
        }
    }

    #[test]
    fn mountinfo_fstype_is_after_the_separator() {
        let l = "24 30 0:22 / /sys/fs/selinux rw,relatime shared:7 - selinuxfs selinuxfs rw";
        assert_eq!(mountinfo_fstype(l), Some("selinuxfs"));
        let l = "25 30 0:23 / /x rw - tmpfs a - b rw";
        assert_eq!(mountinfo_fstype(l), Some("tmpfs"));
    }

    #[test]
    fn empty_labels_are_not_requested() {
        let p: Process = serde_json::from_value(serde_json::json!({
            "cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0},
            "apparmorProfile": "", "selinuxLabel": "x:y:z:s0"
        }))
        .unwrap();
        assert_eq!(requested(&p), (None, Some("x:y:z:s0")));
    }
}
