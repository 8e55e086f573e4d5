//! runc-compatible logging: `--log FILE` (default stderr), `--log-format
//! text|json`, `--debug`. A fatal error is printed once: with `--log FILE`,
//! ONE line at level error in the file (podman unmarshals the whole file as
//! one object) and the plain text on stderr (conmon reports the runtime's
//! stderr); without, one log line on stderr in runc's form
//! (`time="..." level=error msg="..."`, `ERRO[0000] ...` on a terminal, or
//! the JSON object with `--log-format json`). Messages are cut to
//! [`crate::bounded::MESSAGE_MAX`] bytes.

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

/// Opens the --log file as every log line will (create, append): a path
/// that cannot be opened (its directory missing) is an error at once,
/// never a log silently dropped.
pub fn check_file(config: &LogConfig) -> std::io::Result<()> {
    match &config.file {
        Some(path) => OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(drop),
        None => Ok(()),
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

/// A fatal error, said once: with --log FILE one line at level error in
/// the file and the plain text (one line) on stderr; without, one log line
/// on stderr (runc's `ERRO[0000] ...` when stderr is a terminal).
pub fn fatal(msg: &str) {
    let msg = crate::bounded::message(msg);
    let cfg = CONFIG.get();
    if cfg.is_some_and(|c| c.file.is_some()) {
        log(Level::Error, &msg);
        // One line, as runc's plain error on stderr.
        eprintln!("{}", msg.replace('\n', "\\n"));
        return;
    }
    let json = cfg.is_some_and(|c| c.json);
    let line = if !json && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        format!("ERRO[0000] {}\n", msg.replace('\n', "\\n"))
    } else {
        format_line(Level::Error, &msg, json)
    };
    let _ = std::io::stderr().write_all(line.as_bytes());
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

    #[test]
    fn text_line_shape() {
        let line = format_line(Level::Error, "a \"b\"\nc", false);
        assert!(line.starts_with("time=\""), "{line}");
        assert!(
            line.ends_with(" level=error msg=\"a \\\"b\\\"\\nc\"\n"),
            "{line}"
        );
        assert_eq!(line.lines().count(), 1);
    }
}
