//! remora-seccomp: OCI `linux.seccomp` compiled to classic BPF, and loaded.
//!
//! The contract the runtime relies on:
//! - `compile(&LinuxSeccomp)` runs in the `remora` parent before the clone,
//!   so a bad profile fails create before anything exists.
//! - `Filter::load()` runs in the container init as late as possible before
//!   execve and returns the listener fd when the profile has NOTIFY rules.
//!   It never sets no_new_privs (the runtime does, per
//!   `process.noNewPrivileges`); without no_new_privs the caller must still
//!   hold CAP_SYS_ADMIN, so load before dropping capabilities then.
//! - `send_listener()` hands that fd to the agent at `listenerPath`.
//!
//! The semantics are runc's with libseccomp 2.5 (checked by differential
//! tests against libseccomp itself): see `profile`, `db` and `codegen`.

use std::os::fd::OwnedFd;

use oci_spec::runtime::LinuxSeccomp;

mod action;
mod arch;
mod bpf;
mod codegen;
mod db;
mod error;
mod features;
mod kernel;
mod listener;
mod profile;
mod raw;
mod tables;

pub use action::{
    FLAG_LOG, FLAG_NEW_LISTENER, FLAG_SPEC_ALLOW, FLAG_TSYNC, FLAG_TSYNC_ESRCH,
    FLAG_WAIT_KILLABLE_RECV,
};
pub use arch::Arch;
pub use error::{Result, SeccompError};
pub use features::{actions, archs, known_flags, operators, supported_flags};
pub use listener::{
    process_state_json, receive_notification, recv_listener, respond, send_listener, Notification,
};
pub use raw::parse_profile;
pub use tables::{emitted as emitted_syscalls, names as syscall_names, resolve as resolve_syscall};

/// The kernel's limit on a classic BPF program (BPF_MAXINSNS).
pub const MAX_INSTRUCTIONS: usize = 4096;

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
pub fn compile(profile: &LinuxSeccomp) -> Result<Filter> {
    let plan = profile::plan(profile)?;
    let sections = db::sections(&plan)?;
    let program = codegen::program(&plan, &sections);
    if program.len() > MAX_INSTRUCTIONS {
        return Err(SeccompError::TooLarge(program.len()));
    }
    Ok(Filter {
        program,
        flags: plan.flags,
        wants_listener: plan.wants_listener,
    })
}

impl Filter {
    /// Loads the filter into the calling thread (or all threads with TSYNC).
    pub fn load(&self) -> Result<Option<OwnedFd>> {
        kernel::set_filter(&self.program, self.flags).map_err(|source| SeccompError::Load {
            flags: self.flags,
            source,
        })
    }

    /// The program as raw bytes (`struct sock_filter` array, host endian),
    /// the format of libseccomp's `seccomp_export_bpf`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.program.len() * 8);
        for i in &self.program {
            out.extend_from_slice(&i.code.to_ne_bytes());
            out.push(i.jt);
            out.push(i.jf);
            out.extend_from_slice(&i.k.to_ne_bytes());
        }
        out
    }
}
