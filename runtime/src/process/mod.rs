//! Setting up the container process: identity, capabilities, rlimits,
//! LSM labels, the program to run, and the private procfs handle for procfs writes.

pub mod capabilities;
pub mod env;
pub mod lookup;
pub mod lsm;
pub mod procfs;
pub mod rlimits;
