//! A minimal rtnetlink client: look a link up by name (RTM_GETLINK) and
//! move it to another network namespace under a new name (RTM_NEWLINK
//! with IFLA_NET_NS_FD and IFLA_IFNAME, one message so the move and the
//! rename happen together). The socket talks to the network namespace
//! its creator was in when it was made.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

const NLMSG_ERROR: u16 = 2;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
/// nlmsghdr (16 bytes) then ifinfomsg (16 bytes).
const HDR: usize = 16;
const IFINFO: usize = 16;
/// Longest interface name (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

/// A NETLINK_ROUTE socket.
pub struct Route {
    fd: OwnedFd,
    seq: std::cell::Cell<u32>,
}

fn nix_err(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// One request: header, ifinfomsg with `index`, attributes.
fn message(typ: u16, flags: u16, seq: u32, index: i32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = vec![0u8; HDR + IFINFO];
    // ifinfomsg: ifi_family AF_UNSPEC (0) and its padding stay zero.
    m[HDR + 4..HDR + 8].copy_from_slice(&index.to_ne_bytes());
    for (t, data) in attrs {
        let len = 4 + data.len();
        let len = u16::try_from(len).expect("a netlink attribute fits 64 KiB");
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&t.to_ne_bytes());
        m.extend_from_slice(data);
        m.resize(m.len().next_multiple_of(4), 0);
    }
    let total = u32::try_from(m.len()).expect("a netlink message fits 4 GiB");
    m[0..4].copy_from_slice(&total.to_ne_bytes());
    m[4..6].copy_from_slice(&typ.to_ne_bytes());
    m[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    m
}

fn name_attr(name: &str) -> io::Result<Vec<u8>> {
    if name.is_empty() || name.len() > IFNAME_MAX || name.contains('\0') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    Ok(v)
}

/// What came back: the errno of an NLMSG_ERROR (0 = ack), or the index
/// in an RTM_NEWLINK reply.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Error(i32),
    Link(i32),
}

fn parse_reply(buf: &[u8]) -> io::Result<Reply> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "short rtnetlink reply");
    if buf.len() < HDR + 4 {
        return Err(bad());
    }
    let typ = u16::from_ne_bytes([buf[4], buf[5]]);
    let word = |at: usize| -> io::Result<i32> {
        let b = buf.get(at..at + 4).ok_or_else(bad)?;
        Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    match typ {
        NLMSG_ERROR => Ok(Reply::Error(-word(HDR)?)),
        RTM_NEWLINK => Ok(Reply::Link(word(HDR + 4)?)),
        t => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected rtnetlink message type {t}"),
        )),
    }
}

impl Route {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Route> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )
        .map_err(nix_err)?;
        Ok(Route {
            fd,
            seq: std::cell::Cell::new(1),
        })
    }

    fn request(
        &self,
        typ: u16,
        flags: u16,
        index: i32,
        attrs: &[(u16, &[u8])],
    ) -> io::Result<Reply> {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let msg = message(typ, flags, seq, index, attrs);
        sendto(
            self.fd.as_raw_fd(),
            &msg,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(nix_err)?;
        let mut buf = vec![0u8; 16384];
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(nix_err)?;
            let got = &buf[..n];
            // Skip anything that answers an earlier request.
            if got.len() >= HDR && u32::from_ne_bytes([got[8], got[9], got[10], got[11]]) != seq {
                continue;
            }
            return parse_reply(got);
        }
    }

    /// The index of the link called `name` in this socket's namespace.
    pub fn link_index(&self, name: &str) -> io::Result<i32> {
        let n = name_attr(name)?;
        match self.request(RTM_GETLINK, 0, 0, &[(IFLA_IFNAME, &n)])? {
            Reply::Link(i) => Ok(i),
            Reply::Error(0) => Err(io::Error::from_raw_os_error(libc::ENODEV)),
            Reply::Error(e) => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Moves link `index` into the namespace of `netns` and names it
    /// `new_name` there.
    pub fn move_link(&self, index: i32, netns: BorrowedFd<'_>, new_name: &str) -> io::Result<()> {
        let n = name_attr(new_name)?;
        let fd = netns.as_raw_fd().to_ne_bytes();
        match self.request(
            RTM_NEWLINK,
            NLM_F_ACK,
            index,
            &[(IFLA_NET_NS_FD, &fd), (IFLA_IFNAME, &n)],
        )? {
            Reply::Error(0) => Ok(()),
            Reply::Error(e) => Err(io::Error::from_raw_os_error(e)),
            Reply::Link(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected reply to RTM_NEWLINK",
            )),
        }
    }
}

/// A route socket in the network namespace `netns`: made by a short-lived
/// thread that joins the namespace (the socket stays bound to it; the
/// caller's threads do not move).
pub fn route_in(netns: BorrowedFd<'_>) -> io::Result<Route> {
    let ns = netns.try_clone_to_owned()?;
    std::thread::scope(|s| {
        s.spawn(move || {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(nix_err)?;
            Route::open()
        })
        .join()
        .map_err(|_| io::Error::other("netns thread panicked"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_layout() {
        let m = message(
            RTM_NEWLINK,
            NLM_F_ACK,
            7,
            3,
            &[
                (IFLA_NET_NS_FD, &9u32.to_ne_bytes()),
                (IFLA_IFNAME, b"ab\0"),
            ],
        );
        // 16 + 16 + 8 (fd attr) + 8 ("ab\0" padded to 4 after the 4-byte header)
        assert_eq!(m.len(), 48);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()), 48);
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), RTM_NEWLINK);
        assert_eq!(
            u16::from_ne_bytes(m[6..8].try_into().unwrap()),
            NLM_F_REQUEST | NLM_F_ACK
        );
        assert_eq!(i32::from_ne_bytes(m[20..24].try_into().unwrap()), 3);
        assert_eq!(u16::from_ne_bytes(m[32..34].try_into().unwrap()), 8);
        assert_eq!(
            u16::from_ne_bytes(m[34..36].try_into().unwrap()),
            IFLA_NET_NS_FD
        );
        assert_eq!(u16::from_ne_bytes(m[40..42].try_into().unwrap()), 7);
        assert_eq!(&m[44..47], b"ab\0");
    }

    #[test]
    fn names_are_checked() {
        assert!(name_attr("").is_err());
        assert!(name_attr("sixteen-chars-xx").is_err());
        assert!(name_attr("eth0").is_ok());
    }

    /// Talks to the kernel: lo is link 1 in every network namespace, a
    /// missing name is ENODEV (no privilege needed to look).
    #[test]
    fn looks_links_up() {
        let r = Route::open().unwrap();
        assert_eq!(r.link_index("lo").unwrap(), 1);
        let e = r.link_index("rmnosuchlink0").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV));
    }

    #[test]
    fn error_reply() {
        let mut b = vec![0u8; HDR + 4];
        b[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        b[HDR..HDR + 4].copy_from_slice(&(-libc::ENODEV).to_ne_bytes());
        assert_eq!(parse_reply(&b).unwrap(), Reply::Error(libc::ENODEV));
    }
}
