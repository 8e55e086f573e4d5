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
pub mod cgroup_owner;
pub mod channel;
pub mod cli;
pub mod cli_criu;
pub mod config;
pub mod criu;
pub mod error;
pub mod features;
pub mod hooks;
pub mod init;
pub mod lifecycle;
pub mod logging;
pub mod net_devices;
pub mod notify;
pub mod process;
pub mod protocol;
pub mod resctrl;
pub mod rootfs;
pub mod rootless;
pub mod runc_compat;
pub mod signal;
pub mod spec;
pub mod state;
pub mod sys;
pub mod terminal;
pub mod timefmt;
pub mod trace;

/// The runtime-spec version remora implements.
pub const OCI_VERSION: &str = "1.2.0";
