//! Checks `linux.resources` before anything is created on the host.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources};

use crate::error::{CgroupError, Result};

/// The kernel's PID_MAX_LIMIT: pids.max accepts nothing larger.
const PID_MAX_LIMIT: i64 = 4 * 1024 * 1024;

fn at_least_minus_one(field: &str, v: Option<i64>) -> Result<()> {
    match v {
        Some(v) if v < -1 => Err(CgroupError::invalid(
            field,
            v,
            "must be -1 (unlimited) or a non-negative number",
        )),
        _ => Ok(()),
    }
}

/// Validates every field the cgroup code will write.
pub fn validate(r: &LinuxResources) -> Result<()> {
    if let Some(m) = r.memory() {
        let f = "linux.resources.memory";
        at_least_minus_one(&format!("{f}.limit"), m.limit())?;
        at_least_minus_one(&format!("{f}.reservation"), m.reservation())?;
        at_least_minus_one(&format!("{f}.swap"), m.swap())?;
        #[allow(deprecated)]
        at_least_minus_one(&format!("{f}.kernel"), m.kernel())?;
        at_least_minus_one(&format!("{f}.kernelTCP"), m.kernel_tcp())?;
        if let Some(s) = m.swappiness() {
            if s > 100 {
                return Err(CgroupError::invalid(
                    format!("{f}.swappiness"),
                    s,
                    "must be between 0 and 100",
                ));
            }
        }
        if let (Some(l), Some(s)) = (m.limit(), m.swap()) {
            if l > 0 && s >= 0 && s < l {
                return Err(CgroupError::invalid(
                    format!("{f}.swap"),
                    s,
                    "memory+swap must not be lower than memory.limit",
                ));
            }
        }
    }
    if let Some(c) = r.cpu() {
        let f = "linux.resources.cpu";
        if let Some(s) = c.shares() {
            if s != 0 && !(2..=262_144).contains(&s) {
                return Err(CgroupError::invalid(
                    format!("{f}.shares"),
                    s,
                    "must be between 2 and 262144",
                ));
            }
        }
        if let Some(q) = c.quota() {
            if q < -1 || (q > 0 && q < 1000) {
                return Err(CgroupError::invalid(
                    format!("{f}.quota"),
                    q,
                    "must be -1 (unlimited) or at least 1000 microseconds",
                ));
            }
        }
        if let Some(p) = c.period() {
            if p != 0 && !(1000..=1_000_000).contains(&p) {
                return Err(CgroupError::invalid(
                    format!("{f}.period"),
                    p,
                    "must be between 1000 and 1000000 microseconds",
                ));
            }
        }
        at_least_minus_one(&format!("{f}.realtimeRuntime"), c.realtime_runtime())?;
        if let Some(i) = c.idle() {
            if i != 0 && i != 1 {
                return Err(CgroupError::invalid(
                    format!("{f}.idle"),
                    i,
                    "must be 0 or 1",
                ));
            }
        }
        for (name, v) in [("cpus", c.cpus()), ("mems", c.mems())] {
            if let Some(v) = v {
                if !is_cpu_list(v) {
                    return Err(CgroupError::invalid(
                        format!("{f}.{name}"),
                        v,
                        "must be a list such as \"0-3,5\"",
                    ));
                }
            }
        }
    }
    if let Some(p) = r.pids() {
        let l = p.limit();
        if !(-1..=PID_MAX_LIMIT).contains(&l) {
            return Err(CgroupError::invalid(
                "linux.resources.pids.limit",
                l,
                "must be -1 (unlimited), 0 (unset) or at most 4194304",
            ));
        }
    }
    if let Some(b) = r.block_io() {
        let f = "linux.resources.blockIO";
        for (name, w) in [("weight", b.weight()), ("leafWeight", b.leaf_weight())] {
            check_weight(&format!("{f}.{name}"), w)?;
        }
        for (i, d) in b.weight_device().iter().flatten().enumerate() {
            check_dev(&format!("{f}.weightDevice[{i}]"), d.major(), d.minor())?;
            check_weight(&format!("{f}.weightDevice[{i}].weight"), d.weight())?;
            check_weight(
                &format!("{f}.weightDevice[{i}].leafWeight"),
                d.leaf_weight(),
            )?;
        }
        for (name, list) in [
            ("throttleReadBpsDevice", b.throttle_read_bps_device()),
            ("throttleWriteBpsDevice", b.throttle_write_bps_device()),
            ("throttleReadIOPSDevice", b.throttle_read_iops_device()),
            ("throttleWriteIOPSDevice", b.throttle_write_iops_device()),
        ] {
            for (i, d) in list.iter().flatten().enumerate() {
                check_dev(&format!("{f}.{name}[{i}]"), d.major(), d.minor())?;
            }
        }
    }
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let f = format!("linux.resources.hugepageLimits[{i}]");
        if parse_page_size(h.page_size()).is_none() {
            return Err(CgroupError::invalid(
                format!("{f}.pageSize"),
                h.page_size(),
                "must be a size such as \"2MB\" or \"1GB\"",
            ));
        }
        if h.limit() < 0 {
            return Err(CgroupError::invalid(
                format!("{f}.limit"),
                h.limit(),
                "must not be negative",
            ));
        }
    }
    for (i, d) in r.devices().iter().flatten().enumerate() {
        check_device_rule(&format!("linux.resources.devices[{i}]"), d)?;
    }
    for key in r.unified().iter().flat_map(|u| u.keys()) {
        check_unified_key(key)?;
    }
    Ok(())
}

fn check_weight(field: &str, w: Option<u16>) -> Result<()> {
    match w {
        Some(w) if w != 0 && !(10..=1000).contains(&w) => Err(CgroupError::invalid(
            field,
            w,
            "must be between 10 and 1000",
        )),
        _ => Ok(()),
    }
}

fn check_dev(field: &str, major: i64, minor: i64) -> Result<()> {
    if major < 0 || minor < 0 {
        return Err(CgroupError::invalid(
            field,
            format!("{major}:{minor}"),
            "device numbers must not be negative",
        ));
    }
    Ok(())
}

pub(crate) fn check_device_rule(field: &str, d: &LinuxDeviceCgroup) -> Result<()> {
    if let Some(a) = d.access() {
        if a.chars().any(|c| !"rwm".contains(c)) {
            return Err(CgroupError::invalid(
                format!("{field}.access"),
                a,
                "may only hold the letters r, w and m",
            ));
        }
    }
    for (name, v) in [("major", d.major()), ("minor", d.minor())] {
        if let Some(v) = v {
            if v < -1 || v > u32::MAX as i64 {
                return Err(CgroupError::invalid(
                    format!("{field}.{name}"),
                    v,
                    "must be -1 (any) or a device number",
                ));
            }
        }
    }
    use oci_spec::runtime::LinuxDeviceType as T;
    if let Some(t) = d.typ() {
        if !matches!(t, T::A | T::B | T::C | T::U) {
            return Err(CgroupError::invalid(
                format!("{field}.type"),
                t.as_str(),
                "must be a, b or c",
            ));
        }
    }
    Ok(())
}

/// The unified keys that would break the cgroup rather than configure it.
const FORBIDDEN_UNIFIED: &[&str] = &[
    "cgroup.procs",
    "cgroup.threads",
    "cgroup.subtree_control",
    "cgroup.kill",
    "cgroup.type",
];

pub(crate) fn check_unified_key(key: &str) -> Result<()> {
    let field = format!("linux.resources.unified[{key:?}]");
    let ok_shape = key
        .split_once('.')
        .map(|(c, f)| {
            !c.is_empty()
                && !f.is_empty()
                && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')
        })
        .unwrap_or(false);
    if !ok_shape || key.contains('/') || key.contains('\0') {
        return Err(CgroupError::invalid(
            field,
            key,
            "must be a cgroup v2 file name such as \"memory.high\"",
        ));
    }
    if FORBIDDEN_UNIFIED.contains(&key) {
        return Err(CgroupError::invalid(
            field,
            key,
            "is not a resource setting",
        ));
    }
    Ok(())
}

/// "0-3,5" style lists.
fn is_cpu_list(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() {
        return true;
    }
    s.split(',').all(|part| {
        let mut it = part.splitn(2, '-');
        let a = it.next().unwrap_or("");
        let ok_a = !a.is_empty() && a.chars().all(|c| c.is_ascii_digit());
        match it.next() {
            None => ok_a,
            Some(b) => ok_a && !b.is_empty() && b.chars().all(|c| c.is_ascii_digit()),
        }
    })
}

/// "2MB" -> bytes. Accepts KB/MB/GB (also kB and the short forms K/M/G).
pub(crate) fn parse_page_size(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = &s[digits.len()..];
    let mul = match unit {
        "KB" | "kB" | "K" | "k" => 1 << 10,
        "MB" | "M" => 1 << 20,
        "GB" | "G" => 1 << 30,
        _ => return None,
    };
    if n == 0 || !n.is_power_of_two() {
        return None;
    }
    Some(n * mul)
}

/// The kernel's name for a page size: 2MB, 1GB, 64KB.
pub(crate) fn page_size_name(s: &str) -> Option<String> {
    let bytes = parse_page_size(s)?;
    Some(if bytes >= 1 << 30 {
        format!("{}GB", bytes >> 30)
    } else if bytes >= 1 << 20 {
        format!("{}MB", bytes >> 20)
    } else {
        format!("{}KB", bytes >> 10)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            r#"{"memory":{"limit":-5}}"#,
            r#"{"memory":{"swappiness":101}}"#,
            r#"{"memory":{"limit":1000000,"swap":10}}"#,
            r#"{"cpu":{"shares":1}}"#,
            r#"{"cpu":{"quota":10}}"#,
            r#"{"cpu":{"period":5000000}}"#,
            r#"{"cpu":{"cpus":"a-b"}}"#,
            r#"{"pids":{"limit":-2}}"#,
            r#"{"pids":{"limit":9223372036854775807}}"#,
            r#"{"blockIO":{"weight":5}}"#,
            r#"{"hugepageLimits":[{"pageSize":"3MB","limit":1}]}"#,
            r#"{"devices":[{"allow":true,"access":"rwx"}]}"#,
            r#"{"unified":{"nonsense":"1"}}"#,
            r#"{"unified":{"../memory.max":"1"}}"#,
            r#"{"unified":{"cgroup.procs":"1"}}"#,
        ] {
            assert!(validate(&res(bad)).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn accepts_good_values() {
        for good in [
            r#"{"memory":{"limit":-1,"swap":-1}}"#,
            r#"{"memory":{"limit":10485760,"swap":20971520,"swappiness":0}}"#,
            r#"{"cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"}}"#,
            r#"{"pids":{"limit":-1}}"#,
            r#"{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}"#,
            r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]}"#,
            r#"{"unified":{"memory.high":"max","pids.max":"10"}}"#,
        ] {
            assert!(validate(&res(good)).is_ok(), "{good} refused");
        }
    }

    #[test]
    fn error_names_the_field() {
        let e = validate(&res(r#"{"pids":{"limit":-7}}"#)).unwrap_err();
        assert!(e.to_string().contains("linux.resources.pids.limit"), "{e}");
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size_name("2MB").as_deref(), Some("2MB"));
        assert_eq!(page_size_name("1GB").as_deref(), Some("1GB"));
        assert_eq!(page_size_name("2048KB").as_deref(), Some("2MB"));
        assert_eq!(page_size_name("64KB").as_deref(), Some("64KB"));
    }
}
