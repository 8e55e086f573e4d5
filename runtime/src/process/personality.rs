//! linux.personality: the execution domain (LINUX, or LINUX32 where
//! `uname -m` reports i686 on x86_64) and its flags, set with
//! personality(2) before execve (which keeps them, but for the flags the
//! kernel clears on a set-user-ID exec).

use oci_spec::runtime::{LinuxPersonality, LinuxPersonalityDomain};

use crate::sys::process::set_personality;

use super::ProcessError;

/// The domains by their spec names.
pub const DOMAIN_NAMES: &[&str] = &["LINUX", "LINUX32"];

/// The flags of <linux/personality.h>, by name.
const FLAGS: &[(&str, libc::c_ulong)] = &[
    ("UNAME26", 0x0020000),
    ("ADDR_NO_RANDOMIZE", 0x0040000),
    ("FDPIC_FUNCPTRS", 0x0080000),
    ("MMAP_PAGE_ZERO", 0x0100000),
    ("ADDR_COMPAT_LAYOUT", 0x0200000),
    ("READ_IMPLIES_EXEC", 0x0400000),
    ("ADDR_LIMIT_32BIT", 0x0800000),
    ("SHORT_INODE", 0x1000000),
    ("WHOLE_SECONDS", 0x2000000),
    ("STICKY_TIMEOUTS", 0x4000000),
    ("ADDR_LIMIT_3GB", 0x8000000),
];

/// The persona personality(2) takes: domain | flags. Unknown flags are
/// an error naming them (unknown domains do not parse: the error from
/// config.json names linux.personality.domain).
pub fn persona_of(p: &LinuxPersonality) -> Result<libc::c_ulong, ProcessError> {
    let mut persona: libc::c_ulong = match p.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    };
    for (i, name) in p.flags().iter().flatten().enumerate() {
        let Some((_, bit)) = FLAGS.iter().find(|(n, _)| n == name) else {
            return Err(ProcessError::invalid(
                format!("linux.personality.flags[{i}] {name:?}"),
                format!(
                    "unknown personality flag (known: {})",
                    FLAGS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        persona |= bit;
    }
    Ok(persona)
}

/// Sets the calling process's personality.
pub fn apply(p: &LinuxPersonality) -> Result<(), ProcessError> {
    let persona = persona_of(p)?;
    set_personality(persona).map(drop).map_err(|e| {
        ProcessError::sys(
            format!(
                "linux.personality {}: personality({persona:#x})",
                p.domain()
            ),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pers(json: &str) -> Result<LinuxPersonality, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn domains_and_flags() {
        assert_eq!(
            persona_of(&pers(r#"{"domain":"LINUX"}"#).unwrap()).unwrap(),
            0
        );
        let p = pers(r#"{"domain":"LINUX32","flags":["ADDR_NO_RANDOMIZE"]}"#).unwrap();
        assert_eq!(persona_of(&p).unwrap(), 0x40008);
    }

    #[test]
    fn unknown_flags_and_domains_are_refused() {
        let p = pers(r#"{"domain":"LINUX","flags":["NO_SUCH"]}"#).unwrap();
        let e = persona_of(&p).unwrap_err().to_string();
        assert!(
            e.starts_with("linux.personality.flags[0] \"NO_SUCH\": unknown personality flag"),
            "{e}"
        );
        assert!(pers(r#"{"domain":"SVR4"}"#).is_err());
    }
}
