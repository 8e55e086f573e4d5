//! Classic BPF instructions and a builder that emits a program backwards,
//! so that every jump target is already placed, and that inserts `ja`
//! trampolines when a conditional jump would be longer than 255.

use libc::sock_filter;

pub const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const JMP_JA: u16 = 0x05; // BPF_JMP | BPF_JA
pub const JMP_JEQ_K: u16 = 0x15;
pub const JMP_JGT_K: u16 = 0x25;
pub const JMP_JGE_K: u16 = 0x35;
pub const JMP_JSET_K: u16 = 0x45;
pub const ALU_AND_K: u16 = 0x54;
pub const RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub fn off_arg_lo(index: u8) -> u32 {
    16 + 8 * index as u32
}
pub fn off_arg_hi(index: u8) -> u32 {
    off_arg_lo(index) + 4
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// A position in the program, counted from its end: the number of
/// instructions from the labelled one to the end, inclusive.
pub type Label = usize;

/// Builds a program from its last instruction to its first.
#[derive(Default)]
pub struct Builder {
    rev: Vec<sock_filter>,
    rets: std::collections::HashMap<u32, Label>,
}

impl Builder {
    /// The label of the instruction emitted last (the current first one).
    pub fn here(&self) -> Label {
        self.rev.len()
    }

    fn push(&mut self, i: sock_filter) -> Label {
        self.rev.push(i);
        self.rev.len()
    }

    /// `ret k`; reuses a nearby identical one instead of emitting another.
    pub fn ret(&mut self, k: u32) -> Label {
        if let Some(&l) = self.rets.get(&k) {
            if self.here() - l < 200 {
                return l;
            }
        }
        let l = self.push(insn(RET_K, 0, 0, k));
        self.rets.insert(k, l);
        l
    }

    pub fn load(&mut self, off: u32) -> Label {
        self.push(insn(LD_W_ABS, 0, 0, off))
    }

    pub fn and(&mut self, k: u32) -> Label {
        self.push(insn(ALU_AND_K, 0, 0, k))
    }

    /// Unconditional jump (or nothing when the target is next).
    pub fn goto(&mut self, target: Label) -> Label {
        if target == self.here() {
            return target;
        }
        let skip = u32::try_from(self.here() - target).expect("a BPF program is short");
        self.push(insn(JMP_JA, 0, 0, skip))
    }

    /// `if A <code> k goto t else goto f`.
    pub fn jump(&mut self, code: u16, k: u32, t: Label, f: Label) -> Label {
        if t == f {
            return self.goto(t);
        }
        let (mut t, mut f) = (t, f);
        // Trampolines for targets out of reach of an 8-bit offset; the
        // second may push the first out of reach, hence the margin.
        if self.here() - f > 254 {
            f = self.goto(f);
        }
        if self.here() - t > 254 {
            t = self.goto(t);
            if self.here() - f > 255 {
                f = self.goto(f);
            }
        }
        let n = self.here();
        // Both within 255 after the trampolines above.
        let off = |to: Label| u8::try_from(n - to).expect("trampolined within reach");
        self.push(insn(code, off(t), off(f), k))
    }

    pub fn finish(self) -> Vec<sock_filter> {
        let mut v = self.rev;
        v.reverse();
        v
    }
}
