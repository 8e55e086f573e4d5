//! Turns the sections of a filter into one classic BPF program:
//! arch dispatch, runc's -ENOSYS rule, libseccomp's x32 guard, then a
//! balanced binary search on the syscall number whose leaves return an
//! action or test the arguments.

use libc::sock_filter;

use crate::action::{Cond, Op, ENOSYS, RET_ERRNO, RET_KILL_THREAD};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::{self, Builder, Label, JMP_JEQ_K, JMP_JGE_K, JMP_JGT_K, JMP_JSET_K};
use crate::db::{last_syscall, Decision, Section};
use crate::profile::Plan;

/// What an unlisted architecture gets (libseccomp's default bad-arch action).
pub(crate) const BAD_ARCH: u32 = RET_KILL_THREAD;
const RET_ENOSYS: u32 = RET_ERRNO | ENOSYS;

pub(crate) fn program(plan: &Plan, sections: &[Section]) -> Vec<sock_filter> {
    let mut b = Builder::default();
    let mut starts = Vec::with_capacity(sections.len());
    for s in sections.iter().rev() {
        starts.push((s.audit, section(&mut b, plan, s)));
    }
    let mut next = b.ret(BAD_ARCH);
    for (audit, start) in starts {
        next = b.jump(JMP_JEQ_K, audit, start, next);
    }
    load(&mut b, bpf::OFF_ARCH, next);
    b.finish()
}

/// Loads a word of seccomp_data, then continues at `next`.
fn load(b: &mut Builder, off: u32, next: Label) -> Label {
    b.goto(next);
    b.load(off)
}

fn section(b: &mut Builder, plan: &Plan, s: &Section) -> Label {
    let tree = tree(b, plan.default_action, s);
    let mut next = tree;
    // libseccomp: an x86_64 section without x32 sends x32 syscall numbers
    // to the bad-arch action, except nr -1.
    if s.arches.contains(&Arch::X86_64) && !s.arches.contains(&Arch::X32) {
        let bad = b.ret(BAD_ARCH);
        let minus_one = b.jump(JMP_JEQ_K, u32::MAX, tree, bad);
        next = b.jump(JMP_JGE_K, X32_SYSCALL_BIT, minus_one, tree);
    }
    if plan.enosys_stub {
        next = enosys(b, plan, s, next);
    }
    load(b, bpf::OFF_NR, next)
}

/// runc's stub: on a listed architecture, a syscall number above the
/// highest one the profile names gets ENOSYS (so that libc falls back from
/// syscalls newer than the profile, e.g. clone3).
fn enosys(b: &mut Builder, plan: &Plan, s: &Section, next: Label) -> Label {
    let last = |arch: Arch| {
        if plan.listed.contains(&arch) && s.arches.contains(&arch) {
            Some(last_syscall(plan, arch)).filter(|&n| n != 0)
        } else {
            None
        }
    };
    let check = |b: &mut Builder, max: Option<u32>| match max {
        Some(max) => {
            let e = b.ret(RET_ENOSYS);
            b.jump(JMP_JGT_K, max, e, next)
        }
        None => next,
    };
    if s.audit == Arch::X86_64.audit() {
        let (m64, m32) = (last(Arch::X86_64), last(Arch::X32));
        if m64.is_none() && m32.is_none() {
            return next;
        }
        let j32 = check(b, m32);
        let j64 = check(b, m64);
        b.jump(JMP_JSET_K, X32_SYSCALL_BIT, j32, j64)
    } else {
        let arch = s.arches[0];
        check(b, last(arch))
    }
}

/// One interval of syscall numbers `[lo, next lo)` and what it does.
enum Leaf<'a> {
    Ret(u32),
    Rules(bool, &'a [(u32, Vec<Cond>)]),
}

fn push<'a>(leaves: &mut Vec<(u32, Leaf<'a>)>, lo: u32, leaf: Leaf<'a>) {
    if let (Some((_, Leaf::Ret(prev))), Leaf::Ret(k)) = (leaves.last(), &leaf) {
        if prev == k {
            return;
        }
    }
    leaves.push((lo, leaf));
}

fn tree(b: &mut Builder, default: u32, s: &Section) -> Label {
    let mut leaves: Vec<(u32, Leaf)> = Vec::new();
    let mut expect = 0u64; // next number not yet covered
    for (&nr, d) in &s.syscalls {
        if u64::from(nr) > expect {
            // expect < nr, a u32.
            push(
                &mut leaves,
                expect.try_into().expect("below a u32"),
                Leaf::Ret(default),
            );
        }
        let leaf = match d {
            Decision::Action(a) => Leaf::Ret(*a),
            Decision::Rules { wide, rules } => Leaf::Rules(*wide, rules),
        };
        push(&mut leaves, nr, leaf);
        expect = u64::from(nr) + 1;
    }
    if let Ok(expect) = u32::try_from(expect) {
        push(&mut leaves, expect, Leaf::Ret(default));
    }
    search(b, default, &leaves)
}

fn search(b: &mut Builder, default: u32, leaves: &[(u32, Leaf)]) -> Label {
    if leaves.len() == 1 {
        return match &leaves[0].1 {
            Leaf::Ret(k) => b.ret(*k),
            Leaf::Rules(wide, r) => rules(b, default, *wide, r),
        };
    }
    let mid = leaves.len() / 2;
    let right = search(b, default, &leaves[mid..]);
    let left = search(b, default, &leaves[..mid]);
    b.jump(JMP_JGE_K, leaves[mid].0, right, left)
}

/// Conditional rules of one syscall: the first whose conditions all hold
/// decides; none holding gives the default action.
fn rules(b: &mut Builder, default: u32, wide: bool, rules: &[(u32, Vec<Cond>)]) -> Label {
    let mut next = b.ret(default);
    for (action, conds) in rules.iter().rev() {
        let pass = b.ret(*action);
        let mut at = pass;
        for c in conds.iter().rev() {
            at = cond(b, c, wide, at, next);
        }
        next = at;
    }
    next
}

/// A 64-bit argument value as its (low, high) 32-bit words.
fn words(v: u64) -> (u32, u32) {
    ((v & 0xffff_ffff) as u32, (v >> 32) as u32)
}

/// 64-bit arguments are compared high word first; 32-bit architectures
/// (x86, x32 and arm for libseccomp) compare only the low word.
fn cond(b: &mut Builder, c: &Cond, wide: bool, t: Label, f: Label) -> Label {
    let (lo_off, hi_off) = (bpf::off_arg_lo(c.index), bpf::off_arg_hi(c.index));
    let (vl, vh) = words(c.value);
    let (dl, dh) = words(c.datum);
    match c.op {
        Op::Eq | Op::Ne => {
            let (t, f) = if c.op == Op::Eq { (t, f) } else { (f, t) };
            let mut x = b.jump(JMP_JEQ_K, vl, t, f);
            x = load(b, lo_off, x);
            if wide {
                x = b.jump(JMP_JEQ_K, vh, x, f);
                x = load(b, hi_off, x);
            }
            x
        }
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            let code = if matches!(c.op, Op::Gt | Op::Le) {
                JMP_JGT_K
            } else {
                JMP_JGE_K
            };
            let (t, f) = if matches!(c.op, Op::Gt | Op::Ge) {
                (t, f)
            } else {
                (f, t)
            };
            let mut x = b.jump(code, vl, t, f);
            x = load(b, lo_off, x);
            if wide {
                let eq = b.jump(JMP_JEQ_K, vh, x, f);
                x = b.jump(JMP_JGT_K, vh, t, eq);
                x = load(b, hi_off, x);
            }
            x
        }
        Op::MaskedEq => {
            b.jump(JMP_JEQ_K, dl, t, f);
            let mut x = b.and(vl);
            x = load(b, lo_off, x);
            if wide && !(vh == 0 && dh == 0) {
                b.jump(JMP_JEQ_K, dh, x, f);
                x = b.and(vh);
                x = load(b, hi_off, x);
            }
            x
        }
    }
}
