//! `remora create`: validate, make the state directory, clone the init
//! into its namespaces (one clone3), place it in its cgroup, write its id
//! maps, run the createRuntime hooks when it asks, and leave it waiting
//! for `start`. On any failure everything made so far is undone; if
//! create is killed instead, the record it keeps from the start (state.rs)
//! lets `delete --force` undo it. The conversation with the init:
//! crate::protocol.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use remora_cgroups::{Cgroup, Placement};
use remora_namespaces::{JoinedNamespace, NamespaceKind, NamespacePlan, NetworkAhead};

use super::init_gone::InitGone;
use super::{proc_stat, state_json, Global};
use crate::channel::Channel;
use crate::config::{self, Config as Bundle};
use crate::error::{Error, IoContext, Result};
use crate::init::{self, InitArgs, Mode};
use crate::protocol::{self, Kept, Message, ProtocolError, Reported, Requests};
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
    protect_runtime_binary()?;
    let mut trace = crate::trace::Trace::start("create");
    let mut cfg = load_config(g, o)?;
    trace.phase("config");
    trace.phase("seccomp");
    let mut c = record_creating(g, o, &cfg)?;
    // What exec needs of the config: exec never reads config.json again.
    config::saved::ExecConfig::save(&cfg.bundle, &c.dir_path)?;
    let fifo = make_exec_fifo(&c.dir_path, cfg.notify)?;
    let placement = make_cgroup(&mut c, &cfg)?;
    // The thread has exited: single-threaded again for the clones below.
    cfg.network_made_ahead();
    let linux = cfg.linux();
    let idmapped = crate::rootfs::idmap::prepare(
        &cfg.bundle.bundle,
        &cfg.bundle.mounts,
        (
            linux.uid_mappings().as_deref().unwrap_or(&[]),
            linux.gid_mappings().as_deref().unwrap_or(&[]),
        ),
    )?;
    let channel = Channel::pair().ctx(|| "creating sync socket".into())?;
    trace.phase("cgroup");
    let made = Made {
        fifo: &fifo,
        // Compiled by config::load.
        seccomp: cfg.bundle.seccomp.as_ref(),
        placement: &placement,
        idmapped: &idmapped,
    };
    let (child, child_pidfd, parent_end) = clone_init(o, &cfg, &mut c, made, channel)?;
    record_child(&mut c, o, &cfg, child)?;
    trace.phase("clone");
    protocol::send(&parent_end, &Message::Continue)?;
    // While the init sets itself up: the limits and device rules, in force
    // before `Ready` (so before any process of the container's runs).
    cfg.cgroup.apply_initial(cfg.resources())?;
    crate::cgroup_owner::apply(&cfg.cgroup, &cfg.bundle)?;
    trace.phase("resources");
    let (reported, console_master) = talk_to_init(&parent_end, o, &cfg, &mut c, child)?;
    let pid = reported.pid;
    let pidfd = take_over_init(&mut c, child, child_pidfd, pid)?;
    c.undo.intel_rdt = apply_intel_rdt(&cfg.bundle, &o.id, pid, &c.dir_path)?;
    trace.phase("init");
    trace.add_detail(reported.phases);
    record_created(&mut c, o, pid)?;
    trace.phase("state");
    trace.finish();
    if let Some(sock) = &o.pidfd_socket {
        send_pidfd(sock, &pidfd)?;
    }
    Ok(c.done(pid, pidfd, console_master))
}

/// What create works from, read and checked before anything is made.
struct Config {
    bundle: Bundle,
    /// --preserve-fds plus the socket-activation fds (LISTEN_FDS).
    preserve_fds: u32,
    /// NOTIFY_SOCKET: the container gets a socket of its own.
    notify: bool,
    plan: NamespacePlan,
    /// The namespaces given by path, opened (and the network namespace
    /// made ahead, once made).
    joined: Vec<JoinedNamespace>,
    /// The network namespace, made on a thread while create works on.
    net_ahead: Option<NetworkAhead>,
    /// The clone makes no network namespace: it was made ahead.
    net_made: bool,
    cgroup: Cgroup,
}

impl Config {
    fn linux(&self) -> &oci_spec::runtime::Linux {
        &self.bundle.linux
    }
    fn resources(&self) -> Option<&oci_spec::runtime::LinuxResources> {
        self.linux().resources().as_ref()
    }
    /// The clone made every new namespace (else the init unshares them).
    fn single_clone(&self) -> bool {
        self.plan.single_clone()
    }
    /// The init is forked into its pid (or time) namespace by the cloned
    /// process, which reports its PID.
    fn forked_init(&self) -> bool {
        !self.single_clone()
            && (self.plan.has(NamespaceKind::Pid) || self.plan.is_new(NamespaceKind::Time))
    }
    /// The network namespace made ahead (the thread has exited), for the
    /// init to join.
    fn network_made_ahead(&mut self) {
        if let Some(net) = self.net_ahead.take().and_then(NetworkAhead::finish) {
            self.joined.push(net);
            self.net_made = true;
        }
    }
}

/// Before anything that a re-exec would repeat: the init is a clone of
/// this process, so its /proc/self/exe must not be the host's binary
/// (docs/security.md, "The runtime binary").
pub(super) fn protect_runtime_binary() -> Result<()> {
    crate::sys::protected_exe::ensure().ctx(|| "protecting the runtime binary".into())
}

/// The ID, config.json, the terminal flags, the namespaces to join, and
/// the cgroup (not frozen: an init placed in a frozen cgroup would never
/// report back).
fn load_config(g: &Global, o: &CreateOptions) -> Result<Config> {
    validate_id(&o.id)?;
    let mut bundle = config::load(&o.bundle)?;
    let preserve_fds = o.preserve_fds + forward_listen_fds(&mut bundle);
    let notify = crate::notify::host_socket().is_some();
    if notify {
        crate::notify::prepare(&mut bundle, &g.root.join(&o.id))?;
    }
    check_terminal(&bundle, o)?;
    let linux = &bundle.linux;
    let plan = bundle.namespaces.clone();
    let joined = plan.open_joined()?;
    crate::rootless::check_config(linux, plan.is_new(NamespaceKind::User))?;
    // The network namespace, made on a thread while this one works on.
    let net_ahead = NetworkAhead::applies(&plan)
        .then(NetworkAhead::start)
        .flatten();
    let cgroup = crate::rootless::cgroup(g, linux, &o.id)?;
    cgroup.check_not_frozen()?;
    Ok(Config {
        bundle,
        preserve_fds,
        notify,
        plan,
        joined,
        net_ahead,
        net_made: false,
        cgroup,
    })
}

/// A create in progress: the state record and what to undo.
struct Creating {
    state: State,
    undo: Undo,
    dir_path: PathBuf,
}

impl Creating {
    fn dir(&self) -> &ContainerDir {
        self.undo.dir.as_ref().expect("kept until done")
    }

    /// The container exists: nothing is undone any more.
    fn done(mut self, pid: i32, pidfd: OwnedFd, console_master: Option<OwnedFd>) -> Created {
        let u = &mut self.undo;
        let dir = u.dir.take().expect("kept until done");
        (u.cgroup, u.child, u.init, u.poststop) = (None, None, None, None);
        (u.host_mounts, u.intel_rdt) = (None, None);
        Created {
            pid,
            pidfd,
            dir,
            state: self.state,
            console_master,
        }
    }
}

/// The first record, before anything else is made: the state directory
/// with the cgroup paths (and the host's mounts under the rootfs, which
/// the init mounts into without a mount namespace of its own).
fn record_creating(g: &Global, o: &CreateOptions, cfg: &Config) -> Result<Creating> {
    let snapshot = if cfg.plan.has(NamespaceKind::Mount) {
        None
    } else {
        Some(super::host_mounts::Snapshot::take(&cfg.bundle.rootfs)?)
    };
    let state = first_record(o, cfg, snapshot.as_ref());
    let dir = ContainerDir::create(&g.root, &o.id, &state)?;
    let dir_path = dir.path.clone();
    let undo = Undo {
        dir: Some(dir),
        cgroup: None,
        child: None,
        init: None,
        poststop: None,
        host_mounts: snapshot,
        cgroup_shared: false,
        intel_rdt: None,
    };
    Ok(Creating {
        state,
        undo,
        dir_path,
    })
}

fn first_record(
    o: &CreateOptions,
    cfg: &Config,
    snapshot: Option<&super::host_mounts::Snapshot>,
) -> State {
    let b = &cfg.bundle;
    State {
        id: o.id.clone(),
        pid: 0,
        init_start_time: 0,
        bundle: b.bundle.clone(),
        rootfs: b.rootfs.clone(),
        created: crate::timefmt::rfc3339_nano(SystemTime::now()),
        owner: String::new(),
        annotations: b.annotations.clone(),
        cgroup: cfg.cgroup.to_saved(),
        hooks: (b.hooks != Default::default()).then(|| b.hooks.clone()),
        own_pid_ns: cfg.plan.has(NamespaceKind::Pid),
        host_mounts: Vec::new(),
        host_mounts_before: snapshot.map(|s| s.record()),
        creating: true,
        cgroup_shared: false,
    }
}

/// The exec fifo the init waits for `start` on, opened here, by path, as
/// the caller: the init reopens it through this fd, whatever user or
/// namespace it is in by then.
fn make_exec_fifo(dir: &Path, notify: bool) -> Result<OwnedFd> {
    let fifo = dir.join(crate::state::FIFO_FILE);
    if notify {
        crate::notify::make_dir(dir)?;
    }
    crate::sys::fs::mkfifo(&fifo, 0o622).ctx(|| format!("creating {}", fifo.display()))?;
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(&fifo)
        .ctx(|| format!("opening {}", fifo.display()))?
        .into())
}

/// The container's cgroup, made (with the device rules of
/// linux.resources.devices plus runc's default set, nothing else: a
/// linux.devices node gets no rule of its own) and opened for the clone.
fn make_cgroup(c: &mut Creating, cfg: &Config) -> Result<Placement> {
    let placement = cfg.cgroup.make(cfg.resources())?;
    if placement.occupied {
        crate::logging::warn(
            "container's cgroup is not empty: its processes share the container's limits",
        );
    }
    c.state.cgroup_shared = placement.occupied;
    c.undo.cgroup = Some(cfg.cgroup.clone());
    c.undo.cgroup_shared = placement.occupied;
    Ok(placement)
}

/// What create made for the init before the clone.
struct Made<'a> {
    fifo: &'a OwnedFd,
    seccomp: Option<&'a remora_seccomp::Filter>,
    placement: &'a Placement,
    idmapped: &'a [Option<OwnedFd>],
}

/// One clone3 into the new namespaces (all of them when no namespace is
/// joined) and the cgroup; the child runs the init and never returns.
/// Returns the child's PID and pidfd, and the parent's end of the
/// channel.
fn clone_init(
    o: &CreateOptions,
    cfg: &Config,
    c: &mut Creating,
    made: Made<'_>,
    (parent_end, init_end): (Channel, Channel),
) -> Result<(i32, Option<OwnedFd>, Channel)> {
    let mut flags = match cfg.single_clone() {
        true => cfg.plan.new_flags() & !libc::CLONE_NEWCGROUP,
        false => 0,
    };
    if cfg.net_made {
        flags &= !libc::CLONE_NEWNET;
    }
    // SAFETY: single-threaded here: remora's threads (sys/netlink.rs's
    // scoped ones, NetworkAhead's) are joined before any clone3.
    let forked = unsafe {
        clone3(&CloneOptions {
            flags,
            want_pidfd: true,
            parent: false,
            cgroup: made.placement.clone_into(),
        })
    }
    .ctx(|| format!("clone3 into new namespaces (flags {flags:#x})"))?;
    match forked {
        Forked::Parent { pid, pidfd } => Ok((pid, pidfd, parent_end)),
        Forked::Child => {
            drop(parent_end);
            if let Some(d) = c.undo.dir.take() {
                d.forget_lock_in_child();
            }
            run_init(o, cfg, made, init_end)
        }
    }
}

/// In the cloned child: the container's init (init/mod.rs).
fn run_init(o: &CreateOptions, cfg: &Config, made: Made<'_>, channel: Channel) -> ! {
    init::run(InitArgs {
        id: &o.id,
        config: &cfg.bundle,
        bundle: &cfg.bundle.bundle,
        rootfs: &cfg.bundle.rootfs,
        plan: &cfg.plan,
        joined: &cfg.joined,
        single_clone: cfg.single_clone(),
        channel,
        mode: Mode::Create { fifo: made.fifo },
        no_pivot: o.no_pivot,
        no_new_keyring: o.no_new_keyring,
        preserve_fds: cfg.preserve_fds,
        seccomp: made.seccomp,
        cgroup: Some(made.placement),
        host_pid: 0,
        idmapped: made.idmapped,
    })
}

/// The second record: the process to kill if create dies from here on
/// (its start time tells it from a later process with its PID); the
/// poststop hooks a failed create runs; with systemd, the child in the
/// container's unit.
fn record_child(c: &mut Creating, o: &CreateOptions, cfg: &Config, child: i32) -> Result<()> {
    c.undo.child = Some(child);
    c.state.pid = child;
    c.state.init_start_time = proc_stat(child)
        .map(|(_, t)| t)
        .ok_or(InitGone::DuringCreate)?;
    c.dir().save(&c.state)?;
    let b = &cfg.bundle;
    if let Some(h) = b.hooks.poststop().clone() {
        let dir = &b.bundle;
        let json = state_json(&o.id, "stopped", 0, dir, Some(&b.annotations));
        c.undo.poststop = Some((h, json, dir.clone()));
    }
    if cfg.cgroup.is_systemd() {
        cfg.cgroup.add_task(nix::unistd::Pid::from_raw(child))?;
    }
    Ok(())
}

/// The conversation from `Continue` to `Ready` (crate::protocol); returns
/// what the init reported and the pty master remora keeps, if any.
fn talk_to_init(
    ch: &Channel,
    o: &CreateOptions,
    cfg: &Config,
    c: &mut Creating,
    child: i32,
) -> Result<(Reported, Option<OwnedFd>)> {
    let mut requests = CreateRequests {
        o,
        cfg,
        child,
        state_dir: &c.dir_path,
        kept: Kept::default(),
    };
    let mut watch = super::watch::InitWatch::new(child, Some(cfg.cgroup.clone()));
    let known = (!cfg.forked_init()).then_some(child);
    let r = protocol::converse(ch, &mut watch, known, "container init", &mut requests);
    c.undo.init = requests.kept.pid;
    let kept = requests.kept.master;
    match r {
        Ok(reported) => Ok((reported, kept)),
        Err(e) => Err(explain_init_death(
            e,
            &mut c.undo,
            &cfg.cgroup,
            cfg.resources(),
        )),
    }
}

/// The init, ready: the intermediate process that forked it (if any) is
/// reaped, and the init is the process to kill on failure. Returns a
/// pidfd of the init.
fn take_over_init(
    c: &mut Creating,
    child: i32,
    child_pidfd: Option<OwnedFd>,
    pid: i32,
) -> Result<OwnedFd> {
    if pid != child {
        super::watch::reap(child, super::watch::STUCK_AFTER);
        c.undo.child = Some(pid);
    }
    match (pid == child, child_pidfd) {
        (true, Some(fd)) => Ok(fd),
        _ => pidfd_open(pid).ctx(|| format!("pidfd_open({pid})")),
    }
}

/// The last record: the init, ready; the container exists. Then the pid
/// file.
fn record_created(c: &mut Creating, o: &CreateOptions, pid: i32) -> Result<()> {
    let (_, start_time) = proc_stat(pid).ok_or(InitGone::DuringCreate)?;
    let s = &mut c.state;
    s.pid = pid;
    s.init_start_time = start_time;
    s.created = crate::timefmt::rfc3339_nano(SystemTime::now());
    s.creating = false;
    s.host_mounts_before = None;
    s.host_mounts = c
        .undo
        .host_mounts
        .as_ref()
        .map(|s| s.new_mounts())
        .unwrap_or_default();
    c.dir().save(&c.state)?;
    if let Some(p) = &o.pid_file {
        write_pid_file(p, pid)?;
    }
    Ok(())
}

/// The parent's answers to the init's requests.
struct CreateRequests<'a> {
    o: &'a CreateOptions,
    cfg: &'a Config,
    child: i32,
    state_dir: &'a Path,
    /// The init forked by the child, once it reports, and the pty master.
    kept: Kept,
}

impl Requests for CreateRequests<'_> {
    fn kept(&mut self) -> &mut Kept {
        &mut self.kept
    }

    fn console_socket(&self) -> Option<&Path> {
        self.o.console_socket.as_deref()
    }

    fn write_id_maps(&mut self) -> Result<()> {
        let linux = self.cfg.linux();
        crate::rootless::write_id_maps(
            self.child,
            linux.uid_mappings().as_deref().unwrap_or(&[]),
            linux.gid_mappings().as_deref().unwrap_or(&[]),
        )
    }

    /// linux.netDevices into the init's network namespace, then the
    /// prestart and createRuntime hooks, in the runtime's namespaces.
    fn create_runtime(&mut self, pid: i32) -> Result<()> {
        crate::net_devices::move_in(self.cfg.linux(), pid, self.state_dir)?;
        let b = &self.cfg.bundle;
        let dir = &b.bundle;
        let json = state_json(&self.o.id, "created", pid, dir, Some(&b.annotations));
        let hooks = &b.hooks;
        let run = |kind, list: &Option<Vec<oci_spec::runtime::Hook>>| {
            crate::hooks::run_all(kind, list.as_deref().unwrap_or(&[]), &json, dir)
        };
        run("prestart", hooks.prestart())?;
        Ok(run("createRuntime", hooks.create_runtime())?)
    }

    fn seccomp_listener(&mut self, pid: i32, fd: Option<OwnedFd>) -> Result<()> {
        send_seccomp_listener(&self.cfg.bundle, &self.o.id, "creating", pid, fd)
    }
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
    let p = &mut bundle.process;
    let mut env = p.env().clone().unwrap_or_default();
    env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
    env.push(format!("LISTEN_FDS={n}"));
    env.push("LISTEN_PID=1".into());
    p.set_env(Some(env));
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
    cfg: &Bundle,
    id: &str,
    status: &str,
    pid: i32,
    fd: Option<OwnedFd>,
) -> Result<()> {
    let listener = cfg
        .seccomp_listener
        .as_ref()
        .ok_or_else(|| Error::config("linux.seccomp.listenerPath: required for SCMP_ACT_NOTIFY"))?;
    let fd = fd.ok_or(ProtocolError::NoFd("seccomp listener"))?;
    let state: serde_json::Value = serde_json::from_str(&state_json(
        id,
        status,
        pid,
        &cfg.bundle,
        Some(&cfg.annotations),
    ))
    .expect("json");
    let msg =
        remora_seccomp::process_state_json(crate::OCI_VERSION, pid, &listener.metadata, &state);
    Ok(remora_seccomp::send_listener(
        &listener.path,
        fd.as_fd(),
        &msg,
    )?)
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
    let Some(rdt) = bundle.linux.intel_rdt().clone() else {
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

/// terminal=true needs --console-socket and vice versa (runc's rules).
fn check_terminal(bundle: &Bundle, o: &CreateOptions) -> Result<()> {
    let terminal = bundle.process.terminal().unwrap_or(false);
    match (terminal, &o.console_socket) {
        (true, None) if !o.foreground => Err(Error::config(
            "process.terminal: cannot allocate tty if remora will detach without setting console socket",
        )),
        (false, Some(_)) => Err(Error::argument(
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
    let died = matches!(
        e,
        Error::Protocol(ProtocolError::Exited(_) | ProtocolError::Receive(_))
    );
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
            Some(how) => InitGone::BeforeReady { how }.into(),
            None => e,
        },
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
