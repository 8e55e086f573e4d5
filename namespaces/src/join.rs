//! Joining an existing namespace by path.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::plan::NamespaceKind;
use crate::sys;

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("linux.namespaces: {kind} path {path:?}")]
    Open {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("linux.namespaces: {kind} path {path:?} is not a {kind} namespace")]
    WrongType { kind: &'static str, path: PathBuf },
    #[error("linux.namespaces: joining {kind} namespace {path:?}")]
    Setns {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An opened namespace file, checked to be of the expected kind.
#[derive(Debug)]
pub struct JoinedNamespace {
    pub kind: NamespaceKind,
    pub path: PathBuf,
    fd: OwnedFd,
}

impl JoinedNamespace {
    /// Opens `path` and checks it is a namespace of `kind`.
    pub fn open(kind: NamespaceKind, path: &Path) -> Result<Self, JoinError> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|source| JoinError::Open {
                kind: kind.name(),
                path: path.into(),
                source,
            })?;
        let fd: OwnedFd = file.into();
        match sys::ns_get_nstype(fd.as_fd()) {
            Ok(t) if t == kind.clone_flag() => Ok(Self {
                kind,
                path: path.into(),
                fd,
            }),
            _ => Err(JoinError::WrongType {
                kind: kind.name(),
                path: path.into(),
            }),
        }
    }

    /// A namespace already open (made by this process), `label` naming it
    /// in errors.
    pub fn from_fd(kind: NamespaceKind, label: PathBuf, fd: OwnedFd) -> Self {
        Self {
            kind,
            path: label,
            fd,
        }
    }

    /// setns into it.
    pub fn enter(&self) -> Result<(), JoinError> {
        sys::setns(self.fd.as_fd(), self.kind.clone_flag()).map_err(|source| JoinError::Setns {
            kind: self.kind.name(),
            path: self.path.clone(),
            source,
        })
    }
}

impl AsFd for JoinedNamespace {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Brings up the loopback device of the calling thread's network
/// namespace, as runc does for a new one (its "loopback" network).
pub fn loopback_up() -> std::io::Result<()> {
    sys::loopback_up()
}

/// unshare(2) with the given CLONE_NEW* flags.
pub fn unshare(flags: i32) -> std::io::Result<()> {
    sys::unshare(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_is_refused() {
        let err = JoinedNamespace::open(NamespaceKind::Network, Path::new("/proc/self/ns/uts"))
            .unwrap_err();
        assert!(matches!(err, JoinError::WrongType { .. }), "{err}");
        assert!(err.to_string().contains("is not a network namespace"));
    }

    #[test]
    fn right_type_opens() {
        JoinedNamespace::open(NamespaceKind::Uts, Path::new("/proc/self/ns/uts")).unwrap();
    }

    #[test]
    fn regular_file_is_refused() {
        let err =
            JoinedNamespace::open(NamespaceKind::Ipc, Path::new("/etc/hostname")).unwrap_err();
        assert!(matches!(err, JoinError::WrongType { .. }));
    }
}
