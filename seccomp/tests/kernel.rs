//! In-kernel tests: a forked child loads a compiled filter and makes real
//! syscalls; the parent checks what the child saw. Needs root (the child
//! loads without no_new_privs, as a runtime does, so it needs
//! CAP_SYS_ADMIN). One #[test] only: the children fork from a process that
//! runs no other test thread.

mod common;

use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;

use common::engine;
use oci_spec::runtime::LinuxSeccomp;
use serde_json::json;

/// Runs `body` in a forked child; returns its exit code (or 128+signal).
fn in_child(body: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes syscalls and exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = body();
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

fn errno_of(rc: libc::c_long) -> i32 {
    if rc < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    }
}

fn docker_default() -> LinuxSeccomp {
    let p = engine::load(engine::DOCKER_PROFILE, engine::DOCKER_CAPS)
        .expect("Docker's default profile is installed");
    remora_seccomp::parse_profile(&p).unwrap()
}

/// Checks under Docker's default profile; each failed check has its own
/// exit code so that the parent can say which.
fn docker_checks() -> i32 {
    // SAFETY: raw syscalls with integer arguments or null pointers the
    // kernel does not dereference on the paths taken.
    unsafe {
        // 1: unshare(CLONE_NEWNS) is refused with EPERM.
        let rc = libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS);
        if errno_of(rc) != libc::EPERM {
            return 1;
        }
        // 2: clone with a namespace flag is refused (MASKED_EQ on flags).
        let rc = libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_NEWUTS | libc::SIGCHLD) as libc::c_ulong,
            0,
            0,
            0,
            0,
        );
        if rc == 0 {
            libc::_exit(0);
        }
        if errno_of(rc) != libc::EPERM {
            return 2;
        }
        // 3: clone without namespace flags passes the same rule.
        let rc = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0);
        if rc == 0 {
            libc::_exit(7);
        }
        if rc < 0 {
            return 3;
        }
        let mut st = 0;
        let pid = i32::try_from(rc).unwrap_or(-1);
        if libc::waitpid(pid, &mut st, 0) != pid || libc::WEXITSTATUS(st) != 7 {
            return 4;
        }
        // 5: clone3 gets ENOSYS, so libc falls back to clone.
        let rc = libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0);
        if errno_of(rc) != libc::ENOSYS {
            return 5;
        }
        // 6: an allowed syscall works.
        if libc::syscall(libc::SYS_getpid) != libc::c_long::from(libc::getpid())
            || libc::getpid() <= 0
        {
            return 6;
        }
        // 7: a syscall the profile does not know (past its last one) gets ENOSYS.
        let rc = libc::syscall(1000);
        if errno_of(rc) != libc::ENOSYS {
            return 7;
        }
        // 8: a blocked known syscall gets EPERM (Docker: reboot).
        let rc = libc::syscall(libc::SYS_reboot, 0, 0, 0, 0);
        if errno_of(rc) != libc::EPERM {
            return 8;
        }
    }
    0
}

fn notify_roundtrip() {
    let dir = std::env::temp_dir().join(format!("remora-seccomp-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("agent.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let profile: LinuxSeccomp = remora_seccomp::parse_profile(&json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "listenerPath": path,
        "syscalls": [{ "names": ["getppid"], "action": "SCMP_ACT_NOTIFY" }],
    }))
    .unwrap();
    let filter = remora_seccomp::compile(&profile).unwrap();
    assert!(filter.wants_listener);
    let state = remora_seccomp::process_state_json(
        "1.0.2",
        0,
        "meta",
        &json!({"id": "t", "status": "creating"}),
    );
    let child_path = path.clone();
    // SAFETY: the child only makes syscalls, connects and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = (|| {
            let Ok(Some(fd)) = filter.load() else {
                return 10;
            };
            if remora_seccomp::send_listener(&child_path, fd.as_fd(), &state).is_err() {
                return 11;
            }
            drop(fd);
            // SAFETY: a plain syscall.
            let got = unsafe { libc::syscall(libc::SYS_getppid) };
            if got == 4242 {
                0
            } else {
                12
            }
        })();
        // SAFETY: leaving the child.
        unsafe { libc::_exit(code) };
    }
    let (conn, _) = listener.accept().unwrap();
    let (fd, data) = remora_seccomp::recv_listener(&conn).expect("receiving the listener");
    let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(v["fds"], json!(["seccompFd"]));
    assert_eq!(v["metadata"], "meta");
    let n = remora_seccomp::receive_notification(fd.as_fd()).expect("NOTIF_RECV");
    assert_eq!(
        n.nr as libc::c_long,
        libc::SYS_getppid,
        "the notification is for getppid"
    );
    assert_eq!(i32::try_from(n.pid).unwrap(), pid);
    remora_seccomp::respond(fd.as_fd(), n.id, 4242, 0).expect("NOTIF_SEND");
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(libc::WIFEXITED(status), "child died: {status:#x}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child check failed (10 load, 11 send, 12 getppid answer)"
    );
}

#[test]
fn filters_behave_in_the_kernel() {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    assert_eq!(uid, 0, "the in-kernel tests need root");
    let filter = remora_seccomp::compile(&docker_default()).unwrap();
    let code = in_child(|| {
        if filter.load().is_err() {
            return 100;
        }
        docker_checks()
    });
    assert_eq!(
        code, 0,
        "under Docker's default profile check {code} failed (1 unshare, 2 clone NEWUTS, 3/4 plain clone, \
         5 clone3 ENOSYS, 6 getpid, 7 unknown nr ENOSYS, 8 reboot EPERM, 100 load)"
    );
    // The same checks without the filter show the checks can fail.
    let unfiltered = in_child(docker_checks);
    assert_ne!(
        unfiltered, 0,
        "without a filter the checks must not all pass"
    );
    notify_roundtrip();
    // Flags the kernel has are accepted and loaded.
    let flagged: LinuxSeccomp = remora_seccomp::parse_profile(&json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": remora_seccomp::supported_flags().into_iter().filter(|f| !f.contains("WAIT_KILLABLE")).collect::<Vec<_>>(),
        "syscalls": [{ "names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77 }],
    }))
    .unwrap();
    let f = remora_seccomp::compile(&flagged).unwrap();
    assert_ne!(f.flags, 0);
    let code = in_child(|| {
        if f.load().is_err() {
            return 1;
        }
        // SAFETY: a plain syscall.
        let rc = unsafe { libc::syscall(libc::SYS_getppid) };
        if errno_of(rc) == 77 {
            0
        } else {
            2
        }
    });
    assert_eq!(code, 0);
}
