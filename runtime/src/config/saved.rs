//! What `exec` needs of a container's config, saved in its state
//! directory by create (as runc keeps its libcontainer config in
//! state.json): exec never reads the bundle's config.json again, which
//! may have changed or gone since.

use std::collections::HashMap;
use std::path::Path;

use oci_spec::runtime::{Linux, LinuxMemoryPolicy, LinuxNamespace, LinuxPersonality, Process};
use serde::{Deserialize, Serialize};

use super::{Config, Parts, SeccompListener};
use crate::error::{Error, Result};

/// The file in the state directory.
pub const FILE: &str = "exec-config.json";

/// The container's process (exec's flags edit a copy of it) and what of
/// the rest applies to an exec'd process too. The seccomp filter is kept
/// compiled: exec neither reads nor compiles the profile again.
#[derive(Debug, Deserialize)]
pub struct ExecConfig {
    pub process: Process,
    /// linux.namespaces (joined through the init).
    pub namespaces: Option<Vec<LinuxNamespace>>,
    pub personality: Option<LinuxPersonality>,
    pub memory_policy: Option<LinuxMemoryPolicy>,
    pub seccomp: Option<SavedFilter>,
    pub seccomp_listener: Option<SeccompListener>,
    pub annotations: HashMap<String, String>,
}

/// The same, borrowed from the container's config: written without a copy.
#[derive(Serialize)]
struct ExecConfigOut<'a> {
    process: &'a Process,
    namespaces: &'a Option<Vec<LinuxNamespace>>,
    personality: &'a Option<LinuxPersonality>,
    memory_policy: &'a Option<LinuxMemoryPolicy>,
    seccomp: Option<SavedFilter>,
    seccomp_listener: &'a Option<SeccompListener>,
    annotations: &'a HashMap<String, String>,
}

/// A compiled seccomp filter: each BPF instruction as (code, jt, jf, k).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedFilter {
    program: Vec<(u16, u8, u8, u32)>,
    flags: u32,
    wants_listener: bool,
}

impl SavedFilter {
    fn of(f: &remora_seccomp::Filter) -> SavedFilter {
        SavedFilter {
            program: f
                .program
                .iter()
                .map(|i| (i.code, i.jt, i.jf, i.k))
                .collect(),
            flags: f.flags,
            wants_listener: f.wants_listener,
        }
    }

    fn filter(&self) -> remora_seccomp::Filter {
        let program = self
            .program
            .iter()
            .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
            .collect();
        remora_seccomp::Filter {
            program,
            flags: self.flags,
            wants_listener: self.wants_listener,
        }
    }
}

impl ExecConfig {
    /// Written once by create, in the new state directory.
    pub fn save(config: &Config, state_dir: &Path) -> Result<()> {
        let l = &config.linux;
        let out = ExecConfigOut {
            process: &config.process,
            namespaces: l.namespaces(),
            personality: l.personality(),
            memory_policy: l.memory_policy(),
            seccomp: config.seccomp.as_ref().map(SavedFilter::of),
            seccomp_listener: &config.seccomp_listener,
            annotations: &config.annotations,
        };
        let path = state_dir.join(FILE);
        let data = serde_json::to_vec(&out)
            .map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        std::fs::write(&path, data).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// Read by exec (bounded, as every JSON remora reads).
    pub fn load(state_dir: &Path) -> Result<ExecConfig> {
        let path = state_dir.join(FILE);
        let data = crate::bounded::read_capped(&path, crate::bounded::JSON_CAP).map_err(|e| {
            let missing = matches!(&e, crate::bounded::ReadError::Io(io)
                if io.kind() == std::io::ErrorKind::NotFound);
            let why = if missing {
                "missing: the container was created by a remora without it; recreate it".into()
            } else {
                e.to_string()
            };
            Error::config(format!("{}: {why}", path.display()))
        })?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::config(format!("{}: invalid saved config: {e}", path.display())))
    }

    /// The config an exec'd `process` runs with: no mounts, no hooks (the
    /// container's are done), the saved seccomp filter.
    pub fn into_config(self, process: Process, bundle: &Path, rootfs: &Path) -> Result<Config> {
        // Not Linux::default(), which has runc's default paths and devices.
        let mut linux: Linux = serde_json::from_value(serde_json::json!({}))
            .map_err(|e| Error::config(format!("exec: the saved config's linux: {e}")))?;
        linux.set_namespaces(self.namespaces);
        linux.set_personality(self.personality);
        linux.set_memory_policy(self.memory_policy);
        let parts = Parts {
            process,
            linux,
            mounts: Vec::new(),
            hooks: Default::default(),
            annotations: self.annotations,
            seccomp: self.seccomp.as_ref().map(SavedFilter::filter),
            seccomp_listener: self.seccomp_listener,
        };
        Config::of_parts(bundle.to_path_buf(), rootfs.to_path_buf(), parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_what_exec_needs_only() {
        let mut v = crate::spec::default_spec(false);
        v["linux"]["personality"] = serde_json::json!({"domain": "LINUX32"});
        v["linux"]["seccomp"] = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW"});
        v["annotations"] = serde_json::json!({"a": "b"});
        let spec: oci_spec::runtime::Spec = serde_json::from_value(v).unwrap();
        let c = Config::build(spec, "/b".into(), "/b/rootfs".into()).unwrap();
        let dir = std::env::temp_dir().join(format!("remora-saved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        ExecConfig::save(&c, &dir).unwrap();
        let back = ExecConfig::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.process, c.process);
        assert_eq!(back.annotations, c.annotations);
        assert_eq!(&back.namespaces, c.linux.namespaces());
        assert_eq!(&back.personality, c.linux.personality());
        let e = back
            .into_config(c.process.clone(), Path::new("/b"), Path::new("/b/rootfs"))
            .unwrap();
        assert!(e.mounts.is_empty());
        let (a, b) = (e.seccomp.unwrap(), c.seccomp.clone().unwrap());
        assert_eq!((a.flags, a.wants_listener), (b.flags, b.wants_listener));
        let raw = |f: &remora_seccomp::Filter| {
            f.program
                .iter()
                .map(|i| (i.code, i.jt, i.jf, i.k))
                .collect::<Vec<_>>()
        };
        assert_eq!(raw(&a), raw(&b), "the compiled filter, as it was");
        assert!(e.linux.masked_paths().is_none(), "only what exec needs");
        assert_eq!(e.namespaces.new_flags(), c.namespaces.new_flags());
    }
}
