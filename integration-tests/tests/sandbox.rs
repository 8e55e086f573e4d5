//! What the container sees from inside: namespaces, hostname, mounts,
//! devices, masked and read-only paths, identity, capabilities, rlimits,
//! sysctls. Each test runs a real container and checks from inside and,
//! where it matters, from the host.

use std::fs;
use std::process::{Child, Command};

use remora_integration_tests::{ns_of, TestEnv};
use serde_json::json;

#[test]
fn namespaces_differ_from_the_hosts() {
    let env = TestEnv::new("ns");
    let mut b = env.bundle("b");
    b.config["linux"]["namespaces"] = json!([
        {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
        {"type": "mount"}, {"type": "cgroup"}
    ]);
    let out = b.output_of(
        &env,
        "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; echo pid=$$",
    );
    let lines: Vec<&str> = out.lines().collect();
    for (i, n) in ["pid", "net", "ipc", "uts", "mnt", "cgroup"]
        .iter()
        .enumerate()
    {
        assert_ne!(lines[i], ns_of("self", n), "{n} namespace is the host's");
    }
    assert_eq!(lines[6], "pid=1");
}

/// runc brings up lo in a new network namespace (its "loopback"
/// network): with the namespace made ahead of the clone (no user
/// namespace), by the staged path (a joined namespace), and in a user
/// namespace (made by the clone, owned by it).
#[test]
fn a_new_network_namespace_has_loopback_up() {
    let env = TestEnv::new("lo");
    type Setup = fn(&mut remora_integration_tests::Bundle);
    let cases: [(&str, Setup); 3] = [
        ("made ahead", |_| {}),
        ("staged", |b| {
            b.config["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(
                    json!({"type": "ipc", "path": format!("/proc/{}/ns/ipc", std::process::id())}),
                );
            b.config["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .retain(|n| n["type"] != "ipc" || n.get("path").is_some());
        }),
        ("user namespace", |b| {
            b.in_user_namespace(100000);
        }),
    ];
    for (i, (what, setup)) in cases.iter().enumerate() {
        let mut b = env.bundle(&format!("b{i}"));
        setup(&mut b);
        let out = b.output_of(
            &env,
            "readlink /proc/self/ns/net; cat /sys/class/net/lo/flags; nc -w1 127.0.0.1 1 </dev/null 2>&1 | grep -o refused",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_ne!(lines[0], ns_of("self", "net"), "{what}: the host's netns");
        let flags = u32::from_str_radix(lines[1].trim_start_matches("0x"), 16).unwrap();
        assert_eq!(flags & 1, 1, "{what}: lo is down (flags {})", lines[1]);
        // Down, 127.0.0.1 is unreachable; up, the port refuses.
        assert_eq!(
            lines.get(2),
            Some(&"refused"),
            "{what}: 127.0.0.1 unreachable"
        );
    }
}

#[test]
fn hostname_and_domainname() {
    let env = TestEnv::new("uts");
    let mut b = env.bundle("b");
    b.config["hostname"] = json!("box-one");
    b.config["domainname"] = json!("example.test");
    let out = b.output_of(&env, "hostname; cat /proc/sys/kernel/domainname");
    assert_eq!(out, "box-one\nexample.test\n");
}

/// A host process holding a new network namespace, for joining by path.
struct NsHolder(Child);
impl NsHolder {
    fn net() -> Self {
        let c = Command::new("unshare")
            .args(["--net", "sleep", "1000"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        NsHolder(c)
    }
    fn path(&self, ns: &str) -> String {
        format!("/proc/{}/ns/{ns}", self.0.id())
    }
}
impl Drop for NsHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn joins_a_namespace_by_path_and_checks_its_type() {
    let env = TestEnv::new("join");
    let holder = NsHolder::net();
    let want = ns_of(&holder.0.id().to_string(), "net");
    let mut b = env.bundle("b");
    b.config["linux"]["namespaces"] = json!([
        {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
        {"type": "network", "path": holder.path("net")}
    ]);
    let out = b.output_of(&env, "readlink /proc/self/ns/net; echo pid=$$");
    assert_eq!(out, format!("{want}\npid=1\n"));
    // A path of the wrong namespace type is refused, nothing made.
    b.config["linux"]["namespaces"][4]["path"] = json!(holder.path("uts"));
    b.create(&env, &env.id("wrong"))
        .fails_with("is not a network namespace");
}

#[test]
fn user_namespace_with_id_mappings() {
    let env = TestEnv::new("userns");
    let mut b = env.bundle("b");
    b.in_user_namespace(100000);
    // sysfs cannot be mounted without owning the netns: remora binds it.
    let out = b.output_of(&env, "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/made-inside; readlink /proc/self/ns/user");
    let lines: Vec<&str> = out.lines().collect();
    let norm = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(norm(lines[0]), "0 100000 65536");
    assert_eq!(norm(lines[1]), "0 100000 65536");
    assert_eq!(lines[2], "0");
    assert_ne!(lines[3], ns_of("self", "user"));
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(b.rootfs().join("tmp/made-inside")).unwrap();
    assert_eq!(meta.uid(), 100000, "root inside is uid 100000 outside");
}

#[test]
fn time_namespace_offsets() {
    let env = TestEnv::new("timens");
    let mut b = env.bundle("b");
    let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
    ns.push(json!({"type": "time"}));
    b.config["linux"]["namespaces"] = json!(ns);
    b.config["linux"]["timeOffsets"] = json!({"boottime": {"secs": 864000, "nanosecs": 0}});
    let out = b.output_of(
        &env,
        "cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time",
    );
    let mut lines = out.lines();
    let inside: f64 = lines.next().unwrap().parse().unwrap();
    let host: f64 = fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        inside - host > 863_000.0,
        "uptime inside {inside}, host {host}"
    );
    assert_ne!(lines.next().unwrap(), ns_of("self", "time"));
}

#[test]
fn mounts_from_the_config() {
    let env = TestEnv::new("mounts");
    let host_dir = env.base.join("share");
    fs::create_dir_all(&host_dir).unwrap();
    fs::write(host_dir.join("f"), "from host").unwrap();
    let host_file = env.base.join("single");
    fs::write(&host_file, "one file").unwrap();
    let mut b = env.bundle("b");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({"destination": "/data", "type": "bind", "source": host_dir, "options": ["rbind", "ro", "nosuid"]}));
    mounts.push(json!({"destination": "/etc/single", "type": "bind", "source": host_file, "options": ["bind"]}));
    mounts.push(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "size=1m", "mode=700"]}));
    b.config["mounts"] = json!(mounts);
    let out = b.output_of(
        &env,
        "cat /data/f; echo; cat /etc/single; echo; \
        touch /data/x 2>/dev/null && echo data-writable || echo data-ro; \
        grep -E ' /(data|scratch|etc/single) ' /proc/self/mountinfo | awk '{print $5, $6}'; \
        stat -c %a /scratch",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "from host");
    assert_eq!(lines[1], "one file");
    assert_eq!(lines[2], "data-ro");
    assert!(
        lines.iter().any(|l| l.starts_with("/data ro,nosuid")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("/scratch rw,noexec")),
        "{out}"
    );
    assert!(lines.iter().any(|l| l.starts_with("/etc/single ")), "{out}");
    assert_eq!(*lines.last().unwrap(), "700");
    assert!(!host_dir.join("x").exists());
}

/// Mount destinations that are symlinks in the image are followed inside
/// the rootfs and what is missing is made there (as runc and crun): a
/// dangling directory link, a file link to a host-looking path whose
/// parents do not exist (an image's /etc/resolv.conf ->
/// /run/systemd/resolve/resolv.conf), a directory link to one. Nothing
/// appears on the host.
#[test]
fn mount_destinations_through_image_symlinks_are_made_in_the_rootfs() {
    let env = TestEnv::new("symdest");
    let mut b = env.bundle("b");
    let r = b.rootfs();
    let host_dir = format!("/var/lib/remora-it-nowhere-{}", std::process::id());
    std::os::unix::fs::symlink("/target", r.join("data")).unwrap();
    fs::remove_file(r.join("etc/resolv.conf")).ok();
    std::os::unix::fs::symlink(
        "/run/remora-it-resolve/resolv.conf",
        r.join("etc/resolv.conf"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&host_dir, r.join("hostlink")).unwrap();
    let src = env.base.join("resolv.conf");
    fs::write(&src, "nameserver 192.0.2.53\n").unwrap();
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/data", "type": "tmpfs", "source": "tmpfs"}));
    mounts.push(json!({"destination": "/etc/resolv.conf", "type": "bind",
                       "source": src, "options": ["rbind", "ro"]}));
    mounts.push(json!({"destination": "/hostlink", "type": "tmpfs", "source": "tmpfs"}));
    let out = b.output_of(
        &env,
        "cat /etc/resolv.conf; grep -c ' /target tmpfs' /proc/mounts; \
         grep -c \" $(readlink /hostlink) tmpfs\" /proc/mounts",
    );
    assert_eq!(out, "nameserver 192.0.2.53\n1\n1\n");
    assert!(r.join("target").is_dir());
    assert!(r.join("run/remora-it-resolve/resolv.conf").is_file());
    assert!(r.join(host_dir.trim_start_matches('/')).is_dir());
    assert!(
        !std::path::Path::new(&host_dir).exists(),
        "made on the host"
    );
    assert!(
        !std::path::Path::new("/run/remora-it-resolve").exists(),
        "made on the host"
    );
}

/// linux.devices outside /dev are made where the config says (runc and
/// crun do), inside the rootfs; the device cgroup still decides access.
#[test]
fn devices_outside_dev_are_created() {
    let env = TestEnv::new("foodev");
    let mut b = env.bundle("b");
    b.config["linux"]["devices"] = json!([
        {"path": "/foo-dev", "type": "c", "major": 1, "minor": 3, "fileMode": 438},
        {"path": "/opt/deep/null2", "type": "c", "major": 1, "minor": 3}
    ]);
    let out = b.output_of(
        &env,
        "stat -c '%F %t:%T %a' /foo-dev /opt/deep/null2; echo x > /foo-dev && echo wrote",
    );
    assert_eq!(
        out,
        "character special file 1:3 666\ncharacter special file 1:3 666\nwrote\n"
    );
    assert!(b.rootfs().join("opt/deep").is_dir());
}

#[test]
fn default_mounts_devices_and_symlinks() {
    let env = TestEnv::new("devs");
    let mut b = env.bundle("b");
    b.config["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 432, "uid": 0, "gid": 0}]);
    let out = b.output_of(&env, "for d in null zero full random urandom tty fuse; do stat -c '%n %F %t:%T %a' /dev/$d; done; \
        for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done; \
        awk '$5==\"/proc\"||$5==\"/sys\"||$5==\"/dev/pts\"||$5==\"/dev/shm\"||$5==\"/dev/mqueue\"{print $5}' /proc/self/mountinfo | sort | tr '\\n' ' '");
    let want_devs = [
        "/dev/null character special file 1:3 666",
        "/dev/zero character special file 1:5 666",
        "/dev/full character special file 1:7 666",
        "/dev/random character special file 1:8 666",
        "/dev/urandom character special file 1:9 666",
        "/dev/tty character special file 5:0 666",
        "/dev/fuse character special file a:e5 660",
    ];
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..7], &want_devs);
    assert_eq!(
        &lines[7..12],
        &[
            "fd /proc/self/fd",
            "stdin /proc/self/fd/0",
            "stdout /proc/self/fd/1",
            "stderr /proc/self/fd/2",
            "ptmx pts/ptmx"
        ]
    );
    assert_eq!(lines[12].trim(), "/dev/mqueue /dev/pts /dev/shm /proc /sys");
}

#[test]
fn masked_and_readonly_paths_and_readonly_root() {
    let env = TestEnv::new("masks");
    let mut b = env.bundle("b");
    b.config["root"]["readonly"] = json!(true);
    // /proc/keys (a file) and /proc/acpi (a directory) exist on every host.
    let out = b.output_of(
        &env,
        "wc -c < /proc/keys; ls -A /proc/acpi | wc -l; \
        touch /proc/acpi/x 2>/dev/null && echo acpi-writable || echo acpi-ro; \
        echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable || echo sys-ro; \
        touch /newfile 2>/dev/null && echo root-writable || echo root-ro; \
        grep ' /proc/acpi ' /proc/mounts | cut -d' ' -f1,3,4 | cut -d, -f1",
    );
    // A masked directory is a read-only tmpfs named tmpfs, as runc's.
    assert_eq!(out, "0\n0\nacpi-ro\nsys-ro\nroot-ro\ntmpfs tmpfs ro\n");
}

#[test]
fn process_identity_env_cwd_umask() {
    let env = TestEnv::new("ident");
    let mut b = env.bundle("b");
    b.config["process"]["user"] =
        json!({"uid": 1000, "gid": 1001, "additionalGids": [2000, 2001], "umask": 63});
    b.config["process"]["env"] = json!(["PATH=/bin", "GREETING=hi there"]);
    b.config["process"]["cwd"] = json!("/work/dir");
    let out = b.output_of(&env, "id -u; id -g; id -G; echo \"$GREETING\"; pwd; umask");
    assert_eq!(
        out,
        "1000\n1001\n1001 2000 2001\nhi there\n/work/dir\n0077\n"
    );
}

fn status_field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn capabilities_exactly_as_given_and_no_new_privs() {
    let env = TestEnv::new("caps");
    let mut b = env.bundle("b");
    // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10, CAP_SYS_ADMIN=21
    b.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"],
    });
    b.config["process"]["noNewPrivileges"] = json!(true);
    let out = b.output_of(&env, "cat /proc/self/status");
    assert_eq!(
        status_field(&out, "CapBnd:"),
        format!("{:016x}", (1u64 << 0) | (1 << 5) | (1 << 10) | (1 << 21))
    );
    // The shell's own caps after execve: ambient KILL becomes effective.
    assert_eq!(status_field(&out, "CapAmb:"), format!("{:016x}", 1u64 << 5));
    assert_eq!(status_field(&out, "CapInh:"), format!("{:016x}", 1u64 << 5));
    assert_eq!(status_field(&out, "NoNewPrivs:"), "1");
    let mut b2 = env.bundle("b2");
    b2.config["process"]["noNewPrivileges"] = json!(false);
    let out = b2.output_of(&env, "cat /proc/self/status");
    assert_eq!(status_field(&out, "NoNewPrivs:"), "0");
    assert_eq!(
        status_field(&out, "CapEff:"),
        format!("{:016x}", (1u64 << 5) | (1 << 10) | (1 << 29))
    );
}

#[test]
fn rlimits_and_oom_score_adj() {
    let env = TestEnv::new("rlimit");
    let mut b = env.bundle("b");
    b.config["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}
    ]);
    b.config["process"]["oomScoreAdj"] = json!(123);
    let out = b.output_of(
        &env,
        "ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj",
    );
    assert_eq!(out, "777\n888\n0\n123\n");
}

#[test]
fn sysctls_in_the_containers_namespaces() {
    let env = TestEnv::new("sysctl");
    let host_fwd = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let mut b = env.bundle("b");
    let want = if host_fwd.trim() == "1" { "0" } else { "1" };
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": want, "kernel.shmmni": "1234"});
    let out = b.output_of(
        &env,
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
    );
    assert_eq!(out, format!("{want}\n1234\n"));
    assert_eq!(
        fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd,
        "host sysctl changed"
    );
    // Not namespaced: refused.
    b.config["linux"]["sysctl"] = json!({"vm.swappiness": "10"});
    b.create(&env, &env.id("bad"))
        .fails_with("linux.sysctl \"vm.swappiness\"");
}

#[test]
fn no_pivot_uses_move_and_chroot() {
    let env = TestEnv::new("nopivot");
    let mut b = env.bundle("b");
    b.sh("cat /etc/passwd | head -1; ls /");
    b.save();
    let r = env.remora(&["run", "--no-pivot", "-b", b.path(), &env.id("c")]);
    let out = r.ok();
    assert!(out.starts_with("root:x:0:0"), "{out}");
    assert!(out.contains("proc"));
}

#[test]
fn rootfs_propagation() {
    let env = TestEnv::new("prop");
    for (prop, shared) in [
        ("rprivate", false),
        ("rslave", false),
        ("rshared", true),
        ("unbindable", false),
    ] {
        let mut b = env.bundle(prop);
        b.config["linux"]["rootfsPropagation"] = json!(prop);
        let out = b.output_of(&env, "awk '$5==\"/\"' /proc/self/mountinfo");
        let optional = out.split(" - ").next().unwrap();
        assert_eq!(optional.contains("shared:"), shared, "{prop}: {out}");
        assert_eq!(
            optional.contains("unbindable"),
            prop == "unbindable",
            "{prop}: {out}"
        );
    }
    let mut b = env.bundle("bad");
    b.config["linux"]["rootfsPropagation"] = json!("sideways");
    b.create(&env, &env.id("bad"))
        .fails_with("linux.rootfsPropagation \"sideways\"");
}

#[test]
fn session_keyring_is_the_containers_own_unless_no_new_keyring() {
    let env = TestEnv::new("keyring");
    let mut b = env.bundle("b");
    // /proc/keys is masked by default; unmask it for the check.
    b.config["linux"]["maskedPaths"] = json!([]);
    b.sh("cat /proc/keys");
    b.save();
    let id = env.id("own");
    let own = env.remora(&["run", "-b", b.path(), &id]);
    assert!(
        own.ok().contains(&format!("keyring   _ses.{id}:")),
        "{}",
        own.stdout
    );
    let id2 = env.id("shared");
    let shared = env.remora(&["run", "--no-new-keyring", "-b", b.path(), &id2]);
    assert!(
        !shared.ok().contains(&format!("_ses.{id2}")),
        "{}",
        shared.stdout
    );
}

/// A /dev tmpfs with "ro" is made read-only only once it is
/// filled (device nodes, /dev/pts and the other mounts in it, symlinks),
/// as runc does; the container then sees it read-only.
#[test]
fn read_only_dev_is_made_read_only_after_it_is_filled() {
    let env = TestEnv::new("devro");
    let mut b = env.bundle("b");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    for m in mounts.iter_mut() {
        if m["destination"] == "/dev" {
            m["options"].as_array_mut().unwrap().push(json!("ro"));
        }
    }
    b.config["mounts"] = json!(mounts);
    let out = b.output_of(
        &env,
        "stat -c '%t:%T' /dev/null; readlink /dev/ptmx; \
         awk '$5==\"/dev\"{print $6} $5==\"/dev/pts\"{print \"pts\"}' /proc/self/mountinfo; \
         touch /dev/new 2>&1; echo x > /dev/null && echo null-ok",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1:3", "{out}");
    assert_eq!(lines[1], "pts/ptmx", "{out}");
    assert!(lines[2].starts_with("ro,"), "/dev not read-only: {out}");
    assert_eq!(lines[3], "pts", "{out}");
    assert!(lines[4].contains("Read-only file system"), "{out}");
    assert_eq!(lines[5], "null-ok", "{out}");
    // With a terminal, /dev/console is bound in it first (remora proxies
    // the pty of a foreground run).
    b.config["process"]["terminal"] = json!(true);
    b.sh("stat -c %t:%T /dev/console; awk '$5==\"/dev\"{print $6}' /proc/self/mountinfo");
    let r = b.run(&env, &env.id("tty"));
    let out = r.ok().replace('\r', "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "88:0", "/dev/console is not the pty: {out}");
    assert!(lines[1].starts_with("ro,"), "/dev not read-only: {out}");
}
