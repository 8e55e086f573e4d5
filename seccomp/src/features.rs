//! What the `features` command reports under `linux.seccomp`.

use crate::action;
use crate::arch::Arch;

/// Actions remora compiles (all of the runtime-spec's).
pub fn actions() -> Vec<&'static str> {
    vec![
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_TRAP",
    ]
}

/// Argument operators remora compiles.
pub fn operators() -> Vec<&'static str> {
    vec![
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_LE",
        "SCMP_CMP_LT",
        "SCMP_CMP_MASKED_EQ",
        "SCMP_CMP_NE",
    ]
}

/// Architectures remora has syscall tables for.
pub fn archs() -> Vec<&'static str> {
    let mut v: Vec<_> = Arch::ALL.iter().map(|a| a.oci_name()).collect();
    v.sort_unstable();
    v
}

const FLAGS: [(u32, &str); 4] = [
    (action::FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG"),
    (action::FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
    (action::FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC"),
    (
        action::FLAG_WAIT_KILLABLE_RECV,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ),
];

/// Filter flags remora knows (`knownFlags`).
pub fn known_flags() -> Vec<&'static str> {
    FLAGS.iter().map(|(_, n)| *n).collect()
}

/// Filter flags remora knows and the running kernel supports
/// (`supportedFlags`).
pub fn supported_flags() -> Vec<&'static str> {
    FLAGS
        .iter()
        .filter(|(bit, _)| crate::kernel::flag_supported(*bit) == Some(true))
        .map(|(_, n)| *n)
        .collect()
}
