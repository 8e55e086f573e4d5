//! Inputs runc accepts with a warning, rewritten before oci-spec parses
//! them: a relative mount destination is taken relative to `/` (runc
//! 1.1.5), exec's process.json without "user" runs as root. Unknown
//! capability names are NOT taken as runc takes them (it drops them with a
//! warning): runtime-spec config.md says a value that cannot be mapped to
//! a kernel interface MUST cause an error, so they are refused here,
//! naming the set, before oci-spec's own "unknown variant".

use serde_json::Value;

use crate::error::{Error, Result};
use crate::logging;

/// The sets of process.capabilities.
pub(crate) const CAP_SETS: [&str; 5] = [
    "bounding",
    "effective",
    "inheritable",
    "permitted",
    "ambient",
];

/// Refuses a capability name that is not a Linux capability, in any set
/// of `process.capabilities` (`what` names the process: "process" for
/// config.json, "--process FILE" for exec).
pub fn check_capabilities(process: &Value, what: &str) -> Result<()> {
    let Some(caps) = process.get("capabilities").and_then(Value::as_object) else {
        return Ok(());
    };
    for set in CAP_SETS {
        for name in caps
            .get(set)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = name.as_str().filter(|n| !is_known(n)) {
                return Err(Error::config(format!(
                    "{what}.capabilities.{set}: unknown capability {n:?}"
                )));
            }
        }
    }
    Ok(())
}

/// `exec --cap NAME`: refused unless NAME is a Linux capability.
pub fn check_cap_flags(names: &[String]) -> Result<()> {
    match names.iter().find(|n| !is_known(n)) {
        Some(n) => Err(Error::argument(format!("--cap {n:?}: unknown capability"))),
        None => Ok(()),
    }
}

fn is_known(name: &str) -> bool {
    serde_json::from_value::<oci_spec::runtime::Capability>(Value::from(name)).is_ok()
}

/// A mount destination that is not absolute is relative to `/`, with a
/// warning (runc 1.1.5 accepts it so).
pub fn absolute_mount_destinations(config: &mut Value) {
    let Some(mounts) = config.get_mut("mounts").and_then(Value::as_array_mut) else {
        return;
    };
    for (i, m) in mounts.iter_mut().enumerate() {
        let Some(dest) = m.get("destination").and_then(Value::as_str) else {
            continue;
        };
        if !dest.starts_with('/') {
            logging::warn(&format!(
                "mounts[{i}]: mount destination {dest} is not absolute: taken relative to / (as runc 1.1.5 does; a later release may refuse it)"
            ));
            m["destination"] = Value::from(format!("/{dest}"));
        }
    }
}

/// An `exec --process` process.json as runc reads it: no "user" is uid 0,
/// gid 0; an unknown capability name is refused.
pub fn exec_process(process: &mut Value, what: &str) -> Result<()> {
    if process.is_object() && process.get("user").is_none_or(Value::is_null) {
        process["user"] = serde_json::json!({"uid": 0, "gid": 0});
    }
    check_capabilities(process, what)
}

/// A whole config.json: capability names checked, relative mount
/// destinations rewritten.
pub fn config(config: &mut Value) -> Result<()> {
    if let Some(p) = config.get("process") {
        check_capabilities(p, "process")?;
    }
    absolute_mount_destinations(config);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_capabilities_are_refused_naming_the_set() {
        let mut c = json!({"process": {"capabilities": {
            "bounding": ["CAP_CHOWN"], "ambient": ["CAP_BAR"]}}});
        let e = config(&mut c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "process.capabilities.ambient: unknown capability \"CAP_BAR\""
        );
        assert!(check_cap_flags(&["CAP_CHOWN".into()]).is_ok());
        assert_eq!(
            check_cap_flags(&["CAP_FOO".into()])
                .unwrap_err()
                .to_string(),
            "--cap \"CAP_FOO\": unknown capability"
        );
    }

    #[test]
    fn exec_process_defaults_to_root() {
        let mut p = json!({"args": ["true"], "cwd": "/"});
        exec_process(&mut p, "--process p.json").unwrap();
        assert_eq!(p["user"], json!({"uid": 0, "gid": 0}));
        let mut p = json!({"args": ["true"], "cwd": "/", "user": {"uid": 5, "gid": 6}});
        exec_process(&mut p, "--process p.json").unwrap();
        assert_eq!(p["user"], json!({"uid": 5, "gid": 6}));
    }

    #[test]
    fn relative_destination_is_under_root() {
        let mut c = json!({"mounts": [{"destination": "tmp/x"}, {"destination": "/y"}]});
        config(&mut c).unwrap();
        assert_eq!(c["mounts"][0]["destination"], "/tmp/x");
        assert_eq!(c["mounts"][1]["destination"], "/y");
    }
}
