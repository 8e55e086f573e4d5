//! remora-seccomp: OCI `linux.seccomp` compiled to classic BPF, and loaded.
//!
//! The contract the runtime relies on (the seccomp issue, #4, fills it in):
//! - `compile(&LinuxSeccomp)` runs in the `remora` parent before the clone,
//!   so a bad profile fails create before anything exists.
//! - `Filter::load()` runs in the container init as late as possible before
//!   execve and returns the listener fd when the profile has NOTIFY rules.

use std::os::fd::OwnedFd;

use oci_spec::runtime::LinuxSeccomp;

/// Errors name the rule (index in `linux.seccomp.syscalls`) involved.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp: {0}")]
    Invalid(String),
    #[error("loading seccomp filter: {0}")]
    Load(#[source] std::io::Error),
}

pub type Result<T> = std::result::Result<T, SeccompError>;

/// A compiled filter, ready to load.
#[derive(Debug, Clone)]
pub struct Filter {
    pub program: Vec<libc::sock_filter>,
    /// SECCOMP_FILTER_FLAG_* to pass to seccomp(2).
    pub flags: u32,
    /// Whether a listener fd is requested (NOTIFY actions present).
    pub wants_listener: bool,
}

/// Compiles an OCI seccomp profile for the native architecture (plus the
/// listed secondary ones).
pub fn compile(_profile: &LinuxSeccomp) -> Result<Filter> {
    Err(SeccompError::Invalid("seccomp is not implemented yet".into()))
}

impl Filter {
    /// Loads the filter into the calling thread (or all threads with TSYNC).
    pub fn load(&self) -> Result<Option<OwnedFd>> {
        Err(SeccompError::Invalid("seccomp is not implemented yet".into()))
    }
}
