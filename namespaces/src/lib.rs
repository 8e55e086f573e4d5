//! remora-namespaces: the namespaces a container is made of.
//!
//! - [`plan`]: reads `linux.namespaces` into a [`NamespacePlan`]: which
//!   namespaces are new (clone/unshare flags) and which are joined by path.
//! - [`join`]: setns into a namespace by path, checking its type.
//! - [`ahead`]: a new network namespace made on a thread while the caller
//!   does other work, joined by the init in place of the clone's.
//! - [`idmap`]: writing uid_map/gid_map of a new user namespace.
//! - [`idmap_helpers`]: the same for an unprivileged caller (newuidmap,
//!   newgidmap), and which host ids /etc/subuid and /etc/subgid allow.

pub mod ahead;
pub mod idmap;
pub mod idmap_helpers;
pub mod join;
pub mod plan;
mod sys;

pub use ahead::NetworkAhead;
pub use idmap::{write_id_maps, IdMapError};
pub use join::{JoinError, JoinedNamespace};
pub use plan::{NamespaceKind, NamespacePlan, PlanError};
