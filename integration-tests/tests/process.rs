//! The container process as runc makes it: its session, its environment
//! (HOME), how process.env and PATH are taken, the ownership of its stdio.

use remora_integration_tests::TestEnv;
use serde_json::json;

/// (pid, pgrp, session) from /proc/PID/stat text.
fn ids(stat: &str) -> (String, String, String) {
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let pid = stat.split(' ').next().unwrap().to_string();
    (pid, f[2].to_string(), f[3].to_string())
}

/// Without a terminal, PID 1 and an exec'd process each lead a session
/// and process group of their own, never the caller's.
#[test]
fn processes_lead_their_own_session_without_a_terminal() {
    let env = TestEnv::new("setsid");
    let mut b = env.bundle("b");
    b.sh("cat /proc/1/stat");
    let out = b.run(&env, &env.id("run")).ok().to_string();
    assert_eq!(ids(&out), ("1".into(), "1".into(), "1".into()), "{out}");

    b.sh("sleep 1000");
    let id = env.id("exec");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let r = env.remora(&["exec", &id, "sh", "-c", "cat /proc/$$/stat"]);
    let (pid, pgrp, sid) = ids(r.ok());
    assert_eq!((&pgrp, &sid), (&pid, &pid), "{}", r.stdout);
    env.remora(&["delete", "--force", &id]).ok();
}

/// HOME, when process.env lacks it: the user's home in the container's
/// /etc/passwd, else "/"; a given HOME is kept; exec too.
#[test]
fn home_is_set_from_the_containers_passwd() {
    let env = TestEnv::new("home");
    let mut b = env.bundle("b");
    let no_home: Vec<String> = vec!["PATH=/bin".into(), "TERM=xterm".into()];
    b.config["process"]["env"] = json!(no_home);
    for (uid, want) in [(0, "/root"), (65534, "/"), (4242, "/")] {
        b.config["process"]["user"] = json!({"uid": uid, "gid": uid});
        let out = b.output_of(&env, "echo $HOME");
        assert_eq!(out.trim(), want, "uid {uid}");
    }
    b.config["process"]["user"] = json!({"uid": 0, "gid": 0});
    b.config["process"]["env"] = json!(["PATH=/bin", "HOME=/given"]);
    assert_eq!(b.output_of(&env, "echo $HOME").trim(), "/given");

    b.config["process"]["env"] = json!(no_home);
    b.sh("sleep 1000");
    let id = env.id("exec");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let r = env.remora(&["exec", &id, "sh", "-c", "echo $HOME"]);
    assert_eq!(r.ok().trim(), "/root");
    env.remora(&["delete", "--force", &id]).ok();
}

/// An env entry without "=" is refused at create, naming it; nothing is
/// left (TestEnv's drop checks).
#[test]
fn an_env_entry_without_equals_is_refused() {
    let env = TestEnv::new("envnoeq");
    let mut b = env.bundle("b");
    b.config["process"]["env"] = json!(["PATH=/bin", "JUSTANAME"]);
    b.sh("true");
    b.create(&env, &env.id("c"))
        .fails_with("process.env \"JUSTANAME\": invalid environment variable: missing '='");
}

/// Without PATH in process.env a bare program name is not found (runc
/// assumes no default PATH); a path still works.
#[test]
fn without_path_a_bare_program_name_is_not_found() {
    let env = TestEnv::new("nopath");
    let mut b = env.bundle("b");
    b.config["process"]["env"] = json!(["TERM=xterm"]);
    b.config["process"]["args"] = json!(["true"]);
    b.create(&env, &env.id("bare"))
        .fails_with("executable file not found in $PATH");
    b.config["process"]["args"] = json!(["/bin/true"]);
    b.run(&env, &env.id("abs")).ok();
}

/// The process's stdio belongs to its user (the uid; the gid is kept),
/// as runc's: here stdout and stderr are the caller's pipes.
#[test]
fn stdio_belongs_to_the_process_user() {
    let env = TestEnv::new("stdioown");
    let mut b = env.bundle("b");
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let out = b.output_of(&env, "stat -L -c %u /proc/self/fd/1 /proc/self/fd/2");
    assert_eq!(out, "1000\n1000\n");
}
