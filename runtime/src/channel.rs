//! The transport of the conversation between `remora` (the parent) and
//! the container init: one JSON message per SOCK_SEQPACKET datagram, an
//! fd attached to some. The messages and their order: [`crate::protocol`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub use crate::protocol::Message;

/// One end of the channel.
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// A connected pair (parent end, init end), close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let mut fds = [0; 2];
        // SAFETY: `fds` is a valid out-array of two ints.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        use std::os::fd::FromRawFd;
        // SAFETY: both fds were just created and are owned only here.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    pub fn send(&self, msg: &Message) -> io::Result<()> {
        let data = serde_json::to_vec(msg).expect("message serialises");
        // SAFETY: sends `data.len()` bytes from a live buffer.
        let r = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The next message; `None` when the other side closed.
    pub fn recv(&self) -> io::Result<Option<Message>> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: receives into a live buffer of the given length.
            let r =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if r == 0 {
                return Ok(None);
            }
            return serde_json::from_slice(&buf[..r as usize])
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }

    /// Whether a message (or EOF) is there to receive within `timeout`.
    pub fn readable(&self, timeout: std::time::Duration) -> io::Result<bool> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => Ok(n > 0),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Sends `data` with one fd attached (SCM_RIGHTS) on a unix socket.
pub fn send_with_fd(sock: BorrowedFd<'_>, data: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    let iov = [std::io::IoSlice::new(data)];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map(drop)
    .map_err(io::Error::from)
}

/// Receives one message and the fd attached to it.
pub fn recv_with_fd(sock: BorrowedFd<'_>) -> io::Result<(Vec<u8>, Option<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::FromRawFd;
    let mut buf = vec![0u8; 64 * 1024];
    let mut cmsg = nix::cmsg_space!([i32; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    let mut fd = None;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel gave us these fds; we own them now.
            fd = fds.first().map(|f| unsafe { OwnedFd::from_raw_fd(*f) });
        }
    }
    let n = msg.bytes;
    buf.truncate(n);
    Ok((buf, fd))
}

impl Channel {
    /// Sends a message with an fd attached.
    pub fn send_fd(&self, msg: &Message, fd: BorrowedFd<'_>) -> io::Result<()> {
        let data = serde_json::to_vec(msg).expect("message serialises");
        send_with_fd(self.fd.as_fd(), &data, fd)
    }

    /// The next message and the fd that came with it, if any.
    pub fn recv_fd(&self) -> io::Result<Option<(Message, Option<OwnedFd>)>> {
        let (data, fd) = recv_with_fd(self.fd.as_fd())?;
        if data.is_empty() {
            return Ok(None);
        }
        let m = serde_json::from_slice(&data)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Some((m, fd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&Message::InitPid(42)).unwrap();
        a.send(&Message::Error("boom".into())).unwrap();
        assert_eq!(b.recv().unwrap(), Some(Message::InitPid(42)));
        assert_eq!(b.recv().unwrap(), Some(Message::Error("boom".into())));
        drop(a);
        assert_eq!(b.recv().unwrap(), None);
    }
}
