//! Init steps that give the process its identity: user, groups, umask,
//! capabilities, no_new_privs, cwd.

use std::os::fd::{AsFd, OwnedFd};

use crate::config::Config;

use super::{InitArgs, InitError, Step, StepContext};
use crate::process::capabilities;
use crate::rootfs::Root;
use crate::sys::fs::{fchdir, fchown, fstat};
use crate::sys::process::{prctl, setgroups, setresid};

/// runc's order: without no_new_privs, seccomp needs CAP_SYS_ADMIN to
/// load, so it is loaded before the capabilities are dropped.
pub fn seccomp_before_identity(a: &InitArgs<'_>) -> bool {
    // A listener must reach the parent before Ready: load early then too.
    a.seccomp.is_some_and(|f| f.wants_listener)
        || a.seccomp.is_some() && !a.config.process.no_new_privileges().unwrap_or(false)
}

/// Opens process.cwd inside the container's root with magic links
/// refused, so a cwd such as /proc/self/fd/N (a runtime fd of a host
/// directory, CVE-2024-21626) can never be entered.
pub fn open_cwd(config: &Config) -> Step<OwnedFd> {
    let cwd = config.process.cwd();
    let root = Root::new(std::fs::File::open("/").ctx(|| "opening /".into())?.into());
    root.open(cwd, libc::O_PATH | libc::O_DIRECTORY)
        .ctx(|| format!("process.cwd {cwd:?}"))
}

/// fchdir into the opened cwd and check that it is inside the container:
/// getcwd must work and not say "(unreachable)". First as root (returns
/// false when only the process's user may enter it); `retry` is the
/// attempt after the identity change.
pub fn chdir_cwd(config: &Config, cwd_fd: &OwnedFd, retry: bool) -> Step<bool> {
    let cwd = config.process.cwd();
    if let Err(e) = fchdir(cwd_fd.as_fd()) {
        if !retry && e.raw_os_error() == Some(libc::EACCES) {
            return Ok(false);
        }
        return Err(e).ctx(|| format!("process.cwd {cwd:?}"));
    }
    match std::env::current_dir() {
        Ok(p) if p.is_absolute() && !p.to_string_lossy().starts_with("(unreachable)") => Ok(true),
        Ok(p) => Err(InitError::CwdOutside {
            cwd: cwd.clone(),
            current: p,
        }),
        Err(e) => Err(e)
            .ctx(|| format!("process.cwd {cwd:?}: current directory is outside the container")),
    }
}

pub fn set_identity_and_capabilities(config: &Config) -> Step {
    let process = &config.process;
    let user = process.user();
    let caps = process.capabilities().as_ref();
    prctl(libc::PR_SET_KEEPCAPS, 1).ctx(|| "PR_SET_KEEPCAPS".into())?;
    if let Some(c) = caps {
        capabilities::drop_bounding(c)?;
    }
    let gids: Vec<u32> = user.additional_gids().clone().unwrap_or_default();
    // setgroups is denied in user namespaces whose gid_map was written
    // without CAP_SETGID; then only an empty/unchanged list is possible.
    if let Err(e) = setgroups(&gids) {
        if !gids.is_empty() || e.raw_os_error() != Some(libc::EPERM) {
            return Err(e).ctx(|| {
                format!(
                    "process.user.additionalGids {}",
                    crate::bounded::list(&gids)
                )
            });
        }
    }
    give_stdio_to(user.uid())?;
    setresid(user.uid(), user.gid())
        .ctx(|| format!("process.user uid {} gid {}", user.uid(), user.gid()))?;
    prctl(libc::PR_SET_KEEPCAPS, 0).ctx(|| "PR_SET_KEEPCAPS".into())?;
    if let Some(c) = caps {
        capabilities::set_sets(c)?;
    }
    let mask = user.umask().unwrap_or(0o022);
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    Ok(())
}

/// The process's stdio (its pty, or pipes and files from the caller)
/// belongs to its user, as runc does: only the owner uid changes (the
/// gid stays: a devpts mount may want its own), /dev/null is left alone,
/// and an inode the user namespace cannot map (EINVAL, EPERM) or a
/// read-only /dev (EROFS) is left as it is.
fn give_stdio_to(uid: u32) -> Step {
    for fd in 0..=2 {
        let fd = crate::sys::process::stdio(fd);
        let Ok(st) = fstat(fd) else { continue };
        let is_null =
            st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == libc::makedev(1, 3);
        if st.st_uid == uid || is_null {
            continue;
        }
        match fchown(fd, uid, st.st_gid) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINVAL | libc::EPERM | libc::EROFS)
                ) => {}
            Err(e) => return Err(e).ctx(|| format!("process.user uid {uid}: owning stdio")),
        }
    }
    Ok(())
}

pub fn set_no_new_privileges(config: &Config) -> Step {
    if config.process.no_new_privileges().unwrap_or(false) {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1).ctx(|| "process.noNewPrivileges".into())?;
    }
    Ok(())
}
