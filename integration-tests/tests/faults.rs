//! Fault injection: remora SIGKILLed at every phase its trace
//! knows (create, the container init's steps, start, exec and the exec'd
//! process's steps, run, delete), in five namespace set-ups, and after
//! random delays; each time `delete --force` must leave nothing of the
//! container on the host (processes, cgroups in every hierarchy, mounts,
//! state directory and exec fifo) and the ID must be reusable. Also:
//! concurrent creates and force-deletes of one ID, create/start/kill/
//! state/delete racing on one ID, a corrupt state.json, a state directory
//! without a record, and a full --root filesystem.
//!
//! Kill points are reached deterministically: with
//! REMORA_FAULT_STOP=<operation>:<phase> (runtime/src/trace.rs) the process
//! that ends that phase parks there, named `remora-fault`; the test finds
//! it among the descendants of the command it started and SIGKILLs it or
//! that command.

use std::collections::HashMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use remora_integration_tests::*;
use serde_json::{json, Value};

/// The traced phases (runtime/src/trace.rs and their callers), by
/// operation.
const CREATE: &[&str] = &[
    "config",
    "seccomp",
    "cgroup",
    "clone",
    "resources",
    "init",
    "state",
];
const INIT: &[&str] = &[
    "cgroup+go",
    "namespaces",
    "createRuntime",
    "rootfs",
    "mounts",
    "devices",
    "createContainer",
    "pivot_root",
    "paths",
    "process",
];
const START: &[&str] = &["release+exec", "poststart"];
const EXEC: &[&str] = &["config", "clone", "init", "execve"];
/// The exec'd process's own steps (its trace is also named "exec").
const EXEC_CHILD: &[&str] = &["cgroup", "namespaces", "process"];
const DELETE: &[&str] = &["kill", "cgroup", "state", "poststop"];
const DESTROY: &[&str] = &["cgroup", "state", "poststop"];

/// What runs before the command under test.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Setup {
    Nothing,
    Created,
    Running,
}

/// The command under test.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cmd {
    Create,
    Start,
    Exec,
    /// Foreground run of a container that sleeps.
    RunSleeper,
    /// Foreground run of a container that exits at once.
    RunQuick,
    Delete,
}

impl Cmd {
    fn setup(self) -> Setup {
        match self {
            Cmd::Create | Cmd::RunSleeper | Cmd::RunQuick => Setup::Nothing,
            Cmd::Start => Setup::Created,
            Cmd::Exec | Cmd::Delete => Setup::Running,
        }
    }
}

/// Which process is killed at a kill point.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Victim {
    /// The command the test started (a parked child dies with the
    /// container or is left for delete --force).
    Top,
    /// The parked process itself (the container init or the exec'd
    /// process): the command above it must clean up.
    Parked,
}

/// A namespace set-up the kill points run in.
struct Config {
    name: &'static str,
    env: TestEnv,
    sleeper: Bundle,
    quick: Bundle,
}

fn configs() -> Vec<Config> {
    type Shape = fn(&mut Value);
    let shapes: [(&str, Shape); 5] = [
        // runc's default: one clone3 with every new namespace.
        ("default", |_| {}),
        // A time namespace: the staged path (an intermediate forks the
        // init into the pid namespace).
        ("staged", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "time"}));
        }),
        // The host's pid namespace: container processes outlive the
        // init; create runs from a sealed copy of remora.
        ("hostpid", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .retain(|n| n["type"] != "pid");
        }),
        // A user namespace: the id-map conversation; plus hooks.
        ("userns", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["uidMappings"] = map.clone();
            c["linux"]["gidMappings"] = map;
            let hook = json!([{"path": "/bin/true"}]);
            c["hooks"] = json!({"createRuntime": hook, "poststart": hook, "poststop": hook});
        }),
        // No mount namespace: the init mounts into the host's, under the
        // rootfs (runc's rule: no masked or read-only paths then).
        ("nomntns", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .retain(|n| n["type"] != "mount");
            let linux = c["linux"].as_object_mut().unwrap();
            linux.remove("maskedPaths");
            linux.remove("readonlyPaths");
        }),
    ];
    shapes
        .into_iter()
        .map(|(name, shape)| {
            let env = TestEnv::new(&format!("f{name}"));
            // The container's processes (exec'd ones too) carry the tag:
            // /proc/PID/root does not show a pivoted root from here.
            let tag = format!("REMORA_FAULT_TAG={}", env.name);
            let mut sleeper = env.bundle("sleeper");
            sleeper.sh("exec sleep 1000");
            let mut quick = env.bundle("quick");
            quick.sh("true");
            for b in [&mut sleeper, &mut quick] {
                b.config["process"]["env"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(tag));
                shape(&mut b.config);
                b.save();
            }
            Config {
                name,
                env,
                sleeper,
                quick,
            }
        })
        .collect()
}

/// One line of /proc/PID/stat: (comm, state, ppid).
fn proc_stat(pid: i32) -> Option<(String, char, i32)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let comm = s[s.find('(')? + 1..s.rfind(')')?].to_string();
    let mut rest = s[s.rfind(')')? + 2..].split(' ');
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// Waits until a descendant of `top` (or `top` itself) parks at the fault
/// point; None if `top` exits first (the phase was never reached).
fn wait_parked(top: &mut Child) -> Option<i32> {
    let top_pid = i32::try_from(top.id()).unwrap();
    // A bound against a hang, not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let table: HashMap<i32, (String, char, i32)> = all_pids()
            .into_iter()
            .filter_map(|p| Some((p, proc_stat(p)?)))
            .collect();
        for (&pid, (comm, state, _)) in &table {
            if comm != "remora-fault" || matches!(state, 'Z' | 'X') {
                continue;
            }
            let mut p = pid;
            for _ in 0..6 {
                if p == top_pid {
                    return Some(pid);
                }
                match table.get(&p) {
                    Some((_, _, pp)) => p = *pp,
                    None => break,
                }
            }
        }
        if top.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits for `c` to end by itself; SIGKILL after a bound (a hang is
/// then seen in what it leaves).
fn wait_bounded(c: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = c.kill();
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn sigkill(pid: i32) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The counts the suite reports.
#[derive(Default)]
struct Tally {
    points: usize,
    random: usize,
    /// IDs whose delete --force failed or that could not be created again.
    wedged: Vec<String>,
    /// Things left on the host after delete --force.
    leftovers: Vec<String>,
    /// A state directory that list or state did not show.
    hidden: Vec<String>,
    /// Fault points the command never reached.
    unreached: Vec<String>,
}

/// What is left of container `id` on the host: its state directory (and
/// any other entry of the state root), its cgroups in every hierarchy,
/// mounts under the test's directory, live processes rooted in the test's
/// bundles or with the test's tag in their environment (remora's, with
/// this kill point's `tag`; the container's, with the set-up's).
fn leftovers(env: &TestEnv, id: &str, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(&env.root) {
        for e in rd.flatten() {
            out.push(format!("state entry {:?}", e.file_name()));
        }
    }
    for d in cgroup_dirs_named(id) {
        if d.file_name().and_then(|n| n.to_str()) == Some(id) {
            out.push(format!("cgroup {}", d.display()));
        }
    }
    let base = env.base.to_string_lossy().into_owned();
    for l in fs::read_to_string("/proc/self/mountinfo").unwrap().lines() {
        if l.contains(&base) {
            out.push(format!("mount {l}"));
        }
    }
    let needle = format!("REMORA_FAULT_TAG={}", env.name);
    debug_assert!(tag.starts_with(&env.name));
    for pid in all_pids() {
        let Some((comm, state, _)) = proc_stat(pid) else {
            continue;
        };
        if matches!(state, 'Z' | 'X') {
            continue;
        }
        let rooted =
            fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.starts_with(&env.base));
        let tagged = fs::read(format!("/proc/{pid}/environ")).is_ok_and(|e| {
            e.split(|&b| b == 0).any(|v| {
                v.strip_prefix(needle.as_bytes())
                    .is_some_and(|rest| rest.is_empty() || rest[0] == b'-')
            })
        });
        if rooted || tagged {
            out.push(format!("process {pid} ({comm}, {state})"));
        }
    }
    out
}

/// Removes by force what a failed kill point left, so that the next one
/// starts clean.
fn scrub(env: &TestEnv, id: &str) {
    env.remora(&["delete", "--force", id]);
    let _ = fs::remove_dir_all(env.root.join(id));
    for d in cgroup_dirs_named(id) {
        if d.file_name().and_then(|n| n.to_str()) != Some(id) {
            continue;
        }
        if let Ok(procs) = fs::read_to_string(d.join("cgroup.procs")) {
            for p in procs.lines().filter_map(|l| l.parse().ok()) {
                sigkill(p);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        let _ = fs::remove_dir(&d);
    }
}

/// `remora ARGS` for a kill point: stdio to /dev/null and a file (the
/// container may keep them), the fault hook and the tag in its
/// environment.
fn spawn(env: &TestEnv, args: &[&str], fault: Option<&str>, tag: &str) -> Child {
    let mut c = env.command(args);
    c.stdout(Stdio::null())
        .stderr(fs::File::create(env.base.join("fault-stderr")).unwrap())
        .env("REMORA_FAULT_TAG", tag);
    match fault {
        Some(f) => c.env("REMORA_FAULT_STOP", f),
        None => c.env_remove("REMORA_FAULT_STOP"),
    };
    // Its own process group: nothing of the test's gets its signals.
    c.process_group(0);
    c.spawn().expect("spawning remora")
}

fn args_of<'a>(cmd: Cmd, cfg: &'a Config, id: &'a str) -> Vec<&'a str> {
    match cmd {
        Cmd::Create => vec!["create", "-b", cfg.sleeper.path(), id],
        Cmd::Start => vec!["start", id],
        Cmd::Exec => vec!["exec", "-d", id, "sleep", "1000"],
        Cmd::RunSleeper => vec!["run", "-b", cfg.sleeper.path(), id],
        Cmd::RunQuick => vec!["run", "-b", cfg.quick.path(), id],
        Cmd::Delete => vec!["delete", "--force", id],
    }
}

/// Brings container `id` to `setup` (untagged: those processes are the
/// container's and must go with it).
fn set_up(cfg: &Config, id: &str, setup: Setup) {
    let env = &cfg.env;
    if setup == Setup::Nothing {
        return;
    }
    env.remora_detached(&["create", "-b", cfg.sleeper.path(), id])
        .ok();
    if setup == Setup::Running {
        env.remora(&["start", id]).ok();
    }
}

/// How a kill point's command is stopped: at a phase, or after a delay.
enum Kill {
    At(String, Victim),
    After(Duration),
}

/// One kill point: set up, start the command, kill it (or the parked
/// process), check that list/state show what is there, delete --force,
/// check nothing is left, create the ID again and delete it.
fn kill_point(cfg: &Config, cmd: Cmd, kill: &Kill, n: usize, t: &mut Tally) {
    let env = &cfg.env;
    let id = env.id(&format!("k{n}"));
    let tag = format!("{}-{n}", env.name);
    let what = match kill {
        Kill::At(f, v) => format!("{} {cmd:?} at {f} (kill {v:?}) id {id}", cfg.name),
        Kill::After(d) => format!("{} {cmd:?} after {d:?} id {id}", cfg.name),
    };
    set_up(cfg, &id, cmd.setup());
    let args = args_of(cmd, cfg, &id);
    match kill {
        Kill::At(fault, victim) => {
            let mut top = spawn(env, &args, Some(fault), &tag);
            match wait_parked(&mut top) {
                Some(parked)
                    if *victim == Victim::Parked && i32::try_from(top.id()) != Ok(parked) =>
                {
                    // The command goes on without it and ends by itself
                    // (failing, or for an exec'd process maybe not).
                    sigkill(parked);
                    wait_bounded(&mut top);
                }
                Some(_) => {
                    let _ = top.kill();
                }
                None => {
                    let _ = top.kill();
                    let err = fs::read_to_string(env.base.join("fault-stderr")).unwrap_or_default();
                    t.unreached.push(format!("{what}: {}", err.trim()));
                }
            }
            let _ = top.wait();
            t.points += 1;
        }
        Kill::After(d) => {
            let mut top = spawn(env, &args, None, &tag);
            std::thread::sleep(*d);
            let _ = top.kill();
            let _ = top.wait();
            t.points += 1;
            t.random += 1;
        }
    }
    // What is there shows in list and state.
    if env.root.join(&id).exists() {
        let l = env.remora(&["list"]);
        let listed = l
            .stdout
            .lines()
            .any(|r| r.split(' ').next() == Some(id.as_str()))
            || l.stderr.contains(&format!("load container {id}:"));
        let s = env.remora(&["state", &id]);
        let state_ok = if s.code == 0 {
            let v: Value = serde_json::from_str(&s.stdout).unwrap_or_default();
            ["creating", "created", "running", "stopped", "paused"]
                .contains(&v["status"].as_str().unwrap_or_default())
        } else {
            !s.stderr.is_empty() && !s.stderr.contains("does not exist")
        };
        if !(listed && state_ok && l.code == 0) {
            t.hidden.push(format!(
                "{what}: list {:?} {:?}; state {} {:?} {:?}",
                l.stdout, l.stderr, s.code, s.stdout, s.stderr
            ));
        }
    }
    let d = env.remora(&["delete", "--force", &id]);
    let mut wedged = d.code != 0;
    let left = leftovers(env, &id, &tag);
    if !left.is_empty() {
        t.leftovers
            .extend(left.iter().map(|l| format!("{what}: {l}")));
    }
    // The ID is reusable.
    if !wedged {
        let c = env.remora_detached(&["create", "-b", cfg.sleeper.path(), &id]);
        let d2 = env.remora(&["delete", &id]);
        wedged = c.code != 0 || d2.code != 0;
        if wedged {
            t.wedged.push(format!(
                "{what}: create again: {} {:?}; delete: {:?}",
                c.code, c.stderr, d2.stderr
            ));
        }
    } else {
        t.wedged
            .push(format!("{what}: delete --force: {} {:?}", d.code, d.stderr));
    }
    if wedged || !left.is_empty() {
        scrub(env, &id);
    }
}

/// A small xorshift generator: the seed is printed, FAULT_SEED replays it.
struct Rng(u64);

impl Rng {
    fn new() -> (Self, u64) {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                u64::try_from(now.as_nanos()).unwrap() | 1
            });
        (Rng(seed), seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The median wall time of `cmd` on `cfg` (to spread random kills over
/// it; nothing is asserted about it).
fn median_time(cfg: &Config, cmd: Cmd, n: &mut usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..3 {
        *n += 1;
        let id = cfg.env.id(&format!("m{n}"));
        set_up(cfg, &id, cmd.setup());
        let args = args_of(cmd, cfg, &id);
        let t0 = Instant::now();
        let mut c = spawn(&cfg.env, &args, None, "median");
        let _ = c.wait();
        times.push(t0.elapsed());
        cfg.env.remora(&["delete", "--force", &id]).ok();
    }
    times.sort();
    times[times.len() / 2]
}

#[test]
fn sigkill_at_every_phase_and_at_random_leaves_nothing_and_no_id_wedged() {
    let cfgs = configs();
    let mut t = Tally::default();
    let mut n = 0;
    for cfg in &cfgs {
        let mut points: Vec<(Cmd, String, Victim)> = Vec::new();
        let mut add = |cmd: Cmd, op: &str, phases: &[&str], victims: &[Victim]| {
            for p in phases {
                for v in victims {
                    points.push((cmd, format!("{op}:{p}"), *v));
                }
            }
        };
        add(Cmd::Create, "create", CREATE, &[Victim::Top]);
        add(Cmd::Create, "init", INIT, &[Victim::Top, Victim::Parked]);
        add(Cmd::Start, "start", START, &[Victim::Top]);
        add(Cmd::Exec, "exec", EXEC, &[Victim::Top]);
        add(
            Cmd::Exec,
            "exec",
            EXEC_CHILD,
            &[Victim::Top, Victim::Parked],
        );
        add(Cmd::RunSleeper, "run", &["create", "start"], &[Victim::Top]);
        add(Cmd::RunQuick, "run", &["wait", "delete"], &[Victim::Top]);
        add(Cmd::RunQuick, "destroy", DESTROY, &[Victim::Top]);
        add(Cmd::Delete, "delete", DELETE, &[Victim::Top]);
        for (cmd, fault, victim) in points {
            n += 1;
            kill_point(cfg, cmd, &Kill::At(fault, victim), n, &mut t);
        }
    }
    // Random moments: 0 to 1.2x the median time of the command.
    let (mut rng, seed) = Rng::new();
    for (i, cfg) in cfgs.iter().enumerate() {
        for (cmd, count) in [
            (Cmd::Create, 10),
            (Cmd::Start, 3),
            (Cmd::Exec, 3),
            (Cmd::Delete, 3),
        ] {
            if i > 1 && cmd != Cmd::Create {
                continue;
            }
            let median = median_time(cfg, cmd, &mut n);
            for _ in 0..count {
                n += 1;
                let us = rng.below(u64::try_from(median.as_micros()).unwrap() * 6 / 5);
                kill_point(cfg, cmd, &Kill::After(Duration::from_micros(us)), n, &mut t);
            }
        }
    }
    println!(
        "fault suite: kill points tried {} ({} at traced phases in {} set-ups, {} at random moments, seed {seed}); \
         ids wedged {}; leftovers {}; hidden half-made containers {}; phases not reached {}",
        t.points,
        t.points - t.random,
        cfgs.len(),
        t.random,
        t.wedged.len(),
        t.leftovers.len(),
        t.hidden.len(),
        t.unreached.len()
    );
    let report = |name: &str, v: &[String]| {
        for l in v.iter().take(30) {
            println!("  {name}: {l}");
        }
    };
    report("wedged", &t.wedged);
    report("leftover", &t.leftovers);
    report("hidden", &t.hidden);
    report("unreached", &t.unreached);
    assert!(t.points >= 200, "only {} kill points", t.points);
    assert!(
        t.wedged.is_empty()
            && t.leftovers.is_empty()
            && t.hidden.is_empty()
            && t.unreached.is_empty(),
        "faults: {} wedged, {} leftovers, {} hidden, {} unreached (listed above)",
        t.wedged.len(),
        t.leftovers.len(),
        t.hidden.len(),
        t.unreached.len()
    );
}

/// Waits for every child; returns (exit code, stderr) of each.
fn outcomes(children: Vec<(Child, PathBuf)>) -> Vec<(i32, String)> {
    children
        .into_iter()
        .map(|(mut c, err)| {
            let code = c.wait().unwrap().code().unwrap_or(-1);
            (code, fs::read_to_string(err).unwrap_or_default())
        })
        .collect()
}

fn spawn_logged(env: &TestEnv, args: &[&str], n: usize) -> (Child, PathBuf) {
    let err = env.base.join(format!("err-{n}"));
    let child = env
        .command(args)
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    (child, err)
}

#[test]
fn twenty_concurrent_creates_and_ten_concurrent_force_deletes_of_one_id() {
    let env = TestEnv::new("fconc");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    let id = env.id("c");
    let (mut won, mut exists, mut deleted) = (0, 0, 0);
    let rounds = 3;
    for round in 0..rounds {
        let creates = (0..20)
            .map(|i| spawn_logged(&env, &["create", "-b", b.path(), &id], round * 100 + i))
            .collect();
        for (code, err) in outcomes(creates) {
            match code {
                0 => won += 1,
                1 if err.contains("container with given ID already exists") => exists += 1,
                _ => panic!("create: exit {code}: {err}"),
            }
        }
        assert_eq!(won, round + 1, "exactly one create wins each round");
        assert_eq!(state(&env, &id)["status"], "created");
        let deletes = (0..10)
            .map(|i| spawn_logged(&env, &["delete", "--force", &id], round * 100 + 50 + i))
            .collect();
        for (code, err) in outcomes(deletes) {
            assert_eq!(code, 0, "delete --force: {err}");
            deleted += 1;
        }
        env.assert_nothing_left();
    }
    println!(
        "concurrent: {} creates of one id ({won} won, {exists} 'already exists'), {deleted} force deletes (all exit 0), {rounds} rounds",
        rounds * 20
    );
    assert_eq!(exists, rounds * 19);
}

#[test]
fn racing_create_start_kill_state_delete_on_one_id_stay_consistent() {
    let env = TestEnv::new("frace");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    let id = env.id("r");
    let mut bad = Vec::new();
    let mut commands = 0;
    for round in 0..5 {
        let mut kids = Vec::new();
        let plan: &[&[&str]] = &[
            &["create", "-b", b.path(), &id],
            &["state", &id],
            &["start", &id],
            &["kill", &id, "KILL"],
            &["create", "-b", b.path(), &id],
            &["delete", "--force", &id],
            &["list"],
            &["state", &id],
            &["start", &id],
            &["create", "-b", b.path(), &id],
            &["delete", "--force", &id],
            &["kill", &id, "KILL"],
        ];
        for (i, args) in plan.iter().enumerate() {
            kids.push((args[0], spawn_logged(&env, args, round * 100 + i)));
        }
        for (cmd, (mut c, err)) in kids {
            let code = c.wait().unwrap().code().unwrap_or(-1);
            let err = fs::read_to_string(err).unwrap_or_default();
            commands += 1;
            let allowed: &[&str] = match cmd {
                "create" => &["container with given ID already exists"],
                "start" => &[
                    "container does not exist",
                    "cannot start",
                    "container init exited before it was started",
                ],
                "kill" => &["container does not exist", "container not running"],
                "state" => &["container does not exist"],
                _ => &[],
            };
            let fine = (code == 0 && (cmd != "list" || err.is_empty()))
                || (code == 1 && allowed.iter().any(|a| err.contains(a)));
            if !fine {
                bad.push(format!("{cmd}: exit {code}: {err}"));
            }
        }
        // Whatever is there is a consistent container.
        let s = env.remora(&["state", &id]);
        if s.code == 0 {
            let v: Value = serde_json::from_str(&s.stdout).unwrap();
            assert!(
                ["created", "running", "stopped"].contains(&v["status"].as_str().unwrap()),
                "{v}"
            );
        } else {
            s.fails_with("container does not exist");
        }
        env.remora(&["delete", "--force", &id]).ok();
        env.assert_nothing_left();
    }
    println!(
        "racing commands on one id: {commands} run, {} inconsistent",
        bad.len()
    );
    assert!(bad.is_empty(), "{bad:#?}");
    // The ID is reusable.
    b.create(&env, &id).ok();
    env.remora(&["delete", &id]).ok();
}

#[test]
fn corrupt_truncated_or_empty_state_is_reported_and_force_delete_cleans_up() {
    let env = TestEnv::new("fcorrupt");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    type Corrupt = fn(&[u8]) -> Vec<u8>;
    let variants: [(&str, Corrupt); 4] = [
        ("garbage", |_| b"\x00\x01 not json {{{".to_vec()),
        ("truncated", |s| s[..s.len() / 2].to_vec()),
        ("empty", |_| Vec::new()),
        ("wrong shape", |_| br#"{"id": 5}"#.to_vec()),
    ];
    for (name, corrupt) in variants {
        let id = env.id(&name.replace(' ', "-"));
        b.create(&env, &id).ok();
        env.remora(&["start", &id]).ok();
        let pid = i32::try_from(state(&env, &id)["pid"].as_i64().unwrap()).unwrap();
        let path = env.root.join(&id).join("state.json");
        fs::write(&path, corrupt(&fs::read(&path).unwrap())).unwrap();
        let l = env.remora(&["list"]);
        assert_eq!(l.code, 0, "{name}: list: {}", l.stderr);
        assert!(!l.stdout.contains(&id), "{name}: listed: {}", l.stdout);
        assert!(
            l.stderr.contains(&format!("load container {id}: "))
                && l.stderr.contains("corrupt state"),
            "{name}: list stderr {:?}",
            l.stderr
        );
        let s = env.remora(&["state", &id]);
        s.fails_with("corrupt state");
        assert!(s.stderr.contains(path.to_str().unwrap()), "{}", s.stderr);
        env.remora(&["delete", &id]).fails_with("corrupt state");
        env.remora(&["delete", "--force", &id]).ok();
        assert!(
            proc_stat(pid).is_none_or(|(_, s, _)| s == 'Z'),
            "{name}: init {pid} survives"
        );
        env.assert_nothing_left();
        // The ID is reusable.
        b.create(&env, &id).ok();
        env.remora(&["delete", &id]).ok();
    }
}

/// The cgroup hierarchies mounted on this host.
fn hierarchies() -> Vec<PathBuf> {
    fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("cgroup.procs").exists())
        .collect()
}

#[test]
fn a_state_directory_without_record_is_shown_and_removed_by_force_delete() {
    let env = TestEnv::new("fnorecord");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    let id = env.id("n");
    // What an older remora left when killed: a directory with only the
    // exec fifo, and the ID's cgroup in every hierarchy.
    let dir = env.root.join(&id);
    fs::create_dir_all(&dir).unwrap();
    let fifo = std::ffi::CString::new(dir.join("exec.fifo").to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o622) }, 0);
    let cgroups: Vec<PathBuf> = hierarchies()
        .iter()
        .map(|h| h.join("remora").join(&id))
        .collect();
    for c in &cgroups {
        fs::create_dir_all(c).unwrap();
    }
    // And the private directory of a create killed before it renamed it
    // into place (its PID long gone).
    let private = env.root.join(format!(".{id}~999999999"));
    fs::create_dir_all(&private).unwrap();
    let l = env.remora(&["list"]);
    assert!(
        l.stderr.contains(&format!("load container {id}: ")) && l.stderr.contains("no state.json"),
        "{:?}",
        l.stderr
    );
    env.remora(&["state", &id]).fails_with("no state.json");
    b.create(&env, &id)
        .fails_with("container with given ID already exists");
    env.remora(&["delete", "--force", &id]).ok();
    assert!(!dir.exists() && !private.exists());
    for c in &cgroups {
        assert!(!c.exists(), "{} left", c.display());
    }
    b.create(&env, &id).ok();
    env.remora(&["delete", &id]).ok();
}

/// A tmpfs mounted for a test as a state root: its containers deleted and
/// it unmounted when dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        for e in fs::read_dir(&self.0).into_iter().flatten().flatten() {
            remora_at(
                &self.0,
                &["delete", "--force", &e.file_name().to_string_lossy()],
            );
        }
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn remora_at(root: &Path, args: &[&str]) -> Run {
    Command::new(remora_bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
        .into()
}

#[test]
fn a_full_root_filesystem_fails_create_cleanly_and_the_rest_still_works() {
    let env = TestEnv::new("ffull");
    let mut b = env.bundle("b");
    b.sh("exec sleep 1000");
    b.save();
    let root = env.base.join("full");
    fs::create_dir_all(&root).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "remora-it-full"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success(), "mounting a tmpfs at {}", root.display());
    let mnt = Tmpfs(root.clone());
    let (a, c) = (env.id("a"), env.id("c"));
    // A container made while there is room.
    let out = Command::new(remora_bin())
        .arg("--root")
        .arg(&root)
        .args(["create", "-b", b.path(), &a])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
    // Fill it.
    let filler = root.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    let r = remora_at(&root, &["create", "-b", b.path(), &c]);
    r.fails_with("No space left on device");
    let names: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut expect = vec![a.clone(), "filler".to_string()];
    expect.sort();
    let mut got = names.clone();
    got.sort();
    assert_eq!(got, expect, "the failed create left something");
    assert!(cgroup_dirs_named(&c).is_empty());
    // The existing container still works.
    let s: Value = serde_json::from_str(remora_at(&root, &["state", &a]).ok()).unwrap();
    assert_eq!(s["status"], "created");
    assert!(remora_at(&root, &["list"]).ok().contains(&a));
    remora_at(&root, &["start", &a]).ok();
    remora_at(&root, &["delete", "--force", &a]).ok();
    // With room again the ID works.
    fs::remove_file(&filler).unwrap();
    let out = Command::new(remora_bin())
        .arg("--root")
        .arg(&root)
        .args(["create", "-b", b.path(), &c])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
    remora_at(&root, &["delete", &c]).ok();
    assert!(fs::read_dir(&root).unwrap().next().is_none());
    drop(mnt);
    env.assert_nothing_left();
}
