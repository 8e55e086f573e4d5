//! Bad profiles: a clear error naming the rule and field, and no filter.

use serde_json::json;

fn err(profile: serde_json::Value) -> String {
    match remora_seccomp::parse_profile(&profile).and_then(|p| remora_seccomp::compile(&p)) {
        Ok(_) => panic!("profile accepted: {profile}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_profiles_are_refused_with_the_rule_named() {
    let ok = json!({ "names": ["getpid"], "action": "SCMP_ACT_ALLOW" });
    assert_eq!(
        err(
            json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ok, ok, ok, { "names": ["read"], "action": "SCMP_ACT_ALLOW",
            "args": [{ "index": 7, "value": 1, "op": "SCMP_CMP_EQ" }] }] })
        ),
        "linux.seccomp.syscalls[3].args[0].index: 7 is out of range (0-5)"
    );
    let e = err(
        json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ok, { "names": ["read"], "action": "SCMP_ACT_FOO" }] }),
    );
    assert!(
        e.starts_with("linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\""),
        "{e}"
    );
    let e = err(
        json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }, { "index": 1, "value": 1, "op": "SCMP_CMP_BETWEEN" }] }] }),
    );
    assert!(
        e.starts_with(
            "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_BETWEEN\""
        ),
        "{e}"
    );
    assert_eq!(
        err(
            json!({ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ok, { "names": [], "action": "SCMP_ACT_ALLOW" }] })
        ),
        "linux.seccomp.syscalls[1].names: the list of syscall names is empty"
    );
    let e = err(json!({ "defaultAction": "SCMP_ACT_NOPE" }));
    assert!(
        e.starts_with("linux.seccomp.defaultAction: unknown action"),
        "{e}"
    );
    let e = err(json!({ "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_MIPS"] }));
    assert!(
        e.starts_with("linux.seccomp.architectures[0]: ScmpArchMips is not supported by remora"),
        "{e}"
    );
    // The typed entry point checks what it can see too.
    let typed: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(json!({ "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 6, "value": 1, "op": "SCMP_CMP_EQ" }] }] }))
    .unwrap();
    assert_eq!(
        remora_seccomp::compile(&typed).unwrap_err().to_string(),
        "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)"
    );
}

#[test]
fn features_lists() {
    assert_eq!(remora_seccomp::actions().len(), 9);
    assert_eq!(remora_seccomp::operators().len(), 7);
    assert!(remora_seccomp::archs().contains(&"SCMP_ARCH_X32"));
    let supported = remora_seccomp::supported_flags();
    // Kernel 6.18 has all four.
    for f in remora_seccomp::known_flags() {
        assert!(
            supported.contains(&f),
            "{f} not reported as supported on this kernel"
        );
    }
}
