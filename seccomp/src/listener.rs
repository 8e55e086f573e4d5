//! Hands the seccomp listener fd to the agent at `listenerPath`, the way
//! runc does: one message on a unix stream socket carrying the container
//! process state JSON, with the fd attached as SCM_RIGHTS. Also the agent's
//! side: receiving that message, reading notifications and answering them.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::error::{Result, SeccompError};

/// Sends `fd` with `state_json` to the agent listening on `listener_path`.
pub fn send_listener(listener_path: &Path, fd: BorrowedFd<'_>, state_json: &[u8]) -> Result<()> {
    let err = |source| SeccompError::Listener {
        path: listener_path.to_path_buf(),
        source,
    };
    let sock = UnixStream::connect(listener_path).map_err(err)?;
    send_with_fd(&sock, state_json, fd).map_err(err)
}

/// The container process state runc sends (runtime-spec "seccomp
/// listener" format): `fds` names the one fd attached.
pub fn process_state_json(
    oci_version: &str,
    pid: i32,
    metadata: &str,
    state: &serde_json::Value,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "ociVersion": oci_version,
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": metadata,
        "state": state,
    }))
    .expect("a json value serialises")
}

/// The size of one fd in an SCM_RIGHTS message.
const INT_LEN: u32 = 4;
const _: () = assert!(std::mem::size_of::<libc::c_int>() == INT_LEN as usize);

fn send_with_fd(sock: &UnixStream, data: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: CMSG_SPACE is a pure computation on a constant.
    let space = unsafe { libc::CMSG_SPACE(INT_LEN) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points at `space` zeroed, 8-aligned bytes, enough
    // for one cmsg holding one int; CMSG_FIRSTHDR/CMSG_DATA stay inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(INT_LEN) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::c_int, raw);
    }
    // SAFETY: every pointer in msg refers to live locals above.
    let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n.unsigned_abs() < data.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short write of the process state",
        ));
    }
    Ok(())
}

/// The agent's side of `send_listener`: receives one message on `sock`,
/// returning the listener fd attached to it and the process state JSON.
pub fn recv_listener(sock: &UnixStream) -> io::Result<(OwnedFd, Vec<u8>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut cbuf = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // SAFETY: every pointer in msg refers to live locals above.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: CMSG_FIRSTHDR/CMSG_DATA stay inside the control buffer the
    // kernel filled (msg_controllen says how much); an SCM_RIGHTS message
    // carries ints, and the fd it names is ours now.
    let fd = unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no fd attached to the seccomp listener message",
            ));
        }
        OwnedFd::from_raw_fd(std::ptr::read_unaligned(
            libc::CMSG_DATA(cmsg) as *const libc::c_int
        ))
    };
    buf.truncate(n.unsigned_abs());
    Ok((fd, buf))
}

/// One notification read from a listener (struct seccomp_notif).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Notification {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    /// The system call number.
    pub nr: i32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

/// struct seccomp_notif_resp.
#[repr(C)]
struct Response {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

// SECCOMP_IOCTL_NOTIF_RECV / _SEND: _IOWR('!', 0, struct seccomp_notif)
// and _IOWR('!', 1, struct seccomp_notif_resp).
const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
const NOTIF_SEND: libc::c_ulong = 0xc018_2101;

/// Waits for the next notification on `listener`.
pub fn receive_notification(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    let mut n = Notification::default();
    // SAFETY: NOTIF_RECV fills a struct seccomp_notif (80 bytes), which
    // `Notification` lays out exactly; it must be zeroed before the call.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            NOTIF_RECV,
            &mut n as *mut Notification,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n)
}

/// Answers notification `id`: the system call returns `val`, or fails with
/// `errno` when it is not 0 (then given negated, as the kernel wants).
pub fn respond(listener: BorrowedFd<'_>, id: u64, val: i64, errno: i32) -> io::Result<()> {
    let mut resp = Response {
        id,
        val,
        error: -errno.abs(),
        flags: 0,
    };
    // SAFETY: NOTIF_SEND reads a struct seccomp_notif_resp (24 bytes),
    // which `Response` lays out exactly.
    let r = unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, &mut resp as *mut Response) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
