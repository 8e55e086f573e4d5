//! `remora restore`: the container of a checkpoint made again by CRIU,
//! as runc does it: the ID's record made first (as create's), the cgroup
//! made with the limits of the bundle's config and `criu swrk` put in it
//! (the restored processes land there; CRIU is told the cgroup roots),
//! the rootfs bind-mounted where CRIU wants its root, the external mounts
//! mapped to their sources on this host, joined namespaces and the stdio
//! pipes handed to CRIU. CRIU's notifications: setup-namespaces runs the
//! prestart and createRuntime hooks, post-restore records the new init,
//! orphan-pts-master sends the new pty master to --console-socket. The
//! restored init is remora's child (rst_sibling): without -d remora
//! waits for it and exits with its status, as runc.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::SystemTime;

use remora_cgroups::Cgroup;
use remora_namespaces::{NamespaceKind, NamespacePlan};

use super::init_gone::InitGone;
use super::{proc_stat, state_json, Global};
use crate::cli_criu::RestoreArgs;
use crate::criu::container::{self as cc, Dirs};
use crate::criu::rpc::{req_type, CgroupRoot, CriuFeatures, CriuOpts, CriuReq, InheritFd};
use crate::criu::{Criu, Notification};
use crate::error::{Error, IoContext, Result};
use crate::state::{validate_id, write_pid_file, ContainerDir, State};
use crate::terminal::TerminalError;

pub fn restore(g: &Global, a: &RestoreArgs, criu_flag: Option<&str>) -> Result<i32> {
    if crate::rootless::euid_rootless() {
        return Err(Error::config("cannot restore a rootless container"));
    }
    let criu = Criu::locate(criu_flag)?;
    validate_id(&a.id)?;
    // Before anything is read (ContainerDir::create checks it again, for
    // a concurrent command).
    if g.root.join(&a.id).exists() {
        return Err(Error::AlreadyExists);
    }
    let mode = cc::cgroups_mode(a.criu.manage_cgroups_mode.as_deref())?;
    let empty_ns = cc::empty_ns(a.criu.empty_ns.as_deref())?;
    let bundle = Bundle::load(&a.bundle)?;
    check_terminal(&bundle, a)?;
    let dirs = Dirs::open(&a.criu, false)?;
    let pipes = cc::load_descriptors(&dirs.image)?;
    if a.criu.lazy_pages {
        criu.require_features(CriuFeatures {
            lazy_pages: Some(true),
            ..Default::default()
        })?;
    }
    let linux = bundle
        .spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::config("linux: missing from config.json"))?;
    let plan = NamespacePlan::from_spec(linux.namespaces().as_deref().unwrap_or(&[]))?;
    let ns_files = cc::joined_namespaces(&bundle.spec)
        .into_iter()
        .map(|(kind, path)| {
            cc::open_ns(&path)
                .map(|f| (cc::ns_key(kind), f))
                .map_err(|e| Error::io(path.display().to_string(), e))
        })
        .collect::<Result<Vec<_>>>()?;
    let cgroup = Cgroup::new(
        linux.cgroups_path().as_ref().and_then(|p| p.to_str()),
        &a.id,
        g.systemd_cgroup,
    )?;
    cgroup.check_not_frozen()?;
    let mut state = State {
        id: a.id.clone(),
        pid: 0,
        init_start_time: 0,
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: crate::timefmt::rfc3339_nano(SystemTime::now()),
        owner: String::new(),
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
        cgroup: cgroup.to_saved(),
        hooks: bundle.spec.hooks().clone(),
        own_pid_ns: plan.has(NamespaceKind::Pid),
        host_mounts: Vec::new(),
        host_mounts_before: None,
        creating: true,
        cgroup_shared: false,
    };
    let dir = ContainerDir::create(&g.root, &a.id, &state)?;
    let mut undo = Undo {
        dir: Some(dir),
        cgroup: None,
        criu_root: None,
    };
    let criu_root = undo.dir.as_ref().expect("set").path.join("criu-root");
    bind_root(&bundle.rootfs, &criu_root)?;
    undo.criu_root = Some(criu_root.clone());

    let mut opts = CriuOpts {
        work_dir_fd: Some(dirs.work_fd.as_raw_fd()),
        evasive_devices: Some(true),
        log_level: Some(4),
        log_file: Some("restore.log".into()),
        rst_sibling: Some(true),
        root: Some(criu_root.display().to_string()),
        manage_cgroups: Some(true),
        manage_cgroups_mode: mode,
        notify_scripts: Some(true),
        shell_job: Some(a.criu.shell_job),
        ext_unix_sk: Some(a.criu.ext_unix_sk),
        tcp_established: Some(a.criu.tcp_established),
        file_locks: Some(a.criu.file_locks),
        empty_ns,
        orphan_pts_master: Some(true),
        auto_dedup: Some(a.criu.auto_dedup),
        lazy_pages: Some(a.criu.lazy_pages),
        lsm_profile: a.lsm_profile.clone(),
        lsm_mount_context: a.lsm_mount_context.clone(),
        ext_mnt: cc::restore_mounts(
            &bundle.spec,
            &bundle.dir,
            cc::unified_only(&state.cgroup).as_deref(),
        ),
        ..CriuOpts::new(dirs.image_fd.as_raw_fd())
    };
    opts.inherit_fd = pipes
        .into_iter()
        .map(|(key, fd)| InheritFd { key, fd })
        .chain(ns_files.iter().map(|(key, f)| InheritFd {
            key: key.to_string(),
            fd: f.as_raw_fd(),
        }))
        .collect();

    // Blocked before the container runs again: no signal is lost.
    let sfd = if a.detach {
        None
    } else {
        Some(super::wait::forwarded_signals()?)
    };
    let mut pass = vec![dirs.image_fd.as_fd(), dirs.work_fd.as_fd()];
    pass.extend(ns_files.iter().map(|(_, f)| f.as_fd()));
    let mut session = criu.start(&pass, true)?;
    // CRIU restores the tasks into its own cgroup: the container's.
    let resources = linux.resources().as_ref();
    cgroup.create(nix::unistd::Pid::from_raw(session.pid()), resources)?;
    undo.cgroup = Some(cgroup.clone());
    opts.cg_root = cgroup_roots(session.pid())?;
    let req = CriuReq {
        r#type: req_type::RESTORE,
        opts: Some(opts),
        ..Default::default()
    };
    let mut restored = 0;
    let mut master: Option<OwnedFd> = None;
    let log = dirs.work.join("restore.log");
    let result = {
        let dir = undo.dir.as_ref().expect("set");
        let state = &mut state;
        let bundle = &bundle;
        session.call(
            &req,
            Some(&log),
            &mut |n: Notification| match n.script.as_str() {
                "setup-namespaces" => setup_namespaces_hooks(bundle, &a.id, n.pid),
                "post-restore" => {
                    restored = n.pid;
                    record_init(dir, state, n.pid)
                }
                "orphan-pts-master" => {
                    let fd = n.fd.ok_or(TerminalError::NoMaster {
                        from: "orphan-pts-master",
                    })?;
                    match &a.console_socket {
                        Some(sock) => {
                            Ok(crate::terminal::send_to_console_socket(sock, fd.as_fd())?)
                        }
                        None => {
                            master = Some(fd);
                            Ok(())
                        }
                    }
                }
                _ => Ok(()),
            },
        )
    };
    drop(session);
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            let e = super::checkpoint::explain(&criu, e, &dirs);
            undo.undo();
            return Err(e.into());
        }
    };
    undo.unmount_root();
    let pid = resp.restore.map(|r| r.pid).unwrap_or(restored);
    let dir = undo.dir.as_ref().expect("set");
    if state.creating || state.pid != pid {
        if let Err(e) = record_init(dir, &mut state, pid) {
            undo.undo();
            return Err(e);
        }
    }
    if let Some(p) = &a.pid_file {
        let p = std::path::absolute(p).unwrap_or(p.clone());
        if let Err(e) = write_pid_file(&p, pid) {
            undo.undo();
            return Err(e);
        }
    }
    let dir = undo.dir.take().expect("set");
    undo.cgroup = None;
    let Some(sfd) = sfd else {
        return Ok(0);
    };
    // As `run`: other commands may act on the container while it runs.
    drop(dir);
    let code = super::wait::wait_child(pid, sfd, master)?;
    match ContainerDir::open(&g.root, &a.id) {
        Ok(dir) => {
            let _ = cgroup.signal_all(nix::sys::signal::Signal::SIGKILL);
            super::delete::destroy(dir, &state)?;
        }
        Err(Error::NotExist) => {}
        Err(e) => return Err(e),
    }
    Ok(code)
}

/// The bundle's validated config (config::load), as the spec document
/// CRIU's options are made from.
struct Bundle {
    dir: std::path::PathBuf,
    rootfs: std::path::PathBuf,
    spec: oci_spec::runtime::Spec,
}

impl Bundle {
    fn load(bundle: &std::path::Path) -> Result<Bundle> {
        let config = crate::config::load(bundle)?;
        Ok(Bundle {
            spec: config.to_spec()?,
            dir: config.bundle,
            rootfs: config.rootfs,
        })
    }
}

/// A terminal needs somewhere to go: --console-socket, or remora's own
/// terminal in the foreground (as create's check).
fn check_terminal(bundle: &Bundle, a: &RestoreArgs) -> Result<()> {
    let terminal = bundle
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    match (terminal, &a.console_socket) {
        (true, None) if a.detach => Err(Error::config(
            "process.terminal: cannot allocate tty if remora will detach without setting console socket",
        )),
        (false, Some(_)) => Err(Error::config(
            "--console-socket: cannot use console socket if remora will not detach or allocate tty",
        )),
        _ => Ok(()),
    }
}

/// The restored init in the record: its PID and start time, the
/// container created now and no longer creating.
fn record_init(dir: &ContainerDir, state: &mut State, pid: i32) -> Result<()> {
    let (_, start) = proc_stat(pid).ok_or(InitGone::Restored { pid })?;
    state.pid = pid;
    state.init_start_time = start;
    state.created = crate::timefmt::rfc3339_nano(SystemTime::now());
    state.creating = false;
    dir.save(state)
}

/// setup-namespaces: the restored init's namespaces exist; runc runs the
/// prestart and createRuntime hooks then, with its PID.
fn setup_namespaces_hooks(bundle: &Bundle, id: &str, pid: i32) -> Result<()> {
    let Some(hooks) = bundle.spec.hooks().as_ref() else {
        return Ok(());
    };
    let json = state_json(
        id,
        "creating",
        pid,
        &bundle.dir,
        bundle.spec.annotations().as_ref(),
    );
    #[allow(deprecated)]
    let prestart = hooks.prestart().clone().unwrap_or_default();
    crate::hooks::run_all("prestart", &prestart, &json, &bundle.dir)?;
    let create_runtime = hooks.create_runtime().clone().unwrap_or_default();
    Ok(crate::hooks::run_all(
        "createRuntime",
        &create_runtime,
        &json,
        &bundle.dir,
    )?)
}

/// The cgroup roots CRIU restores under: where swrk itself is
/// (/proc/PID/cgroup; the unified hierarchy's line has no controllers:
/// the global root).
fn cgroup_roots(pid: i32) -> Result<Vec<CgroupRoot>> {
    let p = format!("/proc/{pid}/cgroup");
    let text = std::fs::read_to_string(&p).ctx(|| format!("reading {p}"))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrl, path) = (f.next()?, f.next()?, f.next()?);
            Some(CgroupRoot {
                ctrl: (!ctrl.is_empty()).then(|| ctrl.to_string()),
                path: path.to_string(),
            })
        })
        .collect())
}

/// The rootfs, bound (recursively) at `at`: CRIU wants its root to be a
/// mount point.
fn bind_root(rootfs: &std::path::Path, at: &std::path::Path) -> Result<()> {
    use nix::mount::{mount, MsFlags};
    std::fs::create_dir(at).ctx(|| format!("creating {}", at.display()))?;
    mount(
        Some(rootfs),
        at,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        let _ = std::fs::remove_dir(at);
        Error::io(
            format!("bind-mounting {} at {}", rootfs.display(), at.display()),
            e.into(),
        )
    })
}

/// What a failed restore undoes: the restored processes and the cgroup,
/// the root's bind mount, the record.
struct Undo {
    dir: Option<ContainerDir>,
    cgroup: Option<Cgroup>,
    criu_root: Option<PathBuf>,
}

impl Undo {
    fn unmount_root(&mut self) {
        if let Some(p) = self.criu_root.take() {
            if let Err(e) = crate::sys::mount::umount2(&p, libc::MNT_DETACH) {
                crate::logging::warn(&format!("unmounting {}: {e}", p.display()));
            }
            let _ = std::fs::remove_dir(&p);
        }
    }

    fn undo(&mut self) {
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.signal_all(nix::sys::signal::Signal::SIGKILL);
            if let Err(e) = cg.destroy() {
                crate::logging::warn(&format!("removing the cgroup: {}", crate::error::chain(&e)));
            }
        }
        self.unmount_root();
        if let Some(d) = self.dir.take() {
            let _ = d.remove();
        }
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        self.undo();
    }
}
