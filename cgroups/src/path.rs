//! Where a container's cgroup goes: `linux.cgroupsPath` resolved as runc does.

use std::path::PathBuf;

use crate::error::{CgroupError, Result};
use crate::layout::{self, Hierarchy};

fn invalid(path: &str, reason: &str) -> CgroupError {
    CgroupError::InvalidPath {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// Checks a cgroupfs path: no `..`, no NUL, not the hierarchy root.
pub(crate) fn validate_fs_path(path: &str) -> Result<()> {
    if path.contains('\0') {
        return Err(invalid(path, "contains a NUL byte"));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(invalid(
            path,
            "must not contain \"..\" (escapes the cgroup hierarchy)",
        ));
    }
    if path.split('/').all(|c| c.is_empty() || c == ".") {
        return Err(invalid(path, "names the root of the cgroup hierarchy"));
    }
    Ok(())
}

/// Joins the normalised components of `path` (dropping "" and ".").
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// The directory of the container's cgroup in hierarchy `h`: an absolute
/// path is taken from the hierarchy's root, a relative one from this
/// process's own cgroup in that hierarchy.
pub(crate) fn fs_dir(h: &Hierarchy, path: &str) -> Result<PathBuf> {
    let mut dir = h.mount_point.clone();
    if !path.starts_with('/') {
        let own = layout::own_cgroup(&h.key)?;
        let own = own
            .strip_prefix(h.mount_root.trim_end_matches('/'))
            .unwrap_or(&own)
            .to_string();
        for c in components(&own) {
            if c == ".." {
                return Err(invalid(
                    path,
                    "own cgroup lies outside the mounted hierarchy",
                ));
            }
            dir.push(c);
        }
    }
    for c in components(path) {
        dir.push(c);
    }
    Ok(dir)
}

/// A parsed systemd `slice:prefix:name` cgroupsPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SystemdPath {
    pub slice: String,
    pub unit: String,
}

/// Parses `slice:prefix:name` (runc's form). An empty slice is
/// system.slice; the unit is `prefix-name.scope`, or `name` itself when it
/// ends in `.slice`.
pub(crate) fn parse_systemd(path: &str) -> Result<SystemdPath> {
    let parts: Vec<&str> = path.split(':').collect();
    if parts.len() != 3 {
        return Err(invalid(
            path,
            "expected \"slice:prefix:name\" with --systemd-cgroup",
        ));
    }
    let (slice, prefix, name) = (parts[0], parts[1], parts[2]);
    for (what, v) in [("slice", slice), ("prefix", prefix), ("name", name)] {
        if v.contains('/') || v.contains('\0') || v == ".." || v == "." {
            return Err(invalid(
                path,
                &format!("{what} {v:?} must be a plain unit name"),
            ));
        }
    }
    if name.is_empty() {
        return Err(invalid(path, "name is empty"));
    }
    let slice = if slice.is_empty() {
        "system.slice".to_string()
    } else if slice.ends_with(".slice") {
        slice.to_string()
    } else {
        return Err(invalid(path, "slice must end in \".slice\""));
    };
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    Ok(SystemdPath { slice, unit })
}

/// The cgroup path systemd gives a unit in `slice`: "a-b.slice" expands to
/// "/a.slice/a-b.slice".
pub(crate) fn expand_slice(slice: &str) -> Result<String> {
    if slice == "-.slice" {
        return Ok(String::new());
    }
    let base = slice
        .strip_suffix(".slice")
        .ok_or_else(|| invalid(slice, "slice must end in \".slice\""))?;
    if base.is_empty() || base.starts_with('-') || base.ends_with('-') || base.contains("--") {
        return Err(invalid(slice, "malformed slice name"));
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in base.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push('/');
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_escapes() {
        assert!(validate_fs_path("../../etc").is_err());
        assert!(validate_fs_path("/a/../../b").is_err());
        assert!(validate_fs_path("/").is_err());
        assert!(validate_fs_path("/a/b").is_ok());
        assert!(validate_fs_path("a/b").is_ok());
    }

    #[test]
    fn systemd_forms() {
        let p = parse_systemd("machine.slice:libpod:abc").unwrap();
        assert_eq!(p.slice, "machine.slice");
        assert_eq!(p.unit, "libpod-abc.scope");
        let p = parse_systemd(":remora:id").unwrap();
        assert_eq!(p.slice, "system.slice");
        assert_eq!(p.unit, "remora-id.scope");
        assert!(parse_systemd("/abs/path").is_err());
        assert!(parse_systemd("x:y:../z").is_err());
        assert!(parse_systemd("notaslice:p:n").is_err());
    }

    #[test]
    fn slice_expansion() {
        assert_eq!(
            expand_slice("a-b-c.slice").unwrap(),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        assert_eq!(expand_slice("system.slice").unwrap(), "/system.slice");
        assert!(expand_slice("a--b.slice").is_err());
    }
}
