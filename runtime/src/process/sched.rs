//! process.scheduler: the process's scheduling policy and parameters,
//! set with sched_setattr(2) before execve (which keeps them).

use oci_spec::runtime::{LinuxSchedulerFlag, LinuxSchedulerPolicy, Scheduler};

use crate::sys::sched::{sched_setattr, SchedAttr};

use super::{ProcessError, SysError};

/// The policies by their spec names (SCHED_ISO parses, and is refused).
pub const POLICY_NAMES: &[&str] = &[
    "SCHED_OTHER",
    "SCHED_FIFO",
    "SCHED_RR",
    "SCHED_BATCH",
    "SCHED_ISO",
    "SCHED_IDLE",
    "SCHED_DEADLINE",
];

/// The kernel's number of a policy; SCHED_ISO is in the spec but not in
/// Linux.
fn policy_number(p: LinuxSchedulerPolicy) -> Result<u32, ProcessError> {
    Ok(match p {
        LinuxSchedulerPolicy::SchedOther => 0,
        LinuxSchedulerPolicy::SchedFifo => 1,
        LinuxSchedulerPolicy::SchedRr => 2,
        LinuxSchedulerPolicy::SchedBatch => 3,
        LinuxSchedulerPolicy::SchedIdle => 5,
        LinuxSchedulerPolicy::SchedDeadline => 6,
        LinuxSchedulerPolicy::SchedIso => {
            return Err(ProcessError::invalid(
                "process.scheduler.policy \"SCHED_ISO\"",
                "not supported by the Linux kernel",
            ))
        }
    })
}

fn flag_bit(f: LinuxSchedulerFlag) -> u64 {
    match f {
        LinuxSchedulerFlag::SchedResetOnFork => 0x01,
        LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
        LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
        LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
        LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
        LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
        LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
    }
}

/// The sched_attr a scheduler section asks for, after the checks that
/// need no root: nice in -20..=19; a priority 1..=99 for SCHED_FIFO and
/// SCHED_RR and none for the others; runtime, deadline and period only for
/// SCHED_DEADLINE, with runtime <= deadline <= period (period 0: the
/// deadline).
pub fn attr_of(s: &Scheduler) -> Result<SchedAttr, ProcessError> {
    let policy = *s.policy();
    let number = policy_number(policy)?;
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(ProcessError::invalid(
            format!("process.scheduler.nice {nice}"),
            "must be between -20 and 19",
        ));
    }
    let priority = s.priority().unwrap_or(0);
    let realtime = matches!(
        policy,
        LinuxSchedulerPolicy::SchedFifo | LinuxSchedulerPolicy::SchedRr
    );
    if realtime && !(1..=99).contains(&priority) {
        return Err(ProcessError::invalid(
            format!("process.scheduler.priority {priority}"),
            format!("{policy} needs a priority between 1 and 99"),
        ));
    }
    if !realtime && priority != 0 {
        return Err(ProcessError::invalid(
            format!("process.scheduler.priority {priority}"),
            "only SCHED_FIFO and SCHED_RR take a priority",
        ));
    }
    let (runtime, deadline, period) = (
        s.runtime().unwrap_or(0),
        s.deadline().unwrap_or(0),
        s.period().unwrap_or(0),
    );
    if policy == LinuxSchedulerPolicy::SchedDeadline {
        if runtime == 0 || deadline == 0 {
            return Err(ProcessError::invalid(
                "process.scheduler",
                "SCHED_DEADLINE needs runtime and deadline (nanoseconds)",
            ));
        }
        if runtime > deadline || (period != 0 && deadline > period) {
            return Err(ProcessError::invalid(
                "process.scheduler",
                format!(
                    "SCHED_DEADLINE needs runtime <= deadline <= period (runtime {runtime}, deadline {deadline}, period {period})"
                ),
            ));
        }
    } else if runtime != 0 || deadline != 0 || period != 0 {
        return Err(ProcessError::invalid(
            "process.scheduler",
            format!("runtime, deadline and period apply to SCHED_DEADLINE only, not {policy}"),
        ));
    }
    let flags = s
        .flags()
        .iter()
        .flatten()
        .map(|f| flag_bit(*f))
        .fold(0, |a, b| a | b);
    Ok(SchedAttr {
        policy: number,
        flags,
        nice,
        priority: priority.unsigned_abs(), // checked: 0 or 1..=99
        runtime,
        deadline,
        period,
        // With SCHED_FLAG_UTIL_CLAMP_*: the spec gives no values; the
        // whole range (no clamping).
        util_min: 0,
        util_max: 1024,
        ..Default::default()
    })
}

/// Sets the calling process's scheduler.
pub fn apply(s: &Scheduler) -> Result<(), ProcessError> {
    let attr = attr_of(s)?;
    sched_setattr(&attr).map_err(|e| {
        let what = format!("process.scheduler {}: sched_setattr", s.policy());
        match (*s.policy(), e.raw_os_error()) {
            (
                LinuxSchedulerPolicy::SchedFifo | LinuxSchedulerPolicy::SchedRr,
                Some(libc::EPERM),
            ) => ProcessError::sys(
                what,
                SysError::Hinted {
                    error: e,
                    hint: " (in a cpu cgroup, a real-time policy needs real-time time: linux.resources.cpu.realtimeRuntime)",
                },
            ),
            _ => ProcessError::sys(what, e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(json: &str) -> Scheduler {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn batch_with_nice() {
        let a = attr_of(&sched(r#"{"policy":"SCHED_BATCH","nice":7}"#)).unwrap();
        assert_eq!((a.policy, a.nice, a.priority), (3, 7, 0));
    }

    #[test]
    fn realtime_needs_a_priority_and_others_take_none() {
        assert!(attr_of(&sched(r#"{"policy":"SCHED_FIFO"}"#)).is_err());
        assert!(attr_of(&sched(r#"{"policy":"SCHED_RR","priority":100}"#)).is_err());
        let a = attr_of(&sched(r#"{"policy":"SCHED_RR","priority":10}"#)).unwrap();
        assert_eq!((a.policy, a.priority), (2, 10));
        let e = attr_of(&sched(r#"{"policy":"SCHED_OTHER","priority":3}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "process.scheduler.priority 3: only SCHED_FIFO and SCHED_RR take a priority"
        );
    }

    #[test]
    fn nice_out_of_range() {
        let e = attr_of(&sched(r#"{"policy":"SCHED_OTHER","nice":20}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "process.scheduler.nice 20: must be between -20 and 19"
        );
    }

    #[test]
    fn deadline_parameters() {
        let ok =
            r#"{"policy":"SCHED_DEADLINE","runtime":1000000,"deadline":2000000,"period":4000000}"#;
        let a = attr_of(&sched(ok)).unwrap();
        assert_eq!(
            (a.policy, a.runtime, a.deadline, a.period),
            (6, 1000000, 2000000, 4000000)
        );
        let bad = r#"{"policy":"SCHED_DEADLINE","runtime":3000000,"deadline":2000000}"#;
        assert!(attr_of(&sched(bad)).is_err());
        let stray = r#"{"policy":"SCHED_BATCH","runtime":1000}"#;
        assert!(attr_of(&sched(stray))
            .unwrap_err()
            .to_string()
            .contains("SCHED_DEADLINE only"));
    }

    #[test]
    fn iso_is_refused_and_flags_are_or_ed() {
        let e = attr_of(&sched(r#"{"policy":"SCHED_ISO"}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "process.scheduler.policy \"SCHED_ISO\": not supported by the Linux kernel"
        );
        let mut s = sched(r#"{"policy":"SCHED_OTHER"}"#);
        s.set_flags(Some(vec![
            LinuxSchedulerFlag::SchedResetOnFork,
            LinuxSchedulerFlag::SchedFlagKeepParams,
        ]));
        assert_eq!(attr_of(&s).unwrap().flags, 0x11);
    }
}
