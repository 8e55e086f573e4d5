//! The conversation between `remora` (the parent) and the process it
//! clones (the container's init for create, the joining process for
//! exec): the messages, their order, and the parent's one loop over them.
//! The transport is [`crate::channel`] (one JSON message per
//! SOCK_SEQPACKET datagram, an fd attached to some).
//!
//! # create
//!
//! ```text
//! parent                                 init
//! clone3 (namespaces, cgroup2)  ───────► joins its v1 cgroups
//! saves the state (the init's PID)
//! Continue                      ───────► (waits for it)
//!                                        [new user namespace]
//!                               ◄─────── IdMapRequest (dumpable
//!                                        until IdMapsWritten)
//! writes uid_map, gid_map
//! (newuidmap/newgidmap rootless)
//! IdMapsWritten                 ───────►
//!                                        [pid or time namespace the clone
//!                                         did not make: forks the init]
//!                               ◄─────── InitPid(host PID), from the forker
//!                                        [prestart/createRuntime hooks,
//!                                         linux.netDevices]
//!                               ◄─────── CreateRuntimeHooks
//! moves the devices, runs the hooks
//! HooksDone                     ───────►
//!                                        mounts, pivot_root, ...
//!                               ◄─────── ConsoleMaster + fd  [terminal]
//!                               ◄─────── SeccompListener + fd [NOTIFY]
//!                               ◄─────── InitPhases   [trace on]
//!                               ◄─────── Ready
//! saves the state; create returns        waits for `start` on the exec fifo
//! ```
//!
//! # exec
//!
//! ```text
//! parent                                 process
//! clone3 (into the cgroup)      ───────► joins its v1 cgroups, the
//!                                        namespaces; [pid namespace:
//!                                        forks the process]
//!                               ◄─────── InitPid(host PID), from the forker
//!                               ◄─────── ConsoleMaster + fd  [terminal]
//!                               ◄─────── SeccompListener + fd [NOTIFY]
//!                               ◄─────── InitPhases   [trace on]
//!                               ◄─────── Ready
//! pid file, --pidfd-socket
//! Continue                      ───────►
//!                               ◄─────── end of file (execve: the end is
//!                                        close-on-exec), or Error
//! ```
//!
//! The forker's `InitPid` comes from another process than the rest: it
//! may arrive after any later message of the init's. The loop
//! ([`converse`]) keeps what needs the PID (`CreateRuntimeHooks`,
//! `SeccompListener`, `Ready`) until it has it. Either side may send
//! `Error` instead of what it owes; the init's end of file before
//! `Ready` is its death.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::error::{chain, Error, Result};
use crate::lifecycle::watch::{InitWatch, TICK};
use crate::trace::Phases;

/// Parent → init and init → parent messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Parent: the init's PID is recorded; go on (create), or everything
    /// is in place; exec (exec).
    Continue,
    /// Init: I am in my new user namespace; write my id maps.
    IdMapRequest,
    /// Parent: the id maps are written.
    IdMapsWritten,
    /// Intermediate process: the init (forked into the new pid/time
    /// namespace) has this host PID.
    InitPid(i32),
    /// Init: namespaces exist; run the prestart/createRuntime hooks.
    CreateRuntimeHooks,
    /// Parent: hooks done.
    HooksDone,
    /// Init: the pty master of process.terminal (the fd is attached).
    ConsoleMaster,
    /// Init: the seccomp NOTIFY listener (the fd is attached).
    SeccompListener,
    /// Init (with the phase trace on, just before `Ready`): how long each
    /// of its steps took, (name, µs).
    InitPhases(Phases),
    /// Init: everything is set up; waiting for `start` (create) or the
    /// parent's `Continue` (exec).
    Ready,
    /// Either side: this failed; the message says what.
    Error(String),
}

/// A failed exchange, on either side.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("sync: sending {0}")]
    Send(&'static str, #[source] io::Error),
    #[error("sync: receiving")]
    Receive(#[source] io::Error),
    /// The init's side: the parent failed and said why (it reports that
    /// itself; the init does not echo it).
    #[error("sync: the runtime failed: {0}")]
    RuntimeFailed(String),
    #[error("sync: expected {want}, got {got:?}")]
    Unexpected { want: &'static str, got: Message },
    #[error("sync: channel closed while waiting for {0}")]
    Closed(&'static str),
    /// The parent's side: the init (or exec'd process) is gone.
    #[error("{0} exited before it was ready")]
    Exited(&'static str),
    /// A message that carries an fd came without one.
    #[error("{0}: no fd received")]
    NoFd(&'static str),
}

impl Message {
    /// The message's name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Continue => "Continue",
            Message::IdMapRequest => "IdMapRequest",
            Message::IdMapsWritten => "IdMapsWritten",
            Message::InitPid(_) => "InitPid",
            Message::CreateRuntimeHooks => "CreateRuntimeHooks",
            Message::HooksDone => "HooksDone",
            Message::ConsoleMaster => "ConsoleMaster",
            Message::SeccompListener => "SeccompListener",
            Message::InitPhases(_) => "InitPhases",
            Message::Ready => "Ready",
            Message::Error(_) => "Error",
        }
    }
}

/// Sends `msg`.
pub fn send(ch: &Channel, msg: &Message) -> std::result::Result<(), ProtocolError> {
    ch.send(msg).map_err(|e| ProtocolError::Send(msg.name(), e))
}

/// Sends `msg` with `fd` attached.
pub fn send_fd(
    ch: &Channel,
    msg: &Message,
    fd: BorrowedFd<'_>,
) -> std::result::Result<(), ProtocolError> {
    ch.send_fd(msg, fd)
        .map_err(|e| ProtocolError::Send(msg.name(), e))
}

/// Waits for `want`; an Error message or EOF becomes an error.
pub fn expect(ch: &Channel, want: &Message) -> std::result::Result<(), ProtocolError> {
    match ch.recv() {
        Ok(Some(m)) if &m == want => Ok(()),
        Ok(Some(Message::Error(e))) => Err(ProtocolError::RuntimeFailed(e)),
        Ok(Some(got)) => Err(ProtocolError::Unexpected {
            want: want.name(),
            got,
        }),
        Ok(None) => Err(ProtocolError::Closed(want.name())),
        Err(e) => Err(ProtocolError::Receive(e)),
    }
}

/// What the parent keeps from the conversation, whether it ends well or
/// not: what to kill, and the terminal to relay.
#[derive(Default)]
pub struct Kept {
    /// The process's host PID, once its forker reported it.
    pub pid: Option<i32>,
    /// The pty master, when no console socket took it.
    pub master: Option<OwnedFd>,
}

/// What the parent does at the init's requests: create and exec each
/// answer the ones their init sends; the others are unexpected.
pub trait Requests {
    /// Where the answers keep the PID and the pty master.
    fn kept(&mut self) -> &mut Kept;
    /// --console-socket, where the pty master goes.
    fn console_socket(&self) -> Option<&Path>;
    /// The init's host PID, as its forker reported it.
    fn init_pid(&mut self, pid: i32) {
        self.kept().pid = Some(pid);
    }
    /// `IdMapRequest`: write the init's uid_map and gid_map.
    fn write_id_maps(&mut self) -> Result<()> {
        Err(unexpected(Message::IdMapRequest))
    }
    /// `CreateRuntimeHooks`: linux.netDevices and the hooks.
    fn create_runtime(&mut self, _pid: i32) -> Result<()> {
        Err(unexpected(Message::CreateRuntimeHooks))
    }
    /// `ConsoleMaster`: the pty master, to the console socket or kept.
    fn console_master(&mut self, fd: Option<OwnedFd>) -> Result<()> {
        let master = crate::terminal::relay_master(fd, self.console_socket())?;
        let kept = self.kept();
        kept.master = master.or(kept.master.take());
        Ok(())
    }
    /// `SeccompListener`: to linux.seccomp.listenerPath.
    fn seccomp_listener(&mut self, pid: i32, fd: Option<OwnedFd>) -> Result<()>;
}

fn unexpected(got: Message) -> Error {
    ProtocolError::Unexpected {
        want: "a request of this init",
        got,
    }
    .into()
}

/// What the init reported by `Ready`.
pub struct Reported {
    /// The init's host PID.
    pub pid: i32,
    /// Its own phase trace (empty with the trace off).
    pub phases: Phases,
}

/// The parent's side from its first message received to `Ready`.
/// `pid` is the init's PID when the clone made it, None when its forker
/// reports it; `who` names the process in the error for its death.
pub fn converse(
    ch: &Channel,
    watch: &mut InitWatch,
    mut pid: Option<i32>,
    who: &'static str,
    requests: &mut dyn Requests,
) -> Result<Reported> {
    let mut phases = Phases::new();
    let mut ready = false;
    // Requests that need the PID, held until the forker reports it.
    let mut held: Vec<(Message, Option<OwnedFd>)> = Vec::new();
    loop {
        wait_readable(ch, watch)?;
        let Some((msg, fd)) = ch.recv_fd().map_err(ProtocolError::Receive)? else {
            return Err(ProtocolError::Exited(who).into());
        };
        match (msg, pid) {
            (Message::InitPid(p), _) => {
                pid = Some(p);
                watch.set_pid(p);
                requests.init_pid(p);
                for (m, fd) in held.drain(..) {
                    answer(ch, requests, p, m, fd)?;
                }
            }
            (Message::Ready, _) => ready = true,
            (Message::InitPhases(p), _) => phases = p,
            (Message::Error(e), _) => return Err(Error::Init(e)),
            (m @ (Message::CreateRuntimeHooks | Message::SeccompListener), None) => {
                held.push((m, fd))
            }
            (m, p) => answer(ch, requests, p.unwrap_or(0), m, fd)?,
        }
        if let (true, Some(pid)) = (ready, pid) {
            return Ok(Reported { pid, phases });
        }
    }
}

/// One request answered; a failure is also told to the init, which
/// stops (its own report of it is not echoed: ours is the one).
fn answer(
    ch: &Channel,
    requests: &mut dyn Requests,
    pid: i32,
    msg: Message,
    fd: Option<OwnedFd>,
) -> Result<()> {
    let r = match msg {
        Message::IdMapRequest => requests
            .write_id_maps()
            .and_then(|()| Ok(send(ch, &Message::IdMapsWritten)?)),
        Message::CreateRuntimeHooks => requests
            .create_runtime(pid)
            .and_then(|()| Ok(send(ch, &Message::HooksDone)?)),
        Message::ConsoleMaster => requests.console_master(fd),
        Message::SeccompListener => requests.seccomp_listener(pid, fd),
        got => Err(unexpected(got)),
    };
    if let Err(e) = &r {
        let _ = ch.send(&Message::Error(chain(e)));
    }
    r
}

/// exec, after `Ready` and the parent's own steps: lets the process
/// exec and waits until it has (the end of file of its close-on-exec
/// end) or says why it could not.
pub fn release_exec(ch: &Channel, watch: &mut InitWatch) -> Result<()> {
    send(ch, &Message::Continue)?;
    wait_readable(ch, watch)?;
    match ch.recv() {
        Ok(Some(Message::Error(e))) => Err(Error::Init(e)),
        _ => Ok(()),
    }
}

/// Waits until the init says something (or exits), watching it: a
/// frozen cgroup or an init stuck in uninterruptible sleep is an error
/// (with exec --ignore-paused, a frozen container is waited out).
fn wait_readable(ch: &Channel, watch: &mut InitWatch) -> Result<()> {
    while !ch.readable(TICK).map_err(ProtocolError::Receive)? {
        watch.check()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_reports_what_came() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&Message::Error("boom".into())).unwrap();
        a.send(&Message::Ready).unwrap();
        let e = expect(&b, &Message::Continue).unwrap_err();
        assert_eq!(e.to_string(), "sync: the runtime failed: boom");
        let e = expect(&b, &Message::Continue).unwrap_err();
        assert_eq!(e.to_string(), "sync: expected Continue, got Ready");
        drop(a);
        let e = expect(&b, &Message::Continue).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sync: channel closed while waiting for Continue"
        );
    }

    struct Log(Vec<String>, Kept);
    impl Requests for Log {
        fn kept(&mut self) -> &mut Kept {
            &mut self.1
        }
        fn console_socket(&self) -> Option<&Path> {
            None
        }
        fn init_pid(&mut self, pid: i32) {
            self.0.push(format!("pid {pid}"));
        }
        fn create_runtime(&mut self, pid: i32) -> Result<()> {
            self.0.push(format!("hooks {pid}"));
            Ok(())
        }
        fn seccomp_listener(&mut self, _: i32, _: Option<OwnedFd>) -> Result<()> {
            Ok(())
        }
    }

    /// The init's messages may overtake its forker's PID: the hooks
    /// wait for it, and Ready is the end only once it came.
    #[test]
    fn held_until_the_pid_comes() {
        let (parent, init) = Channel::pair().unwrap();
        init.send(&Message::CreateRuntimeHooks).unwrap();
        init.send(&Message::Ready).unwrap();
        init.send(&Message::InitPid(42)).unwrap();
        let mut watch = InitWatch::new(nix::unistd::getpid().as_raw(), None);
        let mut log = Log(Vec::new(), Kept::default());
        let r = converse(&parent, &mut watch, None, "init", &mut log).unwrap();
        assert_eq!(r.pid, 42);
        assert_eq!(log.0, ["pid 42", "hooks 42"]);
        assert_eq!(init.recv().unwrap(), Some(Message::HooksDone));
    }

    #[test]
    fn unexpected_request_is_told_to_the_init() {
        let (parent, init) = Channel::pair().unwrap();
        init.send(&Message::IdMapRequest).unwrap();
        let mut watch = InitWatch::new(nix::unistd::getpid().as_raw(), None);
        let mut log = Log(Vec::new(), Kept::default());
        let mut talk = || converse(&parent, &mut watch, Some(1), "init", &mut log);
        let e = talk().err().unwrap();
        assert!(e.to_string().contains("got IdMapRequest"), "{e}");
        assert!(matches!(init.recv().unwrap(), Some(Message::Error(_))));
        drop(init);
        let e = talk().err().unwrap();
        assert_eq!(e.to_string(), "init exited before it was ready");
    }
}
