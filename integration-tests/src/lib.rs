//! Helpers for the integration tests: busybox bundles, a private state
//! root per test, running the built `remora` binary, and the check that a
//! test left nothing behind (containers, processes, mounts, cgroups).
//!
//! Every test makes a [`TestEnv`]; dropping it force-deletes whatever
//! containers are left in its state root and then asserts that nothing of
//! them remains on the host.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

/// The remora binary under test: $REMORA_BIN, else the one cargo built
/// beside this test (the test is <profile dir>/deps/NAME; the binary is
/// <profile dir>/remora).
pub fn remora_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("REMORA_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current_exe");
    let p = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("remora"))
        .expect("test binary in <profile>/deps");
    assert!(p.exists(), "{} missing: cargo build -p remora", p.display());
    p
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A test's private area: a temp dir with bundles and the state root.
pub struct TestEnv {
    pub base: PathBuf,
    pub root: PathBuf,
    pub name: String,
    /// The remora binary this test runs ([`remora_bin`] unless the test
    /// runs a copy: [`TestEnv::use_binary_copy`]).
    pub bin: PathBuf,
}

/// The result of a remora command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = o
            .status
            .code()
            .unwrap_or_else(|| 128 + o.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "remora failed: stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts exit 1 with `msg` in the error remora printed.
    pub fn fails_with(&self, msg: &str) {
        assert_eq!(
            self.code, 1,
            "expected failure {msg:?}; stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        let text = self.error_text();
        assert!(text.contains(msg), "stderr {:?} lacks {msg:?}", self.stderr);
    }

    /// The messages of stderr: runc's text form (`time=".." level=error
    /// msg=".."`) and JSON lines give their `msg`, unquoted; other lines
    /// are kept as they are.
    pub fn error_text(&self) -> String {
        self.stderr
            .lines()
            .map(|l| log_msg(l).unwrap_or_else(|| l.to_string()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The `msg` of one log line, in remora's text (logfmt, the message
/// quoted with Rust's Debug escapes) or JSON form.
pub fn log_msg(line: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(line) {
        return v["msg"].as_str().map(String::from);
    }
    if !line.starts_with("time=\"") {
        return None;
    }
    let quoted = &line[line.find(" msg=\"")? + 5..];
    let mut out = String::new();
    let mut chars = quoted[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'u' => {
                    let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

impl TestEnv {
    pub fn new(name: &str) -> Self {
        // SAFETY: geteuid cannot fail.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(euid, 0, "the integration tests run as root");
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let name = format!("it-{name}-{}-{n}", std::process::id());
        let base = std::env::temp_dir().join(format!("remora-{name}"));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        let root = base.join("state");
        TestEnv {
            base,
            root,
            name,
            bin: remora_bin(),
        }
    }

    /// A TestEnv whose commands run another runtime binary (the
    /// differential harness runs runc so, beside remora).
    pub fn with_runtime(name: &str, bin: &Path) -> Self {
        let mut env = TestEnv::new(name);
        env.bin = bin.to_path_buf();
        env
    }

    /// Runs every later command with a copy of the remora binary (under
    /// the test's dir), for tests that attack the binary; returns it.
    pub fn use_binary_copy(&mut self) -> PathBuf {
        let dir = self.base.join("bin");
        fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("remora");
        fs::copy(remora_bin(), &copy).expect("copying the remora binary");
        // A child another test thread forked while the copy was being
        // written holds it open for writing until that child execs: until
        // then executing the copy fails with ETXTBSY. Wait that out once.
        for _ in 0..200 {
            match Command::new(&copy).arg("--version").output() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                r => {
                    r.expect("running the copy of the remora binary");
                    break;
                }
            }
        }
        self.bin = copy.clone();
        copy
    }

    /// A container ID unique to this test.
    pub fn id(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.name)
    }

    /// `remora --root <private> ARGS`, stdin from /dev/null.
    pub fn remora(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("running remora").into()
    }

    /// Like [`remora`](Self::remora), for commands that leave a container
    /// holding their stdio (create, run -d): stdout and stderr go to files,
    /// read back once remora exits.
    pub fn remora_detached(&self, args: &[&str]) -> Run {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let out = self.base.join(format!("stdout-{n}"));
        let err = self.base.join(format!("stderr-{n}"));
        let status = self
            .command(args)
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .status()
            .expect("running remora");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// The Command for `remora --root <private> ARGS`, to customise.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root).args(args);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// A busybox bundle with runc's default config (terminal off).
    pub fn bundle(&self, name: &str) -> Bundle {
        let dir = self.base.join(name);
        let rootfs = dir.join("rootfs");
        make_busybox_rootfs(&rootfs);
        let out = Command::new(remora_bin())
            .args(["spec", "-b"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "remora spec: {:?}", out);
        let mut config: Value =
            serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
        config["process"]["terminal"] = json!(false);
        // Tests write into the rootfs unless they say otherwise.
        config["root"]["readonly"] = json!(false);
        Bundle { dir, config }
    }

    /// Force-deletes every container left in the state root.
    fn delete_all(&self) {
        let list = self.remora(&["list", "-q"]);
        for id in list.stdout.lines().filter(|l| !l.is_empty()) {
            self.remora(&["delete", "--force", id]);
        }
    }

    /// Asserts that no container of this test left anything on the host.
    pub fn assert_nothing_left(&self) {
        let left = self.leftovers();
        assert!(left.is_empty(), "left on the host: {left:?}");
    }

    /// What the containers of this test left on the host, one entry each:
    /// containers still listed, state directories, mounts under the
    /// test's dir, processes rooted there, cgroups named after the test.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let listed = self.remora(&["list", "-q"]).stdout;
        out.extend(
            listed
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("container {l}")),
        );
        if let Ok(rd) = fs::read_dir(&self.root) {
            out.extend(
                rd.flatten()
                    .map(|e| format!("state dir {}", e.file_name().to_string_lossy())),
            );
        }
        let base = self.base.to_string_lossy().into_owned();
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
        out.extend(
            mounts
                .lines()
                .filter(|l| l.contains(&base))
                .map(|l| format!("mount {l}")),
        );
        out.extend(
            processes_in(&self.base)
                .iter()
                .map(|p| format!("process {p}")),
        );
        out.extend(
            cgroup_dirs_named(&self.name)
                .iter()
                .map(|c| format!("cgroup {}", c.display())),
        );
        out
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.delete_all();
        if !std::thread::panicking() {
            self.assert_nothing_left();
        }
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Reports a test that checked nothing on this host, in the one form the
/// CI steps count as a skip (never as a pass): `SKIP <test>: <why>`. The
/// test returns right after.
pub fn skip(test: &str, why: &str) {
    println!("SKIP {test}: {why}");
}

/// PIDs of processes whose root or cwd is under `dir`.
pub fn processes_in(dir: &Path) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        for link in ["root", "cwd"] {
            if let Ok(t) = fs::read_link(e.path().join(link)) {
                if t.starts_with(dir) {
                    // Zombies have no root; a live process under dir is a leak.
                    out.push(pid);
                    break;
                }
            }
        }
    }
    out
}

/// The parents of the tests' cgroups under every hierarchy: /remora (the
/// default cgroupsPath is /remora/<id>) and /remora-cgt (cgroups.rs).
/// scripts/it-leftovers.sh sweeps the same.
pub const CGROUP_PARENTS: [&str; 2] = ["remora", "remora-cgt"];

/// Cgroup directories under /sys/fs/cgroup/[*/]{remora,remora-cgt} whose
/// name starts with `prefix`.
pub fn cgroup_dirs_named(prefix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(ctrls) = fs::read_dir("/sys/fs/cgroup") else {
        return out;
    };
    let mut hierarchies = vec![PathBuf::from("/sys/fs/cgroup")];
    hierarchies.extend(ctrls.flatten().map(|c| c.path()));
    let candidates = hierarchies
        .iter()
        .flat_map(|h| CGROUP_PARENTS.iter().map(move |p| h.join(p)));
    for dir in candidates {
        if let Ok(rd) = fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(prefix) {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

/// rootfs: /bin/busybox and its applets, /etc/passwd and /etc/group.
pub fn make_busybox_rootfs(rootfs: &Path) {
    let bin = rootfs.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for d in ["etc", "proc", "sys", "dev", "tmp", "root"] {
        fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    fs::copy("/bin/busybox", bin.join("busybox")).expect("/bin/busybox (busybox-static)");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = symlink("busybox", bin.join(applet));
        }
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
}

/// A bundle: its directory and the config.json it will be given.
pub struct Bundle {
    pub dir: PathBuf,
    pub config: Value,
}

impl Bundle {
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// A new user namespace whose ids 0-65535 are the host's `host`..
    /// `host + 65535` (uid and gid).
    pub fn in_user_namespace(&mut self, host: u32) -> &mut Self {
        let map = json!([{"containerID": 0, "hostID": host, "size": 65536}]);
        self.config["linux"]["uidMappings"] = map.clone();
        self.config["linux"]["gidMappings"] = map;
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        self
    }

    /// process.args = ["sh", "-c", script].
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.config["process"]["args"] = json!(["sh", "-c", script]);
        self
    }

    pub fn save(&self) {
        fs::write(
            self.dir.join("config.json"),
            serde_json::to_vec_pretty(&self.config).unwrap(),
        )
        .unwrap();
    }

    /// Saves the config and runs `remora run -b DIR ID` in the foreground.
    pub fn run(&self, env: &TestEnv, id: &str) -> Run {
        self.save();
        env.remora(&["run", "-b", self.path(), id])
    }

    /// Saves the config and runs `remora create -b DIR ID`.
    pub fn create(&self, env: &TestEnv, id: &str) -> Run {
        self.save();
        env.remora_detached(&["create", "-b", self.path(), id])
    }

    /// Runs a shell script in a fresh container and returns its stdout,
    /// asserting it exited 0.
    pub fn output_of(&mut self, env: &TestEnv, script: &str) -> String {
        self.sh(script);
        let id = env.id(&format!("o{}", SEQ.fetch_add(1, Ordering::SeqCst)));
        let r = self.run(env, &id);
        r.ok().to_string()
    }
}

/// A namespace's identity ("net:[4026531840]") for a process.
pub fn ns_of(pid: &str, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The JSON of `remora state ID`.
pub fn state(env: &TestEnv, id: &str) -> Value {
    let r = env.remora(&["state", id]);
    serde_json::from_str(r.ok()).expect("state is JSON")
}

/// Polls `cond` every 20 ms until it holds; fails the test after `secs`.
pub fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether this host has AppArmor enabled (as runc decides it).
pub fn apparmor_enabled() -> bool {
    fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|s| s.starts_with('Y'))
}

/// Whether this host has SELinux (selinuxfs mounted, as runc decides it).
pub fn selinux_enabled() -> bool {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("selinuxfs "))
        })
}
