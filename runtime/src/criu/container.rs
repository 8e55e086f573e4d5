//! What runc tells CRIU about a container, for checkpoint and restore
//! alike: the image and work directories, the bind mounts and masked
//! files that are external to the container (CRIU cannot dump what is
//! outside it), the joined namespaces to keep, the cgroup mode, the stdio
//! descriptors (descriptors.json, runc's file).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::rpc::{cg_mode, ExtMountMap};
use crate::cli_criu::CriuFlags;
use crate::error::{Error, IoContext, Result};

/// runc's name for the stdio record in the image directory.
pub const DESCRIPTORS: &str = "descriptors.json";

/// The image and work directories, open (their fds go to CRIU).
pub struct Dirs {
    pub image: PathBuf,
    pub image_fd: OwnedFd,
    pub work: PathBuf,
    pub work_fd: OwnedFd,
}

impl Dirs {
    /// --image-path (default ./checkpoint) and --work-path (default the
    /// image path): the work path is made when missing (as runc), the
    /// image path too when `create` (checkpoint; restore reads it).
    pub fn open(flags: &CriuFlags, create: bool) -> Result<Dirs> {
        let image = std::path::absolute(
            flags
                .image_path
                .clone()
                .unwrap_or_else(|| PathBuf::from("checkpoint")),
        )
        .ctx(|| "--image-path".into())?;
        let work = match &flags.work_path {
            Some(w) => std::path::absolute(w).ctx(|| "--work-path".into())?,
            None => image.clone(),
        };
        let open = |p: &Path, flag: &str, create: bool| -> Result<OwnedFd> {
            if create {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(p)
                    .ctx(|| format!("{flag} {}: creating it", p.display()))?;
            }
            open_dir(p).ctx(|| format!("{flag} {}", p.display()))
        };
        Ok(Dirs {
            image_fd: open(&image, "--image-path", create)?,
            work_fd: open(&work, "--work-path", true)?,
            image,
            work,
        })
    }
}

pub fn open_dir(p: &Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(p)?
        .into())
}

/// --manage-cgroups-mode: CRIU's mode number (None: CRIU's default, soft).
pub fn cgroups_mode(flag: Option<&str>) -> Result<Option<i32>> {
    Ok(match flag {
        None | Some("") => None,
        Some("soft") => Some(cg_mode::SOFT),
        Some("full") => Some(cg_mode::FULL),
        Some("strict") => Some(cg_mode::STRICT),
        Some("ignore") => Some(cg_mode::IGNORE),
        Some(other) => {
            return Err(Error::config(format!(
                "--manage-cgroups-mode {other:?}: invalid (soft, full, strict or ignore)"
            )))
        }
    })
}

/// --empty-ns: the namespace flags; only "network" (CRIU takes no other).
pub fn empty_ns(flag: Option<&str>) -> Result<Option<u32>> {
    match flag {
        None | Some("") => Ok(None),
        Some("network") => Ok(Some(libc::CLONE_NEWNET as u32)),
        Some(other) => Err(Error::config(format!(
            "--empty-ns {other:?}: namespace not supported (only network)"
        ))),
    }
}

/// CRIU's key for a namespace kept from outside (runc's criuNsToKey).
pub fn ns_key(kind: LinuxNamespaceType) -> &'static str {
    match kind {
        LinuxNamespaceType::Network => "extRootNetNS",
        _ => "extRootPidNS",
    }
}

fn ns_name(kind: LinuxNamespaceType) -> &'static str {
    match kind {
        LinuxNamespaceType::Network => "net",
        _ => "pid",
    }
}

/// The namespaces the container joined by path that CRIU keeps as they
/// are (runc: network and pid): (kind, path).
pub fn joined_namespaces(spec: &Spec) -> Vec<(LinuxNamespaceType, PathBuf)> {
    let nss = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    nss.iter()
        .filter(|n| {
            matches!(
                n.typ(),
                LinuxNamespaceType::Network | LinuxNamespaceType::Pid
            )
        })
        .filter_map(|n| n.path().clone().map(|p| (n.typ(), p)))
        .collect()
}

/// A joined namespace's file, for CRIU to put the restored tasks in.
pub fn open_ns(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Dump: `net[INODE]:extRootNetNS` for each joined namespace (its inode
/// now), so CRIU leaves it out of the images.
pub fn dump_externals(spec: &Spec) -> Result<Vec<String>> {
    use std::os::unix::fs::MetadataExt;
    joined_namespaces(spec)
        .into_iter()
        .map(|(kind, path)| {
            let ino = std::fs::metadata(&path)
                .map_err(|e| Error::io(path.display().to_string(), e))?
                .ino();
            Ok(format!("{}[{ino}]:{}", ns_name(kind), ns_key(kind)))
        })
        .collect()
}

/// The spec's mounts that are binds, and their destinations.
fn bind_mounts(spec: &Spec) -> impl Iterator<Item = &oci_spec::runtime::Mount> {
    spec.mounts()
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(|m| crate::rootfs::mounts::is_bind(m))
}

/// The device paths of the container (linux.devices and runc's default
/// set): bind mounts of the host's nodes in a user namespace.
fn device_paths(spec: &Spec) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = crate::rootfs::devices::default_devices()
        .iter()
        .map(|d| d.path().clone())
        .collect();
    if let Some(ds) = spec.linux().as_ref().and_then(|l| l.devices().clone()) {
        v.extend(ds.iter().map(|d| d.path().clone()));
    }
    v
}

/// Dump: the external mounts (runc's): every bind mount, keyed and named
/// by its destination; every masked path that is a file (a bind of
/// /dev/null), named /dev/null; device nodes that are bind mounts.
/// `pid` is the init's (to look at its root and mounts).
pub fn dump_mounts(spec: &Spec, pid: i32) -> Vec<ExtMountMap> {
    let mut v: Vec<ExtMountMap> = bind_mounts(spec)
        .map(|m| {
            let d = m.destination().display().to_string();
            ExtMountMap {
                key: d.clone(),
                val: d,
            }
        })
        .collect();
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let masked = spec
        .linux()
        .as_ref()
        .and_then(|l| l.masked_paths().clone())
        .unwrap_or_default();
    for p in masked {
        let inside = root.join(p.trim_start_matches('/'));
        match std::fs::metadata(&inside) {
            Ok(m) if !m.is_dir() => v.push(ExtMountMap {
                key: p.clone(),
                val: "/dev/null".into(),
            }),
            _ => {}
        }
    }
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    let entries = crate::rootfs::mountinfo::parse(&mountinfo);
    // remora's cgroup v2 mount is the container's own cgroup (a bind, or
    // a cgroup2 mount in its cgroup namespace): seen from CRIU its root is
    // that cgroup, which CRIU cannot make; restore binds the restored
    // container's cgroup there (restore_mounts).
    for e in &entries {
        if e.fstype == "cgroup2" && e.root != Path::new("/") {
            let s = e.mount_point.display().to_string();
            v.push(ExtMountMap {
                key: s.clone(),
                val: s,
            });
        }
    }
    let points: Vec<PathBuf> = entries.into_iter().map(|e| e.mount_point).collect();
    for d in device_paths(spec) {
        if points.contains(&d) && !v.iter().any(|e| Path::new(&e.key) == d) {
            let s = d.display().to_string();
            v.push(ExtMountMap {
                key: s.clone(),
                val: s,
            });
        }
    }
    v
}

/// Restore: what each external mount's name stands for on this host
/// (runc's): every bind mount's destination to its source (one under a
/// tmpfs of the container too: CRIU restores the tmpfs's files, not the
/// mounts on it, and finds no mapping otherwise: podman's /dev/shm under
/// /dev), /dev/null to the host's, each device path to the host's node.
/// `cgroup2_dir` is the restored container's cgroup on a pure v2 host:
/// the cgroup mount's name stands for it.
pub fn restore_mounts(spec: &Spec, bundle: &Path, cgroup2_dir: Option<&Path>) -> Vec<ExtMountMap> {
    let mounts = spec.mounts().as_deref().unwrap_or(&[]);
    let mut v: Vec<ExtMountMap> = bind_mounts(spec)
        .map(|m| {
            let src = m.source().clone().unwrap_or_default();
            let src = if src.is_relative() {
                bundle.join(src)
            } else {
                src
            };
            ExtMountMap {
                key: m.destination().display().to_string(),
                val: src.display().to_string(),
            }
        })
        .collect();
    if let Some(dir) = cgroup2_dir {
        for m in mounts
            .iter()
            .filter(|m| m.typ().as_deref() == Some("cgroup"))
        {
            v.push(ExtMountMap {
                key: m.destination().display().to_string(),
                val: dir.display().to_string(),
            });
        }
    }
    let has_masked = spec
        .linux()
        .as_ref()
        .and_then(|l| l.masked_paths().as_ref())
        .is_some_and(|m| !m.is_empty());
    if has_masked {
        v.push(ExtMountMap {
            key: "/dev/null".into(),
            val: "/dev/null".into(),
        });
    }
    for d in device_paths(spec) {
        let s = d.display().to_string();
        if !v.iter().any(|e| e.key == s) {
            v.push(ExtMountMap {
                key: s.clone(),
                val: s,
            });
        }
    }
    v
}

/// Checkpoint: what the init's stdio are (runc's descriptors.json: the
/// /proc/PID/fd/{0,1,2} link targets), for restore to reconnect pipes.
pub fn save_descriptors(image: &Path, pid: i32) -> Result<()> {
    let fds: Vec<String> = (0..3)
        .map(|n| {
            std::fs::read_link(format!("/proc/{pid}/fd/{n}"))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/dev/null".into())
        })
        .collect();
    let path = image.join(DESCRIPTORS);
    std::fs::write(&path, serde_json::to_vec(&fds).expect("json"))
        .ctx(|| format!("writing {}", path.display()))
}

/// Restore: the pipes of the checkpointed stdio, each to be this
/// process's fd of the same number (inherit_fd "pipe:[INODE]" -> N).
pub fn load_descriptors(image: &Path) -> Result<Vec<(String, i32)>> {
    let path = image.join(DESCRIPTORS);
    let data = std::fs::read(&path).ctx(|| format!("reading {}", path.display()))?;
    let fds: Vec<String> = serde_json::from_slice(&data)
        .map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
    Ok(fds
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s.contains("pipe:"))
        .filter_map(|(i, s)| Some((s, i32::try_from(i).ok()?)))
        .collect())
}

/// The cgroup CRIU freezes the container with: the unified directory on
/// pure v2, else the freezer's.
pub fn freeze_cgroup(saved: &remora_cgroups::SavedCgroup) -> Option<String> {
    let d = &saved.dirs;
    let unified_only = d.len() == 1 && d.contains_key("unified");
    let dir = if unified_only {
        d.get("unified")
    } else {
        d.iter()
            .find(|(k, _)| k.split(',').any(|c| c == "freezer"))
            .map(|(_, p)| p)
    };
    dir.map(|p| p.display().to_string())
}

/// The container's cgroup directory on a pure cgroup v2 host.
pub fn unified_only(saved: &remora_cgroups::SavedCgroup) -> Option<PathBuf> {
    let d = &saved.dirs;
    (d.len() == 1).then(|| d.get("unified").cloned()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_as_runc_s() {
        assert_eq!(cgroups_mode(Some("full")).unwrap(), Some(cg_mode::FULL));
        assert_eq!(cgroups_mode(None).unwrap(), None);
        assert!(cgroups_mode(Some("hard"))
            .unwrap_err()
            .to_string()
            .contains("--manage-cgroups-mode \"hard\""));
        assert_eq!(
            empty_ns(Some("network")).unwrap(),
            Some(libc::CLONE_NEWNET as u32)
        );
        assert!(empty_ns(Some("pid")).is_err());
    }

    #[test]
    fn binds_and_masked_files_are_external() {
        let spec: Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "mounts": [
                {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]},
                {"destination": "/run", "type": "tmpfs", "source": "tmpfs"},
                {"destination": "/run/x", "source": "x", "options": ["bind"]},
                {"destination": "/proc", "type": "proc", "source": "proc"}
            ],
            "linux": {"maskedPaths": ["/proc/kcore"]}
        }))
        .unwrap();
        let r = restore_mounts(&spec, Path::new("/b"), None);
        let pairs: Vec<(&str, &str)> = r.iter().map(|e| (&*e.key, &*e.val)).collect();
        // Under the container's tmpfs too: a mount of its own.
        assert_eq!(
            pairs[..3],
            [
                ("/data", "/srv/data"),
                ("/run/x", "/b/x"),
                ("/dev/null", "/dev/null")
            ]
        );
        assert!(pairs.contains(&("/dev/zero", "/dev/zero")));
    }
}
