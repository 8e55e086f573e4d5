//! Turns an engine's seccomp profile (Docker's / podman's format with
//! archMap, includes and excludes) into the OCI `linux.seccomp` the engine
//! hands the runtime, for a given capability set on x86_64 (test only).

use serde_json::{json, Value};

pub const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";
pub const DOCKER_PROFILE: &str =
    "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";

/// Docker's default capabilities.
pub const DOCKER_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];
/// podman's default capabilities (containers.conf).
pub const PODMAN_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `path` and converts it; None when the file is not there.
pub fn load(path: &str, caps: &[&str]) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(convert(
        &serde_json::from_str(&text).expect("engine profile is JSON"),
        caps,
    ))
}

pub fn convert(p: &Value, caps: &[&str]) -> Value {
    let mut arches = Vec::new();
    for m in p["archMap"].as_array().into_iter().flatten() {
        if m["architecture"] == "SCMP_ARCH_X86_64" {
            arches.push("SCMP_ARCH_X86_64".to_string());
            arches.extend(strs(m.get("subArchitectures")));
        }
    }
    let has = |c: &String| caps.contains(&c.as_str());
    let mut rules = Vec::new();
    for r in p["syscalls"].as_array().into_iter().flatten() {
        let inc = &r["includes"];
        let exc = &r["excludes"];
        let inc_arches = strs(inc.get("arches"));
        if !inc_arches.is_empty() && !inc_arches.iter().any(|a| a == "amd64") {
            continue;
        }
        if strs(exc.get("arches")).iter().any(|a| a == "amd64") {
            continue;
        }
        if !strs(inc.get("caps")).iter().all(has) {
            continue;
        }
        if strs(exc.get("caps")).iter().any(has) {
            continue;
        }
        let mut names = strs(r.get("names"));
        if let Some(n) = r.get("name").and_then(Value::as_str) {
            names.push(n.to_owned());
        }
        let mut rule = json!({ "names": names, "action": r["action"] });
        if let Some(e) = r.get("errnoRet").filter(|v| !v.is_null()) {
            rule["errnoRet"] = e.clone();
        }
        if let Some(a) = r
            .get("args")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
            rule["args"] = a.clone();
        }
        rules.push(rule);
    }
    let mut out = json!({
        "defaultAction": p["defaultAction"],
        "architectures": arches,
        "syscalls": rules,
    });
    if let Some(e) = p.get("defaultErrnoRet").filter(|v| !v.is_null()) {
        out["defaultErrnoRet"] = e.clone();
    }
    out
}
