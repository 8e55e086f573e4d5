//! The systemd driver: a transient scope over D-Bus on a systemd-booted
//! cgroup v2 host (scripts/cgroupv2-vm/run-systemd.sh boots one); elsewhere
//! a clear error before anything is created.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use remora_cgroups::{Cgroup, CgroupError};

#[test]
fn systemd_scope_placement_resources_and_removal() {
    require_root();
    let id = format!("sd{}", std::process::id());
    let cg = Guard(Cgroup::new(Some(&format!("system.slice:remora-t:{id}")), &id, true).unwrap());
    let scope = format!("/system.slice/remora-t-{id}.scope");
    assert!(cg
        .paths()
        .values()
        .all(|d| d.ends_with(scope.trim_start_matches('/'))));
    let r = resources(r#"{"memory":{"limit":33554432},"pids":{"limit":20}}"#);
    let prepared = cg.prepare(Some(&r));
    let booted = Path::new("/run/systemd/system").is_dir();
    if !(booted && v2()) {
        let e = prepared.unwrap_err();
        assert!(matches!(e, CgroupError::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("--systemd-cgroup"), "{e}");
        assert_gone(&cg);
        return;
    }
    prepared.unwrap();
    let mut h = Held::spawn("sleep 30");
    cg.add_task(h.pid()).expect("start the transient scope");
    let pc = std::fs::read_to_string(format!("/proc/{}/cgroup", h.pid())).unwrap();
    assert_eq!(pc.trim(), format!("0::{scope}"));
    let d = Path::new("/sys/fs/cgroup").join(scope.trim_start_matches('/'));
    assert_eq!(read(&d, "memory.max"), "33554432");
    assert_eq!(read(&d, "pids.max"), "20");
    cg.update(&resources(r#"{"pids":{"limit":30}}"#)).unwrap();
    assert_eq!(read(&d, "pids.max"), "30");
    cg.set_frozen(true).unwrap();
    assert!(cg.is_frozen().unwrap());
    cg.set_frozen(false).unwrap();
    assert_eq!(cg.pids().unwrap(), vec![h.pid()]);
    cg.destroy().unwrap();
    assert!(
        h.exited_within(Duration::from_secs(10)).is_some(),
        "scope stop left the process"
    );
    assert!(!d.exists(), "scope cgroup left behind");
}
