//! The rule database of one filter section (one AUDIT_ARCH value), with
//! libseccomp's merge rules: the first unconditional rule on a syscall
//! decides it and later conditional ones are ignored; a conditional rule
//! with the very same conditions as an earlier one but another action is an
//! error (libseccomp's EEXIST, which makes runc fail create).

use std::collections::BTreeMap;

use crate::action::{Cond, Op};
use crate::arch::Arch;
use crate::error::{Result, SeccompError};
use crate::profile::{Plan, Rule};
use crate::tables;

/// What one syscall number does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Action(u32),
    /// Conditional rules, tried in order; none matching means the default.
    Rules {
        wide: bool,
        rules: Vec<(u32, Vec<Cond>)>,
    },
}

#[derive(Debug, Default)]
struct Entry {
    /// Arguments are 64-bit (compared as two words).
    wide: bool,
    uncond: Option<u32>,
    conds: Vec<(u32, Vec<Cond>, usize)>,
}

/// One section of the filter: all architectures sharing an AUDIT_ARCH value.
#[derive(Debug)]
pub(crate) struct Section {
    pub audit: u32,
    /// The architectures in it (x86_64 and x32 share one section).
    pub arches: Vec<Arch>,
    pub syscalls: BTreeMap<u32, Decision>,
}

fn add(
    map: &mut BTreeMap<u32, Entry>,
    nr: u32,
    wide: bool,
    rule: &Rule,
    conds: Vec<Cond>,
) -> Result<()> {
    let e = map.entry(nr).or_insert_with(|| Entry {
        wide,
        ..Entry::default()
    });
    if e.uncond.is_some() {
        return Ok(());
    }
    if conds.is_empty() {
        e.uncond = Some(rule.action);
        return Ok(());
    }
    if let Some((action, _, origin)) = e.conds.iter().find(|(_, c, _)| *c == conds) {
        if *action != rule.action {
            return Err(SeccompError::invalid(
                format!("linux.seccomp.syscalls[{}]", rule.origin),
                format!(
                    "the rule on {:?} has the same conditions as linux.seccomp.syscalls[{origin}] but another action",
                    rule.name
                ),
            ));
        }
        return Ok(());
    }
    e.conds.push((rule.action, conds, rule.origin));
    Ok(())
}

/// Builds the sections of the filter, in the order of `plan.arches`.
pub(crate) fn sections(plan: &Plan) -> Result<Vec<Section>> {
    let mut out: Vec<(Section, BTreeMap<u32, Entry>)> = Vec::new();
    for &arch in &plan.arches {
        let idx = match out.iter().position(|(s, _)| s.audit == arch.audit()) {
            Some(i) => i,
            None => {
                out.push((
                    Section {
                        audit: arch.audit(),
                        arches: Vec::new(),
                        syscalls: BTreeMap::new(),
                    },
                    BTreeMap::new(),
                ));
                out.len() - 1
            }
        };
        let (section, map) = &mut out[idx];
        section.arches.push(arch);
        for rule in &plan.rules {
            let sys = tables::at(arch, rule.sys);
            for emit in sys.emit {
                let mut conds: Vec<Cond> = if arch.is_64bit() {
                    rule.conds.clone()
                } else {
                    rule.conds.iter().map(|c| c.truncated()).collect()
                };
                // libseccomp drops a condition that always holds
                // (MASKED_EQ with mask 0 and datum 0).
                conds.retain(|c| !(c.op == Op::MaskedEq && c.value == 0 && c.datum == 0));
                if let Some(sub) = emit.subcall {
                    // Multiplexed call: arg 0 selects the subcall and
                    // replaces any condition the rule had on arg 0.
                    conds.retain(|c| c.index != 0);
                    conds.insert(
                        0,
                        Cond {
                            index: 0,
                            op: Op::Eq,
                            value: sub as u64,
                            datum: 0,
                        },
                    );
                }
                add(map, emit.nr, arch.is_64bit(), rule, conds)?;
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(mut s, map)| {
            s.syscalls = map
                .into_iter()
                .map(|(nr, e)| {
                    let d = match e.uncond {
                        Some(a) => Decision::Action(a),
                        None => Decision::Rules {
                            wide: e.wide,
                            rules: e.conds.into_iter().map(|(a, c, _)| (a, c)).collect(),
                        },
                    };
                    (nr, d)
                })
                .collect();
            s
        })
        .collect())
}

/// runc's "last syscall" of an architecture: the highest number any rule
/// name resolves to there (pseudo numbers ignored); 0 when there is none.
pub(crate) fn last_syscall(plan: &Plan, arch: Arch) -> u32 {
    plan.all_names
        .iter()
        .map(|&i| tables::at(arch, i).resolve)
        .filter_map(|nr| u32::try_from(nr).ok())
        .filter(|&nr| nr > 0)
        .max()
        .unwrap_or(0)
}
