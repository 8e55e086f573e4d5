//! Talking to CRIU as runc does: `criu swrk FD` started with one end of a
//! SOCK_SEQPACKET socketpair, one protobuf request on it (rpc.rs), then
//! CRIU's answers: notifications (pre-dump, post-dump, network-lock,
//! setup-namespaces, post-restore, orphan-pts-master with the pty master
//! attached, status-ready, ...), each passed to the caller's handler and
//! acknowledged with its verdict, until the answer to the request.
//!
//! Why not the rust-criu crate: its `Criu` (0.6) has no pre-dump,
//! track_mem, lsm_profile/lsm_mount_context or cgroup-root request, starts
//! swrk itself (no window to put the swrk process in the container's
//! cgroup before restoring, as runc does), and its notification callback
//! is a plain `fn` (no state: the post-restore PID, the console socket);
//! its generated messages would bring the protobuf crate for the dozen
//! messages used here.

pub mod container;
pub mod rpc;

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use prost::Message;

use rpc::{req_type, CriuOpts, CriuReq, CriuResp};

/// What can go wrong talking to CRIU.
#[derive(Debug, thiserror::Error)]
pub enum CriuError {
    #[error("criu not found in PATH ({path}): checkpoint and restore need CRIU (Debian: apt-get install criu), or --criu naming its binary")]
    NotFound { path: String },
    #[error("--criu {0}: no such executable")]
    BadPath(PathBuf),
    #[error("starting {}", bin.display())]
    Spawn {
        bin: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to criu")]
    Io(#[from] std::io::Error),
    #[error("criu: malformed answer")]
    Decode(#[from] prost::DecodeError),
    /// CRIU answered the request with success = false.
    #[error("criu failed: type {} errno {errno}{}{}", req_type::name(*kind), msg.as_deref().map(|m| format!(" ({m})")).unwrap_or_default(), log.as_deref().map(|l| format!("\nlog file: {}", l.display())).unwrap_or_default())]
    Failed {
        kind: i32,
        errno: i32,
        msg: Option<String>,
        log: Option<PathBuf>,
    },
    /// swrk went away without an answer.
    #[error("criu swrk exited ({status}) without answering{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Exited { status: String, stderr: String },
    #[error("criu sent {} while a {} answer was awaited", req_type::name(*got), req_type::name(*want))]
    Unexpected { got: i32, want: i32 },
    /// The caller's handler of a notification failed.
    #[error("criu notification {script}")]
    Notify {
        script: String,
        #[source]
        source: Box<crate::error::Error>,
    },
    /// `criu check` (the CHECK request) fails: CRIU cannot work with this
    /// kernel; `reason` is what its log says.
    #[error("criu check failed: CRIU cannot checkpoint or restore on this host's kernel ({bin}): {reason}")]
    CheckFailed { bin: String, reason: String },
    #[error("criu {version}: does not support {feature}")]
    Unsupported { version: String, feature: String },
}

pub type Result<T> = std::result::Result<T, CriuError>;

/// A notification from CRIU, and the fd that came with it
/// (orphan-pts-master).
pub struct Notification {
    pub script: String,
    pub pid: i32,
    pub fd: Option<OwnedFd>,
}

/// The CRIU binary to run.
#[derive(Debug, Clone)]
pub struct Criu {
    pub bin: PathBuf,
}

impl Criu {
    /// `--criu` as given (a path, or a name looked up in PATH; default
    /// "criu").
    pub fn locate(flag: Option<&str>) -> Result<Criu> {
        let name = flag.unwrap_or("criu");
        if name.contains('/') {
            let p = PathBuf::from(name);
            return if is_executable(&p) {
                Ok(Criu { bin: p })
            } else {
                Err(CriuError::BadPath(p))
            };
        }
        let path = std::env::var("PATH").unwrap_or_default();
        path.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(name))
            .find(|p| is_executable(p))
            .map(|bin| Criu { bin })
            .ok_or(CriuError::NotFound { path })
    }

    /// Starts `criu swrk` with `pass` open in it (their numbers are what
    /// the request names: images_dir_fd, inherit_fd, ...); its stdio are
    /// remora's with `inherit_stdio` (restore: the restored process's
    /// pipes are matched to them), else /dev/null with stderr kept for
    /// errors.
    pub fn start(&self, pass: &[BorrowedFd<'_>], inherit_stdio: bool) -> Result<Session> {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(std::io::Error::from)?;
        // remora is single-threaded here: the fds made inheritable now
        // reach only this child, and are closed by the caller after.
        for fd in pass
            .iter()
            .map(|f| f.as_raw_fd())
            .chain([theirs.as_raw_fd()])
            // A borrowed fd's number is never negative.
            .map(i32::unsigned_abs)
        {
            crate::sys::process::clear_cloexec(fd)?;
        }
        let mut cmd = Command::new(&self.bin);
        cmd.arg("swrk").arg(theirs.as_raw_fd().to_string());
        if inherit_stdio {
            cmd.stdin(Stdio::inherit())
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit());
        } else {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
        }
        let child = cmd.spawn().map_err(|source| CriuError::Spawn {
            bin: self.bin.clone(),
            source,
        })?;
        drop(theirs);
        Ok(Session {
            child,
            sock: ours,
            bin: self.bin.clone(),
        })
    }

    /// One request without notifications (VERSION, FEATURE_CHECK, CHECK).
    pub fn simple(&self, req: CriuReq) -> Result<CriuResp> {
        let mut s = self.start(&[], false)?;
        s.call(&req, None, &mut |_| Ok(()))
    }

    /// CRIU's version as runc counts it (major*10000 + minor*100 +
    /// sublevel), and as text.
    pub fn version(&self) -> Result<(u32, String)> {
        let r = self.simple(CriuReq {
            r#type: req_type::VERSION,
            ..Default::default()
        })?;
        let v = r.version.unwrap_or_default();
        let n =
            u32::try_from(v.major_number * 10000 + v.minor_number * 100 + v.sublevel.unwrap_or(0))
                .unwrap_or(0);
        let text = format!(
            "{}.{}{}",
            v.major_number,
            v.minor_number,
            v.sublevel.map(|s| format!(".{s}")).unwrap_or_default()
        );
        Ok((n, text))
    }

    /// Whether CRIU and the kernel support what `want` asks (runc's
    /// checkCriuFeatures): an error naming the first missing one.
    pub fn require_features(&self, want: rpc::CriuFeatures) -> Result<()> {
        let r = self.simple(CriuReq {
            r#type: req_type::FEATURE_CHECK,
            features: Some(want.clone()),
            ..Default::default()
        });
        let got = match r {
            Ok(r) => r.features.unwrap_or_default(),
            Err(CriuError::Failed { .. }) => rpc::CriuFeatures::default(),
            Err(e) => return Err(e),
        };
        let missing = |name: &str| {
            let version = self.version().map(|v| v.1).unwrap_or_else(|_| "?".into());
            CriuError::Unsupported {
                version,
                feature: name.to_string(),
            }
        };
        if want.mem_track == Some(true) && got.mem_track != Some(true) {
            return Err(missing("memory tracking (--pre-dump, --parent-path)"));
        }
        if want.lazy_pages == Some(true) && got.lazy_pages != Some(true) {
            return Err(missing("lazy pages (--lazy-pages)"));
        }
        Ok(())
    }

    /// `criu check` over RPC, its log in `work` (check.log): Ok when CRIU
    /// works with this kernel, else CheckFailed with the log's errors.
    pub fn check(&self, work: BorrowedFd<'_>, work_path: &Path) -> Result<()> {
        let log = work_path.join("check.log");
        let _ = std::fs::remove_file(&log);
        let mut s = self.start(&[work], false)?;
        let req = CriuReq {
            r#type: req_type::CHECK,
            opts: Some(CriuOpts {
                work_dir_fd: Some(work.as_raw_fd()),
                log_file: Some("check.log".into()),
                log_level: Some(2),
                ..CriuOpts::new(work.as_raw_fd())
            }),
            ..Default::default()
        };
        let reason = match s.call(&req, None, &mut |_| Ok(())) {
            Ok(_) => return Ok(()),
            Err(CriuError::Failed { .. }) => log_errors(&log).unwrap_or_default(),
            Err(CriuError::Exited { stderr, .. }) => stderr,
            Err(e) => return Err(e),
        };
        let _ = std::fs::remove_file(&log);
        Err(CriuError::CheckFailed {
            bin: self.bin.display().to_string(),
            reason: if reason.is_empty() {
                "it gave no reason".into()
            } else {
                reason
            },
        })
    }
}

/// A running `criu swrk`.
pub struct Session {
    child: Child,
    sock: OwnedFd,
    bin: PathBuf,
}

impl Session {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits pid_t")
    }

    /// Sends `req` and serves CRIU's notifications with `on_notify` (an
    /// Err is acknowledged as a failure, and ends the call with it) until
    /// the answer to `req`. `log` is named in a failure.
    pub fn call(
        &mut self,
        req: &CriuReq,
        log: Option<&Path>,
        on_notify: &mut dyn FnMut(Notification) -> crate::error::Result<()>,
    ) -> Result<CriuResp> {
        self.send(req)?;
        loop {
            let (data, fd) = crate::channel::recv_with_fd(self.sock.as_fd())?;
            if data.is_empty() {
                return Err(self.exited());
            }
            let resp = CriuResp::decode(data.as_slice())?;
            if !resp.success {
                return Err(CriuError::Failed {
                    kind: resp.r#type,
                    errno: resp.cr_errno.unwrap_or(0),
                    msg: resp.cr_errmsg.filter(|m| !m.is_empty()),
                    log: log.map(Path::to_path_buf),
                });
            }
            if resp.r#type == req_type::NOTIFY {
                let n = resp.notify.clone().unwrap_or_default();
                let script = n.script.unwrap_or_default();
                crate::logging::debug(&format!("criu notification: {script}"));
                let verdict = on_notify(Notification {
                    script: script.clone(),
                    pid: n.pid.unwrap_or(0),
                    fd,
                });
                self.send(&CriuReq {
                    r#type: req_type::NOTIFY,
                    notify_success: Some(verdict.is_ok()),
                    ..Default::default()
                })?;
                if let Err(e) = verdict {
                    return Err(CriuError::Notify {
                        script,
                        source: Box::new(e),
                    });
                }
                continue;
            }
            if resp.r#type != req.r#type {
                return Err(CriuError::Unexpected {
                    got: resp.r#type,
                    want: req.r#type,
                });
            }
            return Ok(resp);
        }
    }

    fn send(&self, req: &CriuReq) -> Result<()> {
        use nix::sys::socket::{send, MsgFlags};
        let bytes = req.encode_to_vec();
        send(self.sock.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL)
            .map_err(std::io::Error::from)?;
        Ok(())
    }

    /// The error for a swrk that closed the socket: its exit status and
    /// what it printed on stderr (when remora kept it).
    fn exited(&mut self) -> CriuError {
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let status = match self.child.wait() {
            Ok(s) => s.to_string(),
            Err(e) => e.to_string(),
        };
        CriuError::Exited {
            status: format!("{}: {status}", self.bin.display()),
            stderr: stderr.trim().replace('\n', "; "),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // No keep_open: swrk exits once it answered (or on EOF).
        let _ = nix::sys::socket::shutdown(self.sock.as_raw_fd(), nix::sys::socket::Shutdown::Both);
        let _ = self.child.wait();
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The lines of a CRIU log that say what failed ("Error (file:line): ..."),
/// the last few, joined.
pub fn log_errors(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let errs: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Error (") || l.starts_with("Error"))
        .collect();
    let tail = &errs[errs.len().saturating_sub(4)..];
    (!tail.is_empty()).then(|| tail.iter().map(|l| l.trim()).collect::<Vec<_>>().join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_criu_is_named() {
        let e = Criu::locate(Some("/nonexistent/criu")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--criu /nonexistent/criu: no such executable"
        );
        let e = Criu::locate(Some("no-such-criu-binary")).unwrap_err();
        assert!(e.to_string().starts_with("criu not found in PATH"), "{e}");
    }

    #[test]
    fn log_errors_are_the_last_error_lines() {
        let d = std::env::temp_dir().join(format!("remora-criu-log-{}", std::process::id()));
        std::fs::write(
            &d,
            "(00.001) info\n(00.002) Error (criu/vdso.c:613): vdso: Failed\n(00.003) Error (criu/kerndat.c:1615): kerndat failed\n",
        )
        .unwrap();
        assert_eq!(
            log_errors(&d).unwrap(),
            "(00.002) Error (criu/vdso.c:613): vdso: Failed; (00.003) Error (criu/kerndat.c:1615): kerndat failed"
        );
        std::fs::remove_file(&d).unwrap();
    }
}
