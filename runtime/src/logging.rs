//! runc-compatible logging: `--log FILE` (default stderr), `--log-format
//! text|json`, `--debug`. A fatal error is ONE json line at level error in
//! the log file (podman unmarshals the whole file as one object) and plain
//! text on stderr (conmon reports the runtime's stderr).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::timefmt::rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub file: Option<PathBuf>,
    pub json: bool,
    pub debug: bool,
}

static CONFIG: OnceLock<LogConfig> = OnceLock::new();

pub fn init(config: LogConfig) {
    let _ = CONFIG.set(config);
}

pub fn debug_enabled() -> bool {
    CONFIG.get().is_some_and(|c| c.debug)
}

fn format_line(level: Level, msg: &str, json: bool) -> String {
    let time = rfc3339(SystemTime::now());
    if json {
        let obj = serde_json::json!({"level": level.as_str(), "msg": msg, "time": time});
        format!("{obj}\n")
    } else {
        format!("time={time:?} level={} msg={msg:?}\n", level.as_str())
    }
}

/// Writes one log line where the configuration says.
pub fn log(level: Level, msg: &str) {
    let Some(cfg) = CONFIG.get() else {
        if level >= Level::Warn {
            eprintln!("{msg}");
        }
        return;
    };
    if level == Level::Debug && !cfg.debug {
        return;
    }
    let line = format_line(level, msg, cfg.json);
    match &cfg.file {
        Some(path) => {
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
                let _ = f.write_all(line.as_bytes());
            }
        }
        None => {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// A fatal error: one line at level error in the log, and the text on
/// stderr (once, when the log is stderr itself).
pub fn fatal(msg: &str) {
    let to_file = CONFIG.get().is_some_and(|c| c.file.is_some());
    if to_file {
        log(Level::Error, msg);
    }
    eprintln!("{msg}");
}

pub fn warn(msg: &str) {
    log(Level::Warn, msg);
}

pub fn debug(msg: &str) {
    log(Level::Debug, msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_shape() {
        let line = format_line(Level::Error, "boom \"x\"", true);
        assert!(line.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "boom \"x\"");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}
