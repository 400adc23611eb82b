//! The cgroup v2 device controller is an eBPF program
//! (`BPF_PROG_TYPE_CGROUP_DEVICE`) that the kernel runs on every device
//! open and `mknod`, with the device type, numbers and access asked for; it
//! returns 1 to allow, 0 to deny. This module compiles the container's
//! device rules into such a program.
//!
//! Meaning: everything is denied, then the rules apply in order, a later
//! rule overriding an earlier one for the accesses it names. So the program
//! checks the rules from the last to the first, and for each access asked
//! for, the first rule met that names it decides: a deny rule that names a
//! still-undecided access denies the whole request; an allow rule settles the
//! accesses it names, and once every asked access is settled the request is
//! allowed. When no rule is left, what is still undecided is denied.

use super::devices::{DeviceKind, DeviceRule, MKNOD, READ, WRITE};

// Instruction classes, operations and sources (linux/bpf_common.h, bpf.h).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU64_AND_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
const ALU64_RSH_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
const ALU64_MOV_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const ALU64_MOV_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const JMP32_JNE_K: u8 = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K
const JMP_JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JA: u8 = 0x05; // BPF_JMP | BPF_JA
const JMP_JSET_K: u8 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; },
// access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*.
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

// Registers: R0 result, R1 context, R2 accesses still undecided, R3 device
// type, R4 major, R5 minor.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

/// One eBPF instruction, as the kernel reads it (little-endian layout of
/// `struct bpf_insn`: code, dst and src registers, offset, immediate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub(crate) code: u8,
    pub(crate) dst: u8,
    pub(crate) src: u8,
    pub(crate) off: i16,
    pub(crate) imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// The instruction as the 8 bytes `bpf(BPF_PROG_LOAD)` takes.
    pub(crate) fn encode(self) -> u64 {
        u64::from(self.code)
            | u64::from(self.dst & 0xf | (self.src & 0xf) << 4) << 8
            | u64::from(self.off as u16) << 16
            | u64::from(self.imm as u32) << 32
    }
}

/// The program for the container's configured `rules` followed by the
/// default devices, on a start of "deny everything".
pub(crate) fn device_program<'a>(
    rules: impl DoubleEndedIterator<Item = &'a DeviceRule>,
) -> Vec<Insn> {
    let mut program = vec![
        Insn::new(LDX_MEM_W, R2, R1, 0, 0), // access_type
        Insn::new(ALU64_MOV_X, R3, R2, 0, 0),
        Insn::new(ALU64_AND_K, R3, 0, 0, 0xffff), // device type
        Insn::new(ALU64_RSH_K, R2, 0, 0, 16),     // accesses asked for
        Insn::new(LDX_MEM_W, R4, R1, 4, 0),       // major
        Insn::new(LDX_MEM_W, R5, R1, 8, 0),       // minor
    ];
    for rule in rules.rev() {
        program.extend(rule_block(rule));
    }
    program.extend(verdict(0));
    program
}

/// The instructions of one rule; each check that fails jumps past the end
/// of the block, to the rule before it.
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    // Jumps are written with off = -1 and aimed at the block's end below.
    const TO_NEXT: i16 = -1;
    let mut block = Vec::with_capacity(10);
    match rule.kind {
        DeviceKind::All => {}
        DeviceKind::Char => block.push(Insn::new(JMP32_JNE_K, R3, 0, TO_NEXT, DEV_CHAR)),
        DeviceKind::Block => block.push(Insn::new(JMP32_JNE_K, R3, 0, TO_NEXT, DEV_BLOCK)),
    }
    if let Some(major) = rule.major {
        block.push(Insn::new(JMP32_JNE_K, R4, 0, TO_NEXT, major as i32));
    }
    if let Some(minor) = rule.minor {
        block.push(Insn::new(JMP32_JNE_K, R5, 0, TO_NEXT, minor as i32));
    }
    let access = bpf_access(rule.access);
    if rule.allow {
        // Settle the accesses named; allow when none is left undecided.
        block.push(Insn::new(ALU64_AND_K, R2, 0, 0, !access));
        block.push(Insn::new(JMP_JNE_K, R2, 0, 2, 0)); // past the verdict
        block.extend(verdict(1));
    } else {
        // Deny if the rule names an access still undecided.
        block.push(Insn::new(JMP_JSET_K, R2, 0, 1, access)); // to the verdict
        block.push(Insn::new(JMP_JA, 0, 0, 2, 0)); // past it
        block.extend(verdict(0));
    }
    let len = block.len();
    for (i, insn) in block.iter_mut().enumerate() {
        if insn.off == TO_NEXT {
            insn.off = (len - i - 1) as i16;
        }
    }
    block
}

/// `return verdict`.
fn verdict(allow: i32) -> [Insn; 2] {
    [
        Insn::new(ALU64_MOV_K, R0, 0, 0, allow),
        Insn::new(JMP_EXIT, 0, 0, 0, 0),
    ]
}

/// Our access bits as the kernel's `BPF_DEVCG_ACC_*` bits.
fn bpf_access(access: u8) -> i32 {
    [(READ, ACC_READ), (WRITE, ACC_WRITE), (MKNOD, ACC_MKNOD)]
        .iter()
        .filter(|(ours, _)| access & ours != 0)
        .fold(0, |bits, (_, theirs)| bits | theirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::devices::{device_rules, effective_rules};

    /// Runs `program` on a device request, interpreting the instructions
    /// the generator uses; returns the program's verdict.
    fn run(program: &[Insn], dev_type: i32, major: u32, minor: u32, access: i32) -> u64 {
        let ctx = [((access << 16) | dev_type) as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = program[pc];
            let (d, s) = (i.dst as usize, i.src as usize);
            let imm = i.imm as i64 as u64;
            let mut jump = |taken: bool| {
                if taken {
                    pc = (pc as i64 + i64::from(i.off)) as usize;
                }
            };
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(s, 1);
                    r[d] = u64::from(ctx[i.off as usize / 4]);
                }
                ALU64_MOV_X => r[d] = r[s],
                ALU64_MOV_K => r[d] = imm,
                ALU64_AND_K => r[d] &= imm,
                ALU64_RSH_K => r[d] >>= imm,
                JMP32_JNE_K => jump(r[d] as u32 != i.imm as u32),
                JMP_JNE_K => jump(r[d] != imm),
                JMP_JSET_K => jump(r[d] & imm != 0),
                JMP_JA => jump(true),
                JMP_EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc += 1;
        }
    }

    /// The meaning the program must have: for each access asked for, the
    /// last rule naming it (and matching the device) decides.
    fn reference(
        rules: &[DeviceRule],
        kind: DeviceKind,
        major: u32,
        minor: u32,
        access: u8,
    ) -> u64 {
        let all_allowed = [READ, WRITE, MKNOD]
            .iter()
            .filter(|bit| access & **bit != 0)
            .all(|bit| {
                rules
                    .iter()
                    .rev()
                    .find(|r| {
                        (r.kind == DeviceKind::All || r.kind == kind)
                            && r.major.is_none_or(|m| m == major)
                            && r.minor.is_none_or(|m| m == minor)
                            && r.access & bit != 0
                    })
                    .is_some_and(|r| r.allow)
            });
        u64::from(all_allowed)
    }

    fn rules(json: &str) -> Vec<DeviceRule> {
        let configured = device_rules(&serde_json::from_str::<Vec<_>>(json).unwrap()).unwrap();
        effective_rules(&configured).copied().collect()
    }

    #[test]
    fn encoding_is_the_kernels_layout() {
        let insn = Insn::new(JMP32_JNE_K, R4, R1, 3, -2);
        assert_eq!(insn.encode(), 0xffff_fffe_0003_1456);
    }

    #[test]
    fn the_program_means_what_the_rules_say() {
        let rule_sets = [
            "[]",
            r#"[{"allow":false}]"#,
            r#"[{"allow":true}]"#,
            r#"[{"allow":true},{"allow":false,"type":"c","major":1,"minor":3,"access":"w"}]"#,
            r#"[{"allow":true,"type":"c","major":10,"access":"r"},
                {"allow":true,"type":"c","major":10,"minor":200,"access":"w"},
                {"allow":false,"type":"b","access":"m"},
                {"allow":true,"type":"b","major":8,"minor":0,"access":"rw"},
                {"allow":false,"type":"c","major":10,"minor":229,"access":"rwm"},
                {"allow":true,"type":"a","major":4294967295,"access":"r"}]"#,
        ];
        let devices = [
            (DeviceKind::Char, 1, 3),
            (DeviceKind::Char, 10, 200),
            (DeviceKind::Char, 10, 229),
            (DeviceKind::Char, 10, 1),
            (DeviceKind::Char, 136, 5),
            (DeviceKind::Char, 4294967295, 0),
            (DeviceKind::Block, 8, 0),
            (DeviceKind::Block, 8, 1),
            (DeviceKind::Block, 7, 0),
        ];
        for json in rule_sets {
            let rules = rules(json);
            let program = device_program(rules.iter());
            for (kind, major, minor) in devices {
                let dev_type = if kind == DeviceKind::Block {
                    DEV_BLOCK
                } else {
                    DEV_CHAR
                };
                for access in 1..8u8 {
                    assert_eq!(
                        run(&program, dev_type, major, minor, bpf_access(access)),
                        reference(&rules, kind, major, minor, access),
                        "{json} {kind:?} {major}:{minor} access {access}"
                    );
                }
            }
        }
    }

    #[test]
    fn defaults_allow_the_standard_devices_only() {
        let rules = rules(r#"[{"allow":false}]"#);
        let program = device_program(rules.iter());
        let rw = ACC_READ | ACC_WRITE;
        assert_eq!(run(&program, DEV_CHAR, 1, 3, rw), 1); // /dev/null
        assert_eq!(run(&program, DEV_CHAR, 136, 0, rw), 1); // a pty
        assert_eq!(run(&program, DEV_CHAR, 1, 11, ACC_READ), 0); // /dev/kmsg
        assert_eq!(run(&program, DEV_BLOCK, 8, 0, ACC_MKNOD), 1);
        assert_eq!(run(&program, DEV_BLOCK, 8, 0, ACC_READ), 0);
    }
}
