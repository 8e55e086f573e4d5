//! The container's cgroup handle and its operations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
use crate::error::{CgroupError, Result};
use crate::placement::Placement;
use crate::{apply_v1, apply_v2, devices, devices_bpf, devices_v1, freezer, fsutil, layout, path};
use crate::{stats, systemd, validate};

/// What the state store keeps so that later commands find the cgroup again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedCgroup {
    /// The cgroupsPath as given (or the default derived from the ID):
    /// a cgroupfs path, or the systemd `slice:prefix:name` form.
    pub path: String,
    pub systemd: bool,
    /// The container ID (names the systemd unit).
    #[serde(default)]
    pub id: String,
    /// The resolved directory in each hierarchy, keyed by hierarchy
    /// ("memory", "cpu,cpuacct", "name=systemd", "unified").
    #[serde(default)]
    pub dirs: BTreeMap<String, PathBuf>,
    /// Made by the rootless manager (rootless.rs): only the hierarchies
    /// the caller may use are in `dirs`; no device rules; the systemd
    /// driver talks to the user's manager.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rootless: bool,
}

/// A container's cgroup.
#[derive(Debug, Clone)]
pub struct Cgroup {
    saved: SavedCgroup,
    /// Resources given to `prepare`, applied by `add_task` (systemd only:
    /// the scope cannot exist before its first process).
    pending: Arc<Mutex<Option<LinuxResources>>>,
}

impl Cgroup {
    /// Computes where the container's cgroup goes, as runc does: an absolute
    /// `cgroups_path` is taken from each hierarchy's root, a relative one
    /// from the caller's own cgroup, an empty one defaults to
    /// `/remora/<id>` (cgroupfs) or `system.slice:remora:<id>` (systemd).
    /// Reads the mount table; creates nothing.
    pub fn new(cgroups_path: Option<&str>, container_id: &str, systemd: bool) -> Result<Self> {
        let path = match cgroups_path {
            Some(p) if !p.is_empty() => p.to_string(),
            _ if systemd => format!("system.slice:remora:{container_id}"),
            _ => format!("/remora/{container_id}"),
        };
        let hierarchies = layout::hierarchies()?;
        let mut dirs = BTreeMap::new();
        if systemd {
            let sp = path::parse_systemd(&path)?;
            let rel = format!("{}/{}", path::expand_slice(&sp.slice)?, sp.unit);
            for h in &hierarchies {
                let mut d = h.mount_point.clone();
                d.extend(rel.split('/').filter(|c| !c.is_empty()));
                dirs.insert(h.key.clone(), d);
            }
        } else {
            path::validate_fs_path(&path)?;
            for h in &hierarchies {
                dirs.insert(h.key.clone(), path::fs_dir(h, &path)?);
            }
        }
        Ok(Self::from_saved(SavedCgroup {
            path,
            systemd,
            id: container_id.to_string(),
            dirs,
            rootless: false,
        }))
    }

    pub fn from_saved(saved: SavedCgroup) -> Self {
        Self {
            saved,
            pending: Arc::new(Mutex::new(None)),
        }
    }

    pub fn to_saved(&self) -> SavedCgroup {
        self.saved.clone()
    }

    fn dirs(&self) -> Dirs {
        Dirs(self.saved.dirs.clone())
    }

    /// The container's cgroup directories (hierarchy key -> dir).
    pub fn paths(&self) -> &BTreeMap<String, PathBuf> {
        &self.saved.dirs
    }

    /// Creates the cgroup and applies `resources` (device rules always: a
    /// deny-all base, runc's default devices, then resources.devices).
    /// Returns how the new init enters it (see `Placement`); empty with
    /// the systemd driver, where `add_task` starts the scope after the
    /// clone. On failure nothing is left behind. (`make` + `apply_initial`.)
    pub fn prepare(&self, resources: Option<&LinuxResources>) -> Result<Placement> {
        let mut created = Vec::new();
        let res = self
            .make_recording(resources, &mut created)
            .and_then(|p| self.apply_initial(resources).map(|()| p));
        if res.is_err() {
            remove_created(&created);
        }
        res
    }

    /// The first half of `prepare`: checks `resources`, creates the
    /// directories and opens the `Placement`. A caller may clone the init
    /// now and call `apply_initial` while the init sets itself up (the
    /// limits and device rules must be in force before the container's
    /// process runs, not before the clone). On failure nothing is left.
    pub fn make(&self, resources: Option<&LinuxResources>) -> Result<Placement> {
        let mut created = Vec::new();
        let res = self.make_recording(resources, &mut created);
        if res.is_err() {
            remove_created(&created);
        }
        res
    }

    /// `make`, recording the directories it created in `created`.
    fn make_recording(
        &self,
        resources: Option<&LinuxResources>,
        created: &mut Vec<PathBuf>,
    ) -> Result<Placement> {
        if let Some(r) = resources {
            validate::validate(r)?;
        }
        if self.saved.systemd {
            systemd::check(&self.saved)?;
            *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = resources.cloned();
            return Ok(Placement::default());
        }
        let dirs = self.dirs();
        self.create_dirs(&dirs, created)?;
        // v1 device rules are a sequence of writes (deny all, then allow
        // each): in place before the init exists, so that its mknod of an
        // allowed device never meets the moment between the two. (The v2
        // eBPF program is attached at once, in `apply_initial`.)
        if let (false, false, Some(d)) = (self.saved.rootless, dirs.is_v2(), dirs.v1("devices")) {
            devices_v1::apply(d, &initial_device_rules(resources))?;
        }
        let mut placement = Placement::open(&dirs.0)?;
        // Only a cgroup that was there before can hold processes already.
        placement.occupied = dirs.0.values().any(|leaf| {
            !created.contains(leaf)
                && fsutil::read(leaf, "cgroup.procs").is_ok_and(|p| !p.trim().is_empty())
        });
        Ok(placement)
    }

    /// The second half of `prepare`: applies `resources` and the device
    /// rules to the cgroup `make` created (systemd: nothing here, the
    /// scope gets them in `add_task`).
    pub fn apply_initial(&self, resources: Option<&LinuxResources>) -> Result<()> {
        if self.saved.systemd {
            return Ok(());
        }
        let dirs = self.dirs();
        // v1's device rules were written by `make`.
        let rules = (dirs.is_v2() && !self.saved.rootless).then(|| initial_device_rules(resources));
        let empty = LinuxResources::default();
        apply(&dirs, resources.unwrap_or(&empty), rules)
    }

    /// Fails when a process placed in the cgroup now would be frozen (an
    /// existing cgroupsPath whose freezer is FROZEN, or a frozen parent):
    /// the init would sit there in uninterruptible sleep and `create`
    /// would never return. Call before `make`; nothing is changed.
    pub fn check_not_frozen(&self) -> Result<()> {
        match freezer::frozen_dir(&self.dirs()) {
            None => Ok(()),
            Some(d) => Err(CgroupError::Manager {
                path: d.display().to_string(),
                msg: format!(
                    "container's cgroup unexpectedly frozen (linux.cgroupsPath {:?})",
                    self.saved.path
                ),
            }),
        }
    }

    /// Whether the systemd driver manages the cgroup (the init is placed
    /// by `add_task` after the clone).
    pub fn is_systemd(&self) -> bool {
        self.saved.systemd
    }

    fn create_dirs(&self, dirs: &Dirs, created: &mut Vec<PathBuf>) -> Result<()> {
        for (key, leaf) in &dirs.0 {
            // Another container's create may make a shared parent at the
            // same moment (EEXIST: it is theirs), or its delete remove the
            // default parent just emptied (ENOENT: make it again).
            let mut attempts = 0;
            'make: loop {
                let missing: Vec<&Path> = leaf.ancestors().take_while(|a| !a.exists()).collect();
                for d in missing.into_iter().rev() {
                    let parent = d.parent().unwrap_or(Path::new("/"));
                    if key == "unified" {
                        enable_controllers(parent);
                    }
                    match std::fs::create_dir(d) {
                        Ok(()) => created.push(d.to_path_buf()),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 5 => {
                            attempts += 1;
                            continue 'make;
                        }
                        Err(e) => return Err(CgroupError::io(d, e)),
                    }
                }
                break;
            }
            if key.split(',').any(|c| c == "cpuset") {
                fill_cpusets(leaf)?;
            }
        }
        Ok(())
    }

    /// Puts `pid` in every hierarchy it is not already in: the systemd
    /// scope is started with it; with cgroupfs the process is migrated (a
    /// new process enters through `prepare`'s `Placement` instead).
    pub fn add_task(&self, pid: Pid) -> Result<()> {
        if self.saved.systemd {
            let r = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            systemd::start(&self.saved, pid, &r)?;
            if let (false, Some(d)) = (self.saved.rootless, self.dirs().unified()) {
                devices_bpf::apply(d, &initial_device_rules(Some(&r)))?;
            }
            return Ok(());
        }
        for dir in self.saved.dirs.values() {
            let procs = fsutil::read(dir, "cgroup.procs")?;
            if procs.lines().any(|l| l.trim() == pid.as_raw().to_string()) {
                continue;
            }
            fsutil::write(
                dir,
                "cgroup.procs",
                &pid.as_raw().to_string(),
                "linux.cgroupsPath",
            )?;
        }
        Ok(())
    }

    /// prepare + add_task: for a process that exists already (restore:
    /// CRIU's restored tasks are placed by CRIU in the cgroup of this pid).
    pub fn create(&self, pid: Pid, resources: Option<&LinuxResources>) -> Result<()> {
        self.prepare(resources)?;
        self.add_task(pid)
    }

    /// Applies new resources to a live container (`remora update`). Device
    /// rules change only when `resources.devices` is given.
    pub fn update(&self, resources: &LinuxResources) -> Result<()> {
        validate::validate(resources)?;
        if self.saved.systemd {
            // systemd writes the limit itself: checkBeforeUpdate first.
            let dirs = self.dirs();
            if let (Some(m), Some(d)) = (resources.memory(), dirs.unified_with("memory")) {
                crate::memory_check::check(d, m, &crate::memory_check::V2)?;
            }
            return systemd::update(&self.saved, resources);
        }
        let rules = (resources.devices().is_some() && !self.saved.rootless)
            .then(|| initial_device_rules(Some(resources)));
        apply(&self.dirs(), resources, rules)
    }

    /// Every process in the cgroup and its descendants (host PIDs, sorted).
    pub fn pids(&self) -> Result<Vec<Pid>> {
        crate::rootless::check_has_cgroup(&self.saved, "ps, kill --all", None)?;
        let mut out = Vec::new();
        if let Some(d) = self.dirs().procs_dir() {
            fsutil::procs_recursive(d, &mut out)?;
        }
        out.sort_unstable();
        out.dedup();
        Ok(out.into_iter().map(Pid::from_raw).collect())
    }

    /// Every process in any of the container's hierarchies (host PIDs,
    /// sorted).
    fn pids_everywhere(&self) -> Result<Vec<Pid>> {
        let mut out = Vec::new();
        for d in self.saved.dirs.values() {
            fsutil::procs_recursive(d, &mut out)?;
        }
        out.sort_unstable();
        out.dedup();
        Ok(out.into_iter().map(Pid::from_raw).collect())
    }

    /// Freezes (`true`) or thaws (`false`) the cgroup; returns once the
    /// kernel reports the new state.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        if self.saved.systemd {
            return systemd::freeze(&self.saved, frozen);
        }
        crate::rootless::check_has_cgroup(&self.saved, "pause", Some("freezer"))?;
        freezer::set(&self.dirs(), frozen)
    }

    /// Whether the cgroup is frozen (false when it does not exist).
    pub fn is_frozen(&self) -> Result<bool> {
        freezer::is_frozen(&self.dirs())
    }

    /// Sends `sig` to every process in the cgroup (`kill --all`). A SIGKILL
    /// to a frozen cgroup thaws it afterwards so that the kill takes effect.
    pub fn signal_all(&self, sig: Signal) -> Result<()> {
        let dirs = self.dirs();
        let v2_kill = dirs.is_v2()
            && sig == Signal::SIGKILL
            && dirs
                .unified()
                .is_some_and(|d| d.join("cgroup.kill").exists());
        if v2_kill {
            if let Some(d) = dirs.unified() {
                fsutil::write(d, "cgroup.kill", "1", "kill --all")?;
            }
        } else {
            for pid in self.pids()? {
                match kill(pid, sig) {
                    Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                    Err(e) => {
                        return Err(CgroupError::Manager {
                            path: self.saved.path.clone(),
                            msg: format!("kill {pid} with {sig}: {e}"),
                        })
                    }
                }
            }
        }
        if sig == Signal::SIGKILL && self.is_frozen()? {
            self.set_frozen(false)?;
        }
        Ok(())
    }

    /// SIGKILLs whatever is left in the cgroup, waits until it is empty
    /// (up to 10 s), and removes the cgroup directories (descendants
    /// first). Idempotent: a cgroup that is already gone is fine.
    pub fn destroy(&self) -> Result<()> {
        if self.saved.systemd && self.saved.dirs.values().any(|d| d.exists()) {
            // Best effort: the scope may already be gone with its processes.
            let _ = systemd::stop(&self.saved);
        }
        let dirs = self.dirs();
        if !dirs.0.values().any(|d| d.exists()) {
            self.remove_default_parent();
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let gone = || !dirs.0.values().any(|d| d.exists());
        loop {
            // Every hierarchy: a process cut short between its clone and
            // joining its v1 hierarchies is in the cgroup2 one only.
            let pids = match self.pids_everywhere() {
                Ok(p) => p,
                Err(_) if gone() => return Ok(()),
                Err(e) => return Err(e),
            };
            if pids.is_empty() {
                break;
            }
            if let Err(e) = self.signal_all(Signal::SIGKILL) {
                // The systemd scope stopped (and its directory went)
                // between the look and the kill: nothing left to do.
                if gone() {
                    return Ok(());
                }
                return Err(e);
            }
            for pid in &pids {
                let _ = kill(*pid, Signal::SIGKILL);
            }
            if Instant::now() > deadline {
                return Err(CgroupError::Manager {
                    path: self.saved.path.clone(),
                    msg: format!("processes {pids:?} survive SIGKILL"),
                });
            }
            sleep(Duration::from_millis(1));
        }
        for d in dirs.0.values() {
            remove_tree(d, deadline)?;
        }
        self.remove_default_parent();
        Ok(())
    }

    /// The default cgroupsPath's parent (`/remora`) goes with the last
    /// container in it: rmdir fails, harmlessly, while others are there.
    fn remove_default_parent(&self) {
        if self.saved.systemd || self.saved.path != format!("/remora/{}", self.saved.id) {
            return;
        }
        for d in self.saved.dirs.values() {
            if let Some(parent) = d.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }

    /// For a cgroup the container shares with processes that were there
    /// before it (`Placement::occupied`): removes the directories no
    /// process is left in, and leaves the others and their processes (a
    /// runtime does not delete what it did not create). Returns the
    /// directories left.
    pub fn release(&self) -> Result<Vec<PathBuf>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut left = Vec::new();
        for d in self.dirs().0.values().filter(|d| d.exists()) {
            let busy = fsutil::read(d, "cgroup.procs").is_ok_and(|p| !p.trim().is_empty());
            if busy {
                left.push(d.clone());
            } else {
                remove_tree(d, deadline)?;
            }
        }
        Ok(left)
    }

    /// The `data` object of runc's `events` JSON.
    pub fn stats(&self) -> Result<stats::Stats> {
        stats::collect(&self.dirs())
    }

    /// How many processes of the cgroup the OOM killer has killed so far
    /// (`events` emits {"type":"oom"} when it grows).
    pub fn oom_kill_count(&self) -> Result<u64> {
        let dirs = self.dirs();
        if let (true, Some(d)) = (dirs.is_v2(), dirs.unified()) {
            return Ok(fsutil::keyed_value(d, "memory.events", "oom_kill").unwrap_or(0));
        }
        match dirs.v1("memory") {
            Some(d) => Ok(fsutil::keyed_value(d, "memory.oom_control", "oom_kill").unwrap_or(0)),
            None => Ok(0),
        }
    }
}

/// Enables every available controller for the children of `dir` (v2).
/// Best effort: a cgroup with processes of its own refuses (EBUSY), and a
/// resource needing a missing controller then fails with a clear error.
fn enable_controllers(dir: &Path) {
    let Ok(avail) = fsutil::read(dir, "cgroup.controllers") else {
        return;
    };
    let enabled = fsutil::read(dir, "cgroup.subtree_control").unwrap_or_default();
    for c in avail.split_whitespace() {
        if !enabled.split_whitespace().any(|e| e == c) {
            let _ = fsutil::write(dir, "cgroup.subtree_control", &format!("+{c}"), "");
        }
    }
}

/// The rules of a cgroup: a deny-all base, runc's default devices, then
/// resources.devices.
fn initial_device_rules(r: Option<&LinuxResources>) -> Vec<devices::Rule> {
    devices::effective_rules(r.and_then(|r| r.devices().as_deref()).unwrap_or(&[]))
}

/// Writes `r` and, when given, the device `rules` to the cgroup.
fn apply(dirs: &Dirs, r: &LinuxResources, rules: Option<Vec<devices::Rule>>) -> Result<()> {
    if dirs.is_v2() {
        let d = dirs.unified().unwrap_or(Path::new("/"));
        apply_v2::apply(d, r)?;
        if let Some(rules) = rules {
            devices_bpf::apply(d, &rules)?;
        }
    } else {
        apply_v1::apply(dirs, r)?;
        if let (Some(rules), Some(d)) = (rules, dirs.v1("devices")) {
            devices_v1::apply(d, &rules)?;
        }
    }
    Ok(())
}

/// Removes the directories a failed `prepare`/`make` created, deepest first.
fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// rmdir `dir` after its sub-cgroups; retries while dying tasks keep it busy.
fn remove_tree(dir: &Path, deadline: Instant) -> Result<()> {
    for child in fsutil::child_dirs(dir)? {
        remove_tree(&child, deadline)?;
    }
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(CgroupError::io(dir, e)),
        }
    }
}

/// cgroup v1 cpuset: a cgroup with an empty cpuset.cpus or cpuset.mems
/// takes no process (ENOSPC). Every one from the hierarchy's root down to
/// `leaf`, ours or not (a Kubernetes pod cgroup made by the kubelet is
/// often left empty), gets its parent's value when empty, as runc does.
fn fill_cpusets(leaf: &Path) -> Result<()> {
    let chain: Vec<&Path> = leaf
        .ancestors()
        .take_while(|a| a.join("cpuset.cpus").exists())
        .collect();
    for pair in chain.windows(2).rev() {
        let (dir, parent) = (pair[0], pair[1]);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if fsutil::read(dir, f)?.is_empty() {
                let v = fsutil::read(parent, f)?;
                fsutil::write(dir, f, &v, "linux.resources.cpu")?;
            }
        }
    }
    Ok(())
}
