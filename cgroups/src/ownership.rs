//! Cgroup ownership (runtime-spec config-linux.md, "Cgroup ownership"):
//! the container's cgroup2 directory, and the files in it the kernel
//! lists as delegatable (/sys/kernel/cgroup/delegate), are given to the
//! host ids of the container's user, so that a systemd or a nested
//! runtime inside may manage the subtree. Whether to do it is the
//! runtime's decision (cgroup v2, a user and a cgroup namespace of the
//! container's own, a writable cgroupfs mount).

use std::path::Path;

use crate::cgroup::Cgroup;
use crate::error::{CgroupError, Result};

/// The kernel's list of delegatable files.
const DELEGATE_LIST: &str = "/sys/kernel/cgroup/delegate";
/// The files to give when the kernel has no list, as the spec says.
const DEFAULT_FILES: &[&str] = &["cgroup.procs", "cgroup.subtree_control", "cgroup.threads"];

impl Cgroup {
    /// Changes the owner of the cgroup2 directory and its delegatable
    /// files to `uid`:`gid`. Nothing without a cgroup2 directory of the
    /// container's (v1 hosts); a file the kernel lists but this cgroup
    /// lacks (its controller not enabled) is skipped.
    pub fn delegate_to(&self, uid: u32, gid: u32) -> Result<()> {
        let Some(dir) = self.paths().get("unified") else {
            return Ok(());
        };
        chown(dir, uid, gid)?;
        for f in delegatable_files() {
            let p = dir.join(&f);
            match chown(&p, uid, gid) {
                Err(CgroupError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                r => r?,
            }
        }
        Ok(())
    }
}

/// The file names the kernel lists as delegatable, else the spec's three.
pub(crate) fn delegatable_files() -> Vec<String> {
    match std::fs::read_to_string(DELEGATE_LIST) {
        Ok(text) => parse_delegate(&text),
        Err(_) => DEFAULT_FILES.iter().map(|s| s.to_string()).collect(),
    }
}

fn parse_delegate(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('/') && *l != "." && *l != "..")
        .map(String::from)
        .collect()
}

fn chown(p: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).map_err(|e| CgroupError::io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegate_list_is_plain_names() {
        assert_eq!(
            parse_delegate("cgroup.procs\ncgroup.threads\n\nmemory.oom.group\n../x\n"),
            ["cgroup.procs", "cgroup.threads", "memory.oom.group"]
        );
    }
}
