//! `remora exec`: a new process in a running container. The same init
//! code as create runs it, with every namespace joined from the
//! container's init (/proc/PID/ns/*), its cgroup joined by the parent, and
//! the process settings from process.json or the container's own process
//! with the flags applied. Failures of exec itself exit 255.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{Process, Spec};
use remora_cgroups::{Cgroup, Placement};
use remora_namespaces::{NamespaceKind, NamespacePlan};

use super::{status_of, Global, Status};
use crate::channel::{Channel, Message};
use crate::error::{Error, IoContext, Result};
use crate::init::{self, InitArgs};
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
fn process_for(o: &ExecOptions, spec: &Spec) -> Result<Process> {
    if let Some(p) = &o.process_json {
        let data = crate::bounded::read_capped(p, crate::bounded::JSON_CAP)
            .map_err(|e| Error::config(format!("--process {}: {e}", p.display())))?;
        return parse_process(&data, p);
    }
    if o.args.is_empty() {
        return Err(Error::config(
            "exec: a command to run is required (ARGS or --process)",
        ));
    }
    let mut v = serde_json::to_value(spec.process().clone().unwrap_or_default()).expect("json");
    v["args"] = serde_json::json!(o.args);
    v["terminal"] = serde_json::json!(o.tty);
    if let Some(c) = &o.cwd {
        if !c.is_absolute() {
            return Err(Error::config(format!(
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
                .map_err(|_| Error::config(format!("--user {u:?}: uid and gid must be numbers")))
        };
        v["user"]["uid"] = serde_json::json!(num(uid)?);
        v["user"]["gid"] = serde_json::json!(gid.map(num).transpose()?.unwrap_or(0));
    }
    if !o.additional_gids.is_empty() {
        v["user"]["additionalGids"] = serde_json::json!(o.additional_gids);
    }
    if !o.caps.is_empty() {
        crate::runc_compat::check_cap_flags(&o.caps).map_err(Error::config)?;
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
    crate::runc_compat::exec_process(&mut v, &format!("--process {}", path.display()))
        .map_err(Error::config)?;
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
    // The process joins the container as a clone of this one: its
    // /proc/self/exe must not be the host's binary (docs/security.md,
    // "The runtime binary").
    crate::sys::protected_exe::ensure().ctx(|| "protecting the runtime binary".into())?;
    let mut trace = crate::trace::Trace::start("exec");
    let dir = ContainerDir::open(&g.root, &o.id)?;
    let st = dir.load()?;
    match status_of(&st, &dir) {
        Status::Stopped => return Err(Error::config("cannot exec in a stopped container")),
        Status::Creating => return Err(Error::config("cannot exec in a creating container")),
        Status::Paused if !o.ignore_paused => {
            return Err(Error::config("cannot exec in a paused container"))
        }
        _ => {}
    }
    let bundle_spec = crate::config::load(&st.bundle)?.spec;
    let process = process_for(o, &bundle_spec)?;
    crate::config::check_lsm(&process)?;
    crate::config::check_process_attrs(&process)?;
    match (process.terminal().unwrap_or(false), &o.console_socket) {
        (true, None) if o.detach => {
            return Err(Error::config(
                "process.terminal: cannot allocate tty if remora will detach without setting console socket",
            ))
        }
        (false, Some(_)) => {
            return Err(Error::config(
                "--console-socket: cannot use console socket if remora will not detach or allocate tty",
            ))
        }
        _ => {}
    }
    let mut spec = bundle_spec.clone();
    spec.set_process(Some(process));
    // Every namespace of the container, joined through its init.
    let linux = spec.linux().clone().unwrap_or_default();
    let kinds = NamespacePlan::from_spec(linux.namespaces().as_deref().unwrap_or(&[]))?;
    let mut plan = NamespacePlan::default();
    for k in NamespaceKind::JOIN_ORDER {
        if kinds.has(k) {
            plan.join.push((
                k,
                PathBuf::from(format!("/proc/{}/ns/{}", st.pid, k.proc_name())),
            ));
        }
    }
    let joined = plan.open_joined()?;
    let seccomp = crate::config::compile_seccomp(&linux)?;
    let state_dir = dir.path.clone();
    drop(dir);
    trace.phase("config");
    let cg = Cgroup::from_saved(st.cgroup.clone());
    let (mut dirs, outside) = cg.joinable_by_caller(exec_cgroup_dirs(&cg, &o.sub_cgroups)?);
    if let Some(w) = outside {
        crate::logging::warn(&w);
    }
    let mut placement = Placement::open(&dirs)?;
    let (parent_end, init_end) = Channel::pair().ctx(|| "creating sync socket".into())?;
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
        // The container's cgroup2 directory hands controllers down to
        // sub-cgroups (systemd or a nested runtime inside moved its
        // processes there): the kernel lets no process live in it. As
        // runc, join the cgroup the init is in now instead.
        if let Some(d) = dirs
            .get("unified")
            .and_then(|d| init_cgroup2_dir(d, st.pid))
        {
            dirs.insert("unified".into(), d);
            placement = Placement::open(&dirs)?;
            forked = clone(&placement);
        }
    }
    let forked = forked.ctx(|| "clone3 into the container's cgroup".into())?;
    let child = match forked {
        Forked::Child => {
            drop(parent_end);
            init::run(InitArgs {
                id: &o.id,
                spec: &spec,
                bundle: &st.bundle,
                rootfs: &st.rootfs,
                plan: &plan,
                joined: &joined,
                single_clone: false,
                channel: init_end,
                fifo: None,
                no_pivot: false,
                no_new_keyring: true,
                preserve_fds: o.preserve_fds,
                seccomp: seccomp.as_ref(),
                cgroup: Some(&placement),
                host_pid: 0,
                idmapped: &[],
            })
        }
        Forked::Parent { pid, .. } => pid,
    };
    drop(init_end);
    let reap = |pid: i32| {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        super::watch::reap(pid, super::watch::STUCK_AFTER);
    };
    let mut watch = super::watch::InitWatch::new(child, Some(cg.clone()));
    if o.ignore_paused {
        watch = watch.patient_while_frozen();
    }
    trace.phase("clone");
    let sfd = super::wait::forwarded_signals()?;
    // With the container's pid namespace to join, the child forks the
    // process into it and reports its PID; without, the child is it.
    let mut pid = if plan.has(NamespaceKind::Pid) {
        0
    } else {
        child
    };
    let mut phases = Vec::new();
    let listener_bundle = crate::config::Bundle {
        spec: spec.clone(),
        dir: st.bundle.clone(),
        rootfs: st.rootfs.clone(),
    };
    let mut send_listener = |pid: i32, fd: std::os::fd::OwnedFd| {
        super::create::send_seccomp_listener(&listener_bundle, &o.id, "running", pid, Some(fd))
    };
    let handed_over = converse(
        &parent_end,
        o.console_socket.as_deref(),
        &mut pid,
        &mut phases,
        &mut watch,
        &mut send_listener,
    )
    .and_then(|master| {
        trace.phase("init");
        crate::resctrl::join_exec(&state_dir, pid)?;
        if let Some(p) = &o.pid_file {
            write_pid_file(p, pid)?;
        }
        if let Some(sock) = &o.pidfd_socket {
            let fd = crate::sys::process::pidfd_open(pid).ctx(|| format!("pidfd_open({pid})"))?;
            super::create::send_pidfd(sock, &fd)?;
        }
        if let Some(m) = &master {
            // The caller's terminal size from the first instruction.
            super::wait::copy_winsize(std::io::stdin().as_fd(), m.as_fd());
        }
        // Everything is in place: let the process exec.
        parent_end.send(&Message::Continue).ctx(|| "sync".into())?;
        // Its end of the channel is close-on-exec: EOF means the
        // program runs (as runc, exec returns once it does); an error
        // means execve itself failed.
        wait_readable(&parent_end, &mut watch)?;
        let r = match parent_end.recv() {
            Ok(Some(Message::Error(e))) => Err(Error::Init(e)),
            _ => Ok(master),
        };
        trace.phase("execve");
        r
    });
    trace.add_detail(phases);
    trace.finish();
    let master = match handed_over {
        Ok(m) => m,
        Err(e) => {
            // Nothing half-joined is left: the process and its forker.
            if pid > 0 && pid != child {
                reap(pid);
            }
            reap(child);
            return Err(e);
        }
    };
    if pid != child {
        // The forker, done once the process is in the pid namespace.
        super::watch::reap(child, super::watch::STUCK_AFTER);
    }
    if o.detach {
        return Ok(0);
    }
    super::wait::wait_child(pid, sfd, master)
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
            return Err(Error::config(format!(
                "--cgroup {spec:?}: must stay inside the container's cgroup"
            )));
        }
        let mut joined = false;
        for (key, dir) in cg.paths() {
            let matches = ctrls.is_empty() || key.split(',').any(|k| ctrls.contains(&k));
            if !matches {
                continue;
            }
            let target = dir.join(sub);
            if !target.is_dir() {
                return Err(Error::config(format!(
                    "--cgroup {spec:?}: {} does not exist",
                    target.display()
                )));
            }
            dirs.insert(key.clone(), target);
            joined = true;
        }
        if !joined {
            return Err(Error::config(format!(
                "--cgroup {spec:?}: no such controller in the container's cgroups"
            )));
        }
    }
    Ok(dirs)
}

/// Waits until the process says something (or exits), watching it: a
/// frozen cgroup or a process stuck in uninterruptible sleep is an error
/// (with --ignore-paused, exec into a frozen container would wait
/// forever).
fn wait_readable(ch: &Channel, watch: &mut super::watch::InitWatch) -> Result<()> {
    while !ch
        .readable(super::watch::TICK)
        .ctx(|| "sync: waiting for the process".into())?
    {
        watch.check()?;
    }
    Ok(())
}

fn converse(
    ch: &Channel,
    console_socket: Option<&std::path::Path>,
    pid: &mut i32,
    phases: &mut crate::trace::Phases,
    watch: &mut super::watch::InitWatch,
    send_listener: &mut dyn FnMut(i32, std::os::fd::OwnedFd) -> Result<()>,
) -> Result<Option<std::os::fd::OwnedFd>> {
    ch.send(&Message::Continue).ctx(|| "sync".into())?;
    let mut kept_master = None;
    let mut ready = false;
    // The seccomp listener goes to linux.seccomp.listenerPath with the
    // process's PID, which its forker may report after it.
    let mut listener = None;
    let mut relay = |pid: i32, listener: &mut Option<std::os::fd::OwnedFd>| match listener.take() {
        Some(fd) if pid != 0 => send_listener(pid, fd).inspect_err(|e| {
            let _ = ch.send(&Message::Error(e.to_string()));
        }),
        other => {
            *listener = other;
            Ok(())
        }
    };
    loop {
        wait_readable(ch, watch)?;
        let (msg, fd) = match ch.recv_fd().ctx(|| "sync".into())? {
            Some((m, fd)) => (Some(m), fd),
            None => (None, None),
        };
        match msg {
            Some(Message::ConsoleMaster) => {
                kept_master = crate::terminal::relay_master(fd, console_socket)
                    .map_err(Error::Init)?
                    .or(kept_master);
            }
            Some(Message::InitPid(p)) => {
                *pid = p;
                watch.set_pid(p);
                relay(p, &mut listener)?;
                if ready {
                    return Ok(kept_master);
                }
            }
            Some(Message::SeccompListener) => {
                listener =
                    Some(fd.ok_or_else(|| Error::Init("seccomp listener: no fd received".into()))?);
                relay(*pid, &mut listener)?;
            }
            Some(Message::InitPhases(p)) => *phases = p,
            // The init's Ready can overtake its forker's InitPid: wait for both.
            Some(Message::Ready) if *pid == 0 => ready = true,
            Some(Message::Ready) => return Ok(kept_master),
            Some(Message::Error(e)) => return Err(Error::Init(e)),
            Some(other) => return Err(Error::Init(format!("sync: unexpected {other:?}"))),
            None => {
                return Err(Error::Init(
                    "exec: the process exited before it was ready".into(),
                ))
            }
        }
    }
}
