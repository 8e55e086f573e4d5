//! process.ioPriority: the process's I/O scheduling class and level,
//! set with ioprio_set(2) before execve (which keeps them).

use oci_spec::runtime::{IOPriorityClass, LinuxIOPriority};

use crate::sys::sched::ioprio_set;

use super::ProcessError;

/// The classes by their spec names.
pub const CLASS_NAMES: &[&str] = &["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];

/// class << 13 | level, as ioprio_set(2) takes it; the level is 0..=7
/// (0 is the highest).
pub fn value_of(p: &LinuxIOPriority) -> Result<i32, ProcessError> {
    let class = match p.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let level = p.priority();
    if !(0..=7).contains(&level) {
        return Err(ProcessError::invalid(
            format!("process.ioPriority.priority {level}"),
            "must be between 0 and 7",
        ));
    }
    Ok((class << 13) | i32::try_from(level).expect("checked 0..=7"))
}

/// Sets the calling process's I/O priority.
pub fn apply(p: &LinuxIOPriority) -> Result<(), ProcessError> {
    let v = value_of(p)?;
    ioprio_set(v)
        .map_err(|e| ProcessError::sys(format!("process.ioPriority {}: ioprio_set", p.class()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prio(json: &str) -> LinuxIOPriority {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn class_and_level() {
        let v = value_of(&prio(r#"{"class":"IOPRIO_CLASS_BE","priority":5}"#)).unwrap();
        assert_eq!(v, (2 << 13) | 5);
        let v = value_of(&prio(r#"{"class":"IOPRIO_CLASS_IDLE","priority":0}"#)).unwrap();
        assert_eq!(v, 3 << 13);
        let e = value_of(&prio(r#"{"class":"IOPRIO_CLASS_RT","priority":8}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "process.ioPriority.priority 8: must be between 0 and 7"
        );
    }

    #[test]
    fn unknown_class_does_not_parse() {
        assert!(serde_json::from_str::<LinuxIOPriority>(r#"{"class":"IOPRIO_CLASS_X"}"#).is_err());
    }
}
