//! Terminal ioctls: the pty peer (TIOCGPTPEER), unlocking, window sizes,
//! the controlling terminal.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{check, owned};

const TIOCGPTPEER: libc::c_ulong = 0x5441;
const TIOCSPTLCK: libc::c_ulong = 0x4004_5431;

/// TIOCSPTLCK 0: unlocks the pty behind the master `ptmx` (unlockpt).
pub fn unlock_pt(ptmx: BorrowedFd<'_>) -> io::Result<()> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int through the pointer, which is live
    // for the call.
    let r = unsafe { libc::ioctl(ptmx.as_raw_fd(), TIOCSPTLCK, &unlock as *const libc::c_int) };
    check(r.into())?;
    Ok(())
}

/// TIOCGPTPEER: a new fd on the peer of the master `ptmx`, opened with
/// `flags`, without a /dev/pts/N path lookup.
pub fn open_peer(ptmx: BorrowedFd<'_>, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: TIOCGPTPEER takes its int argument by value.
    let r = unsafe { libc::ioctl(ptmx.as_raw_fd(), TIOCGPTPEER, flags) };
    let fd = check(r.into())?;
    // SAFETY: the kernel just returned this fd; nothing else owns it.
    unsafe { owned(fd) }
}

/// TIOCSCTTY: `tty` becomes the controlling terminal of the caller's
/// session.
pub fn set_controlling(tty: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes its int argument (0: do not steal) by value.
    let r = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) };
    check(r.into())?;
    Ok(())
}

/// TIOCSWINSZ: sets the window size of `tty`.
pub fn set_winsize(tty: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from a live struct.
    let r = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    check(r.into())?;
    Ok(())
}

/// TIOCGWINSZ: the window size of `tty`, (rows, cols).
pub fn winsize(tty: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    // SAFETY: winsize is plain data; all zeroes is a valid value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize into a live struct.
    let r = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    check(r.into())?;
    Ok((ws.ws_row, ws.ws_col))
}
