//! A new network namespace made ahead of the clone, on a thread.
//!
//! Making a network namespace is the dearest part of a container's clone
//! (the kernel runs every network subsystem's per-namespace set-up: more
//! than the other new namespaces together). When the container's user namespace is the
//! caller's, the namespace made by a thread of the caller is the same
//! object the clone would make (owned by the same user namespace), so a
//! thread makes it while the caller reads the config and makes the state
//! and the cgroup, and the init joins it by fd instead of the clone making
//! it. With a user namespace of the container's own this does not apply:
//! the network namespace must be owned by that one.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::thread::JoinHandle;

use crate::join::JoinedNamespace;
use crate::plan::{NamespaceKind, NamespacePlan};
use crate::sys;

/// Where the namespace came from, as a joined namespace names its path.
const MADE_AHEAD: &str = "(network namespace made ahead of the clone)";
/// The thread only unshares and opens a file.
const STACK: usize = 64 * 1024;

/// A network namespace being made on a thread.
pub struct NetworkAhead(JoinHandle<io::Result<OwnedFd>>);

impl NetworkAhead {
    /// Whether `plan` lets the network namespace be made ahead: it is new,
    /// every namespace comes from one clone (nothing joined, no time
    /// namespace) and there is no user namespace, new or joined.
    pub fn applies(plan: &NamespacePlan) -> bool {
        plan.is_new(NamespaceKind::Network) && plan.single_clone() && !plan.has(NamespaceKind::User)
    }

    /// Starts making it; None when no thread can be started (the clone
    /// then makes the namespace as usual).
    pub fn start() -> Option<Self> {
        std::thread::Builder::new()
            .name("remora-netns".into())
            .stack_size(STACK)
            .spawn(make)
            .ok()
            .map(Self)
    }

    /// Waits for the thread: the namespace, to join in place of the
    /// clone's CLONE_NEWNET; None if it could not be made (the clone makes
    /// it then, and reports the error if the kernel refuses it). The
    /// thread has exited when this returns: the process is single-threaded
    /// again, as clone3 needs.
    pub fn finish(self) -> Option<JoinedNamespace> {
        let fd = self.0.join().ok()?.ok()?;
        Some(JoinedNamespace::from_fd(
            NamespaceKind::Network,
            PathBuf::from(MADE_AHEAD),
            fd,
        ))
    }
}

fn make() -> io::Result<OwnedFd> {
    sys::unshare(libc::CLONE_NEWNET)?;
    sys::loopback_up()?;
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/proc/thread-self/ns/net")?;
    Ok(file.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::fs::MetadataExt;

    fn plan(json: &str) -> NamespacePlan {
        let ns: Vec<oci_spec::runtime::LinuxNamespace> = serde_json::from_str(json).unwrap();
        NamespacePlan::from_spec(&ns).unwrap()
    }

    #[test]
    fn applies_only_to_a_new_network_namespace_without_user_namespace() {
        assert!(NetworkAhead::applies(&plan(
            r#"[{"type":"network"},{"type":"pid"},{"type":"mount"}]"#
        )));
        for no in [
            r#"[{"type":"pid"},{"type":"mount"}]"#,
            r#"[{"type":"network"},{"type":"user"}]"#,
            r#"[{"type":"network"},{"type":"user","path":"/proc/1/ns/user"}]"#,
            r#"[{"type":"network"},{"type":"ipc","path":"/proc/1/ns/ipc"}]"#,
            r#"[{"type":"network"},{"type":"time"}]"#,
            r#"[{"type":"network","path":"/proc/1/ns/net"}]"#,
        ] {
            assert!(!NetworkAhead::applies(&plan(no)), "{no}");
        }
    }

    #[test]
    fn makes_a_network_namespace_other_than_the_callers() {
        let ns = NetworkAhead::start().unwrap().finish().unwrap();
        let made = std::fs::metadata(format!("/proc/self/fd/{}", ns.as_fd().as_raw_fd()))
            .unwrap()
            .ino();
        let ours = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        assert_ne!(made, ours);
        assert_eq!(ns.kind, NamespaceKind::Network);
    }
}
