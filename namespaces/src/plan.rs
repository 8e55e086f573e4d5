//! Which namespaces a container gets, from `linux.namespaces`.

use std::path::PathBuf;

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

/// A namespace kind, with its CLONE_NEW* flag and /proc/PID/ns name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamespaceKind {
    User,
    Pid,
    Mount,
    Network,
    Uts,
    Ipc,
    Cgroup,
    Time,
}

impl NamespaceKind {
    /// Order in which joined namespaces are entered: user first (it grants
    /// the capabilities for the others), mount last but one so that paths
    /// given for later namespaces still resolve on the host, pid last.
    pub const JOIN_ORDER: [NamespaceKind; 8] = [
        NamespaceKind::User,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
        NamespaceKind::Network,
        NamespaceKind::Cgroup,
        NamespaceKind::Time,
        NamespaceKind::Pid,
        NamespaceKind::Mount,
    ];

    pub fn clone_flag(self) -> i32 {
        match self {
            NamespaceKind::User => libc::CLONE_NEWUSER,
            NamespaceKind::Pid => libc::CLONE_NEWPID,
            NamespaceKind::Mount => libc::CLONE_NEWNS,
            NamespaceKind::Network => libc::CLONE_NEWNET,
            NamespaceKind::Uts => libc::CLONE_NEWUTS,
            NamespaceKind::Ipc => libc::CLONE_NEWIPC,
            NamespaceKind::Cgroup => libc::CLONE_NEWCGROUP,
            NamespaceKind::Time => 0x80, // CLONE_NEWTIME
        }
    }

    /// The name in /proc/PID/ns/ and in the OCI spec.
    pub fn name(self) -> &'static str {
        match self {
            NamespaceKind::User => "user",
            NamespaceKind::Pid => "pid",
            NamespaceKind::Mount => "mount",
            NamespaceKind::Network => "network",
            NamespaceKind::Uts => "uts",
            NamespaceKind::Ipc => "ipc",
            NamespaceKind::Cgroup => "cgroup",
            NamespaceKind::Time => "time",
        }
    }

    /// The file name under /proc/PID/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NamespaceKind::Mount => "mnt",
            NamespaceKind::Network => "net",
            other => other.name(),
        }
    }

    fn from_spec(t: LinuxNamespaceType) -> Self {
        match t {
            LinuxNamespaceType::User => NamespaceKind::User,
            LinuxNamespaceType::Pid => NamespaceKind::Pid,
            LinuxNamespaceType::Mount => NamespaceKind::Mount,
            LinuxNamespaceType::Network => NamespaceKind::Network,
            LinuxNamespaceType::Uts => NamespaceKind::Uts,
            LinuxNamespaceType::Ipc => NamespaceKind::Ipc,
            LinuxNamespaceType::Cgroup => NamespaceKind::Cgroup,
            LinuxNamespaceType::Time => NamespaceKind::Time,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("linux.namespaces: {0} namespace listed twice")]
    Duplicate(&'static str),
    #[error("linux.namespaces[{index}].path {path:?}: must be absolute")]
    RelativePath { index: usize, path: PathBuf },
}

/// The namespaces of one container.
#[derive(Debug, Clone, Default)]
pub struct NamespacePlan {
    /// Namespaces to create.
    pub new: Vec<NamespaceKind>,
    /// Namespaces to join, by path.
    pub join: Vec<(NamespaceKind, PathBuf)>,
}

impl NamespacePlan {
    pub fn from_spec(namespaces: &[LinuxNamespace]) -> Result<Self, PlanError> {
        let mut plan = NamespacePlan::default();
        for (index, ns) in namespaces.iter().enumerate() {
            let kind = NamespaceKind::from_spec(ns.typ());
            if plan.has(kind) {
                return Err(PlanError::Duplicate(kind.name()));
            }
            match ns.path() {
                Some(path) if !path.as_os_str().is_empty() => {
                    if !path.is_absolute() {
                        return Err(PlanError::RelativePath {
                            index,
                            path: path.clone(),
                        });
                    }
                    plan.join.push((kind, path.clone()));
                }
                _ => plan.new.push(kind),
            }
        }
        Ok(plan)
    }

    pub fn has(&self, kind: NamespaceKind) -> bool {
        self.is_new(kind) || self.join.iter().any(|(k, _)| *k == kind)
    }

    pub fn is_new(&self, kind: NamespaceKind) -> bool {
        self.new.contains(&kind)
    }

    pub fn joined(&self, kind: NamespaceKind) -> Option<&PathBuf> {
        self.join.iter().find(|(k, _)| *k == kind).map(|(_, p)| p)
    }

    /// Opens every namespace to join (checking each one's type).
    pub fn open_joined(&self) -> Result<Vec<crate::JoinedNamespace>, crate::JoinError> {
        self.join
            .iter()
            .map(|(k, p)| crate::JoinedNamespace::open(*k, p))
            .collect()
    }

    /// CLONE_NEW* flags of every new namespace.
    pub fn new_flags(&self) -> i32 {
        self.new.iter().fold(0, |f, k| f | k.clone_flag())
    }

    /// Whether every namespace can be made by one clone: nothing to join
    /// and no time namespace (its offsets must be written before a process
    /// enters it).
    pub fn single_clone(&self) -> bool {
        self.join.is_empty() && !self.is_new(NamespaceKind::Time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxNamespaceBuilder;

    fn ns(t: LinuxNamespaceType, path: Option<&str>) -> LinuxNamespace {
        let mut b = LinuxNamespaceBuilder::default().typ(t);
        if let Some(p) = path {
            b = b.path(p);
        }
        b.build().unwrap()
    }

    #[test]
    fn new_and_joined() {
        let plan = NamespacePlan::from_spec(&[
            ns(LinuxNamespaceType::Pid, None),
            ns(LinuxNamespaceType::Network, Some("/var/run/netns/x")),
            ns(LinuxNamespaceType::Mount, None),
        ])
        .unwrap();
        assert_eq!(plan.new_flags(), libc::CLONE_NEWPID | libc::CLONE_NEWNS);
        assert_eq!(
            plan.joined(NamespaceKind::Network).unwrap().to_str(),
            Some("/var/run/netns/x")
        );
        assert!(!plan.single_clone());
    }

    #[test]
    fn duplicate_rejected() {
        let err = NamespacePlan::from_spec(&[
            ns(LinuxNamespaceType::Pid, None),
            ns(LinuxNamespaceType::Pid, None),
        ])
        .unwrap_err();
        assert_eq!(err, PlanError::Duplicate("pid"));
    }

    #[test]
    fn relative_path_rejected() {
        let err =
            NamespacePlan::from_spec(&[ns(LinuxNamespaceType::Uts, Some("x/y"))]).unwrap_err();
        assert!(err.to_string().contains("linux.namespaces[0].path"));
    }
}
