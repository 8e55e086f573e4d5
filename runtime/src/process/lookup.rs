//! Finding process.args[0] in the container, at create time: a missing
//! or non-executable program fails create, not start.

use nix::fcntl::AtFlags;
use nix::unistd::AccessFlags;
use std::path::{Path, PathBuf};

use super::ProcessError;

fn executable(p: &Path) -> Result<(), std::io::Error> {
    let meta = std::fs::metadata(p)?;
    if meta.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::EACCES));
    }
    nix::unistd::faccessat(None, p, AccessFlags::X_OK, AtFlags::AT_EACCESS)?;
    Ok(())
}

/// Resolves args[0] against PATH from the process env (as runc: the
/// container's own PATH only).
pub fn find_program(arg0: &str, env: &[String]) -> Result<PathBuf, ProcessError> {
    let field = || format!("process.args[0] {arg0:?}");
    if arg0.contains('/') {
        return match executable(Path::new(arg0)) {
            Ok(()) => Ok(PathBuf::from(arg0)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(ProcessError::invalid(
                field(),
                "exec: no such file or directory in the container's rootfs",
            )),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => Err(ProcessError::invalid(
                field(),
                "exec: permission denied (not executable)",
            )),
            Err(e) => Err(ProcessError::sys(format!("{}: exec", field()), e)),
        };
    }
    // No PATH in process.env: a bare name is not found (as runc; no
    // default PATH is assumed).
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("");
    let mut denied = false;
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(arg0);
        match executable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => denied = true,
            Err(_) => {}
        }
    }
    if denied {
        Err(ProcessError::invalid(field(), "exec: permission denied"))
    } else {
        Err(ProcessError::invalid(
            field(),
            "exec: executable file not found in $PATH",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_refuses() {
        assert_eq!(
            find_program("sh", &["PATH=/nonexistent:/bin".into()]).unwrap(),
            PathBuf::from("/bin/sh")
        );
        let e = find_program("no-such-prog", &[]).unwrap_err().to_string();
        assert_eq!(
            e,
            "process.args[0] \"no-such-prog\": exec: executable file not found in $PATH"
        );
        let e = find_program("/bin/nope", &[]).unwrap_err().to_string();
        assert!(e.contains("no such file or directory"), "{e}");
        let f = std::env::temp_dir().join(format!("remora-noexec-{}", std::process::id()));
        std::fs::write(&f, "not a program").unwrap();
        let e = find_program(f.to_str().unwrap(), &[])
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&f).unwrap();
        assert!(e.contains("permission denied"), "{e}");
    }
}
