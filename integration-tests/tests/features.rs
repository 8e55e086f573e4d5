//! `features`: the JSON containerd, CRI-O and podman read, in runc's shape,
//! true to what this build and this host support, and nothing on stderr
//! (CRI-O reads stdout and stderr together).

use std::fs;
use std::path::Path;
use std::process::Command;

use remora_integration_tests::{apparmor_enabled, remora_bin, selinux_enabled, TestEnv};
use serde_json::{json, Value};

/// capabilities(7) names by number.
const CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Runs `features` (optionally with global flags first), asserts exit 0 and
/// an empty stderr, and returns the parsed JSON.
fn features(global: &[&str]) -> Value {
    let out = Command::new(remora_bin())
        .args(global)
        .arg("features")
        .output()
        .unwrap();
    assert!(out.status.success(), "features failed: {out:?}");
    assert!(
        out.stderr.is_empty(),
        "features wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "features is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn strings(v: &Value, what: &str) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not an array: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("{what}: {s} is not a string"))
                .to_string()
        })
        .collect()
}

fn is_bool(v: &Value, what: &str) -> bool {
    v.as_bool()
        .unwrap_or_else(|| panic!("{what} is not a bool: {v}"))
}

fn semver(v: &Value, what: &str) -> (u32, u32, u32) {
    let s = v.as_str().unwrap_or_else(|| panic!("{what}: {v}"));
    let core = s.split(['-', '+']).next().unwrap();
    let n: Vec<u32> = core
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("{what}: {s}")))
        .collect();
    assert_eq!(n.len(), 3, "{what}: {s}");
    (n[0], n[1], n[2])
}

#[test]
fn features_prints_runc_shaped_json_true_to_this_host_and_nothing_else() {
    let f = features(&[]);
    // Global flags before the subcommand are accepted (containerd passes
    // --root and --log).
    let env = TestEnv::new("features");
    let log = env.base.join("log.json");
    let f2 = features(&[
        "--root",
        env.root.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    assert_eq!(f, f2);

    assert_eq!(f["ociVersionMin"], "1.0.0");
    let max = semver(&f["ociVersionMax"], "ociVersionMax");
    assert!(max >= (1, 3, 0), "ociVersionMax {max:?}");
    // The version the code writes into a new config is the one it claims.
    let spec_dir = env.base.join("spec");
    fs::create_dir_all(&spec_dir).unwrap();
    env.remora(&["spec", "--bundle", spec_dir.to_str().unwrap()])
        .ok();
    let written: Value =
        serde_json::from_slice(&fs::read(spec_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(written["ociVersion"], f["ociVersionMax"]);
    assert_eq!(
        strings(&f["hooks"], "hooks"),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    let opts = strings(&f["mountOptions"], "mountOptions");
    for o in [
        "bind",
        "rbind",
        "ro",
        "rw",
        "rro",
        "rrw",
        "nosuid",
        "nodev",
        "noexec",
        "suid",
        "dev",
        "exec",
        "relatime",
        "noatime",
        "strictatime",
        "private",
        "rprivate",
        "shared",
        "rshared",
        "slave",
        "rslave",
        "unbindable",
        "runbindable",
    ] {
        assert!(
            opts.iter().any(|x| x == o),
            "mountOptions lacks {o}: {opts:?}"
        );
    }
    let mut sorted = opts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        opts.len(),
        "duplicate mount options: {opts:?}"
    );

    let linux = &f["linux"];
    let ns = strings(&linux["namespaces"], "linux.namespaces");
    for n in ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] {
        assert!(ns.iter().any(|x| x == n), "namespaces lack {n}: {ns:?}");
    }
    for n in &ns {
        let file = match n.as_str() {
            "mount" => "mnt",
            "network" => "net",
            other => other,
        };
        assert!(
            Path::new("/proc/self/ns").join(file).exists(),
            "namespace {n} listed but this kernel lacks it"
        );
    }

    // Every capability this kernel knows, by name.
    let last: usize = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // (runc prints them in number order; the order means nothing to callers.)
    let mut caps = strings(&linux["capabilities"], "linux.capabilities");
    caps.sort();
    let mut want: Vec<String> = CAPS[..=last.min(CAPS.len() - 1)]
        .iter()
        .map(|c| c.to_string())
        .collect();
    want.sort();
    assert_eq!(caps, want);

    // The cgroup keys say what this host has mounted and runs.
    let cg = &linux["cgroup"];
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let fstypes: Vec<(&str, &str)> = mountinfo
        .lines()
        .filter_map(|l| {
            let (_, tail) = l.split_once(" - ")?;
            let mut t = tail.split(' ');
            let fstype = t.next()?;
            let _source = t.next()?;
            Some((fstype, t.next()?))
        })
        .collect();
    let v1 = fstypes
        .iter()
        .any(|(t, o)| *t == "cgroup" && !o.split(',').any(|x| x.starts_with("name=")));
    let v2 = fstypes.iter().any(|(t, _)| *t == "cgroup2");
    assert_eq!(is_bool(&cg["v1"], "cgroup.v1"), v1, "{cg}");
    assert_eq!(is_bool(&cg["v2"], "cgroup.v2"), v2, "{cg}");
    assert_eq!(
        is_bool(&cg["systemd"], "cgroup.systemd"),
        Path::new("/run/systemd/system").is_dir(),
        "the systemd driver needs a running systemd"
    );
    assert_eq!(
        is_bool(&cg["systemdUser"], "cgroup.systemdUser"),
        Path::new("/run/systemd/system").is_dir(),
        "the rootless systemd driver needs a running systemd (the user's manager)"
    );
    let rdma = fstypes
        .iter()
        .any(|(t, o)| *t == "cgroup" && o.split(',').any(|x| x == "rdma"))
        || [
            "/sys/fs/cgroup/cgroup.controllers",
            "/sys/fs/cgroup/unified/cgroup.controllers",
        ]
        .iter()
        .any(|f| {
            fs::read_to_string(f)
                .unwrap_or_default()
                .split_whitespace()
                .any(|c| c == "rdma")
        });
    assert_eq!(is_bool(&cg["rdma"], "cgroup.rdma"), rdma, "{cg}");
    // intelRdt, memoryPolicy, netDevices: the host's.
    let resctrl = Path::new("/sys/fs/resctrl/schemata").is_file();
    assert_eq!(
        is_bool(&linux["intelRdt"]["enabled"], "intelRdt.enabled"),
        resctrl
    );
    assert_eq!(
        is_bool(&linux["intelRdt"]["schemata"], "intelRdt.schemata"),
        resctrl
    );
    assert_eq!(
        linux["memoryPolicy"].is_object(),
        Path::new("/proc/self/numa_maps").exists(),
        "memoryPolicy: {}",
        linux["memoryPolicy"]
    );
    assert!(is_bool(
        &linux["netDevices"]["enabled"],
        "netDevices.enabled"
    ));

    let sc = &linux["seccomp"];
    assert!(is_bool(&sc["enabled"], "seccomp.enabled"));
    let actions = strings(&sc["actions"], "seccomp.actions");
    for a in [
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_TRAP",
    ] {
        assert!(actions.iter().any(|x| x == a), "seccomp.actions lack {a}");
    }
    let mut ops = strings(&sc["operators"], "seccomp.operators");
    ops.sort();
    assert_eq!(
        ops,
        [
            "SCMP_CMP_EQ",
            "SCMP_CMP_GE",
            "SCMP_CMP_GT",
            "SCMP_CMP_LE",
            "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_NE"
        ]
    );
    let archs = strings(&sc["archs"], "seccomp.archs");
    for a in ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] {
        assert!(archs.iter().any(|x| x == a), "seccomp.archs lack {a}");
    }
    assert!(
        archs.iter().all(|a| a.starts_with("SCMP_ARCH_")),
        "{archs:?}"
    );
    // AppArmor and SELinux are applied (tests/lsm.rs): enabled exactly
    // when the host has them, as runc decides it.
    let apparmor = apparmor_enabled();
    assert_eq!(
        is_bool(&linux["apparmor"]["enabled"], "apparmor.enabled"),
        apparmor,
        "apparmor.enabled must be the host's"
    );
    let selinuxfs = selinux_enabled();
    assert_eq!(
        is_bool(&linux["selinux"]["enabled"], "selinux.enabled"),
        selinuxfs,
        "selinux.enabled must be the host's (selinuxfs mounted)"
    );
    if let Some(a) = f.get("annotations") {
        let a = a.as_object().expect("annotations is an object");
        assert!(a.values().all(Value::is_string), "{a:?}");
    }
}

/// The fields runc 1.2+ prints that containerd and CRI use: seccomp flags,
/// intelRdt, idmap mounts, unsafe annotations, and the time namespace
/// this kernel has. runc 1.1.5 FAILS this (it predates these fields).
#[test]
fn features_has_the_newer_fields_callers_need() {
    let f = features(&[]);
    let linux = &f["linux"];
    let sc = &linux["seccomp"];
    let known = strings(&sc["knownFlags"], "seccomp.knownFlags");
    for fl in [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_LOG",
    ] {
        assert!(
            known.iter().any(|x| x == fl),
            "knownFlags lack {fl}: {known:?}"
        );
    }
    let supported = strings(&sc["supportedFlags"], "seccomp.supportedFlags");
    for fl in &supported {
        assert!(known.contains(fl), "supported flag {fl} is not known");
    }
    // Kernel 6.x supports all three.
    for fl in [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_LOG",
    ] {
        assert!(
            supported.iter().any(|x| x == fl),
            "supportedFlags lack {fl}"
        );
    }
    is_bool(&linux["intelRdt"]["enabled"], "intelRdt.enabled");
    is_bool(
        &linux["mountExtensions"]["idmap"]["enabled"],
        "mountExtensions.idmap.enabled",
    );
    strings(
        &f["potentiallyUnsafeConfigAnnotations"],
        "potentiallyUnsafeConfigAnnotations",
    );
    if Path::new("/proc/self/ns/time").exists() {
        let ns = strings(&linux["namespaces"], "linux.namespaces");
        assert!(
            ns.iter().any(|n| n == "time"),
            "time namespace missing: {ns:?}"
        );
    }
}

/// What features claims about mounts holds: `rro` makes a bind mount and
/// its submounts read-only, and idmap mounts work exactly when
/// mountExtensions.idmap.enabled says so.
#[test]
fn mount_features_are_true() {
    let f = features(&[]);
    let env = TestEnv::new("featmounts");
    let opts = strings(&f["mountOptions"], "mountOptions");
    let vol = env.base.join("vol");
    let sub = vol.join("sub");
    fs::create_dir_all(&sub).unwrap();
    if opts.iter().any(|o| o == "rro") {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "tmpfs"])
            .arg(&sub)
            .status()
            .unwrap();
        assert!(st.success());
        let mut b = env.bundle("b");
        let mut mounts = b.config["mounts"].as_array().unwrap().clone();
        mounts.push(json!({"destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "rro"]}));
        b.config["mounts"] = json!(mounts);
        fs::create_dir_all(b.rootfs().join("vol")).unwrap();
        let id = env.id("rro");
        b.sh("touch /vol/a 2>&1; touch /vol/sub/b 2>&1; true");
        let r = b.run(&env, &id);
        let _ = Command::new("umount").arg(&sub).status();
        let out = r.ok();
        assert_eq!(
            out.matches("Read-only file system").count(),
            2,
            "rro must cover the submount too: {out}"
        );
    }
    let idmap = f["linux"]["mountExtensions"]["idmap"]["enabled"].as_bool();
    if let Some(enabled) = idmap {
        let mut b = env.bundle("idmap");
        let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
        ns.push(json!({"type": "user"}));
        b.config["linux"]["namespaces"] = json!(ns);
        let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        b.config["linux"]["uidMappings"] = map.clone();
        b.config["linux"]["gidMappings"] = map.clone();
        let mut mounts = b.config["mounts"].as_array().unwrap().clone();
        mounts.push(json!({
            "destination": "/vol", "type": "bind", "source": vol,
            "options": ["rbind", "idmap"], "uidMappings": map, "gidMappings": map
        }));
        b.config["mounts"] = json!(mounts);
        fs::create_dir_all(b.rootfs().join("vol")).unwrap();
        b.sh("stat -c %u /vol");
        let r = b.run(&env, &env.id("idmap"));
        let refused_by_the_filesystem = r.code != 0
            && r.error_text().contains("may not support idmapped mounts")
            && memory_filesystem(&vol);
        if enabled && refused_by_the_filesystem {
            // tmpfs takes idmapped mounts from Linux 6.3 on, ramfs never
            // (the qemu VM's /tmp): the runtime's part cannot be shown
            // on this filesystem; it is on the host's.
            println!(
                "SKIP the idmap mount check: {} is a tmpfs/ramfs this kernel cannot idmap ({})",
                vol.display(),
                r.error_text()
            );
        } else if enabled {
            // The host's root-owned dir shows as root inside.
            assert_eq!(r.ok(), "0\n", "idmap claimed but: {}", r.stderr);
        } else {
            assert_ne!(r.code, 0, "idmap not claimed yet the mount worked");
            assert!(r.stderr.contains("idmap"), "{}", r.stderr);
        }
    }
}

/// Whether `path` is on a tmpfs or ramfs (statfs f_type).
fn memory_filesystem(path: &std::path::Path) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statfs is plain data; zeroed is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a valid out-pointer.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    matches!(st.f_type as i64, TMPFS_MAGIC | RAMFS_MAGIC)
}

/// Mountinfo's words for the attributes and superblock flags (the
/// kernel's vocabulary, show_mnt_opts/show_sb_opts): a reported option
/// of that name (or its "r" form) must show there on the mount it was
/// given to.
const MOUNT_WORDS: [&str; 8] = [
    "ro",
    "nosuid",
    "nodev",
    "noexec",
    "noatime",
    "relatime",
    "nodiratime",
    "nosymfollow",
];
const SB_WORDS: [&str; 3] = ["sync", "dirsync", "lazytime"];

/// Every mount option `features` reports works in a real container: each
/// is given alone to a mount of its own (a bind mount for bind and
/// rbind, a tmpfs for the others; idmap is mount_features_are_true's),
/// the container starts, and the options mountinfo can show are there.
/// So the list cannot claim an option that create refuses or drops.
#[test]
fn every_reported_mount_option_works_in_a_container() {
    let f = features(&[]);
    let opts = strings(&f["mountOptions"], "mountOptions");
    let env = TestEnv::new("featopts");
    let src = env.base.join("src");
    fs::create_dir_all(&src).unwrap();
    let mut b = env.bundle("opts");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    let mut tried = Vec::new();
    for (i, o) in opts.iter().enumerate() {
        if o == "idmap" || o == "ridmap" {
            continue;
        }
        let dest = format!("/opt/m{i}");
        fs::create_dir_all(b.rootfs().join(&dest[1..])).unwrap();
        let m = if o == "bind" || o == "rbind" {
            json!({"destination": dest, "type": "bind", "source": src, "options": [o]})
        } else {
            json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [o]})
        };
        mounts.push(m);
        tried.push((o.clone(), dest));
    }
    b.config["mounts"] = json!(mounts);
    b.sh("cat /proc/self/mountinfo");
    let r = b.run(&env, &env.id("opts"));
    assert_eq!(
        r.code, 0,
        "a reported mount option fails: {} (options by mount point: {tried:?})",
        r.stderr
    );
    let out = r.ok();
    for (o, dest) in &tried {
        let line = out
            .lines()
            .find(|l| l.split(' ').nth(4) == Some(dest.as_str()))
            .unwrap_or_else(|| panic!("option {o}: nothing mounted at {dest}:\n{out}"));
        let mut fields = line.split(' ');
        let mount_opts: Vec<&str> = fields.nth(5).unwrap().split(',').collect();
        let (optional, tail) = line.split_once(" - ").unwrap();
        let sb_opts: Vec<&str> = tail.split(' ').nth(2).unwrap_or("").split(',').collect();
        let base = o
            .strip_prefix('r')
            .filter(|b| MOUNT_WORDS.contains(b) || *b == "o");
        let word = match base {
            Some("o") | None => o.as_str(),
            Some(b) => b,
        };
        if MOUNT_WORDS.contains(&word) {
            assert!(
                mount_opts.contains(&word),
                "option {o}: not on the mount: {line}"
            );
        }
        if SB_WORDS.contains(&word) {
            assert!(
                sb_opts.contains(&word),
                "option {o}: not on the superblock: {line}"
            );
        }
        if word == "shared" || word == "rshared" {
            assert!(optional.contains(" shared:"), "option {o}: {line}");
        }
        if word == "unbindable" || word == "runbindable" {
            assert!(optional.contains(" unbindable"), "option {o}: {line}");
        }
    }
    println!("{} reported mount options mounted", tried.len());
}

/// Every seccomp action, operator, architecture and supported flag that
/// `features` reports is taken by create in one profile, and the profile
/// works: a rule of each action on a syscall the container never makes,
/// each operator on an argument of another, and ERRNO on one it then
/// calls shows its errno. NOTIFY needs a listener: tests/seccomp.rs.
#[test]
fn every_reported_seccomp_name_is_taken() {
    let f = features(&[]);
    let sc = &f["linux"]["seccomp"];
    let actions = strings(&sc["actions"], "seccomp.actions");
    let ops = strings(&sc["operators"], "seccomp.operators");
    let archs = strings(&sc["archs"], "seccomp.archs");
    let mut flags = strings(&sc["supportedFlags"], "seccomp.supportedFlags");
    // Syscalls busybox `true` and the init never make.
    let unused = [
        "acct",
        "swapon",
        "swapoff",
        "kexec_load",
        "init_module",
        "delete_module",
        "vhangup",
        "quotactl",
        "syslog",
        "settimeofday",
    ];
    let mut syscalls = Vec::new();
    let mut skipped = Vec::new();
    // WAIT_KILLABLE_RECV is for NOTIFY rules only.
    flags.retain(|f| {
        let notify_only = f == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
        if notify_only {
            skipped.push(f.clone());
        }
        !notify_only
    });
    for (i, a) in actions.iter().enumerate() {
        if a == "SCMP_ACT_NOTIFY" {
            skipped.push(a.clone());
            continue;
        }
        syscalls.push(json!({"names": [unused[i % unused.len()]], "action": a}));
    }
    for o in &ops {
        syscalls.push(json!({"names": ["acct"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": o}]}));
    }
    // The one it calls: mkdir fails with EROFS (30) instead of working.
    syscalls
        .push(json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30}));
    let env = TestEnv::new("featseccomp");
    let mut b = env.bundle("sc");
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": archs,
        "flags": flags,
        "syscalls": syscalls
    });
    b.sh("mkdir /tmp/x 2>&1; true");
    let r = b.run(&env, &env.id("sc"));
    assert_eq!(
        r.code, 0,
        "a reported seccomp name is refused: {}",
        r.stderr
    );
    assert!(
        r.ok().contains("Read-only file system"),
        "the profile did not apply: {}",
        r.ok()
    );
    if !skipped.is_empty() {
        println!("SKIP here (a listener is needed; tests/seccomp.rs covers it): {skipped:?}");
    }
}
