//! Cgroups and user namespaces on cgroup v2 (run in the pure cgroup v2
//! qemu VM by scripts/ci.d/23-rootless.sh; on this hybrid host the v2
//! parts say SKIP and the rest asserts what a non-v2 host must do):
//!
//! - cgroup ownership (runtime-spec "Cgroup ownership"): a container with
//!   its own user and cgroup namespaces and a writable cgroupfs gets its
//!   cgroup directory and delegatable files chowned to its user's host
//!   ids, so it can manage its subtree; with a read-only cgroupfs not.
//! - rootless remora (an unprivileged uid, no passwd entry needed) whose
//!   caller sits in a delegated subtree (a directory chowned to the uid,
//!   as systemd's user@ delegation does): the container gets its cgroup
//!   there, with its limits, and pause/resume work.

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use remora_integration_tests::{Run, TestEnv};
use serde_json::json;

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The container's cgroup2 directory for the default cgroupsPath.
fn unified_dir(id: &str) -> PathBuf {
    if cgroup_v2() {
        PathBuf::from(format!("/sys/fs/cgroup/remora/{id}"))
    } else {
        PathBuf::from(format!("/sys/fs/cgroup/unified/remora/{id}"))
    }
}

fn owner(p: &Path) -> (u32, u32) {
    let m = fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid())
}

/// A user namespace (container 0 = host 100000, gid 0 = host 200000), a
/// cgroup namespace, and the cgroupfs mount `rw` or not.
fn bundle(env: &TestEnv, name: &str, rw: bool) -> remora_integration_tests::Bundle {
    let mut b = env.bundle(name);
    b.config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .extend([json!({"type": "user"}), json!({"type": "cgroup"})]);
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
    for m in b.config["mounts"].as_array_mut().unwrap() {
        if m["type"] == "cgroup" {
            m["options"] = json!([
                "nosuid",
                "noexec",
                "nodev",
                "relatime",
                if rw { "rw" } else { "ro" }
            ]);
        }
        if m["type"] == "sysfs" {
            // sysfs needs a network namespace owned by the user namespace.
            *m = json!({"destination": "/sys", "type": "bind", "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        }
    }
    b
}

/// With a user and a cgroup namespace and a writable cgroupfs on cgroup
/// v2, the cgroup is the container root's: the directory and
/// cgroup.procs are owned by host 100000:200000 (root inside), a limit
/// file stays the host's, and the container makes a sub-cgroup and moves
/// itself in. Elsewhere (read-only cgroupfs, a non-v2 host) nothing is
/// chowned.
#[test]
fn cgroup_ownership_goes_to_the_containers_user() {
    let env = TestEnv::new("cgown");
    let delegate = fs::read_to_string("/sys/kernel/cgroup/delegate").unwrap_or_default();
    for rw in [true, false] {
        let mut b = bundle(&env, &format!("b{rw}"), rw);
        let id = env.id(if rw { "rw" } else { "ro" });
        b.config["process"]["args"] = json!(["sleep", "1000"]);
        let r = b.create(&env, &id);
        r.ok();
        let dir = unified_dir(&id);
        let chowned = rw && cgroup_v2();
        let want = if chowned { (100000, 200000) } else { (0, 0) };
        if dir.exists() {
            assert_eq!(owner(&dir), want, "{}", dir.display());
            for f in ["cgroup.procs", "cgroup.subtree_control", "cgroup.threads"] {
                assert_eq!(owner(&dir.join(f)), want, "{f}");
            }
            for f in delegate.lines().filter(|l| dir.join(l).exists()) {
                assert_eq!(
                    owner(&dir.join(f)),
                    want,
                    "{f} (listed in /sys/kernel/cgroup/delegate)"
                );
            }
            if dir.join("cgroup.type").exists() {
                // Not delegatable: stays the host's.
                assert_eq!(owner(&dir.join("cgroup.type")), (0, 0));
            }
        } else {
            assert!(
                !cgroup_v2(),
                "no cgroup2 directory {} on a v2 host",
                dir.display()
            );
        }
        if chowned {
            let out = env.remora(&[
                "exec", &id, "sh", "-c",
                "stat -c %u:%g /sys/fs/cgroup /sys/fs/cgroup/cgroup.procs; mkdir /sys/fs/cgroup/sub && echo $$ > /sys/fs/cgroup/sub/cgroup.procs && cat /proc/self/cgroup",
            ]);
            assert_eq!(out.ok(), "0:0\n0:0\n0::/sub\n", "{}", out.stderr);
        }
        env.remora(&["start", &id]).ok();
        env.remora(&["delete", "--force", &id]).ok();
        assert!(!dir.exists(), "{} left", dir.display());
    }
    if !cgroup_v2() {
        println!("SKIP the chown half: not a pure cgroup v2 host (checked: nothing chowned)");
    }
}

/// An unprivileged uid with a delegated directory (chowned to it, as
/// systemd's user@ delegation) holding its process: rootless remora puts
/// the container's cgroup beside it, applies the limits, and pause,
/// resume, kill and delete work; the cgroup is gone after.
#[test]
fn rootless_container_in_a_delegated_subtree() {
    if !cgroup_v2() {
        println!("SKIP: not a pure cgroup v2 host (this host's rootless case: tests/rootless.rs)");
        return;
    }
    let env = TestEnv::new("deleg");
    let uid: u32 = 1500 + std::process::id() % 1000;
    let deleg = PathBuf::from(format!("/sys/fs/cgroup/{}-deleg", env.name));
    let shell = deleg.join("shell");
    fs::create_dir(&deleg).unwrap();
    let _cleanup = RemoveDirs(vec![shell.clone(), deleg.clone()]);
    fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids").unwrap();
    for p in [
        deleg.clone(),
        deleg.join("cgroup.procs"),
        deleg.join("cgroup.subtree_control"),
        deleg.join("cgroup.threads"),
    ] {
        std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
    }
    fs::create_dir(&shell).unwrap();
    std::os::unix::fs::chown(&shell, Some(uid), Some(uid)).unwrap();
    let xdg = env.base.join("xdg");
    fs::create_dir_all(&xdg).unwrap();
    std::os::unix::fs::chown(&xdg, Some(uid), Some(uid)).unwrap();
    let b = env.base.join("b");
    remora_integration_tests::make_busybox_rootfs(&b.join("rootfs"));
    std::os::unix::fs::chown(&b, Some(uid), Some(uid)).unwrap();
    // As the user, from inside the delegated subtree.
    let as_user_in = |inside: bool, args: &[&str]| -> Run {
        let mut c = Command::new("sh");
        c.args(["-c", "read go; exec \"$0\" \"$@\""])
            .arg(&env.bin)
            .args(args)
            .uid(uid)
            .gid(uid)
            .env_clear()
            .env("PATH", "/bin:/sbin:/usr/bin")
            .env("XDG_RUNTIME_DIR", &xdg)
            .stdin(Stdio::piped());
        // Files, not pipes: a detached container keeps its stdio open.
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let (out, err) = (
            env.base.join(format!("o{n}")),
            env.base.join(format!("e{n}")),
        );
        c.stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap());
        let mut child = c.spawn().unwrap();
        if inside {
            fs::write(shell.join("cgroup.procs"), child.id().to_string()).unwrap();
        }
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let status = child.wait().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
        }
    };
    let as_user = |args: &[&str]| as_user_in(true, args);
    as_user(&["spec", "--rootless", "-b", b.to_str().unwrap()]).ok();
    let cfg = b.join("config.json");
    let mut c: serde_json::Value = serde_json::from_slice(&fs::read(&cfg).unwrap()).unwrap();
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(["sleep", "1000"]);
    c["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 50}});
    fs::write(&cfg, serde_json::to_vec(&c).unwrap()).unwrap();
    let id = env.id("c");
    let r = as_user(&["run", "-d", "-b", b.to_str().unwrap(), &id]);
    r.ok();
    let dir = deleg.join(&id);
    assert!(
        dir.is_dir(),
        "no cgroup {} (stderr {})",
        dir.display(),
        r.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.join("memory.max")).unwrap().trim(),
        "67108864"
    );
    assert_eq!(
        fs::read_to_string(dir.join("pids.max")).unwrap().trim(),
        "50"
    );
    assert_eq!(owner(&dir).0, uid);
    let state: serde_json::Value = serde_json::from_str(as_user(&["state", &id]).ok()).unwrap();
    let pid = state["pid"].as_i64().unwrap();
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{procs}");
    // An exec'd process joins the container's cgroup (its caller is in
    // the delegated subtree too).
    let ex = as_user(&["exec", &id, "cat", "/proc/self/cgroup"]);
    assert!(
        ex.ok().trim_end().ends_with(&format!("/{id}")),
        "{}",
        ex.stdout
    );
    // From outside the delegated subtree the process cannot be moved in:
    // it runs outside the container's cgroup, with a warning (as runc).
    let ex = as_user_in(false, &["exec", &id, "cat", "/proc/self/cgroup"]);
    assert_eq!(ex.ok().trim_end(), "0::/", "{}", ex.stderr);
    assert!(
        ex.stderr.contains("stays out of the container's cgroup"),
        "{}",
        ex.stderr
    );
    as_user(&["pause", &id]).ok();
    assert_eq!(
        fs::read_to_string(dir.join("cgroup.freeze"))
            .unwrap()
            .trim(),
        "1"
    );
    let st: serde_json::Value = serde_json::from_str(as_user(&["state", &id]).ok()).unwrap();
    assert_eq!(st["status"], "paused");
    as_user(&["resume", &id]).ok();
    let ps = as_user(&["ps", "--format", "json", &id]);
    assert!(ps.ok().contains(&pid.to_string()));
    as_user(&["kill", &id, "KILL"]).ok();
    remora_integration_tests::wait_for("the init to go", 10, || {
        !Path::new(&format!("/proc/{pid}")).exists()
            || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
    });
    as_user(&["delete", &id]).ok();
    assert!(!dir.exists(), "{} left", dir.display());
    let left: Vec<_> = fs::read_dir(xdg.join("remora"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state left: {left:?}");
}

/// Removes the test's cgroup directories (deepest first), whatever
/// happened.
struct RemoveDirs(Vec<PathBuf>);

impl Drop for RemoveDirs {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = fs::remove_dir(d);
        }
        if !std::thread::panicking() {
            for d in &self.0 {
                assert!(!d.exists(), "{} left", d.display());
            }
        }
    }
}

/// Rootless remora with --systemd-cgroup asks the user's own manager
/// (systemd --user, its session bus) for the scope: the container's
/// cgroup is under user@UID.service, with its limits; pause, resume,
/// kill and delete work, and the scope goes with the container. Runs in
/// the systemd VM (scripts/cgroupv2-vm/run-systemd-user.sh), which names
/// the user whose manager runs in REMORA_TEST_SYSTEMD_USER.
#[test]
fn rootless_systemd_cgroup_uses_the_users_manager() {
    let Some(uid) = std::env::var("REMORA_TEST_SYSTEMD_USER")
        .ok()
        .and_then(|u| u.parse::<u32>().ok())
    else {
        println!("SKIP: no user manager to talk to (REMORA_TEST_SYSTEMD_USER unset: run-systemd-user.sh sets it)");
        return;
    };
    let env = TestEnv::new("sduser");
    let xdg = PathBuf::from(format!("/run/user/{uid}"));
    let b = env.base.join("b");
    remora_integration_tests::make_busybox_rootfs(&b.join("rootfs"));
    std::os::unix::fs::chown(&b, Some(uid), Some(uid)).unwrap();
    let as_user = |args: &[&str]| -> Run {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let (out, err) = (
            env.base.join(format!("o{n}")),
            env.base.join(format!("e{n}")),
        );
        let status = Command::new(&env.bin)
            .args(args)
            .uid(uid)
            .gid(uid)
            .env_clear()
            .env("PATH", "/bin:/sbin:/usr/bin")
            .env("XDG_RUNTIME_DIR", &xdg)
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}/bus", xdg.display()),
            )
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
        }
    };
    as_user(&["spec", "--rootless", "-b", b.to_str().unwrap()]).ok();
    let cfg = b.join("config.json");
    let mut c: serde_json::Value = serde_json::from_slice(&fs::read(&cfg).unwrap()).unwrap();
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(["sleep", "1000"]);
    c["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 50}});
    fs::write(&cfg, serde_json::to_vec(&c).unwrap()).unwrap();
    let id = env.id("c");
    let r = as_user(&[
        "--systemd-cgroup",
        "run",
        "-d",
        "-b",
        b.to_str().unwrap(),
        &id,
    ]);
    let dir = PathBuf::from(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/user.slice/remora-{id}.scope"
    ));
    let cleanup = || {
        as_user(&["--systemd-cgroup", "delete", "--force", &id]);
    };
    if r.code != 0 {
        cleanup();
        panic!("run -d: {}", r.stderr);
    }
    let check = || -> Result<(), String> {
        if !dir.is_dir() {
            return Err(format!("no scope {}", dir.display()));
        }
        let mem = fs::read_to_string(dir.join("memory.max")).unwrap_or_default();
        if mem.trim() != "67108864" {
            return Err(format!("memory.max {mem:?}"));
        }
        let st: serde_json::Value =
            serde_json::from_str(as_user(&["--systemd-cgroup", "state", &id]).ok())
                .map_err(|e| e.to_string())?;
        let pid = st["pid"].as_i64().unwrap_or(0).to_string();
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        if !procs.lines().any(|l| l == pid) {
            return Err(format!("init {pid} not in {}: {procs:?}", dir.display()));
        }
        let p = as_user(&["--systemd-cgroup", "pause", &id]);
        if p.code != 0 {
            return Err(format!("pause: {}", p.stderr));
        }
        let st: serde_json::Value =
            serde_json::from_str(as_user(&["--systemd-cgroup", "state", &id]).ok()).unwrap();
        if st["status"] != "paused" {
            return Err(format!("status after pause: {}", st["status"]));
        }
        let p = as_user(&["--systemd-cgroup", "resume", &id]);
        if p.code != 0 {
            return Err(format!("resume: {}", p.stderr));
        }
        Ok(())
    };
    let checked = check();
    as_user(&["--systemd-cgroup", "kill", &id, "KILL"]);
    remora_integration_tests::wait_for("the container to stop", 10, || {
        as_user(&["--systemd-cgroup", "state", &id])
            .stdout
            .contains("stopped")
    });
    let del = as_user(&["--systemd-cgroup", "delete", &id]);
    if let Err(e) = checked {
        cleanup();
        panic!("{e}");
    }
    del.ok();
    remora_integration_tests::wait_for("the scope to go", 10, || !dir.exists());
}
