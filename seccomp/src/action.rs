//! OCI actions, operators and flags as seccomp(2) values.

use oci_spec::runtime::{
    LinuxSeccompAction as A, LinuxSeccompFilterFlag as F, LinuxSeccompOperator as O,
};

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const EPERM: u32 = 1;
pub const ENOSYS: u32 = 38;

pub const FLAG_TSYNC: u32 = 1;
pub const FLAG_LOG: u32 = 2;
pub const FLAG_SPEC_ALLOW: u32 = 4;
pub const FLAG_NEW_LISTENER: u32 = 8;
pub const FLAG_TSYNC_ESRCH: u32 = 16;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = 32;

/// Every OCI action: the compiler takes each ([`action_value`]) and
/// `features` reports this list (by the spec's names).
pub const ACTIONS: [A; 9] = [
    A::ScmpActKill,
    A::ScmpActKillProcess,
    A::ScmpActKillThread,
    A::ScmpActTrap,
    A::ScmpActErrno,
    A::ScmpActTrace,
    A::ScmpActLog,
    A::ScmpActNotify,
    A::ScmpActAllow,
];

/// Every OCI argument operator (each maps to an [`Op`]).
pub const OPERATORS: [O; 7] = [
    O::ScmpCmpNe,
    O::ScmpCmpLt,
    O::ScmpCmpLe,
    O::ScmpCmpEq,
    O::ScmpCmpGe,
    O::ScmpCmpGt,
    O::ScmpCmpMaskedEq,
];

/// Every OCI filter flag (each with its bit: [`flag_value`]).
pub const FILTER_FLAGS: [F; 4] = [
    F::SeccompFilterFlagLog,
    F::SeccompFilterFlagSpecAllow,
    F::SeccompFilterFlagTsync,
    F::SeccompFilterFlagWaitKillableRecv,
];

/// The seccomp return value of an action, as runc asks libseccomp for it:
/// ERRNO and TRACE carry `errno_ret` (EPERM when absent) in 16 bits.
pub fn action_value(action: A, errno_ret: Option<u32>) -> u32 {
    let data = errno_ret.unwrap_or(EPERM) & 0xffff;
    match action {
        A::ScmpActKill | A::ScmpActKillThread => RET_KILL_THREAD,
        A::ScmpActKillProcess => RET_KILL_PROCESS,
        A::ScmpActTrap => RET_TRAP,
        A::ScmpActErrno => RET_ERRNO | data,
        A::ScmpActTrace => RET_TRACE | data,
        A::ScmpActLog => RET_LOG,
        A::ScmpActNotify => RET_USER_NOTIF,
        A::ScmpActAllow => RET_ALLOW,
    }
}

/// The seccomp(2) flag bit and OCI name of a filter flag.
pub fn flag_value(flag: F) -> (u32, &'static str) {
    match flag {
        F::SeccompFilterFlagTsync => (FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC"),
        F::SeccompFilterFlagLog => (FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG"),
        F::SeccompFilterFlagSpecAllow => (FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
        F::SeccompFilterFlagWaitKillableRecv => (
            FLAG_WAIT_KILLABLE_RECV,
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        ),
    }
}

/// A comparison on one syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & mask) == datum`.
    MaskedEq,
}

impl From<O> for Op {
    fn from(op: O) -> Op {
        match op {
            O::ScmpCmpNe => Op::Ne,
            O::ScmpCmpLt => Op::Lt,
            O::ScmpCmpLe => Op::Le,
            O::ScmpCmpEq => Op::Eq,
            O::ScmpCmpGe => Op::Ge,
            O::ScmpCmpGt => Op::Gt,
            O::ScmpCmpMaskedEq => Op::MaskedEq,
        }
    }
}

/// A condition: `args[index] op value` (for MASKED_EQ, `value` is the mask
/// and `datum` the value compared with, as in libseccomp and runc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cond {
    pub index: u8,
    pub op: Op,
    /// The operand (the mask for MASKED_EQ).
    pub value: u64,
    /// The datum for MASKED_EQ (`valueTwo`), 0 otherwise.
    pub datum: u64,
}

impl Cond {
    /// The cond as libseccomp keeps it for a 32-bit architecture.
    pub fn truncated(self) -> Cond {
        Cond {
            value: self.value & 0xffff_ffff,
            datum: self.datum & 0xffff_ffff,
            ..self
        }
    }
}

#[cfg(test)]
mod tables {
    use super::*;

    /// The tables list every variant: a new one fails to compile here
    /// (the matches are exhaustive) until it has its place.
    #[test]
    fn tables_are_complete() {
        let action_slot = |a: A| match a {
            A::ScmpActKill => 0,
            A::ScmpActKillProcess => 1,
            A::ScmpActKillThread => 2,
            A::ScmpActTrap => 3,
            A::ScmpActErrno => 4,
            A::ScmpActTrace => 5,
            A::ScmpActLog => 6,
            A::ScmpActNotify => 7,
            A::ScmpActAllow => 8,
        };
        for (i, a) in ACTIONS.iter().enumerate() {
            assert_eq!(action_slot(*a), i);
        }
        let op_slot = |o: O| match o {
            O::ScmpCmpNe => 0,
            O::ScmpCmpLt => 1,
            O::ScmpCmpLe => 2,
            O::ScmpCmpEq => 3,
            O::ScmpCmpGe => 4,
            O::ScmpCmpGt => 5,
            O::ScmpCmpMaskedEq => 6,
        };
        for (i, o) in OPERATORS.iter().enumerate() {
            assert_eq!(op_slot(*o), i);
        }
        let flag_slot = |f: F| match f {
            F::SeccompFilterFlagLog => 0,
            F::SeccompFilterFlagSpecAllow => 1,
            F::SeccompFilterFlagTsync => 2,
            F::SeccompFilterFlagWaitKillableRecv => 3,
        };
        for (i, f) in FILTER_FLAGS.iter().enumerate() {
            assert_eq!(flag_slot(*f), i);
        }
    }
}
