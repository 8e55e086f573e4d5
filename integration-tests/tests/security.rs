//! Each protection of docs/security.md, played as the attack
//! it blocks: the container (its rootfs or config) tries the escape, and
//! the test checks that it fails and that the host is untouched.

use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;

use remora_integration_tests::TestEnv;
use serde_json::json;

/// Items 4 and 9: /proc, /sys or /dev in the rootfs as symlinks.
#[test]
fn symlinked_proc_sys_dev_are_refused() {
    let env = TestEnv::new("symproc");
    let decoy = env.base.join("decoy");
    fs::create_dir_all(&decoy).unwrap();
    for dir in ["proc", "sys", "dev"] {
        let b = env.bundle(dir);
        let p = b.rootfs().join(dir);
        fs::remove_dir_all(&p).unwrap();
        symlink(&decoy, &p).unwrap();
        b.create(&env, &env.id(dir))
            .fails_with(&format!("/{dir} in the rootfs is a symlink"));
    }
    // Without a /dev mount in the config, the rootfs's own /dev is used
    // for devices: still refused.
    let mut b = env.bundle("devonly");
    let mounts: Vec<_> = b.config["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["destination"].as_str().unwrap().starts_with("/dev"))
        .cloned()
        .collect();
    b.config["mounts"] = json!(mounts);
    let p = b.rootfs().join("dev");
    fs::remove_dir_all(&p).unwrap();
    symlink(&decoy, &p).unwrap();
    b.create(&env, &env.id("devonly"))
        .fails_with("/dev in the rootfs is a symlink");
    assert_eq!(
        fs::read_dir(&decoy).unwrap().count(),
        0,
        "something was made through the symlink"
    );
}

/// docs/security.md, "Mount targets and created directories through
/// symlinks": a mount destination through a symlink that points out of the
/// rootfs is resolved inside it; the host is never touched.
#[test]
fn mount_through_symlink_stays_in_rootfs() {
    let env = TestEnv::new("symmount");
    let host_target = env.base.join("host-target");
    fs::create_dir_all(&host_target).unwrap();
    let mut b = env.bundle("b");
    // Absolute and ../-climbing symlinks to the host directory.
    symlink(&host_target, b.rootfs().join("abs")).unwrap();
    symlink(
        format!("../../../../../../../..{}", host_target.display()),
        b.rootfs().join("rel"),
    )
    .unwrap();
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/abs/made/deep", "type": "tmpfs", "source": "tmpfs"}));
    mounts.push(json!({"destination": "/rel/other", "type": "tmpfs", "source": "tmpfs"}));
    b.config["mounts"] = json!(mounts);
    let out = b.output_of(
        &env,
        "awk '$9==\"tmpfs\"{print $5}' /proc/self/mountinfo | grep host-target",
    );
    assert_eq!(
        fs::read_dir(&host_target).unwrap().count(),
        0,
        "mount point made on the host"
    );
    let inside = format!("{}", host_target.display());
    assert!(
        out.contains(&format!("{inside}/made/deep")) && out.contains(&format!("{inside}/other")),
        "{out}"
    );
    // ... and they were made in the rootfs, where the symlinks point there.
    assert!(b
        .rootfs()
        .join(host_target.strip_prefix("/").unwrap())
        .join("made/deep")
        .is_dir());
}

/// docs/security.md, "/dev/null swapped" (CVE-2025-31133): /dev/null replaced so that masking would bind
/// a host file: refused, the host file untouched.
#[test]
fn dev_null_must_be_the_null_device() {
    let env = TestEnv::new("devnull");
    let core_pattern = fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    // The rootfs's /dev/null is a symlink to a host-sensitive file.
    let mut b = env.bundle("sym");
    let mounts: Vec<_> = b.config["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["destination"] != "/dev")
        .cloned()
        .collect();
    b.config["mounts"] = json!(mounts);
    symlink("/proc/sys/kernel/core_pattern", b.rootfs().join("dev/null")).unwrap();
    b.create(&env, &env.id("sym")).fails_with("/dev/null");
    // The config makes /dev/null another device: masking refuses it.
    let mut b = env.bundle("dev");
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/null", "type": "c", "major": 1, "minor": 5}]);
    b.create(&env, &env.id("dev"))
        .fails_with("/dev/null is not the null device");
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(),
        core_pattern
    );
}

/// docs/security.md, "Mounts over /proc" (CVE-2019-16884): mounts over procfs files are refused.
#[test]
fn mounts_over_proc_are_refused() {
    let env = TestEnv::new("procmount");
    let mut b = env.bundle("b");
    let fake = env.base.join("fake");
    fs::write(&fake, "fake").unwrap();
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/proc/self/attr/exec", "type": "bind", "source": fake, "options": ["bind"]}));
    b.config["mounts"] = json!(mounts.clone());
    b.create(&env, &env.id("a"))
        .fails_with("mounting on or under /proc is not allowed");
    mounts.pop();
    mounts.push(json!({"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}));
    b.config["mounts"] = json!(mounts);
    b.create(&env, &env.id("b"))
        .fails_with("mounting on or under /proc is not allowed");
    // A bind onto /proc itself must come from a procfs (runc's rule):
    // a directory posing as one is refused; the host's procfs is taken.
    mounts.pop();
    let fake_proc = env.base.join("fakeproc");
    fs::create_dir_all(fake_proc.join("sys/kernel")).unwrap();
    let replace_proc = |mounts: &[serde_json::Value], source: &std::path::Path| {
        let mut m: Vec<serde_json::Value> = mounts
            .iter()
            .filter(|m| m["destination"] != "/proc")
            .cloned()
            .collect();
        m.insert(
            0,
            json!({"destination": "/proc", "type": "bind", "source": source, "options": ["rbind"]}),
        );
        m
    };
    b.config["mounts"] = json!(replace_proc(&mounts, &fake_proc));
    b.create(&env, &env.id("c"))
        .fails_with("the bind source is not a procfs");
    b.config["mounts"] = json!(replace_proc(&mounts, std::path::Path::new("/proc")));
    b.config["linux"]["maskedPaths"] = json!([]);
    b.config["linux"]["readonlyPaths"] = json!([]);
    let out = b.output_of(&env, "stat -f -c %T /proc");
    assert_eq!(out.trim(), "proc");
}

fn fd_listing(
    env: &TestEnv,
    b: &remora_integration_tests::Bundle,
    id: &str,
    extra: &[&str],
) -> (i32, String) {
    b.save();
    let secret = env.base.join("secret");
    fs::write(&secret, "host secret").unwrap();
    let f = fs::File::open(&secret).unwrap();
    let dir = fs::File::open("/").unwrap();
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-b", b.path(), id]);
    let mut cmd = env.command(&args);
    use std::os::fd::AsRawFd;
    let (ffd, dfd) = (f.as_raw_fd(), dir.as_raw_fd());
    // SAFETY: dup2 between fds we own, in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            // dup() makes copies without O_CLOEXEC, even when the source
            // already sits at 3 or 4.
            let (a, b) = (libc::dup(ffd), libc::dup(dfd));
            libc::dup2(a, 3);
            libc::dup2(b, 4);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The fds of `ls` itself, as (fd, target) pairs from `ls -l`.
fn fds_of_ls(out: &str) -> Vec<(u32, String)> {
    out.lines()
        .filter(|l| l.starts_with('l'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let fd = fields.get(8)?.parse().ok()?;
            let target = l
                .split_once(" -> ")
                .map(|(_, t)| t.to_string())
                .unwrap_or_default();
            Some((fd, target))
        })
        .collect()
}

/// docs/security.md, "Leaked host fds and cwd" (CVE-2024-21626): the runtime's fds never reach the container;
/// --preserve-fds passes exactly the ones asked for.
#[test]
fn host_fds_do_not_leak_into_the_container() {
    let env = TestEnv::new("fds");
    let mut b = env.bundle("b");
    b.sh("cat <&3 2>/dev/null || echo no-fd3; exec ls -l /proc/self/fd");
    let (code, out) = fd_listing(&env, &b, &env.id("a"), &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("no-fd3"), "fd 3 leaked: {out}");
    let fds = fds_of_ls(&out);
    // 0-2, and 3: ls's own directory fd.
    assert_eq!(
        fds.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3],
        "{out}"
    );
    let (code, out) = fd_listing(&env, &b, &env.id("b"), &["--preserve-fds", "1"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("host secret"),
        "preserved fd 3 missing: {out}"
    );
    let fds = fds_of_ls(&out);
    assert_eq!(
        fds.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4],
        "{out}"
    );
    assert!(fds[3].1.ends_with("secret"), "{out}");
}

/// docs/security.md, "Leaked host fds and cwd", the cwd half: a cwd through /proc/self/fd/N of a runtime fd
/// (a host directory) must never become the container's cwd.
#[test]
fn cwd_through_a_leaked_fd_is_refused() {
    let env = TestEnv::new("cwdfd");
    let mut b = env.bundle("b");
    for n in 3..12 {
        b.config["process"]["cwd"] = json!(format!("/proc/self/fd/{n}"));
        let r = b.create(&env, &env.id(&format!("c{n}")));
        assert_eq!(r.code, 1, "cwd /proc/self/fd/{n} accepted: {}", r.stderr);
        assert!(r.stderr.contains("process.cwd"), "{}", r.stderr);
    }
}

/// docs/security.md, "PID reuse and state races": state.json is written atomically (no temp file left) and a
/// second create of the same ID cannot clobber it.
#[test]
fn state_is_atomic_and_serialised() {
    let env = TestEnv::new("atomic");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    let before = fs::read(env.root.join(&id).join("state.json")).unwrap();
    b.create(&env, &id)
        .fails_with("container with given ID already exists");
    assert_eq!(
        fs::read(env.root.join(&id).join("state.json")).unwrap(),
        before
    );
    let names: Vec<String> = fs::read_dir(env.root.join(&id))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["state.json", "exec.fifo", "exec-config.json"].contains(&n.as_str())),
        "{names:?}"
    );
}

/// The mount table lines under `dir`, and the line of the mount that
/// holds `dir` (found by mount ID), from the test's own mount namespace:
/// the host's.
fn mounts_at_and_under(dir: &std::path::Path) -> (Vec<String>, String) {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = fs::canonicalize(dir).unwrap();
    let holder = std::process::Command::new("stat")
        .args(["-c", "%m"])
        .arg(&dir)
        .output()
        .unwrap();
    let holder = String::from_utf8_lossy(&holder.stdout).trim().to_string();
    let mut under = Vec::new();
    let mut holding = String::new();
    for l in info.lines() {
        let mp = l.split(' ').nth(4).unwrap_or("");
        if std::path::Path::new(mp).starts_with(&dir) {
            under.push(l.to_string());
        }
        if mp == holder {
            // The last one at that point is the one on top.
            holding = l.to_string();
        }
    }
    (under, holding)
}

/// The mount options (field 6) of a mountinfo line.
fn mount_options(line: &str) -> String {
    line.split(' ').nth(5).unwrap_or("").to_string()
}

/// Unmounts a bind the test made, whatever happens.
struct TestBind(std::path::PathBuf);
impl TestBind {
    fn new(path: std::path::PathBuf) -> Self {
        let st = std::process::Command::new("mount")
            .args(["--bind"])
            .arg(&path)
            .arg(&path)
            .status()
            .unwrap();
        assert!(st.success(), "mount --bind {}", path.display());
        TestBind(path)
    }
}
impl Drop for TestBind {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-R")
            .arg(&self.0)
            .status();
    }
}

/// A config without namespaces (runtime-tools' ns_itype shape), its root
/// read-only.
fn no_namespace_bundle(env: &TestEnv, name: &str) -> remora_integration_tests::Bundle {
    let mut b = env.bundle(name);
    b.config["linux"]["namespaces"] = json!([]);
    b.config.as_object_mut().unwrap().remove("hostname");
    b.config["linux"]["maskedPaths"] = json!([]);
    b.config["linux"]["readonlyPaths"] = json!([]);
    b.config["root"]["readonly"] = json!(true);
    b
}

/// docs/security.md, "A config without a mount namespace never changes a
/// host mount": a container without a mount namespace of its own and
/// a read-only root never changes a host mount: the mount holding its
/// rootfs (the bundle's filesystem, or an engine's rootfs mount) stays
/// read-write while it runs, only the container sees its root read-only,
/// and delete --force (or a failed create) leaves the host's mount table
/// as it was.
#[test]
fn without_a_mount_namespace_host_mounts_stay_as_they_were() {
    let env = TestEnv::new("nomntns");
    // The rootfs as a directory of the host's filesystem, then as a mount
    // of its own (what podman's or containerd's overlay is).
    for engine_mount in [false, true] {
        let mut b = no_namespace_bundle(&env, &format!("b{engine_mount}"));
        // Its /dev/shm is in the host's namespace too: the verdict is read
        // there.
        b.sh("(touch /probe && echo root-writable) >/dev/shm/verdict 2>&1; exec sleep 1000");
        let _bind = engine_mount.then(|| TestBind::new(b.rootfs()));
        let (before, holder_before) = mounts_at_and_under(&env.base);
        assert!(
            mount_options(&holder_before).starts_with("rw"),
            "{holder_before}"
        );
        let id = env.id(&format!("c{engine_mount}"));
        b.create(&env, &id).ok();
        let (during, holder_during) = mounts_at_and_under(&env.base);
        // The container's mounts (proc, /dev, ...) are in the host's
        // namespace while it exists: that is what delete must remove.
        assert!(during.len() > before.len() + 5, "{during:?}");
        assert_eq!(holder_during, holder_before, "the host mount changed");
        for l in &before {
            // The engine's rootfs mount among them: its options unchanged.
            assert!(during.contains(l), "host mount changed: {l}\n{during:?}");
        }
        fs::write(b.dir.join("host-probe"), "x").expect("bundle's filesystem writable");
        env.remora(&["start", &id]).ok();
        let verdict = b.rootfs().join("dev/shm/verdict");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while fs::read_to_string(&verdict).unwrap_or_default().is_empty() {
            assert!(std::time::Instant::now() < deadline, "no verdict");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let verdict = fs::read_to_string(&verdict).unwrap();
        assert!(verdict.contains("Read-only file system"), "{verdict}");
        // exec into it (no pid namespace to fork into) returns.
        let r = env.remora(&["exec", &id, "true"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        env.remora(&["delete", "--force", &id]).ok();
        let (after, holder_after) = mounts_at_and_under(&env.base);
        assert_eq!(after, before, "mounts left in the host's namespace");
        assert_eq!(holder_after, holder_before);
        assert!(!b.rootfs().join("probe").exists());
    }
    // A create that fails after some mounts were made removes them.
    let mut b = no_namespace_bundle(&env, "bad");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/data", "type": "bind", "source": "/nonexistent-h1", "options": ["bind"]}));
    b.config["mounts"] = json!(mounts);
    let (before, _) = mounts_at_and_under(&env.base);
    b.create(&env, &env.id("bad")).fails_with("/nonexistent-h1");
    let (after, _) = mounts_at_and_under(&env.base);
    assert_eq!(after, before, "a failed create left mounts");
}

/// docs/security.md, "A config without a mount namespace never changes a
/// host mount": masks mounted in the caller's mount namespace would
/// be the host's: refused as runc refuses them.
#[test]
fn masked_paths_need_a_mount_namespace() {
    let env = TestEnv::new("masknomnt");
    for field in ["maskedPaths", "readonlyPaths"] {
        let mut b = no_namespace_bundle(&env, field);
        b.config["linux"][field] = json!(["/proc/kcore"]);
        let (before, _) = mounts_at_and_under(&env.base);
        b.create(&env, &env.id(field))
            .fails_with("unable to restrict sys entries without a private MNT namespace");
        assert_eq!(mounts_at_and_under(&env.base).0, before);
    }
}

/// docs/security.md, "The device cgroup is the config's" (runc's "device
/// cgroup deny"): a node given in
/// linux.devices gets no cgroup rule of its own: with the default
/// deny-all, /dev/kmsg exists in the container but opening it fails with
/// EPERM for reading and writing, and the host's kernel log does not get
/// the container's line. The container holds CAP_SYSLOG, so the device
/// cgroup is the only thing in the way; control: with an explicit rule
/// the same container reads the log and its line reaches the host's.
#[test]
fn device_cgroup_denies_a_device_node_the_config_does_not_allow() {
    let env = TestEnv::new("devdeny");
    let run = |name: &str, rules: serde_json::Value, marker: &str| -> String {
        let mut b = env.bundle(name);
        b.config["linux"]["devices"] =
            json!([{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]);
        if !rules.is_null() {
            b.config["linux"]["resources"]["devices"] = rules;
        }
        for set in ["bounding", "effective", "permitted"] {
            let caps = b.config["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap();
            caps.push(json!("CAP_SYSLOG"));
        }
        b.output_of(
            &env,
            &format!(
                "stat -c '%F %t:%T' /dev/kmsg; \
                 head -c1 /dev/kmsg >/dev/null 2>/tmp/r && echo read-ok || cat /tmp/r; \
                 echo {marker} 2>/tmp/w >/dev/kmsg && echo write-ok || cat /tmp/w"
            ),
        )
    };
    let pid = std::process::id();
    let (denied, allowed) = (
        format!("remora-devdeny-{pid}"),
        format!("remora-devallow-{pid}"),
    );
    // The default config: [{"allow": false, "access": "rwm"}].
    let out = run("deny", serde_json::Value::Null, &denied);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "character special file 1:b", "{out}");
    assert!(lines[1].contains("Operation not permitted"), "read: {out}");
    assert!(lines[2].contains("Operation not permitted"), "write: {out}");
    let rules = json!([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}
    ]);
    let out = run("allow", rules, &allowed);
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        ["read-ok", "write-ok"],
        "{out}"
    );
    let dmesg = std::process::Command::new("dmesg").output().unwrap();
    let log = String::from_utf8_lossy(&dmesg.stdout);
    assert!(
        log.contains(&allowed),
        "the control's line is not in the log"
    );
    assert!(
        !log.contains(&denied),
        "the denied container wrote to the host's kernel log"
    );
}

/// docs/security.md, "--no-pivot leaves no host procfs reachable" (runc's
/// no_pivot test): with --no-pivot, a process of
/// the container makes a user namespace (unshare -r, for which it needs
/// CAP_SETFCAP) and mounts a fresh procfs: the kernel allows that only if
/// a fully visible procfs is in its mount namespace, and the host's /proc
/// must not be one left there. Control: the same attack succeeds in a
/// container whose own /proc is unmasked, so the denial is the
/// visibility check's, not a failure to attack. Played for a container
/// with and without its own user namespace.
#[test]
fn no_pivot_does_not_leave_the_hosts_proc_reachable() {
    let env = TestEnv::new("nopivotproc");
    let attack = |b: &mut remora_integration_tests::Bundle, userns: bool| {
        b.config["process"]["args"] = json!([
            "unshare",
            "-mrpf",
            "sh",
            "-c",
            "mount -t proc none /proc && echo MOUNTED-FRESH-PROC"
        ]);
        for set in ["bounding", "effective", "permitted"] {
            let caps = b.config["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap();
            caps.push(json!("CAP_SETFCAP"));
        }
        if userns {
            let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
            ns.push(json!({"type": "user"}));
            b.config["linux"]["namespaces"] = json!(ns);
            let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            b.config["linux"]["uidMappings"] = map.clone();
            b.config["linux"]["gidMappings"] = map;
        }
        b.save();
    };
    for userns in [true, false] {
        let mut b = env.bundle(&format!("attack{userns}"));
        attack(&mut b, userns);
        let r = env.remora(&[
            "run",
            "--no-pivot",
            "-b",
            b.path(),
            &env.id(&format!("a{userns}")),
        ]);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            !all.contains("MOUNTED-FRESH-PROC"),
            "userns {userns}: {all}"
        );
        assert_ne!(r.code, 0, "userns {userns}: {all}");
        assert!(
            all.to_lowercase().contains("permission denied"),
            "userns {userns}: {all}"
        );
        // Control: nothing masked in the container's own /proc.
        let mut b = env.bundle(&format!("control{userns}"));
        attack(&mut b, userns);
        b.config["linux"]["maskedPaths"] = json!([]);
        b.config["linux"]["readonlyPaths"] = json!([]);
        b.save();
        let r = env.remora(&["run", "-b", b.path(), &env.id(&format!("c{userns}"))]);
        assert!(
            r.stdout.contains("MOUNTED-FRESH-PROC"),
            "userns {userns}: the attack itself failed: {} {}",
            r.stdout,
            r.stderr
        );
    }
}
