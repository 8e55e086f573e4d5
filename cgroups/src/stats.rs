//! The `data` object of runc's `events` JSON (as go-runc parses it).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::dirs::Dirs;
use crate::error::Result;
use crate::fsutil::{keyed_value, read, read_flat_keyed, read_u64};

fn zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub cpu: Cpu,
    pub cpuset: Cpuset,
    pub memory: Memory,
    pub pids: Pids,
    pub blkio: Blkio,
    pub hugetlb: BTreeMap<String, Hugetlb>,
    /// Always `{}`: no Intel RDT (runc prints the empty object too).
    pub intel_rdt: IntelRdt,
    /// Always `null`: runc reports only interfaces it configured itself,
    /// which an OCI config never has.
    pub network_interfaces: Option<Vec<BTreeMap<String, u64>>>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct IntelRdt {}

/// cpuset: the CPUs and memory nodes as lists, and the v1 flags.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Cpuset {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    pub cpu_exclusive: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
    pub mem_hardwall: u64,
    pub mem_exclusive: u64,
    pub memory_migrate: u64,
    pub memory_spread_page: u64,
    pub memory_spread_slab: u64,
    pub memory_pressure: u64,
    pub sched_load_balance: u64,
    pub sched_relax_domain_level: i64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Cpu {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "zero")]
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    #[serde(skip_serializing_if = "zero")]
    pub periods: u64,
    #[serde(skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    #[serde(skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Memory {
    #[serde(skip_serializing_if = "zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Pids {
    #[serde(skip_serializing_if = "zero")]
    pub current: u64,
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BlkioEntry {
    #[serde(skip_serializing_if = "zero")]
    pub major: u64,
    #[serde(skip_serializing_if = "zero")]
    pub minor: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(skip_serializing_if = "zero")]
    pub value: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Blkio {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Hugetlb {
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    pub failcnt: u64,
}

/// USER_HZ ticks (cpuacct.stat) to nanoseconds.
const NS_PER_TICK: u64 = 1_000_000_000 / 100;

fn opt(dir: &Path, file: &str) -> u64 {
    read_u64(dir, file).unwrap_or(0)
}

/// "max" reads as u64::MAX; runc reports it so for limits.
pub(crate) fn collect(dirs: &Dirs) -> Result<Stats> {
    let mut s = Stats::default();
    if let (true, Some(d)) = (dirs.is_v2(), dirs.unified()) {
        v2(d, &mut s);
    } else {
        v1(dirs, &mut s);
    }
    Ok(s)
}

fn v1(dirs: &Dirs, s: &mut Stats) {
    if let Some(d) = dirs.v1("cpuacct") {
        s.cpu.usage.total = opt(d, "cpuacct.usage");
        s.cpu.usage.percpu = numbers(d, "cpuacct.usage_percpu");
        s.cpu.usage.percpu_kernel = numbers(d, "cpuacct.usage_percpu_sys");
        s.cpu.usage.percpu_user = numbers(d, "cpuacct.usage_percpu_user");
        s.cpu.usage.user = keyed_value(d, "cpuacct.stat", "user").unwrap_or(0) * NS_PER_TICK;
        s.cpu.usage.kernel = keyed_value(d, "cpuacct.stat", "system").unwrap_or(0) * NS_PER_TICK;
    }
    if let Some(d) = dirs.v1("cpu") {
        s.cpu.throttling.periods = keyed_value(d, "cpu.stat", "nr_periods").unwrap_or(0);
        s.cpu.throttling.throttled_periods =
            keyed_value(d, "cpu.stat", "nr_throttled").unwrap_or(0);
        s.cpu.throttling.throttled_time = keyed_value(d, "cpu.stat", "throttled_time").unwrap_or(0);
    }
    if let Some(d) = dirs.v1("cpuset") {
        s.cpuset = Cpuset {
            cpus: list(d, "cpuset.cpus"),
            cpu_exclusive: opt(d, "cpuset.cpu_exclusive"),
            mems: list(d, "cpuset.mems"),
            mem_hardwall: opt(d, "cpuset.mem_hardwall"),
            mem_exclusive: opt(d, "cpuset.mem_exclusive"),
            memory_migrate: opt(d, "cpuset.memory_migrate"),
            memory_spread_page: opt(d, "cpuset.memory_spread_page"),
            memory_spread_slab: opt(d, "cpuset.memory_spread_slab"),
            memory_pressure: opt(d, "cpuset.memory_pressure"),
            sched_load_balance: opt(d, "cpuset.sched_load_balance"),
            sched_relax_domain_level: read(d, "cpuset.sched_relax_domain_level")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
        };
    }
    if let Some(d) = dirs.v1("memory") {
        let entry = |p: &str| MemoryEntry {
            limit: opt(d, &format!("memory.{p}limit_in_bytes")),
            usage: opt(d, &format!("memory.{p}usage_in_bytes")),
            max: opt(d, &format!("memory.{p}max_usage_in_bytes")),
            failcnt: opt(d, &format!("memory.{p}failcnt")),
        };
        s.memory.usage = entry("");
        s.memory.swap = entry("memsw.");
        s.memory.kernel = entry("kmem.");
        s.memory.kernel_tcp = entry("kmem.tcp.");
        s.memory.raw = read_flat_keyed(d, "memory.stat")
            .unwrap_or_default()
            .into_iter()
            .collect();
        s.memory.cache = s
            .memory
            .raw
            .get("total_cache")
            .or(s.memory.raw.get("cache"))
            .copied()
            .unwrap_or(0);
    }
    if let Some(d) = dirs.v1("pids") {
        s.pids = pids(d);
    }
    if let Some(d) = dirs.v1("blkio") {
        s.blkio.io_service_bytes_recursive =
            blkio_v1(d, "blkio.throttle.io_service_bytes_recursive");
        s.blkio.io_serviced_recursive = blkio_v1(d, "blkio.throttle.io_serviced_recursive");
    }
    if let Some(d) = dirs.v1("hugetlb") {
        for size in page_sizes() {
            s.hugetlb.insert(
                size.clone(),
                Hugetlb {
                    usage: opt(d, &format!("hugetlb.{size}.usage_in_bytes")),
                    max: opt(d, &format!("hugetlb.{size}.max_usage_in_bytes")),
                    failcnt: opt(d, &format!("hugetlb.{size}.failcnt")),
                },
            );
        }
    } else if let Some(d) = dirs.unified_with("hugetlb") {
        hugetlb_v2(d, s);
    }
}

/// Whitespace-separated numbers (cpuacct.usage_percpu*).
fn numbers(d: &Path, file: &str) -> Vec<u64> {
    read(d, file)
        .map(|v| {
            v.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A cpuset list ("0-2,4") as its members (empty if unreadable).
fn list(d: &Path, file: &str) -> Vec<u16> {
    let Ok(text) = read(d, file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
            out.extend(a..=b);
        }
    }
    out
}

fn pids(d: &Path) -> Pids {
    let limit = opt(d, "pids.max");
    Pids {
        current: opt(d, "pids.current"),
        limit: if limit == u64::MAX { 0 } else { limit },
    }
}

fn blkio_v1(d: &Path, file: &str) -> Vec<BlkioEntry> {
    let Ok(text) = read(d, file) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 3 {
                return None;
            }
            let (maj, min) = f[0].split_once(':')?;
            Some(BlkioEntry {
                major: maj.parse().ok()?,
                minor: min.parse().ok()?,
                op: f[1].to_string(),
                value: f[2].parse().ok()?,
            })
        })
        .collect()
}

fn page_sizes() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/kernel/mm/hugepages") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(kb) = name
                .strip_prefix("hugepages-")
                .and_then(|n| n.strip_suffix("kB"))
            {
                if let Ok(kb) = kb.parse::<u64>() {
                    out.push(if kb >= 1 << 20 {
                        format!("{}GB", kb >> 20)
                    } else if kb >= 1 << 10 {
                        format!("{}MB", kb >> 10)
                    } else {
                        format!("{kb}KB")
                    });
                }
            }
        }
    }
    out.sort();
    out
}

fn hugetlb_v2(d: &Path, s: &mut Stats) {
    for size in page_sizes() {
        s.hugetlb.insert(
            size.clone(),
            Hugetlb {
                usage: opt(d, &format!("hugetlb.{size}.current")),
                max: 0,
                failcnt: keyed_value(d, &format!("hugetlb.{size}.events"), "max").unwrap_or(0),
            },
        );
    }
}

fn v2(d: &Path, s: &mut Stats) {
    let stat: BTreeMap<String, u64> = read_flat_keyed(d, "cpu.stat")
        .unwrap_or_default()
        .into_iter()
        .collect();
    let g = |k: &str| stat.get(k).copied().unwrap_or(0);
    s.cpu.usage.total = g("usage_usec") * 1000;
    s.cpu.usage.user = g("user_usec") * 1000;
    s.cpu.usage.kernel = g("system_usec") * 1000;
    s.cpu.throttling.periods = g("nr_periods");
    s.cpu.throttling.throttled_periods = g("nr_throttled");
    s.cpu.throttling.throttled_time = g("throttled_usec") * 1000;
    s.cpuset.cpus = list(d, "cpuset.cpus.effective");
    s.cpuset.mems = list(d, "cpuset.mems.effective");

    s.memory.usage = MemoryEntry {
        limit: opt(d, "memory.max"),
        usage: opt(d, "memory.current"),
        max: opt(d, "memory.peak"),
        failcnt: keyed_value(d, "memory.events", "max").unwrap_or(0),
    };
    if d.join("memory.swap.current").exists() {
        s.memory.swap = MemoryEntry {
            limit: opt(d, "memory.swap.max"),
            usage: opt(d, "memory.swap.current"),
            max: opt(d, "memory.swap.peak"),
            failcnt: keyed_value(d, "memory.swap.events", "max").unwrap_or(0),
        };
    }
    s.memory.raw = read_flat_keyed(d, "memory.stat")
        .unwrap_or_default()
        .into_iter()
        .collect();
    s.memory.cache = s.memory.raw.get("file").copied().unwrap_or(0);
    s.pids = pids(d);
    if let Ok(text) = read(d, "io.stat") {
        for l in text.lines() {
            let mut f = l.split_whitespace();
            let Some((maj, min)) = f.next().and_then(|dev| dev.split_once(':')) else {
                continue;
            };
            let (Ok(major), Ok(minor)) = (maj.parse::<u64>(), min.parse::<u64>()) else {
                continue;
            };
            for kv in f {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let Ok(value) = v.parse::<u64>() else {
                    continue;
                };
                let (list, op) = match k {
                    "rbytes" => (&mut s.blkio.io_service_bytes_recursive, "Read"),
                    "wbytes" => (&mut s.blkio.io_service_bytes_recursive, "Write"),
                    "rios" => (&mut s.blkio.io_serviced_recursive, "Read"),
                    "wios" => (&mut s.blkio.io_serviced_recursive, "Write"),
                    _ => continue,
                };
                list.push(BlkioEntry {
                    major,
                    minor,
                    op: op.into(),
                    value,
                });
            }
        }
    }
    hugetlb_v2(d, s);
}

#[cfg(test)]
mod runc_shape {
    use super::*;

    #[test]
    fn cpuset_lists_and_the_keys_runc_prints() {
        let dir = std::env::temp_dir().join(format!("remora-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cpuset.cpus"), "0-2,5\n").unwrap();
        assert_eq!(list(&dir, "cpuset.cpus"), vec![0, 1, 2, 5]);
        assert!(list(&dir, "cpuset.mems").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
        let v = serde_json::to_value(Stats::default()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        for k in [
            "cpu",
            "cpuset",
            "memory",
            "pids",
            "blkio",
            "hugetlb",
            "intel_rdt",
            "network_interfaces",
        ] {
            assert!(keys.iter().any(|x| *x == k), "{k} missing: {keys:?}");
        }
        assert_eq!(v["intel_rdt"], serde_json::json!({}));
        assert!(v["network_interfaces"].is_null());
    }
}
