//! `remora checkpoint`: CRIU dumps a running (or paused) container into
//! --image-path, as runc: the container's init tree with its namespaces,
//! the bind mounts, masked files and joined namespaces declared external,
//! the cgroup frozen through the container's own. Without
//! --leave-running or --pre-dump the container is gone afterwards, and is
//! destroyed (cgroup, state, poststop hooks) as runc destroys it: `state`
//! then says it does not exist, and `restore` takes the ID again.

use std::os::fd::{AsFd, AsRawFd};

use super::{status_of, Global, Status};
use crate::cli_criu::CheckpointArgs;
use crate::criu::container::{self as cc, Dirs};
use crate::criu::rpc::{req_type, CriuFeatures, CriuOpts, CriuReq, PageServerInfo};
use crate::criu::{Criu, CriuError, Notification};
use crate::error::{Error, Result};
use crate::state::ContainerDir;

pub fn checkpoint(g: &Global, a: &CheckpointArgs, criu_flag: Option<&str>) -> Result<()> {
    // CRIU needs root (runc refuses as well).
    if crate::rootless::euid_rootless() {
        return Err(Error::config("cannot checkpoint a rootless container"));
    }
    let criu = Criu::locate(criu_flag)?;
    let mode = cc::cgroups_mode(a.criu.manage_cgroups_mode.as_deref())?;
    let empty_ns = cc::empty_ns(a.criu.empty_ns.as_deref())?;
    let page_server = a.page_server.as_deref().map(page_server).transpose()?;
    let dir = ContainerDir::open(&g.root, &a.id)?;
    let st = dir.load()?;
    match status_of(&st, &dir) {
        Status::Running | Status::Paused => {}
        s => {
            return Err(Error::config(format!(
                "container cannot be checkpointed in {} state",
                s.as_str()
            )))
        }
    }
    let spec = crate::config::load(&st.bundle)?.to_spec()?;
    let dirs = Dirs::open(&a.criu, true)?;
    if let Some(p) = &a.parent_path {
        check_parent(&dirs, p)?;
    }
    if a.pre_dump || a.parent_path.is_some() {
        criu.require_features(CriuFeatures {
            mem_track: Some(true),
            ..Default::default()
        })?;
    }
    let status_fd = if a.criu.lazy_pages {
        criu.require_features(CriuFeatures {
            lazy_pages: Some(true),
            ..Default::default()
        })?;
        status_fd(a.status_fd)?
    } else {
        None
    };
    cc::save_descriptors(&dirs.image, st.pid)?;

    let log = if a.pre_dump {
        "pre-dump.log"
    } else {
        "dump.log"
    };
    let opts = CriuOpts {
        pid: Some(st.pid),
        work_dir_fd: Some(dirs.work_fd.as_raw_fd()),
        log_level: Some(4),
        log_file: Some(log.into()),
        root: Some(st.rootfs.display().to_string()),
        manage_cgroups: Some(true),
        manage_cgroups_mode: mode,
        notify_scripts: Some(true),
        shell_job: Some(a.criu.shell_job),
        leave_running: Some(a.leave_running),
        tcp_established: Some(a.criu.tcp_established),
        ext_unix_sk: Some(a.criu.ext_unix_sk),
        file_locks: Some(a.criu.file_locks),
        orphan_pts_master: Some(true),
        auto_dedup: Some(a.criu.auto_dedup),
        lazy_pages: Some(a.criu.lazy_pages),
        empty_ns,
        freeze_cgroup: cc::freeze_cgroup(&st.cgroup),
        parent_img: a.parent_path.as_ref().map(|p| p.display().to_string()),
        track_mem: (a.pre_dump || a.parent_path.is_some()).then_some(true),
        ps: page_server,
        external: cc::dump_externals(&spec)?,
        ext_mnt: cc::dump_mounts(&spec, st.pid),
        ..CriuOpts::new(dirs.image_fd.as_raw_fd())
    };
    let req = CriuReq {
        r#type: if a.pre_dump {
            req_type::PRE_DUMP
        } else {
            req_type::DUMP
        },
        opts: Some(opts),
        ..Default::default()
    };
    let pass = [dirs.image_fd.as_fd(), dirs.work_fd.as_fd()];
    let mut status_fd = status_fd;
    let result = criu.start(&pass, false).and_then(|mut s| {
        s.call(&req, Some(&dirs.work.join(log)), &mut |n: Notification| {
            on_notify(&n, &mut status_fd)
        })
    });
    if let Err(e) = result {
        return Err(explain(&criu, e, &dirs).into());
    }
    if !(a.leave_running || a.pre_dump) {
        // CRIU killed the container's processes: what is left is the
        // container's record, cgroup and hooks, as after it exited.
        super::delete::kill_and_wait(&st);
        super::delete::destroy(dir, &st)?;
    }
    Ok(())
}

/// runc's handling of dump notifications: the network lock and unlock
/// concern runc's own network strategies, which an OCI config has none
/// of; status-ready (lazy pages) writes \0 to --status-fd.
fn on_notify(n: &Notification, status_fd: &mut Option<std::os::fd::OwnedFd>) -> Result<()> {
    if n.script == "status-ready" {
        if let Some(fd) = status_fd.take() {
            nix::unistd::write(&fd, &[0])
                .map_err(|e| Error::errno(format!("--status-fd {}", fd.as_raw_fd()), e))?;
        }
    }
    Ok(())
}

/// A DUMP that failed: when CRIU cannot work on this kernel at all, say
/// that (criu check's reason); else CRIU's error with its log's errors.
pub(super) fn explain(criu: &Criu, e: CriuError, dirs: &Dirs) -> CriuError {
    if !matches!(e, CriuError::Failed { .. } | CriuError::Exited { .. }) {
        return e;
    }
    if let Err(c @ CriuError::CheckFailed { .. }) = criu.check(dirs.work_fd.as_fd(), &dirs.work) {
        return c;
    }
    match e {
        CriuError::Failed {
            kind,
            errno,
            msg,
            log,
        } => {
            let from_log = log.as_deref().and_then(crate::criu::log_errors);
            CriuError::Failed {
                kind,
                errno,
                msg: msg.or(from_log),
                log,
            }
        }
        e => e,
    }
}

/// --parent-path: relative to the image path (CRIU's parent_img), an
/// existing directory there.
fn check_parent(dirs: &Dirs, p: &std::path::Path) -> Result<()> {
    if p.is_absolute() {
        return Err(Error::config(format!(
            "--parent-path {}: must be relative (to --image-path)",
            p.display()
        )));
    }
    let real = dirs.image.join(p);
    if !real.is_dir() {
        return Err(Error::config(format!(
            "invalid --parent-path {}: {} is not a directory",
            p.display(),
            real.display()
        )));
    }
    Ok(())
}

/// --page-server ADDRESS:PORT.
fn page_server(s: &str) -> Result<PageServerInfo> {
    let bad = || Error::config(format!("--page-server {s:?}: must be ADDRESS:PORT"));
    let (addr, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok(PageServerInfo {
        address: Some(addr.trim_matches(['[', ']']).to_string()),
        port: Some(port.into()),
    })
}

/// --status-fd: an fd of ours open for writing (runc's check), taken
/// over (closed once written).
fn status_fd(fd: i32) -> Result<Option<std::os::fd::OwnedFd>> {
    if fd < 0 {
        return Ok(None);
    }
    let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)
        .map_err(|e| Error::argument(format!("invalid --status-fd argument {fd}: {e}")))?;
    if flags & (libc::O_WRONLY | libc::O_RDWR) == 0 {
        return Err(Error::config(format!(
            "invalid --status-fd argument {fd}: not writable"
        )));
    }
    crate::sys::process::dup_cloexec(fd)
        .map(Some)
        .map_err(|e| Error::io(format!("--status-fd {fd}"), e))
}
