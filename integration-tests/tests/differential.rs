//! The differential harness: every case runs the same bundle or
//! command under runc (Debian's 1.1.5, /usr/sbin/runc, its own --root) and
//! under remora, records what a user and an engine observe (exit codes,
//! whether stderr says "error", structured stdout, what the container sees,
//! what is left on the host) and fails on any difference that is not a
//! deliberate one. The deliberate differences live in ONE place: the table
//! "Deliberate differences from runc: the differential harness" in
//! docs/design.md, read here as the allow-list (case, observation, reason).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use remora_integration_tests::{remora_bin, wait_for, Bundle, Run, TestEnv};
use serde_json::{json, Value};

const RUNC: &str = "/usr/sbin/runc";

/// One runtime's side of a case.
struct Side {
    env: TestEnv,
    rt: &'static str,
}

/// Observations of one side, by name.
#[derive(Default)]
struct Obs(BTreeMap<String, String>);

impl Obs {
    fn set(&mut self, key: &str, v: impl ToString) {
        self.0.insert(key.to_string(), v.to_string());
    }

    /// Exit code and whether stderr says "error".
    fn run(&mut self, key: &str, r: &Run) {
        // Printed with the observations, never compared.
        self.set(&format!("~{key}.stderr"), r.stderr.trim());
        self.set(&format!("{key}.exit"), r.code);
        self.set(
            &format!("{key}.error"),
            r.stderr.to_ascii_lowercase().contains("error"),
        );
    }

    /// Exit code, "error", and stdout as is.
    fn run_out(&mut self, key: &str, r: &Run, side: &Side) {
        self.run(key, r);
        self.set(&format!("{key}.stdout"), side.norm(&r.stdout));
    }

    /// Whether stderr holds `phrase` (wording callers match on).
    fn says(&mut self, key: &str, r: &Run, phrase: &str) {
        self.set(&format!("{key}.says {phrase:?}"), r.stderr.contains(phrase));
    }

    /// Whether stderr has a warning line.
    fn warns(&mut self, key: &str, r: &Run) {
        self.set(
            &format!("{key}.warning"),
            r.stderr.to_ascii_lowercase().contains("warn"),
        );
    }

    /// The `k=v` lines a probe script printed, each as its own observation.
    fn lines(&mut self, key: &str, r: &Run, side: &Side) {
        self.run(key, r);
        for l in r.stdout.lines() {
            if let Some((k, v)) = l.split_once('=') {
                self.set(&format!("{key}.{k}"), side.norm(v.trim()));
            } else if !l.trim().is_empty() {
                self.set(&format!("{key}.line {}", side.norm(l)), "present");
            }
        }
    }
}

impl Side {
    fn cmd(&self, args: &[&str]) -> Run {
        self.env.remora(args)
    }

    fn detached(&self, args: &[&str]) -> Run {
        self.env.remora_detached(args)
    }

    fn id(&self, s: &str) -> String {
        self.env.id(s)
    }

    /// Replaces what differs by construction between the sides (the test
    /// dir, the names, the runtime's name) with placeholders.
    fn norm(&self, s: &str) -> String {
        s.replace(self.env.base.to_str().unwrap(), "<base>")
            .replace(&self.env.name, "<name>")
            .replace(self.env.bin.to_str().unwrap(), "<runtime>")
    }

    /// A busybox bundle (the default config) in the cgroup /remora/<id>
    /// under both runtimes, so the leftover checks see either's cgroups.
    fn bundle(&self, name: &str) -> Bundle {
        let mut b = self.env.bundle(name);
        b.config["linux"]["cgroupsPath"] = json!(format!("/remora/{}", self.id(name)));
        b
    }

    /// Runs `script` in a fresh container of bundle `b` in the foreground.
    fn run_sh(&self, b: &mut Bundle, name: &str, script: &str) -> Run {
        b.sh(script);
        b.run(&self.env, &self.id(name))
    }

    /// `run -d` of a `sleep` container named `name`; asserts it runs.
    fn running(&self, name: &str) -> (Bundle, String) {
        let mut b = self.bundle(name);
        b.sh("sleep 1000");
        b.save();
        let id = self.id(name);
        let r = self.detached(&["run", "-d", "-b", b.path(), &id]);
        assert_eq!(r.code, 0, "{} run -d: {}", self.rt, r.stderr);
        (b, id)
    }

    fn status(&self, id: &str) -> String {
        let r = self.cmd(&["state", id]);
        serde_json::from_str::<Value>(&r.stdout)
            .map(|v| v["status"].as_str().unwrap_or("?").to_string())
            .unwrap_or_else(|_| "none".into())
    }

    fn wait_stopped(&self, id: &str) {
        wait_for("the container to stop", 20, || self.status(id) == "stopped");
    }

    /// Records what is left on the host now (after the case's own clean-up).
    fn leftovers(&self, o: &mut Obs) {
        let left: Vec<String> = self.env.leftovers().iter().map(|l| self.norm(l)).collect();
        o.set("host.leftovers", format!("{left:?}"));
    }
}

/// Lazily unmounts every mount under `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut points: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").args(["-l", p]).status();
    }
}

/// The allow-list: (case, observation) -> reason, from docs/design.md.
fn allowed() -> BTreeMap<(String, String), String> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/design.md");
    let text = fs::read_to_string(&doc).expect("docs/design.md");
    let start = text
        .find("### The differential harness")
        .expect("docs/design.md: the differential harness's table");
    let mut out = BTreeMap::new();
    for l in text[start..].lines().skip(1) {
        if l.starts_with("#") {
            break;
        }
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        if cells.len() >= 5 && cells[1].starts_with('`') {
            let unq = |s: &str| s.trim_matches('`').to_string();
            out.insert((unq(cells[1]), unq(cells[2])), cells[3].to_string());
        }
    }
    out
}

/// Runs `case` under runc then remora and compares what each observed.
fn differential(case: &str, f: impl Fn(&Side, &mut Obs)) {
    assert!(
        Path::new(RUNC).exists(),
        "{RUNC} missing: the differential harness needs runc 1.1.5 (apt-get install runc; scripts/ci.d/27-differential.sh)"
    );
    let mut seen = Vec::new();
    for (rt, bin) in [("runc", PathBuf::from(RUNC)), ("remora", remora_bin())] {
        let side = Side {
            env: TestEnv::with_runtime(&format!("d{}", &rt[..2]), &bin),
            rt,
        };
        let mut o = Obs::default();
        f(&side, &mut o);
        side.leftovers(&mut o);
        // A container without a mount namespace leaves its mounts in the
        // host's (runc too): observed above, then undone so the next
        // checks see only what the runtime itself failed to clean.
        unmount_under(&side.env.base);
        println!("--- {rt} observed:");
        for (k, v) in &o.0 {
            println!("{k} = {v}");
        }
        seen.push(o.0);
        // Dropping the env force-deletes what is left and asserts the host
        // is clean.
    }
    let (runc, remora) = (&seen[0], &seen[1]);
    let allow = allowed();
    let keys: BTreeSet<&String> = runc.keys().chain(remora.keys()).collect();
    let none = "<not observed>".to_string();
    let mut diffs = Vec::new();
    let mut stale = Vec::new();
    for k in keys.into_iter().filter(|k| !k.starts_with('~')) {
        let (a, b) = (runc.get(k).unwrap_or(&none), remora.get(k).unwrap_or(&none));
        let entry = (case.to_string(), k.to_string());
        match (a == b, allow.get(&entry)) {
            (true, None) => println!("same  {k}: {a}"),
            (false, Some(why)) => println!("allowed  {k}: runc {a:?} remora {b:?} ({why})"),
            (false, None) => diffs.push(format!("{k}:\n    runc:   {a:?}\n    remora: {b:?}")),
            (true, Some(_)) => stale.push(k.to_string()),
        }
    }
    assert!(
        diffs.is_empty(),
        "case {case}: remora differs from runc:\n  {}",
        diffs.join("\n  ")
    );
    assert!(
        stale.is_empty(),
        "case {case}: allowed differences no longer differ (remove them from docs/design.md): {stale:?}"
    );
}

// ---------------------------------------------------------------- helpers

/// Recursive object key paths of a JSON value ("linux.seccomp.actions").
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(m) = v {
        for (k, v) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.insert(p.clone());
            key_paths(v, &p, out);
        }
    }
}

/// The keys of a JSON object (or of an array's first object) in the
/// order printed.
fn key_order(text: &str) -> String {
    let target = if text.trim_start().starts_with('[') {
        2
    } else {
        1
    };
    let mut keys = Vec::new();
    let (mut depth, mut in_str, mut esc) = (0, false, false);
    let (mut cur, mut last) = (String::new(), String::new());
    for c in text.chars() {
        if in_str {
            match c {
                _ if esc => {
                    esc = false;
                    cur.push(c);
                }
                '\\' => esc = true,
                '"' => {
                    in_str = false;
                    last = std::mem::take(&mut cur);
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth < target {
                    break;
                }
            }
            ':' if depth == target => keys.push(last.clone()),
            _ => {}
        }
    }
    keys.join(",")
}

/// How a table's columns are laid out: for each column but the last,
/// the gap between its widest cell and the next column, and whether the
/// column is at least 12 wide (runc's tabwriter: padding 3, width 12).
fn tab_columns(table: &str) -> String {
    let lines: Vec<&str> = table.lines().filter(|l| !l.is_empty()).collect();
    let Some(header) = lines.first() else {
        return "empty".into();
    };
    let starts: Vec<usize> = header
        .char_indices()
        .filter(|&(i, c)| c != ' ' && (i == 0 || header.as_bytes()[i - 1] == b' '))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let widest = lines
            .iter()
            .map(|l| {
                l.get(w[0]..w[1].min(l.len()))
                    .unwrap_or("")
                    .trim_end()
                    .len()
            })
            .max()
            .unwrap_or(0);
        out.push(format!(
            "gap {} min12 {}",
            w[1] - w[0] - widest,
            w[1] - w[0] >= 12
        ));
    }
    out.join("; ")
}

/// State JSON observations: key order and status.
fn state_obs(o: &mut Obs, key: &str, r: &Run) {
    o.run(key, r);
    o.set(&format!("{key}.keys"), key_order(&r.stdout));
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    o.set(&format!("{key}.status"), v["status"].clone());
    o.set(&format!("{key}.pid>0"), v["pid"].as_i64().unwrap_or(0) > 0);
}

/// The probe of what a container's process sees, as k=v lines (HOME and
/// the session have cases of their own).
const PROBE: &str = r#"
echo "env=$(env | grep -v '^_=\|^SHLVL=\|^PWD=\|^HOME=' | sort | tr '\n' ' ')"
echo "id=$(id)"
grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/$$/status | tr -d '\t' | sed 's/:/=/'
echo "nofile=$(ulimit -n)"
echo "cwd=$(pwd)"
echo "hostname=$(hostname)"
"#;

/// mountinfo as "mountpoint opts fstype source superopts", sorted.
const MOUNTS: &str =
    r#"sed 's/^[0-9]* [0-9]* [0-9:]* [^ ]* //; s/ [^-]* - / - /' /proc/self/mountinfo | sort"#;

/// A hook entry running a shell script on the host.
fn hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}

/// Accepts one connection on `sock` and keeps the fd it brings (a pty
/// master or a seccomp listener) until the returned handle is joined;
/// gives up (None) after 30 s without a connection.
fn fd_receiver(sock: &Path) -> std::thread::JoinHandle<Option<std::os::fd::OwnedFd>> {
    let h = fd_receivers(sock, 1);
    std::thread::spawn(move || h.join().unwrap().pop())
}

/// Like [`fd_receiver`], for up to `n` connections (a seccomp agent gets
/// one from create and one from each exec).
fn fd_receivers(sock: &Path, n: usize) -> std::thread::JoinHandle<Vec<std::os::fd::OwnedFd>> {
    let l = UnixListener::bind(sock).unwrap();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut fds = Vec::new();
        while fds.len() < n && std::time::Instant::now() < deadline {
            match l.accept() {
                Ok((c, _)) => {
                    let _ = c.set_nonblocking(false);
                    if let Ok((fd, _)) = remora_seccomp::recv_listener(&c) {
                        fds.push(fd);
                    }
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        fds
    })
}

// ------------------------------------------------------------- commands

#[test]
fn spec_default() {
    differential("spec_default", |s, o| {
        let d = s.env.base.join("spec");
        fs::create_dir_all(&d).unwrap();
        let r = s.cmd(&["spec", "-b", d.to_str().unwrap()]);
        o.run("spec", &r);
        let mut v: Value =
            serde_json::from_slice(&fs::read(d.join("config.json")).unwrap_or_default())
                .unwrap_or(Value::Null);
        o.set("spec.ociVersion", v["ociVersion"].take());
        o.set("spec.hostname", v["hostname"].take());
        o.set("spec.config", v);
        o.run("spec again", &s.cmd(&["spec", "-b", d.to_str().unwrap()]));
    });
}

#[test]
fn spec_rootless() {
    differential("spec_rootless", |s, o| {
        let d = s.env.base.join("spec");
        fs::create_dir_all(&d).unwrap();
        o.run(
            "spec",
            &s.cmd(&["spec", "--rootless", "-b", d.to_str().unwrap()]),
        );
        let mut v: Value =
            serde_json::from_slice(&fs::read(d.join("config.json")).unwrap_or_default())
                .unwrap_or(Value::Null);
        o.set("spec.ociVersion", v["ociVersion"].take());
        o.set("spec.hostname", v["hostname"].take());
        o.set("spec.config", v);
    });
}

#[test]
fn features() {
    differential("features", |s, o| {
        let r = s.cmd(&["features"]);
        o.run("features", &r);
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
        let mut keys = BTreeSet::new();
        key_paths(&v, "", &mut keys);
        // Keys of runtime-spec 1.1's features document (what runc 1.1.5
        // prints): each present or not.
        for k in [
            "ociVersionMin",
            "ociVersionMax",
            "hooks",
            "mountOptions",
            "linux",
            "linux.namespaces",
            "linux.capabilities",
            "linux.cgroup",
            "linux.cgroup.v1",
            "linux.cgroup.v2",
            "linux.cgroup.systemd",
            "linux.cgroup.systemdUser",
            "linux.seccomp",
            "linux.seccomp.enabled",
            "linux.seccomp.actions",
            "linux.seccomp.operators",
            "linux.seccomp.archs",
            "linux.apparmor",
            "linux.selinux",
            "annotations",
        ] {
            o.set(&format!("features.{k}"), keys.contains(k));
        }
        o.set("features.all keys", format!("{keys:?}"));
    });
}

#[test]
fn state_through_the_lifecycle() {
    differential("state_through_the_lifecycle", |s, o| {
        let mut b = s.bundle("c");
        b.sh("sleep 1000");
        let id = s.id("c");
        o.run("create", &b.create(&s.env, &id));
        state_obs(o, "state created", &s.cmd(&["state", &id]));
        o.run("start", &s.cmd(&["start", &id]));
        state_obs(o, "state running", &s.cmd(&["state", &id]));
        o.run("pause", &s.cmd(&["pause", &id]));
        state_obs(o, "state paused", &s.cmd(&["state", &id]));
        o.run("resume", &s.cmd(&["resume", &id]));
        o.run("kill", &s.cmd(&["kill", &id, "KILL"]));
        s.wait_stopped(&id);
        state_obs(o, "state stopped", &s.cmd(&["state", &id]));
        o.run("delete", &s.cmd(&["delete", &id]));
        o.run("state deleted", &s.cmd(&["state", &id]));
    });
}

#[test]
fn state_missing() {
    differential("state_missing", |s, o| {
        o.run_out("state", &s.cmd(&["state", "nonexistent"]), s);
    });
}

#[test]
fn create_twice_and_bad_ids() {
    differential("create_twice_and_bad_ids", |s, o| {
        let mut b = s.bundle("c");
        b.sh("sleep 1000");
        let id = s.id("c");
        o.run("create", &b.create(&s.env, &id));
        o.run("create again", &b.create(&s.env, &id));
        o.run("create a/b", &b.create(&s.env, "a/b"));
        o.run("create ..", &b.create(&s.env, ".."));
        o.run("delete created", &s.cmd(&["delete", &id]));
    });
}

#[test]
fn create_missing_bundle_and_program() {
    differential("create_missing_bundle_and_program", |s, o| {
        let dir = s.env.base.join("nope");
        o.run(
            "create no bundle",
            &s.detached(&["create", "-b", dir.to_str().unwrap(), &s.id("x")]),
        );
        let mut b = s.bundle("p");
        b.config["process"]["args"] = json!(["/nonexistent"]);
        o.run("create missing program", &b.create(&s.env, &s.id("p")));
    });
}

#[test]
fn start_twice_and_after_stop() {
    differential("start_twice_and_after_stop", |s, o| {
        let mut b = s.bundle("c");
        b.sh("sleep 1000");
        let id = s.id("c");
        b.create(&s.env, &id);
        o.run("start", &s.cmd(&["start", &id]));
        o.run("start running", &s.cmd(&["start", &id]));
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run("start stopped", &s.cmd(&["start", &id]));
        o.run("start missing", &s.cmd(&["start", "nonexistent"]));
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn kill_signals() {
    differential("kill_signals", |s, o| {
        let (_b, id) = s.running("k");
        o.run("kill 0 running", &s.cmd(&["kill", &id, "0"]));
        o.run("kill unknown", &s.cmd(&["kill", &id, "SIGFOO"]));
        o.run("kill by lower-case name", &s.cmd(&["kill", &id, "sigkill"]));
        s.wait_stopped(&id);
        o.run("kill 0 stopped", &s.cmd(&["kill", &id, "0"]));
        o.run("kill stopped", &s.cmd(&["kill", &id, "TERM"]));
        o.run("kill -a stopped", &s.cmd(&["kill", "-a", &id, "KILL"]));
        o.run("kill missing", &s.cmd(&["kill", "nonexistent"]));
        o.run("delete", &s.cmd(&["delete", &id]));
    });
}

#[test]
fn kill_all_and_paused() {
    differential("kill_all_and_paused", |s, o| {
        let (_b, id) = s.running("k");
        o.run("pause", &s.cmd(&["pause", &id]));
        o.run("kill -a KILL paused", &s.cmd(&["kill", "--all", &id, "9"]));
        s.wait_stopped(&id);
        o.set("status", s.status(&id));
        o.run("delete", &s.cmd(&["delete", &id]));
    });
}

#[test]
fn delete_rules() {
    differential("delete_rules", |s, o| {
        let (_b, id) = s.running("d");
        o.run("delete running", &s.cmd(&["delete", &id]));
        o.set("after delete running", s.status(&id));
        o.run(
            "delete --force running",
            &s.cmd(&["delete", "--force", &id]),
        );
        o.run("delete missing", &s.cmd(&["delete", "nonexistent"]));
        o.run(
            "delete -f missing",
            &s.cmd(&["delete", "-f", "nonexistent"]),
        );
    });
}

#[test]
fn run_exit_codes() {
    differential("run_exit_codes", |s, o| {
        let mut b = s.bundle("r");
        o.run_out("exit 3", &s.run_sh(&mut b, "r3", "echo out; exit 3"), s);
        o.run(
            "killed",
            &s.run_sh(&mut b, "r9", "sh -c 'kill -9 $$'; exit $?"),
        );
        o.run("true", &s.run_sh(&mut b, "r0", "true"));
        let id = s.id("rd");
        b.sh("sleep 1000");
        b.save();
        o.run("run -d", &s.detached(&["run", "-d", "-b", b.path(), &id]));
        o.set("run -d status", s.status(&id));
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn exec_basics() {
    differential("exec_basics", |s, o| {
        let (_b, id) = s.running("e");
        o.run_out(
            "exec exit 5",
            &s.cmd(&["exec", &id, "sh", "-c", "echo hi; exit 5"]),
            s,
        );
        o.run_out(
            "exec env cwd user",
            &s.cmd(&[
                "exec",
                "-e",
                "FOO=bar",
                "--cwd",
                "/tmp",
                "-u",
                "1000:1000",
                "-g",
                "10",
                &id,
                "sh",
                "-c",
                "echo $FOO $(pwd) $(id)",
            ]),
            s,
        );
        o.lines("exec probe", &s.cmd(&["exec", &id, "sh", "-c", PROBE]), s);
        o.run(
            "exec missing program",
            &s.cmd(&["exec", &id, "/nonexistent"]),
        );
        o.run("exec no args", &s.cmd(&["exec", &id]));
        let pidfile = s.env.base.join("exec.pid");
        o.run(
            "exec -d",
            &s.detached(&[
                "exec",
                "-d",
                "--pid-file",
                pidfile.to_str().unwrap(),
                &id,
                "sleep",
                "1",
            ]),
        );
        o.set("exec -d pid file", pidfile.exists());
        s.cmd(&["pause", &id]);
        o.run("exec paused", &s.cmd(&["exec", &id, "true"]));
        s.cmd(&["resume", &id]);
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run("exec stopped", &s.cmd(&["exec", &id, "true"]));
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn exec_process_json_without_user() {
    differential("exec_process_json_without_user", |s, o| {
        let (_b, id) = s.running("e");
        let p = s.env.base.join("process.json");
        fs::write(
            &p,
            json!({"args": ["sh", "-c", "id"], "cwd": "/", "env": ["PATH=/bin"]}).to_string(),
        )
        .unwrap();
        o.run_out(
            "exec -p",
            &s.cmd(&["exec", "-p", p.to_str().unwrap(), &id]),
            s,
        );
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn exec_unknown_capability() {
    differential("exec_unknown_capability", |s, o| {
        let (_b, id) = s.running("e");
        let r = s.cmd(&[
            "exec",
            "--cap",
            "CAP_FOO",
            "--cap",
            "CAP_SYS_ADMIN",
            &id,
            "sh",
            "-c",
            "grep CapEff /proc/self/status",
        ]);
        o.run_out("exec --cap", &r, s);
        o.warns("exec --cap", &r);
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn pause_and_resume_rules() {
    differential("pause_and_resume_rules", |s, o| {
        let (_b, id) = s.running("p");
        o.run("resume running", &s.cmd(&["resume", &id]));
        o.run("pause", &s.cmd(&["pause", &id]));
        o.run("pause paused", &s.cmd(&["pause", &id]));
        o.set("status", s.status(&id));
        o.run("resume", &s.cmd(&["resume", &id]));
        o.set("status resumed", s.status(&id));
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run("pause stopped", &s.cmd(&["pause", &id]));
        o.run("resume stopped", &s.cmd(&["resume", &id]));
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn ps_running_and_stopped() {
    differential("ps_running_and_stopped", |s, o| {
        let (_b, id) = s.running("p");
        let r = s.cmd(&["ps", "-f", "json", &id]);
        o.run("ps json", &r);
        let pids: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
        o.set("ps json count", pids.as_array().map_or(0, Vec::len));
        let r = s.cmd(&["ps", &id]);
        o.run("ps table", &r);
        o.set(
            "ps table header",
            r.stdout.lines().next().unwrap_or_default(),
        );
        o.set("ps table lines", r.stdout.lines().count());
        let r = s.cmd(&["ps", &id, "-o", "pid,comm"]);
        o.set("ps -o lines", r.stdout.lines().count());
        o.set("ps -o header", r.stdout.lines().next().unwrap_or_default());
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run_out("ps stopped table", &s.cmd(&["ps", &id]), s);
        o.run_out("ps stopped json", &s.cmd(&["ps", "-f", "json", &id]), s);
        o.run("ps missing", &s.cmd(&["ps", "nonexistent"]));
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn list_formats() {
    differential("list_formats", |s, o| {
        o.run_out("list json empty", &s.cmd(&["list", "--format", "json"]), s);
        o.run_out("list empty", &s.cmd(&["list"]), s);
        o.run_out("list -q empty", &s.cmd(&["list", "-q"]), s);
        let (_b, id) = s.running("l");
        let r = s.cmd(&["list", "--format", "json"]);
        o.run("list json", &r);
        o.set("list json keys", key_order(&r.stdout));
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
        o.set("list json status", v[0]["status"].clone());
        o.set("list json owner", v[0]["owner"].clone());
        let r = s.cmd(&["list"]);
        o.set(
            "list header",
            r.stdout
                .lines()
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        o.set("list columns", tab_columns(&r.stdout));
        o.set(
            "list row fields",
            r.stdout
                .lines()
                .nth(1)
                .unwrap_or_default()
                .split_whitespace()
                .count(),
        );
        o.set(
            "list row owner",
            r.stdout
                .lines()
                .nth(1)
                .unwrap_or_default()
                .split_whitespace()
                .last()
                .unwrap_or_default(),
        );
        o.run_out("list -q", &s.cmd(&["list", "-q"]), s);
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn events_stats() {
    differential("events_stats", |s, o| {
        let (_b, id) = s.running("ev");
        let r = s.cmd(&["events", "--stats", &id]);
        o.run("events --stats", &r);
        o.set("events keys", key_order(&r.stdout));
        let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or(Value::Null);
        o.set(
            "events memory usage>0",
            v["data"]["memory"]["usage"]["usage"].as_u64().unwrap_or(0) > 0,
        );
        // Tasks, not a count: runc's init threads may not all be gone yet.
        o.set(
            "events pids current>0",
            v["data"]["pids"]["current"].as_u64().unwrap_or(0) > 0,
        );
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run("events stopped", &s.cmd(&["events", "--stats", &id]));
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn events_stats_data() {
    differential("events_stats_data", |s, o| {
        let (_b, id) = s.running("ev");
        let r = s.cmd(&["events", "--stats", &id]);
        let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or(Value::Null);
        let top: BTreeSet<&String> = v["data"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        o.set("events data keys", format!("{top:?}"));
        for k in ["cpu", "memory", "pids", "blkio"] {
            let mut keys = BTreeSet::new();
            key_paths(&v["data"][k], "", &mut keys);
            o.set(&format!("events data.{k} keys"), format!("{keys:?}"));
        }
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn update_resources() {
    differential("update_resources", |s, o| {
        let (_b, id) = s.running("u");
        o.run(
            "update --memory",
            &s.cmd(&["update", "--memory", "64m", "--pids-limit", "50", &id]),
        );
        let r = s.cmd(&[
            "exec", &id, "sh", "-c",
            "echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=$(cat /sys/fs/cgroup/pids/pids.max)",
        ]);
        o.lines("seen", &r, s);
        let f = s.env.base.join("res.json");
        fs::write(&f, json!({"pids": {"limit": 30}}).to_string()).unwrap();
        o.run(
            "update -r",
            &s.cmd(&["update", "-r", f.to_str().unwrap(), &id]),
        );
        let r = s.cmd(&[
            "exec",
            &id,
            "sh",
            "-c",
            "echo pids=$(cat /sys/fs/cgroup/pids/pids.max)",
        ]);
        o.lines("seen -r", &r, s);
        fs::write(&f, "{not json").unwrap();
        o.run(
            "update bad json",
            &s.cmd(&["update", "-r", f.to_str().unwrap(), &id]),
        );
        s.cmd(&["kill", &id, "KILL"]);
        s.wait_stopped(&id);
        o.run(
            "update stopped",
            &s.cmd(&["update", "--pids-limit", "10", &id]),
        );
        s.cmd(&["delete", &id]);
    });
}

#[test]
fn checkpoint_unsupported() {
    differential("checkpoint_unsupported", |s, o| {
        let (_b, id) = s.running("c");
        let dir = s.env.base.join("ckpt");
        o.run(
            "checkpoint",
            &s.cmd(&["checkpoint", "--image-path", dir.to_str().unwrap(), &id]),
        );
        s.cmd(&["delete", "-f", &id]);
    });
}

// ---------------------------------------------------- the process config

#[test]
fn process_default() {
    differential("process_default", |s, o| {
        let mut b = s.bundle("p");
        o.lines("probe", &s.run_sh(&mut b, "p", PROBE), s);
    });
}

#[test]
fn process_home_from_passwd() {
    differential("process_home_from_passwd", |s, o| {
        let mut b = s.bundle("h");
        b.config["process"]["env"] = json!(["PATH=/bin"]);
        o.lines(
            "root",
            &s.run_sh(&mut b, "h0", "echo home=${HOME-<unset>}"),
            s,
        );
        b.config["process"]["user"] = json!({"uid": 65534, "gid": 65534});
        o.lines(
            "nobody",
            &s.run_sh(&mut b, "h1", "echo home=${HOME-<unset>}"),
            s,
        );
        b.config["process"]["user"] = json!({"uid": 1234, "gid": 1234});
        o.lines(
            "no entry",
            &s.run_sh(&mut b, "h2", "echo home=${HOME-<unset>}"),
            s,
        );
        let (_running, id) = s.running("he");
        o.lines(
            "exec",
            &s.cmd(&["exec", &id, "sh", "-c", "echo home=${HOME-<unset>}"]),
            s,
        );
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn process_env_entry_without_equals() {
    differential("process_env_entry_without_equals", |s, o| {
        let mut b = s.bundle("e");
        b.config["process"]["env"] = json!(["PATH=/bin", "NOEQUALS"]);
        o.run_out("run", &s.run_sh(&mut b, "e", "echo ran"), s);
    });
}

#[test]
fn process_no_path_bare_name() {
    differential("process_no_path_bare_name", |s, o| {
        let mut b = s.bundle("e");
        b.config["process"]["env"] = json!(["TERM=xterm"]);
        b.config["process"]["args"] = json!(["echo", "ran"]);
        o.run_out("run", &b.run(&s.env, &s.id("e")), s);
    });
}

#[test]
fn process_user_and_groups() {
    differential("process_user_and_groups", |s, o| {
        let mut b = s.bundle("u");
        b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 20]});
        o.lines("probe", &s.run_sh(&mut b, "u", PROBE), s);
    });
}

#[test]
fn process_session_without_terminal() {
    differential("process_session_without_terminal", |s, o| {
        let mut b = s.bundle("s");
        // pid, pgrp, session of the shell: a session leader has all three
        // equal (its own session and process group).
        let script = "set -- $(cut -d' ' -f1,5,6 /proc/$$/stat); \
                      [ $1 = $2 ] && [ $1 = $3 ] && echo leader=yes || echo leader=no; \
                      echo outside=$([ $3 = 0 ] && echo yes || echo no)";
        o.lines("pid1", &s.run_sh(&mut b, "s", script), s);
        let (_running, id) = s.running("se");
        o.lines("exec", &s.cmd(&["exec", &id, "sh", "-c", script]), s);
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn process_unknown_capability() {
    differential("process_unknown_capability", |s, o| {
        let mut b = s.bundle("c");
        for set in ["bounding", "effective", "permitted"] {
            b.config["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push(json!("CAP_FOO"));
        }
        let r = s.run_sh(
            &mut b,
            "c",
            "grep -E '^Cap(Eff|Bnd)' /proc/self/status | tr -d '\t' | sed 's/:/=/'",
        );
        o.lines("run", &r, s);
        o.warns("run", &r);
    });
}

#[test]
fn process_rlimits_and_nnp() {
    differential("process_rlimits_and_nnp", |s, o| {
        let mut b = s.bundle("r");
        b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 2048}, {"type": "RLIMIT_NPROC", "hard": 500, "soft": 400}]);
        b.config["process"]["noNewPrivileges"] = json!(false);
        o.lines(
            "probe",
            &s.run_sh(&mut b, "r", "echo nofile=$(ulimit -n) $(ulimit -Hn); echo nproc=$(ulimit -u); grep NoNewPrivs /proc/self/status | tr -d '\t' | sed 's/:/=/'"),
            s,
        );
    });
}

#[test]
fn process_relative_cwd() {
    differential("process_relative_cwd", |s, o| {
        let mut b = s.bundle("c");
        b.config["process"]["cwd"] = json!("tmp");
        let r = s.run_sh(&mut b, "c", "pwd");
        o.run("run", &r);
        o.says("run", &r, "Cwd must be an absolute path");
    });
}

#[test]
fn terminal_owned_by_the_process_user() {
    differential("terminal_owned_by_the_process_user", |s, o| {
        let mut b = s.bundle("t");
        b.config["process"]["terminal"] = json!(true);
        b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        b.sh("stat -c 'tty=%u:%g %a' $(tty) > /tmp/out; echo pgrp_session=$(cut -d' ' -f5,6 /proc/$$/stat) >> /tmp/out");
        b.save();
        let sock = s.env.base.join("console.sock");
        let rx = fd_receiver(&sock);
        let id = s.id("t");
        let r = s.detached(&[
            "run",
            "-d",
            "--console-socket",
            sock.to_str().unwrap(),
            "-b",
            b.path(),
            &id,
        ]);
        o.run("run -d tty", &r);
        let master = rx.join().unwrap();
        o.set("pty master received", master.is_some());
        if r.code == 0 {
            s.wait_stopped(&id);
        }
        // exec -t as uid 1000 into a running container.
        let (_running, eid) = s.running("te");
        let esock = s.env.base.join("exec-console.sock");
        let erx = fd_receiver(&esock);
        let er = s.detached(&[
            "exec",
            "-t",
            "-d",
            "-u",
            "1000:1000",
            "--console-socket",
            esock.to_str().unwrap(),
            &eid,
            "sh",
            "-c",
            "stat -c 'exec_tty=%u:%g %a' $(tty) > /tmp/out; sleep 100",
        ]);
        o.run("exec -t -d", &er);
        let emaster = erx.join().unwrap();
        o.set("exec pty master received", emaster.is_some());
        let ebundle = s.env.base.join("te/rootfs/tmp/out");
        wait_for("the exec'd process's output", 20, || {
            fs::read_to_string(&ebundle).is_ok_and(|t| t.ends_with('\n')) || er.code != 0
        });
        let eout = fs::read_to_string(&ebundle).unwrap_or_default();
        o.lines(
            "exec seen",
            &Run {
                code: 0,
                stdout: eout,
                stderr: String::new(),
            },
            s,
        );
        s.cmd(&["delete", "-f", &eid]);
        drop(emaster);
        let out = fs::read_to_string(b.rootfs().join("tmp/out")).unwrap_or_default();
        o.lines(
            "seen",
            &Run {
                code: 0,
                stdout: out,
                stderr: String::new(),
            },
            s,
        );
        s.cmd(&["delete", "-f", &id]);
    });
}

// ---------------------------------------------------------------- mounts

#[test]
fn mounts_default() {
    differential("mounts_default", |s, o| {
        let mut b = s.bundle("m");
        let r = s.run_sh(&mut b, "m", MOUNTS);
        o.run("run", &r);
        for l in r.stdout.lines() {
            let (mp, rest) = l.split_once(' ').unwrap_or((l, ""));
            o.set(&format!("mount {mp}"), s.norm(rest));
        }
    });
}

#[test]
fn mounts_dev_tmpfs_readonly() {
    differential("mounts_dev_tmpfs_readonly", |s, o| {
        let mut b = s.bundle("m");
        for m in b.config["mounts"].as_array_mut().unwrap() {
            if m["destination"] == "/dev" {
                m["options"].as_array_mut().unwrap().push(json!("ro"));
            }
        }
        o.lines(
            "run",
            &s.run_sh(&mut b, "m", "echo null=$(ls /dev/null); echo pts=$(ls -d /dev/pts); touch /dev/x 2>/dev/null && echo dev=rw || echo dev=ro"),
            s,
        );
    });
}

fn add_mount(b: &mut Bundle, m: Value) {
    b.config["mounts"].as_array_mut().unwrap().push(m);
}

#[test]
fn mounts_dangling_symlink_destination() {
    differential("mounts_dangling_symlink_destination", |s, o| {
        let mut b = s.bundle("m");
        symlink("/target", b.rootfs().join("link")).unwrap();
        add_mount(
            &mut b,
            json!({"destination": "/link", "type": "tmpfs", "source": "tmpfs"}),
        );
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "m",
                "grep -c ' /target ' /proc/self/mountinfo | sed 's/^/target=/'",
            ),
            s,
        );
    });
}

#[test]
fn mounts_bind_onto_host_symlink() {
    differential("mounts_bind_onto_host_symlink", |s, o| {
        let mut b = s.bundle("m");
        let src = s.env.base.join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("f"), "x").unwrap();
        // A symlink in the rootfs pointing at a host path that exists.
        symlink(s.env.base.join("hostdir"), b.rootfs().join("hl")).unwrap();
        fs::create_dir_all(s.env.base.join("hostdir")).unwrap();
        add_mount(
            &mut b,
            json!({"destination": "/hl", "type": "bind", "source": src, "options": ["bind"]}),
        );
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "m",
                "echo f=$(cat /hl/f 2>&1 || cat \"$(readlink /hl)/f\")",
            ),
            s,
        );
        o.set(
            "host dir untouched",
            fs::read_dir(s.env.base.join("hostdir"))
                .map(|d| d.count())
                .unwrap_or(99),
        );
    });
}

#[test]
fn mounts_relative_destination() {
    differential("mounts_relative_destination", |s, o| {
        let mut b = s.bundle("m");
        add_mount(
            &mut b,
            json!({"destination": "rel", "type": "tmpfs", "source": "tmpfs"}),
        );
        let r = s.run_sh(
            &mut b,
            "m",
            "grep -c ' /rel ' /proc/self/mountinfo | sed 's/^/rel=/'",
        );
        o.lines("run", &r, s);
        o.warns("run", &r);
    });
}

#[test]
fn mounts_host_proc_bind() {
    differential("mounts_host_proc_bind", |s, o| {
        let mut b = s.bundle("m");
        // runc's start_hello with a bind of the host's /proc.
        for m in b.config["mounts"].as_array_mut().unwrap() {
            if m["destination"] == "/proc" {
                *m = json!({"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind", "nosuid", "noexec", "nodev"]});
            }
        }
        o.lines("run", &s.run_sh(&mut b, "m", "echo ran=yes"), s);
    });
}

#[test]
fn mounts_proc_symlink_refused() {
    differential("mounts_proc_symlink_refused", |s, o| {
        let mut b = s.bundle("m");
        fs::remove_dir(b.rootfs().join("proc")).unwrap();
        symlink("/tmp", b.rootfs().join("proc")).unwrap();
        let r = s.run_sh(&mut b, "m", "echo ran=yes");
        o.run("run", &r);
        o.says("run", &r, "must be mounted on ordinary directory");
    });
}

fn userns(b: &mut Bundle) {
    b.config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
}

#[test]
fn mounts_userns_bind_from_root_only_dir() {
    differential("mounts_userns_bind_from_root_only_dir", |s, o| {
        let mut b = s.bundle("m");
        userns(&mut b);
        let priv_dir = s.env.base.join("private");
        fs::create_dir_all(priv_dir.join("shared")).unwrap();
        fs::set_permissions(&priv_dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(priv_dir.join("shared/f"), "x").unwrap();
        fs::set_permissions(priv_dir.join("shared/f"), fs::Permissions::from_mode(0o644)).unwrap();
        add_mount(
            &mut b,
            json!({"destination": "/mnt", "type": "bind", "source": priv_dir.join("shared"), "options": ["bind"]}),
        );
        o.lines("run", &s.run_sh(&mut b, "m", "echo f=$(cat /mnt/f)"), s);
    });
}

#[test]
fn mounts_userns_cgroup_v1() {
    differential("mounts_userns_cgroup_v1", |s, o| {
        let mut b = s.bundle("m");
        userns(&mut b);
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "m",
                "echo memory=$(ls /sys/fs/cgroup/memory/memory.limit_in_bytes)",
            ),
            s,
        );
        // /sys bound from the host, no cgroup namespace.
        for m in b.config["mounts"].as_array_mut().unwrap() {
            if m["destination"] == "/sys" {
                *m = json!({"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
        }
        o.lines("run /sys bind", &s.run_sh(&mut b, "m2", "echo ran=yes"), s);
    });
}

// ----------------------------------------------------- rootfs and paths

#[test]
fn root_readonly_and_paths() {
    differential("root_readonly_and_paths", |s, o| {
        let mut b = s.bundle("r");
        b.config["root"]["readonly"] = json!(true);
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "r",
                "touch /x 2>/dev/null && echo root=rw || echo root=ro; \
                 cat /proc/kcore >/dev/null 2>&1 && echo kcore=readable || echo kcore=masked; \
                 echo acpi=$(ls /proc/acpi 2>&1 | wc -l); \
                 echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=rw || echo procsys=ro; \
                 touch /tmp/x 2>/dev/null && echo tmp=rw || echo tmp=ro",
            ),
            s,
        );
    });
}

#[test]
fn namespaces_none_readonly_root() {
    differential("namespaces_none_readonly_root", |s, o| {
        let mut b = s.bundle("n");
        // runtime-tools' ns_itype shape: no namespaces at all.
        b.config["linux"]["namespaces"] = json!([]);
        b.config["hostname"].take();
        b.config["root"]["readonly"] = json!(true);
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "n",
                "echo ran=yes; touch /x 2>/dev/null && echo root=rw || echo root=ro",
            ),
            s,
        );
    });
}

#[test]
fn hostname_and_sysctl_conflicts() {
    differential("hostname_and_sysctl_conflicts", |s, o| {
        let mut b = s.bundle("h");
        b.config["hostname"] = json!("box");
        o.lines(
            "hostname",
            &s.run_sh(&mut b, "h0", "echo hostname=$(hostname)"),
            s,
        );
        b.config["linux"]["sysctl"] = json!({"kernel.hostname": "other"});
        o.run(
            "sysctl kernel.hostname",
            &s.run_sh(&mut b, "h1", "hostname"),
        );
        b.config["linux"]["sysctl"] = json!({"kernel.domainname": "other"});
        b.config["domainname"] = json!("dom");
        o.run("sysctl kernel.domainname", &s.run_sh(&mut b, "h2", "true"));
        b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
        o.lines(
            "sysctl net",
            &s.run_sh(
                &mut b,
                "h3",
                "echo fwd=$(cat /proc/sys/net/ipv4/ip_forward)",
            ),
            s,
        );
    });
}

// --------------------------------------------------------------- devices

#[test]
fn devices_default() {
    differential("devices_default", |s, o| {
        let mut b = s.bundle("d");
        let r = s.run_sh(
            &mut b,
            "d",
            "ls -la /dev | awk '{print $1, $3, $4, $5, $6, $NF}' | grep -v '^total'; \
             echo x > /dev/null && echo null=w; head -c1 /dev/zero | wc -c | sed 's/^/zero=/'; \
             head -c1 /dev/urandom | wc -c | sed 's/^/urandom=/'; \
             mknod /dev/sda b 8 0 2>/dev/null && (head -c1 /dev/sda >/dev/null 2>&1 && echo sda=readable || echo sda=denied) || echo sda=nomknod",
        );
        o.lines("dev", &r, s);
    });
}

#[test]
fn devices_outside_dev() {
    differential("devices_outside_dev", |s, o| {
        let mut b = s.bundle("d");
        b.config["linux"]["devices"] = json!([{"path": "/foo-dev", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}]);
        o.lines(
            "run",
            &s.run_sh(&mut b, "d", "echo dev=$(stat -c '%F %t:%T' /foo-dev)"),
            s,
        );
    });
}

#[test]
fn devices_cgroup_rwa() {
    differential("devices_cgroup_rwa", |s, o| {
        let mut b = s.bundle("d");
        b.config["linux"]["resources"]["devices"] = json!([{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwa"}]);
        o.lines(
            "run",
            &s.run_sh(&mut b, "d", "echo x > /dev/null && echo null=w"),
            s,
        );
    });
}

// ---------------------------------------------------------------- cgroups

#[test]
fn cgroup_files() {
    differential("cgroup_files", |s, o| {
        let mut b = s.bundle("c");
        b.config["linux"]["resources"]["memory"] = json!({"limit": 67108864});
        b.config["linux"]["resources"]["pids"] = json!({"limit": 77});
        b.config["linux"]["resources"]["cpu"] = json!({"shares": 512});
        o.lines(
            "run",
            &s.run_sh(
                &mut b,
                "c",
                "echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=$(cat /sys/fs/cgroup/pids/pids.max); \
                 echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares); echo procs=$(wc -l < /sys/fs/cgroup/pids/cgroup.procs); \
                 grep -E ':(memory|pids):' /proc/self/cgroup | sed 's/^[0-9]*:/cg_/; s/:/=/'",
            ),
            s,
        );
    });
}

/// The v1 cgroup dirs of `rel` (under /sys/fs/cgroup/<ctrl>/) that exist.
fn v1_dirs(rel: &str) -> Vec<PathBuf> {
    fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|c| c.path().join(rel.trim_start_matches('/')))
        .filter(|p| p.exists())
        .collect()
}

fn rmdir_cgroup(rel: &str) {
    for d in v1_dirs(rel) {
        let _ = fs::remove_dir(d);
    }
}

#[test]
fn cgroup_v1_pod_parent_cpuset() {
    differential("cgroup_v1_pod_parent_cpuset", |s, o| {
        // A pod cgroup made as kubelet makes it: cpuset.cpus/mems empty.
        let pod = format!("remora/{}-pod", s.env.name);
        fs::create_dir_all(format!("/sys/fs/cgroup/cpuset/{pod}")).unwrap();
        let mut b = s.bundle("c");
        let id = s.id("c");
        b.config["linux"]["cgroupsPath"] = json!(format!("/{pod}/{id}"));
        b.sh("sleep 1000");
        b.save();
        o.run("run -d", &s.detached(&["run", "-d", "-b", b.path(), &id]));
        o.run(
            "update cpuset",
            &s.cmd(&["update", "--cpuset-cpus", "0", &id]),
        );
        o.lines(
            "seen",
            &s.cmd(&[
                "exec",
                &id,
                "sh",
                "-c",
                "echo cpus=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)",
            ]),
            s,
        );
        s.cmd(&["delete", "-f", &id]);
        rmdir_cgroup(&format!("{pod}/{id}"));
        rmdir_cgroup(&pod);
    });
}

#[test]
fn cgroup_not_empty_warns() {
    differential("cgroup_not_empty_warns", |s, o| {
        let id = s.id("c");
        let rel = format!("remora/{id}");
        let mut squatter = Command::new("sleep").arg("1000").spawn().unwrap();
        for ctrl in ["memory", "pids"] {
            let d = PathBuf::from("/sys/fs/cgroup").join(ctrl).join(&rel);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("cgroup.procs"), squatter.id().to_string()).unwrap();
        }
        let mut b = s.bundle("c");
        b.sh("true");
        let r = b.run(&s.env, &id);
        o.run("run", &r);
        o.warns("run", &r);
        squatter.kill().unwrap();
        squatter.wait().unwrap();
        s.cmd(&["delete", "-f", &id]);
        rmdir_cgroup(&rel);
    });
}

#[test]
fn cgroup_frozen_before_create() {
    differential("cgroup_frozen_before_create", |s, o| {
        let id = s.id("c");
        let d = PathBuf::from(format!("/sys/fs/cgroup/freezer/remora/{id}"));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("freezer.state"), "FROZEN").unwrap();
        let mut b = s.bundle("c");
        b.sh("true");
        b.save();
        // Bounded: a runtime that waits for a frozen init would hang here.
        let r: Run = Command::new("timeout")
            .args(["60"])
            .arg(&s.env.bin)
            .arg("--root")
            .arg(&s.env.root)
            .args(["create", "-b", b.path(), &id])
            .stdin(std::process::Stdio::null())
            .stdout(fs::File::create(s.env.base.join("create.out")).unwrap())
            .stderr(fs::File::create(s.env.base.join("create.err")).unwrap())
            .status()
            .map(|st| Run {
                code: st.code().unwrap_or(-1),
                stdout: String::new(),
                stderr: fs::read_to_string(s.env.base.join("create.err")).unwrap_or_default(),
            })
            .unwrap();
        o.run("create", &r);
        o.says("create", &r, "container's cgroup unexpectedly frozen");
        fs::write(d.join("freezer.state"), "THAWED").unwrap();
        s.cmd(&["delete", "-f", &id]);
        rmdir_cgroup(&format!("remora/{id}"));
    });
}

#[test]
fn cgroup_unified_on_v1() {
    differential("cgroup_unified_on_v1", |s, o| {
        let mut b = s.bundle("c");
        b.config["linux"]["resources"]["unified"] = json!({"memory.max": "1000000"});
        let r = s.run_sh(&mut b, "c", "true");
        o.run("run", &r);
        o.says("run", &r, "invalid configuration");
    });
}

// ------------------------------------------------------------------ hooks

/// A hook that records, under `<base>/hooks/<name>`, the state status it
/// got on stdin, its working directory and whether it has the runtime's
/// environment (PATH), then exits `code`.
fn recording_hook(s: &Side, name: &str, code: i32) -> Value {
    let dir = s.env.base.join("hooks");
    fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    hook(&format!(
        "st=$(cat); echo \"$st\" | sed -n 's/.*\"status\": *\"\\([a-z]*\\)\".*/status=\\1/p' > {f}; \
         echo \"cwd=$(pwd)\" >> {f}; echo \"has_path=${{PATH:+yes}}\" >> {f}; exit {code}",
        f = f.display()
    ))
}

fn hook_obs(s: &Side, o: &mut Obs, names: &[&str]) {
    for n in names {
        let text = fs::read_to_string(s.env.base.join("hooks").join(n))
            .unwrap_or_else(|_| "ran=no".into());
        o.lines(
            &format!("hook {n}"),
            &Run {
                code: 0,
                stdout: text,
                stderr: String::new(),
            },
            s,
        );
    }
}

const HOOKS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

#[test]
fn hooks_state_cwd_env() {
    differential("hooks_state_cwd_env", |s, o| {
        let mut b = s.bundle("h");
        for h in HOOKS {
            b.config["hooks"][h] = json!([recording_hook(s, h, 0)]);
        }
        let r = s.run_sh(&mut b, "h", "true");
        o.run("run", &r);
        hook_obs(s, o, &HOOKS);
    });
}

#[test]
fn hooks_failing() {
    differential("hooks_failing", |s, o| {
        for failing in [
            "prestart",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ] {
            let mut b = s.bundle(failing);
            for h in HOOKS {
                b.config["hooks"][h] = json!([recording_hook(
                    s,
                    &format!("{failing}-{h}"),
                    i32::from(h == failing)
                )]);
            }
            b.sh("sleep 1000");
            b.save();
            let id = s.id(failing);
            let r = s.detached(&["run", "-d", "-b", b.path(), &id]);
            o.run(&format!("{failing} fails: run -d"), &r);
            o.says(
                &format!("{failing} fails: run -d"),
                &r,
                "error running hook",
            );
            o.set(&format!("{failing} fails: status"), s.status(&id));
            o.run(
                &format!("{failing} fails: delete -f"),
                &s.cmd(&["delete", "-f", &id]),
            );
            let ran: Vec<&str> = HOOKS
                .iter()
                .copied()
                .filter(|h| {
                    s.env
                        .base
                        .join("hooks")
                        .join(format!("{failing}-{h}"))
                        .exists()
                })
                .collect();
            o.set(&format!("{failing} fails: hooks run"), ran.join(","));
        }
    });
}

// ---------------------------------------------------------------- seccomp

fn seccomp_notify(b: &mut Bundle, sock: &Path) {
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock,
        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_NOTIFY"}]
    });
}

#[test]
fn seccomp_errno_rule() {
    differential("seccomp_errno_rule", |s, o| {
        let mut b = s.bundle("s");
        b.config["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
        });
        o.lines(
            "run",
            &s.run_sh(&mut b, "s", "mkdir /tmp/d 2>/dev/null && echo mkdir=ok || echo mkdir=denied; grep Seccomp: /proc/self/status | tr -d '\t' | sed 's/:/=/'"),
            s,
        );
    });
}

#[test]
fn seccomp_listener_and_exec() {
    differential("seccomp_listener_and_exec", |s, o| {
        let mut b = s.bundle("s");
        let sock = s.env.base.join("agent.sock");
        // The agent takes the listeners of the init and of the exec.
        let agent = fd_receivers(&sock, 2);
        seccomp_notify(&mut b, &sock);
        b.sh("sleep 1000");
        b.save();
        let id = s.id("s");
        o.run("run -d", &s.detached(&["run", "-d", "-b", b.path(), &id]));
        o.run_out("exec", &s.cmd(&["exec", &id, "echo", "exec-ok"]), s);
        s.cmd(&["kill", &id, "KILL"]);
        let fds = agent.join().unwrap();
        o.set("listeners the agent got", fds.len());
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn seccomp_listener_without_agent() {
    differential("seccomp_listener_without_agent", |s, o| {
        let mut b = s.bundle("s");
        seccomp_notify(&mut b, &s.env.base.join("nobody.sock"));
        let r = s.run_sh(&mut b, "s", "true");
        o.run("run", &r);
        o.says("run", &r, "failed to connect with seccomp agent");
    });
}

#[test]
fn create_and_run_flags() {
    differential("create_and_run_flags", |s, o| {
        let mut b = s.bundle("f");
        b.sh("sleep 1000");
        b.config["annotations"] = json!({"org.example.key": "v"});
        b.save();
        let id = s.id("f");
        let pidfile = s.env.base.join("init.pid");
        let r = s.detached(&[
            "create",
            "--pid-file",
            pidfile.to_str().unwrap(),
            "--no-pivot",
            "--no-new-keyring",
            "-b",
            b.path(),
            &id,
        ]);
        o.run("create --pid-file --no-pivot --no-new-keyring", &r);
        let text = fs::read_to_string(&pidfile).unwrap_or_default();
        let st = s.cmd(&["state", &id]);
        let v: Value = serde_json::from_str(&st.stdout).unwrap_or(Value::Null);
        o.set(
            "pid file is the init's pid",
            v["pid"].as_i64().map(|p| p.to_string()) == Some(text.clone()),
        );
        o.set("pid file ends with a newline", text.ends_with('\n'));
        o.set("state keys with annotations", key_order(&st.stdout));
        o.set("state annotations", v["annotations"].clone());
        let r = s.cmd(&["list", "--format", "json"]);
        o.set("list keys with annotations", key_order(&r.stdout));
        s.cmd(&["start", &id]);
        o.lines(
            "exec in no-pivot container",
            &s.cmd(&["exec", &id, "sh", "-c", "echo root=$(ls -d /bin)"]),
            s,
        );
        s.cmd(&["delete", "-f", &id]);
        // run --keep: the stopped container stays until deleted.
        b.sh("exit 7");
        b.save();
        let kid = s.id("k");
        o.run(
            "run --keep",
            &s.cmd(&["run", "--keep", "-b", b.path(), &kid]),
        );
        o.set("run --keep status", s.status(&kid));
        o.run("delete kept", &s.cmd(&["delete", &kid]));
    });
}

#[test]
fn user_namespace_probe() {
    differential("user_namespace_probe", |s, o| {
        let mut b = s.bundle("u");
        userns(&mut b);
        o.lines(
            "probe",
            &s.run_sh(
                &mut b,
                "u",
                "echo uid_map=$(cat /proc/self/uid_map | tr -s ' '); echo gid_map=$(cat /proc/self/gid_map | tr -s ' '); \
                 echo id=$(id); echo setgroups=$(cat /proc/self/setgroups); \
                 grep -E '^Cap(Eff|Bnd)' /proc/self/status | tr -d '\t' | sed 's/:/=/'; \
                 echo rootfs_owner=$(stat -c %u:%g /bin/busybox)",
            ),
            s,
        );
    });
}

#[test]
fn process_oom_score_adj_and_domainname() {
    differential("process_oom_score_adj_and_domainname", |s, o| {
        let mut b = s.bundle("p");
        b.config["process"]["oomScoreAdj"] = json!(300);
        b.config["domainname"] = json!("example.org");
        o.lines(
            "probe",
            &s.run_sh(
                &mut b,
                "p",
                "echo oom=$(cat /proc/self/oom_score_adj); echo domain=$(cat /proc/sys/kernel/domainname)",
            ),
            s,
        );
    });
}

#[test]
fn exec_no_new_privs_and_cpu_update() {
    differential("exec_no_new_privs_and_cpu_update", |s, o| {
        let mut b = s.bundle("n");
        b.config["process"]["noNewPrivileges"] = json!(false);
        b.sh("sleep 1000");
        b.save();
        let id = s.id("n");
        o.run("run -d", &s.detached(&["run", "-d", "-b", b.path(), &id]));
        let nnp = "grep NoNewPrivs /proc/self/status | tr -d '\t' | sed 's/:/=/'";
        o.lines("exec", &s.cmd(&["exec", &id, "sh", "-c", nnp]), s);
        o.lines(
            "exec --no-new-privs",
            &s.cmd(&["exec", "--no-new-privs", &id, "sh", "-c", nnp]),
            s,
        );
        o.run(
            "update cpu",
            &s.cmd(&[
                "update",
                "--cpu-period",
                "100000",
                "--cpu-quota",
                "50000",
                "--cpu-share",
                "256",
                &id,
            ]),
        );
        o.lines(
            "seen",
            &s.cmd(&[
                "exec", &id, "sh", "-c",
                "echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); echo period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us); echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)",
            ]),
            s,
        );
        s.cmd(&["delete", "-f", &id]);
    });
}

#[test]
fn namespaces_joined_by_path() {
    differential("namespaces_joined_by_path", |s, o| {
        let (_a, aid) = s.running("a");
        let st = s.cmd(&["state", &aid]);
        let pid = serde_json::from_str::<Value>(&st.stdout).unwrap_or(Value::Null)["pid"]
            .as_i64()
            .unwrap_or(0);
        let mut b = s.bundle("b");
        for n in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "network" || n["type"] == "ipc" {
                n["path"] = json!(format!(
                    "/proc/{pid}/ns/{}",
                    if n["type"] == "network" { "net" } else { "ipc" }
                ));
            }
        }
        let r = s.run_sh(&mut b, "b", "echo net=$(readlink /proc/self/ns/net); echo ipc=$(readlink /proc/self/ns/ipc); echo pid=$(readlink /proc/self/ns/pid)");
        o.run("run", &r);
        for (ns, file) in [("net", "net"), ("ipc", "ipc"), ("pid", "pid")] {
            let theirs = remora_integration_tests::ns_of(&pid.to_string(), file);
            let mine = r
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{ns}=")))
                .unwrap_or_default()
                .to_string();
            o.set(
                &format!("{ns} shared with the first container"),
                !mine.is_empty() && mine == theirs,
            );
        }
        s.cmd(&["delete", "-f", &aid]);
    });
}

#[test]
fn config_invalid() {
    differential("config_invalid", |s, o| {
        let b = s.bundle("c");
        fs::write(b.dir.join("config.json"), "{not json").unwrap();
        o.run(
            "create bad json",
            &s.detached(&["create", "-b", b.path(), &s.id("c")]),
        );
        let mut b = s.bundle("c2");
        b.config["process"]["args"] = json!([]);
        o.run("create empty args", &b.create(&s.env, &s.id("c2")));
        let mut b = s.bundle("c3");
        b.config["root"]["path"] = json!("missing-rootfs");
        o.run("create missing rootfs", &b.create(&s.env, &s.id("c3")));
    });
}
