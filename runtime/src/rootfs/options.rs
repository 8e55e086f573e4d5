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

fn attr(name: &str) -> Option<(u64, bool)> {
    // (attribute, set?) — "rw" clears RDONLY, "suid" clears NOSUID, ...
    Some(match name {
        "ro" => (MOUNT_ATTR_RDONLY, true),
        "rw" => (MOUNT_ATTR_RDONLY, false),
        "nosuid" => (MOUNT_ATTR_NOSUID, true),
        "suid" => (MOUNT_ATTR_NOSUID, false),
        "nodev" => (MOUNT_ATTR_NODEV, true),
        "dev" => (MOUNT_ATTR_NODEV, false),
        "noexec" => (MOUNT_ATTR_NOEXEC, true),
        "exec" => (MOUNT_ATTR_NOEXEC, false),
        "nodiratime" => (MOUNT_ATTR_NODIRATIME, true),
        "diratime" => (MOUNT_ATTR_NODIRATIME, false),
        "nosymfollow" => (MOUNT_ATTR_NOSYMFOLLOW, true),
        "symfollow" => (MOUNT_ATTR_NOSYMFOLLOW, false),
        _ => return None,
    })
}

fn atime(name: &str) -> Option<u64> {
    match name {
        "noatime" => Some(MOUNT_ATTR_NOATIME),
        "relatime" => Some(MOUNT_ATTR_RELATIME),
        "strictatime" => Some(MOUNT_ATTR_STRICTATIME),
        _ => None,
    }
}

impl MountOptions {
    pub fn parse<S: AsRef<str>>(options: &[S]) -> Result<Self, UnsupportedOption> {
        let mut o = MountOptions::default();
        for opt in options {
            let opt = opt.as_ref();
            let (recursive, base) = match opt.strip_prefix('r') {
                Some(b) if attr(b).is_some() || atime(b).is_some() || b == "atime" => (true, b),
                _ => (false, opt),
            };
            let (set, clear) = if recursive {
                (&mut o.rset, &mut o.rclear)
            } else {
                (&mut o.set, &mut o.clear)
            };
            if let Some((a, on)) = attr(base) {
                if on {
                    *set |= a;
                    *clear &= !a;
                } else {
                    *clear |= a;
                    *set &= !a;
                }
                continue;
            }
            if let Some(a) = atime(base) {
                *clear |= MOUNT_ATTR__ATIME;
                *set = (*set & !MOUNT_ATTR__ATIME) | a;
                continue;
            }
            if base == "atime" {
                *clear |= MOUNT_ATTR__ATIME;
                *set &= !MOUNT_ATTR__ATIME;
                continue;
            }
            match opt {
                "bind" => o.bind = true,
                "rbind" => {
                    o.bind = true;
                    o.recursive_bind = true;
                }
                "private" => o.propagation = Some((MS_PRIVATE, false)),
                "rprivate" => o.propagation = Some((MS_PRIVATE, true)),
                "shared" => o.propagation = Some((MS_SHARED, false)),
                "rshared" => o.propagation = Some((MS_SHARED, true)),
                "slave" => o.propagation = Some((MS_SLAVE, false)),
                "rslave" => o.propagation = Some((MS_SLAVE, true)),
                "unbindable" => o.propagation = Some((MS_UNBINDABLE, false)),
                "runbindable" => o.propagation = Some((MS_UNBINDABLE, true)),
                "defaults" | "async" | "loud" | "nomand" | "nolazytime" | "noiversion" => {}
                "tmpcopyup" => o.copy_up = true,
                "sync" | "dirsync" | "lazytime" | "mand" | "silent" | "iversion" => {
                    o.sb_flags.push(opt.to_string())
                }
                "idmap" => o.idmap = Some(false),
                "ridmap" => o.idmap = Some(true),
                "remount" => return Err(UnsupportedOption(opt.into())),
                _ => match opt.split_once('=') {
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
