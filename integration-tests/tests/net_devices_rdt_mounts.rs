//! linux.netDevices (a veth end moved into the container under its new
//! name, and back on delete), linux.intelRdt (refused without resctrl),
//! the "tmpcopyup" mount option, and mount uid/gidMappings without
//! "idmap" (refused). Run as root, from inside the container and from
//! the host.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use serde_json::{json, Value};

use remora_integration_tests::{skip, TestEnv};

/// A veth pair made for one test, deleted on drop (deleting one end
/// deletes both, wherever the other end is).
struct Veth {
    host: String,
    peer: String,
}

impl Veth {
    fn new(tag: &str) -> Veth {
        // Interface names are at most 15 bytes.
        let n = std::process::id() % 100_000;
        let host = format!("rm{tag}{n}a");
        let peer = format!("rm{tag}{n}b");
        let o = Command::new("ip")
            .args(["link", "add", &host, "type", "veth", "peer", "name", &peer])
            .output()
            .expect("ip (iproute2)");
        assert!(o.status.success(), "ip link add: {o:?}");
        Veth { host, peer }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.peer])
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host])
            .output();
    }
}

fn on_host(dev: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", dev])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn net_device_moved_in_under_its_new_name_and_back_on_delete() {
    let env = TestEnv::new("netdev");
    let veth = Veth::new("n");
    let mut b = env.bundle("b");
    b.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "ctr0"} });
    b.sh("sleep 100");
    let id = env.id("c");
    b.create(&env, &id).ok();
    assert!(
        !on_host(&veth.host),
        "{} is still in the host's namespace",
        veth.host
    );
    // From inside: busybox's ip shows the device under its new name.
    let links = env.remora(&["exec", &id, "ip", "link"]);
    let out = links.ok();
    assert!(out.contains("ctr0"), "ip link inside: {out}");
    assert!(!out.contains(&veth.host), "ip link inside: {out}");
    env.remora(&["delete", "--force", &id]).ok();
    assert!(on_host(&veth.host), "{} did not come back", veth.host);
    assert!(!on_host("ctr0"), "the container's name leaked to the host");
}

#[test]
fn net_device_started_container_and_refusals() {
    let env = TestEnv::new("netdevbad");
    // A device the host does not have.
    let mut b = env.bundle("missing");
    b.config["linux"]["netDevices"] = json!({"rmnosuchdev0": {"name": "ctr0"}});
    b.create(&env, &env.id("m"))
        .fails_with("linux.netDevices \"rmnosuchdev0\": no such network device on the host");
    // No network namespace of its own.
    let veth = Veth::new("r");
    let mut b = env.bundle("nonetns");
    b.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "ctr0"} });
    let ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
    b.config["linux"]["namespaces"] = json!(ns
        .into_iter()
        .filter(|n| n["type"] != "network")
        .collect::<Vec<_>>());
    b.create(&env, &env.id("n"))
        .fails_with("linux.netDevices: the container has no network namespace of its own");
    assert!(on_host(&veth.host), "the device moved on a refused create");
    // A create that fails after moving one device moves it back: the
    // devices go in name order, the missing one comes second.
    let mut b = env.bundle("partial");
    b.config["linux"]["netDevices"] =
        json!({ veth.host.clone(): {"name": "ctr0"}, "rmzzzmissing": {} });
    b.create(&env, &env.id("p"))
        .fails_with("linux.netDevices \"rmzzzmissing\": no such network device on the host");
    assert!(on_host(&veth.host), "a failed create left the device moved");
    // A running container: delete --force brings the device back.
    let mut b = env.bundle("running");
    b.config["linux"]["netDevices"] = json!({ veth.host.clone(): {} });
    b.sh("ip link show; sleep 100");
    let id = env.id("r");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    assert!(!on_host(&veth.host));
    env.remora(&["delete", "--force", &id]).ok();
    assert!(on_host(&veth.host), "{} did not come back", veth.host);
}

/// A container joining a network namespace by path (`ip netns add`):
/// the namespace outlives the container's processes, so delete of the
/// stopped container still moves the device back.
#[test]
fn net_device_into_a_joined_namespace_back_after_the_container_stopped() {
    let env = TestEnv::new("netdevjoin");
    let veth = Veth::new("j");
    let nsname = format!("rmtest{}", std::process::id());
    let o = Command::new("ip")
        .args(["netns", "add", &nsname])
        .output()
        .unwrap();
    assert!(o.status.success(), "ip netns add: {o:?}");
    struct DelNs(String);
    impl Drop for DelNs {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
        }
    }
    let _ns = DelNs(nsname.clone());
    let mut b = env.bundle("b");
    let ns: Vec<_> = b.config["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            if n["type"] == "network" {
                json!({"type": "network", "path": format!("/run/netns/{nsname}")})
            } else {
                n.clone()
            }
        })
        .collect();
    b.config["linux"]["namespaces"] = json!(ns);
    b.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "eth5"} });
    let out = b.output_of(&env, "ip link show eth5 >/dev/null && echo present");
    assert_eq!(out.trim(), "present");
    // `run` deleted the stopped container: the device is back, and no
    // longer in the namespace.
    assert!(on_host(&veth.host), "{} did not come back", veth.host);
    let o = Command::new("ip")
        .args(["-n", &nsname, "link", "show", "eth5"])
        .output()
        .unwrap();
    assert!(!o.status.success(), "eth5 left in the joined namespace");
}

#[test]
fn intel_rdt_refused_without_resctrl() {
    if std::path::Path::new("/sys/fs/resctrl/schemata").exists() {
        skip(
            "intel_rdt_refused_without_resctrl",
            "this host has resctrl; the refusal is for hosts without it",
        );
        return;
    }
    let env = TestEnv::new("rdt");
    let mut b = env.bundle("b");
    b.config["linux"]["intelRdt"] = json!({"closID": "gold", "l3CacheSchema": "L3:0=ff"});
    let r = b.create(&env, &env.id("c"));
    r.fails_with("linux.intelRdt");
    assert!(r.stderr.contains("resctrl"), "{}", r.stderr);
    // A malformed schema is named before the host is looked at.
    b.config["linux"]["intelRdt"] = json!({"memBwSchema": "L3:0=ff"});
    b.create(&env, &env.id("d"))
        .fails_with("linux.intelRdt.memBwSchema \"L3:0=ff\": must start with MB:");
}

#[test]
fn tmpcopyup_shows_the_images_files_on_the_tmpfs() {
    let env = TestEnv::new("copyup");
    let mut b = env.bundle("b");
    let etc = b.rootfs().join("etc");
    fs::set_permissions(etc.join("passwd"), fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(etc.join("passwd"), Some(0), Some(42)).unwrap();
    fs::create_dir_all(etc.join("sub/deeper")).unwrap();
    fs::write(etc.join("sub/deeper/conf"), "k=v\n").unwrap();
    std::os::unix::fs::chown(etc.join("sub"), Some(1000), Some(1001)).unwrap();
    fs::set_permissions(etc.join("sub"), fs::Permissions::from_mode(0o751)).unwrap();
    std::os::unix::fs::symlink("sub/deeper/conf", etc.join("link")).unwrap();
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({
        "destination": "/etc", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev", "mode=755", "tmpcopyup"]
    }));
    b.config["mounts"] = json!(mounts);
    let conf_mode = fs::metadata(etc.join("sub/deeper/conf")).unwrap().mode() & 0o777;
    let out = b.output_of(
        &env,
        "grep ' /etc ' /proc/mounts | cut -d' ' -f3; \
         stat -c '%n %a %u %g %F' /etc/passwd /etc/sub /etc/sub/deeper/conf /etc/link; \
         readlink /etc/link; cat /etc/link; head -1 /etc/passwd; \
         echo new > /etc/written",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "tmpfs",
            "/etc/passwd 640 0 42 regular file",
            "/etc/sub 751 1000 1001 directory",
            &format!("/etc/sub/deeper/conf {conf_mode:o} 0 0 regular file"),
            "/etc/link 777 0 0 symbolic link",
            "sub/deeper/conf",
            "k=v",
            "root:x:0:0:root:/root:/bin/sh",
        ],
        "{out}"
    );
    // Writes went to the tmpfs, not the image.
    assert!(!etc.join("written").exists());
    // In a user namespace (the image owned by the mapped ids, as engines
    // prepare it) the copies keep the owners the container sees.
    for (rel, uid, gid) in [
        ("", 100000, 100000),
        ("passwd", 100000, 100042),
        ("sub", 101000, 101001),
        ("sub/deeper", 100000, 100000),
        ("sub/deeper/conf", 100000, 100000),
    ] {
        std::os::unix::fs::lchown(etc.join(rel), Some(uid), Some(gid)).unwrap();
    }
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
    ns.push(json!({"type": "user"}));
    b.config["linux"]["namespaces"] = json!(ns);
    b.config["linux"]["uidMappings"] = map.clone();
    b.config["linux"]["gidMappings"] = map;
    let out = b.output_of(
        &env,
        "stat -c '%n %a %u %g' /etc/passwd /etc/sub /etc/sub/deeper/conf; head -1 /etc/passwd; touch /etc/x && echo writable",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "/etc/passwd 640 0 42",
            "/etc/sub 751 1000 1001",
            &format!("/etc/sub/deeper/conf {conf_mode:o} 0 0"),
            "root:x:0:0:root:/root:/bin/sh",
            "writable"
        ],
        "{out}"
    );
}

#[test]
fn tmpcopyup_only_for_tmpfs_and_mount_id_mappings_need_idmap() {
    let env = TestEnv::new("copyupbad");
    let mut b = env.bundle("b");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({
        "destination": "/mnt", "type": "bind", "source": "/tmp",
        "options": ["rbind", "tmpcopyup"]
    }));
    b.config["mounts"] = json!(mounts.clone());
    b.create(&env, &env.id("a"))
        .fails_with("\"tmpcopyup\" is only for tmpfs");
    mounts.pop();
    mounts.push(json!({
        "destination": "/mnt", "type": "bind", "source": "/tmp",
        "options": ["rbind"],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]
    }));
    let n = mounts.len() - 1;
    b.config["mounts"] = json!(mounts);
    b.create(&env, &env.id("b")).fails_with(&format!(
        "mounts[{n}] \"/mnt\": uidMappings given without the \"idmap\" or \"ridmap\" option"
    ));
}

/// An idmapped bind mount shows a file owned by containerID on the
/// source as owned by hostID (the kernel's and runc's direction): in a
/// container whose user namespace maps 0 to host 100000, the mount with
/// the same mapping shows the host's root-owned files as owned by root
/// inside, and files made through it are root's on the host.
#[test]
fn idmapped_bind_mount_shows_mapped_owners() {
    let env = TestEnv::new("idmap");
    let src = env.base.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("roots"), "r").unwrap();
    fs::write(src.join("other"), "o").unwrap();
    std::os::unix::fs::chown(src.join("other"), Some(7000), Some(7000)).unwrap();
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let with_idmap = |b: &mut remora_integration_tests::Bundle, options: Value, maps: bool| {
        // Root in a user namespace cannot make it in the host-owned rootfs.
        fs::create_dir_all(b.rootfs().join("mnt")).unwrap();
        let mut mounts = b.config["mounts"].as_array().unwrap().clone();
        let mut m =
            json!({"destination": "/mnt", "type": "bind", "source": src, "options": options});
        if maps {
            m["uidMappings"] = map.clone();
            m["gidMappings"] = map.clone();
        }
        mounts.push(m);
        b.config["mounts"] = json!(mounts);
    };
    // No user namespace: ids shown as they are mapped, on the host's side.
    let mut b = env.bundle("hostns");
    with_idmap(&mut b, json!(["bind", "idmap"]), true);
    let out = b.output_of(&env, "stat -c '%n %u %g' /mnt/roots /mnt/other");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["/mnt/roots 100000 100000", "/mnt/other 107000 107000"],
        "{out}"
    );
    // A user namespace with the same mapping; the mount takes the
    // container's mappings when it gives none.
    for (name, maps) in [("userns", true), ("usernsdefault", false)] {
        let mut b = env.bundle(name);
        let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
        ns.push(json!({"type": "user"}));
        b.config["linux"]["namespaces"] = json!(ns);
        b.config["linux"]["uidMappings"] = map.clone();
        b.config["linux"]["gidMappings"] = map.clone();
        with_idmap(&mut b, json!(["rbind", "ridmap"]), maps);
        let out = b.output_of(
            &env,
            &format!("stat -c '%n %u %g' /mnt/roots /mnt/other; touch /mnt/{name}; stat -c '%u' /mnt/{name}"),
        );
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["/mnt/roots 0 0", "/mnt/other 7000 7000", "0"],
            "{out}"
        );
        let made = fs::metadata(src.join(name)).unwrap();
        assert_eq!(
            (made.uid(), made.gid()),
            (0, 0),
            "made through the idmapped mount"
        );
    }
    // Without the mount the files are not root's inside (the test's control).
    let mut b = env.bundle("plain");
    let mut ns = b.config["linux"]["namespaces"].as_array().unwrap().clone();
    ns.push(json!({"type": "user"}));
    b.config["linux"]["namespaces"] = json!(ns);
    b.config["linux"]["uidMappings"] = map.clone();
    b.config["linux"]["gidMappings"] = map.clone();
    with_idmap(&mut b, json!(["bind"]), false);
    let out = b.output_of(&env, "stat -c '%u' /mnt/roots");
    assert_eq!(out.trim(), "65534");
    // idmap on anything but a bind mount is refused.
    let mut b = env.bundle("tmpfs");
    let mut mounts = b.config["mounts"].as_array().unwrap().clone();
    mounts.push(json!({
        "destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
        "options": ["idmap"], "uidMappings": map.clone(), "gidMappings": map.clone()
    }));
    b.config["mounts"] = json!(mounts);
    b.create(&env, &env.id("t"))
        .fails_with("\"idmap\" is supported on bind mounts only");
}
