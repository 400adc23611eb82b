//! A classic-BPF interpreter with the kernel's seccomp semantics, to run
//! programs (ours and libseccomp's) on chosen calls without installing them.

use crate::sys::seccomp::SockFilter;

/// One syscall as a filter sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Call {
    pub arch: u32,
    pub nr: u32,
    pub args: [u64; 6],
}

impl Call {
    /// `struct seccomp_data` in memory (little endian), instruction pointer 0.
    fn bytes(&self) -> [u8; 64] {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&self.nr.to_le_bytes());
        data[4..8].copy_from_slice(&self.arch.to_le_bytes());
        for (i, arg) in self.args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_le_bytes());
        }
        data
    }
}

/// Runs `program` on `call` and returns the filter's return value. Panics
/// on anything the kernel's checker would refuse (bad jumps, loads outside
/// `seccomp_data`, falling off the end, unknown opcodes).
pub fn run(program: &[SockFilter], call: &Call) -> u32 {
    let data = call.bytes();
    let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; 16]);
    let mut pc = 0usize;
    loop {
        let insn = program
            .get(pc)
            .unwrap_or_else(|| panic!("fell off the program at {pc}"));
        pc += 1;
        let k = insn.k;
        let src = if insn.code & 0x08 != 0 { x } else { k };
        match insn.code & 0x07 {
            // BPF_LD
            0x00 => match insn.code {
                0x20 => {
                    let at = k as usize;
                    assert!(at % 4 == 0 && at + 4 <= data.len(), "bad load offset {k}");
                    a = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
                }
                0x00 => a = k,
                0x60 => a = mem[k as usize],
                0x80 => a = data.len() as u32,
                code => panic!("unsupported load {code:#x}"),
            },
            // BPF_LDX
            0x01 => match insn.code {
                0x01 => x = k,
                0x61 => x = mem[k as usize],
                0x81 => x = data.len() as u32,
                code => panic!("unsupported ldx {code:#x}"),
            },
            0x02 => mem[k as usize] = a,
            0x03 => mem[k as usize] = x,
            // BPF_ALU
            0x04 => {
                a = match insn.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a.checked_div(src).expect("division by zero"),
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.wrapping_shl(src),
                    0x70 => a.wrapping_shr(src),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(src).expect("modulo by zero"),
                    0xa0 => a ^ src,
                    op => panic!("unsupported alu {op:#x}"),
                }
            }
            // BPF_JMP
            0x05 => {
                let taken = match insn.code & 0xf0 {
                    0x00 => {
                        pc += k as usize;
                        continue;
                    }
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    op => panic!("unsupported jump {op:#x}"),
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            // BPF_RET
            0x06 => {
                return match insn.code & 0x18 {
                    0x00 => k,
                    0x10 => a,
                    _ => panic!("unsupported ret {:#x}", insn.code),
                }
            }
            // BPF_MISC
            _ => match insn.code {
                0x07 => x = a,
                0x87 => a = x,
                code => panic!("unsupported misc {code:#x}"),
            },
        }
    }
}

/// Reads a program in the kernel's binary layout (libseccomp's export).
pub fn from_bytes(bytes: &[u8]) -> Vec<SockFilter> {
    assert_eq!(bytes.len() % 8, 0);
    bytes
        .chunks_exact(8)
        .map(|b| SockFilter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_loads_jumps_and_returns() {
        let program = [
            SockFilter {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 0,
            },
            SockFilter {
                code: 0x35,
                jt: 0,
                jf: 1,
                k: 10,
            },
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 1,
            },
            SockFilter {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 20,
            },
            SockFilter {
                code: 0x54,
                jt: 0,
                jf: 0,
                k: 0xf,
            },
            SockFilter {
                code: 0x15,
                jt: 0,
                jf: 1,
                k: 3,
            },
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 2,
            },
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 3,
            },
        ];
        let call = |nr, a0: u64| Call {
            arch: 0,
            nr,
            args: [a0, 0, 0, 0, 0, 0],
        };
        assert_eq!(run(&program, &call(11, 0)), 1);
        // args[0]'s high half lives at offset 20.
        assert_eq!(run(&program, &call(1, 0x13 << 32)), 2);
        assert_eq!(run(&program, &call(1, 3)), 3);
    }
}
