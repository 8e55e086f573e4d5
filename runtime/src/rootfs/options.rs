//! Mount options from config.json, sorted into what the new mount API
//! needs: mount attributes (per mount or recursive), propagation, bind,
//! and filesystem parameters for fsconfig.

use crate::sys::mount::*;

/// Propagation types for mount_setattr.
pub const MS_PRIVATE: u64 = libc::MS_PRIVATE;
pub const MS_SHARED: u64 = libc::MS_SHARED;
pub const MS_SLAVE: u64 = libc::MS_SLAVE;
pub const MS_UNBINDABLE: u64 = libc::MS_UNBINDABLE;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOptions {
    pub bind: bool,
    pub recursive_bind: bool,
    /// Attributes for the mount itself.
    pub set: u64,
    pub clear: u64,
    /// Attributes for the mount and every mount below it (rro, rnosuid ...).
    pub rset: u64,
    pub rclear: u64,
    /// Propagation type and whether it is recursive.
    pub propagation: Option<(u64, bool)>,
    /// fsconfig parameters: key and optional value.
    pub data: Vec<(String, Option<String>)>,
    /// Filesystem-wide flags (sync, dirsync, ...) for fsconfig.
    pub sb_flags: Vec<String>,
    /// "tmpcopyup": the destination's contents are copied onto the new
    /// tmpfs (copyup.rs).
    pub copy_up: bool,
    /// "idmap" (Some(false)) or "ridmap" (Some(true), submounts too): an
    /// idmapped bind mount (idmap.rs).
    pub idmap: Option<bool>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("mount option {0:?} is not supported")]
pub struct UnsupportedOption(pub String);

/// What a mount option does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A mount attribute set (true) or cleared; an "r" prefix makes it
    /// recursive ("rro", "rnosuid", ...).
    Attr(u64, bool),
    /// An atime mode (0: "atime", the default); an "r" prefix makes it
    /// recursive too.
    Atime(u64),
    Bind {
        recursive: bool,
    },
    Propagation(u64, bool),
    /// The default already ("defaults", "async", ...).
    NoOp,
    /// A filesystem-wide flag, given to fsconfig.
    SbFlag,
    CopyUp,
    Idmap {
        recursive: bool,
    },
}

/// Every option remora knows by name, and what it does: the one table
/// `parse` reads and `features` reports (with the "r" forms of the
/// attributes, [`known`]). Anything else is filesystem data for fsconfig.
const TABLE: &[(&str, Kind)] = &[
    ("ro", Kind::Attr(MOUNT_ATTR_RDONLY, true)),
    ("rw", Kind::Attr(MOUNT_ATTR_RDONLY, false)),
    ("nosuid", Kind::Attr(MOUNT_ATTR_NOSUID, true)),
    ("suid", Kind::Attr(MOUNT_ATTR_NOSUID, false)),
    ("nodev", Kind::Attr(MOUNT_ATTR_NODEV, true)),
    ("dev", Kind::Attr(MOUNT_ATTR_NODEV, false)),
    ("noexec", Kind::Attr(MOUNT_ATTR_NOEXEC, true)),
    ("exec", Kind::Attr(MOUNT_ATTR_NOEXEC, false)),
    ("nodiratime", Kind::Attr(MOUNT_ATTR_NODIRATIME, true)),
    ("diratime", Kind::Attr(MOUNT_ATTR_NODIRATIME, false)),
    ("nosymfollow", Kind::Attr(MOUNT_ATTR_NOSYMFOLLOW, true)),
    ("symfollow", Kind::Attr(MOUNT_ATTR_NOSYMFOLLOW, false)),
    ("noatime", Kind::Atime(MOUNT_ATTR_NOATIME)),
    ("relatime", Kind::Atime(MOUNT_ATTR_RELATIME)),
    ("strictatime", Kind::Atime(MOUNT_ATTR_STRICTATIME)),
    ("atime", Kind::Atime(0)),
    ("bind", Kind::Bind { recursive: false }),
    ("rbind", Kind::Bind { recursive: true }),
    ("private", Kind::Propagation(MS_PRIVATE, false)),
    ("rprivate", Kind::Propagation(MS_PRIVATE, true)),
    ("shared", Kind::Propagation(MS_SHARED, false)),
    ("rshared", Kind::Propagation(MS_SHARED, true)),
    ("slave", Kind::Propagation(MS_SLAVE, false)),
    ("rslave", Kind::Propagation(MS_SLAVE, true)),
    ("unbindable", Kind::Propagation(MS_UNBINDABLE, false)),
    ("runbindable", Kind::Propagation(MS_UNBINDABLE, true)),
    ("defaults", Kind::NoOp),
    ("async", Kind::NoOp),
    ("loud", Kind::NoOp),
    ("nomand", Kind::NoOp),
    ("nolazytime", Kind::NoOp),
    ("noiversion", Kind::NoOp),
    // MS_SILENT only quiets the kernel's messages while mounting; the new
    // mount API has no such key.
    ("silent", Kind::NoOp),
    ("sync", Kind::SbFlag),
    ("dirsync", Kind::SbFlag),
    ("lazytime", Kind::SbFlag),
    ("mand", Kind::SbFlag),
    ("tmpcopyup", Kind::CopyUp),
    ("idmap", Kind::Idmap { recursive: false }),
    ("ridmap", Kind::Idmap { recursive: true }),
];

/// Not in the table: "iversion" (MS_I_VERSION has no generic fsconfig
/// key; it goes to the filesystem as data, which e.g. tmpfs refuses).
/// Options refused by name (what they ask is not a container mount's).
const REFUSED: &[&str] = &["remount"];

fn lookup(name: &str) -> Option<Kind> {
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// An "r" form of an attribute or atime option: (base kind, recursive).
fn recursive(opt: &str) -> Option<Kind> {
    let base = lookup(opt.strip_prefix('r')?)?;
    matches!(base, Kind::Attr(..) | Kind::Atime(_)).then_some(base)
}

/// Every option name `parse` knows (not filesystem data), as `features`
/// reports them: the table's and the "r" forms of its attributes.
pub fn known() -> Vec<String> {
    let mut names: Vec<String> = TABLE.iter().map(|(n, _)| n.to_string()).collect();
    for (n, k) in TABLE {
        if matches!(k, Kind::Attr(..) | Kind::Atime(_)) {
            names.push(format!("r{n}"));
        }
    }
    names.sort();
    names.dedup();
    names
}

impl MountOptions {
    pub fn parse<S: AsRef<str>>(options: &[S]) -> Result<Self, UnsupportedOption> {
        let mut o = MountOptions::default();
        for opt in options {
            let opt = opt.as_ref();
            if REFUSED.contains(&opt) {
                return Err(UnsupportedOption(opt.into()));
            }
            let (kind, rec) = match recursive(opt) {
                Some(k) => (Some(k), true),
                None => (lookup(opt), false),
            };
            let (set, clear) = if rec {
                (&mut o.rset, &mut o.rclear)
            } else {
                (&mut o.set, &mut o.clear)
            };
            match kind {
                Some(Kind::Attr(a, true)) => {
                    *set |= a;
                    *clear &= !a;
                }
                Some(Kind::Attr(a, false)) => {
                    *clear |= a;
                    *set &= !a;
                }
                Some(Kind::Atime(a)) => {
                    *clear |= MOUNT_ATTR__ATIME;
                    *set = (*set & !MOUNT_ATTR__ATIME) | a;
                }
                Some(Kind::Bind { recursive }) => {
                    o.bind = true;
                    o.recursive_bind |= recursive;
                }
                Some(Kind::Propagation(p, r)) => o.propagation = Some((p, r)),
                Some(Kind::NoOp) => {}
                Some(Kind::SbFlag) => o.sb_flags.push(opt.to_string()),
                Some(Kind::CopyUp) => o.copy_up = true,
                Some(Kind::Idmap { recursive }) => o.idmap = Some(recursive),
                None => match opt.split_once('=') {
                    Some((k, v)) => o.data.push((k.into(), Some(v.into()))),
                    None => o.data.push((opt.into(), None)),
                },
            }
        }
        Ok(o)
    }

    pub fn readonly(&self) -> bool {
        (self.set | self.rset) & MOUNT_ATTR_RDONLY != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_options() {
        let o = MountOptions::parse(&[
            "rbind",
            "ro",
            "nosuid",
            "rnodev",
            "rprivate",
            "mode=755",
            "size=65536k",
            "newinstance",
        ])
        .unwrap();
        assert!(o.bind && o.recursive_bind);
        assert_eq!(o.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
        assert_eq!(o.rset, MOUNT_ATTR_NODEV);
        assert_eq!(o.propagation, Some((MS_PRIVATE, true)));
        assert_eq!(
            o.data,
            vec![
                ("mode".into(), Some("755".into())),
                ("size".into(), Some("65536k".into())),
                ("newinstance".into(), None)
            ]
        );
    }

    #[test]
    fn later_wins_and_atime() {
        let o = MountOptions::parse(&["ro", "rw", "noatime"]).unwrap();
        assert_eq!(o.set & MOUNT_ATTR_RDONLY, 0);
        assert_ne!(o.clear & MOUNT_ATTR_RDONLY, 0);
        assert_eq!(o.set & MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME);
        assert!(MountOptions::parse(&["rro"]).unwrap().readonly());
    }

    #[test]
    fn every_known_option_is_one_parse_takes_by_name() {
        let known = known();
        for must in [
            "rro",
            "rnosuid",
            "rrelatime",
            "ratime",
            "rbind",
            "tmpcopyup",
            "ridmap",
        ] {
            assert!(known.iter().any(|k| k == must), "{must}");
        }
        for name in &known {
            let o = MountOptions::parse(&[name]).unwrap();
            assert!(o.data.is_empty(), "{name} taken as filesystem data");
        }
        assert!(!known.iter().any(|k| REFUSED.contains(&k.as_str())));
        assert!(!known.contains(&"rremount".to_string()) && !known.contains(&"rbind2".into()));
    }

    #[test]
    fn idmap_and_remount() {
        assert_eq!(MountOptions::parse(&["idmap"]).unwrap().idmap, Some(false));
        assert_eq!(
            MountOptions::parse(&["rbind", "ridmap"]).unwrap().idmap,
            Some(true)
        );
        assert_eq!(
            MountOptions::parse(&["remount"]).unwrap_err(),
            UnsupportedOption("remount".into())
        );
    }
}
