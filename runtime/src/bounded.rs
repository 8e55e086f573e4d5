//! Bounds on what remora reads and says: config.json and process.json are
//! read with a size cap (never more than cap + 1 bytes, and never blocked
//! on forever: a FIFO or a device is read without blocking, with a
//! deadline), and a value echoed in an error message is shortened.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The most config.json or process.json may hold: far above any real
/// config (a CRI config with thousands of env entries is well under 1 MiB).
pub const JSON_CAP: u64 = 10 << 20;

/// How long a FIFO, socket or device may take to deliver its content.
const STREAM_DEADLINE: Duration = Duration::from_secs(10);

/// Why a bounded read failed.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// More than `cap` bytes.
    TooLarge(u64),
    /// A FIFO or device that did not end within the deadline.
    TimedOut,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge(cap) => write!(f, "larger than the limit of {cap} bytes"),
            ReadError::TimedOut => write!(
                f,
                "not a regular file and gave no end of file within {} s",
                STREAM_DEADLINE.as_secs()
            ),
        }
    }
}

/// Reads `path` whole, refusing more than `cap` bytes. A regular file is
/// read as usual (at most cap + 1 bytes); anything else (a FIFO, a
/// character device such as /dev/zero, a socket) is opened and read
/// without blocking, up to the deadline.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(ReadError::Io)?;
    let ft = file.metadata().map_err(ReadError::Io)?.file_type();
    let stream = ft.is_fifo() || ft.is_char_device() || ft.is_socket() || ft.is_block_device();
    let mut data = Vec::new();
    let mut limited = (&file).take(cap + 1);
    if !stream {
        limited.read_to_end(&mut data).map_err(ReadError::Io)?;
    } else {
        let deadline = Instant::now() + STREAM_DEADLINE;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ReadError::TimedOut);
                    }
                    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                    let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::from(ms)) {
                        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                        Err(e) => return Err(ReadError::Io(e.into())),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }
    if data.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(data)
}

/// The longest value an error message quotes whole.
pub const QUOTE_MAX: usize = 128;

/// `{:?}` of a value, shortened past [`QUOTE_MAX`] characters with how
/// long it really is: a 1 MiB hostname is not echoed whole.
pub fn quoted(v: &str) -> String {
    if v.len() <= QUOTE_MAX {
        return format!("{v:?}");
    }
    let mut end = QUOTE_MAX;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}... ({} bytes)", &v[..end], v.len())
}

/// A list shown by its first few items and its length.
pub fn list<T: std::fmt::Debug>(items: &[T]) -> String {
    const SHOWN: usize = 8;
    if items.len() <= SHOWN {
        return format!("{items:?}");
    }
    let head: Vec<String> = items[..SHOWN].iter().map(|i| format!("{i:?}")).collect();
    format!("[{}, ...] ({} items)", head.join(", "), items.len())
}

/// The longest error message remora prints: anything longer keeps its
/// start and its end (the cause), with the middle cut out.
pub const MESSAGE_MAX: usize = 4096;

/// `msg` cut to [`MESSAGE_MAX`] bytes, keeping the start and the end.
pub fn message(msg: &str) -> String {
    if msg.len() <= MESSAGE_MAX {
        return msg.to_string();
    }
    let keep = MESSAGE_MAX / 2;
    let mut head = keep;
    while !msg.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = msg.len() - keep;
    while !msg.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{} ...[{} bytes cut]... {}",
        &msg[..head],
        tail - head,
        &msg[tail..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_file_under_and_over_the_cap() {
        let dir = std::env::temp_dir().join(format!("remora-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.json");
        std::fs::write(&f, b"{}").unwrap();
        assert_eq!(read_capped(&f, 2).unwrap(), b"{}");
        assert!(matches!(read_capped(&f, 1), Err(ReadError::TooLarge(1))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dev_zero_stops_at_the_cap() {
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 1 << 20),
            Err(ReadError::TooLarge(_))
        ));
    }

    #[test]
    fn a_fifo_without_writer_does_not_block() {
        let dir = std::env::temp_dir().join(format!("remora-bounded-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("fifo");
        crate::sys::fs::mkfifo(&f, 0o600).unwrap();
        // No writer: EOF at once, an empty read.
        assert_eq!(read_capped(&f, 10).unwrap(), b"");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_values_are_shortened() {
        let h = "h".repeat(1 << 20);
        let q = quoted(&h);
        assert!(q.len() < 200, "{q}");
        assert!(q.ends_with("(1048576 bytes)"), "{q}");
        assert_eq!(quoted("ab"), "\"ab\"");
        let gids: Vec<u32> = (0..70_000).collect();
        let l = list(&gids);
        assert!(l.len() < 100 && l.ends_with("(70000 items)"), "{l}");
        let m = message(&"x".repeat(100_000));
        assert!(m.len() <= MESSAGE_MAX + 40, "{}", m.len());
    }
}
