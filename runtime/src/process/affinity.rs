//! process.execCPUAffinity and the reset of an inherited CPU affinity.
//!
//! A process joins its container with the CPU affinity of the remora that
//! started it; a remora run under `taskset -c 0` (or a service's
//! CPUAffinity=) would pass that on. As runc >= 1.2.7, the container's
//! process is reset to every CPU right after it joins its cgroups: the
//! kernel narrows that to the cgroup's cpuset (sched_setaffinity(2)), so
//! the process ends up with its cpuset, not with remora's affinity.
//!
//! For `exec`, execCPUAffinity (from process.json, or from config.json's
//! process when exec is given a command) adds: `initial`, the affinity the
//! process has before it joins the container's cgroups, and `final`, the
//! one it has at execve. The spec makes execCPUAffinity inapplicable to the
//! container's init: `create` ignores it there, as runc.

use oci_spec::runtime::{ExecCPUAffinity, Process};

use crate::sys::sched::{set_affinity, CPU_SETSIZE};

use super::{idlist, ProcessError};

/// The CPUs of a list in execCPUAffinity; the error names the field.
pub fn cpus(field: &str, list: &str) -> Result<Vec<usize>, ProcessError> {
    idlist::parse(list, CPU_SETSIZE).map_err(|source| ProcessError::List {
        field: format!("process.execCPUAffinity.{field} {list:?}"),
        source,
    })
}

/// Checks both lists (no root needed).
pub fn check(a: &ExecCPUAffinity) -> Result<(), ProcessError> {
    if let Some(l) = a.initial().as_deref().filter(|l| !l.is_empty()) {
        cpus("initial", l)?;
    }
    if let Some(l) = a.cpu_affinity_final().as_deref().filter(|l| !l.is_empty()) {
        cpus("final", l)?;
    }
    Ok(())
}

fn field(p: Option<&Process>, pick: fn(&ExecCPUAffinity) -> &Option<String>) -> Option<&str> {
    p.and_then(|p| p.exec_cpu_affinity().as_ref())
        .and_then(|a| pick(a).as_deref())
        .filter(|l| !l.is_empty())
}

fn initial_of(p: Option<&Process>) -> Option<&str> {
    field(p, ExecCPUAffinity::initial)
}

fn final_of(p: Option<&Process>) -> Option<&str> {
    field(p, ExecCPUAffinity::cpu_affinity_final)
}

fn set(name: &str, list: &str) -> Result<(), ProcessError> {
    let cpus = cpus(name, list)?;
    set_affinity(cpus)
        .map_err(|e| ProcessError::sys(format!("process.execCPUAffinity.{name} {list:?}"), e))
}

/// exec: `initial`, before the process joins the container's cgroups.
pub fn apply_initial(p: Option<&Process>) -> Result<(), ProcessError> {
    match initial_of(p) {
        Some(l) => set("initial", l),
        None => Ok(()),
    }
}

/// After the cgroups are joined: every CPU, which the kernel narrows to
/// the cpuset. Skipped when exec's `initial` is given without `final`: the
/// spec then leaves the affinity to the kernel.
pub fn reset_to_cpuset(p: Option<&Process>, exec: bool) -> Result<(), ProcessError> {
    if exec && initial_of(p).is_some() && final_of(p).is_none() {
        return Ok(());
    }
    set_affinity(0..CPU_SETSIZE)
        .map_err(|e| ProcessError::sys("resetting the CPU affinity to the container's cpuset", e))
}

/// exec: `final`, the affinity the process execs with.
pub fn apply_final(p: Option<&Process>) -> Result<(), ProcessError> {
    match final_of(p) {
        Some(l) => set("final", l),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(affinity: serde_json::Value) -> Process {
        serde_json::from_value(serde_json::json!({"cwd": "/", "args": ["sh"],
            "user": {"uid": 0, "gid": 0}, "execCPUAffinity": affinity}))
        .unwrap()
    }

    #[test]
    fn lists_are_checked_naming_the_field() {
        let p = process(serde_json::json!({"initial": "0-1,3", "final": "2"}));
        check(p.exec_cpu_affinity().as_ref().unwrap()).unwrap();
        assert_eq!(cpus("final", "0-1,3").unwrap(), vec![0, 1, 3]);
        let e = cpus("initial", "1-0").unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "process.execCPUAffinity.initial \"1-0\": \"1-0\": the range is reversed"
        );
    }

    #[test]
    fn initial_and_final_are_read_from_the_process() {
        let p = process(serde_json::json!({"initial": "1"}));
        assert_eq!(
            (initial_of(Some(&p)), final_of(Some(&p))),
            (Some("1"), None)
        );
        let p = process(serde_json::json!({"final": "0"}));
        assert_eq!(
            (initial_of(Some(&p)), final_of(Some(&p))),
            (None, Some("0"))
        );
        assert_eq!(initial_of(None), None);
    }
}
