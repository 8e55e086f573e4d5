//! The state store: one directory per container under --root, holding
//! state.json (written atomically: temp + rename) and exec.fifo while the
//! container waits for start. Operations on one container are serialised
//! by flock on its directory; `state` and `list` only read, and never wait
//! for the lock.
//!
//! The record is crash-safe (docs/design.md, "Crash-safe create"): create
//! writes state.json with `creating: true` and the cgroup paths before it
//! makes anything else, adds the init's PID and start time right after the
//! clone and clears `creating` once the init is ready. Whatever point a
//! killed command stopped at, `delete --force` finds everything that
//! exists for the ID from the record.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
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
    /// Set while `create` runs: the container is half-made (`pid` is the
    /// cloned child, or 0 before the clone). A record still creating once
    /// its lock is free is the remains of a create that was killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creating: bool,
    /// The cgroup held processes before the container (runc warns
    /// "container's cgroup is not empty"): delete leaves them, and the
    /// directories they are in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cgroup_shared: bool,
    /// Without a mount namespace of its own: the mounts the container's
    /// create made in the caller's, for delete to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_mounts: Vec<crate::lifecycle::host_mounts::HostMount>,
    /// While creating, without a mount namespace of its own: the caller's
    /// mounts at or under the rootfs before the init existed (those made
    /// since are the container's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_mounts_before: Option<crate::lifecycle::host_mounts::Before>,
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

/// A container's directory in the state store, locked for this command
/// (or, for the read-only `state` and `list`, maybe only looked at).
pub struct ContainerDir {
    pub path: PathBuf,
    _lock: File,
    /// Whether this command holds the lock. Without it (another command
    /// works on the container) the record may be read, nothing else.
    locked: bool,
}

impl ContainerDir {
    /// Makes a new container's directory holding its first record: made
    /// under a private name (`.ID~PID`, never a valid ID), locked, the
    /// record written, then renamed to ID. So a directory under an ID's
    /// name always holds a record, and of two concurrent creates one wins
    /// (a rename never replaces a non-empty directory); the other gets
    /// "already exists".
    pub fn create(root: &Path, id: &str, first: &State) -> Result<Self> {
        validate_id(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(root)
            .ctx(|| format!("creating state root {}", root.display()))?;
        sweep_unfinished(root, id);
        let path = root.join(id);
        let tmp = root.join(format!(".{id}~{}", std::process::id()));
        // Left by an earlier process with our PID.
        let _ = fs::remove_dir_all(&tmp);
        // A sweep by a remora in another pid namespace may take the
        // private directory between its mkdir and its lock: make it again.
        let mut tries = 0;
        let mut dir = loop {
            if path.exists() {
                return Err(Error::AlreadyExists);
            }
            fs::DirBuilder::new()
                .mode(0o711)
                .create(&tmp)
                .ctx(|| format!("creating {}", tmp.display()))?;
            match Self::lock(tmp.clone(), true) {
                Err(Error::NotExist) if tries < 3 => tries += 1,
                r => break r?,
            }
        };
        let placed = dir
            .save(first)
            .and_then(|()| match fs::rename(&tmp, &path) {
                Ok(()) => Ok(()),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {
                    Err(Error::AlreadyExists)
                }
                Err(e) => Err(Error::io(
                    format!("renaming {} to {}", tmp.display(), path.display()),
                    e,
                )),
            });
        if let Err(e) = placed {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        dir.path = path;
        Ok(dir)
    }

    /// Opens and locks an existing container's directory (waiting while
    /// another command holds it). A directory without a record is opened
    /// too: `load` says what it is.
    pub fn open(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        Self::lock(root.join(id), true)
    }

    /// Opens a container's directory to read its record: locked if no
    /// other command holds it, else unlocked (a create, start or delete
    /// runs; state.json is replaced atomically, so what is read is whole).
    pub fn peek(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        Self::lock(root.join(id), false)
    }

    /// Whether this command holds the container's lock.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Opens `path` and flocks it (waiting, or not with `wait` false);
    /// NotExist if the directory is gone or, once locked, is no longer the
    /// one at `path` (a delete removed it while we waited).
    fn lock(path: PathBuf, wait: bool) -> Result<Self> {
        let f = File::open(&path).map_err(|e| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) {
                Error::NotExist
            } else {
                Error::io(format!("opening {}", path.display()), e)
            }
        })?;
        if !f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Error::NotExist);
        }
        let locked = crate::sys::fs::flock_exclusive(f.as_fd(), wait)
            .map_err(|e| Error::io(format!("locking {}", path.display()), e))?;
        if locked {
            let same = match (f.metadata(), fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if !same {
                return Err(Error::NotExist);
            }
        }
        Ok(Self {
            path,
            _lock: f,
            locked,
        })
    }

    /// Closes this process's copy of the lock file without unlocking it
    /// for the parent (a flock belongs to the open file, which the
    /// parent's copy keeps open): for the forked init, which must not hold
    /// the lock while it waits for start.
    pub fn forget_lock_in_child(self) {
        drop(self);
    }

    pub fn fifo(&self) -> PathBuf {
        self.path.join(FIFO_FILE)
    }

    /// Reads the record. No state.json: `NoState` when this command holds
    /// the lock (a directory someone else made, or an older remora's
    /// remains), `NotExist` when it does not (a delete is under way).
    pub fn load(&self) -> Result<State> {
        let p = self.path.join(STATE_FILE);
        let data = match fs::read(&p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.locked => {
                return Err(Error::NoState(self.path.clone()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotExist),
            Err(e) => return Err(Error::io(format!("reading {}", p.display()), e)),
        };
        serde_json::from_slice(&data).map_err(|e| Error::CorruptState {
            path: p,
            msg: e.to_string(),
        })
    }

    /// What a corrupt state.json still tells: its cgroup, if that part
    /// parses.
    pub fn salvage_cgroup(&self) -> Option<remora_cgroups::SavedCgroup> {
        let data = fs::read(self.path.join(STATE_FILE)).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&data).ok()?;
        serde_json::from_value(v.get("cgroup")?.clone()).ok()
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

    /// Removes the directory (the lock goes with it): state.json last, so
    /// that a removal cut short leaves the record of what remains.
    pub fn remove(self) -> Result<()> {
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let err = |p: &Path, e| Error::io(format!("removing {}", p.display()), e);
        let entries = match fs::read_dir(&self.path) {
            Ok(rd) => rd,
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(err(&self.path, e)),
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if entry.file_name() == STATE_FILE {
                continue;
            }
            let r = match entry.file_type() {
                Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
                _ => fs::remove_file(&p),
            };
            match r {
                Err(e) if !gone(&e) => return Err(err(&p, e)),
                _ => {}
            }
        }
        for (p, r) in [
            (
                self.path.join(STATE_FILE),
                fs::remove_file(self.path.join(STATE_FILE)),
            ),
            (self.path.clone(), fs::remove_dir(&self.path)),
        ] {
            match r {
                Err(e) if !gone(&e) => return Err(err(&p, e)),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The IDs of every container directory in the store (half-made ones
/// included: `list` reports what their record says, or an error line).
pub fn list_ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| validate_id(id).is_ok())
        .collect();
    ids.sort();
    ids
}

/// Removes the private directories (`.ID~PID`) of creates of `id` that
/// were killed before they renamed them into place: those whose creator
/// is gone and whose lock is free. They hold at most a first record:
/// nothing else is made before the rename.
pub fn sweep_unfinished(root: &Path, id: &str) {
    let prefix = format!(".{id}~");
    for e in fs::read_dir(root).into_iter().flatten().flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        if let Ok(d) = ContainerDir::lock(e.path(), false) {
            if d.locked {
                let _ = fs::remove_dir_all(&d.path);
            }
        }
    }
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

    fn record(id: &str) -> State {
        State {
            id: id.into(),
            pid: 0,
            init_start_time: 0,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: String::new(),
            owner: String::new(),
            annotations: HashMap::new(),
            cgroup: remora_cgroups::SavedCgroup {
                path: format!("/remora/{id}"),
                systemd: false,
                id: id.into(),
                dirs: Default::default(),
                rootless: false,
            },
            hooks: None,
            own_pid_ns: true,
            host_mounts: Vec::new(),
            host_mounts_before: None,
            creating: true,
            cgroup_shared: false,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("remora-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_new_directory_appears_with_its_record_and_only_once() {
        let root = scratch("create");
        let d = ContainerDir::create(&root, "c", &record("c")).unwrap();
        assert_eq!(d.path, root.join("c"));
        assert!(d.load().unwrap().creating);
        assert!(matches!(
            ContainerDir::create(&root, "c", &record("c")),
            Err(Error::AlreadyExists)
        ));
        // Nothing but the container's directory: no private one left.
        let names: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["c"]);
        d.remove().unwrap();
        assert!(fs::read_dir(&root).unwrap().next().is_none());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn readers_do_not_wait_and_a_missing_record_is_told_apart() {
        let root = scratch("peek");
        let d = ContainerDir::create(&root, "c", &record("c")).unwrap();
        // Held by `d`: a reader reads without the lock.
        let p = ContainerDir::peek(&root, "c").unwrap();
        assert!(!p.is_locked());
        assert!(p.load().unwrap().creating);
        fs::remove_file(d.path.join(STATE_FILE)).unwrap();
        assert!(matches!(p.load(), Err(Error::NotExist)));
        drop((p, d));
        // Free: no record is a directory someone else made.
        let o = ContainerDir::open(&root, "c").unwrap();
        assert!(matches!(o.load(), Err(Error::NoState(_))));
        fs::write(o.path.join(STATE_FILE), b"{").unwrap();
        assert!(matches!(o.load(), Err(Error::CorruptState { .. })));
        o.remove().unwrap();
        // Gone: open says so.
        assert!(matches!(
            ContainerDir::open(&root, "c"),
            Err(Error::NotExist)
        ));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn unfinished_private_directories_of_dead_creates_are_swept() {
        let root = scratch("sweep");
        let dead = root.join(".c~999999999");
        let live = root.join(format!(".c~{}", std::process::id()));
        let other = root.join(".d~999999999");
        for d in [&dead, &live, &other] {
            fs::create_dir_all(d).unwrap();
        }
        sweep_unfinished(&root, "c");
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
