//! The binary's entry point on x86_64 (runtime/build.rs names it): before
//! libc or Rust start, a command that starts container processes
//! (`create`, `run`, `exec`) re-executes itself from a private read-only
//! bind mount of its binary (docs/security.md, "The runtime binary";
//! [`super::protected_exe`] is the same protection, done by `main` where
//! this one could not act).
//!
//! Why here: the re-execution is the protection's whole cost, and most of
//! a first image's time is libc's start-up (on a VM, the CPUID
//! instructions of its CPU feature probe trap to the hypervisor), paid
//! again by the second image.
//! From the entry point the first image runs five system calls and no
//! libc at all.
//!
//! The code below runs before libc has set up anything (no TLS, no
//! IRELATIVE relocations: not even memcpy may be called), so it is raw
//! system calls and loops over raw pointers, with no operation that can
//! panic. On any failure it falls through to libc's `_start`, and
//! `protected_exe::ensure` in `main` tries again and reports the error.

// System call arguments and results are machine words: a negative fd or
// AT_FDCWD in a register and back is a reinterpretation of the bits, which
// is what the ABI means (the kernel returns -errno as a word).
#![allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]

use core::arch::{asm, naked_asm};

const SYS_CLOSE: usize = 3;
const SYS_FSTATFS: usize = 138;
const SYS_OPENAT: usize = 257;
const SYS_EXECVEAT: usize = 322;
const SYS_OPEN_TREE: usize = 428;
const SYS_MOUNT_SETATTR: usize = 442;
const AT_FDCWD: usize = -100isize as usize;
const AT_EMPTY_PATH: usize = 0x1000;
const O_PATH: usize = 0o10000000;
const O_CLOEXEC: usize = 0o2000000;
const OPEN_TREE_CLONE: usize = 1;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const ST_RDONLY: u64 = 1;
/// struct statfs: f_flags is its eleventh 8-byte field.
const STATFS_WORDS: usize = 15;
const STATFS_FLAGS: usize = 10;
const AT_EXECFN: usize = 31;

/// The entry point: the kernel's initial stack (argc, argv, NULL, envp,
/// NULL, auxv) goes to [`early`]; then on to libc's `_start` with the
/// stack and %rdx (no rtld_fini in a static binary) as the kernel left
/// them.
///
/// # Safety
///
/// Only the kernel calls it, as a process's first instruction.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn remora_entry() -> ! {
    naked_asm!(
        "mov rdi, rsp",
        "mov rbx, rsp",
        "and rsp, -16",
        "call {early}",
        "mov rsp, rbx",
        "xor edx, edx",
        "xor ebx, ebx",
        "jmp _start",
        early = sym early,
    )
}

/// A raw system call with up to five arguments.
///
/// # Safety
///
/// The arguments must be what system call `nr` expects (valid pointers
/// where it reads or writes memory).
#[inline(always)]
unsafe fn syscall5(nr: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's contract; the syscall instruction clobbers
    // rcx and r11 only.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d, in("r8") e,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Whether the NUL-terminated string at `s` begins with `prefix` (and,
/// with `whole`, is exactly it).
///
/// # Safety
///
/// `s` points to a NUL-terminated string.
unsafe fn starts_with(s: *const u8, prefix: &[u8], whole: bool) -> bool {
    let mut i = 0;
    while i < prefix.len() {
        // SAFETY: the string is NUL-terminated and the NUL differs from
        // every byte of `prefix`, so no read goes past it.
        let c = unsafe { *s.add(i) };
        if c != prefix[i] {
            return false;
        }
        i += 1;
    }
    // SAFETY: index `prefix.len()` is at most the terminating NUL.
    !whole || unsafe { *s.add(i) } == 0
}

/// # Safety
///
/// `sp` is the process's initial stack as the kernel laid it out.
unsafe extern "C" fn early(sp: *const usize) {
    // SAFETY: (the whole function) the kernel's layout: argc, then argc
    // pointers and a NULL, then the environment's pointers and a NULL,
    // then auxv pairs ending with AT_NULL; every string is NUL-terminated.
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        let mut wanted = false;
        let mut i = 1;
        while i < argc {
            let a = *argv.add(i);
            if starts_with(a, b"create", true)
                || starts_with(a, b"run", true)
                || starts_with(a, b"exec", true)
            {
                wanted = true;
            }
            i += 1;
        }
        if !wanted {
            return;
        }
        let envp = argv.add(argc + 1);
        let mut e = envp;
        while !(*e).is_null() {
            e = e.add(1);
        }
        // Executed by fd (this is the re-executed image, or someone ran
        // remora from an fd): `ensure` in main decides.
        let mut aux = e.add(1) as *const usize;
        while *aux != 0 {
            if *aux == AT_EXECFN && starts_with(*aux.add(1) as *const u8, b"/dev/fd/", false) {
                return;
            }
            aux = aux.add(2);
        }
        let exe = c"/proc/self/exe".as_ptr() as usize;
        // Already on a read-only mount: nothing to do.
        let fd = syscall5(SYS_OPENAT, AT_FDCWD, exe, O_PATH | O_CLOEXEC, 0, 0);
        if fd < 0 {
            return;
        }
        let mut st = core::mem::MaybeUninit::<[u64; STATFS_WORDS]>::uninit();
        let r = syscall5(SYS_FSTATFS, fd as usize, st.as_mut_ptr() as usize, 0, 0, 0);
        syscall5(SYS_CLOSE, fd as usize, 0, 0, 0, 0);
        if r < 0 {
            return;
        }
        let flags = *(st.as_ptr() as *const u64).add(STATFS_FLAGS);
        if flags & ST_RDONLY != 0 {
            return;
        }
        let tree = syscall5(
            SYS_OPEN_TREE,
            AT_FDCWD,
            exe,
            OPEN_TREE_CLONE | O_CLOEXEC,
            0,
            0,
        );
        if tree < 0 {
            return;
        }
        // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
        let mut attr = core::mem::MaybeUninit::<[u64; 4]>::uninit();
        let p = attr.as_mut_ptr() as *mut u64;
        p.write(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        p.add(1).write(0);
        p.add(2).write(0);
        p.add(3).write(0);
        let r = syscall5(
            SYS_MOUNT_SETATTR,
            tree as usize,
            c"".as_ptr() as usize,
            AT_EMPTY_PATH,
            p as usize,
            32,
        );
        if r == 0 {
            syscall5(
                SYS_EXECVEAT,
                tree as usize,
                c"".as_ptr() as usize,
                argv as usize,
                envp as usize,
                AT_EMPTY_PATH,
            );
        }
        syscall5(SYS_CLOSE, tree as usize, 0, 0, 0, 0);
    }
}
