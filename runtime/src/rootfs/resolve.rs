//! Safe path resolution inside the container's rootfs: every lookup uses
//! openat2(RESOLVE_IN_ROOT) on the rootfs fd, so symlinks and ".." can
//! never leave it; missing parents are made one component at a time from
//! fds resolved that way (CVE-2021-30465, CVE-2024-45310).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use std::collections::VecDeque;

use crate::sys::fs::{mkdirat, openat2, readlinkat, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS};

const RESOLVE: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/// The container's root directory, as an fd.
pub struct Root {
    fd: OwnedFd,
}

/// Lexically cleans an in-container path to "a/b/c" (no leading '/', no
/// "." or ".."; ".." at the top stays at the top, as in the container).
/// Byte for byte: a path need not be UTF-8.
pub fn clean(path: &Path) -> PathBuf {
    let mut parts: Vec<&OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.iter().collect()
}

impl Root {
    pub fn new(fd: OwnedFd) -> Self {
        Self { fd }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens `path` (in-container) with `flags` (O_PATH by default).
    pub fn open(&self, path: &Path, flags: i32) -> io::Result<OwnedFd> {
        let p = clean(path);
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &p
        };
        openat2(self.fd.as_fd(), p, flags, 0, RESOLVE)
    }

    /// The file type of the last component itself (not following it).
    pub fn lstat_mode(&self, path: &Path) -> io::Result<u32> {
        let fd = self.open(path, libc::O_PATH | libc::O_NOFOLLOW)?;
        Ok(crate::sys::fs::fstat(fd.as_fd())?.st_mode & libc::S_IFMT)
    }

    /// mkdir -p inside the root; returns an O_PATH fd of the directory.
    /// A dangling symlink on the way is followed (inside the root) and its
    /// target made, as the kernel would resolve it.
    pub fn mkdir_all(&self, path: &Path, mode: u32) -> io::Result<OwnedFd> {
        let split = |p: &Path| -> VecDeque<OsString> {
            clean(p)
                .components()
                .map(|c| c.as_os_str().to_owned())
                .collect()
        };
        let mut todo = split(path);
        let mut cur = PathBuf::new();
        let mut links = 0;
        let dir_flags = libc::O_PATH | libc::O_DIRECTORY;
        while let Some(comp) = todo.pop_front() {
            let next = cur.join(&comp);
            match self.open(&next, dir_flags) {
                Ok(_) => {
                    cur = next;
                    continue;
                }
                Err(e) if e.raw_os_error() != Some(libc::ENOENT) => return Err(e),
                Err(_) => {}
            }
            let parent = self.open(&cur, dir_flags)?;
            match readlinkat(parent.as_fd(), &comp) {
                Ok(target) => {
                    links += 1;
                    if links > 40 {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    // Restart from the root with the link expanded (an
                    // absolute target replaces `cur` in the join).
                    let mut rest = split(&cur.join(target));
                    rest.extend(todo.drain(..));
                    todo = rest;
                    cur.clear();
                }
                Err(_) => {
                    match mkdirat(parent.as_fd(), &comp, mode) {
                        Ok(()) => {}
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                        Err(e) => return Err(e),
                    }
                    cur = next;
                }
            }
        }
        self.open(Path::new(&cur), dir_flags)
    }

    /// Makes sure a regular file exists at `path` (creating parents);
    /// returns an O_PATH fd of it.
    pub fn create_file(&self, path: &Path) -> io::Result<OwnedFd> {
        let mut p = clean(path);
        // A symlink as the last component (an image's /etc/resolv.conf ->
        // /run/systemd/resolve/resolv.conf): the file is made where it
        // points, inside the root, parents included (as runc).
        let mut links = 0;
        let (dir, name) = loop {
            let (parent, name) = split_parent(&p);
            let dir = self.mkdir_all(parent, 0o755)?;
            match readlinkat(dir.as_fd(), name) {
                Ok(target) => {
                    links += 1;
                    if links > 40 {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    // Relative to the link's directory; an absolute
                    // target replaces it in the join.
                    p = clean(&Path::new("/").join(parent).join(target));
                }
                Err(_) => break (dir, name.to_owned()),
            }
        };
        match openat2(
            dir.as_fd(),
            name,
            libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW,
            0o644,
            RESOLVE | crate::sys::fs::RESOLVE_NO_XDEV,
        ) {
            Ok(_) => {}
            // Exists as something we cannot open for writing (a device, a
            // read-only file): fine, it exists.
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {}
            Err(e) => return Err(e),
        }
        self.open(&p, libc::O_PATH)
    }
}

/// "a/b/c" -> ("a/b", "c"); "c" -> ("", "c"); "" -> ("", "").
pub fn split_parent(p: &Path) -> (&Path, &OsStr) {
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(Path::new("/a/./b/../c")), Path::new("a/c"));
        assert_eq!(clean(Path::new("/../../etc")), Path::new("etc"));
        assert_eq!(clean(Path::new("/")), Path::new(""));
        let (p, n) = split_parent(Path::new("a/b/c"));
        assert_eq!((p, n), (Path::new("a/b"), OsStr::new("c")));
        let (p, n) = split_parent(Path::new("c"));
        assert_eq!((p, n), (Path::new(""), OsStr::new("c")));
    }

    #[test]
    fn symlinks_stay_inside() {
        let dir = std::env::temp_dir().join(format!("remora-resolve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("inside")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("escape")).unwrap();
        let root = Root::new(std::fs::File::open(&dir).unwrap().into());
        // "/escape" points at "/etc" *in the root*, which does not exist.
        let err = root
            .open(Path::new("/escape/passwd"), libc::O_PATH)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        // mkdir_all through the symlink creates inside the root.
        root.mkdir_all(Path::new("/escape/made"), 0o755).unwrap();
        assert!(dir.join("etc/made").is_dir());
        assert!(!Path::new("/etc/made").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A path that is not UTF-8 is made and opened byte for byte, not
    /// turned into "" or a lossy copy.
    #[test]
    fn non_utf8_paths_are_kept() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("remora-resolve-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = Root::new(std::fs::File::open(&dir).unwrap().into());
        let name = OsStr::from_bytes(b"caf\xe9");
        let p = Path::new("/a").join(name).join("b");
        assert_eq!(clean(&p).as_os_str().as_bytes(), b"a/caf\xe9/b");
        root.mkdir_all(&p, 0o755).unwrap();
        assert!(dir.join("a").join(name).join("b").is_dir());
        root.create_file(&Path::new("/a").join(name).join("f"))
            .unwrap();
        assert!(dir.join("a").join(name).join("f").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
