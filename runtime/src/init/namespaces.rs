//! Init steps that put the process into its namespaces.

use remora_namespaces::{join::loopback_up, join::unshare, NamespaceKind};

use super::{InitArgs, Step, StepContext};
use crate::protocol::{self, Message};
use crate::sys::clone::{clone3, exit_now, CloneOptions, Forked};

/// setns into every namespace given by path, user namespace first.
pub fn join_by_path(a: &InitArgs<'_>) -> Step {
    for kind in NamespaceKind::JOIN_ORDER {
        if let Some(ns) = a.joined.iter().find(|n| n.kind == kind) {
            ns.enter()?;
        }
    }
    Ok(())
}

/// Namespaces the clone did not make (when some are joined, or a time
/// namespace is wanted), the cgroup one excepted (see
/// [`enter_cgroup_namespace`]); then the id maps of a new user namespace.
pub fn enter_new(a: &InitArgs<'_>) -> Step {
    if !a.single_clone {
        let userns = a.plan.is_new(NamespaceKind::User);
        if userns {
            unshare(libc::CLONE_NEWUSER).ctx(|| "unshare user namespace".into())?;
        }
        let flags = a.plan.new_flags() & !(libc::CLONE_NEWUSER | libc::CLONE_NEWCGROUP);
        if userns {
            request_id_maps(a)?;
        }
        if flags != 0 {
            unshare(flags).ctx(|| format!("unshare namespaces ({flags:#x})"))?;
        }
        if a.plan.is_new(NamespaceKind::Time) {
            write_time_offsets(a)?;
        }
        return Ok(());
    }
    if a.plan.is_new(NamespaceKind::User) {
        request_id_maps(a)?;
    }
    Ok(())
}

fn request_id_maps(a: &InitArgs<'_>) -> Step {
    // Dumpable while the parent writes the maps (as runc): the /proc/PID
    // files of a non-dumpable process belong to the host's root, which an
    // unprivileged parent, and newuidmap checking that it owns the
    // process, are not.
    crate::sys::process::prctl(libc::PR_SET_DUMPABLE, 1).ctx(|| "PR_SET_DUMPABLE".into())?;
    protocol::send(&a.channel, &Message::IdMapRequest)?;
    protocol::expect(&a.channel, &Message::IdMapsWritten)?;
    crate::sys::process::prctl(libc::PR_SET_DUMPABLE, 0).ctx(|| "PR_SET_DUMPABLE".into())?;
    // Become root of the new user namespace (its creator already holds
    // every capability in it; this makes file access checks use uid 0).
    crate::sys::process::setresid(0, 0).ctx(|| "setresuid(0) in user namespace".into())
}

fn write_time_offsets(a: &InitArgs<'_>) -> Step {
    let Some(offsets) = a.config.linux.time_offsets().clone() else {
        return Ok(());
    };
    let mut text = String::new();
    for (clock, o) in offsets {
        text.push_str(&format!(
            "{clock} {} {}\n",
            o.secs().unwrap_or(0),
            o.nanosecs().unwrap_or(0)
        ));
    }
    std::fs::write("/proc/self/timens_offsets", text).ctx(|| "linux.timeOffsets".into())
}

/// A new (or joined) pid or time namespace only applies to children: when
/// the clone did not make it, fork the init into it. The init becomes the
/// parent's child (CLONE_PARENT); this intermediate reports its PID and
/// exits.
pub fn fork_into_pid_namespace(a: &InitArgs<'_>) -> Step {
    let needed =
        !a.single_clone && (a.plan.has(NamespaceKind::Pid) || a.plan.is_new(NamespaceKind::Time));
    if !needed {
        return Ok(());
    }
    // SAFETY: single-threaded here: remora's threads (sys/netlink.rs's
    // scoped ones, NetworkAhead's) are joined before any clone3.
    let forked = unsafe {
        clone3(&CloneOptions {
            parent: true,
            ..Default::default()
        })
    };
    match forked.ctx(|| "forking into the pid namespace".into())? {
        Forked::Child => Ok(()),
        Forked::Parent { pid, .. } => {
            let code = match a.channel.send(&Message::InitPid(pid)) {
                Ok(()) => 0,
                Err(_) => 1,
            };
            exit_now(code)
        }
    }
}

/// The cgroup namespace is made here, after the parent has put the init
/// in its cgroup, so that its root is the container's cgroup.
pub fn enter_cgroup_namespace(a: &InitArgs<'_>) -> Step {
    if a.plan.is_new(NamespaceKind::Cgroup) {
        unshare(libc::CLONE_NEWCGROUP).ctx(|| "unshare cgroup namespace".into())?;
    }
    Ok(())
}

/// A new network namespace gets its loopback device up, as runc's does
/// (one made ahead of the clone already has it: NetworkAhead).
pub fn bring_up_loopback(a: &InitArgs<'_>) -> Step {
    let made_ahead = a.joined.iter().any(|n| n.kind == NamespaceKind::Network);
    if a.plan.is_new(NamespaceKind::Network) && !made_ahead {
        loopback_up().ctx(|| "bringing up lo in the new network namespace".into())?;
    }
    Ok(())
}
