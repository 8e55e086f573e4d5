//! Seccomp in real containers: the engines' default profile (podman's, as
//! Debian's containers-common ships it), a MASKED_EQ rule, and a NOTIFY
//! rule answered by a listener in the test. The in-container prober is
//! this test binary itself (with its shared libraries), run as the
//! ignored `probe` test.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use remora_integration_tests::{skip, TestEnv};
use serde_json::{json, Value};

const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

fn errno_of(r: libc::c_long) -> String {
    if r < 0 {
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(-1)
            .to_string()
    } else {
        "ok".into()
    }
}

/// Inside the container: makes the syscalls and prints what they gave.
#[test]
#[ignore]
fn probe() {
    if std::env::var_os("REMORA_SECCOMP_PROBE").is_none() {
        skip(
            "probe",
            "a helper, run inside the containers of this file's tests",
        );
        return;
    }
    // SAFETY: plain syscalls with integer arguments; a clone child exits at once.
    unsafe {
        println!(
            "unshare={}",
            errno_of(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUTS))
        );
        let r = libc::syscall(
            libc::SYS_clone,
            libc::CLONE_NEWNS | libc::SIGCHLD,
            0,
            0,
            0,
            0,
        );
        if r == 0 {
            libc::_exit(0);
        }
        if r > 0 {
            libc::waitpid(i32::try_from(r).unwrap(), std::ptr::null_mut(), 0);
        }
        println!("clone_newns={}", errno_of(r));
        let mut args = [0u64; 11];
        args[4] = libc::SIGCHLD as u64;
        let r = libc::syscall(
            libc::SYS_clone3,
            args.as_mut_ptr(),
            std::mem::size_of_val(&args),
        );
        if r == 0 {
            libc::_exit(0);
        }
        println!("clone3={}", errno_of(r));
        println!("getpid={}", errno_of(libc::syscall(libc::SYS_getpid)));
        println!(
            "personality31={}",
            errno_of(libc::syscall(libc::SYS_personality, 0x31))
        );
        println!(
            "personality41={}",
            errno_of(libc::syscall(libc::SYS_personality, 0x41))
        );
    }
}

/// Copies this test binary to /helper in `rootfs`, with its libraries.
fn install_self(rootfs: &Path) {
    let me = std::env::current_exe().unwrap();
    fs::copy(&me, rootfs.join("helper")).unwrap();
    let ldd = Command::new("ldd").arg(&me).output().unwrap();
    for l in String::from_utf8_lossy(&ldd.stdout).lines() {
        if let Some(p) = l
            .split_whitespace()
            .find(|w| w.starts_with('/'))
            .map(PathBuf::from)
        {
            let dst = rootfs.join(p.strip_prefix("/").unwrap());
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::copy(&p, &dst).unwrap();
        }
    }
}

fn probe_under(env: &TestEnv, name: &str, profile: Value) -> Vec<String> {
    let mut b = env.bundle(name);
    install_self(&b.rootfs());
    b.config["linux"]["seccomp"] = profile;
    b.config["process"]["env"] = json!(["PATH=/bin", "REMORA_SECCOMP_PROBE=1"]);
    b.config["process"]["args"] = json!([
        "/helper",
        "--ignored",
        "--exact",
        "probe",
        "--nocapture",
        "--test-threads=1",
        "-q"
    ]);
    let r = b.run(env, &env.id(name));
    r.ok()
        .lines()
        .filter(|l| l.contains('='))
        .map(String::from)
        .collect()
}

#[test]
fn engines_default_profile_blocks_namespaces_and_stubs_clone3() {
    let env = TestEnv::new("scdefault");
    let profile: Value = serde_json::from_slice(
        &fs::read(PODMAN_PROFILE).expect("podman's profile (golang-github-containers-common)"),
    )
    .unwrap();
    let out = probe_under(&env, "p", profile.clone());
    let eperm = libc::EPERM.to_string();
    assert!(out.contains(&format!("unshare={eperm}")), "{out:?}");
    assert!(out.contains(&format!("clone_newns={eperm}")), "{out:?}");
    // personality(0x31) is outside the profile's allowed arguments: the
    // default errno (podman's is ENOSYS).
    assert!(
        out.contains(&format!("personality31={}", libc::ENOSYS)),
        "{out:?}"
    );
    // podman's profile allows clone3 itself.
    assert!(out.contains(&"clone3=ok".to_string()), "{out:?}");
    assert!(out.contains(&"getpid=ok".to_string()), "{out:?}");
    // Without clone3 in the profile (Docker's denies it without
    // CAP_SYS_ADMIN), it gets ENOSYS, so that glibc falls back to clone.
    let mut no_clone3 = profile;
    for rule in no_clone3["syscalls"].as_array_mut().unwrap() {
        if let Some(names) = rule["names"].as_array_mut() {
            names.retain(|n| n != "clone3");
        }
    }
    no_clone3["syscalls"]
        .as_array_mut()
        .unwrap()
        .retain(|r| !r["names"].as_array().unwrap().is_empty());
    let out = probe_under(&env, "noclone3", no_clone3);
    assert!(out.contains(&format!("clone3={}", libc::ENOSYS)), "{out:?}");
    assert!(out.contains(&format!("unshare={eperm}")), "{out:?}");
    // The same probe without a profile: every call is allowed (the test
    // can fail).
    let free = probe_under(&env, "free", Value::Null);
    assert!(free.contains(&"personality31=ok".to_string()), "{free:?}");
}

#[test]
fn masked_eq_compares_the_masked_argument() {
    let env = TestEnv::new("scmasked");
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{
            "names": ["personality"],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": 42,
            // value is the mask, valueTwo the datum: (arg0 & 0xf0) == 0x30
            "args": [{"index": 0, "value": 240, "valueTwo": 48, "op": "SCMP_CMP_MASKED_EQ"}]
        }]
    });
    let out = probe_under(&env, "m", profile);
    assert!(out.contains(&"personality31=42".to_string()), "{out:?}");
    assert!(out.contains(&"personality41=ok".to_string()), "{out:?}");
}

#[test]
fn notify_rule_reaches_a_listener() {
    let env = TestEnv::new("scnotify");
    let sock = env.base.join("agent.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let id = env.id("n");
    let agent = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let (fd, data) = remora_seccomp::recv_listener(&conn).expect("receiving the listener");
        let state: Value = serde_json::from_slice(&data).unwrap();
        let n = remora_seccomp::receive_notification(fd.as_fd()).expect("NOTIF_RECV");
        assert_eq!(n.nr as libc::c_long, libc::SYS_getppid);
        remora_seccomp::respond(fd.as_fd(), n.id, 4242, 0).expect("NOTIF_SEND");
        state
    });
    let mut b = env.bundle("b");
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock,
        "listenerMetadata": "from-the-test",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]
    });
    // busybox sh reads $PPID with getppid() at start-up.
    b.sh("echo ppid=$PPID");
    let out = b.run(&env, &id);
    assert_eq!(out.ok(), "ppid=4242\n");
    let state = agent.join().unwrap();
    assert_eq!(state["fds"], json!(["seccompFd"]));
    assert_eq!(state["metadata"], "from-the-test");
    assert_eq!(state["state"]["id"], json!(id));
    assert!(state["pid"].as_i64().unwrap() > 0, "{state}");
}

/// `exec` into a container whose profile has a NOTIFY rule: the exec'd
/// process's listener reaches linux.seccomp.listenerPath too (runc sends
/// one per process), with that process's PID and the container running.
#[test]
fn exec_sends_its_own_listener() {
    let env = TestEnv::new("scnotifyexec");
    let sock = env.base.join("agent.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let id = env.id("n");
    // Two processes, two listeners: the init's, then the exec'd one's.
    let agent = std::thread::spawn(move || {
        let mut states = Vec::new();
        for answer in [1111, 2222] {
            let (conn, _) = listener.accept().unwrap();
            let (fd, data) = remora_seccomp::recv_listener(&conn).expect("receiving the listener");
            states.push(serde_json::from_slice::<Value>(&data).unwrap());
            let n = remora_seccomp::receive_notification(fd.as_fd()).expect("NOTIF_RECV");
            assert_eq!(n.nr as libc::c_long, libc::SYS_getppid);
            remora_seccomp::respond(fd.as_fd(), n.id, answer, 0).expect("NOTIF_SEND");
        }
        states
    });
    let mut b = env.bundle("b");
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock,
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]
    });
    b.sh("echo ppid=$PPID > /tmp/init; exec sleep 1000");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let r = env.remora(&["exec", &id, "sh", "-c", "echo ppid=$PPID"]);
    assert_eq!(r.ok(), "ppid=2222\n");
    let states = agent.join().unwrap();
    assert_eq!(
        std::fs::read_to_string(b.rootfs().join("tmp/init")).unwrap(),
        "ppid=1111\n"
    );
    assert_eq!(states[1]["state"]["status"], "running", "{}", states[1]);
    assert!(states[1]["pid"].as_i64().unwrap() > 0, "{}", states[1]);
    assert_ne!(states[1]["pid"], states[0]["pid"]);
    env.remora(&["delete", "--force", &id]).ok();
}
