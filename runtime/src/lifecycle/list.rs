//! `remora list`.

use super::{state_output, status_of, Global};
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
            Ok((st, dir)) => rows.push(state_output(&st, status_of(&st, &dir))),
            // Gone meanwhile, or a create before its first record.
            Err(Error::NotExist) => {}
            Err(e) => eprintln!("load container {id}: {e}"),
        }
    }
    if quiet {
        return Ok(rows
            .iter()
            .map(|r| format!("{}\n", r["id"].as_str().unwrap_or_default()))
            .collect());
    }
    if format == "json" {
        return Ok(format!("{}\n", serde_json::Value::Array(rows)));
    }
    let mut table = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for r in &rows {
        let s = |k: &str| match &r[k] {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let owner = s("owner");
        table.push([
            s("id"),
            s("pid"),
            s("status"),
            s("bundle"),
            s("created"),
            if owner.is_empty() {
                "root".into()
            } else {
                owner
            },
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| table.iter().map(|r| r[c].len()).max().unwrap_or(0).max(11) + 1)
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
