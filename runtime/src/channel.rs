//! The transport of the conversation between `remora` (the parent) and
//! the container init: one JSON message per SOCK_SEQPACKET datagram, an
//! fd attached to some. The messages and their order: [`crate::protocol`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::MsgFlags;

pub use crate::protocol::Message;

/// One end of the channel.
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// A connected pair (parent end, init end), close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    pub fn send(&self, msg: &Message) -> io::Result<()> {
        let data = serde_json::to_vec(msg).expect("message serialises");
        nix::sys::socket::send(self.fd.as_raw_fd(), &data, MsgFlags::MSG_NOSIGNAL)?;
        Ok(())
    }

    /// The next message; `None` when the other side closed.
    pub fn recv(&self) -> io::Result<Option<Message>> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let r = match nix::sys::socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(r) => r,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            if r == 0 {
                return Ok(None);
            }
            return serde_json::from_slice(&buf[..r])
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

pub use crate::sys::socket::{recv_with_fd, send_with_fd};

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
