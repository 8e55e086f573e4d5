//! The container process's environment as it is exec'd: process.env, and
//! HOME when process.env lacks it (as runc and crun: the process user's
//! home from the container's /etc/passwd, else "/").

use std::path::Path;

use super::ProcessError;

/// process.env with HOME filled in for `uid`, reading `passwd` (the
/// container's /etc/passwd, read from inside the container).
pub fn with_home(env: &[String], uid: u32, passwd: &Path) -> Vec<String> {
    let mut out = env.to_vec();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        let home = std::fs::read_to_string(passwd)
            .ok()
            .and_then(|text| home_of(&text, uid))
            .unwrap_or_else(|| "/".to_string());
        out.push(format!("HOME={home}"));
    }
    out
}

/// The home directory of `uid` in /etc/passwd text (name:pw:uid:gid:gecos:home:shell).
fn home_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid) && !f[5].is_empty())
            .then(|| f[5].to_string())
    })
}

/// A process.env entry must be NAME=VALUE (runc refuses one without "=").
pub fn check_entry(entry: &str) -> Result<(), ProcessError> {
    if entry.contains('=') {
        Ok(())
    } else {
        Err(ProcessError::invalid(
            format!(
                "process.env {:?}",
                entry.chars().take(64).collect::<String>()
            ),
            "invalid environment variable: missing '='",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                          app:x:1000:1000::/home/app:/bin/sh\n\
                          nohome:x:1001:1001:::/bin/sh\n";

    #[test]
    fn home_comes_from_passwd_or_is_slash() {
        assert_eq!(home_of(PASSWD, 0).as_deref(), Some("/root"));
        assert_eq!(home_of(PASSWD, 1000).as_deref(), Some("/home/app"));
        assert_eq!(home_of(PASSWD, 1001), None);
        assert_eq!(home_of(PASSWD, 7), None);
        let env = with_home(&["A=1".into()], 7, Path::new("/nonexistent"));
        assert_eq!(env, vec!["A=1".to_string(), "HOME=/".to_string()]);
    }

    #[test]
    fn a_given_home_is_kept() {
        let env = with_home(&["HOME=/x".into()], 0, Path::new("/nonexistent"));
        assert_eq!(env, vec!["HOME=/x".to_string()]);
    }

    #[test]
    fn entries_need_an_equals_sign() {
        assert!(check_entry("A=").is_ok());
        assert_eq!(
            check_entry("A").unwrap_err().to_string(),
            "process.env \"A\": invalid environment variable: missing '='"
        );
    }
}
