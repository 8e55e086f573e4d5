//! CVE-2019-5736 played for real (docs/security.md, "The runtime binary"):
//! a hostile image gets an fd of the runtime binary through /proc/PID/exe
//! and writes it once the runtime has exited. Each test runs a copy of
//! remora (never the real one) and asserts both that the attack reached
//! the binary (the attacker's fd names the copy's file, or its open was
//! refused) and that the copy is byte for byte unchanged.
//!
//! The attacker is src/bin/exe_attacker.rs, put into each rootfs; its
//! report goes to a volume shared by the containers and the host.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use remora_integration_tests::{remora_bin, state, wait_for, Bundle, TestEnv};
use serde_json::{json, Value};

const EROFS: &str = "30";
const EACCES: &str = "13";
const CAP_SYS_PTRACE: &str = "CAP_SYS_PTRACE";

struct Attack {
    env: TestEnv,
    copy: PathBuf,
    shared: PathBuf,
}

impl Attack {
    fn new(name: &str) -> Self {
        let mut env = TestEnv::new(name);
        let copy = env.use_binary_copy();
        // Never bench/'s build without the protection (runtime/build.rs),
        // unless scripts/exe-protection-bites.sh shows that these tests
        // fail with it. Asked of the original: the fresh copy may still be
        // open for writing in a child another test thread is forking
        // (ETXTBSY).
        let version = std::process::Command::new(remora_bin())
            .arg("--version")
            .output()
            .unwrap();
        let version = String::from_utf8_lossy(&version.stdout).into_owned();
        let unprotected = std::env::var_os("REMORA_EXPECT_UNPROTECTED").is_some();
        assert_eq!(
            version.contains("protection: OFF"),
            unprotected,
            "{version}"
        );
        let shared = env.base.join("shared");
        fs::create_dir_all(&shared).unwrap();
        Attack { env, copy, shared }
    }

    /// A busybox bundle with the attacker at /exe-attacker and the shared
    /// volume at /shared.
    fn bundle(&self, name: &str) -> Bundle {
        let mut b = self.env.bundle(name);
        let dst = b.rootfs().join("exe-attacker");
        fs::copy(env!("CARGO_BIN_EXE_exe-attacker"), &dst).unwrap();
        fs::create_dir_all(b.rootfs().join("shared")).unwrap();
        b.config["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/shared", "type": "bind",
            "source": self.shared, "options": ["rbind", "rw"],
        }));
        b
    }

    /// A state store at /attack in the rootfs whose container `x` has a
    /// poststop hook: what PID 1 runs when it is the runtime binary doing
    /// `--root /attack delete x`. The hook keeps that runtime process
    /// alive while the attacker gets hold of its exe.
    fn plant_state(&self, b: &Bundle, hook: &[&str]) {
        let dir = b.rootfs().join("attack/x");
        fs::create_dir_all(&dir).unwrap();
        let state = json!({
            "id": "x", "pid": 0, "init_start_time": 0, "bundle": "/", "rootfs": "/",
            "created": "2026-01-01T00:00:00Z", "owner": "",
            "cgroup": {"path": "", "systemd": false, "id": "x", "dirs": {}},
            "hooks": {"poststop": [{"path": hook[0], "args": hook}]},
        });
        fs::write(dir.join("state.json"), state.to_string()).unwrap();
    }

    fn identity(&self) -> String {
        let m = fs::metadata(&self.copy).unwrap();
        format!("{}:{}", m.dev(), m.ino())
    }

    fn report(&self) -> String {
        fs::read_to_string(self.shared.join("report")).unwrap_or_default()
    }

    /// Waits for `what` in the report (or for the attack's end: a write
    /// that worked ends it too, and the assertions say so).
    fn wait_report(&self, what: &str, secs: u64) -> String {
        wait_for(what, secs, || {
            let r = self.report();
            r.contains(what) || r.contains("WROTE")
        });
        self.report()
    }

    /// The attack got an fd of the binary, tried to write it, and the
    /// write failed with EROFS; the copy is unchanged.
    fn assert_reached_and_refused(&self, report: &str) {
        assert!(
            report.contains(&format!("opened {}", self.identity())),
            "the attacker never held the binary under attack ({}): {report:?}",
            self.identity()
        );
        assert!(
            report.contains(&format!("write-failed {EROFS}")),
            "the write was not refused with EROFS: {report:?}"
        );
        self.assert_binary_intact(report);
    }

    fn assert_binary_intact(&self, report: &str) {
        assert!(
            !report.contains("WROTE"),
            "the binary was written: {report:?}"
        );
        assert!(
            fs::read(&self.copy).unwrap() == fs::read(remora_bin()).unwrap(),
            "the copy of the runtime binary changed"
        );
    }

    fn create_start(&self, b: &Bundle, id: &str) {
        b.create(&self.env, id).ok();
        self.env.remora(&["start", id]).ok();
    }

    fn wait_stopped(&self, id: &str) {
        wait_for(&format!("{id} to stop"), 40, || {
            state(&self.env, id)["status"] == "stopped"
        });
    }

    /// Container "holder": receives an fd over /shared/sock and attacks.
    fn start_holder(&self) {
        let mut holder = self.bundle("holder");
        holder.config["process"]["args"] =
            json!(["/exe-attacker", "hold", "/shared/sock", "/shared/report"]);
        self.create_start(&holder, &self.env.id("holder"));
        let sock = self.shared.join("sock");
        wait_for("the holder's socket", 10, || sock.exists());
    }
}

fn add_caps(config: &mut Value, cap: &str) {
    for set in ["bounding", "effective", "permitted"] {
        config["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!(cap));
    }
}

fn executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The original exploit on `run`: the image's entrypoint is
/// /proc/self/exe, so PID 1 of the container (its own pid namespace) is
/// the runtime binary; its poststop hook hands an fd of /proc/1/exe to a
/// second container through a shared volume, which writes once the
/// runtime has exited.
fn entrypoint_exploit(name: &str, userns: bool, own_pid_ns: bool) {
    let a = Attack::new(name);
    a.start_holder();
    let mut b = a.bundle("attacker");
    if own_pid_ns {
        a.plant_state(&b, &["/exe-attacker", "send", "/shared/sock", "1"]);
    } else {
        // In the host's pid namespace the runtime is the hook's parent.
        a.plant_state(
            &b,
            &[
                "/bin/sh",
                "-c",
                "exec /exe-attacker send /shared/sock $PPID",
            ],
        );
        let ns: Vec<Value> = b.config["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] != "pid")
            .cloned()
            .collect();
        b.config["linux"]["namespaces"] = json!(ns);
    }
    b.config["process"]["args"] = json!(["/proc/self/exe", "--root", "/attack", "delete", "x"]);
    if userns {
        b.in_user_namespace(100000);
        // The planted state store must be the container root's.
        std::process::Command::new("chown")
            .args(["-R", "100000:100000"])
            .arg(b.rootfs().join("attack"))
            .status()
            .unwrap();
    }
    let r = b.run(&a.env, &a.env.id("attacker"));
    assert_eq!(r.code, 0, "PID 1 (the runtime binary) failed: {}", r.stderr);
    a.wait_stopped(&a.env.id("holder"));
    a.assert_reached_and_refused(&a.report());
}

#[test]
fn entrypoint_proc_self_exe_cannot_write_the_runtime() {
    entrypoint_exploit("exe-entry", false, true);
}

#[test]
fn entrypoint_proc_self_exe_without_a_pid_namespace_cannot_write_the_runtime() {
    entrypoint_exploit("exe-entry-hostpid", false, false);
}

#[test]
fn entrypoint_proc_self_exe_in_a_user_namespace_cannot_write_the_runtime() {
    entrypoint_exploit("exe-entry-userns", true, true);
}

/// The same through a script whose interpreter is /proc/self/exe
/// (`#!/proc/self/exe --log` makes the script the log file), on
/// create + start.
#[test]
fn shebang_proc_self_exe_cannot_write_the_runtime() {
    let a = Attack::new("exe-shebang");
    a.start_holder();
    let mut b = a.bundle("attacker");
    a.plant_state(&b, &["/exe-attacker", "send", "/shared/sock", "1"]);
    executable(&b.rootfs().join("evil"), "#!/proc/self/exe --log\n");
    b.config["process"]["args"] = json!(["/evil", "--root", "/attack", "delete", "x"]);
    a.create_start(&b, &a.env.id("attacker"));
    a.wait_stopped(&a.env.id("attacker"));
    a.wait_stopped(&a.env.id("holder"));
    a.assert_reached_and_refused(&a.report());
}

/// `remora exec C /proc/self/exe ...`: the container's PID 1 watches for
/// the runtime among its processes, opens its exe and writes once it has
/// exited. With CAP_SYS_PTRACE it may open even the non-dumpable joining
/// process.
fn exec_exploit(name: &str, ptrace: bool) {
    let a = Attack::new(name);
    let mut b = a.bundle("target");
    a.plant_state(&b, &["/bin/sleep", "sleep", "2"]);
    b.config["process"]["args"] = json!([
        "/exe-attacker",
        "watch",
        "/shared/report",
        a.identity(),
        "/shared/stop"
    ]);
    if ptrace {
        add_caps(&mut b.config, CAP_SYS_PTRACE);
    }
    a.create_start(&b, &a.env.id("target"));
    let r = a.env.remora(&[
        "exec",
        &a.env.id("target"),
        "/proc/self/exe",
        "--root",
        "/attack",
        "delete",
        "x",
    ]);
    assert_eq!(r.code, 0, "the exec'd runtime failed: {}", r.stderr);
    a.wait_report("write-failed", 40);
    a.wait_stopped(&a.env.id("target"));
    a.assert_reached_and_refused(&a.report());
}

#[test]
fn exec_of_proc_self_exe_cannot_write_the_runtime() {
    exec_exploit("exe-exec", false);
}

#[test]
fn exec_with_cap_sys_ptrace_cannot_write_the_runtime() {
    exec_exploit("exe-exec-ptrace", true);
}

/// A created container's init waits for `start` as a remora process; a
/// second container joins its pid namespace by path and attacks it.
/// Without CAP_SYS_PTRACE the init (non-dumpable) refuses the open; with
/// it, the joiner hands the fd to a third container (it dies with the
/// victim's pid namespace), whose write fails once the init is gone.
fn join_pid_ns_exploit(name: &str, ptrace: bool) {
    let a = Attack::new(name);
    let victim = a.bundle("victim");
    victim.create(&a.env, &a.env.id("victim")).ok();
    let pid = state(&a.env, &a.env.id("victim"))["pid"].as_i64().unwrap();
    let mut b = a.bundle("joiner");
    let mut args = vec![
        "/exe-attacker".to_string(),
        "watch".into(),
        "/shared/report".into(),
        a.identity(),
        "/shared/stop".into(),
    ];
    for ns in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if ns["type"] == "pid" {
            ns["path"] = json!(format!("/proc/{pid}/ns/pid"));
        }
    }
    if ptrace {
        add_caps(&mut b.config, CAP_SYS_PTRACE);
        a.start_holder();
        args.push("/shared/sock".into());
    }
    b.config["process"]["args"] = json!(args);
    a.create_start(&b, &a.env.id("joiner"));
    if ptrace {
        a.wait_report("passed", 20);
        a.env
            .remora(&["delete", "--force", &a.env.id("victim")])
            .ok();
        a.wait_stopped(&a.env.id("holder"));
        let report = a.report();
        assert!(
            report.contains(&format!("passed {}", a.identity())),
            "{report:?}"
        );
        a.assert_reached_and_refused(&report);
    } else {
        let report = a.wait_report(&format!("denied 1 {EACCES}"), 20);
        fs::write(a.shared.join("stop"), "").unwrap();
        a.wait_stopped(&a.env.id("joiner"));
        a.assert_binary_intact(&report);
    }
}

#[test]
fn joining_a_created_containers_pid_ns_cannot_reach_the_runtime() {
    join_pid_ns_exploit("exe-join", false);
}

#[test]
fn joining_with_cap_sys_ptrace_cannot_write_the_runtime() {
    join_pid_ns_exploit("exe-join-ptrace", true);
}
