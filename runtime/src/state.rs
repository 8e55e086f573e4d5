//! The state store: one directory per container under --root, holding
//! state.json (written atomically: temp + rename) and exec.fifo while the
//! container waits for start. Operations on one container are serialised
//! by flock on its directory.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

pub const STATE_FILE: &str = "state.json";
pub const FIFO_FILE: &str = "exec.fifo";

/// What remora keeps about a container between commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// Host PID of the init (0 once known stopped).
    pub pid: i32,
    /// The init's start time in clock ticks since boot (/proc/PID/stat
    /// field 22): a recycled PID never matches it.
    pub init_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    pub cgroup: remora_cgroups::SavedCgroup,
    /// The config's hooks, for poststart/poststop after the bundle moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// Whether the init has its own pid namespace (a dying init takes
    /// every container process with it).
    #[serde(default)]
    pub own_pid_ns: bool,
    /// Without a mount namespace of its own: the mounts the container's
    /// create made in the caller's, for delete to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_mounts: Vec<crate::lifecycle::host_mounts::HostMount>,
}

/// Checks a container ID as runc does.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

/// A container's directory in the state store, locked for this command.
pub struct ContainerDir {
    pub path: PathBuf,
    _lock: File,
}

impl ContainerDir {
    /// Makes a new container directory; fails with "already exists" if it
    /// is there (mkdir is atomic: of two concurrent creates one wins).
    pub fn create(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(root)
            .ctx(|| format!("creating state root {}", root.display()))?;
        let path = root.join(id);
        match fs::DirBuilder::new().mode(0o711).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::AlreadyExists)
            }
            Err(e) => return Err(Error::io(format!("creating {}", path.display()), e)),
        }
        Self::lock(path)
    }

    /// Opens and locks an existing container's directory.
    pub fn open(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        let path = root.join(id);
        if !path.join(STATE_FILE).exists() {
            // A directory without state is a create in progress or a
            // leftover: either way not a container (yet).
            return Err(Error::NotExist);
        }
        Self::lock(path)
    }

    fn lock(path: PathBuf) -> Result<Self> {
        let f = File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotExist
            } else {
                Error::io(format!("opening {}", path.display()), e)
            }
        })?;
        // SAFETY: flock on a valid fd we own; blocks until we hold it.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::io(
                format!("locking {}", path.display()),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(Self { path, _lock: f })
    }

    /// Closes this process's copy of the lock without unlocking it for
    /// the parent: for the forked init, which must not hold the lock while
    /// it waits for start.
    pub fn forget_lock_in_child(&self) {
        // SAFETY: closing our copy of an fd we own; the parent keeps its
        // own copy (and the lock, which belongs to the shared open file).
        // The File is never used again in the child, which only execs or
        // exits.
        unsafe { libc::close(self._lock.as_raw_fd()) };
    }

    pub fn fifo(&self) -> PathBuf {
        self.path.join(FIFO_FILE)
    }

    pub fn load(&self) -> Result<State> {
        let p = self.path.join(STATE_FILE);
        let data = fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotExist
            } else {
                Error::io(format!("reading {}", p.display()), e)
            }
        })?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::config(format!("{}: corrupt state: {e}", p.display())))
    }

    /// Writes state.json atomically.
    pub fn save(&self, state: &State) -> Result<()> {
        let tmp = self.path.join(".state.json.tmp");
        let data = serde_json::to_vec(state).expect("state serialises");
        let mut f = File::create(&tmp).ctx(|| format!("writing {}", tmp.display()))?;
        f.write_all(&data)
            .ctx(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, self.path.join(STATE_FILE))
            .ctx(|| format!("renaming {} into place", tmp.display()))
    }

    /// Removes the directory (the lock goes with it).
    pub fn remove(self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", self.path.display()), e)),
        }
    }
}

/// The IDs of every container in the store.
pub fn list_ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(STATE_FILE).exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}

/// Writes a pid file atomically (temp + rename), decimal, no newline.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("pid")
    ));
    fs::write(&tmp, pid.to_string()).ctx(|| format!("writing pid file {}", tmp.display()))?;
    fs::rename(&tmp, path).ctx(|| format!("writing pid file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["a", "abc-1_2+3.4", "A.b"] {
            validate_id(ok).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", "../x"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
