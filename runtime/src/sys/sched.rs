//! Scheduling syscalls: sched_setattr(2), sched_setaffinity(2),
//! ioprio_set(2).

use std::io;

use super::check;

/// struct sched_attr of sched_setattr(2) (SCHED_ATTR_SIZE_VER1: with the
/// utilisation clamps).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
    pub util_min: u32,
    pub util_max: u32,
}

/// sched_setattr(0, attr, 0): the calling thread's policy and parameters.
pub fn sched_setattr(attr: &SchedAttr) -> io::Result<()> {
    let mut a = *attr;
    a.size = u32::try_from(std::mem::size_of::<SchedAttr>()).expect("a small struct");
    // SAFETY: the kernel reads `size` bytes of a valid, initialised
    // struct that outlives the call.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &a as *const SchedAttr, 0u32) })?;
    Ok(())
}

/// sched_setaffinity(0, ...): the calling thread may run on `cpus` only
/// (the kernel narrows that to the thread's cpuset).
pub fn set_affinity(cpus: impl IntoIterator<Item = usize>) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain bits; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    for cpu in cpus {
        if cpu >= max {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: cpu is below CPU_SETSIZE (checked above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: the kernel reads a valid cpu_set_t of the size given.
    check(unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) as libc::c_long
    })?;
    Ok(())
}

/// The largest CPU number a cpu_set_t holds, plus one.
pub const CPU_SETSIZE: usize = 8 * std::mem::size_of::<libc::cpu_set_t>();

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, value): the calling thread's I/O
/// priority (class << 13 | level).
pub fn ioprio_set(value: i32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: i32 = 1;
    // SAFETY: integer arguments only.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) })?;
    Ok(())
}
