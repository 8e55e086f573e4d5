//! Writes `linux.resources` to cgroup v2 files (with runc's conversions).

use std::collections::HashMap;
use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxRdma, LinuxResources};

use crate::error::{CgroupError, Result};
use crate::fsutil::{read, write, write_pids_max};
use crate::validate::page_size_name;

/// Applies every resource setting except devices (see devices_bpf).
pub(crate) fn apply(d: &Path, r: &LinuxResources) -> Result<()> {
    if let Some(m) = r.memory() {
        memory(d, m)?;
    }
    if let Some(c) = r.cpu() {
        cpu(d, c)?;
    }
    if let Some(p) = r.pids() {
        if p.limit() != 0 {
            write_pids_max(d, p.limit())?;
        }
    }
    if let Some(b) = r.block_io() {
        io(d, b)?;
    }
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}]");
        let size = page_size_name(h.page_size())
            .ok_or_else(|| CgroupError::invalid(&field, h.page_size(), "bad page size"))?;
        write(
            d,
            &format!("hugetlb.{size}.max"),
            &h.limit().to_string(),
            &field,
        )?;
    }
    if let Some(n) = r.network() {
        if n.class_id().is_some() || n.priorities().as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(CgroupError::unsupported(
                "linux.resources.network",
                "net_cls and net_prio exist only in cgroup v1",
            ));
        }
    }
    if let Some(rdma) = r.rdma() {
        for (dev, l) in rdma {
            let f = format!("linux.resources.rdma[{dev:?}]");
            write(d, "rdma.max", &rdma_line(dev, l), &f)?;
        }
    }
    if let Some(u) = r.unified() {
        unified(d, u)?;
    }
    Ok(())
}

pub(crate) fn rdma_line(dev: &str, l: &LinuxRdma) -> String {
    let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "max".into());
    format!(
        "{dev} hca_handle={} hca_object={}",
        n(l.hca_handles()),
        n(l.hca_objects())
    )
}

/// Raw key/values: each key must be a file of an enabled controller.
pub(crate) fn unified(d: &Path, u: &HashMap<String, String>) -> Result<()> {
    let enabled = read(d, "cgroup.controllers").unwrap_or_default();
    let mut keys: Vec<&String> = u.keys().collect();
    keys.sort();
    for k in keys {
        crate::validate::check_unified_key(k)?;
        let field = format!("linux.resources.unified[{k:?}]");
        let ctrl = k.split('.').next().unwrap_or_default();
        if ctrl != "cgroup" && !enabled.split_whitespace().any(|c| c == ctrl) {
            return Err(CgroupError::unsupported(
                field,
                format!(
                    "invalid configuration: controller {ctrl:?} is not enabled for {}",
                    d.display()
                ),
            ));
        }
        write(d, k, &u[k], &field).map_err(|e| match e {
            CgroupError::Unsupported { field, .. } => CgroupError::InvalidResource {
                field,
                value: k.clone(),
                reason: format!(
                    "invalid configuration: no such cgroup v2 file in {}",
                    d.display()
                ),
            },
            e => e,
        })?;
    }
    Ok(())
}

fn memory(d: &Path, m: &LinuxMemory) -> Result<()> {
    crate::memory_check::check(d, m, &crate::memory_check::V2)?;
    let f = "linux.resources.memory";
    let lim = |v: i64| {
        if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    if let Some(s) = m.swap() {
        let fs = format!("{f}.swap");
        let v = match (s, m.limit()) {
            (-1, _) => "max".to_string(),
            (s, Some(l)) if l > 0 => (s - l).to_string(),
            (_, Some(-1)) => {
                return Err(CgroupError::invalid(
                    fs,
                    s,
                    "a swap limit needs a memory limit (memory.limit is -1)",
                ))
            }
            (s, _) => {
                return Err(CgroupError::invalid(
                    fs,
                    s,
                    "a swap limit needs memory.limit to be set",
                ))
            }
        };
        if let Some(l) = m.limit() {
            write(d, "memory.max", &lim(l), &format!("{f}.limit"))?;
        }
        if d.join("memory.swap.max").exists() {
            write(d, "memory.swap.max", &v, &fs)?;
        } else if v != "0" && v != "max" {
            return Err(CgroupError::unsupported(
                fs,
                "memory.swap.max does not exist (no swap accounting)",
            ));
        }
    } else if let Some(l) = m.limit() {
        write(d, "memory.max", &lim(l), &format!("{f}.limit"))?;
    }
    if let Some(r) = m.reservation() {
        write(d, "memory.low", &lim(r), &format!("{f}.reservation"))?;
    }
    if m.swappiness().is_some() {
        return Err(CgroupError::unsupported(
            format!("{f}.swappiness"),
            "cgroup v2 has no per-cgroup swappiness",
        ));
    }
    if m.disable_oom_killer() == Some(true) {
        return Err(CgroupError::unsupported(
            format!("{f}.disableOOMKiller"),
            "cgroup v2 cannot disable the OOM killer",
        ));
    }
    // kernel and kernelTCP: deprecated by the spec and absent in v2; ignored.
    Ok(())
}

/// runc's conversion of cpu.shares (2..262144) to cpu.weight (1..10000).
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    1 + ((shares.saturating_sub(2)) * 9999) / 262_142
}

fn cpu(d: &Path, c: &LinuxCpu) -> Result<()> {
    let f = "linux.resources.cpu";
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        write(
            d,
            "cpu.weight",
            &shares_to_weight(s).to_string(),
            &format!("{f}.shares"),
        )?;
    }
    let quota = c.quota().filter(|q| *q != 0);
    let period = c.period().filter(|p| *p != 0);
    if quota.is_some() || period.is_some() {
        let cur = read(d, "cpu.max").unwrap_or_else(|_| "max 100000".into());
        let mut it = cur.split_whitespace();
        let cur_q = it.next().unwrap_or("max").to_string();
        let cur_p = it.next().unwrap_or("100000").to_string();
        let q = match quota {
            Some(q) if q < 0 => "max".to_string(),
            Some(q) => q.to_string(),
            None => cur_q,
        };
        let p = period.map(|p| p.to_string()).unwrap_or(cur_p);
        let field = if quota.is_some() {
            format!("{f}.quota")
        } else {
            format!("{f}.period")
        };
        write(d, "cpu.max", &format!("{q} {p}"), &field)?;
    }
    if let Some(b) = c.burst() {
        write(d, "cpu.max.burst", &b.to_string(), &format!("{f}.burst"))?;
    }
    if c.realtime_runtime().is_some_and(|v| v != 0) || c.realtime_period().is_some_and(|v| v != 0) {
        return Err(CgroupError::unsupported(
            format!("{f}.realtimeRuntime"),
            "cgroup v2 has no realtime group scheduling",
        ));
    }
    if let Some(i) = c.idle() {
        write(d, "cpu.idle", &i.to_string(), &format!("{f}.idle"))?;
    }
    if let Some(v) = c.cpus().as_deref().filter(|v| !v.is_empty()) {
        write(d, "cpuset.cpus", v, &format!("{f}.cpus"))?;
    }
    if let Some(v) = c.mems().as_deref().filter(|v| !v.is_empty()) {
        write(d, "cpuset.mems", v, &format!("{f}.mems"))?;
    }
    Ok(())
}

/// blkio weight (10..1000) to io.weight (1..10000), as runc converts.
fn blkio_to_io_weight(w: u16) -> u64 {
    1 + (u64::from(w).saturating_sub(10) * 9999) / 990
}

fn io(d: &Path, b: &LinuxBlockIo) -> Result<()> {
    let f = "linux.resources.blockIO";
    let bfq = d.join("io.bfq.weight").exists();
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        let field = format!("{f}.weight");
        if bfq {
            write(d, "io.bfq.weight", &w.to_string(), &field)?;
        } else {
            write(
                d,
                "io.weight",
                &format!("default {}", blkio_to_io_weight(w)),
                &field,
            )?;
        }
    }
    if b.leaf_weight().is_some_and(|w| w != 0) {
        return Err(CgroupError::unsupported(
            format!("{f}.leafWeight"),
            "cgroup v2 has no leaf weight",
        ));
    }
    for (i, wd) in b.weight_device().iter().flatten().enumerate() {
        if let Some(w) = wd.weight() {
            let field = format!("{f}.weightDevice[{i}].weight");
            let dev = format!("{}:{}", wd.major(), wd.minor());
            if bfq {
                write(d, "io.bfq.weight", &format!("{dev} {w}"), &field)?;
            } else {
                write(
                    d,
                    "io.weight",
                    &format!("{dev} {}", blkio_to_io_weight(w)),
                    &field,
                )?;
            }
        }
    }
    for (name, key, list) in [
        (
            "throttleReadBpsDevice",
            "rbps",
            b.throttle_read_bps_device(),
        ),
        (
            "throttleWriteBpsDevice",
            "wbps",
            b.throttle_write_bps_device(),
        ),
        (
            "throttleReadIOPSDevice",
            "riops",
            b.throttle_read_iops_device(),
        ),
        (
            "throttleWriteIOPSDevice",
            "wiops",
            b.throttle_write_iops_device(),
        ),
    ] {
        for (i, t) in list.iter().flatten().enumerate() {
            let field = format!("{f}.{name}[{i}]");
            let rate = if t.rate() == 0 {
                "max".to_string()
            } else {
                t.rate().to_string()
            };
            let v = format!("{}:{} {key}={rate}", t.major(), t.minor());
            write(d, "io.max", &v, &field)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
    }
}
