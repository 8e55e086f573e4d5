//! Writes `linux.resources` to cgroup v1 controller files.

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use crate::dirs::Dirs;
use crate::error::{CgroupError, Result};
use crate::fsutil::{read_u64, write, write_pids_max};
use crate::validate::page_size_name;

fn need<'a>(dirs: &'a Dirs, ctrl: &str, field: &str) -> Result<&'a Path> {
    dirs.v1(ctrl).ok_or_else(|| {
        CgroupError::unsupported(
            field,
            format!("the {ctrl} cgroup controller is not mounted"),
        )
    })
}

/// Applies every resource setting except devices (see devices_v1).
pub(crate) fn apply(dirs: &Dirs, r: &LinuxResources) -> Result<()> {
    if let Some(m) = r.memory() {
        if memory_has_settings(m) {
            memory(need(dirs, "memory", "linux.resources.memory")?, m)?;
        }
    }
    if let Some(c) = r.cpu() {
        cpu(dirs, c)?;
    }
    if let Some(p) = r.pids() {
        if p.limit() != 0 {
            let d = need(dirs, "pids", "linux.resources.pids.limit")?;
            write_pids_max(d, p.limit())?;
        }
    }
    if let Some(b) = r.block_io() {
        blkio(dirs, b)?;
    }
    hugetlb(dirs, r)?;
    if let Some(n) = r.network() {
        if let Some(id) = n.class_id() {
            let f = "linux.resources.network.classID";
            write(
                need(dirs, "net_cls", f)?,
                "net_cls.classid",
                &id.to_string(),
                f,
            )?;
        }
        for p in n.priorities().iter().flatten() {
            let f = "linux.resources.network.priorities";
            let v = format!("{} {}", p.name(), p.priority());
            write(need(dirs, "net_prio", f)?, "net_prio.ifpriomap", &v, f)?;
        }
    }
    if let Some(rdma) = r.rdma() {
        for (dev, l) in rdma {
            let f = format!("linux.resources.rdma[{dev:?}]");
            write(
                need(dirs, "rdma", &f)?,
                "rdma.max",
                &crate::apply_v2::rdma_line(dev, l),
                &f,
            )?;
        }
    }
    if let Some(u) = r.unified() {
        if !u.is_empty() {
            // Hybrid hosts: raw keys go to the cgroup2 mount.
            let Some(ud) = dirs.unified() else {
                let k = u.keys().next().map(String::as_str).unwrap_or_default();
                return Err(CgroupError::unsupported(
                    format!("linux.resources.unified[{k:?}]"),
                    "invalid configuration: cgroup v2 is not mounted on this host",
                ));
            };
            crate::apply_v2::unified(ud, u)?;
        }
    }
    Ok(())
}

fn memory_has_settings(m: &LinuxMemory) -> bool {
    m.limit().is_some()
        || m.reservation().is_some()
        || m.swap().is_some()
        || m.kernel_tcp().is_some()
        || m.swappiness().is_some()
        || m.disable_oom_killer().is_some()
        || m.use_hierarchy().is_some()
}

/// A limit below what the cgroup's processes use already (the init is in
/// it) is refused by the kernel with EBUSY: said as runc says it, with the
/// usage.
fn memory(d: &Path, m: &LinuxMemory) -> Result<()> {
    crate::memory_check::check(d, m, &crate::memory_check::V1)?;
    memory_settings(d, m).map_err(|e| match e {
        CgroupError::Write {
            field,
            value,
            source,
            ..
        } if field.ends_with(".limit") && source.raw_os_error() == Some(libc::EBUSY) => {
            let usage = read_u64(d, "memory.usage_in_bytes").unwrap_or(0);
            let peak = read_u64(d, "memory.max_usage_in_bytes").unwrap_or(0);
            CgroupError::invalid(
                field,
                &value,
                &format!(
                    "unable to set memory limit to {value} (current usage {usage}, peak usage {peak}): below what the container's processes use"
                ),
            )
        }
        e => e,
    })
}

fn memory_settings(d: &Path, m: &LinuxMemory) -> Result<()> {
    let f = "linux.resources.memory";
    let fl = format!("{f}.limit");
    let fs = format!("{f}.swap");
    let has_memsw = d.join("memory.memsw.limit_in_bytes").exists();
    // An unlimited memory limit lifts the memory+swap limit too (runc does
    // the same); otherwise the kernel refuses limit > memsw.
    let swap = match (m.limit(), m.swap()) {
        (Some(-1), None) if has_memsw => Some(-1),
        (_, s) => s,
    };
    match (m.limit(), swap) {
        (limit, Some(swap)) if has_memsw => {
            // memsw must stay >= limit at every step: raise memsw first when
            // the limit grows, lower the limit first when it shrinks.
            let cur = read_u64(d, "memory.limit_in_bytes")?;
            let grows = match limit {
                Some(l) if l >= 0 => l.unsigned_abs() > cur,
                Some(_) => true,
                None => false,
            };
            if grows {
                write(d, "memory.memsw.limit_in_bytes", &swap.to_string(), &fs)?;
                if let Some(l) = limit {
                    write(d, "memory.limit_in_bytes", &l.to_string(), &fl)?;
                }
            } else {
                if let Some(l) = limit {
                    write(d, "memory.limit_in_bytes", &l.to_string(), &fl)?;
                }
                write(d, "memory.memsw.limit_in_bytes", &swap.to_string(), &fs)?;
            }
        }
        (limit, swap) => {
            if let Some(s) = swap {
                // Without swap accounting only "no swap limit" can be honoured.
                if s != -1 && Some(s) != limit && s != 0 {
                    return Err(CgroupError::unsupported(
                        fs,
                        "swap accounting is off (memory.memsw.limit_in_bytes missing)",
                    ));
                }
            }
            if let Some(l) = limit {
                write(d, "memory.limit_in_bytes", &l.to_string(), &fl)?;
            }
        }
    }
    if let Some(r) = m.reservation() {
        write(
            d,
            "memory.soft_limit_in_bytes",
            &r.to_string(),
            &format!("{f}.reservation"),
        )?;
    }
    if let Some(k) = m.kernel_tcp() {
        write(
            d,
            "memory.kmem.tcp.limit_in_bytes",
            &k.to_string(),
            &format!("{f}.kernelTCP"),
        )?;
    }
    if let Some(s) = m.swappiness() {
        write(
            d,
            "memory.swappiness",
            &s.to_string(),
            &format!("{f}.swappiness"),
        )?;
    }
    if let Some(o) = m.disable_oom_killer() {
        let v = if o { "1" } else { "0" };
        write(d, "memory.oom_control", v, &format!("{f}.disableOOMKiller"))?;
    }
    if let Some(h) = m.use_hierarchy() {
        let v = if h { "1" } else { "0" };
        write(d, "memory.use_hierarchy", v, &format!("{f}.useHierarchy"))?;
    }
    Ok(())
}

fn cpu(dirs: &Dirs, c: &LinuxCpu) -> Result<()> {
    let f = "linux.resources.cpu";
    let needs_cpu = c.shares().is_some_and(|s| s != 0)
        || c.quota().is_some_and(|q| q != 0)
        || c.period().is_some_and(|p| p != 0)
        || c.burst().is_some()
        || c.realtime_runtime().is_some()
        || c.realtime_period().is_some()
        || c.idle().is_some();
    if needs_cpu {
        let d = need(dirs, "cpu", f)?;
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            let fs = format!("{f}.shares");
            write(d, "cpu.shares", &s.to_string(), &fs)?;
            let got = read_u64(d, "cpu.shares")?;
            if got != s {
                return Err(CgroupError::invalid(
                    fs,
                    s,
                    &format!("the kernel set cpu.shares to {got}"),
                ));
            }
        }
        let period = c.period().filter(|p| *p != 0);
        let quota = c.quota().filter(|q| *q != 0);
        if let Some(p) = period {
            let fp = format!("{f}.period");
            if write(d, "cpu.cfs_period_us", &p.to_string(), &fp).is_err() {
                // The old quota may not fit the new period: quota first.
                if let Some(q) = quota {
                    write(d, "cpu.cfs_quota_us", &q.to_string(), &format!("{f}.quota"))?;
                }
                write(d, "cpu.cfs_period_us", &p.to_string(), &fp)?;
            }
        }
        if let Some(q) = quota {
            write(d, "cpu.cfs_quota_us", &q.to_string(), &format!("{f}.quota"))?;
        }
        if let Some(b) = c.burst() {
            write(d, "cpu.cfs_burst_us", &b.to_string(), &format!("{f}.burst"))?;
        }
        if let Some(p) = c.realtime_period() {
            write(
                d,
                "cpu.rt_period_us",
                &p.to_string(),
                &format!("{f}.realtimePeriod"),
            )?;
        }
        if let Some(r) = c.realtime_runtime() {
            write(
                d,
                "cpu.rt_runtime_us",
                &r.to_string(),
                &format!("{f}.realtimeRuntime"),
            )?;
        }
        if let Some(i) = c.idle() {
            write(d, "cpu.idle", &i.to_string(), &format!("{f}.idle"))?;
        }
    }
    for (name, file, v) in [
        ("cpus", "cpuset.cpus", c.cpus()),
        ("mems", "cpuset.mems", c.mems()),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let field = format!("{f}.{name}");
            write(need(dirs, "cpuset", &field)?, file, v, &field)?;
        }
    }
    Ok(())
}

fn blkio(dirs: &Dirs, b: &LinuxBlockIo) -> Result<()> {
    let f = "linux.resources.blockIO";
    let dir = |field: &str| need(dirs, "blkio", field);
    // Prefer the CFQ files, fall back to BFQ's.
    let pick = |d: &Path, a: &'static str, b: &'static str| -> &'static str {
        if d.join(a).exists() {
            a
        } else {
            b
        }
    };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        let field = format!("{f}.weight");
        let d = dir(&field)?;
        write(
            d,
            pick(d, "blkio.weight", "blkio.bfq.weight"),
            &w.to_string(),
            &field,
        )?;
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        let field = format!("{f}.leafWeight");
        write(dir(&field)?, "blkio.leaf_weight", &w.to_string(), &field)?;
    }
    for (i, wd) in b.weight_device().iter().flatten().enumerate() {
        let dev = format!("{}:{}", wd.major(), wd.minor());
        if let Some(w) = wd.weight() {
            let field = format!("{f}.weightDevice[{i}].weight");
            let d = dir(&field)?;
            let file = pick(d, "blkio.weight_device", "blkio.bfq.weight_device");
            write(d, file, &format!("{dev} {w}"), &field)?;
        }
        if let Some(w) = wd.leaf_weight() {
            let field = format!("{f}.weightDevice[{i}].leafWeight");
            write(
                dir(&field)?,
                "blkio.leaf_weight_device",
                &format!("{dev} {w}"),
                &field,
            )?;
        }
    }
    for (name, file, list) in [
        (
            "throttleReadBpsDevice",
            "blkio.throttle.read_bps_device",
            b.throttle_read_bps_device(),
        ),
        (
            "throttleWriteBpsDevice",
            "blkio.throttle.write_bps_device",
            b.throttle_write_bps_device(),
        ),
        (
            "throttleReadIOPSDevice",
            "blkio.throttle.read_iops_device",
            b.throttle_read_iops_device(),
        ),
        (
            "throttleWriteIOPSDevice",
            "blkio.throttle.write_iops_device",
            b.throttle_write_iops_device(),
        ),
    ] {
        for (i, t) in list.iter().flatten().enumerate() {
            let field = format!("{f}.{name}[{i}]");
            let v = format!("{}:{} {}", t.major(), t.minor(), t.rate());
            write(dir(&field)?, file, &v, &field)?;
        }
    }
    Ok(())
}

/// v1 hugetlb, or on hybrid hosts the cgroup2 mount's hugetlb controller.
fn hugetlb(dirs: &Dirs, r: &LinuxResources) -> Result<()> {
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}]");
        let size = page_size_name(h.page_size())
            .ok_or_else(|| CgroupError::invalid(&field, h.page_size(), "bad page size"))?;
        if let Some(d) = dirs.v1("hugetlb") {
            write(
                d,
                &format!("hugetlb.{size}.limit_in_bytes"),
                &h.limit().to_string(),
                &field,
            )?;
        } else if let Some(d) = dirs.unified_with("hugetlb") {
            write(
                d,
                &format!("hugetlb.{size}.max"),
                &h.limit().to_string(),
                &field,
            )?;
        } else {
            return Err(CgroupError::unsupported(
                field,
                "the hugetlb cgroup controller is not available",
            ));
        }
    }
    Ok(())
}
