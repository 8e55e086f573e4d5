//! The init's error: typed up to the process boundary, where
//! [`super::run`] makes it text once (the whole chain) for the parent, or
//! `remora start` on the exec fifo.

use crate::protocol::ProtocolError;
use crate::rootfs::RootfsError;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Namespace(#[from] remora_namespaces::JoinError),
    #[error(transparent)]
    Cgroup(#[from] remora_cgroups::CgroupError),
    #[error(transparent)]
    Seccomp(#[from] remora_seccomp::SeccompError),
    /// The conversation with the parent failed: the parent has gone or
    /// has said why itself.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A system call of a step; `context` names the field or path.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// execve of the container's program failed.
    #[error("process.args[0] {program:?}: exec")]
    Exec {
        program: std::path::PathBuf,
        #[source]
        source: nix::errno::Errno,
    },
    /// The process/ helpers (they name the field themselves).
    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),
    /// createContainer and startContainer hooks.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// process.terminal.
    #[error(transparent)]
    Terminal(#[from] crate::terminal::TerminalError),
    /// process.cwd was entered but is not inside the container.
    #[error("process.cwd {cwd:?}: current directory {current:?} is outside the container")]
    CwdOutside {
        cwd: std::path::PathBuf,
        current: std::path::PathBuf,
    },
    /// An argument or environment entry execve cannot take; `value` is
    /// its quoted form.
    #[error("process: NUL byte in {value}")]
    NulByte { value: String },
}

/// A step of the init: nothing, or why it failed.
pub type Step<T = ()> = Result<T, InitError>;

/// Adds what a step was doing to an io error.
pub trait StepContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Step<T>;
}

impl<T> StepContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Step<T> {
        self.map_err(|source| InitError::Io {
            context: context(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_is_said_once() {
        let e: Step = Err(std::io::Error::from_raw_os_error(libc::EPERM))
            .ctx(|| "process.oomScoreAdj -1000".into());
        let e = e.unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "process.oomScoreAdj -1000: Operation not permitted (os error 1)"
        );
    }
}
