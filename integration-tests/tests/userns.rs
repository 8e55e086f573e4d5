//! Containers in their own user namespace, where the container's root is
//! an unprivileged host uid.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use remora_integration_tests::TestEnv;
use serde_json::json;

const HOST_ROOT_OF_CONTAINER: u32 = 100000;

fn userns_bundle(env: &TestEnv, name: &str) -> remora_integration_tests::Bundle {
    let mut b = env.bundle(name);
    b.in_user_namespace(HOST_ROOT_OF_CONTAINER);
    b
}

/// A bind source under a directory only the host's root may traverse
/// (0700, as podman's storage and its userdata/shm): the init opens it
/// while it still has the host's uid 0, as runc does on the host side,
/// so the container (its root a host uid without access to that
/// directory) gets the mount.
#[test]
fn a_bind_source_only_host_root_can_reach_is_mounted() {
    let env = TestEnv::new("usernsbind");
    let private = env.base.join("private");
    let vol = private.join("vol");
    fs::create_dir_all(&vol).unwrap();
    fs::write(vol.join("file"), "behind a 0700 dir\n").unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(
        &vol,
        Some(HOST_ROOT_OF_CONTAINER),
        Some(HOST_ROOT_OF_CONTAINER),
    )
    .unwrap();
    let mut b = userns_bundle(&env, "b");
    fs::create_dir_all(b.rootfs().join("vol")).unwrap();
    b.config["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "rw"],
    }));
    let out = b.output_of(&env, "cat /vol/file; touch /vol/written && echo written");
    assert_eq!(out, "behind a 0700 dir\nwritten\n");
    assert!(vol.join("written").exists());
    // The host's view: the mapped root made it.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(vol.join("written")).unwrap().uid(),
        HOST_ROOT_OF_CONTAINER
    );
}

/// A user-namespace container without a cgroup namespace, its /sys a
/// bind of the host's, gets the cgroup v1 (or v2) mount of its own
/// cgroups: the host's hierarchies are taken from the host's
/// /sys/fs/cgroup, never from the container's own rbind of it (then they
/// named rootfs/sys/fs/cgroup/<ctrl>/... and failed with ENOENT).
#[test]
fn cgroup_mount_with_the_hosts_sys_bound_and_no_cgroup_namespace() {
    let env = TestEnv::new("usernscg");
    let mut b = userns_bundle(&env, "b");
    let ns: Vec<serde_json::Value> = b.config["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] != "cgroup")
        .cloned()
        .collect();
    b.config["linux"]["namespaces"] = json!(ns);
    for m in b.config["mounts"].as_array_mut().unwrap() {
        if m["destination"] == "/sys" {
            *m = json!({"destination": "/sys", "type": "bind", "source": "/sys",
                        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        }
    }
    let id = env.id("c");
    b.sh("cat /proc/self/cgroup | grep -c /remora/; ls /sys/fs/cgroup | wc -l");
    let out = b.run(&env, &id);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert!(lines[0].parse::<u32>().unwrap() > 0, "{lines:?}");
    assert!(lines[1].parse::<u32>().unwrap() > 0, "{lines:?}");
}
