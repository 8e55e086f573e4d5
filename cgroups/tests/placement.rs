//! Placement, paths, bad input, destroy: real cgroups, as root.

mod common;

use common::*;
use remora_cgroups::{Cgroup, CgroupError, Layout};

fn proc_cgroup(pid: nix::unistd::Pid) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap()
}

#[test]
fn absolute_path_places_the_process_in_every_hierarchy() {
    require_root();
    let path = unique("abs");
    let cg = Guard(Cgroup::new(Some(&path), "abs", false).unwrap());
    let mut h = run_in(&cg, "{}", "sleep 30");
    let pc = proc_cgroup(h.pid());
    let lines: Vec<&str> = pc.lines().collect();
    for l in &lines {
        assert!(l.ends_with(&path), "{l} not in {path}: {pc}");
    }
    assert_eq!(lines.len(), cg.paths().len(), "{pc}");
    assert_eq!(cg.pids().unwrap(), vec![h.pid()]);
    cg.destroy().unwrap();
    assert!(h.exited_within(std::time::Duration::from_secs(5)).is_some());
    assert_gone(&cg);
    cg.destroy().expect("destroy is idempotent");
}

#[test]
fn relative_path_goes_under_the_callers_cgroup() {
    require_root();
    let rel = format!("remora-t-rel-{}", std::process::id());
    let cg = Guard(Cgroup::new(Some(&rel), "rel", false).unwrap());
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let h = run_in(&cg, "{}", "sleep 30");
    let pc = proc_cgroup(h.pid());
    for (mine, theirs) in own.lines().zip(pc.lines()) {
        let base = mine.rsplit(':').next().unwrap().trim_end_matches('/');
        let want = format!("{base}/{rel}");
        assert!(theirs.ends_with(&want), "{theirs} is not {want}");
    }
    cg.destroy().unwrap();
    assert_gone(&cg);
}

#[test]
fn empty_path_defaults_to_remora_id() {
    require_root();
    let id = format!("t-default-{}", std::process::id());
    let cg = Guard(Cgroup::new(None, &id, false).unwrap());
    assert_eq!(cg.to_saved().path, format!("/remora/{id}"));
    let h = run_in(&cg, "{}", "sleep 30");
    assert!(proc_cgroup(h.pid()).contains(&format!("/remora/{id}")));
    // State round trip: a handle rebuilt from state.json finds it again.
    let json = serde_json::to_string(&cg.to_saved()).unwrap();
    let again = Cgroup::from_saved(serde_json::from_str(&json).unwrap());
    assert_eq!(again.pids().unwrap(), vec![h.pid()]);
    again.destroy().unwrap();
    assert_gone(&cg);
    for d in cg.paths().values() {
        let _ = std::fs::remove_dir(d.parent().unwrap());
    }
}

#[test]
fn escaping_paths_are_refused() {
    require_root();
    for bad in ["../../evil", "/a/../../evil", "a/../..", "/"] {
        match Cgroup::new(Some(bad), "x", false) {
            Err(CgroupError::InvalidPath { path, .. }) => assert_eq!(path, bad),
            other => panic!("{bad}: {other:?}"),
        }
    }
    for bad in ["/abs/path", "a:b", "x:y:../z", "notaslice:p:n"] {
        assert!(Cgroup::new(Some(bad), "x", true).is_err(), "{bad} accepted");
    }
}

#[test]
fn bad_resources_create_nothing() {
    require_root();
    let cases = [
        (r#"{"memory":{"limit":-5}}"#, "linux.resources.memory.limit"),
        (r#"{"pids":{"limit":-3}}"#, "linux.resources.pids.limit"),
        (
            r#"{"cpu":{"shares":99999999}}"#,
            "linux.resources.cpu.shares",
        ),
        (
            r#"{"unified":{"nonsense.key":"1"}}"#,
            "linux.resources.unified",
        ),
        (r#"{"unified":{"../x":"1"}}"#, "linux.resources.unified"),
    ];
    for (i, (json, field)) in cases.iter().enumerate() {
        let path = unique(&format!("bad{i}"));
        let cg = Guard(Cgroup::new(Some(&path), "bad", false).unwrap());
        let err = cg.prepare(Some(&resources(json))).expect_err(json);
        assert!(err.to_string().contains(field), "{json}: {err}");
        assert_gone(&cg);
    }
}

#[test]
fn layout_is_detected() {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root_is_v2 = mi
        .lines()
        .any(|l| l.split(' ').nth(4) == Some("/sys/fs/cgroup") && l.contains(" - cgroup2 "));
    let unified = mi.lines().any(|l| {
        l.split(' ').nth(4) == Some("/sys/fs/cgroup/unified") && l.contains(" - cgroup2 ")
    });
    let want = if root_is_v2 {
        Layout::V2
    } else if unified {
        Layout::Hybrid
    } else {
        Layout::V1
    };
    assert_eq!(remora_cgroups::layout(), want);
    let f = serde_json::to_value(remora_cgroups::features()).unwrap();
    for k in ["v1", "v2", "systemd", "systemdUser", "rdma"] {
        assert!(f.get(k).is_some(), "features lacks {k}: {f}");
    }
}

#[test]
fn prepare_returns_a_clone_into_cgroup_fd_only_on_v2() {
    require_root();
    let path = unique("fd");
    let cg = Guard(Cgroup::new(Some(&path), "fd", false).unwrap());
    let fd = cg.prepare(None).unwrap();
    assert_eq!(fd.is_some(), v2());
    if let Some(fd) = fd {
        let pid = clone_into(&fd, "/bin/busybox", &["busybox", "sleep", "30"]);
        let pc = proc_cgroup(pid);
        assert_eq!(pc.trim(), format!("0::{path}"));
        cg.add_task(pid).expect("add_task when already placed");
        cg.destroy().unwrap();
        let st = nix::sys::wait::waitpid(pid, None).unwrap();
        assert!(matches!(
            st,
            nix::sys::wait::WaitStatus::Signaled(_, nix::sys::signal::SIGKILL, _)
        ));
    } else {
        cg.destroy().unwrap();
    }
    assert_gone(&cg);
}

/// clone3(CLONE_INTO_CGROUP) then execv, as the runtime does on v2.
fn clone_into(fd: &std::os::fd::OwnedFd, prog: &str, argv: &[&str]) -> nix::unistd::Pid {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
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
    const CLONE_INTO_CGROUP: u64 = 0x200000000;
    let prog = CString::new(prog).unwrap();
    let args: Vec<CString> = argv.iter().map(|a| CString::new(*a).unwrap()).collect();
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut ca = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: fd.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3 without CLONE_VM forks; the child only calls execv and
    // _exit with pointers prepared before the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut ca as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    assert!(r >= 0, "clone3: {}", std::io::Error::last_os_error());
    if r == 0 {
        // SAFETY: see above; only async-signal-safe calls in the child.
        unsafe {
            libc::execv(prog.as_ptr(), ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    nix::unistd::Pid::from_raw(r as i32)
}
