//! The host's remora binary is never what a container can reach
//! (CVE-2019-5736; docs/security.md, "The runtime binary").
//!
//! Every process a container can see or start comes from `create`, `run`
//! or `exec`, which call [`ensure`] first. Unless /proc/self/exe is
//! already unwritable, it re-executes the command line from a private,
//! read-only bind mount of the binary: `open_tree(OPEN_TREE_CLONE)` of
//! /proc/self/exe gives a detached mount of just that file (in no mount
//! namespace, so nothing can reach it but through a process's exe), and
//! `mount_setattr(MOUNT_ATTR_RDONLY)` makes it read-only. The init and
//! every exec'd process are clones of that process, so /proc/PID/exe of
//! each, and /proc/self/exe resolved by a program the container execs
//! (directly or as a `#!` interpreter), names the read-only mount: opening
//! it for writing fails with EROFS, whoever holds the fd, whatever
//! capabilities. No copy is made: the cost is one execve.
//!
//! Where a mount cannot be made (no CAP_SYS_ADMIN over our mount
//! namespace), the fallback is a sealed memfd copy of the binary.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::fs::on_read_only_mount;
use super::mount::{
    mount_setattr, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, OPEN_TREE_CLONE,
};
use super::{check, owned};

const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const F_SEAL_ALL: i32 =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
const MEMFD_NAME: &str = "remora-sealed";
/// Set across the re-exec only: a second pass that still finds a
/// writable binary fails instead of looping.
const REEXEC_MARK: &str = "_REMORA_EXE_PROTECTED";

/// Set once [`ensure`] has seen this process's binary protected.
static VERIFIED: AtomicBool = AtomicBool::new(false);

/// Whether a command line may start processes that a container sees
/// (`create`, `run`, `exec`): a cheap look at the words, before the
/// command line is parsed, so that the re-exec happens before anything
/// else. It may say yes for an odd ID named like a command (the cost is
/// a re-exec); `create` and `exec` call [`ensure`] themselves anyway.
pub fn wanted_for<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> bool {
    args.into_iter()
        .skip(1)
        .any(|a| starts_container_processes(a.as_ref().as_encoded_bytes()))
}

fn starts_container_processes(word: &[u8]) -> bool {
    matches!(word, b"create" | b"run" | b"exec")
}

/// How /proc/self/exe is kept from being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// The binary is on a read-only mount (our private bind, or the host's
    /// own read-only filesystem).
    ReadOnlyMount,
    /// A sealed memfd copy.
    SealedCopy,
}

/// How this process's executable is protected now, if it is.
pub fn current() -> io::Result<Option<Protection>> {
    let exe = open_exe(libc::O_PATH)?;
    if on_read_only_mount(exe.as_fd())? {
        return Ok(Some(Protection::ReadOnlyMount));
    }
    let memfd = std::fs::read_link("/proc/self/exe")
        .map(|p| {
            p.to_string_lossy()
                .starts_with(&format!("/memfd:{MEMFD_NAME}"))
        })
        .unwrap_or(false);
    if memfd {
        let exe = open_exe(libc::O_RDONLY)?;
        // SAFETY: fcntl on our own fd with integer arguments.
        let seals = check(unsafe { libc::fcntl(exe.as_raw_fd(), libc::F_GET_SEALS) }.into())?;
        if seals & libc::c_long::from(libc::F_SEAL_WRITE) != 0 {
            return Ok(Some(Protection::SealedCopy));
        }
    }
    Ok(None)
}

/// Returns once this process runs from an unwritable binary; otherwise
/// re-executes the current command line from one (and does not return
/// on success). Call it before anything a re-exec would repeat.
pub fn ensure() -> io::Result<()> {
    // bench/'s build without the protection (runtime/build.rs).
    if cfg!(remora_unprotected) || VERIFIED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let again = std::env::var_os(REEXEC_MARK).is_some();
    if current()?.is_some() {
        VERIFIED.store(true, Ordering::Relaxed);
        if again {
            std::env::remove_var(REEXEC_MARK);
        }
        if again || executed_by_fd() {
            // execveat by fd names the process after the fd number.
            let _ = super::process::set_name("remora");
        }
        return Ok(());
    }
    if again {
        return Err(io::Error::other(
            "still running from a writable binary after re-executing",
        ));
    }
    let fd = match read_only_bind() {
        Ok(fd) => fd,
        Err(_) => sealed_copy()?,
    };
    std::env::set_var(REEXEC_MARK, "1");
    let err = reexec(fd.as_fd());
    std::env::remove_var(REEXEC_MARK);
    Err(err)
}

/// Whether this image was executed through an fd (execveat, as the early
/// entry point and [`ensure`] do): the kernel then names it /dev/fd/N.
fn executed_by_fd() -> bool {
    // SAFETY: getauxval reads the auxiliary vector; AT_EXECFN's value is
    // a pointer to a NUL-terminated string on the initial stack, which
    // lives as long as the process.
    let name = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    // SAFETY: see above: NUL-terminated, or null when absent.
    !name.is_null()
        && unsafe { std::ffi::CStr::from_ptr(name) }
            .to_bytes()
            .starts_with(b"/dev/fd/")
}

fn open_exe(flags: i32) -> io::Result<OwnedFd> {
    // SAFETY: NUL-terminated path; returns a new fd we own.
    let fd =
        check(unsafe { libc::open(c"/proc/self/exe".as_ptr(), flags | libc::O_CLOEXEC) }.into())?;
    // SAFETY: the fd was just opened and is ours.
    unsafe { owned(fd) }
}

/// A detached, read-only bind mount of the running binary.
fn read_only_bind() -> io::Result<OwnedFd> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    // SAFETY: NUL-terminated path; returns a new fd we own.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c"/proc/self/exe".as_ptr(),
            flags,
        )
    })?;
    // SAFETY: the fd was just created and is ours.
    let fd = unsafe { owned(fd) }?;
    mount_setattr(
        fd.as_fd(),
        false,
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        0,
        0,
    )?;
    Ok(fd)
}

/// A sealed memfd copy of the running binary.
fn sealed_copy() -> io::Result<OwnedFd> {
    let name = CString::new(MEMFD_NAME).expect("no NUL");
    // SAFETY: NUL-terminated name; returns a new fd we own.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            name.as_ptr(),
            MFD_CLOEXEC | MFD_ALLOW_SEALING,
        )
    })?;
    // SAFETY: the fd was just created.
    let fd = unsafe { owned(fd) }?;
    let mut src = std::fs::File::from(open_exe(libc::O_RDONLY)?);
    let mut dst = std::fs::File::from(fd.try_clone()?);
    io::copy(&mut src, &mut dst)?;
    // SAFETY: fcntl on our own fd with integer arguments.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, F_SEAL_ALL) }.into())?;
    Ok(fd)
}

/// execveat(fd, "", argv, envp, AT_EMPTY_PATH) with this process's
/// arguments and environment. Returns only the error.
fn reexec(fd: std::os::fd::BorrowedFd<'_>) -> io::Error {
    let cstrings = |items: Vec<Vec<u8>>| -> Vec<CString> {
        items
            .into_iter()
            .map(|b| CString::new(b).unwrap_or_default())
            .collect()
    };
    let args = cstrings(
        std::env::args_os()
            .map(|a| a.into_encoded_bytes())
            .collect(),
    );
    let env = cstrings(
        std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.into_encoded_bytes();
                kv.push(b'=');
                kv.extend_from_slice(v.as_encoded_bytes());
                kv
            })
            .collect(),
    );
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    execveat_empty(fd, &argv, &envp)
}

/// execveat(fd, "", argv, envp, AT_EMPTY_PATH). Returns only the error.
/// The pointers in `argv` and `envp` must be valid NUL-terminated strings
/// for the call (both callers own or borrow them across it).
fn execveat_empty(
    fd: std::os::fd::BorrowedFd<'_>,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Error {
    if argv.last().is_some_and(|p| !p.is_null()) || envp.last().is_some_and(|p| !p.is_null()) {
        return io::Error::from_raw_os_error(libc::EINVAL);
    }
    // SAFETY: argv/envp are NULL-terminated (checked above) arrays of
    // NUL-terminated strings that outlive the call; on success it does
    // not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

#[cfg(test)]
mod tests {
    use super::wanted_for;

    #[test]
    fn commands_that_start_container_processes_want_it() {
        for line in [
            "remora create -b b c1",
            "remora --root /r run c",
            "remora --log l exec -t c sh",
        ] {
            assert!(wanted_for(line.split(' ')), "{line}");
        }
        for line in ["remora state c", "remora --root /r delete -f c", "remora"] {
            assert!(!wanted_for(line.split(' ')), "{line}");
        }
    }
}
