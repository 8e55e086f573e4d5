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

/// Item 3: a mount destination through a symlink that points out of the
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

/// Item 6 (CVE-2025-31133): /dev/null replaced so that masking would bind
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

/// Item 5 (CVE-2019-16884): mounts over procfs files are refused.
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

/// Item 2 (CVE-2024-21626): the runtime's fds never reach the container;
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

/// Item 2, the cwd half: a cwd through /proc/self/fd/N of a runtime fd
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

/// Item 11: state.json is written atomically (no temp file left) and a
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
        names.iter().all(|n| n == "state.json" || n == "exec.fifo"),
        "{names:?}"
    );
}
