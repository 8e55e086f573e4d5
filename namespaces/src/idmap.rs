//! uid_map / gid_map of a new user namespace, written by the parent.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use oci_spec::runtime::LinuxIdMapping;

#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error("linux.{field}: writing {path:?}")]
    Write {
        field: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("linux.{field}: a user namespace needs at least one mapping")]
    Empty { field: &'static str },
    /// newuidmap/newgidmap failed (rootless mode: idmap_helpers.rs).
    #[error("linux.{field}: {command}: {msg}")]
    Helper {
        field: &'static str,
        command: String,
        msg: String,
    },
}

/// Formats mappings as the kernel wants them: "inside outside count\n" each.
pub fn format_map(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// A new user namespace needs both maps.
pub(crate) fn require_both(
    uid_maps: &[LinuxIdMapping],
    gid_maps: &[LinuxIdMapping],
) -> Result<(), IdMapError> {
    if uid_maps.is_empty() {
        return Err(IdMapError::Empty {
            field: "uidMappings",
        });
    }
    if gid_maps.is_empty() {
        return Err(IdMapError::Empty {
            field: "gidMappings",
        });
    }
    Ok(())
}

/// Writes /proc/PID/{setgroups,uid_map,gid_map} for the process `pid`
/// (which has just entered a new user namespace). `deny_setgroups` is for
/// the unprivileged case, where the kernel requires it before gid_map.
pub fn write_id_maps(
    pid: i32,
    uid_maps: &[LinuxIdMapping],
    gid_maps: &[LinuxIdMapping],
    deny_setgroups: bool,
) -> Result<(), IdMapError> {
    require_both(uid_maps, gid_maps)?;
    if deny_setgroups {
        write(pid, "setgroups", "gidMappings", "deny")?;
    }
    write(pid, "uid_map", "uidMappings", &format_map(uid_maps))?;
    write(pid, "gid_map", "gidMappings", &format_map(gid_maps))
}

fn write(pid: i32, file: &str, field: &'static str, content: &str) -> Result<(), IdMapError> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(content.as_bytes()))
        .map_err(|source| IdMapError::Write {
            field,
            path,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxIdMappingBuilder;

    #[test]
    fn formats_lines() {
        let m = LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(100000u32)
            .size(65536u32)
            .build()
            .unwrap();
        assert_eq!(format_map(&[m]), "0 100000 65536\n");
    }
}
