//! The runtime's error type. Messages name the config field and the path
//! involved, and the runc-compatible strings the engines match on.

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
    #[error("{0}")]
    Config(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Path {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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
    /// An error the container init reported over the sync channel.
    #[error("{0}")]
    Init(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }
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
