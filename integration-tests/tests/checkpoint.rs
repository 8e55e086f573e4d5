//! Checkpoint and restore with CRIU (issue 16).
//!
//! Where `criu check` passes (Debian's kernel under qemu:
//! scripts/cgroupv2-vm/run-criu.sh) every scenario runs with remora and,
//! when $RUNC_BIN names one, with runc: a counter in a bind mount keeps
//! counting after restore, from where it was; --leave-running; pre-dump
//! then dump with --parent-path; a terminal through --console-socket; an
//! established TCP connection (--tcp-established; refused without it);
//! stdio pipes reconnected to the restoring command's, and the host's
//! /dev/null; restore into a new ID; restore in the foreground returning
//! the container's status; --page-server; --lazy-pages with --status-fd;
//! the other flags reaching CRIU.
//! Where it fails (this development host: Debian's CRIU 3.17 and the
//! kernel's vDSO) the scenarios say they skip, and the error a user gets
//! is checked instead. Bad input and a missing criu are checked anywhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use remora_integration_tests::{state, wait_for, Bundle, TestEnv};
use serde_json::json;

/// Whether CRIU works on this kernel (`criu check`), asked once.
fn criu_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("criu")
            .arg("check")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A runtime the scenarios run with.
struct Rt {
    name: &'static str,
    bin: PathBuf,
}

impl Rt {
    fn remora() -> Rt {
        Rt {
            name: "remora",
            bin: remora_integration_tests::remora_bin(),
        }
    }

    /// runc, when $RUNC_BIN names it.
    fn runc() -> Option<Rt> {
        let bin = PathBuf::from(std::env::var_os("RUNC_BIN")?);
        bin.exists().then_some(Rt { name: "runc", bin })
    }

    fn env(&self, test: &str) -> TestEnv {
        TestEnv::with_runtime(&format!("{test}-{}", self.name), &self.bin)
    }
}

/// Each scenario as a test per runtime: `remora::NAME`, `runc::NAME`.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod remora {
            $(#[test]
            fn $name() {
                if super::skip(concat!("remora::", stringify!($name))) { return; }
                super::$name(&super::Rt::remora());
            })*
        }
        mod runc {
            $(#[test]
            fn $name() {
                let test = concat!("runc::", stringify!($name));
                if super::skip(test) { return; }
                match super::Rt::runc() {
                    Some(rt) => super::$name(&rt),
                    None => remora_integration_tests::skip(test, "RUNC_BIN does not name a runc to compare with"),
                }
            })*
        }
    };
}

scenarios!(
    counter_continues_after_restore,
    leave_running_keeps_the_container,
    pre_dump_then_dump_with_parent,
    terminal_through_console_socket,
    tcp_established_connection_survives,
    stdio_pipes_are_reconnected,
    restore_into_a_new_id,
    foreground_restore_returns_the_exit_status,
    flags_reach_criu,
    host_dev_null_stdio,
    page_server_takes_the_memory,
    lazy_pages_through_a_page_server,
);

/// Whether `test` cannot run here (`criu check` fails); says so as a SKIP
/// line (counted as a skip, not a pass).
fn skip(test: &str) -> bool {
    if criu_works() {
        return false;
    }
    // The CRIU VM sets it: there a skip would hide a failure.
    assert!(
        std::env::var_os("REMORA_CRIU_REQUIRED").is_none(),
        "REMORA_CRIU_REQUIRED is set but `criu check` fails"
    );
    remora_integration_tests::skip(
        test,
        "`criu check` fails on this host (runs in scripts/cgroupv2-vm/run-criu.sh)",
    );
    true
}

/// The counter's script: its stdio are the container's /dev/null (CRIU
/// cannot dump a file of a mount outside the container, as the host's
/// /dev/null), it appends a number a line to /data/count every 0.1 s
/// through one fd open for appending (CRIU does not hold such a log to
/// its size at dump: it may grow after a --leave-running dump).
const COUNTER: &str = "exec </dev/null >/dev/null 2>&1 3>>/data/count; i=0; \
     while :; do i=$((i+1)); echo $i >&3; sleep 0.1; done";

/// A bundle running `script` with a host directory bound at /data;
/// returns it and the directory.
fn bundle_with_data(env: &TestEnv, name: &str, script: &str) -> (Bundle, PathBuf) {
    let mut b = env.bundle(name);
    let data = env.base.join(format!("{name}-data"));
    std::fs::create_dir_all(&data).unwrap();
    b.config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/data",
        "type": "bind",
        "source": data,
        "options": ["rbind", "rw"]
    }));
    b.sh(script);
    b.save();
    (b, data)
}

/// The last whole number in /data/`name` ("pingN" counts as N).
fn last_number(data: &Path, name: &str) -> u64 {
    std::fs::read_to_string(data.join(name))
        .unwrap_or_default()
        .lines()
        .rev()
        .find_map(|l| l.trim().trim_start_matches("ping").parse().ok())
        .unwrap_or(0)
}

fn count(data: &Path) -> u64 {
    last_number(data, "count")
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z')))
        .unwrap_or(false)
}

fn run_detached(env: &TestEnv, b: &Bundle, id: &str) {
    env.remora_detached(&["run", "-d", "-b", b.path(), id]).ok();
}

fn checkpoint(env: &TestEnv, id: &str, image: &Path, extra: &[&str]) {
    let mut args = vec!["checkpoint", "--image-path", image.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(id);
    let r = env.remora(&args);
    if r.code != 0 {
        // The runtime's words may not name CRIU's reason: its log does.
        let log = std::fs::read_to_string(image.join("dump.log")).unwrap_or_default();
        print_log("dump.log", &log);
    }
    r.ok();
}

/// What CRIU's log says of a failure: its errors and its last lines.
fn print_log(name: &str, log: &str) {
    let lines: Vec<&str> = log.lines().collect();
    for l in lines.iter().filter(|l| l.contains("Error")) {
        println!("{name}: {l}");
    }
    for l in &lines[lines.len().saturating_sub(10)..] {
        println!("{name}: {l}");
    }
}

fn restore_detached(env: &TestEnv, b: &Bundle, id: &str, image: &Path, extra: &[&str]) {
    let mut args = vec![
        "restore",
        "-d",
        "-b",
        b.path(),
        "--image-path",
        image.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(id);
    let r = env.remora_detached(&args);
    if r.code != 0 {
        let log = std::fs::read_to_string(image.join("restore.log")).unwrap_or_default();
        print_log("restore.log", &log);
    }
    r.ok();
}

/// After a checkpoint without --leave-running the container is gone, as
/// runc leaves it: no record, no process.
fn assert_gone(env: &TestEnv, id: &str) {
    let r = env.remora(&["state", id]);
    assert_ne!(r.code, 0, "state after checkpoint: {}", r.stdout);
    assert!(r.error_text().contains("does not exist"), "{}", r.stderr);
}

/// The restored container runs with a new init in the container's cgroup
/// (its cgroup path ends with the ID).
fn assert_running_in_its_cgroup(env: &TestEnv, id: &str, old_pid: i64) -> i64 {
    let st = state(env, id);
    assert_eq!(st["status"], "running", "{st}");
    let pid = st["pid"].as_i64().unwrap();
    assert!(
        pid > 0 && pid != old_pid,
        "restored pid {pid}, old {old_pid}"
    );
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.lines().any(|l| l.trim_end().ends_with(id)),
        "the restored init's cgroup is not the container's: {cg}"
    );
    pid
}

fn counter_continues_after_restore(rt: &Rt) {
    let env = rt.env("cr-counter");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &image, &[]);
    assert_gone(&env, &id);
    let at = count(&data);
    assert!(!alive(pid), "the checkpointed init {pid} still runs");
    restore_detached(&env, &b, &id, &image, &[]);
    assert_running_in_its_cgroup(&env, &id, pid);
    // It goes on from where it was: the next values follow `at`, not a
    // restart from 1.
    wait_for("the restored counter to move", 30, || count(&data) > at);
    let next = count(&data);
    assert!(
        next > at && next < at + 20,
        "after restore the counter is {next}, checkpointed at {at}"
    );
    wait_for("the counter to keep counting", 30, || {
        count(&data) > next + 3
    });
    env.remora(&["delete", "-f", &id]).ok();
}

fn leave_running_keeps_the_container(rt: &Rt) {
    let env = rt.env("cr-leave");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &image, &["--leave-running"]);
    let st = state(&env, &id);
    assert_eq!(st["status"], "running", "{st}");
    assert_eq!(
        st["pid"].as_i64(),
        Some(pid),
        "same init after --leave-running"
    );
    let at = count(&data);
    wait_for("the counter to keep counting", 30, || count(&data) > at + 3);
    // The image restores: the same container again, once the first is
    // deleted.
    env.remora(&["delete", "-f", &id]).ok();
    restore_detached(&env, &b, &id, &image, &[]);
    assert_running_in_its_cgroup(&env, &id, pid);
    let back = count(&data);
    wait_for("the restored counter to move", 30, || count(&data) != back);
    env.remora(&["delete", "-f", &id]).ok();
}

fn pre_dump_then_dump_with_parent(rt: &Rt) {
    let env = rt.env("cr-predump");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let pre = env.base.join("pre");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &pre, &["--pre-dump"]);
    // A pre-dump leaves the container running.
    assert_eq!(state(&env, &id)["status"], "running");
    let at = count(&data);
    wait_for("the counter to keep counting", 30, || count(&data) > at + 2);
    checkpoint(&env, &id, &image, &["--parent-path", "../pre"]);
    assert_gone(&env, &id);
    // CRIU links the dump to its parent images.
    let parent = std::fs::read_link(image.join("parent")).expect("image/parent link");
    assert_eq!(parent, Path::new("../pre"));
    let at = count(&data);
    restore_detached(&env, &b, &id, &image, &[]);
    assert_running_in_its_cgroup(&env, &id, pid);
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id]).ok();
}

/// Accepts one connection on `sock` and returns the fd sent on it.
fn receive_console(l: &UnixListener) -> OwnedFd {
    let (conn, _) = l.accept().expect("console socket: accept");
    remora_seccomp::recv_listener(&conn)
        .expect("console socket: no fd received")
        .0
}

/// Writes `input` to a pty master and reads until `needle` appears.
fn pty_says(master: &OwnedFd, input: &str, needle: &str) -> String {
    let mut f = std::fs::File::from(master.try_clone().unwrap());
    f.write_all(input.as_bytes()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let needle = needle.to_string();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 1024];
        while !seen.contains(&needle) {
            match reader.read(&mut buf) {
                Ok(n) if n > 0 => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => break,
            }
        }
        let _ = tx.send(seen);
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("no answer on the pty")
}

fn terminal_through_console_socket(rt: &Rt) {
    let env = rt.env("cr-tty");
    let (mut b, data) = bundle_with_data(
        &env,
        "b",
        "(exec 3>>/data/count; i=0; while :; do i=$((i+1)); echo $i >&3; sleep 0.1; done) & \
         while read l; do echo \"got:$l\"; done",
    );
    b.config["process"]["terminal"] = json!(true);
    b.save();
    let id = env.id("c");
    let image = env.base.join("image");
    let sock = env.base.join("console.sock");
    let l = UnixListener::bind(&sock).unwrap();
    env.remora_detached(&[
        "run",
        "-d",
        "--console-socket",
        sock.to_str().unwrap(),
        "-b",
        b.path(),
        &id,
    ])
    .ok();
    let master = receive_console(&l);
    assert!(pty_says(&master, "one\n", "got:one").contains("got:one"));
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    checkpoint(&env, &id, &image, &[]);
    assert_gone(&env, &id);
    drop(master);
    let sock2 = env.base.join("console2.sock");
    let l2 = UnixListener::bind(&sock2).unwrap();
    restore_detached(
        &env,
        &b,
        &id,
        &image,
        &["--console-socket", sock2.to_str().unwrap()],
    );
    // The restored shell reads and writes the new pty.
    let master = receive_console(&l2);
    assert_running_in_its_cgroup(&env, &id, pid);
    assert!(pty_says(&master, "two\n", "got:two").contains("got:two"));
    let at = count(&data);
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id]).ok();
}

/// The last "pingN" the client got back from the server, N.
fn last_ping(data: &Path) -> u64 {
    last_number(data, "tcp")
}

fn tcp_established_connection_survives(rt: &Rt) {
    let env = rt.env("cr-tcp");
    // A server (busybox nc, echoing with cat) and a client sending pingN
    // every 0.1 s over one connection; what comes back goes to /data/tcp.
    // (CAP_NET_ADMIN: remora leaves a new network namespace's lo down,
    // runc brings it up; the script does.)
    let (mut b, data) = bundle_with_data(
        &env,
        "b",
        "exec </dev/null >/dev/null 2>&1 3>>/data/tcp; ip link set lo up; \
         nc -l -p 5000 -e /bin/cat & sleep 0.5; \
         i=0; while :; do i=$((i+1)); echo ping$i; sleep 0.1; done | nc 127.0.0.1 5000 | \
         while read l; do echo $l >&3; done",
    );
    for set in ["bounding", "effective", "permitted"] {
        b.config["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_NET_ADMIN"));
    }
    b.save();
    let id = env.id("c");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("pings over the connection", 30, || last_ping(&data) >= 3);
    // Without --tcp-established CRIU refuses, and the container runs on.
    let refused = env.remora(&[
        "checkpoint",
        "--image-path",
        env.base.join("refused").to_str().unwrap(),
        &id,
    ]);
    assert_ne!(
        refused.code, 0,
        "checkpoint of an established connection without --tcp-established"
    );
    assert_eq!(state(&env, &id)["status"], "running");
    checkpoint(&env, &id, &image, &["--tcp-established"]);
    assert_gone(&env, &id);
    let at = last_ping(&data);
    restore_detached(&env, &b, &id, &image, &["--tcp-established"]);
    assert_running_in_its_cgroup(&env, &id, pid);
    // The same connection carries on: the numbers follow on.
    wait_for("pings over the restored connection", 30, || {
        last_ping(&data) > at + 2
    });
    env.remora(&["delete", "-f", &id]).ok();
}

/// Starts `remora ARGS` with its stdio piped (as conmon and containerd's
/// shim run it); returns once it exits, with the pipes' ends (the
/// container keeps the others).
fn with_pipes(env: &TestEnv, args: &[&str]) -> Pipes {
    let mut c = env.command(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "remora {args:?}: {st}");
    (stdin, stdout, stderr)
}

type Pipes = (
    std::process::ChildStdin,
    std::process::ChildStdout,
    std::process::ChildStderr,
);

/// The number of the first "lineN" read from `out` after skipping
/// nothing, and reads until `until` lines have come.
fn read_lines(out: std::process::ChildStdout, n: usize) -> Vec<u64> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if let Some(x) = l.strip_prefix("line").and_then(|x| x.parse().ok()) {
                v.push(x);
            }
            if v.len() >= n {
                break;
            }
        }
        let _ = tx.send(v);
    });
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("no lines from the container")
}

fn stdio_pipes_are_reconnected(rt: &Rt) {
    let env = rt.env("cr-pipes");
    let mut b = env.bundle("b");
    b.sh("i=0; while :; do i=$((i+1)); echo line$i; sleep 0.1; done");
    b.save();
    let id = env.id("c");
    let image = env.base.join("image");
    let (_in1, out1, _err1) = with_pipes(&env, &["run", "-d", "-b", b.path(), &id]);
    let first = read_lines(out1, 3);
    assert_eq!(first[..3], [1, 2, 3]);
    checkpoint(&env, &id, &image, &[]);
    assert_gone(&env, &id);
    let (_in2, out2, _err2) = with_pipes(
        &env,
        &[
            "restore",
            "-d",
            "-b",
            b.path(),
            "--image-path",
            image.to_str().unwrap(),
            &id,
        ],
    );
    // The restored process writes to the restoring command's stdout,
    // going on with its numbering.
    let after = read_lines(out2, 3);
    assert!(after[0] > 3, "after restore: {after:?}");
    assert_eq!(after[1], after[0] + 1);
    env.remora(&["delete", "-f", &id]).ok();
}

fn restore_into_a_new_id(rt: &Rt) {
    let env = rt.env("cr-newid");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let id2 = env.id("d");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &image, &[]);
    let at = count(&data);
    restore_detached(&env, &b, &id2, &image, &[]);
    assert_gone(&env, &id);
    if rt.name == "remora" {
        // In the new ID's cgroup (remora gives CRIU the cgroup root of
        // every hierarchy: on v2 the one without controllers).
        assert_running_in_its_cgroup(&env, &id2, pid);
    } else {
        // runc 1.1.5 names the v2 hierarchy by an empty controller, which
        // CRIU matches to none: the restored init is back in the
        // checkpointed ID's cgroup (docs/design.md).
        let st = state(&env, &id2);
        assert_eq!(st["status"], "running", "{st}");
        let cg = std::fs::read_to_string(format!("/proc/{}/cgroup", st["pid"])).unwrap();
        println!("runc restored {id2} into {}", cg.trim());
    }
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id2]).ok();
}

fn foreground_restore_returns_the_exit_status(rt: &Rt) {
    let env = rt.env("cr-fg");
    let (b, data) = bundle_with_data(
        &env,
        "b",
        "exec </dev/null >/dev/null 2>&1 3>>/data/count; i=0; \
         while [ $i -lt 30 ]; do i=$((i+1)); echo $i >&3; sleep 0.1; done; exit 7",
    );
    let id = env.id("c");
    let image = env.base.join("image");
    run_detached(&env, &b, &id);
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &image, &[]);
    let at = count(&data);
    assert!(at < 30, "checkpointed after the end: {at}");
    let r = env.remora_detached(&[
        "restore",
        "-b",
        b.path(),
        "--image-path",
        image.to_str().unwrap(),
        &id,
    ]);
    assert_eq!(r.code, 7, "restore in the foreground: {}", r.stderr);
    assert_eq!(count(&data), 30);
    // The foreground restore removed the container once it exited.
    assert_gone(&env, &id);
}

/// runc's other flags go through: logs in --work-path, --pid-file, the
/// options CRIU takes (file locks, dedup, full cgroup mode, external unix
/// sockets, shell job) on both sides.
fn flags_reach_criu(rt: &Rt) {
    let env = rt.env("cr-flags");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let image = env.base.join("image");
    let work = env.base.join("work");
    let work2 = env.base.join("work2");
    let pid_file = env.base.join("pid");
    let flags = [
        "--file-locks",
        "--auto-dedup",
        "--manage-cgroups-mode",
        "full",
        "--ext-unix-sk",
        "--shell-job",
    ];
    run_detached(&env, &b, &id);
    let pid = state(&env, &id)["pid"].as_i64().unwrap();
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    let mut args = vec!["--work-path", work.to_str().unwrap()];
    args.extend(flags);
    checkpoint(&env, &id, &image, &args);
    assert!(work.join("dump.log").exists(), "dump.log in --work-path");
    assert!(
        !image.join("dump.log").exists(),
        "dump.log in the image dir"
    );
    let at = count(&data);
    let mut args = vec![
        "--work-path",
        work2.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
    ];
    args.extend(flags);
    restore_detached(&env, &b, &id, &image, &args);
    assert!(
        work2.join("restore.log").exists(),
        "restore.log in --work-path"
    );
    let new = assert_running_in_its_cgroup(&env, &id, pid);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        new.to_string()
    );
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id]).ok();
}

/// A child killed and reaped when dropped (a failing test leaves none).
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// --page-server: the memory goes to a CRIU page server (here one on
/// this host with a directory of its own), the rest to the images; put
/// together, the container restores from them.
fn page_server_takes_the_memory(rt: &Rt) {
    let env = rt.env("cr-pages");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let image = env.base.join("image");
    let pages = env.base.join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    let port = if rt.name == "remora" {
        "27127"
    } else {
        "27128"
    };
    let mut server = Reaped(
        Command::new("criu")
            .args(["page-server", "--images-dir"])
            .arg(&pages)
            .args(["--address", "127.0.0.1", "--port", port])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("criu page-server"),
    );
    run_detached(&env, &b, &id);
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    let addr = format!("127.0.0.1:{port}");
    // The server may not listen yet: the first tries may be refused.
    let mut tries = 0;
    let image_arg = image.to_str().unwrap().to_string();
    loop {
        let r = env.remora(&[
            "checkpoint",
            "--image-path",
            &image_arg,
            "--page-server",
            &addr,
            &id,
        ]);
        if r.code == 0 {
            break;
        }
        tries += 1;
        assert!(tries < 20, "checkpoint --page-server: {}", r.stderr);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let st = server.0.wait().unwrap();
    assert!(st.success(), "criu page-server: {st}");
    let page_files = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("pages-"))
            .map(|e| e.path())
            .collect()
    };
    assert!(page_files(&image).is_empty(), "pages written locally");
    assert!(
        !page_files(&pages).is_empty(),
        "no pages-*.img from the page server"
    );
    // Together again for the restore: what the page server wrote.
    for e in std::fs::read_dir(&pages).unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with(".img") {
            std::fs::rename(e.path(), image.join(e.file_name())).unwrap();
        }
    }
    let at = count(&data);
    restore_detached(&env, &b, &id, &image, &[]);
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id]).ok();
}

/// --lazy-pages (runc's way): checkpoint serves the memory from a page
/// server and says on --status-fd when it is ready; CRIU's lazy-pages
/// daemon fetches it while the restored container runs.
fn lazy_pages_through_a_page_server(rt: &Rt) {
    use std::os::fd::AsRawFd;
    let env = rt.env("cr-lazy");
    let (b, data) = bundle_with_data(&env, "b", COUNTER);
    let id = env.id("c");
    let image = env.base.join("image");
    let port = if rt.name == "remora" {
        "27137"
    } else {
        "27138"
    };
    run_detached(&env, &b, &id);
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    let (mut ready_r, ready_w) = std::io::pipe().unwrap();
    let wfd = ready_w.as_raw_fd();
    // SAFETY: fcntl on an fd this test owns; it stays open across exec
    // for the checkpoint command only (dropped right after the spawn).
    assert_eq!(unsafe { libc::fcntl(wfd, libc::F_SETFD, 0) }, 0);
    let addr = format!("127.0.0.1:{port}");
    let wfd_s = wfd.to_string();
    let mut ck = env.command(&[
        "checkpoint",
        "--image-path",
        image.to_str().unwrap(),
        "--lazy-pages",
        "--page-server",
        &addr,
        "--status-fd",
        &wfd_s,
        &id,
    ]);
    ck.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut ck = Reaped(ck.spawn().unwrap());
    drop(ready_w);
    let mut byte = [1u8; 1];
    ready_r
        .read_exact(&mut byte)
        .expect("--status-fd: nothing written");
    assert_eq!(byte, [0], "--status-fd gets \\0");
    let at = count(&data);
    let _daemon = Reaped(
        Command::new("criu")
            .args([
                "lazy-pages",
                "--page-server",
                "--address",
                "127.0.0.1",
                "--port",
                port,
            ])
            .arg("--images-dir")
            .arg(&image)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("criu lazy-pages"),
    );
    // Under another ID (as runc's test): the checkpointed one exists until
    // its memory has been served.
    let id2 = env.id("d");
    restore_detached(&env, &b, &id2, &image, &["--lazy-pages"]);
    wait_for("the restored counter to move", 60, || count(&data) > at);
    let st = ck.0.wait().unwrap();
    let mut err = String::new();
    if let Some(mut e) = ck.0.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(st.success(), "checkpoint --lazy-pages: {st} {err}");
    assert_gone(&env, &id);
    env.remora(&["delete", "-f", &id2]).ok();
}

/// stdio the host's /dev/null (a detached container nobody listens to).
fn host_dev_null_stdio(rt: &Rt) {
    let env = rt.env("cr-devnull");
    let (b, data) = bundle_with_data(
        &env,
        "b",
        "exec 3>>/data/count; i=0; while :; do i=$((i+1)); echo $i >&3; echo $i; sleep 0.1; done",
    );
    let id = env.id("c");
    let image = env.base.join("image");
    let st = env
        .command(&["run", "-d", "-b", b.path(), &id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    wait_for("the counter to reach 3", 30, || count(&data) >= 3);
    checkpoint(&env, &id, &image, &[]);
    let at = count(&data);
    let st = env
        .command(&[
            "restore",
            "-d",
            "-b",
            b.path(),
            "--image-path",
            image.to_str().unwrap(),
            &id,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    wait_for("the restored counter to move", 30, || count(&data) > at);
    env.remora(&["delete", "-f", &id]).ok();
}

// --- anywhere: errors -------------------------------------------------

/// A running container that sleeps.
fn sleeper(env: &TestEnv) -> (Bundle, String) {
    let mut b = env.bundle("b");
    b.sh("exec </dev/null >/dev/null 2>&1; while :; do sleep 1; done");
    b.save();
    let id = env.id("c");
    run_detached(env, &b, &id);
    (b, id)
}

/// Stdio given as the host's /dev/null are the container's /dev/null
/// inside (runc's behaviour; what lets CRIU dump them).
#[test]
fn host_dev_null_stdio_become_the_containers() {
    let env = TestEnv::new("cr-null");
    let (b, data) = bundle_with_data(
        &env,
        "b",
        // (The shell is PID 1; a command substitution is another process,
        // so PID 1's stdio are looked at as they are.)
        "o=$(for f in /proc/1/fd/0 /proc/1/fd/1 /proc/1/fd/2 /dev/null; do \
         stat -L -c '%d:%i' $f; done; readlink /proc/1/fd/0); echo \"$o\" > /data/ids",
    );
    let id = env.id("c");
    let st = env
        .command(&["run", "-b", b.path(), &id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let ids = std::fs::read_to_string(data.join("ids")).unwrap();
    let lines: Vec<&str> = ids.lines().collect();
    assert_eq!(lines.len(), 5, "{ids}");
    assert!(
        lines[..3].iter().all(|l| *l == lines[3]),
        "stdio are not the container's /dev/null: {ids}"
    );
    assert_eq!(lines[4], "/dev/null");
}

/// On a host where CRIU cannot work, checkpoint says so in CRIU's words,
/// and the container runs on.
#[test]
fn criu_check_failure_is_named() {
    if criu_works() {
        remora_integration_tests::skip(
            "criu_check_failure_is_named",
            "`criu check` passes on this host; the scenarios ran instead",
        );
        return;
    }
    let env = TestEnv::new("cr-check");
    let (_b, id) = sleeper(&env);
    let image = env.base.join("image");
    let r = env.remora(&["checkpoint", "--image-path", image.to_str().unwrap(), &id]);
    r.fails_with("criu check failed: CRIU cannot checkpoint or restore on this host's kernel");
    println!("checkpoint on this host: {}", r.error_text());
    assert_eq!(state(&env, &id)["status"], "running");
    env.remora(&["delete", "-f", &id]).ok();
}

/// Without criu: an error naming it, nothing made (no image directory, no
/// state for a restore).
#[test]
fn a_missing_criu_is_named() {
    let env = TestEnv::new("cr-nocriu");
    let (b, id) = sleeper(&env);
    let image = env.base.join("image");
    let r: remora_integration_tests::Run = env
        .command(&["checkpoint", "--image-path", image.to_str().unwrap(), &id])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap()
        .into();
    r.fails_with("criu not found in PATH (/nonexistent)");
    assert!(!image.exists());
    let r = env.remora(&["--criu", "/nonexistent/criu", "checkpoint", &id]);
    r.fails_with("--criu /nonexistent/criu: no such executable");
    assert_eq!(state(&env, &id)["status"], "running");
    let r: remora_integration_tests::Run = env
        .command(&[
            "restore",
            "-d",
            "-b",
            b.path(),
            "--image-path",
            "/nonexistent",
            "r",
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap()
        .into();
    r.fails_with("criu not found in PATH");
    assert!(!env.root.join("r").exists());
    env.remora(&["delete", "-f", &id]).ok();
}

/// Bad input names the flag or the state, and leaves nothing behind.
#[test]
fn bad_input_is_refused() {
    if Command::new("criu").arg("--version").output().is_err() {
        remora_integration_tests::skip(
            "bad_input_is_refused",
            "no criu installed (scripts/ci.d/50-criu.sh installs it)",
        );
        return;
    }
    let env = TestEnv::new("cr-bad");
    let (b, id) = sleeper(&env);
    env.remora(&["checkpoint", "--manage-cgroups-mode", "hard", &id])
        .fails_with("--manage-cgroups-mode \"hard\": invalid (soft, full, strict or ignore)");
    env.remora(&["checkpoint", "--empty-ns", "pid", &id])
        .fails_with("--empty-ns \"pid\": namespace not supported (only network)");
    env.remora(&["checkpoint", "--page-server", "nowhere", &id])
        .fails_with("--page-server \"nowhere\": must be ADDRESS:PORT");
    let image = env.base.join("image");
    env.remora(&[
        "checkpoint",
        "--image-path",
        image.to_str().unwrap(),
        "--parent-path",
        "/abs",
        &id,
    ])
    .fails_with("--parent-path /abs: must be relative");
    env.remora(&["checkpoint", "no-such-container"])
        .fails_with("container does not exist");
    // A created container has not run: nothing to checkpoint.
    let created = env.id("created");
    b.create(&env, &created).ok();
    env.remora(&["checkpoint", &created])
        .fails_with("container cannot be checkpointed in created state");
    // Restore from a directory that holds no checkpoint: named, no state.
    let empty = env.base.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let r = env.remora(&[
        "restore",
        "-d",
        "-b",
        b.path(),
        "--image-path",
        empty.to_str().unwrap(),
        "r",
    ]);
    r.fails_with("descriptors.json");
    assert!(!env.root.join("r").exists());
    // Restoring onto an ID that exists.
    env.remora(&[
        "restore",
        "-d",
        "-b",
        b.path(),
        "--image-path",
        empty.to_str().unwrap(),
        &id,
    ])
    .fails_with("container with given ID already exists");
    let _ = std::fs::remove_dir_all(&image);
    for c in [&id, &created] {
        env.remora(&["delete", "-f", c]).ok();
    }
}
