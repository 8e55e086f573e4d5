//! The phase trace: with --debug (or REMORA_TRACE=1, or REMORA_TRACE=FILE:
//! an absolute path the lines are appended to, for a runtime an engine
//! runs, whose stderr the engine reads) remora logs how long
//! each phase of create/start/exec took, so a user sees where a slow start
//! goes. One debug line per traced operation:
//! `create phases: config=85µs cgroup=410µs clone=95µs resources=300µs
//! init=900µs state=40µs total=1830µs; init: namespaces=.. rootfs=..
//! mounts=.. devices=.. hooks=.. pivot_root=.. paths=.. process=..` (the
//! second part measured by the init itself, sent before it reports ready).
//! `delete` traces `kill`, `cgroup`, `state`, `poststop` the same way.
//!
//! Fault injection (for the test suite, integration-tests/tests/faults.rs):
//! with `REMORA_FAULT_STOP=<operation>:<phase>` in its environment, a
//! remora process that ends that phase parks there: it names itself
//! `remora-fault` (/proc/PID/comm) and sleeps for ever, so that a test can
//! find it and SIGKILL it (or its parent) at exactly that point. The
//! operations are the traced ones: `create`, `init` (the container init's
//! steps), `start`, `exec` (the exec'd process's steps included), `run`,
//! `delete` (`destroy` when `run` deletes). The hook costs one environment
//! lookup per operation; tracing need not be on.

use std::time::Instant;

/// Whether tracing is on (checked once per operation).
pub fn enabled() -> bool {
    crate::logging::debug_enabled() || trace_env().is_some()
}

/// REMORA_TRACE: "1" (stderr) or an absolute path (a file to append to).
fn trace_env() -> Option<std::ffi::OsString> {
    std::env::var_os("REMORA_TRACE").filter(|v| v == "1" || v.as_encoded_bytes().starts_with(b"/"))
}

/// Measured phases as (name, µs), as the init sends them to its parent.
pub type Phases = Vec<(String, u64)>;

pub struct Trace {
    name: &'static str,
    start: Instant,
    last: Instant,
    phases: Vec<(&'static str, u128)>,
    /// Phases another process measured (the init's), logged after ours.
    detail: Phases,
    on: bool,
    /// The phase to park at (REMORA_FAULT_STOP names this operation).
    fault: Option<String>,
}

impl Trace {
    pub fn start(name: &'static str) -> Self {
        let now = Instant::now();
        let fault = std::env::var("REMORA_FAULT_STOP").ok().and_then(|v| {
            let (op, phase) = v.split_once(':')?;
            (op == name).then(|| phase.to_string())
        });
        Trace {
            fault,
            name,
            start: now,
            last: now,
            phases: Vec::new(),
            detail: Vec::new(),
            on: enabled(),
        }
    }

    /// Ends the current phase, naming it.
    pub fn phase(&mut self, phase: &'static str) {
        if self.fault.as_deref() == Some(phase) {
            park_for_fault();
        }
        if !self.on {
            return;
        }
        let now = Instant::now();
        self.phases.push((phase, (now - self.last).as_micros()));
        self.last = now;
    }

    /// The phases so far as (name, µs): what the init sends its parent.
    pub fn phases(&self) -> Phases {
        self.phases
            .iter()
            .map(|(p, us)| (p.to_string(), u64::try_from(*us).unwrap_or(u64::MAX)))
            .collect()
    }

    /// Whether tracing is on for this operation.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Adds the phases the init measured (logged as `init: a=..µs ...`).
    pub fn add_detail(&mut self, phases: Phases) {
        self.detail.extend(phases);
    }

    /// Logs the phases (at debug level, or on stderr with REMORA_TRACE=1).
    pub fn finish(self) {
        if !self.on {
            return;
        }
        let mut line = format!("{} phases:", self.name);
        for (p, us) in &self.phases {
            line.push_str(&format!(" {p}={us}µs"));
        }
        line.push_str(&format!(" total={}µs", self.start.elapsed().as_micros()));
        if !self.detail.is_empty() {
            line.push_str("; init:");
            for (p, us) in &self.detail {
                line.push_str(&format!(" {p}={us}µs"));
            }
        }
        if crate::logging::debug_enabled() {
            crate::logging::debug(&line);
        } else if let Some(path) = trace_env().filter(|v| v != "1") {
            use std::io::Write;
            // One write per line (O_APPEND): concurrent runtimes do not mix.
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        } else {
            eprintln!("{line}");
        }
    }
}

/// REMORA_FAULT_STOP reached: shows as `remora-fault` and waits to be
/// killed.
fn park_for_fault() -> ! {
    let _ = nix::sys::prctl::set_name(c"remora-fault");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
