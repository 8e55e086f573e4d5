//! Bad input: a clear error naming what is wrong, exit 1, and nothing
//! left behind (the TestEnv drop checks state dirs, processes, mounts and
//! cgroups).

use std::fs;

use remora_integration_tests::{skip, TestEnv};
use serde_json::json;

fn assert_no_state(env: &TestEnv) {
    env.assert_nothing_left();
}

#[test]
fn missing_bundle() {
    let env = TestEnv::new("nobundle");
    let r = env.remora_detached(&["create", "-b", "/nonexistent/bundle", &env.id("c")]);
    r.fails_with("reading config.json");
    assert!(r.stderr.contains("/nonexistent/bundle"), "{}", r.stderr);
    assert_no_state(&env);
}

#[test]
fn malformed_json() {
    let env = TestEnv::new("badjson");
    let b = env.bundle("b");
    fs::write(
        b.dir.join("config.json"),
        "{\"ociVersion\": \"1.2.0\", \"process\": ",
    )
    .unwrap();
    let r = env.remora_detached(&["create", "-b", b.path(), &env.id("c")]);
    r.fails_with("invalid config");
    assert!(r.stderr.contains("config.json"), "{}", r.stderr);
    assert_no_state(&env);
}

/// ociVersion: required, SemVer, of major version 1; a later 1.x is
/// taken with a warning (its new fields would be ignored).
#[test]
fn oci_version_is_checked() {
    let env = TestEnv::new("ociversion");
    for (i, (version, want)) in [
        (json!(null), "ociVersion: missing from config.json"),
        (
            json!("latest"),
            "ociVersion \"latest\": not a SemVer 2.0.0 version",
        ),
        (
            json!("2.0.0"),
            "ociVersion \"2.0.0\": major version 2 is not supported",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = env.bundle(&format!("b{i}"));
        match version {
            serde_json::Value::Null => {
                b.config.as_object_mut().unwrap().remove("ociVersion");
            }
            v => b.config["ociVersion"] = v,
        }
        b.create(&env, &env.id("c")).fails_with(want);
        assert_no_state(&env);
    }
    let mut b = env.bundle("newer");
    b.config["ociVersion"] = json!("1.9.0");
    b.sh("true");
    let r = b.run(&env, &env.id("newer"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.error_text()
            .contains("ociVersion \"1.9.0\": newer than runtime-spec 1.3.0"),
        "{}",
        r.stderr
    );
    let mut b = env.bundle("old");
    b.config["ociVersion"] = json!("1.0.2-dev");
    b.sh("true");
    let r = b.run(&env, &env.id("old"));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn unknown_namespace_type() {
    let env = TestEnv::new("badns");
    let mut b = env.bundle("b");
    b.config["linux"]["namespaces"] =
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "bogus"}]);
    let r = b.create(&env, &env.id("c"));
    r.fails_with("bogus");
    assert_no_state(&env);
}

#[test]
fn missing_rootfs() {
    let env = TestEnv::new("norootfs");
    let b = env.bundle("b");
    fs::remove_dir_all(b.rootfs()).unwrap();
    let r = b.create(&env, &env.id("c"));
    r.fails_with("root.path \"rootfs\"");
    assert!(
        r.stderr.contains("No such file or directory"),
        "{}",
        r.stderr
    );
    assert_no_state(&env);
}

#[test]
fn missing_program_fails_at_create() {
    let env = TestEnv::new("noprog");
    let mut b = env.bundle("b");
    b.config["process"]["args"] = json!(["/bin/nope"]);
    b.create(&env, &env.id("c"))
        .fails_with("process.args[0] \"/bin/nope\": exec: no such file or directory");
    b.config["process"]["args"] = json!(["nope-in-path"]);
    b.create(&env, &env.id("d"))
        .fails_with("executable file not found in $PATH");
    b.config["process"]["args"] = json!(["/etc/passwd"]);
    b.create(&env, &env.id("e")).fails_with("permission denied");
    b.config["process"]["args"] = json!([]);
    b.create(&env, &env.id("f"))
        .fails_with("process.args: must not be empty");
    assert_no_state(&env);
}

#[test]
fn bad_mounts() {
    let env = TestEnv::new("badmount");
    let mut b = env.bundle("b");
    let base = b.config["mounts"].as_array().unwrap().clone();
    let cases = [
        (
            json!({"destination": "/x", "type": "nosuchfs", "source": "none"}),
            "mounts[7] \"/x\": mounting nosuchfs",
        ),
        (
            json!({"destination": "/x", "type": "bind", "source": "/nonexistent-src", "options": ["bind"]}),
            "source \"/nonexistent-src\"",
        ),
        (
            json!({"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=banana"]}),
            "mounts[7] \"/x\"",
        ),
    ];
    for (i, (m, msg)) in cases.into_iter().enumerate() {
        let mut mounts = base.clone();
        mounts.push(m);
        b.config["mounts"] = json!(mounts);
        b.create(&env, &env.id(&format!("c{i}"))).fails_with(msg);
    }
    assert_no_state(&env);
}

/// kernel.hostname / kernel.domainname in linux.sysctl beside the
/// hostname / domainname field: refused naming both (runc and crun);
/// either alone works.
#[test]
fn sysctl_conflicting_with_hostname_fields_is_refused() {
    let env = TestEnv::new("sysctlconflict");
    let mut b = env.bundle("b");
    b.config["hostname"] = json!("h");
    b.config["linux"]["sysctl"] = json!({"kernel.hostname": "other"});
    b.create(&env, &env.id("h"))
        .fails_with("linux.sysctl \"kernel.hostname\": conflicts with the hostname field");
    b.config["hostname"] = json!("");
    b.config["domainname"] = json!("d");
    b.config["linux"]["sysctl"] = json!({"kernel.domainname": "other"});
    b.create(&env, &env.id("d"))
        .fails_with("linux.sysctl \"kernel.domainname\": conflicts with the domainname field");
    assert_no_state(&env);
    b.config["domainname"] = json!("");
    b.config["linux"]["sysctl"] = json!({"kernel.hostname": "from-sysctl"});
    assert_eq!(b.output_of(&env, "hostname"), "from-sysctl\n");
}

#[test]
fn wrong_states_and_missing_containers() {
    let env = TestEnv::new("states");
    env.remora(&["start", "ghost"])
        .fails_with("container does not exist");
    env.remora(&["kill", "ghost"])
        .fails_with("container does not exist");
    env.remora(&["state", "ghost"])
        .fails_with("container does not exist");
    env.remora(&["delete", "ghost"])
        .fails_with("container does not exist");
    env.remora(&["delete", "-f", "ghost"]).ok();
    env.remora(&["state", "../etc"])
        .fails_with("invalid container ID format");
    let mut b = env.bundle("b");
    b.config["process"]["terminal"] = json!(true);
    b.create(&env, &env.id("t"))
        .fails_with("cannot allocate tty");
    b.config["hostname"] = json!("h");
    b.config["process"]["terminal"] = json!(false);
    b.config["linux"]["namespaces"] = json!([{"type": "mount"}]);
    b.create(&env, &env.id("h"))
        .fails_with("without a private UTS namespace");
    assert_no_state(&env);
}

#[test]
fn failed_init_after_clone_leaves_nothing() {
    // Fails deep in the init (after namespaces, cgroup and mounts exist).
    let env = TestEnv::new("latefail");
    let mut b = env.bundle("b");
    b.config["process"]["cwd"] = json!("/etc/passwd/sub");
    b.create(&env, &env.id("c"))
        .fails_with("process.cwd \"/etc/passwd/sub\"");
    assert_no_state(&env);
}

/// The error text of a failed command is one line (or one JSON object).
fn one_line(r: &remora_integration_tests::Run) -> &str {
    assert_eq!(r.stderr.lines().count(), 1, "not one line: {:?}", r.stderr);
    r.stderr.trim_end()
}

#[test]
fn endless_and_huge_configs_are_refused() {
    let env = TestEnv::new("bigcfg");
    let b = env.bundle("b");
    let cfg = b.dir.join("config.json");
    let limit = "larger than the limit of 10485760 bytes";
    // A config that never ends: read up to the cap, no further.
    fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &cfg).unwrap();
    let r = env.remora_detached(&["create", "-b", b.path(), &env.id("z")]);
    r.fails_with(limit);
    one_line(&r);
    // A FIFO nobody writes: no hang, an empty config.
    fs::remove_file(&cfg).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&cfg)
        .status()
        .unwrap();
    assert!(status.success());
    env.remora_detached(&["create", "-b", b.path(), &env.id("f")])
        .fails_with("invalid config: EOF");
    // A regular file past the cap.
    fs::remove_file(&cfg).unwrap();
    fs::write(&cfg, vec![b' '; 11 << 20]).unwrap();
    env.remora_detached(&["create", "-b", b.path(), &env.id("h")])
        .fails_with(limit);
    assert_no_state(&env);
}

#[test]
fn exec_process_json_is_bounded_and_cwd_absolute() {
    let env = TestEnv::new("execbound");
    let mut b = env.bundle("b");
    b.sh("sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    // exec's own failures exit 255 (runc's code).
    let r = env.remora(&["exec", "-p", "/dev/zero", &id]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(
        r.error_text()
            .contains("--process /dev/zero: larger than the limit of 10485760 bytes"),
        "{}",
        r.stderr
    );
    let r = env.remora(&["exec", "--cwd", "tmp", &id, "true"]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(
        r.error_text()
            .contains("--cwd \"tmp\": must be an absolute path"),
        "{}",
        r.stderr
    );
    let p = env.base.join("process.json");
    fs::write(
        &p,
        json!({"args": ["true"], "cwd": "tmp", "user": {"uid": 0, "gid": 0}}).to_string(),
    )
    .unwrap();
    let r = env.remora(&["exec", "-p", p.to_str().unwrap(), &id]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(
        r.error_text()
            .contains("cwd \"tmp\": must be an absolute path"),
        "{}",
        r.stderr
    );
    // Nothing was started by the refused execs: the sleeper alone.
    let ps = env.remora(&["ps", "-f", "json", &id]);
    let pids: Vec<i32> = serde_json::from_str(ps.ok()).unwrap();
    assert_eq!(pids.len(), 1, "{pids:?}");
    env.remora(&["delete", "-f", &id]).ok();
    assert_no_state(&env);
}

#[test]
fn huge_values_are_cut_in_errors() {
    let env = TestEnv::new("hugeval");
    let mut b = env.bundle("b");
    // Refused by the init (sethostname): said once, cut.
    b.config["hostname"] = json!("h".repeat(1 << 20));
    let r = b.create(&env, &env.id("h"));
    r.fails_with("(1048576 bytes): Invalid argument");
    assert!(r.stderr.len() < 1024, "{} bytes", r.stderr.len());
    one_line(&r);
    // Refused before anything exists; runc says it in ~160 bytes.
    b.config["hostname"] = json!("h");
    b.config["process"]["user"]["additionalGids"] = json!((0..70_000).collect::<Vec<u32>>());
    let r = b.create(&env, &env.id("g"));
    r.fails_with(
        "process.user.additionalGids: 70000 groups, more than the kernel's limit of 65536",
    );
    assert!(r.stderr.len() < 300, "{} bytes", r.stderr.len());
    assert_no_state(&env);
}

#[test]
fn an_init_error_is_printed_once_in_runc_form() {
    let env = TestEnv::new("once");
    let mut b = env.bundle("b");
    b.config["process"]["cwd"] = json!("/etc/passwd/sub");
    b.save();
    let what = "process.cwd \"/etc/passwd/sub\"";
    // Text: runc's logfmt line, once (not "remora init: X" then "X").
    let r = env.remora_detached(&["create", "-b", b.path(), &env.id("t")]);
    r.fails_with(what);
    let line = one_line(&r);
    assert!(
        line.starts_with("time=\"") && line.contains(" level=error msg=\""),
        "{line}"
    );
    assert!(!r.stderr.contains("remora init:"), "{}", r.stderr);
    // JSON: one object.
    let r = env.remora_detached(&[
        "--log-format",
        "json",
        "create",
        "-b",
        b.path(),
        &env.id("j"),
    ]);
    r.fails_with(what);
    let v: serde_json::Value = serde_json::from_str(one_line(&r)).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"].as_str().unwrap().contains(what), "{v}");
    // --log FILE: one JSON line in the file, the plain text on stderr.
    let log = env.base.join("log.json");
    let r = env.remora_detached(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "create",
        "-b",
        b.path(),
        &env.id("l"),
    ]);
    assert!(one_line(&r).starts_with("process.cwd"), "{}", r.stderr);
    let logged = fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 1, "{logged}");
    let v: serde_json::Value = serde_json::from_str(logged.trim()).unwrap();
    assert!(v["msg"].as_str().unwrap().contains(what), "{v}");
    assert_no_state(&env);
}

#[test]
fn refused_arguments_are_named() {
    let env = TestEnv::new("badargs");
    // --root naming a regular file: not an empty list.
    let file = env.base.join("a-file");
    fs::write(&file, "").unwrap();
    let r: remora_integration_tests::Run =
        std::process::Command::new(remora_integration_tests::remora_bin())
            .args(["--root", file.to_str().unwrap(), "list"])
            .output()
            .unwrap()
            .into();
    r.fails_with(&format!("--root {}: not a directory", file.display()));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // --log in a directory that does not exist: refused, not dropped.
    let r = env.remora(&["--log", "/nonexistent-dir/log.json", "list"]);
    r.fails_with(
        "--log /nonexistent-dir/log.json: opening the log file: No such file or directory",
    );
    // A symlinked root.path.
    let mut b = env.bundle("b");
    std::os::unix::fs::symlink("rootfs", b.dir.join("link")).unwrap();
    b.config["root"]["path"] = json!("link");
    b.create(&env, &env.id("s"))
        .fails_with("root.path \"link\": ");
    let abs = b.dir.join("link");
    b.config["root"]["path"] = json!(abs);
    b.create(&env, &env.id("a"))
        .fails_with("is a symlink (to rootfs)");
    assert_no_state(&env);
}

#[test]
fn memory_limit_below_what_the_init_needs_is_named() {
    let env = TestEnv::new("memlimit");
    let mut b = env.bundle("b");
    b.config["linux"]["resources"]["memory"] = json!({"limit": 1});
    // The kernel refuses the limit (EBUSY: the init uses more) or the init
    // is OOM-killed under it, depending on how far the init got: both say
    // which limit.
    let r = b.create(&env, &env.id("c"));
    r.fails_with("unable to set memory limit to 1");
    assert!(
        r.stderr.contains("linux.resources.memory.limit"),
        "the field is not named: {}",
        r.stderr
    );
    assert_no_state(&env);
}

/// Directories of the cgroupsPath `name` (at each hierarchy's root).
fn cgroup_dirs_at_root(name: &str) -> Vec<std::path::PathBuf> {
    fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|h| h.path().join(name))
        .chain([std::path::Path::new("/sys/fs/cgroup").join(name)])
        .filter(|d| d.is_dir())
        .collect()
}

#[test]
fn a_frozen_cgroup_is_refused_before_the_init_is_placed() {
    let env = TestEnv::new("frozen");
    let mut b = env.bundle("b");
    let name = format!("{}-frozen", env.name);
    b.config["linux"]["cgroupsPath"] = json!(format!("/{name}"));
    // (freezer directory, file, frozen value, thawed value)
    let freezers = [
        (
            "/sys/fs/cgroup/freezer",
            "freezer.state",
            "FROZEN",
            "THAWED",
        ),
        ("/sys/fs/cgroup/unified", "cgroup.freeze", "1", "0"),
        ("/sys/fs/cgroup", "cgroup.freeze", "1", "0"),
    ];
    let mut tried = 0;
    for (i, (base, file, frozen, thawed)) in freezers.iter().enumerate() {
        let dir = std::path::Path::new(base).join(&name);
        if !std::path::Path::new(base).is_dir() || fs::create_dir(&dir).is_err() {
            continue;
        }
        if !dir.join(file).exists() {
            fs::remove_dir(&dir).unwrap();
            continue;
        }
        tried += 1;
        fs::write(dir.join(file), frozen).unwrap();
        let r = b.create(&env, &env.id(&format!("c{i}")));
        fs::write(dir.join(file), thawed).unwrap();
        let left = cgroup_dirs_at_root(&name);
        fs::remove_dir(&dir).unwrap();
        r.fails_with("container's cgroup unexpectedly frozen (linux.cgroupsPath");
        assert!(
            r.stderr.contains(&dir.display().to_string()),
            "{}",
            r.stderr
        );
        // Nothing was made in any hierarchy: only the test's own directory.
        assert_eq!(left, vec![dir.clone()], "cgroups made: {left:?}");
    }
    if tried == 0 {
        skip(
            "a_frozen_cgroup_is_refused_before_the_init_is_placed",
            "no freezer on this host",
        );
    }
    assert_no_state(&env);
}

/// The container ends stopped, with no process and no cgroup left, and
/// `delete` removes its state.
fn assert_failed_start(env: &TestEnv, id: &str, r: remora_integration_tests::Run) {
    r.fails_with("process.args[0] \"/bin/sh\": exec: E2BIG: Argument list too long");
    one_line(&r);
    let st = remora_integration_tests::state(env, id);
    assert_eq!(st["status"], "stopped", "{st}");
    assert_eq!(st["pid"], 0, "{st}");
    let cgroups = remora_integration_tests::cgroup_dirs_named(&env.name);
    assert!(
        cgroups.is_empty(),
        "cgroups left after a failed start: {cgroups:?}"
    );
    env.remora(&["delete", id]).ok();
}

#[test]
fn start_fails_when_execve_fails() {
    let env = TestEnv::new("e2big");
    let mut b = env.bundle("b");
    // One argument past MAX_ARG_STRLEN (128 KiB).
    b.config["process"]["args"] = json!(["sh", "-c", "true", "x".repeat(1 << 20)]);
    let id = env.id("arg");
    b.create(&env, &id).ok();
    assert_failed_start(&env, &id, env.remora(&["start", &id]));
    // 100k environment entries, 3.4 MB: past ARG_MAX.
    b.config["process"]["args"] = json!(["sh", "-c", "true"]);
    let vars: Vec<String> = std::iter::once("PATH=/bin".to_string())
        .chain((0..100_000).map(|i| format!("VARIABLE_{i:06}=some-value-x")))
        .collect();
    b.config["process"]["env"] = json!(vars);
    let id = env.id("env");
    b.create(&env, &id).ok();
    assert_failed_start(&env, &id, env.remora(&["start", &id]));
    // run: the same error, and run deletes the container.
    let r = b.run(&env, &env.id("run"));
    r.fails_with("exec: E2BIG: Argument list too long");
    assert_no_state(&env);
    // exec: its own failure, 255, nothing started.
    b.config["process"]["env"] = json!(["PATH=/bin"]);
    b.sh("sleep 1000");
    let id = env.id("exec");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    // (process.json: remora's own argv could not hold the argument.)
    let p = env.base.join("process.json");
    let process = json!({"args": ["sh", "-c", "true", "x".repeat(1 << 20)], "cwd": "/",
        "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}});
    fs::write(&p, process.to_string()).unwrap();
    let r = env.remora(&["exec", "-p", p.to_str().unwrap(), &id]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(
        r.error_text()
            .contains("exec: E2BIG: Argument list too long"),
        "{}",
        r.stderr
    );
    let ps = env.remora(&["ps", "-f", "json", &id]);
    let pids: Vec<i32> = serde_json::from_str(ps.ok()).unwrap();
    assert_eq!(pids.len(), 1, "only the init: {pids:?}");
    env.remora(&["delete", "-f", &id]).ok();
    assert_no_state(&env);
}

#[test]
fn a_cgroup_frozen_while_create_waits_fails_create() {
    // A createRuntime hook (run by remora while the init waits) freezes the
    // container's cgroup: create must not wait for the frozen init forever.
    // Each freezer of the host: v1, and cgroup2's (hybrid or pure).
    let env = TestEnv::new("latefreeze");
    let mut b = env.bundle("b");
    let freezers = [
        ("/sys/fs/cgroup/freezer", "freezer.state", "FROZEN"),
        ("/sys/fs/cgroup/unified", "cgroup.freeze", "1"),
        ("/sys/fs/cgroup", "cgroup.freeze", "1"),
    ];
    let mut tried = 0;
    for (i, (dir, file, value)) in freezers.iter().enumerate() {
        let has = match *file {
            "freezer.state" => std::path::Path::new(dir).is_dir(),
            _ => std::path::Path::new(dir)
                .join("cgroup.controllers")
                .exists(),
        };
        if !has {
            continue;
        }
        tried += 1;
        let name = format!("{}-late{i}", env.name);
        b.config["linux"]["cgroupsPath"] = json!(format!("/{name}"));
        b.config["hooks"] = json!({"createRuntime": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("echo {value} > {dir}/{name}/{file}")],
        }]});
        let r = b.create(&env, &env.id(&format!("c{i}")));
        r.fails_with("container's cgroup unexpectedly frozen while waiting for the init");
        one_line(&r);
        let left = cgroup_dirs_at_root(&name);
        assert!(left.is_empty(), "cgroups left: {left:?}");
    }
    if tried == 0 {
        skip(
            "a_cgroup_frozen_while_create_waits_fails_create",
            "no freezer on this host",
        );
    }
    assert_no_state(&env);
}

#[test]
fn start_of_a_paused_created_container_is_refused_and_harmless() {
    let env = TestEnv::new("pausedstart");
    let mut b = env.bundle("b");
    b.sh("echo started > /tmp/mark; sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["pause", &id]).ok();
    // Not a hang on the frozen init, and the container is left as it was.
    env.remora(&["start", &id])
        .fails_with("cannot start a container in the paused state");
    assert_eq!(
        remora_integration_tests::state(&env, &id)["status"],
        "paused"
    );
    env.remora(&["resume", &id]).ok();
    env.remora(&["start", &id]).ok();
    assert_eq!(
        remora_integration_tests::state(&env, &id)["status"],
        "running"
    );
    env.remora(&["delete", "-f", &id]).ok();
    assert_no_state(&env);
}
