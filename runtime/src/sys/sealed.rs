//! Running from a sealed memfd copy of the remora binary, for the paths
//! where a container can see a remora process before it execs (exec, a
//! joined or absent pid namespace): /proc/PID/exe then names the sealed
//! copy, which cannot be written, never the host's binary (CVE-2019-5736,
//! security.md item 1). A create with a new pid namespace does not pay
//! for it: its init is alone in that namespace until it execs.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::check;

const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const F_SEAL_ALL: i32 =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
const NAME: &str = "remora-sealed";

/// Whether this process already runs from the sealed copy.
pub fn running_sealed() -> bool {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().starts_with(&format!("/memfd:{NAME}")))
        .unwrap_or(false)
}

fn sealed_copy() -> io::Result<OwnedFd> {
    let name = CString::new(NAME).expect("no NUL");
    // SAFETY: NUL-terminated name; returns a new fd we own.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            name.as_ptr(),
            MFD_CLOEXEC | MFD_ALLOW_SEALING,
        )
    })?;
    // SAFETY: the fd was just created.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut src = std::fs::File::open("/proc/self/exe")?;
    let mut dst = std::fs::File::from(fd.try_clone()?);
    io::copy(&mut src, &mut dst)?;
    // SAFETY: fcntl on our own fd with integer arguments.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, F_SEAL_ALL) } as libc::c_long)?;
    Ok(fd)
}

/// Re-executes the current command line from a sealed memfd copy of the
/// binary, unless already running from one. Returns only on error.
pub fn reexec_sealed() -> io::Result<()> {
    if running_sealed() {
        return Ok(());
    }
    let fd = sealed_copy()?;
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.as_encoded_bytes()).unwrap_or_default())
        .collect();
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_encoded_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_encoded_bytes());
            CString::new(kv).unwrap_or_default()
        })
        .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv/envp are NULL-terminated arrays of NUL-terminated
    // strings that outlive the call; on success it does not return.
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
    Err(io::Error::last_os_error())
}
