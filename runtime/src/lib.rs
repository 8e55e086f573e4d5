//! remora: an OCI runtime-spec compliant container runtime, a drop-in
//! replacement for runc.
//!
//! - [`cli`]: the runc-compatible command line.
//! - [`lifecycle`]: create, start, state, kill, delete, run, list.
//! - [`state`]: the state store.
//! - [`init`]: the container init, from clone to execve.
//! - [`rootfs`]: the root filesystem, mounts, devices, pivot_root.
//! - [`process`]: identity, capabilities, rlimits, program lookup.
//! - [`protocol`]: the parent/init conversation; [`channel`] its transport.
//! - [`hooks`], [`config`], [`sys`] (syscall wrappers).

pub mod bounded;
pub(crate) mod cgroup_owner;
pub(crate) mod channel;
pub mod cli;
pub mod cli_criu;
pub mod config;
pub mod criu;
pub mod error;
pub mod features;
pub(crate) mod hooks;
pub(crate) mod init;
pub mod lifecycle;
pub mod logging;
pub(crate) mod net_devices;
pub(crate) mod notify;
pub(crate) mod process;
pub(crate) mod protocol;
pub(crate) mod resctrl;
pub mod rootfs;
pub mod rootless;
pub(crate) mod runc_compat;
pub(crate) mod signal;
pub mod spec;
pub(crate) mod state;
pub mod sys;
pub(crate) mod terminal;
pub(crate) mod timefmt;
pub(crate) mod trace;

/// The runtime-spec version remora implements.
pub const OCI_VERSION: &str = "1.3.0";
