//! The six OCI hooks: where and when they run, what they get on stdin, their
//! args, env and timeout, and what a failing hook does to the lifecycle.
//!
//! Every hook here is `/bin/sh -c SCRIPT` writing marker files: the state
//! JSON it read, its namespaces, its argv and env, and its name appended to
//! an `order` file. Hooks that run in the runtime namespace (prestart,
//! createRuntime, poststart, poststop) and createContainer (before
//! pivot_root) write to a host directory; startContainer runs after
//! pivot_root and writes to the same directory bind-mounted at /marks.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use remora_integration_tests::{ns_of, state, Bundle, TestEnv};
use serde_json::{json, Value};

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A hook writing its markers as `<dir>/<name>.*` (dir as the hook sees
/// it), then running `tail` (e.g. `exit 3`).
fn hook(name: &str, dir: &str, tail: &str) -> Value {
    let script = format!(
        "s=$(cat); printf '%s' \"$s\" > {dir}/{name}.json; \
         pid=$(echo \"$s\" | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); \
         tr '\\0' '\\n' < /proc/$pid/cmdline | head -1 > {dir}/{name}.comm 2>/dev/null; \
         for n in mnt uts ipc net pid; do readlink /proc/self/ns/$n; done > {dir}/{name}.ns; \
         hostname > {dir}/{name}.host; \
         echo \"$0 $1 $FOO\" > {dir}/{name}.env; \
         echo {name} >> {dir}/order; {tail}"
    );
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", script, format!("{name}-arg0"), "arg1"],
        "env": [format!("FOO=env-of-{name}")],
    })
}

/// A bundle whose container sleeps, with /marks bound to a host dir;
/// returns the host dir.
fn hook_bundle(env: &TestEnv, name: &str) -> (Bundle, PathBuf) {
    let mut b = env.bundle(name);
    let marks = env.base.join(format!("{name}-marks"));
    fs::create_dir_all(&marks).unwrap();
    fs::create_dir_all(b.rootfs().join("marks")).unwrap();
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/marks", "type": "bind", "source": marks, "options": ["rbind", "rw"]}));
    b.config["mounts"] = json!(mounts);
    b.config["hostname"] = json!("hooked");
    b.config["annotations"] = json!({"org.example.hooks": "yes"});
    b.sh("echo program-ran > /marks/program; exec sleep 1000");
    (b, marks)
}

/// All six hooks, each writing its markers.
fn all_hooks(marks: &Path) -> Value {
    let m = marks.to_str().unwrap();
    json!({
        "prestart": [hook("prestart", m, ""), hook("prestart2", m, "")],
        "createRuntime": [hook("createRuntime", m, "")],
        "createContainer": [hook("createContainer", m, "")],
        "startContainer": [hook("startContainer", "/marks", "")],
        "poststart": [hook("poststart", m, "")],
        "poststop": [hook("poststop", m, "")],
    })
}

fn read(marks: &Path, file: &str) -> String {
    fs::read_to_string(marks.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn hook_state(marks: &Path, name: &str) -> Value {
    let text = read(marks, &format!("{name}.json"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} got no state JSON ({e}): {text:?}"))
}

fn order(marks: &Path) -> Vec<String> {
    fs::read_to_string(marks.join("order"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn ns_lines(pid: &str) -> String {
    ["mnt", "uts", "ipc", "net", "pid"]
        .iter()
        .map(|n| ns_of(pid, n) + "\n")
        .collect()
}

#[test]
fn hooks_run_in_order_in_their_namespaces_with_state_args_and_env() {
    let env = TestEnv::new("hooks");
    let (mut b, marks) = hook_bundle(&env, "b");
    b.config["hooks"] = all_hooks(&marks);
    let id = env.id("c");
    b.create(&env, &id).ok();
    let init = state(&env, &id)["pid"].as_i64().unwrap();
    let o = order(&marks);
    assert_eq!(
        o.iter()
            .filter(|h| h.starts_with("pre") || h.starts_with("create"))
            .collect::<Vec<_>>(),
        ["prestart", "prestart2", "createRuntime", "createContainer"],
        "create runs prestart, createRuntime, createContainer in order: {o:?}"
    );
    assert!(
        !o.contains(&"startContainer".into()),
        "startContainer before start: {o:?}"
    );
    assert!(
        !marks.join("program").exists(),
        "the program ran before start"
    );
    env.remora(&["start", &id]).ok();
    wait_for(|| marks.join("program").exists(), "the program");
    env.remora(&["kill", &id, "KILL"]).ok();
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    assert!(
        !order(&marks).contains(&"poststop".into()),
        "poststop before delete"
    );
    env.remora(&["delete", &id]).ok();
    let o = order(&marks);
    assert_eq!(o.last().map(String::as_str), Some("poststop"), "{o:?}");
    assert_eq!(o.len(), 7, "every hook ran once: {o:?}");

    let host_ns = ns_lines("self");
    let container_ns = {
        // The init is gone; its namespaces live on in what the hooks saw.
        read(&marks, "startContainer.ns")
    };
    for name in [
        "prestart",
        "prestart2",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ] {
        let st = hook_state(&marks, name);
        assert_eq!(st["id"], json!(id), "{name}: {st}");
        assert_eq!(st["bundle"], json!(b.path()), "{name}: {st}");
        assert_eq!(
            st["annotations"],
            json!({"org.example.hooks": "yes"}),
            "{name}: {st}"
        );
        assert!(st["ociVersion"].is_string(), "{name}: {st}");
        assert!(st["status"].is_string(), "{name}: {st}");
        assert_eq!(
            read(&marks, &format!("{name}.env")),
            format!("{name}-arg0 arg1 env-of-{name}\n"),
            "{name}: args and env as given"
        );
        let ns = read(&marks, &format!("{name}.ns"));
        if name.ends_with("Container") {
            assert_eq!(
                ns, container_ns,
                "{name} runs in the container's namespaces"
            );
            assert_ne!(ns, host_ns, "{name}");
        } else {
            assert_eq!(ns, host_ns, "{name} runs in the runtime's namespaces");
        }
    }
    for name in ["prestart", "createRuntime", "poststart"] {
        assert_eq!(
            hook_state(&marks, name)["pid"],
            json!(init),
            "{name}: the init's host PID"
        );
    }
    // The container's namespaces are the init's: its uts has the hostname,
    // its mnt has /marks.
    assert_eq!(read(&marks, "startContainer.host"), "hooked\n");
    assert_ne!(container_ns.lines().next(), host_ns.lines().next());
}

/// The `status` each hook receives, per runtime-spec runtime.md
/// (Lifecycle: prestart, createRuntime, createContainer and startContainer
/// run after the create operation's environment exists and before the
/// program runs: `created`; poststart, after the program started:
/// `running`; poststop, after the container was destroyed: `stopped`),
/// and `pid` the init's PID as seen by the host for all but poststop.
/// runc 1.1.5 passes `creating` to prestart, createRuntime and
/// createContainer and pid 1 to createContainer and startContainer;
/// runtime-tools' hooks_stdin and crun want `created` (docs/design.md).
#[test]
fn hook_statuses_and_pids_follow_the_spec() {
    let env = TestEnv::new("hookstatus");
    let (mut b, marks) = hook_bundle(&env, "b");
    b.config["hooks"] = all_hooks(&marks);
    let id = env.id("c");
    b.create(&env, &id).ok();
    let init = state(&env, &id)["pid"].as_i64().unwrap();
    env.remora(&["start", &id]).ok();
    env.remora(&["delete", "--force", &id]).ok();
    let mut wrong = Vec::new();
    for (name, want) in [
        ("prestart", "created"),
        ("createRuntime", "created"),
        ("createContainer", "created"),
        ("startContainer", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ] {
        let st = hook_state(&marks, name);
        if st["status"] != want {
            wrong.push(format!("{name}: status {} (want {want})", st["status"]));
        }
        if name != "poststop" && st["pid"] != json!(init) {
            wrong.push(format!(
                "{name}: pid {} (want the init's {init})",
                st["pid"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// poststart runs in `start`, after the program was executed, and before
/// start returns. runc 1.1.5 FAILS this: it runs poststart in `create`.
#[test]
fn poststart_runs_in_start_after_the_program_is_executed() {
    let env = TestEnv::new("poststart");
    let (mut b, marks) = hook_bundle(&env, "b");
    let m = marks.to_str().unwrap();
    b.config["hooks"] = json!({"poststart": [hook("poststart", m, "")]});
    let id = env.id("c");
    b.create(&env, &id).ok();
    assert!(
        !marks.join("poststart.json").exists(),
        "poststart ran during create"
    );
    env.remora(&["start", &id]).ok();
    assert!(
        marks.join("poststart.json").exists(),
        "poststart had not run when start returned"
    );
    // The init had already become the program (sleep) when poststart ran:
    // its argv[0] (cmdline is the new image's from execve's point of no
    // return; comm is set only after the exec fifo's end closes).
    assert_eq!(read(&marks, "poststart.comm"), "sleep\n");
    env.remora(&["delete", "--force", &id]).ok();
}

/// A failing prestart, createRuntime or createContainer hook fails create;
/// the later hooks of the phase do not run; nothing of the container is
/// left (TestEnv's drop checks state, processes, mounts and cgroups).
#[test]
fn failing_create_hooks_abort_create_and_leave_nothing() {
    let env = TestEnv::new("hookfail");
    for phase in ["prestart", "createRuntime", "createContainer"] {
        let (mut b, marks) = hook_bundle(&env, phase);
        let m = marks.to_str().unwrap();
        let mut hooks = json!({});
        hooks[phase] = json!([hook("failing", m, "exit 3"), hook("after", m, "")]);
        b.config["hooks"] = hooks;
        let id = env.id(phase);
        let r = b.create(&env, &id);
        assert_eq!(
            r.code, 1,
            "{phase}: create must fail: {} {}",
            r.stdout, r.stderr
        );
        assert!(
            r.stderr.contains("hook"),
            "{phase}: the error names the hook: {}",
            r.stderr
        );
        assert!(
            marks.join("failing.json").exists(),
            "{phase} hook did not run"
        );
        assert!(
            !marks.join("after.json").exists(),
            "{phase}: hooks after a failed one ran"
        );
        assert!(!marks.join("program").exists());
        env.remora(&["state", &id])
            .fails_with("container does not exist");
    }
}

/// A failing startContainer hook fails start (runtime.md Lifecycle step 7:
/// generate an error, stop the container); the program never runs.
/// runc 1.1.5 FAILS this: its start returns 0 before the init runs the
/// hook.
#[test]
fn failing_start_container_hook_fails_start() {
    let env = TestEnv::new("hookstartfail");
    let (mut b, marks) = hook_bundle(&env, "b");
    b.config["hooks"] = json!({"startContainer": [hook("failing", "/marks", "exit 3"), hook("after", "/marks", "")]});
    let id = env.id("c");
    b.create(&env, &id).ok();
    let r = env.remora(&["start", &id]);
    assert_eq!(r.code, 1, "start must fail: {} {}", r.stdout, r.stderr);
    assert!(marks.join("failing.json").exists());
    assert!(
        !marks.join("after.json").exists(),
        "hooks after a failed one ran"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(!marks.join("program").exists(), "the program ran");
    let st = env.remora(&["state", &id]);
    if st.code == 0 {
        wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
        env.remora(&["delete", &id]).ok();
    }
}

/// A failing poststart hook is an error (runtime-spec 1.3, as runc): start
/// fails saying so, the later poststart hooks do not run, the container is
/// stopped, and `delete` removes it.
#[test]
fn failing_poststart_hook_fails_start_and_stops_the_container() {
    let env = TestEnv::new("poststartfail");
    let (mut b, marks) = hook_bundle(&env, "b");
    let m = marks.to_str().unwrap();
    b.config["hooks"] = json!({"poststart": [hook("failing", m, "exit 3"), hook("after", m, "")]});
    let id = env.id("c");
    let r = b.create(&env, &id);
    assert_eq!(r.code, 0, "create: {}", r.stderr);
    let r = env.remora(&["start", &id]);
    r.fails_with("error running hook");
    assert!(
        marks.join("failing.json").exists(),
        "the failing hook did not run"
    );
    assert!(
        !marks.join("after.json").exists(),
        "a poststart hook ran after a failed one"
    );
    assert_eq!(state(&env, &id)["status"], "stopped");
    env.remora(&["delete", &id]).ok();
}

/// Hooks run where runc runs them: prestart, createRuntime, poststart and
/// poststop in the bundle, createContainer in the container's rootfs,
/// startContainer in the container's /; a hook without `env` gets the
/// runtime's environment.
#[test]
fn hooks_run_in_runcs_directories_and_inherit_the_environment() {
    let env = TestEnv::new("hookcwd");
    let (mut b, marks) = hook_bundle(&env, "b");
    let m = marks.to_str().unwrap();
    let names = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ];
    let mut hooks = json!({});
    for name in names {
        // The marks dir as the hook sees it: startContainer runs after
        // pivot_root.
        let dir = if name == "startContainer" {
            "/marks"
        } else {
            m
        };
        hooks[name] = json!([{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("pwd > {dir}/{name}.cwd; echo \"$REMORA_HOOK_TEST\" > {dir}/{name}.inherited")],
        }]);
    }
    b.config["hooks"] = hooks;
    let id = env.id("c");
    b.save();
    let r = env
        .command(&["create", "-b", b.path(), &id])
        .env("REMORA_HOOK_TEST", "from-the-runtime")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(r.success());
    env.command(&["start", &id])
        .env("REMORA_HOOK_TEST", "from-the-runtime")
        .status()
        .unwrap();
    env.command(&["delete", "--force", &id])
        .env("REMORA_HOOK_TEST", "from-the-runtime")
        .status()
        .unwrap();
    let bundle = b.dir.to_str().unwrap().to_string();
    for (name, want) in [
        ("prestart", bundle.as_str()),
        ("createRuntime", bundle.as_str()),
        ("createContainer", b.rootfs().to_str().unwrap()),
        ("startContainer", "/"),
        ("poststart", bundle.as_str()),
        ("poststop", bundle.as_str()),
    ] {
        assert_eq!(read(&marks, &format!("{name}.cwd")).trim(), want, "{name}");
        assert_eq!(
            read(&marks, &format!("{name}.inherited")).trim(),
            "from-the-runtime",
            "{name}"
        );
    }
}

/// A failing poststop hook: a warning, the rest still run, delete succeeds
/// and the container is gone (runtime.md Lifecycle step 13).
/// runc 1.1.5 FAILS this: it stops at the first failing poststop hook.
#[test]
fn failing_poststop_hook_warns_and_the_rest_still_run() {
    let env = TestEnv::new("poststopfail");
    let (mut b, marks) = hook_bundle(&env, "b");
    let m = marks.to_str().unwrap();
    b.config["hooks"] = json!({"poststop": [hook("failing", m, "exit 3"), hook("after", m, "")]});
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let r = env.remora(&["delete", "--force", &id]);
    assert_eq!(r.code, 0, "delete must succeed: {}", r.stderr);
    assert!(marks.join("failing.json").exists());
    assert!(
        marks.join("after.json").exists(),
        "the next poststop hook did not run"
    );
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}

/// A hook over its timeout is killed and fails create quickly.
#[test]
fn hook_timeout_kills_the_hook_and_fails_create() {
    let env = TestEnv::new("hooktimeout");
    let (mut b, _marks) = hook_bundle(&env, "b");
    // A sleep the test can recognise in /proc/*/cmdline.
    let token = format!("30.{}", std::process::id());
    b.config["hooks"] = json!({"prestart": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("exec sleep {token}")],
        "timeout": 1
    }]});
    let id = env.id("c");
    let t0 = Instant::now();
    let r = b.create(&env, &id);
    let took = t0.elapsed();
    assert_eq!(r.code, 1, "create must fail: {}", r.stderr);
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} for a 1 s timeout"
    );
    assert!(
        r.stderr.contains("timed out") || r.stderr.contains("timeout"),
        "{}",
        r.stderr
    );
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<String> = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .filter(|c| c.contains(&format!("sleep\0{token}")))
        .collect();
    assert!(left.is_empty(), "the timed-out hook still runs: {left:?}");
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}

#[test]
fn missing_hook_path_fails_create_and_leaves_nothing() {
    let env = TestEnv::new("hookmissing");
    for phase in ["prestart", "createRuntime", "createContainer"] {
        let (mut b, _marks) = hook_bundle(&env, phase);
        let mut hooks = json!({});
        hooks[phase] = json!([{"path": "/no/such/hook", "args": ["hook"]}]);
        b.config["hooks"] = hooks;
        let id = env.id(phase);
        let r = b.create(&env, &id);
        assert_eq!(r.code, 1, "{phase}: {}", r.stderr);
        assert!(
            r.stderr.contains("/no/such/hook"),
            "{phase}: the error names the path: {}",
            r.stderr
        );
        assert!(!b.rootfs().join("marks/program").exists());
        env.remora(&["state", &id])
            .fails_with("container does not exist");
    }
}

/// A failed create continues the lifecycle at step 12 (runtime.md): the
/// container is destroyed and the poststop hooks run.
#[test]
fn failed_create_still_runs_poststop_hooks() {
    let env = TestEnv::new("hookfailpoststop");
    let (mut b, marks) = hook_bundle(&env, "b");
    let m = marks.to_str().unwrap();
    b.config["hooks"] = json!({
        "createRuntime": [hook("failing", m, "exit 3")],
        "poststop": [hook("poststop", m, "")],
    });
    let id = env.id("c");
    let r = b.create(&env, &id);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        marks.join("poststop.json").exists(),
        "poststop did not run after the failed create"
    );
    assert_eq!(hook_state(&marks, "poststop")["id"], json!(id));
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}
