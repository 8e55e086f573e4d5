//! Rootless remora: run by a real unprivileged user the test makes
//! (useradd, with /etc/subuid and /etc/subgid ranges; removed after),
//! from `remora spec --rootless` as is, its state under the user's
//! $XDG_RUNTIME_DIR/remora. Each scenario also runs under runc 1.1.5 when
//! it is installed, and prints one line of the remora/runc table
//! ("TABLE | scenario | remora | runc"); remora's result is asserted,
//! runc's recorded. Also idmapped bind mounts (as root: the kernel wants
//! privilege over the source's filesystem for MOUNT_ATTR_IDMAP).
//!
//! This host's cgroups are hybrid (v1 controllers): a rootless container
//! gets no cgroup here, so pause and limits fail clearly; the delegated
//! cgroup v2 cases run in the qemu VM (scripts/cgroupv2-vm/).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use remora_integration_tests::{make_busybox_rootfs, Run, TestEnv};
use serde_json::{json, Value};

const RUNC: &str = "/usr/sbin/runc";
static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A user made for one test: its subordinate ranges as useradd
/// allocated them; userdel'd (and its ranges checked gone) on drop.
struct TestUser {
    name: String,
    uid: u32,
    gid: u32,
    subuid: (u64, u64),
    subgid: (u64, u64),
}

fn sub_range(file: &str, name: &str) -> Option<(u64, u64)> {
    fs::read_to_string(file).ok()?.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() != 3 || f[0] != name {
            return None;
        }
        Some((f[1].parse().ok()?, f[2].parse().ok()?))
    })
}

impl TestUser {
    fn new() -> Self {
        let name = format!(
            "rmrl{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let st = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/bin/sh", &name])
            .status()
            .expect("useradd (passwd package)");
        assert!(st.success(), "useradd {name}");
        let id = |flag: &str| -> u32 {
            let o = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
        };
        let mut u = TestUser {
            uid: id("-u"),
            gid: id("-g"),
            subuid: (0, 0),
            subgid: (0, 0),
            name,
        };
        // useradd allocates ranges when login.defs says SUB_UID_COUNT;
        // else give one.
        if sub_range("/etc/subuid", &u.name).is_none()
            || sub_range("/etc/subgid", &u.name).is_none()
        {
            let base = 400_000 + 65_536 * (u.uid as u64 % 1000);
            let r = format!("{base}-{}", base + 65_535);
            let st = Command::new("usermod")
                .args(["--add-subuids", &r, "--add-subgids", &r, &u.name])
                .status()
                .unwrap();
            assert!(st.success());
        }
        u.subuid = sub_range("/etc/subuid", &u.name).expect("subuid entry");
        u.subgid = sub_range("/etc/subgid", &u.name).expect("subgid entry");
        u
    }

    /// `prog args` as this user, with a clean environment.
    fn command(&self, xdg: &Path, prog: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            &self.uid.to_string(),
            "--regid",
            &self.gid.to_string(),
            "--init-groups",
            "--",
        ])
        .arg(prog)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("HOME", "/")
        .env("XDG_RUNTIME_DIR", xdg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        c
    }

    /// Processes running as one of this user's host ids.
    fn processes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in fs::read_dir("/proc").unwrap().flatten() {
            if e.file_name().to_string_lossy().parse::<u32>().is_err() {
                continue;
            }
            let Ok(status) = fs::read_to_string(e.path().join("status")) else {
                continue;
            };
            let uid: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next()?.parse().ok())
                .unwrap_or(0);
            let mine = uid == self.uid as u64
                || (uid >= self.subuid.0 && uid < self.subuid.0 + self.subuid.1);
            // A zombie holds nothing (PID 1 here reaps orphans late).
            let zombie = status
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'));
            if mine && !zombie {
                let cmd = fs::read(e.path().join("cmdline")).unwrap_or_default();
                let state = status
                    .lines()
                    .find_map(|l| l.strip_prefix("State:"))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                out.push(format!(
                    "{} uid {uid} ({state}) {:?} ppid {:?}",
                    e.file_name().to_string_lossy(),
                    String::from_utf8_lossy(&cmd).replace('\0', " "),
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("PPid:"))
                        .unwrap_or("")
                        .trim()
                ));
            }
        }
        out
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // Nothing of the user's may be running when it goes.
        let left = self.processes();
        let _ = Command::new("userdel").arg(&self.name).status();
        // Debian's userdel removes the subordinate ranges; make sure.
        if sub_range("/etc/subuid", &self.name).is_some()
            || sub_range("/etc/subgid", &self.name).is_some()
        {
            let r = |(a, n): (u64, u64)| format!("{a}-{}", a + n - 1);
            let _ = Command::new("usermod")
                .args([
                    "--del-subuids",
                    &r(self.subuid),
                    "--del-subgids",
                    &r(self.subgid),
                    &self.name,
                ])
                .status();
        }
        if !std::thread::panicking() {
            assert!(left.is_empty(), "processes of {} left: {left:?}", self.name);
            let passwd = fs::read_to_string("/etc/passwd").unwrap();
            assert!(!passwd
                .lines()
                .any(|l| l.starts_with(&format!("{}:", self.name))));
            assert!(
                sub_range("/etc/subuid", &self.name).is_none(),
                "subuid entry left"
            );
            assert!(
                sub_range("/etc/subgid", &self.name).is_none(),
                "subgid entry left"
            );
        }
    }
}

/// One rootless test: the user, a private area (TestEnv: its drop checks
/// for processes and mounts under it), the user's XDG_RUNTIME_DIR, and
/// the runtimes to run (remora's copy readable by the user; runc if
/// installed).
struct Rootless {
    env: TestEnv,
    user: TestUser,
    xdg: PathBuf,
    remora: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rt {
    Remora,
    Runc,
}

impl Rootless {
    fn new(name: &str) -> Self {
        let mut env = TestEnv::new(name);
        let remora = env.use_binary_copy();
        let user = TestUser::new();
        let xdg = env.base.join("xdg");
        fs::create_dir_all(&xdg).unwrap();
        std::os::unix::fs::chown(&xdg, Some(user.uid), Some(user.gid)).unwrap();
        fs::set_permissions(&xdg, fs::Permissions::from_mode(0o700)).unwrap();
        Rootless {
            env,
            user,
            xdg,
            remora,
        }
    }

    fn runtimes(&self) -> Vec<Rt> {
        if Path::new(RUNC).exists() {
            vec![Rt::Remora, Rt::Runc]
        } else {
            println!("SKIP the runc column: {RUNC} missing (apt-get install runc)");
            vec![Rt::Remora]
        }
    }

    fn bin(&self, rt: Rt) -> PathBuf {
        match rt {
            Rt::Remora => self.remora.clone(),
            Rt::Runc => RUNC.into(),
        }
    }

    /// The runtime's state root under the user's XDG_RUNTIME_DIR.
    fn state_root(&self, rt: Rt) -> PathBuf {
        self.xdg.join(match rt {
            Rt::Remora => "remora",
            Rt::Runc => "runc",
        })
    }

    /// `RUNTIME args` as the user (default --root).
    fn run(&self, rt: Rt, args: &[&str]) -> Run {
        self.user
            .command(&self.xdg, &self.bin(rt), args)
            .output()
            .expect("running the runtime as the user")
            .into()
    }

    /// Like `run`, for commands leaving a container holding stdio.
    fn run_detached(&self, rt: Rt, args: &[&str]) -> Run {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let (out, err) = (
            self.env.base.join(format!("o{n}")),
            self.env.base.join(format!("e{n}")),
        );
        let status = self
            .user
            .command(&self.xdg, &self.bin(rt), args)
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// A busybox bundle whose config.json is the runtime's own `spec
    /// --rootless`, written by the user, with `edit` applied (terminal
    /// off first).
    fn bundle(&self, rt: Rt, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let dir = self.env.base.join(format!("{name}-{rt:?}"));
        make_busybox_rootfs(&dir.join("rootfs"));
        std::os::unix::fs::chown(&dir, Some(self.user.uid), Some(self.user.gid)).unwrap();
        let r = self.run(rt, &["spec", "--rootless", "-b", dir.to_str().unwrap()]);
        r.ok();
        let path = dir.join("config.json");
        let mut c: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        c["process"]["terminal"] = json!(false);
        edit(&mut c);
        fs::write(&path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        dir
    }

    fn id(&self, rt: Rt, s: &str) -> String {
        self.env.id(&format!("{s}-{rt:?}").to_lowercase())
    }

    /// Nothing of the runtime left under the user's state root.
    fn assert_no_state(&self, rt: Rt) {
        let root = self.state_root(rt);
        let left: Vec<String> = fs::read_dir(&root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "{rt:?} state left in {}: {left:?}",
            root.display()
        );
    }

    fn force_delete(&self, rt: Rt, id: &str) {
        self.run(rt, &["delete", "--force", id]);
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        // Whatever a failed assertion left: the containers go before the
        // user (TestUser's drop checks no process of it is left).
        for rt in self.runtimes() {
            if let Ok(rd) = fs::read_dir(self.state_root(rt)) {
                for e in rd.flatten() {
                    let id = e.file_name().to_string_lossy().into_owned();
                    if !id.starts_with('.') {
                        self.force_delete(rt, &id);
                    }
                }
            }
        }
    }
}

/// One row of the remora/runc table.
fn row(scenario: &str, results: &[(Rt, String)]) {
    let get = |rt| {
        results
            .iter()
            .find(|(r, _)| *r == rt)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| "(not run)".into())
    };
    println!(
        "TABLE | {scenario} | remora: {} | runc: {}",
        get(Rt::Remora),
        get(Rt::Runc)
    );
}

fn summary(r: &Run) -> String {
    if r.code == 0 {
        format!("ok: {}", r.stdout.trim().replace('\n', "; "))
    } else {
        format!(
            "exit {}: {}",
            r.code,
            r.error_text().lines().last().unwrap_or("").trim()
        )
    }
}

fn args(c: &mut Value, script: &str) {
    c["process"]["args"] = json!(["sh", "-c", script]);
}

/// `spec --rootless` as the user, run as is: the process is root in its
/// user namespace, which maps it to the user alone; the state went under
/// $XDG_RUNTIME_DIR/remora and is gone after.
#[test]
fn spec_rootless_runs_as_is() {
    let t = Rootless::new("rlspec");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| args(c, "id -u; cat /proc/self/uid_map"));
        let id = t.id(rt, "spec");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            let out = r.ok();
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines[0], "0", "{out}");
            let map: Vec<&str> = lines[1].split_whitespace().collect();
            assert_eq!(map, ["0", &t.user.uid.to_string(), "1"], "{out}");
            // The warning says why there is no cgroup (hybrid host).
            if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                assert!(r.stderr.contains("gets no cgroup"), "{}", r.stderr);
            }
            assert!(
                t.state_root(rt).is_dir(),
                "state root not under XDG_RUNTIME_DIR"
            );
        }
        t.assert_no_state(rt);
    }
    row("spec --rootless; run", &results);
}

/// run -d, exec, state, kill, delete as the user: the init runs as the
/// user on the host; pause needs a cgroup (none on this host).
#[test]
fn lifecycle_as_a_user() {
    let t = Rootless::new("rllife");
    let cgroup_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let mut table: Vec<(&str, Vec<(Rt, String)>)> = [
        "run -d",
        "exec id",
        "state",
        "pause",
        "ps",
        "kill --all CONT",
        "kill KILL",
        "delete",
    ]
    .into_iter()
    .map(|s| (s, Vec::new()))
    .collect();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| c["process"]["args"] = json!(["sleep", "1000"]));
        let id = t.id(rt, "life");
        let bs = b.to_str().unwrap();
        let r = t.run_detached(rt, &["run", "-d", "-b", bs, &id]);
        table[0].1.push((rt, summary(&r)));
        let r_exec = t.run(
            rt,
            &["exec", &id, "sh", "-c", "id -u; cat /proc/self/uid_map"],
        );
        table[1].1.push((rt, summary(&r_exec)));
        let st = t.run(rt, &["state", &id]);
        let status = serde_json::from_str::<Value>(&st.stdout)
            .map(|v| v["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        table[2].1.push((rt, status.clone()));
        let pid = serde_json::from_str::<Value>(&st.stdout)
            .ok()
            .and_then(|v| v["pid"].as_i64())
            .unwrap_or(0);
        let pause = t.run(rt, &["pause", &id]);
        table[3].1.push((rt, summary(&pause)));
        if pause.code == 0 {
            t.run(rt, &["resume", &id]);
        }
        let ps = t.run(rt, &["ps", &id]);
        table[4].1.push((rt, summary(&ps)));
        let kill_all = t.run(rt, &["kill", "--all", &id, "CONT"]);
        table[5].1.push((rt, summary(&kill_all)));
        let kill = t.run(rt, &["kill", &id, "KILL"]);
        table[6].1.push((rt, summary(&kill)));
        remora_integration_tests::wait_for("the init to die", 10, || {
            !Path::new(&format!("/proc/{pid}")).exists()
                || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
        });
        let del = t.run(rt, &["delete", &id]);
        table[7].1.push((rt, summary(&del)));
        if rt == Rt::Remora {
            r.ok();
            let out = r_exec.ok();
            assert!(out.starts_with("0\n"), "{out}");
            assert_eq!(status, "running");
            assert!(pid > 0);
            if cgroup_v2 {
                // A v2 host: the user's cgroup is delegated or not; either
                // way a clear answer.
                assert!(
                    pause.code == 0 || pause.error_text().contains("no cgroup"),
                    "{}",
                    pause.stderr
                );
            } else {
                pause.fails_with(
                    "pause: not supported by this host: the rootless container has no cgroup",
                );
                ps.fails_with("the rootless container has no cgroup");
                kill_all.fails_with("the rootless container has no cgroup");
            }
            kill.ok();
            del.ok();
        }
        t.assert_no_state(rt);
    }
    // The host's view of the init's uid was taken while it ran: from
    // its exec'd process, as the user (checked in exec's uid_map above).
    for (s, results) in &table {
        row(s, results);
    }
}

/// The init's host uid is the user's (single mapping) and, with a
/// multi-range map written by newuidmap/newgidmap, a file chowned to
/// 1000 inside is the subordinate id outside.
#[test]
fn multi_range_map_lands_on_subordinate_ids() {
    let t = Rootless::new("rlmulti");
    let (u, g) = (t.user.uid, t.user.gid);
    let (su, sg) = (t.user.subuid.0, t.user.subgid.0);
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": u, "size": 1},
                {"containerID": 1, "hostID": su, "size": 65536}]);
            c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": g, "size": 1},
                {"containerID": 1, "hostID": sg, "size": 65536}]);
            c["root"]["readonly"] = json!(false);
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("CAP_CHOWN"));
            }
            args(
                c,
                "touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u:%g /tmp/f",
            );
        });
        let id = t.id(rt, "multi");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        let f = b.join("rootfs/tmp/f");
        let host = fs::metadata(&f)
            .map(|m| format!("{}:{}", m.uid(), m.gid()))
            .unwrap_or_default();
        results.push((rt, format!("{}; host sees {host}", summary(&r))));
        if rt == Rt::Remora {
            assert_eq!(r.ok(), "1000:1000\n");
            assert_eq!(host, format!("{}:{}", su + 999, sg + 999));
        }
        let _ = fs::remove_file(&f);
        t.assert_no_state(rt);
    }
    row("multi-range map (newuidmap), chown 1000 inside", &results);
}

/// Host ids outside the user's subordinate ranges: refused before
/// anything is made, naming the mapping and /etc/subuid.
#[test]
fn ids_outside_the_subordinate_ranges_are_refused() {
    let t = Rootless::new("rlsubid");
    let (u, g) = (t.user.uid, t.user.gid);
    let outside = t.user.subuid.0 + t.user.subuid.1 + 1_000_000;
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": u, "size": 1},
                {"containerID": 1, "hostID": outside, "size": 100}]);
            c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": g, "size": 1}]);
            args(c, "true");
        });
        let id = t.id(rt, "subid");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            r.fails_with(&format!(
                "linux.uidMappings[1] host ids {outside}-{} are not in /etc/subuid for user {}",
                outside + 99,
                t.user.name
            ));
        }
        t.assert_no_state(rt);
    }
    row("map outside /etc/subuid", &results);
}

/// Limits in the config with no cgroup the user may make: an error that
/// names the setting, nothing left. (A v2 host may delegate: skipped.)
#[test]
fn limits_without_a_delegated_cgroup_fail_naming_the_setting() {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        println!("SKIP: pure cgroup v2 host (the VM test covers delegation)");
        return;
    }
    let t = Rootless::new("rllimit");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            c["linux"]["resources"] = json!({"memory": {"limit": 67108864}});
            args(c, "true");
        });
        let id = t.id(rt, "limit");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            r.fails_with("linux.resources.memory.limit: not supported by this host: rootless: the container cannot have a cgroup");
        }
        t.assert_no_state(rt);
    }
    row("memory limit, cgroups not delegated", &results);
}

/// --rootless is read: false as a user means the root's cgroup manager
/// (which may not make the cgroup here), a bad value is refused.
#[test]
fn rootless_flag_is_honoured() {
    let t = Rootless::new("rlflag");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| args(c, "true"));
        let bs = b.to_str().unwrap();
        let off = t.run(
            rt,
            &["--rootless", "false", "run", "-b", bs, &t.id(rt, "off")],
        );
        let on = t.run(
            rt,
            &["--rootless", "true", "run", "-b", bs, &t.id(rt, "on")],
        );
        let bad = t.run(
            rt,
            &["--rootless", "maybe", "run", "-b", bs, &t.id(rt, "bad")],
        );
        results.push((
            rt,
            format!(
                "false -> {}; true -> {}; maybe -> {}",
                summary(&off),
                summary(&on),
                summary(&bad)
            ),
        ));
        if rt == Rt::Remora {
            if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                off.fails_with("Permission denied");
            }
            on.ok();
            bad.fails_with("--rootless \"maybe\": must be true, false or auto");
        }
        t.assert_no_state(rt);
    }
    row("--rootless false/true/maybe", &results);
}

/// Namespaced sysctls in rootless mode: net.* in the container's own
/// network namespace, and user.* (its user namespace's limits; runc 1.4
/// allows them, 1.1.5 refuses).
#[test]
fn namespaced_sysctls_in_rootless_mode() {
    let t = Rootless::new("rlsysctl");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "network"}));
            c["linux"]["sysctl"] = json!({"net.ipv4.ping_group_range": "0 0",
                "user.max_user_namespaces": "7"});
            args(
                c,
                "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/user/max_user_namespaces",
            );
        });
        let id = t.id(rt, "sysctl");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            let out = r.ok();
            let words: Vec<&str> = out.split_whitespace().collect();
            assert_eq!(words, ["0", "0", "7"], "{out}");
        }
        t.assert_no_state(rt);
    }
    row("sysctl net.* (own netns) and user.*", &results);
    // The host's limit is untouched.
    let host = fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap();
    assert_ne!(host.trim(), "7");
}

/// Mounts needing host privileges fall back as runc's: a sysfs without a
/// network namespace of the container's own becomes a bind of /sys, and
/// linux.devices nodes are bind mounts of the host's.
#[test]
fn privileged_mounts_fall_back() {
    let t = Rootless::new("rlmounts");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            for m in c["mounts"].as_array_mut().unwrap() {
                if m["destination"] == "/sys" {
                    *m = json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                        "options": ["nosuid", "noexec", "nodev", "ro"]});
                }
            }
            c["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10,
                "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}]);
            args(c, "ls /sys/kernel >/dev/null && echo sysfs; [ -c /dev/fuse ] && echo fuse; [ -c /dev/null ] && echo null");
        });
        let id = t.id(rt, "mounts");
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &id]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            assert_eq!(r.ok(), "sysfs\nfuse\nnull\n");
        }
        t.assert_no_state(rt);
    }
    row("sysfs without netns, linux.devices", &results);
}

/// Idmapped bind mounts (as root): a host directory owned by 0 appears
/// owned by the container's root through an "idmap" mount without
/// mappings of its own (the container's are used), and a file the
/// container's root creates through it is owned by host 0; with the
/// mount's own uidMappings the mount's mapping wins.
#[test]
fn idmapped_bind_of_a_root_owned_directory() {
    let env = TestEnv::new("idmapbind");
    let vol = env.base.join("vol");
    fs::create_dir_all(&vol).unwrap();
    std::os::unix::fs::chown(&vol, Some(0), Some(0)).unwrap();
    if memory_filesystem(&vol) {
        println!(
            "SKIP: {} is a tmpfs/ramfs this kernel may not idmap",
            vol.display()
        );
        return;
    }
    let mut b = env.bundle("b");
    b.in_user_namespace(100_000);
    fs::create_dir_all(b.rootfs().join("vol")).unwrap();
    fs::create_dir_all(b.rootfs().join("vol2")).unwrap();
    let own = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
    b.config["mounts"].as_array_mut().unwrap().extend([
        json!({"destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "idmap"]}),
        json!({"destination": "/vol2", "type": "bind", "source": vol, "options": ["bind", "ridmap"],
               "uidMappings": own, "gidMappings": own}),
    ]);
    b.sh("stat -c %u:%g /vol; touch /vol/made && stat -c %u:%g /vol/made; stat -c %u /vol2");
    let out = b.run(&env, &env.id("c"));
    // /vol2's own mapping shows host 0 as host 200000, which the
    // container's user namespace does not map: the overflow uid.
    assert_eq!(out.ok(), "0:0\n0:0\n65534\n", "{}", out.stderr);
    let m = fs::metadata(vol.join("made")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0), "made through the idmap mount");
}

/// Whether `path` is on a tmpfs or ramfs (statfs f_type).
fn memory_filesystem(path: &Path) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let out = Command::new("stat")
        .args(["-f", "-c", "%t"])
        .arg(path)
        .output()
        .unwrap();
    let t = i64::from_str_radix(String::from_utf8_lossy(&out.stdout).trim(), 16).unwrap_or(0);
    matches!(t, TMPFS_MAGIC | RAMFS_MAGIC)
}

/// An unprivileged caller's config without a user namespace is refused
/// before anything is made, naming linux.namespaces.
#[test]
fn a_rootless_config_needs_a_user_namespace() {
    let t = Rootless::new("rlnouserns");
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            let ns: Vec<Value> = c["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["type"] != "user")
                .cloned()
                .collect();
            c["linux"]["namespaces"] = json!(ns);
            let linux = c["linux"].as_object_mut().unwrap();
            linux.remove("uidMappings");
            linux.remove("gidMappings");
            args(c, "true");
        });
        let r = t.run(
            rt,
            &["run", "-b", b.to_str().unwrap(), &t.id(rt, "nouserns")],
        );
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            r.fails_with("linux.namespaces: a rootless container (remora run by a user other than root) needs a new user namespace");
        }
        t.assert_no_state(rt);
    }
    row("config without a user namespace", &results);
}

/// An "idmap" bind mount needs privilege over the source's filesystem
/// (MOUNT_ATTR_IDMAP): a user's is refused naming the mount.
#[test]
fn idmap_mounts_need_root() {
    let t = Rootless::new("rlidmap");
    let vol = t.env.base.join("vol");
    fs::create_dir_all(&vol).unwrap();
    let mut results = Vec::new();
    for rt in t.runtimes() {
        let b = t.bundle(rt, "b", |c| {
            c["mounts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"destination": "/vol",
                "type": "bind", "source": vol, "options": ["rbind", "idmap"]}));
            args(c, "true");
        });
        fs::create_dir_all(b.join("rootfs/vol")).unwrap();
        let r = t.run(rt, &["run", "-b", b.to_str().unwrap(), &t.id(rt, "idmap")]);
        results.push((rt, summary(&r)));
        if rt == Rt::Remora {
            r.fails_with("\"/vol\": cloning bind source");
            r.fails_with("\"idmap\" needs privilege over the source's filesystem");
        }
        t.assert_no_state(rt);
    }
    row("idmap bind mount as a user", &results);
}
