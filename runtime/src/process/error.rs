//! The error of the process/ helpers (capabilities, rlimits, LSM labels,
//! scheduler, I/O priority, CPU affinity, personality, memory policy,
//! the program lookup, the private procfs). As everywhere in the crate:
//! the text names the field, the cause is the source and is not repeated
//! (error::chain says the whole of it, once).

use super::idlist::IdListError;
use super::lsm::AttrError;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A value that is wrong (as the config checks find it, without
    /// root): `field` names it with its value.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A CPU or node list that does not parse.
    #[error("{field}")]
    List {
        field: String,
        #[source]
        source: IdListError,
    },
    /// A system call (or a procfs write) that failed; `what` names the
    /// field and the call.
    #[error("{what}")]
    Sys {
        what: String,
        #[source]
        source: SysError,
    },
    /// The init's private /proc handle is not on procfs.
    #[error("/proc is not procfs (magic {0:#x})")]
    NotProcfs(i64),
}

impl ProcessError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ProcessError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn sys(what: impl Into<String>, source: impl Into<SysError>) -> Self {
        ProcessError::Sys {
            what: what.into(),
            source: source.into(),
        }
    }
}

/// Why a system call failed.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Caps(#[from] caps::errors::CapsError),
    /// An LSM attribute write (process::lsm).
    #[error(transparent)]
    Attr(#[from] AttrError),
    /// The kernel's error followed by what to check, as the user reads
    /// it (sched_setattr's EPERM for a real-time policy). A leaf: the
    /// error is said in this text, so it is not a source too.
    #[error("{error}{hint}")]
    Hinted {
        error: std::io::Error,
        hint: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    #[test]
    fn the_cause_follows_the_field_once() {
        let e = ProcessError::sys(
            "process.ioPriority IOPRIO_CLASS_RT: ioprio_set",
            std::io::Error::from_raw_os_error(libc::EPERM),
        );
        assert_eq!(
            chain(&e),
            "process.ioPriority IOPRIO_CLASS_RT: ioprio_set: Operation not permitted (os error 1)"
        );
        let e = ProcessError::invalid("process.scheduler.nice 20", "must be between -20 and 19");
        assert_eq!(
            chain(&e),
            "process.scheduler.nice 20: must be between -20 and 19"
        );
        let e = ProcessError::sys(
            "process.scheduler SCHED_FIFO: sched_setattr",
            SysError::Hinted {
                error: std::io::Error::from_raw_os_error(libc::EPERM),
                hint: " (a hint)",
            },
        );
        assert_eq!(
            chain(&e),
            "process.scheduler SCHED_FIFO: sched_setattr: Operation not permitted (os error 1) (a hint)"
        );
    }
}
