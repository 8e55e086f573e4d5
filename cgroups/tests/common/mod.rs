//! Helpers for the host tests: held child processes and cgroup file reads.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::unistd::Pid;
use remora_cgroups::{Cgroup, Layout};

pub const BUSYBOX: &str = "/bin/busybox";

pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests create cgroups and must run as root"
    );
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} missing (busybox-static)"
    );
}

/// A cgroup path unique to this test run, directly under the root.
pub fn unique(name: &str) -> String {
    format!("/remora-t-{name}-{}", std::process::id())
}

/// A shell command that waits for a line on stdin before it runs, so that
/// the test can put it in a cgroup first.
pub struct Held {
    pub child: Child,
}

impl Held {
    pub fn spawn(script: &str) -> Held {
        let child = Command::new(BUSYBOX)
            .args(["sh", "-c", "read _; exec /bin/busybox sh -c \"$0\"", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn busybox");
        Held { child }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    pub fn release(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"go\n").expect("release child");
        stdin.flush().unwrap();
    }

    /// Waits up to `secs` for the exit; returns status, stdout, stderr.
    pub fn wait(mut self, secs: u64) -> (ExitStatus, String, String) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("child did not exit within {secs}s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        use std::io::Read;
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, out, err)
    }

    /// True once the process has exited (reaping it).
    pub fn exited_within(&mut self, d: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn v2() -> bool {
    remora_cgroups::layout() == Layout::V2
}

/// The container's directory holding controller `ctrl`'s files.
pub fn dir(cg: &Cgroup, ctrl: &str) -> PathBuf {
    if v2() {
        return cg.paths()["unified"].clone();
    }
    cg.paths()
        .iter()
        .find(|(k, _)| k.split(',').any(|c| c == ctrl))
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| panic!("no {ctrl} hierarchy on this host"))
}

pub fn has_v1(ctrl: &str) -> bool {
    let s = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    s.lines().any(|l| {
        l.contains(" - cgroup ") && l.rsplit(' ').next().unwrap().split(',').any(|o| o == ctrl)
    })
}

pub fn read(p: &Path, file: &str) -> String {
    std::fs::read_to_string(p.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", p.join(file).display()))
        .trim()
        .to_string()
}

pub fn resources(json: &str) -> oci_spec::runtime::LinuxResources {
    serde_json::from_str(json).unwrap()
}

/// Creates the cgroup with `json` resources, places a held `script` in it
/// and releases it. The caller destroys the cgroup.
pub fn run_in(cg: &Cgroup, json: &str, script: &str) -> Held {
    cg.prepare(Some(&resources(json))).expect("prepare");
    let mut h = Held::spawn(script);
    cg.add_task(h.pid()).expect("add_task");
    h.release();
    h
}

/// Asserts every directory of the cgroup is gone.
pub fn assert_gone(cg: &Cgroup) {
    for d in cg.paths().values() {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

/// Destroys the cgroup when the test ends, even when it panics.
pub struct Guard(pub Cgroup);

impl std::ops::Deref for Guard {
    type Target = Cgroup;
    fn deref(&self) -> &Cgroup {
        &self.0
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

/// A guarded cgroup at a unique absolute path.
pub fn guarded(name: &str) -> Guard {
    require_root();
    Guard(Cgroup::new(Some(&unique(name)), name, false).unwrap())
}
