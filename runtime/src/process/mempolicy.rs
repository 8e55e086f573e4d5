//! linux.memoryPolicy: the NUMA memory policy of the container's
//! processes, set with set_mempolicy(2) before execve (which keeps it).
//!
//! MPOL_DEFAULT and MPOL_LOCAL take no nodes; the other modes need nodes
//! (MPOL_PREFERRED with none means local allocation, as the kernel has
//! it). Nodes the host lacks are an error naming them, unless
//! MPOL_F_RELATIVE_NODES makes them relative to the allowed ones.
//! MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other.

use oci_spec::runtime::{LinuxMemoryPolicy, MemoryPolicyFlagType, MemoryPolicyModeType};

use super::{idlist, ProcessError};

/// The modes and flags by their spec names (config.json is checked
/// against them; `features` reports them).
pub const MODE_NAMES: &[&str] = &[
    "MPOL_DEFAULT",
    "MPOL_PREFERRED",
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_LOCAL",
    "MPOL_PREFERRED_MANY",
    "MPOL_WEIGHTED_INTERLEAVE",
];
pub const FLAG_NAMES: &[&str] = &[
    "MPOL_F_NUMA_BALANCING",
    "MPOL_F_RELATIVE_NODES",
    "MPOL_F_STATIC_NODES",
];

/// The highest node number set_mempolicy(2) is given here, plus one
/// (the kernel's MAX_NUMNODES is at most 1024).
const MAX_NODES: usize = 1024;
const WORD_BITS: usize = 8 * std::mem::size_of::<libc::c_ulong>();

/// What set_mempolicy(2) is called with: mode | flags and the node mask.
#[derive(Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: i32,
    pub nodes: Vec<libc::c_ulong>,
}

fn mode_number(m: MemoryPolicyModeType) -> i32 {
    match m {
        MemoryPolicyModeType::MpolDefault => 0,
        MemoryPolicyModeType::MpolPreferred => 1,
        MemoryPolicyModeType::MpolBind => 2,
        MemoryPolicyModeType::MpolInterleave => 3,
        MemoryPolicyModeType::MpolLocal => 4,
        MemoryPolicyModeType::MpolPreferredMany => 5,
        MemoryPolicyModeType::MpolWeightedInterleave => 6,
    }
}

fn flag_bit(f: MemoryPolicyFlagType) -> i32 {
    match f {
        MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
        MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
        MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
    }
}

/// The call a memoryPolicy asks for. `host_nodes` are the host's nodes
/// (None: not checked, for unit tests of the shape alone).
pub fn policy_of(
    p: &LinuxMemoryPolicy,
    host_nodes: Option<&[usize]>,
) -> Result<Policy, ProcessError> {
    let mode = p.mode();
    let flags = p.flags().clone().unwrap_or_default();
    let list = p
        .nodes()
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let nodes = match list {
        Some(l) => idlist::parse(l, MAX_NODES).map_err(|source| ProcessError::List {
            field: format!("linux.memoryPolicy.nodes {l:?}"),
            source,
        })?,
        None => Vec::new(),
    };
    match mode {
        MemoryPolicyModeType::MpolDefault | MemoryPolicyModeType::MpolLocal => {
            if !nodes.is_empty() {
                return Err(ProcessError::invalid(
                    "linux.memoryPolicy.nodes",
                    format!("{mode} takes no nodes"),
                ));
            }
            if !flags.is_empty() {
                return Err(ProcessError::invalid(
                    "linux.memoryPolicy.flags",
                    format!("{mode} takes no flags"),
                ));
            }
        }
        MemoryPolicyModeType::MpolPreferred => {}
        _ if nodes.is_empty() => {
            return Err(ProcessError::invalid(
                "linux.memoryPolicy.nodes",
                format!("{mode} needs nodes"),
            ));
        }
        _ => {}
    }
    let relative = flags.contains(&MemoryPolicyFlagType::MpolFRelativeNodes);
    if relative && flags.contains(&MemoryPolicyFlagType::MpolFStaticNodes) {
        return Err(ProcessError::invalid(
            "linux.memoryPolicy.flags",
            "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
        ));
    }
    if let (Some(host), false) = (host_nodes, relative) {
        let missing: Vec<String> = nodes
            .iter()
            .filter(|n| !host.contains(n))
            .map(|n| n.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ProcessError::invalid(
                format!("linux.memoryPolicy.nodes {:?}", list.unwrap_or_default()),
                format!(
                    "node {} not on this host (its nodes: {})",
                    missing.join(", "),
                    host.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            ));
        }
    }
    let mut mask = Vec::new();
    if let Some(&last) = nodes.last() {
        mask = vec![0 as libc::c_ulong; last / WORD_BITS + 1];
        for n in &nodes {
            mask[n / WORD_BITS] |= 1 << (n % WORD_BITS);
        }
    }
    Ok(Policy {
        mode: mode_number(mode) | flags.iter().map(|f| flag_bit(*f)).fold(0, |a, b| a | b),
        nodes: mask,
    })
}

/// The host's NUMA nodes (/sys/devices/system/node/online); None when the
/// kernel has no NUMA support.
pub fn host_nodes() -> Option<Vec<usize>> {
    let s = std::fs::read_to_string("/sys/devices/system/node/online").ok()?;
    idlist::parse(s.trim(), MAX_NODES).ok()
}

/// Whether the host can apply a memory policy at all.
pub fn supported() -> bool {
    std::path::Path::new("/proc/self/numa_maps").exists()
}

/// The checks that need no root; the host's nodes are read.
pub fn check(p: &LinuxMemoryPolicy) -> Result<(), ProcessError> {
    if !supported() {
        return Err(ProcessError::invalid(
            "linux.memoryPolicy",
            "the kernel has no NUMA support (CONFIG_NUMA): no memory policy can be set",
        ));
    }
    policy_of(p, host_nodes().as_deref()).map(drop)
}

/// Sets the calling process's memory policy.
pub fn apply(p: &LinuxMemoryPolicy) -> Result<(), ProcessError> {
    let pol = policy_of(p, host_nodes().as_deref())?;
    crate::sys::numa::set_mempolicy(pol.mode, &pol.nodes).map_err(|e| {
        ProcessError::sys(format!("linux.memoryPolicy {}: set_mempolicy", p.mode()), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pol(json: &str) -> LinuxMemoryPolicy {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn modes_flags_and_masks() {
        let p = policy_of(&pol(r#"{"mode":"MPOL_BIND","nodes":"0-1,3"}"#), None).unwrap();
        assert_eq!(
            p,
            Policy {
                mode: 2,
                nodes: vec![0b1011]
            }
        );
        let p = pol(r#"{"mode":"MPOL_INTERLEAVE","nodes":"0","flags":["MPOL_F_STATIC_NODES"]}"#);
        assert_eq!(policy_of(&p, None).unwrap().mode, 3 | 1 << 15);
        let p = pol(r#"{"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_NUMA_BALANCING"]}"#);
        assert_eq!(policy_of(&p, None).unwrap().mode, 2 | 1 << 13);
        let p = policy_of(&pol(r#"{"mode":"MPOL_LOCAL"}"#), None).unwrap();
        assert_eq!(
            p,
            Policy {
                mode: 4,
                nodes: vec![]
            }
        );
        let p = policy_of(&pol(r#"{"mode":"MPOL_BIND","nodes":"64"}"#), None).unwrap();
        assert_eq!(p.nodes.len(), 64 / WORD_BITS + 1);
    }

    #[test]
    fn shape_errors_name_the_field() {
        for (json, want) in [
            (r#"{"mode":"MPOL_DEFAULT","nodes":"0"}"#, "takes no nodes"),
            (r#"{"mode":"MPOL_BIND"}"#, "needs nodes"),
            (
                r#"{"mode":"MPOL_BIND","nodes":"x"}"#,
                "linux.memoryPolicy.nodes \"x\"",
            ),
            (
                r#"{"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_STATIC_NODES","MPOL_F_RELATIVE_NODES"]}"#,
                "exclude each other",
            ),
        ] {
            let e = crate::error::chain(&policy_of(&pol(json), None).unwrap_err());
            assert!(e.contains(want), "{json}: {e}");
        }
        assert!(serde_json::from_str::<LinuxMemoryPolicy>(r#"{"mode":"MPOL_X"}"#).is_err());
    }

    #[test]
    fn a_node_the_host_lacks_is_named() {
        let p = pol(r#"{"mode":"MPOL_BIND","nodes":"0-1,3"}"#);
        let e = policy_of(&p, Some(&[0])).unwrap_err().to_string();
        assert_eq!(
            e,
            "linux.memoryPolicy.nodes \"0-1,3\": node 1, 3 not on this host (its nodes: 0)"
        );
        let rel = pol(r#"{"mode":"MPOL_BIND","nodes":"1","flags":["MPOL_F_RELATIVE_NODES"]}"#);
        assert!(policy_of(&rel, Some(&[0])).is_ok());
    }
}
