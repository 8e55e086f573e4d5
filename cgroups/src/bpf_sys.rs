//! Thin wrappers over the bpf(2) commands the device filter needs.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;

const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// bpf_attr is a union of at most 144 bytes in current kernels; all the
/// commands here read only a prefix, the rest must be zero.
#[repr(C, align(8))]
struct Attr([u8; 144]);

impl Attr {
    fn new() -> Self {
        Attr([0; 144])
    }
    fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn get_u32(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap())
    }
}

/// The size of [`Attr`] (a small fixed buffer), as bpf(2) takes it.
#[allow(clippy::cast_possible_truncation)] // a 120-byte struct
const ATTR_SIZE: libc::c_uint = std::mem::size_of::<Attr>() as libc::c_uint;

fn bpf(cmd: libc::c_long, attr: &mut Attr) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, zero-initialised buffer of the size passed;
    // every pointer stored in it by the callers outlives this call.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.0.as_mut_ptr(), ATTR_SIZE) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// # Safety
///
/// `fd` must be a fd the kernel just returned to us, owned by nothing else.
unsafe fn owned(fd: libc::c_long) -> OwnedFd {
    let fd = i32::try_from(fd).expect("bpf(2) returns an fd");
    // SAFETY: the caller guarantees the fd is new and unowned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A borrowed fd (never negative) as bpf_attr's u32 field.
fn fd_field(fd: BorrowedFd) -> u32 {
    fd.as_raw_fd().unsigned_abs()
}

/// A length as bpf_attr's u32 field.
fn len_field(n: usize) -> u32 {
    u32::try_from(n).expect("a BPF buffer is far below 4 GiB")
}

/// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (raw instructions).
pub(crate) fn load_device_prog(insns: &[u64]) -> std::io::Result<OwnedFd> {
    let license = b"Apache\0";
    let mut log = vec![0u8; 8192];
    let mut a = Attr::new();
    a.u32(0, BPF_PROG_TYPE_CGROUP_DEVICE)
        .u32(4, len_field(insns.len()))
        .u64(8, insns.as_ptr() as u64)
        .u64(16, license.as_ptr() as u64);
    let r = bpf(BPF_PROG_LOAD, &mut a);
    match r {
        // SAFETY: BPF_PROG_LOAD returned a new fd.
        Ok(fd) => Ok(unsafe { owned(fd) }),
        Err(e)
            if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::EACCES) =>
        {
            // Retry with the verifier log to explain the failure.
            a.u32(24, 1)
                .u32(28, len_field(log.len()))
                .u64(32, log.as_mut_ptr() as u64);
            match bpf(BPF_PROG_LOAD, &mut a) {
                // SAFETY: BPF_PROG_LOAD returned a new fd.
                Ok(fd) => Ok(unsafe { owned(fd) }),
                Err(e2) => {
                    let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                    Err(std::io::Error::new(
                        e2.kind(),
                        format!("{e2}: verifier: {}", String::from_utf8_lossy(&log[..end])),
                    ))
                }
            }
        }
        Err(e) => Err(e),
    }
}

/// Attaches `prog` to the cgroup (multi-attach: all programs must allow).
pub(crate) fn attach(cgroup: BorrowedFd, prog: BorrowedFd) -> std::io::Result<()> {
    let mut a = Attr::new();
    a.u32(0, fd_field(cgroup))
        .u32(4, fd_field(prog))
        .u32(8, BPF_CGROUP_DEVICE)
        .u32(12, BPF_F_ALLOW_MULTI);
    bpf(BPF_PROG_ATTACH, &mut a).map(|_| ())
}

/// Detaches one program from the cgroup.
pub(crate) fn detach(cgroup: BorrowedFd, prog: BorrowedFd) -> std::io::Result<()> {
    let mut a = Attr::new();
    a.u32(0, fd_field(cgroup))
        .u32(4, fd_field(prog))
        .u32(8, BPF_CGROUP_DEVICE);
    bpf(BPF_PROG_DETACH, &mut a).map(|_| ())
}

/// The ids of the device programs attached directly to the cgroup.
pub(crate) fn query(cgroup: BorrowedFd) -> std::io::Result<Vec<u32>> {
    let mut ids = vec![0u32; 64];
    let mut a = Attr::new();
    a.u32(0, fd_field(cgroup))
        .u32(4, BPF_CGROUP_DEVICE)
        .u64(16, ids.as_mut_ptr() as u64)
        .u32(24, len_field(ids.len()));
    bpf(BPF_PROG_QUERY, &mut a)?;
    let n = a.get_u32(24) as usize;
    ids.truncate(n.min(64));
    Ok(ids)
}

/// An fd for a loaded program by id.
pub(crate) fn prog_fd_by_id(id: u32) -> std::io::Result<OwnedFd> {
    let mut a = Attr::new();
    a.u32(0, id);
    // SAFETY: BPF_PROG_GET_FD_BY_ID returns a new fd.
    bpf(BPF_PROG_GET_FD_BY_ID, &mut a).map(|fd| unsafe { owned(fd) })
}
