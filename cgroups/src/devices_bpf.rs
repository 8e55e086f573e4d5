//! Device rules on cgroup v2: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program
//! generated from the rule list (a later rule wins), replacing whatever
//! device program the cgroup had.

use std::os::fd::AsFd;
use std::path::Path;

use crate::bpf_sys;
use crate::devices::Rule;
use crate::error::{CgroupError, Result};

// Instruction classes and ops (linux/bpf.h).
const LDX_MEM_W: u8 = 0x61;
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_X: u8 = 0xbc;
const ALU64_MOV_K: u8 = 0xb7;
const JMP32_JNE_K: u8 = 0x56;
const EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (dst & 0xf) | ((src & 0xf) << 4);
    b[2..4].copy_from_slice(&off.to_ne_bytes());
    b[4..8].copy_from_slice(&imm.to_ne_bytes());
    u64::from_ne_bytes(b)
}

fn access_bits(access: &str) -> i32 {
    let mut v = 0;
    for c in access.chars() {
        v |= match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        };
    }
    v
}

/// Program: r2 = type, r3 = access, r4 = major, r5 = minor; rules checked
/// last to first, the first match returns its verdict; default deny.
pub(crate) fn program(rules: &[Rule]) -> Vec<u64> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        // Each check is a conditional jump to the end of the block.
        let mut checks: Vec<Vec<(u8, u8, u8, i32)>> = Vec::new();
        match r.typ {
            'b' => checks.push(vec![(JMP32_JNE_K, 2, 0, 1)]),
            'c' => checks.push(vec![(JMP32_JNE_K, 2, 0, 2)]),
            _ => {}
        }
        let acc = access_bits(&r.access);
        if r.typ != 'a' && acc != 7 {
            // (requested & ~allowed) must be 0.
            checks.push(vec![
                (ALU32_MOV_X, 1, 3, 0),
                (ALU32_AND_K, 1, 0, !acc & 7),
                (JMP32_JNE_K, 1, 0, 0),
            ]);
        }
        if r.typ != 'a' {
            if let Some(m) = r.major {
                checks.push(vec![(JMP32_JNE_K, 4, 0, imm32(m))]);
            }
            if let Some(m) = r.minor {
                checks.push(vec![(JMP32_JNE_K, 5, 0, imm32(m))]);
            }
        }
        let flat: Vec<(u8, u8, u8, i32)> = checks.into_iter().flatten().collect();
        let len = flat.len() + 2;
        for (i, (code, dst, src, imm)) in flat.into_iter().enumerate() {
            let off = if code == JMP32_JNE_K {
                i16::try_from(len - i - 1).expect("a device program is short")
            } else {
                0
            };
            p.push(insn(code, dst, src, off, imm));
        }
        let matches_all = len == 2;
        p.push(insn(ALU64_MOV_K, 0, 0, 0, r.allow as i32));
        p.push(insn(EXIT, 0, 0, 0, 0));
        if matches_all {
            // Nothing after an unconditional verdict is reachable (the
            // verifier refuses dead code).
            return p;
        }
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

/// Installs the rules on the cgroup at `dir`.
pub(crate) fn apply(dir: &Path, rules: &[Rule]) -> Result<()> {
    let field = "linux.resources.devices";
    let err = |what: &str, e: std::io::Error| CgroupError::Write {
        field: field.into(),
        path: dir.to_path_buf(),
        value: what.into(),
        source: e,
    };
    let cg = std::fs::File::open(dir).map_err(|e| CgroupError::io(dir, e))?;
    let old = bpf_sys::query(cg.as_fd()).map_err(|e| err("BPF_PROG_QUERY", e))?;
    let prog = bpf_sys::load_device_prog(&program(rules)).map_err(|e| err("BPF_PROG_LOAD", e))?;
    bpf_sys::attach(cg.as_fd(), prog.as_fd()).map_err(|e| err("BPF_PROG_ATTACH", e))?;
    for id in old {
        if let Ok(fd) = bpf_sys::prog_fd_by_id(id) {
            bpf_sys::detach(cg.as_fd(), fd.as_fd()).map_err(|e| err("BPF_PROG_DETACH", e))?;
        }
    }
    Ok(())
}

/// A u32 operand as the instruction's (signed) immediate, bit for bit:
/// the JMP32 compare sees the same 32 bits.
fn imm32(v: u32) -> i32 {
    i32::from_ne_bytes(v.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_code_after_a_catch_all_rule() {
        let rules = crate::devices::effective_rules(&[]);
        let p = program(&rules);
        // Ends with the deny-all base: mov r0, 0; exit.
        assert_eq!(p[p.len() - 1], insn(EXIT, 0, 0, 0, 0));
        assert_eq!(p[p.len() - 2], insn(ALU64_MOV_K, 0, 0, 0, 0));
        let blocks = p.iter().filter(|i| **i == insn(EXIT, 0, 0, 0, 0)).count();
        assert_eq!(blocks, rules.len());
    }
}
