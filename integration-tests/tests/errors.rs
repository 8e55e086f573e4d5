//! Bad input: a clear error naming what is wrong, exit 1, and nothing
//! left behind (the TestEnv drop checks state dirs, processes, mounts and
//! cgroups).

use std::fs;

use remora_integration_tests::TestEnv;
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
