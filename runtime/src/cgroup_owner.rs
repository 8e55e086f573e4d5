//! Cgroup ownership (runtime-spec config-linux.md, "Cgroup ownership"):
//! decides whether the container's cgroup goes to its user, and to which
//! host ids. Only when every condition of the spec holds: cgroup v2, a
//! new user namespace and a new cgroup namespace, and a cgroupfs mount
//! that is not read-only (runc's rule too). The owner is the host id of
//! process.user (uid and gid, through linux.uidMappings/gidMappings).

use oci_spec::runtime::LinuxIdMapping;
use remora_cgroups::{Cgroup, Layout};
use remora_namespaces::NamespaceKind;

use crate::config::Config;
use crate::error::Result;

/// The host (uid, gid) the cgroup goes to, if it goes to anyone.
pub fn owner(config: &Config, layout: Layout) -> Option<(u32, u32)> {
    let plan = &config.namespaces;
    if layout != Layout::V2
        || !plan.is_new(NamespaceKind::User)
        || !plan.is_new(NamespaceKind::Cgroup)
    {
        return None;
    }
    let writable_cgroupfs = config.mounts.iter().any(|m| {
        m.typ() == "cgroup"
            && !m
                .mount
                .options()
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|o| o == "ro")
    });
    if !writable_cgroupfs {
        return None;
    }
    let linux = &config.linux;
    let user = config.process.user();
    let uid = to_host(linux.uid_mappings().as_deref()?, user.uid())?;
    let gid = to_host(linux.gid_mappings().as_deref()?, user.gid())?;
    Some((uid, gid))
}

fn to_host(maps: &[LinuxIdMapping], id: u32) -> Option<u32> {
    maps.iter().find_map(|m| {
        let off = id.checked_sub(m.container_id())?;
        (off < m.size()).then(|| m.host_id() + off)
    })
}

/// Gives the cgroup to the container's user when [`owner`] says so.
pub fn apply(cgroup: &Cgroup, config: &Config) -> Result<()> {
    match owner(config, remora_cgroups::layout()) {
        Some((uid, gid)) => Ok(cgroup.delegate_to(uid, gid)?),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(cgroup_opts: serde_json::Value, ns: serde_json::Value) -> Config {
        let s: oci_spec::runtime::Spec = serde_json::from_value(json!({
            "ociVersion": "1.2.0",
            "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 1000, "gid": 5}},
            "root": {"path": "rootfs"},
            "mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                        "options": cgroup_opts}],
            "linux": {"namespaces": ns,
                "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}
        }))
        .unwrap();
        Config::build(s, "/b".into(), "/b/rootfs".into()).unwrap()
    }

    #[test]
    fn only_when_every_condition_holds() {
        let both = json!([{"type": "user"}, {"type": "cgroup"}, {"type": "mount"}]);
        let c = spec(json!(["nosuid", "rw"]), both.clone());
        assert_eq!(owner(&c, Layout::V2), Some((101000, 200005)));
        assert_eq!(owner(&c, Layout::Hybrid), None);
        let c = spec(json!(["nosuid", "ro"]), both);
        assert_eq!(owner(&c, Layout::V2), None);
        let c = spec(json!(["rw"]), json!([{"type": "user"}, {"type": "mount"}]));
        assert_eq!(owner(&c, Layout::V2), None);
    }
}
