//! Hands the seccomp listener fd to the agent at `listenerPath`, the way
//! runc does: one message on a unix stream socket carrying the container
//! process state JSON, with the fd attached as SCM_RIGHTS.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
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

fn send_with_fd(sock: &UnixStream, data: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: CMSG_SPACE is a pure computation on a constant.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) } as usize;
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
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::c_int, raw);
    }
    // SAFETY: every pointer in msg refers to live locals above.
    let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if (n as usize) < data.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short write of the process state",
        ));
    }
    Ok(())
}
