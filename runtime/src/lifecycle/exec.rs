//! `remora exec`: a new process in a running container. The same init
//! code as create runs it, with every namespace joined from the
//! container's init (/proc/PID/ns/*), its cgroup joined by the parent, and
//! the process settings from process.json or the container's own process
//! with the flags applied. Failures of exec itself exit 255.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::Process;
use remora_cgroups::{Cgroup, Placement};
use remora_namespaces::{JoinedNamespace, NamespaceKind, NamespacePlan};

use super::{status_of, Global, Status};
use crate::channel::Channel;
use crate::error::{Error, IoContext, Result};
use crate::init::{self, InitArgs, Mode};
use crate::protocol::{self, Kept, Requests};
use crate::state::{write_pid_file, ContainerDir};
use crate::sys::clone::{clone3, CloneOptions, Forked};

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub id: String,
    pub process_json: Option<PathBuf>,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub tty: bool,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub pidfd_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    /// --cgroup [ctrl[,ctrl]:]sub-path, within the container's cgroup.
    pub sub_cgroups: Vec<String>,
}

/// The process to run: process.json as is, or the container's process
/// with the flags applied (runc's rules).
fn process_for(o: &ExecOptions, container: &Process) -> Result<Process> {
    if let Some(p) = &o.process_json {
        let data = crate::bounded::read_capped(p, crate::bounded::JSON_CAP)
            .map_err(|e| Error::config(format!("--process {}: {e}", p.display())))?;
        return parse_process(&data, p);
    }
    if o.args.is_empty() {
        return Err(Error::argument(
            "exec: a command to run is required (ARGS or --process)",
        ));
    }
    let mut v = serde_json::to_value(container)
        .map_err(|e| Error::config(format!("exec: the container's process: {e}")))?;
    v["args"] = serde_json::json!(o.args);
    v["terminal"] = serde_json::json!(o.tty);
    if let Some(c) = &o.cwd {
        if !c.is_absolute() {
            return Err(Error::argument(format!(
                "--cwd {}: must be an absolute path",
                crate::bounded::quoted(&c.to_string_lossy())
            )));
        }
        v["cwd"] = serde_json::json!(c);
    }
    let mut env: Vec<String> = serde_json::from_value(v["env"].clone()).unwrap_or_default();
    for kv in &o.env {
        let key = kv.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    v["env"] = serde_json::json!(env);
    if let Some(u) = &o.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| Error::argument(format!("--user {u:?}: uid and gid must be numbers")))
        };
        v["user"]["uid"] = serde_json::json!(num(uid)?);
        v["user"]["gid"] = serde_json::json!(gid.map(num).transpose()?.unwrap_or(0));
    }
    if !o.additional_gids.is_empty() {
        v["user"]["additionalGids"] = serde_json::json!(o.additional_gids);
    }
    if !o.caps.is_empty() {
        crate::runc_compat::check_cap_flags(&o.caps)?;
        for set in ["bounding", "effective", "permitted"] {
            let mut list: Vec<String> =
                serde_json::from_value(v["capabilities"][set].clone()).unwrap_or_default();
            list.extend(o.caps.iter().cloned());
            v["capabilities"][set] = serde_json::json!(list);
        }
    }
    if o.no_new_privs {
        v["noNewPrivileges"] = serde_json::json!(true);
    }
    if let Some(p) = &o.apparmor {
        v["apparmorProfile"] = serde_json::json!(p);
    }
    if let Some(l) = &o.process_label {
        v["selinuxLabel"] = serde_json::json!(l);
    }
    serde_json::from_value(v).map_err(|e| Error::config(format!("exec: invalid process: {e}")))
}

/// Parses and checks process.json's bytes (`path` names it in errors).
pub fn parse_process(data: &[u8], path: &Path) -> Result<Process> {
    let invalid = |e: serde_json::Error| {
        Error::config(format!(
            "--process {}: invalid process: {e}",
            path.display()
        ))
    };
    let mut v: serde_json::Value = serde_json::from_slice(data).map_err(invalid)?;
    crate::runc_compat::exec_process(&mut v, &format!("--process {}", path.display()))?;
    crate::config::spec_process_fields(&mut v, "process")?;
    let process: Process = serde_json::from_value(v).map_err(invalid)?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(Error::config(format!(
            "--process {}: args must not be empty",
            path.display()
        )));
    }
    if !process.cwd().is_absolute() {
        return Err(Error::config(format!(
            "--process {}: cwd {}: must be an absolute path",
            path.display(),
            crate::bounded::quoted(&process.cwd().to_string_lossy())
        )));
    }
    Ok(process)
}

/// Runs exec; returns the exit code for remora (the process's status in
/// the foreground, 0 detached).
pub fn exec(g: &Global, o: &ExecOptions) -> Result<i32> {
    super::create::protect_runtime_binary()?;
    let mut trace = crate::trace::Trace::start("exec");
    let t = open_container(g, o)?;
    trace.phase("config");
    let channel = Channel::pair().ctx(|| "creating sync socket".into())?;
    let (child, parent_end) = clone_process(o, &t, channel)?;
    let mut watch = super::watch::InitWatch::new(child, Some(t.cgroup.clone()));
    if o.ignore_paused {
        watch = watch.patient_while_frozen();
    }
    trace.phase("clone");
    let sfd = super::wait::forwarded_signals()?;
    let handed_over = talk_to_process(&parent_end, o, &t, child, &mut watch, &mut trace);
    trace.finish();
    let (pid, master) = handed_over?;
    if pid != child {
        // The forker, done once the process is in the pid namespace.
        super::watch::reap(child, super::watch::STUCK_AFTER);
    }
    if o.detach {
        return Ok(0);
    }
    super::wait::wait_child(pid, sfd, master)
}

/// The container exec joins, and what its process is made of.
struct Target {
    st: crate::state::State,
    state_dir: PathBuf,
    /// The container's config as create saved it, with the process to
    /// run (config/saved.rs).
    config: crate::config::Config,
    /// Every namespace of the container, joined through its init.
    plan: NamespacePlan,
    joined: Vec<JoinedNamespace>,
    cgroup: Cgroup,
}

/// The container, locked while its init's namespaces are opened (so that
/// they are the container's), in a state that takes an exec; the process
/// to run and its seccomp filter.
fn open_container(g: &Global, o: &ExecOptions) -> Result<Target> {
    let dir = ContainerDir::open(&g.root, &o.id)?;
    let st = dir.load()?;
    let status = match status_of(&st, &dir) {
        Status::Stopped => Some("stopped"),
        Status::Creating => Some("creating"),
        Status::Paused if !o.ignore_paused => Some("paused"),
        _ => None,
    };
    if let Some(status) = status {
        return Err(Error::WrongState {
            action: "exec",
            status,
        });
    }
    let config = exec_config(o, &st, &dir.path)?;
    let plan = join_plan(&config.namespaces, st.pid);
    let joined = plan.open_joined()?;
    Ok(Target {
        state_dir: dir.path.clone(),
        cgroup: Cgroup::from_saved(st.cgroup.clone()),
        st,
        config,
        plan,
        joined,
    })
}

/// The container's config as create saved it (the bundle is not read
/// again), with the process to run in place of its own.
fn exec_config(
    o: &ExecOptions,
    st: &crate::state::State,
    state_dir: &std::path::Path,
) -> Result<crate::config::Config> {
    let saved = crate::config::saved::ExecConfig::load(state_dir)?;
    let process = process_for(o, &saved.process)?;
    crate::config::check_lsm(&process)?;
    crate::config::check_process_attrs(&process)?;
    match (process.terminal().unwrap_or(false), &o.console_socket) {
        (true, None) if o.detach => Err(Error::config(
            "process.terminal: cannot allocate tty if remora will detach without setting console socket",
        )),
        (false, Some(_)) => Err(Error::argument(
            "--console-socket: cannot use console socket if remora will not detach or allocate tty",
        )),
        _ => saved.into_config(process, &st.bundle, &st.rootfs),
    }
}

/// Every namespace of the container, by the paths of its init's.
fn join_plan(kinds: &NamespacePlan, init: i32) -> NamespacePlan {
    let mut plan = NamespacePlan::default();
    for k in NamespaceKind::JOIN_ORDER
        .into_iter()
        .filter(|k| kinds.has(*k))
    {
        let path = PathBuf::from(format!("/proc/{init}/ns/{}", k.proc_name()));
        plan.join.push((k, path));
    }
    plan
}

/// One clone3 into the container's cgroup; the child joins the rest and
/// never returns. Returns its PID and the parent's end of the channel.
fn clone_process(
    o: &ExecOptions,
    t: &Target,
    (parent_end, init_end): (Channel, Channel),
) -> Result<(i32, Channel)> {
    let (forked, placement) = clone_into_cgroup(o, t)?;
    match forked {
        Forked::Parent { pid, .. } => Ok((pid, parent_end)),
        Forked::Child => {
            drop(parent_end);
            run_process(o, t, &placement, init_end)
        }
    }
}

/// In the cloned child: the process joining the container (init/mod.rs,
/// `exec_steps`).
fn run_process(o: &ExecOptions, t: &Target, placement: &Placement, channel: Channel) -> ! {
    init::run(InitArgs {
        id: &o.id,
        config: &t.config,
        bundle: &t.st.bundle,
        rootfs: &t.st.rootfs,
        plan: &t.plan,
        joined: &t.joined,
        single_clone: false,
        channel,
        mode: Mode::Exec,
        no_pivot: false,
        no_new_keyring: true,
        preserve_fds: o.preserve_fds,
        seccomp: t.config.seccomp.as_ref(),
        cgroup: Some(placement),
        host_pid: 0,
        idmapped: &[],
    })
}

/// clone3 into the container's cgroup (or --cgroup's sub-cgroup). The
/// container's cgroup2 directory may hand controllers down to
/// sub-cgroups (systemd or a nested runtime inside moved its processes
/// there): the kernel lets no process live in it (EBUSY). As runc, the
/// process then joins the cgroup the init is in now.
fn clone_into_cgroup(o: &ExecOptions, t: &Target) -> Result<(Forked, Placement)> {
    let sub = exec_cgroup_dirs(&t.cgroup, &o.sub_cgroups)?;
    let (mut dirs, outside) = t.cgroup.joinable_by_caller(sub);
    if let Some(w) = outside {
        crate::logging::warn(&w);
    }
    let mut placement = Placement::open(&dirs)?;
    let clone = |p: &Placement| {
        // SAFETY: single-threaded here: remora's threads (sys/netlink.rs's
        // scoped ones, NetworkAhead's) are joined before any clone3.
        unsafe {
            clone3(&CloneOptions {
                cgroup: p.clone_into(),
                ..Default::default()
            })
        }
    };
    let mut forked = clone(&placement);
    let busy = matches!(&forked, Err(e) if e.raw_os_error() == Some(libc::EBUSY));
    if busy && o.sub_cgroups.is_empty() {
        let init_dir = dirs
            .get("unified")
            .and_then(|d| init_cgroup2_dir(d, t.st.pid));
        if let Some(d) = init_dir {
            dirs.insert("unified".into(), d);
            placement = Placement::open(&dirs)?;
            forked = clone(&placement);
        }
    }
    let forked = forked.ctx(|| "clone3 into the container's cgroup".into())?;
    Ok((forked, placement))
}

/// The conversation (crate::protocol) up to the process's execve;
/// returns its PID and the pty master remora keeps, if any.
fn talk_to_process(
    ch: &Channel,
    o: &ExecOptions,
    t: &Target,
    child: i32,
    watch: &mut super::watch::InitWatch,
    trace: &mut crate::trace::Trace,
) -> Result<(i32, Option<OwnedFd>)> {
    let mut requests = ExecRequests {
        o,
        t,
        kept: Kept::default(),
    };
    // With the container's pid namespace to join, the child forks the
    // process into it and reports its PID; without, the child is it.
    let known = (!t.plan.has(NamespaceKind::Pid)).then_some(child);
    let who = "exec: the process";
    let r = protocol::converse(ch, watch, known, who, &mut requests).and_then(|reported| {
        trace.phase("init");
        trace.add_detail(reported.phases);
        let master = requests.kept.master.take();
        hand_over(ch, o, t, reported.pid, master.as_ref(), watch)?;
        trace.phase("execve");
        Ok((reported.pid, master))
    });
    if r.is_err() {
        abandon(child, requests.kept.pid);
    }
    r
}

/// A failed exec leaves nothing half-joined: the process and its forker
/// are killed and reaped.
fn abandon(child: i32, forked: Option<i32>) {
    for pid in forked.into_iter().filter(|p| *p != child).chain([child]) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        super::watch::reap(pid, super::watch::STUCK_AFTER);
    }
}

/// The process is ready: the parent's own steps (resctrl group, pid
/// file, pidfd, terminal size), then its go; returns once it has exec'd.
fn hand_over(
    ch: &Channel,
    o: &ExecOptions,
    t: &Target,
    pid: i32,
    master: Option<&OwnedFd>,
    watch: &mut super::watch::InitWatch,
) -> Result<()> {
    crate::resctrl::join_exec(&t.state_dir, pid)?;
    if let Some(p) = &o.pid_file {
        write_pid_file(p, pid)?;
    }
    if let Some(sock) = &o.pidfd_socket {
        let fd = crate::sys::process::pidfd_open(pid).ctx(|| format!("pidfd_open({pid})"))?;
        super::create::send_pidfd(sock, &fd)?;
    }
    if let Some(m) = master {
        // The caller's terminal size from the first instruction.
        super::wait::copy_winsize(std::io::stdin().as_fd(), m.as_fd());
    }
    protocol::release_exec(ch, watch)
}

/// The parent's answers to the process's requests.
struct ExecRequests<'a> {
    o: &'a ExecOptions,
    t: &'a Target,
    /// The process forked into the pid namespace, once its forker says,
    /// and the pty master.
    kept: Kept,
}

impl Requests for ExecRequests<'_> {
    fn kept(&mut self) -> &mut Kept {
        &mut self.kept
    }

    fn console_socket(&self) -> Option<&Path> {
        self.o.console_socket.as_deref()
    }

    fn seccomp_listener(&mut self, pid: i32, fd: Option<OwnedFd>) -> Result<()> {
        super::create::send_seccomp_listener(&self.t.config, &self.o.id, "running", pid, fd)
    }
}

/// The cgroup2 directory the init of the container whose cgroup2
/// directory is `container_dir` is in now: /proc/PID/cgroup names it from
/// our (the host's) cgroup root, and starts with the container's own path,
/// which `container_dir` ends with.
fn init_cgroup2_dir(container_dir: &Path, pid: i32) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    (1..=comps.len()).rev().find_map(|n| {
        let own: PathBuf = comps[..n].iter().collect();
        let below: PathBuf = comps[n..].iter().collect();
        container_dir
            .ends_with(&own)
            .then(|| container_dir.join(below))
    })
}

/// The directory the process goes to in each hierarchy: the container's,
/// or with `--cgroup [ctrl[,ctrl]:]path` that sub-cgroup of it (in the
/// named controllers' hierarchies, or all).
fn exec_cgroup_dirs(cg: &Cgroup, specs: &[String]) -> Result<BTreeMap<String, PathBuf>> {
    let mut dirs = cg.paths().clone();
    for spec in specs {
        let (ctrls, sub) = match spec.split_once(':') {
            Some((c, p)) => (c.split(',').collect::<Vec<_>>(), p),
            None => (Vec::new(), spec.as_str()),
        };
        let sub = sub.trim_start_matches('/');
        if sub.split('/').any(|c| c == "..") {
            return Err(Error::ExecCgroup {
                arg: spec.clone(),
                reason: "must stay inside the container's cgroup".into(),
            });
        }
        let mut joined = false;
        for (key, dir) in cg.paths() {
            let matches = ctrls.is_empty() || key.split(',').any(|k| ctrls.contains(&k));
            if !matches {
                continue;
            }
            let target = dir.join(sub);
            if !target.is_dir() {
                return Err(Error::ExecCgroup {
                    arg: spec.clone(),
                    reason: format!("{} does not exist", target.display()),
                });
            }
            dirs.insert(key.clone(), target);
            joined = true;
        }
        if !joined {
            return Err(Error::ExecCgroup {
                arg: spec.clone(),
                reason: "no such controller in the container's cgroups".into(),
            });
        }
    }
    Ok(dirs)
}
