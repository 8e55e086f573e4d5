//! A private procfs handle for every procfs write the init makes (sysctl,
//! oom_score_adj) and for reopening the exec fifo: a detached clone of
//! /proc taken before the rootfs exists, so no mount in the container can
//! redirect it (CVE-2019-16884, CVE-2025-52881). Each opened file is
//! checked to be on procfs.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::sys::fs::{fs_magic, openat2, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV};
use crate::sys::mount::open_tree_path;

const PROC_SUPER_MAGIC: i64 = 0x9fa0;

pub struct ProcFs {
    root: OwnedFd,
}

impl ProcFs {
    /// Clones the host's /proc (call inside the new mount namespace,
    /// before the rootfs is set up).
    pub fn open() -> Result<Self, String> {
        let root = open_tree_path("/proc", false).map_err(|e| format!("cloning /proc: {e}"))?;
        match fs_magic(root.as_fd()) {
            Ok(PROC_SUPER_MAGIC) => Ok(Self { root }),
            Ok(m) => Err(format!("/proc is not procfs (magic {m:#x})")),
            Err(e) => Err(format!("/proc: {e}")),
        }
    }

    /// Opens `rel` (e.g. "sys/net/ipv4/ip_forward") inside this procfs;
    /// magic links and mount crossings are refused.
    pub fn open_file(&self, rel: &str, flags: i32) -> std::io::Result<File> {
        let fd = openat2(
            self.root.as_fd(),
            rel,
            flags,
            0,
            RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        )?;
        if fs_magic(fd.as_fd())? != PROC_SUPER_MAGIC {
            return Err(std::io::Error::other("not on procfs"));
        }
        Ok(File::from(fd))
    }

    pub fn write(&self, rel: &str, value: &str) -> std::io::Result<()> {
        self.open_file(rel, libc::O_WRONLY)?
            .write_all(value.as_bytes())
    }

    /// Reopens one of our own fds with new flags (e.g. an O_PATH fifo as
    /// O_WRONLY) through thread-self/fd/N; this is the one magic link we
    /// follow, on our own fd.
    /// Plain openat: it runs after a seccomp filter may be loaded, and
    /// every profile allows openat (not always openat2).
    pub fn reopen_fd(&self, fd: i32, flags: i32) -> std::io::Result<File> {
        let p = std::ffi::CString::new(format!("thread-self/fd/{fd}")).expect("no NUL");
        // SAFETY: NUL-terminated relative path on our procfs fd.
        let r = unsafe { libc::openat(self.root.as_raw_fd(), p.as_ptr(), flags | libc::O_CLOEXEC) };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a new fd we own.
        Ok(unsafe { File::from_raw_fd(r) })
    }

    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), String> {
        let rel = Path::new("sys").join(key.replace('.', "/"));
        self.write(rel.to_str().unwrap_or_default(), value)
            .map_err(|e| format!("linux.sysctl {key:?}: {e}"))
    }
}
