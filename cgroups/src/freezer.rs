//! pause/resume: the v1 freezer, or cgroup.freeze on v2.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::dirs::Dirs;
use crate::error::{CgroupError, Result};
use crate::fsutil::{keyed_value, read, write};

const TIMEOUT: Duration = Duration::from_secs(10);

enum Freezer<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

fn freezer(dirs: &Dirs) -> Result<Freezer<'_>> {
    if let Some(d) = dirs.v1("freezer") {
        return Ok(Freezer::V1(d));
    }
    if let Some(d) = dirs.unified() {
        return Ok(Freezer::V2(d));
    }
    Err(CgroupError::unsupported(
        "pause",
        "no freezer cgroup controller and no cgroup v2",
    ))
}

pub(crate) fn set(dirs: &Dirs, frozen: bool) -> Result<()> {
    let start = Instant::now();
    match freezer(dirs)? {
        Freezer::V1(d) => {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            loop {
                write(d, "freezer.state", want, "pause")?;
                let got = read(d, "freezer.state")?;
                if got == want {
                    return Ok(());
                }
                if start.elapsed() > TIMEOUT {
                    return Err(timeout(d, want, &got));
                }
                sleep(Duration::from_millis(1));
            }
        }
        Freezer::V2(d) => {
            write(d, "cgroup.freeze", if frozen { "1" } else { "0" }, "pause")?;
            let want = u64::from(frozen);
            loop {
                match keyed_value(d, "cgroup.events", "frozen") {
                    Some(v) if v == want => return Ok(()),
                    None => return Ok(()),
                    Some(v) => {
                        if start.elapsed() > TIMEOUT {
                            return Err(timeout(d, &want.to_string(), &v.to_string()));
                        }
                    }
                }
                sleep(Duration::from_millis(1));
            }
        }
    }
}

fn timeout(d: &Path, want: &str, got: &str) -> CgroupError {
    CgroupError::Manager {
        path: d.display().to_string(),
        msg: format!("freezer did not reach {want} (still {got})"),
    }
}

/// A cgroup that is gone, or that has no freezer, is not frozen.
pub(crate) fn is_frozen(dirs: &Dirs) -> Result<bool> {
    let Ok(f) = freezer(dirs) else {
        return Ok(false);
    };
    match f {
        Freezer::V1(d) => {
            if !d.exists() {
                return Ok(false);
            }
            Ok(matches!(
                read(d, "freezer.state")?.as_str(),
                "FROZEN" | "FREEZING"
            ))
        }
        Freezer::V2(d) => {
            if !d.exists() {
                return Ok(false);
            }
            Ok(read(d, "cgroup.freeze").map(|v| v == "1").unwrap_or(false))
        }
    }
}

/// Where a process placed in `dirs` now would be frozen: the v1 freezer
/// (FROZEN or FREEZING) or the cgroup2 freezer (cgroup.events `frozen 1`
/// or cgroup.freeze 1) of the directory, or of its nearest existing
/// ancestor when it does not exist yet (a new child of a frozen cgroup is
/// frozen). Both are checked: on a hybrid host the cgroup2 freezer acts
/// too.
pub(crate) fn frozen_dir(dirs: &Dirs) -> Option<std::path::PathBuf> {
    let existing = |d: &Path| d.ancestors().find(|a| a.exists()).map(Path::to_path_buf);
    if let Some(d) = dirs.v1("freezer").and_then(existing) {
        if matches!(
            read(&d, "freezer.state").as_deref(),
            Ok("FROZEN") | Ok("FREEZING")
        ) {
            return Some(d);
        }
    }
    if let Some(d) = dirs.unified().and_then(existing) {
        let events = keyed_value(&d, "cgroup.events", "frozen") == Some(1);
        if events || read(&d, "cgroup.freeze").is_ok_and(|v| v == "1") {
            return Some(d);
        }
    }
    None
}
