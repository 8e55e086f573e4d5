//! Typed errors; profile errors name the field path involved.

/// Errors name the rule (index in `linux.seccomp.syscalls`) involved.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// A profile that cannot be compiled: `field` is the JSON path, e.g.
    /// `linux.seccomp.syscalls[3].args[0].index`.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A flag the running kernel does not support.
    #[error("linux.seccomp.flags: {flag} is not supported by this kernel")]
    UnsupportedFlag { flag: &'static str },
    /// The compiled program exceeds the kernel's limit.
    #[error(
        "linux.seccomp: the compiled filter has {0} instructions, more than the kernel's 4096"
    )]
    TooLarge(usize),
    #[error("loading seccomp filter (seccomp(2) flags {flags:#x})")]
    Load {
        flags: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("linux.seccomp.listenerPath {path}: failed to connect with seccomp agent")]
    Listener {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SeccompError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SeccompError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, SeccompError>;
