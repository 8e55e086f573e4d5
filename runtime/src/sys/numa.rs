//! set_mempolicy(2): the calling thread's NUMA memory policy.

use std::io;

use super::check;

/// set_mempolicy(mode | flags, nodemask, maxnode). `nodes` is the mask's
/// words (bit N of the mask = node N); empty means a NULL mask.
pub fn set_mempolicy(mode_and_flags: i32, nodes: &[libc::c_ulong]) -> io::Result<()> {
    let (ptr, maxnode) = if nodes.is_empty() {
        (std::ptr::null(), 0)
    } else {
        // The kernel reads maxnode - 1 bits (an off-by-one it keeps for
        // compatibility): one more than the mask holds.
        (
            nodes.as_ptr(),
            (nodes.len() * 8 * std::mem::size_of::<libc::c_ulong>() + 1) as libc::c_ulong,
        )
    };
    // SAFETY: the mask (or NULL with maxnode 0) is valid for the words the
    // kernel reads and outlives the call.
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode_and_flags, ptr, maxnode) })?;
    Ok(())
}
