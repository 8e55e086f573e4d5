//! Turning `remora update`'s flags (or its JSON) into LinuxResources.

use std::io::Read;

use oci_spec::runtime::LinuxResources;
use serde_json::{json, Value};

use crate::cli::UpdateArgs;
use crate::error::{Error, Result};

/// "512m", "1g", "100000" (runc's RAMInBytes: binary multiples; -1 = no limit).
pub fn parse_bytes(flag: &str, s: &str) -> Result<i64> {
    let bad = || {
        Error::argument(format!(
            "--{flag} {s:?}: not a size (e.g. 512m, 1g, 1048576)"
        ))
    };
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    if n < 0.0 {
        return Err(bad());
    }
    let v = n * mult as f64;
    // 2^63 is exactly representable; `as` saturates and drops the fraction.
    if v >= 9_223_372_036_854_775_808.0 {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation)] // checked in range just above
    let v = v as i64;
    Ok(v)
}

pub fn resources(a: &UpdateArgs) -> Result<LinuxResources> {
    let mut v: Value = match a.resources.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("reading resources from stdin", e))?;
            serde_json::from_str(&s).map_err(|e| Error::config(format!("--resources: {e}")))?
        }
        Some(path) => {
            let data =
                std::fs::read(path).map_err(|e| Error::io(format!("--resources {path}"), e))?;
            serde_json::from_slice(&data)
                .map_err(|e| Error::config(format!("--resources {path}: {e}")))?
        }
        None => json!({}),
    };
    let mut set = |section: &str, key: &str, val: Value| {
        if v.get(section).is_none() {
            v[section] = json!({});
        }
        v[section][key] = val;
    };
    if let Some(w) = a.blkio_weight {
        set("blockIO", "weight", json!(w));
    }
    if let Some(x) = a.cpu_period {
        set("cpu", "period", json!(x));
    }
    if let Some(x) = a.cpu_quota {
        set("cpu", "quota", json!(x));
    }
    if let Some(x) = a.cpu_burst {
        set("cpu", "burst", json!(x));
    }
    if let Some(x) = a.cpu_idle {
        set("cpu", "idle", json!(x));
    }
    if let Some(x) = a.cpu_rt_period {
        set("cpu", "realtimePeriod", json!(x));
    }
    if let Some(x) = a.cpu_rt_runtime {
        set("cpu", "realtimeRuntime", json!(x));
    }
    if let Some(x) = a.cpu_share {
        set("cpu", "shares", json!(x));
    }
    if let Some(x) = &a.cpuset_cpus {
        set("cpu", "cpus", json!(x));
    }
    if let Some(x) = &a.cpuset_mems {
        set("cpu", "mems", json!(x));
    }
    if let Some(x) = &a.memory {
        set("memory", "limit", json!(parse_bytes("memory", x)?));
    }
    if let Some(x) = &a.memory_reservation {
        set(
            "memory",
            "reservation",
            json!(parse_bytes("memory-reservation", x)?),
        );
    }
    if let Some(x) = &a.memory_swap {
        set("memory", "swap", json!(parse_bytes("memory-swap", x)?));
    }
    if let Some(x) = &a.kernel_memory {
        set("memory", "kernel", json!(parse_bytes("kernel-memory", x)?));
    }
    if let Some(x) = a.pids_limit {
        set("pids", "limit", json!(x));
    }
    serde_json::from_value(v).map_err(|e| Error::config(format!("update: invalid resources: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("memory", "1048576").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("memory", "512m").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("memory", "1G").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("memory", "-1").unwrap(), -1);
        assert!(parse_bytes("memory", "lots").is_err());
    }
}
