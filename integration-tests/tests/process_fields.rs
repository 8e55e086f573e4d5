//! The process-level fields that the kernel applies to the container's
//! processes, each seen from inside a container (and for `exec`):
//! process.scheduler, process.ioPriority, process.execCPUAffinity and the
//! reset of an inherited CPU affinity to the container's cpuset,
//! linux.personality, linux.memoryPolicy; and bad values of each refused
//! with an error naming the field, nothing left behind.

use std::fs;
use std::process::{Command, Stdio};

use remora_integration_tests::{skip, Bundle, Run, TestEnv};
use serde_json::{json, Value};

/// Fields of /proc/PID/stat text, numbered as proc(5) does (1 = pid).
fn stat_field(stat: &str, n: usize) -> String {
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    after.split(' ').nth(n - 3).expect("field").to_string()
}

/// A container running `sleep`, created and started.
fn started(env: &TestEnv, b: &mut Bundle, id: &str) {
    b.config["process"]["args"] = json!(["sleep", "1000"]);
    b.create(env, id).ok();
    env.remora(&["start", id]).ok();
}

/// `remora exec -p PROCESS.json ID` with `process` (cwd, user and env
/// added).
fn exec_process(env: &TestEnv, id: &str, mut process: Value) -> Run {
    process["cwd"] = json!("/");
    process["user"] = json!({"uid": 0, "gid": 0});
    process["env"] = json!(["PATH=/bin"]);
    let path = env.base.join(format!("process-{id}.json"));
    fs::write(&path, serde_json::to_vec(&process).unwrap()).unwrap();
    env.remora(&["exec", "-p", path.to_str().unwrap(), id])
}

/// `taskset -c CPUS remora --root ROOT ARGS`: remora itself started with
/// a narrow CPU affinity.
fn remora_on_cpus(env: &TestEnv, cpus: &str, args: &[&str]) -> Run {
    Command::new("taskset")
        .args(["-c", cpus])
        .arg(&env.bin)
        .arg("--root")
        .arg(&env.root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("taskset (util-linux)")
        .into()
}

/// The host's online CPUs ("0-1"), the list a process that may run
/// anywhere shows in Cpus_allowed_list.
fn online_cpus() -> String {
    fs::read_to_string("/sys/devices/system/cpu/online")
        .unwrap()
        .trim()
        .to_string()
}

/// Whether CPUs 0 and 1 are online; reports `test` as skipped if not.
fn two_cpus(test: &str) -> bool {
    if online_cpus() == "0" {
        skip(test, "needs CPUs 0 and 1 online; this host has CPU 0 only");
        return false;
    }
    true
}

/// The Cpus_allowed_list line's value in /proc/self/status output.
fn cpus_allowed(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or_else(|| panic!("no Cpus_allowed_list in {out:?}"))
        .trim()
        .to_string()
}

/// SCHED_BATCH with nice 7 (policy 3 and nice 7 in /proc/self/stat, as
/// /proc/self/sched says); SCHED_IDLE; SCHED_DEADLINE; reset-on-fork (the
/// shell keeps nice -5, its child gets 0); exec takes process.json's
/// scheduler, and config.json's when given a command, as runc.
#[test]
fn scheduler_is_applied_to_the_process_and_exec() {
    let env = TestEnv::new("sched");
    let mut b = env.bundle("b");
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
    let out = b.output_of(&env, "cat /proc/self/stat; grep ^policy /proc/self/sched");
    assert_eq!(stat_field(&out, 19), "7", "nice: {out}");
    assert_eq!(stat_field(&out, 41), "3", "policy SCHED_BATCH: {out}");
    assert!(out.lines().nth(1).unwrap().ends_with(" 3"), "{out}");

    b.config["process"]["scheduler"] = json!({"policy": "SCHED_IDLE"});
    let out = b.output_of(&env, "cat /proc/self/stat");
    assert_eq!(stat_field(&out, 41), "5", "policy SCHED_IDLE: {out}");

    // A deadline task cannot fork: the shell execs cat.
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_DEADLINE",
        "runtime": 1_000_000, "deadline": 5_000_000, "period": 10_000_000});
    let out = b.output_of(&env, "exec cat /proc/self/stat");
    assert_eq!(stat_field(&out, 41), "6", "policy SCHED_DEADLINE: {out}");

    // SCHED_FIFO: applied, or, where the container's cpu cgroup has no
    // real-time time (cgroup v1 with CONFIG_RT_GROUP_SCHED, as here),
    // refused by the kernel: a clear error, nothing left.
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_FIFO", "priority": 10});
    b.sh("cat /proc/self/stat");
    let r = b.run(&env, &env.id("fifo"));
    if r.code == 0 {
        assert_eq!(
            stat_field(&r.stdout, 41),
            "1",
            "policy SCHED_FIFO: {}",
            r.stdout
        );
        assert_eq!(stat_field(&r.stdout, 40), "10", "rt_priority: {}", r.stdout);
    } else {
        println!("SCHED_FIFO refused by the kernel here: {}", r.stderr.trim());
        r.fails_with("process.scheduler SCHED_FIFO: sched_setattr: Operation not permitted");
        assert!(
            r.error_text()
                .contains("linux.resources.cpu.realtimeRuntime"),
            "{}",
            r.stderr
        );
    }

    b.config["process"]["scheduler"] = json!({"policy": "SCHED_OTHER", "nice": -5,
        "flags": ["SCHED_FLAG_RESET_ON_FORK"]});
    // `true` last: the shell forks cat rather than exec it.
    let out = b.output_of(&env, "cat /proc/$$/stat; cat /proc/self/stat; true");
    let (sh, child) = (out.lines().next().unwrap(), out.lines().nth(1).unwrap());
    assert_eq!(stat_field(sh, 19), "-5", "the process: {out}");
    assert_eq!(
        stat_field(child, 19),
        "0",
        "its child (reset on fork): {out}"
    );

    let id = env.id("exec");
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
    started(&env, &mut b, &id);
    let r = exec_process(
        &env,
        &id,
        json!({"args": ["cat", "/proc/self/stat"], "scheduler": {"policy": "SCHED_IDLE"}}),
    );
    assert_eq!(stat_field(r.ok(), 41), "5", "exec -p: {}", r.stdout);
    let r = env.remora(&["exec", &id, "cat", "/proc/self/stat"]);
    let out = r.ok();
    assert_eq!(
        (stat_field(out, 41), stat_field(out, 19)),
        ("3".into(), "7".into()),
        "exec with config.json's process: {out}"
    );
    env.remora(&["delete", "--force", &id]).ok();
}

/// ioprio_set as busybox's ionice reads it back (ioprio_get), for the
/// container's process and for exec.
#[test]
fn io_priority_is_applied_to_the_process_and_exec() {
    let env = TestEnv::new("ioprio");
    let mut b = env.bundle("b");
    for (class, prio, want) in [
        ("IOPRIO_CLASS_BE", 5, "best-effort: prio 5"),
        ("IOPRIO_CLASS_RT", 3, "realtime: prio 3"),
        ("IOPRIO_CLASS_IDLE", 0, "idle"),
    ] {
        b.config["process"]["ioPriority"] = json!({"class": class, "priority": prio});
        assert_eq!(b.output_of(&env, "ionice").trim(), want, "{class}");
    }
    b.config["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 2});
    let id = env.id("exec");
    started(&env, &mut b, &id);
    let r = exec_process(
        &env,
        &id,
        json!({"args": ["ionice"], "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}}),
    );
    assert_eq!(r.ok().trim(), "idle");
    let r = env.remora(&["exec", &id, "ionice"]);
    assert_eq!(r.ok().trim(), "best-effort: prio 2");
    env.remora(&["delete", "--force", &id]).ok();
}

/// remora run under `taskset -c 0`: the container's process gets every
/// CPU of its cpuset, not remora's CPU 0 (runc >= 1.2.7); with a cpuset
/// of CPU 1 it gets CPU 1; an exec under `taskset -c 0` too.
#[test]
fn inherited_cpu_affinity_is_reset_to_the_cpuset() {
    if !two_cpus("inherited_cpu_affinity_is_reset_to_the_cpuset") {
        return;
    }
    let env = TestEnv::new("affreset");
    let mut b = env.bundle("b");
    b.sh("grep Cpus_allowed_list /proc/self/status");
    b.save();
    let r = remora_on_cpus(&env, "0", &["run", "-b", b.path(), &env.id("all")]);
    assert_eq!(cpus_allowed(r.ok()), online_cpus(), "no cpuset");

    b.config["linux"]["resources"]["cpu"] = json!({"cpus": "1", "mems": "0"});
    b.save();
    let r = remora_on_cpus(&env, "0", &["run", "-b", b.path(), &env.id("one")]);
    assert_eq!(cpus_allowed(r.ok()), "1", "cpuset 1");

    b.config["linux"]["resources"]["cpu"] = json!({"cpus": "0-1", "mems": "0"});
    let id = env.id("exec");
    started(&env, &mut b, &id);
    let r = remora_on_cpus(
        &env,
        "0",
        &[
            "exec",
            &id,
            "grep",
            "Cpus_allowed_list",
            "/proc/self/status",
        ],
    );
    assert_eq!(cpus_allowed(r.ok()), "0-1", "exec");
    env.remora(&["delete", "--force", &id]).ok();
}

/// execCPUAffinity: `final` is what the exec'd process runs on; `initial`
/// alone stays (the spec: no change after the cgroup join); config.json's
/// applies to `exec` with a command, never to the container's init.
#[test]
fn exec_cpu_affinity_initial_and_final() {
    if !two_cpus("exec_cpu_affinity_initial_and_final") {
        return;
    }
    let env = TestEnv::new("execaff");
    let mut b = env.bundle("b");
    b.config["process"]["execCPUAffinity"] = json!({"initial": "0", "final": "1"});
    let id = env.id("c");
    started(&env, &mut b, &id);
    let init = fs::read_to_string(format!("/proc/{}/status", {
        let st = remora_integration_tests::state(&env, &id);
        st["pid"].as_i64().unwrap()
    }))
    .unwrap();
    assert_eq!(cpus_allowed(&init), online_cpus(), "the init");
    let grep = json!(["grep", "Cpus_allowed_list", "/proc/self/status"]);
    for (affinity, want) in [
        (json!({"final": "1"}), "1"),
        (json!({"initial": "1"}), "1"),
        // Empty is as if omitted (the spec).
        (json!({"initial": "1", "final": ""}), "1"),
        (json!({"initial": "1", "final": "0"}), "0"),
        (json!({"initial": "0", "final": "0-1"}), "0-1"),
    ] {
        let r = exec_process(
            &env,
            &id,
            json!({"args": grep, "execCPUAffinity": affinity}),
        );
        assert_eq!(cpus_allowed(r.ok()), want, "{affinity}");
    }
    let r = env.remora(&[
        "exec",
        &id,
        "grep",
        "Cpus_allowed_list",
        "/proc/self/status",
    ]);
    assert_eq!(cpus_allowed(r.ok()), "1", "config.json's final");
    env.remora(&["delete", "--force", &id]).ok();
}

/// LINUX32: `uname -m` says i686 (on x86_64); its flags show in
/// /proc/self/personality (PER_LINUX32 0x8 | ADDR_NO_RANDOMIZE 0x40000);
/// exec'd processes get it too.
#[test]
fn personality_domain_and_flags() {
    if std::env::consts::ARCH != "x86_64" {
        skip(
            "personality_domain_and_flags",
            "LINUX32's i686 is an x86_64 check",
        );
        return;
    }
    let env = TestEnv::new("persona");
    let mut b = env.bundle("b");
    b.config["linux"]["personality"] = json!({"domain": "LINUX"});
    assert_eq!(b.output_of(&env, "uname -m").trim(), "x86_64");
    b.config["linux"]["personality"] = json!({"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]});
    let out = b.output_of(&env, "uname -m; cat /proc/self/personality");
    assert_eq!(out, "i686\n00040008\n");
    let id = env.id("exec");
    started(&env, &mut b, &id);
    let r = env.remora(&["exec", &id, "uname", "-m"]);
    assert_eq!(r.ok().trim(), "i686");
    env.remora(&["delete", "--force", &id]).ok();
}

/// The policy of a numa_maps line: after the address, before the first
/// key=value ("prefer (many):0" has a space).
fn policy_in_numa_maps(line: &str) -> String {
    let rest = line.split_once(' ').map(|(_, r)| r).unwrap_or_default();
    // The words of the mapping's details (proc(5)) end the policy.
    let detail = |w: &str| {
        let key = w.split_once('=').map(|(k, _)| k);
        matches!(w, "heap" | "stack" | "huge")
            || key.is_some_and(|k| {
                matches!(
                    k,
                    "file"
                        | "anon"
                        | "dirty"
                        | "mapped"
                        | "mapmax"
                        | "swapcache"
                        | "active"
                        | "writeback"
                        | "kernelpagesize_kB"
                ) || (k.starts_with('N') && k[1..].bytes().all(|b| b.is_ascii_digit()))
            })
    };
    rest.split(' ')
        .take_while(|w| !detail(w))
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// set_mempolicy as /proc/self/numa_maps shows the policy of every
/// mapping (the process's, as none has its own); exec too; a node the
/// host lacks is refused naming it.
#[test]
fn memory_policy_modes_and_flags() {
    if !std::path::Path::new("/proc/self/numa_maps").exists() {
        skip(
            "memory_policy_modes_and_flags",
            "the kernel has no NUMA support (no /proc/self/numa_maps)",
        );
        return;
    }
    let env = TestEnv::new("mempol");
    let mut b = env.bundle("b");
    for (policy, want) in [
        (json!({"mode": "MPOL_BIND", "nodes": "0"}), "bind:0"),
        (
            json!({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}),
            "interleave=static:0",
        ),
        (
            json!({"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]}),
            "prefer=relative:0",
        ),
        (
            json!({"mode": "MPOL_PREFERRED_MANY", "nodes": "0"}),
            "prefer (many):0",
        ),
        (
            json!({"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "0"}),
            "weighted interleave:0",
        ),
        (
            json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}),
            "bind=balancing:0",
        ),
        (json!({"mode": "MPOL_LOCAL"}), "local"),
        (json!({"mode": "MPOL_DEFAULT"}), "default"),
    ] {
        b.config["linux"]["memoryPolicy"] = policy.clone();
        let out = b.output_of(&env, "head -1 /proc/self/numa_maps");
        assert_eq!(policy_in_numa_maps(&out), want, "{policy}: {out}");
    }
    // `features` lists what was just applied, every mode and flag.
    let f: Value = serde_json::from_str(env.remora(&["features"]).ok()).unwrap();
    let listed = |k: &str| {
        f["linux"]["memoryPolicy"][k]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(listed("modes").len(), 7, "{}", f["linux"]["memoryPolicy"]);
    assert_eq!(listed("flags").len(), 3, "{}", f["linux"]["memoryPolicy"]);

    b.config["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0"});
    let id = env.id("exec");
    started(&env, &mut b, &id);
    let r = env.remora(&["exec", &id, "head", "-1", "/proc/self/numa_maps"]);
    assert_eq!(policy_in_numa_maps(r.ok()), "bind:0", "{}", r.stdout);
    env.remora(&["delete", "--force", &id]).ok();

    b.config["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0,7"});
    b.sh("true");
    b.run(&env, &env.id("missing"))
        .fails_with("linux.memoryPolicy.nodes \"0,7\": node 7 not on this host");
}

/// Bad values: an error naming the field, exit 1, nothing created (the
/// TestEnv's drop checks state, processes, mounts and cgroups).
#[test]
fn bad_values_are_refused_naming_the_field() {
    let env = TestEnv::new("badproc");
    let cases: &[(&str, Value, &str)] = &[
        (
            "/process/scheduler",
            json!({"policy": "SCHED_FAST"}),
            "process.scheduler.policy \"SCHED_FAST\": unknown value",
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_ISO"}),
            "process.scheduler.policy \"SCHED_ISO\": not supported by the Linux kernel",
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_OTHER", "nice": 20}),
            "process.scheduler.nice 20",
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_OTHER", "flags": ["SCHED_RESET_ON_FORK"]}),
            "process.scheduler.flags[0] \"SCHED_RESET_ON_FORK\": unknown scheduler flag",
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_FIFO"}),
            "process.scheduler.priority 0: SCHED_FIFO needs a priority",
        ),
        (
            "/process/ioPriority",
            json!({"class": "IOPRIO_CLASS_BE", "priority": 8}),
            "process.ioPriority.priority 8",
        ),
        (
            "/process/ioPriority",
            json!({"class": "IOPRIO_CLASS_NONE"}),
            "process.ioPriority.class \"IOPRIO_CLASS_NONE\": unknown value",
        ),
        (
            "/linux/personality",
            json!({"domain": "SVR4"}),
            "linux.personality.domain \"SVR4\": unknown value (one of LINUX, LINUX32)",
        ),
        (
            "/linux/personality",
            json!({"domain": "LINUX", "flags": ["NOPE"]}),
            "linux.personality.flags[0] \"NOPE\": unknown personality flag",
        ),
        (
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_MOST"}),
            "linux.memoryPolicy.mode \"MPOL_MOST\": unknown value",
        ),
        (
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_BIND"}),
            "linux.memoryPolicy.nodes: MPOL_BIND needs nodes",
        ),
        (
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_BIND", "nodes": "1-0"}),
            "linux.memoryPolicy.nodes \"1-0\"",
        ),
    ];
    for (i, (pointer, value, want)) in cases.iter().enumerate() {
        let mut b = env.bundle(&format!("b{i}"));
        b.sh("true");
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        b.config.pointer_mut(parent).unwrap()[key] = value.clone();
        b.run(&env, &env.id(&format!("c{i}"))).fails_with(want);
    }

    // exec's process.json: the same checks, before anything is started.
    let mut b = env.bundle("exec");
    let id = env.id("exec");
    started(&env, &mut b, &id);
    for (process, want) in [
        (
            json!({"args": ["true"], "execCPUAffinity": {"final": "x"}}),
            "process.execCPUAffinity.final \"x\"",
        ),
        (
            json!({"args": ["true"], "scheduler": {"policy": "SCHED_OTHER", "priority": 3}}),
            "process.scheduler.priority 3: only SCHED_FIFO and SCHED_RR take a priority",
        ),
        (
            json!({"args": ["true"], "ioPriority": {"class": "IOPRIO_CLASS_X"}}),
            "process.ioPriority.class \"IOPRIO_CLASS_X\"",
        ),
    ] {
        // exec fails with 255, as runc's.
        let r = exec_process(&env, &id, process);
        assert!(
            r.code != 0 && r.error_text().contains(want),
            "{want}: {}",
            r.stderr
        );
    }
    env.remora(&["delete", "--force", &id]).ok();
}
