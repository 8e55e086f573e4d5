//! linux.resources.memory.checkBeforeUpdate: a new limit below what the
//! cgroup already uses is refused instead of written (the kernel would
//! reclaim, then OOM-kill the container). runc does the same.

use std::path::Path;

use oci_spec::runtime::LinuxMemory;

use crate::error::{CgroupError, Result};
use crate::fsutil::read_u64;

/// Where the current usage is read from.
pub(crate) struct UsageFiles {
    /// Memory usage (v1 memory.usage_in_bytes, v2 memory.current).
    pub memory: &'static str,
    /// Memory+swap usage: v1 has one file; v2 adds memory.swap.current to
    /// the memory usage.
    pub memsw: Option<&'static str>,
    pub swap_only: Option<&'static str>,
}

pub(crate) const V1: UsageFiles = UsageFiles {
    memory: "memory.usage_in_bytes",
    memsw: Some("memory.memsw.usage_in_bytes"),
    swap_only: None,
};

pub(crate) const V2: UsageFiles = UsageFiles {
    memory: "memory.current",
    memsw: None,
    swap_only: Some("memory.swap.current"),
};

/// Refuses a limit (or memory+swap limit) at or below the current usage
/// when checkBeforeUpdate is true.
pub(crate) fn check(d: &Path, m: &LinuxMemory, files: &UsageFiles) -> Result<()> {
    if m.check_before_update() != Some(true) {
        return Ok(());
    }
    let f = "linux.resources.memory";
    if let Some(limit) = m.limit().filter(|l| *l > 0) {
        let usage = read_u64(d, files.memory)?;
        refuse_below(&format!("{f}.limit"), "memory", limit, usage)?;
    }
    if let Some(swap) = m.swap().filter(|s| *s > 0) {
        let usage = if let Some(file) = files.memsw.filter(|f| d.join(f).exists()) {
            Some(read_u64(d, file)?)
        } else if let Some(file) = files.swap_only.filter(|f| d.join(f).exists()) {
            Some(read_u64(d, files.memory)?.saturating_add(read_u64(d, file)?))
        } else {
            None
        };
        if let Some(usage) = usage {
            refuse_below(&format!("{f}.swap"), "memory+swap", swap, usage)?;
        }
    }
    Ok(())
}

fn refuse_below(field: &str, what: &str, limit: i64, usage: u64) -> Result<()> {
    if u64::try_from(limit).is_ok_and(|l| l <= usage) {
        return Err(CgroupError::invalid(
            field,
            limit,
            &format!(
                "rejecting {what} limit {limit} below current usage {usage} (checkBeforeUpdate)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxMemoryBuilder;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("remora-memcheck-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn mem(limit: i64, check: bool) -> LinuxMemory {
        LinuxMemoryBuilder::default()
            .limit(limit)
            .check_before_update(check)
            .build()
            .unwrap()
    }

    #[test]
    fn below_usage_refused_only_when_asked() {
        let d = tmp("below");
        std::fs::write(d.join("memory.current"), "5000000\n").unwrap();
        let e = check(&d, &mem(4_000_000, true), &V2).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("linux.resources.memory.limit"), "{s}");
        assert!(s.contains("below current usage 5000000"), "{s}");
        check(&d, &mem(4_000_000, false), &V2).unwrap();
        check(&d, &mem(6_000_000, true), &V2).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn v2_swap_counts_memory_and_swap() {
        let d = tmp("swap");
        std::fs::write(d.join("memory.current"), "3000\n").unwrap();
        std::fs::write(d.join("memory.swap.current"), "2000\n").unwrap();
        let m = LinuxMemoryBuilder::default()
            .limit(10_000)
            .swap(4_000)
            .check_before_update(true)
            .build()
            .unwrap();
        let s = check(&d, &m, &V2).unwrap_err().to_string();
        assert!(s.contains("memory.swap"), "{s}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
