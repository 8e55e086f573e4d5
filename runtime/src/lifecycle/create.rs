//! `remora create`: validate, make the state directory, clone the init
//! into its namespaces (one clone3), place it in its cgroup, write its id
//! maps, run the createRuntime hooks when it asks, and leave it waiting
//! for `start`. On any failure everything made so far is undone; if
//! create is killed instead, the record it keeps from the start (state.rs)
//! lets `delete --force` undo it.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::SystemTime;

use remora_cgroups::Cgroup;
use remora_namespaces::{NamespaceKind, NamespacePlan, NetworkAhead};

use super::{proc_stat, state_json, Global};
use crate::channel::{Channel, Message};
use crate::config::{self, Bundle};
use crate::error::{Error, IoContext, Result};
use crate::init::{self, InitArgs};
use crate::state::{validate_id, write_pid_file, ContainerDir, State};
use crate::sys::clone::{clone3, CloneOptions, Forked};
use crate::sys::process::pidfd_open;

#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub id: String,
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// AF_UNIX socket to send a pidfd of the init to.
    pub pidfd_socket: Option<PathBuf>,
    /// `run` in the foreground: a terminal without a console socket is
    /// proxied by remora.
    pub foreground: bool,
}

/// A created container: its init waits for start.
pub struct Created {
    pub pid: i32,
    /// A pidfd of the init (it is our child until we exit).
    pub pidfd: OwnedFd,
    pub dir: ContainerDir,
    pub state: State,
    /// The pty master when remora proxies the terminal itself.
    pub console_master: Option<OwnedFd>,
}

pub fn create(g: &Global, o: &CreateOptions) -> Result<Created> {
    // Before anything that a re-exec would repeat: the init is a clone of
    // this process, so its /proc/self/exe must not be the host's binary
    // (docs/security.md, "The runtime binary").
    crate::sys::protected_exe::ensure().ctx(|| "protecting the runtime binary".into())?;
    let mut trace = crate::trace::Trace::start("create");
    validate_id(&o.id)?;
    let mut bundle = config::load(&o.bundle)?;
    config::validate(&bundle.spec)?;
    let preserve_fds = o.preserve_fds + forward_listen_fds(&mut bundle);
    let notify = crate::notify::host_socket().is_some();
    if notify {
        crate::notify::prepare(&mut bundle.spec, &g.root.join(&o.id))?;
    }
    check_terminal(&bundle, o)?;
    let linux = bundle.spec.linux().as_ref().expect("validated");
    let plan = NamespacePlan::from_spec(linux.namespaces().as_deref().unwrap_or(&[]))?;
    let mut joined = plan.open_joined()?;
    crate::rootless::check_config(linux, plan.is_new(NamespaceKind::User))?;
    // The network namespace, made on a thread while this one works on.
    let net_ahead = NetworkAhead::applies(&plan)
        .then(NetworkAhead::start)
        .flatten();
    let cgroup = crate::rootless::cgroup(g, linux, &o.id)?;
    // Before anything is made: an init placed in a frozen cgroup would
    // never report back.
    cgroup.check_not_frozen()?;
    trace.phase("config");
    let seccomp = crate::config::compile_seccomp(linux)?;
    trace.phase("seccomp");
    // Everything the init mounts lands in our mount namespace without one
    // of its own.
    let snapshot = if plan.has(NamespaceKind::Mount) {
        None
    } else {
        Some(super::host_mounts::Snapshot::take(&bundle.rootfs)?)
    };
    // The first record, before anything else is made: the cgroup paths
    // (and the host's mounts under the rootfs).
    let mut state = State {
        id: o.id.clone(),
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
        host_mounts_before: snapshot.as_ref().map(|s| s.record()),
        creating: true,
        cgroup_shared: false,
    };
    let dir = ContainerDir::create(&g.root, &o.id, &state)?;
    let mut undo = Undo {
        dir: Some(dir),
        cgroup: None,
        child: None,
        init: None,
        poststop: None,
        host_mounts: snapshot,
        cgroup_shared: false,
        intel_rdt: None,
    };
    let dir_path = undo.dir.as_ref().expect("set").path.clone();
    let fifo = dir_path.join(crate::state::FIFO_FILE);
    if notify {
        crate::notify::make_dir(&dir_path)?;
    }
    crate::sys::fs::mkfifo(&fifo, 0o622).ctx(|| format!("creating {}", fifo.display()))?;
    // Opened here, by path, as the caller: the init reopens it through its
    // own fd, whatever user or namespace it is in by then.
    let fifo_fd: OwnedFd = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
            .open(&fifo)
            .ctx(|| format!("opening {}", fifo.display()))?
            .into()
    };

    // The device cgroup is linux.resources.devices plus runc's default
    // set, nothing else: a linux.devices node gets no rule of its own
    // (a deny-all config keeps /dev/kmsg unreadable even if it is made).
    let resources = linux.resources().as_ref();
    let placement = cgroup.make(resources)?;
    if placement.occupied {
        crate::logging::warn(
            "container's cgroup is not empty: its processes share the container's limits",
        );
    }
    state.cgroup_shared = placement.occupied;
    undo.cgroup = Some(cgroup.clone());
    undo.cgroup_shared = placement.occupied;

    // The thread has exited: single-threaded again for the clones below.
    let net_made = net_ahead.and_then(NetworkAhead::finish);
    let idmapped = crate::rootfs::idmap::prepare(&bundle.dir, &bundle.spec)?;
    let (parent_end, init_end) = Channel::pair().ctx(|| "creating sync socket".into())?;
    let single = plan.single_clone();
    let mut flags = if single {
        plan.new_flags() & !libc::CLONE_NEWCGROUP
    } else {
        0
    };
    if let Some(net) = net_made {
        flags &= !libc::CLONE_NEWNET;
        joined.push(net);
    }
    trace.phase("cgroup");
    // SAFETY: single-threaded here: remora's threads (sys/netlink.rs's
    // scoped ones, NetworkAhead's) are joined before any clone3.
    let forked = unsafe {
        clone3(&CloneOptions {
            flags,
            want_pidfd: true,
            parent: false,
            cgroup: placement.clone_into(),
        })
    }
    .ctx(|| format!("clone3 into new namespaces (flags {flags:#x})"))?;
    let (child, child_pidfd) = match forked {
        Forked::Child => {
            drop(parent_end);
            if let Some(d) = undo.dir.take() {
                d.forget_lock_in_child();
            }
            init::run(InitArgs {
                id: &o.id,
                spec: &bundle.spec,
                bundle: &bundle.dir,
                rootfs: &bundle.rootfs,
                plan: &plan,
                joined: &joined,
                single_clone: single,
                channel: init_end,
                fifo: Some(&fifo_fd),
                no_pivot: o.no_pivot,
                no_new_keyring: o.no_new_keyring,
                preserve_fds,
                seccomp: seccomp.as_ref(),
                cgroup: Some(&placement),
                host_pid: 0,
                idmapped: &idmapped,
            })
        }
        Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(init_end);
    undo.child = Some(child);
    // The second record: the process to kill if create dies from here on
    // (its start time tells it from a later process with its PID).
    state.pid = child;
    state.init_start_time = proc_stat(child)
        .map(|(_, t)| t)
        .ok_or_else(|| Error::Init("container init exited during create".into()))?;
    undo.dir.as_ref().expect("set").save(&state)?;
    if let Some(h) = bundle
        .spec
        .hooks()
        .as_ref()
        .and_then(|h| h.poststop().clone())
    {
        let json = state_json(
            &o.id,
            "stopped",
            0,
            &bundle.dir,
            bundle.spec.annotations().as_ref(),
        );
        undo.poststop = Some((h, json, bundle.dir.clone()));
    }
    if cgroup.is_systemd() {
        cgroup.add_task(nix::unistd::Pid::from_raw(child))?;
    }
    trace.phase("clone");
    parent_end
        .send(&Message::Continue)
        .ctx(|| "sync: sending continue".into())?;
    // While the init sets itself up: the limits and device rules, in force
    // before `Ready` (so before any process of the container's runs).
    cgroup.apply_initial(resources)?;
    crate::cgroup_owner::apply(&cgroup, &bundle.spec, &plan)?;
    trace.phase("resources");
    let (pid, console_master, init_phases) = converse(
        &parent_end,
        &bundle,
        o,
        child,
        plan.is_new(NamespaceKind::User),
        !single && (plan.has(NamespaceKind::Pid) || plan.is_new(NamespaceKind::Time)),
        &mut undo.init,
        &mut super::watch::InitWatch::new(child, Some(cgroup.clone())),
        &dir_path,
    )
    .map_err(|e| explain_init_death(e, &mut undo, &cgroup, resources))?;
    if pid != child {
        // The intermediate forked the init into its pid namespace; reap it.
        super::watch::reap(child, super::watch::STUCK_AFTER);
        undo.child = Some(pid);
    }
    let pidfd = match (pid == child, child_pidfd) {
        (true, Some(fd)) => fd,
        _ => pidfd_open(pid).ctx(|| format!("pidfd_open({pid})"))?,
    };
    let (_, start_time) =
        proc_stat(pid).ok_or_else(|| Error::Init("container init exited during create".into()))?;
    undo.intel_rdt = apply_intel_rdt(&bundle, &o.id, pid, &dir_path)?;
    // The last record: the init, ready; the container exists.
    state.pid = pid;
    state.init_start_time = start_time;
    state.created = crate::timefmt::rfc3339_nano(SystemTime::now());
    state.creating = false;
    state.host_mounts_before = None;
    state.host_mounts = undo
        .host_mounts
        .as_ref()
        .map(|s| s.new_mounts())
        .unwrap_or_default();
    let dir = undo.dir.take().expect("set");
    trace.phase("init");
    trace.add_detail(init_phases);
    if let Err(e) = dir.save(&state) {
        undo.dir = Some(dir);
        return Err(e);
    }
    if let Some(p) = &o.pid_file {
        if let Err(e) = write_pid_file(p, pid) {
            undo.dir = Some(dir);
            return Err(e);
        }
    }
    trace.phase("state");
    trace.finish();
    if let Some(sock) = &o.pidfd_socket {
        if let Err(e) = send_pidfd(sock, &pidfd) {
            undo.dir = Some(dir);
            return Err(e);
        }
    }
    undo.cgroup = None;
    undo.child = None;
    undo.init = None;
    undo.poststop = None;
    undo.host_mounts = None;
    undo.intel_rdt = None;
    Ok(Created {
        pid,
        pidfd,
        dir,
        state,
        console_master,
    })
}

/// Socket activation (runc's behaviour): with LISTEN_FDS=N in remora's
/// environment, fds 3..3+N pass into the container (before the
/// --preserve-fds ones) and the process gets LISTEN_FDS=N, LISTEN_PID=1.
fn forward_listen_fds(bundle: &mut Bundle) -> u32 {
    let n: u32 = match std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) if n > 0 => n,
        _ => return 0,
    };
    if let Some(p) = bundle.spec.process_mut().as_mut() {
        let mut env = p.env().clone().unwrap_or_default();
        env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
        env.push(format!("LISTEN_FDS={n}"));
        env.push("LISTEN_PID=1".into());
        p.set_env(Some(env));
    }
    n
}

/// --pidfd-socket: the init's pidfd, sent with SCM_RIGHTS.
pub fn send_pidfd(sock: &std::path::Path, pidfd: &OwnedFd) -> Result<()> {
    let s = std::os::unix::net::UnixStream::connect(sock)
        .map_err(|e| Error::io(format!("--pidfd-socket {}", sock.display()), e))?;
    crate::channel::send_with_fd(s.as_fd(), b"pidfd", pidfd.as_fd())
        .map_err(|e| Error::io(format!("--pidfd-socket {}: sending", sock.display()), e))
}

/// Sends the seccomp listener fd with the container process state to
/// linux.seccomp.listenerPath (runc's format); for the init and for an
/// exec'd process alike (`status` says which state the container is in).
pub(super) fn send_seccomp_listener(
    bundle: &Bundle,
    id: &str,
    status: &str,
    pid: i32,
    fd: Option<OwnedFd>,
) -> Result<()> {
    let seccomp = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().clone())
        .ok_or_else(|| Error::Init("seccomp listener without linux.seccomp".into()))?;
    let path = seccomp
        .listener_path()
        .clone()
        .ok_or_else(|| Error::config("linux.seccomp.listenerPath: required for SCMP_ACT_NOTIFY"))?;
    let fd = fd.ok_or_else(|| Error::Init("seccomp listener: no fd received".into()))?;
    let state: serde_json::Value = serde_json::from_str(&state_json(
        id,
        status,
        pid,
        &bundle.dir,
        bundle.spec.annotations().as_ref(),
    ))
    .expect("json");
    let msg = remora_seccomp::process_state_json(
        crate::OCI_VERSION,
        pid,
        seccomp.listener_metadata().as_deref().unwrap_or(""),
        &state,
    );
    Ok(remora_seccomp::send_listener(&path, fd.as_fd(), &msg)?)
}

/// linux.intelRdt: the init joins its resctrl group (checked present by
/// config::validate); recorded in the state directory for update and
/// delete.
fn apply_intel_rdt(
    bundle: &Bundle,
    id: &str,
    pid: i32,
    state_dir: &std::path::Path,
) -> Result<Option<crate::resctrl::Applied>> {
    use crate::resctrl;
    let Some(rdt) = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.intel_rdt().clone())
    else {
        return Ok(None);
    };
    let root = std::path::Path::new(resctrl::ROOT);
    let plan = resctrl::check(&rdt, id, root)?;
    let applied = resctrl::apply(root, &plan, pid)?;
    if let Err(e) = resctrl::save_record(state_dir, &applied) {
        resctrl::remove(root, &applied);
        return Err(e);
    }
    Ok(Some(applied))
}

/// linux.netDevices, moved when the init reports its namespaces made
/// (with the createRuntime hooks' message). In the staged path the
/// init's PID may still be on its way from the intermediate process (the
/// init's message can overtake it): wait for it, the device goes into the
/// init's namespace.
fn move_net_devices(
    ch: &Channel,
    linux: &oci_spec::runtime::Linux,
    expect_init_pid: bool,
    init_seen: &mut Option<i32>,
    init_pid: &mut i32,
    state_dir: &std::path::Path,
) -> Result<()> {
    if expect_init_pid && init_seen.is_none() {
        match ch.recv_fd().ctx(|| "sync: receiving from init".into())? {
            Some((Message::InitPid(p), _)) => {
                *init_pid = p;
                *init_seen = Some(p);
            }
            Some((Message::Error(e), _)) => return Err(Error::Init(e)),
            other => {
                return Err(Error::Init(format!(
                    "sync: expected the init's PID, got {:?}",
                    other.map(|(m, _)| m)
                )))
            }
        }
    }
    crate::net_devices::move_in(linux, *init_pid, state_dir)
}

/// terminal=true needs --console-socket and vice versa (runc's rules).
fn check_terminal(bundle: &Bundle, o: &CreateOptions) -> Result<()> {
    let terminal = bundle
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    match (terminal, &o.console_socket) {
        (true, None) if !o.foreground => Err(Error::config(
            "process.terminal: cannot allocate tty if remora will detach without setting console socket",
        )),
        (false, Some(_)) => Err(Error::config(
            "--console-socket: cannot use console socket if remora will not detach or allocate tty",
        )),
        _ => Ok(()),
    }
}

/// A conversation that failed because the init died says how it died;
/// killed by the OOM killer under linux.resources.memory.limit, that the
/// limit is below what the init needs (runc: "unable to set memory limit
/// to N (current usage ...)").
fn explain_init_death(
    e: Error,
    undo: &mut Undo,
    cgroup: &Cgroup,
    resources: Option<&oci_spec::runtime::LinuxResources>,
) -> Error {
    let died = match &e {
        Error::Init(m) => m.starts_with("container init exited"),
        Error::Io { context, .. } => context.starts_with("sync: receiving"),
        _ => false,
    };
    if !died {
        return e;
    }
    let oom = cgroup.oom_kill_count().unwrap_or(0) > 0;
    let limit = resources
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.limit());
    // Reaped here (it is dead; with CLONE_PARENT the init forked into its
    // pid namespace is our child too) to say how it ended; the undo must
    // then not signal its (reusable) PID.
    let init = undo.init.or(undo.child);
    let how = init
        .and_then(|p| super::watch::reap(p, super::watch::STUCK_AFTER))
        .map(|s| super::watch::describe(&s));
    if how.is_some() {
        if undo.init.is_some() {
            undo.init = None;
        } else {
            undo.child = None;
        }
    }
    match (oom, limit) {
        (true, Some(limit)) => Error::config(format!(
            "linux.resources.memory.limit: unable to set memory limit to {limit}: the container init was killed by the OOM killer; the limit is below what the init needs"
        )),
        _ => match how {
            Some(how) => Error::Init(format!("container init {how} before it was ready")),
            None => e,
        },
    }
}

/// The parent's side of the conversation; returns the init's PID, the pty
/// master remora keeps (if any) and the init's phase trace.
#[allow(clippy::too_many_arguments)] // the conversation's inputs, each used once
fn converse(
    ch: &Channel,
    bundle: &Bundle,
    o: &CreateOptions,
    child: i32,
    userns: bool,
    expect_init_pid: bool,
    init_seen: &mut Option<i32>,
    watch: &mut super::watch::InitWatch,
    state_dir: &std::path::Path,
) -> Result<(i32, Option<OwnedFd>, crate::trace::Phases)> {
    let mut ready = false;
    let mut phases = crate::trace::Phases::new();
    let id = o.id.as_str();
    let mut kept_master = None;
    let linux = bundle.spec.linux().as_ref().expect("validated");
    let mut init_pid = child;
    loop {
        while !ch
            .readable(super::watch::TICK)
            .ctx(|| "sync: waiting for the init".into())?
        {
            watch.check()?;
        }
        let (msg, fd) = match ch.recv_fd().ctx(|| "sync: receiving from init".into())? {
            Some((m, fd)) => (Some(m), fd),
            None => (None, None),
        };
        match msg {
            Some(Message::ConsoleMaster) => {
                match crate::terminal::relay_master(fd, o.console_socket.as_deref()) {
                    Ok(kept) => kept_master = kept.or(kept_master),
                    Err(e) => {
                        let _ = ch.send(&Message::Error(e.clone()));
                        return Err(Error::Init(e));
                    }
                }
            }
            Some(Message::IdMapRequest) if userns => {
                let r = crate::rootless::write_id_maps(
                    child,
                    linux.uid_mappings().as_deref().unwrap_or(&[]),
                    linux.gid_mappings().as_deref().unwrap_or(&[]),
                );
                if let Err(e) = r {
                    let _ = ch.send(&Message::Error(e.to_string()));
                    return Err(e);
                }
                ch.send(&Message::IdMapsWritten).ctx(|| "sync".into())?;
            }
            Some(Message::InitPid(p)) => {
                init_pid = p;
                *init_seen = Some(p);
                watch.set_pid(p);
                if ready {
                    return Ok((init_pid, kept_master, phases));
                }
            }
            // The init's Ready can overtake its forker's InitPid: wait for both.
            Some(Message::Ready) if expect_init_pid && init_seen.is_none() => ready = true,
            Some(Message::SeccompListener) => {
                let r = send_seccomp_listener(bundle, id, "creating", init_pid, fd);
                if let Err(e) = r {
                    let _ = ch.send(&Message::Error(e.to_string()));
                    return Err(e);
                }
            }
            Some(Message::CreateRuntimeHooks) => {
                let moved = move_net_devices(
                    ch,
                    linux,
                    expect_init_pid,
                    init_seen,
                    &mut init_pid,
                    state_dir,
                );
                if let Err(e) = moved {
                    let _ = ch.send(&Message::Error(e.to_string()));
                    return Err(e);
                }
                let json = state_json(
                    id,
                    "created",
                    init_pid,
                    &bundle.dir,
                    bundle.spec.annotations().as_ref(),
                );
                let hooks = bundle.spec.hooks().clone().unwrap_or_default();
                let r = crate::hooks::run_all(
                    "prestart",
                    hooks.prestart().as_deref().unwrap_or(&[]),
                    &json,
                    &bundle.dir,
                )
                .and_then(|()| {
                    crate::hooks::run_all(
                        "createRuntime",
                        hooks.create_runtime().as_deref().unwrap_or(&[]),
                        &json,
                        &bundle.dir,
                    )
                });
                match r {
                    Ok(()) => ch.send(&Message::HooksDone).ctx(|| "sync".into())?,
                    Err(e) => {
                        let _ = ch.send(&Message::Error(e.clone()));
                        return Err(Error::Init(e));
                    }
                }
            }
            Some(Message::InitPhases(p)) => phases = p,
            Some(Message::Ready) => return Ok((init_pid, kept_master, phases)),
            Some(Message::Error(e)) => return Err(Error::Init(e)),
            Some(other) => return Err(Error::Init(format!("sync: unexpected {other:?}"))),
            None => {
                return Err(Error::Init(
                    "container init exited before it was ready".into(),
                ))
            }
        }
    }
}

/// What a failed create has made, undone in reverse when dropped.
struct Undo {
    dir: Option<ContainerDir>,
    cgroup: Option<Cgroup>,
    /// The cloned child and, in the staged path, the init it forked.
    child: Option<i32>,
    init: Option<i32>,
    /// poststop hooks and their state JSON: a create that fails once the
    /// container exists is destroyed, and destroy runs them (spec
    /// lifecycle step 12-13).
    poststop: Option<(Vec<oci_spec::runtime::Hook>, String, PathBuf)>,
    /// Without a mount namespace of its own: the caller's mount table
    /// before the init, to remove what it mounted.
    host_mounts: Option<super::host_mounts::Snapshot>,
    /// The cgroup held other processes before: it is released, not
    /// destroyed.
    cgroup_shared: bool,
    /// The init's resctrl group (linux.intelRdt).
    intel_rdt: Option<crate::resctrl::Applied>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        // linux.netDevices back to the host while the namespace exists.
        if let Some(dir) = &self.dir {
            let pid = self.init.or(self.child);
            for f in crate::net_devices::move_back(&dir.path, pid) {
                crate::logging::warn(&format!("failed create: {f}"));
            }
        }
        if let Some(a) = self.intel_rdt.take() {
            crate::resctrl::remove(std::path::Path::new(crate::resctrl::ROOT), &a);
        }
        if let Some(pid) = self.init.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        if let Some(cg) = &self.cgroup {
            // A frozen init cannot die of SIGKILL (v1 freezer).
            let _ = cg.set_frozen(false);
        }
        if let Some(pid) = self.child.take() {
            let p = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
            // Bounded: an init stuck in uninterruptible sleep is reported,
            // not waited for forever.
            super::watch::reap(pid, super::watch::STUCK_AFTER);
        }
        if let Some(cg) = self.cgroup.take() {
            if self.cgroup_shared {
                let _ = cg.release();
            } else {
                let _ = cg.destroy();
            }
        }
        if let Some(snapshot) = self.host_mounts.take() {
            for f in super::host_mounts::remove(&snapshot.new_mounts()) {
                crate::logging::warn(&format!("removing a mount of the failed create: {f}"));
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.remove();
        }
        if let Some((hooks, json, bundle)) = self.poststop.take() {
            crate::hooks::run_all_warning("poststop", &hooks, &json, &bundle);
        }
    }
}
