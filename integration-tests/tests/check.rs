//! `remora check`: every problem of a bundle listed at once, with its
//! field and a hint; exit 0 exactly when create passes validation; and
//! nothing made on the host (no state dir, cgroup or mount).

use std::fs;
use std::path::Path;

use remora_integration_tests::{apparmor_enabled, cgroup_dirs_named, Run, TestEnv};
use serde_json::json;

/// `remora check -b DIR` with the test's private state root.
fn check(env: &TestEnv, dir: &str, global: &[&str]) -> Run {
    let mut args: Vec<&str> = global.to_vec();
    args.extend(["check", "-b", dir]);
    env.remora(&args)
}

/// What a check must not leave: the state root untouched, no cgroup named
/// after the test, no mount under the test's dir.
fn assert_nothing_made(env: &TestEnv) {
    assert!(
        !env.root.exists() || fs::read_dir(&env.root).unwrap().next().is_none(),
        "check wrote under the state root {}",
        env.root.display()
    );
    assert_eq!(
        cgroup_dirs_named(&env.name),
        Vec::<std::path::PathBuf>::new()
    );
    let base = env.base.to_string_lossy().into_owned();
    let mounts: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&base))
        .map(String::from)
        .collect();
    assert!(mounts.is_empty(), "{mounts:?}");
}

/// The `error:`/`warning:` lines of check's output, as (level, field).
fn listed(r: &Run) -> Vec<(String, String)> {
    r.stdout
        .lines()
        .filter_map(|l| {
            let (level, rest) = l.split_once(": ")?;
            if level != "error" && level != "warning" {
                return None;
            }
            let field = rest.split(": ").next()?.to_string();
            Some((level.to_string(), field))
        })
        .collect()
}

fn v1_or_v2_has(ctrl: &str) -> bool {
    let mi = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let v1 = mi.lines().any(|l| {
        l.split_once(" - ").is_some_and(|(_, post)| {
            let f: Vec<&str> = post.split_whitespace().collect();
            f.first() == Some(&"cgroup")
                && f.get(2).is_some_and(|o| o.split(',').any(|c| c == ctrl))
        })
    });
    let v2 = [
        "/sys/fs/cgroup/cgroup.controllers",
        "/sys/fs/cgroup/unified/cgroup.controllers",
    ]
    .iter()
    .any(|p| fs::read_to_string(p).is_ok_and(|s| s.split_whitespace().any(|c| c == ctrl)));
    v1 || v2
}

#[test]
fn a_valid_bundle_passes_and_create_agrees() {
    let env = TestEnv::new("check-ok");
    let b = env.bundle("b");
    b.save();
    let r = check(&env, b.path(), &[]);
    assert!(r.ok().contains("ok, 0 warning(s)"), "{}", r.stdout);
    assert!(listed(&r).is_empty(), "{}", r.stdout);
    assert_nothing_made(&env);
    // and create takes it
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["delete", "--force", &id]).ok();
}

#[test]
fn every_problem_is_listed_with_its_field_and_a_hint() {
    let env = TestEnv::new("check-bad");
    let mut b = env.bundle("b");
    let c = &mut b.config;
    let caps = c["process"]["capabilities"]["bounding"]
        .as_array()
        .unwrap()
        .len();
    c["process"]["capabilities"]["bounding"]
        .as_array_mut()
        .unwrap()
        .extend([json!("CAP_NET_ADMN"), json!("CAP_NOT_A_CAP")]);
    c["process"]["args"] = json!(["no-such-program"]);
    c["linux"]["sysctl"] = json!({"kernel.not_namespaced": "1"});
    c["linux"]["cgroupsPath"] = json!(format!("/{}-cg", env.name));
    c["linux"]["resources"]["network"] = json!({"classID": 42});
    c["linux"]["resources"]["memory"] = json!({"limit": 67108864});
    c["linux"]["intelRdt"] = json!({"closID": "x", "l3CacheSchema": "L3:0=f"});
    c["process"]["apparmorProfile"] = json!("remora-test-profile");
    c["hooks"] = json!({"prestart": [{"path": "/no/such/hook"}]});
    // two more of the config's own checks (create stops at the first)
    c["hostname"] = json!("box");
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "network" && n["type"] != "uts");
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "network", "path": "/proc/999999999/ns/net"}));
    let ns_index = c["linux"]["namespaces"].as_array().unwrap().len() - 1;
    let mounts = c["mounts"].as_array_mut().unwrap();
    let src_index = mounts.len();
    mounts.push(json!({"destination": "/data", "type": "bind",
        "source": "/no/such/source", "options": ["rbind"]}));
    mounts.push(json!({"destination": "/out/y", "type": "tmpfs", "source": "tmpfs"}));
    // /out climbs out of the rootfs
    std::os::unix::fs::symlink("../../../../../etc", b.rootfs().join("out")).unwrap();
    b.save();

    let r = check(&env, b.path(), &[]);
    assert_eq!(r.code, 1, "{} {}", r.stdout, r.stderr);
    let got = listed(&r);
    let mut want: Vec<(&str, String)> = vec![
        ("error", format!("process.capabilities.bounding[{caps}]")),
        (
            "error",
            format!("process.capabilities.bounding[{}]", caps + 1),
        ),
        ("error", "process.args[0]".into()),
        ("error", "linux.sysctl".into()),
        ("error", "hostname".into()),
        ("error", "hooks.prestart[0].path".into()),
        ("error", format!("linux.namespaces[{ns_index}].path")),
        ("error", format!("mounts[{src_index}].source")),
        ("warning", format!("mounts[{}].destination", src_index + 1)),
    ];
    if !apparmor_enabled() {
        want.push(("error", "process.apparmorProfile".into()));
    }
    if !Path::new("/sys/fs/resctrl/schemata").exists() {
        want.push(("error", "linux.intelRdt".into()));
    }
    if !v1_or_v2_has("net_cls") {
        want.push(("error", "linux.resources.network.classID".into()));
    }
    for (level, field) in &want {
        assert!(
            got.iter().any(|(l, f)| l == level && f == field),
            "{level} {field} not listed in:\n{}",
            r.stdout
        );
    }
    // nothing that is fine is listed (memory is mounted on every host
    // the tests run on)
    assert_eq!(got.len(), want.len(), "{}", r.stdout);
    assert!(!r.stdout.contains("linux.resources.memory"));
    // each problem has a hint; the capability's names the right one
    assert_eq!(
        r.stdout.matches("\n  hint: ").count(),
        got.len(),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("did you mean \"CAP_NET_ADMIN\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("climbs out of the rootfs"),
        "{}",
        r.stdout
    );
    let errors = got.iter().filter(|(l, _)| l == "error").count();
    r.fails_with(&format!(
        "{errors} error(s), 1 warning(s): create would fail"
    ));
    assert_nothing_made(&env);
    // create refuses it too (at its first error)
    b.create(&env, &env.id("c"))
        .fails_with("unknown capability");
    assert_nothing_made(&env);
}

#[test]
fn a_warning_alone_passes_and_create_agrees() {
    let env = TestEnv::new("check-warn");
    let mut b = env.bundle("b");
    b.config["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/out/y", "type": "tmpfs", "source": "tmpfs"}));
    std::os::unix::fs::symlink("../../../../../etc", b.rootfs().join("out")).unwrap();
    b.sh("grep -q ' /etc/y [^ ]* - tmpfs ' /proc/self/mountinfo && echo landed-in-etc");
    b.save();
    let r = check(&env, b.path(), &[]);
    assert!(r.ok().contains("ok, 1 warning(s)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("the mount lands on /etc/y"),
        "{}",
        r.stdout
    );
    assert_nothing_made(&env);
    // as check said: the mount lands on the rootfs's /etc/y
    let out = b.run(&env, &env.id("r"));
    assert_eq!(out.ok().trim(), "landed-in-etc");
}

#[test]
fn rootless_needs_a_user_namespace_and_subordinate_ids() {
    let env = TestEnv::new("check-rootless");
    let mut b = env.bundle("b");
    b.save();
    let r = check(&env, b.path(), &["--rootless", "true"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("error: linux.namespaces: rootless: the container needs a user namespace"),
        "{}",
        r.stdout
    );
    b.in_user_namespace(1_300_000_000);
    b.save();
    let r = check(&env, b.path(), &["--rootless", "true"]);
    // root (the tests' user) with subordinate ids covering the map?
    let covered = |file: &str| {
        fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .any(|l| {
                let f: Vec<&str> = l.split(':').collect();
                f.len() == 3
                    && (f[0] == "root" || f[0] == "0")
                    && f[1].parse::<u64>().is_ok_and(|s| s <= 1_300_000_000)
                    && f[1].parse::<u64>().unwrap_or(0) + f[2].parse::<u64>().unwrap_or(0)
                        >= 1_300_065_536
            })
    };
    for (file, field) in [
        ("/etc/subuid", "linux.uidMappings[0]"),
        ("/etc/subgid", "linux.gidMappings[0]"),
    ] {
        let line = format!("error: {field}: rootless: host ids 1300000000-1300065535 are not subordinate ids of root in {file}");
        assert_eq!(r.stdout.contains(&line), !covered(file), "{}", r.stdout);
    }
    assert!(!r.stdout.contains("linux.namespaces"), "{}", r.stdout);
    // not rootless: the same bundle passes
    check(&env, b.path(), &["--rootless", "false"]).ok();
    assert_nothing_made(&env);
}

#[test]
fn no_config_or_bad_json_is_one_problem() {
    let env = TestEnv::new("check-json");
    let dir = env.base.join("empty");
    fs::create_dir_all(&dir).unwrap();
    let r = check(&env, dir.to_str().unwrap(), &[]);
    assert_eq!(listed(&r), vec![("error".into(), "config.json".into())]);
    r.fails_with("1 error(s)");
    fs::write(dir.join("config.json"), "{\"ociVersion\": ").unwrap();
    let r = check(&env, dir.to_str().unwrap(), &[]);
    assert!(r.stdout.contains("invalid JSON"), "{}", r.stdout);
    r.fails_with("1 error(s)");
    assert_nothing_made(&env);
}

/// Under strace: check makes no process, namespace, mount or directory,
/// and opens nothing for writing (on the broken bundle too, where every
/// check runs).
#[test]
fn check_makes_nothing_at_the_syscall_level() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        println!("skipped: strace is not installed (scripts/ci.d/20-runtime.sh installs it)");
        return;
    }
    let env = TestEnv::new("check-strace");
    let mut b = env.bundle("b");
    b.config["mounts"].as_array_mut().unwrap().push(
        json!({"destination": "/data", "type": "bind", "source": "/no/such", "options": ["rbind"]}),
    );
    b.config["linux"]["cgroupsPath"] = json!(format!("/{}-cg", env.name));
    b.config["linux"]["resources"]["memory"] = json!({"limit": 67108864});
    b.save();
    let trace = env.base.join("strace.out");
    let o = std::process::Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=clone,clone3,fork,vfork,unshare,setns,mount,umount2,mount_setattr,open_tree,\
move_mount,fsopen,fsmount,pivot_root,mkdir,mkdirat,rmdir,unlink,unlinkat,rename,renameat2,\
symlink,symlinkat,mknod,mknodat,creat,open,openat,openat2",
        ])
        .arg(&env.bin)
        .arg("--root")
        .arg(&env.root)
        .args(["check", "-b", b.path()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let calls = fs::read_to_string(&trace).unwrap();
    let made: Vec<&str> = calls
        .lines()
        .filter(|l| {
            !(l.contains(" openat(") || l.contains(" open(") || l.contains(" openat2("))
                || ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                    .iter()
                    .any(|f| l.contains(f))
        })
        .filter(|l| !l.contains("+++ exited") && !l.contains("--- SIG"))
        .collect();
    assert!(
        made.is_empty(),
        "check made or changed something: {made:#?}"
    );
    assert!(
        calls.contains("openat("),
        "strace saw no openat at all: {calls}"
    );
    assert_nothing_made(&env);
}
