//! Running OCI hooks: the path with args and env, the state JSON on stdin,
//! an optional timeout, in the working directory runc gives each kind
//! (the bundle for prestart, createRuntime, poststart and poststop; the
//! container's rootfs for createContainer; / for startContainer).

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

/// Runs the hooks of one kind in order; the first failure stops them.
pub fn run_all(kind: &str, hooks: &[Hook], state_json: &str, cwd: &Path) -> Result<(), String> {
    for (i, h) in hooks.iter().enumerate() {
        run(h, state_json, cwd)
            .map_err(|e| format!("hooks.{kind}[{i}] {:?}: error running hook: {e}", h.path()))?;
    }
    Ok(())
}

/// Runs every hook of one kind; a failure is a warning and the others
/// still run (poststop).
pub fn run_all_warning(kind: &str, hooks: &[Hook], state_json: &str, cwd: &Path) {
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run(h, state_json, cwd) {
            crate::logging::warn(&format!(
                "hooks.{kind}[{i}] {:?}: error running hook: {e}",
                h.path()
            ));
        }
    }
}

/// Runs one hook. Without `env` it gets the runtime's environment (as
/// runc and crun); `cwd` is used when it exists (a bundle may be gone by
/// poststop).
pub fn run(hook: &Hook, state_json: &str, cwd: &Path) -> Result<(), String> {
    let args = hook.args().clone().unwrap_or_default();
    let mut cmd = Command::new(hook.path());
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    if let Some(env) = hook.env().as_ref().filter(|e| !e.is_empty()) {
        cmd.env_clear();
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    if cwd.is_dir() {
        cmd.current_dir(cwd);
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook may not read its stdin: EPIPE is fine.
        let _ = stdin.write_all(state_json.as_bytes());
    }
    let status = match hook.timeout() {
        Some(t) if t > 0 => {
            let deadline = Instant::now() + Duration::from_secs(t.unsigned_abs());
            let pidfd = i32::try_from(child.id())
                .ok()
                .and_then(|pid| crate::sys::process::pidfd_open(pid).ok());
            loop {
                if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
                    break s;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("timed out after {t}s"));
                }
                match &pidfd {
                    Some(fd) => {
                        let _ = nix::poll::poll(
                            &mut [nix::poll::PollFd::new(
                                fd.as_fd(),
                                nix::poll::PollFlags::POLLIN,
                            )],
                            nix::poll::PollTimeout::try_from(left.as_millis().min(60_000) as i32)
                                .unwrap_or(nix::poll::PollTimeout::MAX),
                        );
                    }
                    None => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
        _ => child.wait().map_err(|e| e.to_string())?,
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("exited with {status}"))
    }
}
