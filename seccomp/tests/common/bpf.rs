//! A classic-BPF interpreter for seccomp programs (test only): runs a
//! program on a `struct seccomp_data` and returns what it returns.

#[derive(Debug, Clone, Copy)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// Parses the sock_filter array format of seccomp_export_bpf (host endian).
pub fn parse(bytes: &[u8]) -> Vec<Insn> {
    assert_eq!(
        bytes.len() % 8,
        0,
        "BPF program length {} is not a multiple of 8",
        bytes.len()
    );
    bytes
        .chunks(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// The input of a seccomp filter.
#[derive(Debug, Clone, Copy)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_le_bytes());
        b[4..8].copy_from_slice(&self.arch.to_le_bytes());
        b[8..16].copy_from_slice(&self.ip.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        b
    }
}

/// Runs `prog` on `data`; panics on anything the kernel's checker would
/// refuse (bad jump, bad load, falling off the end, unknown opcode).
/// Returns the return value and the number of instructions executed.
pub fn run(prog: &[Insn], data: &Data) -> (u32, usize) {
    let d = data.bytes();
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        let i = *prog
            .get(pc)
            .unwrap_or_else(|| panic!("pc {pc} runs off the end ({} insns)", prog.len()));
        pc += 1;
        steps += 1;
        let jump = |cond: bool| if cond { i.jt as usize } else { i.jf as usize };
        match i.code {
            0x20 => {
                let k = i.k as usize;
                assert!(k.is_multiple_of(4) && k + 4 <= 64, "bad load offset {k}");
                a = u32::from_le_bytes([d[k], d[k + 1], d[k + 2], d[k + 3]]);
            }
            0x00 => a = i.k,
            0x01 => x = i.k,
            0x60 => a = mem[i.k as usize],
            0x61 => x = mem[i.k as usize],
            0x02 => mem[i.k as usize] = a,
            0x03 => mem[i.k as usize] = x,
            0x07 => x = a,
            0x87 => a = x,
            0x54 => a &= i.k,
            0x44 => a |= i.k,
            0x04 => a = a.wrapping_add(i.k),
            0x14 => a = a.wrapping_sub(i.k),
            0x05 => pc += i.k as usize,
            0x15 => pc += jump(a == i.k),
            0x25 => pc += jump(a > i.k),
            0x35 => pc += jump(a >= i.k),
            0x45 => pc += jump(a & i.k != 0),
            0x1d => pc += jump(a == x),
            0x2d => pc += jump(a > x),
            0x3d => pc += jump(a >= x),
            0x06 => return (i.k, steps),
            0x16 => return (a, steps),
            c => panic!("unknown opcode {c:#x} at {}", pc - 1),
        }
    }
}
