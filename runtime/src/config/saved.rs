//! What `exec` needs of a container's config, saved in its state
//! directory by create (as runc keeps its libcontainer config in
//! state.json): exec never reads the bundle's config.json again, which
//! may have changed or gone since.

use std::collections::HashMap;
use std::path::Path;

use oci_spec::runtime::{
    Linux, LinuxMemoryPolicy, LinuxNamespace, LinuxPersonality, LinuxSeccomp, Process,
};
use serde::{Deserialize, Serialize};

use super::Config;
use crate::error::{Error, Result};

/// The file in the state directory.
pub const FILE: &str = "exec-config.json";

/// The container's process (exec's flags edit a copy of it) and the
/// parts of linux that apply to an exec'd process too.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExecConfig {
    pub process: Process,
    /// linux.namespaces (joined through the init).
    pub namespaces: Option<Vec<LinuxNamespace>>,
    pub personality: Option<LinuxPersonality>,
    pub memory_policy: Option<LinuxMemoryPolicy>,
    pub seccomp: Option<LinuxSeccomp>,
    pub annotations: HashMap<String, String>,
}

impl ExecConfig {
    pub fn of(config: &Config) -> ExecConfig {
        let l = &config.linux;
        ExecConfig {
            process: config.process.clone(),
            namespaces: l.namespaces().clone(),
            personality: l.personality().clone(),
            memory_policy: l.memory_policy().clone(),
            seccomp: l.seccomp().clone(),
            annotations: config.annotations.clone(),
        }
    }

    /// Written once by create, in the new state directory.
    pub fn save(&self, state_dir: &Path) -> Result<()> {
        let path = state_dir.join(FILE);
        let data = serde_json::to_vec(self)
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
    /// container's are done), the seccomp profile compiled.
    pub fn into_config(self, process: Process, bundle: &Path, rootfs: &Path) -> Result<Config> {
        // Not Linux::default(), which has runc's default paths and devices.
        let mut linux: Linux = serde_json::from_value(serde_json::json!({}))
            .map_err(|e| Error::config(format!("exec: the saved config's linux: {e}")))?;
        linux.set_namespaces(self.namespaces);
        linux.set_personality(self.personality);
        linux.set_memory_policy(self.memory_policy);
        linux.set_seccomp(self.seccomp);
        Config::of_parts(
            bundle.to_path_buf(),
            rootfs.to_path_buf(),
            process,
            linux,
            Vec::new(),
            Default::default(),
            self.annotations,
        )
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
        ExecConfig::of(&c).save(&dir).unwrap();
        let back = ExecConfig::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.process, c.process);
        assert_eq!(back.annotations, c.annotations);
        assert_eq!(&back.namespaces, c.linux.namespaces());
        assert_eq!(&back.personality, c.linux.personality());
        let e = back
            .into_config(c.process.clone(), Path::new("/b"), Path::new("/b/rootfs"))
            .unwrap();
        assert!(e.seccomp.is_some() && e.mounts.is_empty());
        assert!(e.linux.masked_paths().is_none(), "only what exec needs");
        assert_eq!(e.namespaces.new_flags(), c.namespaces.new_flags());
    }
}
