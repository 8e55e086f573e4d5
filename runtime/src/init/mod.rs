//! The container init: what runs in the cloned child, from the clone to
//! execve, as a straight list of steps in the order they happen.
//!
//! It runs in a forked copy of the (single-threaded) `remora` process: no
//! re-exec. Its messages to the parent and their order: crate::protocol.
//! Its steps fail with an [`InitError`], made text once in [`run`]: sent
//! to the parent as `Message::Error` before `Ready` (the parent cleans
//! up), to `remora start` on the exec fifo after.

mod error;
mod identity;
mod namespaces;
mod start;

pub use error::InitError;
use error::{Step, StepContext};

use std::convert::Infallible;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::config::Config;
use remora_namespaces::{JoinedNamespace, NamespaceKind, NamespacePlan};

use crate::channel::Channel;
use crate::process::procfs::ProcFs;
use crate::protocol::{self, Message};
use crate::rootfs::{self, MountContext, Root};
use crate::sys::clone::exit_now;

/// Everything the init needs, prepared by the parent before the clone.
pub struct InitArgs<'a> {
    pub id: &'a str,
    pub config: &'a Config,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub plan: &'a NamespacePlan,
    pub joined: &'a [JoinedNamespace],
    /// The clone already made every new namespace.
    pub single_clone: bool,
    pub channel: Channel,
    /// A container's init (create) or a process joining it (exec).
    pub mode: Mode<'a>,
    pub no_pivot: bool,
    /// --no-new-keyring: keep the caller's session keyring.
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub seccomp: Option<&'a remora_seccomp::Filter>,
    /// How the process joins its cgroups itself (v1 hierarchies; the
    /// cgroup2 one was joined by the clone).
    pub cgroup: Option<&'a remora_cgroups::Placement>,
    /// The init's PID as the host sees it (known after the pid namespace
    /// step; for hooks' state).
    pub host_pid: i32,
    /// Idmapped bind sources made by create, by mount index
    /// (rootfs/idmap.rs).
    pub idmapped: &'a [Option<OwnedFd>],
}

/// What the cloned process is for.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// create: the container's init; it waits for `remora start` on the
    /// exec fifo (opened O_PATH by the parent, so that no identity or
    /// namespace of the init's matters).
    Create { fifo: &'a OwnedFd },
    /// exec: a process joining the running container.
    Exec,
}

/// Runs the init (or an exec'd process); never returns.
pub fn run(mut a: InitArgs<'_>) -> ! {
    let result = match a.mode {
        Mode::Create { fifo } => steps(&mut a, fifo),
        Mode::Exec => exec_steps(&mut a),
    };
    match result {
        Ok(never) => match never {},
        Err(e) => {
            // Said once, to whoever listens: the parent on the channel
            // (create before Ready, exec until its execve; `start` reads
            // the exec fifo instead). Only when nobody is there does the
            // init say it on its own stderr.
            // A failed sync is the parent having gone (it gave up, said
            // why, and closed the channel): nothing more to say.
            let msg = crate::bounded::message(&crate::error::chain(&e));
            let parent_gone = matches!(e, InitError::Protocol(_));
            if a.channel.send(&Message::Error(msg.clone())).is_err() && !parent_gone {
                eprintln!("remora init: {msg}");
            }
            exit_now(1)
        }
    }
}

fn steps(a: &mut InitArgs<'_>, fifo: &OwnedFd) -> Step<Infallible> {
    let mut trace = crate::trace::Trace::start("init");
    join_cgroups(a)?;
    reset_cpu_affinity(a)?;
    not_dumpable()?;
    wait_for_continue(a)?;
    trace.phase("cgroup+go");
    let cgroup_paths = read_own_cgroups()?;
    let bind_sources = open_bind_sources(a);
    namespaces::join_by_path(a)?;
    namespaces::enter_new(a)?;
    namespaces::fork_into_pid_namespace(a)?;
    namespaces::enter_cgroup_namespace(a)?;
    namespaces::bring_up_loopback(a)?;
    a.host_pid = host_pid();
    set_hostname(a.config)?;
    let proc = ProcFs::open()?;
    set_lsm_key_label(a, &proc)?;
    join_session_keyring(a)?;
    trace.phase("namespaces");
    request_create_runtime_hooks(a)?;
    trace.phase("createRuntime");
    let prop = a.config.propagation;
    // Without a mount namespace of its own the container shares its
    // caller's: never change that one's propagation or pivot it (runc
    // chroots then).
    let own_mount_ns = a.plan.has(NamespaceKind::Mount);
    let root = if own_mount_ns {
        rootfs::prepare_propagation(prop)?;
        rootfs::bind_rootfs(a.rootfs)?
    } else if a.config.readonly_root {
        // In the caller's mount namespace: only a bind of the rootfs onto
        // itself may become read-only, never the mount that holds it.
        rootfs::bind_rootfs(a.rootfs)?
    } else {
        Root::new(open_dir(a.rootfs)?)
    };
    trace.phase("rootfs");
    let readonly_later = mount_config_mounts(a, &root, &cgroup_paths, &bind_sources)?;
    trace.phase("mounts");
    rootfs::create_devices(&root, a.config, in_user_namespace(a))?;
    create_cwd(a, &root)?;
    trace.phase("devices");
    run_create_container_hooks(a)?;
    trace.phase("createContainer");
    rootfs::pivot(&root, a.no_pivot, own_mount_ns)?;
    trace.phase("pivot_root");
    let new_root = Root::new(open_dir("/")?);
    rootfs::devnull::reopen_stdio().ctx(|| "reopening /dev/null stdio".into())?;
    new_session()?;
    set_up_terminal(a, &new_root, true)?;
    rootfs::make_mounts_readonly(&readonly_later)?;
    rootfs::mask_and_readonly(&new_root, &a.config.linux)?;
    rootfs::finish(a.config.readonly_root, prop.filter(|_| own_mount_ns))?;
    trace.phase("paths");
    apply_sysctls(a.config, &proc)?;
    set_oom_score_adj(a.config, &proc)?;
    apply_rlimits(a.config)?;
    set_scheduler(a.config)?;
    set_io_priority(a.config)?;
    set_memory_policy(a.config)?;
    set_personality(a.config)?;
    let program = find_program(a.config)?;
    set_lsm_exec_labels(a.config, &proc)?;
    let (cwd, early_seccomp) = become_the_process(a)?;
    trace.phase("process");
    report_phases(a, &trace)?;
    report_ready(a)?;
    let started = start::wait_for_start(&proc, fifo)?;
    drop((proc, root, new_root, cwd, readonly_later));
    // From here `remora start` listens on the exec fifo: it is told there
    // why the program did not start (a hook, or execve itself: E2BIG).
    start::tell_start(started, start_the_program(a, &program, early_seccomp))
}

/// After `remora start`: seccomp (unless loaded early), startContainer
/// hooks, execve.
fn start_the_program(a: &InitArgs<'_>, program: &Path, early_seccomp: bool) -> Step<Infallible> {
    if !early_seccomp {
        load_seccomp(a)?;
    }
    start::run_start_container_hooks(a)?;
    start::exec(a.config, program)
}

/// `remora exec`: the process joins every namespace of the running
/// container (user first), is forked into its pid namespace, gets the
/// process settings, and execs. The mount namespace's root is the
/// container's rootfs already.
fn exec_steps(a: &mut InitArgs<'_>) -> Step<Infallible> {
    let mut trace = crate::trace::Trace::start("exec");
    set_initial_cpu_affinity(a.config)?;
    join_cgroups(a)?;
    reset_cpu_affinity(a)?;
    not_dumpable()?;
    trace.phase("cgroup");
    // Written through the host's procfs, before joining: inherited.
    let proc = ProcFs::open()?;
    set_oom_score_adj(a.config, &proc)?;
    namespaces::join_by_path(a)?;
    namespaces::fork_into_pid_namespace(a)?;
    trace.phase("namespaces");
    apply_rlimits(a.config)?;
    set_scheduler(a.config)?;
    set_io_priority(a.config)?;
    set_memory_policy(a.config)?;
    set_personality(a.config)?;
    new_session()?;
    set_up_terminal(a, &Root::new(open_dir("/")?), false)?;
    let program = find_program(a.config)?;
    set_lsm_exec_labels(a.config, &proc)?;
    set_final_cpu_affinity(a.config)?;
    let (cwd, early_seccomp) = become_the_process(a)?;
    if !early_seccomp {
        load_seccomp(a)?;
    }
    trace.phase("process");
    report_phases(a, &trace)?;
    report_ready(a)?;
    // The parent may still fail (console socket, pid file): exec only on
    // its go.
    wait_for_continue(a)?;
    drop((cwd, proc));
    start::exec(a.config, &program)
}

/// The first step: the process enters its v1 cgroups itself (cheaper
/// than its parent moving it; see remora_cgroups::Placement), before it
/// forks, so that everything it starts is in them.
fn join_cgroups(a: &InitArgs<'_>) -> Step {
    match a.cgroup {
        Some(p) => Ok(p.join_self()?),
        None => Ok(()),
    }
}

/// exec: process.execCPUAffinity.initial, the affinity the process has
/// before it joins the container's cgroups (process::affinity).
fn set_initial_cpu_affinity(config: &Config) -> Step {
    Ok(crate::process::affinity::apply_initial(Some(
        &config.process,
    ))?)
}

/// Right after the cgroups are joined: the affinity inherited from
/// remora is reset to the container's cpuset (runc >= 1.2.7).
fn reset_cpu_affinity(a: &InitArgs<'_>) -> Step {
    let exec = matches!(a.mode, Mode::Exec);
    Ok(crate::process::affinity::reset_to_cpuset(
        Some(&a.config.process),
        exec,
    )?)
}

/// exec: process.execCPUAffinity.final, the affinity it execs with
/// (before seccomp, which may block sched_setaffinity).
fn set_final_cpu_affinity(config: &Config) -> Step {
    Ok(crate::process::affinity::apply_final(Some(
        &config.process,
    ))?)
}

/// process.scheduler (sched_setattr), while the process still has
/// CAP_SYS_NICE for the real-time policies and negative nice values.
fn set_scheduler(config: &Config) -> Step {
    match Some(&config.process).and_then(|p| p.scheduler().as_ref()) {
        Some(s) => Ok(crate::process::sched::apply(s)?),
        None => Ok(()),
    }
}

/// process.ioPriority (ioprio_set).
fn set_io_priority(config: &Config) -> Step {
    match Some(&config.process).and_then(|p| p.io_priority().as_ref()) {
        Some(p) => Ok(crate::process::ioprio::apply(p)?),
        None => Ok(()),
    }
}

/// linux.memoryPolicy (set_mempolicy), for the init and exec'd processes.
fn set_memory_policy(config: &Config) -> Step {
    match Some(&config.linux).and_then(|l| l.memory_policy().as_ref()) {
        Some(p) => Ok(crate::process::mempolicy::apply(p)?),
        None => Ok(()),
    }
}

/// linux.personality (personality), for the init and exec'd processes;
/// before seccomp, which may block personality(2).
fn set_personality(config: &Config) -> Step {
    match Some(&config.linux).and_then(|l| l.personality().as_ref()) {
        Some(p) => Ok(crate::process::personality::apply(p)?),
        None => Ok(()),
    }
}

/// Not dumpable until execve (which resets it): a process of the
/// container, or of one that joins its pid namespace, cannot ptrace this
/// one or open its /proc/PID/{mem,environ,fd} before it becomes the
/// container's program. (Its exe is protected anyway: sys::protected_exe.)
fn not_dumpable() -> Step {
    crate::sys::process::prctl(libc::PR_SET_DUMPABLE, 0).ctx(|| "PR_SET_DUMPABLE".into())
}

/// The process leads a session of its own, terminal or not (as runc):
/// it never stays in its caller's session and process group.
fn new_session() -> Step {
    crate::sys::process::setsid().ctx(|| "setsid".into())
}

/// process.terminal: a pty from the container's devpts as stdio and
/// controlling terminal; its master goes to the parent.
fn set_up_terminal(a: &InitArgs<'_>, root: &Root, bind_console: bool) -> Step {
    if !Some(&a.config.process)
        .and_then(|p| p.terminal())
        .unwrap_or(false)
    {
        return Ok(());
    }
    let size = Some(&a.config.process)
        .and_then(|p| p.console_size())
        .map(|b| {
            (
                u16::try_from(b.height()).unwrap_or(u16::MAX),
                u16::try_from(b.width()).unwrap_or(u16::MAX),
            )
        });
    let master = crate::terminal::setup_pty(root, bind_console, size)?;
    Ok(protocol::send_fd(
        &a.channel,
        &Message::ConsoleMaster,
        master.as_fd(),
    )?)
}

/// cwd, close-on-exec fds, seccomp (early when it needs CAP_SYS_ADMIN),
/// user, groups, capabilities, no_new_privs. Everything remora itself
/// needs happens before a seccomp filter is loaded (getcwd, close_range
/// may be blocked by the profile). Returns the cwd fd and whether seccomp
/// is loaded already.
fn become_the_process(a: &InitArgs<'_>) -> Step<(OwnedFd, bool)> {
    let cwd = identity::open_cwd(a.config)?;
    let entered = identity::chdir_cwd(a.config, &cwd, false)?;
    mark_fds_cloexec(a.preserve_fds)?;
    let early_seccomp = identity::seccomp_before_identity(a);
    if early_seccomp {
        load_seccomp(a)?;
    }
    identity::set_identity_and_capabilities(a.config)?;
    if !entered {
        identity::chdir_cwd(a.config, &cwd, true)?;
    }
    identity::set_no_new_privileges(a.config)?;
    Ok((cwd, early_seccomp))
}

fn wait_for_continue(a: &InitArgs<'_>) -> Step {
    Ok(protocol::expect(&a.channel, &Message::Continue)?)
}

/// The container's cgroup paths (for the cgroup mount), read before a
/// cgroup namespace hides them: (controllers, path) per line.
fn read_own_cgroups() -> Step<Vec<(String, String)>> {
    let data =
        std::fs::read_to_string("/proc/self/cgroup").ctx(|| "reading /proc/self/cgroup".into())?;
    Ok(data
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let ctrl = parts.next()?.to_string();
            let path = parts.next()?.to_string();
            Some((ctrl, path))
        })
        .collect())
}

/// Our PID in the host's /proc (still mounted: before pivot_root).
fn host_pid() -> i32 {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// A session keyring of the container's own (as runc), so that keys are
/// not shared with the host's session; kernels without keyrings (ENOSYS)
/// or a keyring quota in a user namespace (EDQUOT) are tolerated.
fn join_session_keyring(a: &InitArgs<'_>) -> Step {
    if a.no_new_keyring {
        return Ok(());
    }
    match crate::sys::process::join_session_keyring(&format!("_ses.{}", a.id)) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EDQUOT)) => Ok(()),
        Err(e) => Err(e).ctx(|| "joining a new session keyring".into()),
    }
}

fn set_hostname(config: &Config) -> Step {
    if let Some(h) = config.hostname.as_deref() {
        crate::sys::process::set_hostname(h, false)
            .ctx(|| format!("hostname {}", crate::bounded::quoted(h)))?;
    }
    if let Some(d) = config.domainname.as_deref() {
        crate::sys::process::set_hostname(d, true)
            .ctx(|| format!("domainname {}", crate::bounded::quoted(d)))?;
    }
    Ok(())
}

trait PathOpen {
    fn custom_flags_path(&mut self) -> &mut Self;
}
impl PathOpen for std::fs::OpenOptions {
    fn custom_flags_path(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_PATH | libc::O_CLOEXEC)
    }
}

fn open_dir(path: impl AsRef<Path>) -> Step<OwnedFd> {
    let path = path.as_ref();
    let f = std::fs::File::options()
        .read(true)
        .custom_flags_path()
        .open(path)
        .ctx(|| format!("opening {}", path.display()))?;
    Ok(f.into())
}

fn has_hooks(config: &Config, pick: fn(&oci_spec::runtime::Hooks) -> bool) -> bool {
    Some(&config.hooks).is_some_and(pick)
}

/// prestart and createRuntime hooks run in the runtime's namespaces: the
/// parent runs them while the init waits.
fn request_create_runtime_hooks(a: &InitArgs<'_>) -> Step {
    let any = |h: &oci_spec::runtime::Hooks| {
        h.prestart().as_ref().is_some_and(|v| !v.is_empty())
            || h.create_runtime().as_ref().is_some_and(|v| !v.is_empty())
    };
    // linux.netDevices are moved by the parent at the same point, once the
    // network namespace exists.
    let net_devices = Some(&a.config.linux)
        .is_some_and(|l| l.net_devices().as_ref().is_some_and(|d| !d.is_empty()));
    if !has_hooks(a.config, any) && !net_devices {
        return Ok(());
    }
    protocol::send(&a.channel, &Message::CreateRuntimeHooks)?;
    Ok(protocol::expect(&a.channel, &Message::HooksDone)?)
}

/// A new user namespace: bind sources are opened now, while the init
/// still has the host's uid 0 (rootfs::open_bind_sources).
fn open_bind_sources(a: &InitArgs<'_>) -> Vec<Option<rootfs::BindSource>> {
    let opened = if a.plan.is_new(NamespaceKind::User) {
        rootfs::open_bind_sources(a.bundle, &a.config.mounts)
    } else {
        Vec::new()
    };
    rootfs::with_idmapped(opened, a.idmapped)
}

fn mount_config_mounts(
    a: &InitArgs<'_>,
    root: &Root,
    cgroup_paths: &[(String, String)],
    bind_sources: &[Option<rootfs::BindSource>],
) -> Step<Vec<rootfs::ReadonlyLater>> {
    let ctx = MountContext {
        root,
        bundle: a.bundle,
        userns: in_user_namespace(a),
        cgroupns: a.plan.has(NamespaceKind::Cgroup),
        cgroup_paths,
        mount_label: crate::process::lsm::mount_label(&a.config.linux),
        bind_sources,
    };
    Ok(rootfs::mount_all(&ctx, &a.config.mounts)?)
}

/// A user namespace of the container's (new or joined), or the caller's
/// when it is not the host's (rootless podman runs its runtime so):
/// device nodes are bind mounts then, and mounts fall back as runc's.
fn in_user_namespace(a: &InitArgs<'_>) -> bool {
    a.plan.has(NamespaceKind::User) || crate::rootless::in_partial_user_namespace()
}

/// process.cwd exists in the container (made safely, as runc).
fn create_cwd(a: &InitArgs<'_>, root: &Root) -> Step {
    let cwd = Some(&a.config.process)
        .map(|p| p.cwd().clone())
        .unwrap_or_default();
    root.mkdir_all(&cwd, 0o755)
        .map(drop)
        .ctx(|| format!("process.cwd {cwd:?}"))
}

/// createContainer hooks: in the container's namespaces, before pivot_root.
fn run_create_container_hooks(a: &InitArgs<'_>) -> Step {
    let Some(hooks) = Some(&a.config.hooks).and_then(|h| h.create_container().clone()) else {
        return Ok(());
    };
    let state = start::hook_state(a, "created");
    Ok(crate::hooks::run_all(
        "createContainer",
        &hooks,
        &state,
        a.rootfs,
    )?)
}

fn apply_sysctls(config: &Config, proc: &ProcFs) -> Step {
    for (k, v) in Some(&config.linux)
        .and_then(|l| l.sysctl().clone())
        .unwrap_or_default()
    {
        proc.sysctl(&k, &v)?;
    }
    Ok(())
}

fn set_oom_score_adj(config: &Config, proc: &ProcFs) -> Step {
    if let Some(adj) = Some(&config.process).and_then(|p| p.oom_score_adj()) {
        proc.write("self/oom_score_adj", &adj.to_string())
            .ctx(|| format!("process.oomScoreAdj {adj}"))?;
    }
    Ok(())
}

fn apply_rlimits(config: &Config) -> Step {
    match Some(&config.process).and_then(|p| p.rlimits().clone()) {
        Some(r) => Ok(crate::process::rlimits::apply(&r)?),
        None => Ok(()),
    }
}

/// process.selinuxLabel also labels the session keyring the init makes
/// next (as runc); execve resets it.
fn set_lsm_key_label(a: &InitArgs<'_>, proc: &ProcFs) -> Step {
    match Some(&a.config.process) {
        Some(p) if !a.no_new_keyring => Ok(crate::process::lsm::set_key_label(proc, p)?),
        _ => Ok(()),
    }
}

/// process.apparmorProfile and process.selinuxLabel: the exec label the
/// kernel applies at execve (and to the startContainer hooks, as runc).
/// Before seccomp and the identity change, so neither can block it.
fn set_lsm_exec_labels(config: &Config, proc: &ProcFs) -> Step {
    match Some(&config.process) {
        Some(p) => Ok(crate::process::lsm::set_exec_labels(proc, p)?),
        None => Ok(()),
    }
}

fn find_program(config: &Config) -> Step<PathBuf> {
    let p = &config.process;
    let args = p.args().clone().unwrap_or_default();
    let env = p.env().clone().unwrap_or_default();
    Ok(crate::process::lookup::find_program(&args[0], &env)?)
}

/// Loads the seccomp filter; a NOTIFY listener fd goes to the parent,
/// which sends it to linux.seccomp.listenerPath.
fn load_seccomp(a: &InitArgs<'_>) -> Step {
    if let Some(f) = a.seccomp {
        if let Some(listener) = f.load()? {
            protocol::send_fd(&a.channel, &Message::SeccompListener, listener.as_fd())?;
        }
    }
    Ok(())
}

/// Every fd above 2 + --preserve-fds is closed at execve (CVE-2024-21626);
/// the preserved ones stay open.
fn mark_fds_cloexec(preserve: u32) -> Step {
    crate::sys::process::cloexec_from(3 + preserve).ctx(|| "close_range".into())?;
    for fd in 3..3 + preserve {
        crate::sys::process::clear_cloexec(fd).ctx(|| format!("--preserve-fds: fd {fd}"))?;
    }
    Ok(())
}

/// With the phase trace on: the init's own phases, for the parent's line.
fn report_phases(a: &InitArgs<'_>, trace: &crate::trace::Trace) -> Step {
    if !trace.is_on() {
        return Ok(());
    }
    Ok(protocol::send(
        &a.channel,
        &Message::InitPhases(trace.phases()),
    )?)
}

fn report_ready(a: &InitArgs<'_>) -> Step {
    Ok(protocol::send(&a.channel, &Message::Ready)?)
}
