//! A private procfs handle for every procfs write the init makes (sysctl,
//! oom_score_adj) and for reopening the exec fifo: a detached clone of
//! /proc taken before the rootfs exists, so no mount in the container can
//! redirect it (CVE-2019-16884, CVE-2025-52881). Each opened file is
//! checked to be on procfs.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::sys::fs::{fs_magic, openat, openat2, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV};
use crate::sys::mount::open_tree_path;

use super::ProcessError;

const PROC_SUPER_MAGIC: i64 = 0x9fa0;

pub struct ProcFs {
    root: OwnedFd,
}

impl ProcFs {
    /// Clones the host's /proc (call inside the new mount namespace,
    /// before the rootfs is set up).
    pub fn open() -> Result<Self, ProcessError> {
        let root = match open_tree_path("/proc", false) {
            Ok(r) => r,
            // Cloning needs CAP_SYS_ADMIN over the mount namespace: a
            // rootless `exec` (in the caller's namespace, where no
            // container process can mount) opens /proc itself.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => std::fs::File::options()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
                .open("/proc")
                .map_err(|e| ProcessError::sys("opening /proc", e))?
                .into(),
            Err(e) => return Err(ProcessError::sys("cloning /proc", e)),
        };
        match fs_magic(root.as_fd()) {
            Ok(PROC_SUPER_MAGIC) => Ok(Self { root }),
            Ok(m) => Err(ProcessError::NotProcfs(m)),
            Err(e) => Err(ProcessError::sys("/proc", e)),
        }
    }

    /// Opens `rel` (e.g. "sys/net/ipv4/ip_forward") inside this procfs;
    /// magic links and mount crossings are refused.
    pub fn open_file(&self, rel: impl AsRef<Path>, flags: i32) -> std::io::Result<File> {
        let fd = openat2(
            self.root.as_fd(),
            rel.as_ref(),
            flags,
            0,
            RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        )?;
        if fs_magic(fd.as_fd())? != PROC_SUPER_MAGIC {
            return Err(std::io::Error::other("not on procfs"));
        }
        Ok(File::from(fd))
    }

    pub fn write(&self, rel: impl AsRef<Path>, value: &str) -> std::io::Result<()> {
        self.open_file(rel, libc::O_WRONLY)?
            .write_all(value.as_bytes())
    }

    /// Reopens one of our own fds with new flags (e.g. an O_PATH fifo as
    /// O_WRONLY) through thread-self/fd/N; this is the one magic link we
    /// follow, on our own fd.
    /// Plain openat: it runs after a seccomp filter may be loaded, and
    /// every profile allows openat (not always openat2).
    pub fn reopen_fd(&self, fd: i32, flags: i32) -> std::io::Result<File> {
        let p = format!("thread-self/fd/{fd}");
        Ok(File::from(openat(self.root.as_fd(), Path::new(&p), flags)?))
    }

    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), ProcessError> {
        let rel = Path::new("sys").join(key.replace('.', "/"));
        self.write(rel, value)
            .map_err(|e| ProcessError::sys(format!("linux.sysctl {key:?}"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "REMORA_PROCFS_ATTACK_CHILD";

    /// docs/security.md, "procfs writes redirected by racing mounts",
    /// played: a plain file bind-mounted over
    /// /proc/sys/kernel/domainname, once before the handle is taken and
    /// once after (a racing mount), must not receive the init's procfs
    /// write; procfs must. Runs in its own mount and UTS namespaces (a
    /// child copy of this test binary under unshare(1)), as root.
    #[test]
    fn a_mount_over_a_procfs_file_does_not_redirect_the_write() {
        if !nix::unistd::geteuid().is_root() {
            println!("SKIP a_mount_over_a_procfs_file_does_not_redirect_the_write: needs root");
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("unshare")
            .args(["--mount", "--uts", "--propagation", "private"])
            .arg(exe)
            .args(["--exact", "process::procfs::tests::attack_child"])
            .args(["--ignored", "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("unshare(1) from util-linux");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the child did not run: {text}");
    }

    #[test]
    #[ignore = "run by a_mount_over_a_procfs_file_does_not_redirect_the_write"]
    fn attack_child() {
        if std::env::var_os(CHILD).is_none() {
            println!("SKIP attack_child: a helper, run by a_mount_over_a_procfs_file_does_not_redirect_the_write");
            return;
        }
        use nix::mount::{mount, umount, MsFlags};
        let target = "/proc/sys/kernel/domainname";
        let decoy =
            std::env::temp_dir().join(format!("remora-procfs-decoy-{}", std::process::id()));
        std::fs::write(&decoy, "decoy").unwrap();
        let domainname = || {
            nix::sys::utsname::uname()
                .unwrap()
                .domainname()
                .to_string_lossy()
                .to_string()
        };
        let bind = || {
            mount(
                Some(&decoy),
                target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .unwrap()
        };
        // The mount is there before the handle is taken.
        bind();
        let proc = ProcFs::open().unwrap();
        proc.sysctl("kernel.domainname", "via-procfs-1").unwrap();
        assert_eq!(std::fs::read_to_string(&decoy).unwrap(), "decoy");
        assert_eq!(domainname(), "via-procfs-1");
        umount(target).unwrap();
        // The mount appears after the handle was taken.
        let proc = ProcFs::open().unwrap();
        bind();
        proc.sysctl("kernel.domainname", "via-procfs-2").unwrap();
        assert_eq!(std::fs::read_to_string(&decoy).unwrap(), "decoy");
        assert_eq!(domainname(), "via-procfs-2");
        // What a write through the path would have done.
        std::fs::write(target, "via-path").unwrap();
        assert_eq!(std::fs::read_to_string(&decoy).unwrap(), "via-path");
        assert_eq!(domainname(), "via-procfs-2");
        umount(target).unwrap();
        std::fs::remove_file(&decoy).unwrap();
    }
}
