//! Typed errors: each names the config field and the cgroup path involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// `linux.cgroupsPath` is malformed or escapes the hierarchy.
    #[error("linux.cgroupsPath {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    /// A value in `linux.resources` is out of range or malformed.
    #[error("{field}: invalid value {value:?}: {reason}")]
    InvalidResource {
        field: String,
        value: String,
        reason: String,
    },
    /// The host cannot honour a setting (controller or file missing).
    #[error("{field}: not supported by this host: {reason}")]
    Unsupported { field: String, reason: String },
    /// Writing a setting failed.
    #[error("{field}: writing {value:?} to {path}")]
    Write {
        field: String,
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cgroup {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cgroup {path}: {msg}")]
    Manager { path: String, msg: String },
}

pub type Result<T> = std::result::Result<T, CgroupError>;

impl CgroupError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CgroupError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, value: impl ToString, reason: &str) -> Self {
        CgroupError::InvalidResource {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CgroupError::Unsupported {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
