//! The last init steps: wait for `remora start`, startContainer hooks,
//! execve.

use std::convert::Infallible;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::config::Config;

use super::{InitArgs, InitError, Step, StepContext};
use crate::process::procfs::ProcFs;

/// Blocks until `remora start` opens the fifo for reading, then writes one
/// byte so start knows the init went on.
pub fn wait_for_start(proc: &ProcFs, fifo: &OwnedFd) -> Step<std::fs::File> {
    let mut w = proc
        .reopen_fd(fifo.as_raw_fd(), libc::O_WRONLY | libc::O_CLOEXEC)
        .ctx(|| "waiting for start on exec fifo".into())?;
    w.write_all(b"0").ctx(|| "exec fifo".into())?;
    // Kept open (close-on-exec) so that start sees the execve happen, or
    // reads why it did not.
    Ok(w)
}

/// A failure after `remora start` opened the fifo goes to start on it
/// (the init's end is close-on-exec, so start reads it before the end of
/// file) and the init exits: said once, by start. Only when start is not
/// there to read it does it go back to the caller.
pub fn tell_start(mut started: std::fs::File, r: Step<Infallible>) -> Step<Infallible> {
    let e = match r {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let msg = crate::bounded::message(&crate::error::chain(&e));
    if started.write_all(format!("E{msg}").as_bytes()).is_ok() {
        crate::sys::clone::exit_now(1)
    }
    Err(e)
}

/// The state JSON handed to hooks run by the init.
pub fn hook_state(a: &InitArgs<'_>, status: &str) -> String {
    crate::lifecycle::state_json(
        a.id,
        status,
        a.host_pid,
        a.bundle,
        Some(&a.config.annotations),
    )
}

/// startContainer hooks: in the container, after start, before execve.
pub fn run_start_container_hooks(a: &InitArgs<'_>) -> Step {
    let Some(hooks) = a.config.hooks.start_container().clone() else {
        return Ok(());
    };
    let state = hook_state(a, "created");
    Ok(crate::hooks::run_all(
        "startContainer",
        &hooks,
        &state,
        Path::new("/"),
    )?)
}

/// execve the container's program.
pub fn exec(config: &Config, program: &Path) -> Step<Infallible> {
    let p = &config.process;
    let cstr = |s: &str| {
        CString::new(s).map_err(|_| InitError::NulByte {
            value: format!("{s:?}"),
        })
    };
    let path = CString::new(program.as_os_str().as_bytes()).map_err(|_| InitError::NulByte {
        value: format!("{program:?}"),
    })?;
    let args: Vec<CString> = p
        .args()
        .iter()
        .flatten()
        .map(|s| cstr(s))
        .collect::<Result<_, _>>()?;
    let env = crate::process::env::with_home(
        p.env().as_deref().unwrap_or_default(),
        p.user().uid(),
        Path::new("/etc/passwd"),
    );
    let env: Vec<CString> = env.iter().map(|s| cstr(s)).collect::<Result<_, _>>()?;
    // The Rust runtime ignores SIGPIPE; an ignored disposition survives
    // execve, and the container's program must start with the default.
    crate::sys::process::default_sigpipe();
    let err = nix::unistd::execve(&path, &args, &env).unwrap_err();
    Err(InitError::Exec {
        program: program.into(),
        source: err,
    })
}
