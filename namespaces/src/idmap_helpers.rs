//! Id maps written by an unprivileged caller (rootless mode), as runc
//! does: a map of the caller's own id alone (one line, size 1) is written
//! directly (the gid map after "deny" in /proc/PID/setgroups, which the
//! kernel requires); any other map goes through the setuid helpers
//! newuidmap/newgidmap (Debian's uidmap package), which check the host
//! ids against /etc/subuid and /etc/subgid.
//!
//! Also: which host ids of a config's maps the caller may not map
//! ([`uncovered`]), for a check before anything is made.

use std::path::{Path, PathBuf};
use std::process::Command;

use oci_spec::runtime::LinuxIdMapping;

use crate::idmap::{format_map, IdMapError};

/// Whether `maps` is the caller's own id alone (`own` on the host).
pub fn is_own_id_only(maps: &[LinuxIdMapping], own: u32) -> bool {
    matches!(maps, [m] if m.size() == 1 && m.host_id() == own)
}

/// Writes the maps of `pid`'s new user namespace for a caller whose
/// effective ids are `euid`/`egid` (not root on the host).
pub fn write_id_maps_unprivileged(
    pid: i32,
    uid_maps: &[LinuxIdMapping],
    gid_maps: &[LinuxIdMapping],
    euid: u32,
    egid: u32,
) -> Result<(), IdMapError> {
    crate::idmap::require_both(uid_maps, gid_maps)?;
    if is_own_id_only(uid_maps, euid) {
        write_direct(pid, "uid_map", "uidMappings", &format_map(uid_maps))?;
    } else {
        run_helper("newuidmap", "uidMappings", pid, uid_maps)?;
    }
    if is_own_id_only(gid_maps, egid) {
        write_direct(pid, "setgroups", "gidMappings", "deny")?;
        write_direct(pid, "gid_map", "gidMappings", &format_map(gid_maps))?;
    } else {
        run_helper("newgidmap", "gidMappings", pid, gid_maps)?;
    }
    Ok(())
}

fn write_direct(
    pid: i32,
    file: &str,
    field: &'static str,
    content: &str,
) -> Result<(), IdMapError> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    std::fs::write(&path, content).map_err(|source| IdMapError::Write {
        field,
        path,
        source,
    })
}

/// `newuidmap PID inside outside count ...` (or newgidmap).
fn run_helper(
    helper: &'static str,
    field: &'static str,
    pid: i32,
    maps: &[LinuxIdMapping],
) -> Result<(), IdMapError> {
    let mut args = vec![pid.to_string()];
    for m in maps {
        args.extend([
            m.container_id().to_string(),
            m.host_id().to_string(),
            m.size().to_string(),
        ]);
    }
    let out = Command::new(helper)
        .args(&args)
        .output()
        .map_err(|e| IdMapError::Helper {
            field,
            command: format!("{helper} {}", args.join(" ")),
            msg: if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{helper} not found: a map other than the caller's own id needs it (Debian: apt-get install uidmap)"
                )
            } else {
                e.to_string()
            },
        })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(IdMapError::Helper {
        field,
        command: format!("{helper} {}", args.join(" ")),
        msg: format!(
            "{}: {}",
            out.status,
            stderr.trim().lines().last().unwrap_or("(no output)")
        ),
    })
}

/// A subordinate id range of /etc/subuid or /etc/subgid: (first, count).
pub type Range = (u64, u64);

/// The ranges `file` (/etc/subuid, /etc/subgid: "name-or-id:first:count"
/// lines) gives the user `name` with id `id`.
pub fn subordinate_ranges(file: &Path, name: &str, id: u32) -> Vec<Range> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    parse_subordinate(&text, name, id)
}

pub fn parse_subordinate(text: &str, name: &str, id: u32) -> Vec<Range> {
    let id = id.to_string();
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, first, count) = (f.next()?, f.next()?, f.next()?);
            if who != name && who != id {
                return None;
            }
            Some((first.parse().ok()?, count.parse().ok()?))
        })
        .collect()
}

/// The mappings of `maps` whose host ids are neither the caller's own id
/// `own` (a one-id mapping of it) nor inside `ranges`: one description
/// each, naming `field` and the index ("linux.uidMappings[1] host ids
/// 200000-265535").
pub fn uncovered(field: &str, maps: &[LinuxIdMapping], own: u32, ranges: &[Range]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, m) in maps.iter().enumerate() {
        let (first, size) = (u64::from(m.host_id()), u64::from(m.size()));
        if size == 1 && m.host_id() == own {
            continue;
        }
        let inside = |(rf, rc): &Range| first >= *rf && first + size <= rf + rc;
        if size == 0 || !ranges.iter().any(inside) {
            out.push(format!(
                "{field}[{i}] host ids {first}-{}",
                (first + size).saturating_sub(1)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxIdMappingBuilder;

    fn map(c: u32, h: u32, s: u32) -> LinuxIdMapping {
        LinuxIdMappingBuilder::default()
            .container_id(c)
            .host_id(h)
            .size(s)
            .build()
            .unwrap()
    }

    #[test]
    fn own_id_alone_is_written_directly() {
        assert!(is_own_id_only(&[map(0, 1001, 1)], 1001));
        assert!(!is_own_id_only(&[map(0, 1001, 2)], 1001));
        assert!(!is_own_id_only(&[map(0, 1000, 1)], 1001));
        assert!(!is_own_id_only(
            &[map(0, 1001, 1), map(1, 100000, 65536)],
            1001
        ));
    }

    #[test]
    fn subordinate_lines_by_name_or_id() {
        let text = "alice:100000:65536\nbob:165536:65536\n1001:300000:10\nbad line\n";
        assert_eq!(
            parse_subordinate(text, "bob", 1001),
            vec![(165536, 65536), (300000, 10)]
        );
        assert!(parse_subordinate(text, "carol", 7).is_empty());
    }

    #[test]
    fn uncovered_names_the_mapping() {
        let ranges = [(100000, 65536)];
        let maps = [
            map(0, 1001, 1),
            map(1, 100000, 65536),
            map(70000, 170000, 5),
        ];
        assert_eq!(
            uncovered("linux.uidMappings", &maps, 1001, &ranges),
            vec!["linux.uidMappings[2] host ids 170000-170004".to_string()]
        );
        assert_eq!(
            uncovered("linux.gidMappings", &[map(0, 0, 1)], 1001, &[]),
            vec!["linux.gidMappings[0] host ids 0-0".to_string()]
        );
    }
}
