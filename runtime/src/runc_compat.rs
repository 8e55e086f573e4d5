//! Inputs runc accepts with a warning, rewritten before oci-spec parses
//! them (oci-spec would refuse them outright): unknown capability names
//! are dropped, a relative mount destination is taken relative to `/`
//! (runc 1.1.5).

use serde_json::Value;

use crate::logging;

const CAP_SETS: [&str; 5] = [
    "bounding",
    "effective",
    "inheritable",
    "permitted",
    "ambient",
];

/// Drops capability names oci-spec does not know from every set of
/// `process.capabilities`, with a warning per name (`what` names the
/// process: "process" for config.json, "--process FILE" or "--cap" for exec).
pub fn drop_unknown_capabilities(process: &mut Value, what: &str) {
    let Some(caps) = process
        .get_mut("capabilities")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for set in CAP_SETS {
        let Some(list) = caps.get_mut(set).and_then(Value::as_array_mut) else {
            continue;
        };
        list.retain(|name| {
            let known = name.as_str().is_none_or(is_known);
            if !known {
                logging::warn(&format!(
                    "{what}.capabilities.{set}: ignoring unknown capability {name}"
                ));
            }
            known
        });
    }
}

/// The names of `--cap` oci-spec knows; the others are ignored, with one
/// warning each when `warn` (once for the three sets they go to).
pub fn known_capabilities(names: &[String], warn: bool) -> Vec<String> {
    names
        .iter()
        .filter(|name| {
            let known = is_known(name);
            if !known && warn {
                logging::warn(&format!("--cap {name}: ignoring unknown capability"));
            }
            known
        })
        .cloned()
        .collect()
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
/// gid 0; unknown capability names are dropped with a warning.
pub fn exec_process(process: &mut Value, what: &str) {
    if process.is_object() && process.get("user").is_none_or(Value::is_null) {
        process["user"] = serde_json::json!({"uid": 0, "gid": 0});
    }
    drop_unknown_capabilities(process, what);
}

/// Both rewrites of a whole config.json.
pub fn config(config: &mut Value) {
    if let Some(p) = config.get_mut("process") {
        drop_unknown_capabilities(p, "process");
    }
    absolute_mount_destinations(config);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_capabilities_are_dropped() {
        let mut c = json!({"process": {"capabilities": {
            "bounding": ["CAP_CHOWN", "CAP_FOO"], "ambient": ["CAP_BAR"]}}});
        config(&mut c);
        assert_eq!(
            c["process"]["capabilities"]["bounding"],
            json!(["CAP_CHOWN"])
        );
        assert_eq!(c["process"]["capabilities"]["ambient"], json!([]));
    }

    #[test]
    fn exec_process_defaults_to_root() {
        let mut p = json!({"args": ["true"], "cwd": "/"});
        exec_process(&mut p, "--process p.json");
        assert_eq!(p["user"], json!({"uid": 0, "gid": 0}));
        let mut p = json!({"args": ["true"], "cwd": "/", "user": {"uid": 5, "gid": 6}});
        exec_process(&mut p, "--process p.json");
        assert_eq!(p["user"], json!({"uid": 5, "gid": 6}));
    }

    #[test]
    fn relative_destination_is_under_root() {
        let mut c = json!({"mounts": [{"destination": "tmp/x"}, {"destination": "/y"}]});
        config(&mut c);
        assert_eq!(c["mounts"][0]["destination"], "/tmp/x");
        assert_eq!(c["mounts"][1]["destination"], "/y");
    }
}
