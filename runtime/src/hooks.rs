//! Running OCI hooks: the path with args and env, the state JSON on stdin,
//! an optional timeout, in the working directory runc gives each kind
//! (the bundle for prestart, createRuntime, poststart and poststop; the
//! container's rootfs for createContainer; / for startContainer).

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

/// A hook that failed: which one, and how.
#[derive(Debug, thiserror::Error)]
#[error("hooks.{kind}[{index}] {path:?}: error running hook")]
pub struct HookError {
    pub kind: &'static str,
    pub index: usize,
    pub path: PathBuf,
    #[source]
    pub source: HookFailure,
}

/// How a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookFailure {
    /// Starting it or waiting for it.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("timed out after {0}s")]
    Timeout(i64),
    #[error("exited with {0}")]
    Exit(ExitStatus),
}

fn run_nth(
    kind: &'static str,
    index: usize,
    hook: &Hook,
    state_json: &str,
    cwd: &Path,
) -> Result<(), HookError> {
    run(hook, state_json, cwd).map_err(|source| HookError {
        kind,
        index,
        path: hook.path().clone(),
        source,
    })
}

/// Runs the hooks of one kind in order; the first failure stops them.
pub fn run_all(
    kind: &'static str,
    hooks: &[Hook],
    state_json: &str,
    cwd: &Path,
) -> Result<(), HookError> {
    for (i, h) in hooks.iter().enumerate() {
        run_nth(kind, i, h, state_json, cwd)?;
    }
    Ok(())
}

/// Runs every hook of one kind; a failure is a warning and the others
/// still run (poststop).
pub fn run_all_warning(kind: &'static str, hooks: &[Hook], state_json: &str, cwd: &Path) {
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run_nth(kind, i, h, state_json, cwd) {
            crate::logging::warn(&crate::error::chain(&e));
        }
    }
}

/// Runs one hook. Without `env` it gets the runtime's environment (as
/// runc and crun); `cwd` is used when it exists (a bundle may be gone by
/// poststop).
pub fn run(hook: &Hook, state_json: &str, cwd: &Path) -> Result<(), HookFailure> {
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
    let mut child = cmd.spawn()?;
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
                if let Some(s) = child.try_wait()? {
                    break s;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(HookFailure::Timeout(t));
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
        _ => child.wait()?,
    };
    if status.success() {
        Ok(())
    } else {
        Err(HookFailure::Exit(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(path: &str) -> Hook {
        serde_json::from_value(serde_json::json!({ "path": path })).unwrap()
    }

    /// The text is the one engines match on: the hook, then how it failed.
    #[test]
    fn a_failure_names_the_hook_then_the_cause() {
        let e = run_all("prestart", &[hook("/bin/false")], "{}", Path::new("/")).unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "hooks.prestart[0] \"/bin/false\": error running hook: exited with exit status: 1"
        );
        let e = run_all(
            "poststart",
            &[hook("/nonexistent/hook")],
            "{}",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "hooks.poststart[0] \"/nonexistent/hook\": error running hook: \
             No such file or directory (os error 2)"
        );
    }
}
