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
fn a_new_process_enters_through_the_placement_without_a_migration() {
    require_root();
    let path = unique("place");
    let cg = Guard(Cgroup::new(Some(&path), "place", false).unwrap());
    let placement = cg.prepare(None).unwrap();
    // A cgroup2 hierarchy (pure v2, or hybrid's unified) is entered by the
    // clone itself; v1 hierarchies by the child writing "0" to `tasks`.
    assert_eq!(
        placement.clone_into().is_some(),
        cg.paths().contains_key("unified")
    );
    assert_eq!(placement.needs_self_join(), !v2());
    let pid = clone_into(&placement, "/bin/busybox", &["busybox", "sleep", "30"]);
    // The child joins before it execs: wait for the exec.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != "busybox\n" {
        assert!(std::time::Instant::now() < deadline, "child never exec'd");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pc = proc_cgroup(pid);
    assert_eq!(pc.lines().count(), cg.paths().len(), "{pc}");
    for l in pc.lines() {
        assert!(l.ends_with(&format!(":{path}")), "{l} not in {path}: {pc}");
    }
    assert_eq!(cg.pids().unwrap(), vec![pid]);
    cg.add_task(pid).expect("add_task when already placed");
    cg.destroy().unwrap();
    let st = nix::sys::wait::waitpid(pid, None).unwrap();
    assert!(matches!(
        st,
        nix::sys::wait::WaitStatus::Signaled(_, nix::sys::signal::SIGKILL, _)
    ));
    assert_gone(&cg);
}

/// clone3 (with CLONE_INTO_CGROUP when the placement has a cgroup2
/// directory), the child joins its v1 hierarchies, then execv: as the
/// runtime does.
fn clone_into(
    placement: &remora_cgroups::Placement,
    prog: &str,
    argv: &[&str],
) -> nix::unistd::Pid {
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
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if let Some(fd) = placement.clone_into() {
        ca.flags = CLONE_INTO_CGROUP;
        ca.cgroup = u64::from(fd.as_raw_fd().unsigned_abs());
    }
    // SAFETY: clone3 without CLONE_VM forks; the child only writes to the
    // placement's open files and calls execv and _exit with pointers
    // prepared before the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut ca as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    assert!(r >= 0, "clone3: {}", std::io::Error::last_os_error());
    if r == 0 {
        if placement.join_self().is_err() {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(126) };
        }
        // SAFETY: see above; only async-signal-safe calls in the child.
        unsafe {
            libc::execv(prog.as_ptr(), ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    nix::unistd::Pid::from_raw(i32::try_from(r).unwrap())
}

#[test]
fn a_frozen_cgroup_or_parent_is_refused_before_placement() {
    require_root();
    let path = unique("frozen");
    let cg = Guard(Cgroup::new(Some(&path), "frozen", false).unwrap());
    cg.check_not_frozen()
        .expect("a cgroup that does not exist is not frozen");
    cg.make(None).unwrap();
    cg.check_not_frozen().expect("a new cgroup is thawed");
    cg.set_frozen(true).unwrap();
    let err = cg.check_not_frozen().unwrap_err().to_string();
    assert!(
        err.contains("container's cgroup unexpectedly frozen") && err.contains(&path),
        "{err}"
    );
    // A cgroup not made yet under a frozen parent would be frozen too.
    let child = Cgroup::new(Some(&format!("{path}/child")), "child", false).unwrap();
    let err = child.check_not_frozen().unwrap_err().to_string();
    assert!(err.contains("unexpectedly frozen"), "{err}");
    assert!(child.paths().values().all(|d| !d.exists()), "nothing made");
    cg.set_frozen(false).unwrap();
    cg.check_not_frozen().unwrap();
    child.check_not_frozen().unwrap();
    cg.destroy().unwrap();
    assert_gone(&cg);
}
