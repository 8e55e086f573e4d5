//! `remora run`: create + start; in the foreground forward signals to the
//! init, wait for it, delete, and exit with its status (128+N for a
//! signal).

use std::os::fd::AsFd;

use nix::sys::signal::Signal;

use super::create::{create, CreateOptions};
use super::delete::destroy;
use super::start::start_created;
use super::Global;
use crate::error::{Error, Result};
use crate::state::ContainerDir;

/// Runs a container; returns the exit code for remora to exit with.
pub fn run(g: &Global, o: &CreateOptions, detach: bool, keep: bool) -> Result<i32> {
    let mut trace = crate::trace::Trace::start("run");
    let created = create(g, o)?;
    trace.phase("create");
    if detach {
        if let Err(e) = start_created(&created.dir, &created.state) {
            let _ = destroy(created.dir, &created.state);
            return Err(e);
        }
        return Ok(0);
    }
    // Blocked before the container runs: no signal is lost.
    let sfd = super::wait::forwarded_signals()?;
    if let Some(m) = &created.console_master {
        // The size is the caller's terminal's from the first instruction.
        super::wait::copy_winsize(std::io::stdin().as_fd(), m.as_fd());
    }
    if let Err(e) = start_created(&created.dir, &created.state) {
        super::delete::kill_and_wait(&created.state);
        super::watch::reap(created.pid, super::watch::STUCK_AFTER);
        let _ = destroy(created.dir, &created.state);
        return Err(e);
    }
    // Other commands (state, kill, delete) may act on the container while
    // it runs: do not hold its lock while waiting.
    drop(created.dir);
    trace.phase("start");
    let code = super::wait::wait_child(created.pid, sfd, created.console_master)?;
    trace.phase("wait");
    if !keep {
        match ContainerDir::open(&g.root, &o.id) {
            Ok(dir) => {
                let cg = remora_cgroups::Cgroup::from_saved(created.state.cgroup.clone());
                let _ = cg.signal_all(Signal::SIGKILL);
                destroy(dir, &created.state)?;
            }
            // Deleted by someone else meanwhile.
            Err(Error::NotExist) => {}
            Err(e) => return Err(e),
        }
        trace.phase("delete");
    }
    trace.finish();
    Ok(code)
}
