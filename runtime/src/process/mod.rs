//! Setting up the container process: identity, capabilities, rlimits,
//! LSM labels, scheduler, I/O priority, CPU affinity, personality, memory
//! policy, the program to run, and the private procfs handle for procfs writes.

pub mod affinity;
pub mod capabilities;
pub mod env;
pub mod error;
pub mod idlist;
pub mod ioprio;
pub mod lookup;
pub mod lsm;
pub mod mempolicy;
pub mod personality;
pub mod procfs;
pub mod rlimits;
pub mod sched;

pub use error::{ProcessError, SysError};
