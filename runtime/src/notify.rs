//! NOTIFY_SOCKET (sd_notify) relay, as runc does for systemd units: when
//! remora runs with NOTIFY_SOCKET set, create binds the container's state
//! directory `notify/` at /run/notify in the container and points the
//! process's NOTIFY_SOCKET there; start listens on that socket before
//! letting the init exec, waits for READY=1 and relays it (with the
//! container's MAINPID) to the caller's socket.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use oci_spec::runtime::MountBuilder;

use crate::error::{Error, Result};

const INSIDE_DIR: &str = "/run/notify";
const SOCK: &str = "notify.sock";

/// The caller's notify socket, if any.
pub fn host_socket() -> Option<PathBuf> {
    std::env::var_os("NOTIFY_SOCKET")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// create, before anything exists: the mount and the env for the
/// container (the directory is made by [`make_dir`]).
pub fn prepare(config: &mut crate::config::Config, state_dir: &Path) -> Result<()> {
    let dir = state_dir.join("notify");
    let mount = MountBuilder::default()
        .destination(INSIDE_DIR)
        .typ("bind")
        .source(dir)
        .options(vec![
            "bind".to_string(),
            "nosuid".into(),
            "noexec".into(),
            "nodev".into(),
        ])
        .build()
        .map_err(|e| Error::config(format!("notify socket mount: {e}")))?;
    config.push_mount(mount)?;
    let p = &mut config.process;
    let mut env = p.env().clone().unwrap_or_default();
    env.retain(|e| !e.starts_with("NOTIFY_SOCKET="));
    env.push(format!("NOTIFY_SOCKET={INSIDE_DIR}/{SOCK}"));
    p.set_env(Some(env));
    Ok(())
}

/// create, once the state directory exists.
pub fn make_dir(state_dir: &Path) -> Result<()> {
    let dir = state_dir.join("notify");
    std::fs::create_dir(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}

/// start: the listening socket (bound before the init is released).
pub fn listen(state_dir: &Path) -> Result<Option<UnixDatagram>> {
    let dir = state_dir.join("notify");
    if !dir.is_dir() {
        return Ok(None);
    }
    let path = dir.join(SOCK);
    let _ = std::fs::remove_file(&path);
    let sock = UnixDatagram::bind(&path)
        .map_err(|e| Error::io(format!("binding {}", path.display()), e))?;
    // The container's user may not be root.
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777));
    Ok(Some(sock))
}

/// start: waits for READY=1 from the container and relays it.
pub fn relay_ready(sock: UnixDatagram, host: &Path, pid: i32) -> Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = sock
            .recv(&mut buf)
            .map_err(|e| Error::io("notify socket", e))?;
        let msg = String::from_utf8_lossy(&buf[..n]);
        if msg.lines().any(|l| l == "READY=1") {
            let out = UnixDatagram::unbound().map_err(|e| Error::io("notify socket", e))?;
            out.send_to(format!("READY=1\nMAINPID={pid}\n").as_bytes(), host)
                .map_err(|e| Error::io(format!("NOTIFY_SOCKET {}", host.display()), e))?;
            return Ok(());
        }
    }
}
