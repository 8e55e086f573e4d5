//! `remora list`.

use super::{state_output, status_of, Global, RuncOrder};
use crate::error::Error;
use crate::state::{list_ids, ContainerDir};

/// Lists every container directory without waiting for other commands'
/// locks; one whose record cannot be read (none, or corrupt) is an error
/// line on stderr, `load container ID: ...` as runc's, and the rest are
/// listed.
pub fn list(g: &Global, format: &str, quiet: bool) -> crate::error::Result<String> {
    let mut rows = Vec::new();
    for id in list_ids(&g.root) {
        let loaded = ContainerDir::peek(&g.root, &id).and_then(|d| Ok((d.load()?, d)));
        match loaded {
            Ok((st, dir)) => {
                let mut row = state_output(&st, status_of(&st, &dir));
                row["owner"] = owner_of(&dir.path).into();
                rows.push(row);
            }
            // Gone meanwhile.
            Err(Error::NotExist) => {}
            Err(e) => eprintln!("load container {id}: {}", crate::error::chain(&e)),
        }
    }
    if quiet {
        return Ok(rows
            .iter()
            .map(|r| format!("{}\n", r["id"].as_str().unwrap_or_default()))
            .collect());
    }
    if format == "json" {
        return Ok(format!("{}\n", json_rows(&rows)));
    }
    let mut table = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for r in &rows {
        let s = |k: &str| match &r[k] {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        table.push([
            s("id"),
            s("pid"),
            s("status"),
            s("bundle"),
            s("created"),
            s("owner"),
        ]);
    }
    // runc's tabwriter: cells padded by 3, columns at least 12 wide.
    let widths: Vec<usize> = (0..6)
        .map(|c| (table.iter().map(|r| r[c].len()).max().unwrap_or(0) + 3).max(12))
        .collect();
    let mut out = String::new();
    for r in &table {
        for (c, cell) in r.iter().enumerate() {
            if c == 5 {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// The user name owning a container's state directory (runc's "owner"),
/// or "#UID" when the host has no name for it.
fn owner_of(dir: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata(dir).map(|m| m.uid()) else {
        return String::new();
    };
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => format!("#{uid}"),
    }
}

/// `list --format json` as runc prints it: `null` for no containers, and
/// each entry's keys in runc's order.
fn json_rows(rows: &[serde_json::Value]) -> String {
    if rows.is_empty() {
        return "null".into();
    }
    let ordered: Vec<RuncOrder> = rows.iter().map(RuncOrder).collect();
    serde_json::to_string(&ordered).expect("json")
}
