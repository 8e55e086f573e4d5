//! The "tmpcopyup" mount option (podman adds it to every tmpfs): what the
//! image has at the destination is copied onto the new tmpfs while it is
//! still detached, so the container sees the image's files (with their
//! modes, owners, times, symlinks, subdirectories, fifos and device
//! nodes) on a writable tmpfs. Everything goes through directory fds:
//! the source is the destination opened inside the rootfs, each entry is
//! opened relative to its parent with O_NOFOLLOW, symlinks are copied as
//! links, never followed. Not copied: extended attributes; hard links
//! become separate files. The tmpfs's own root keeps the mode the mount
//! options give it.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};

use nix::dir::Dir;
use nix::fcntl::{readlinkat, AtFlags};
use nix::sys::stat::{fchmod, fstatat, mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, symlinkat, Gid, Uid};

use crate::sys::fs::{fchown, openat2, RESOLVE_NO_MAGICLINKS};

/// openat2's RESOLVE_BENEATH: the name stays below the directory.
const RESOLVE_BENEATH: u64 = 0x08;

fn nix_err(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn open_in(dir: BorrowedFd<'_>, name: &str, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    openat2(
        dir,
        name,
        flags | libc::O_NOFOLLOW,
        mode,
        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    )
}

/// Owner, mode (after the owner: chown clears set-id bits) and times of
/// an open file or directory.
fn copy_attrs(to: BorrowedFd<'_>, st: &nix::sys::stat::FileStat) -> io::Result<()> {
    fchown(to, st.st_uid, st.st_gid)?;
    fchmod(
        to.as_raw_fd(),
        Mode::from_bits_truncate(st.st_mode & 0o7777),
    )
    .map_err(nix_err)?;
    Ok(())
}

fn times(st: &nix::sys::stat::FileStat) -> (TimeSpec, TimeSpec) {
    (
        TimeSpec::new(st.st_atime, st.st_atime_nsec),
        TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    )
}

fn set_times(dir: BorrowedFd<'_>, name: &str, st: &nix::sys::stat::FileStat) -> io::Result<()> {
    let (a, m) = times(st);
    utimensat(
        Some(dir.as_raw_fd()),
        name,
        &a,
        &m,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(nix_err)
}

/// Copies the contents of directory `from` into directory `to`.
pub fn copy_dir_contents(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    let listing = open_in(from, ".", libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let mut dir = Dir::from_fd(listing.into_raw_fd()).map_err(nix_err)?;
    let mut names = Vec::new();
    for e in dir.iter() {
        let e = e.map_err(nix_err)?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = std::str::from_utf8(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a file name is not UTF-8"))?
            .to_string();
        names.push(name);
    }
    for name in names {
        copy_entry(from, to, &name)
            .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
    }
    Ok(())
}

fn copy_entry(from: BorrowedFd<'_>, to: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let st =
        fstatat(Some(from.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(nix_err)?;
    let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
    match kind {
        SFlag::S_IFDIR => {
            crate::sys::fs::mkdirat(to, name, 0o700)?;
            let src = open_in(from, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
            let dst = open_in(to, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
            copy_dir_contents(src.as_fd(), dst.as_fd())?;
            copy_attrs(dst.as_fd(), &st)?;
        }
        SFlag::S_IFREG => {
            let src = open_in(from, name, libc::O_RDONLY, 0)?;
            let dst = open_in(
                to,
                name,
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
                0o600,
            )?;
            let mut r = std::fs::File::from(src);
            let mut w = std::fs::File::from(dst);
            io::copy(&mut r, &mut w)?;
            copy_attrs(w.as_fd(), &st)?;
        }
        SFlag::S_IFLNK => {
            let target = readlinkat(Some(from.as_raw_fd()), name).map_err(nix_err)?;
            symlinkat(target.as_os_str(), Some(to.as_raw_fd()), name).map_err(nix_err)?;
            fchownat(
                Some(to.as_raw_fd()),
                name,
                Some(Uid::from_raw(st.st_uid)),
                Some(Gid::from_raw(st.st_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(nix_err)?;
        }
        SFlag::S_IFIFO | SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFSOCK => {
            mknodat(
                Some(to.as_raw_fd()),
                name,
                kind,
                Mode::from_bits_truncate(st.st_mode & 0o7777),
                st.st_rdev,
            )
            .map_err(nix_err)?;
            let node = open_in(to, name, libc::O_PATH, 0)?;
            fchown(node.as_fd(), st.st_uid, st.st_gid)?;
        }
        _ => return Ok(()),
    }
    set_times(to, name, &st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn open_dir(p: &std::path::Path) -> OwnedFd {
        std::fs::File::open(p).unwrap().into()
    }

    #[test]
    fn copies_tree_with_modes_links_and_times() {
        let base = std::env::temp_dir().join(format!("remora-copyup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (src, dst) = (base.join("src"), base.join("dst"));
        std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::write(src.join("passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        std::fs::set_permissions(src.join("passwd"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::fs::write(src.join("sub/deeper/f"), "x").unwrap();
        std::fs::set_permissions(src.join("sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::os::unix::fs::symlink("../passwd", src.join("sub/link")).unwrap();
        copy_dir_contents(open_dir(&src).as_fd(), open_dir(&dst).as_fd()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dst.join("passwd")).unwrap(),
            "root:x:0:0::/root:/bin/sh\n"
        );
        let m = |p: &str| std::fs::symlink_metadata(dst.join(p)).unwrap();
        let s = |p: &str| std::fs::symlink_metadata(src.join(p)).unwrap();
        assert_eq!(m("passwd").mode() & 0o7777, 0o640);
        assert_eq!(m("sub").mode() & 0o7777, 0o750);
        assert_eq!(m("passwd").mtime(), s("passwd").mtime());
        assert_eq!(m("sub").mtime(), s("sub").mtime());
        assert_eq!(
            std::fs::read_link(dst.join("sub/link")).unwrap(),
            std::path::Path::new("../passwd")
        );
        assert_eq!(
            std::fs::read_to_string(dst.join("sub/deeper/f")).unwrap(),
            "x"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
