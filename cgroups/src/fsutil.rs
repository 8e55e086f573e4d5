//! Reading and writing cgroup control files.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{CgroupError, Result};

/// Writes `value` to the control file `dir/file` for the config `field`.
/// A missing file means the host lacks the feature: `Unsupported`.
pub(crate) fn write(dir: &Path, file: &str, value: &str, field: &str) -> Result<()> {
    let path = dir.join(file);
    let mut f = match fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CgroupError::unsupported(
                field,
                format!("{} does not exist", path.display()),
            ))
        }
        Err(source) => {
            return Err(CgroupError::Write {
                field: field.into(),
                path,
                value: value.into(),
                source,
            })
        }
    };
    f.write_all(value.as_bytes())
        .map_err(|source| CgroupError::Write {
            field: field.into(),
            path,
            value: value.into(),
            source,
        })
}

/// Reads a control file, trimmed.
/// linux.resources.pids.limit to `pids.max` (v1 and v2 alike): a
/// negative limit is "max".
pub(crate) fn write_pids_max(dir: &Path, limit: i64) -> Result<()> {
    let v = if limit < 0 {
        "max".to_string()
    } else {
        limit.to_string()
    };
    write(dir, "pids.max", &v, "linux.resources.pids.limit")
}

pub(crate) fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    fs::read_to_string(&path)
        .map(|s| s.trim_end().to_string())
        .map_err(|e| CgroupError::io(path, e))
}

/// Reads a control file holding one number ("max" reads as u64::MAX).
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64> {
    let s = read(dir, file)?;
    parse_u64(&s).ok_or_else(|| CgroupError::Manager {
        path: dir.join(file).display().to_string(),
        msg: format!("unexpected content {s:?}"),
    })
}

pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if s == "max" {
        return Some(u64::MAX);
    }
    s.parse().ok()
}

/// Parses "key value" lines (memory.stat, cpu.stat, memory.events, ...).
pub(crate) fn read_flat_keyed(dir: &Path, file: &str) -> Result<Vec<(String, u64)>> {
    let s = read(dir, file)?;
    Ok(s.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = parse_u64(it.next()?)?;
            Some((k.to_string(), v))
        })
        .collect())
}

/// Looks up one key of a flat keyed file; None when the file or key is absent.
pub(crate) fn keyed_value(dir: &Path, file: &str, key: &str) -> Option<u64> {
    read_flat_keyed(dir, file)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The PIDs listed in `dir/cgroup.procs` and in every descendant cgroup.
pub(crate) fn procs_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<()> {
    let procs = match fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CgroupError::io(dir.join("cgroup.procs"), e)),
    };
    out.extend(procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    for child in child_dirs(dir)? {
        procs_recursive(&child, out)?;
    }
    Ok(())
}

/// Sub-cgroups of `dir` (empty when `dir` is gone).
pub(crate) fn child_dirs(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CgroupError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| CgroupError::io(dir, e))?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            out.push(entry.path());
        }
    }
    Ok(out)
}
