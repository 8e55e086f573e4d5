//! Syscall tables per architecture, generated from libseccomp 2.5.4 by
//! `seccomp/tools/gen_tables.py` (see there for how and why).

mod aarch64;
mod arm;
mod x32;
mod x86;
mod x86_64;

/// Where libseccomp puts a rule on a syscall name for one architecture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Emit {
    /// The syscall number the filter compares with.
    pub nr: u32,
    /// For multiplexed calls (x86 socketcall/ipc): the subcall in arg 0.
    pub subcall: Option<u32>,
}

/// One syscall name as libseccomp knows it on one architecture.
#[derive(Debug)]
pub(crate) struct Sys {
    pub name: &'static str,
    /// seccomp_syscall_resolve_name_arch(): negative for pseudo numbers.
    pub resolve: i32,
    pub emit: &'static [Emit],
}

fn table(arch: crate::arch::Arch) -> &'static [Sys] {
    use crate::arch::Arch;
    match arch {
        Arch::X86_64 => x86_64::TABLE,
        Arch::X86 => x86::TABLE,
        Arch::X32 => x32::TABLE,
        Arch::Aarch64 => aarch64::TABLE,
        Arch::Arm => arm::TABLE,
    }
}

/// The index of a name: the same in every table (all tables list the same
/// names, sorted).
pub(crate) fn index(name: &str) -> Option<usize> {
    x86_64::TABLE.binary_search_by(|s| s.name.cmp(name)).ok()
}

/// The entry at `index` (from [`index`]) for `arch`.
pub(crate) fn at(arch: crate::arch::Arch, index: usize) -> &'static Sys {
    &table(arch)[index]
}

/// Looks a syscall name up (tables are sorted by name).
pub(crate) fn lookup(arch: crate::arch::Arch, name: &str) -> Option<&'static Sys> {
    let t = table(arch);
    t.binary_search_by(|s| s.name.cmp(name)).ok().map(|i| &t[i])
}

/// Every name in the table of `arch`, for tests and tools.
pub fn names(arch: crate::arch::Arch) -> impl Iterator<Item = &'static str> {
    table(arch).iter().map(|s| s.name)
}

/// The syscall numbers a rule on `name` compares with on `arch`
/// (multiplexed entries included), for tests.
#[doc(hidden)]
pub fn emitted(arch: crate::arch::Arch, name: &str) -> Vec<u32> {
    lookup(arch, name)
        .map(|s| s.emit.iter().map(|e| e.nr).collect())
        .unwrap_or_default()
}

/// The number a name resolves to on `arch` (libseccomp's answer).
pub fn resolve(arch: crate::arch::Arch, name: &str) -> Option<i32> {
    lookup(arch, name).map(|s| s.resolve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;

    #[test]
    fn tables_are_sorted_and_agree_on_names() {
        for arch in Arch::ALL {
            let t = table(arch);
            assert!(t.windows(2).all(|w| w[0].name < w[1].name), "{arch:?}");
            assert_eq!(t.len(), table(Arch::X86_64).len());
            assert!(t
                .iter()
                .zip(table(Arch::X86_64))
                .all(|(a, b)| a.name == b.name));
        }
        assert_eq!(resolve(Arch::X86_64, "clone3"), Some(435));
        assert_eq!(resolve(Arch::X32, "getpid"), Some(0x4000_0000 + 39));
        assert_eq!(resolve(Arch::Aarch64, "getpid"), Some(172));
        assert!(lookup(Arch::X86_64, "no_such_syscall").is_none());
    }
}
