//! linux.netDevices: host network devices moved into the container's
//! network namespace under their configured names (during create, once
//! the init's namespaces exist, before the createRuntime hooks and before
//! Ready), and moved back under their host names on delete while the
//! namespace still exists.
//!
//! Once the container's network namespace is gone (its init exited and
//! nothing pins it), the kernel has already dealt with the devices:
//! virtual ones (veth, dummy) are destroyed, physical ones return to the
//! initial namespace under a "devN" name.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Linux, LinuxNamespaceType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::sys::netlink::{route_in, Route, IFNAME_MAX};

/// The record of the moved devices in the container's state directory.
pub const RECORD_FILE: &str = "net-devices.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    /// The name on the host (the netDevices key).
    pub host: String,
    /// The name in the container.
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    pub devices: Vec<Moved>,
    /// linux.namespaces' network path, when the container joined one.
    pub netns_path: Option<PathBuf>,
}

fn check_ifname(what: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > IFNAME_MAX
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0')
    {
        return Err(Error::config(format!(
            "linux.netDevices {what} {name:?}: not a valid network device name (1 to {IFNAME_MAX} bytes, no '/', ':' or white space)"
        )));
    }
    Ok(())
}

/// The devices to move: (host name, name in the container), sorted.
pub fn requested(linux: &Linux) -> Vec<Moved> {
    let mut v: Vec<Moved> = linux
        .net_devices()
        .iter()
        .flatten()
        .map(|(host, d)| Moved {
            host: host.clone(),
            name: d
                .name()
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| host.clone()),
        })
        .collect();
    v.sort_by(|a, b| a.host.cmp(&b.host));
    v
}

fn same_netns_as_ours(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(path),
        std::fs::metadata("/proc/self/ns/net"),
    ) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Checked before anything is created: valid names, no two devices with
/// the same name in the container, and a network namespace that is not
/// the runtime's own.
pub fn check(linux: &Linux) -> Result<()> {
    let devices = requested(linux);
    if devices.is_empty() {
        return Ok(());
    }
    let netns = linux
        .namespaces()
        .iter()
        .flatten()
        .find(|n| n.typ() == LinuxNamespaceType::Network);
    match netns {
        None => {
            return Err(Error::config(
                "linux.netDevices: the container has no network namespace of its own (add a \"network\" entry to linux.namespaces)",
            ))
        }
        Some(ns) => {
            if let Some(p) = ns.path() {
                if same_netns_as_ours(p) {
                    return Err(Error::config(format!(
                        "linux.netDevices: the network namespace {} is the host's: devices cannot be moved into it",
                        p.display()
                    )));
                }
            }
        }
    }
    let mut names = std::collections::HashSet::new();
    for d in &devices {
        check_ifname("key", &d.host)?;
        check_ifname(&format!("{:?}.name", d.host), &d.name)?;
        if !names.insert(d.name.clone()) {
            return Err(Error::config(format!(
                "linux.netDevices {:?}: name {:?} is given to two devices",
                d.host, d.name
            )));
        }
    }
    Ok(())
}

fn open_netns(path: &Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?
        .into())
}

fn save(state_dir: &Path, record: &Record) -> Result<()> {
    let path = state_dir.join(RECORD_FILE);
    std::fs::write(&path, serde_json::to_vec(record).expect("serialisable"))
        .ctx(|| format!("writing {}", path.display()))
}

/// Moves every device into the network namespace of `pid`; records each
/// one moved in `state_dir` as it goes (so a failure part way can be
/// undone by [`move_back`]).
pub fn move_in(linux: &Linux, pid: i32, state_dir: &Path) -> Result<()> {
    let devices = requested(linux);
    if devices.is_empty() {
        return Ok(());
    }
    let ns_path = PathBuf::from(format!("/proc/{pid}/ns/net"));
    let ns = open_netns(&ns_path).ctx(|| {
        format!(
            "linux.netDevices: opening the container's network namespace {}",
            ns_path.display()
        )
    })?;
    let host = Route::open().ctx(|| "linux.netDevices: opening an rtnetlink socket".into())?;
    let mut record = Record {
        devices: Vec::new(),
        netns_path: linux
            .namespaces()
            .iter()
            .flatten()
            .find(|n| n.typ() == LinuxNamespaceType::Network)
            .and_then(|n| n.path().clone()),
    };
    // A device that cannot be moved fails create: those moved already go
    // back at once, while this fd keeps the namespace alive (the init
    // may exit as soon as it hears of the failure).
    let mut moved: Vec<Moved> = Vec::new();
    let undo = |moved: &[Moved], e: Error| {
        for f in move_back_from(ns.as_fd(), moved) {
            crate::logging::warn(&f);
        }
        let _ = std::fs::remove_file(state_dir.join(RECORD_FILE));
        e
    };
    for d in devices {
        let moved_in = host
            .link_index(&d.host)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ENODEV) {
                    Error::config(format!(
                        "linux.netDevices {:?}: no such network device on the host",
                        d.host
                    ))
                } else {
                    Error::io(format!("linux.netDevices {:?}: looking it up", d.host), e)
                }
            })
            .and_then(|index| {
                host.move_link(index, ns.as_fd(), &d.name).map_err(|e| {
                    Error::io(
                        format!(
                            "linux.netDevices {:?}: moving it into the container's network namespace as {:?}",
                            d.host, d.name
                        ),
                        e,
                    )
                })
            });
        if let Err(e) = moved_in {
            return Err(undo(&moved, e));
        }
        moved.push(d.clone());
        record.devices.push(d);
        if let Err(e) = save(state_dir, &record) {
            return Err(undo(&moved, e));
        }
    }
    Ok(())
}

/// Moves the recorded devices back into the runtime's network namespace
/// under their host names, from the namespace of `pid` (or the joined
/// namespace's path). Returns what failed; nothing to do without a record.
pub fn move_back(state_dir: &Path, pid: Option<i32>) -> Vec<String> {
    let Ok(data) = std::fs::read(state_dir.join(RECORD_FILE)) else {
        return Vec::new();
    };
    let Ok(record) = serde_json::from_slice::<Record>(&data) else {
        return vec![format!("{}: unreadable", RECORD_FILE)];
    };
    let ns_path = match (&record.netns_path, pid) {
        (Some(p), _) => p.clone(),
        (None, Some(pid)) => PathBuf::from(format!("/proc/{pid}/ns/net")),
        (None, None) => return Vec::new(),
    };
    let failed = match open_netns(&ns_path) {
        Ok(ns) => move_back_from(ns.as_fd(), &record.devices),
        Err(e) => vec![format!(
            "linux.netDevices: the container's network namespace {}: {e}",
            ns_path.display()
        )],
    };
    let _ = std::fs::remove_file(state_dir.join(RECORD_FILE));
    failed
}

/// Moves `devices` from the network namespace `ns` back into the
/// runtime's under their host names; returns what failed.
fn move_back_from(ns: std::os::fd::BorrowedFd<'_>, devices: &[Moved]) -> Vec<String> {
    let mut failed = Vec::new();
    let moved_back = (|| -> std::io::Result<()> {
        let host_ns = open_netns(Path::new("/proc/self/ns/net"))?;
        let route = route_in(ns)?;
        for d in devices {
            let r = route
                .link_index(&d.name)
                .and_then(|i| route.move_link(i, host_ns.as_fd(), &d.host));
            if let Err(e) = r {
                failed.push(format!(
                    "linux.netDevices {:?}: moving {:?} back to the host: {e}",
                    d.host, d.name
                ));
            }
        }
        Ok(())
    })();
    if let Err(e) = moved_back {
        failed.push(format!("linux.netDevices: moving the devices back: {e}"));
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(v: serde_json::Value) -> Linux {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn needs_own_network_namespace() {
        let l = linux(serde_json::json!({"netDevices": {"dummy0": {"name": "ctr0"}}}));
        let e = check(&l).unwrap_err().to_string();
        assert!(
            e.contains("linux.netDevices") && e.contains("network namespace"),
            "{e}"
        );
        let l = linux(serde_json::json!({
            "netDevices": {"dummy0": {"name": "ctr0"}},
            "namespaces": [{"type": "network", "path": "/proc/self/ns/net"}]
        }));
        let e = check(&l).unwrap_err().to_string();
        assert!(e.contains("is the host's"), "{e}");
        let l = linux(serde_json::json!({
            "netDevices": {"dummy0": {"name": "ctr0"}, "dummy1": {}},
            "namespaces": [{"type": "network"}]
        }));
        check(&l).unwrap();
        assert_eq!(
            requested(&l),
            [
                Moved {
                    host: "dummy0".into(),
                    name: "ctr0".into()
                },
                Moved {
                    host: "dummy1".into(),
                    name: "dummy1".into()
                }
            ]
        );
    }

    #[test]
    fn names_are_checked() {
        for bad in [
            serde_json::json!({"a/b": {}}),
            serde_json::json!({"d0": {"name": "much-too-long-name"}}),
            serde_json::json!({"d0": {"name": "x"}, "d1": {"name": "x"}}),
        ] {
            let l = linux(serde_json::json!({
                "netDevices": bad,
                "namespaces": [{"type": "network"}]
            }));
            let e = check(&l).unwrap_err().to_string();
            assert!(e.starts_with("linux.netDevices"), "{e}");
        }
    }
}
