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
    assert!(max >= (1, 0, 2), "ociVersionMax {max:?}");
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

    let cg = &linux["cgroup"];
    assert!(
        is_bool(&cg["v1"], "cgroup.v1"),
        "v1 cgroups are in use on this host"
    );
    assert!(is_bool(&cg["v2"], "cgroup.v2"));
    is_bool(&cg["systemd"], "cgroup.systemd");
    is_bool(&cg["systemdUser"], "cgroup.systemdUser");

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
