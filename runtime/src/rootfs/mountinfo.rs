//! /proc/self/mountinfo, the fields remora needs: mount ID, parent ID,
//! the mount's root within its filesystem, the mount point and the
//! filesystem type. Entries come in the namespace's mount order (a mount
//! after the one it was mounted on).

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub id: u64,
    pub parent: u64,
    /// The mount's root within its filesystem ("/" for a whole one).
    pub root: PathBuf,
    pub mount_point: PathBuf,
    pub fstype: String,
}

/// Reads the calling process's mount table.
pub fn read() -> std::io::Result<Vec<MountEntry>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

pub fn parse(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    let mut f = line.split(' ');
    let id = f.next()?.parse().ok()?;
    let parent = f.next()?.parse().ok()?;
    let _devno = f.next()?;
    let root = unescape(f.next()?);
    let mount_point = unescape(f.next()?);
    let fstype = f.skip_while(|x| *x != "-").nth(1)?.to_string();
    Some(MountEntry {
        id,
        parent,
        root,
        mount_point,
        fstype,
    })
}

/// The kernel writes space, tab, newline and backslash as \ooo.
fn unescape(s: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    std::ffi::OsString::from_vec(out).into()
}

/// The mount ID of the mount an fd is on (/proc/self/fdinfo's mnt_id).
pub fn mount_id_of(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<u64> {
    use std::os::fd::AsRawFd;
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    info.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_escapes() {
        let t = "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n\
                 90 28 8:1 /x\\040y /mnt/a\\040b rw master:1 - ext4 /dev/sda1 rw\n";
        let m = parse(t);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].id, m[0].parent), (22, 1));
        assert_eq!(m[0].fstype, "proc");
        assert_eq!(m[1].root, PathBuf::from("/x y"));
        assert_eq!(m[1].mount_point, PathBuf::from("/mnt/a b"));
        assert_eq!(m[1].fstype, "ext4");
    }
}
