//! `remora check`: capability names, each unknown one with the closest
//! known name.

use serde_json::Value;

use super::Problem;

use crate::runc_compat::CAP_SETS;

fn known_capability(name: &str) -> bool {
    serde_json::from_value::<oci_spec::runtime::Capability>(Value::from(name)).is_ok()
}

/// Every unknown name in process.capabilities, with the closest known
/// one; the unknown names are removed from `raw`. False if any was found.
pub(super) fn unknown_capabilities(raw: &mut Value, out: &mut Vec<Problem>) -> bool {
    let mut ok = true;
    let Some(caps) = raw
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    else {
        return true;
    };
    for set in CAP_SETS {
        let Some(list) = caps.get_mut(set).and_then(Value::as_array_mut) else {
            continue;
        };
        let mut i = 0;
        list.retain(|v| {
            let name = v.as_str().unwrap_or_default();
            let keep = known_capability(name);
            if !keep {
                ok = false;
                let hint = match closest_capability(name) {
                    Some(c) => format!("did you mean {c:?}? Names are capabilities(7)'s, with the CAP_ prefix; `remora features` lists them (linux.capabilities)"),
                    None => "names are capabilities(7)'s, with the CAP_ prefix; `remora features` lists them (linux.capabilities)".to_string(),
                };
                out.push(Problem::error(
                    format!("process.capabilities.{set}[{i}]"),
                    format!("{v}: unknown capability"),
                    hint,
                ));
            }
            i += 1;
            keep
        });
    }
    ok
}

/// The known capability nearest to `name` (edit distance at most 3).
fn closest_capability(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let wanted = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    caps::all()
        .into_iter()
        .map(|c| c.to_string())
        .filter(|c| known_capability(c))
        .map(|c| (edit_distance(&wanted, &c), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_capability_names() {
        assert_eq!(
            closest_capability("CAP_NET_ADMN").as_deref(),
            Some("CAP_NET_ADMIN")
        );
        assert_eq!(closest_capability("chown").as_deref(), Some("CAP_CHOWN"));
        assert_eq!(closest_capability("CAP_TOTALLY_BOGUS"), None);
    }
}
