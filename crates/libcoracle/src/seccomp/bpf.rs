//! A small classic-BPF assembler: instructions with symbolic forward labels,
//! resolved into `sock_filter`s. Conditional jumps reach only 255
//! instructions ahead; a branch that lands farther goes through an
//! unconditional `ja` trampoline (32-bit offset) placed right after it.

use crate::sys::seccomp::SockFilter;

/// `BPF_LD | BPF_W | BPF_ABS`: load a 32-bit word of `seccomp_data`.
pub const LD_W_ABS: u16 = 0x20;
/// `BPF_ALU | BPF_AND | BPF_K`.
pub const ALU_AND_K: u16 = 0x54;
/// `BPF_JMP | BPF_JA`.
pub const JMP_JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub const JMP_JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K` (unsigned).
pub const JMP_JGT_K: u16 = 0x25;
/// `BPF_JMP | BPF_JGE | BPF_K` (unsigned).
pub const JMP_JGE_K: u16 = 0x35;
/// `BPF_RET | BPF_K`.
pub const RET_K: u16 = 0x06;

/// The kernel's limit on a filter's length (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// Offset of `seccomp_data.nr`.
pub const OFFSET_NR: u32 = 0;
/// Offset of `seccomp_data.arch`.
pub const OFFSET_ARCH: u32 = 4;

/// Offset of the low (`high == false`) or high 32 bits of argument `index`
/// in `seccomp_data` on a little-endian host.
pub fn offset_arg(index: u8, high: bool) -> u32 {
    16 + 8 * u32::from(index) + if high { 4 } else { 0 }
}

/// A position in the program, bound once by [`Asm::bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

#[derive(Debug, Clone, Copy)]
enum Item {
    /// A plain instruction.
    Op { code: u16, k: u32 },
    /// A conditional jump.
    Jump {
        code: u16,
        k: u32,
        jt: Label,
        jf: Label,
    },
    /// Where a label points.
    Bind(Label),
}

/// A program under construction.
#[derive(Debug, Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    /// A new, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Binds `label` to the next instruction.
    pub fn bind(&mut self, label: Label) {
        self.items.push(Item::Bind(label));
    }

    /// Loads the 32-bit word at `offset` of `seccomp_data` into A.
    pub fn load(&mut self, offset: u32) {
        self.items.push(Item::Op {
            code: LD_W_ABS,
            k: offset,
        });
    }

    /// A &= `mask`.
    pub fn and(&mut self, mask: u32) {
        self.items.push(Item::Op {
            code: ALU_AND_K,
            k: mask,
        });
    }

    /// Returns `value` to the kernel.
    pub fn ret(&mut self, value: u32) {
        self.items.push(Item::Op {
            code: RET_K,
            k: value,
        });
    }

    /// Jumps to `jt` if `A <code> k` holds (JEQ/JGT/JGE), else to `jf`.
    pub fn jump(&mut self, code: u16, k: u32, jt: Label, jf: Label) {
        self.items.push(Item::Jump { code, k, jt, jf });
    }

    /// Resolves the labels into instructions. Panics on a label never
    /// bound or bound before a jump to it: both are bugs of the compiler.
    pub fn finish(self) -> Vec<SockFilter> {
        let mut far = vec![(false, false); self.items.len()];
        loop {
            let addrs = self.addresses(&far);
            let mut grew = false;
            for (i, item) in self.items.iter().enumerate() {
                if let Item::Jump { jt, jf, .. } = *item {
                    let from = addrs.items[i] + 1;
                    let (t, f) = far[i];
                    let too_far = |l: Label| addrs.of(l) - from > 255;
                    if !t && too_far(jt) || !f && too_far(jf) {
                        far[i] = (t || too_far(jt), f || too_far(jf));
                        grew = true;
                    }
                }
            }
            if !grew {
                return self.emit(&far, &addrs);
            }
        }
    }

    /// Instruction addresses of every item and label, given which jumps
    /// need trampolines.
    fn addresses(&self, far: &[(bool, bool)]) -> Addresses {
        let mut items = Vec::with_capacity(self.items.len());
        let mut labels = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for (item, &(t, f)) in self.items.iter().zip(far) {
            items.push(pc);
            pc += match *item {
                Item::Bind(label) => {
                    labels[label.0] = pc;
                    0
                }
                Item::Jump { .. } => 1 + usize::from(t) + usize::from(f),
                Item::Op { .. } => 1,
            };
        }
        Addresses { items, labels }
    }

    fn emit(&self, far: &[(bool, bool)], addrs: &Addresses) -> Vec<SockFilter> {
        let mut out = Vec::with_capacity(addrs.items.last().map_or(0, |a| a + 3));
        for (item, &(t, f)) in self.items.iter().zip(far) {
            let pc = out.len();
            match *item {
                Item::Bind(_) => {}
                Item::Op { code, k } => out.push(insn(code, 0, 0, k)),
                Item::Jump { code, k, jt, jf } => {
                    // Layout: the jump, then `ja jt` if far, then `ja jf` if far.
                    let near = |l: Label| (addrs.of(l) - (pc + 1)) as u8;
                    let jt_off = if t { 0 } else { near(jt) };
                    let jf_off = if f { u8::from(t) } else { near(jf) };
                    out.push(insn(code, jt_off, jf_off, k));
                    for (is_far, target) in [(t, jt), (f, jf)] {
                        if is_far {
                            let offset = addrs.of(target) - (out.len() + 1);
                            out.push(insn(JMP_JA, 0, 0, offset as u32));
                        }
                    }
                }
            }
        }
        out
    }
}

struct Addresses {
    items: Vec<usize>,
    labels: Vec<usize>,
}

impl Addresses {
    fn of(&self, label: Label) -> usize {
        let addr = self.labels[label.0];
        assert_ne!(addr, usize::MAX, "BPF label never bound");
        addr
    }
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_jumps_are_direct() {
        let mut asm = Asm::default();
        let (yes, no) = (asm.label(), asm.label());
        asm.load(OFFSET_NR);
        asm.jump(JMP_JEQ_K, 7, yes, no);
        asm.bind(no);
        asm.ret(0);
        asm.bind(yes);
        asm.ret(0x7fff_0000);
        assert_eq!(
            asm.finish(),
            [
                insn(LD_W_ABS, 0, 0, 0),
                insn(JMP_JEQ_K, 1, 0, 7),
                insn(RET_K, 0, 0, 0),
                insn(RET_K, 0, 0, 0x7fff_0000),
            ]
        );
    }

    #[test]
    fn far_jumps_go_through_trampolines() {
        let mut asm = Asm::default();
        let (far_t, far_f, near) = (asm.label(), asm.label(), asm.label());
        asm.jump(JMP_JEQ_K, 1, far_t, near);
        asm.jump(JMP_JGT_K, 2, far_t, far_f);
        asm.bind(near);
        for _ in 0..300 {
            asm.ret(1);
        }
        asm.bind(far_t);
        asm.ret(2);
        asm.bind(far_f);
        asm.ret(3);
        let prog = asm.finish();
        // jeq: true via its trampoline at 1, false to `near` past the
        // second jump and its two trampolines.
        assert_eq!(prog[0], insn(JMP_JEQ_K, 0, 4, 1));
        assert_eq!(prog[1], insn(JMP_JA, 0, 0, 305 - 2));
        assert_eq!(prog[2], insn(JMP_JGT_K, 0, 1, 2));
        assert_eq!(prog[3], insn(JMP_JA, 0, 0, 305 - 4));
        assert_eq!(prog[4], insn(JMP_JA, 0, 0, 306 - 5));
        assert_eq!(prog.len(), 307);
        assert_eq!(prog[305], insn(RET_K, 0, 0, 2));
    }
}
