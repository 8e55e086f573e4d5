//! The runtime's error type. Messages name the config field and the path
//! involved, and the runc-compatible strings the engines match on.
//!
//! One convention across the crates (runtime, namespaces, cgroups,
//! seccomp): an error that wraps a cause keeps it as `#[source]` and does
//! not repeat it in its own text; the text is read whole as the chain
//! ([`chain`]: "what: cause: its cause"), once, where it leaves the
//! process (main.rs for the command, the init's report to its parent).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid container ID format: {0:?}")]
    InvalidId(String),
    #[error("container with given ID already exists")]
    AlreadyExists,
    #[error("container does not exist")]
    NotExist,
    /// A state directory without state.json whose lock is free: not made
    /// by this remora (which renames a directory into place with its
    /// first record), e.g. left by an older one.
    #[error("{}: no state.json (an interrupted create?); delete --force removes it", .0.display())]
    NoState(PathBuf),
    #[error("{}: corrupt state: {msg}", path.display())]
    CorruptState { path: PathBuf, msg: String },
    #[error("container not running")]
    NotRunning,
    #[error("container not paused")]
    NotPaused,
    #[error("cannot start a container that has stopped")]
    StartStopped,
    #[error("cannot start an already running container")]
    StartRunning,
    #[error("cannot start a container in the {0} state")]
    StartState(String),
    #[error("cannot delete container {id} that is not stopped: {status}")]
    DeleteNotStopped { id: String, status: String },
    #[error("unknown signal {0:?}")]
    UnknownSignal(String),
    /// A value of config.json or process.json (or the resources of
    /// update) that is wrong: the message names the field.
    #[error("{0}")]
    Config(String),
    /// A command-line argument that is wrong: the message names the flag.
    #[error("{0}")]
    Argument(String),
    /// The command does not apply to a container in this state.
    #[error("cannot {action} in a {status} container")]
    WrongState {
        action: &'static str,
        status: &'static str,
    },
    /// exec --cgroup: not a cgroup of the container's.
    #[error("--cgroup {arg:?}: {reason}")]
    ExecCgroup { arg: String, reason: String },
    /// ps(1)'s output without a PID column.
    #[error("ps: {0}")]
    Ps(String),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// As `Io`, for a nix call whose errno is said as nix says it.
    #[error("{context}")]
    Errno {
        context: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error(transparent)]
    Namespace(#[from] remora_namespaces::JoinError),
    #[error(transparent)]
    Plan(#[from] remora_namespaces::PlanError),
    #[error(transparent)]
    IdMap(#[from] remora_namespaces::IdMapError),
    #[error(transparent)]
    Cgroup(#[from] remora_cgroups::CgroupError),
    #[error(transparent)]
    Seccomp(#[from] remora_seccomp::SeccompError),
    #[error(transparent)]
    Criu(#[from] crate::criu::CriuError),
    /// Mounts a container without its own mount namespace made in the
    /// caller's that delete could not remove.
    #[error("removing the container's mounts from the host's mount namespace: {0}")]
    HostMounts(String),
    /// A value of config.json or process.json that a process/ helper
    /// refuses (it names the field).
    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),
    /// A hook run by remora itself failed.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// The pty master and --console-socket.
    #[error(transparent)]
    Terminal(#[from] crate::terminal::TerminalError),
    /// The init gone or stuck, seen from outside.
    #[error(transparent)]
    InitGone(#[from] crate::lifecycle::init_gone::InitGone),
    /// An error the container init reported over the sync channel (its
    /// whole chain, made text at the process boundary).
    #[error("{0}")]
    Init(String),
    /// The parent's side of the conversation with the init failed.
    #[error(transparent)]
    Protocol(#[from] crate::protocol::ProtocolError),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    pub fn errno(context: impl Into<String>, source: nix::errno::Errno) -> Self {
        Error::Errno {
            context: context.into(),
            source,
        }
    }
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }
    pub fn argument(msg: impl Into<String>) -> Self {
        Error::Argument(msg.into())
    }
}

/// An error and its causes, outermost first, each once: "a: b: c" (the
/// form runc prints).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Adds context to io results.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each cause is said once, after what failed: the crates' errors
    /// keep their cause as the source, not in their text.
    #[test]
    fn chain_says_each_cause_once() {
        let enoent = || std::io::Error::from_raw_os_error(libc::ENOENT);
        let io = Error::io("reading /x/state.json", enoent());
        assert_eq!(
            chain(&io),
            "reading /x/state.json: No such file or directory (os error 2)"
        );
        let cg: Error = remora_cgroups::CgroupError::Write {
            field: "linux.resources.pids.limit".into(),
            path: "/sys/fs/cgroup/pids/c/pids.max".into(),
            value: "10".into(),
            source: enoent(),
        }
        .into();
        assert_eq!(
            chain(&cg),
            "linux.resources.pids.limit: writing \"10\" to /sys/fs/cgroup/pids/c/pids.max: \
             No such file or directory (os error 2)"
        );
        let ns: Error = remora_namespaces::JoinError::Open {
            kind: "network",
            path: "/run/netns/x".into(),
            source: enoent(),
        }
        .into();
        assert_eq!(
            chain(&ns),
            "linux.namespaces: network path \"/run/netns/x\": No such file or directory (os error 2)"
        );
    }
}
