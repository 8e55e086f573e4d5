//! How a new process (a container's init, or an exec'd process) enters its
//! cgroups without being migrated by its parent.
//!
//! Moving a thread group (`cgroup.procs`) takes the kernel's
//! cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
//! period: milliseconds per write on a host with v1 hierarchies, paid once
//! per hierarchy. Instead:
//! - the cgroup2 directory (pure v2, or a hybrid host's unified mount) is
//!   handed to clone3(CLONE_INTO_CGROUP): the child starts in it;
//! - each v1 hierarchy's `tasks` file is opened by the parent (as the
//!   caller, before any namespace or identity change) and the child, while
//!   it is still single-threaded, writes "0" to it: a thread moving itself
//!   skips that lock. The kernel checks the opener's credentials.
//!
//! Both happen before the child does anything else, so everything it forks
//! inherits the placement.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use crate::error::{CgroupError, Result};

/// The opened cgroup files a new process is placed through.
#[derive(Debug, Default)]
pub struct Placement {
    /// The cgroup2 directory, for clone3(CLONE_INTO_CGROUP).
    into: Option<OwnedFd>,
    /// `tasks` of each v1 hierarchy, open for writing.
    v1_tasks: Vec<(PathBuf, File)>,
    /// The cgroup existed already and holds processes (runc warns
    /// "container's cgroup is not empty").
    pub occupied: bool,
}

impl Placement {
    /// Opens the files for `dirs` (hierarchy key -> directory; the key
    /// "unified" is the cgroup2 one). The directories must exist.
    pub fn open(dirs: &BTreeMap<String, PathBuf>) -> Result<Self> {
        let mut p = Placement::default();
        for (key, dir) in dirs {
            if key == "unified" {
                let f = File::open(dir).map_err(|e| CgroupError::io(dir, e))?;
                p.into = Some(f.into());
            } else {
                let tasks = dir.join("tasks");
                let f = File::options()
                    .write(true)
                    .open(&tasks)
                    .map_err(|e| CgroupError::io(&tasks, e))?;
                p.v1_tasks.push((tasks, f));
            }
        }
        Ok(p)
    }

    /// The cgroup2 directory to clone into, if any.
    pub fn clone_into(&self) -> Option<BorrowedFd<'_>> {
        self.into.as_ref().map(|f| f.as_fd())
    }

    /// Whether the child has v1 hierarchies to join itself.
    pub fn needs_self_join(&self) -> bool {
        !self.v1_tasks.is_empty()
    }

    /// In the new child, before it starts a thread or forks: moves the
    /// calling thread into every v1 hierarchy. (The files are
    /// close-on-exec.)
    pub fn join_self(&self) -> Result<()> {
        for (path, f) in &self.v1_tasks {
            (&*f).write_all(b"0").map_err(|source| CgroupError::Write {
                field: "linux.cgroupsPath".into(),
                path: path.clone(),
                value: "0".into(),
                source,
            })?;
        }
        Ok(())
    }
}
