//! AppArmor and SELinux: process.apparmorProfile, process.selinuxLabel,
//! linux.mountLabel and `exec --apparmor` / `--process-label`. Where the
//! host has the LSM (the qemu VM of scripts/cgroupv2-vm/run-lsm.sh boots
//! Debian's kernel with AppArmor, then with SELinux) the label is seen
//! applied from inside the container and from the host, and what the
//! profile denies fails; where it does not (the CI host) the config is
//! refused with an error naming the field, and nothing is left behind.
//! Each test says which case it played.

use std::fs;
use std::path::Path;
use std::process::Command;

use remora_integration_tests::{apparmor_enabled, selinux_enabled, state, Bundle, Run, TestEnv};
use serde_json::json;

const PROFILE: &str = "remora-test";
/// The profile the tests load: everything allowed but writing /tmp/denied.
const PROFILE_TEXT: &str = "profile remora-test flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /tmp/denied w,
}
";
/// The domain and file type of the test policy (scripts/cgroupv2-vm/
/// remora-test.te, loaded by run-lsm.sh).
const SELINUX_LABEL: &str = "system_u:system_r:remora_t";
const MOUNT_LABEL: &str = "system_u:object_r:remora_file_t";

/// The test profile, loaded for the test's lifetime (apparmor_parser).
struct LoadedProfile(std::path::PathBuf);

impl LoadedProfile {
    fn load(env: &TestEnv) -> Self {
        let file = env.base.join("remora-test.profile");
        fs::write(&file, PROFILE_TEXT).unwrap();
        let out = Command::new("apparmor_parser")
            .arg("-r")
            .arg("-K")
            .arg(&file)
            .output()
            .expect("apparmor_parser (package apparmor) to load the test profile");
        assert!(out.status.success(), "apparmor_parser -r: {out:?}");
        let loaded = fs::read_to_string("/sys/kernel/security/apparmor/profiles").unwrap();
        assert!(loaded.contains(PROFILE), "not loaded: {loaded}");
        LoadedProfile(file)
    }
}

impl Drop for LoadedProfile {
    fn drop(&mut self) {
        let _ = Command::new("apparmor_parser")
            .arg("-R")
            .arg(&self.0)
            .status();
    }
}

/// The LSM label of a key (keyctl KEYCTL_GET_SECURITY), read from the
/// host: a thin wrapper of the one syscall.
fn key_security(serial: i32) -> std::io::Result<String> {
    const KEYCTL_GET_SECURITY: libc::c_long = 17;
    let mut buf = vec![0u8; 256];
    // SAFETY: `buf` is valid for writes of its length for the call.
    let n = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_SECURITY,
            serial as libc::c_long,
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(usize::try_from(n).unwrap().min(buf.len()));
    Ok(String::from_utf8_lossy(&buf)
        .trim_end_matches('\0')
        .to_string())
}

/// An extended attribute of a file, read from the host: a thin wrapper
/// of getxattr(2).
fn xattr(path: &Path, name: &str) -> std::io::Result<String> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: `path` and `name` are NUL-terminated, `buf` is valid for
    // writes of its length; all outlive the call.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(n.unsigned_abs());
    Ok(String::from_utf8_lossy(&buf)
        .trim_end_matches('\0')
        .to_string())
}

/// The serial of the container's session keyring (_ses.ID), from the
/// host's /proc/keys.
fn session_keyring(id: &str) -> Option<i32> {
    let keys = fs::read_to_string("/proc/keys").unwrap();
    let name = format!(" _ses.{id}:");
    keys.lines()
        .find(|l| l.contains(&name))
        .and_then(|l| i32::from_str_radix(l.split(' ').next()?, 16).ok())
}

/// create + start a container whose init sleeps; returns the init's PID.
fn start_sleeper(env: &TestEnv, b: &mut Bundle, id: &str) -> i32 {
    b.sh("exec sleep 1000");
    b.create(env, id).ok();
    env.remora(&["start", id]).ok();
    i32::try_from(state(env, id)["pid"].as_i64().unwrap()).unwrap()
}

fn exec(env: &TestEnv, flags: &[&str], id: &str, script: &str) -> Run {
    let mut v = vec!["exec"];
    v.extend_from_slice(flags);
    v.extend_from_slice(&[id, "sh", "-c", script]);
    env.remora(&v)
}

/// The script each confined process runs: its label, then a write the
/// profile allows and one it denies.
const PROBE: &str = "cat /proc/self/attr/current; echo; \
     echo x > /tmp/allowed && echo allowed-ok; \
     echo x > /tmp/denied || echo denied-failed";

/// What PROBE printed under the test profile (asserted).
fn assert_confined(r: &Run, rootfs: &Path) {
    println!("stdout: {:?}\nstderr: {:?}", r.stdout, r.stderr);
    let out = r.ok();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().map(|l| l.trim_end_matches('\0')),
        Some("remora-test (enforce)"),
        "/proc/self/attr/current inside: {out}"
    );
    assert!(
        out.contains("allowed-ok"),
        "the allowed write failed: {out}"
    );
    assert!(out.contains("denied-failed"), "the denied write ran: {out}");
    assert!(
        r.stderr
            .contains("can't create /tmp/denied: Permission denied"),
        "the denied write's error: {}",
        r.stderr
    );
    assert!(rootfs.join("tmp/allowed").exists());
    assert!(
        !rootfs.join("tmp/denied").exists(),
        "the denied write happened"
    );
    fs::remove_file(rootfs.join("tmp/allowed")).unwrap();
}

#[test]
fn apparmor_profile_confines_the_container_or_is_refused() {
    let env = TestEnv::new("apparmor");
    let mut b = env.bundle("b");
    b.config["process"]["apparmorProfile"] = json!(PROFILE);
    b.sh(PROBE);
    if !apparmor_enabled() {
        println!("AppArmor is not enabled on this host: the refusal is checked");
        for cmd in ["run", "create"] {
            b.save();
            let r = env.remora(&[cmd, "-b", b.path(), &env.id(cmd)]);
            r.fails_with(
                "process.apparmorProfile: apparmor profile specified but AppArmor is not enabled on this system",
            );
        }
        assert!(!b.rootfs().join("tmp/allowed").exists(), "the process ran");
        return;
    }
    println!("AppArmor is enabled: the profile is applied");
    let _profile = LoadedProfile::load(&env);
    let r = b.run(&env, &env.id("run"));
    assert_confined(&r, &b.rootfs());

    // From the host: the running container's process has the profile.
    let id = env.id("host");
    let pid = start_sleeper(&env, &mut b, &id);
    let current = fs::read_to_string(format!("/proc/{pid}/attr/current")).unwrap();
    println!("host: /proc/{pid}/attr/current: {current:?}");
    assert_eq!(
        current.trim_end_matches(['\n', '\0']),
        "remora-test (enforce)"
    );
    env.remora(&["delete", "--force", &id]).ok();

    // A profile that is not loaded: the kernel refuses it, the container
    // does not start unconfined.
    b.config["process"]["apparmorProfile"] = json!("remora-no-such-profile");
    let r = b.run(&env, &env.id("missing"));
    println!("unknown profile: {}", r.stderr);
    assert_ne!(r.code, 0, "ran with a missing profile: {}", r.stdout);
    assert!(
        r.error_text()
            .contains("process.apparmorProfile \"remora-no-such-profile\""),
        "{}",
        r.stderr
    );
    assert!(!b.rootfs().join("tmp/allowed").exists(), "the process ran");

    // In a user namespace of its own the same.
    let mut u = env.bundle("userns");
    u.config["process"]["apparmorProfile"] = json!(PROFILE);
    let mut ns = u.config["linux"]["namespaces"].as_array().unwrap().clone();
    ns.push(json!({"type": "user"}));
    u.config["linux"]["namespaces"] = json!(ns);
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    u.config["linux"]["uidMappings"] = map.clone();
    u.config["linux"]["gidMappings"] = map;
    u.sh(PROBE);
    println!("in a user namespace:");
    assert_confined(&u.run(&env, &env.id("userns")), &u.rootfs());
}

#[test]
fn exec_apparmor_confines_the_exec_process_or_is_refused() {
    let env = TestEnv::new("execaa");
    let mut b = env.bundle("b");
    let id = env.id("c");
    let pid = start_sleeper(&env, &mut b, &id);
    if !apparmor_enabled() {
        println!("AppArmor is not enabled on this host: the refusal is checked");
        let r = exec(&env, &["--apparmor", PROFILE], &id, "touch /ran");
        assert_eq!(r.code, 255, "{} {}", r.stdout, r.stderr);
        assert!(
            r.stderr
                .contains("apparmor profile specified but AppArmor is not enabled"),
            "{}",
            r.stderr
        );
        assert!(!b.rootfs().join("ran").exists(), "ran without its profile");
        env.remora(&["delete", "--force", &id]).ok();
        return;
    }
    println!("AppArmor is enabled: exec --apparmor is applied");
    let _profile = LoadedProfile::load(&env);
    let r = exec(&env, &[], &id, "cat /proc/self/attr/current");
    assert_eq!(r.ok().trim_end_matches(['\n', '\0']), "unconfined");
    let r = exec(&env, &["--apparmor", PROFILE], &id, PROBE);
    assert_confined(&r, &b.rootfs());
    // The container's own process is untouched.
    let current = fs::read_to_string(format!("/proc/{pid}/attr/current")).unwrap();
    assert_eq!(current.trim_end_matches(['\n', '\0']), "unconfined");
    env.remora(&["delete", "--force", &id]).ok();
}

#[test]
fn selinux_label_and_mount_label_are_applied_or_refused() {
    let env = TestEnv::new("selinux");
    let mut b = env.bundle("b");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"}));
    b.config["mounts"] = json!(mounts);
    b.config["linux"]["mountLabel"] = json!(MOUNT_LABEL);
    let script = "cat /proc/self/attr/current; echo; \
        grep -E ' /(mnt|sys/fs/cgroup) ' /proc/self/mountinfo";
    // The test policy denies remora_t writing remora_file_t: only the
    // process label and the mount label together make this write fail.
    let writes = "echo x > /tmp/f && echo tmp-ok; echo x > /mnt/f || echo mnt-denied";
    if !selinux_enabled() {
        println!("SELinux is not enabled on this host: the refusal is checked");
        // linux.mountLabel alone is ignored without SELinux (as crun).
        let out = b.output_of(&env, script);
        assert!(!out.contains("context="), "{out}");
        b.config["process"]["selinuxLabel"] = json!(SELINUX_LABEL);
        b.sh("touch /ran");
        b.run(&env, &env.id("run")).fails_with(
            "process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported",
        );
        let id = env.id("c");
        b.config["process"]
            .as_object_mut()
            .unwrap()
            .remove("selinuxLabel");
        start_sleeper(&env, &mut b, &id);
        let r = exec(&env, &["--process-label", SELINUX_LABEL], &id, "touch /ran");
        assert_eq!(r.code, 255, "{} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("selinux label is specified"),
            "{}",
            r.stderr
        );
        assert!(!b.rootfs().join("ran").exists(), "ran without its label");
        env.remora(&["delete", "--force", &id]).ok();
        return;
    }
    println!("SELinux is enabled: the labels are applied");
    b.config["process"]["selinuxLabel"] = json!(SELINUX_LABEL);
    let out = b.output_of(&env, script);
    println!("inside: {out:?}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next().map(|l| l.trim_end_matches('\0')),
        Some(SELINUX_LABEL),
        "{out}"
    );
    assert!(
        out.contains(&format!("context={MOUNT_LABEL}"))
            || out.contains(&format!("context=\"{MOUNT_LABEL}\"")),
        "the tmpfs lacks the mount label: {out}"
    );
    let enforcing = fs::read_to_string("/sys/fs/selinux/enforce").is_ok_and(|s| s.trim() == "1");
    let denied = |r: &Run| {
        println!("writes: {:?} {:?}", r.stdout, r.stderr);
        let out = r.ok();
        assert!(out.contains("tmp-ok"), "the allowed write failed: {out}");
        assert!(out.contains("mnt-denied"), "the denied write ran: {out}");
        assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    };
    if enforcing {
        b.sh(writes);
        denied(&b.run(&env, &env.id("writes")));
    } else {
        println!("SELinux is permissive: the policy's denial is not checked");
    }
    // A cgroup v1 layout's /sys/fs/cgroup is a tmpfs: labelled too.
    if let Some(cg) = out.lines().find(|l| l.contains(" /sys/fs/cgroup ")) {
        if cg.contains(" - tmpfs ") {
            assert!(cg.contains(&format!("context={MOUNT_LABEL}")), "{cg}");
        }
    }
    // The container's session keyring is made with its label (as runc).
    let id = env.id("keys");
    let pid = start_sleeper(&env, &mut b, &id);
    // mqueue takes the label on its root (its superblock is the IPC
    // namespace's).
    let mq = xattr(
        Path::new(&format!("/proc/{pid}/root/dev/mqueue")),
        "security.selinux",
    )
    .unwrap();
    println!("inside: /dev/mqueue is {mq:?}");
    assert_eq!(mq, MOUNT_LABEL);
    let serial = session_keyring(&id).expect("the container's session keyring in /proc/keys");
    let key_label = key_security(serial).unwrap();
    println!("session keyring {serial:#x}: {key_label:?}");
    assert_eq!(key_label, SELINUX_LABEL);
    env.remora(&["delete", "--force", &id]).ok();
    // exec --process-label.
    b.config["process"]
        .as_object_mut()
        .unwrap()
        .remove("selinuxLabel");
    let id = env.id("c");
    start_sleeper(&env, &mut b, &id);
    let r = exec(
        &env,
        &["--process-label", SELINUX_LABEL],
        &id,
        "cat /proc/self/attr/current",
    );
    println!("exec --process-label: {:?} {:?}", r.stdout, r.stderr);
    assert_eq!(r.ok().trim_end_matches(['\n', '\0']), SELINUX_LABEL);
    if enforcing {
        denied(&exec(
            &env,
            &["--process-label", SELINUX_LABEL],
            &id,
            writes,
        ));
        // Without the label the same write is allowed.
        let r = exec(&env, &[], &id, writes);
        assert!(!r.ok().contains("mnt-denied"), "{} {}", r.stdout, r.stderr);
    }
    env.remora(&["delete", "--force", &id]).ok();
}
