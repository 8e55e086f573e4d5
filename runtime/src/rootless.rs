//! Rootless mode, as runc's: remora run by an unprivileged user.
//!
//! - `--rootless true|false|auto` (default auto) decides whether the
//!   cgroup manager is the rootless one ([`cgroups_rootless`]): auto is
//!   true when the effective uid is not 0, or when it is 0 inside a user
//!   namespace that does not map every id (runc's
//!   shouldUseRootlessCgroupManager; with --systemd-cgroup runc asks the
//!   user's bus for its owner, remora takes the namespace alone).
//! - An unprivileged caller ([`euid_rootless`]) writes the container's id
//!   maps itself when they map only its own ids, else through
//!   newuidmap/newgidmap ([`write_id_maps`]).
//! - [`subordinate_id_problems`]: the host ids of a config's maps that
//!   /etc/subuid and /etc/subgid do not give the caller (for `remora
//!   check` and for create's own early error).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Linux, LinuxIdMapping};
use remora_cgroups::Cgroup;

use crate::error::{Error, Result};

/// `--rootless VALUE`: Some(true|false), or None for auto.
pub fn parse_flag(value: Option<&str>) -> Result<Option<bool>> {
    match value {
        None | Some("auto") => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(other) => Err(Error::config(format!(
            "--rootless {other:?}: must be true, false or auto"
        ))),
    }
}

/// Whether the caller is unprivileged on the host (euid != 0).
pub fn euid_rootless() -> bool {
    !nix::unistd::geteuid().is_root()
}

/// Whether this process is in a user namespace that does not map the
/// whole id range (the initial namespace maps "0 0 4294967295"). Read
/// once per process: a forked init in the same namespace inherits it.
pub fn in_partial_user_namespace() -> bool {
    static PARTIAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PARTIAL.get_or_init(|| match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => !is_full_map(&map),
        Err(_) => false,
    })
}

fn is_full_map(map: &str) -> bool {
    let lines: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| !f.is_empty())
        .collect();
    matches!(lines.as_slice(), [f] if f.as_slice() == ["0", "0", "4294967295"])
}

/// Whether the rootless cgroup manager is used: `--rootless` as given,
/// else auto-detected.
pub fn cgroups_rootless(flag: Option<&str>) -> Result<bool> {
    Ok(match parse_flag(flag)? {
        Some(b) => b,
        None => euid_rootless() || in_partial_user_namespace(),
    })
}

/// The state root without --root: $XDG_RUNTIME_DIR/remora when runc
/// would honour $XDG_RUNTIME_DIR (an unprivileged caller; or uid 0 in a
/// user namespace without full maps, as rootless podman runs its
/// runtime, unless $USER is root), else /run/user/UID/remora for an
/// unprivileged caller when that directory exists, else /run/remora.
pub fn default_state_root() -> PathBuf {
    let xdg = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty());
    let honour_xdg = if euid_rootless() {
        true
    } else {
        in_partial_user_namespace() && std::env::var("USER").map_or(true, |u| u != "root")
    };
    if let (true, Some(d)) = (honour_xdg, &xdg) {
        return PathBuf::from(d).join("remora");
    }
    if euid_rootless() {
        let user_dir = PathBuf::from(format!("/run/user/{}", nix::unistd::geteuid()));
        if user_dir.is_dir() {
            return user_dir.join("remora");
        }
    }
    PathBuf::from("/run/remora")
}

/// The container's cgroup: the rootless manager's (only where the caller
/// may make one; its warnings logged) or the usual one.
pub fn cgroup(g: &crate::lifecycle::Global, linux: &Linux, id: &str) -> Result<Cgroup> {
    let path = linux.cgroups_path().as_ref().and_then(|p| p.to_str());
    if !g.rootless {
        return Ok(Cgroup::new(path, id, g.systemd_cgroup)?);
    }
    let r = Cgroup::new_rootless(path, id, g.systemd_cgroup, linux.resources().as_ref())?;
    for w in &r.warnings {
        crate::logging::warn(w);
    }
    Ok(r.cgroup)
}

/// Writes the maps of the new user namespace of `pid`: as root directly,
/// as an unprivileged user directly (own ids alone, setgroups denied) or
/// through newuidmap/newgidmap.
pub fn write_id_maps(pid: i32, uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> Result<()> {
    if !euid_rootless() {
        return Ok(remora_namespaces::write_id_maps(pid, uid, gid, false)?);
    }
    let (euid, egid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    Ok(remora_namespaces::idmap_helpers::write_id_maps_unprivileged(pid, uid, gid, euid, egid)?)
}

/// For an unprivileged caller: every mapping of `linux` whose host ids
/// are neither the caller's own id alone nor in its /etc/subuid or
/// /etc/subgid ranges, one line each ("linux.uidMappings[0] host ids
/// 100000-165535 are not in /etc/subuid for user bob (uid 1001)"). Empty
/// for root, and for a config without maps. `remora check` reports these
/// as "a rootless config without subordinate ids".
pub fn subordinate_id_problems(linux: &Linux) -> Vec<String> {
    if !euid_rootless() {
        return Vec::new();
    }
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let name = user_name(uid).unwrap_or_else(|| uid.to_string());
    subordinate_id_problems_in(
        linux,
        &name,
        (uid, gid),
        Path::new("/etc/subuid"),
        Path::new("/etc/subgid"),
    )
}

/// The login name of `uid` from /etc/passwd (read directly: the binary
/// is static, without NSS).
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id = f.nth(1)?;
        (id == uid.to_string()).then(|| name.to_string())
    })
}

/// [`subordinate_id_problems`] for user `name` with `ids` (uid, gid),
/// reading the given subuid/subgid files.
pub fn subordinate_id_problems_in(
    linux: &Linux,
    name: &str,
    ids: (u32, u32),
    subuid: &Path,
    subgid: &Path,
) -> Vec<String> {
    use remora_namespaces::idmap_helpers::{subordinate_ranges, uncovered};
    let mut out = Vec::new();
    for (field, maps, own, file) in [
        (
            "linux.uidMappings",
            linux.uid_mappings().as_deref().unwrap_or(&[]),
            ids.0,
            subuid,
        ),
        (
            "linux.gidMappings",
            linux.gid_mappings().as_deref().unwrap_or(&[]),
            ids.1,
            subgid,
        ),
    ] {
        let ranges = subordinate_ranges(file, name, own);
        for m in uncovered(field, maps, own, &ranges) {
            out.push(format!(
                "{m} are not in {} for user {name} (id {own})",
                file.display()
            ));
        }
    }
    out
}

/// Create's check for an unprivileged caller: a user namespace of its own
/// (runc: "rootless container requires user namespaces"), and maps it
/// may write.
pub fn check_config(linux: &Linux, new_userns: bool) -> Result<()> {
    if !euid_rootless() {
        return Ok(());
    }
    if !new_userns {
        return Err(Error::config(
            "linux.namespaces: a rootless container (remora run by a user other than root) needs a new user namespace",
        ));
    }
    let problems = subordinate_id_problems(linux);
    if !problems.is_empty() {
        return Err(Error::config(format!(
            "{} (rootless: a map other than your own id needs subordinate ids, see subuid(5))",
            problems.join("; ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values() {
        assert_eq!(parse_flag(None).unwrap(), None);
        assert_eq!(parse_flag(Some("auto")).unwrap(), None);
        assert_eq!(parse_flag(Some("true")).unwrap(), Some(true));
        assert_eq!(parse_flag(Some("false")).unwrap(), Some(false));
        let e = parse_flag(Some("maybe")).unwrap_err().to_string();
        assert!(e.contains("--rootless \"maybe\""), "{e}");
    }

    #[test]
    fn full_map_is_the_initial_namespace() {
        assert!(is_full_map("         0          0 4294967295\n"));
        assert!(!is_full_map("         0       1000          1\n"));
        assert!(!is_full_map("0 0 4294967295\n1 1 1\n"));
    }

    #[test]
    fn problems_name_the_file_and_user() {
        let dir = std::env::temp_dir().join(format!("remora-subid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (su, sg) = (dir.join("subuid"), dir.join("subgid"));
        std::fs::write(&su, "bob:100000:65536\n").unwrap();
        std::fs::write(&sg, "").unwrap();
        let linux: Linux = serde_json::from_value(serde_json::json!({
            "uidMappings": [{"containerID": 0, "hostID": 1001, "size": 1},
                            {"containerID": 1, "hostID": 100000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 1},
                            {"containerID": 1, "hostID": 100000, "size": 65536}]
        }))
        .unwrap();
        let p = subordinate_id_problems_in(&linux, "bob", (1001, 1001), &su, &sg);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("linux.gidMappings[1] host ids 100000-165535 are not in"));
        assert!(p[0].ends_with("subgid for user bob (id 1001)"), "{p:?}");
    }
}
