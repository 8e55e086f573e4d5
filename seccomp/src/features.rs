//! What the `features` command reports under `linux.seccomp`: read from
//! the tables the compiler itself uses (action.rs, arch.rs), by the
//! spec's names.

use crate::action::{self, ACTIONS, FILTER_FLAGS, OPERATORS};
use crate::arch::Arch;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort_unstable();
    v
}

/// Actions remora compiles (all of the runtime-spec's).
pub fn actions() -> Vec<String> {
    sorted(ACTIONS.iter().map(|a| a.to_string()).collect())
}

/// Argument operators remora compiles.
pub fn operators() -> Vec<String> {
    sorted(OPERATORS.iter().map(|o| o.to_string()).collect())
}

/// Architectures remora has syscall tables for.
pub fn archs() -> Vec<&'static str> {
    let mut v: Vec<_> = Arch::ALL.iter().map(|a| a.oci_name()).collect();
    v.sort_unstable();
    v
}

/// Filter flags remora knows (`knownFlags`).
pub fn known_flags() -> Vec<&'static str> {
    FILTER_FLAGS
        .iter()
        .map(|f| action::flag_value(*f).1)
        .collect()
}

/// Filter flags remora knows and the running kernel supports
/// (`supportedFlags`).
pub fn supported_flags() -> Vec<&'static str> {
    FILTER_FLAGS
        .iter()
        .map(|f| action::flag_value(*f))
        .filter(|(bit, _)| crate::kernel::flag_supported(*bit) == Some(true))
        .map(|(_, n)| n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name reported is one a profile may use: it parses into the
    /// type the compiler takes.
    #[test]
    fn reported_names_parse_back() {
        use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompOperator};
        for a in actions() {
            a.parse::<LinuxSeccompAction>().unwrap();
        }
        for o in operators() {
            o.parse::<LinuxSeccompOperator>().unwrap();
        }
        assert!(actions().contains(&"SCMP_ACT_KILL_PROCESS".to_string()));
        assert!(operators().contains(&"SCMP_CMP_MASKED_EQ".to_string()));
        for f in known_flags() {
            f.parse::<oci_spec::runtime::LinuxSeccompFilterFlag>()
                .unwrap();
        }
    }
}
