//! clone3(2): one syscall that makes the init in all its new namespaces
//! (and, on cgroup v2, directly in its cgroup).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::check;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// What clone3 returned.
pub enum Forked {
    /// In the parent: the child's PID and, if asked for, a pidfd.
    Parent {
        pid: i32,
        pidfd: Option<OwnedFd>,
    },
    Child,
}

/// Options for [`clone3`].
#[derive(Default)]
pub struct CloneOptions<'a> {
    /// CLONE_NEW* and other flags.
    pub flags: i32,
    pub want_pidfd: bool,
    /// CLONE_PARENT: the child becomes a sibling of the caller.
    pub parent: bool,
    /// CLONE_INTO_CGROUP with this cgroup2 directory.
    pub cgroup: Option<BorrowedFd<'a>>,
}

/// Forks the caller like fork(2), with namespace flags. The child
/// continues on a copy of the caller's stack, as after fork.
///
/// # Safety
///
/// The calling process must be single-threaded. The child gets a copy of
/// the address space with only the calling thread: a lock another thread
/// held (the allocator's, stdio's) would stay locked in the child forever,
/// and CLONE_NEWUSER/CLONE_NEWPID fail for a multi-threaded caller anyway.
pub unsafe fn clone3(opts: &CloneOptions<'_>) -> io::Result<Forked> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: u64::from(u32::from_ne_bytes(opts.flags.to_ne_bytes())),
        exit_signal: libc::SIGCHLD.unsigned_abs().into(),
        ..Default::default()
    };
    if opts.want_pidfd {
        args.flags |= CLONE_PIDFD;
        args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    }
    if opts.parent {
        // With CLONE_PARENT the child inherits the caller's exit signal;
        // clone3 requires exit_signal 0 then.
        args.flags |= u64::from(libc::CLONE_PARENT.unsigned_abs());
        args.exit_signal = 0;
    }
    if let Some(cg) = opts.cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        // A borrowed fd is never negative.
        args.cgroup = cg.as_raw_fd().unsigned_abs().into();
    }
    // SAFETY: the caller is single-threaded (this function's contract), so
    // the child gets a consistent copy of the whole address space (no
    // stack, no CLONE_VM: fork semantics). `args` and `pidfd` outlive the
    // call; the kernel writes only `pidfd`.
    let ret = check(unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    })?;
    if ret == 0 {
        return Ok(Forked::Child);
    }
    let pidfd = (opts.want_pidfd && pidfd >= 0).then(|| {
        // SAFETY: the kernel just gave us this fd; we are its only owner.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    });
    Ok(Forked::Parent {
        pid: i32::try_from(ret).expect("a pid fits pid_t"),
        pidfd,
    })
}

/// Ends the calling (forked) process at once, without running Rust or libc
/// exit handlers that belong to the parent's state.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}
