//! remora-cgroups: cgroup placement and resources for remora containers.
//!
//! Lifecycle as the runtime uses it:
//! - `create`: `Cgroup::new(..)` (pure: computes and checks the paths,
//!   touches nothing), then `cg.make(resources)` before the init is
//!   cloned: it returns the `Placement` the init enters its cgroup through
//!   (clone3(CLONE_INTO_CGROUP) for cgroup2, a self-join of each v1
//!   hierarchy by the child); with the systemd driver `cg.add_task(pid)`
//!   right after the clone starts the scope; `cg.apply_initial(resources)`
//!   while the init sets itself up. On any later failure of create,
//!   `cg.destroy()`. (`cg.prepare` is `make` + `apply_initial` at once.)
//! - The runtime stores `cg.to_saved()` in the container's state.json and
//!   rebuilds the handle with `Cgroup::from_saved` for later commands.
//!
//! Supports cgroup v1, hybrid (v1 plus /sys/fs/cgroup/unified) and pure v2
//! hosts; the systemd driver (transient scope over D-Bus) on v2.

mod apply_v1;
mod apply_v2;
mod bpf_sys;
mod cgroup;
mod devices;
mod devices_bpf;
mod devices_v1;
mod dirs;
mod error;
mod freezer;
mod fsutil;
mod layout;
mod memory_check;
mod ownership;
mod path;
mod placement;
mod rootless;
mod stats;
mod systemd;
mod validate;

pub use cgroup::{Cgroup, SavedCgroup};
pub use error::{CgroupError, Result};
pub use layout::{features, layout, Features, Layout};
pub use placement::Placement;
pub use rootless::RootlessCgroup;
pub use stats::Stats;
pub use validate::validate;
