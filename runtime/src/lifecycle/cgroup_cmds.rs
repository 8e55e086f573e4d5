//! Commands that act on a container's cgroup: pause, resume, ps, events,
//! update.

use std::io::Write;
use std::time::Duration;

use oci_spec::runtime::LinuxResources;
use remora_cgroups::Cgroup;

use super::{status_of, Global, Status};
use crate::error::{Error, Result};
use crate::state::{ContainerDir, State};

fn open(g: &Global, id: &str) -> Result<(ContainerDir, State, Status, Cgroup)> {
    let dir = ContainerDir::open(&g.root, id)?;
    let st = dir.load()?;
    let status = status_of(&st, &dir);
    let cg = Cgroup::from_saved(st.cgroup.clone());
    Ok((dir, st, status, cg))
}

pub fn pause(g: &Global, id: &str) -> Result<()> {
    let (_dir, _st, status, cg) = open(g, id)?;
    match status {
        Status::Running | Status::Created => Ok(cg.set_frozen(true)?),
        // runc: pausing a paused container is an error, in these words.
        Status::Paused | Status::Stopped | Status::Creating => Err(Error::NotRunning),
    }
}

pub fn resume(g: &Global, id: &str) -> Result<()> {
    let (_dir, _st, status, cg) = open(g, id)?;
    match status {
        Status::Paused => Ok(cg.set_frozen(false)?),
        _ => Err(Error::NotPaused),
    }
}

/// `ps`: json is an array of host PIDs; table runs ps(1) and keeps the
/// header and the container's lines. A stopped container has no
/// processes: `null` and a table with only the header (runc's output).
pub fn ps(g: &Global, id: &str, format: &str, ps_args: &[String]) -> Result<String> {
    let (_dir, _st, status, cg) = open(g, id)?;
    let pids: Vec<i32> = if status == Status::Stopped {
        Vec::new()
    } else {
        cg.pids()?.iter().map(|p| p.as_raw()).collect()
    };
    if format == "json" {
        if pids.is_empty() {
            return Ok("null\n".into());
        }
        return Ok(format!("{}\n", serde_json::to_string(&pids).expect("json")));
    }
    if format != "table" {
        return Err(Error::argument(format!(
            "--format {format:?}: must be table or json"
        )));
    }
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| Error::io("running ps", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let pid_col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::Ps("no PID column in its output".into()))?;
    let mut result = format!("{header}\n");
    for l in lines {
        let pid = l
            .split_whitespace()
            .nth(pid_col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            result.push_str(l);
            result.push('\n');
        }
    }
    Ok(result)
}

/// `events`: stats as JSON lines every interval, or once with --stats; an
/// {"type":"oom"} line whenever the OOM killer killed in the cgroup.
pub fn events(g: &Global, id: &str, interval: Duration, once: bool) -> Result<()> {
    let (_dir, st, status, cg) = open(g, id)?;
    if status == Status::Stopped {
        return Err(Error::NotRunning);
    }
    drop(_dir);
    let stats_line = |cg: &Cgroup| -> Result<String> {
        let data = cg.stats()?;
        Ok(event_line("stats", id, Some(data)))
    };
    let mut out = std::io::stdout();
    if once {
        writeln!(out, "{}", stats_line(&cg)?).map_err(|e| Error::io("stdout", e))?;
        return Ok(());
    }
    // Counted from the container's start: an OOM kill that happened before
    // `events` was started (a slow start, a fast OOM) is still reported.
    let mut ooms = 0;
    loop {
        // The count first: the OOM killer may have killed the init itself.
        let alive = super::init_alive(&st);
        let n = cg.oom_kill_count().unwrap_or(ooms);
        if n > ooms {
            ooms = n;
            writeln!(out, "{}", event_line::<()>("oom", id, None))
                .map_err(|e| Error::io("stdout", e))?;
            let _ = out.flush();
        }
        if !alive {
            return Ok(());
        }
        writeln!(out, "{}", stats_line(&cg)?).map_err(|e| Error::io("stdout", e))?;
        let _ = out.flush();
        std::thread::sleep(interval);
    }
}

/// One line of `events` in runc's key order: type, id, data.
fn event_line<T: serde::Serialize>(typ: &str, id: &str, data: Option<T>) -> String {
    #[derive(serde::Serialize)]
    struct Event<'a, T> {
        #[serde(rename = "type")]
        typ: &'a str,
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<T>,
    }
    serde_json::to_string(&Event { typ, id, data }).expect("json")
}

/// `update`: resources from a file, stdin ("-") or the per-field flags;
/// `rdt` is --l3-cache-schema and --mem-bw-schema.
pub fn update(
    g: &Global,
    id: &str,
    resources: &LinuxResources,
    rdt: (Option<&str>, Option<&str>),
) -> Result<()> {
    let (dir, _st, status, cg) = open(g, id)?;
    if status == Status::Stopped {
        return Err(Error::NotRunning);
    }
    remora_cgroups::validate(resources)?;
    if let Some(w) = crate::config::checks::kernel_memory_of(resources) {
        crate::logging::warn(&w);
    }
    let rdt_group = update_rdt_group(&dir, rdt)?;
    cg.update(resources)?;
    if let Some(group) = rdt_group {
        let root = std::path::Path::new(crate::resctrl::ROOT);
        crate::resctrl::update(root, &group, rdt.0, rdt.1)?;
    }
    Ok(())
}

/// The container's resctrl group when --l3-cache-schema or
/// --mem-bw-schema is given: refused without resctrl or without a group.
fn update_rdt_group(
    dir: &ContainerDir,
    rdt: (Option<&str>, Option<&str>),
) -> Result<Option<crate::resctrl::Applied>> {
    let flag = match rdt {
        (Some(_), _) => "--l3-cache-schema",
        (None, Some(_)) => "--mem-bw-schema",
        (None, None) => return Ok(None),
    };
    let root = std::path::Path::new(crate::resctrl::ROOT);
    if !crate::resctrl::available(root) {
        return Err(crate::resctrl::not_available(root, flag));
    }
    match crate::resctrl::load_record(&dir.path) {
        Some(a) => Ok(Some(a)),
        None => Err(Error::argument(format!(
            "{flag}: the container has no Intel RDT group (it was created without linux.intelRdt)"
        ))),
    }
}

/// Parses "5s", "100ms", "1m" (Go duration subset) for --interval.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || Error::argument(format!("--interval {s:?}: not a duration (e.g. 5s, 500ms)"));
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .ok_or_else(bad)?;
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if secs <= 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}
