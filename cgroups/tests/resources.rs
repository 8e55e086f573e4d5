//! Each resource: set from LinuxResources, checked in the host's cgroup
//! files and by a process inside the cgroup.

mod common;

use std::time::Duration;

use common::*;
use remora_cgroups::CgroupError;

fn cgroup(name: &str) -> Guard {
    guarded(name)
}

#[test]
fn memory_limit_is_enforced_by_the_oom_killer() {
    let cg = cgroup("mem");
    let limit = 32 * 1024 * 1024;
    let json = format!(r#"{{"memory":{{"limit":{limit},"swap":{limit}}}}}"#);
    let h = run_in(&cg, &json, "dd if=/dev/zero of=/dev/null bs=64M count=1 && echo survived; kill -0 $$ && echo shell-alive");
    let d = dir(&cg, "memory");
    let file = if v2() {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    assert_eq!(read(&d, file), limit.to_string());
    let (st, out, _) = h.wait(30);
    use std::os::unix::process::ExitStatusExt;
    assert!(
        !out.contains("survived"),
        "allocation beyond the limit succeeded"
    );
    // dd was the OOM victim (SIGKILL); the shell may have been killed too.
    assert!(
        st.signal() == Some(9) || out.contains("shell-alive"),
        "{st:?} {out}"
    );
    assert!(cg.oom_kill_count().unwrap() >= 1, "no oom_kill recorded");
    let stats = serde_json::to_value(cg.stats().unwrap()).unwrap();
    assert_eq!(stats["memory"]["usage"]["limit"], limit);
    cg.destroy().unwrap();
    assert_gone(&cg);
}

#[test]
fn memory_reservation_and_friends() {
    let cg = cgroup("memx");
    let json = if v2() {
        r#"{"memory":{"limit":67108864,"reservation":33554432,"kernelTCP":1048576}}"#
    } else {
        r#"{"memory":{"limit":67108864,"reservation":33554432,"kernelTCP":1048576,"swappiness":10,"disableOOMKiller":true}}"#
    };
    let h = run_in(&cg, json, "sleep 30");
    let d = dir(&cg, "memory");
    if v2() {
        assert_eq!(read(&d, "memory.low"), "33554432");
    } else {
        assert_eq!(read(&d, "memory.soft_limit_in_bytes"), "33554432");
        assert_eq!(read(&d, "memory.kmem.tcp.limit_in_bytes"), "1048576");
        assert_eq!(read(&d, "memory.swappiness"), "10");
        assert!(read(&d, "memory.oom_control").contains("oom_kill_disable 1"));
    }
    drop(h);
    cg.destroy().unwrap();
    // On v2 swappiness and disableOOMKiller cannot be honoured: clear errors.
    if v2() {
        for (json, field) in [
            (r#"{"memory":{"swappiness":10}}"#, "swappiness"),
            (
                r#"{"memory":{"disableOOMKiller":true}}"#,
                "disableOOMKiller",
            ),
        ] {
            let cg = cgroup("memv2bad");
            let e = cg.prepare(Some(&resources(json))).unwrap_err();
            assert!(matches!(e, CgroupError::Unsupported { .. }), "{e}");
            assert!(e.to_string().contains(field), "{e}");
            assert_gone(&cg);
        }
    }
}

#[test]
fn pids_limit_makes_fork_fail() {
    let cg = cgroup("pids");
    let h = run_in(
        &cg,
        r#"{"pids":{"limit":4}}"#,
        "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo started",
    );
    assert_eq!(read(&dir(&cg, "pids"), "pids.max"), "4");
    let (_, _, err) = h.wait(20);
    assert!(err.contains("fork"), "no fork failure: {err}");
    cg.destroy().unwrap();
    assert_gone(&cg);
}

#[test]
fn cpu_quota_throttles_a_busy_loop() {
    let cg = cgroup("cpu");
    let h = run_in(
        &cg,
        r#"{"cpu":{"shares":512,"quota":20000,"period":100000,"burst":1000}}"#,
        "timeout 1 sh -c 'while :; do :; done'; exit 0",
    );
    let d = dir(&cg, "cpu");
    if v2() {
        assert_eq!(read(&d, "cpu.max"), "20000 100000");
        assert_eq!(read(&d, "cpu.weight"), "20");
        assert_eq!(read(&d, "cpu.max.burst"), "1000");
    } else {
        assert_eq!(read(&d, "cpu.shares"), "512");
        assert_eq!(read(&d, "cpu.cfs_quota_us"), "20000");
        assert_eq!(read(&d, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&d, "cpu.cfs_burst_us"), "1000");
    }
    h.wait(10);
    let s = serde_json::to_value(cg.stats().unwrap()).unwrap();
    let used = s["cpu"]["usage"]["total"].as_u64().unwrap_or(0);
    assert!(used > 50_000_000, "the loop did not run: {used} ns");
    assert!(
        used < 450_000_000,
        "20% quota not enforced: {used} ns in 1 s"
    );
    assert!(
        s["cpu"]["throttling"]["throttledPeriods"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{s}"
    );
    cg.destroy().unwrap();
}

#[test]
fn cpu_idle_and_realtime() {
    let cg = cgroup("cpuidle");
    let h = run_in(&cg, r#"{"cpu":{"idle":1}}"#, "sleep 30");
    assert_eq!(read(&dir(&cg, "cpu"), "cpu.idle"), "1");
    drop(h);
    cg.destroy().unwrap();

    let cg = cgroup("cpurt");
    let rt = r#"{"cpu":{"realtimePeriod":1000000,"realtimeRuntime":10000}}"#;
    // Realtime group scheduling: v1 with CONFIG_RT_GROUP_SCHED only (this
    // host has it; Debian's kernel does not).
    let rt_sched = !v2()
        && dir(&cg, "cpu")
            .parent()
            .unwrap()
            .join("cpu.rt_runtime_us")
            .exists();
    if !rt_sched {
        let e = cg.prepare(Some(&resources(rt))).unwrap_err();
        assert!(matches!(e, CgroupError::Unsupported { .. }), "{e}");
        assert!(
            e.to_string().contains("linux.resources.cpu.realtime"),
            "{e}"
        );
    } else {
        let h = run_in(&cg, rt, "sleep 30");
        let d = dir(&cg, "cpu");
        assert_eq!(read(&d, "cpu.rt_runtime_us"), "10000");
        assert_eq!(read(&d, "cpu.rt_period_us"), "1000000");
        drop(h);
        cg.destroy().unwrap();
    }
    assert_gone(&cg);
}

#[test]
fn cpuset_pins_the_process() {
    let cg = cgroup("cpuset");
    let h = run_in(
        &cg,
        r#"{"cpu":{"cpus":"0","mems":"0"}}"#,
        "grep Cpus_allowed_list /proc/self/status",
    );
    let d = dir(&cg, "cpuset");
    assert_eq!(read(&d, "cpuset.cpus"), "0");
    assert_eq!(read(&d, "cpuset.mems"), "0");
    let (_, out, _) = h.wait(10);
    assert!(out.trim().ends_with("\t0"), "inside: {out}");
    cg.destroy().unwrap();
}

#[test]
fn devices_follow_the_rules_in_order() {
    let cg = cgroup("dev");
    // /dev/zero denied after the defaults allowed it; /dev/null stays.
    let h = run_in(
        &cg,
        r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":5,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":5,"access":"w"}]}"#,
        "head -c1 /dev/zero >/dev/null && echo zero-read; echo x >/dev/zero && echo zero-write; echo x >/dev/null && echo null-ok",
    );
    let (_, out, err) = h.wait(10);
    assert!(
        !out.contains("zero-read"),
        "read of denied /dev/zero: {out}"
    );
    assert!(
        out.contains("zero-write"),
        "write allowed by the later rule: {out} {err}"
    );
    assert!(
        out.contains("null-ok"),
        "default /dev/null denied: {out} {err}"
    );
    if !v2() {
        let list = read(&dir(&cg, "devices"), "devices.list");
        assert!(list.contains("c 1:3 rwm"), "{list}");
        assert!(list.contains("c 1:5 w"), "{list}");
    }
    cg.destroy().unwrap();
}

#[test]
fn default_devices_without_resources() {
    let cg = cgroup("devdef");
    cg.prepare(None).unwrap();
    let mut h = Held::spawn(
        "echo x >/dev/null && echo null-ok; head -c1 /dev/mem >/dev/null 2>&1 || echo mem-denied",
    );
    cg.add_task(h.pid()).unwrap();
    h.release();
    let (_, out, _) = h.wait(10);
    assert!(
        out.contains("null-ok") && out.contains("mem-denied"),
        "{out}"
    );
    cg.destroy().unwrap();
}

#[test]
fn freeze_thaw_and_kill_while_paused() {
    let cg = cgroup("freeze");
    let mut h = run_in(&cg, "{}", "while :; do sleep 0.05; done");
    std::thread::sleep(Duration::from_millis(100));
    cg.set_frozen(true).unwrap();
    assert!(cg.is_frozen().unwrap());
    let d = if v2() {
        dir(&cg, "unified")
    } else {
        dir(&cg, "freezer")
    };
    if v2() {
        assert!(read(&d, "cgroup.events").contains("frozen 1"));
    } else {
        assert_eq!(read(&d, "freezer.state"), "FROZEN");
    }
    cg.set_frozen(false).unwrap();
    assert!(!cg.is_frozen().unwrap());
    cg.set_frozen(true).unwrap();
    cg.signal_all(nix::sys::signal::Signal::SIGKILL).unwrap();
    let st = h
        .exited_within(Duration::from_secs(5))
        .expect("SIGKILL to a paused cgroup");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(9));
    cg.destroy().unwrap();
    assert_gone(&cg);
}

#[test]
fn signal_all_reaches_every_process_and_destroy_kills_leftovers() {
    let cg = cgroup("killall");
    let h = run_in(&cg, "{}", "sleep 30 & sleep 30 & sleep 30");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cg.pids().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let pids = cg.pids().unwrap();
    assert_eq!(pids.len(), 3, "{pids:?}");
    cg.signal_all(nix::sys::signal::Signal::SIGTERM).unwrap();
    let (st, _, _) = h.wait(5);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(15));
    // The background sleeps were signalled too (they are no one's children
    // here once the shell died, so look at the cgroup).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cg.pids().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(cg.pids().unwrap().is_empty());
    // destroy with processes still inside kills them.
    let cg2 = cgroup("killall2");
    let mut h2 = run_in(&cg2, "{}", "sleep 30");
    cg2.destroy().unwrap();
    assert!(h2.exited_within(Duration::from_secs(5)).is_some());
    assert_gone(&cg2);
    cg.destroy().unwrap();
}

#[test]
fn update_changes_live_limits() {
    let cg = cgroup("update");
    let h = run_in(
        &cg,
        r#"{"memory":{"limit":67108864},"pids":{"limit":10}}"#,
        "sleep 30",
    );
    cg.update(&resources(r#"{"memory":{"limit":134217728},"pids":{"limit":20},"cpu":{"quota":50000,"period":100000}}"#))
        .unwrap();
    let mem = if v2() {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    assert_eq!(read(&dir(&cg, "memory"), mem), "134217728");
    assert_eq!(read(&dir(&cg, "pids"), "pids.max"), "20");
    // Lowering below the current memsw on v1 needs the right order too.
    cg.update(&resources(
        r#"{"memory":{"limit":33554432,"swap":33554432}}"#,
    ))
    .unwrap();
    assert_eq!(read(&dir(&cg, "memory"), mem), "33554432");
    // Back to unlimited (on v1 memsw follows).
    cg.update(&resources(r#"{"memory":{"limit":-1}}"#)).unwrap();
    let unlimited = read(&dir(&cg, "memory"), mem);
    assert!(
        unlimited == "max" || unlimited.parse::<u64>().unwrap() > 1 << 60,
        "{unlimited}"
    );
    let e = cg
        .update(&resources(r#"{"pids":{"limit":-9}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("linux.resources.pids.limit"), "{e}");
    drop(h);
    cg.destroy().unwrap();
}

#[test]
fn stats_have_runcs_shape() {
    let cg = cgroup("stats");
    let h = run_in(
        &cg,
        r#"{"pids":{"limit":50},"memory":{"limit":67108864}}"#,
        "head -c 4000000 /dev/zero >/dev/shm/remora-stats-$$; sleep 30",
    );
    // Wait until the shell has run inside (its allocations are charged).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let s = loop {
        let s = serde_json::to_value(cg.stats().unwrap()).unwrap();
        let used = s["memory"]["usage"]["usage"].as_u64().unwrap_or(0);
        if used > 4_000_000 || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for k in ["cpu", "memory", "pids", "blkio", "hugetlb"] {
        assert!(s.get(k).is_some(), "no {k} in {s}");
    }
    assert!(s["pids"]["current"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert_eq!(s["pids"]["limit"], 50, "{s}");
    assert_eq!(s["memory"]["usage"]["limit"], 67108864, "{s}");
    assert!(
        s["memory"]["usage"]["usage"].as_u64().unwrap_or(0) > 4_000_000,
        "{s}"
    );
    assert!(s["memory"]["raw"].is_object(), "{s}");
    drop(h);
    for e in std::fs::read_dir("/dev/shm").unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("remora-stats-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    cg.destroy().unwrap();
}

#[test]
fn hugetlb_limit() {
    let cg = cgroup("huge");
    let r = cg.prepare(Some(&resources(
        r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
    )));
    let has = has_v1("hugetlb")
        || std::fs::read_to_string(if v2() {
            "/sys/fs/cgroup/cgroup.controllers"
        } else {
            "/sys/fs/cgroup/unified/cgroup.controllers"
        })
        .unwrap_or_default()
        .contains("hugetlb");
    if !has {
        let e = r.unwrap_err();
        assert!(e.to_string().contains("hugepageLimits[0]"), "{e}");
        assert_gone(&cg);
        return;
    }
    r.unwrap();
    let (d, file) = if has_v1("hugetlb") {
        (dir(&cg, "hugetlb"), "hugetlb.2MB.limit_in_bytes")
    } else {
        (cg.paths()["unified"].clone(), "hugetlb.2MB.max")
    };
    assert_eq!(read(&d, file), "4194304");
    cg.destroy().unwrap();
    assert_gone(&cg);
}

/// The first real block device (major:minor) of the host.
fn block_device() -> Option<String> {
    let mut devs: Vec<_> = std::fs::read_dir("/sys/block").ok()?.flatten().collect();
    devs.sort_by_key(|e| e.file_name());
    devs.iter()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            !n.starts_with("loop") && !n.starts_with("ram") && !n.starts_with("zram")
        })
        .find_map(|e| std::fs::read_to_string(e.path().join("dev")).ok())
        .map(|s| s.trim().to_string())
}

#[test]
fn blkio_throttle_and_weight() {
    let cg = cgroup("blkio");
    let dev = block_device().expect("the test host needs a block device");
    let (maj, min) = dev.split_once(':').unwrap();
    let json = format!(
        r#"{{"blockIO":{{"throttleReadBpsDevice":[{{"major":{maj},"minor":{min},"rate":1048576}}],"throttleWriteIOPSDevice":[{{"major":{maj},"minor":{min},"rate":100}}]}}}}"#
    );
    let h = run_in(&cg, &json, "sleep 30");
    let d = dir(&cg, if v2() { "io" } else { "blkio" });
    if v2() {
        let m = read(&d, "io.max");
        assert!(
            m.contains(&format!("{dev} rbps=1048576")) && m.contains("wiops=100"),
            "{m}"
        );
    } else {
        assert_eq!(
            read(&d, "blkio.throttle.read_bps_device"),
            format!("{dev} 1048576")
        );
        assert_eq!(
            read(&d, "blkio.throttle.write_iops_device"),
            format!("{dev} 100")
        );
    }
    drop(h);
    cg.destroy().unwrap();
    // weight: honoured where the kernel has a weight file, else a clear error.
    let cg = cgroup("blkw");
    match cg.prepare(Some(&resources(r#"{"blockIO":{"weight":500}}"#))) {
        Ok(_) => {
            let d = dir(&cg, if v2() { "io" } else { "blkio" });
            // blkio weights are 10..1000; io.weight is 1..10000 (runc's
            // conversion: 1 + (500 - 10) * 9999 / 990 = 4950).
            let ok = [
                ("blkio.weight", "500"),
                ("blkio.bfq.weight", "500"),
                ("io.bfq.weight", "500"),
                ("io.weight", "default 4950"),
            ]
            .iter()
            .any(|(f, want)| {
                std::fs::read_to_string(d.join(f))
                    .is_ok_and(|v| v.lines().any(|l| l.trim() == *want))
            });
            assert!(ok, "weight not written");
            cg.destroy().unwrap();
        }
        Err(e) => {
            assert!(matches!(e, CgroupError::Unsupported { .. }), "{e}");
            assert!(
                e.to_string().contains("linux.resources.blockIO.weight"),
                "{e}"
            );
        }
    }
    assert_gone(&cg);
}

#[test]
fn network_and_rdma_need_their_controllers() {
    for (json, ctrl, field) in [
        (
            r#"{"network":{"classID":1048577}}"#,
            "net_cls",
            "linux.resources.network",
        ),
        (
            r#"{"network":{"priorities":[{"name":"lo","priority":5}]}}"#,
            "net_prio",
            "linux.resources.network",
        ),
        (
            r#"{"rdma":{"mlx5_0":{"hcaHandles":3,"hcaObjects":100}}}"#,
            "rdma",
            "linux.resources.rdma",
        ),
    ] {
        let cg = cgroup("net");
        let r = cg.prepare(Some(&resources(json)));
        let available = if v2() {
            ctrl == "rdma"
                && std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
                    .unwrap()
                    .contains("rdma")
        } else {
            has_v1(ctrl)
        };
        if available {
            // net_cls: the classid reads back; rdma: no such device here.
            if ctrl == "net_cls" {
                r.unwrap();
                assert_eq!(read(&dir(&cg, ctrl), "net_cls.classid"), "1048577");
                cg.destroy().unwrap();
            } else if ctrl == "net_prio" {
                r.unwrap();
                assert!(read(&dir(&cg, ctrl), "net_prio.ifpriomap").contains("lo 5"));
                cg.destroy().unwrap();
            } else if let Err(e) = r {
                assert!(e.to_string().contains(field), "{e}");
            } else {
                cg.destroy().unwrap();
            }
        } else {
            let e = r.unwrap_err();
            assert!(matches!(e, CgroupError::Unsupported { .. }), "{e}");
            assert!(e.to_string().contains(field), "{e}");
        }
        assert_gone(&cg);
    }
}

#[test]
fn unified_keys() {
    let cg = cgroup("unified");
    if v2() {
        let h = run_in(
            &cg,
            r#"{"unified":{"memory.high":"50331648","pids.max":"7"}}"#,
            "sleep 30",
        );
        let d = dir(&cg, "unified");
        assert_eq!(read(&d, "memory.high"), "50331648");
        assert_eq!(read(&d, "pids.max"), "7");
        drop(h);
        cg.destroy().unwrap();
        let cg = cgroup("unified2");
        let e = cg
            .prepare(Some(&resources(
                r#"{"unified":{"memory.nonexistent":"1"}}"#,
            )))
            .unwrap_err();
        assert!(e.to_string().contains("memory.nonexistent"), "{e}");
        assert_gone(&cg);
    } else {
        // v1 controllers have no cgroup2 files: refused, nothing created.
        let e = cg
            .prepare(Some(&resources(r#"{"unified":{"memory.high":"1"}}"#)))
            .unwrap_err();
        assert!(e.to_string().contains("memory.high"), "{e}");
        assert_gone(&cg);
    }
}
