//! Checks an OCI `linux.seccomp` section and turns it into the rule list
//! runc hands to libseccomp: one rule per syscall name, rules whose action
//! equals the default dropped, names libseccomp does not know skipped, and
//! conditions that share an argument index split into separate rules.

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction};

use crate::action::{self, action_value, flag_value, Cond, Op};
use crate::arch::Arch;
use crate::error::{Result, SeccompError};
use crate::tables;

/// A rule on one syscall name.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// Index in `linux.seccomp.syscalls`, for error messages.
    pub origin: usize,
    pub name: &'static str,
    /// Index of the name in the syscall tables.
    pub sys: usize,
    pub action: u32,
    /// Sorted by argument index; empty for an unconditional rule.
    pub conds: Vec<Cond>,
}

/// A checked profile, ready for the per-architecture rule databases.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub default_action: u32,
    /// Architectures in the filter: the native one, then the listed ones.
    pub arches: Vec<Arch>,
    /// Architectures listed in the profile (runc's -ENOSYS stub covers only
    /// these).
    pub listed: Vec<Arch>,
    pub rules: Vec<Rule>,
    /// Every rule's names (known to libseccomp), default-action rules too:
    /// runc takes the "last syscall" per architecture from them.
    pub all_names: Vec<usize>,
    /// Whether runc's -ENOSYS stub applies (the default action is not
    /// ALLOW, LOG or TRACE).
    pub enosys_stub: bool,
    pub flags: u32,
    pub wants_listener: bool,
}

fn rule_field(i: usize) -> String {
    format!("linux.seccomp.syscalls[{i}]")
}

pub(crate) fn plan(profile: &LinuxSeccomp) -> Result<Plan> {
    let default = profile.default_action();
    if default == LinuxSeccompAction::ScmpActNotify {
        return Err(SeccompError::invalid(
            "linux.seccomp.defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default action",
        ));
    }
    let default_action = action_value(default, profile.default_errno_ret());

    let native = Arch::native();
    let mut arches = vec![native];
    let mut listed = Vec::new();
    for (i, oci) in profile.architectures().iter().flatten().enumerate() {
        let arch = Arch::from_oci(*oci).ok_or_else(|| {
            SeccompError::invalid(
                format!("linux.seccomp.architectures[{i}]"),
                format!(
                    "{oci:?} is not supported by remora (supported: {})",
                    crate::features::archs().join(", ")
                ),
            )
        })?;
        if !arches.contains(&arch) {
            arches.push(arch);
        }
        if !listed.contains(&arch) {
            listed.push(arch);
        }
    }

    let mut rules = Vec::new();
    let mut all_names = Vec::new();
    let mut wants_listener = false;
    for (i, call) in profile.syscalls().iter().flatten().enumerate() {
        if call.names().is_empty() {
            return Err(SeccompError::invalid(
                format!("{}.names", rule_field(i)),
                "the list of syscall names is empty",
            ));
        }
        let mut conds = Vec::new();
        let mut seen = [0u8; 6];
        for (k, arg) in call.args().iter().flatten().enumerate() {
            let index = arg.index();
            if index > 5 {
                return Err(SeccompError::invalid(
                    format!("{}.args[{k}].index", rule_field(i)),
                    format!("{index} is out of range (0-5)"),
                ));
            }
            seen[index] += 1;
            let op = Op::from(arg.op());
            conds.push(Cond {
                index: u8::try_from(index).expect("checked 0-5"),
                op,
                value: arg.value(),
                // libseccomp compares with (datum & mask): a datum bit
                // outside the mask does not make the rule unmatchable.
                datum: if op == Op::MaskedEq {
                    arg.value_two().unwrap_or(0) & arg.value()
                } else {
                    0
                },
            });
        }
        let action = action_value(call.action(), call.errno_ret());
        let notify = call.action() == LinuxSeccompAction::ScmpActNotify;
        // runc: several conditions on one argument each become a rule of
        // their own (OR); otherwise the conditions form one rule (AND).
        let groups: Vec<Vec<Cond>> = if seen.iter().any(|&n| n > 1) {
            conds.iter().map(|c| vec![*c]).collect()
        } else {
            let mut c = conds.clone();
            c.sort_by_key(|c| c.index);
            vec![c]
        };
        for (j, name) in call.names().iter().enumerate() {
            if name.is_empty() {
                return Err(SeccompError::invalid(
                    format!("{}.names[{j}]", rule_field(i)),
                    "empty syscall name",
                ));
            }
            if notify && name == "write" {
                return Err(SeccompError::invalid(
                    format!("{}.names[{j}]", rule_field(i)),
                    "SCMP_ACT_NOTIFY cannot be used for the write syscall (the runtime needs it to pass the listener on)",
                ));
            }
            // Unknown to libseccomp: runc skips it.
            let Some(sys) = tables::index(name) else {
                continue;
            };
            all_names.push(sys);
            if action == default_action {
                continue;
            }
            wants_listener |= notify;
            for conds in &groups {
                rules.push(Rule {
                    origin: i,
                    name: tables::at(native, sys).name,
                    sys,
                    action,
                    conds: conds.clone(),
                });
            }
        }
    }

    let mut flags = 0;
    for flag in profile.flags().iter().flatten() {
        let (bit, name) = flag_value(*flag);
        if crate::kernel::flag_supported(bit) != Some(true) {
            return Err(SeccompError::UnsupportedFlag { flag: name });
        }
        flags |= bit;
    }
    if wants_listener {
        flags |= action::FLAG_NEW_LISTENER;
        if flags & action::FLAG_TSYNC != 0 {
            // TSYNC and NEW_LISTENER are exclusive unless TSYNC_ESRCH.
            flags |= action::FLAG_TSYNC_ESRCH;
        }
    } else if flags & action::FLAG_WAIT_KILLABLE_RECV != 0 {
        return Err(SeccompError::invalid(
            "linux.seccomp.flags",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule",
        ));
    }

    let enosys_stub = !matches!(
        default,
        LinuxSeccompAction::ScmpActAllow
            | LinuxSeccompAction::ScmpActLog
            | LinuxSeccompAction::ScmpActTrace
    );
    Ok(Plan {
        default_action,
        arches,
        listed,
        rules,
        all_names,
        enosys_stub,
        flags,
        wants_listener,
    })
}
