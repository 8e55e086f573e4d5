//! The container lifecycle as a user of runc sees it: create/start/state/
//! kill/delete/run, exit codes, errors, and what they leave behind.

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use remora_integration_tests::{state, TestEnv};
use serde_json::json;

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn run_prints_and_exits_with_the_container_status() {
    let env = TestEnv::new("runexit");
    let mut b = env.bundle("b");
    b.sh("echo hello from inside; echo to-stderr >&2; exit 3");
    let r = b.run(&env, &env.id("c"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "hello from inside\n");
    assert_eq!(r.stderr, "to-stderr\n");
}

#[test]
fn run_reports_death_by_signal_as_128_plus_n() {
    let env = TestEnv::new("runsig");
    let mut b = env.bundle("b");
    b.sh("echo up > /tmp/up; exec sleep 1000");
    b.save();
    let id = env.id("c");
    let child = env.command(&["run", "-b", b.path(), &id]).spawn().unwrap();
    let up = b.rootfs().join("tmp/up");
    wait_for(
        || up.exists() && state(&env, &id)["status"] == "running",
        "running",
    );
    env.remora(&["kill", &id, "9"]).ok();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    // run deleted the container after it died.
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}

#[test]
fn create_does_not_run_the_process_until_start() {
    let env = TestEnv::new("createstart");
    let mut b = env.bundle("b");
    b.sh("echo started > /tmp/marker; exec sleep 1000");
    let id = env.id("c");
    let pid_file = env.base.join("pid");
    b.save();
    env.remora_detached(&[
        "create",
        "-b",
        b.path(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        &id,
    ])
    .ok();
    let st = state(&env, &id);
    assert_eq!(st["status"], "created");
    assert_eq!(st["id"], json!(id));
    assert_eq!(st["bundle"], json!(b.path()));
    assert!(st["created"].as_str().unwrap().ends_with('Z'));
    let pid = st["pid"].as_i64().unwrap();
    assert_eq!(
        fs::read_to_string(&pid_file).unwrap(),
        pid.to_string(),
        "pid file: decimal, no newline"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !b.rootfs().join("tmp/marker").exists(),
        "the process ran before start"
    );
    env.remora(&["start", &id]).ok();
    let marker = b.rootfs().join("tmp/marker");
    wait_for(
        || fs::read_to_string(&marker).is_ok_and(|s| s == "started\n"),
        "marker",
    );
    let st = state(&env, &id);
    assert_eq!(st["status"], "running");
    assert_eq!(st["pid"].as_i64().unwrap(), pid);
    // The init becomes the container's program (the script execs sleep
    // after it writes the marker).
    wait_for(
        || fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep"),
        "the init to exec sleep",
    );
    env.remora(&["start", &id])
        .fails_with("cannot start an already running container");
    env.remora(&["delete", &id]).fails_with(&format!(
        "cannot delete container {id} that is not stopped: running"
    ));
    env.remora(&["kill", &id, "KILL"]).ok();
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    assert_eq!(state(&env, &id)["pid"], 0);
    env.remora(&["start", &id])
        .fails_with("cannot start a container that has stopped");
    env.remora(&["kill", &id])
        .fails_with("container not running");
    env.remora(&["delete", &id]).ok();
    env.remora(&["state", &id])
        .fails_with("container does not exist");
    env.remora(&["delete", &id])
        .fails_with("container does not exist");
    env.remora(&["delete", "--force", &id]).ok();
}

#[test]
fn kill_delivers_signals_by_name_and_number() {
    let env = TestEnv::new("kill");
    let mut b = env.bundle("b");
    b.sh("trap 'echo got-usr1 >> /tmp/log' USR1; trap 'echo got-term >> /tmp/log; exit 0' TERM; echo ready > /tmp/log; while :; do sleep 0.05; done");
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let log = b.rootfs().join("tmp/log");
    wait_for(
        || fs::read_to_string(&log).is_ok_and(|s| s.contains("ready")),
        "ready",
    );
    env.remora(&["kill", &id, "sigusr1"]).ok();
    wait_for(
        || fs::read_to_string(&log).unwrap().contains("got-usr1"),
        "USR1",
    );
    env.remora(&["kill", &id, "FOO"])
        .fails_with("unknown signal \"FOO\"");
    env.remora(&["kill", &id]).ok(); // SIGTERM by default
    wait_for(
        || fs::read_to_string(&log).unwrap().contains("got-term"),
        "TERM",
    );
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    env.remora(&["delete", &id]).ok();
}

#[test]
fn delete_kills_a_created_container() {
    let env = TestEnv::new("delcreated");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    env.remora(&["delete", &id]).ok();
    wait_for(
        || !fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z")),
        "init gone",
    );
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}

#[test]
fn delete_force_kills_a_running_container() {
    let env = TestEnv::new("delforce");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    let id = env.id("c");
    b.save();
    env.remora_detached(&["run", "-d", "-b", b.path(), &id])
        .ok();
    assert_eq!(state(&env, &id)["status"], "running");
    env.remora(&["delete", "--force", &id]).ok();
    env.remora(&["list", "-q"]);
    assert!(env.remora(&["list", "-q"]).stdout.is_empty());
}

#[test]
fn a_recycled_pid_is_never_taken_for_the_container() {
    let env = TestEnv::new("pidreuse");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    // Stand-in for a recycled PID: a host process put where the init was.
    // A start time is kept in clock ticks (10 ms): a recycled PID's
    // process starts in a later tick than the init did, as this one must.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let mut victim = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    let state_file = env.root.join(&id).join("state.json");
    let mut saved: serde_json::Value =
        serde_json::from_slice(&fs::read(&state_file).unwrap()).unwrap();
    let real_pid = saved["pid"].clone();
    saved["pid"] = json!(victim.id());
    fs::write(&state_file, serde_json::to_vec(&saved).unwrap()).unwrap();
    assert_eq!(state(&env, &id)["status"], "stopped");
    env.remora(&["kill", &id, "KILL"])
        .fails_with("container not running");
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the stand-in process was signalled"
    );
    victim.kill().unwrap();
    victim.wait().unwrap();
    saved["pid"] = real_pid;
    fs::write(&state_file, serde_json::to_vec(&saved).unwrap()).unwrap();
}

#[test]
fn concurrent_creates_of_one_id_one_wins() {
    let env = TestEnv::new("concurrent");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    let id = env.id("c");
    // The winner's container keeps its stdio: give each a file.
    let spawn = |n: usize| {
        let err = env.base.join(format!("err{n}"));
        let child = env
            .command(&["create", "-b", b.path(), &id])
            .stdout(Stdio::null())
            .stderr(fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        (child, err)
    };
    let ((mut c1, e1), (mut c2, e2)) = (spawn(1), spawn(2));
    let (s1, s2) = (c1.wait().unwrap(), c2.wait().unwrap());
    assert_eq!(
        s1.success() as u8 + s2.success() as u8,
        1,
        "exactly one create wins"
    );
    let loser = if s1.success() { e2 } else { e1 };
    let msg = fs::read_to_string(loser).unwrap();
    assert!(
        msg.contains("container with given ID already exists"),
        "{msg}"
    );
    assert_eq!(state(&env, &id)["status"], "created");
}

#[test]
fn foreground_run_forwards_signals() {
    let env = TestEnv::new("fwd");
    let mut b = env.bundle("b");
    b.sh(
        "trap 'echo got-usr2; exit 42' USR2; echo ready > /tmp/ready; while :; do sleep 0.05; done",
    );
    b.save();
    let child = env
        .command(&["run", "-b", b.path(), &env.id("c")])
        .spawn()
        .unwrap();
    let ready = b.rootfs().join("tmp/ready");
    wait_for(|| ready.exists(), "container ready");
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGUSR2) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(42));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got-usr2\n");
}

#[test]
fn json_log_gets_exactly_one_error_line() {
    let env = TestEnv::new("jsonlog");
    let log = env.base.join("log.json");
    let r = env.remora(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "start",
        "nope",
    ]);
    r.fails_with("container does not exist");
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"]
        .as_str()
        .unwrap()
        .contains("container does not exist"));
    assert!(v["time"].is_string());
}

/// `--version` in runc's format, naming the commit the binary was built
/// from (runtime/build.rs): the checkout's HEAD when the tests run from one.
#[test]
fn version_names_the_commit() {
    let env = TestEnv::new("version");
    let v = env.remora(&["--version"]);
    let lines: Vec<&str> = v.ok().lines().collect();
    assert!(lines[0].starts_with("remora version "), "{lines:?}");
    assert!(lines[2].starts_with("spec: "), "{lines:?}");
    assert!(lines[3].starts_with("rustc: "), "{lines:?}");
    let commit = lines[1].strip_prefix("commit: ").expect("a commit: line");
    let head = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(
            commit, head,
            "the binary is not built from HEAD (rebuild: cargo build -p remora)"
        ),
        None => {
            println!("skipped: not in a git checkout; --version says commit {commit}");
            assert!(!commit.is_empty());
        }
    }
}

#[test]
fn cli_is_runc_compatible() {
    let env = TestEnv::new("cli");
    let v = env.remora(&["--version"]);
    let first = v.ok().lines().next().unwrap().to_string();
    assert!(first.starts_with("remora version "), "{first}");
    assert!(v.stdout.contains("\nspec: "));
    // Single-dash long flags, as Go's flag package takes them.
    let r = env.command(&["list"]).output().unwrap();
    assert!(r.status.success());
    let r = std::process::Command::new(remora_integration_tests::remora_bin())
        .args([
            "-root",
            env.root.to_str().unwrap(),
            "-log-format=json",
            "list",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    // Bad IDs, before anything is made.
    let b = env.bundle("b");
    for bad in ["..", "a/b", "a b", ""] {
        b.create(&env, bad)
            .fails_with("invalid container ID format");
    }
}

#[test]
fn spec_writes_runc_default_and_refuses_to_overwrite() {
    let env = TestEnv::new("spec");
    let dir = env.base.join("s");
    fs::create_dir_all(&dir).unwrap();
    env.remora(&["spec", "-b", dir.to_str().unwrap()]).ok();
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(v["process"]["args"], json!(["sh"]));
    assert_eq!(v["process"]["terminal"], true);
    assert_eq!(v["process"]["noNewPrivileges"], true);
    assert_eq!(
        v["process"]["rlimits"][0],
        json!({"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024})
    );
    assert_eq!(v["linux"]["maskedPaths"].as_array().unwrap().len(), 10);
    assert_eq!(v["mounts"].as_array().unwrap().len(), 7);
    env.remora(&["spec", "-b", dir.to_str().unwrap()])
        .fails_with("exists");
}

#[test]
fn list_shows_containers() {
    let env = TestEnv::new("list");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    let table = env.remora(&["list"]).ok().to_string();
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("created")),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(env.remora(&["list", "-f", "json"]).ok()).unwrap();
    assert_eq!(json[0]["id"], json!(id));
    assert_eq!(env.remora(&["list", "-q"]).ok(), format!("{id}\n"));
}

/// The phase trace: with REMORA_TRACE=1 a `run` says on stderr
/// how long each phase of create took, the init's own steps included, and
/// with --debug the same line goes to the log at debug level.
#[test]
fn the_phase_trace_names_every_phase_of_a_create() {
    let env = TestEnv::new("trace");
    let mut b = env.bundle("b");
    b.sh("true");
    let id = env.id("c");
    b.save();
    let o = env
        .command(&["run", "-b", b.path(), &id])
        .env("REMORA_TRACE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("create phases:"))
        .unwrap_or_else(|| panic!("no create trace in {err:?}"));
    for phase in [
        " config=",
        " seccomp=",
        " cgroup=",
        " clone=",
        " resources=",
        " init=",
        " state=",
        " total=",
        "; init:",
        " namespaces=",
        " mounts=",
        " devices=",
        " pivot_root=",
        " paths=",
        " process=",
    ] {
        assert!(line.contains(phase), "{phase:?} missing from {line:?}");
    }
    assert!(
        err.lines().any(|l| l.starts_with("start phases:")),
        "{err:?}"
    );
    assert!(err.lines().any(|l| l.starts_with("run phases:")), "{err:?}");
    // --debug: into the log, not onto stderr.
    let log = env.base.join("debug.log");
    let o = env
        .command(&[
            "--debug",
            "--log",
            log.to_str().unwrap(),
            "run",
            "-b",
            b.path(),
            &id,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("phases:"));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged
            .lines()
            .any(|l| l.contains("level=debug") && l.contains("create phases: config=")),
        "{logged}"
    );
    // REMORA_TRACE=FILE: appended to that file (an engine reads the
    // runtime's stderr), nothing on stderr.
    let file = env.base.join("trace.log");
    for _ in 0..2 {
        let o = env
            .command(&["run", "-b", b.path(), &id])
            .env("REMORA_TRACE", &file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("phases:"));
    }
    let traced = std::fs::read_to_string(&file).unwrap();
    let creates = traced
        .lines()
        .filter(|l| l.starts_with("create phases: config="))
        .count();
    assert_eq!(creates, 2, "{traced}");
    env.assert_nothing_left();
}
