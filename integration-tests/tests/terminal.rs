//! Terminals and stdio: what the caller's fds become in the container.
//! - process.terminal with --console-socket (create, run -d, exec): the pty
//!   master arrives over SCM_RIGHTS at a receiver in the test, which reads
//!   and writes through it; /dev/console is the pty.
//! - terminal without a console socket in the foreground (CRI-O streaming
//!   exec, `run -t`): the runtime allocates and proxies the pty, passing
//!   window-size changes through.
//! - no terminal: the container's fds 0-2 are the caller's own pipes;
//!   LISTEN_FDS forwarded; --pidfd-socket; NOTIFY_SOCKET relayed.
//! - run: --keep; bad console sockets leave nothing behind.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use remora_integration_tests::{remora_bin, skip, state, Bundle, TestEnv};
use serde_json::json;

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where a receiver thread hands over the fd (and payload) it got.
type FdReceiver = mpsc::Receiver<Option<(OwnedFd, Vec<u8>)>>;

/// Receives one fd sent with SCM_RIGHTS on a connection accepted from
/// `listener`, within 10 s; None if nobody sent one.
fn spawn_fd_receiver(listener: UnixListener) -> FdReceiver {
    let (tx, rx) = mpsc::channel();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break Some(s),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => break None,
            }
        };
        let _ = tx.send(stream.and_then(|s| {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            recv_fd(s.as_raw_fd())
        }));
    });
    rx
}

/// recvmsg(2) of one SCM_RIGHTS fd and the payload beside it.
fn recv_fd(sock: RawFd) -> Option<(OwnedFd, Vec<u8>)> {
    let mut buf = [0u8; 4096];
    let mut cmsg = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid; we then point it at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg);
    // SAFETY: msg points at buffers that outlive the call.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return None;
    }
    // SAFETY: msg was filled by recvmsg; CMSG_* walk its control buffer.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_level != libc::SOL_SOCKET || (*c).cmsg_type != libc::SCM_RIGHTS
        {
            return None;
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
        Some((OwnedFd::from_raw_fd(fd), buf[..n.unsigned_abs()].to_vec()))
    }
}

fn console_socket(env: &TestEnv, name: &str) -> (PathBuf, FdReceiver) {
    let path = env.base.join(name);
    let l = UnixListener::bind(&path).unwrap();
    (path, spawn_fd_receiver(l))
}

fn received(rx: &FdReceiver) -> OwnedFd {
    rx.recv_timeout(Duration::from_secs(15))
        .expect("receiver thread")
        .expect("no fd arrived on the console socket")
        .0
}

/// Reads from `fd` until the text (\r removed) contains `needle`.
fn read_until(fd: &OwnedFd, seen: &mut String, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.replace('\r', "").contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting for {needle:?}; got {seen:?}"
        );
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r <= 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: reading into a local buffer of the given size.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n > 0, "pty closed before {needle:?}; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n.unsigned_abs()]));
    }
}

fn write_all(fd: &OwnedFd, data: &str) {
    // SAFETY: writing from a live buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    assert_eq!(usize::try_from(n).ok(), Some(data.len()));
}

fn is_pty_master(fd: &OwnedFd) -> bool {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGPTN, &mut n) == 0 }
}

fn set_winsize(fd: RawFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize.
    assert_eq!(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) }, 0);
}

/// A pty pair (master, slave) of the given size.
fn openpty(rows: u16, cols: u16) -> (OwnedFd, OwnedFd) {
    let (mut m, mut s) = (-1, -1);
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two fds; name and termios may be null.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
    assert_eq!(r, 0);
    // SAFETY: fresh fds we own.
    unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
}

fn terminal_bundle(env: &TestEnv, name: &str, script: &str) -> Bundle {
    let mut b = env.bundle(name);
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["consoleSize"] = json!({"height": 30, "width": 100});
    b.sh(script);
    b
}

const TTY_SCRIPT: &str = "tty; stty size; \
    if [ ! -e /dev/console ]; then echo no-console; \
    elif [ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -L -c %t:%T $(tty))\" ]; then echo console-is-tty; else echo console-differs; fi; \
    echo ask; read l; echo got:$l";

/// tty, size, /dev/console being the pty, input and output through the
/// master.
/// `console`: what the script says of /dev/console (None: not checked; an
/// exec'd process of a container without a terminal has no console).
fn check_tty_session(master: &OwnedFd, rows_cols: &str, console: Option<&str>) {
    let mut seen = String::new();
    read_until(master, &mut seen, "ask\n");
    let text = seen.replace('\r', "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..2], ["/dev/pts/0", rows_cols], "{text}");
    if let Some(c) = console {
        assert_eq!(lines[2], c, "{text}");
    }
    write_all(master, "hello\n");
    read_until(master, &mut seen, "got:hello");
}

#[test]
fn create_sends_the_pty_master_to_the_console_socket() {
    let env = TestEnv::new("ttycreate");
    let b = terminal_bundle(&env, "b", TTY_SCRIPT);
    let (sock, rx) = console_socket(&env, "console.sock");
    let id = env.id("c");
    b.save();
    env.remora_detached(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "-b",
        b.path(),
        &id,
    ])
    .ok();
    let master = received(&rx);
    assert!(
        is_pty_master(&master),
        "the fd received is not a pty master"
    );
    env.remora(&["start", &id]).ok();
    check_tty_session(&master, "30 100", Some("console-is-tty"));
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    env.remora(&["delete", &id]).ok();
}

/// `run -d --console-socket S -b B ID`: the pty master sent to S.
fn run_detached_with_console(env: &TestEnv, b: &Bundle, id: &str) -> OwnedFd {
    let (sock, rx) = console_socket(env, &format!("{id}.sock"));
    b.save();
    env.remora_detached(&[
        "run",
        "-d",
        "--console-socket",
        sock.to_str().unwrap(),
        "-b",
        b.path(),
        id,
    ])
    .ok();
    received(&rx)
}

#[test]
fn run_detached_sends_the_pty_master_to_the_console_socket() {
    let env = TestEnv::new("ttyrun");
    let b = terminal_bundle(&env, "b", TTY_SCRIPT);
    let id = env.id("c");
    let master = run_detached_with_console(&env, &b, &id);
    check_tty_session(&master, "30 100", Some("console-is-tty"));
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    env.remora(&["delete", &id]).ok();
}

/// containerd's exec: `exec --process P --detach --console-socket S`, with
/// process.terminal and consoleSize; and the -t flag form.
#[test]
fn exec_with_a_terminal_sends_the_pty_master_to_the_console_socket() {
    let env = TestEnv::new("ttyexec");
    let mut b = env.bundle("b");
    b.sh("echo up > /tmp/up; exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    wait_for(|| b.rootfs().join("tmp/up").exists(), "up");
    let p = env.base.join("p.json");
    fs::write(
        &p,
        serde_json::to_vec(&json!({
            "terminal": true,
            "consoleSize": {"height": 12, "width": 34},
            "user": {"uid": 0, "gid": 0},
            "args": ["sh", "-c", TTY_SCRIPT],
            "env": ["PATH=/bin", "TERM=xterm"],
            "cwd": "/"
        }))
        .unwrap(),
    )
    .unwrap();
    let (sock, rx) = console_socket(&env, "c1.sock");
    let pid_file = env.base.join("exec.pid");
    env.remora_detached(&[
        "exec",
        "--process",
        p.to_str().unwrap(),
        "--detach",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
    ])
    .ok();
    let master = received(&rx);
    assert!(is_pty_master(&master));
    check_tty_session(&master, "12 34", None);
    drop(master);

    let (sock, rx) = console_socket(&env, "c2.sock");
    env.remora_detached(&[
        "exec",
        "-t",
        "-d",
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
        "sh",
        "-c",
        "tty; read l; echo got:$l",
    ])
    .ok();
    let master = received(&rx);
    let mut seen = String::new();
    read_until(&master, &mut seen, "/dev/pts/");
    write_all(&master, "again\n");
    read_until(&master, &mut seen, "got:again");
    env.remora(&["delete", "--force", &id]).ok();
}

/// The pty of a process run as uid 1000 is that user's (runc: only the
/// uid changes; the devpts gid stays), on run and on exec.
#[test]
fn the_pty_belongs_to_the_process_user() {
    const OWNER: &str = "echo owner:$(stat -L -c %u:%g /proc/self/fd/0); read l; echo got:$l";
    let env = TestEnv::new("ttyowner");
    let mut b = terminal_bundle(&env, "b", OWNER);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let id = env.id("c");
    let master = run_detached_with_console(&env, &b, &id);
    let mut seen = String::new();
    read_until(&master, &mut seen, "owner:1000:5");
    write_all(&master, "x\n");
    read_until(&master, &mut seen, "got:x");
    wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
    env.remora(&["delete", &id]).ok();

    let id = env.id("e");
    b.config["process"]["terminal"] = json!(false);
    b.sh("exec sleep 1000");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    let (sock, rx) = console_socket(&env, "exec.sock");
    env.remora_detached(&[
        "exec",
        "-t",
        "-d",
        "--user",
        "1000:1000",
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
        "sh",
        "-c",
        OWNER,
    ])
    .ok();
    let master = received(&rx);
    let mut seen = String::new();
    read_until(&master, &mut seen, "owner:1000:5");
    write_all(&master, "y\n");
    read_until(&master, &mut seen, "got:y");
    env.remora(&["delete", "--force", &id]).ok();
}

fn spawn_on_pty(env: &TestEnv, args: &[&str], slave: &OwnedFd) -> Child {
    let mut c = env.command(args);
    c.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    c.spawn().unwrap()
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("remora did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `run` in the foreground with process.terminal and no console socket
/// (`remora run -t`): remora allocates the pty and proxies it to its own
/// stdio (here a pty of the test); window-size changes pass through.
#[test]
fn foreground_run_with_a_terminal_proxies_the_pty_and_window_size() {
    let env = TestEnv::new("ttyfg");
    let b = terminal_bundle(
        &env,
        "b",
        "tty; stty size; read l; echo got:$l; trap 'stty size' WINCH; echo ready; \
         while [ ! -e /tmp/stop ]; do sleep 0.05; done; exit 5",
    );
    b.save();
    let (master, slave) = openpty(40, 120);
    let id = env.id("c");
    let mut child = spawn_on_pty(&env, &["run", "-b", b.path(), &id], &slave);
    drop(slave);
    let mut seen = String::new();
    read_until(&master, &mut seen, "/dev/pts/0\n");
    // The caller's window size wins over consoleSize.
    read_until(&master, &mut seen, "40 120\n");
    write_all(&master, "hello\n");
    read_until(&master, &mut seen, "got:hello");
    read_until(&master, &mut seen, "ready");
    set_winsize(master.as_raw_fd(), 50, 132);
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGWINCH) };
    read_until(&master, &mut seen, "50 132");
    fs::write(b.rootfs().join("tmp/stop"), "").unwrap();
    assert_eq!(wait_exit(&mut child), Some(5), "{seen}");
    env.remora(&["state", &id])
        .fails_with("container does not exist");
}

/// CRI-O's streaming exec: foreground, process.terminal, no console
/// socket; the exit status is the process's.
#[test]
fn foreground_exec_with_a_terminal_proxies_the_pty() {
    let env = TestEnv::new("ttyfgexec");
    let mut b = env.bundle("b");
    b.sh("echo up > /tmp/up; exec sleep 1000");
    let id = env.id("c");
    b.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    wait_for(|| b.rootfs().join("tmp/up").exists(), "up");
    let p = env.base.join("p.json");
    fs::write(
        &p,
        serde_json::to_vec(&json!({
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh", "-c", "tty; stty size; read l; echo got:$l; exit 3"],
            "env": ["PATH=/bin"],
            "cwd": "/"
        }))
        .unwrap(),
    )
    .unwrap();
    let (master, slave) = openpty(25, 81);
    let mut child = spawn_on_pty(
        &env,
        &["exec", "--process", p.to_str().unwrap(), &id],
        &slave,
    );
    drop(slave);
    let mut seen = String::new();
    read_until(&master, &mut seen, "/dev/pts/");
    read_until(&master, &mut seen, "25 81\n");
    write_all(&master, "streamed\n");
    read_until(&master, &mut seen, "got:streamed");
    assert_eq!(wait_exit(&mut child), Some(3), "{seen}");
    env.remora(&["delete", "--force", &id]).ok();
}

/// Without a terminal, the container's fds 0-2 are the caller's pipes
/// (conmon and the containerd shim hand pipes).
#[test]
fn stdio_is_passed_through_without_a_terminal() {
    let env = TestEnv::new("stdio");
    let mut b = env.bundle("b");
    b.sh("read l; echo out:$l; echo err:$l >&2; exec sleep 1000");
    b.save();
    let id = env.id("c");
    let mut child = env
        .command(&["create", "-b", b.path(), &id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let st = wait_exit(&mut child);
    assert_eq!(st, Some(0), "create failed");
    let init = state(&env, &id)["pid"].as_i64().unwrap();
    let link = |p: String| fs::read_link(p).unwrap();
    assert_eq!(
        link(format!("/proc/{init}/fd/0")),
        link(format!("/proc/self/fd/{}", stdin.as_raw_fd()))
    );
    assert_eq!(
        link(format!("/proc/{init}/fd/1")),
        link(format!("/proc/self/fd/{}", stdout.as_raw_fd()))
    );
    assert_eq!(
        link(format!("/proc/{init}/fd/2")),
        link(format!("/proc/self/fd/{}", stderr.as_raw_fd()))
    );
    env.remora(&["start", &id]).ok();
    stdin.write_all(b"piped\n").unwrap();
    drop(stdin);
    let mut line = [0u8; 10];
    stdout.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"out:piped\n");
    let mut line = [0u8; 10];
    stderr.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"err:piped\n");
    env.remora(&["delete", "--force", &id]).ok();
}

/// Socket activation: LISTEN_FDS fds pass through with LISTEN_FDS and
/// LISTEN_PID=1 in the container's env, on top of --preserve-fds.
#[test]
fn listen_fds_are_forwarded() {
    let env = TestEnv::new("listenfds");
    let mut b = env.bundle("b");
    b.sh("echo $LISTEN_FDS $LISTEN_PID; cat <&3; cat <&4; ls /proc/self/fd/5 >/dev/null 2>&1 && echo fd5-leaked; true");
    b.save();
    let f3 = env.base.join("f3");
    let f4 = env.base.join("f4");
    fs::write(&f3, "three\n").unwrap();
    fs::write(&f4, "four\n").unwrap();
    let (a, c, d) = (
        fs::File::open(&f3).unwrap(),
        fs::File::open(&f4).unwrap(),
        fs::File::open("/etc/hostname").unwrap(),
    );
    let (a, c, d) = (a.as_raw_fd(), c.as_raw_fd(), d.as_raw_fd());
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$@\"", "sh"])
        .arg(remora_bin())
        .arg("--root")
        .arg(&env.root)
        .args(["run", "--preserve-fds", "1", "-b", b.path(), &env.id("c")])
        .env("LISTEN_FDS", "1")
        .stdin(Stdio::null());
    // SAFETY: dup/dup2 of fds we own, in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            let (x, y, z) = (libc::dup(a), libc::dup(c), libc::dup(d));
            libc::dup2(x, 3);
            libc::dup2(y, 4);
            libc::dup2(z, 5);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1 1\nthree\nfour\n");
}

/// `run --keep`: the stopped container stays until deleted.
#[test]
fn run_keep_leaves_the_stopped_container() {
    let env = TestEnv::new("keep");
    let mut b = env.bundle("b");
    b.sh("exit 4");
    b.save();
    let id = env.id("c");
    let r = env.remora(&["run", "--keep", "-b", b.path(), &id]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let st = state(&env, &id);
    assert_eq!(st["status"], "stopped");
    env.remora(&["delete", &id]).ok();
}

/// --pidfd-socket: the caller gets a pidfd of the init (create) and of the
/// exec'd process, and can signal through it. runc 1.1.5 FAILS this (the
/// flag came in runc 1.2).
#[test]
fn pidfd_socket_receives_pidfds() {
    let env = TestEnv::new("pidfd");
    let mut b = env.bundle("b");
    b.sh("echo up > /tmp/up; exec sleep 1000");
    b.save();
    let (sock, rx) = console_socket(&env, "pidfd.sock");
    let id = env.id("c");
    env.remora_detached(&[
        "create",
        "--pidfd-socket",
        sock.to_str().unwrap(),
        "-b",
        b.path(),
        &id,
    ])
    .ok();
    let pidfd = received(&rx);
    let init = state(&env, &id)["pid"].as_i64().unwrap();
    let pid_of = |fd: &OwnedFd| {
        fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Pid:").map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    assert_eq!(pid_of(&pidfd), init.to_string(), "a pidfd of the init");
    env.remora(&["start", &id]).ok();
    wait_for(|| b.rootfs().join("tmp/up").exists(), "up");

    let (sock, rx) = console_socket(&env, "pidfd2.sock");
    let pid_file = env.base.join("e.pid");
    env.remora_detached(&[
        "exec",
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--pidfd-socket",
        sock.to_str().unwrap(),
        &id,
        "sleep",
        "1000",
    ])
    .ok();
    let epidfd = received(&rx);
    assert_eq!(pid_of(&epidfd), fs::read_to_string(&pid_file).unwrap());

    // SAFETY: pidfd_send_signal on a pidfd we own.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            0usize,
            0u32,
        )
    };
    assert_eq!(r, 0);
    wait_for(
        || state(&env, &id)["status"] == "stopped",
        "killed through the pidfd",
    );
    env.remora(&["delete", &id]).ok();
}

/// sd_notify from inside is relayed to the caller's NOTIFY_SOCKET. The
/// sender inside is this test binary itself (with its libraries), run as
/// the ignored `notify_helper` test.
#[test]
fn notify_socket_ready_is_relayed() {
    let env = TestEnv::new("notify");
    let mut b = env.bundle("b");
    install_self(&b.rootfs());
    b.config["process"]["env"] = json!(["PATH=/bin", "REMORA_TEST_NOTIFY_HELPER=1"]);
    b.config["process"]["args"] = json!([
        "/helper",
        "--ignored",
        "--exact",
        "notify_helper",
        "--test-threads=1",
        "-q"
    ]);
    b.save();
    let host_sock = env.base.join("notify.sock");
    let listener = UnixDatagram::bind(&host_sock).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let out = env
        .command(&["run", "-b", b.path(), &env.id("c")])
        .env("NOTIFY_SOCKET", &host_sock)
        .output()
        .unwrap();
    let mut buf = [0u8; 4096];
    let got = listener
        .recv(&mut buf)
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let got = got.expect("nothing arrived on NOTIFY_SOCKET");
    assert!(got.lines().any(|l| l == "READY=1"), "{got:?}");
}

/// Not a test: the sd_notify sender run inside the container by
/// notify_socket_ready_is_relayed.
#[test]
#[ignore]
fn notify_helper() {
    if std::env::var_os("REMORA_TEST_NOTIFY_HELPER").is_none() {
        skip(
            "notify_helper",
            "a helper, run inside the container of notify_socket_ready_is_relayed",
        );
        return;
    }
    let path = std::env::var("NOTIFY_SOCKET").expect("NOTIFY_SOCKET inside the container");
    let s = UnixDatagram::unbound().unwrap();
    s.send_to(b"READY=1", &path)
        .unwrap_or_else(|e| panic!("sending to NOTIFY_SOCKET={path}: {e}"));
}

/// Copies this test binary to /helper in `rootfs`, with the shared
/// libraries it needs at their paths.
fn install_self(rootfs: &Path) {
    let me = std::env::current_exe().unwrap();
    fs::copy(&me, rootfs.join("helper")).unwrap();
    let ldd = Command::new("ldd").arg(&me).output().unwrap();
    for l in String::from_utf8_lossy(&ldd.stdout).lines() {
        let path = l
            .split_whitespace()
            .find(|w| w.starts_with('/'))
            .map(PathBuf::from);
        if let Some(p) = path {
            let dst = rootfs.join(p.strip_prefix("/").unwrap());
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::copy(&p, &dst).unwrap();
        }
    }
}

/// Bad console sockets: terminal without one, one without terminal, one
/// nobody listens on. Clear error, nothing left (TestEnv's drop checks).
#[test]
fn bad_console_sockets_fail_cleanly() {
    let env = TestEnv::new("badconsole");
    let b = terminal_bundle(&env, "t", "true");
    b.save();
    let r = env.remora_detached(&["create", "-b", b.path(), &env.id("nosock")]);
    assert_eq!(r.code, 1, "terminal without a console socket: {}", r.stderr);
    assert!(
        r.stderr.contains("console socket") || r.stderr.contains("console-socket"),
        "{}",
        r.stderr
    );

    let (sock, _rx) = console_socket(&env, "ok.sock");
    let mut nt = env.bundle("nt");
    nt.sh("true");
    nt.save();
    let r = env.remora_detached(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "-b",
        nt.path(),
        &env.id("noterm"),
    ]);
    assert_eq!(r.code, 1, "console socket without terminal: {}", r.stderr);
    assert!(r.stderr.contains("console"), "{}", r.stderr);

    // A path nobody listens on: a missing file, and a socket file whose
    // listener is gone.
    let missing = env.base.join("missing.sock");
    let dead = env.base.join("dead.sock");
    drop(UnixListener::bind(&dead).unwrap());
    for (n, p) in [("missing", &missing), ("dead", &dead)] {
        let id = env.id(n);
        let r = env.remora_detached(&[
            "create",
            "--console-socket",
            p.to_str().unwrap(),
            "-b",
            b.path(),
            &id,
        ]);
        assert_eq!(r.code, 1, "{n}: {}", r.stderr);
        assert!(
            r.stderr.contains(p.to_str().unwrap()) || r.stderr.contains("console"),
            "{n}: {}",
            r.stderr
        );
        env.remora(&["state", &id])
            .fails_with("container does not exist");
    }

    // exec -t with a dead console socket: 255, no process joins.
    let mut s = env.bundle("s");
    s.sh("echo up > /tmp/up; exec sleep 1000");
    let id = env.id("running");
    s.create(&env, &id).ok();
    env.remora(&["start", &id]).ok();
    wait_for(|| s.rootfs().join("tmp/up").exists(), "up");
    let r = env.remora(&[
        "exec",
        "-t",
        "-d",
        "--console-socket",
        dead.to_str().unwrap(),
        &id,
        "sh",
        "-c",
        "touch /tmp/ran",
    ]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !s.rootfs().join("tmp/ran").exists(),
        "the exec'd process ran"
    );
    let ps = env.remora(&["ps", "--format", "json", &id]);
    let pids: Vec<i64> = serde_json::from_str(ps.ok()).unwrap();
    assert_eq!(pids.len(), 1, "a half-joined process is left: {pids:?}");
    env.remora(&["delete", "--force", &id]).ok();
}

/// docs/security.md, "/dev/console race" (CVE-2025-52565 family): a rootfs whose /dev/console
/// is a symlink (no tmpfs over /dev) must never get the pty bound onto the
/// symlink's target. Refusing the rootfs is fine; binding at /dev/console
/// itself is fine. runc 1.1.5 FAILS this (it predates the fix: the pty
/// lands on /etc/target).
#[test]
fn dev_console_symlink_is_not_followed() {
    let env = TestEnv::new("consolelink");
    let mut b = terminal_bundle(
        &env,
        "b",
        "stat -c %F /etc/target; if [ -f /etc/target ]; then cat /etc/target; fi; \
         if [ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -L -c %t:%T $(tty))\" ]; then echo console-is-tty; fi; echo end",
    );
    let mounts: Vec<serde_json::Value> = b.config["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["destination"] != "/dev")
        .cloned()
        .collect();
    b.config["mounts"] = json!(mounts);
    fs::write(b.rootfs().join("etc/target"), "untouched\n").unwrap();
    std::os::unix::fs::symlink("/etc/target", b.rootfs().join("dev/console")).unwrap();
    b.save();
    let (sock, rx) = console_socket(&env, "console.sock");
    let id = env.id("c");
    let r = env.remora_detached(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "-b",
        b.path(),
        &id,
    ]);
    if r.code == 0 {
        let master = received(&rx);
        env.remora(&["start", &id]).ok();
        let mut seen = String::new();
        read_until(&master, &mut seen, "end");
        let text = seen.replace('\r', "");
        assert!(
            text.starts_with("regular file\nuntouched\nconsole-is-tty\n"),
            "the pty went through the symlink: {text}"
        );
        wait_for(|| state(&env, &id)["status"] == "stopped", "stopped");
        env.remora(&["delete", &id]).ok();
    } else {
        assert_eq!(r.code, 1, "{}", r.stderr);
        env.remora(&["state", &id])
            .fails_with("container does not exist");
    }
    let meta = fs::symlink_metadata(b.rootfs().join("etc/target")).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(
        fs::read_to_string(b.rootfs().join("etc/target")).unwrap(),
        "untouched\n"
    );
}
